use super::*;
use crate::date::DateFormat;
use crate::single_pass::MAX_KEYS;
use rmp::encode as enc;

/// xorshift64: the same records on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn pick<'a, T>(&mut self, v: &'a [T]) -> &'a T {
        &v[self.below(v.len() as u64) as usize]
    }
}

/// Keys chosen so that maps often hold equal ones, the record's own members (`date`,
/// `__internal__`, `log`), keys equal in length and first and last byte but not in the middle, and
/// long keys that differ only at the end.
const KEYS: &[&[u8]] = &[
    b"a",
    b"b",
    b"date",
    b"__internal__",
    b"log",
    b"k1",
    b"k2",
    b"kxy1",
    b"kyx1",
    b"",
    b"a_rather_long_key_number_0",
    b"a_rather_long_key_number_1",
    b"say \"q\"",
    "caf\u{e9}".as_bytes(),
];

const STRINGS: &[&[u8]] = &[
    b"",
    b"v",
    b"plain text of some length, more than sixteen bytes",
    b"say \"hi\"\\path",
    b"a\tb\nc\rd\x08e\x0cf/\x00\x1f\x7f",
    "caf\u{e9} \u{fc} \u{20ac} \u{1f600}".as_bytes(),
    b"bad \xe9 latin1 \xff\xfe and \xc3",
    b"\xed\xa0\x80 surrogate",
    b"0123456789abcdef",
    b"0123456789abcde\"",
];

fn str_value(r: &mut Rng, out: &mut Vec<u8>, s: &[u8]) {
    // Short strings also in the longer encodings, which take the general token path.
    match r.below(6) {
        0 if s.len() < 256 => {
            out.extend_from_slice(&[0xd9, s.len() as u8]);
            out.extend_from_slice(s);
        }
        1 => {
            out.push(0xda);
            out.extend_from_slice(&(s.len() as u16).to_be_bytes());
            out.extend_from_slice(s);
        }
        _ => {
            enc::write_str_len(out, s.len() as u32).expect("vec");
            out.extend_from_slice(s);
        }
    }
}

fn key(r: &mut Rng, out: &mut Vec<u8>) {
    match r.below(12) {
        0 => enc::write_sint(out, r.below(3) as i64).map(|_| ()).expect("vec"),
        1 => {
            let k = *r.pick(KEYS);
            enc::write_bin(out, k).expect("vec")
        }
        _ => {
            let k = *r.pick(KEYS);
            str_value(r, out, k)
        }
    }
}

fn map(r: &mut Rng, out: &mut Vec<u8>, pairs: u32, depth: u32) {
    enc::write_map_len(out, pairs).expect("vec");
    for _ in 0..pairs {
        key(r, out);
        value(r, out, depth + 1);
    }
}

fn value(r: &mut Rng, out: &mut Vec<u8>, depth: u32) {
    let kinds = if depth > 5 { 10 } else { 14 };
    match r.below(kinds) {
        0 => enc::write_nil(out).expect("vec"),
        1 => enc::write_bool(out, r.below(2) == 0).expect("vec"),
        2 => {
            let v = r.next() as i64 >> r.below(64);
            enc::write_sint(out, v).map(|_| ()).expect("vec")
        }
        3 => match r.below(4) {
            // the widest encodings of small numbers
            0 => enc::write_u64(out, r.below(300)).expect("vec"),
            1 => enc::write_i32(out, -(r.below(300) as i32)).expect("vec"),
            2 => enc::write_uint(out, u64::MAX - r.below(3)).map(|_| ()).expect("vec"),
            _ => enc::write_u8(out, r.below(256) as u8).expect("vec"),
        },
        4 => {
            let f = *r.pick(&[0.25, 1.0, -0.0, 3.0, 1e300, -1e-300, 1_700_000_000.123_456, f64::NAN, f64::INFINITY]);
            let f = if r.below(3) == 0 { f64::from_bits(r.next()) } else { f };
            enc::write_f64(out, f).expect("vec")
        }
        5 => enc::write_f32(out, *r.pick(&[0.5f32, 1.1, -3.0, f32::MAX])).expect("vec"),
        6..=8 => {
            let s = *r.pick(STRINGS);
            str_value(r, out, s)
        }
        9 => enc::write_sint(out, r.below(200) as i64 - 40).map(|_| ()).expect("vec"),
        10 => {
            let s = *r.pick(STRINGS);
            enc::write_bin(out, s).expect("vec")
        }
        11 => {
            let s = *r.pick(STRINGS);
            enc::write_ext_meta(out, s.len() as u32, r.below(256) as u8 as i8).expect("vec");
            out.extend_from_slice(s);
        }
        12 => {
            let n = r.below(5) as u32;
            enc::write_array_len(out, n).expect("vec");
            for _ in 0..n {
                value(r, out, depth + 1);
            }
        }
        _ => {
            // Now and then more string keys than the single pass tracks.
            let n = if r.below(20) == 0 { MAX_KEYS as u32 - 2 + r.below(5) as u32 } else { r.below(6) as u32 };
            map(r, out, n, depth + 1)
        }
    }
}

fn ext_time(out: &mut Vec<u8>, t: EventTime) {
    out.extend_from_slice(&t.to_ext_bytes());
}

fn record(r: &mut Rng, out: &mut Vec<u8>) {
    let t = EventTime::new(1_700_000_000 + r.below(1000) as i64, (r.below(1_000_000_000)) as u32);
    let body = |r: &mut Rng, out: &mut Vec<u8>| match r.below(10) {
        0 => value(r, out, 0),
        1 => {
            enc::write_map_len(out, 0).expect("vec");
        }
        _ => {
            let n = 1 + r.below(8) as u32;
            map(r, out, n, 0)
        }
    };
    let meta = |r: &mut Rng, out: &mut Vec<u8>| match r.below(6) {
        0 => {
            enc::write_map_len(out, 0).expect("vec");
        }
        1 => value(r, out, 3),
        _ => {
            let n = 1 + r.below(3) as u32;
            map(r, out, n, 1)
        }
    };
    match r.below(14) {
        0..=6 => {
            out.extend_from_slice(&[0x92, 0x92]);
            ext_time(out, t);
            meta(r, out);
            body(r, out);
        }
        7 | 8 => {
            out.push(0x92);
            ext_time(out, t);
            body(r, out);
        }
        9 => {
            // an integer time, modern or legacy
            let modern = r.below(2) == 0;
            out.extend_from_slice(if modern { &[0x92, 0x92] } else { &[0x92] });
            enc::write_uint(out, t.secs as u64).expect("vec");
            if modern {
                meta(r, out);
            }
            body(r, out);
        }
        10 | 11 => {
            // group markers: attributes of a group printed with each of its records
            out.extend_from_slice(&[0x92, 0x92]);
            ext_time(out, if r.below(3) == 0 { EventTime::GROUP_END } else { EventTime::GROUP_START });
            meta(r, out);
            let n = r.below(3) as u32;
            map(r, out, n, 1);
        }
        12 => {
            // a time the decoder refuses (nanoseconds >= 1e9, a negative second)
            out.extend_from_slice(&[0x92, 0x92, 0xd7, 0x00]);
            let (s, ns) = if r.below(2) == 0 { (5u32, 1_000_000_000u32) } else { (u32::MAX - 5, 0) };
            out.extend_from_slice(&s.to_be_bytes());
            out.extend_from_slice(&ns.to_be_bytes());
            meta(r, out);
            body(r, out);
        }
        _ => {
            // well-formed msgpack that is not a record
            enc::write_array_len(out, 3).expect("vec");
            for _ in 0..3 {
                value(r, out, 4);
            }
        }
    }
}

fn formatters() -> Vec<Formatter> {
    let mut v = Vec::new();
    for format in [Format::Msgpack, Format::Json, Format::JsonLines, Format::JsonStream] {
        for date_key in [Some("date"), None, Some("k1")] {
            for date_format in [DateFormat::Double, DateFormat::Iso8601] {
                let date_key = date_key.map(str::to_string);
                v.push(Formatter::new(Options { format, date_key, date_format }));
            }
        }
    }
    v
}

#[test]
fn single_pass_prints_as_the_walker() {
    let mut r = Rng(0x9e37_79b9_7f4a_7c15);
    let fs = formatters();
    let mut s = Scratch::new();
    for round in 0..2500 {
        let mut chunk = Vec::new();
        for _ in 0..1 + r.below(8) {
            record(&mut r, &mut chunk);
        }
        // Now and then a chunk cut short: nothing of it is printed, by either.
        if round % 17 == 0 {
            let cut = r.below(chunk.len() as u64) as usize;
            chunk.truncate(cut);
        }
        for f in &fs {
            let (mut a, mut b) = (b"before".to_vec(), b"before".to_vec());
            let ra = f.format_chunk_with(b"t.a", &chunk, &mut a, &mut s);
            let rb = f.format_chunk_walker(b"t.a", &chunk, &mut b);
            assert_eq!(ra, rb, "round {round}, {:?}, chunk {chunk:02x?}", f.options());
            assert!(
                a == b,
                "round {round}, {:?}, chunk {chunk:02x?}\nsingle pass: {}\nwalker:      {}",
                f.options(),
                String::from_utf8_lossy(&a),
                String::from_utf8_lossy(&b)
            );
        }
    }
}

fn modern_record(body: &[u8]) -> Vec<u8> {
    let mut c = vec![0x92, 0x92];
    ext_time(&mut c, EventTime::new(1_700_000_000, 0));
    c.push(0x80);
    c.extend_from_slice(body);
    c
}

/// A map from (key, pre-encoded value) pairs.
fn map_of(pairs: &[(&str, &[u8])]) -> Vec<u8> {
    let mut m = Vec::new();
    enc::write_map_len(&mut m, pairs.len() as u32).expect("vec");
    for (k, v) in pairs {
        enc::write_str(&mut m, k).expect("vec");
        m.extend_from_slice(v);
    }
    m
}

fn json_lines(date_key: Option<&str>) -> Formatter {
    Formatter::new(Options {
        format: Format::JsonLines,
        date_key: date_key.map(str::to_string),
        date_format: DateFormat::Epoch,
    })
}

/// What the single pass alone makes of the one record in `chunk`: its text, or None when it
/// leaves the record to the walker.
fn single(f: &Formatter, chunk: &[u8]) -> Option<String> {
    let mut out = Vec::new();
    let r = f.json_single(&mut out, &mut Scratch::new(), true, chunk, 0, None);
    r.ok().map(|end| {
        assert_eq!(end, chunk.len());
        String::from_utf8(out).expect("JSON text")
    })
}

fn printed(f: &Formatter, chunk: &[u8]) -> String {
    let mut out = Vec::new();
    let st = f.format_chunk(b"t", chunk, &mut out).expect("a valid chunk");
    assert_eq!(st.records, 1);
    String::from_utf8(out).expect("JSON text")
}

#[test]
fn equal_keys_at_any_depth_leave_the_record_to_the_walker() {
    let f = json_lines(None);
    let one = [0x01];
    let inner_dup = map_of(&[("x", &[0x01]), ("y", &[0x02]), ("x", &[0x03])]);
    let list = [&[0x91][..], &map_of(&[("k", &[0x01]), ("k", &[0x02])])].concat();
    // level 1
    let body = modern_record(&map_of(&[("a", &one), ("b", &[0x02]), ("a", &[0x04])]));
    assert_eq!(single(&f, &body), None);
    assert_eq!(printed(&f, &body), "{\"b\":2,\"a\":4}\n");
    // level 2, in a map and in a map in an array
    let body = modern_record(&map_of(&[("o", &inner_dup), ("l", &list), ("z", &one)]));
    assert_eq!(single(&f, &body), None);
    assert_eq!(printed(&f, &body), "{\"o\":{\"y\":2,\"x\":3},\"l\":[{\"k\":2}],\"z\":1}\n");
    // level 6
    let mut deep = inner_dup.clone();
    for _ in 0..5 {
        deep = map_of(&[("d", &deep), ("e", &one)]);
    }
    let body = modern_record(&deep);
    assert_eq!(single(&f, &body), None);
    assert_eq!(
        printed(&f, &body),
        "{\"d\":{\"d\":{\"d\":{\"d\":{\"d\":{\"y\":2,\"x\":3},\"e\":1},\"e\":1},\"e\":1},\"e\":1},\"e\":1}\n"
    );
    // Equal keys in sibling maps are no duplicates; nor are keys equal in length and both ends.
    let sib = map_of(&[("x", &[0x01]), ("y", &[0x02])]);
    let body = modern_record(&map_of(&[
        ("p", &sib),
        ("q", &sib),
        ("kxy1", &one),
        ("kyx1", &one),
        ("a_long_key_0", &one),
        ("a_long_key_1", &one),
    ]));
    let want = "{\"p\":{\"x\":1,\"y\":2},\"q\":{\"x\":1,\"y\":2},\"kxy1\":1,\"kyx1\":1,\
                \"a_long_key_0\":1,\"a_long_key_1\":1}\n";
    assert_eq!(single(&f, &body).as_deref(), Some(want));
    assert_eq!(printed(&f, &body), want);
}

#[test]
fn a_body_key_named_like_a_member_of_the_record_leaves_it_to_the_walker() {
    let f = json_lines(Some("date"));
    let body = modern_record(&map_of(&[("v", &[0x01]), ("date", &[0xa4, b'm', b'i', b'n', b'e'])]));
    assert_eq!(single(&f, &body), None);
    assert_eq!(printed(&f, &body), "{\"v\":1,\"date\":\"mine\"}\n");
    // without the date member the key is an ordinary one
    let f = json_lines(None);
    assert_eq!(single(&f, &body).as_deref(), Some("{\"v\":1,\"date\":\"mine\"}\n"));
}

#[test]
fn a_map_with_more_keys_than_tracked_prints_whole() {
    let f = json_lines(None);
    let names: Vec<String> = (0..MAX_KEYS + 1).map(|i| format!("k{i}")).collect();
    let pairs: Vec<(&str, &[u8])> = names.iter().map(|n| (n.as_str(), &[0x01][..])).collect();
    let body = modern_record(&map_of(&pairs));
    assert_eq!(single(&f, &body), None);
    let want: Vec<String> = names.iter().map(|n| format!("\"{n}\":1")).collect();
    assert_eq!(printed(&f, &body), format!("{{{}}}\n", want.join(",")));
    // one key fewer: the single pass's
    let body = modern_record(&map_of(&pairs[..MAX_KEYS]));
    assert_eq!(single(&f, &body).as_deref(), Some(format!("{{{}}}\n", want[..MAX_KEYS].join(",")).as_str()));
}
