//! gdummy's config keys: the native dummy input's names, defaults and descriptions (Fluent Bit
//! 5.1.1, `fluent-bit -i dummy -h`), plus `pace`, ours. Declared once: init reads them from here
//! and Fluent Bit 5.1.1 checks users' keys against them.

use flb_plugin_sdk::api::Key;

/// The record the Go gdummy and the native dummy input emit by default.
pub const DEFAULT_DUMMY: &str = "{\"message\":\"dummy\"}";

pub const SAMPLES: Key = Key::int("samples").default("0").desc("set a number of times to generate event.");
pub const DUMMY: Key = Key::str("dummy").default(DEFAULT_DUMMY).desc(
    "set the sample record to be generated. It should be a JSON object; several objects in a row give one \
     record each, in order. Environment variables (${VAR}) are resolved.",
);
pub const METADATA: Key = Key::str("metadata")
    .default("{}")
    .desc("set the sample metadata to be generated. It should be a JSON object. Environment variables are resolved.");
pub const RATE: Key = Key::int("rate").default("1").desc("set a number of events per second.");
pub const INTERVAL_SEC: Key =
    Key::int("interval_sec").default("0").desc("set seconds of interval to generate events. overrides rate setting.");
pub const INTERVAL_NSEC: Key = Key::int("interval_nsec")
    .default("0")
    .desc("set nanoseconds of interval to generate events. overrides rate setting.");
pub const COPIES: Key = Key::int("copies").default("1").desc("set the number of copies to generate per collectd.");
pub const START_TIME_SEC: Key = Key::int("start_time_sec").default("-1").desc("set a dummy base timestamp in seconds.");
pub const START_TIME_NSEC: Key =
    Key::int("start_time_nsec").default("-1").desc("set a dummy base timestamp in nanoseconds.");
pub const FIXED_TIMESTAMP: Key = Key::bool("fixed_timestamp")
    .default("off")
    .desc("used a fixed timestamp, allows the message to pre-generated once.");
pub const FLUSH_ON_STARTUP: Key =
    Key::bool("flush_on_startup").default("false").desc("generate the first event on startup");
pub const PACE: Key = Key::str("pace").default("rate").desc(
    "gdummy only. 'rate': events at the configured rate, whatever the collect interval (as native); \
     'collect': one event per collect, stamped with the wall clock (as the Go gdummy, without its sleep).",
);

/// Every key gdummy takes.
pub const KEYS: &[Key] = &[
    SAMPLES,
    DUMMY,
    METADATA,
    RATE,
    INTERVAL_SEC,
    INTERVAL_NSEC,
    COPIES,
    START_TIME_SEC,
    START_TIME_NSEC,
    FIXED_TIMESTAMP,
    FLUSH_ON_STARTUP,
    PACE,
];

#[cfg(test)]
mod tests {
    #[test]
    fn the_key_table_is_one_fluent_bit_takes() {
        assert_eq!(flb_plugin_sdk::api::keys::check(super::KEYS), Ok(()));
    }
}
