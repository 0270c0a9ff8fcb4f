//! Malformed input: truncated chunks, garbled lengths, random bytes and byte flips. The decoder must
//! never panic, must report truncation as `Truncated`, and its entry points must agree with each other.

use flb_plugin_sdk::events::{
    decode_value, encode_str_map, skip_value, validate_chunk, ArrayIter, DecodeError, DecodeErrorKind, EventReader,
    EventTime, EventWriter, MallocBuf, MapIter, RecordForm, Value,
};
use proptest::prelude::*;
use rmp::encode as enc;

enum Walk<'a> {
    A(ArrayIter<'a>),
    M(MapIter<'a>),
}

/// Visits every value nested in `v` with an explicit stack; returns how many values were seen.
fn walk(v: Value<'_>) -> Result<usize, DecodeError> {
    let mut stack = Vec::new();
    let mut seen = 0;
    fn push_into<'a>(v: Value<'a>, stack: &mut Vec<Walk<'a>>) {
        match v {
            Value::Array(a) => stack.push(Walk::A(a.iter())),
            Value::Map(m) => stack.push(Walk::M(m.iter())),
            _ => {}
        }
    }
    seen += 1;
    push_into(v, &mut stack);
    while let Some(top) = stack.last_mut() {
        let next = match top {
            Walk::A(it) => it.next().map(|r| r.map(|v| (v, None))),
            Walk::M(it) => it.next().map(|r| r.map(|(k, v)| (k, Some(v)))),
        };
        match next {
            None => {
                stack.pop();
            }
            Some(Err(e)) => return Err(e),
            Some(Ok((a, b))) => {
                seen += 1;
                push_into(a, &mut stack);
                if let Some(b) = b {
                    seen += 1;
                    push_into(b, &mut stack);
                }
            }
        }
    }
    Ok(seen)
}

/// Runs every entry point on `data` and checks that they agree. Returns the validated record count.
fn exercise(data: &[u8]) -> Result<usize, DecodeError> {
    // Values at a few positions, including out of range ones.
    for pos in [0, 1, 2, data.len() / 2, data.len().saturating_sub(1), data.len(), data.len() + 7] {
        let skipped = skip_value(data, pos);
        match decode_value(data, pos) {
            Ok((v, end)) => {
                assert_eq!(skipped, Ok(end));
                assert!(end > pos && end <= data.len());
                // A value that decoded is well formed all the way down.
                walk(v).expect("iterating a decoded value cannot fail");
                if let Value::Map(m) = v {
                    let _ = m.get(b"k").expect("lookup in a decoded map cannot fail");
                }
            }
            Err(e) => {
                assert_eq!(skipped, Err(e));
                assert!(e.offset >= pos.min(data.len()) && e.offset <= data.len().max(pos), "{e:?} at {pos}");
            }
        }
    }
    let validated = validate_chunk(data);
    let mut reader = EventReader::new(data);
    let mut n = 0;
    let mut end = 0;
    let mut err = None;
    for r in reader.by_ref() {
        match r {
            Ok(ev) => {
                n += 1;
                assert_eq!(ev.raw.as_ptr(), data[end..].as_ptr(), "records tile the chunk");
                end += ev.raw.len();
                walk(ev.body).expect("a yielded body is well formed");
                if let Some(m) = ev.metadata {
                    walk(m).expect("yielded metadata is well formed");
                }
                let _ = ev.time.kind();
            }
            Err(e) => {
                assert!(err.is_none(), "reader continued after an error");
                err = Some(e);
            }
        }
    }
    assert!(reader.next().is_none(), "reader is fused");
    assert_eq!(reader.offset(), end);
    match (validated, err) {
        (Ok(v), None) => {
            assert_eq!(v, n);
            assert_eq!(end, data.len());
        }
        (Err(a), Some(b)) => assert_eq!(a, b),
        (v, e) => panic!("validate_chunk {v:?} but reader error {e:?}"),
    }
    validated
}

/// Valid chunks with their record boundaries.
fn corpus() -> Vec<(Vec<u8>, Vec<usize>)> {
    let mut out = Vec::new();
    let t = EventTime::new(1_700_000_000, 42);

    // Rich bodies, modern and legacy mixed, with metadata.
    let mut w = EventWriter::new(RecordForm::Modern);
    let mut meta = MallocBuf::new();
    encode_str_map(&mut meta, &[("m", "v")]).unwrap();
    let mut ends = Vec::new();
    for (i, form) in [RecordForm::Modern, RecordForm::Legacy, RecordForm::Modern].into_iter().enumerate() {
        w.set_form(form);
        let s = w
            .append_with(t.add_nanos(i as u64), meta.as_slice(), |b| {
                enc::write_map_len(b, 9)?;
                enc::write_str(b, "str")?;
                enc::write_str(b, &"y".repeat(40))?;
                enc::write_str(b, "bin")?;
                enc::write_bin(b, &[1, 2, 3, 4])?;
                enc::write_str(b, "ext")?;
                enc::write_ext_meta(b, 3, 9)?;
                b.extend_from_slice(&[7, 7, 7])?;
                enc::write_str(b, "f")?;
                enc::write_f64(b, 0.5)?;
                enc::write_str(b, "g")?;
                enc::write_f32(b, -0.5)?;
                enc::write_str(b, "u")?;
                enc::write_u64(b, u64::MAX)?;
                enc::write_str(b, "i")?;
                enc::write_i32(b, -70000)?;
                enc::write_str(b, "arr")?;
                enc::write_array_len(b, 3)?;
                enc::write_nil(b)?;
                enc::write_bool(b, true)?;
                enc::write_map_len(b, 1)?;
                enc::write_str(b, "k")?;
                enc::write_array_len(b, 0)?;
                enc::write_str(b, "s16")?;
                enc::write_str(b, &"z".repeat(300))?;
                Ok(())
            })
            .unwrap();
        ends.push(s.range().end);
    }
    out.push((w.as_bytes().to_vec(), ends));

    // A repeated dummy batch.
    let mut w = EventWriter::new(RecordForm::Modern);
    let mut body = MallocBuf::new();
    encode_str_map(&mut body, &[("message", "dummy")]).unwrap();
    let s = w.append(t, b"", body.as_slice()).unwrap();
    w.repeat(&s, 4, t, 1000).unwrap();
    let len = s.range().len();
    out.push((w.as_bytes().to_vec(), (1..=5).map(|i| i * len).collect()));

    // Hand-encoded: int, float, ext8 times, group markers, non-map body and metadata.
    let recs: Vec<Vec<u8>> = vec![
        vec![0x92, 0x92, 0xff, 0x81, 0xa1, b'g', 0x01, 0x80],
        vec![0x92, 0xce, 0x65, 0x53, 0xf1, 0x00, 0x81, 0xa1, b'k', 0xa1, b'v'],
        vec![0x92, 0xcb, 0x41, 0xd9, 0x54, 0xfc, 0x40, 0x00, 0x00, 0x00, 0x80],
        vec![0x92, 0x92, 0xc7, 0x08, 0x00, 0, 0, 0, 5, 0, 0, 0, 6, 0xc0, 0x92, 0x01, 0xa0],
        vec![0x92, 0x92, 0xfe, 0x80, 0x80],
    ];
    let mut chunk = Vec::new();
    let mut ends = Vec::new();
    for r in recs {
        chunk.extend_from_slice(&r);
        ends.push(chunk.len());
    }
    out.push((chunk, ends));
    out
}

#[test]
fn corpus_is_valid() {
    for (chunk, ends) in corpus() {
        assert_eq!(exercise(&chunk), Ok(ends.len()));
        assert_eq!(ends.last(), Some(&chunk.len()));
    }
}

#[test]
fn every_prefix_is_truncated_or_fewer_records() {
    for (chunk, ends) in corpus() {
        for cut in 0..chunk.len() {
            let prefix = &chunk[..cut];
            let whole = ends.iter().filter(|&&e| e <= cut).count();
            match exercise(prefix) {
                Ok(n) => {
                    assert!(n < ends.len());
                    assert_eq!(n, whole);
                    assert!(cut == 0 || ends.contains(&cut), "Ok for a cut inside a record at {cut}");
                }
                Err(e) => {
                    assert_eq!(e.kind, DecodeErrorKind::Truncated, "cut {cut}: {e}");
                    assert!(!ends.contains(&cut));
                    assert_eq!(EventReader::new(prefix).filter(|r| r.is_ok()).count(), whole);
                }
            }
        }
    }
}

#[test]
fn every_prefix_of_a_value_is_truncated() {
    for (chunk, _) in corpus() {
        for ev in EventReader::new(&chunk) {
            let body = ev.unwrap().body;
            let Value::Map(m) = body else { continue };
            let raw = m.raw();
            for cut in 0..raw.len() {
                let e = skip_value(&raw[..cut], 0).unwrap_err();
                assert_eq!(e.kind, DecodeErrorKind::Truncated);
                assert_eq!(decode_value(&raw[..cut], 0).unwrap_err(), e);
            }
        }
    }
}

#[test]
fn lengths_claiming_more_than_available_are_truncated() {
    let headers: &[&[u8]] = &[
        &[0xa5],                         // fixstr 5
        &[0xd9, 0xff],                   // str8
        &[0xda, 0xff, 0xff],             // str16
        &[0xdb, 0xff, 0xff, 0xff, 0xff], // str32, 4 GB
        &[0xc4, 0x10],
        &[0xc5, 0x01, 0x00],
        &[0xc6, 0x7f, 0xff, 0xff, 0xff],
        &[0xc7, 0xff, 0x01],
        &[0xc8, 0xff, 0xff, 0x01],
        &[0xc9, 0xff, 0xff, 0xff, 0xff, 0x01],
        &[0xd8, 0x01], // fixext16
        &[0x9f],       // fixarray 15
        &[0x8f],       // fixmap 15
        &[0xdc, 0xff, 0xff],
        &[0xdd, 0xff, 0xff, 0xff, 0xff],
        &[0xde, 0xff, 0xff],
        &[0xdf, 0xff, 0xff, 0xff, 0xff],
        &[0x81, 0xdf, 0x80, 0, 0, 0], // nested
    ];
    for h in headers {
        let mut b = h.to_vec();
        b.extend_from_slice(&[0xc0; 3]);
        let e = decode_value(&b, 0).unwrap_err();
        assert_eq!(e.kind, DecodeErrorKind::Truncated, "{h:x?}");
        assert!(e.offset <= 1, "{h:x?}: {e:?}");
        assert_eq!(skip_value(&b, 0), Err(e));
        // The same as a record body.
        let mut rec = vec![0x92, 0x01];
        rec.extend_from_slice(&b);
        assert_eq!(validate_chunk(&rec).unwrap_err().kind, DecodeErrorKind::Truncated);
        assert_eq!(validate_chunk(&rec).unwrap_err().offset, e.offset + 2);
    }
    // A 15-element array of nils exactly fits; one nil fewer does not.
    let mut b = vec![0x9f];
    b.extend_from_slice(&[0xc0; 15]);
    assert_eq!(skip_value(&b, 0), Ok(16));
    assert_eq!(skip_value(&b[..15], 0).unwrap_err().kind, DecodeErrorKind::Truncated);
}

#[test]
fn errors_display_offsets() {
    let e = validate_chunk(&[0x92, 0x01, 0x80, 0x93]).unwrap_err();
    assert_eq!(e.kind, DecodeErrorKind::NotARecord);
    assert_eq!(e.offset, 3);
    assert!(e.to_string().contains("at byte 3"), "{e}");
    let e = validate_chunk(&[0x92, 0x01, 0x80, 0x92, 0x01, 0xa3, b'a']).unwrap_err();
    assert_eq!(e.to_string(), "truncated msgpack at byte 5");
    let e = validate_chunk(&[0x92, 0xc1, 0x80]).unwrap_err();
    assert_eq!(e.kind, DecodeErrorKind::ReservedMarker);
    assert_eq!(e.offset, 1);
}

fn interesting_byte() -> impl Strategy<Value = u8> {
    prop_oneof![
        3 => any::<u8>(),
        2 => prop::sample::select(vec![
            0x90, 0x91, 0x92, 0x93, 0x80, 0x81, 0x82, 0xa0, 0xa1, 0xc0, 0xc1, 0xc4, 0xc7, 0xca, 0xcb, 0xcc, 0xcf,
            0xd3, 0xd4, 0xd7, 0xd8, 0xd9, 0xdb, 0xdc, 0xdd, 0xde, 0xdf, 0x00, 0x01, 0xff, 0xfe,
        ]),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: if cfg!(miri) { 4 } else { 2000 }, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_panic(data in prop::collection::vec(interesting_byte(), 0..256)) {
        let _ = exercise(&data);
        // Prefixed with a plausible record start, to get past the first checks more often.
        let mut rec = vec![0x92, 0x92, 0xd7, 0x00, 0, 0, 0, 1, 0, 0, 0, 1];
        rec.extend_from_slice(&data);
        let _ = exercise(&rec);
    }

    #[test]
    fn byte_flips_in_valid_chunks_never_panic(
        which in 0usize..3,
        flips in prop::collection::vec((any::<prop::sample::Index>(), interesting_byte()), 1..6),
        cut in any::<prop::sample::Index>(),
        truncate in any::<bool>(),
    ) {
        let (mut chunk, _) = corpus().swap_remove(which);
        for (i, b) in &flips {
            let at = i.index(chunk.len());
            chunk[at] = *b;
        }
        if truncate {
            chunk.truncate(cut.index(chunk.len() + 1));
        }
        let _ = exercise(&chunk);
    }
}
