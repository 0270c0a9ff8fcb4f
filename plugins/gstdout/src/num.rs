//! Numbers printed as Fluent Bit prints them, without allocating.
//!
//! - msgpack layout (`msgpack_object_print`): floats with `%f`.
//! - JSON (`msgpack2json`): a float equal to its `(long long)` conversion with `%.1f`, any other with
//!   `%.16g`; NaN and infinities as glibc prints them (`nan`, `-nan`, `inf`, `-inf`).
//!
//! Rust's fixed-precision float formatting is exact (correctly rounded from the binary value), as
//! glibc's is, so `{:.6}` equals `%f` and `{:.15e}` carries the 16 significant digits of `%.16g`.

use core::fmt::Write as _;

/// A small stack buffer for `core::fmt` output (floats up to 1e308 with `%f` need ~320 bytes).
struct StackBuf {
    buf: [u8; 400],
    len: usize,
}

impl StackBuf {
    #[inline]
    fn new() -> Self {
        StackBuf { buf: [0; 400], len: 0 }
    }
    #[inline]
    fn bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }
}

impl core::fmt::Write for StackBuf {
    #[inline]
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        let b = s.as_bytes();
        let end = self.len.checked_add(b.len()).ok_or(core::fmt::Error)?;
        let dst = self.buf.get_mut(self.len..end).ok_or(core::fmt::Error)?;
        dst.copy_from_slice(b);
        self.len = end;
        Ok(())
    }
}

/// "00" to "99".
const PAIRS: [[u8; 2]; 100] = {
    let mut t = [[0u8; 2]; 100];
    let mut i = 0;
    while i < 100 {
        t[i] = [b'0' + (i / 10) as u8, b'0' + (i % 10) as u8];
        i += 1;
    }
    t
};

/// Writes a signed integer (`%PRId64`).
#[inline]
pub fn write_i64(out: &mut Vec<u8>, v: i64) {
    if v < 0 {
        out.push(b'-');
    }
    write_u64(out, v.unsigned_abs());
}

/// Writes an unsigned integer (`%PRIu64`). The digits go left-aligned into a fixed buffer that is
/// appended whole and cut to length: no call to `memcpy` for a few bytes.
#[inline]
pub fn write_u64(out: &mut Vec<u8>, v: u64) {
    let n = v.checked_ilog10().unwrap_or(0) as usize + 1;
    let mut buf = [b'0'; 20];
    fill_digits(&mut buf[..n], v);
    let len = out.len();
    out.extend_from_slice(&buf);
    out.truncate(len + n);
}

/// Writes `v` as exactly `N` digits, zero-padded (`%0Nu`); `v` must be below 10^N.
#[inline]
pub fn write_padded<const N: usize>(out: &mut Vec<u8>, v: u32) {
    let mut buf = [b'0'; N];
    fill_digits(&mut buf, u64::from(v));
    out.extend_from_slice(&buf);
}

/// Writes the last `buf.len()` decimal digits of `x` into `buf`, two at a time from the right.
#[inline(always)]
fn fill_digits(buf: &mut [u8], mut x: u64) {
    let mut i = buf.len();
    while i >= 2 {
        i -= 2;
        buf[i..i + 2].copy_from_slice(&PAIRS[(x % 100) as usize]);
        x /= 100;
    }
    if i == 1 {
        buf[0] = b'0' + (x % 10) as u8;
    }
}

/// NaN and infinities as glibc prints them; returns false for finite values.
#[inline]
fn write_non_finite(out: &mut Vec<u8>, v: f64) -> bool {
    if v.is_nan() {
        out.extend_from_slice(if v.is_sign_negative() { b"-nan" } else { b"nan" });
        true
    } else if v.is_infinite() {
        out.extend_from_slice(if v < 0.0 { b"-inf" } else { b"inf" });
        true
    } else {
        false
    }
}

/// 10^0 ..= 10^22.
const POW10: [u128; 23] = {
    let mut t = [1u128; 23];
    let mut i = 1;
    while i < 23 {
        t[i] = t[i - 1] * 10;
        i += 1;
    }
    t
};

/// `round_half_even(|v| * 10^k)`, computed exactly from the binary value (as glibc's printf rounds),
/// when it fits; `None` for non-finite values or results too large for the fast paths.
fn scaled(v: f64, k: u32) -> Option<u128> {
    let bits = v.to_bits() & !(1u64 << 63);
    let exp = (bits >> 52) as i32;
    let frac = bits & ((1u64 << 52) - 1);
    if exp == 0x7ff || k > 22 {
        return None;
    }
    let (m, e) = if exp == 0 { (frac, -1074) } else { (frac | (1u64 << 52), exp - 1075) };
    // m < 2^53 and 10^22 < 2^74: the product fits in 127 bits.
    let p = u128::from(m) * POW10[k as usize];
    if e >= 0 {
        let e = e as u32;
        return (p.leading_zeros() > e).then(|| p << e);
    }
    let sh = e.unsigned_abs();
    if sh >= 128 {
        // p < 2^127 <= 2^(sh-1): below one half, never a tie.
        return Some(0);
    }
    let q = p >> sh;
    let rem = p & ((1u128 << sh) - 1);
    let half = 1u128 << (sh - 1);
    Some(if rem > half || (rem == half && q & 1 == 1) { q + 1 } else { q })
}

/// `printf("%f", v)`.
#[inline(never)]
pub fn write_f64_fixed6(out: &mut Vec<u8>, v: f64) {
    if write_non_finite(out, v) {
        return;
    }
    if let Some(q) = scaled(v, 6) {
        if v.is_sign_negative() {
            out.push(b'-');
        }
        match u64::try_from(q / 1_000_000) {
            Ok(int) => write_u64(out, int),
            Err(_) => out.extend_from_slice(itoa::Buffer::new().format(q / 1_000_000).as_bytes()),
        }
        out.push(b'.');
        write_padded::<6>(out, (q % 1_000_000) as u32);
        return;
    }
    let mut b = StackBuf::new();
    if write!(b, "{v:.6}").is_ok() {
        out.extend_from_slice(b.bytes());
    }
}

/// A float as Fluent Bit's `msgpack2json` writes it.
#[inline(never)]
pub fn write_f64_json(out: &mut Vec<u8>, v: f64) {
    // `o->via.f64 == (double)(long long int)o->via.f64`: on x86-64 an out-of-range or NaN
    // conversion yields INT64_MIN, so only values in [-2^63, 2^63) with no fraction qualify.
    const TWO63: f64 = 9_223_372_036_854_775_808.0;
    // In that range `as i64` truncates exactly (and costs no call to libm's trunc).
    if (-TWO63..TWO63).contains(&v) && (v as i64) as f64 == v {
        // `%.1f` of an integral value in i64's range: its digits, exactly, and ".0".
        if v == 0.0 && v.is_sign_negative() {
            out.push(b'-');
        }
        write_i64(out, v as i64);
        out.extend_from_slice(b".0");
        return;
    }
    write_f64_g16(out, v);
}

/// The 16 significant digits of `|v|` (rounded half-even from the exact value) and the decimal
/// exponent of the first, exactly, for `1e-5 <= |v| < 1e16`; `None` elsewhere.
fn g16_fast(v: f64) -> Option<([u8; 16], i32)> {
    let a = v.abs();
    if !(1e-5..1e16).contains(&a) {
        return None;
    }
    // floor(log10(a)) from the binary exponent, without libm: low by at most one, which the loop
    // corrects.
    let e2 = ((a.to_bits() >> 52) & 0x7ff) as i32 - 1023;
    // 78913 / 2^18 is log10(2) to within 2e-7: exact for the exponents in this range.
    let mut x = (e2 * 78913) >> 18;
    for _ in 0..3 {
        let k = u32::try_from(15 - x).ok()?;
        let q = scaled(a, k)?;
        if q >= 10_000_000_000_000_000 {
            x += 1;
        } else if q < 1_000_000_000_000_000 {
            x -= 1;
        } else {
            // A guess one too high can round up to exactly 10^15: the value may lie below 10^x,
            // and then its 16 digits are those at x - 1.
            let (q, x) = match scaled(a, k + 1) {
                Some(q2) if q == 1_000_000_000_000_000 && q2 < 10_000_000_000_000_000 => (q2, x - 1),
                _ => (q, x),
            };
            // 10^15 <= q < 10^16: exactly 16 digits, two halves of eight.
            let q = q as u64;
            let mut digits = [b'0'; 16];
            for (at, half) in [(0, (q / 100_000_000) as u32), (8, (q % 100_000_000) as u32)] {
                let mut h = half;
                for i in (0..4).rev() {
                    digits[at + 2 * i..at + 2 * i + 2].copy_from_slice(&PAIRS[(h % 100) as usize]);
                    h /= 100;
                }
            }
            return Some((digits, x));
        }
    }
    None
}

/// The 16 significant digits and decimal exponent through core's exact formatting (any value).
fn g16_slow(v: f64) -> Option<([u8; 16], i32)> {
    let mut b = StackBuf::new();
    write!(b, "{v:.15e}").ok()?;
    // b = [-]D.DDDDDDDDDDDDDDDe[-]X
    let s = b.bytes();
    let s = s.strip_prefix(b"-").unwrap_or(s);
    let epos = s.iter().position(|&c| c == b'e')?;
    let (mant, exp) = (&s[..epos], &s[epos + 1..]);
    let mut x: i32 = 0;
    let (eneg, edigits) = match exp.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, exp),
    };
    for &d in edigits {
        x = x * 10 + i32::from(d.wrapping_sub(b'0'));
    }
    if eneg {
        x = -x;
    }
    let mut digits = [b'0'; 16];
    let mut nd = 0;
    for &c in mant {
        if c.is_ascii_digit() && nd < 16 {
            digits[nd] = c;
            nd += 1;
        }
    }
    Some((digits, x))
}

/// `printf("%.16g", v)`.
pub fn write_f64_g16(out: &mut Vec<u8>, v: f64) {
    if write_non_finite(out, v) {
        return;
    }
    let Some((digits, x)) = g16_fast(v).or_else(|| g16_slow(v)) else { return };
    // Trailing zeros removed (no '#' flag): those of the 16 digits read as one little-endian word
    // are its high zero bytes once each '0' is XORed away.
    let zeros = (u128::from_le_bytes(digits) ^ u128::from_le_bytes([b'0'; 16])).leading_zeros() as usize / 8;
    let nd = 16 - zeros.min(15);
    if !(-4..16).contains(&x) {
        write_g_exponent(out, v.is_sign_negative(), &digits[..nd], x);
        return;
    }
    // Composed in a fixed buffer with fixed-size copies at variable offsets, then appended whole
    // and cut to length: no call to memcpy for a handful of bytes.
    let mut buf = [b'0'; 48];
    let mut n = 0;
    if v.is_sign_negative() {
        buf[0] = b'-';
        n = 1;
    }
    let mut padded = [b'0'; 32];
    padded[..16].copy_from_slice(&digits);
    let len = if x < 0 {
        // 0.000ddd
        buf[n + 1] = b'.';
        n += 2 + (-x - 1) as usize;
        buf[n..n + 16].copy_from_slice(&digits);
        n + nd
    } else {
        // the integer digits (padded with the zeros they had), then any fraction
        let int_len = (x + 1) as usize;
        buf[n..n + 16].copy_from_slice(&digits);
        if nd > int_len {
            buf[n + int_len] = b'.';
            buf[n + int_len + 1..n + int_len + 17].copy_from_slice(&padded[int_len..int_len + 16]);
            n + nd + 1
        } else {
            n + int_len
        }
    };
    let start = out.len();
    out.extend_from_slice(&buf);
    out.truncate(start + len);
}

/// `d[.ddd]e±XX` of `%.16g` for exponents below -4 or above 15.
fn write_g_exponent(out: &mut Vec<u8>, neg: bool, digits: &[u8], x: i32) {
    if neg {
        out.push(b'-');
    }
    out.push(digits[0]);
    if digits.len() > 1 {
        out.push(b'.');
        out.extend_from_slice(&digits[1..]);
    }
    out.push(b'e');
    out.push(if x < 0 { b'-' } else { b'+' });
    let ax = x.unsigned_abs();
    if ax < 10 {
        out.push(b'0');
    }
    write_u64(out, u64::from(ax));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c_fmt(fmt: &str, v: f64) -> String {
        let mut buf = vec![0u8; 512];
        let f = std::ffi::CString::new(fmt).unwrap();
        // SAFETY: buf is writable for its length, the format takes exactly one double.
        let n = unsafe { libc::snprintf(buf.as_mut_ptr().cast(), buf.len(), f.as_ptr(), v) };
        buf.truncate(n as usize);
        String::from_utf8(buf).unwrap()
    }

    fn ours(f: fn(&mut Vec<u8>, f64), v: f64) -> String {
        let mut o = Vec::new();
        f(&mut o, v);
        String::from_utf8(o).unwrap()
    }

    fn samples() -> Vec<f64> {
        let mut v = vec![
            0.0,
            -0.0,
            0.25,
            1.5,
            0.1,
            0.1 + 0.2,
            1e-5,
            1.234e-4,
            9.999_999_999_999_998e15,
            1e15,
            1e16,
            1e17,
            123_456_789_012_345_680.0,
            1e300,
            -1e300,
            f64::MAX,
            f64::MIN_POSITIVE,
            5e-324,
            1_700_000_000.123_456_7,
            0.5,
            2.5,
            0.125,
            1e-7,
            -3.75,
            9_223_372_036_854_775_807.0,
            -9_223_372_036_854_775_808.0,
            f64::NAN,
            -f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::from(1.1f32),
        ];
        // Around every power of ten the fast paths cover: the neighbours of 10^e, and values that
        // round up to the next power at 16 digits.
        for e in -7..18 {
            let p = 10f64.powi(e);
            for d in [p, p * 9.999_999_999_999_999, p * (1.0 - f64::EPSILON), p * (5.0 + 4.0 * f64::EPSILON)] {
                v.extend([d, f64::from_bits(d.to_bits() + 1), f64::from_bits(d.to_bits() - 1), -d]);
            }
        }
        // A deterministic spread of bit patterns (xorshift).
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            v.push(f64::from_bits(x));
            // and values with few digits, where rounding ties show
            v.push((x % 100_000) as f64 / 1000.0);
            v.push((x % 1_000_000_007) as f64 / 1e6 * if x & 1 == 0 { 1.0 } else { -1.0 });
            // full-precision values spread over the fast paths' range
            let m = 1.0 + (x >> 11) as f64 / (1u64 << 53) as f64 * 9.0;
            v.push(m * 10f64.powi((x % 23) as i32 - 6));
        }
        v
    }

    #[test]
    fn integers_match_libc() {
        let mut v: Vec<i64> = (-1000..=100_000).collect();
        for e in 0..19 {
            let p = 10i64.pow(e);
            v.extend([p - 1, p, p + 1, -p - 1, -p, -p + 1]);
        }
        v.extend([i64::MIN, i64::MIN + 1, i64::MAX, i64::MAX - 1]);
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            v.push(x as i64 >> (x % 64));
        }
        for i in v {
            let mut o = b"x".to_vec();
            write_i64(&mut o, i);
            assert_eq!(&o[1..], c_fmt_int("%lld", i).as_bytes(), "{i}");
            let u = i as u64;
            let mut o = b"x".to_vec();
            write_u64(&mut o, u);
            assert_eq!(&o[1..], c_fmt_int("%llu", i).as_bytes(), "{u}");
        }
    }

    #[test]
    fn padded_digits_match_libc() {
        for v in (0..1_000_000u32).step_by(7).chain([0, 9, 10, 99, 100, 999_999]) {
            let mut o = Vec::new();
            write_padded::<6>(&mut o, v);
            assert_eq!(o, c_fmt_int("%06lld", i64::from(v)).as_bytes(), "{v}");
        }
        for v in [0u32, 5, 123_456_789, 999_999_999, 1_000, 10_000_000] {
            let mut o = Vec::new();
            write_padded::<9>(&mut o, v);
            assert_eq!(o, c_fmt_int("%09lld", i64::from(v)).as_bytes(), "{v}");
        }
    }

    fn c_fmt_int(fmt: &str, v: i64) -> String {
        let mut buf = vec![0u8; 64];
        let f = std::ffi::CString::new(fmt).unwrap();
        // SAFETY: buf is writable for its length, the format takes exactly one long long.
        let n = unsafe { libc::snprintf(buf.as_mut_ptr().cast(), buf.len(), f.as_ptr(), v as libc::c_longlong) };
        buf.truncate(n as usize);
        String::from_utf8(buf).unwrap()
    }

    #[test]
    fn fixed6_matches_libc() {
        for v in samples() {
            assert_eq!(ours(write_f64_fixed6, v), c_fmt("%f", v), "{v:e} bits {:x}", v.to_bits());
        }
    }

    #[test]
    fn g16_matches_libc() {
        for v in samples() {
            assert_eq!(ours(write_f64_g16, v), c_fmt("%.16g", v), "{v:e} bits {:x}", v.to_bits());
        }
    }

    #[test]
    fn json_floats_match_libc() {
        let mut v = samples();
        // integral values across i64's range, and their neighbours
        for e in 0..64 {
            let p = 2f64.powi(e);
            v.extend([p, -p, p + 1.0, -p - 1.0, p - 1.0, f64::from_bits(p.to_bits() + 1)]);
        }
        for x in v {
            // msgpack2json: `%.1f` when the value survives a round trip through long long
            // (x86-64's cvttsd2si gives INT64_MIN out of range), else `%.16g`.
            let in_range = (-(2f64.powi(63))..2f64.powi(63)).contains(&x);
            let ll = if in_range { x as i64 } else { i64::MIN };
            let fmt = if ll as f64 == x { "%.1f" } else { "%.16g" };
            assert_eq!(ours(write_f64_json, x), c_fmt(fmt, x), "{x:e} bits {:x}", x.to_bits());
        }
    }

    #[test]
    fn json_floats_follow_msgpack2json() {
        assert_eq!(ours(write_f64_json, 0.25), "0.25");
        assert_eq!(ours(write_f64_json, 3.0), "3.0");
        assert_eq!(ours(write_f64_json, -0.0), "-0.0");
        assert_eq!(ours(write_f64_json, 1e18), "1000000000000000000.0");
        assert_eq!(ours(write_f64_json, 1e19), "1e+19");
        assert_eq!(ours(write_f64_json, -9_223_372_036_854_775_808.0), "-9223372036854775808.0");
        assert_eq!(ours(write_f64_json, 1_700_000_000.123_456_7), "1700000000.123457");
        assert_eq!(ours(write_f64_json, f64::NAN), "nan");
        assert_eq!(ours(write_f64_json, f64::NEG_INFINITY), "-inf");
        assert_eq!(ours(write_f64_json, f64::from(1.1f32)), "1.100000023841858");
    }
}
