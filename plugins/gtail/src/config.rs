//! The instance's keys: the native tail's names, defaults and meaning (`fluent-bit -i tail -h`,
//! 5.1.1), plus `batch_max_size`, ours. What differs from native is said per key in the README.

use crate::db::{DbOptions, SyncMode};
use crate::encoding::Encoding;
use flb_plugin_sdk::api::{Config, Error, Result};
use std::path::PathBuf;
use std::time::Duration;

/// The largest `buffer_max_size` accepted: a line is held whole in memory up to this size.
const MAX_LINE_LIMIT: u64 = 1 << 30;

#[derive(Debug)]
pub struct TailConfig {
    /// Patterns from `path` (comma-separated), in order.
    pub paths: Vec<String>,
    pub exclude: Vec<glob::Pattern>,
    pub key: String,
    pub read_from_head: bool,
    pub read_new_from_head: bool,
    pub refresh_interval: Duration,
    pub watcher_interval: Duration,
    pub progress_check_interval: Duration,
    pub rotate_wait: Duration,
    /// Zero: off.
    pub ignore_older: Duration,
    pub ignore_active_older_files: bool,
    pub path_key: Option<String>,
    pub offset_key: Option<String>,
    pub skip_long_lines: bool,
    pub truncate_long_lines: bool,
    pub skip_empty_lines: bool,
    /// The size of one read.
    pub read_size: usize,
    /// The longest line held whole; longer ones are skipped, truncated or cut into pieces.
    pub line_max: usize,
    /// Bytes read from one file before moving to the next, at start and later.
    pub static_batch_size: u64,
    pub event_batch_size: u64,
    pub file_cache_advise: bool,
    pub inotify_watcher: bool,
    pub exit_on_eof: bool,
    pub tag_regex: Option<regex::Regex>,
    pub db: Option<DbOptions>,
    pub encoding: Encoding,
    /// The cap on records read but not yet taken by Fluent Bit.
    pub batch_max_size: usize,
}

/// Keys that need Fluent Bit's parsers or multiline engine, which a proxy plugin cannot call.
const UNSUPPORTED: &[(&str, &str)] = &[
    ("parser", "Fluent Bit's parsers are not reachable from a proxy plugin; use a parser filter"),
    ("parser_firstline", "needs Fluent Bit's multiline engine; use the multiline filter"),
    ("multiline", "needs Fluent Bit's multiline engine; use the multiline filter"),
    ("multiline_flush", "needs Fluent Bit's multiline engine; use the multiline filter"),
    ("multiline.parser", "needs Fluent Bit's multiline engine; use the multiline filter"),
    ("docker_mode", "needs Fluent Bit's parsers; use the multiline filter with the docker parser"),
    ("docker_mode_flush", "needs Fluent Bit's parsers; use the multiline filter with the docker parser"),
    ("docker_mode_parser", "needs Fluent Bit's parsers; use the multiline filter with the docker parser"),
    ("progress_check_interval_nsec", "use progress_check_interval with a fraction, e.g. 0.5"),
];

fn list(v: &str) -> Vec<String> {
    v.split(',').map(str::trim).filter(|s| !s.is_empty()).map(String::from).collect()
}

/// `refresh_interval` is a number of seconds in native (fractions allowed); a unit suffix is also
/// taken.
fn seconds(cfg: &Config<'_>, key: &str, default: Duration) -> Result<Duration> {
    cfg.duration_or(key, default)
}

fn size(cfg: &Config<'_>, key: &str, default: u64, max: u64) -> Result<u64> {
    let v = cfg.size_or(key, default)?;
    if v == 0 || v > max {
        let raw = cfg.get(key)?.unwrap_or_default();
        return Err(Error::config(key, raw, &format!("expected a size from 1 byte to {max} bytes")));
    }
    Ok(v)
}

impl TailConfig {
    pub fn from(cfg: &Config<'_>) -> Result<TailConfig> {
        for (key, why) in UNSUPPORTED {
            if cfg.get(key)?.is_some() {
                return Err(Error::new(format!("'{key}' is not supported by gtail: {why}")));
            }
        }
        let encoding =
            Encoding::from_config(cfg.get("unicode.encoding")?, cfg.get("generic.encoding")?).map_err(Error::new)?;
        let paths = list(cfg.get("path")?.unwrap_or_default());
        if paths.is_empty() {
            return Err(Error::new("'path' is required: the files to tail, e.g. path /var/log/*.log"));
        }
        let mut exclude = Vec::new();
        for p in list(cfg.get("exclude_path")?.unwrap_or_default()) {
            let pat = glob::Pattern::new(&p).map_err(|e| Error::config("exclude_path", &p, &e.to_string()))?;
            exclude.push(pat);
        }
        let key = cfg.str_or("key", "log")?.to_string();
        if key.is_empty() {
            return Err(Error::config("key", "", "expected a key name"));
        }
        let chunk = size(cfg, "buffer_chunk_size", 32_768, MAX_LINE_LIMIT)?;
        let max = size(cfg, "buffer_max_size", 32_768, MAX_LINE_LIMIT)?;
        if max < chunk {
            return Err(Error::new(format!(
                "buffer_max_size ({max}) must be at least buffer_chunk_size ({chunk}), as in native tail"
            )));
        }
        let skip_long_lines = cfg.bool_or("skip_long_lines", false)?;
        let truncate_long_lines = cfg.bool_or("truncate_long_lines", false)?;
        let tag_regex = match cfg.get("tag_regex")? {
            None | Some("") => None,
            Some(r) => Some(regex::Regex::new(r).map_err(|e| Error::config("tag_regex", r, &e.to_string()))?),
        };
        let db = match cfg.get("db")? {
            None | Some("") => None,
            Some(path) => {
                let sync_raw = cfg.str_or("db.sync", "normal")?;
                let sync = SyncMode::parse(sync_raw)
                    .ok_or_else(|| Error::config("db.sync", sync_raw, "expected extra, full, normal or off"))?;
                Some(DbOptions {
                    path: PathBuf::from(path),
                    sync,
                    locking: cfg.bool_or("db.locking", false)?,
                    journal_mode: cfg.str_or("db.journal_mode", "WAL")?.to_string(),
                    compare_filename: cfg.bool_or("db.compare_filename", false)?,
                })
            }
        };
        let opt_key =
            |k: &str| -> Result<Option<String>> { Ok(cfg.get(k)?.filter(|v| !v.is_empty()).map(String::from)) };
        let batch_max = size(cfg, "batch_max_size", 32 << 20, 1 << 40)?;
        Ok(TailConfig {
            paths,
            exclude,
            key,
            read_from_head: cfg.bool_or("read_from_head", false)?,
            read_new_from_head: cfg.bool_or("read_newly_discovered_files_from_head", true)?,
            refresh_interval: seconds(cfg, "refresh_interval", Duration::from_secs(60))?.max(Duration::from_millis(10)),
            watcher_interval: seconds(cfg, "watcher_interval", Duration::from_secs(2))?.max(Duration::from_millis(10)),
            progress_check_interval: seconds(cfg, "progress_check_interval", Duration::from_secs(2))?
                .max(Duration::from_millis(10)),
            rotate_wait: seconds(cfg, "rotate_wait", Duration::from_secs(5))?,
            ignore_older: seconds(cfg, "ignore_older", Duration::ZERO)?,
            ignore_active_older_files: cfg.bool_or("ignore_active_older_files", false)?,
            path_key: opt_key("path_key")?,
            offset_key: opt_key("offset_key")?,
            skip_long_lines,
            truncate_long_lines,
            skip_empty_lines: cfg.bool_or("skip_empty_lines", false)?,
            // One read takes at least 256 KiB: fewer syscalls per line than native's 32 KiB, and a
            // line up to buffer_max_size still fits whole.
            read_size: (chunk.max(256 << 10).max(max + 1)).min(usize::MAX as u64) as usize,
            line_max: max as usize,
            static_batch_size: size(cfg, "static_batch_size", 50_000_000, u64::MAX)?,
            event_batch_size: size(cfg, "event_batch_size", 50_000_000, u64::MAX)?,
            file_cache_advise: cfg.bool_or("file_cache_advise", true)?,
            inotify_watcher: cfg.bool_or("inotify_watcher", true)?,
            exit_on_eof: cfg.bool_or("exit_on_eof", false)?,
            tag_regex,
            db,
            encoding,
            batch_max_size: usize::try_from(batch_max).unwrap_or(usize::MAX),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(pairs: &[(&str, &str)]) -> Result<TailConfig> {
        TailConfig::from(&Config::from_pairs(pairs))
    }

    #[test]
    fn defaults_are_native() {
        let c = cfg(&[("path", "/var/log/*.log, /tmp/x.log")]).expect("config");
        assert_eq!(c.paths, vec!["/var/log/*.log".to_string(), "/tmp/x.log".to_string()]);
        assert_eq!(c.key, "log");
        assert!(!c.read_from_head);
        assert!(c.read_new_from_head);
        assert_eq!(c.refresh_interval, Duration::from_secs(60));
        assert_eq!(c.rotate_wait, Duration::from_secs(5));
        assert_eq!(c.line_max, 32_768);
        assert!(c.db.is_none());
        assert!(c.inotify_watcher && c.file_cache_advise && !c.exit_on_eof);
    }

    #[test]
    fn bad_values_are_clear_errors() {
        let e = cfg(&[]).expect_err("no path");
        assert!(e.message().contains("'path' is required"), "{}", e.message());
        let e = cfg(&[("path", "/x"), ("parser", "json")]).expect_err("parser");
        assert!(e.message().contains("parser filter"), "{}", e.message());
        let e = cfg(&[("path", "/x"), ("buffer_chunk_size", "64k"), ("buffer_max_size", "32k")]).expect_err("sizes");
        assert!(e.message().contains("at least buffer_chunk_size"), "{}", e.message());
        let e = cfg(&[("path", "/x"), ("tag_regex", "(?<a")]).expect_err("regex");
        assert!(e.message().contains("tag_regex"), "{}", e.message());
        let e = cfg(&[("path", "/x"), ("db", "/tmp/a.db"), ("db.sync", "sometimes")]).expect_err("sync");
        assert!(e.message().contains("db.sync"), "{}", e.message());
    }
}
