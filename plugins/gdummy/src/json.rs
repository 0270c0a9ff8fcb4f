//! The `dummy` and `metadata` values: `${VAR}` references resolved, JSON parsed with serde_json (key
//! order kept) and encoded to msgpack once, at init.

use flb_plugin_sdk::api::{Error, Result};
use serde_json::Value;

/// A `${VAR}` reference that named no set variable (it resolved to the empty string, as in Fluent Bit).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnsetVar(pub String);

/// Resolves `${VAR}` and `${VAR:-default}` references the way Fluent Bit's `flb_env_var_translate`
/// does: an unset variable becomes the empty string (and is reported), `:-default` is used when the
/// variable is unset or empty. A `${` without a closing `}` is kept as written.
pub fn resolve_env(value: &str, lookup: impl Fn(&str) -> Option<String>) -> (String, Vec<UnsetVar>) {
    let mut out = String::with_capacity(value.len());
    let mut unset = Vec::new();
    let mut rest = value;
    while let Some(start) = rest.find("${") {
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else { break };
        out.push_str(&rest[..start]);
        let inner = &after[..end];
        let (name, default) = match inner.find(":-") {
            Some(i) => (&inner[..i], Some(&inner[i + 2..])),
            None => (inner, None),
        };
        match (lookup(name), default) {
            (Some(v), Some(d)) if v.is_empty() => out.push_str(d),
            (Some(v), _) => out.push_str(&v),
            (None, Some(d)) => out.push_str(d),
            (None, None) => unset.push(UnsetVar(name.to_string())),
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    (out, unset)
}

/// How a value is shown in an error line: whole when short, cut (on a char boundary) when long.
pub fn shown(value: &str) -> String {
    const MAX: usize = 200;
    if value.len() <= MAX {
        return value.to_string();
    }
    let mut cut = MAX;
    while !value.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}...", &value[..cut])
}

/// Parses `text` as one or more JSON objects in a row and returns each encoded as a msgpack map.
/// `raw` is the config value as written (before `${VAR}` resolution), used in the error line.
pub fn parse_objects(key: &str, raw: &str, text: &str, at_most_one: bool) -> Result<Vec<Vec<u8>>> {
    let allowed = |detail: &str| {
        let what = if at_most_one {
            "expected one JSON object, e.g. {\"source\":\"test\"}"
        } else {
            "expected one or more JSON objects, e.g. {\"message\":\"dummy\"}"
        };
        let resolved =
            if raw != text { format!("; after ${{VAR}} resolution: '{}'", shown(text)) } else { String::new() };
        format!("{what}: {detail}{resolved}")
    };
    let mut out = Vec::new();
    for item in serde_json::Deserializer::from_str(text).into_iter::<Value>() {
        let v = item.map_err(|e| Error::config(key, &shown(raw), &allowed(&format!("invalid JSON ({e})"))))?;
        if !v.is_object() {
            let kind = match v {
                Value::Null => "null",
                Value::Bool(_) => "a boolean",
                Value::Number(_) => "a number",
                Value::String(_) => "a string",
                Value::Array(_) => "an array",
                Value::Object(_) => "an object",
            };
            return Err(Error::config(key, &shown(raw), &allowed(&format!("found {kind}"))));
        }
        let mut buf = Vec::with_capacity(64);
        encode(&v, &mut buf).map_err(|e| Error::config(key, &shown(raw), &allowed(&e)))?;
        out.push(buf);
    }
    if out.is_empty() {
        return Err(Error::config(key, &shown(raw), &allowed("found nothing")));
    }
    if at_most_one && out.len() > 1 {
        return Err(Error::config(key, &shown(raw), &allowed(&format!("found {} objects", out.len()))));
    }
    Ok(out)
}

fn wr<T, E: core::fmt::Display>(r: core::result::Result<T, E>) -> core::result::Result<(), String> {
    r.map(|_| ()).map_err(|e| format!("cannot encode as msgpack: {e}"))
}

fn len32(n: usize) -> core::result::Result<u32, String> {
    u32::try_from(n).map_err(|_| "a string, array or object is too large for msgpack".to_string())
}

/// JSON to msgpack as Fluent Bit's `flb_pack_json` does it: integers as msgpack integers (positive
/// as unsigned, negative as signed), other numbers as float64, strings as str, keys in the order
/// written. serde_json's recursion limit (128) bounds the depth.
pub fn encode(v: &Value, out: &mut Vec<u8>) -> core::result::Result<(), String> {
    use rmp::encode as e;
    match v {
        Value::Null => wr(e::write_nil(out)),
        Value::Bool(b) => wr(e::write_bool(out, *b)),
        Value::Number(n) => {
            if let Some(u) = n.as_u64() {
                wr(e::write_uint(out, u))
            } else if let Some(i) = n.as_i64() {
                wr(e::write_sint(out, i))
            } else {
                wr(e::write_f64(out, n.as_f64().unwrap_or(0.0)))
            }
        }
        Value::String(s) => {
            len32(s.len())?;
            wr(e::write_str(out, s))
        }
        Value::Array(a) => {
            wr(e::write_array_len(out, len32(a.len())?))?;
            a.iter().try_for_each(|x| encode(x, out))
        }
        Value::Object(m) => {
            wr(e::write_map_len(out, len32(m.len())?))?;
            for (k, x) in m {
                len32(k.len())?;
                wr(e::write_str(out, k))?;
                encode(x, out)?;
            }
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flb_plugin_sdk::events::decode_value;

    fn env(name: &str) -> Option<String> {
        match name {
            "A" => Some("alpha".into()),
            "EMPTY" => Some(String::new()),
            _ => None,
        }
    }

    #[test]
    fn env_references_resolve_like_fluent_bit() {
        assert_eq!(resolve_env("x${A}y", env), ("xalphay".to_string(), vec![]));
        assert_eq!(resolve_env("${A}${A}", env).0, "alphaalpha");
        assert_eq!(resolve_env("${NOPE}-", env), ("-".to_string(), vec![UnsetVar("NOPE".into())]));
        assert_eq!(resolve_env("${NOPE:-dflt}", env), ("dflt".to_string(), vec![]));
        assert_eq!(resolve_env("${EMPTY:-dflt}", env).0, "dflt");
        assert_eq!(resolve_env("${EMPTY}", env).0, "");
        assert_eq!(resolve_env("${A:-dflt}", env).0, "alpha");
        assert_eq!(resolve_env("no refs {\"a\":1}", env).0, "no refs {\"a\":1}");
        assert_eq!(resolve_env("open ${A", env).0, "open ${A");
        assert_eq!(resolve_env("ünï ${A} ç", env).0, "ünï alpha ç");
    }

    #[test]
    fn numbers_strings_and_nesting_encode_like_flb_pack_json() {
        let objs = parse_objects(
            "dummy",
            "",
            r#"{"z":1,"a":-2,"f":1.5,"e":1e3,"s":"x","n":null,"b":true,"l":[1,"two"],"m":{"k":"v"}}"#,
            false,
        )
        .unwrap();
        assert_eq!(objs.len(), 1);
        let (v, end) = decode_value(&objs[0], 0).unwrap();
        assert_eq!(end, objs[0].len());
        let m = v.as_map().unwrap();
        let keys: Vec<&str> = m.iter().map(|kv| kv.unwrap().0.as_str().unwrap()).collect();
        assert_eq!(keys, ["z", "a", "f", "e", "s", "n", "b", "l", "m"], "key order kept as written");
        assert_eq!(m.get(b"z").unwrap().unwrap().as_u64(), Some(1));
        assert_eq!(m.get(b"a").unwrap().unwrap().as_i64(), Some(-2));
        assert_eq!(m.get(b"f").unwrap().unwrap().as_f64(), Some(1.5));
        assert_eq!(m.get(b"e").unwrap().unwrap().as_f64(), Some(1000.0));
        assert_eq!(m.get(b"s").unwrap().unwrap().as_str(), Some("x"));
        assert!(m.get(b"n").unwrap().unwrap().is_nil());
        assert_eq!(m.get(b"b").unwrap().unwrap().as_bool(), Some(true));
        assert_eq!(m.get(b"l").unwrap().unwrap().as_array().unwrap().len(), 2);
        assert_eq!(m.get(b"m").unwrap().unwrap().as_map().unwrap().get(b"k").unwrap().unwrap().as_str(), Some("v"));
        // Exact bytes for the default record.
        let d = parse_objects("dummy", "", r#"{"message":"dummy"}"#, false).unwrap();
        assert_eq!(d[0], b"\x81\xa7message\xa5dummy");
        // Integers are encoded as ints, not floats.
        let i = parse_objects("dummy", "", r#"{"n":300}"#, false).unwrap();
        assert_eq!(i[0], b"\x81\xa1n\xcd\x01\x2c");
    }

    #[test]
    fn several_objects_in_a_row() {
        let objs = parse_objects("dummy", "", "{\"a\":1}{\"b\":2}\n {\"c\":3}", false).unwrap();
        assert_eq!(objs.len(), 3);
        assert!(parse_objects("metadata", "", "{\"a\":1}{\"b\":2}", true).is_err());
    }

    #[test]
    fn refusals_name_key_value_and_what_is_allowed() {
        for (text, want) in [
            ("{\"a\":", "invalid JSON"),
            ("[1,2]", "found an array"),
            ("\"str\"", "found a string"),
            ("42", "found a number"),
            ("{\"a\":1} 7", "found a number"),
            ("", "found nothing"),
            ("   ", "found nothing"),
            ("{bad}", "invalid JSON"),
        ] {
            let e = parse_objects("dummy", text, text, false).unwrap_err();
            let m = e.message();
            assert!(m.contains("'dummy'"), "{m}");
            assert!(m.contains(&format!("'{text}'")), "{m}");
            assert!(m.contains("JSON object"), "{m}");
            assert!(m.contains(want), "{text}: {m}");
        }
        let e = parse_objects("dummy", "${X}", "{", false).unwrap_err();
        assert!(e.message().contains("'${X}'") && e.message().contains("after ${VAR} resolution: '{'"), "{e}");
    }

    #[test]
    fn long_values_are_cut_in_messages() {
        let long = "é".repeat(300);
        let s = shown(&long);
        assert!(s.len() <= 203 && s.ends_with("..."));
    }
}
