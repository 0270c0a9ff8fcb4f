//! gtail's `multiline.parser` and `format json` inside flb-host, into gstdout (`format msgpack`,
//! native stdout's text): what happens to a join at a stop, a restart, the end of the files and a
//! rotation, and to lines that are not JSON objects. The records' exact shape against native's is
//! `containers.rs`'s (golden files); here each record is found by its `log` value.

mod common;

use common::*;
use std::time::Duration;

const T: &str = "2024-03-05T06:07:08.5Z";

/// The records of a msgpack-format run (`[N] t: [[time, {}], {body}]`), a record's raw newlines
/// kept.
fn records(raw: &[u8]) -> Vec<String> {
    let text = String::from_utf8_lossy(raw);
    let mut out: Vec<String> = Vec::new();
    for l in text.lines() {
        match out.last_mut() {
            Some(last) if !(l.starts_with('[') && l.contains("] t: [[")) => {
                last.push('\n');
                last.push_str(l);
            }
            _ => out.push(l.to_string()),
        }
    }
    out
}

/// The `log` values of a msgpack-format run, in order (values here have no `"`).
fn logs(raw: &[u8]) -> Vec<String> {
    records(raw)
        .iter()
        .map(|l| {
            let at = l.find("\"log\"=>\"").unwrap_or_else(|| panic!("a record without log: {l}"));
            let v = &l[at + 8..];
            v[..v.find('"').unwrap_or(v.len())].to_string()
        })
        .collect()
}

fn cri(stream: &str, p: &str, log: &str) -> String {
    format!("{T} {stream} {p} {log}\n")
}

fn append(path: &str, text: &str) {
    use std::io::Write;
    let mut f = std::fs::OpenOptions::new().append(true).create(true).open(path).expect("open");
    f.write_all(text.as_bytes()).expect("append");
}

/// A join still waiting for its F part when gtail stops is not saved as read: the next start with
/// the same db reads it again from its first part and completes it; nothing before it repeats.
#[test]
fn a_join_pending_at_a_stop_is_read_again_at_the_next_start_with_db() {
    let dir = TempDir::new("ml-restart");
    let log = dir.file("c.log");
    let db = format!("db={}", dir.file("t.db"));
    append(&log, &(cri("stdout", "F", "one") + &cri("stdout", "P", "two-a") + &cri("stderr", "F", "three")));
    let path = format!("path={log}");
    let props = [path.as_str(), "read_from_head=on", "multiline.parser=cri", "multiline.flush_ms=3600000", &db];
    let h = Host::start(&props, &[], Out::Raw);
    assert!(h.wait_raw_lines(2, PATIENCE), "{}", h.stderr_tail());
    let first = h.stop();
    first.assert_clean();
    assert_eq!(logs(&first.raw), ["one", "three"], "the P part waits for its F\n{}", first.all());

    append(&log, &cri("stdout", "F", "two-b"));
    let h = Host::start(&props, &[], Out::Raw);
    assert!(h.wait_raw_lines(1, PATIENCE), "{}", h.stderr_tail());
    std::thread::sleep(Duration::from_millis(500)); // anything repeated would come with it
    let second = h.stop();
    second.assert_clean();
    // The saved offset stayed at the join's first part, so the stderr line after it is read again
    // (README: a line of the other stream may repeat; none is lost); "one", before it, is not.
    assert_eq!(logs(&second.raw), ["three", "two-atwo-b"], "the join, whole\n{}", second.all());
}

/// `exit_on_eof`: joins still waiting when every file was read are records too, before the stop.
#[test]
fn exit_on_eof_emits_the_joins_still_waiting() {
    let dir = TempDir::new("ml-eof");
    let log = dir.file("d.log");
    append(&log, r#"{"log":"whole\n","stream":"stdout"}"#);
    append(&log, "\n");
    append(&log, r#"{"log":"half","stream":"stderr"}"#);
    append(&log, "\n");
    let path = format!("path={log}");
    let props =
        [path.as_str(), "read_from_head=on", "multiline.parser=docker", "multiline.flush_ms=3600000", "exit_on_eof=on"];
    let done = Host::start(&props, &[], Out::Raw).wait(PATIENCE);
    done.assert_clean();
    assert_eq!(logs(&done.raw), ["whole\n", "half"], "{}", done.all());
}

/// A file rotated away with a join waiting: when gtail lets it go (rotate_wait), the join is
/// emitted; the new file's lines follow.
#[test]
fn a_rotated_file_with_a_join_waiting_emits_it_when_it_closes() {
    let dir = TempDir::new("ml-rotate");
    let log = dir.file("r.log");
    append(&log, &cri("stdout", "P", "left")); // its F never comes
    let path = format!("path={log}");
    let props =
        [path.as_str(), "read_from_head=on", "multiline.parser=cri", "multiline.flush_ms=3600000", "rotate_wait=1"];
    let h = Host::start(&props, &[], Out::Raw);
    assert!(h.wait_open(&log, PATIENCE), "{}", h.stderr_tail());
    std::thread::sleep(Duration::from_millis(300));
    std::fs::rename(&log, dir.file("r.log.1")).expect("rotate");
    append(&log, &cri("stdout", "F", "new"));
    assert!(h.wait_raw_lines(2, PATIENCE), "{}", h.stderr_tail());
    let done = h.stop();
    done.assert_clean();
    let mut got = logs(&done.raw);
    got.sort();
    assert_eq!(got, ["left", "new"], "{}", done.all());
}

/// `format json`: objects become the record; every other line is kept whole under `key`, said
/// once per file, and counted at the stop. Nothing is dropped.
#[test]
fn format_json_keeps_what_is_not_an_object_under_key_and_counts_it() {
    let dir = TempDir::new("json");
    let log = dir.file("j.log");
    append(&log, "{\"msg\":\"a\",\"n\":1}\nnot json\n[1,2]\n{\"msg\":\"b\",\"nested\":{\"k\":true}}\n{\"cut\":\n\n");
    let path = format!("path={log}");
    let props = [path.as_str(), "read_from_head=on", "format=json", "key=message", "path_key=file"];
    let h = Host::start(&props, &[], Out::Raw);
    assert!(h.wait_raw_lines(6, PATIENCE), "{}", h.stderr_tail());
    let done = h.stop();
    done.assert_clean();
    let recs = records(&done.raw);
    let bodies: Vec<&str> = recs.iter().map(|l| &l[l.find("}], ").map_or(0, |i| i + 4)..]).collect();
    let f = format!("\"file\"=>\"{log}\"");
    assert_eq!(
        bodies,
        [
            format!("{{\"msg\"=>\"a\", \"n\"=>1, {f}}}]"),
            format!("{{\"message\"=>\"not json\", {f}}}]"),
            format!("{{\"message\"=>\"[1,2]\", {f}}}]"),
            format!("{{\"msg\"=>\"b\", \"nested\"=>{{\"k\"=>true}}, {f}}}]"),
            format!("{{\"message\"=>\"{{\"cut\":\", {f}}}]"),
            format!("{{\"message\"=>\"\", {f}}}]"),
        ],
        "{}",
        done.all()
    );
    assert_eq!(done.count("is not a JSON object"), 1, "said once per file\n{}", done.all());
    assert_eq!(done.count("format json: 4 line(s) were not a JSON object"), 1, "{}", done.all());
}

/// Keys that cannot work say so at init.
#[test]
fn bad_multiline_and_format_values_fail_init_clearly() {
    let dir = TempDir::new("ml-bad");
    let path = format!("path={}", dir.file("*.log"));
    for (props, want) in [
        (vec![path.as_str(), "multiline.parser=java"], "gtail has the built-in 'docker' and 'cri' parsers"),
        (vec![path.as_str(), "format=yaml"], "expected none or json"),
        (vec![path.as_str(), "format=json", "multiline.parser=cri"], "cannot be used together"),
        (vec![path.as_str(), "multiline.parser=cri", "multiline.flush_ms=5"], "multiline.flush_ms"),
    ] {
        let done = Host::start(&props, &[], Out::Raw).wait(PATIENCE);
        assert_ne!(done.code, Some(0), "{props:?}\n{}", done.all());
        assert_eq!(done.count(want), 1, "{props:?}\n{}", done.all());
    }
}
