//! Generates the C header `include/flb_plugin.h` from the SDK's raw ABI (`plugins/sdk/src/abi.rs`)
//! and its exported-symbol declarations (`plugins/sdk/src/c_decls.rs`) with cbindgen.
//!
//! A maintainer step, not part of any plugin's build: `make headers` runs the binary, which rewrites
//! the header when it differs, and this crate's test (`cargo test -p gen-header`, part of `make
//! test`) fails while the checked-in header is not what the sources produce.

use std::path::PathBuf;

/// The workspace root (two levels above this crate).
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The checked-in header.
pub fn header_path() -> PathBuf {
    repo_root().join("include/flb_plugin.h")
}

/// The header as the SDK's sources produce it today, in memory.
pub fn generate() -> Result<Vec<u8>, String> {
    let config_path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("cbindgen.toml");
    let config = cbindgen::Config::from_file(&config_path).map_err(|e| format!("{}: {e}", config_path.display()))?;
    let bindings = cbindgen::Builder::new()
        .with_crate(repo_root().join("plugins/sdk"))
        .with_config(config)
        .generate()
        .map_err(|e| format!("cbindgen could not read the SDK sources: {e}"))?;
    let mut out = Vec::new();
    bindings.write(&mut out);
    Ok(out)
}
