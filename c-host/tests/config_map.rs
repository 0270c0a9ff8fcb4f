//! The `config_map` of a Fluent Bit 5.1.1 proxy definition (ABI.md, "Version profiles"): under
//! `--abi 5.1` flb-host offers it (FLUENT_BIT_VERSION=5.1.1 in its environment when unset, and
//! `flb_config_map_translate_dynamic` through libflbhost_configmap.so) and, when a plugin declares
//! a map, checks each instance's properties against it before FLBPluginInit with Fluent Bit's own
//! messages; `-h` prints the keys. Older profiles, `--no-config-map` and another
//! FLUENT_BIT_VERSION leave the plugin writing nothing, and nothing is checked.
//!
//! in_tkeys (input `tkeys`) and out_tkeys (output `tkeysout`) write `def->config_map` only by the
//! SDK's rule (FLUENT_BIT_VERSION=5.1.1 and the dlsym) and log what they saw at Register:
//! `TP tkeys config def#K version=V translate_dynamic=0|1 config_map=0|1`. TP_TKEYS_MAP picks a
//! broken map (see the plugin). Every message text below after the log level was checked against
//! a real Fluent Bit 5.1.1 running the same plugins (`real_fluent_bit_when_available`).

use flb_host::*;
use std::path::Path;
use std::time::Duration;

fn p(name: &str) -> String {
    s(&test_plugin(name))
}

/// Variables the tests decide on, never inherited (a CI container of Fluent Bit's images sets
/// FLUENT_BIT_VERSION).
const OURS: &[&str] = &["FLUENT_BIT_VERSION", "TP_TKEYS_MAP", "TP_TKEYS_VERBOSE"];

fn run_bin(bin: &Path, args: &[&str], envs: &[(&str, &str)]) -> Run {
    run_with_env(bin, args, envs, OURS, Duration::from_secs(60))
}

fn host(args: &[&str], envs: &[(&str, &str)]) -> Run {
    run_bin(&host_bin(), args, envs)
}

/// tkeys (with `in_props`) into tkeysout (with `out_props`), 0.8 s.
fn pipeline(in_props: &[&str], out_props: &[&str], extra: &[&str], envs: &[(&str, &str)]) -> Run {
    let (i, o) = (p("in_tkeys"), p("out_tkeys"));
    let mut a: Vec<&str> = vec!["-e", &i, "-e", &o, "-i", "tkeys"];
    for kv in in_props {
        a.extend_from_slice(&["-p", kv]);
    }
    a.extend_from_slice(&["-o", "tkeysout"]);
    for kv in out_props {
        a.extend_from_slice(&["-p", kv]);
    }
    a.extend_from_slice(&["--interval", "0.1", "--flush", "0.2", "--duration", "0.8"]);
    a.extend_from_slice(extra);
    host(&a, envs)
}

const ALLOWED_IN: &str = "The following properties are allowed: message, rate, verbose, legacy, buffer_size, \
                          ratio, interval, label., add, fields, pair, old_rate, and long_one.";
const ALLOWED_OUT: &str = "The following properties are allowed: format, json_date_key, and json_date_format.";

fn has_line(run: &Run, line: &str) -> bool {
    run.stderr.lines().any(|l| l == line)
}

fn assert_line(run: &Run, line: &str) {
    assert!(has_line(run, line), "no line\n  {line}\nin\n{}", run.all());
}

/// What in_tkeys saw at its first Register.
fn register_seen(run: &Run) -> String {
    let e = tp_events(&run.stderr);
    let l = e
        .iter()
        .find(|l| l.starts_with("TP tkeys config def#0 "))
        .unwrap_or_else(|| panic!("no config event: {}", run.all()));
    l["TP tkeys config def#0 ".len()..l.find(" thread=").unwrap_or(l.len())].to_string()
}

fn count_events(run: &Run, prefix: &str) -> usize {
    tp_events(&run.stderr).iter().filter(|l| l.starts_with(prefix)).count()
}

/// Ran to its end with records from tkeys acknowledged by tkeysout, all of them.
fn assert_records_arrive(run: &Run) {
    assert_eq!(run.code, Some(0), "{}", run.all());
    let i = summary_fields(&run.stderr, "tkeys.0");
    let o = summary_fields(&run.stderr, "tkeysout.0");
    assert!(field(&i, "records") > 0, "{}", run.all());
    assert_eq!(field(&o, "records_ok"), field(&i, "records"), "{}", run.all());
    assert_eq!(field(&i, "errors") + field(&o, "errors"), 0, "{}", run.all());
    let flushed: u64 = tp_events(&run.stderr)
        .iter()
        .filter_map(|l| l.strip_prefix("TP tkeysout flush records="))
        .map(|r| r.split_whitespace().next().unwrap_or("0").parse::<u64>().unwrap_or(0))
        .sum();
    assert_eq!(flushed, field(&i, "records"), "the plugin counted what the host flushed: {}", run.all());
}

/// Init refused before FLBPluginInit: exit 1, the input never initialised, no record.
fn assert_refused_before_init(run: &Run, instance: &str) {
    assert_eq!(run.code, Some(1), "{}", run.all());
    assert!(run.status.is_some_and(|s| s.code().is_some()), "ended by a signal: {}", run.all());
    assert!(
        run.stderr.contains(&format!(
            "plugin '{instance}' ({}) failed to initialize: its configuration does not pass the \
             plugin's config_map",
            p(if instance.starts_with("tkeysout") { "out_tkeys" } else { "in_tkeys" })
        )),
        "{}",
        run.all()
    );
    let plugin = instance.split('.').next().unwrap_or(instance);
    assert_eq!(count_events(run, &format!("TP {plugin} init")), 0, "FLBPluginInit was called: {}", run.all());
    assert_eq!(count_events(run, "TP tkeysout flush"), 0, "{}", run.all());
}

#[test]
fn unknown_key_fails_init_with_fluent_bits_message() {
    let run = pipeline(&["rate=3", "rte=3"], &[], &[], &[]);
    assert_refused_before_init(&run, "tkeys.0");
    assert_line(&run, &format!("[error] [config] tkeys: unknown configuration property 'rte'. {ALLOWED_IN}"));
    assert_line(&run, &format!("[ help] try the command: flb-host -e {} -i tkeys -h", p("in_tkeys")));

    // Fluent Bit lowercases keys before the check, so the message quotes the lowercase form
    let run = pipeline(&["Rte=3"], &[], &[], &[]);
    assert_refused_before_init(&run, "tkeys.0");
    assert_line(&run, &format!("[error] [config] tkeys: unknown configuration property 'rte'. {ALLOWED_IN}"));

    // an output: the same, with -o in the hint
    let run = pipeline(&[], &["formt=json"], &[], &[]);
    assert_refused_before_init(&run, "tkeysout.0");
    assert_line(&run, &format!("[error] [config] tkeysout: unknown configuration property 'formt'. {ALLOWED_OUT}"));
    assert_line(&run, &format!("[ help] try the command: flb-host -e {} -o tkeysout -h", p("out_tkeys")));
}

#[test]
fn every_kind_of_key_is_accepted_and_records_arrive() {
    let run = pipeline(
        &[
            "message=hi",
            "RATE=3",
            "verbose=on",
            "legacy=off",
            "buffer_size=1M",
            "ratio=0.25",
            "interval=2s",
            "label.team=core",
            "Label.Env=test",
            "add=a",
            "add=b",
            "fields=x,y",
            "pair=p q",
            "old_rate=1",
            "long_one=y",
            "active=true",
            "condition=anything",
        ],
        &["format=json", "json_date_key=ts", "json_date_format=iso8601"],
        &[],
        &[],
    );
    assert_records_arrive(&run);
    // the host set FLUENT_BIT_VERSION (the test removed it) and offered the function
    assert_eq!(register_seen(&run), "version=5.1.1 translate_dynamic=1 config_map=1", "{}", run.all());
    assert!(run.stderr.contains("TP tkeys init rate=3 "), "{}", run.all());
    assert!(run.stderr.contains("TP tkeysout init format=json "), "{}", run.all());
    assert_line(&run, "[ warn] [config] tkeys: 'old_rate' is deprecated");
    assert!(!run.stderr.contains("[error]"), "{}", run.all());
    let i = summary_fields(&run.stderr, "tkeys.0");
    assert_eq!(field(&i, "records"), 3 * field(&i, "collects"), "{}", run.all());
}

#[test]
fn a_key_set_twice_fails_unless_its_entry_allows_several() {
    for (props, key, n) in [
        (&["rate=1", "rate=2"][..], "rate", 2),
        (&["rate=1", "RATE=2"][..], "rate", 2),
        (&["message=a", "rate=1", "message=b", "message=c"][..], "message", 3),
    ] {
        let run = pipeline(props, &[], &[], &[]);
        assert_refused_before_init(&run, "tkeys.0");
        assert_line(&run, &format!("[error] [config] tkeys: configuration property '{key}' is set {n} times"));
    }
    // add is FLB_CONFIG_MAP_MULT; prefixed keys differ by their suffix
    let run = pipeline(&["add=1", "add=2", "ADD=3", "label.a=1", "label.b=2"], &[], &[], &[]);
    assert_records_arrive(&run);

    // the same from a config file
    let dir = scratch_dir("cm");
    let conf = dir.join("twice.conf");
    std::fs::write(
        &conf,
        format!(
            "[PLUGINS]\n    Path {}\n    Path {}\n[INPUT]\n    Name tkeys\n    Rate 1\n    rate 2\n\
             [OUTPUT]\n    Name tkeysout\n    Match *\n",
            p("in_tkeys"),
            p("out_tkeys")
        ),
    )
    .expect("write the config");
    let run = host(&["-c", &s(&conf), "--duration", "0.5"], &[]);
    let _ = std::fs::remove_dir_all(&dir);
    assert_refused_before_init(&run, "tkeys.0");
    assert_line(&run, "[error] [config] tkeys: configuration property 'rate' is set 2 times");
}

#[test]
fn a_bare_prefix_is_an_incomplete_key() {
    let run = pipeline(&["label.=1"], &[], &[], &[]);
    assert_refused_before_init(&run, "tkeys.0");
    assert_line(&run, "[error] [config] incomplete prefixed key 'label.'");
    assert_line(&run, &format!("[error] [config] tkeys: unknown configuration property 'label.'. {ALLOWED_IN}"));
    // shorter than the prefix: just unknown
    let run = pipeline(&["label=1"], &[], &[], &[]);
    assert_refused_before_init(&run, "tkeys.0");
    assert!(!run.stderr.contains("incomplete prefixed key"), "{}", run.all());
    assert_line(&run, &format!("[error] [config] tkeys: unknown configuration property 'label'. {ALLOWED_IN}"));
}

/// One OPTIONS entry of Fluent Bit's text help: the key in a column as wide as the longest key
/// Fluent Bit lists (its global options count), the description, then default and type.
fn help_entry(pad: usize, name: &str, desc: &[&str], default: &str, ty: &str) -> String {
    let mut s = format!("{name:<pad$}{}\n", desc[0]);
    for d in &desc[1..] {
        s += &format!("{:pad$}{d}\n", "");
    }
    s + &format!("{:pad$}> default: {default}, type: {ty}\n\n", "")
}

fn tkeys_help() -> String {
    let pad = 35;
    let mut h =
        "HELP\ntkeys input plugin\n\nDESCRIPTION\nflb-host test input declaring a config_map\n\nOPTIONS\n".to_string();
    for (name, desc, default, ty) in [
        ("message", "text of each record's msg field", "hello", "string"),
        ("rate", "records per collect", "2", "integer"),
        ("verbose", "log every collect", "off", "boolean"),
        ("legacy", "write [time, {body}] records, for hosts before 2.1", "false", "boolean"),
        ("buffer_size", "a size", "32K", "size"),
        ("ratio", "a double", "0.5", "double"),
        ("interval", "a time", "1s", "time"),
    ] {
        h += &help_entry(pad, name, &[desc], default, ty);
    }
    // no default: Fluent Bit 5.1.1 prints "default: default"
    h += &help_entry(
        pad,
        "label.",
        &["label.NAME VALUE adds a field NAME to every record;", "give as many as you like"],
        "default",
        "prefixed string",
    );
    h += &help_entry(pad, "add", &["may be given several times"], "default", "string");
    h += &help_entry(pad, "fields", &["a comma separated list"], "a,b", "multiple comma delimited strings");
    h += &help_entry(pad, "pair", &["two words"], "default", "space delimited strings (minimum 2)");
    h += &help_entry(pad, "old_rate", &["deprecated: use rate"], "default", "deprecated");
    h += &help_entry(
        pad,
        "long_one",
        &[
            "A description long enough to be wrapped by the help",
            "printer, which cuts a description at the last space",
            "before ninety columns minus the width of the key",
            "column, and indents the lines that follow.",
        ],
        "x",
        "string",
    );
    h
}

#[test]
fn help_lists_every_key_with_default_and_type() {
    let (i, o) = (p("in_tkeys"), p("out_tkeys"));
    let run = host(&["-e", &i, "-e", &o, "-i", "tkeys", "-h"], &[]);
    assert_eq!(run.code, Some(0), "{}", run.all());
    assert_eq!(run.stdout, tkeys_help(), "{}", run.all());

    // options after -h still count (here: none that change anything), and outputs too
    let run = host(&["-e", &i, "-e", &o, "-o", "tkeysout", "--help", "--abi", "5.1"], &[]);
    assert_eq!(run.code, Some(0), "{}", run.all());
    let pad = 34;
    let want = "HELP\ntkeysout output plugin\n\nDESCRIPTION\nflb-host test output declaring a config_map\n\n\
                OPTIONS\n"
        .to_string()
        + &help_entry(
            pad,
            "format",
            &[
                "Specifies the data format to be printed. Supported",
                "formats are msgpack, json, json_lines and json_stream.",
            ],
            "default",
            "string",
        )
        + &help_entry(pad, "json_date_key", &["Specifies the name of the date field in output."], "date", "string")
        + &help_entry(
            pad,
            "json_date_format",
            &["Specify the format of the date, supported formats:", "double, iso8601, java_sql_timestamp and epoch."],
            "default",
            "string",
        );
    assert_eq!(run.stdout, want, "{}", run.all());

    // -h alone (or before any -i/-o) is the usage, which names the new flag and variable
    let run = host(&["-h"], &[]);
    assert_eq!(run.code, Some(0), "{}", run.all());
    for w in ["usage:", "--no-config-map", "FLUENT_BIT_VERSION=5.1.1", "-h [--abi X]"] {
        assert!(run.stderr.contains(w), "usage lacks {w}: {}", run.all());
    }
    // a plugin that is not loaded
    let run = host(&["-e", &i, "-i", "nosuch", "-h"], &[]);
    assert_eq!(run.code, Some(1), "{}", run.all());
    assert!(run.stderr.contains("no input plugin named 'nosuch'"), "{}", run.all());
}

#[test]
fn help_without_a_map_says_so_in_one_line() {
    let i = p("in_tkeys");
    for (abi, extra, envs, want) in [
        (
            "4.1",
            None,
            &[("FLUENT_BIT_VERSION", "5.1.1")][..],
            "tkeys: this plugin declares no configuration keys under --abi 4.1 (config_map is a Fluent Bit 5.1.1 \
             feature)\n",
        ),
        (
            "1.9",
            None,
            &[][..],
            "tkeys: this plugin declares no configuration keys under --abi 1.9 (config_map is a Fluent Bit 5.1.1 \
             feature)\n",
        ),
        (
            "5.1",
            Some("--no-config-map"),
            &[][..],
            "tkeys: this plugin declares no configuration keys under --abi 5.1 --no-config-map (the host neither \
             offers nor reads config_map)\n",
        ),
        (
            "5.1",
            None,
            &[("FLUENT_BIT_VERSION", "5.2.0")][..],
            "tkeys: this plugin declares no configuration keys (it left config_map NULL; FLUENT_BIT_VERSION=5.2.0)\n",
        ),
    ] {
        let mut a = vec!["-e", &i, "--abi", abi, "-i", "tkeys", "-h"];
        if let Some(x) = extra {
            a.push(x);
        }
        let run = host(&a, envs);
        assert_eq!(run.code, Some(0), "{a:?}: {}", run.all());
        assert_eq!(run.stdout, want, "{a:?}: {}", run.all());
    }
}

#[test]
fn a_default_fluent_bit_refuses_fails_every_instance() {
    let run = pipeline(&["rate=1"], &[], &[], &[("TP_TKEYS_MAP", "badbool")]);
    assert_refused_before_init(&run, "tkeys.0");
    assert_line(&run, "[error] [config map] invalid default value for boolean 'verbose=maybe'");
    assert_line(&run, "[error] [input] error loading config map for 'tkeys' plugin");
    assert!(
        run.stderr.lines().any(|l| l.starts_with(&format!("[error] tkeys ({}): plugin defect", p("in_tkeys")))
            && l.contains("boolean key 'verbose' is \"maybe\"")),
        "{}",
        run.all()
    );
    // -h reads the same map
    let run = host(&["-e", &p("in_tkeys"), "-i", "tkeys", "-h"], &[("TP_TKEYS_MAP", "badbool")]);
    assert_eq!(run.code, Some(1), "{}", run.all());
    assert_line(&run, "[error] [config map] invalid default value for boolean 'verbose=maybe'");

    let run = pipeline(&[], &[], &[], &[("TP_TKEYS_MAP", "prefixdefault")]);
    assert_refused_before_init(&run, "tkeys.0");
    assert_line(&run, "[error] [config map] invalid default value for prefixed string 'label.'");

    // ${VAR} in a default is translated first: unset gives '' (refused), "yes" passes
    let run = pipeline(&[], &[], &[], &[("TP_TKEYS_MAP", "envbool")]);
    assert_refused_before_init(&run, "tkeys.0");
    assert_line(&run, "[error] [config map] invalid default value for boolean 'verbose='");
    let run = pipeline(&[], &[], &[], &[("TP_TKEYS_MAP", "envbool"), ("TP_TKEYS_VERBOSE", "yes")]);
    assert_records_arrive(&run);
    let h = run_bin(
        &host_bin(),
        &["-e", &p("in_tkeys"), "-i", "tkeys", "-h"],
        &[("TP_TKEYS_MAP", "envbool"), ("TP_TKEYS_VERBOSE", "yes")],
    );
    assert!(h.stdout.contains("> default: yes, type: boolean\n"), "the help shows the translated default: {}", h.all());

    // Fluent Bit does not check a size default (flb_utils_size_to_bytes' -1 is kept): neither
    // does flb-host
    let run = pipeline(&[], &[], &[], &[("TP_TKEYS_MAP", "badsize")]);
    assert_records_arrive(&run);
}

#[test]
fn a_malformed_map_is_a_plugin_defect_not_a_crash() {
    for (map, what) in [
        ("unterminated", "runs into unreadable memory at entry"),
        ("huge", "has no terminating entry (name NULL) within its first 4096 entries"),
        ("emptyname", "has entry 3 with an empty name before its terminating entry"),
        ("badtype", "has entry 5 ('ratio') of type 99, which is no Fluent Bit config map type"),
        ("badname", "has entry 1 with an unreadable name pointer 0x10"),
    ] {
        let envs = [("TP_TKEYS_MAP", map)];
        let run = pipeline(&["rate=1"], &[], &[], &envs);
        assert_refused_before_init(&run, "tkeys.0");
        assert!(
            run.stderr.lines().any(|l| l.starts_with("[error] [config map] tkeys (")
                && l.contains("plugin defect")
                && l.contains(what)),
            "{map}: {}",
            run.all()
        );
        assert_line(&run, "[error] [input] error loading config map for 'tkeys' plugin");
        let h = run_bin(&host_bin(), &["-e", &p("in_tkeys"), "-i", "tkeys", "-h"], &envs);
        assert_eq!(h.code, Some(1), "{map}: {}", h.all());
        assert!(h.stdout.is_empty(), "{map}: {}", h.all());
    }
    // under ASan/UBSan too: the map is read without touching unreadable memory
    let asan = asan_env();
    for map in ["unterminated", "badname", ""] {
        let (i, o) = (p("in_tkeys"), p("out_tkeys"));
        let mut envs: Vec<(&str, &str)> = asan.iter().map(|(k, v)| (*k, v.as_str())).collect();
        envs.push(("TP_TKEYS_MAP", map));
        let run = run_with_env(
            &host_asan_bin(),
            &[
                "-e",
                &i,
                "-e",
                &o,
                "-i",
                "tkeys",
                "-p",
                "label.x=1",
                "-o",
                "tkeysout",
                "--interval",
                "0.1",
                "--flush",
                "0.2",
                "--duration",
                "0.6",
            ],
            &envs,
            OURS,
            Duration::from_secs(60),
        );
        if let Some(report) = sanitizer_report(&run.stderr) {
            panic!("{map}: sanitizer report:\n{report}\n\n{}", run.all());
        }
        assert_eq!(run.code, Some(if map.is_empty() { 0 } else { 1 }), "{map}: {}", run.all());
    }
}

#[test]
fn an_empty_map_allows_no_key() {
    let envs = [("TP_TKEYS_MAP", "empty")];
    let run = pipeline(&["rate=1"], &[], &[], &envs);
    assert_refused_before_init(&run, "tkeys.0");
    // helper_map_options on an empty list: the sentence with nothing after it
    assert_line(
        &run,
        "[error] [config] tkeys: unknown configuration property 'rate'. The following properties are allowed: ",
    );
    let run = pipeline(&[], &[], &[], &envs);
    assert_records_arrive(&run);
}

#[test]
fn older_profiles_leave_config_map_alone() {
    // the plugin's rule keeps it from writing past a 32-byte def (the guard page would end the
    // host with 88), even with FLUENT_BIT_VERSION=5.1.1 set: those hosts export no
    // flb_config_map_translate_dynamic; and, as those Fluent Bit versions, nothing is checked
    for abi in ["1.9", "2.2", "4.1"] {
        let run = pipeline(
            &["rte=3", "legacy=on", "rate=1", "rate=2"],
            &["formt=json"],
            &["--abi", abi],
            &[("FLUENT_BIT_VERSION", "5.1.1")],
        );
        assert_records_arrive(&run);
        assert_eq!(register_seen(&run), "version=5.1.1 translate_dynamic=0 config_map=0", "abi {abi}: {}", run.all());
        assert!(!run.stderr.contains("[config]"), "abi {abi}: {}", run.all());
    }
    // and without the variable, flb-host does not set it under those profiles
    let run = pipeline(&["legacy=on"], &[], &["--abi", "1.9"], &[]);
    assert_records_arrive(&run);
    assert_eq!(register_seen(&run), "version=(unset) translate_dynamic=0 config_map=0", "{}", run.all());
}

#[test]
fn no_config_map_emulates_a_5_1_host_without_it() {
    let run = pipeline(&["rte=3"], &["formt=json"], &["--no-config-map"], &[]);
    assert_records_arrive(&run);
    assert_eq!(register_seen(&run), "version=(unset) translate_dynamic=0 config_map=0", "{}", run.all());
    assert!(!run.stderr.contains("[config]"), "{}", run.all());
    // with the variable set by the environment, the missing function still keeps the plugin out
    let run = pipeline(&["rte=3"], &[], &["--no-config-map"], &[("FLUENT_BIT_VERSION", "5.1.1")]);
    assert_records_arrive(&run);
    assert_eq!(register_seen(&run), "version=5.1.1 translate_dynamic=0 config_map=0", "{}", run.all());
}

#[test]
fn another_fluent_bit_version_is_kept_and_the_plugin_writes_no_map() {
    let run = pipeline(&["rte=3"], &["formt=json"], &["--abi", "5.1"], &[("FLUENT_BIT_VERSION", "5.2.0")]);
    assert_records_arrive(&run);
    assert_eq!(register_seen(&run), "version=5.2.0 translate_dynamic=1 config_map=0", "{}", run.all());
    assert!(!run.stderr.contains("[config]"), "{}", run.all());
}

/// in_tkeys gives each registration a map of its own and unmaps it in that registration's
/// Unregister: across hot reloads every init must read the map of the registration it runs
/// under (an old pointer is unreadable by then), and the instance keeps working.
#[test]
fn hot_reload_reads_each_registrations_map() {
    let run = pipeline(
        &["rate=2", "label.x=1", "add=1", "add=2"],
        &["format=json"],
        &["--reload-after", "0.4", "--reload-after", "0.9", "--duration", "1.5"],
        &[],
    );
    assert_records_arrive(&run);
    assert!(run.stderr.contains("reloads=2"), "{}", run.all());
    assert!(!run.stderr.contains("[error]"), "{}", run.all());
    let ev = tp_events(&run.stderr);
    for k in 0..3 {
        assert!(
            ev.iter()
                .any(|l| l
                    .starts_with(&format!("TP tkeys config def#{k} version=5.1.1 translate_dynamic=1 config_map=1"))),
            "registration {k}: {}",
            run.all()
        );
    }
    assert_eq!(count_events(&run, "TP tkeys unregister def#"), 3, "{}", run.all());
    assert_eq!(count_events(&run, "TP tkeys init rate=2"), 3, "{}", run.all());
    // records flow after the last init
    let last_init = ev.iter().rposition(|l| l.starts_with("TP tkeys init")).unwrap_or(0);
    assert!(ev[last_init..].iter().any(|l| l.starts_with("TP tkeys collect")), "{}", run.all());
    assert!(ev[last_init..].iter().any(|l| l.starts_with("TP tkeysout flush records=")), "{}", run.all());
}

#[test]
fn check_lists_the_declared_keys() {
    let i = p("in_tkeys");
    let run = host(&["check", &i, "-p", "rate=1", "-p", "label.a=b", "--bad", "rte=1"], &[]);
    assert_eq!(run.code, Some(0), "{}", run.all());
    assert!(
        run.stdout.lines().any(|l| {
            l
            == "PASS config-map: 13 key(s), every default parses: message, rate, verbose, legacy, buffer_size, ratio, \
                interval, label., add, fields, pair, old_rate, long_one"
        }),
        "{}",
        run.all()
    );
    assert!(
        run.stdout.contains("PASS init-bad-config: rte=1 refused by the plugin's config_map before FLBPluginInit"),
        "{}",
        run.all()
    );
    assert!(run.stdout.contains("config_map offered)"), "{}", run.all());

    let run = host(&["check", &i], &[("TP_TKEYS_MAP", "badbool")]);
    assert_eq!(run.code, Some(1), "{}", run.all());
    assert!(
        run.stdout.contains("FAIL config-map: the default of the boolean key 'verbose' is \"maybe\""),
        "{}",
        run.all()
    );
    let run = host(&["check", &i], &[("TP_TKEYS_MAP", "emptyname")]);
    assert_eq!(run.code, Some(1), "{}", run.all());
    assert!(run.stdout.contains("FAIL config-map: has entry 3 with an empty name"), "{}", run.all());

    // properties the map refuses fail init, with the reason
    let run = host(&["check", &i, "-p", "rte=1"], &[]);
    assert_eq!(run.code, Some(1), "{}", run.all());
    assert!(
        run.stdout.contains("FAIL init: the given properties do not pass the plugin's config_map"),
        "{}",
        run.all()
    );

    for (args, envs, want) in [
        (&["--abi", "4.1"][..], &[][..], "SKIP config-map: abi 4.1 has no config_map"),
        (&["--no-config-map"][..], &[][..], "SKIP config-map: --no-config-map"),
        (&[][..], &[("FLUENT_BIT_VERSION", "5.2.0")][..], "SKIP config-map: the plugin declares none"),
    ] {
        let mut a = vec!["check", &i, "-p", "rte=1", "-p", "legacy=on"];
        a.extend_from_slice(args);
        let run = host(&a, envs);
        assert_eq!(run.code, Some(0), "{args:?}: {}", run.all());
        assert!(run.stdout.contains(want), "{args:?}: {}", run.all());
    }
}

#[test]
fn bench_checks_the_map_too() {
    let i = p("in_tkeys");
    let run = host(&["bench", "-e", &i, "-i", "tkeys", "-p", "rte=1", "--count", "5"], &[]);
    assert_eq!(run.code, Some(1), "{}", run.all());
    assert_line(&run, &format!("[error] [config] tkeys: unknown configuration property 'rte'. {ALLOWED_IN}"));
    let run = host(&["bench", "-e", &i, "-i", "tkeys", "-p", "rte=1", "--count", "5", "--no-config-map"], &[]);
    assert_eq!(run.code, Some(0), "{}", run.all());
}

/// Without libflbhost_configmap.so beside the binary, 5.1 is a clear load error naming
/// --no-config-map, which (like the older profiles) needs no shim.
#[test]
fn missing_shim_is_a_clear_error() {
    let (dir, bin) = host_copy_with_shims("nocmshim", &["libflbhost_exports.so"]);
    let (i, o) = (p("in_tkeys"), p("out_tkeys"));
    let base = ["-e", &i, "-e", &o, "-i", "tkeys", "-p", "legacy=on", "-o", "tkeysout", "--duration", "0.3"];
    let run1 = run_bin(&bin, &base, &[]);
    let mut v = base.to_vec();
    v.push("--no-config-map");
    let run2 = run_bin(&bin, &v, &[]);
    v.pop();
    v.extend_from_slice(&["--abi", "1.9"]);
    let run3 = run_bin(&bin, &v, &[]);
    let _ = std::fs::remove_dir_all(&dir);
    assert_missing_shim(&run1, &dir, "libflbhost_configmap.so", "--no-config-map");
    assert_eq!(run2.code, Some(0), "{}", run2.all());
    assert_eq!(run3.code, Some(0), "{}", run3.all());
}

/// Optional: the same plugins in a real Fluent Bit 5.1.1 (`FLUENT_BIT_BIN`) print the same
/// `[config]` / `[config map]` lines and the same OPTIONS section of the help.
#[test]
fn real_fluent_bit_when_available() {
    let Some(fb) = fluent_bit_bin() else {
        return;
    };
    let fb = Path::new(&fb);
    let (i, o) = (p("in_tkeys"), p("out_tkeys"));
    let v511 = ("FLUENT_BIT_VERSION", "5.1.1");
    // "[2026/01/01 00:00:00.000] [error] [config] ..." -> "[error] [config] ..." (Run's stderr
    // has the timestamps taken off already; strip_log_time leaves such a line as it is)
    let config_lines = |stderr: &str| -> Vec<String> {
        stderr
            .lines()
            .map(|l| strip_log_time(l).to_string())
            .filter(|l| l.contains("] [config") || l.contains("error loading config map"))
            .collect()
    };
    for (props, envs) in [
        (&["rte=3"][..], &[][..]),
        (&["RATE=1", "rate=2"][..], &[][..]),
        (&["label.=1"][..], &[][..]),
        (&["old_rate=1", "add=1", "add=2", "rte=1"][..], &[][..]),
        (&[][..], &[("TP_TKEYS_MAP", "badbool")][..]),
        (&[][..], &[("TP_TKEYS_MAP", "prefixdefault")][..]),
        (&["rate=1"][..], &[("TP_TKEYS_MAP", "empty")][..]),
    ] {
        let mut a = vec!["-e", &i, "-i", "tkeys"];
        for kv in props {
            a.extend_from_slice(&["-p", kv]);
        }
        a.extend_from_slice(&["-o", "null"]);
        let mut e = envs.to_vec();
        e.push(v511);
        let real = run_with_env(fb, &a, &e, OURS, Duration::from_secs(20));
        let ours = pipeline(props, &[], &[], envs);
        assert_ne!(real.code, Some(0), "{props:?} {envs:?}: {}", real.all());
        assert_eq!(ours.code, Some(1), "{props:?} {envs:?}: {}", ours.all());
        if real.code.is_none() && !envs.is_empty() {
            // A default Fluent Bit 5.1.1 refuses: flb_input_plugin_property_check destroys the
            // instance (src/flb_input.c:1477) and the engine destroys it again at exit, so glibc
            // may abort on the double free before the log thread prints the error line. The
            // refusal itself is what we compare; ours names it.
            assert!(ours.stderr.contains("error loading config map"), "{envs:?}: {}", ours.all());
            continue;
        }
        let want = config_lines(&real.stderr);
        assert!(!want.is_empty(), "{}", real.all());
        let got: Vec<String> = ours
            .stderr
            .lines()
            .filter(|l| l.contains("] [config") || l.contains("error loading config map"))
            .map(str::to_string)
            .collect();
        assert_eq!(got, want, "{props:?} {envs:?}\nreal: {}\nours: {}", real.all(), ours.all());
    }
    for sel in [["-i", "tkeys"], ["-o", "tkeysout"]] {
        let a = ["-e", &i, "-e", &o, sel[0], sel[1], "-h"];
        let real = run_with_env(fb, &a, &[v511], OURS, Duration::from_secs(20));
        let ours = host(&a, &[]);
        let strip = |t: &str| t.replace("\x1b[1m", "").replace("\x1b[0m", "");
        let options = |t: &str| t[t.find("\nOPTIONS\n").map_or(0, |x| x + 1)..].to_string();
        assert_eq!(options(&ours.stdout), options(&strip(&real.stdout)), "{sel:?}\nreal: {}", real.all());
        assert_eq!(
            ours.stdout.lines().take(5).collect::<Vec<_>>(),
            strip(&real.stdout).lines().take(5).collect::<Vec<_>>()
        );
    }
}
