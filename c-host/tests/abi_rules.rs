//! One test per ABI rule (ABI.md "Input collect, exactly", "Output flush, exactly", "Shutdown
//! order", "Observed"), with the C test plugins in tests/plugins.

use flb_host::*;

fn p(name: &str) -> String {
    s(&test_plugin(name))
}

/// trules -> tout with fast timers; extra args appended.
fn pipeline(in_props: &[&str], out_props: &[&str], extra: &[&str]) -> Run {
    let (i, o) = (p("in_trules"), p("out_tout"));
    let mut args: Vec<&str> = vec!["-e", &i, "-e", &o, "-i", "trules", "-t", "t"];
    for kv in in_props {
        args.extend_from_slice(&["-p", kv]);
    }
    args.extend_from_slice(&["-o", "tout", "-m", "t"]);
    for kv in out_props {
        args.extend_from_slice(&["-p", kv]);
    }
    args.extend_from_slice(&["--interval", "0.05", "--flush", "0.1"]);
    args.extend_from_slice(extra);
    run_host(&args)
}

fn count(events: &[String], needle: &str) -> usize {
    events.iter().filter(|e| e.contains(needle)).count()
}

#[test]
fn cleanup_not_called_when_len_is_zero() {
    let run = pipeline(&["mode=empty"], &[], &["--duration", "0.8"]);
    assert_eq!(run.code, Some(0), "{}", run.all());
    let ev = tp_events(&run.stderr);
    assert_eq!(count(&ev, "VIOLATION"), 0, "{}", run.all());
    let empty = count(&ev, "len=0");
    let full = ev.iter().filter(|e| e.contains(" collect ") && !e.contains("len=0")).count();
    let cleanups = count(&ev, " cleanup ");
    assert!(empty >= 2 && full >= 2, "{}", run.all());
    assert_eq!(cleanups, full, "one cleanup per non-empty collect: {}", run.all());
    let m = summary_fields(&run.stderr, "trules.0");
    assert_eq!(field(&m, "empty") as usize, empty, "{}", run.stderr);
}

#[test]
fn host_frees_data_when_no_cleanup_is_exported() {
    for abi in ["1.9", "2.0", "5.1"] {
        let run = run_host_v(&tp_pipe_args("tnocl", "tout", "0.6", &format!("--abi {abi}")));
        assert_exit(&run, 0, "");
        let m = summary_fields(&run.stderr, "all:");
        assert!(field(&m, "mallocs") >= 3, "{}", run.stderr);
        assert_eq!(field(&m, "live_bytes"), 0, "host must free(data): {}", run.stderr);
        assert_eq!(field(&m, "live"), 0, "{}", run.stderr);
        assert!(field(&summary_fields(&run.stderr, "tout.0"), "records_ok") > 0);
    }
}

#[test]
fn flush_retried_on_flb_retry() {
    // first 3 flushes say FLB_RETRY: with retry_limit 5 nothing is lost
    let run = pipeline(&[], &["retry_first=3"], &["--duration", "1.0", "--retry-limit", "5", "--retry-wait", "0.05"]);
    assert_eq!(run.code, Some(0), "{}", run.all());
    let m = summary_fields(&run.stderr, "tout.0");
    assert_eq!(field(&m, "retries"), 3, "{}", run.stderr);
    assert_eq!(field(&m, "dropped"), 0, "{}", run.stderr);
    assert_eq!(field(&m, "records_ok"), field(&m, "records"), "{}", run.stderr);
    assert_eq!(field(&m, "flushes"), field(&m, "chunks") + 3, "{}", run.stderr);

    // retry limit 0: the first chunk is dropped at once
    let run = pipeline(&[], &["retry_first=1"], &["--duration", "0.6", "--retry-limit", "0"]);
    let m = summary_fields(&run.stderr, "tout.0");
    assert_eq!(field(&m, "retries"), 0, "{}", run.stderr);
    assert_eq!(field(&m, "dropped"), 1, "{}", run.stderr);

    // FLB_ERROR and unknown codes: dropped, counted as errors, never retried
    let run = pipeline(&[], &["ret=7"], &["--duration", "0.5"]);
    let m = summary_fields(&run.stderr, "tout.0");
    assert!(field(&m, "errors") > 0, "{}", run.stderr);
    assert_eq!(field(&m, "retries"), 0, "{}", run.stderr);
}

#[test]
fn concurrent_flush_with_workers_4() {
    let (i, o) = (p("in_trules"), p("out_tout"));
    let mut args: Vec<&str> = vec!["-e", &i, "-e", &o];
    for _ in 0..4 {
        args.extend_from_slice(&["-i", "trules", "-t", "w"]);
    }
    let spec = "-o tout -m w -p workers=4 -p sleep_ms=250 --interval 0.05 --flush 0.1 --duration 1.0";
    args.extend(spec.split_whitespace());
    let run = run_host(&args);
    assert_eq!(run.code, Some(0), "{}", run.all());
    let ev = tp_events(&run.stderr);
    let exit = ev.iter().find(|e| e.contains("tout exit ")).expect("tout exit event");
    let maxc: i32 = exit
        .split_whitespace()
        .find_map(|w| w.strip_prefix("max_concurrency="))
        .and_then(|v| v.parse().ok())
        .expect("max_concurrency field");
    assert!(maxc > 1, "flushes never overlapped: {}", run.all());
    let m = summary_fields(&run.stderr, "tout.0");
    assert!(field(&m, "max_concurrency") > 1, "{}", run.stderr);
    // flushes run on the worker threads, init and exit on flb-pipeline
    for e in ev.iter().filter(|e| e.contains("tout flush ")) {
        assert!(e.ends_with("thread=flb-out-tout.0-"), "{e}");
    }
    assert!(exit.ends_with("thread=flb-pipeline"), "{exit}");
}

#[test]
fn shutdown_order_is_fluent_bits() {
    let run = pipeline(&[], &[], &["--duration", "0.5"]);
    assert_eq!(run.code, Some(0), "{}", run.all());
    let order: Vec<String> = tp_events(&run.stderr)
        .into_iter()
        .filter(|e| ["pause", "preexit", " exit", "unregister"].iter().any(|k| e.contains(k)))
        .map(|e| {
            // "TP tout exit flushes=.. thread=X" -> "tout exit thread=X"
            let w: Vec<&str> = e.split_whitespace().collect();
            format!("{} {} {}", w[1], w[2], w[w.len() - 1])
        })
        .collect();
    let expected = [
        "trules pause thread=flb-in-trules.0",
        "tout preexit thread=flb-pipeline",
        "tout exit thread=flb-pipeline",
        "trules pause thread=flb-in-trules.0",
        "trules preexit thread=flb-in-trules.0",
        "trules exit thread=flb-in-trules.0",
        "trules unregister thread=fluent-bit",
        "tout unregister thread=fluent-bit",
    ];
    assert_eq!(order, expected, "{}", run.all());
}

#[test]
fn sigterm_shuts_down_in_order() {
    let (i, o) = (p("in_trules"), p("out_tout"));
    let child = std::process::Command::new(host_bin())
        .args(["-e", &i, "-e", &o, "-i", "trules", "-o", "tout", "--interval", "0.05"])
        .args(["--flush", "0.1"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start flb-host");
    std::thread::sleep(std::time::Duration::from_millis(700));
    let pid = libc::pid_t::try_from(child.id()).expect("pid fits");
    // SAFETY: kill(2) on our own child, which has not been reaped yet.
    unsafe {
        libc::kill(pid, libc::SIGTERM);
    }
    let out = child.wait_with_output().expect("wait");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(err.contains("received SIGTERM"), "{err}");
    assert!(err.contains("TP tout exit"), "{err}");
    assert!(err.contains("TP trules unregister"), "{err}");
}

#[test]
fn stack_overflow_in_flush_hits_the_guard_page() {
    let run = pipeline(&[], &["stack_kb=100"], &["--duration", "1"]);
    assert_eq!(run.code, Some(EXIT_CORO_OVERFLOW), "{}", run.all());
    assert!(
        run.stderr.contains(
            "flb-host: plugin flush overflowed the 64 KiB coroutine stack (guard page hit); raise --coro-stack"
        ),
        "{}",
        run.all()
    );
}

#[test]
fn stack_100k_passes_with_a_256k_coroutine_stack() {
    let run = pipeline(&[], &["stack_kb=100"], &["--duration", "0.5", "--coro-stack", "256K"]);
    assert_eq!(run.code, Some(0), "{}", run.all());
    assert!(run.stderr.contains("touched 100 KiB of stack"), "{}", run.all());
}

#[test]
fn invalid_records_are_rejected_not_passed_on() {
    let run = pipeline(&["mode=invalid"], &[], &["--duration", "0.5"]);
    assert_eq!(run.code, Some(0), "{}", run.all());
    let m = summary_fields(&run.stderr, "trules.0");
    assert!(field(&m, "invalid") >= 2, "{}", run.stderr);
    assert_eq!(field(&m, "records"), 0, "{}", run.stderr);
    assert_eq!(field(&summary_fields(&run.stderr, "tout.0"), "flushes"), 0);
    assert!(run.stderr.contains("invalid log records"), "{}", run.stderr);
    // cleanup still runs for a rejected buffer
    assert!(run.stderr.contains("TP trules cleanup"), "{}", run.stderr);
}

#[test]
fn legacy_records_reach_the_output_unchanged() {
    let run = pipeline(&["mode=legacy", "records=4"], &[], &["--duration", "0.5"]);
    assert_eq!(run.code, Some(0), "{}", run.all());
    let m = summary_fields(&run.stderr, "tout.0");
    assert!(field(&m, "records_ok") >= 4, "{}", run.stderr);
    assert_eq!(field(&m, "records_ok") % 4, 0, "{}", run.stderr);
}

#[test]
fn pause_and_resume_are_called_on_the_input_thread() {
    let run = pipeline(&[], &[], &["--duration", "1.0", "--pause-after", "0.3", "--resume-after", "0.6"]);
    assert_eq!(run.code, Some(0), "{}", run.all());
    let ev = tp_events(&run.stderr);
    let pos = |k: &str| ev.iter().position(|e| e.contains(k));
    let pause = pos("trules pause").expect("pause");
    let resume = pos("trules resume").expect("resume");
    assert!(pause < resume);
    assert!(ev[resume].ends_with("thread=flb-in-trules.0"), "{}", ev[resume]);
    // collects continue after resume
    assert!(ev[resume..].iter().any(|e| e.contains(" collect ")), "{ev:#?}");
    // none between pause and resume
    assert!(!ev[pause..resume].iter().any(|e| e.contains(" collect ")), "{ev:#?}");
}

#[test]
fn tag_is_a_nul_terminated_copy_and_match_routes() {
    let run = pipeline(&[], &[], &["--duration", "0.4"]);
    let ev = tp_events(&run.stderr);
    assert!(ev.iter().any(|e| e.contains("tag=t taglen=1")), "{ev:#?}");
    // a non-matching output receives nothing
    let (i, o) = (p("in_trules"), p("out_tout"));
    let routed = |pattern: &str| {
        let spec = format!("-i trules -t app.x -o tout -m {pattern} --interval 0.05 --flush 0.1 --duration 0.4");
        run_host_v(&host_args(&[&i, &o], &spec))
    };
    let run = routed("other.*");
    assert_eq!(field(&summary_fields(&run.stderr, "tout.0"), "flushes"), 0);
    let run = routed("app.*");
    assert!(field(&summary_fields(&run.stderr, "tout.0"), "flushes") > 0);
}

#[test]
fn config_file_with_plugins_file_and_case_insensitive_keys() {
    let dir = scratch_dir("cfg");
    std::fs::write(
        dir.join("plugins.conf"),
        format!("[PLUGINS]\n    Path {}\n    Path {}\n", p("in_trules"), p("out_tout")),
    )
    .expect("write plugins.conf");
    std::fs::write(
        dir.join("fluent-bit.conf"),
        "# test\n[SERVICE]\n    Flush        0.1\n    Log_Level    info\n    plugins_file plugins.conf\n\n\
         [INPUT]\n    Name    trules\n    Tag     app.one\n    RECORDS 3\n\n\
         [OUTPUT]\n    Name    tout\n    Match   app.*\n    Workers 2\n",
    )
    .expect("write conf");
    let conf = s(&dir.join("fluent-bit.conf"));
    let run = run_host(&["-c", &conf, "--interval", "0.05", "--duration", "0.6"]);
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(run.code, Some(0), "{}", run.all());
    let mi = summary_fields(&run.stderr, "trules.0");
    assert!(field(&mi, "collects") > 0);
    assert_eq!(field(&mi, "records"), 3 * (field(&mi, "collects") - field(&mi, "empty")));
    let mo = summary_fields(&run.stderr, "tout.0");
    assert_eq!(mo.get("workers").map(String::as_str), Some("2"), "{}", run.stderr);
    assert!(field(&mo, "records_ok") > 0, "{}", run.stderr);
}

#[test]
fn two_instances_get_their_own_context() {
    let (i, o) = (p("in_trules"), p("out_tout"));
    let spec = "-i trules -t a -i trules -t b -o tout -m * --interval 0.05 --flush 0.1 --duration 0.5";
    let run = run_host_v(&host_args(&[&i, &o], spec));
    assert_eq!(run.code, Some(0), "{}", run.all());
    let ev = tp_events(&run.stderr);
    assert!(ev.iter().any(|e| e.contains("collect id=0") && e.ends_with("flb-in-trules.0")));
    assert!(ev.iter().any(|e| e.contains("collect id=1")), "{ev:#?}");
    assert!(field(&summary_fields(&run.stderr, "trules.1"), "records") > 0);
}
