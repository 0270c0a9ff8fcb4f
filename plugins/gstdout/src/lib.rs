//! `gstdout`: a Fluent Bit output (proxy plugin) that prints records to stdout exactly as the native
//! `stdout` output does, a drop-in for the Go `gstdout` example.
//!
//! Keys (as the native `stdout`): `format` = `msgpack` (default) | `json` | `json_lines` |
//! `json_stream`; `json_date_key` (default `date`, a false value such as `false` omits it);
//! `json_date_format` = `double` (default) | `epoch` | `epoch_ms` (`epoch_millis`,
//! `epoch_milliseconds`) | `iso8601` | `java_sql_timestamp`. See README.md for the details and the
//! bad-input policy.
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
mod single_pass;
pub mod walk;

pub use date::DateFormat;
pub use format::{ChunkError, ChunkStats, Format, Formatter, Options, SkipReason};
pub use output::{write_all_locked, WriteError};
pub use walk::Scratch;

use flb_plugin_sdk::prelude::*;
use std::sync::Mutex;

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
    fd: i32,
}

impl Gstdout {
    fn take_ws(&self) -> Workspace {
        let mut p = self.pool.lock().unwrap_or_else(|e| e.into_inner());
        p.pop().unwrap_or_default()
    }

    fn put_ws(&self, mut ws: Workspace) {
        if ws.out.capacity() > KEEP_BYTES || ws.scratch.capacity_bytes() > KEEP_BYTES {
            return;
        }
        ws.out.clear();
        let mut p = self.pool.lock().unwrap_or_else(|e| e.into_inner());
        p.push(ws);
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
        write_all_locked(self.fd, &ws.out).map_err(|e| match e {
            WriteError::WouldBlock => FlushError::Retry(Error::new(e.to_string())),
            WriteError::Closed { .. } | WriteError::Other { .. } => FlushError::Drop(Error::new(e.to_string())),
        })
    }
}

impl OutputPlugin for Gstdout {
    const NAME: &'static str = "gstdout";
    const DESCRIPTION: &'static str = "Prints events to STDOUT (Rust, as the native stdout)";
    const KEYS: &'static [Key] = format::KEYS;

    fn init(ctx: &mut InitContext<'_>) -> Result<Self> {
        let opts = Options::from_config(&ctx.config())?;
        Ok(Gstdout {
            log: ctx.logger(),
            fmt: Formatter::new(opts),
            pool: Mutex::new(Vec::new()),
            fd: libc::STDOUT_FILENO,
        })
    }

    fn flush(&self, chunk: Chunk<'_>) -> Result<(), FlushError> {
        let mut ws = self.take_ws();
        let r = self.deliver(&mut ws, chunk.tag(), chunk.data());
        self.put_ws(ws);
        r
    }

    fn exit(&mut self) -> Result<()> {
        let mut p = self.pool.lock().unwrap_or_else(|e| e.into_inner());
        p.clear();
        p.shrink_to_fit();
        Ok(())
    }
}

flb_plugin_sdk::output_plugin!(Gstdout);
