//! The token cursor against the value decoder: on random valid values both must see the same
//! tokens in the same order, and on arbitrary bytes the cursor must never panic and must agree with
//! `skip_value` on where a value ends.

use flb_plugin_sdk::events::{decode_value, skip_value, ArrayIter, Cursor, DecodeError, MapIter, Token, Value};
use proptest::prelude::*;

/// A model msgpack value. `w` picks the encoding width (0 = smallest, 1 = 16 bit, 2 = 32 bit) where
/// msgpack has a choice, so that every header form gets exercised.
#[derive(Debug, Clone)]
enum M {
    Nil,
    Bool(bool),
    Int(i64, u8),
    UInt(u64),
    F32(f32),
    F64(f64),
    Str(Vec<u8>, u8),
    Bin(Vec<u8>, u8),
    Ext(i8, Vec<u8>, u8),
    Arr(Vec<M>, u8),
    Map(Vec<(M, M)>, u8),
}

/// A token with its payload owned, comparable across walks (floats by their bits).
#[derive(Debug, Clone, PartialEq, Eq)]
enum T {
    Nil,
    Bool(bool),
    Int(i64),
    UInt(u64),
    F32(u32),
    F64(u64),
    Str(Vec<u8>),
    Bin(Vec<u8>),
    Ext(i8, Vec<u8>),
    Array(usize),
    Map(usize),
}

fn len_header(out: &mut Vec<u8>, n: usize, w: u8, fix: Option<(u8, usize)>, m8: Option<u8>, m16: u8, m32: u8) {
    match (w % 3, fix, m8) {
        (0, Some((base, max)), _) if n <= max => out.push(base | n as u8),
        (0, _, Some(m)) if n <= 0xff => out.extend_from_slice(&[m, n as u8]),
        (0 | 1, _, _) if n <= 0xffff => {
            out.push(m16);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        }
        _ => {
            out.push(m32);
            out.extend_from_slice(&(n as u32).to_be_bytes());
        }
    }
}

fn encode(out: &mut Vec<u8>, m: &M) {
    match m {
        M::Nil => out.push(0xc0),
        M::Bool(b) => out.push(if *b { 0xc3 } else { 0xc2 }),
        M::Int(i, w) => {
            let i = *i;
            match w % 4 {
                0 if (-32..=127).contains(&i) => out.push(i as u8),
                0 | 1 if (-128..=127).contains(&i) => out.extend_from_slice(&[0xd0, i as u8]),
                0 | 1 if (0..=0xffff).contains(&i) => {
                    out.push(0xcd);
                    out.extend_from_slice(&(i as u16).to_be_bytes());
                }
                2 if i >= 0 => {
                    out.push(0xcf);
                    out.extend_from_slice(&(i as u64).to_be_bytes());
                }
                _ if i32::try_from(i).is_ok() => {
                    out.push(0xd2);
                    out.extend_from_slice(&(i as i32).to_be_bytes());
                }
                _ => {
                    out.push(0xd3);
                    out.extend_from_slice(&i.to_be_bytes());
                }
            }
        }
        M::UInt(u) => {
            out.push(0xcf);
            out.extend_from_slice(&u.to_be_bytes());
        }
        M::F32(f) => {
            out.push(0xca);
            out.extend_from_slice(&f.to_be_bytes());
        }
        M::F64(f) => {
            out.push(0xcb);
            out.extend_from_slice(&f.to_be_bytes());
        }
        M::Str(s, w) => {
            len_header(out, s.len(), *w, Some((0xa0, 31)), Some(0xd9), 0xda, 0xdb);
            out.extend_from_slice(s);
        }
        M::Bin(b, w) => {
            len_header(out, b.len(), *w, None, Some(0xc4), 0xc5, 0xc6);
            out.extend_from_slice(b);
        }
        M::Ext(t, d, w) => {
            let fixed = [(1, 0xd4), (2, 0xd5), (4, 0xd6), (8, 0xd7), (16, 0xd8)];
            match fixed.iter().find(|(n, _)| *n == d.len()) {
                Some(&(_, marker)) if w % 3 == 0 => out.push(marker),
                _ => len_header(out, d.len(), *w, None, Some(0xc7), 0xc8, 0xc9),
            }
            out.push(*t as u8);
            out.extend_from_slice(d);
        }
        M::Arr(items, w) => {
            len_header(out, items.len(), *w, Some((0x90, 15)), None, 0xdc, 0xdd);
            for i in items {
                encode(out, i);
            }
        }
        M::Map(pairs, w) => {
            len_header(out, pairs.len(), *w, Some((0x80, 15)), None, 0xde, 0xdf);
            for (k, v) in pairs {
                encode(out, k);
                encode(out, v);
            }
        }
    }
}

/// The tokens of the model, in order.
fn model_tokens(m: &M, out: &mut Vec<T>) {
    match m {
        M::Nil => out.push(T::Nil),
        M::Bool(b) => out.push(T::Bool(*b)),
        M::Int(i, _) => out.push(T::Int(*i)),
        M::UInt(u) => out.push(match i64::try_from(*u) {
            Ok(i) => T::Int(i),
            Err(_) => T::UInt(*u),
        }),
        M::F32(f) => out.push(T::F32(f.to_bits())),
        M::F64(f) => out.push(T::F64(f.to_bits())),
        M::Str(s, _) => out.push(T::Str(s.clone())),
        M::Bin(b, _) => out.push(T::Bin(b.clone())),
        M::Ext(t, d, _) => out.push(T::Ext(*t, d.clone())),
        M::Arr(items, _) => {
            out.push(T::Array(items.len()));
            for i in items {
                model_tokens(i, out);
            }
        }
        M::Map(pairs, _) => {
            out.push(T::Map(pairs.len()));
            for (k, v) in pairs {
                model_tokens(k, out);
                model_tokens(v, out);
            }
        }
    }
}

fn own_token(t: Token<'_>) -> T {
    match t {
        Token::Nil => T::Nil,
        Token::Bool(b) => T::Bool(b),
        Token::Int(i) => T::Int(i),
        Token::UInt(u) => T::UInt(u),
        Token::F32(f) => T::F32(f.to_bits()),
        Token::F64(f) => T::F64(f.to_bits()),
        Token::Str(s) => T::Str(s.to_vec()),
        Token::Bin(b) => T::Bin(b.to_vec()),
        Token::Ext(t, d) => T::Ext(t, d.to_vec()),
        Token::ArrayHeader(n) => T::Array(n as usize),
        Token::MapHeader(n) => T::Map(n as usize),
    }
}

fn own_value(v: &Value<'_>) -> T {
    match *v {
        Value::Nil => T::Nil,
        Value::Bool(b) => T::Bool(b),
        Value::Int(i) => T::Int(i),
        Value::UInt(u) => T::UInt(u),
        Value::F32(f) => T::F32(f.to_bits()),
        Value::F64(f) => T::F64(f.to_bits()),
        Value::Str(s) => T::Str(s.to_vec()),
        Value::Bin(b) => T::Bin(b.to_vec()),
        Value::Ext(t, d) => T::Ext(t, d.to_vec()),
        Value::Array(a) => T::Array(a.len()),
        Value::Map(m) => T::Map(m.len()),
    }
}

/// Reads one whole value from the cursor, token by token, with a count of the values still owed
/// instead of a stack.
fn cursor_tokens(c: &mut Cursor<'_>) -> Result<Vec<T>, DecodeError> {
    let mut out = Vec::new();
    let mut pending = 1usize;
    while pending > 0 {
        pending -= 1;
        let t = c.next_token()?;
        match t {
            Token::ArrayHeader(n) => pending += n as usize,
            Token::MapHeader(n) => pending += 2 * n as usize,
            _ => {}
        }
        out.push(own_token(t));
    }
    Ok(out)
}

enum Work<'a> {
    Val(Value<'a>),
    A(ArrayIter<'a>),
    M(MapIter<'a>),
}

/// The tokens of a decoded value, from its lazy containers' iterators (an explicit stack, so the
/// order is the encoded order: a key's whole subtree before its value). Checks on the way that each
/// nested container's `raw()` is what a cursor walk of it covers.
fn value_tokens(v: Value<'_>) -> Vec<T> {
    let mut out = Vec::new();
    let mut stack = vec![Work::Val(v)];
    while let Some(w) = stack.pop() {
        match w {
            Work::Val(v) => {
                out.push(own_value(&v));
                match v {
                    Value::Array(a) => {
                        let mut c = a.cursor();
                        for _ in 0..a.len() {
                            c.skip_value().expect("a checked array's elements skip");
                        }
                        assert_eq!(c.pos(), a.raw().len());
                        stack.push(Work::A(a.iter()));
                    }
                    Value::Map(m) => {
                        let mut c = m.cursor();
                        for _ in 0..2 * m.len() {
                            c.skip_value().expect("a checked map's pairs skip");
                        }
                        assert_eq!(c.pos(), m.raw().len());
                        stack.push(Work::M(m.iter()));
                    }
                    _ => {}
                }
            }
            Work::A(mut it) => {
                if let Some(r) = it.next() {
                    let x = r.expect("iterating a decoded array cannot fail");
                    stack.push(Work::A(it));
                    stack.push(Work::Val(x));
                }
            }
            Work::M(mut it) => {
                if let Some(r) = it.next() {
                    let (k, v) = r.expect("iterating a decoded map cannot fail");
                    stack.push(Work::M(it));
                    stack.push(Work::Val(v));
                    stack.push(Work::Val(k));
                }
            }
        }
    }
    out
}

fn leaf() -> impl Strategy<Value = M> {
    let ext_len = prop::sample::select(vec![0usize, 1, 2, 3, 4, 8, 16, 17, 300]);
    prop_oneof![
        Just(M::Nil),
        any::<bool>().prop_map(M::Bool),
        (any::<i64>(), any::<u8>()).prop_map(|(i, w)| M::Int(i, w)),
        (-40i64..70_000, any::<u8>()).prop_map(|(i, w)| M::Int(i, w)),
        ((i64::MAX as u64 + 1)..=u64::MAX).prop_map(M::UInt),
        any::<f32>().prop_map(M::F32),
        any::<f64>().prop_map(M::F64),
        (prop::collection::vec(any::<u8>(), 0..40), any::<u8>()).prop_map(|(s, w)| M::Str(s, w)),
        ("[a-z]{0,4}", any::<u8>()).prop_map(|(s, w)| M::Str(s.into_bytes(), w)),
        (prop::collection::vec(any::<u8>(), 0..300), any::<u8>()).prop_map(|(b, w)| M::Bin(b, w)),
        (any::<i8>(), ext_len, any::<u8>()).prop_map(|(t, n, w)| M::Ext(t, vec![t as u8; n], w)),
    ]
}

fn value() -> impl Strategy<Value = M> {
    // Under Miri (make miri) smaller trees: every step is interpreted, and the prefix tests are quadratic.
    let (depth, nodes) = if cfg!(miri) { (3, 16) } else { (6, 200) };
    leaf().prop_recursive(depth, nodes, 10, |inner| {
        prop_oneof![
            (prop::collection::vec(inner.clone(), 0..10), any::<u8>()).prop_map(|(v, w)| M::Arr(v, w)),
            (prop::collection::vec((inner.clone(), inner), 0..10), any::<u8>()).prop_map(|(v, w)| M::Map(v, w)),
        ]
    })
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

/// Everything the cursor offers, at `pos` of arbitrary bytes: no panic, no move on error, and the
/// same verdict as `skip_value` on the value there.
fn exercise_cursor(data: &[u8], pos: usize) {
    let start = Cursor::at(data, pos);
    let mut c = start;
    let walked = cursor_tokens(&mut c).map(|_| c.pos());
    match (walked, skip_value(data, pos)) {
        (Ok(a), Ok(b)) => assert_eq!(a, b),
        (Err(e), Err(_)) => assert!(e.offset >= pos.min(data.len()), "{e:?} before {pos}"),
        (a, b) => panic!("cursor walk {a:?} but skip_value {b:?} at {pos} of {data:x?}"),
    }
    let mut c = start;
    match c.skip_value() {
        Ok(()) => assert_eq!(Ok(c.pos()), skip_value(data, pos)),
        Err(e) => {
            assert_eq!(Err(e), skip_value(data, pos));
            assert_eq!(c.pos(), pos);
        }
    }
    let mut c = start;
    match c.next_token() {
        Ok(t) => {
            assert!(c.pos() > pos && c.pos() <= data.len());
            // Compared owned: a NaN float token is not equal to itself.
            assert_eq!(start.peek_token().map(own_token), Ok(own_token(t)));
        }
        Err(e) => {
            assert_eq!(c.pos(), pos);
            assert_eq!(start.peek_token(), Err(e));
        }
    }
    for read in [Cursor::read_str, Cursor::read_bin] {
        let mut c = start;
        match read(&mut c) {
            Ok(Some(_)) => assert!(c.pos() > pos),
            Ok(None) | Err(_) => assert_eq!(c.pos(), pos),
        }
    }
    let mut c = start;
    match c.read_value() {
        Ok(_) => assert_eq!(Ok(c.pos()), skip_value(data, pos)),
        Err(e) => {
            assert_eq!(Err(e), decode_value(data, pos).map(|_| ()));
            assert_eq!(c.pos(), pos);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: if cfg!(miri) { 4 } else { 1000 }, ..ProptestConfig::default() })]

    #[test]
    fn cursor_and_iterators_see_the_same_tokens(m in value()) {
        let mut b = Vec::new();
        encode(&mut b, &m);
        let mut want = Vec::new();
        model_tokens(&m, &mut want);

        let mut c = Cursor::new(&b);
        let got = cursor_tokens(&mut c).unwrap();
        prop_assert!(c.is_at_end());
        prop_assert_eq!(&got, &want);

        let (v, end) = decode_value(&b, 0).unwrap();
        prop_assert_eq!(end, b.len());
        prop_assert_eq!(&value_tokens(v), &want);

        let mut c = Cursor::new(&b);
        c.skip_value().unwrap();
        prop_assert_eq!(c.pos(), b.len());

        // Inside a container, the container's own cursor sees its elements.
        match v {
            Value::Array(a) => {
                let mut c = a.cursor();
                let mut inner = Vec::new();
                for _ in 0..a.len() {
                    inner.extend(cursor_tokens(&mut c).unwrap());
                }
                prop_assert_eq!(&inner[..], &want[1..]);
            }
            Value::Map(m) => {
                let mut c = m.cursor();
                let mut inner = Vec::new();
                for _ in 0..2 * m.len() {
                    inner.extend(cursor_tokens(&mut c).unwrap());
                }
                prop_assert_eq!(&inner[..], &want[1..]);
            }
            _ => {}
        }
    }

    #[test]
    fn every_prefix_of_a_random_value_is_truncated(m in value()) {
        let mut b = Vec::new();
        encode(&mut b, &m);
        for cut in 0..b.len() {
            let mut c = Cursor::new(&b[..cut]);
            let e = cursor_tokens(&mut c).unwrap_err();
            prop_assert_eq!(e.kind, flb_plugin_sdk::events::DecodeErrorKind::Truncated);
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic(data in prop::collection::vec(interesting_byte(), 0..256)) {
        for pos in [0, 1, 2, data.len() / 2, data.len().saturating_sub(1), data.len(), data.len() + 7] {
            exercise_cursor(&data, pos);
        }
        // A whole buffer read token by token until it ends or fails.
        let mut c = Cursor::new(&data);
        while !c.is_at_end() {
            let before = c.pos();
            if c.next_token().is_err() {
                prop_assert_eq!(c.pos(), before);
                break;
            }
            prop_assert!(c.pos() > before);
        }
    }
}
