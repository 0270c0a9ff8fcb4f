//! A plugin's config keys, declared once: name, type, default and description. The same table
//! gives the plugin its typed values ([`Config`](super::Config) reads a [`Key`] and falls back to
//! its declared default) and, on hosts known to take it, becomes the `config_map` Fluent Bit uses to
//! refuse unknown keys and to list the keys in `fluent-bit -e X.so -i NAME -h`.
//!
//! ```
//! use flb_plugin_sdk::api::Key;
//! const FORMAT: Key = Key::str("format").default("msgpack").desc("how records are printed");
//! const KEYS: &[Key] = &[FORMAT, Key::bool("verbose").default("off").desc("print more")];
//! assert_eq!(flb_plugin_sdk::api::keys::check(KEYS), Ok(()));
//! ```

use super::config::{parse_bool, parse_duration, parse_size};
use core::ffi::c_int;

/// How Fluent Bit reads a key's value: it parses the default by this type (a default it cannot
/// parse fails the instance) and prints the type in `-h`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyType {
    /// Any string.
    Str,
    /// A whole number.
    Int,
    /// on/off, true/false, yes/no.
    Bool,
    /// A number with a fraction.
    Double,
    /// A size: 512, 32K, 5M, 1G (powers of 1000).
    Size,
    /// A time in seconds, with an optional s/m/h/d suffix.
    Time,
    /// A comma-separated list of strings.
    CommaList,
    /// A space-separated list of strings.
    SpaceList,
    /// A family of string keys sharing a prefix (`parser_` takes `parser_1`, `parser_2`, ...).
    /// Hosts accept the family; the proxy API cannot list which members a user set, so a plugin
    /// cannot read them.
    Prefix,
}

impl KeyType {
    /// Fluent Bit's `FLB_CONFIG_MAP_*` value.
    pub const fn c_type(self) -> c_int {
        use crate::abi::*;
        match self {
            KeyType::Str => FLB_CONFIG_MAP_STR,
            KeyType::Int => FLB_CONFIG_MAP_INT,
            KeyType::Bool => FLB_CONFIG_MAP_BOOL,
            KeyType::Double => FLB_CONFIG_MAP_DOUBLE,
            KeyType::Size => FLB_CONFIG_MAP_SIZE,
            KeyType::Time => FLB_CONFIG_MAP_TIME,
            KeyType::CommaList => FLB_CONFIG_MAP_CLIST,
            KeyType::SpaceList => FLB_CONFIG_MAP_SLIST,
            KeyType::Prefix => FLB_CONFIG_MAP_STR_PREFIX,
        }
    }

    /// Whether Fluent Bit would accept `v` as a default of this type (`translate_default_value`).
    fn accepts(self, v: &str) -> bool {
        match self {
            KeyType::Str | KeyType::CommaList | KeyType::SpaceList | KeyType::Prefix => true,
            KeyType::Int => v.trim().parse::<i64>().is_ok(),
            KeyType::Bool => parse_bool(v).is_some(),
            KeyType::Double => v.trim().parse::<f64>().is_ok_and(f64::is_finite),
            KeyType::Size => parse_size(v).is_some(),
            KeyType::Time => parse_duration(v).is_some(),
        }
    }
}

/// One config key. Build it in a `const` with [`Key::str`] and friends, then `.default(..)` and
/// `.desc(..)`; list every key of the plugin in its `KEYS`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Key {
    name: &'static str,
    kind: KeyType,
    default: Option<&'static str>,
    desc: &'static str,
    multiple: bool,
}

impl Key {
    /// A key of type `kind`, no default, no description.
    pub const fn new(kind: KeyType, name: &'static str) -> Key {
        Key { name, kind, default: None, desc: "", multiple: false }
    }

    /// A string key.
    pub const fn str(name: &'static str) -> Key {
        Key::new(KeyType::Str, name)
    }

    /// An integer key.
    pub const fn int(name: &'static str) -> Key {
        Key::new(KeyType::Int, name)
    }

    /// A boolean key.
    pub const fn bool(name: &'static str) -> Key {
        Key::new(KeyType::Bool, name)
    }

    /// A double key.
    pub const fn double(name: &'static str) -> Key {
        Key::new(KeyType::Double, name)
    }

    /// A size key.
    pub const fn size(name: &'static str) -> Key {
        Key::new(KeyType::Size, name)
    }

    /// A time key.
    pub const fn time(name: &'static str) -> Key {
        Key::new(KeyType::Time, name)
    }

    /// A comma-separated list key.
    pub const fn comma_list(name: &'static str) -> Key {
        Key::new(KeyType::CommaList, name)
    }

    /// A key family sharing a prefix (see [`KeyType::Prefix`]).
    pub const fn prefix(name: &'static str) -> Key {
        Key::new(KeyType::Prefix, name)
    }

    /// The value used when the user does not set the key, written as a user would write it.
    pub const fn default(mut self, value: &'static str) -> Key {
        self.default = Some(value);
        self
    }

    /// What the key does, shown by `-h`.
    pub const fn desc(mut self, text: &'static str) -> Key {
        self.desc = text;
        self
    }

    /// The key may be set more than once (Fluent Bit refuses a repeated key otherwise).
    pub const fn multiple(mut self) -> Key {
        self.multiple = true;
        self
    }

    /// The key's name.
    pub const fn name(&self) -> &'static str {
        self.name
    }

    /// The key's type.
    pub const fn kind(&self) -> KeyType {
        self.kind
    }

    /// The declared default, if any.
    pub const fn default_value(&self) -> Option<&'static str> {
        self.default
    }

    /// The description.
    pub const fn description(&self) -> &'static str {
        self.desc
    }

    /// Whether the key may be set more than once.
    pub const fn is_multiple(&self) -> bool {
        self.multiple
    }
}

/// Checks a key table the way Fluent Bit will use it: every name non-empty, without NUL bytes and
/// unique (names compare case-insensitively, as hosts match them), every default parseable by its
/// type. Every plugin should assert this in a test; the SDK also refuses to hand a table that fails
/// it to the host (the plugin still runs, unchecked).
pub fn check(keys: &[Key]) -> Result<(), String> {
    for (i, k) in keys.iter().enumerate() {
        if k.name.is_empty() {
            return Err(format!("key #{i} has an empty name"));
        }
        if k.name.contains('\0') || k.desc.contains('\0') || k.default.is_some_and(|d| d.contains('\0')) {
            return Err(format!("key '{}' contains a NUL byte", k.name));
        }
        if keys[..i].iter().any(|o| o.name.eq_ignore_ascii_case(k.name)) {
            return Err(format!("key '{}' is declared twice", k.name));
        }
        if let Some(d) = k.default {
            if !k.kind.accepts(d) {
                return Err(format!("key '{}': default '{d}' is not a valid {:?}", k.name, k.kind));
            }
        }
    }
    Ok(())
}

/// The declared key named `name` (case-insensitive).
pub(crate) fn find<'k>(keys: &'k [Key], name: &str) -> Option<&'k Key> {
    keys.iter().find(|k| k.name.eq_ignore_ascii_case(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_refuses_what_fluent_bit_would() {
        assert_eq!(check(&[Key::int("a").default("1"), Key::bool("b").default("on")]), Ok(()));
        assert!(check(&[Key::bool("b").default("enabled")]).unwrap_err().contains("'b'"));
        assert!(check(&[Key::size("s").default("12Q")]).is_err());
        assert!(check(&[Key::time("t").default("5x")]).is_err());
        assert!(check(&[Key::int("i").default("one")]).is_err());
        assert!(check(&[Key::str("x"), Key::int("X")]).unwrap_err().contains("twice"));
        assert!(check(&[Key::str("")]).is_err());
        assert!(check(&[Key::str("a\0b")]).unwrap_err().contains("NUL"));
        assert_eq!(check(&[Key::str("free").default("anything at all")]), Ok(()));
    }
}
