//! Keys as native: gdummy, gstdout and gtail hand their declared keys to a host known to take them
//! (Fluent Bit 5.1.1's `config_map`), which then refuses a misspelt key at start-up with Fluent
//! Bit's own message and lists the keys in `-h`. Shown through flb-host's 5.1 profile, and in a
//! real Fluent Bit 5.1.1 when `FLUENT_BIT_BIN` is set. Under older profiles nothing is written past
//! the definition (flb-host's guard page would kill the host) and keys are not checked, as there.
//!
//! The allowed lists below are what Fluent Bit 5.1.1 printed for our plugins, copied by hand.

use flb_host::*;
use std::time::Duration;

const GDUMMY_ALLOWED: &str = "samples, dummy, metadata, rate, interval_sec, interval_nsec, copies, \
     start_time_sec, start_time_nsec, fixed_timestamp, flush_on_startup, and pace.";
const GSTDOUT_ALLOWED: &str = "format, json_date_format, json_date_key, and write_timeout.";
const GTAIL_ALLOWED: &str = "path, exclude_path, key, read_from_head, read_newly_discovered_files_from_head, \
     refresh_interval, watcher_interval, progress_check_interval, progress_check_interval_nsec, rotate_wait, \
     docker_mode, docker_mode_flush, docker_mode_parser, path_key, offset_key, ignore_older, \
     ignore_active_older_files, buffer_chunk_size, buffer_max_size, static_batch_size, event_batch_size, \
     skip_long_lines, exit_on_eof, skip_empty_lines, truncate_long_lines, file_cache_advise, inotify_watcher, \
     parser, tag_regex, db, db.sync, db.locking, db.journal_mode, db.compare_filename, multiline, \
     multiline_flush, parser_firstline, parser_, multiline.parser, unicode.encoding, generic.encoding, \
     multiline.flush_ms, format, and batch_max_size.";

fn gdummy() -> String {
    s(&rust_plugin("in-gdummy", "in_gdummy"))
}
fn gstdout() -> String {
    s(&rust_plugin("out-gstdout", "out_gstdout"))
}
fn gtail() -> String {
    s(&rust_plugin("in-gtail", "in_gtail"))
}

fn unknown(plugin: &str, key: &str, allowed: &str) -> String {
    format!(
        "[config] {plugin}: unknown configuration property '{key}'. The following properties are allowed: {allowed}"
    )
}

/// The three plugins, each with a misspelt key: the arguments after the `-e` list, and the message.
fn typo_cases(dir: &std::path::Path) -> Vec<(Vec<String>, String)> {
    let log = dir.join("a.log").display().to_string();
    let v = |a: &[&str]| a.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    vec![
        (v(&["-i", "gdummy", "-p", "rat=5", "-o", "gstdout", "-m", "*"]), unknown("gdummy", "rat", GDUMMY_ALLOWED)),
        (
            v(&["-i", "gdummy", "-o", "gstdout", "-m", "*", "-p", "formt=json"]),
            unknown("gstdout", "formt", GSTDOUT_ALLOWED),
        ),
        (
            vec![
                "-i".into(),
                "gtail".into(),
                "-p".into(),
                format!("pth={log}"),
                "-o".into(),
                "gstdout".into(),
                "-m".into(),
                "*".into(),
            ],
            unknown("gtail", "pth", GTAIL_ALLOWED),
        ),
    ]
}

fn temp_dir(tag: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("flb-keys-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("temp dir");
    d
}

fn all_plugins() -> Vec<String> {
    let mut a = Vec::new();
    for so in [gdummy(), gstdout(), gtail()] {
        a.push("-e".to_string());
        a.push(so);
    }
    a
}

#[test]
fn flb_host_5_1_refuses_a_misspelt_key_of_each_plugin_with_fluent_bits_message() {
    let dir = temp_dir("host-typo");
    for (args, message) in typo_cases(&dir) {
        let mut full = all_plugins();
        full.extend(args);
        full.extend(["--duration", "1", "--abi", "5.1"].map(String::from));
        let refs: Vec<&str> = full.iter().map(String::as_str).collect();
        let run = run_host_env(&refs, &[]);
        assert_ne!(run.code, Some(0), "{message}\n{}", run.all());
        assert!(run.stderr.contains(&message), "expected {message:?}\n{}", run.all());
        assert!(!run.timed_out, "{}", run.all());
    }
}

#[test]
fn older_profiles_get_nothing_past_the_definition_and_keep_running() {
    // The variable alone must not make a plugin write into a pre-5.1.1 definition: these profiles
    // do not export flb_config_map_translate_dynamic, and the def ends at a PROT_NONE page.
    for abi in ["1.9", "2.2", "4.1"] {
        let (i, o) = (gdummy(), gstdout());
        let spec = format!(
            "-i gdummy -p rate=20 -p rat=5 -o gstdout -m * -p format=json_lines \
             --interval 0.1 --flush 0.2 --duration 1 --abi {abi}"
        );
        let args = host_args(&[&i, &o], &spec);
        let run = run_host_env(&arg_refs(&args), &[("FLUENT_BIT_VERSION", "5.1.1")]);
        assert_eq!(run.code, Some(0), "abi {abi}: {}", run.all());
        assert!(
            run.stdout.lines().filter(|l| l.contains("\"message\":\"dummy\"")).count() > 0,
            "abi {abi}: {}",
            run.all()
        );
        assert!(!run.stderr.contains("unknown configuration property"), "abi {abi}: {}", run.all());
    }
}

#[test]
fn flb_host_5_1_runs_valid_configs_with_the_map_in_place() {
    let dir = temp_dir("host-valid");
    let log = dir.join("a.log");
    std::fs::write(&log, "one\ntwo\n").expect("log");
    let (t, o) = (gtail(), gstdout());
    let path = format!("path={}", log.display());
    // the log's path goes in as one argument, whatever it holds
    let mut args = host_args(&[&t, &o], "-i gtail -p");
    args.push(path);
    args.extend(host_args(
        &[],
        "-p Read_From_Head=on -p multiline=off -o gstdout -m * -p Format=json_lines -p json_date_key=false \
         --interval 0.1 --flush 0.2 --duration 1.5 --abi 5.1",
    ));
    let run = run_host_env(&arg_refs(&args), &[]);
    assert_eq!(run.code, Some(0), "{}", run.all());
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines, ["{\"log\":\"one\"}", "{\"log\":\"two\"}"], "{}", run.all());
}

/// The `-h` entry of `key` (its name at the start of a line, up to the blank line after it)
/// contains `line`.
fn assert_help_entry(text: &str, name: &str, key: &str, line: &str) {
    let at = text.find(&format!("\n{key} ")).unwrap_or_else(|| panic!("{name}: no '{key}' entry\n{text}"));
    let entry = &text[at..];
    let end = entry[1..].find("\n\n").map_or(entry.len(), |e| e + 1);
    assert!(entry[..end].contains(line), "{name} {key}: {:?}", &entry[..end]);
}

#[test]
fn flb_host_help_lists_each_plugins_keys_with_default_and_type() {
    for (so, flag, name, key, line) in [
        (gdummy(), "-i", "gdummy", "rate", "> default: 1, type: integer"),
        (gstdout(), "-o", "gstdout", "json_date_format", "> default: double, type: string"),
        (gtail(), "-i", "gtail", "batch_max_size", "> default: 32M, type: size"),
    ] {
        let run = run_host_env(&["-e", &so, flag, name, "-h", "--abi", "5.1"], &[]);
        assert_eq!(run.code, Some(0), "{}", run.all());
        assert_help_entry(&format!("{}{}", run.stdout, run.stderr), name, key, line);
    }
}

/// Runs Fluent Bit with `FLUENT_BIT_VERSION=5.1.1` (as its official image sets it) until it exits
/// or `secs` pass, then SIGTERM; returns (exit code, stdout, stderr).
fn fluent_bit(fb: &str, args: &[String], secs: u64) -> (Option<i32>, String, String) {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let e = run_then_term(fb, &args, &[("FLUENT_BIT_VERSION", "5.1.1")], None, Duration::from_secs(secs));
    (e.code, e.stdout, e.stderr)
}

#[test]
fn real_fluent_bit_refuses_misspelt_keys_and_lists_ours_when_available() {
    let Some(fb) = fluent_bit_bin() else {
        return;
    };
    let dir = temp_dir("fb-typo");
    for (args, message) in typo_cases(&dir) {
        let mut full = all_plugins();
        full.extend(args);
        let (code, out, err) = fluent_bit(&fb, &full, 15);
        assert!(code.is_some_and(|c| c != 0), "{message}: exit {code:?}\n{out}\n{err}");
        assert!(err.contains(&message), "expected {message:?}\n{err}");
    }
    // A key gtail declares but cannot honour passes Fluent Bit's check and is refused by gtail.
    let mut full = all_plugins();
    full.extend(["-i", "gtail", "-p", "path=/nonexistent/*.log", "-p", "multiline=on", "-o", "null"].map(String::from));
    let (code, _, err) = fluent_bit(&fb, &full, 15);
    assert!(code.is_some_and(|c| c != 0), "{err}");
    assert!(err.contains("'multiline' is not supported by gtail"), "{err}");
    assert!(!err.contains("unknown configuration property"), "{err}");

    for (so, flag, name, key, line) in [
        (gdummy(), "-i", "gdummy", "rate", "> default: 1, type: integer"),
        (gstdout(), "-o", "gstdout", "json_date_format", "> default: double, type: string"),
        (gtail(), "-i", "gtail", "batch_max_size", "> default: 32M, type: size"),
    ] {
        let args: Vec<String> = ["-e", &so, flag, name, "-h"].map(String::from).to_vec();
        let (code, out, err) = fluent_bit(&fb, &args, 15);
        let text = strip_ansi(&format!("{out}{err}"));
        assert_eq!(code, Some(0), "{text}");
        assert_help_entry(&text, name, key, line);
    }
}

#[test]
fn real_fluent_bit_runs_our_plugins_with_the_map_when_available() {
    let Some(fb) = fluent_bit_bin() else {
        return;
    };
    let dir = temp_dir("fb-valid");
    let log = dir.join("a.log");
    std::fs::write(&log, "one\ntwo\n").expect("log");
    let mut args = all_plugins();
    args.extend(
        [
            "-i",
            "gtail",
            "-p",
            &format!("path={}", log.display()),
            "-p",
            "Read_From_Head=on",
            "-p",
            "multiline=off",
            "-i",
            "gdummy",
            "-p",
            "samples=3",
            "-p",
            "Dummy={\"g\":1}",
            "-o",
            "gstdout",
            "-m",
            "*",
            "-p",
            "Format=json_lines",
            "-p",
            "json_date_key=false",
            "-f",
            "1",
        ]
        .map(String::from),
    );
    let (code, out, err) = fluent_bit(&fb, &args, 6);
    assert_eq!(code, Some(0), "SIGTERM gives a clean exit\n{out}\n{err}");
    let mut lines: Vec<&str> = out.lines().collect();
    lines.sort_unstable();
    assert_eq!(lines, ["{\"g\":1}", "{\"g\":1}", "{\"g\":1}", "{\"log\":\"one\"}", "{\"log\":\"two\"}"], "{err}");
    assert!(!err.contains("[error]"), "{err}");
}
