//! Every seed of `fuzz/corpus/<target>/` and every crash a fuzzer found, kept in
//! `fuzz/regressions/<target>/`, run through the target's property: what `make fuzz` explores for
//! minutes, checked again in a normal `cargo test` on the inputs that matter.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz")
}

/// The files of `dir`, sorted; none when it does not exist.
fn files(dir: &Path) -> Vec<PathBuf> {
    let Ok(rd) = std::fs::read_dir(dir) else { return Vec::new() };
    let mut out: Vec<PathBuf> = rd.filter_map(|e| e.ok()).map(|e| e.path()).filter(|p| p.is_file()).collect();
    out.sort();
    out
}

/// Runs `check` on every file; returns how many ran and the failures (file and panic message).
fn replay(check: fn(&[u8]), paths: &[PathBuf]) -> (usize, Vec<String>) {
    let mut failures = Vec::new();
    for p in paths {
        let data = match std::fs::read(p) {
            Ok(d) => d,
            Err(e) => {
                failures.push(format!("{}: cannot read: {e}", p.display()));
                continue;
            }
        };
        if let Err(panic) = catch_unwind(AssertUnwindSafe(|| check(&data))) {
            let msg = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            failures.push(format!("{}: {msg}", p.display()));
        }
    }
    (paths.len(), failures)
}

fn run_target(name: &str) {
    let Some(&(_, check)) = fuzz_checks::TARGETS.iter().find(|(n, _)| *n == name) else { panic!("no target {name}") };
    let corpus = files(&fuzz_dir().join("corpus").join(name));
    assert!(!corpus.is_empty(), "fuzz/corpus/{name}/ has no seed");
    let regressions = files(&fuzz_dir().join("regressions").join(name));
    let (n, mut failures) = replay(check, &corpus);
    let (m, more) = replay(check, &regressions);
    failures.extend(more);
    assert!(failures.is_empty(), "{} of {} inputs of {name} fail:\n{}", failures.len(), n + m, failures.join("\n"));
}

#[test]
fn every_target_has_a_test_here() {
    let names: Vec<&str> = fuzz_checks::TARGETS.iter().map(|(n, _)| *n).collect();
    assert_eq!(
        names,
        [
            "decoder",
            "gstdout_formats",
            "config_getters",
            "gdummy_json",
            "tail_lines",
            "tail_db_resume",
            "tail_multiline",
            "json_object",
        ]
    );
    // Each target is a binary of the fuzz crate, under the same name.
    let manifest = std::fs::read_to_string(fuzz_dir().join("Cargo.toml")).unwrap_or_default();
    for n in names {
        assert!(manifest.contains(&format!("name = \"{n}\"")), "fuzz/Cargo.toml has no [[bin]] {n}");
        assert!(fuzz_dir().join("fuzz_targets").join(format!("{n}.rs")).is_file(), "no fuzz/fuzz_targets/{n}.rs");
    }
}

#[test]
fn decoder() {
    run_target("decoder");
}

#[test]
fn gstdout_formats() {
    run_target("gstdout_formats");
}

#[test]
fn config_getters() {
    run_target("config_getters");
}

#[test]
fn gdummy_json() {
    run_target("gdummy_json");
}

#[test]
fn tail_lines() {
    run_target("tail_lines");
}

#[test]
fn tail_db_resume() {
    run_target("tail_db_resume");
}

#[test]
fn tail_multiline() {
    run_target("tail_multiline");
}

#[test]
fn json_object() {
    run_target("json_object");
}
