//! What each fuzz target checks, one `pub fn <target>(data: &[u8])` per target of `fuzz/`.
//!
//! The `fuzz/` binaries (libFuzzer, nightly, outside the workspace) are one-line wrappers around
//! these functions; `tests/replay.rs` runs every file of `fuzz/corpus/<target>/` and
//! `fuzz/regressions/<target>/` through the same functions in a normal `cargo test`, so each crash a
//! fuzzer found stays a test. A property that does not hold panics (which libFuzzer reports as a
//! crash, with the input saved).

pub mod config_getters;
pub mod decoder;
pub mod gdummy_json;
pub mod gstdout_formats;
pub mod input;
pub mod json_object;
pub mod tail_db_resume;
pub mod tail_lines;
pub mod tail_multiline;

/// A target's property: panics when it does not hold for this input.
pub type Check = fn(&[u8]);

/// Every target by name, as the `fuzz/` binaries and corpus directories are named.
pub const TARGETS: &[(&str, Check)] = &[
    ("decoder", decoder::decoder),
    ("gstdout_formats", gstdout_formats::gstdout_formats),
    ("config_getters", config_getters::config_getters),
    ("gdummy_json", gdummy_json::gdummy_json),
    ("tail_lines", tail_lines::tail_lines),
    ("tail_db_resume", tail_db_resume::tail_db_resume),
    ("tail_multiline", tail_multiline::tail_multiline),
    ("json_object", json_object::json_object),
];
