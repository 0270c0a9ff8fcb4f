//! The instance's keys: the native tail's names, defaults and meaning (`fluent-bit -i tail -h`,
//! 5.1.1), plus `batch_max_size`, ours. What differs from native is said per key in the README.

use crate::db::{DbOptions, SyncMode};
use crate::encoding::Encoding;
use crate::keys as k;
use crate::multiline::Parser;
use flb_plugin_sdk::api::config::parse_bool;
use flb_plugin_sdk::api::{Config, Error, Key, KeyType, Result};
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
    /// `multiline.parser`: the built-in parsers, in the order tried; empty: off.
    pub multiline: Vec<Parser>,
    /// `multiline.flush_ms`: how long a join waits for its next part.
    pub multiline_flush: Duration,
    /// `format json`: each line a JSON object.
    pub format_json: bool,
}

/// Keys that need Fluent Bit's parsers or multiline engine, which a proxy plugin cannot call.
/// Booleans are refused only when turned on, so a native config that spells out the default works.
const UNSUPPORTED: &[(Key, &str)] = &[
    (k::PARSER, "Fluent Bit's parsers are not reachable from a proxy plugin; use a parser filter"),
    (k::PARSER_FIRSTLINE, "needs Fluent Bit's multiline engine; use the multiline filter"),
    (
        k::MULTILINE,
        "needs Fluent Bit's multiline engine; use the multiline filter (gtail's multiline.parser has docker and cri)",
    ),
    (
        k::MULTILINE_FLUSH,
        "needs Fluent Bit's multiline engine; use the multiline filter (or multiline.flush_ms with multiline.parser)",
    ),
    (k::DOCKER_MODE, "use 'multiline.parser docker', gtail's own, which joins Docker's split lines"),
    (k::DOCKER_MODE_FLUSH, "use 'multiline.parser docker' with 'multiline.flush_ms'"),
    (k::DOCKER_MODE_PARSER, "use 'multiline.parser docker', then a parser filter"),
    (k::PROGRESS_CHECK_INTERVAL_NSEC, "use progress_check_interval with a fraction, e.g. 0.5"),
];

fn list(v: &str) -> Vec<String> {
    v.split(',').map(str::trim).filter(|s| !s.is_empty()).map(String::from).collect()
}

fn size(cfg: &Config<'_>, key: &Key, max: u64) -> Result<u64> {
    let v = cfg.size(key)?;
    if v == 0 || v > max {
        return Err(Error::config(
            key.name(),
            cfg.string(key)?,
            &format!("expected a size from 1 byte to {max} bytes"),
        ));
    }
    Ok(v)
}

/// An interval, never shorter than 10 ms (a loop turn).
fn interval(cfg: &Config<'_>, key: &Key) -> Result<Duration> {
    Ok(cfg.duration(key)?.max(Duration::from_millis(10)))
}

impl TailConfig {
    pub fn from(cfg: &Config<'_>) -> Result<TailConfig> {
        for (key, why) in UNSUPPORTED {
            let Some(v) = cfg.value(key)? else { continue };
            if key.kind() == KeyType::Bool && parse_bool(v) == Some(false) {
                continue;
            }
            return Err(Error::new(format!("'{}' is not supported by gtail: {why}", key.name())));
        }
        let encoding = Encoding::from_config(cfg.value(&k::UNICODE_ENCODING)?, cfg.value(&k::GENERIC_ENCODING)?)
            .map_err(Error::new)?;
        let paths = list(cfg.string(&k::PATH)?);
        if paths.is_empty() {
            return Err(Error::new("'path' is required: the files to tail, e.g. path /var/log/*.log"));
        }
        let mut exclude = Vec::new();
        for p in list(cfg.string(&k::EXCLUDE_PATH)?) {
            let pat = glob::Pattern::new(&p).map_err(|e| Error::config("exclude_path", &p, &e.to_string()))?;
            exclude.push(pat);
        }
        let key = cfg.string(&k::KEY)?.to_string();
        if key.is_empty() {
            return Err(Error::config("key", "", "expected a key name"));
        }
        let chunk = size(cfg, &k::BUFFER_CHUNK_SIZE, MAX_LINE_LIMIT)?;
        let max = size(cfg, &k::BUFFER_MAX_SIZE, MAX_LINE_LIMIT)?;
        if max < chunk {
            return Err(Error::new(format!(
                "buffer_max_size ({max}) must be at least buffer_chunk_size ({chunk}), as in native tail"
            )));
        }
        let tag_regex = match cfg.value(&k::TAG_REGEX)? {
            None | Some("") => None,
            Some(r) => Some(regex::Regex::new(r).map_err(|e| Error::config("tag_regex", r, &e.to_string()))?),
        };
        let db = match cfg.value(&k::DB)? {
            None | Some("") => None,
            Some(path) => {
                let sync_raw = cfg.string(&k::DB_SYNC)?;
                let sync = SyncMode::parse(sync_raw)
                    .ok_or_else(|| Error::config("db.sync", sync_raw, "expected extra, full, normal or off"))?;
                Some(DbOptions {
                    path: PathBuf::from(path),
                    sync,
                    locking: cfg.bool(&k::DB_LOCKING)?,
                    journal_mode: cfg.string(&k::DB_JOURNAL_MODE)?.to_string(),
                    compare_filename: cfg.bool(&k::DB_COMPARE_FILENAME)?,
                })
            }
        };
        let opt_key =
            |key: &Key| -> Result<Option<String>> { Ok(cfg.value(key)?.filter(|v| !v.is_empty()).map(String::from)) };
        let batch_max = size(cfg, &k::BATCH_MAX_SIZE, 1 << 40)?;
        let mut multiline = Vec::new();
        for name in list(cfg.value(&k::MULTILINE_PARSER)?.unwrap_or("")) {
            let p = Parser::from_name(&name).ok_or_else(|| {
                Error::config(
                    "multiline.parser",
                    &name,
                    "gtail has the built-in 'docker' and 'cri' parsers (e.g. multiline.parser docker, cri); for \
                     others use the multiline filter",
                )
            })?;
            if !multiline.contains(&p) {
                multiline.push(p);
            }
        }
        let format_json = match cfg.string(&k::FORMAT)?.trim().to_ascii_lowercase().as_str() {
            "none" | "" => false,
            "json" => true,
            other => return Err(Error::config("format", other, "expected none or json")),
        };
        if format_json && !multiline.is_empty() {
            return Err(Error::new(
                "'format json' and 'multiline.parser' cannot be used together: the docker parser already reads \
                 Docker's JSON lines",
            ));
        }
        let flush_ms = cfg.int(&k::MULTILINE_FLUSH_MS, 100..=3_600_000)?;
        Ok(TailConfig {
            paths,
            exclude,
            key,
            read_from_head: cfg.bool(&k::READ_FROM_HEAD)?,
            read_new_from_head: cfg.bool(&k::READ_NEW_FROM_HEAD)?,
            refresh_interval: interval(cfg, &k::REFRESH_INTERVAL)?,
            watcher_interval: interval(cfg, &k::WATCHER_INTERVAL)?,
            progress_check_interval: interval(cfg, &k::PROGRESS_CHECK_INTERVAL)?,
            rotate_wait: cfg.duration(&k::ROTATE_WAIT)?,
            ignore_older: cfg.duration(&k::IGNORE_OLDER)?,
            ignore_active_older_files: cfg.bool(&k::IGNORE_ACTIVE_OLDER_FILES)?,
            path_key: opt_key(&k::PATH_KEY)?,
            offset_key: opt_key(&k::OFFSET_KEY)?,
            skip_long_lines: cfg.bool(&k::SKIP_LONG_LINES)?,
            truncate_long_lines: cfg.bool(&k::TRUNCATE_LONG_LINES)?,
            skip_empty_lines: cfg.bool(&k::SKIP_EMPTY_LINES)?,
            // One read takes at least 256 KiB: fewer syscalls per line than native's 32 KiB, and a
            // line up to buffer_max_size still fits whole.
            read_size: (chunk.max(256 << 10).max(max + 1)).min(usize::MAX as u64) as usize,
            line_max: max as usize,
            static_batch_size: size(cfg, &k::STATIC_BATCH_SIZE, u64::MAX)?,
            event_batch_size: size(cfg, &k::EVENT_BATCH_SIZE, u64::MAX)?,
            file_cache_advise: cfg.bool(&k::FILE_CACHE_ADVISE)?,
            inotify_watcher: cfg.bool(&k::INOTIFY_WATCHER)?,
            exit_on_eof: cfg.bool(&k::EXIT_ON_EOF)?,
            tag_regex,
            db,
            encoding,
            batch_max_size: usize::try_from(batch_max).unwrap_or(usize::MAX),
            multiline,
            multiline_flush: Duration::from_millis(flush_ms as u64),
            format_json,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(pairs: &[(&str, &str)]) -> Result<TailConfig> {
        TailConfig::from(&Config::from_pairs(pairs).with_keys(k::KEYS))
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
