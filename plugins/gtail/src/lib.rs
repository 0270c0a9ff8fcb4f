//! `gtail`: Fluent Bit's file tail input as a proxy plugin, on the SDK's worker API.
//!
//! Named `gtail`, not `tail`: Fluent Bit looks plugin names up in registration order and its native
//! `tail` registers first, so a proxy named `tail` would never run.

pub mod config;
pub mod db;
pub mod encoding;
pub mod file;
pub mod json;
pub mod keys;
pub mod lines;
pub mod marker;
pub mod multiline;
pub mod paths;
pub mod tag;
pub mod tail;
pub mod watch;

use config::TailConfig;
use flb_plugin_sdk::prelude::*;
use std::sync::Arc;

struct GTail;

impl InputPlugin for GTail {
    const NAME: &'static str = "gtail";
    const DESCRIPTION: &'static str = "Tail files (the native tail's keys and db, read on a worker thread)";
    const KEYS: &'static [Key] = keys::KEYS;

    fn init(ctx: &mut InitContext<'_>) -> Result<Self> {
        let cfg = Arc::new(TailConfig::from(&ctx.config())?);
        let log = ctx.logger();
        let direct = ctx.direct_append_available();
        let instance_tag = ctx.instance_tag();
        let tail = tail::Tail::new(Arc::clone(&cfg), log, instance_tag, direct)?;
        let wcfg = WorkerConfig::new().batch_limit(cfg.batch_max_size);
        ctx.spawn_worker(wcfg, move |w| tail.run(w))?;
        Ok(GTail)
    }
}

flb_plugin_sdk::input_plugin!(GTail);
