//! Record times from the `time` field of CRI and Docker lines, read exactly as Fluent Bit 5.1.1's
//! parsers read them: its strptime (`flb_strptime.c`) for `%Y-%m-%dT%H:%M:%S.`, its `%L` (up to 9
//! digits through `strtod`, the nanoseconds truncated from the double), then `%z` for CRI. Its
//! parsers are not strict: a string that stops matching part way still gives a time, from the
//! fields read until then (the others zero), and so does this.

use flb_plugin_sdk::prelude::EventTime;

/// Which of the two built-in formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `%Y-%m-%dT%H:%M:%S.%L%z`
    Cri,
    /// `%Y-%m-%dT%H:%M:%S.%L`, read as UTC (anything after the fraction is ignored).
    Docker,
}

/// A `struct tm` as far as these formats fill it: zero until a field is read.
#[derive(Default)]
struct Tm {
    /// Years since 1900.
    year: i64,
    /// 0-11.
    mon: i64,
    mday: i64,
    hour: i64,
    min: i64,
    sec: i64,
    gmtoff: i64,
}

/// BSD strptime's `_conv_num`: at least one digit, at most as many as `ulim` has, within limits.
fn conv_num(s: &[u8], at: &mut usize, llim: i64, ulim: i64) -> Option<i64> {
    let digit = |i: usize| s.get(i).filter(|b| b.is_ascii_digit()).map(|b| i64::from(b - b'0'));
    digit(*at)?;
    let mut result = 0;
    let mut rulim = ulim;
    while let Some(d) = digit(*at) {
        result = result * 10 + d;
        *at += 1;
        rulim /= 10;
        if !(result * 10 <= ulim && rulim != 0 && digit(*at).is_some()) {
            break;
        }
    }
    (llim..=ulim).contains(&result).then_some(result)
}

fn lit(s: &[u8], at: &mut usize, c: u8) -> Option<()> {
    (s.get(*at) == Some(&c)).then(|| *at += 1)
}

/// `%Y-%m-%dT%H:%M:%S.`: fills `tm` as it goes; None where it stops matching.
fn date_time(s: &[u8], tm: &mut Tm) -> Option<usize> {
    let mut at = 0;
    tm.year = conv_num(s, &mut at, 0, 9999)? - 1900;
    lit(s, &mut at, b'-')?;
    tm.mon = conv_num(s, &mut at, 1, 12)? - 1;
    lit(s, &mut at, b'-')?;
    tm.mday = conv_num(s, &mut at, 1, 31)?;
    lit(s, &mut at, b'T')?;
    tm.hour = conv_num(s, &mut at, 0, 23)?;
    lit(s, &mut at, b':')?;
    tm.min = conv_num(s, &mut at, 0, 59)?;
    lit(s, &mut at, b':')?;
    tm.sec = conv_num(s, &mut at, 0, 60)?;
    lit(s, &mut at, b'.')?;
    Some(at)
}

/// 10^i, exact as doubles.
const POW10: [f64; 10] = [1.0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9];

/// Fluent Bit's `parse_subseconds`: `strtod("0." + up to 9 bytes)`; the bytes it used.
fn subseconds(s: &[u8]) -> Option<(f64, usize)> {
    let take = &s[..s.len().min(9)];
    let digits = take.iter().take_while(|b| b.is_ascii_digit()).count();
    if digits == 0 {
        return None;
    }
    // Only the digits count: strtod would also read an exponent ("1e5"), which no runtime writes.
    let n = take[..digits].iter().fold(0u32, |n, b| n * 10 + u32::from(b - b'0'));
    // strtod's value without a decimal parser (a third of a CRI line's cost): n < 10^9 and 10^digits
    // are exact doubles, and one IEEE division rounds their quotient to the nearest double, which
    // is what a correctly rounded strtod returns for the decimal (Clinger's fast path).
    Some((f64::from(n) / POW10[digits], digits))
}

/// `%z` as flb_strptime reads it (Z, UT, UTC, GMT, +hh, +hhmm, +hh:mm; whitespace before).
fn zone(s: &[u8], tm: &mut Tm) -> Option<()> {
    let mut at = s.iter().take_while(|b| b.is_ascii_whitespace()).count();
    let c = *s.get(at)?;
    at += 1;
    let neg = match c {
        b'Z' => return set_zone(tm, 0),
        b'U' => return (s.get(at) == Some(&b'T')).then(|| tm.gmtoff = 0),
        b'G' => return (s.get(at..at + 2) == Some(b"MT")).then(|| tm.gmtoff = 0),
        b'+' => false,
        b'-' => true,
        _ => return None, // North American zone names: no container runtime writes them
    };
    let d = |i: usize| s.get(i).filter(|b| b.is_ascii_digit()).map(|b| i64::from(b - b'0'));
    let mut offs = (d(at)? * 10 + d(at + 1)?) * 3600;
    at += 2;
    if s.get(at) == Some(&b':') {
        at += 1;
    }
    if let Some(m1) = d(at) {
        offs += m1 * 600 + d(at + 1)? * 60;
    }
    set_zone(tm, if neg { -offs } else { offs })
}

fn set_zone(tm: &mut Tm, offs: i64) -> Option<()> {
    tm.gmtoff = offs;
    Some(())
}

/// Days from 1970-01-01 to the civil date (Howard Hinnant's algorithm), month 1-12, any day.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn timegm(tm: &Tm) -> i64 {
    let days = days_from_civil(tm.year + 1900, tm.mon + 1, 1) + tm.mday - 1;
    days * 86_400 + tm.hour * 3600 + tm.min * 60 + tm.sec
}

/// The record time Fluent Bit's parser gives `s`; None when it gives none (zero), and the caller
/// uses the time the line was read, as Fluent Bit does.
pub fn parse(s: &[u8], format: Format) -> Option<EventTime> {
    let mut tm = Tm::default();
    let mut frac = 0.0f64;
    if let Some(at) = date_time(s, &mut tm) {
        if let Some((f, used)) = subseconds(&s[at..]) {
            frac = f;
            if format == Format::Cri {
                let _ = zone(&s[at + used..], &mut tm);
            }
        }
    }
    let sec = timegm(&tm) - tm.gmtoff;
    // The same double arithmetic as Fluent Bit's `tv_nsec = frac * 1000000000`, truncated.
    let nsec = (frac * 1_000_000_000.0) as u32;
    if sec == 0 && nsec == 0 {
        return None;
    }
    // A record time holds 32-bit seconds from 1970. Fluent Bit's encoder refuses a time before
    // (what an unparsable string gives), losing the record and gluing its text to the stream's
    // next one; gtail keeps the record, with the time it was read, as for a line without a time.
    if !(0..=i64::from(u32::MAX)).contains(&sec) {
        return None;
    }
    Some(EventTime::new(sec, nsec))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str, f: Format) -> Option<(i64, u32)> {
        parse(s.as_bytes(), f).map(|t| (t.secs, t.nsecs))
    }

    #[test]
    fn full_times() {
        // date -u -d 2024-03-05T06:07:08Z +%s
        assert_eq!(t("2024-03-05T06:07:08.123456789Z", Format::Cri), Some((1_709_618_828, 123_456_789)));
        assert_eq!(t("2024-03-05T08:07:08.5+02:00", Format::Cri), Some((1_709_618_828, 500_000_000)));
        assert_eq!(t("2024-03-05T04:37:08.5-0130", Format::Cri), Some((1_709_618_828, 500_000_000)));
        assert_eq!(t("2024-03-05T06:07:08.000000001Z", Format::Docker), Some((1_709_618_828, 1)));
        assert_eq!(t("2024-03-05T06:07:08.25+02:00", Format::Docker), Some((1_709_618_828, 250_000_000)), "no %z");
    }

    #[test]
    fn subseconds_are_the_doubles_a_decimal_parser_reads() {
        // The expected value from std's correctly rounded parser (as strtod), for every fraction of
        // up to 5 digits and a spread of longer ones, leading zeros included.
        let check = |digits: &str| {
            let want: f64 = format!("0.{digits}").parse().expect("a decimal");
            let (got, used) = subseconds(digits.as_bytes()).expect("digits");
            assert_eq!((got.to_bits(), used), (want.to_bits(), digits.len()), "0.{digits}");
        };
        for width in 1..=5 {
            for n in 0..10u32.pow(width as u32) {
                check(&format!("{n:0width$}"));
            }
        }
        let mut x = 0x9E37_79B9_7F4A_7C15u64;
        for _ in 0..200_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let width = 6 + (x % 4) as usize;
            check(&format!("{:0width$}", (x >> 8) % 10u64.pow(width as u32)));
        }
        assert_eq!(subseconds(b"1234567891234"), subseconds(b"123456789"), "9 digits at most");
        assert_eq!(subseconds(b"5Z").map(|(_, used)| used), Some(1));
    }

    #[test]
    fn partial_matches_keep_what_was_read() {
        assert_eq!(t("2024-03-05T06:07:08Z", Format::Cri), Some((1_709_618_828, 0)), "no fraction: no zone either");
        assert_eq!(t("2024-03-05T06:07:08.5 junk", Format::Cri), Some((1_709_618_828, 500_000_000)));
        // Only the date: 2024-03-05T00:00:00Z.
        assert_eq!(t("2024-03-05 06:07", Format::Cri), Some((1_709_596_800, 0)));
        // Nothing read: the zero struct tm is 1899-12-31T00:00:00Z, which no record time holds:
        // the time the line was read instead (native loses the record).
        assert_eq!(t("notatime", Format::Cri), None);
        assert_eq!(t("20XX", Format::Docker), None, "year 20");
        assert_eq!(t("9999-12-31T23:59:59.5Z", Format::Cri), None, "past 2106");
        assert_eq!(t("1970-01-01T00:00:00.5Z", Format::Cri), Some((0, 500_000_000)));
    }
}
