//! The container-log paths allocate nothing once warm: after a first read of a file's lines, a
//! second read of the same lines through `Multiline::line` (CRI `F` lines, `P` parts joined until
//! their `F`, Docker lines and their split parts, escapes included) or `format json`'s object reader
//! makes no heap allocation (counted by the SDK's global allocator, feature `alloc-counter`). The
//! batch itself is malloc'd memory the SDK keeps across `clear` (not counted here; flb-host's bench
//! counts it).

use flb_plugin_sdk::api::Config;
use flb_plugin_sdk::events::{EventTime, EventWriter, RecordForm};
use in_gtail::config::TailConfig;
use in_gtail::lines::RecordShape;
use in_gtail::marker::Marker;
use in_gtail::multiline::{Multiline, Sink};
use std::time::Instant;

/// Allocations made by `f` on this thread.
fn allocs_in(f: impl FnOnce()) -> u64 {
    flb_plugin_sdk::oom::allocations_in(f).1
}

const PATH: &str = "/var/log/containers/app_default_app-0123.log";

const CRI: &[&str] = &[
    "2026-11-30T05:00:00.123456789Z stdout F GET /api/v1/items 200",
    "2026-11-30T05:00:00.223456789Z stderr F warning: slow query",
    "2026-11-30T05:00:01.000000001Z stdout P the first part of a long line, ",
    "2026-11-30T05:00:01.000000002Z stdout P its middle, ",
    "2026-11-30T05:00:01.000000003Z stdout F and its end",
    "2026-11-30T05:00:02.5+02:00 stderr P a part on stderr, ",
    "2026-11-30T05:00:02.6+02:00 stdout F a whole line on stdout between",
    "2026-11-30T05:00:02.7+02:00 stderr F the end on stderr",
    "2026-11-30T05:00:03.000000000Z stdout F done",
];
/// Records of one read of CRI: 9 lines, 2 + 1 of them parts joined to later ones.
const CRI_RECORDS: usize = 6;

const DOCKER: &[&str] = &[
    r#"{"log":"GET /api/v1/items 200\n","stream":"stdout","time":"2026-11-30T05:00:00.123456789Z"}"#,
    r#"{"log":"the first part of a long line, ","stream":"stdout","time":"2026-11-30T05:00:01.1Z"}"#,
    r#"{"log":"warning: slow query\n","stream":"stderr","time":"2026-11-30T05:00:01.2Z"}"#,
    r#"{"log":"and its end\n","stream":"stdout","time":"2026-11-30T05:00:01.3Z"}"#,
    r#"{"log":"with an \"escaped\" quote and caf\u00e9\n","stream":"stdout","attrs":{"k":[1,2.5,true,null]},"time":"2026-11-30T05:00:02Z"}"#,
];
const DOCKER_RECORDS: usize = 4;

/// Every line through the file's multiline state, as the reader feeds it; the records written.
fn read(ml: &mut Multiline, cfg: &TailConfig, w: &mut EventWriter, lines: &[&str]) -> usize {
    let shape = RecordShape::new(cfg, PATH);
    let (time, now) = (EventTime::new(1_764_478_800, 0), Instant::now());
    let marker = Marker::default;
    w.clear();
    let mut offset = 0u64;
    for line in lines {
        let mut sink = Sink { w: &mut *w, shape: &shape, now: time };
        ml.line(&mut sink, line.as_bytes(), offset, &marker, now).expect("encode");
        offset += line.len() as u64 + 1;
    }
    w.records()
}

fn config(pairs: &[(&str, &str)]) -> TailConfig {
    TailConfig::from(&Config::from_pairs(pairs)).expect("config")
}

#[test]
fn the_sdk_allocator_counts_this_threads_allocations() {
    // Without this, every "allocates nothing" below would pass with a counter that never counts.
    let n = allocs_in(|| drop(std::hint::black_box(vec![1u8; 100])));
    assert_eq!(n, 1);
}

#[test]
fn cri_lines_allocate_nothing_once_warm() {
    for extra in [&[][..], &[("path_key", "path"), ("offset_key", "offset")][..]] {
        let pairs: Vec<(&str, &str)> =
            [("path", PATH), ("multiline.parser", "cri")].into_iter().chain(extra.iter().copied()).collect();
        let cfg = config(&pairs);
        let mut ml = Multiline::new(&cfg);
        let mut w = EventWriter::new(RecordForm::Modern);
        assert_eq!(read(&mut ml, &cfg, &mut w, CRI), CRI_RECORDS, "warm-up");
        let whole = &CRI[..2];
        let n = allocs_in(|| assert_eq!(read(&mut ml, &cfg, &mut w, whole), 2));
        assert_eq!(n, 0, "F lines, {extra:?}");
        let n = allocs_in(|| assert_eq!(read(&mut ml, &cfg, &mut w, CRI), CRI_RECORDS));
        assert_eq!(n, 0, "F lines and P parts joined, {extra:?}");
        assert_eq!(ml.pending_start(), None);
    }
}

#[test]
fn docker_lines_allocate_nothing_once_warm() {
    let cfg = config(&[("path", PATH), ("multiline.parser", "docker, cri")]);
    let mut ml = Multiline::new(&cfg);
    let mut w = EventWriter::new(RecordForm::Modern);
    let mixed: Vec<&str> = DOCKER.iter().chain(CRI).copied().collect();
    assert_eq!(read(&mut ml, &cfg, &mut w, &mixed), DOCKER_RECORDS + CRI_RECORDS, "warm-up");
    let n = allocs_in(|| assert_eq!(read(&mut ml, &cfg, &mut w, DOCKER), DOCKER_RECORDS));
    assert_eq!(n, 0, "Docker lines (escaped newlines) and split parts");
    let n = allocs_in(|| assert_eq!(read(&mut ml, &cfg, &mut w, &mixed), DOCKER_RECORDS + CRI_RECORDS));
    assert_eq!(n, 0, "Docker then CRI lines in one file (auto-detected)");
}

#[test]
fn json_objects_allocate_nothing_once_warm() {
    let lines = [
        r#"{"msg":"escapes: \n \t \" \\ \u00e9 \ud83d\ude00","n":-0}"#,
        r#"{"ts":"2026-11-30T05:00:00.123Z","level":"info","seq":1,"status":200,"took":0.25,"msg":"GET /api/v1/items"}"#,
        r#"{"log":"x","stream":"stdout","attrs":{"k":[1,2.5,true,null,-3]},"time":"2026-11-30T05:00:02Z"}"#,
    ];
    let mut out = Vec::new();
    let mut all = || {
        let mut pairs = 0;
        for line in lines {
            out.clear();
            pairs += in_gtail::json::object(line.as_bytes(), &mut out).expect("an object").pairs;
        }
        assert_eq!(pairs, 12);
    };
    all();
    let n = allocs_in(all);
    assert_eq!(n, 0);
}
