//! The SDK's typed config getters on arbitrary values: never a panic; a value is accepted exactly
//! when the parser function behind the getter accepts it (and within the asked range); a refusal
//! names the key and shows the value; accepted values print back to text that parses to the same
//! value.

use std::time::Duration;

use flb_plugin_sdk::api::config::{parse_bool, parse_duration, parse_size};
use flb_plugin_sdk::api::{Config, Error, Key};

use crate::input::Input;

const B: Key = Key::bool("flag").default("off");
const I: Key = Key::int("count").default("1");
const U: Key = Key::int("limit").default("1");
const F: Key = Key::double("ratio").default("0.5");
const S: Key = Key::size("buffer_size").default("32k");
const T: Key = Key::time("interval").default("1s");
const STR: Key = Key::str("name").default("dflt");
static KEYS: &[Key] = &[B, I, U, F, S, T, STR];

/// Above this, a u64 does not survive the trip through f64 that sizes and durations take.
const EXACT_F64: u64 = 1 << 53;

/// The target: two bytes pick the range of `int`/`uint`, one the spelling of the key names, the
/// rest is the value every key is set to (read as UTF-8, lossily: the host hands over C strings
/// the SDK checks for UTF-8 before any getter sees them).
pub fn config_getters(data: &[u8]) {
    let mut input = Input::new(data);
    let lo = i64::from(input.u16() as i16);
    let width = i64::from(input.u16());
    let upper = input.byte() & 1 == 1;
    let value = String::from_utf8_lossy(input.rest()).into_owned();
    let v = value.as_str();
    let names: Vec<String> =
        KEYS.iter().map(|k| if upper { k.name().to_ascii_uppercase() } else { k.name().to_string() }).collect();
    let pairs: Vec<(&str, &str)> = names.iter().map(|n| (n.as_str(), v)).collect();
    let cfg = Config::from_pairs(&pairs).with_keys(KEYS);

    assert_eq!(cfg.string(&STR).ok(), Some(v), "a set string reads back as set");
    assert_eq!(cfg.value(&STR).ok().flatten(), Some(v));

    match cfg.bool(&B) {
        Ok(b) => {
            assert_eq!(parse_bool(v), Some(b));
            assert_eq!(parse_bool(&b.to_string()), Some(b));
        }
        Err(e) => {
            assert_eq!(parse_bool(v), None);
            clear(&e, &B, v);
        }
    }

    let range = lo..=lo.saturating_add(width);
    match cfg.int(&I, range.clone()) {
        Ok(n) => {
            assert!(range.contains(&n));
            assert_eq!(v.trim().parse::<i64>().ok(), Some(n));
            let again = n.to_string();
            let p = [("count", again.as_str())];
            assert_eq!(Config::from_pairs(&p).int(&I, range.clone()).ok(), Some(n), "{n} does not read back");
        }
        Err(e) => {
            assert!(v.trim().parse::<i64>().map_or(true, |n| !range.contains(&n)));
            clear(&e, &I, v);
        }
    }

    let max = width as u64;
    match cfg.uint(&U, max) {
        Ok(n) => {
            assert!(n <= max);
            assert_eq!(v.trim().parse::<u64>().ok(), Some(n));
        }
        Err(e) => {
            assert!(v.trim().parse::<u64>().map_or(true, |n| n > max));
            clear(&e, &U, v);
        }
    }

    match cfg.float(&F) {
        Ok(f) => {
            assert!(f.is_finite());
            assert_eq!(f.to_string().parse::<f64>().ok(), Some(f));
        }
        Err(e) => clear(&e, &F, v),
    }

    match cfg.size(&S) {
        Ok(n) => {
            assert_eq!(parse_size(v), Some(n));
            if n <= EXACT_F64 {
                assert_eq!(parse_size(&n.to_string()), Some(n), "size {n} does not read back");
            }
        }
        Err(e) => {
            assert_eq!(parse_size(v), None);
            clear(&e, &S, v);
        }
    }

    match cfg.duration(&T) {
        Ok(d) => {
            assert_eq!(parse_duration(v), Some(d));
            let secs = d.as_secs();
            if secs <= EXACT_F64 {
                let whole = Duration::from_secs(secs);
                assert_eq!(parse_duration(&secs.to_string()), Some(whole), "{secs} s does not read back");
                assert_eq!(parse_duration(&format!("{secs}s")), Some(whole));
            }
        }
        Err(e) => {
            assert_eq!(parse_duration(v), None);
            clear(&e, &T, v);
        }
    }
}

/// A refusal says which key and which value, so the user can find the line to fix.
fn clear(e: &Error, key: &Key, value: &str) {
    let m = e.message();
    assert!(m.contains(&format!("'{}'", key.name())), "the error does not name the key: {m}");
    assert!(m.contains(&format!("'{value}'")), "the error does not show the value: {m}");
}
