//! Compiles layout.c and fake_host.c into libflb_abi_layout.a and puts its directory on the link
//! search path of whatever depends on this crate: the SDK's tests name the library themselves
//! (`#[link(name = "flb_abi_layout", kind = "static")]` in tests/layout.rs, boundary.rs,
//! lifetime.rs), so nothing is linked into this crate or anything that merely depends on it.

use std::path::PathBuf;

fn main() {
    let dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let include = dir.join("../../../include");
    for p in ["layout.c", "fake_host.c", "../../../include/flb_plugin.h"] {
        println!("cargo::rerun-if-changed={}", dir.join(p).display());
    }
    cc::Build::new()
        .file(dir.join("layout.c"))
        .file(dir.join("fake_host.c"))
        .include(include)
        .warnings(true)
        .cargo_metadata(false)
        .compile("flb_abi_layout");
    let out = std::env::var("OUT_DIR").expect("cargo sets OUT_DIR");
    println!("cargo::rustc-link-search=native={out}");
}
