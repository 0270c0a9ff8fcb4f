//! One tailed file: its identity, where reading stands, and the read that turns its new bytes into
//! records.
//!
//! Offsets: `read_pos` is the first byte not yet turned into a record (always at a line start, or
//! inside a line being skipped or cut into pieces); a batch's mark for the file is `read_pos` after
//! its last record, with the marker of the bytes before it. `committed` is the mark of the last
//! batch the host took: what the db holds.

use crate::config::TailConfig;
use crate::encoding::Encoding;
use crate::lines::{trim_cr, RecordShape};
use crate::marker::{Marker, MARKER_BYTES};
use crate::multiline::{Multiline, Sink};
use flb_plugin_sdk::events::{AllocError, EncodeError, EventWriter, MapHead};
use flb_plugin_sdk::prelude::*;
use std::collections::VecDeque;
use std::fs::File;
use std::os::unix::fs::{FileExt, MetadataExt};
use std::time::Instant;

/// Why a file is on its way out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Leaving {
    /// Its path now names another file (or nothing): rename rotation.
    Rotated,
    /// Unlinked.
    Deleted,
    /// `ignore_active_older_files`: not written for longer than `ignore_older`.
    Idle,
}

pub struct TailFile {
    /// The source id in batches: unique per opened file for the instance's life.
    pub id: u64,
    /// The path it was opened under (its name in records and the db).
    pub path: String,
    /// Where the file really is (a symlink's target), resolved once at open: its directory is
    /// watched and its inotify events name it.
    pub real: Option<std::path::PathBuf>,
    /// Its own tag; empty: the instance's.
    pub tag: Vec<u8>,
    pub file: Option<File>,
    pub dev: u64,
    pub ino: u64,
    pub read_pos: u64,
    /// The marker of the bytes before `read_pos`, to catch a file rewritten under us.
    pub pos_marker: Marker,
    pub committed: u64,
    pub committed_marker: Marker,
    pub db_id: Option<i64>,
    /// Inside an over-long line that is being skipped: nothing is recorded until its newline.
    pub skipping: bool,
    /// The last read reached the end of the file.
    pub at_eof: bool,
    /// Bytes of an unfinished last line held back at the end of the file.
    pub partial: u64,
    /// Something changed (an inotify event, a poll): read it.
    pub dirty: bool,
    /// (size, mtime seconds, mtime nanoseconds) at the last sweep.
    pub swept: Option<(u64, i64, i64)>,
    pub leaving: Option<(Leaving, Instant)>,
    /// (batch, mark, marker) of records not yet acknowledged, oldest first.
    pub pending: VecDeque<(BatchId, u64, Marker)>,
    /// Said once: a long line was skipped or cut.
    pub warned_long: bool,
    /// The last read failed (EIO, a stale NFS handle): said once, and once when reads work again.
    pub read_failed: bool,
    /// What its bytes are (`unicode.encoding`, `generic.encoding`), and the byte order mark skipped at
    /// offset 0.
    pub encoding: Encoding,
    pub bom: &'static [u8],
    /// `multiline.parser`: the joins in progress.
    pub ml: Option<Box<Multiline>>,
    /// Where the last whole line ended (and its marker): the mark, unless a join pending
    /// started before it.
    pub line_end: (u64, Marker),
    /// `format json`: lines that were not a JSON object (kept whole under `key`).
    pub not_json: u64,
}

/// What one read did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Read {
    /// Consumed bytes; more may follow.
    More,
    /// Nothing more to read now.
    Eof,
    /// The batch is full.
    Full,
}

/// The read buffer one worker shares between its files.
pub struct ReadBuf {
    buf: Vec<u8>,
    /// A line converted to UTF-8 (`unicode.encoding`, `generic.encoding`).
    text: String,
    /// The start every record of the current read shares.
    head: MapHead,
    /// `format json`: the current line's pairs.
    json: Vec<u8>,
    size: usize,
}

impl ReadBuf {
    pub fn new(size: usize) -> Self {
        ReadBuf { buf: Vec::new(), text: String::new(), head: MapHead::new(), json: Vec::new(), size }
    }
}

/// How the lines of a file become records.
enum Form<'a> {
    /// `{key: line}`
    Plain,
    /// `format json`
    Json(&'a mut Vec<u8>, &'a mut u64),
    /// `multiline.parser`
    Multiline(&'a mut Multiline),
}

impl<'a> Form<'a> {
    /// The file's form: its joins, or `format json` with the JSON buffer and its count of lines
    /// that are not objects.
    fn of(cfg: &TailConfig, ml: Option<&'a mut Multiline>, json: &'a mut Vec<u8>, not_json: &'a mut u64) -> Form<'a> {
        match (ml, cfg.format_json) {
            (Some(ml), _) => Form::Multiline(ml),
            (None, true) => Form::Json(json, not_json),
            (None, false) => Form::Plain,
        }
    }
}

/// Everything one line needs to become records.
struct LineOut<'a, 'b> {
    form: Form<'b>,
    cfg: &'a TailConfig,
    shape: &'a RecordShape<'a>,
    head: &'a MapHead,
    time: EventTime,
    now: Instant,
    path: &'a str,
    log: &'a Logger,
}

impl LineOut<'_, '_> {
    /// The records of one line that starts at `offset`; `marker()` is the marker there.
    #[inline(always)]
    fn line(
        &mut self,
        w: &mut EventWriter,
        line: &[u8],
        offset: u64,
        marker: &dyn Fn() -> Marker,
    ) -> Result<(), EncodeError> {
        match &mut self.form {
            Form::Plain => self.shape.emit_with(w, self.head, line, offset),
            Form::Json(scratch, count) => {
                if self.shape.emit_json(w, self.head, self.time, scratch, line, offset)? {
                    return Ok(());
                }
                if **count == 0 {
                    flb_warn!(
                        self.log,
                        "{}: the line at offset {offset} is not a JSON object: kept whole under '{}' (format json); \
                         later ones in this file are counted, not logged",
                        self.path,
                        self.cfg.key
                    );
                }
                **count += 1;
                Ok(())
            }
            Form::Multiline(ml) => {
                let mut sink = Sink { w, shape: self.shape, now: self.time };
                ml.line(&mut sink, line, offset, marker, self.now)
            }
        }
    }
}

impl TailFile {
    pub fn new(id: u64, path: String, tag: Vec<u8>, file: File, dev: u64, ino: u64) -> TailFile {
        TailFile {
            id,
            path,
            real: None,
            tag,
            file: Some(file),
            dev,
            ino,
            read_pos: 0,
            pos_marker: Marker::default(),
            committed: 0,
            committed_marker: Marker::default(),
            db_id: None,
            skipping: false,
            at_eof: false,
            partial: 0,
            dirty: true,
            swept: None,
            leaving: None,
            pending: VecDeque::new(),
            warned_long: false,
            read_failed: false,
            encoding: Encoding::Raw,
            bom: b"",
            ml: None,
            line_end: (0, Marker::default()),
            not_json: 0,
        }
    }

    /// The offset to save: the end of the last whole line, or the start of the oldest join still
    /// pending if that is before it.
    fn mark(&self) -> (u64, Marker) {
        match self.ml.as_ref().and_then(|m| m.pending_start()) {
            Some(s) if s.0 < self.line_end.0 => s,
            _ => self.line_end,
        }
    }

    /// Starts reading at `pos` (a db offset, the end of the file, or 0).
    pub fn seek(&mut self, pos: u64, marker: Marker) {
        self.read_pos = pos;
        self.pos_marker = marker;
        self.committed = pos;
        self.committed_marker = marker;
        self.skipping = false;
        self.partial = 0;
        self.pending.clear();
        self.line_end = (pos, marker);
        if let Some(ml) = self.ml.as_mut() {
            ml.clear();
        }
    }

    /// The host did not take records of this file: read again from the last offset it took. Marks
    /// of batches still with the host are dropped, so their acks cannot move the offset past lines
    /// not yet read again.
    pub fn rewind(&mut self) {
        self.read_pos = self.committed;
        self.pos_marker = self.committed_marker;
        self.skipping = false;
        self.partial = 0;
        self.at_eof = false;
        self.dirty = true;
        self.pending.clear();
        // Joins pending started at or after the committed offset: they are read again.
        self.line_end = (self.committed, self.committed_marker);
        if let Some(ml) = self.ml.as_mut() {
            ml.clear();
        }
    }

    /// Records `mark` as where this file stands at the end of `batch`.
    fn note_mark(&mut self, batch: BatchId, mark: u64, marker: Marker) {
        match self.pending.back_mut() {
            Some(last) if last.0 == batch => *last = (batch, mark, marker),
            _ => self.pending.push_back((batch, mark, marker)),
        }
    }

    /// Size and link count now, from the open descriptor.
    pub fn fstat(&self) -> std::io::Result<(u64, u64, i64)> {
        let f = self.file.as_ref().ok_or_else(|| std::io::Error::other("closed"))?;
        let m = f.metadata()?;
        Ok((m.len(), m.nlink(), m.mtime()))
    }

    /// True when every byte the file holds was turned into records (an unfinished last line aside)
    /// or skipped: an over-long last line still without its newline does not keep a rotated or
    /// deleted file open, nor exit_on_eof waiting.
    pub fn drained(&self) -> bool {
        self.at_eof
    }

    /// Reads from `read_pos`, at most `budget` bytes, and appends the whole lines to `batch`.
    /// Returns what happened and the bytes consumed. A file that shrank or whose bytes before
    /// `read_pos` changed (copytruncate, a rewritten file) is read again from 0; that is logged.
    pub fn read_into(
        &mut self,
        rb: &mut ReadBuf,
        batch: &mut Batch,
        cfg: &TailConfig,
        budget: u64,
        log: &Logger,
    ) -> Result<(Read, u64), EncodeError> {
        let res = self.read_lines(rb, batch, cfg, budget, log);
        if res.is_err() && self.ml.as_ref().is_some_and(|m| m.pending_start().is_some()) {
            // Out of memory part way: joins may hold parts of lines past read_pos. They are
            // dropped and read again from the oldest one's first line (lines may repeat, none is
            // lost).
            (self.read_pos, self.pos_marker) = self.mark();
            if let Some(ml) = self.ml.as_mut() {
                ml.clear();
            }
            self.skipping = false;
            self.partial = 0;
        }
        res
    }

    fn read_lines(
        &mut self,
        rb: &mut ReadBuf,
        batch: &mut Batch,
        cfg: &TailConfig,
        budget: u64,
        log: &Logger,
    ) -> Result<(Read, u64), EncodeError> {
        let Some(file) = self.file.as_ref() else { return Ok((Read::Eof, 0)) };
        let pre = self.read_pos.min(MARKER_BYTES as u64) as usize;
        let start = self.read_pos - pre as u64;
        let want = rb.size + pre;
        grow_zeroed(&mut rb.buf, want)?;
        let n = match read_full(file, &mut rb.buf[..want], start) {
            Ok(n) => n,
            Err(e) => {
                // Retried at each sweep while it fails: one line, not one per try.
                if !self.read_failed {
                    self.read_failed = true;
                    flb_warn!(
                        log,
                        "{}: read failed at offset {}: {e}; retrying until it works",
                        self.path,
                        self.read_pos
                    );
                }
                return Ok((Read::Eof, 0));
            }
        };
        if self.read_failed {
            self.read_failed = false;
            flb_info!(log, "{}: reads work again, from offset {}", self.path, self.read_pos);
        }
        let rewritten = n < pre || (pre > 0 && Marker::of(&rb.buf[..pre]) != self.pos_marker);
        if rewritten {
            let size = self.fstat().map(|s| s.0).unwrap_or(0);
            flb_warn!(
                log,
                "{}: {} (size {size}, read up to {}): reading it again from the start",
                self.path,
                if size < self.read_pos { "truncated" } else { "rewritten" },
                self.read_pos
            );
            // Joins pending hold lines read before: they are records.
            self.flush_joins(batch, cfg, Instant::now(), true)?;
            self.read_pos = 0;
            self.pos_marker = Marker::default();
            self.skipping = false;
            self.pending.clear();
            self.line_end = (0, Marker::default());
            return Ok((Read::More, 0));
        }
        let ReadBuf { buf, text, head, json, .. } = rb;
        let data = &buf[pre..n];
        let enc = self.encoding;
        let got_all = n < want;
        let time = EventTime::now();
        let shape = RecordShape::new(cfg, &self.path);
        let base = self.read_pos;
        let mut done = 0usize; // bytes of `data` consumed
        let mut mark_at = None::<usize>; // where the last line ended
        let mut outcome = Read::More;
        let mut sw = batch.source(self.id, &self.tag)?;
        shape.set_head(sw.events(), head, time)?;
        let form = Form::of(cfg, self.ml.as_deref_mut(), json, &mut self.not_json);
        let mut out = LineOut { form, cfg, shape: &shape, head, time, now: Instant::now(), path: &self.path, log };
        while done < data.len() && (done as u64) < budget {
            let rest = &data[done..];
            if self.skipping {
                match enc.find_newline(rest) {
                    Some((i, nl)) => {
                        done += i + nl;
                        self.skipping = false;
                        mark_at = Some(done);
                        continue;
                    }
                    None => {
                        done = data.len();
                        break;
                    }
                }
            }
            if base == 0 && done == 0 && !self.bom.is_empty() && rest.starts_with(self.bom) {
                done = self.bom.len();
                continue;
            }
            match enc.find_newline(rest) {
                Some((i, nl)) if i <= cfg.line_max => {
                    let line = trim_cr(enc.decode(&rest[..i], text));
                    if !(cfg.skip_empty_lines && line.is_empty()) {
                        let at = pre + done;
                        let marker = || Marker::of(&buf[at.saturating_sub(MARKER_BYTES)..at]);
                        out.line(sw.events(), line, base + done as u64, &marker)?;
                    }
                    done += i + nl;
                    mark_at = Some(done);
                }
                found => {
                    // No newline within buffer_max_size: a long line, or an unfinished one.
                    let long = found.is_some() || rest.len() > cfg.line_max;
                    if !long {
                        break;
                    }
                    let at = base + done as u64;
                    if cfg.skip_long_lines {
                        warn_long(
                            &mut self.warned_long,
                            &self.path,
                            log,
                            at,
                            "skipped up to its newline (skip_long_lines)",
                        );
                        self.skipping = true;
                        continue;
                    }
                    let cut = enc.cut(rest, cfg.line_max);
                    let start = pre + done;
                    let marker = || Marker::of(&buf[start.saturating_sub(MARKER_BYTES)..start]);
                    out.line(sw.events(), enc.decode(&rest[..cut], text), at, &marker)?;
                    if cfg.truncate_long_lines {
                        warn_long(&mut self.warned_long, &self.path, log, at, "truncated (truncate_long_lines)");
                        self.skipping = true;
                        done += cut;
                    } else {
                        warn_long(&mut self.warned_long, &self.path, log, at, "recorded in pieces of buffer_max_size");
                        done += cut;
                        mark_at = Some(done);
                    }
                }
            }
            if sw.room() == 0 {
                outcome = Read::Full;
                break;
            }
        }
        if let Some(m) = mark_at {
            let end = pre + m;
            self.line_end = (base + m as u64, Marker::of(&buf[end.saturating_sub(MARKER_BYTES)..end]));
            let (mark, marker) = self.mark();
            sw.set_mark(mark);
            drop(sw);
            self.note_mark(batch.id(), mark, marker);
        } else {
            drop(sw);
        }
        // While skipping, read_pos moves on past the skipped bytes but the mark stays at the line's
        // start: a restart skips the line again rather than recording its tail.
        self.read_pos = base + done as u64;
        let end = pre + done;
        self.pos_marker = Marker::of(&buf[end.saturating_sub(MARKER_BYTES)..end]);
        self.at_eof = false;
        let budget_stop = done < data.len() && done as u64 >= budget;
        if outcome == Read::More && got_all && !budget_stop {
            // What is left is an unfinished last line: it waits for its newline.
            self.partial = if self.skipping { 0 } else { (data.len() - done) as u64 };
            self.at_eof = true;
            outcome = Read::Eof;
        }
        Ok((outcome, done as u64))
    }

    /// When the next join of this file falls due.
    pub fn joins_due(&self, cfg: &TailConfig) -> Option<Instant> {
        self.ml.as_ref().and_then(|m| m.next_due(cfg.multiline_flush))
    }

    /// Emits the joins that got no new part for `multiline.flush_ms` (all of them with `all`: the
    /// file closes), and moves the mark past them. True when any was emitted.
    pub fn flush_joins(
        &mut self,
        batch: &mut Batch,
        cfg: &TailConfig,
        now: Instant,
        all: bool,
    ) -> Result<bool, EncodeError> {
        let Some(ml) = self.ml.as_deref_mut() else { return Ok(false) };
        if ml.pending_start().is_none() {
            return Ok(false);
        }
        let shape = RecordShape::new(cfg, &self.path);
        let mut sw = batch.source(self.id, &self.tag)?;
        let mut sink = Sink { w: sw.events(), shape: &shape, now: EventTime::now() };
        let flush = cfg.multiline_flush;
        let n = ml.flush(&mut sink, self.read_pos, |last| all || now.duration_since(last) >= flush)?;
        if n == 0 {
            return Ok(false);
        }
        let (mark, marker) = self.mark();
        sw.set_mark(mark);
        drop(sw);
        self.note_mark(batch.id(), mark, marker);
        Ok(true)
    }

    /// A rotated or deleted file closes with an unfinished last line: record it rather than lose it.
    pub fn flush_partial(
        &mut self,
        rb: &mut ReadBuf,
        batch: &mut Batch,
        cfg: &TailConfig,
        log: &Logger,
    ) -> Result<bool, EncodeError> {
        let Some(file) = self.file.as_ref() else { return Ok(false) };
        if self.partial == 0 || self.skipping {
            return Ok(false);
        }
        // The marker at the new mark hashes the 32 bytes before it, which for a last line shorter
        // than that reach back into lines already recorded: those are read too.
        let pre = self.read_pos.min(MARKER_BYTES as u64) as usize;
        let want = pre + self.partial as usize;
        grow_zeroed(&mut rb.buf, want)?;
        let got = read_full(file, &mut rb.buf[..want], self.read_pos - pre as u64).unwrap_or(0);
        if got <= pre {
            return Ok(false);
        }
        let n = got - pre;
        let ReadBuf { buf, text, head, json, .. } = rb;
        let line = trim_cr(self.encoding.decode(&buf[pre..got], text));
        let shape = RecordShape::new(cfg, &self.path);
        let mut sw = batch.source(self.id, &self.tag)?;
        let time = EventTime::now();
        if !(cfg.skip_empty_lines && line.is_empty()) {
            shape.set_head(sw.events(), head, time)?;
            let form = Form::of(cfg, self.ml.as_deref_mut(), json, &mut self.not_json);
            let mut out = LineOut { form, cfg, shape: &shape, head, time, now: Instant::now(), path: &self.path, log };
            let marker = || Marker::of(&buf[pre.saturating_sub(MARKER_BYTES)..pre]);
            out.line(sw.events(), line, self.read_pos, &marker)?;
        }
        let mark = self.read_pos + n as u64;
        self.line_end = (mark, Marker::of(&buf[got.saturating_sub(MARKER_BYTES)..got]));
        let (mark, marker) = self.mark();
        sw.set_mark(mark);
        drop(sw);
        self.note_mark(batch.id(), mark, marker);
        self.read_pos = mark;
        self.pos_marker = marker;
        self.partial = 0;
        Ok(true)
    }
}

/// Said once per file.
fn warn_long(warned: &mut bool, path: &str, log: &Logger, at: u64, what: &str) {
    if !*warned {
        *warned = true;
        flb_warn!(log, "{path}: a line at offset {at} is longer than buffer_max_size: {what}");
    }
}

/// pread until `buf` is full or the end of the file.
fn read_full(f: &File, buf: &mut [u8], mut at: u64) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match f.read_at(&mut buf[n..], at) {
            Ok(0) => break,
            Ok(k) => {
                n += k;
                at += k as u64;
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// Grows the read buffer to `len` bytes without aborting when memory is short: the read is
/// retried later and the offset stays where it is (see the SDK's `oom` module).
fn grow_zeroed(buf: &mut Vec<u8>, len: usize) -> Result<(), EncodeError> {
    if buf.len() < len {
        buf.try_reserve(len - buf.len()).map_err(|_| AllocError { requested: len })?;
        buf.resize(len, 0);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use flb_plugin_sdk::api::InstanceKind;
    use std::io::Write;

    /// Found by the tail_lines fuzz target (fuzz/regressions/tail_lines/flush_partial_marker): the
    /// last line recorded when a file closes was marked with the hash of its own bytes only, not of
    /// the 32 bytes before the offset, so that offset never matched again and a file found again
    /// after rotation (or a restart with the db) was read again from the start.
    #[test]
    fn flush_partial_marks_the_32_bytes_before_the_offset() {
        let cfg =
            TailConfig::from(&Config::from_pairs(&[("path", "/x")]).with_keys(crate::keys::KEYS)).expect("config");
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("a.log");
        let mut w = File::create(&path).expect("create");
        w.write_all(b"a first line of more than 32 bytes\nlast").expect("write");
        let mut tf = TailFile::new(1, path.display().to_string(), Vec::new(), File::open(&path).expect("open"), 0, 0);
        let mut rb = ReadBuf::new(1 << 16);
        let log = Logger::stderr(InstanceKind::Input, "gtail");
        let mut batch = Batch::detached(1 << 20, RecordForm::Modern);
        let (read, _) = tf.read_into(&mut rb, &mut batch, &cfg, u64::MAX, &log).expect("read");
        assert_eq!(read, Read::Eof);
        assert_eq!((tf.read_pos, tf.partial), (35, 4), "the last line waits for its newline");
        assert_eq!(tf.flush_partial(&mut rb, &mut batch, &cfg, &log), Ok(true));
        let &(_, mark, marker) = tf.pending.back().expect("a mark");
        assert_eq!(mark, 39);
        let file = File::open(&path).expect("open");
        assert_eq!(marker, Marker::read_at(&file, 39).expect("marker"));
        assert_eq!(marker.size, 32);
        assert!(marker.matches(&file, mark).expect("matches"), "a restart resumes at the mark");
    }

    /// Found by the tail_lines fuzz target (fuzz/regressions/tail_lines/flush_partial_cr_only): a
    /// last line of only "\r", recorded when the file closes, came out as an empty record although
    /// skip_empty_lines was on (a complete line of only "\r" is skipped, as natively).
    #[test]
    fn flush_partial_skips_an_empty_last_line_with_skip_empty_lines() {
        let pairs = [("path", "/x"), ("skip_empty_lines", "on")];
        let cfg = TailConfig::from(&Config::from_pairs(&pairs).with_keys(crate::keys::KEYS)).expect("config");
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("a.log");
        std::fs::write(&path, b"one\r\n\r\n\r").expect("write");
        let mut tf = TailFile::new(1, path.display().to_string(), Vec::new(), File::open(&path).expect("open"), 0, 0);
        let mut rb = ReadBuf::new(1 << 16);
        let log = Logger::stderr(InstanceKind::Input, "gtail");
        let mut batch = Batch::detached(1 << 20, RecordForm::Modern);
        tf.read_into(&mut rb, &mut batch, &cfg, u64::MAX, &log).expect("read");
        assert_eq!(tf.flush_partial(&mut rb, &mut batch, &cfg, &log), Ok(true));
        let lines: Vec<Vec<u8>> = flb_plugin_sdk::events::EventReader::new(batch.written())
            .map(|ev| {
                let body = ev.expect("record").body.as_map().expect("map");
                body.get(b"log").expect("get").and_then(|v| v.as_bytes()).expect("log").to_vec()
            })
            .collect();
        assert_eq!(lines, [b"one".to_vec()], "the empty lines, the last one too, are skipped");
        assert_eq!(tf.pending.back().map(|p| p.1), Some(8), "the offset still moves past the last line");
    }
}
