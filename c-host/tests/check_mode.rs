//! `flb-host check`: passes a good plugin, reports a leaking one and exits non-zero.

use flb_host::*;

fn p(name: &str) -> String {
    s(&test_plugin(name))
}

fn lines(run: &Run, verdict: &str) -> Vec<String> {
    run.stdout.lines().filter(|l| l.starts_with(&format!("{verdict} "))).map(str::to_string).collect()
}

#[test]
fn good_input_passes_every_check() {
    let pl = p("in_trules");
    let run = run_host(&["check", &pl, "-p", "records=2", "--bad", "records=abc"]);
    assert_eq!(run.code, Some(0), "{}", run.all());
    assert!(lines(&run, "FAIL").is_empty(), "{}", run.all());
    for name in [
        "load",
        "register",
        "def-size",
        "init-bad-config",
        "init",
        "two-instances",
        "collect",
        "leak-per-call",
        "exit",
        "unregister",
        "threads",
        "all-freed",
        "dlclose",
    ] {
        assert!(run.stdout.contains(&format!("PASS {name}:")), "no PASS {name}: {}", run.all());
    }
}

#[test]
fn good_output_passes_under_every_profile() {
    let pl = p("out_tout");
    for abi in ["1.9", "2.0", "2.2", "4.1", "5.1"] {
        let run = run_host(&["check", &pl, "--abi", abi, "--bad", "ret=x", "--count", "6"]);
        assert_eq!(run.code, Some(0), "abi {abi}: {}", run.all());
        assert!(run.stdout.contains("PASS flush:"), "{}", run.all());
    }
}

#[test]
fn leaking_output_fails_with_the_leak_reported() {
    let pl = p("out_tout");
    let run = run_host(&["check", &pl, "-p", "leak=100", "--count", "4"]);
    assert_eq!(run.code, Some(1), "{}", run.all());
    let fails = lines(&run, "FAIL");
    assert!(
        fails.iter().any(|l| l.starts_with("FAIL leak-per-call:") && l.contains("grew by 200 over 2 calls")),
        "{}",
        run.all()
    );
    assert!(
        fails.iter().any(|l| l.starts_with("FAIL all-freed:") && l.contains("400 bytes in 4 allocations")),
        "{}",
        run.all()
    );
    assert!(!run.stdout.contains("stdout buffer"), "{}", run.all());
}

const STDOUT_HINT: &str = "(likely Rust std's stdout buffer: a plugin that uses println! keeps 1 KiB allocated; \
                           log with flb_info!/flb_warn! or write(2) to fd 1 instead)";

/// A Rust plugin that uses `println!` leaves std's 1 KiB stdout buffer: check names it as the
/// likely cause when the leftover is one 1024-byte allocation by a plugin that wrote to stdout
/// during its callbacks, and only then.
#[test]
fn a_kept_stdout_buffer_is_named_as_the_likely_leak() {
    let run = run_host(&["check", &p("in_tprint")]);
    assert_eq!(run.code, Some(1), "{}", run.all());
    let fails = lines(&run, "FAIL");
    assert_eq!(fails.len(), 1, "{}", run.all());
    assert!(fails[0].starts_with("FAIL all-freed: 1024 bytes in 1 allocations "), "{}", run.all());
    assert!(fails[0].ends_with(STDOUT_HINT), "{}", run.all());

    // the same leftover from a plugin that never wrote to stdout: no guess
    let run = run_host(&["check", &p("in_tprint"), "-p", "stdout=off"]);
    assert_eq!(run.code, Some(1), "{}", run.all());
    let fails = lines(&run, "FAIL");
    assert_eq!(fails.len(), 1, "{}", run.all());
    assert!(fails[0].starts_with("FAIL all-freed: 1024 bytes in 1 allocations "), "{}", run.all());
    assert!(!fails[0].contains("stdout buffer"), "{}", run.all());
}

#[test]
fn failing_checks_are_reported() {
    // init accepts a bad value -> FAIL init-bad-config
    let check_fails = |plugin: &str, rest: &[&str], fail: &str| {
        let pl = p(plugin);
        let mut args = vec!["check", &pl];
        args.extend_from_slice(rest);
        let run = run_host(&args);
        assert_eq!(run.code, Some(1), "{}", run.all());
        assert!(run.stdout.contains(fail), "{}", run.all());
    };
    check_fails("out_tout", &["--bad", "greeting=whatever"], "FAIL init-bad-config:");
    // flush not FLB_OK -> FAIL flush
    check_fails("out_tout", &["-p", "ret=2"], "FAIL flush:");
    // invalid records -> FAIL collect
    check_fails("in_trules", &["-p", "mode=invalid"], "FAIL collect:");
    // writes beyond the 5-field def -> FAIL def-size (check mode uses a canary, no crash)
    check_fails("out_tevtype", &["--abi", "1.9"], "FAIL def-size:");
    let run = run_host(&["check", &p("out_tevtype"), "--abi", "5.1"]);
    assert_eq!(run.code, Some(0), "{}", run.all());
}

#[test]
fn host_free_without_cleanup_counts_as_freed() {
    for abi in ["1.9", "2.0"] {
        let run = run_host(&["check", &p("in_tnocl"), "--abi", abi]);
        assert_eq!(run.code, Some(0), "abi {abi}: {}", run.all());
        assert!(run.stdout.contains("PASS all-freed:"), "abi {abi}: {}", run.all());
    }
}

/// Fluent Bit < 2.1 decodes only `[time, {body}]`: check fails a plugin that writes the modern form
/// there, saying so, and passes the same plugin writing legacy records.
#[test]
fn modern_records_fail_the_collect_check_before_2_1() {
    for abi in ["1.9", "2.0"] {
        let run = run_host(&["check", &p("in_trules"), "--abi", abi]);
        assert_eq!(run.code, Some(1), "abi {abi}: {}", run.all());
        let fails = lines(&run, "FAIL");
        assert_eq!(fails.len(), 1, "abi {abi}: {}", run.all());
        assert!(
            fails[0].starts_with("FAIL collect:")
                && fails[0].contains("modern form")
                && fails[0].contains(&format!("Fluent Bit < 2.1 (abi {abi})"))
                && fails[0].contains("must write legacy records"),
            "abi {abi}: {}",
            run.all()
        );
        // the refused buffers were still cleaned up (2.0) or freed by the host (1.9)
        assert!(run.stdout.contains("PASS all-freed:"), "abi {abi}: {}", run.all());
        let run = run_host(&["check", &p("in_trules"), "--abi", abi, "-p", "legacy=on"]);
        assert_eq!(run.code, Some(0), "abi {abi}: {}", run.all());
    }
    let run = run_host(&["check", &p("in_trules"), "--abi", "2.2"]);
    assert_eq!(run.code, Some(0), "{}", run.all());
}

/// A thread the plugin started and never joined is still running after exit and unregister:
/// `threads` fails naming it, and the .so is not unmapped under it.
#[test]
fn a_thread_left_running_fails_the_threads_check() {
    let run = run_host(&["check", &p("in_trules"), "-p", "stray_thread=on"]);
    assert_eq!(run.code, Some(1), "{}", run.all());
    let fails = lines(&run, "FAIL");
    assert_eq!(fails.len(), 1, "{}", run.all());
    assert!(
        fails[0].starts_with("FAIL threads: 2 thread(s) still running after exit and unregister: 'tp-stray' (tid ")
            && fails[0].contains("Exit must join every thread"),
        "two instances, one stray thread each: {}",
        run.all()
    );
    assert!(run.stdout.contains("SKIP dlclose: not unmapping the plugin while 2 of its threads run"), "{}", run.all());
    // the same plugin without the stray thread passes
    let run = run_host(&["check", &p("in_trules")]);
    assert_eq!(run.code, Some(0), "{}", run.all());
    assert!(run.stdout.contains("PASS threads: no thread left"), "{}", run.all());
}

/// A newcomer's first `check` on our plugins, with their defaults and as the README shows it:
/// never a FAIL. gdummy at its default rate has no record before its first second; check waits
/// for records at Fluent Bit's pace instead of calling an empty input broken.
#[test]
fn our_plugins_pass_check_with_their_defaults_under_every_profile() {
    let gdummy = s(&rust_plugin("in-gdummy", "in_gdummy"));
    let gstdout = s(&rust_plugin("out-gstdout", "out_gstdout"));
    for abi in ["1.9", "2.0", "2.2", "4.1", "5.1"] {
        for so in [&gdummy, &gstdout] {
            let run = run_host(&["check", so, "--abi", abi]);
            assert_eq!(run.code, Some(0), "{so} abi {abi}: {}", run.all());
            assert!(lines(&run, "FAIL").is_empty(), "{so} abi {abi}: {}", run.all());
        }
        let run = run_host(&["check", &gdummy, "--abi", abi]);
        assert!(run.stdout.contains("PASS collect:"), "abi {abi}: {}", run.all());
    }
    let run = run_host(&["check", &gdummy, "--bad", "rate=-1", "--abi", "2.2"]);
    assert_eq!(run.code, Some(0), "{}", run.all());
    assert!(run.stdout.contains("PASS init-bad-config:"), "{}", run.all());
}

/// An input that refuses an empty config (gtail needs `path`) or has nothing to read is told
/// what to give it; check fails only on what is wrong.
#[test]
fn an_input_that_needs_configuration_or_data_is_skipped_not_failed() {
    let gtail = s(&rust_plugin("in-gtail", "in_gtail"));
    let run = run_host(&["check", &gtail]);
    assert_eq!(run.code, Some(0), "{}", run.all());
    assert!(lines(&run, "FAIL").is_empty(), "{}", run.all());
    assert!(run.stdout.contains("SKIP init: the plugin refuses to start without configuration"), "{}", run.all());
    assert!(run.stderr.contains("'path' is required"), "the plugin's own error is shown: {}", run.all());

    let dir = std::env::temp_dir().join(format!("flb-check-gtail-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let log = dir.join("a.log");
    std::fs::write(&log, "one\ntwo\nthree\n").expect("log");
    let path = format!("path={}", log.display());
    let run = run_host(&["check", &gtail, "-p", &path, "-p", "read_from_head=on"]);
    assert_eq!(run.code, Some(0), "{}", run.all());
    assert!(lines(&run, "FAIL").is_empty(), "{}", run.all());
    assert!(run.stdout.contains("PASS collect:"), "{}", run.all());

    let missing = format!("path={}", dir.join("none-*.log").display());
    let run = run_host(&["check", &gtail, "-p", &missing]);
    assert_eq!(run.code, Some(0), "{}", run.all());
    assert!(run.stdout.contains("SKIP collect: no records"), "{}", run.all());
    // a property that makes init fail is still a failure
    let run = run_host(&["check", &gtail, "-p", &path, "-p", "buffer_max_size=1k"]);
    assert_eq!(run.code, Some(1), "{}", run.all());
    assert!(run.stdout.contains("FAIL init:"), "{}", run.all());
}
