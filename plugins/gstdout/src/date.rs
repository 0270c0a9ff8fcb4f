//! The JSON date value, as `flb_pack_msgpack_to_json_format` writes it for each `json_date_format`.

use crate::num::{write_f64_json, write_u64};

/// `json_date_format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateFormat {
    /// Seconds as a float: `1700000000.123457` (`%.16g`).
    Double,
    /// Whole seconds: `1700000000`.
    Epoch,
    /// Milliseconds: `1700000000123`.
    EpochMs,
    /// `"2023-11-14T22:13:20.123456Z"`.
    Iso8601,
    /// `"2023-11-14 22:13:20.123456"`.
    JavaSqlTimestamp,
}

impl DateFormat {
    /// The allowed values, for error messages.
    pub const ALLOWED: &'static str =
        "double, epoch, epoch_ms (or epoch_millis, epoch_milliseconds), iso8601, java_sql_timestamp";

    /// Parses a value case-insensitively, as `flb_pack_to_json_date_type`.
    pub fn parse(s: &str) -> Option<Self> {
        let s = s.trim();
        let is = |t: &str| s.eq_ignore_ascii_case(t);
        if is("double") {
            Some(DateFormat::Double)
        } else if is("java_sql_timestamp") {
            Some(DateFormat::JavaSqlTimestamp)
        } else if is("iso8601") {
            Some(DateFormat::Iso8601)
        } else if is("epoch") {
            Some(DateFormat::Epoch)
        } else if is("epoch_ms") || is("epoch_millis") || is("epoch_milliseconds") {
            Some(DateFormat::EpochMs)
        } else {
            None
        }
    }
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian (Howard Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[inline]
fn two(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&[b'0' + (v / 10 % 10) as u8, b'0' + (v % 10) as u8]);
}

/// `strftime(fmt, gmtime(secs))` + `.%06u` (microseconds, truncated), `sep` between date and time.
fn write_calendar(out: &mut Vec<u8>, secs: i64, nsecs: u32, sep: u8, zulu: bool) {
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400) as u32;
    let (y, m, d) = civil_from_days(days);
    out.push(b'"');
    // %Y: the year without padding (always four digits from 1970 to 9999).
    crate::num::write_i64(out, y);
    out.push(b'-');
    two(out, m);
    out.push(b'-');
    two(out, d);
    out.push(sep);
    two(out, sod / 3600);
    out.push(b':');
    two(out, sod / 60 % 60);
    out.push(b':');
    two(out, sod % 60);
    out.push(b'.');
    let us = nsecs / 1000;
    let mut b = [b'0'; 6];
    let mut v = us;
    for i in (0..6).rev() {
        b[i] = b'0' + (v % 10) as u8;
        v /= 10;
    }
    if v > 0 {
        // nanoseconds >= 1e9 cannot reach here (such records are skipped); keep printf's widening.
        write_u64(out, u64::from(us));
    } else {
        out.extend_from_slice(&b);
    }
    if zulu {
        out.push(b'Z');
    }
    out.push(b'"');
}

/// Writes the date value for a record time.
pub fn write_date(out: &mut Vec<u8>, fmt: DateFormat, secs: i64, nsecs: u32) {
    match fmt {
        DateFormat::Double => write_f64_json(out, secs as f64 + f64::from(nsecs) / 1e9),
        DateFormat::Epoch => write_u64(out, secs as u64),
        DateFormat::EpochMs => {
            write_u64(out, (secs as u64).wrapping_mul(1000).wrapping_add(u64::from(nsecs / 1_000_000)))
        }
        DateFormat::Iso8601 => write_calendar(out, secs, nsecs, b'T', true),
        DateFormat::JavaSqlTimestamp => write_calendar(out, secs, nsecs, b' ', false),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(fmt: DateFormat, s: i64, ns: u32) -> String {
        let mut o = Vec::new();
        write_date(&mut o, fmt, s, ns);
        String::from_utf8(o).unwrap()
    }

    #[test]
    fn formats() {
        let (s, ns) = (1_700_000_000, 123_456_789);
        assert_eq!(d(DateFormat::Double, s, ns), "1700000000.123457");
        assert_eq!(d(DateFormat::Double, s, 0), "1700000000.0");
        assert_eq!(d(DateFormat::Epoch, s, ns), "1700000000");
        assert_eq!(d(DateFormat::EpochMs, s, ns), "1700000000123");
        assert_eq!(d(DateFormat::Iso8601, s, ns), "\"2023-11-14T22:13:20.123456Z\"");
        assert_eq!(d(DateFormat::JavaSqlTimestamp, s, ns), "\"2023-11-14 22:13:20.123456\"");
        assert_eq!(d(DateFormat::Iso8601, 0, 999), "\"1970-01-01T00:00:00.000000Z\"");
        assert_eq!(d(DateFormat::Iso8601, 951_782_400, 0), "\"2000-02-29T00:00:00.000000Z\"");
        assert_eq!(d(DateFormat::Iso8601, 4_294_967_295, 0), "\"2106-02-07T06:28:15.000000Z\"");
    }

    #[test]
    fn calendar_matches_gmtime() {
        let mut x: u64 = 12345;
        for _ in 0..5000 {
            x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            let secs = (x >> 33) as i64 % 8_000_000_000;
            let mut tm: libc::tm = {
                // SAFETY: libc::tm is plain old data; all-zero is a valid value.
                unsafe { core::mem::zeroed() }
            };
            let t: libc::time_t = secs;
            // SAFETY: both pointers are valid for the call.
            let r = unsafe { libc::gmtime_r(&t, &mut tm) };
            assert!(!r.is_null());
            let want = format!(
                "\"{}-{:02}-{:02}T{:02}:{:02}:{:02}.000000Z\"",
                tm.tm_year + 1900,
                tm.tm_mon + 1,
                tm.tm_mday,
                tm.tm_hour,
                tm.tm_min,
                tm.tm_sec
            );
            assert_eq!(d(DateFormat::Iso8601, secs, 0), want, "{secs}");
        }
    }

    #[test]
    fn parse_names() {
        assert_eq!(DateFormat::parse("EPOCH_millis"), Some(DateFormat::EpochMs));
        assert_eq!(DateFormat::parse("epoch_milliseconds"), Some(DateFormat::EpochMs));
        assert_eq!(DateFormat::parse("iso8601"), Some(DateFormat::Iso8601));
        assert_eq!(DateFormat::parse("rfc3339"), None);
    }
}
