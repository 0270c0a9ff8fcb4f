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

impl InputPlugin for SdkTestIn {
    const NAME: &'static str = "sdktest_in";
    const DESCRIPTION: &'static str = "SDK test input";

    fn init(ctx: &mut InitContext<'_>) -> Result<Self> {
        let cfg = ctx.config();
        let panic_in = panic_in(cfg.str_or("panic", "")?);
        if panic_in == "init" {
            panic!("sdktest_in asked to panic in init");
        }
        if cfg.bool_or("fail", false)? {
            return Err(Error::new("sdktest_in asked to fail init"));
        }
        if cfg.bool_or("legacy", false)? {
            ctx.set_record_form(RecordForm::Legacy);
        }
        Ok(SdkTestIn { records: cfg.uint_or("records", 1, 1_000_000)?, next: 0, panic_in })
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
