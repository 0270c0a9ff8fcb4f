//! Tags through flb-host (which lays out its input instance as Fluent Bit 5.1.1 does): with direct
//! append every file's records arrive under the native tail's expanded tag and route by `Match`;
//! without it, under the instance tag.

use flb_host::{run_host, rust_plugin, s};
use std::collections::BTreeMap;

/// `input` are more input keys; `rest` the output's Match and host options.
fn run(dir: &std::path::Path, tag: &str, input: &[&str], rest: &[&str]) -> (BTreeMap<String, usize>, String) {
    let (i, o) = (s(&rust_plugin("in-gtail", "in_gtail")), s(&rust_plugin("out-sdktest", "out_sdktest")));
    let path = format!("path={}/*.log", dir.display());
    let mut args = vec!["-e", &i, "-e", &o, "-i", "gtail", "-p", &path, "-p", "read_from_head=on", "-t", tag];
    args.extend_from_slice(input);
    args.extend_from_slice(&["-o", "sdktest_out", "-p", "fields=log"]);
    args.extend_from_slice(&["--interval", "0.2", "--flush", "0.2", "--max-records", "30", "--duration", "20"]);
    args.extend_from_slice(rest);
    let r = run_host(&args);
    assert_eq!(r.code, Some(0), "{}", r.all());
    let mut tags = BTreeMap::new();
    for l in r.stdout.lines() {
        if let Some((t, _)) = l.split_once(" log=") {
            *tags.entry(t.to_string()).or_default() += 1;
        }
    }
    (tags, r.stderr)
}

#[test]
fn files_arrive_under_their_own_tags_or_the_instance_tag() {
    let d = std::env::temp_dir().join(format!("gtail-tags-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("dir");
    std::fs::write(d.join("a.log"), "a\n".repeat(10)).expect("a");
    std::fs::write(d.join("b.log"), "b\n".repeat(20)).expect("b");
    let dotted = d.display().to_string().replace('/', ".");

    let (tags, err) = run(&d, "app.*", &[], &["-m", "app.*"]);
    let want: BTreeMap<String, usize> = [(format!("app{dotted}.a.log"), 10), (format!("app{dotted}.b.log"), 20)].into();
    assert_eq!(tags, want, "{err}");

    let re = r"^.*/(?<name>[a-z]+)\.log$";
    let (tags, err) = run(&d, "file.<name>", &["-p", &format!("tag_regex={re}")], &["-m", "file.*"]);
    assert_eq!(tags, [("file.a".to_string(), 10), ("file.b".to_string(), 20)].into(), "{err}");

    let (tags, err) = run(&d, "app.*", &[], &["-m", "*", "--no-direct-append"]);
    assert_eq!(tags, [("app.*".to_string(), 30)].into(), "without direct append: the instance tag: {err}");
    assert!(err.contains("rewrite_tag"), "gtail says how to route by file: {err}");
    let _ = std::fs::remove_dir_all(&d);
}

/// regex-automata before 0.4.19 kept a lazily built global (8 bytes) that outlived the `.so`: with
/// `tag_regex` set, every load and unload of the plugin leaked it.
#[test]
fn tag_regex_leaves_nothing_allocated_after_unload() {
    let d = std::env::temp_dir().join(format!("gtail-tags-check-{}", std::process::id()));
    std::fs::create_dir_all(&d).expect("dir");
    std::fs::write(d.join("a.log"), "a\n").expect("a");
    let (so, path) = (s(&rust_plugin("in-gtail", "in_gtail")), format!("path={}/*.log", d.display()));
    let r =
        run_host(&["check", &so, "-p", &path, "-p", "read_from_head=on", "-p", r"tag_regex=^.*/(?<name>[a-z]+)\.log$"]);
    assert!(r.stdout.contains("PASS all-freed"), "{}", r.all());
    assert_eq!(r.code, Some(0), "{}", r.all());
    let _ = std::fs::remove_dir_all(&d);
}
