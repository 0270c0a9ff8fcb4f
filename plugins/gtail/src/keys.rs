//! gtail's config keys: every key of the native tail input (Fluent Bit 5.1.1 on Linux, `fluent-bit
//! -i tail -h`) with its name, type, default and description, plus `multiline.flush_ms`, `format`
//! and `batch_max_size`, ours. Keys that need Fluent Bit's parsers or multiline engine are declared
//! too, so Fluent Bit accepts a native config and gtail's init says what to use instead (see
//! `config.rs`); `multiline.parser` takes gtail's own built-in `docker` and `cri`.

use flb_plugin_sdk::api::Key;

pub const PATH: Key =
    Key::comma_list("path").desc("pattern specifying log files or multiple ones through the use of common wildcards.");
pub const EXCLUDE_PATH: Key = Key::comma_list("exclude_path").desc(
    "Set one or multiple shell patterns separated by commas to exclude files matching a certain criteria, \
     e.g: 'exclude_path *.gz,*.zip'",
);
pub const KEY: Key = Key::str("key").default("log").desc(
    "when a message is unstructured (no parser applied), it's appended as a string under the key name log. \
     This option allows to define an alternative name for that key.",
);
pub const READ_FROM_HEAD: Key = Key::bool("read_from_head").default("false").desc(
    "For new discovered files on start (without a database offset/position), read the content from the head \
     of the file, not tail.",
);
pub const READ_NEW_FROM_HEAD: Key = Key::bool("read_newly_discovered_files_from_head").default("true").desc(
    "For new discovered files after start (without a database offset/position), read the content from the \
     head of the file, not tail.",
);
pub const REFRESH_INTERVAL: Key = Key::str("refresh_interval")
    .default("60")
    .desc("interval to refresh the list of watched files expressed in seconds.");
pub const WATCHER_INTERVAL: Key = Key::time("watcher_interval")
    .default("2s")
    .desc("interval to check if monitored symbolic link files have been rotated.");
pub const PROGRESS_CHECK_INTERVAL: Key = Key::time("progress_check_interval").default("2s").desc(
    "interval to check for pending data in monitored files. This is used with inotify to detect file changes \
     that may have been missed.",
);
pub const PROGRESS_CHECK_INTERVAL_NSEC: Key = Key::int("progress_check_interval_nsec")
    .default("0")
    .desc("Not supported by gtail (use progress_check_interval with a fraction, e.g. 0.5). nanosecond component of the progress check interval.");
pub const ROTATE_WAIT: Key = Key::time("rotate_wait").default("5").desc(
    "specify the number of extra time in seconds to monitor a file once is rotated in case some pending data \
     is flushed.",
);
pub const DOCKER_MODE: Key = Key::bool("docker_mode").default("false").desc(
    "Not supported by gtail (use multiline.parser docker). \
     If enabled, the plugin will recombine split Docker log lines before passing them to any parser.",
);
pub const DOCKER_MODE_FLUSH: Key = Key::int("docker_mode_flush")
    .default("4")
    .desc("Not supported by gtail. wait period time in seconds to flush queued unfinished split lines.");
pub const DOCKER_MODE_PARSER: Key = Key::str("docker_mode_parser")
    .desc("Not supported by gtail. specify the parser name to fetch log first line for muliline log");
pub const PATH_KEY: Key =
    Key::str("path_key").desc("set the 'key' name where the name of monitored file will be appended.");
pub const OFFSET_KEY: Key =
    Key::str("offset_key").desc("set the 'key' name where the offset of monitored file will be appended.");
pub const IGNORE_OLDER: Key = Key::time("ignore_older").default("0").desc(
    "ignore files whose modification time is older than this. Supports m,h,d (minutes, hours, days) syntax. \
     Default behavior is to read all files.",
);
pub const IGNORE_ACTIVE_OLDER_FILES: Key = Key::bool("ignore_active_older_files")
    .default("false")
    .desc("ignore files that are older than the value set in ignore_older even if the file is being ingested.");
pub const BUFFER_CHUNK_SIZE: Key = Key::size("buffer_chunk_size")
    .default("32768")
    .desc("set the initial buffer size to read data from files. This value is used too to increase buffer size.");
pub const BUFFER_MAX_SIZE: Key = Key::size("buffer_max_size").default("32768").desc(
    "set the limit of the buffer size per monitored file: the longest line held whole. A longer line is \
     skipped (skip_long_lines), truncated (truncate_long_lines), or the file is no longer followed.",
);
pub const STATIC_BATCH_SIZE: Key = Key::size("static_batch_size").default("50M").desc(
    "On start, Fluent Bit might process files which already contains data, these files are called 'static' \
     files. The configuration property in question set's the maximum number of bytes to process per \
     iteration for the static files monitored.",
);
pub const EVENT_BATCH_SIZE: Key = Key::size("event_batch_size")
    .default("50M")
    .desc("The maximum number of bytes to process per iteration for the files monitored in event mode.");
pub const SKIP_LONG_LINES: Key = Key::bool("skip_long_lines").default("false").desc(
    "if a monitored file reach it buffer capacity due to a very long line (buffer_max_size), the default \
     behavior is to stop monitoring that file. This option alter that behavior and instruct Fluent Bit to \
     skip long lines and continue processing other lines that fits into the buffer.",
);
pub const EXIT_ON_EOF: Key =
    Key::bool("exit_on_eof").default("false").desc("exit Fluent Bit when reaching EOF on a monitored file.");
pub const SKIP_EMPTY_LINES: Key = Key::bool("skip_empty_lines").default("false").desc("Allows to skip empty lines.");
pub const TRUNCATE_LONG_LINES: Key =
    Key::bool("truncate_long_lines").default("false").desc("Truncate overlong lines after input encoding to UTF-8");
pub const FILE_CACHE_ADVISE: Key = Key::bool("file_cache_advise")
    .default("true")
    .desc("Use posix_fadvise for file access. Advise not to use kernel file cache.");
pub const INOTIFY_WATCHER: Key =
    Key::bool("inotify_watcher").default("true").desc("set to false to use file stat watcher instead of inotify.");
pub const PARSER: Key = Key::str("parser").desc(
    "Not supported by gtail (Fluent Bit's parsers are not reachable from a proxy plugin; use a parser \
     filter). specify the parser name to process an unstructured message.",
);
pub const TAG_REGEX: Key = Key::str("tag_regex")
    .desc("set a regex to extract fields from the file name and use them later to compose the Tag.");
pub const DB: Key = Key::str("db").desc("set a database file to keep track of monitored files and it offsets.");
pub const DB_SYNC: Key =
    Key::str("db.sync").default("normal").desc("set a database sync method. values: extra, full, normal and off.");
pub const DB_LOCKING: Key = Key::bool("db.locking").default("false").desc(
    "set exclusive locking mode, increase performance but don't allow external connections to the database file.",
);
pub const DB_JOURNAL_MODE: Key = Key::str("db.journal_mode").default("WAL").desc(
    "Option to provide WAL configuration for Work Ahead Logging mechanism (WAL). Enabling WAL provides higher \
     performance. Note that WAL is not compatible with shared network file systems.",
);
pub const DB_COMPARE_FILENAME: Key = Key::bool("db.compare_filename").default("false").desc(
    "This option determines whether to check both the inode and the filename when retrieving file information \
     from the db. 'true' verifies both the inode and filename, while 'false' checks only the inode (default).",
);
pub const MULTILINE: Key = Key::bool("multiline").default("false").desc(
    "Not supported by gtail (needs Fluent Bit's multiline engine; use the multiline filter). if enabled, the \
     plugin will try to discover multiline messages.",
);
pub const MULTILINE_FLUSH: Key = Key::time("multiline_flush")
    .default("4")
    .desc("Not supported by gtail. wait period time in seconds to process queued multiline messages.");
pub const PARSER_FIRSTLINE: Key = Key::str("parser_firstline")
    .desc("Not supported by gtail. name of the parser that matches the beginning of a multiline message.");
pub const PARSER_N: Key = Key::prefix("parser_").desc(
    "Not read by gtail (only used with multiline). optional extra parser to interpret and structure multiline \
     entries, e.g: Parser_1 ab1, Parser_2 ab2, Parser_N abN.",
);
pub const MULTILINE_PARSER: Key = Key::comma_list("multiline.parser").multiple().desc(
    "specify one or multiple multiline parsers: gtail has the built-in docker and cri (container logs, \
     tried in the order given, e.g. 'docker, cri'); several values go in one comma-separated entry.",
);
pub const UNICODE_ENCODING: Key = Key::str("unicode.encoding").desc(
    "specify the preferred input encoding for converting to UTF-8. Currently, UTF-16LE, UTF-16BE, auto are \
     supported.",
);
pub const GENERIC_ENCODING: Key = Key::str("generic.encoding").desc(
    "specify the preferred input encoding for converting to UTF-8. Currently, the following encodings are \
     supported: ShiftJIS, UHC, GBK, GB18030, Big5, Win866, Win874, Win1250, Win1251, Win1252, Win2513, \
     Win1254, Win1255, WIn1256",
);
pub const MULTILINE_FLUSH_MS: Key = Key::int("multiline.flush_ms").default("4000").desc(
    "gtail only. With multiline.parser: a join (CRI P parts, Docker partial lines) that gets no new part \
     for this many milliseconds is emitted as it is (native's built-in parsers use 4000).",
);
pub const FORMAT: Key = Key::str("format").default("none").desc(
    "gtail only. 'json': each line is parsed as a JSON object into the record; a line that is not one is \
     kept whole under 'key' and counted. 'none': the line under 'key'.",
);
pub const BATCH_MAX_SIZE: Key = Key::size("batch_max_size").default("32M").desc(
    "gtail only. The most record bytes read but not yet taken by Fluent Bit; reading pauses at this size and \
     resumes where it stopped.",
);

/// Every key gtail takes, in native's order, then ours.
pub const KEYS: &[Key] = &[
    PATH,
    EXCLUDE_PATH,
    KEY,
    READ_FROM_HEAD,
    READ_NEW_FROM_HEAD,
    REFRESH_INTERVAL,
    WATCHER_INTERVAL,
    PROGRESS_CHECK_INTERVAL,
    PROGRESS_CHECK_INTERVAL_NSEC,
    ROTATE_WAIT,
    DOCKER_MODE,
    DOCKER_MODE_FLUSH,
    DOCKER_MODE_PARSER,
    PATH_KEY,
    OFFSET_KEY,
    IGNORE_OLDER,
    IGNORE_ACTIVE_OLDER_FILES,
    BUFFER_CHUNK_SIZE,
    BUFFER_MAX_SIZE,
    STATIC_BATCH_SIZE,
    EVENT_BATCH_SIZE,
    SKIP_LONG_LINES,
    EXIT_ON_EOF,
    SKIP_EMPTY_LINES,
    TRUNCATE_LONG_LINES,
    FILE_CACHE_ADVISE,
    INOTIFY_WATCHER,
    PARSER,
    TAG_REGEX,
    DB,
    DB_SYNC,
    DB_LOCKING,
    DB_JOURNAL_MODE,
    DB_COMPARE_FILENAME,
    MULTILINE,
    MULTILINE_FLUSH,
    PARSER_FIRSTLINE,
    PARSER_N,
    MULTILINE_PARSER,
    UNICODE_ENCODING,
    GENERIC_ENCODING,
    MULTILINE_FLUSH_MS,
    FORMAT,
    BATCH_MAX_SIZE,
];

#[cfg(test)]
mod tests {
    #[test]
    fn the_key_table_is_one_fluent_bit_takes() {
        assert_eq!(flb_plugin_sdk::api::keys::check(super::KEYS), Ok(()));
    }
}
