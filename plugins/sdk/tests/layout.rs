//! The Rust mirrors of the ABI structs have the same size and field offsets as the C definitions
//! (hand-written from docs/ABI.md, and the generated header), compiled by the test-only crate plugins/sdk/c.

use core::ffi::{c_char, CStr};
use core::mem::{offset_of, size_of};
use flb_plugin_sdk::abi::*;
use std::collections::BTreeMap;

#[repr(C)]
struct Entry {
    what: *const c_char,
    value: usize,
}

#[link(name = "flb_abi_layout", kind = "static")]
extern "C" {
    fn flb_layout_count() -> usize;
    fn flb_layout_entry_at(i: usize) -> *const Entry;
}

fn c_layout() -> BTreeMap<String, usize> {
    // SAFETY: the C side returns a static table of NUL-terminated names.
    unsafe {
        (0..flb_layout_count())
            .map(|i| {
                let e = &*flb_layout_entry_at(i);
                (CStr::from_ptr(e.what).to_string_lossy().into_owned(), e.value)
            })
            .collect()
    }
}

macro_rules! rust_layout {
    ($($s:ident { $($f:ident $(= $cname:ident)?),* }),* $(,)?) => {{
        let mut m = BTreeMap::new();
        $(
            m.insert(format!("{}.size", stringify!($s)), size_of::<$s>());
            $( m.insert(format!("{}.{}", stringify!($s), rust_layout!(@name $f $($cname)?)), offset_of!($s, $f)); )*
        )*
        m
    }};
    (@name $f:ident $cname:ident) => { stringify!($cname) };
    (@name $f:ident) => { stringify!($f) };
}

#[test]
fn rust_structs_match_c_layout() {
    let rust = rust_layout!(
        flb_plugin_proxy_def { type_ = type, proxy, flags, name, description, event_type, config_map },
        mk_list { prev, next },
        flb_config_map_val { val, raw, mult, _head },
        flb_config_map { type_ = type, name, def_value, flags, set_property, offset, desc, value, _head },
        flb_api { output_get_property, input_get_property, output_get_cmt_instance, input_get_cmt_instance,
                  log_print, input_log_check, output_log_check, custom_get_property, custom_log_check },
        flb_plugin_proxy_context { remote_context, proxy },
        flb_plugin_input_proxy_context { coll_fd, remote_context, proxy },
        flbgo_output_plugin { name, api, o_ins, context },
        flbgo_input_plugin { name, api, i_ins, context },
    );
    let c = c_layout();
    assert_eq!(c.len(), rust.len() * 2, "the C table and the Rust list must cover the same fields");
    for (key, value) in &rust {
        for side in ["ref", "hdr"] {
            let c_value = c.get(&format!("{side}.{key}")).unwrap_or_else(|| panic!("C side lacks {side}.{key}"));
            assert_eq!(c_value, value, "{side}.{key}: C says {c_value}, Rust says {value}");
        }
    }
    // The facts docs/ABI.md calls out.
    assert_eq!(offset_of!(flb_plugin_input_proxy_context, remote_context), 8);
    assert_eq!(offset_of!(flb_plugin_proxy_context, remote_context), 0);
    assert_eq!(offset_of!(flb_plugin_proxy_def, event_type), 32, "event_type follows the 5 base fields");
}
