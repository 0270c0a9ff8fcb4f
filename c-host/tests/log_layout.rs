//! flb-host's log lines and the plugins' (api->log_print) carry Fluent Bit's layout,
//! `[YYYY/MM/DD HH:MM:SS.mmm] [ info] message`; the report lines (check's verdicts, the summary,
//! bench's figures) and the command line's `flb-host: error:` lines keep theirs.

use flb_host::*;

fn p(name: &str) -> String {
    s(&test_plugin(name))
}

/// The raw line holding `needle`, which must carry the time prefix; returns it without the prefix.
fn logged<'a>(raw: &'a str, needle: &str) -> &'a str {
    let line = raw.lines().find(|l| l.contains(needle)).unwrap_or_else(|| panic!("no line with {needle:?}:\n{raw}"));
    let n = log_time_len(line).unwrap_or_else(|| panic!("no [YYYY/MM/DD HH:MM:SS.mmm] prefix: {line:?}"));
    let stamp = &line[1..n - 2];
    let (month, day) = (&stamp[5..7], &stamp[8..10]);
    assert!(("01"..="12").contains(&month) && ("01"..="31").contains(&day), "{line:?}");
    let (hour, min, sec) = (&stamp[11..13], &stamp[14..16], &stamp[17..19]);
    assert!(hour <= "23" && min <= "59" && sec <= "60", "{line:?}");
    &line[n..]
}

/// trules into tout, which logs `[tout] TEXT level N` at init at every level
fn run_logging(text: &str, extra: &[&str]) -> Run {
    let (i, o, log) = (p("in_trules"), p("out_tout"), format!("log={text}"));
    let mut args = vec!["-e", &i, "-e", &o, "-i", "trules", "-o", "tout", "-p", &log];
    args.extend_from_slice(extra);
    run_host(&args)
}

#[test]
fn host_and_plugin_lines_carry_fluent_bits_layout() {
    let run = run_logging(
        "hello",
        &["--interval", "0.1", "--flush", "0.2", "--duration", "0.8", "--reload-after", "0.4", "--log-level", "trace"],
    );
    assert_eq!(run.code, Some(0), "{}", run.all());
    let raw = &run.stderr_raw;
    // the plugin's lines, every level right-aligned in five characters as Fluent Bit prints them
    for (level, label) in [(1, "error"), (2, " warn"), (3, " info"), (4, "debug"), (5, "trace")] {
        let want = format!("[{label}] [tout] hello level {level}");
        assert_eq!(logged(raw, &format!("[tout] hello level {level}")), want);
    }
    // the host's own
    assert!(logged(raw, "reloading instance pid=").starts_with("[ info] reloading instance pid="), "{raw}");
    assert!(logged(raw, "registered input plugin 'trules'").starts_with("[debug] "), "{raw}");
    // the summary is a report: no time prefix
    assert!(raw.lines().any(|l| l.starts_with("flb-host: summary: abi 5.1,")), "{raw}");
    // Run::stderr is the same text with the prefix taken off
    assert!(run.stderr.lines().any(|l| l == "[ info] [tout] hello level 3"), "{}", run.all());
    assert_eq!(run.stderr, strip_log_times(raw));
}

#[test]
fn the_level_filters_plugin_lines_too() {
    let run = run_logging("hi", &["--duration", "0.3", "--log-level", "warn"]);
    assert_eq!(run.code, Some(0), "{}", run.all());
    let levels: Vec<&str> = run.stderr.lines().filter(|l| l.contains("[tout] hi level")).collect();
    assert_eq!(levels, ["[error] [tout] hi level 1", "[ warn] [tout] hi level 2"], "{}", run.all());
}

#[test]
fn config_errors_and_the_help_hint_carry_it_and_usage_errors_do_not() {
    let run = run_host(&["-e", &p("in_tkeys"), "-i", "tkeys", "-p", "rte=1"]);
    assert_eq!(run.code, Some(1), "{}", run.all());
    let raw = &run.stderr_raw;
    assert!(logged(raw, "unknown configuration property 'rte'").starts_with("[error] [config] tkeys: "), "{raw}");
    assert!(logged(raw, "try the command: flb-host -e").starts_with("[ help] "), "{raw}");
    assert!(raw.lines().any(|l| l.starts_with("flb-host: error: plugin 'tkeys.0'")), "{raw}");

    let run = run_host(&["-e", &p("in_tkeys"), "-i", "tkeys", "--frobnicate"]);
    assert!(run.stderr_raw.starts_with("flb-host: error: unknown argument '--frobnicate'\n"), "{}", run.all());
}

#[test]
fn check_keeps_its_report_on_stdout() {
    let run = run_host(&["check", &p("out_tout"), "-p", "log=from-check"]);
    assert_eq!(run.code, Some(0), "{}", run.all());
    assert!(run.stdout.lines().all(|l| log_time_len(l).is_none()), "{}", run.all());
    assert!(run.stdout.lines().any(|l| l.starts_with("PASS all-freed: ")), "{}", run.all());
    assert!(run.stdout.ends_with("OK: 0 check(s) failed\n"), "{}", run.all());
    assert_eq!(logged(&run.stderr_raw, "from-check level 1"), "[error] [tout] from-check level 1");
}
