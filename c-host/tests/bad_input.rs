//! Bad input to the host gives one clear error line and a non-zero exit.

use flb_host::*;

fn p(name: &str) -> String {
    s(&test_plugin(name))
}

fn one_error(run: &Run, needle: &str) {
    assert!(matches!(run.code, Some(c) if c != 0), "{}", run.all());
    let errs: Vec<&str> = run.stderr.lines().filter(|l| l.starts_with("flb-host: error:")).collect();
    assert_eq!(errs.len(), 1, "want exactly one error line: {}", run.all());
    assert!(errs[0].contains(needle), "{:?} lacks {needle:?}", errs[0]);
}

#[test]
fn missing_so() {
    let run = run_host(&["-e", "/nonexistent/x.so", "-i", "x", "-o", "y"]);
    one_error(&run, "cannot load plugin '/nonexistent/x.so'");
}

#[test]
fn so_without_register() {
    let run = run_host(&["-e", &p("bad_noreg"), "-i", "x"]);
    one_error(&run, "symbol FLBPluginRegister not found");
}

#[test]
fn unknown_plugin_name() {
    let run = run_host(&["-e", &p("in_trules"), "-e", &p("out_tout"), "-i", "nope", "-o", "tout"]);
    one_error(&run, "unknown input plugin 'nope' (loaded input plugins: trules)");
    let run = run_host(&["-e", &p("in_trules"), "-i", "trules", "-o", "trules"]);
    one_error(&run, "unknown output plugin 'trules'");
}

#[test]
fn flb_prefixed_so_is_refused_like_fluent_bit() {
    let dir = scratch_dir("pref");
    let so = dir.join("flb-in_trules.so");
    std::fs::copy(test_plugin("in_trules"), &so).expect("copy");
    let run = run_host(&["-e", &s(&so), "-i", "trules"]);
    let _ = std::fs::remove_dir_all(&dir);
    one_error(&run, "flb-*.so");
}

#[test]
fn malformed_config_files() {
    let dir = scratch_dir("bad");
    let cases: &[(&str, &str)] = &[
        ("[INPUT\n    Name trules\n", "malformed section header"),
        ("[INPUT]\n    Name\n", "key 'Name' has no value"),
        ("Name trules\n", "outside of any section"),
        ("[FILTER]\n    Name grep\n", "section [FILTER] is not supported"),
        ("[INPUT]\n    Tag x\n    Name trules\n", "before Name"),
        ("[OUTPUT]\n    Name tout\n    Match_Regex .*\n", "Match_Regex is not supported"),
        ("[OUTPUT]\n    Name tout\n    Workers many\n", "invalid Workers"),
        ("[SERVICE]\n    Flush zero\n", "invalid flush"),
        ("@INCLUDE other.conf\n", "directive '@INCLUDE other.conf' is not supported"),
        ("[SERVICE]\n    plugins_file missing.conf\n", "cannot open plugins file"),
        ("[INPUT]\n[OUTPUT]\n    Name tout\n", "has no Name"),
    ];
    for (i, (text, needle)) in cases.iter().enumerate() {
        let f = dir.join(format!("c{i}.conf"));
        std::fs::write(&f, text).expect("write");
        let run = run_host(&["-e", &p("in_trules"), "-c", &s(&f)]);
        one_error(&run, needle);
        assert!(run.stderr.contains(&format!("c{i}.conf:")) || needle.contains("plugins file"));
    }
    let run = run_host(&["-c", &s(&dir.join("absent.conf"))]);
    one_error(&run, "cannot open config file");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bad_command_lines() {
    let run = run_host(&["-e", &p("in_trules"), "-i", "trules", "--abi", "3.0"]);
    one_error(&run, "unknown --abi '3.0'");
    let run = run_host(&["-p", "a=b"]);
    one_error(&run, "no -i or -o before it");
    let run = run_host(&["-e", &p("in_trules"), "-i", "trules", "--coro-stack", "lots"]);
    one_error(&run, "invalid --coro-stack");
    let run = run_host(&["-e", &p("in_trules"), "-i", "trules", "--frobnicate"]);
    one_error(&run, "unknown argument '--frobnicate'");
}

#[test]
fn init_failure_is_an_error_exit_with_clean_teardown() {
    let run = run_host(&["-e", &p("in_trules"), "-e", &p("out_tout"), "-i", "trules", "-p", "records=x", "-o", "tout"]);
    one_error(&run, "failed to initialize");
    assert!(run.stderr.contains("TP trules unregister"), "{}", run.all());
}

/// The usage names, per mode, only options that mode takes: each flag of a synopsis line is known
/// to the parser in that mode (without its value it may fail otherwise, but never as unknown).
#[test]
fn usage_names_only_options_its_mode_takes() {
    let help = run_host(&["-h"]);
    assert_eq!(help.code, Some(0), "{}", help.all());
    let synopsis: Vec<&str> = help.stderr.lines().skip(1).take_while(|l| !l.trim().is_empty()).collect();
    let mut mode = "";
    let mut checked = 0;
    for line in synopsis {
        if let Some(rest) = line.trim_start().strip_prefix("flb-host ") {
            mode = ["check", "bench"].into_iter().find(|m| rest.starts_with(m)).unwrap_or("run");
        }
        for word in line.split_whitespace() {
            let flag = word.trim_start_matches(['[', '(']).trim_end_matches([']', ')', '.', '|']);
            if !flag.starts_with('-') || flag.len() < 2 || flag == "-h" {
                continue;
            }
            let run = run_host(&[mode, flag]);
            assert!(!run.stderr.contains("unknown argument"), "{mode} {flag}: {}", run.all());
            checked += 1;
        }
    }
    assert!(checked > 40, "read {checked} flags from the usage: {}", help.stderr);
}

/// One parser for every mode: a value may follow as the next argument or as --option=value,
/// and a missing or bad value names the option.
#[test]
fn every_mode_reads_option_values_alike() {
    let run = run_host(&["check", &p("out_tout"), "--count=2", "--abi=4.1"]);
    assert_eq!(run.code, Some(0), "{}", run.all());
    assert!(run.stdout.contains("(abi 4.1, 2 calls,"), "{}", run.all());
    let run = run_host(&["bench", "-e", &p("out_tout"), "-o", "tout", "--count=3", "--warmup=0"]);
    assert_eq!(run.code, Some(0), "{}", run.all());
    assert!(run.stderr.contains("calls            3 "), "{}", run.all());

    one_error(&run_host(&["check", &p("out_tout"), "--count"]), "option --count needs a value");
    one_error(&run_host(&["check", &p("out_tout"), "--count", "0"]), "invalid --count '0'");
    one_error(&run_host(&["check", &p("out_tout"), "--frobnicate"]), "check: unknown argument '--frobnicate'");
    one_error(&run_host(&["bench", "-e", &p("out_tout"), "-o", "tout", "--warmup", "-1"]), "invalid --warmup '-1'");
    one_error(
        &run_host(&["bench", "-e", &p("out_tout"), "-o", "tout", "-o", "tout"]),
        "bench drives exactly one instance",
    );
    one_error(&run_host(&["-e", &p("in_trules"), "-i", "trules", "--interval", "0"]), "invalid --interval '0'");
    one_error(&run_host(&["-e", &p("in_trules"), "-i", "trules", "-f", "soon"]), "invalid -f 'soon'");
    one_error(&run_host(&["-e", &p("in_trules"), "-t", "x"]), "-t x: no -i before it");
}
