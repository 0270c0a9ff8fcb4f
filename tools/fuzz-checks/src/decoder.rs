//! The SDK's event decoder and cursor on arbitrary bytes: no panic, no read out of bounds (the fuzz
//! build runs under AddressSanitizer), every entry point agreeing with the others about where each
//! value ends and whether it is well formed, and every record that decodes re-encoding to the same
//! record.

use flb_plugin_sdk::events::{
    decode_value, skip_value, validate_chunk, ArrayIter, Cursor, DecodeError, EventReader, EventTime, EventWriter,
    MapIter, Token, Value,
};

/// The target: see the module doc.
pub fn decoder(data: &[u8]) {
    for pos in [0, 1, 2, data.len() / 2, data.len().saturating_sub(1), data.len(), data.len() + 7] {
        values_agree(data, pos);
    }
    let records = reader_agrees_with_validate(data);
    // A token walk from the start, value after value, until the bytes or the values run out.
    let mut pos = 0;
    while pos < data.len() {
        match token_walk(data, pos) {
            Ok(end) => pos = end,
            Err(_) => break,
        }
    }
    if let Ok(n) = records {
        reencode(data, n);
    }
}

/// `skip_value`, `decode_value`, `Cursor::skip_value`, `Cursor::read_value` and a token-by-token
/// walk agree on the value at `pos`.
fn values_agree(data: &[u8], pos: usize) {
    let skipped = skip_value(data, pos);
    let mut c = Cursor::at(data, pos);
    let cursor_skip = c.skip_value().map(|()| c.pos());
    assert_eq!(cursor_skip, skipped, "Cursor::skip_value and skip_value disagree at {pos}");
    let mut c = Cursor::at(data, pos);
    let read = c.read_value().map(|_| c.pos());
    assert_eq!(read, skipped, "Cursor::read_value and skip_value disagree at {pos}");
    match decode_value(data, pos) {
        Ok((v, end)) => {
            assert_eq!(skipped, Ok(end));
            assert!(end > pos && end <= data.len());
            assert_eq!(walk(v), Ok(()), "iterating a decoded value cannot fail");
            if let Value::Map(m) = v {
                assert!(m.get(b"k").is_ok(), "a lookup in a decoded map cannot fail");
                assert_eq!(m.raw(), &data[pos..end]);
            }
            if let Value::Array(a) = v {
                assert_eq!(a.raw(), &data[pos..end]);
            }
            assert_eq!(token_walk(data, pos), Ok(end), "the token walk ends where the value does");
        }
        Err(e) => {
            assert_eq!(skipped, Err(e));
            assert!(e.offset >= pos.min(data.len()) && e.offset <= data.len().max(pos), "{e:?} at {pos}");
            assert!(token_walk(data, pos).is_err(), "the token walk accepted a value skip_value refused at {pos}");
        }
    }
}

/// Walks the one value at `pos` token by token, counting the values still owed by open
/// containers; returns where it ends. Each token is also peeked first: peeking does not move and
/// sees the same token.
fn token_walk(data: &[u8], pos: usize) -> Result<usize, DecodeError> {
    let mut c = Cursor::at(data, pos);
    let mut owed: u64 = 1;
    while owed > 0 {
        let at = c.pos();
        let peeked = c.peek_token();
        assert_eq!(c.pos(), at, "peek_token moved the cursor");
        let t = c.next_token();
        assert!(same(&peeked, &t), "peek_token and next_token disagree at {at}: {peeked:?} / {t:?}");
        let t = t?;
        assert!(c.pos() > at && c.pos() <= data.len(), "a token ends past the input or where it began");
        owed -= 1;
        match t {
            Token::ArrayHeader(n) => owed += u64::from(n),
            Token::MapHeader(n) => owed += 2 * u64::from(n),
            _ => {}
        }
    }
    Ok(c.pos())
}

/// Equal results, floats compared bit for bit (a NaN is the same NaN).
fn same(a: &Result<Token<'_>, DecodeError>, b: &Result<Token<'_>, DecodeError>) -> bool {
    match (a, b) {
        (Ok(Token::F64(x)), Ok(Token::F64(y))) => x.to_bits() == y.to_bits(),
        (Ok(Token::F32(x)), Ok(Token::F32(y))) => x.to_bits() == y.to_bits(),
        _ => a == b,
    }
}

enum Level<'a> {
    A(ArrayIter<'a>),
    M(MapIter<'a>),
}

/// Visits every value nested in `v` with an explicit stack (deep nesting must not need a deep
/// stack); the first error, if any.
fn walk(v: Value<'_>) -> Result<(), DecodeError> {
    fn push_into<'a>(v: Value<'a>, stack: &mut Vec<Level<'a>>) {
        match v {
            Value::Array(a) => stack.push(Level::A(a.iter())),
            Value::Map(m) => stack.push(Level::M(m.iter())),
            _ => {}
        }
    }
    let mut stack = Vec::new();
    push_into(v, &mut stack);
    while let Some(top) = stack.last_mut() {
        let next = match top {
            Level::A(it) => it.next().map(|r| r.map(|v| (v, None))),
            Level::M(it) => it.next().map(|r| r.map(|(k, v)| (k, Some(v)))),
        };
        match next {
            None => {
                stack.pop();
            }
            Some(Err(e)) => return Err(e),
            Some(Ok((a, b))) => {
                push_into(a, &mut stack);
                if let Some(b) = b {
                    push_into(b, &mut stack);
                }
            }
        }
    }
    Ok(())
}

/// `EventReader` and `validate_chunk` agree: the same record count, or the same first error, and
/// the records tile the chunk.
fn reader_agrees_with_validate(data: &[u8]) -> Result<usize, DecodeError> {
    let validated = validate_chunk(data);
    let mut reader = EventReader::new(data);
    let (mut n, mut end, mut err) = (0, 0, None);
    for r in reader.by_ref() {
        match r {
            Ok(ev) => {
                n += 1;
                assert_eq!(ev.raw.as_ptr(), data[end..].as_ptr(), "records tile the chunk");
                end += ev.raw.len();
                assert_eq!(walk(ev.body), Ok(()), "a yielded body is well formed");
                if let Some(m) = ev.metadata {
                    assert_eq!(walk(m), Ok(()), "yielded metadata is well formed");
                }
                let _ = ev.time.kind();
            }
            Err(e) => {
                assert!(err.is_none(), "the reader went on after an error");
                err = Some(e);
            }
        }
    }
    assert!(reader.next().is_none(), "the reader is fused");
    assert_eq!(reader.offset(), end);
    match (validated, err) {
        (Ok(v), None) => {
            assert_eq!(v, n);
            assert_eq!(end, data.len());
        }
        (Err(a), Some(b)) => assert_eq!(a, b),
        (v, e) => panic!("validate_chunk says {v:?} but the reader's error is {e:?}"),
    }
    validated
}

/// Every record of a valid chunk whose body and metadata are maps, appended again with the SDK's
/// encoder in its own form, decodes to the same time, metadata and body.
fn reencode(data: &[u8], records: usize) {
    let mut count = 0;
    for ev in EventReader::new(data) {
        let Ok(ev) = ev else { panic!("a chunk validate_chunk accepted failed to read") };
        count += 1;
        let Some(body) = ev.body.as_map() else { continue };
        let meta = match ev.metadata {
            None => &[][..],
            Some(m) => match m.as_map() {
                Some(m) => m.raw(),
                None => continue,
            },
        };
        let mut w = EventWriter::new(ev.form);
        if let Err(e) = w.append(ev.time, meta, body.raw()) {
            panic!("re-encoding a decoded record failed: {e}");
        }
        let again: Vec<_> = EventReader::new(w.as_bytes()).collect();
        let [Ok(back)] = again.as_slice() else { panic!("the re-encoded record does not decode: {again:?}") };
        // The wire time holds 32-bit seconds (as in Fluent Bit): that is what must come back.
        let t = ev.time.to_ext_bytes();
        let expected = EventTime::from_ext_payload([t[2], t[3], t[4], t[5], t[6], t[7], t[8], t[9]]);
        assert_eq!(back.time, expected, "the time changed on re-encoding");
        assert_eq!(back.form, ev.form);
        assert_eq!(back.body.as_map().map(|m| m.raw()), Some(body.raw()));
        match ev.metadata {
            Some(_) => assert_eq!(back.metadata.and_then(|m| m.as_map()).map(|m| m.raw()), Some(meta)),
            None => assert!(back.metadata.is_none()),
        }
    }
    assert_eq!(count, records);
}
