//! `flb-host check` on the real Go gdummy (bench/go, built as fluent-bit-go builds it): it FAILs
//! and names the leak, while our gdummy passes (check_mode.rs). The Go plugin's collect hands over
//! a C.malloc'ed buffer per call that its cleanup never frees (bench/go/README.md), and its Go
//! runtime threads outlive Unregister.
//!
//! Needs Go (`bench/scripts/install-go.sh`); without it the test is a printed skip, and a failure
//! under `CI=true`, where `.ci/run` installs Go.

use flb_host::*;
use std::path::PathBuf;
use std::process::Command;

/// The faithful Go gdummy .so files, built once into a scratch directory with bench/go/build.sh.
fn go_gdummies() -> Vec<PathBuf> {
    let out = std::env::temp_dir().join(format!("flb-check-go-{}", std::process::id()));
    let built = Command::new("bash")
        .arg(workspace_root().join("bench/go/build.sh"))
        .arg(&out)
        .output()
        .expect("run bench/go/build.sh");
    assert!(built.status.success(), "bench/go/build.sh failed: {}", String::from_utf8_lossy(&built.stderr));
    let mut found: Vec<PathBuf> =
        std::fs::read_dir(&out).map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect()).unwrap_or_default();
    // in_gdummy_goX.Y.so: the faithful build (the _nosleep and _fixed variants are bench aids)
    found.retain(|p| {
        let n = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
        n.strip_prefix("in_gdummy_go").and_then(|r| r.strip_suffix(".so")).is_some_and(|v| !v.contains('_'))
    });
    found
}

#[test]
fn check_fails_the_go_gdummy_and_names_its_leak() {
    let gos = go_gdummies();
    if gos.is_empty() {
        assert!(!in_ci(), "no Go gdummy was built: Go is missing (.ci/run installs it)");
        println!("skipped: no Go toolchain to build the Go gdummy (bench/scripts/install-go.sh)");
        return;
    }
    for so in gos {
        let run = run_host(&["check", &s(&so)]);
        assert_eq!(run.code, Some(1), "{}: {}", so.display(), run.all());
        let fails: Vec<&str> = run.stdout.lines().filter(|l| l.starts_with("FAIL ")).collect();
        assert!(
            fails.iter().any(|l| l.starts_with("FAIL all-freed:") && l.contains("still live after exit")),
            "{}: {}",
            so.display(),
            run.all()
        );
        assert!(fails.iter().any(|l| l.starts_with("FAIL leak-per-call:") && l.contains("grew by")), "{}", run.all());
    }
}
