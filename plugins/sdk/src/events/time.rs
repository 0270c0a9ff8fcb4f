//! Fluent Bit event timestamps (`EventTime`): seconds and nanoseconds, encoded in msgpack as ext type 0
//! with 8 bytes (big-endian u32 seconds, big-endian u32 nanoseconds).

use std::time::{SystemTime, UNIX_EPOCH};

const NANOS_PER_SEC: u32 = 1_000_000_000;

/// Seconds value of the group-start marker record.
const GROUP_START_SECS: i64 = -1;
/// Seconds value of the group-end marker record.
const GROUP_END_SECS: i64 = -2;

/// A log event timestamp: seconds since the Unix epoch plus nanoseconds.
///
/// The negative seconds -1 and -2 are Fluent Bit's group markers ([`EventTime::GROUP_START`],
/// [`EventTime::GROUP_END`]); any other negative value is invalid (see [`EventTime::kind`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct EventTime {
    /// Seconds since the Unix epoch.
    pub secs: i64,
    /// Nanoseconds within the second (`< 1_000_000_000` for a valid time).
    pub nsecs: u32,
}

/// What kind of record a timestamp marks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TimeKind {
    /// An ordinary record (seconds `>= 0`).
    Normal,
    /// Opens a group of records (seconds -1).
    GroupStart,
    /// Closes a group of records (seconds -2).
    GroupEnd,
    /// Any other negative seconds, or nanoseconds `>= 1e9`; Fluent Bit skips such records.
    Invalid,
}

impl EventTime {
    /// The group-start marker time (seconds -1, nanoseconds 0).
    pub const GROUP_START: EventTime = EventTime::new(GROUP_START_SECS, 0);
    /// The group-end marker time (seconds -2, nanoseconds 0).
    pub const GROUP_END: EventTime = EventTime::new(GROUP_END_SECS, 0);

    /// A time from seconds and nanoseconds (not normalised: `nsecs >= 1e9` gives an invalid time).
    #[inline]
    pub const fn new(secs: i64, nsecs: u32) -> Self {
        EventTime { secs, nsecs }
    }

    /// The current wall-clock time (`CLOCK_REALTIME`).
    pub fn now() -> Self {
        match SystemTime::now().duration_since(UNIX_EPOCH) {
            Ok(d) => EventTime::new(i64::try_from(d.as_secs()).unwrap_or(i64::MAX), d.subsec_nanos()),
            Err(e) => {
                // A clock set before 1970: represent it as negative seconds plus positive nanoseconds.
                let d = e.duration();
                let secs = i64::try_from(d.as_secs()).unwrap_or(i64::MAX);
                match d.subsec_nanos() {
                    0 => EventTime::new(-secs, 0),
                    n => EventTime::new(-secs - 1, NANOS_PER_SEC - n),
                }
            }
        }
    }

    /// A time from floating-point seconds, truncated to the nanosecond as Fluent Bit does. NaN gives 0;
    /// infinities and out-of-range values saturate.
    pub fn from_f64(secs: f64) -> Self {
        if secs.is_nan() {
            return EventTime::default();
        }
        let whole = secs.floor();
        // `as` saturates for out-of-range floats and infinities.
        let mut s = whole as i64;
        let frac = secs - whole; // in [0, 1) for finite input
                                 // Truncated, not rounded, as Fluent Bit's decoder does (`tv_nsec = (f - tv_sec) * 1e9`), so a
                                 // float time means the same nanoseconds here as in Fluent Bit.
        let mut ns = if frac.is_finite() { (frac * 1e9) as u32 } else { 0 };
        if ns >= NANOS_PER_SEC {
            ns -= NANOS_PER_SEC;
            s = s.saturating_add(1);
        }
        EventTime::new(s, ns)
    }

    /// The kind of record this time marks: normal, group start (-1), group end (-2) or invalid.
    #[inline]
    pub fn kind(&self) -> TimeKind {
        if self.nsecs >= NANOS_PER_SEC {
            TimeKind::Invalid
        } else if self.secs >= 0 {
            TimeKind::Normal
        } else if self.secs == GROUP_START_SECS {
            TimeKind::GroupStart
        } else if self.secs == GROUP_END_SECS {
            TimeKind::GroupEnd
        } else {
            TimeKind::Invalid
        }
    }

    /// The time as floating-point seconds.
    #[inline]
    pub fn as_f64(&self) -> f64 {
        self.secs as f64 + f64::from(self.nsecs) / 1e9
    }

    /// This time plus `n` nanoseconds (saturating at `i64::MAX` seconds). Normalises nanoseconds
    /// when the input is valid.
    #[inline]
    pub fn add_nanos(&self, n: u64) -> Self {
        let step = Step::new(n);
        step.apply(*self)
    }

    /// The msgpack encoding: fixext8 `d7 00`, big-endian u32 seconds, big-endian u32 nanoseconds.
    /// Seconds are truncated to 32 bits, so -1 and -2 encode as `0xFFFFFFFF` / `0xFFFFFFFE` (and times
    /// after 2106 wrap, as in Fluent Bit).
    #[inline]
    pub fn to_ext_bytes(&self) -> [u8; 10] {
        let s = (self.secs as u32).to_be_bytes();
        let n = self.nsecs.to_be_bytes();
        [0xd7, 0x00, s[0], s[1], s[2], s[3], n[0], n[1], n[2], n[3]]
    }

    /// Decodes the 8-byte payload of an ext-0 EventTime (big-endian u32 seconds, u32 nanoseconds).
    /// Seconds `0xFFFFFFFF` and `0xFFFFFFFE` are the group markers -1 and -2; others are unsigned.
    #[inline]
    pub fn from_ext_payload(payload: [u8; 8]) -> Self {
        let [a, b, c, d, e, f, g, h] = payload;
        let s = u32::from_be_bytes([a, b, c, d]);
        let secs = match s {
            0xFFFF_FFFF => GROUP_START_SECS,
            0xFFFF_FFFE => GROUP_END_SECS,
            s => i64::from(s),
        };
        EventTime::new(secs, u32::from_be_bytes([e, f, g, h]))
    }
}

/// A precomputed nanosecond step, so stepping many timestamps needs no division per step.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Step {
    secs: i64,
    nsecs: u32,
}

impl Step {
    #[inline]
    pub(crate) fn new(n: u64) -> Self {
        // n / 1e9 < 2^35, so it always fits in i64.
        Step { secs: (n / u64::from(NANOS_PER_SEC)) as i64, nsecs: (n % u64::from(NANOS_PER_SEC)) as u32 }
    }

    #[inline]
    pub(crate) fn apply(self, t: EventTime) -> EventTime {
        let mut secs = t.secs.saturating_add(self.secs);
        // Widen so that even an invalid nsecs (up to u32::MAX) cannot overflow.
        let mut ns = u64::from(t.nsecs) + u64::from(self.nsecs);
        while ns >= u64::from(NANOS_PER_SEC) {
            ns -= u64::from(NANOS_PER_SEC);
            secs = secs.saturating_add(1);
        }
        // ns < 1e9 here, so it fits in u32.
        EventTime::new(secs, ns as u32)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds() {
        assert_eq!(EventTime::new(0, 0).kind(), TimeKind::Normal);
        assert_eq!(EventTime::new(1_700_000_000, 999_999_999).kind(), TimeKind::Normal);
        assert_eq!(EventTime::GROUP_START.kind(), TimeKind::GroupStart);
        assert_eq!(EventTime::GROUP_END.kind(), TimeKind::GroupEnd);
        assert_eq!(EventTime::new(-3, 0).kind(), TimeKind::Invalid);
        assert_eq!(EventTime::new(i64::MIN, 0).kind(), TimeKind::Invalid);
        assert_eq!(EventTime::new(5, 1_000_000_000).kind(), TimeKind::Invalid);
        assert_eq!(EventTime::new(-1, 1_000_000_000).kind(), TimeKind::Invalid);
    }

    #[test]
    fn ext_bytes() {
        assert_eq!(EventTime::new(0x0102_0304, 0x0506_0708).to_ext_bytes(), [0xd7, 0, 1, 2, 3, 4, 5, 6, 7, 8]);
        assert_eq!(EventTime::GROUP_START.to_ext_bytes(), [0xd7, 0, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0]);
        assert_eq!(EventTime::GROUP_END.to_ext_bytes(), [0xd7, 0, 0xff, 0xff, 0xff, 0xfe, 0, 0, 0, 0]);
        for t in [
            EventTime::new(0, 0),
            EventTime::new(1_700_000_000, 123_456_789),
            EventTime::new(0xFFFF_FFFD, 1),
            EventTime::GROUP_START,
            EventTime::GROUP_END,
        ] {
            let b = t.to_ext_bytes();
            let mut p = [0u8; 8];
            p.copy_from_slice(&b[2..]);
            assert_eq!(EventTime::from_ext_payload(p), t);
        }
    }

    #[test]
    fn floats() {
        assert_eq!(EventTime::from_f64(1.5), EventTime::new(1, 500_000_000));
        // 1700000000.123456789 is 1700000000.1234567165374756 as a double: truncated, not rounded.
        let written: f64 = "1700000000.123456789".parse().unwrap();
        assert_eq!(EventTime::from_f64(written), EventTime::new(1_700_000_000, 123_456_716));
        assert_eq!(EventTime::from_f64(0.0), EventTime::new(0, 0));
        assert_eq!(EventTime::from_f64(-1.0), EventTime::GROUP_START);
        assert_eq!(EventTime::from_f64(-0.25), EventTime::new(-1, 750_000_000));
        assert_eq!(EventTime::from_f64(f64::NAN), EventTime::default());
        assert_eq!(EventTime::from_f64(f64::INFINITY).secs, i64::MAX);
        assert_eq!(EventTime::from_f64(f64::NEG_INFINITY).secs, i64::MIN);
        // Truncates as Fluent Bit does: no carry into the seconds.
        assert_eq!(EventTime::from_f64(2.999_999_999_9), EventTime::new(2, 999_999_999));
        let t = EventTime::from_f64(1_700_000_000.25);
        assert_eq!(t, EventTime::new(1_700_000_000, 250_000_000));
        assert_eq!(t.as_f64(), 1_700_000_000.25);
        let t = EventTime::from_f64(1_700_000_000.123_456_7);
        assert_eq!(t.secs, 1_700_000_000);
        assert!((i64::from(t.nsecs) - 123_456_700).abs() < 500, "{t:?}");
    }

    #[test]
    fn add_nanos() {
        let t = EventTime::new(10, 999_999_999);
        assert_eq!(t.add_nanos(1), EventTime::new(11, 0));
        assert_eq!(t.add_nanos(0), t);
        assert_eq!(t.add_nanos(2_000_000_001), EventTime::new(13, 0));
        assert_eq!(EventTime::new(0, 0).add_nanos(u64::MAX), EventTime::new(18_446_744_073, 709_551_615));
        assert_eq!(EventTime::new(i64::MAX, 0).add_nanos(5_000_000_000).secs, i64::MAX);
        // An invalid nsecs is normalised rather than overflowing.
        assert_eq!(EventTime::new(0, u32::MAX).add_nanos(0), EventTime::new(4, 294_967_295));
    }

    #[test]
    fn now_is_recent_and_valid() {
        let t = EventTime::now();
        assert_eq!(t.kind(), TimeKind::Normal);
        assert!(t.secs > 1_600_000_000);
    }
}
