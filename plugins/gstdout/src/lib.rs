//! `gstdout`: a Fluent Bit output (proxy plugin) that prints records to stdout exactly as the native
//! `stdout` output does, a drop-in for the Go `gstdout` example.
//!
//! Keys (as the native `stdout`): `format` = `msgpack` (default) | `json` | `json_lines` |
//! `json_stream`; `json_date_key` (default `date`, a false value such as `false` omits it);
//! `json_date_format` = `double` (default) | `epoch` | `epoch_ms` (`epoch_millis`,
//! `epoch_milliseconds`) | `iso8601` | `java_sql_timestamp`. One key of its own: `write_timeout`
//! (default `10s`), how long a write may make no progress (stdout's reader stalled) before the
//! chunk is handed back with `FLB_RETRY`. See README.md for the details, the bad-input policy and
//! what happens when stdout is closed or stalled.
//!
//! The formatter is public so tests and benchmarks call it directly:
//!
//! ```
//! use out_gstdout::{Format, Formatter, Options};
//! let f = Formatter::new(Options { format: Format::JsonLines, ..Options::default() });
//! // [1700000000, {"k": "v"}]
//! let chunk = [0x92, 0xce, 0x65, 0x53, 0xf1, 0x00, 0x81, 0xa1, b'k', 0xa1, b'v'];
//! let mut out = Vec::new();
//! let stats = f.format_chunk(b"app", &chunk, &mut out).unwrap();
//! assert_eq!(stats.records, 1);
//! assert_eq!(out, b"{\"date\":1700000000.0,\"k\":\"v\"}\n");
//! ```

pub mod date;
pub mod escape;
pub mod format;
pub mod num;
pub mod output;
pub mod resume;
mod single_pass;
pub mod walk;

pub use date::DateFormat;
pub use format::{ChunkError, ChunkStats, Format, Formatter, Options, SkipReason};
pub use output::{Stdout, WriteError};
pub use resume::{Delivery, Trouble, Writer};
pub use walk::Scratch;

use flb_plugin_sdk::prelude::*;
// The SDK's lock, not std's: Workers threads hand workspaces to each other through it, and under
// `make sanitize` std's contended path (precompiled, uninstrumented) hides the hand-over from TSan.
use flb_plugin_sdk::sync::Mutex;

/// A chunk's working memory: the text buffer and the printer's scratch space.
#[derive(Default)]
struct Workspace {
    out: Vec<u8>,
    scratch: Scratch,
}

/// Text room beyond twice the chunk's size taken before formatting (see `deliver`).
const OUT_HEADROOM: usize = 64 << 10;

/// Buffers above this are released after the chunk instead of kept for the next one.
const KEEP_BYTES: usize = 64 << 20;

/// The plugin instance.
pub struct Gstdout {
    log: Logger,
    fmt: Formatter,
    /// Reused workspaces, one per concurrently flushing thread (at most `Workers` of them). A pool
    /// instead of `thread_local!`: it is freed at exit (no memory left behind on worker threads of
    /// a host that unloads the plugin, no TLS destructors pointing into an unmapped library).
    pool: Mutex<Vec<Workspace>>,
    out: Writer,
}

/// The `write_timeout` key: how long a write to stdout may make no progress before the chunk goes
/// back to Fluent Bit with `FLB_RETRY`.
pub const WRITE_TIMEOUT: Key = Key::time("write_timeout").default("10s").desc(
    "How long a write to stdout may make no progress (its reader stalled) before the chunk is \
     retried later (FLB_RETRY); waiting for another flush's write counts too. A chunk cut short \
     resumes where it stopped. Seconds, or with an s, m, h suffix; must be above 0.",
);

/// Every key: the native stdout output's, then `write_timeout`.
pub const KEYS: &[Key] = &[format::FORMAT, format::JSON_DATE_FORMAT, format::JSON_DATE_KEY, WRITE_TIMEOUT];

impl Gstdout {
    fn take_ws(&self) -> Workspace {
        self.pool.lock().pop().unwrap_or_default()
    }

    fn put_ws(&self, mut ws: Workspace) {
        if ws.out.capacity() > KEEP_BYTES || ws.scratch.capacity_bytes() > KEEP_BYTES {
            return;
        }
        ws.out.clear();
        self.pool.lock().push(ws);
    }

    /// Formats and writes one chunk to the instance's descriptor.
    fn deliver(&self, ws: &mut Workspace, tag: &[u8], data: &[u8]) -> Result<(), FlushError> {
        ws.out.clear();
        // The text grows with infallible pushes, which abort the process when malloc fails: room
        // for what a chunk typically prints is taken fallibly first, so a short memory is a retry.
        let room = data.len().saturating_mul(2).saturating_add(OUT_HEADROOM);
        if ws.out.try_reserve(room).is_err() {
            return Err(FlushError::Retry(Error::new(format!("out of memory reserving {room} bytes for the text"))));
        }
        let stats = match self.fmt.format_chunk_with(tag, data, &mut ws.out, &mut ws.scratch) {
            Ok(s) => s,
            Err(e) => return Err(FlushError::Drop(Error::new(format!("{e}; nothing of the chunk was printed")))),
        };
        if stats.skipped > 0 {
            if let Some(r) = stats.first_skip {
                flb_warn!(
                    self.log,
                    "skipped {} malformed record(s) of {} in a chunk; first: {r}",
                    stats.skipped,
                    stats.skipped + stats.records
                );
            }
        }
        let d = self.out.deliver(tag, data, &ws.out);
        // one line per change of stdout's state, not one per chunk while it lasts
        match d.change {
            Some(Trouble::Failing(e)) => flb_error!(
                self.log,
                "{e}: chunks are handed back for retry (FLB_RETRY) until it takes writes again; \
                 a chunk cut short resumes where it stopped"
            ),
            Some(Trouble::None) => flb_info!(self.log, "stdout takes writes again"),
            None => {}
        }
        d.result.map_err(|e| FlushError::Retry(Error::new(e.to_string())))
    }
}

impl OutputPlugin for Gstdout {
    const NAME: &'static str = "gstdout";
    const DESCRIPTION: &'static str = "Prints events to STDOUT (Rust, as the native stdout)";
    const KEYS: &'static [Key] = KEYS;

    fn init(ctx: &mut InitContext<'_>) -> Result<Self> {
        let cfg = ctx.config();
        let opts = Options::from_config(&cfg)?;
        let timeout = cfg.duration(&WRITE_TIMEOUT)?;
        if timeout.is_zero() {
            let v = cfg.string(&WRITE_TIMEOUT).unwrap_or("0");
            return Err(Error::config("write_timeout", v, "a duration above 0, such as 10s"));
        }
        Ok(Gstdout {
            log: ctx.logger(),
            fmt: Formatter::new(opts),
            pool: Mutex::new(Vec::new()),
            out: Writer::new(libc::STDOUT_FILENO, timeout),
        })
    }

    fn flush(&self, chunk: Chunk<'_>) -> Result<(), FlushError> {
        let mut ws = self.take_ws();
        let r = self.deliver(&mut ws, chunk.tag(), chunk.data());
        self.put_ws(ws);
        r
    }

    fn exit(&mut self) -> Result<()> {
        let mut p = self.pool.lock();
        p.clear();
        p.shrink_to_fit();
        Ok(())
    }
}

flb_plugin_sdk::output_plugin!(Gstdout);
