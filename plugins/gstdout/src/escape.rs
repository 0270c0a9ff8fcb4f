//! JSON string escaping exactly as Fluent Bit 5.1.1 writes it (`flb_utils_write_str` with
//! `json.escape_unicode` on, its default), on x86-64 where `char` is signed.
//!
//! - `"` `\` and `\n \r \t \b \f` get their short escapes; other bytes below 0x20 and 0x7f become
//!   `\u00XX` (lowercase hex). `/` is not escaped.
//! - A valid UTF-8 sequence becomes `\uXXXX` (lowercase), a surrogate pair above U+FFFF.
//! - Invalid UTF-8: a lead byte whose sequence would run past the end of the string is dropped; any
//!   other byte (or run of bytes) that does not form a valid sequence is written as the private-use
//!   character U+E0XX (`XX` = the byte), raw UTF-8 (`EE 8x xx`). Overlong two-byte forms
//!   (`C0 80`) decode as Fluent Bit's decoder decodes them (to `\u0000`).
//!
//! So every string comes out as valid JSON text.

/// Short escapes and `\u00XX` escapes for ASCII bytes; 0 = copy as is.
const fn escape_class() -> [u8; 128] {
    let mut t = [0u8; 128];
    let mut i = 0;
    while i < 0x20 {
        t[i] = b'u';
        i += 1;
    }
    t[0x7f] = b'u';
    t[b'"' as usize] = b'"';
    t[b'\\' as usize] = b'\\';
    t[b'\n' as usize] = b'n';
    t[b'\r' as usize] = b'r';
    t[b'\t' as usize] = b't';
    t[0x08] = b'b';
    t[0x0c] = b'f';
    t
}

static ESCAPE: [u8; 128] = escape_class();
const HEX: &[u8; 16] = b"0123456789abcdef";

/// True when the byte can be copied unchanged.
#[inline(always)]
fn plain(b: u8) -> bool {
    b < 0x80 && ESCAPE[b as usize] == 0
}

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// The high bit of each byte of `w` that needs escaping (below 0x20, `"`, `\`, 0x7f and above).
/// Bits above the lowest one may be false (a borrow or carry runs up from a byte that does need
/// escaping), so only the lowest set bit is meaningful.
#[inline(always)]
fn escape_bits(w: u64) -> u64 {
    let zero = |v: u64| v.wrapping_sub(ONES) & !v & HIGHS;
    let below_space = w.wrapping_sub(ONES * 0x20) & !w & HIGHS;
    // 0x7f + 1 sets the high bit; bytes >= 0x80 have it already.
    let del_or_high = (w | w.wrapping_add(ONES)) & HIGHS;
    below_space | del_or_high | zero(w ^ (ONES * u64::from(b'"'))) | zero(w ^ (ONES * u64::from(b'\\')))
}

/// The index of the first byte of `data[i..end]` that cannot be copied as is, or `end`. Reads eight
/// bytes at a time (most strings are long runs of plain ASCII), also past `end` while `data` has
/// bytes there: a short string is then one word.
#[inline(always)]
pub(crate) fn next_escape(data: &[u8], mut i: usize, end: usize) -> usize {
    while i < end {
        let Some(w) = data.get(i..).and_then(|r| r.first_chunk::<8>()) else {
            while i < end && plain(data[i]) {
                i += 1;
            }
            return i;
        };
        let bits = escape_bits(u64::from_le_bytes(*w));
        if bits != 0 {
            return end.min(i + (bits.trailing_zeros() / 8) as usize);
        }
        i += 8;
    }
    end
}

/// How many of the first bytes of the sixteen in `v` (read little-endian) can be copied as is, 16
/// when all can: the check of a short string in two words, inlined where strings are printed.
#[inline(always)]
pub(crate) fn plain_prefix_word(v: u128) -> usize {
    let lo = escape_bits(v as u64);
    if lo != 0 {
        return (lo.trailing_zeros() / 8) as usize;
    }
    8 + (escape_bits((v >> 64) as u64).trailing_zeros() / 8) as usize
}

/// Appends `data[from..to]`. A run of up to 16 bytes with 16 bytes readable in `data` is copied as
/// one fixed-size block and the excess cut off again, instead of a call to `memcpy`.
#[inline(always)]
pub(crate) fn copy_run(out: &mut Vec<u8>, data: &[u8], from: usize, to: usize) {
    let n = to - from;
    if n <= 16 {
        if let Some(w) = data.get(from..).and_then(|r| r.first_chunk::<16>()) {
            let len = out.len();
            out.extend_from_slice(w);
            out.truncate(len + n);
            return;
        }
    }
    out.extend_from_slice(&data[from..to]);
}

/// `flb_utf8_len`: the sequence length a lead byte announces (1 for continuation bytes, up to 6).
#[inline]
fn utf8_len(b: u8) -> usize {
    match b {
        0x00..=0xbf => 1,
        0xc0..=0xdf => 2,
        0xe0..=0xef => 3,
        0xf0..=0xf7 => 4,
        0xf8..=0xfb => 5,
        0xfc..=0xff => 6,
    }
}

/// One step of `flb_utf8_decode`. `state`: 0 = start, n = continuation bytes expected.
/// Returns Some(true) when a code point is complete, Some(false) to continue, None on reject.
#[inline]
fn decode_step(state: &mut u32, cp: &mut u32, b: u8) -> Option<bool> {
    if *state == 0 {
        if b <= 0x7f {
            *cp = u32::from(b);
            return Some(true);
        } else if b & 0xe0 == 0xc0 {
            *cp = u32::from(b & 0x1f);
            *state = 1;
        } else if b & 0xf0 == 0xe0 {
            *cp = u32::from(b & 0x0f);
            *state = 2;
        } else if b & 0xf8 == 0xf0 {
            *cp = u32::from(b & 0x07);
            *state = 3;
        } else {
            return None;
        }
    } else if b & 0xc0 == 0x80 {
        *cp = (*cp << 6) | u32::from(b & 0x3f);
        *state -= 1;
    } else {
        return None;
    }
    if *state == 0 {
        if (0xd800..=0xdfff).contains(cp) || *cp > 0x10ffff {
            return None;
        }
        return Some(true);
    }
    Some(false)
}

#[inline]
fn push_u4(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&[
        b'\\',
        b'u',
        HEX[((v >> 12) & 0xf) as usize],
        HEX[((v >> 8) & 0xf) as usize],
        HEX[((v >> 4) & 0xf) as usize],
        HEX[(v & 0xf) as usize],
    ]);
}

/// Writes `s` escaped (without the surrounding quotes).
#[inline]
pub fn write_json_str(out: &mut Vec<u8>, s: &[u8]) {
    write_json_str_at(out, s, 0, s.len());
}

/// Writes the string `data[start..end]` escaped (without the surrounding quotes). The bytes of
/// `data` after `end` are never written, only read ahead by the scan and the copy.
#[inline]
pub(crate) fn write_json_str_at(out: &mut Vec<u8>, data: &[u8], start: usize, end: usize) {
    // The string alone: what the escapes may look at (a sequence running past it is truncated).
    let s = &data[..end];
    let mut i = start;
    while i < end {
        let stop = next_escape(data, i, end);
        if stop > i {
            copy_run(out, data, i, stop);
        }
        if stop >= end {
            break;
        }
        let b = s[stop];
        if b < 0x80 {
            let e = ESCAPE[b as usize];
            if e == b'u' {
                push_u4(out, u32::from(b));
            } else {
                out.extend_from_slice(&[b'\\', e]);
            }
            i = stop + 1;
        } else {
            i = write_high(out, s, stop);
        }
    }
}

/// The branch of `flb_utils_write_str_escaped` a byte >= 0x80 takes when `char` is signed.
/// Returns the index of the next byte to process.
#[cold]
#[inline(never)]
fn write_high_cold(out: &mut Vec<u8>, s: &[u8], i: usize) -> usize {
    let len = utf8_len(s[i]);
    if i + len > s.len() {
        // "skip truncated UTF-8": the byte is dropped.
        return i + 1;
    }
    let mut state = 0u32;
    let mut cp = 0u32;
    let mut taken = 0usize;
    let mut valid = true;
    for k in 0..len {
        match decode_step(&mut state, &mut cp, s[i + k]) {
            None => {
                valid = false;
                // A bad lead byte is consumed alone; a bad continuation byte is left for the next
                // round and only the bytes before it are mapped.
                taken = if k == 0 { 1 } else { k };
                break;
            }
            Some(_) => taken = k + 1,
        }
    }
    if valid {
        if cp > 0xffff {
            let c = cp - 0x10000;
            push_u4(out, 0xd800 + (c >> 10));
            push_u4(out, 0xdc00 + (c & 0x3ff));
        } else {
            push_u4(out, cp);
        }
    } else {
        for &b in &s[i..i + taken] {
            out.extend_from_slice(&[0xee, 0x80 | (b >> 6), 0x80 | (b & 0x3f)]);
        }
    }
    i + taken
}

#[inline]
fn write_high(out: &mut Vec<u8>, s: &[u8], i: usize) -> usize {
    // Fast path for the common two-byte sequences (Latin-1 supplement and friends).
    let b0 = s[i];
    if (0xc2..=0xdf).contains(&b0) {
        if let Some(&b1) = s.get(i + 1) {
            if b1 & 0xc0 == 0x80 {
                push_u4(out, (u32::from(b0 & 0x1f) << 6) | u32::from(b1 & 0x3f));
                return i + 2;
            }
        }
    }
    write_high_cold(out, s, i)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn esc(s: &[u8]) -> String {
        let mut v = Vec::new();
        write_json_str(&mut v, s);
        String::from_utf8(v).unwrap()
    }

    /// The bytes Fluent Bit does not copy as they are, written out from its rules, not read from
    /// the table the scanner uses.
    fn needs_escape(b: u8) -> bool {
        b < 0x20 || b == b'"' || b == b'\\' || b >= 0x7f
    }

    /// The first index in `data[i..end]` of a byte that needs escaping, one byte at a time.
    fn reference_next(data: &[u8], i: usize, end: usize) -> usize {
        (i..end).find(|&k| needs_escape(data[k])).unwrap_or(end)
    }

    #[test]
    fn the_scan_finds_every_byte_value_at_every_position_and_alignment() {
        for b in 0..=255u8 {
            for len in [1usize, 7, 8, 9, 15, 16, 17, 23, 24, 40] {
                for start in 0..8 {
                    for at in 0..len {
                        // plain filler all around, so only `b` can stop the scan
                        let mut data = vec![b'a'; start + len + 24];
                        data[start + at] = b;
                        let end = start + len;
                        assert_eq!(
                            next_escape(&data, start, end),
                            reference_next(&data, start, end),
                            "byte {b:#04x} at {at} of {len} from {start}"
                        );
                        // the string at the very end of the buffer: no bytes to read ahead
                        assert_eq!(
                            next_escape(&data[..end], start, end),
                            reference_next(&data, start, end),
                            "byte {b:#04x} at {at} of {len} from {start}, at the end"
                        );
                        if len <= 16 {
                            let w = data[start..start + 16].first_chunk::<16>().copied().unwrap_or_default();
                            let want = reference_next(&w, 0, 16);
                            assert_eq!(plain_prefix_word(u128::from_le_bytes(w)), want, "byte {b:#04x} at {at} of 16");
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn the_scan_ignores_what_follows_the_string() {
        // Any byte right after the end (and a byte needing escape everywhere after it) is read
        // ahead but never reported.
        for b in 0..=255u8 {
            for len in 0..20 {
                let mut data = vec![b'x'; len];
                data.push(b);
                data.extend_from_slice(b"\"\\\x00\xff");
                data.extend(std::iter::repeat_n(b'\n', 16));
                assert_eq!(next_escape(&data, 0, len), len, "byte {b:#04x} after {len}");
            }
        }
    }

    #[test]
    fn the_scan_agrees_on_every_pair_and_on_random_strings() {
        for x in 0..=255u8 {
            for y in 0..=255u8 {
                let data = [b'a', b'a', b'a', x, y, b'a', b'a', b'a', b'a', b'a', b'a', b'a'];
                for start in 0..4 {
                    assert_eq!(next_escape(&data, start, 5), reference_next(&data, start, 5), "{x:#04x} {y:#04x}");
                }
            }
        }
        let mut r: u64 = 0x2545_f491_4f6c_dd1d;
        for _ in 0..20_000 {
            r ^= r << 13;
            r ^= r >> 7;
            r ^= r << 17;
            let len = (r % 64) as usize;
            // mostly plain bytes, with a byte needing escape now and then
            let data: Vec<u8> = (0..len + 8)
                .map(|i| {
                    let v = r.rotate_left(i as u32 * 7) as u8;
                    if v.is_multiple_of(11) {
                        v
                    } else {
                        b' ' + v % 90
                    }
                })
                .collect();
            let start = (r >> 20) as usize % (len + 1);
            assert_eq!(next_escape(&data, start, len), reference_next(&data, start, len), "{data:02x?} {start}..{len}");
        }
    }

    #[test]
    fn a_run_is_copied_exactly_whatever_is_readable_after_it() {
        let data: Vec<u8> = (0..48u8).collect();
        for from in 0..data.len() {
            for to in from..=data.len() {
                let mut out = b"head".to_vec();
                copy_run(&mut out, &data, from, to);
                assert_eq!(&out[..4], b"head");
                assert_eq!(&out[4..], &data[from..to], "{from}..{to}");
            }
        }
    }

    /// Fluent Bit's escaping of ASCII, written out from its rules.
    fn reference_ascii(s: &[u8]) -> String {
        let mut o = String::new();
        for &b in s {
            match b {
                b'"' => o.push_str("\\\""),
                b'\\' => o.push_str("\\\\"),
                b'\n' => o.push_str("\\n"),
                b'\r' => o.push_str("\\r"),
                b'\t' => o.push_str("\\t"),
                0x08 => o.push_str("\\b"),
                0x0c => o.push_str("\\f"),
                0..0x20 | 0x7f => o.push_str(&format!("\\u{b:04x}")),
                _ => o.push(char::from(b)),
            }
        }
        o
    }

    #[test]
    fn every_ascii_byte_at_every_position_escapes_as_fluent_bit_does() {
        for b in 0..0x80u8 {
            for len in 1..=20 {
                for at in 0..len {
                    let mut s = vec![b'q'; len];
                    s[at] = b;
                    s[len - 1 - at] = b;
                    assert_eq!(esc(&s), reference_ascii(&s), "byte {b:#04x} at {at} of {len}");
                }
            }
        }
    }

    #[test]
    fn a_string_inside_a_buffer_escapes_as_the_string_alone() {
        // What follows the string (escapes, a truncated UTF-8 lead byte that would complete with
        // the next bytes) must change nothing: a sequence running past the end is dropped.
        let tails: [&[u8]; 4] = [b"", b"\x80\x80\x80 more", b"\"\\\n plain plain plain", b"\xbf\xbf"];
        let strings: [&[u8]; 7] = [
            b"",
            b"plain",
            b"ab\xc3",
            b"x\xe2\x82",
            "caf\u{e9} \u{1f600}".as_bytes(),
            b"q\"\t\x01\x7f",
            b"\xf0\x9f\x98",
        ];
        for s in strings {
            for t in tails {
                for pre in 0..3 {
                    let data = [&b"pre"[..pre], s, t].concat();
                    let mut out = Vec::new();
                    write_json_str_at(&mut out, &data, pre, pre + s.len());
                    assert_eq!(String::from_utf8(out).expect("JSON text"), esc(s), "{s:02x?} then {t:02x?}");
                }
            }
        }
    }

    #[test]
    fn ascii_escapes() {
        assert_eq!(esc(b"say \"hi\"\\path"), "say \\\"hi\\\"\\\\path");
        assert_eq!(esc(b"a\tb\nc\rd\x08e\x0cf/"), "a\\tb\\nc\\rd\\be\\ff/");
        assert_eq!(esc(b"\x00\x01\x0b\x1f\x7f"), "\\u0000\\u0001\\u000b\\u001f\\u007f");
    }

    #[test]
    fn unicode() {
        assert_eq!(esc("café ü".as_bytes()), "caf\\u00e9 \\u00fc");
        assert_eq!(esc("€".as_bytes()), "\\u20ac");
        assert_eq!(esc("😀".as_bytes()), "\\ud83d\\ude00");
        // overlong NUL, accepted by Fluent Bit's decoder
        assert_eq!(esc(b"\xc0\x80"), "\\u0000");
    }

    #[test]
    fn invalid_utf8() {
        // truncated at the end: dropped
        assert_eq!(esc(b"ab\xc3"), "ab");
        assert_eq!(esc(b"a\xe9b"), "ab");
        // bad lead byte / lone continuation: U+E0XX
        // (0xff announces a 6-byte sequence: dropped when fewer bytes follow, else mapped)
        assert_eq!(esc(b"\xff"), "");
        assert_eq!(esc(b"\xffabcdef"), "\u{e0ff}abcdef");
        assert_eq!(esc(b"\x80xyz"), "\u{e080}xyz");
        // latin-1 e-acute followed by ASCII: the lead byte is mapped, the rest reprocessed
        assert_eq!(esc(b"\xe9bcd"), "\u{e0e9}bcd");
        // surrogate D800 encoded in UTF-8: the first two bytes mapped, then the last alone
        assert_eq!(esc(b"\xed\xa0\x80"), "\u{e0ed}\u{e0a0}\u{e080}");
    }
}
