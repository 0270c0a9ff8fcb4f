//! Hot reload (`--reload-after`, `--reload-every`, SIGHUP with `--hot-reload`) in Fluent Bit
//! 5.1.1's order: the new registration (PreRegister(1), Register) while the old instances run, the
//! pending records flushed, the old instances exited with PreExit(1), the old registration
//! unregistered, the .so never unmapped in between, the same instances initialized again with
//! PreRun(1). The order below is the one traced with a real Fluent Bit 5.1.1 (`-Y`, SIGHUP) and
//! these C test plugins (see the comment at the top of c-host/src/hot_reload.c).

use flb_host::*;
use std::collections::BTreeMap;
use std::process::{Command, Stdio};
use std::time::Duration;

fn p(name: &str) -> String {
    s(&test_plugin(name))
}

/// The lifecycle events of the C test plugins, without the repeating collect/cleanup/flush ones
/// (a flush becomes "tout flush"), as "<plugin> <event> [arg] thread=<name>".
fn lifecycle(stderr: &str) -> Vec<String> {
    tp_events(stderr)
        .into_iter()
        .filter(|e| !e.contains(" collect ") && !e.contains(" cleanup ") && !e.contains(" ins name="))
        .map(|e| {
            let w: Vec<&str> = e.split_whitespace().collect();
            let thread = w[w.len() - 1];
            match w[2] {
                "flush" => format!("{} flush {thread}", w[1]),
                "exit" | "init" => format!("{} {} {thread}", w[1], w[2]),
                _ => format!("{} {} {thread}", w[1..w.len() - 1].join(" "), ""),
            }
            .replace("  ", " ")
        })
        .collect()
}

const FIRST_START: [&str; 10] = [
    "trules load thread=fluent-bit",
    "trules preregister 0 thread=fluent-bit",
    "trules register def#0 thread=fluent-bit",
    "tout load thread=fluent-bit",
    "tout preregister 0 thread=fluent-bit",
    "tout register def#0 thread=fluent-bit",
    "trules init thread=flb-in-trules.0",
    "tout init thread=flb-pipeline",
    "tout prerun 1 thread=flb-pipeline",
    "trules prerun 1 thread=flb-in-trules.0",
];

/// One reload from registration `old` to `old + 1`: exactly what the real Fluent Bit 5.1.1 did
/// (flushes aside: see `flush_before_pause`).
fn reload(old: u32) -> Vec<String> {
    let new = old + 1;
    let mut v: Vec<String> = vec![
        "trules preregister 1 thread=fluent-bit".into(),
        format!("trules register def#{new} thread=fluent-bit"),
        "tout preregister 1 thread=fluent-bit".into(),
        format!("tout register def#{new} thread=fluent-bit"),
    ];
    v.extend(
        [
            "trules pause thread=flb-in-trules.0",
            "tout preexit 1 thread=flb-pipeline",
            "tout exit thread=flb-pipeline",
            "trules pause thread=flb-in-trules.0",
            "trules preexit 1 thread=flb-in-trules.0",
            "trules exit thread=flb-in-trules.0",
        ]
        .map(String::from),
    );
    v.push(format!("trules unregister def#{old} thread=fluent-bit"));
    v.push(format!("tout unregister def#{old} thread=fluent-bit"));
    v.extend(
        [
            "trules init thread=flb-in-trules.0",
            "tout init thread=flb-pipeline",
            "tout prerun 1 thread=flb-pipeline",
            "trules prerun 1 thread=flb-in-trules.0",
        ]
        .map(String::from),
    );
    v
}

fn final_shutdown(last: u32) -> Vec<String> {
    let mut v: Vec<String> = [
        "trules pause thread=flb-in-trules.0",
        "tout preexit 0 thread=flb-pipeline",
        "tout exit thread=flb-pipeline",
        "trules pause thread=flb-in-trules.0",
        "trules preexit 0 thread=flb-in-trules.0",
        "trules exit thread=flb-in-trules.0",
    ]
    .map(String::from)
    .to_vec();
    v.push(format!("trules unregister def#{last} thread=fluent-bit"));
    v.push("trules unload thread=fluent-bit".into());
    v.push(format!("tout unregister def#{last} thread=fluent-bit"));
    v.push("tout unload thread=fluent-bit".into());
    v
}

/// trules -> tout, flush interval far beyond the run: every record reaches the output only through
/// the flush a reload (or the final shutdown) makes.
fn trules_run(extra: &[&str]) -> Run {
    let (i, o) = (p("in_trules"), p("out_tout"));
    let mut args = vec!["-e", &i, "-e", &o, "-i", "trules", "-t", "t", "-o", "tout", "-m", "t"];
    args.extend_from_slice(&["--interval", "0.1", "--flush", "30"]);
    args.extend_from_slice(extra);
    run_host(&args)
}

/// Records per `tout flush` event, in order.
fn flushed_records(stderr: &str) -> Vec<u64> {
    tp_events(stderr)
        .iter()
        .filter(|e| e.starts_with("TP tout flush "))
        .map(|e| {
            let r = e.split_whitespace().find_map(|w| w.strip_prefix("records=")).unwrap_or("0");
            r.parse().unwrap_or(0)
        })
        .collect()
}

/// Fluent Bit's STOP flushes what is buffered, then pauses the inputs (flb_engine.c:948, :1424):
/// each stop (`n` of them) starts with exactly one flush of the pending records before the first
/// pause. A record collected between that flush and the pause would make a second flush after it.
fn flush_before_pause(ev: &[String], stops: usize) {
    let mut seen = 0;
    for (k, e) in ev.iter().enumerate() {
        // a reload's stop follows its new registration (def#1 on), the final stop precedes preexit 0
        let stop = (e.starts_with("tout register def#") && !e.starts_with("tout register def#0 "))
            || e.starts_with("tout preexit 0 ");
        if !stop {
            continue;
        }
        // from the new registration (reload) or from the last prerun (final stop) on
        let from = if e.starts_with("tout preexit 0 ") {
            ev[..k].iter().rposition(|x| x.starts_with("trules prerun ")).unwrap_or(0)
        } else {
            k
        };
        let pause = from + ev[from..].iter().position(|x| x.starts_with("trules pause ")).expect("a pause");
        let flushes = ev[from..pause].iter().filter(|x| x.starts_with("tout flush ")).count();
        assert_eq!(flushes, 1, "one flush of the pending records before the pause: {ev:#?}");
        seen += 1;
    }
    assert_eq!(seen, stops, "{ev:#?}");
}

#[test]
fn two_reloads_follow_fluent_bits_sequence_and_lose_nothing() {
    let run = trules_run(&["--reload-after", "0.5", "--reload-after", "1.0", "--duration", "1.5"]);
    assert_eq!(run.code, Some(0), "{}", run.all());
    let mut expected: Vec<String> = FIRST_START.iter().map(|s| s.to_string()).collect();
    expected.extend(reload(0));
    expected.extend(reload(1));
    expected.extend(final_shutdown(2));
    let ev = lifecycle(&run.stderr);
    let no_flush: Vec<String> = ev.iter().filter(|e| !e.starts_with("tout flush ")).cloned().collect();
    assert_eq!(no_flush, expected, "{}", run.all());
    flush_before_pause(&ev, 3);
    // what each generation collected arrived, in one chunk each (nothing was flushed by the timer)
    let collected = tp_events(&run.stderr).iter().filter(|e| e.contains("trules collect ")).count() as u64;
    let flushed = flushed_records(&run.stderr);
    assert!(flushed.len() >= 3, "{}", run.all());
    assert!(flushed.iter().all(|&r| r > 0), "{flushed:?}");
    assert_eq!(flushed.iter().sum::<u64>(), collected, "{}", run.all());
    let m = summary_fields(&run.stderr, "tout.0");
    assert_eq!(field(&m, "records_ok"), collected, "{}", run.stderr);
    assert_eq!(field(&m, "dropped"), 0);
    assert!(run.stderr.contains("flb-host: summary: abi 5.1,") && run.stderr.contains(", reloads=2\n"));
    assert!(!run.stderr.contains("[error]"), "{}", run.all());
}

#[test]
fn reload_every_repeats_until_the_duration() {
    let run = trules_run(&["--reload-every", "0.4", "--duration", "1.5"]);
    assert_eq!(run.code, Some(0), "{}", run.all());
    assert!(run.stderr.contains(", reloads=3\n"), "{}", run.all());
    let ev = lifecycle(&run.stderr);
    assert_eq!(ev.iter().filter(|e| e.starts_with("trules preexit 1 ")).count(), 3, "{ev:#?}");
    assert_eq!(ev.iter().filter(|e| e.starts_with("trules preexit 0 ")).count(), 1, "{ev:#?}");
    assert_eq!(ev.iter().filter(|e| e.contains(" load ") || e.contains(" unload ")).count(), 4, "{ev:#?}");
    let collected = tp_events(&run.stderr).iter().filter(|e| e.contains("trules collect ")).count() as u64;
    assert_eq!(flushed_records(&run.stderr).iter().sum::<u64>(), collected, "{}", run.all());
}

/// Without hot reload on, PreRun gets 0 (Fluent Bit passes config->enable_hot_reload).
#[test]
fn without_hot_reload_prerun_gets_0() {
    let run = trules_run(&["--duration", "0.3"]);
    assert_eq!(run.code, Some(0), "{}", run.all());
    let ev = lifecycle(&run.stderr);
    assert!(ev.contains(&"trules prerun 0 thread=flb-in-trules.0".to_string()), "{ev:#?}");
    assert!(ev.contains(&"tout prerun 0 thread=flb-pipeline".to_string()), "{ev:#?}");
    assert!(run.stderr.contains(", reloads=0\n"), "{}", run.all());
}

fn spawn_and_signal(extra: &[&str], signals: &[(u64, libc::c_int)]) -> (Option<i32>, String) {
    let (i, o) = (p("in_trules"), p("out_tout"));
    let child = Command::new(host_bin())
        .args(["-e", &i, "-e", &o, "-i", "trules", "-o", "tout", "--interval", "0.05", "--flush", "0.2"])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start flb-host");
    let pid = libc::pid_t::try_from(child.id()).expect("pid fits");
    for &(ms, sig) in signals {
        std::thread::sleep(Duration::from_millis(ms));
        // SAFETY: kill(2) on our own child, which has not been reaped yet.
        unsafe {
            libc::kill(pid, sig);
        }
    }
    let out = child.wait_with_output().expect("wait");
    (out.status.code(), String::from_utf8_lossy(&out.stderr).into_owned())
}

#[test]
fn sighup_reloads_when_hot_reload_is_on() {
    let (code, err) = spawn_and_signal(&["--hot-reload"], &[(500, libc::SIGHUP), (600, libc::SIGTERM)]);
    assert_eq!(code, Some(0), "{err}");
    assert!(err.contains(", reloads=1\n"), "{err}");
    let ev = lifecycle(&err);
    let pos = |k: &str| ev.iter().position(|e| e == k).unwrap_or_else(|| panic!("no {k}: {ev:#?}"));
    assert!(pos("trules register def#1 thread=fluent-bit") < pos("trules preexit 1 thread=flb-in-trules.0"));
    assert!(pos("trules preexit 1 thread=flb-in-trules.0") < pos("trules unregister def#0 thread=fluent-bit"));
    assert!(ev.contains(&"trules preexit 0 thread=flb-in-trules.0".to_string()), "{ev:#?}");
    let m = summary_fields(&err, "tout.0");
    let collected = tp_events(&err).iter().filter(|e| e.contains("trules collect ")).count() as u64;
    assert_eq!(field(&m, "records_ok"), collected, "{err}");
}

#[test]
fn sighup_without_hot_reload_is_ignored_with_a_warning() {
    let (code, err) = spawn_and_signal(&[], &[(300, libc::SIGHUP), (300, libc::SIGTERM)]);
    assert_eq!(code, Some(0), "SIGHUP must not end the run: {err}");
    assert!(err.contains("[reload] hot reloading is not enabled"), "{err}");
    assert!(err.contains(", reloads=0\n"), "{err}");
    assert!(err.contains("received SIGTERM"), "{err}");
    assert!(!lifecycle(&err).iter().any(|e| e.contains("preregister 1")), "{err}");
}

/// The config file's `Hot_Reload On` turns it on as `-Y` does.
#[test]
fn hot_reload_from_the_config_file() {
    let dir = scratch_dir("reload");
    let conf = dir.join("fluent-bit.conf");
    std::fs::write(
        &conf,
        format!(
            "[SERVICE]\n    Flush 30\n    Hot_Reload On\n[PLUGINS]\n    Path {}\n    Path {}\n\
             [INPUT]\n    Name trules\n    Tag t\n[OUTPUT]\n    Name tout\n    Match t\n",
            p("in_trules"),
            p("out_tout")
        ),
    )
    .expect("write config");
    let (code, err) = spawn_and_signal(&["-c", &s(&conf)], &[(400, libc::SIGHUP), (500, libc::SIGTERM)]);
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(code, Some(0), "{err}");
    assert!(err.contains(", reloads=1\n"), "{err}");
    assert!(lifecycle(&err).contains(&"trules prerun 1 thread=flb-in-trules.0".to_string()), "{err}");
}

/// A plugin handing the same strings to every Register and freeing them in Unregister: in a reload
/// the old Unregister frees what the new definition still points to. Reported, not fatal.
#[test]
fn strings_freed_by_the_old_unregister_are_reported() {
    let (i, o) = (p("in_trules"), p("out_tnames"));
    let args = ["-e", &i, "-e", &o, "-i", "trules", "-o", "tnames", "--interval", "0.1", "--flush", "0.2"];
    let mut with = args.to_vec();
    with.extend_from_slice(&["--reload-after", "0.4", "--duration", "0.8"]);
    let run = run_host(&with);
    assert_eq!(run.code, Some(0), "{}", run.all());
    assert!(
        run.stderr.contains(
            "[reload] 'tnames': the name/description strings of the new definition changed during the \
             previous definition's FLBPluginUnregister"
        ),
        "{}",
        run.all()
    );
    // the same plugin with static strings (trules) is not reported
    assert!(!run.stderr.contains("'trules': the name"), "{}", run.all());
    assert!(run.stderr.contains(", reloads=1\n"), "{}", run.all());
}

/// Fluent Bit halts a reload whose new plugins do not load and keeps the old context running; the
/// new registrations are unregistered (flb_destroy of the new context).
#[test]
fn a_refused_reload_is_halted_and_the_old_pipeline_goes_on() {
    let (i, o) = (p("in_trules"), p("out_tnames"));
    let args = host_args(&[&i, &o], "-i trules -o tnames --interval 0.1 --flush 0.2 --reload-after 0.4 --duration 1.0");
    let run = run_host_env(&arg_refs(&args), &[("TNAMES_REFUSE_RELOAD", "1")]);
    assert_eq!(run.code, Some(0), "{}", run.all());
    assert!(run.stderr.contains("Reloading is halted"), "{}", run.all());
    assert!(run.stderr.contains(", reloads=0\n"), "{}", run.all());
    let ev = lifecycle(&run.stderr);
    // the new trules registration is undone at once; the old instances never saw PreExit(1)
    assert!(ev.contains(&"trules unregister def#1 thread=fluent-bit".to_string()), "{ev:#?}");
    assert!(!ev.iter().any(|e| e.contains("preexit 1")), "{ev:#?}");
    assert_eq!(ev.iter().filter(|e| e.starts_with("trules init ")).count(), 1, "{ev:#?}");
    // the old pipeline went on flushing after the halted reload
    let after = run.stderr.split("Reloading is halted").nth(1).unwrap_or_default();
    assert!(after.matches("TP tnames flush ").count() >= 2, "{}", run.all());
}

// ------------------------------------------------------------------------------------------------
// The SDK's worker input through a reload.

/// `sdkworker_in summary:` lines, in order, as key => value.
fn worker_summaries(stderr: &str) -> Vec<BTreeMap<String, String>> {
    stderr
        .lines()
        .filter(|l| l.contains("sdkworker_in summary:"))
        .map(|l| {
            let rest = l.split("summary:").nth(1).unwrap_or_default();
            rest.split_whitespace()
                .filter_map(|kv| kv.split_once('='))
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        })
        .collect()
}

fn num(m: &BTreeMap<String, String>, k: &str) -> u64 {
    m.get(k).and_then(|v| v.parse().ok()).unwrap_or_else(|| panic!("no {k} in {m:?}"))
}

/// sdktest_out's `n` values in stdout order.
fn delivered_ns(stdout: &str) -> Vec<u64> {
    stdout
        .lines()
        .map(|l| {
            let (_, n) = l.split_once(" n=").unwrap_or_else(|| panic!("bad line {l:?}"));
            n.parse().unwrap_or_else(|_| panic!("bad line {l:?}"))
        })
        .collect()
}

/// Each generation of `sdkworker_in` numbers its records from 0. All of a generation's records are
/// flushed before the next generation starts, so stdout is the generations one after the other:
/// generation k's `taken` records, each of `0..taken` exactly once.
fn assert_generations_exactly_once(run: &Run, generations: usize) -> Vec<u64> {
    let sums = worker_summaries(&run.stderr);
    assert_eq!(sums.len(), generations, "one exit summary per generation: {}", run.stderr);
    let ns = delivered_ns(&run.stdout);
    let mut at = 0usize;
    let mut taken_all = Vec::new();
    for (k, m) in sums.iter().enumerate() {
        let taken = num(m, "taken");
        assert_eq!(num(m, "first_untaken"), taken, "generation {k}: {m:?}");
        assert_eq!(num(m, "mismatches"), 0, "generation {k}: {}", run.stderr);
        assert_eq!(m.get("worker_joined").map(String::as_str), Some("true"), "generation {k}: {m:?}");
        let end = at + usize::try_from(taken).expect("fits");
        assert!(end <= ns.len(), "generation {k}: {taken} taken, only {} lines left", ns.len() - at);
        let mut block = ns[at..end].to_vec();
        block.sort_unstable();
        let expect: Vec<u64> = (0..taken).collect();
        assert!(block == expect, "generation {k}: records 0..{taken} not delivered exactly once");
        at = end;
        taken_all.push(taken);
    }
    assert_eq!(at, ns.len(), "lines beyond what the generations took: {}", ns.len() - at);
    let out = summary_fields(&run.stderr, "sdktest_out.0");
    assert_eq!(field(&out, "records_ok"), at as u64, "{}", run.stderr);
    assert_eq!(field(&out, "dropped"), 0);
    taken_all
}

fn worker_run(props: &[&str], extra: &[&str]) -> Run {
    let i = s(&rust_plugin("in-sdkworker", "in_sdkworker"));
    let o = s(&rust_plugin("out-sdktest", "out_sdktest"));
    let mut args: Vec<&str> = vec!["-e", &i, "-e", &o, "-i", "sdkworker_in"];
    for kv in props {
        args.extend_from_slice(&["-p", kv]);
    }
    args.extend_from_slice(&["-o", "sdktest_out", "-m", "*", "--interval", "0.1"]);
    args.extend_from_slice(extra);
    run_host(&args)
}

/// The first generation writes all of its 5000 records before the reload; the flush interval is
/// beyond the run, so they are all still buffered in the host when the reload comes, and arrive
/// through the reload's flush. The second generation writes 5000 more, delivered at the end.
#[test]
fn sdkworker_records_pending_at_a_reload_arrive_exactly_once() {
    for direct in ["on", "off"] {
        let d = format!("direct={direct}");
        let run = worker_run(
            &["total=5000", "per_fill=1000", &d],
            &["--flush", "30", "--reload-after", "1.5", "--duration", "3"],
        );
        assert_eq!(run.code, Some(0), "direct={direct}: {}", run.all());
        assert!(run.stderr.contains(", reloads=1\n"), "{}", run.all());
        let taken = assert_generations_exactly_once(&run, 2);
        assert_eq!(taken, [5000, 5000], "direct={direct}: {}", run.stderr);
        // the order of the plugin's own lines: init (direct append ...), exit summary, reload
        // steps, init again, exit summary
        let lines: Vec<&str> = run
            .stderr
            .lines()
            .filter(|l| {
                l.contains("[sdkworker_in] direct append") || l.contains("summary: produced") || l.contains("[reload]")
            })
            .collect();
        let kinds: Vec<&str> = lines
            .iter()
            .map(|l| {
                if l.contains("direct append") {
                    "init"
                } else if l.contains("summary: produced") {
                    "exit"
                } else if l.contains("stop everything") {
                    "stop"
                } else if l.contains("start everything") {
                    "start"
                } else if l.contains("successful reload") {
                    "done"
                } else {
                    "other"
                }
            })
            .filter(|k| *k != "other")
            .collect();
        assert_eq!(kinds, ["init", "stop", "exit", "start", "init", "done", "exit"], "{}", run.stderr);
        if run.stderr.contains("changed during the previous definition's FLBPluginUnregister") {
            println!(
                "note: the SDK frees the name/description of the new registration in the old \
                 Unregister (reported by flb-host, see strings_freed_by_the_old_unregister_are_reported)"
            );
        }
    }
}

/// Reloads while the worker is still producing: every generation's taken records arrive exactly
/// once; what a generation wrote into a batch never handed over is not taken and not delivered.
#[test]
fn sdkworker_reloaded_every_half_second_mid_production() {
    let run = worker_run(
        &["total=100000000", "per_fill=500", "batch_limit=1M"],
        &["--flush", "0.3", "--reload-every", "0.6", "--duration", "2.8"],
    );
    assert_eq!(run.code, Some(0), "{}", run.all());
    let reloads: usize = run
        .stderr
        .split(", reloads=")
        .nth(1)
        .and_then(|r| r.lines().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no reloads= in the summary: {}", run.stderr));
    assert!(reloads >= 3, "{}", run.all());
    let taken = assert_generations_exactly_once(&run, reloads + 1);
    assert!(taken.iter().all(|&t| t > 0), "every generation delivered: {taken:?}");
}

/// Optional: the same reload in a real Fluent Bit (`FLUENT_BIT_BIN`, started with `-Y`, SIGHUP
/// after 2.5 s, SIGTERM after 5 s) against flb-host's, the periodic flushes and the pauses aside
/// (Fluent Bit's second pause interleaves with the output's exit).
#[test]
fn real_fluent_bit_reload_when_available() {
    let Some(fb) = fluent_bit_bin() else {
        return;
    };
    let (i, o) = (p("in_trules"), p("out_tout"));
    let child = Command::new(&fb)
        .args(["-Y", "-e", &i, "-e", &o, "-i", "trules", "-t", "t", "-o", "tout", "-m", "t", "-f", "1"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start fluent-bit");
    let pid = libc::pid_t::try_from(child.id()).expect("pid fits");
    for (ms, sig) in [(2500, libc::SIGHUP), (2500, libc::SIGTERM)] {
        std::thread::sleep(Duration::from_millis(ms));
        // SAFETY: kill(2) on the child we started and still own (not yet reaped).
        unsafe {
            libc::kill(pid, sig);
        }
    }
    let out = child.wait_with_output().expect("wait fluent-bit");
    let shape = |err: &str| -> Vec<String> {
        lifecycle(err).into_iter().filter(|e| !e.contains(" flush ") && !e.contains(" pause ")).collect()
    };
    let real = shape(&String::from_utf8_lossy(&out.stderr));
    let ours = trules_run(&["--reload-after", "0.5", "--duration", "1.0"]);
    assert_eq!(ours.code, Some(0), "{}", ours.all());
    assert_eq!(shape(&ours.stderr), real, "flb-host vs the real fluent-bit");
}
