//! Generates the C header from the raw ABI and the exported-symbol declarations, and fails the build
//! when the checked-in `include/flb_plugin.h` is stale (`make headers` sets FLB_UPDATE_HEADERS=1 to
//! rewrite it). Also compiles the C half of the struct layout test.

use std::path::PathBuf;

fn main() {
    println!("cargo::rustc-check-cfg=cfg(flb_sdk_cbindgen)");
    // Set by `make sanitize` for the ThreadSanitizer build (see src/sync.rs).
    println!("cargo::rustc-check-cfg=cfg(flb_tsan)");
    let dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let header = dir.join("../../include/flb_plugin.h");
    for p in ["src", "cbindgen.toml", "c/layout.c", "c/fake_host.c", "../../include/flb_plugin.h"] {
        println!("cargo::rerun-if-changed={}", dir.join(p).display());
    }
    println!("cargo::rerun-if-env-changed=FLB_UPDATE_HEADERS");

    let config = cbindgen::Config::from_file(dir.join("cbindgen.toml")).expect("plugins/sdk/cbindgen.toml is valid");
    let bindings = cbindgen::Builder::new()
        .with_crate(&dir)
        .with_config(config)
        .generate()
        .expect("cbindgen could not read the SDK sources");
    let mut fresh = Vec::new();
    bindings.write(&mut fresh);
    let current = std::fs::read(&header).unwrap_or_default();
    if current != fresh {
        if std::env::var_os("FLB_UPDATE_HEADERS").is_some_and(|v| v == "1") {
            std::fs::write(&header, &fresh).expect("cannot write include/flb_plugin.h");
        } else {
            panic!(
                "include/flb_plugin.h is stale (the ABI or exported symbols changed): run `make headers` and commit it"
            );
        }
    }

    cc::Build::new()
        .file(dir.join("c/layout.c"))
        .file(dir.join("c/fake_host.c"))
        .include(dir.join("../../include"))
        .warnings(true)
        .compile("flb_abi_layout");
}
