//! Every --abi profile with the ASan/UBSan build of the host, valgrind on the normal build, and
//! the out-of-bounds `def->event_type` write under the 5-field profiles.
//!
//! Note: ASan only checks code it instrumented (the host). Plugin code is not instrumented, so
//! the host places the plugin definition struct at the very end of a page followed by a
//! PROT_NONE page: a plugin writing `event_type` into a 5-field def faults in any build, and the
//! host reports it (exit code 88).

use flb_host::*;

fn p(name: &str) -> String {
    s(&test_plugin(name))
}

#[test]
fn every_profile_is_clean_under_asan() {
    if let Err(why) = lsan_probe() {
        // Outside CI the run still checks ASan and UBSan; in CI a missing LeakSanitizer fails.
        missing_tool(&format!("{why}: leak detection off, ASan and UBSan errors still checked"));
    }
    let (i, n, o) = (p("in_trules"), p("in_tnocl"), p("out_tout"));
    for abi in ["1.9", "2.0", "2.2", "4.1", "5.1"] {
        // Fluent Bit < 2.1 decodes only legacy records: trules writes them there (tnocl always does)
        let pre_2_1 = matches!(abi, "1.9" | "2.0");
        let form = if pre_2_1 { "legacy=on" } else { "legacy=off" };
        let run = run_asan_v(&host_args(
            &[&i, &n, &o],
            &format!(
                "-i trules -p {form} -i trules -p mode=empty -p {form} -i tnocl -o tout -p workers=2 -o tout \
                 --interval 0.05 --flush 0.1 --duration 0.6 --abi {abi} --pause-after 0.2 --resume-after 0.3"
            ),
        ));
        assert_no_sanitizer_report(&run, &format!("abi {abi}"));
        assert_eq!(run.code, Some(0), "abi {abi}: {}", run.all());
        let ev = tp_events(&run.stderr);
        let hooks = ev.iter().any(|e| e.contains("pause") || e.contains("preexit"));
        // 1.9 and 2.0: no pause/pre-exit hooks; 2.2+: they are called
        assert_eq!(hooks, !pre_2_1, "abi {abi}: {ev:#?}");
        // 1.9 has no cleanup callback: the host frees; trules' cleanup is called from 2.0 on
        let cleanups = ev.iter().any(|e| e.contains("trules cleanup"));
        assert_eq!(cleanups, abi != "1.9", "abi {abi}");
        for ins in ["trules.0", "trules.1", "tnocl.0"] {
            assert_eq!(field(&summary_fields(&run.stderr, ins), "invalid"), 0, "abi {abi} {ins}: {}", run.all());
        }
        assert!(field(&summary_fields(&run.stderr, "tout.0"), "records_ok") > 0);
    }
}

#[test]
fn leaking_plugin_is_reported_by_lsan() {
    if let Err(why) = lsan_probe() {
        missing_tool(&why);
        return;
    }
    // lsan_probe() itself asserts the report on a leaking plugin; the clean run must not have one
    let run = run_asan_v(&tp_pipe_args("trules", "tout", "0.3", ""));
    assert_no_sanitizer_report(&run, "the same run without the leak");
    assert_eq!(run.code, Some(0), "{}", run.all());
}

#[test]
fn event_type_write_is_caught_under_abi_1_9() {
    let (i, o) = (p("in_trules"), p("out_tevtype"));
    for (abi, bad) in [("1.9", true), ("2.0", true), ("2.2", true), ("4.1", true), ("5.1", false)] {
        let spec = format!("-i trules -o tevtype --abi {abi} --duration 0.3 --interval 0.05 --flush 0.1");
        let run = run_asan_v(&host_args(&[&i, &o], &spec));
        if bad {
            assert_eq!(run.code, Some(88), "abi {abi}: {}", run.all());
            assert!(
                run.stderr.contains("plugin wrote beyond the 5-field (32-byte) plugin definition"),
                "{}",
                run.all()
            );
        } else {
            assert_no_sanitizer_report(&run, &format!("abi {abi}"));
            assert_eq!(run.code, Some(0), "abi {abi}: {}", run.all());
        }
    }
    // the normal build catches it too
    let run = run_host(&["-e", &i, "-e", &o, "-i", "trules", "-o", "tevtype", "--abi", "1.9"]);
    assert_eq!(run.code, Some(88), "{}", run.all());
}

#[test]
fn valgrind_finds_no_errors_or_leaks() {
    let (i, n, o) = (p("in_trules"), p("in_tnocl"), p("out_tout"));
    let spec = "-i trules -i tnocl -o tout -p workers=2 --interval 0.05 --flush 0.1 --duration 0.8";
    // the run's exit code and valgrind's error summary are asserted by run_valgrind_clean
    run_valgrind_clean(&host_args(&[&i, &n, &o], spec));
}

/// c-host/lsan.supp follows its rules: each entry `leak:<pattern>` has a comment right above it, and
/// no pattern names a plugin (a plugin library, an ABI entry point, any Rust path: the host is C) or
/// a host function that calls into plugins, under which a plugin's leak would show (its frames are
/// `<unknown module>` once dlclose'd). lsan_probe() checks the other half: a leaking plugin is still
/// reported with the file in effect.
#[test]
fn lsan_suppressions_never_name_a_plugin() {
    let path = lsan_suppressions();
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let forbidden = [
        // plugin libraries: the C test plugins, the tracers, ours
        "in_trules",
        "in_tnocl",
        "in_tappend",
        "out_tout",
        "out_tevtype",
        "out_tnames",
        "bad_noreg",
        "ctest",
        "gdummy",
        "gstdout",
        "gtail",
        "sdktest",
        "sdkworker",
        "flb_plugin_sdk",
        "FLBPlugin",
        "::",
        "unknown",
        // host functions that call into plugins
        "instance_",
        "loader_",
        "flush_on_coro",
        "trampoline",
        "coro_",
    ];
    let mut prev = "";
    for (n, line) in text.lines().enumerate().map(|(n, l)| (n + 1, l.trim())) {
        if !line.is_empty() && !line.starts_with('#') {
            let pattern = line.strip_prefix("leak:").unwrap_or_else(|| panic!("line {n}: not leak:<pattern>: {line}"));
            assert!(!pattern.trim_matches('*').is_empty(), "line {n}: the pattern matches everything: {line}");
            assert!(prev.starts_with('#') && prev.len() > 2, "line {n}: no comment above the entry saying why: {line}");
            if let Some(f) = forbidden.iter().find(|f| pattern.contains(*f)) {
                panic!("line {n}: '{pattern}' names a plugin or a host function calling plugins ({f})");
            }
        }
        prev = line;
    }
}
