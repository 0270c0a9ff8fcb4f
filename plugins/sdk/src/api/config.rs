//! Typed access to an instance's config keys, parsed the way Fluent Bit parses them, so a value means
//! the same to our plugin as to the native one: booleans as `flb_utils_bool`, sizes as
//! `flb_utils_size_to_bytes` (K/M/G are powers of 1000, `false` is 0), durations as
//! `flb_utils_time_to_seconds` (s/m/h/d suffixes).

use super::error::{Error, Result};
use crate::abi::{flb_api, flb_get_property_fn};
use crate::api::log::InstanceKind;
use core::ffi::{c_char, c_void, CStr};
use std::time::Duration;

/// Reads config values of one instance. Borrowed strings live as long as the instance's config.
#[derive(Clone, Copy)]
pub struct Config<'a> {
    source: Source<'a>,
}

#[derive(Clone, Copy)]
enum Source<'a> {
    Host { get: flb_get_property_fn, ins: *mut c_void, _api: core::marker::PhantomData<&'a flb_api> },
    Pairs(&'a [(&'a str, &'a str)]),
}

impl<'a> Config<'a> {
    /// Config read through the host's `*_get_property` callback.
    ///
    /// # Safety
    /// `api` must point to a valid table and `ins` be the instance pointer the host passed with it;
    /// both must stay valid for `'a`, and so must the strings the host returns.
    pub unsafe fn from_host(api: &'a flb_api, ins: *mut c_void, kind: InstanceKind) -> Self {
        let get = match kind {
            InstanceKind::Input => api.input_get_property,
            InstanceKind::Output => api.output_get_property,
        };
        Config { source: Source::Host { get, ins, _api: core::marker::PhantomData } }
    }

    /// Config from key/value pairs (keys matched case-insensitively): for tests and benchmarks.
    pub fn from_pairs(pairs: &'a [(&'a str, &'a str)]) -> Self {
        Config { source: Source::Pairs(pairs) }
    }

    /// The raw value of `key`, or `None` when unset. A value that is not UTF-8 is an error.
    pub fn get(&self, key: &str) -> Result<Option<&'a str>> {
        match self.source {
            Source::Pairs(pairs) => Ok(pairs.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)).map(|(_, v)| *v)),
            Source::Host { get, ins, .. } => {
                let Some(get) = get else { return Ok(None) };
                let mut ckey = Vec::with_capacity(key.len() + 1);
                ckey.extend_from_slice(key.as_bytes());
                if ckey.contains(&0) {
                    return Err(Error::new(format!("config key {key:?} contains a NUL byte")));
                }
                ckey.push(0);
                // SAFETY: ckey is NUL-terminated; per from_host's contract the host callback and
                // instance are valid.
                let p: *const c_char = unsafe { get(ckey.as_ptr() as *const c_char, ins) };
                if p.is_null() {
                    return Ok(None);
                }
                // SAFETY: the host returns a NUL-terminated string that lives as long as the
                // instance config ('a, per from_host's contract).
                let v: &'a CStr = unsafe { CStr::from_ptr(p) };
                v.to_str()
                    .map(Some)
                    .map_err(|_| Error::config(key, &v.to_string_lossy(), "the value is not valid UTF-8"))
            }
        }
    }

    /// A string value, `default` when unset.
    pub fn str_or(&self, key: &str, default: &'a str) -> Result<&'a str> {
        Ok(self.get(key)?.unwrap_or(default))
    }

    /// A boolean: on/off, true/false, yes/no (any case), as Fluent Bit's `flb_utils_bool`.
    pub fn bool_or(&self, key: &str, default: bool) -> Result<bool> {
        match self.get(key)? {
            None => Ok(default),
            Some(v) => parse_bool(v).ok_or_else(|| Error::config(key, v, "expected on/off, true/false or yes/no")),
        }
    }

    /// A signed integer within `range`.
    pub fn int_or(&self, key: &str, default: i64, range: core::ops::RangeInclusive<i64>) -> Result<i64> {
        let Some(v) = self.get(key)? else { return Ok(default) };
        let allowed = || format!("expected an integer from {} to {}", range.start(), range.end());
        let n: i64 = v.trim().parse().map_err(|_| Error::config(key, v, &allowed()))?;
        if range.contains(&n) {
            Ok(n)
        } else {
            Err(Error::config(key, v, &allowed()))
        }
    }

    /// A non-negative integer no larger than `max`.
    pub fn uint_or(&self, key: &str, default: u64, max: u64) -> Result<u64> {
        let Some(v) = self.get(key)? else { return Ok(default) };
        let allowed = || format!("expected a whole number from 0 to {max}");
        let n: u64 = v.trim().parse().map_err(|_| Error::config(key, v, &allowed()))?;
        if n <= max {
            Ok(n)
        } else {
            Err(Error::config(key, v, &allowed()))
        }
    }

    /// A finite float.
    pub fn float_or(&self, key: &str, default: f64) -> Result<f64> {
        let Some(v) = self.get(key)? else { return Ok(default) };
        match v.trim().parse::<f64>() {
            Ok(f) if f.is_finite() => Ok(f),
            _ => Err(Error::config(key, v, "expected a number")),
        }
    }

    /// A size in bytes: a number with an optional K, KB, M, MB, G or GB suffix (powers of 1000, as
    /// Fluent Bit's `flb_utils_size_to_bytes`); `false` means 0.
    pub fn size_or(&self, key: &str, default: u64) -> Result<u64> {
        match self.get(key)? {
            None => Ok(default),
            Some(v) => {
                parse_size(v).ok_or_else(|| Error::config(key, v, "expected a size such as 512, 32K, 5MB or 1G"))
            }
        }
    }

    /// A duration: a number of seconds with an optional s, m, h or d suffix (as Fluent Bit's
    /// `flb_utils_time_to_seconds`), fractions allowed.
    pub fn duration_or(&self, key: &str, default: Duration) -> Result<Duration> {
        match self.get(key)? {
            None => Ok(default),
            Some(v) => parse_duration(v)
                .ok_or_else(|| Error::config(key, v, "expected a duration such as 30, 10s, 5m, 2h or 1d")),
        }
    }
}

/// Parses a Fluent Bit boolean.
pub fn parse_bool(v: &str) -> Option<bool> {
    let v = v.trim();
    if ["on", "true", "yes"].iter().any(|t| v.eq_ignore_ascii_case(t)) {
        Some(true)
    } else if ["off", "false", "no"].iter().any(|t| v.eq_ignore_ascii_case(t)) {
        Some(false)
    } else {
        None
    }
}

/// Parses a Fluent Bit size.
pub fn parse_size(v: &str) -> Option<u64> {
    let v = v.trim();
    if v.eq_ignore_ascii_case("false") {
        return Some(0);
    }
    let split = v.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(v.len());
    let (num, unit) = v.split_at(split);
    let n: f64 = num.parse().ok()?;
    let mult: f64 = match unit.to_ascii_uppercase().as_str() {
        "" => 1.0,
        "K" | "KB" => 1e3,
        "M" | "MB" => 1e6,
        "G" | "GB" => 1e9,
        _ => return None,
    };
    let bytes = n * mult;
    (bytes.is_finite() && bytes >= 0.0 && bytes < u64::MAX as f64).then_some(bytes as u64)
}

/// Parses a Fluent Bit duration.
pub fn parse_duration(v: &str) -> Option<Duration> {
    let v = v.trim();
    let split = v.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(v.len());
    let (num, unit) = v.split_at(split);
    let n: f64 = num.parse().ok()?;
    let mult = match unit.to_ascii_lowercase().as_str() {
        "" | "s" => 1.0,
        "m" => 60.0,
        "h" => 3600.0,
        "d" => 86400.0,
        _ => return None,
    };
    Duration::try_from_secs_f64(n * mult).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn booleans_follow_flb_utils_bool() {
        for t in ["on", "ON", "true", "Yes"] {
            assert_eq!(parse_bool(t), Some(true), "{t}");
        }
        for f in ["off", "False", "no"] {
            assert_eq!(parse_bool(f), Some(false), "{f}");
        }
        for bad in ["", "1", "0", "enable", "y"] {
            assert_eq!(parse_bool(bad), None, "{bad}");
        }
    }

    #[test]
    fn sizes_use_powers_of_1000_like_fluent_bit() {
        assert_eq!(parse_size("512"), Some(512));
        assert_eq!(parse_size("32k"), Some(32_000));
        assert_eq!(parse_size("32KB"), Some(32_000));
        assert_eq!(parse_size("5M"), Some(5_000_000));
        assert_eq!(parse_size("1.5G"), Some(1_500_000_000));
        assert_eq!(parse_size("false"), Some(0));
        for bad in ["", "K", "12Q", "12KiB", "-5", "1e99G"] {
            assert_eq!(parse_size(bad), None, "{bad}");
        }
    }

    #[test]
    fn durations_take_suffixes_and_fractions() {
        assert_eq!(parse_duration("30"), Some(Duration::from_secs(30)));
        assert_eq!(parse_duration("10s"), Some(Duration::from_secs(10)));
        assert_eq!(parse_duration("5m"), Some(Duration::from_secs(300)));
        assert_eq!(parse_duration("2h"), Some(Duration::from_secs(7200)));
        assert_eq!(parse_duration("1d"), Some(Duration::from_secs(86400)));
        assert_eq!(parse_duration("0.25"), Some(Duration::from_millis(250)));
        for bad in ["", "s", "5x", "-1"] {
            assert_eq!(parse_duration(bad), None, "{bad}");
        }
    }

    #[test]
    fn typed_getters_name_key_value_and_allowed_range() {
        let pairs = [("Rate", "abc"), ("copies", "-3"), ("flag", "maybe"), ("n", "7")];
        let c = Config::from_pairs(&pairs);
        let e = c.int_or("rate", 1, 1..=1000).unwrap_err();
        assert!(e.message().contains("'rate'") && e.message().contains("'abc'") && e.message().contains("1 to 1000"));
        assert!(c.uint_or("copies", 1, 100).unwrap_err().message().contains("'-3'"));
        assert!(c.bool_or("flag", false).unwrap_err().message().contains("on/off"));
        assert_eq!(c.uint_or("n", 0, 10).unwrap(), 7);
        assert_eq!(c.uint_or("missing", 5, 10).unwrap(), 5);
        assert!(c.uint_or("n", 0, 5).is_err());
    }
}
