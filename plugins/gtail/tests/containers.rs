//! Container logs (`multiline.parser cri`, `docker`, `docker, cri`) against the native tail: each
//! sample of `tests/containers/` goes through gtail (flb-host, into gstdout's msgpack print, which
//! is native stdout's text) and its records must be the golden's, captured from Fluent Bit 5.1.1's
//! native tail (see `tests/containers/README.md`), record by record: body text and time exactly.
//! With `FLUENT_BIT_BIN` set, the same files also go through native `tail` and gtail side by side in
//! one real Fluent Bit.
//!
//! Records whose time native took from the clock (lines no parser takes, a Docker line without
//! `time`) cannot match to the nanosecond: they are the ones whose expected time is after 2025
//! (every time in the samples is from 2021 or 2024), and the other side's time must then be a time
//! within its run.

mod common;

use common::{fb, Host, Out, TempDir, PATIENCE};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Where capture.sh put the samples when it made the goldens (their `path_key` values).
const GOLDEN_DIR: &str = "/tmp/gtail-containers-golden/";

/// 2025-01-01T00:00:00Z: a time after this in a golden is native's clock, not the sample's.
const CLOCK_SINCE: u64 = 1_735_689_600;

fn samples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/containers")
}

fn read(name: &str) -> String {
    let p = samples().join(name);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("read {}: {e}", p.display()))
}

/// One record of native stdout's msgpack print, `[N] TAG: [[SEC.NSEC, {meta}], {body}]`, with
/// `[N]` dropped (it restarts with every chunk).
#[derive(Debug, Clone, PartialEq)]
struct Rec {
    tag: String,
    /// `SEC.NSEC` as printed.
    time: String,
    /// Everything after the time: `, {meta}], {body}]`.
    rest: String,
}

impl Rec {
    fn secs(&self) -> u64 {
        self.time.split('.').next().and_then(|s| s.parse().ok()).unwrap_or(0)
    }

    fn is_clock(&self) -> bool {
        self.secs() >= CLOCK_SINCE
    }
}

/// The start of a record at `at` (a line start): `[digits] TAG: [[`; returns (tag, where the time
/// starts).
fn record_head(text: &str, at: usize) -> Option<(String, usize)> {
    let r = text[at..].strip_prefix('[')?;
    let digits = r.bytes().take_while(u8::is_ascii_digit).count();
    let r = r[digits..].strip_prefix("] ").filter(|_| digits > 0)?;
    let tag_len = r.find(": [[")?;
    let tag = &r[..tag_len];
    if tag.is_empty() || tag.contains(char::is_whitespace) {
        return None;
    }
    let time_at = text.len() - r.len() + tag_len + 4;
    Some((tag.to_string(), time_at))
}

/// Every record of a stdout capture. A string value is printed raw, so a record can span lines (a
/// Docker `log` ending in `\n`): a record runs until the next line that starts a record.
fn parse(text: &str) -> Vec<Rec> {
    let mut starts: Vec<(usize, String, usize)> = Vec::new();
    let mut at = 0;
    while at < text.len() {
        if let Some((tag, time_at)) = record_head(text, at) {
            starts.push((at, tag, time_at));
        }
        at = match text[at..].find('\n') {
            Some(nl) => at + nl + 1,
            None => text.len(),
        };
    }
    let mut recs = Vec::with_capacity(starts.len());
    for (i, (_, tag, time_at)) in starts.iter().enumerate() {
        let end = starts.get(i + 1).map_or(text.len(), |s| s.0);
        let whole = text[*time_at..end].strip_suffix('\n').unwrap_or(&text[*time_at..end]);
        let time_len = whole.find(", ").unwrap_or(whole.len());
        recs.push(Rec { tag: tag.clone(), time: whole[..time_len].to_string(), rest: whole[time_len..].to_string() });
    }
    recs
}

/// Wall-clock seconds now.
fn now_secs() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// Compares `got` with `want` record by record (tags ignored: each side names its own); a `want`
/// record with a clock time matches any `got` time within `run` (seconds, inclusive). Returns a
/// readable account of every difference, empty when none.
fn diff(want: &[Rec], got: &[Rec], run: (u64, u64)) -> String {
    let mut out = String::new();
    if want.len() != got.len() {
        out.push_str(&format!("{} records expected, {} arrived\n", want.len(), got.len()));
    }
    for i in 0..want.len().max(got.len()) {
        let (w, g) = (want.get(i), got.get(i));
        let same = match (w, g) {
            (Some(w), Some(g)) if w.is_clock() => {
                w.rest == g.rest && (run.0..=run.1).contains(&g.secs()) && g.time.len() == w.time.len()
            }
            (Some(w), Some(g)) => w.rest == g.rest && w.time == g.time,
            _ => false,
        };
        if !same {
            let show = |r: Option<&Rec>| r.map_or("(none)".to_string(), |r| format!("[[{}{}", r.time, r.rest));
            let clock = if w.is_some_and(Rec::is_clock) { " (a clock time: any time within the run)" } else { "" };
            out.push_str(&format!("record {i}{clock}:\n  want {}\n  got  {}\n", show(w), show(g)));
        }
    }
    out
}

/// The golden `name` (`name.golden`, native's output; or a file named with its extension, such as
/// a hand-written `.gtail` where gtail differs from native on purpose), its path_key directory
/// replaced by `dir`.
fn golden(name: &str, dir: &Path) -> Vec<Rec> {
    let file = if name.contains('.') { name.to_string() } else { format!("{name}.golden") };
    let text = read(&file).replace(GOLDEN_DIR, &format!("{}/", dir.display()));
    let recs = parse(&text);
    assert!(!recs.is_empty(), "{file} holds no record");
    recs
}

/// Copies `sample` into a fresh directory and returns it.
fn sample_dir(test: &str, sample: &str) -> TempDir {
    let d = TempDir::new(&format!("containers-{test}"));
    std::fs::copy(samples().join(sample), d.path().join(sample)).unwrap_or_else(|e| panic!("copy {sample}: {e}"));
    d
}

/// Runs `sample` through gtail with `keys` (and a 500 ms multiline flush, so the joins whose end
/// never comes arrive soon) and compares its records with `golden`.
fn check_golden(test: &str, sample: &str, keys: &[&str], golden_name: &str) {
    let d = sample_dir(test, sample);
    let want = golden(golden_name, d.path());
    let path = format!("path={}", d.file(sample));
    let mut props = vec![path.as_str(), "read_from_head=on", "multiline.flush_ms=500"];
    props.extend_from_slice(keys);
    let start = now_secs();
    let host = Host::start(&props, &[], Out::Raw);
    // Until as many records as the golden's arrived, or its last one (records come out in order,
    // so the others came before it); a record too many still shows: the host prints everything
    // before it exits.
    let last = want.last().map_or(String::new(), |r| r.rest.clone());
    let arrived = common::wait_for(PATIENCE, || {
        let raw = String::from_utf8_lossy(&host.raw_now()).into_owned();
        raw.contains(&last) || parse(&raw).len() >= want.len() || host.exited()
    });
    let done = host.stop();
    let end = now_secs();
    let got = parse(&String::from_utf8_lossy(&done.raw));
    let d = diff(&want, &got, (start, end));
    assert!(
        d.is_empty(),
        "{sample} with {keys:?} against {golden_name}.golden (all arrived: {arrived}):\n{d}\n--- our stdout ---\n{}\n{}",
        String::from_utf8_lossy(&done.raw),
        done.all()
    );
    assert_eq!(done.code, Some(0), "{}", done.all());
}

#[test]
fn cri_matches_native() {
    check_golden("cri", "cri.log", &["multiline.parser=cri"], "cri");
}

#[test]
fn cri_with_path_and_offset_keys_matches_native() {
    check_golden("cri-keys", "cri.log", &["multiline.parser=cri", "path_key=file", "offset_key=off"], "cri-keys");
}

#[test]
fn docker_matches_native() {
    check_golden("docker", "docker.log", &["multiline.parser=docker"], "docker");
}

#[test]
fn docker_and_cri_in_one_file_match_native() {
    check_golden("mixed", "mixed.log", &["multiline.parser=docker, cri"], "mixed");
}

/// CRI lines the pattern just takes or just refuses (separators, case), empty and blank parts, and
/// joins cut across streams.
#[test]
fn cri_edges_match_native() {
    check_golden("cri-edges", "cri-edges.log", &["multiline.parser=cri"], "cri-edges");
}

/// JSON as Fluent Bit's own reader takes it: what it accepts around and after the object, escapes
/// it replaces, numbers past 64 bits, duplicate keys.
#[test]
fn docker_json_edges_match_native() {
    check_golden("docker-json", "docker-json.log", &["multiline.parser=docker"], "docker-json");
}

/// Times as Fluent Bit's non-strict `strptime` reads them: zones, fraction lengths, and the
/// forms it half reads (a space for `T`, a comma for the dot) without an error.
#[test]
fn cri_time_forms_match_native() {
    check_golden("cri-times", "cri-times.log", &["multiline.parser=cri"], "cri-times");
}

#[test]
fn docker_time_forms_match_native() {
    check_golden("docker-times", "docker-times.log", &["multiline.parser=docker"], "docker-times");
}

/// A last line without its newline is not a line yet: native emits nothing for it (not at the
/// flush timeout, not at stop), and the join it would have ended comes out alone at the timeout.
#[test]
fn cri_last_line_without_newline_matches_native() {
    check_golden("cri-unterminated", "cri-unterminated.log", &["multiline.parser=cri"], "cri-unterminated");
}

#[test]
fn docker_last_line_without_newline_matches_native() {
    check_golden("docker-unterminated", "docker-unterminated.log", &["multiline.parser=docker"], "docker-unterminated");
}

/// Native loses a record whose `time` does not parse (its encoder refuses the pre-1970 time the
/// parser gives) and glues its text to the next record of its stream (`*-bad-time.golden`). gtail
/// keeps every record as it is, with the time it was read (`*-bad-time.gtail`, written by hand:
/// README, "where gtail differs").
#[test]
fn cri_unparsable_times_keep_their_records_with_the_time_read() {
    check_golden("cri-bad-time", "cri-bad-time.log", &["multiline.parser=cri"], "cri-bad-time.gtail");
}

#[test]
fn docker_unparsable_times_keep_their_records_with_the_time_read() {
    check_golden("docker-bad-time", "docker-bad-time.log", &["multiline.parser=docker"], "docker-bad-time.gtail");
}

// ---------------------------------------------------------------------------------------------
// In a real Fluent Bit

/// One sample through native `tail` (tag `n.NAME`) and gtail (tag `g.NAME`).
struct Pair {
    name: &'static str,
    sample: &'static str,
    keys: &'static [&'static str],
    /// Where gtail differs from native on purpose: what gtail must give instead (a `.gtail` file).
    ours: Option<&'static str>,
}

/// Runs every pair in one Fluent Bit (native stdout output) until each input has its golden's
/// count, then compares, per pair, gtail's records with native's (and native's with the golden, so
/// a Fluent Bit that no longer behaves as the goldens say is named as such).
fn side_by_side(fb: &str, test: &str, pairs: &[Pair]) {
    let d = TempDir::new(&format!("containers-fb-{test}"));
    for p in pairs {
        std::fs::copy(samples().join(p.sample), d.path().join(p.sample))
            .unwrap_or_else(|e| panic!("copy {}: {e}", p.sample));
    }
    let so = common::gtail_so();
    let mut args: Vec<String> = vec!["-e".into(), so];
    for p in pairs {
        for (plugin, prefix) in [("tail", "n"), ("gtail", "g")] {
            args.extend(["-i".into(), plugin.into(), "-t".into(), format!("{prefix}.{}", p.name)]);
            for kv in [format!("path={}", d.file(p.sample)), "read_from_head=on".into()]
                .into_iter()
                .chain(p.keys.iter().map(|k| k.to_string()))
            {
                args.extend(["-p".into(), kv]);
            }
        }
    }
    args.extend(["-o", "stdout", "-m", "*", "-f", "1"].map(String::from));
    let out = d.path().join("stdout");
    let start = now_secs();
    let mut child = common::spawn_fluent_bit(fb, &args, &out);
    let wants: Vec<Vec<Rec>> = pairs.iter().map(|p| golden(p.name, d.path())).collect();
    let ours_wants: Vec<Vec<Rec>> =
        pairs.iter().zip(&wants).map(|(p, w)| p.ours.map_or(w.clone(), |o| golden(o, d.path()))).collect();
    let of = |recs: &[Rec], tag: &str| recs.iter().filter(|r| r.tag == tag).cloned().collect::<Vec<Rec>>();
    let deadline = Instant::now() + PATIENCE;
    loop {
        let recs = parse(&std::fs::read_to_string(&out).unwrap_or_default());
        let all = pairs.iter().zip(wants.iter().zip(&ours_wants)).all(|(p, (w, o))| {
            of(&recs, &format!("n.{}", p.name)).len() >= w.len() && of(&recs, &format!("g.{}", p.name)).len() >= o.len()
        });
        let exited = child.try_wait().ok().flatten().is_some();
        if all || exited || Instant::now() >= deadline {
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    let _ = Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
    let o = child.wait_with_output().expect("wait fluent-bit");
    let end = now_secs();
    let err = String::from_utf8_lossy(&o.stderr);
    let recs = parse(&std::fs::read_to_string(&out).unwrap_or_default());
    let mut report = String::new();
    for ((p, want), ours_want) in pairs.iter().zip(&wants).zip(&ours_wants) {
        let (native, ours) = (of(&recs, &format!("n.{}", p.name)), of(&recs, &format!("g.{}", p.name)));
        let vs_native = match p.ours {
            None => diff(&native, &ours, (start, end)),
            Some(_) => diff(ours_want, &ours, (start, end)),
        };
        if !vs_native.is_empty() {
            let against = p.ours.unwrap_or("native tail");
            report.push_str(&format!("--- {}: gtail against {against} ---\n{vs_native}", p.name));
        }
        let vs_golden = diff(want, &native, (start, end));
        if !vs_golden.is_empty() {
            report.push_str(&format!("--- {}: native tail against {}.golden ---\n{vs_golden}", p.name, p.name));
        }
    }
    assert!(report.is_empty(), "{report}\n--- fluent-bit stderr ---\n{err}");
}

#[test]
fn native_tail_and_gtail_give_the_same_records_in_fluent_bit() {
    let Some(fb) = fb() else { return };
    side_by_side(
        &fb,
        "main",
        &[
            Pair { name: "cri", sample: "cri.log", keys: &["multiline.parser=cri"], ours: None },
            Pair { name: "docker", sample: "docker.log", keys: &["multiline.parser=docker"], ours: None },
            Pair { name: "mixed", sample: "mixed.log", keys: &["multiline.parser=docker, cri"], ours: None },
            Pair {
                name: "cri-unterminated",
                sample: "cri-unterminated.log",
                keys: &["multiline.parser=cri"],
                ours: None,
            },
            Pair {
                name: "docker-unterminated",
                sample: "docker-unterminated.log",
                keys: &["multiline.parser=docker"],
                ours: None,
            },
        ],
    );
}

#[test]
fn native_tail_and_gtail_read_times_json_and_cri_edges_alike_in_fluent_bit() {
    let Some(fb) = fb() else { return };
    side_by_side(
        &fb,
        "times-json",
        &[
            Pair { name: "cri-times", sample: "cri-times.log", keys: &["multiline.parser=cri"], ours: None },
            Pair { name: "docker-times", sample: "docker-times.log", keys: &["multiline.parser=docker"], ours: None },
            Pair { name: "docker-json", sample: "docker-json.log", keys: &["multiline.parser=docker"], ours: None },
            Pair { name: "cri-edges", sample: "cri-edges.log", keys: &["multiline.parser=cri"], ours: None },
        ],
    );
}

#[test]
fn native_tail_and_gtail_give_the_same_path_and_offset_keys_in_fluent_bit() {
    let Some(fb) = fb() else { return };
    side_by_side(
        &fb,
        "keys",
        &[Pair {
            name: "cri-keys",
            sample: "cri.log",
            keys: &["multiline.parser=cri", "path_key=file", "offset_key=off"],
            ours: None,
        }],
    );
}

/// Native drops these records (its goldens); gtail keeps them with the time they were read.
#[test]
fn unparsable_times_lose_records_in_native_tail_and_none_in_gtail_in_fluent_bit() {
    let Some(fb) = fb() else { return };
    side_by_side(
        &fb,
        "bad-time",
        &[
            Pair {
                name: "cri-bad-time",
                sample: "cri-bad-time.log",
                keys: &["multiline.parser=cri"],
                ours: Some("cri-bad-time.gtail"),
            },
            Pair {
                name: "docker-bad-time",
                sample: "docker-bad-time.log",
                keys: &["multiline.parser=docker"],
                ours: Some("docker-bad-time.gtail"),
            },
        ],
    );
}

// ---------------------------------------------------------------------------------------------
// The harness itself

#[test]
fn parse_splits_records_that_span_lines_and_keeps_their_bytes() {
    let text =
        "[0] a.b: [[1.000000002, {}], {\"log\"=>\"x\n\", \"k\"=>1}]\n[1] a.b: [[3.000000004, {}], {\"log\"=>\"[2] \
                y\"}]\n[0] c: [[5.000000006, {}], {\"log\"=>\"\"}]\n";
    let recs = parse(text);
    let want = [
        Rec { tag: "a.b".into(), time: "1.000000002".into(), rest: ", {}], {\"log\"=>\"x\n\", \"k\"=>1}]".into() },
        Rec { tag: "a.b".into(), time: "3.000000004".into(), rest: ", {}], {\"log\"=>\"[2] y\"}]".into() },
        Rec { tag: "c".into(), time: "5.000000006".into(), rest: ", {}], {\"log\"=>\"\"}]".into() },
    ];
    assert_eq!(recs, want);
}

#[test]
fn diff_takes_clock_times_within_the_run_only_and_sees_every_other_difference() {
    let r = |time: &str, rest: &str| Rec { tag: "t".into(), time: time.into(), rest: rest.into() };
    let want = [r("1705312800.000000001", ", {}], {\"log\"=>\"a\"}]"), r("1796038641.435003017", ", {}], {}]")];
    let run = (1_800_000_000, 1_800_000_010);
    let ok = [r("1705312800.000000001", ", {}], {\"log\"=>\"a\"}]"), r("1800000005.123456789", ", {}], {}]")];
    assert_eq!(diff(&want, &ok, run), "");
    let late = [ok[0].clone(), r("1800000011.000000000", ", {}], {}]")];
    assert!(diff(&want, &late, run).contains("record 1 (a clock time"));
    let off_by_one_ns = [r("1705312800.000000002", ", {}], {\"log\"=>\"a\"}]"), ok[1].clone()];
    assert!(diff(&want, &off_by_one_ns, run).contains("record 0:"));
    let body = [r("1705312800.000000001", ", {}], {\"log\"=>\"b\"}]"), ok[1].clone()];
    assert!(diff(&want, &body, run).contains("record 0:"));
    assert!(diff(&want, &ok[..1], run).contains("2 records expected, 1 arrived"));
}
