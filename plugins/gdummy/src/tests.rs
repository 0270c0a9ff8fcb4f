//! Unit tests: the plugin type driven directly, time from a [`FakeClock`] (no wall-clock timing).

use super::*;
use flb_plugin_sdk::api::InstanceKind;
use flb_plugin_sdk::events::{validate_chunk, EventReader};

const WALL0: EventTime = EventTime::new(1_700_000_000, 0);
const MS: u64 = 1_000_000;
const SEC: u64 = 1_000_000_000;

struct Rig {
    p: Gdummy,
    clock: Arc<FakeClock>,
    w: EventWriter,
}

#[derive(Debug, Clone, PartialEq)]
struct Rec {
    time: EventTime,
    meta: Vec<u8>,
    body: Vec<u8>,
}

fn init(pairs: &[(&str, &str)]) -> Result<Rig> {
    let clock = Arc::new(FakeClock::new(WALL0));
    let mut ctx =
        InitContext::detached(Config::from_pairs(pairs).with_keys(crate::keys::KEYS), InstanceKind::Input, "gdummy");
    let p = Gdummy::init_with_clock(&mut ctx, clock.clone())?;
    Ok(Rig { p, clock, w: EventWriter::new(RecordForm::Modern) })
}

fn rig(pairs: &[(&str, &str)]) -> Rig {
    match init(pairs) {
        Ok(r) => r,
        Err(e) => panic!("init failed for {pairs:?}: {e}"),
    }
}

fn init_err(pairs: &[(&str, &str)]) -> String {
    match init(pairs) {
        Ok(r) => panic!("init accepted {pairs:?}: {:?}", r.p),
        Err(e) => e.message().to_string(),
    }
}

// Expected msgpack, written out by hand from the msgpack spec (not with the plugin's own
// `json::parse_objects`/rmp encoder, which would agree with itself whatever it did): the compact
// forms msgpack-c's packers choose in Fluent Bit's `flb_pack_json` for the same JSON. The body and
// metadata of `content_and_metadata_are_the_configured_objects` are byte for byte what a real
// Fluent Bit 5.1.1's native `dummy` input wrote for the same `dummy`/`metadata` (seen with
// `-o file -p format=msgpack`). Key: 0x8N fixmap of N pairs, 0x9N fixarray, 0xa0+len fixstr
// followed by its bytes, 0x00-0x7f positive fixint, 0xe0-0xff negative fixint, 0xc0 nil, 0xc3 true,
// 0xcb float 64 (8 bytes big-endian).

/// `{"message":"dummy"}`, the default record
const MSG_DUMMY: &[u8] = b"\x81\xa7message\xa5dummy";
/// `{"a":1}`
const A_1: &[u8] = b"\x81\xa1a\x01";
/// `{"c":1}`
const C_1: &[u8] = b"\x81\xa1c\x01";
/// `{"m":true}`
const M_TRUE: &[u8] = b"\x81\xa1m\xc3";

impl Rig {
    /// Advances the clock, collects as the SDK does (clear, collect) and decodes the batch.
    fn tick(&mut self, advance_ns: u64) -> Vec<Rec> {
        self.clock.advance_ns(advance_ns);
        self.w.clear();
        self.p.collect(&mut self.w).unwrap();
        let n = validate_chunk(self.w.as_bytes()).unwrap();
        assert_eq!(n, self.w.records(), "record count matches the bytes");
        EventReader::new(self.w.as_bytes())
            .map(|e| {
                let e = e.unwrap();
                Rec {
                    time: e.time,
                    meta: e.metadata.and_then(|m| m.as_map()).map(|m| m.raw().to_vec()).unwrap_or_default(),
                    body: e.body.as_map().unwrap().raw().to_vec(),
                }
            })
            .collect()
    }

    /// Collects every `step_ns` until `total_ns` has passed; returns all records.
    fn run(&mut self, step_ns: u64, total_ns: u64) -> Vec<Rec> {
        let mut all = Vec::new();
        let mut t = 0;
        while t < total_ns {
            all.extend(self.tick(step_ns));
            t += step_ns;
        }
        all
    }
}

fn assert_non_decreasing(recs: &[Rec]) {
    for w in recs.windows(2) {
        assert!(w[0].time <= w[1].time, "timestamps go back: {:?} then {:?}", w[0].time, w[1].time);
    }
}

#[test]
fn default_record_is_message_dummy_once_per_second() {
    let mut r = rig(&[]);
    assert!(r.tick(0).is_empty(), "nothing due at init without flush_on_startup");
    assert!(r.tick(999 * MS).is_empty(), "nothing before the first second");
    let recs = r.tick(MS);
    assert_eq!(recs.len(), 1);
    assert_eq!(recs[0].body, MSG_DUMMY);
    assert_eq!(recs[0].meta, [0x80]);
    assert_eq!(recs[0].time, WALL0.add_nanos(SEC), "stamped with the wall time it is due at");
    let recs = r.tick(SEC);
    assert_eq!(recs.len(), 1);
    assert_eq!(recs[0].time, WALL0.add_nanos(2 * SEC));
}

#[test]
fn content_and_metadata_are_the_configured_objects() {
    let mut r = rig(&[
        ("dummy", r#"{"z":"last-first","n":42,"neg":-7,"f":0.25,"nested":{"a":[1,true,null]}}"#),
        ("metadata", r#"{"source":"unit","k":1}"#),
    ]);
    let recs = r.tick(SEC);
    assert_eq!(recs.len(), 1);
    let body: &[u8] = &[
        0x85, // map of 5 pairs, in the order written
        0xa1, b'z', // "z"
        0xaa, b'l', b'a', b's', b't', b'-', b'f', b'i', b'r', b's', b't', // "last-first" (10 bytes)
        0xa1, b'n', 0x2a, // "n": 42, a positive fixint (an integer stays an integer)
        0xa3, b'n', b'e', b'g', 0xf9, // "neg": -7, a negative fixint (0x100 - 7)
        0xa1, b'f', 0xcb, 0x3f, 0xd0, 0, 0, 0, 0, 0, 0, // "f": 0.25 as float 64 (0x3fd0000000000000)
        0xa6, b'n', b'e', b's', b't', b'e', b'd', // "nested":
        0x81, 0xa1, b'a', // {"a":
        0x93, 0x01, 0xc3, 0xc0, // [1, true, null]}
    ];
    assert_eq!(recs[0].body, body);
    let meta: &[u8] = &[
        0x82, // map of 2 pairs
        0xa6, b's', b'o', b'u', b'r', b'c', b'e', // "source"
        0xa4, b'u', b'n', b'i', b't', // "unit"
        0xa1, b'k', 0x01, // "k": 1
    ];
    assert_eq!(recs[0].meta, meta);
}

#[test]
fn legacy_form_drops_metadata_and_keeps_the_body() {
    for copies in ["1", "3"] {
        let mut r = rig(&[("dummy", r#"{"a":1}"#), ("metadata", r#"{"m":1}"#), ("copies", copies)]);
        r.w.set_form(RecordForm::Legacy);
        r.clock.advance_ns(SEC);
        r.p.collect(&mut r.w).unwrap();
        let evs: Vec<_> = EventReader::new(r.w.as_bytes()).map(|e| e.unwrap()).collect();
        assert_eq!(evs.len(), copies.parse::<usize>().unwrap());
        for e in evs {
            assert_eq!(e.form, RecordForm::Legacy);
            assert!(e.metadata.is_none());
            assert_eq!(e.body.as_map().unwrap().raw(), A_1);
            assert_eq!(e.time, WALL0.add_nanos(SEC));
        }
    }
}

#[test]
fn rate_times_elapsed_with_even_timestamps() {
    let mut r = rig(&[("rate", "1000")]);
    let recs = r.tick(3 * SEC);
    assert_eq!(recs.len(), 3000);
    for (k, rec) in recs.iter().enumerate() {
        assert_eq!(rec.time, WALL0.add_nanos(MS + k as u64 * MS), "record {k}");
    }
    // The next collect continues the same stream.
    let recs = r.tick(500 * MS);
    assert_eq!(recs.len(), 500);
    assert_eq!(recs[0].time, WALL0.add_nanos(3001 * MS));
}

#[test]
fn collect_interval_does_not_change_the_rate() {
    for rate in [1u64, 3, 7, 100, 1000, 50_000] {
        for step in [SEC, 100 * MS, 10 * MS, 333 * MS, 7 * MS] {
            let rate_s = rate.to_string();
            let mut r = rig(&[("rate", &rate_s)]);
            let total = 10 * SEC;
            let recs = r.run(step, total);
            let elapsed = total.div_ceil(step) * step;
            // Ticks 1.. at k/rate: exactly floor(elapsed * rate) of them.
            let want = (u128::from(elapsed) * u128::from(rate) / u128::from(SEC)) as usize;
            assert_eq!(recs.len(), want, "rate {rate}, collect every {step} ns");
            assert_non_decreasing(&recs);
            // Evenly spaced: record k at base + k/rate (within 1 us for rates that are not whole ns).
            let base = WALL0.add_nanos(SEC / rate);
            for (k, rec) in recs.iter().enumerate() {
                let exact = (k as u128 * u128::from(SEC) / u128::from(rate)) as u64;
                let got = rec.time.as_f64() - base.as_f64();
                assert!((got - exact as f64 / 1e9).abs() < 2e-6, "rate {rate} step {step} record {k}: {got}");
            }
        }
    }
}

#[test]
fn uneven_rates_use_exact_fractions() {
    // 3 per second is 333333333.33 ns apart: after 3 s exactly 9 records, the last at 3 s sharp.
    let mut r = rig(&[("rate", "3")]);
    let recs = r.tick(3 * SEC);
    assert_eq!(recs.len(), 9);
    assert_eq!(recs[0].time, WALL0.add_nanos(333_333_333));
    assert_eq!(recs[1].time, WALL0.add_nanos(666_666_666));
    let last = WALL0.add_nanos(3 * SEC).as_f64() - recs[8].time.as_f64();
    assert!((0.0..1e-8).contains(&last), "{:?}", recs[8].time);
    // Each collect starts exact.
    assert_eq!(r.tick(SEC)[0].time, WALL0.add_nanos(3_333_333_333));
    // Large batches at such a rate stay non-decreasing and within a microsecond of exact.
    let mut r = rig(&[("rate", "300007")]);
    let recs = r.tick(2 * SEC);
    assert_eq!(recs.len(), 600_014);
    assert_non_decreasing(&recs);
    let last = recs[recs.len() - 1].time;
    assert!((last.as_f64() - WALL0.add_nanos(2 * SEC).as_f64()).abs() < 1e-6, "{last:?}");
}

#[test]
fn interval_overrides_rate() {
    let mut r = rig(&[("rate", "1000"), ("interval_sec", "2"), ("interval_nsec", "500000000")]);
    assert!(r.tick(2 * SEC).is_empty());
    let recs = r.tick(500 * MS);
    assert_eq!(recs.len(), 1);
    assert_eq!(recs[0].time, WALL0.add_nanos(2_500 * MS));
    assert_eq!(r.tick(5 * SEC).len(), 2);
    let mut r = rig(&[("interval_nsec", "250000000")]);
    assert_eq!(r.tick(SEC).len(), 4);
    let mut r = rig(&[("rate", "0"), ("interval_sec", "1")]);
    assert_eq!(r.tick(3 * SEC).len(), 3, "rate 0 is fine when an interval is set");
}

#[test]
fn samples_stop_exactly_and_the_instance_stays_up() {
    let mut r = rig(&[("rate", "100"), ("samples", "250")]);
    let recs = r.run(10 * MS, 5 * SEC);
    assert_eq!(recs.len(), 250);
    assert!(r.tick(10 * SEC).is_empty());
    assert!(r.w.is_empty(), "nothing handed over once samples are done");
    // In one big batch too.
    let mut r = rig(&[("rate", "1000"), ("samples", "7")]);
    assert_eq!(r.tick(SEC).len(), 7);
    assert_eq!(r.tick(SEC).len(), 0);
}

#[test]
fn samples_count_events_and_copies_multiply() {
    // As the native input: samples counts events (ticks); each event emits `copies` records.
    let mut r = rig(&[("rate", "10"), ("samples", "5"), ("copies", "3")]);
    let recs = r.run(100 * MS, 3 * SEC);
    assert_eq!(recs.len(), 15);
}

#[test]
fn copies_multiply_with_the_same_timestamp() {
    let mut r = rig(&[("rate", "2"), ("copies", "4"), ("dummy", r#"{"c":1}"#)]);
    let recs = r.tick(SEC);
    assert_eq!(recs.len(), 8);
    for (i, rec) in recs.iter().enumerate() {
        assert_eq!(rec.body, C_1);
        let tick = i as u64 / 4;
        assert_eq!(rec.time, WALL0.add_nanos(500 * MS + tick * 500 * MS), "record {i}");
    }
}

#[test]
fn several_objects_give_one_record_each_per_event_in_order() {
    let mut r =
        rig(&[("dummy", r#"{"i":1} {"i":2}{"i":3}"#), ("metadata", r#"{"m":true}"#), ("rate", "10"), ("copies", "2")]);
    let recs = r.tick(SEC);
    assert_eq!(recs.len(), 10 * 2 * 3);
    // {"i":1}, {"i":2}, {"i":3}: a map of one pair, "i", a positive fixint
    let want: [&[u8]; 3] = [b"\x81\xa1i\x01", b"\x81\xa1i\x02", b"\x81\xa1i\x03"];
    for (i, rec) in recs.iter().enumerate() {
        assert_eq!(rec.body, want[i % 3], "record {i}: objects cycle in order");
        assert_eq!(rec.meta, M_TRUE);
        assert_eq!(rec.time, WALL0.add_nanos(100 * MS * (1 + i as u64 / 6)), "record {i}");
    }
    assert_non_decreasing(&recs);
}

#[test]
fn start_time_sets_the_first_timestamp() {
    let mut r = rig(&[("start_time_sec", "1000"), ("start_time_nsec", "5"), ("rate", "4")]);
    let recs = r.run(100 * MS, 2 * SEC);
    assert_eq!(recs.len(), 8);
    assert_eq!(recs[0].time, EventTime::new(1000, 5));
    for (k, rec) in recs.iter().enumerate() {
        assert_eq!(rec.time, EventTime::new(1000, 5).add_nanos(k as u64 * 250 * MS));
    }
    // Only one of the two set: the other counts as 0.
    let mut r = rig(&[("start_time_sec", "42")]);
    assert_eq!(r.tick(SEC)[0].time, EventTime::new(42, 0));
    let mut r = rig(&[("start_time_nsec", "7")]);
    assert_eq!(r.tick(SEC)[0].time, EventTime::new(0, 7));
}

#[test]
fn fixed_timestamp_stamps_every_record_alike() {
    let mut r = rig(&[("fixed_timestamp", "on"), ("rate", "50")]);
    let recs = r.run(SEC, 3 * SEC);
    assert_eq!(recs.len(), 150);
    assert!(recs.iter().all(|x| x.time == WALL0), "the init time");
    let mut r = rig(&[("fixed_timestamp", "true"), ("start_time_sec", "77"), ("copies", "2"), ("rate", "5")]);
    let recs = r.tick(SEC);
    assert_eq!(recs.len(), 10);
    assert!(recs.iter().all(|x| x.time == EventTime::new(77, 0)));
}

#[test]
fn flush_on_startup_emits_on_the_first_collect() {
    let mut r = rig(&[("flush_on_startup", "on"), ("dummy", r#"{"s":1}"#)]);
    let recs = r.tick(200 * MS);
    assert_eq!(recs.len(), 1, "tick 0 is due at init");
    assert_eq!(recs[0].time, WALL0);
    assert!(r.tick(700 * MS).is_empty());
    let recs = r.tick(100 * MS);
    assert_eq!(recs.len(), 1);
    assert_eq!(recs[0].time, WALL0.add_nanos(SEC));
    let mut r = rig(&[("flush_on_startup", "on"), ("start_time_sec", "10")]);
    assert_eq!(r.tick(0)[0].time, EventTime::new(10, 0));
}

#[test]
fn env_references_in_dummy_and_metadata_are_resolved() {
    // A variable name only this test uses (tests run in threads of one process).
    std::env::set_var("GDUMMY_UNIT_TEST_HOST", "node-7");
    let mut r = rig(&[
        ("dummy", r#"{"host":"${GDUMMY_UNIT_TEST_HOST}","d":"${GDUMMY_UNIT_TEST_UNSET:-dflt}"}"#),
        ("metadata", r#"{"h":"${GDUMMY_UNIT_TEST_HOST}"}"#),
    ]);
    let recs = r.tick(SEC);
    // {"host":"node-7","d":"dflt"}: a map of 2 pairs, fixstr keys and values
    assert_eq!(recs[0].body, b"\x82\xa4host\xa6node-7\xa1d\xa4dflt");
    // {"h":"node-7"}
    assert_eq!(recs[0].meta, b"\x81\xa1h\xa6node-7");
}

#[test]
fn a_stalled_host_gets_a_capped_batch() {
    let mut r = rig(&[("rate", "1000000")]);
    // An hour without a collect: at most CATCH_UP_SECS worth comes back, the newest ones.
    let recs = r.tick(3600 * SEC);
    assert_eq!(recs.len() as u64, CATCH_UP_SECS * 1_000_000);
    assert_eq!(recs.last().unwrap().time, WALL0.add_nanos(3600 * SEC));
    assert_non_decreasing(&recs);
    // Then back to normal.
    assert_eq!(r.tick(SEC).len(), 1_000_000);
}

#[test]
fn pause_drops_what_came_due_while_paused() {
    let mut r = rig(&[("rate", "10")]);
    assert_eq!(r.tick(SEC).len(), 10);
    r.clock.advance_ns(300 * MS); // 3 due before the pause
    r.p.pause();
    assert!(r.tick(5 * SEC).is_empty(), "nothing while paused");
    r.p.resume();
    let recs = r.tick(SEC);
    assert_eq!(recs.len(), 3 + 10, "pending before the pause plus the second after resume");
    assert_non_decreasing(&recs);
    assert_eq!(recs.last().unwrap().time, WALL0.add_nanos(7_300 * MS));
}

#[test]
fn steady_state_reuses_the_buffer() {
    let mut r = rig(&[("rate", "1000")]);
    r.tick(SEC);
    let cap = r.w.buf().capacity();
    let ptr = r.w.buf().as_ptr();
    for _ in 0..10 {
        assert_eq!(r.tick(SEC).len(), 1000);
    }
    assert_eq!(r.w.buf().capacity(), cap);
    assert_eq!(r.w.buf().as_ptr(), ptr);
}

#[test]
fn bad_input_names_key_value_and_what_is_allowed() {
    type Case<'a> = (&'a [(&'a str, &'a str)], &'a str, &'a str, &'a str);
    let cases: &[Case<'_>] = &[
        (&[("dummy", "{\"a\":")], "dummy", "{\"a\":", "JSON object"),
        (&[("dummy", "not json")], "dummy", "not json", "JSON object"),
        (&[("dummy", "[1,2]")], "dummy", "[1,2]", "found an array"),
        (&[("dummy", "\"just a string\"")], "dummy", "\"just a string\"", "found a string"),
        (&[("dummy", "")], "dummy", "", "found nothing"),
        (&[("metadata", "{\"a\":1")], "metadata", "{\"a\":1", "JSON object"),
        (&[("metadata", "5")], "metadata", "5", "found a number"),
        (&[("metadata", "{}{}")], "metadata", "{}{}", "one JSON object"),
        (&[("rate", "-1")], "rate", "-1", "events per second"),
        (&[("rate", "fast")], "rate", "fast", "events per second"),
        (&[("rate", "1.5")], "rate", "1.5", "whole number"),
        (&[("rate", "0")], "rate", "0", "interval_sec"),
        (&[("rate", "0"), ("interval_sec", "0"), ("interval_nsec", "0")], "rate", "0", "interval_sec"),
        (&[("rate", "2000000000")], "rate", "2000000000", "1 to 1000000000"),
        (&[("samples", "-5")], "samples", "-5", "0 for no limit"),
        (&[("samples", "ten")], "samples", "ten", "0 for no limit"),
        (&[("copies", "-2")], "copies", "-2", "copies per event"),
        (&[("copies", "0")], "copies", "0", "from 1"),
        (&[("copies", "x")], "copies", "x", "copies per event"),
        (&[("interval_sec", "-1")], "interval_sec", "-1", "seconds"),
        (&[("interval_nsec", "1000000000")], "interval_nsec", "1000000000", "999999999"),
        (&[("start_time_sec", "-2")], "start_time_sec", "-2", "-1 (unset)"),
        (&[("start_time_nsec", "1000000000")], "start_time_nsec", "1000000000", "-1 (unset)"),
        (&[("fixed_timestamp", "maybe")], "fixed_timestamp", "maybe", "on/off"),
        (&[("flush_on_startup", "2")], "flush_on_startup", "2", "on/off"),
    ];
    for (pairs, key, value, allowed) in cases {
        let m = init_err(pairs);
        assert!(m.contains(&format!("'{key}'")), "{pairs:?}: {m}");
        assert!(m.contains(&format!("'{value}'")), "{pairs:?}: {m}");
        assert!(m.contains(allowed), "{pairs:?}: want {allowed:?} in {m}");
        assert!(!m.contains('\n'), "one line: {m}");
    }
}

#[test]
fn huge_events_are_refused_at_init() {
    let big = format!("{{\"x\":\"{}\"}}", "a".repeat(1000));
    let m = init_err(&[("dummy", &big), ("copies", "1000000")]);
    assert!(m.contains("'copies'") && m.contains("'1000000'") && m.contains("batch limit"), "{m}");
}

#[test]
fn pace_collect_emits_one_event_per_collect_stamped_now() {
    // The clock does not move between collects: with pace=rate nothing would be due.
    let mut r = rig(&[("pace", "collect")]);
    for i in 0..3 {
        let recs = r.tick(0);
        assert_eq!(recs.len(), 1, "collect {i}");
        assert_eq!(recs[0].time, WALL0);
        assert_eq!(recs[0].body, MSG_DUMMY);
    }
    r.clock.advance_ns(5 * SEC);
    assert_eq!(r.tick(0).len(), 1, "however long since the last collect");
    let mut r = rig(&[("pace", "Collect"), ("copies", "100"), ("samples", "2")]);
    assert_eq!(r.tick(0).len(), 100);
    assert_eq!(r.tick(0).len(), 100);
    assert_eq!(r.tick(0).len(), 0, "samples still counts events");
    let e = init_err(&[("pace", "fast")]);
    assert!(e.contains("'pace'") && e.contains("'fast'") && e.contains("'collect'"), "{e}");
}
