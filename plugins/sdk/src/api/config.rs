//! Typed access to an instance's config keys, parsed the way Fluent Bit parses them, so a value means
//! the same to our plugin as to the native one: booleans as `flb_utils_bool`, sizes as
//! `flb_utils_size_to_bytes` (K/M/G are powers of 1000, `false` is 0), durations as
//! `flb_utils_time_to_seconds` (s/m/h/d suffixes).

use super::error::{Error, Result};
use super::keys::{self, Key};
use crate::abi::{flb_api, flb_get_property_fn};
use crate::api::log::InstanceKind;
use core::ffi::{c_char, c_void, CStr};
use std::time::Duration;

/// Reads config values of one instance. Borrowed strings live as long as the instance's config.
///
/// Values are read by [`Key`]: the key's declared default applies when the user did not set it, so
/// a default is written once, in the plugin's `KEYS`. A plugin that declares keys can read only
/// those (an undeclared name is a plugin bug and fails init with an error saying so).
#[derive(Clone, Copy)]
pub struct Config<'a> {
    source: Source<'a>,
    keys: &'static [Key],
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
        Config { source: Source::Host { get, ins, _api: core::marker::PhantomData }, keys: &[] }
    }

    /// Config from key/value pairs (keys matched case-insensitively): for tests and benchmarks.
    pub fn from_pairs(pairs: &'a [(&'a str, &'a str)]) -> Self {
        Config { source: Source::Pairs(pairs), keys: &[] }
    }

    /// Restricts reads to the plugin's declared keys (the SDK does this with the plugin's `KEYS`).
    pub fn with_keys(mut self, keys: &'static [Key]) -> Self {
        self.keys = keys;
        self
    }

    /// The raw value of `key` as the user set it, or `None` when unset. A value that is not UTF-8
    /// is an error, and so is a name the plugin did not declare (when it declares keys).
    pub fn get(&self, key: &str) -> Result<Option<&'a str>> {
        if !self.keys.is_empty() && keys::find(self.keys, key).is_none() {
            return Err(Error::new(format!(
                "plugin bug: config key '{key}' is read but not declared in the plugin's KEYS"
            )));
        }
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

    /// The user's value of `key`, `None` when unset (the default is not applied).
    pub fn value(&self, key: &Key) -> Result<Option<&'a str>> {
        self.get(key.name())
    }

    /// The user's value of `key`, else its declared default, else `None`.
    pub fn text(&self, key: &Key) -> Result<Option<&'a str>> {
        Ok(self.value(key)?.or(key.default_value()))
    }

    /// The user's value, else the declared default, else an empty string.
    pub fn string(&self, key: &Key) -> Result<&'a str> {
        Ok(self.text(key)?.unwrap_or(""))
    }

    /// The value to parse for a typed read: the user's, else the declared default; a key without a
    /// default cannot be read as a number or flag.
    fn typed(&self, key: &Key) -> Result<&'a str> {
        self.text(key)?.ok_or_else(|| Error::new(format!("plugin bug: key '{}' declares no default", key.name())))
    }

    /// A boolean: on/off, true/false, yes/no (any case), as Fluent Bit's `flb_utils_bool`.
    pub fn bool(&self, key: &Key) -> Result<bool> {
        let v = self.typed(key)?;
        parse_bool(v).ok_or_else(|| Error::config(key.name(), v, "expected on/off, true/false or yes/no"))
    }

    /// A signed integer within `range`.
    pub fn int(&self, key: &Key, range: core::ops::RangeInclusive<i64>) -> Result<i64> {
        let v = self.typed(key)?;
        let allowed = || format!("expected an integer from {} to {}", range.start(), range.end());
        let n: i64 = v.trim().parse().map_err(|_| Error::config(key.name(), v, &allowed()))?;
        if range.contains(&n) {
            Ok(n)
        } else {
            Err(Error::config(key.name(), v, &allowed()))
        }
    }

    /// A non-negative integer no larger than `max`.
    pub fn uint(&self, key: &Key, max: u64) -> Result<u64> {
        let v = self.typed(key)?;
        let allowed = || format!("expected a whole number from 0 to {max}");
        let n: u64 = v.trim().parse().map_err(|_| Error::config(key.name(), v, &allowed()))?;
        if n <= max {
            Ok(n)
        } else {
            Err(Error::config(key.name(), v, &allowed()))
        }
    }

    /// A finite float.
    pub fn float(&self, key: &Key) -> Result<f64> {
        let v = self.typed(key)?;
        match v.trim().parse::<f64>() {
            Ok(f) if f.is_finite() => Ok(f),
            _ => Err(Error::config(key.name(), v, "expected a number")),
        }
    }

    /// A size in bytes: a number with an optional K, KB, M, MB, G or GB suffix (powers of 1000, as
    /// Fluent Bit's `flb_utils_size_to_bytes`); `false` means 0.
    pub fn size(&self, key: &Key) -> Result<u64> {
        let v = self.typed(key)?;
        parse_size(v).ok_or_else(|| Error::config(key.name(), v, "expected a size such as 512, 32K, 5MB or 1G"))
    }

    /// A duration: a number of seconds with an optional s, m, h or d suffix (as Fluent Bit's
    /// `flb_utils_time_to_seconds`), fractions allowed.
    pub fn duration(&self, key: &Key) -> Result<Duration> {
        let v = self.typed(key)?;
        parse_duration(v)
            .ok_or_else(|| Error::config(key.name(), v, "expected a duration such as 30, 10s, 5m, 2h or 1d"))
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
        const RATE: Key = Key::int("rate").default("1");
        const COPIES: Key = Key::int("copies").default("1");
        const FLAG: Key = Key::bool("flag").default("off");
        const N: Key = Key::int("n").default("5");
        const MISSING: Key = Key::int("missing").default("5");
        let pairs = [("Rate", "abc"), ("copies", "-3"), ("flag", "maybe"), ("n", "7")];
        let c = Config::from_pairs(&pairs);
        let e = c.int(&RATE, 1..=1000).unwrap_err();
        assert!(e.message().contains("'rate'") && e.message().contains("'abc'") && e.message().contains("1 to 1000"));
        assert!(c.uint(&COPIES, 100).unwrap_err().message().contains("'-3'"));
        assert!(c.bool(&FLAG).unwrap_err().message().contains("on/off"));
        assert_eq!(c.uint(&N, 10).unwrap(), 7);
        assert_eq!(c.uint(&MISSING, 10).unwrap(), 5);
        assert!(c.uint(&N, 5).is_err());
    }

    #[test]
    fn declared_keys_give_defaults_and_refuse_undeclared_reads() {
        const A: Key = Key::str("a").default("dflt");
        const B: Key = Key::str("b");
        const T: Key = Key::time("t").default("2m");
        const NODEF: Key = Key::int("nodef");
        static KEYS: &[Key] = &[A, B, T, NODEF];
        let pairs = [("B", "set")];
        let c = Config::from_pairs(&pairs).with_keys(KEYS);
        assert_eq!(c.string(&A).unwrap(), "dflt");
        assert_eq!(c.value(&A).unwrap(), None);
        assert_eq!(c.text(&B).unwrap(), Some("set"));
        assert_eq!(c.duration(&T).unwrap(), Duration::from_secs(120));
        assert!(c.uint(&NODEF, 9).unwrap_err().message().contains("declares no default"));
        let e = c.get("undeclared").unwrap_err();
        assert!(e.message().contains("'undeclared'") && e.message().contains("not declared"), "{}", e.message());
        const OTHER: Key = Key::str("other").default("x");
        assert!(c.string(&OTHER).is_err());
        // without a table (a plugin that declares nothing) any name reads
        assert_eq!(Config::from_pairs(&pairs).get("anything").unwrap(), None);
    }
}
