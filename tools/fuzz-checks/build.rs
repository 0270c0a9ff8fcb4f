//! The test binaries link gdummy, gstdout and gtail together, and each plugin rlib defines the same
//! exported C entry points (`FLBPluginRegister`, `FLBPluginInit`, ...: what `input_plugin!` and
//! `output_plugin!` expand to, the symbols Fluent Bit looks up in each `.so`). A test calls none of
//! them, so whichever copy the linker keeps is never run; the plugins' own `.so` files are built
//! separately and each holds only its own.
fn main() {
    println!("cargo:rustc-link-arg-tests=-Wl,--allow-multiple-definition");
}
