//! Each target links gdummy, gstdout and gtail through fuzz-checks, and each plugin rlib defines the
//! same exported C entry points (`FLBPluginRegister`, ...: what the SDK's plugin macros expand
//! to). No target calls them, so whichever copy the linker keeps is never run.
fn main() {
    println!("cargo:rustc-link-arg-bins=-Wl,--allow-multiple-definition");
}
