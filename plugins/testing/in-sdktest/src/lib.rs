//! `sdktest_in`: emits `records` records `{"n": <counter>}` per collect. `panic` = init | collect |
//! cleanup makes that callback panic, `fail` = on makes init fail: the tests check both become an
//! error code and a log line, never a crash.

use flb_plugin_sdk::prelude::*;

struct SdkTestIn {
    records: u64,
    next: u64,
    panic_in: &'static str,
}

fn panic_in(v: &str) -> &'static str {
    match v {
        "collect" => "collect",
        "cleanup" => "cleanup",
        "init" => "init",
        _ => "",
    }
}

const PANIC: Key = Key::str("panic").desc("panic in init, collect or cleanup");
const FAIL: Key = Key::bool("fail").default("false").desc("fail init");
const LEGACY: Key = Key::bool("legacy").default("false").desc("write the legacy record form");
const RECORDS: Key = Key::int("records").default("1").desc("records per collect");

impl InputPlugin for SdkTestIn {
    const NAME: &'static str = "sdktest_in";
    const DESCRIPTION: &'static str = "SDK test input";
    const KEYS: &'static [Key] = &[PANIC, FAIL, LEGACY, RECORDS];

    fn init(ctx: &mut InitContext<'_>) -> Result<Self> {
        let cfg = ctx.config();
        let panic_in = panic_in(cfg.string(&PANIC)?);
        if panic_in == "init" {
            panic!("sdktest_in asked to panic in init");
        }
        if cfg.bool(&FAIL)? {
            return Err(Error::new("sdktest_in asked to fail init"));
        }
        if cfg.bool(&LEGACY)? {
            ctx.set_record_form(RecordForm::Legacy);
        }
        Ok(SdkTestIn { records: cfg.uint(&RECORDS, 1_000_000)?, next: 0, panic_in })
    }

    fn collect(&mut self, events: &mut EventWriter) -> Result<()> {
        if self.panic_in == "collect" {
            panic!("sdktest_in asked to panic in collect");
        }
        let now = EventTime::now();
        for _ in 0..self.records {
            let n = self.next;
            self.next += 1;
            events.append_with(now, b"", |buf| {
                rmp::encode::write_map_len(buf, 1).map_err(|_| flb_plugin_sdk::events::EncodeError::Invalid("map"))?;
                rmp::encode::write_str(buf, "n").map_err(|_| flb_plugin_sdk::events::EncodeError::Invalid("str"))?;
                rmp::encode::write_uint(buf, n).map_err(|_| flb_plugin_sdk::events::EncodeError::Invalid("uint"))?;
                Ok(())
            })?;
        }
        Ok(())
    }

    fn taken(&mut self, _batch: BatchId) {
        if self.panic_in == "cleanup" {
            panic!("sdktest_in asked to panic in cleanup");
        }
    }
}

flb_plugin_sdk::input_plugin!(SdkTestIn);
