//! Round trips through the event codec: values written with `rmp::encode` through `EventWriter`,
//! read back through `EventReader`, compared with a model.

use flb_plugin_sdk::events::{
    decode_value, skip_value, validate_chunk, EncodeError, Event, EventReader, EventTime, EventWriter, MallocBuf,
    RecordForm, TimeKind, Value,
};
use proptest::prelude::*;
use rmp::encode as enc;

/// A model msgpack value. `Int` carries an encoding choice so that several widths get exercised.
#[derive(Debug, Clone)]
enum M {
    Nil,
    Bool(bool),
    Int(i64, u8),
    UInt(u64),
    F32(f32),
    F64(f64),
    Str(Vec<u8>),
    Bin(Vec<u8>),
    Ext(i8, Vec<u8>),
    Arr(Vec<M>),
    Map(Vec<(M, M)>),
}

fn encode<W: std::io::Write>(out: &mut W, m: &M) -> Result<(), EncodeError> {
    match m {
        M::Nil => enc::write_nil(out)?,
        M::Bool(b) => enc::write_bool(out, *b)?,
        M::Int(i, how) => match how % 3 {
            0 => {
                enc::write_sint(out, *i)?;
            }
            1 => enc::write_i64(out, *i)?,
            _ => match u64::try_from(*i) {
                Ok(u) => enc::write_u64(out, u)?,
                Err(_) => enc::write_i64(out, *i)?,
            },
        },
        M::UInt(u) => enc::write_u64(out, *u)?,
        M::F32(f) => enc::write_f32(out, *f)?,
        M::F64(f) => enc::write_f64(out, *f)?,
        M::Str(s) => {
            enc::write_str_len(out, s.len() as u32)?;
            out.write_all(s)?;
        }
        M::Bin(b) => enc::write_bin(out, b)?,
        M::Ext(t, d) => {
            enc::write_ext_meta(out, d.len() as u32, *t)?;
            out.write_all(d)?;
        }
        M::Arr(items) => {
            enc::write_array_len(out, items.len() as u32)?;
            for i in items {
                encode(out, i)?;
            }
        }
        M::Map(pairs) => {
            enc::write_map_len(out, pairs.len() as u32)?;
            for (k, v) in pairs {
                encode(out, k)?;
                encode(out, v)?;
            }
        }
    }
    Ok(())
}

/// Asserts that `v` decodes to exactly the model `m` (recursive: test code only).
fn check(m: &M, v: Value<'_>) {
    match (m, v) {
        (M::Nil, Value::Nil) => {}
        (M::Bool(a), Value::Bool(b)) => assert_eq!(*a, b),
        (M::Int(a, _), Value::Int(b)) => assert_eq!(*a, b),
        (M::UInt(a), Value::UInt(b)) => {
            assert!(*a > i64::MAX as u64, "UInt only for values above i64::MAX");
            assert_eq!(*a, b)
        }
        (M::F32(a), Value::F32(b)) => assert_eq!(a.to_bits(), b.to_bits()),
        (M::F64(a), Value::F64(b)) => assert_eq!(a.to_bits(), b.to_bits()),
        (M::Str(a), Value::Str(b)) => assert_eq!(&a[..], b),
        (M::Bin(a), Value::Bin(b)) => assert_eq!(&a[..], b),
        (M::Ext(t, a), Value::Ext(u, b)) => {
            assert_eq!(*t, u);
            assert_eq!(&a[..], b)
        }
        (M::Arr(items), Value::Array(arr)) => {
            assert_eq!(items.len(), arr.len());
            let got: Vec<_> = arr.iter().collect::<Result<_, _>>().unwrap();
            assert_eq!(got.len(), items.len());
            for (m, v) in items.iter().zip(got) {
                check(m, v);
            }
        }
        (M::Map(pairs), Value::Map(map)) => {
            assert_eq!(pairs.len(), map.len());
            let got: Vec<_> = map.iter().collect::<Result<_, _>>().unwrap();
            assert_eq!(got.len(), pairs.len());
            for ((mk, mv), (k, v)) in pairs.iter().zip(got) {
                check(mk, k);
                check(mv, v);
            }
            // `get` finds the first pair with each string key.
            for (mk, _) in pairs {
                if let M::Str(key) = mk {
                    let first = pairs.iter().find(|(k, _)| matches!(k, M::Str(s) if s == key)).unwrap();
                    check(&first.1, map.get(key).unwrap().expect("key present"));
                }
            }
        }
        (m, v) => panic!("model {m:?} decoded as {v:?}"),
    }
}

fn roundtrip_value(m: &M) {
    let mut b = MallocBuf::new();
    encode(&mut b, m).unwrap();
    let bytes = b.as_slice();
    let (v, end) = decode_value(bytes, 0).unwrap();
    assert_eq!(end, bytes.len());
    assert_eq!(skip_value(bytes, 0).unwrap(), bytes.len());
    check(m, v);
}

fn s(x: &str) -> M {
    M::Str(x.as_bytes().to_vec())
}

/// One of every kind of value, with the interesting sizes and widths.
fn every_type() -> Vec<(&'static str, M)> {
    let mut v = vec![
        ("nil", M::Nil),
        ("true", M::Bool(true)),
        ("false", M::Bool(false)),
        ("u64max", M::UInt(u64::MAX)),
        ("u64_2_63", M::UInt(1 << 63)),
        ("i64max_as_u64", M::Int(i64::MAX, 2)),
        ("i64min", M::Int(i64::MIN, 0)),
        ("f32", M::F32(1.5)),
        ("f32nan", M::F32(f32::NAN)),
        ("f32inf", M::F32(f32::NEG_INFINITY)),
        ("f64", M::F64(-2.25e300)),
        ("f64nan", M::F64(f64::NAN)),
        ("f64inf", M::F64(f64::INFINITY)),
        ("f64negzero", M::F64(-0.0)),
        ("empty_str", s("")),
        ("utf8", s("héllo ✓")),
        ("non_utf8", M::Str(vec![0xff, 0xfe, 0x00, 0xc0])),
        ("empty_arr", M::Arr(vec![])),
        ("empty_map", M::Map(vec![])),
        (
            "nested",
            M::Map(vec![
                (s("a"), M::Arr(vec![M::Int(1, 0), M::Map(vec![(s("b"), M::Arr(vec![M::Nil, s("c")]))])])),
                (M::Int(7, 0), M::Bin(vec![1, 2, 3])),
            ]),
        ),
    ];
    for (name, n) in
        [("str31", 31), ("str8", 32), ("str8max", 255), ("str16", 256), ("str16max", 65535), ("str32", 65536)]
    {
        v.push((name, M::Str(vec![b'x'; n])));
    }
    for (name, n) in [("bin0", 0), ("bin8", 255), ("bin16", 256), ("bin32", 65536)] {
        v.push((name, M::Bin(vec![0xab; n])));
    }
    for (name, n) in [
        ("fixext1", 1),
        ("fixext2", 2),
        ("fixext4", 4),
        ("fixext8", 8),
        ("fixext16", 16),
        ("ext8_0", 0),
        ("ext8", 3),
        ("ext16", 256),
        ("ext32", 65536),
    ] {
        v.push((name, M::Ext(-7, vec![0x5a; n])));
    }
    v.push(("ext_type0_not_time", M::Ext(0, vec![1; 8])));
    v.push(("arr16", M::Arr((0..16).map(|i| M::Int(i, 0)).collect())));
    v.push(("arr32", M::Arr(vec![M::Nil; 65536])));
    v.push(("map16", M::Map((0..16).map(|i| (M::Int(i, 0), M::Nil)).collect())));
    v.push(("map32", M::Map((0..65536).map(|i| (M::Int(i, 1), M::Bool(i % 2 == 0))).collect())));
    v
}

/// Integers with every encoding width, written with the explicit rmp function for that width.
fn int_widths(out: &mut MallocBuf) -> Result<Vec<M>, EncodeError> {
    enc::write_pfix(out, 0)?;
    enc::write_pfix(out, 127)?;
    enc::write_nfix(out, -32)?;
    enc::write_nfix(out, -1)?;
    enc::write_u8(out, 255)?;
    enc::write_u8(out, 3)?;
    enc::write_u16(out, 65535)?;
    enc::write_u32(out, u32::MAX)?;
    enc::write_u64(out, 5)?;
    enc::write_u64(out, i64::MAX as u64)?;
    enc::write_i8(out, -128)?;
    enc::write_i8(out, 100)?;
    enc::write_i16(out, i16::MIN)?;
    enc::write_i32(out, i32::MIN)?;
    enc::write_i64(out, i64::MIN)?;
    enc::write_i64(out, 1)?;
    enc::write_u64(out, u64::MAX)?;
    enc::write_u64(out, (1 << 63) + 1)?;
    let ints = [0, 127, -32, -1, 255, 3, 65535, i64::from(u32::MAX), 5, i64::MAX, -128, 100];
    let mut model: Vec<M> = ints.iter().map(|&i| M::Int(i, 0)).collect();
    model.extend([i64::from(i16::MIN), i64::from(i32::MIN), i64::MIN, 1].map(|i| M::Int(i, 0)));
    model.extend([M::UInt(u64::MAX), M::UInt((1 << 63) + 1)]);
    Ok(model)
}

#[test]
fn every_type_decodes_directly() {
    for (name, m) in every_type() {
        eprintln!("{name}");
        roundtrip_value(&m);
    }
}

#[test]
fn every_int_width_decodes() {
    let mut b = MallocBuf::new();
    enc::write_array_len(&mut b, 18).unwrap();
    let model = int_widths(&mut b).unwrap();
    assert_eq!(model.len(), 18);
    let (v, end) = decode_value(b.as_slice(), 0).unwrap();
    assert_eq!(end, b.len());
    check(&M::Arr(model), v);
}

fn write_body(w: &mut EventWriter, time: EventTime, meta: &[u8], pairs: &[(&str, M)]) {
    w.append_with(time, meta, |out| {
        enc::write_map_len(out, pairs.len() as u32)?;
        for (k, v) in pairs {
            enc::write_str(out, k)?;
            encode(out, v)?;
        }
        Ok(())
    })
    .unwrap();
}

fn check_body(ev: &Event<'_>, pairs: &[(&str, M)]) {
    let map = ev.body.as_map().expect("body is a map");
    assert_eq!(map.len(), pairs.len());
    for ((k, mv), kv) in pairs.iter().zip(map.iter()) {
        let (key, val) = kv.unwrap();
        assert_eq!(key.as_str(), Some(*k));
        check(mv, val);
    }
    for (k, mv) in pairs {
        check(mv, map.get(k.as_bytes()).unwrap().unwrap());
    }
}

#[test]
fn every_type_through_writer_and_reader_both_forms_and_mixed() {
    let pairs = every_type();
    let meta_pairs = [("otel", M::Map(vec![(s("trace_id"), M::Bin(vec![9; 16]))]))];
    let mut meta = MallocBuf::new();
    encode(&mut meta, &M::Map(meta_pairs.iter().map(|(k, v)| (s(k), v.clone())).collect())).unwrap();

    let t1 = EventTime::new(1_700_000_000, 123_456_789);
    let t2 = EventTime::new(1_700_000_001, 999_999_999);
    let t3 = EventTime::new(0, 1);
    let mut w = EventWriter::new(RecordForm::Modern);
    write_body(&mut w, t1, meta.as_slice(), &pairs);
    w.set_form(RecordForm::Legacy);
    write_body(&mut w, t2, meta.as_slice(), &pairs[..3]);
    w.set_form(RecordForm::Modern);
    write_body(&mut w, t3, b"", &pairs[3..6]);
    assert_eq!(w.records(), 3);
    assert_eq!(validate_chunk(w.as_bytes()), Ok(3));

    let evs: Vec<_> = EventReader::new(w.as_bytes()).collect::<Result<_, _>>().unwrap();
    assert_eq!(evs.len(), 3);
    assert_eq!((evs[0].time, evs[0].form), (t1, RecordForm::Modern));
    assert_eq!((evs[1].time, evs[1].form), (t2, RecordForm::Legacy));
    assert_eq!((evs[2].time, evs[2].form), (t3, RecordForm::Modern));
    check_body(&evs[0], &pairs);
    check_body(&evs[1], &pairs[..3]);
    check_body(&evs[2], &pairs[3..6]);
    let m0 = evs[0].metadata.unwrap().as_map().unwrap();
    assert_eq!(m0.raw(), meta.as_slice());
    assert!(evs[1].metadata.is_none(), "legacy form drops metadata");
    assert!(evs[2].metadata.unwrap().as_map().unwrap().is_empty());
    // The raw slices tile the chunk.
    let total: usize = evs.iter().map(|e| e.raw.len()).sum();
    assert_eq!(total, w.len());
    assert_eq!(evs[0].raw.as_ptr(), w.as_bytes().as_ptr());
}

#[test]
fn legacy_only_and_modern_only_chunks() {
    for form in [RecordForm::Legacy, RecordForm::Modern] {
        let mut w = EventWriter::new(form);
        for i in 0..50u32 {
            write_body(&mut w, EventTime::new(i64::from(i), i * 7), b"", &[("i", M::Int(i64::from(i), 0))]);
        }
        let mut n = 0;
        for (i, ev) in EventReader::new(w.as_bytes()).enumerate() {
            let ev = ev.unwrap();
            assert_eq!(ev.form, form);
            assert_eq!(ev.time, EventTime::new(i as i64, i as u32 * 7));
            assert_eq!(ev.body.as_map().unwrap().get(b"i").unwrap().unwrap().as_i64(), Some(i as i64));
            n += 1;
        }
        assert_eq!(n, 50);
    }
}

#[test]
fn repeat_then_read() {
    let mut w = EventWriter::new(RecordForm::Modern);
    let mut body = MallocBuf::new();
    flb_plugin_sdk::events::encode_str_map(&mut body, &[("message", "dummy"), ("k", "v")]).unwrap();
    let span = w.append(EventTime::new(100, 0), b"", body.as_slice()).unwrap();
    w.repeat(&span, 999, EventTime::new(100, 1), 1_000_000).unwrap();
    assert_eq!(w.records(), 1000);
    assert_eq!(validate_chunk(w.as_bytes()), Ok(1000));
    for (i, ev) in EventReader::new(w.as_bytes()).enumerate().skip(1) {
        let ev = ev.unwrap();
        assert_eq!(ev.time, EventTime::new(100, 1).add_nanos((i as u64 - 1) * 1_000_000));
        assert_eq!(ev.body.as_map().unwrap().raw(), body.as_slice());
    }
}

/// Hand-encodes a legacy record `[<time bytes>, {}]`.
fn record_with_time(time: &[u8]) -> Vec<u8> {
    let mut r = vec![0x92];
    r.extend_from_slice(time);
    r.push(0x80);
    r
}

fn only_time(chunk: &[u8]) -> EventTime {
    let mut r = EventReader::new(chunk);
    let ev = r.next().unwrap().unwrap();
    assert!(r.next().is_none());
    ev.time
}

#[test]
fn integer_float_and_ext_timestamps() {
    let cases: Vec<(Vec<u8>, EventTime)> = vec![
        (vec![0x00], EventTime::new(0, 0)),
        (vec![0x7f], EventTime::new(127, 0)),
        (vec![0xce, 0x65, 0x53, 0xf1, 0x00], EventTime::new(1_700_000_000, 0)),
        (vec![0xcf, 0, 0, 0, 0, 0x65, 0x53, 0xf1, 0x00], EventTime::new(1_700_000_000, 0)),
        (vec![0xd3, 0, 0, 0, 1, 0, 0, 0, 0], EventTime::new(1 << 32, 0)),
        // 1.5 as float64 and float32
        (vec![0xcb, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0], EventTime::new(1, 500_000_000)),
        (vec![0xca, 0x3f, 0xc0, 0, 0], EventTime::new(1, 500_000_000)),
        // ext8 with 8 bytes, type 0
        (vec![0xc7, 0x08, 0x00, 0, 0, 0, 5, 0, 0, 0, 6], EventTime::new(5, 6)),
        // seconds above 2^31 are unsigned
        (vec![0xd7, 0x00, 0x80, 0, 0, 0, 0, 0, 0, 0], EventTime::new(0x8000_0000, 0)),
    ];
    for (bytes, want) in cases {
        assert_eq!(only_time(&record_with_time(&bytes)), want, "{bytes:x?}");
        let mut modern = vec![0x92, 0x92];
        modern.extend_from_slice(&bytes);
        modern.extend_from_slice(&[0x80, 0x80]);
        assert_eq!(only_time(&modern), want, "{bytes:x?}");
    }
    let f = 1_700_000_000.25f64.to_be_bytes();
    let mut b = vec![0xcb];
    b.extend_from_slice(&f);
    assert_eq!(only_time(&record_with_time(&b)), EventTime::new(1_700_000_000, 250_000_000));
}

#[test]
fn group_markers_as_ext_and_int() {
    let start_ext = EventTime::GROUP_START.to_ext_bytes();
    let end_ext = EventTime::GROUP_END.to_ext_bytes();
    let encodings: [(&[u8], TimeKind); 8] = [
        (&start_ext, TimeKind::GroupStart),
        (&end_ext, TimeKind::GroupEnd),
        (&[0xff], TimeKind::GroupStart),
        (&[0xfe], TimeKind::GroupEnd),
        (&[0xd0, 0xff], TimeKind::GroupStart),
        (&[0xd3, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe], TimeKind::GroupEnd),
        (&[0xfd], TimeKind::Invalid),
        (&[0xcb, 0xbf, 0xf0, 0, 0, 0, 0, 0, 0], TimeKind::GroupStart), // -1.0
    ];
    for (bytes, kind) in encodings {
        // [[marker, {group metadata}], {attributes}]
        let mut r = vec![0x92, 0x92];
        r.extend_from_slice(bytes);
        r.extend_from_slice(&[0x81, 0xa1, b'g', 0x01, 0x80]);
        let t = only_time(&r);
        assert_eq!(t.kind(), kind, "{bytes:x?}");
        if kind == TimeKind::GroupStart {
            assert_eq!(t, EventTime::GROUP_START);
        }
        if kind == TimeKind::GroupEnd {
            assert_eq!(t, EventTime::GROUP_END);
        }
    }
    // Written by the writer, a group round-trips.
    let mut w = EventWriter::new(RecordForm::Modern);
    let mut meta = MallocBuf::new();
    flb_plugin_sdk::events::encode_str_map(&mut meta, &[("resource", "r")]).unwrap();
    w.append(EventTime::GROUP_START, meta.as_slice(), &[0x80]).unwrap();
    w.append(EventTime::new(5, 5), b"", &[0x80]).unwrap();
    w.append(EventTime::GROUP_END, b"", &[0x80]).unwrap();
    let kinds: Vec<_> = EventReader::new(w.as_bytes()).map(|e| e.unwrap().time.kind()).collect();
    assert_eq!(kinds, [TimeKind::GroupStart, TimeKind::Normal, TimeKind::GroupEnd]);
}

const DEPTH: usize = 100_000;

fn on_small_stack<F: FnOnce() + Send + 'static>(f: F) {
    std::thread::Builder::new().stack_size(64 * 1024).spawn(f).unwrap().join().unwrap();
}

#[test]
fn hundred_thousand_levels_on_a_64k_stack() {
    // [[[[...nil...]]]]
    let mut arr = vec![0x91u8; DEPTH];
    arr.push(0xc0);
    // {"k": {"k": ... nil}}
    let mut map = Vec::with_capacity(DEPTH * 3 + 1);
    for _ in 0..DEPTH {
        map.extend_from_slice(&[0x81, 0xa1, b'k']);
    }
    map.push(0xc0);
    // A record whose body holds both.
    let mut w = EventWriter::new(RecordForm::Modern);
    w.append_with(EventTime::new(1, 0), b"", |out| {
        enc::write_map_len(out, 2)?;
        enc::write_str(out, "arr")?;
        out.extend_from_slice(&arr)?;
        enc::write_str(out, "map")?;
        out.extend_from_slice(&map)?;
        Ok(())
    })
    .unwrap();
    let chunk = w.as_bytes().to_vec();

    on_small_stack(move || {
        assert_eq!(skip_value(&arr, 0).unwrap(), arr.len());
        assert_eq!(skip_value(&map, 0).unwrap(), map.len());
        let (v, end) = decode_value(&arr, 0).unwrap();
        assert_eq!(end, arr.len());
        // Walk a few levels down.
        let mut a = v.as_array().unwrap();
        for _ in 0..3 {
            a = a.iter().next().unwrap().unwrap().as_array().unwrap();
        }
        assert_eq!(a.raw().len(), arr.len() - 3);
        let (v, _) = decode_value(&map, 0).unwrap();
        let mut m = v.as_map().unwrap();
        for _ in 0..3 {
            m = m.get(b"k").unwrap().unwrap().as_map().unwrap();
        }
        assert_eq!(m.raw().len(), map.len() - 9);

        assert_eq!(validate_chunk(&chunk), Ok(1));
        let ev = EventReader::new(&chunk).next().unwrap().unwrap();
        let body = ev.body.as_map().unwrap();
        assert_eq!(body.get(b"arr").unwrap().unwrap().as_array().unwrap().raw(), &arr[..]);
        assert_eq!(body.get(b"map").unwrap().unwrap().as_map().unwrap().raw(), &map[..]);
        // One byte short anywhere in the nesting is an error, not a crash.
        assert!(validate_chunk(&chunk[..chunk.len() - 1]).is_err());
        assert!(skip_value(&arr[..arr.len() - 1], 0).is_err());
    });
}

fn leaf() -> impl Strategy<Value = M> {
    let ext_len = prop::sample::select(vec![0usize, 1, 2, 3, 4, 8, 16, 17, 300]);
    prop_oneof![
        Just(M::Nil),
        any::<bool>().prop_map(M::Bool),
        (any::<i64>(), any::<u8>()).prop_map(|(i, h)| M::Int(i, h)),
        (-40i64..300, any::<u8>()).prop_map(|(i, h)| M::Int(i, h)),
        ((i64::MAX as u64 + 1)..=u64::MAX).prop_map(M::UInt),
        any::<f32>().prop_map(M::F32),
        any::<f64>().prop_map(M::F64),
        prop::collection::vec(any::<u8>(), 0..40).prop_map(M::Str),
        "[a-z]{0,4}".prop_map(|s| M::Str(s.into_bytes())),
        prop::collection::vec(any::<u8>(), 0..300).prop_map(M::Bin),
        (any::<i8>(), ext_len).prop_map(|(t, n)| M::Ext(t, vec![t as u8; n])),
    ]
}

fn value() -> impl Strategy<Value = M> {
    // Under Miri (make miri) smaller trees: every step is interpreted, and the prefix tests are quadratic.
    let (depth, nodes) = if cfg!(miri) { (3, 16) } else { (6, 200) };
    leaf().prop_recursive(depth, nodes, 10, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..10).prop_map(M::Arr),
            prop::collection::vec((inner.clone(), inner), 0..10).prop_map(M::Map),
        ]
    })
}

fn event_time() -> impl Strategy<Value = EventTime> {
    prop_oneof![
        (0i64..=0xFFFF_FFFD, 0u32..1_000_000_000).prop_map(|(s, n)| EventTime::new(s, n)),
        Just(EventTime::GROUP_START),
        Just(EventTime::GROUP_END),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: if cfg!(miri) { 4 } else { 512 }, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_values_roundtrip(m in value()) {
        roundtrip_value(&m);
    }

    #[test]
    fn arbitrary_records_roundtrip(
        recs in prop::collection::vec((event_time(), any::<bool>(), value(), value()), 1..8)
    ) {
        let mut w = EventWriter::new(RecordForm::Modern);
        let mut metas = Vec::new();
        for (t, legacy, meta, body) in &recs {
            w.set_form(if *legacy { RecordForm::Legacy } else { RecordForm::Modern });
            let mut mb = MallocBuf::new();
            encode(&mut mb, &M::Map(vec![(s("m"), meta.clone())])).unwrap();
            w.append_with(*t, mb.as_slice(), |out| {
                enc::write_map_len(out, 1)?;
                enc::write_str(out, "v")?;
                encode(out, body)
            }).unwrap();
            metas.push(mb);
        }
        prop_assert_eq!(validate_chunk(w.as_bytes()), Ok(recs.len()));
        let evs: Vec<_> = EventReader::new(w.as_bytes()).collect::<Result<_, _>>().unwrap();
        prop_assert_eq!(evs.len(), recs.len());
        for ((ev, (t, legacy, meta, body)), mb) in evs.iter().zip(&recs).zip(&metas) {
            prop_assert_eq!(ev.time, *t);
            if *legacy {
                prop_assert_eq!(ev.form, RecordForm::Legacy);
                prop_assert!(ev.metadata.is_none());
            } else {
                prop_assert_eq!(ev.form, RecordForm::Modern);
                let m = ev.metadata.unwrap().as_map().unwrap();
                prop_assert_eq!(m.raw(), mb.as_slice());
                check(meta, m.get(b"m").unwrap().unwrap());
            }
            check(body, ev.body.as_map().unwrap().get(b"v").unwrap().unwrap());
        }
    }

    #[test]
    fn float_times_roundtrip_to_the_nanosecond_they_round_to(secs in 0u32..u32::MAX, frac in 0f64..1.0) {
        let f = f64::from(secs) + frac;
        let mut b = vec![0xcb];
        b.extend_from_slice(&f.to_be_bytes());
        let t = only_time(&record_with_time(&b));
        prop_assert_eq!(t, EventTime::from_f64(f));
        prop_assert!(t.nsecs < 1_000_000_000);
        prop_assert!((t.as_f64() - f).abs() <= 1e-6, "{:?} vs {}", t, f);
    }
}
