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
use flb_plugin_sdk::events::{AllocError, EncodeError, MapHead};
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
    size: usize,
}

impl ReadBuf {
    pub fn new(size: usize) -> Self {
        ReadBuf { buf: Vec::new(), text: String::new(), head: MapHead::new(), size }
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
            self.read_pos = 0;
            self.pos_marker = Marker::default();
            self.skipping = false;
            self.pending.clear();
            return Ok((Read::More, 0));
        }
        let ReadBuf { buf, text, head, .. } = rb;
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
                        shape.emit_with(sw.events(), head, line, base + done as u64)?;
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
                    shape.emit_with(sw.events(), head, enc.decode(&rest[..cut], text), at)?;
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
            let marker = Marker::of(&buf[end.saturating_sub(MARKER_BYTES)..end]);
            sw.set_mark(base + m as u64);
            drop(sw);
            self.note_mark(batch.id(), base + m as u64, marker);
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

    /// A rotated or deleted file closes with an unfinished last line: record it rather than lose it.
    pub fn flush_partial(
        &mut self,
        rb: &mut ReadBuf,
        batch: &mut Batch,
        cfg: &TailConfig,
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
        let line = trim_cr(self.encoding.decode(&rb.buf[pre..got], &mut rb.text));
        let shape = RecordShape::new(cfg, &self.path);
        let mut sw = batch.source(self.id, &self.tag)?;
        if !(cfg.skip_empty_lines && line.is_empty()) {
            shape.emit(sw.events(), EventTime::now(), line, self.read_pos)?;
        }
        let mark = self.read_pos + n as u64;
        let marker = Marker::of(&rb.buf[got.saturating_sub(MARKER_BYTES)..got]);
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
        assert_eq!(tf.flush_partial(&mut rb, &mut batch, &cfg), Ok(true));
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
        assert_eq!(tf.flush_partial(&mut rb, &mut batch, &cfg), Ok(true));
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
