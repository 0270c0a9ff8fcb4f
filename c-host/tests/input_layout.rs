//! The `i_ins` an input plugin gets points at memory laid out as Fluent Bit 5.1.1's
//! `struct flb_input_instance` up to `tag_default` (the offsets are `_Static_assert`ed in
//! c-host/src/flb_host.h). `in_trules` reads `name` (offset 156), `tag` (232), `tag_len` (240) and
//! `tag_default` (244) at init, as a plugin looking for its tag would, and prints them.

use flb_host::*;
use std::time::Duration;

fn p(name: &str) -> String {
    s(&test_plugin(name))
}

/// "name=.. tag=.. tag_len=.. tag_default=.. thread=.." of each `TP trules ins` line.
fn ins_lines(stderr: &str) -> Vec<String> {
    tp_events(stderr).into_iter().filter_map(|e| e.strip_prefix("TP trules ins ").map(str::to_string)).collect()
}

/// Three inputs of two plugins: Fluent Bit numbers input instances across all plugins in config
/// order (flb_input.c instance_id), so the trules instances are trules.1 and trules.2; the one
/// without a Tag gets its instance name with tag_default = 1.
const ARGS: [&str; 9] = ["-i", "tnocl", "-i", "trules", "-i", "trules", "-t", "x", "-o"];
const EXPECTED: [&str; 2] = [
    "name=trules.1 tag=trules.1 tag_len=8 tag_default=1 thread=flb-in-trules.1",
    "name=trules.2 tag=x tag_len=1 tag_default=0 thread=flb-in-trules.2",
];

fn host_run(extra: &[&str]) -> Run {
    let (a, b, o) = (p("in_tnocl"), p("in_trules"), p("out_tout"));
    let mut args = vec!["-e", &a, "-e", &b, "-e", &o];
    args.extend_from_slice(&ARGS);
    args.extend_from_slice(&["tout", "--interval", "0.1", "--flush", "0.2"]);
    args.extend_from_slice(extra);
    run_host(&args)
}

#[test]
fn a_plugin_reads_name_and_tag_at_the_5_1_1_offsets() {
    if !cfg!(target_arch = "x86_64") {
        println!("skipped: the offsets checked are those of x86_64");
        return;
    }
    let run = host_run(&["--duration", "0.4"]);
    assert_eq!(run.code, Some(0), "{}", run.all());
    assert_eq!(ins_lines(&run.stderr), EXPECTED, "{}", run.all());
    // the host's own names are the same ones
    for (name, tag) in [("tnocl.0", "tnocl.0"), ("trules.1", "trules.1"), ("trules.2", "x")] {
        let m = summary_fields(&run.stderr, name);
        assert_eq!(m.get("tag").map(String::as_str), Some(tag), "{name}: {}", run.stderr);
        assert!(field(&m, "records") > 0, "{name}: {}", run.stderr);
    }
}

#[test]
fn the_same_name_and_tag_after_a_hot_reload() {
    if !cfg!(target_arch = "x86_64") {
        println!("skipped: the offsets checked are those of x86_64");
        return;
    }
    let run = host_run(&["--reload-after", "0.4", "--duration", "0.8"]);
    assert_eq!(run.code, Some(0), "{}", run.all());
    let mut twice: Vec<String> = EXPECTED.iter().map(|s| s.to_string()).collect();
    twice.extend(EXPECTED.iter().map(|s| s.to_string()));
    assert_eq!(ins_lines(&run.stderr), twice, "{}", run.all());
}

/// Optional: the same plugins and options in a real Fluent Bit (`FLUENT_BIT_BIN`) print the same.
#[test]
fn real_fluent_bit_agrees_when_available() {
    let Some(fb) = fluent_bit_bin() else {
        return;
    };
    if !cfg!(target_arch = "x86_64") {
        println!("skipped: the offsets checked are those of x86_64");
        return;
    }
    let (a, b, o) = (p("in_tnocl"), p("in_trules"), p("out_tout"));
    let mut args = vec!["-e", &a, "-e", &b, "-e", &o];
    args.extend_from_slice(&ARGS);
    args.extend_from_slice(&["tout", "-m", "*"]);
    let out = run_then_term(&fb, &args, &[], None, Duration::from_millis(1500));
    let mut real = ins_lines(&out.stderr);
    real.sort();
    assert_eq!(real, EXPECTED, "{}", out.stderr);
}
