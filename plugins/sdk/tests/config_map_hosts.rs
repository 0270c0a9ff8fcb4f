//! Register writes `config_map` only into a host shown to have it: `FLUENT_BIT_VERSION` names a
//! verified version and the process exports `flb_config_map_translate_dynamic`. This test binary
//! exports no such symbol, so every case here must leave the bytes after the five base fields
//! alone, whatever the variable says. (The case where both hold is run through flb-host's 5.1
//! profile and a real Fluent Bit, in c-host/tests and plugins/*/tests.)
//!
//! One test function: the cases change the process environment, which must not race.

use core::ffi::CStr;
use flb_plugin_sdk::abi::*;
use flb_plugin_sdk::api::InstanceKind;
use flb_plugin_sdk::boundary::{self as b, Registry};
use flb_plugin_sdk::prelude::*;

struct Keyed;

const LEVEL: Key = Key::int("level").default("3").desc("how loud");

impl OutputPlugin for Keyed {
    const NAME: &'static str = "keyed";
    const DESCRIPTION: &'static str = "declares a key";
    const KEYS: &'static [Key] = &[LEVEL];

    fn init(_ctx: &mut InitContext<'_>) -> Result<Self> {
        Ok(Keyed)
    }

    fn flush(&self, _chunk: Chunk<'_>) -> core::result::Result<(), FlushError> {
        Ok(())
    }
}

/// The 5.0-5.1.0 definition (40 bytes) followed by a canary where 5.1.1's `config_map` would be.
#[repr(C)]
struct Def40 {
    base: [u8; 40],
    canary: [u8; 16],
}

fn register_into_40_bytes(reg: &b::OutputRegistry<Keyed>) -> [u8; 16] {
    let mut def = Def40 { base: [0; 40], canary: [0xAB; 16] };
    let p = &mut def as *mut Def40 as *mut flb_plugin_proxy_def;
    let log = Logger::stderr(InstanceKind::Output, "keyed");
    // SAFETY: 40 bytes hold the base fields; whatever else register writes lands in the canary,
    // inside this struct, where the test sees it.
    let ret =
        unsafe { b::register(reg, p, FLB_PROXY_OUTPUT_PLUGIN, "keyed", "declares a key", None, Keyed::KEYS, &log) };
    assert_eq!(ret, 0);
    // SAFETY: the fields register wrote.
    unsafe {
        assert_eq!(CStr::from_ptr((*p).name).to_str().unwrap(), "keyed");
        b::unregister(reg, p, &log);
    }
    def.canary
}

#[test]
fn no_config_map_is_written_unless_the_host_is_shown_to_take_it() {
    static REG: b::OutputRegistry<Keyed> = Registry::new();
    assert!(flb_plugin_sdk::api::keys::check(Keyed::KEYS).is_ok());
    for version in [None, Some("5.2.0"), Some("5.1.0"), Some("4.1.1"), Some(""), Some("5.1.1")] {
        match version {
            None => std::env::remove_var("FLUENT_BIT_VERSION"),
            Some(v) => std::env::set_var("FLUENT_BIT_VERSION", v),
        }
        assert_eq!(
            register_into_40_bytes(&REG),
            [0xAB; 16],
            "FLUENT_BIT_VERSION={version:?}: register wrote past a 40-byte definition"
        );
    }
}
