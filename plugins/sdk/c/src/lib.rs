//! Nothing in Rust: this crate's build script compiles the C halves of the SDK's tests
//! (`layout.c`, `fake_host.c`) into `libflb_abi_layout.a` and adds its directory to the link search
//! path of the crates that depend on it (the SDK, as a dev-dependency), whose tests link it by name.
