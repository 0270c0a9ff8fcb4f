//! The `config_map` a plugin hands Fluent Bit 5.1.1 in its definition: its declared keys as an
//! array of `struct flb_config_map` ended by a zeroed entry. The host copies names and defaults
//! into each instance's map and keeps the description pointers, so the array and its strings live
//! in the registry until the last Unregister (after every instance is gone).

use crate::abi::{flb_config_map, flb_config_map_val, mk_list, FLB_CONFIG_MAP_MULT};
use crate::api::keys::{self, Key};
use core::ffi::c_char;
use std::ffi::CString;

/// An owned `config_map` array.
pub(crate) struct ConfigMap {
    /// The strings the entries point into; never touched again after the build.
    _strings: Vec<CString>,
    entries: Box<[flb_config_map]>,
}

// SAFETY: the entries' pointers refer to `_strings`, owned alongside them and never mutated after
// `build`; the host only reads the array. Moving or sharing the owner across threads is sound.
unsafe impl Send for ConfigMap {}
// SAFETY: as above: no interior mutability, the array is read-only once built.
unsafe impl Sync for ConfigMap {}

const fn empty_list() -> mk_list {
    mk_list { prev: core::ptr::null_mut(), next: core::ptr::null_mut() }
}

const fn entry(
    type_: core::ffi::c_int,
    name: *const c_char,
    def_value: *const c_char,
    flags: core::ffi::c_int,
    desc: *const c_char,
) -> flb_config_map {
    flb_config_map {
        type_,
        name,
        def_value,
        flags,
        set_property: 0,
        offset: 0,
        desc,
        value: flb_config_map_val {
            val: 0,
            raw: core::ptr::null_mut(),
            mult: core::ptr::null_mut(),
            _head: empty_list(),
        },
        _head: empty_list(),
    }
}

impl ConfigMap {
    /// The map of `keys`, or why they cannot be handed over (see [`keys::check`]).
    pub(crate) fn build(keys: &[Key]) -> Result<ConfigMap, String> {
        keys::check(keys)?;
        // Every string is made first and its pointer taken only once `strings` is final: moving a
        // CString (into the Vec) asserts unique ownership of its buffer, which under Rust's
        // aliasing rules invalidates pointers taken from it before the move (Miri reported it).
        let mut strings = Vec::with_capacity(keys.len() * 3);
        let mut keep = |s: &str| -> Result<usize, String> {
            strings.push(CString::new(s).map_err(|_| format!("{s:?} contains a NUL byte"))?);
            Ok(strings.len() - 1)
        };
        let mut slots = Vec::with_capacity(keys.len());
        for k in keys {
            let name = keep(k.name())?;
            let def = k.default_value().map(&mut keep).transpose()?;
            let desc = keep(k.description())?;
            slots.push((k, name, def, desc));
        }
        let ptr = |i: usize| strings[i].as_ptr();
        let mut entries = Vec::with_capacity(keys.len() + 1);
        for (k, name, def, desc) in slots {
            let flags = if k.is_multiple() { FLB_CONFIG_MAP_MULT } else { 0 };
            let def = def.map_or(core::ptr::null(), ptr);
            entries.push(entry(k.kind().c_type(), ptr(name), def, flags, ptr(desc)));
        }
        entries.push(entry(0, core::ptr::null(), core::ptr::null(), 0, core::ptr::null()));
        Ok(ConfigMap { _strings: strings, entries: entries.into_boxed_slice() })
    }

    /// The array as the host takes it. The host never writes through it (it copies entries).
    pub(crate) fn as_ptr(&self) -> *mut flb_config_map {
        self.entries.as_ptr().cast_mut()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::abi::{FLB_CONFIG_MAP_BOOL, FLB_CONFIG_MAP_STR};
    use core::ffi::CStr;

    #[test]
    fn entries_carry_the_declared_keys_and_end_with_a_null_name() {
        let keys = [
            Key::str("format").default("msgpack").desc("how to print"),
            Key::bool("verbose").default("off").multiple(),
        ];
        let map = ConfigMap::build(&keys).unwrap();
        // SAFETY: the map holds keys.len() + 1 entries and lives for this test.
        let e = unsafe { core::slice::from_raw_parts(map.as_ptr(), keys.len() + 1) };
        // SAFETY: every non-NULL string pointer refers to a CString the map owns.
        let s = |p: *const c_char| unsafe { (!p.is_null()).then(|| CStr::from_ptr(p).to_str().unwrap()) };
        assert_eq!(
            (e[0].type_, s(e[0].name), s(e[0].def_value), s(e[0].desc)),
            (FLB_CONFIG_MAP_STR, Some("format"), Some("msgpack"), Some("how to print"))
        );
        assert_eq!((e[0].flags, e[0].set_property, e[0].offset), (0, 0, 0));
        assert_eq!((e[1].type_, s(e[1].name), e[1].flags), (FLB_CONFIG_MAP_BOOL, Some("verbose"), FLB_CONFIG_MAP_MULT));
        assert!(e[2].name.is_null() && e[2].def_value.is_null() && e[2].desc.is_null());
    }

    #[test]
    fn a_table_fluent_bit_would_refuse_is_not_built() {
        assert!(ConfigMap::build(&[Key::bool("b").default("maybe")]).is_err());
    }
}
