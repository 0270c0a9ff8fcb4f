//! The worker: finds files, follows rotation, truncation and deletion, reads new lines into the
//! batch, and saves offsets only for lines the host took.

use crate::config::TailConfig;
use crate::db::{Db, DbError};
use crate::file::{Leaving, Read, ReadBuf, TailFile};
use crate::marker::Marker;
use crate::multiline::Multiline;
use crate::paths::{self, Found, Skip};
use crate::tag::TagRule;
use crate::watch::{Changes, Watch};
use flb_plugin_sdk::prelude::*;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How often the inotify descriptor is looked at while nothing else wakes the worker.
const WATCH_TICK: Duration = Duration::from_millis(50);
/// How long the worker waits, at stop, for the host to finish with a batch it holds.
const SETTLE: Duration = Duration::from_secs(2);
/// While the db cannot be written (disk full, I/O error), how often the offsets kept in memory are
/// tried again: often enough that a restart soon after space returns repeats little, rarely enough
/// that a dead disk costs nothing.
const DB_RETRY: Duration = Duration::from_secs(1);

pub struct Tail {
    cfg: Arc<TailConfig>,
    log: Logger,
    rule: TagRule,
    per_file_tags: bool,
    files: BTreeMap<u64, TailFile>,
    /// (dev, inode) => source id, for files open now.
    by_ident: HashMap<(u64, u64), u64>,
    /// Where files that were closed but may be found again stood: (dev, inode) => (offset, marker).
    retired: HashMap<(u64, u64), (u64, Marker)>,
    /// Paths whose file rotated away: the next file there is new and read from its start.
    rotated_paths: HashSet<String>,
    next_id: u64,
    db: Option<Db>,
    watch: Option<Watch>,
    rb: ReadBuf,
    started: bool,
    warned: HashSet<String>,
    found: Vec<Found>,
    skips: Vec<Skip>,
    changes: Changes,
    next_refresh: Instant,
    next_sweep: Instant,
    rr: usize,
    eof_signalled: bool,
    /// Offsets the host took and the db does not hold yet, oldest first: written at each ack, and
    /// kept (one per row) while the db cannot be written.
    db_updates: Vec<(i64, u64, Marker)>,
    /// Rows of deleted files that could not be deleted yet.
    db_removals: Vec<i64>,
    /// Since when the db cannot be written (said once, and once when it can again); None: it can.
    db_failing: Option<Instant>,
    next_db_retry: Instant,
    /// The files of the current read round.
    round: Vec<u64>,
    /// `format json`: lines of closed files that were not JSON objects.
    not_json_closed: u64,
}

impl Tail {
    /// Opens the db (its errors fail init) and readies the watcher.
    pub fn new(cfg: Arc<TailConfig>, log: Logger, instance_tag: Option<Vec<u8>>, direct: bool) -> Result<Tail> {
        let db = match &cfg.db {
            Some(o) => Some(Db::open(o).map_err(|e| Error::new(format!("db: {e}")))?),
            None => None,
        };
        let tag = instance_tag.as_deref().map(String::from_utf8_lossy).unwrap_or_default().into_owned();
        let wants_tags = tag.contains('*') || cfg.tag_regex.is_some();
        if wants_tags && !direct {
            flb_warn!(
                log,
                "this Fluent Bit has no flb_input_log_append: every record goes under the instance tag; to route by \
                 file, set path_key and use the rewrite_tag filter (README)"
            );
        }
        if instance_tag.is_none() {
            // A Tag with `*` (Kubernetes' `kube.*`) would silently go out as written: say so.
            flb_warn!(
                log,
                "the instance Tag could not be read from this Fluent Bit: a '*' in Tag is not expanded per file{}; \
                 to route by file, set path_key and use the rewrite_tag filter (README)",
                if cfg.tag_regex.is_some() { " and tag_regex is not applied" } else { "" }
            );
        }
        let rule = TagRule::new(&tag, cfg.tag_regex.clone());
        let per_file_tags = direct && rule.per_file();
        let watch = if cfg.inotify_watcher {
            match Watch::new() {
                Ok(w) => Some(w),
                Err(e) => {
                    flb_warn!(log, "inotify is not available ({e}): polling files every {:?}", cfg.watcher_interval);
                    None
                }
            }
        } else {
            None
        };
        let now = Instant::now();
        Ok(Tail {
            rb: ReadBuf::new(cfg.read_size),
            cfg,
            log,
            rule,
            per_file_tags,
            files: BTreeMap::new(),
            by_ident: HashMap::new(),
            retired: HashMap::new(),
            rotated_paths: HashSet::new(),
            next_id: 1,
            db,
            watch,
            started: false,
            warned: HashSet::new(),
            found: Vec::new(),
            skips: Vec::new(),
            changes: Changes::default(),
            next_refresh: now,
            next_sweep: now,
            rr: 0,
            eof_signalled: false,
            db_updates: Vec::new(),
            db_removals: Vec::new(),
            db_failing: None,
            next_db_retry: now,
            round: Vec::new(),
            not_json_closed: 0,
        })
    }

    /// The worker thread's body.
    pub fn run(mut self, w: Worker) {
        self.prune_db();
        loop {
            self.handle_acks(&w);
            if w.stopping() {
                break;
            }
            let now = Instant::now();
            if now >= self.next_refresh {
                self.scan();
                self.started = true;
                self.next_refresh = now + self.cfg.refresh_interval;
            }
            self.poll_watch();
            if now >= self.next_sweep {
                self.sweep();
                self.next_sweep = now + self.sweep_interval();
            }
            if self.db_failing.is_some() && now >= self.next_db_retry {
                self.write_db();
            }
            let progressed = self.read_round(&w);
            let joins_due = self.flush_joins(&w);
            self.close_finished(&w);
            self.exit_on_eof(&w);
            if progressed {
                continue;
            }
            let mut next = self.next_refresh.min(self.next_sweep);
            if self.db_failing.is_some() {
                next = next.min(self.next_db_retry);
            }
            if let Some(due) = joins_due {
                next = next.min(due);
            }
            let until = next.saturating_duration_since(Instant::now());
            let tick = if self.watch.is_some() { WATCH_TICK } else { until };
            w.wait(until.min(tick).max(Duration::from_millis(1)));
        }
        w.settle(SETTLE);
        self.handle_acks(&w);
        let not_json = self.not_json_closed + self.files.values().map(|f| f.not_json).sum::<u64>();
        if not_json > 0 {
            flb_info!(
                self.log,
                "format json: {not_json} line(s) were not a JSON object and were kept whole under '{}'",
                self.cfg.key
            );
        }
        if self.db_failing.is_some() {
            self.write_db();
        }
        if let (Some(db), Some(_)) = (self.db.as_ref(), self.db_failing) {
            let rows = self.unsaved_rows();
            flb_warn!(
                self.log,
                "db: stopping while {} cannot be written: the offsets of {rows} file(s) taken since it failed are \
                 not saved, so the next start reads those files again from the offsets saved before (lines repeat, \
                 none is lost)",
                db.path().display()
            );
        }
    }

    fn sweep_interval(&self) -> Duration {
        if self.watch.is_some() {
            self.cfg.progress_check_interval.min(self.cfg.watcher_interval)
        } else {
            // Polling: the stat watcher's interval, as native's `inotify_watcher false`.
            self.cfg.watcher_interval.min(self.cfg.progress_check_interval)
        }
    }

    fn warn_once(&mut self, key: String, msg: impl FnOnce() -> String) {
        if self.warned.insert(key) {
            let m = msg();
            flb_warn!(self.log, "{m}");
        }
    }

    /// At start, as native: rows for inodes that no longer exist are deleted.
    fn prune_db(&mut self) {
        let Some(db) = self.db.as_mut() else { return };
        let mut present = HashSet::new();
        let (mut found, mut skips) = (Vec::new(), Vec::new());
        paths::scan(&self.cfg.paths, &self.cfg.exclude, &mut found, &mut skips);
        for f in &found {
            present.insert(f.ino);
        }
        let res = db.remove_missing(|row| {
            present.contains(&row.inode) || std::fs::metadata(&row.name).map(|m| m.ino() == row.inode).unwrap_or(false)
        });
        if let Err(e) = res {
            flb_warn!(self.log, "db: {e}");
        }
    }

    /// Looks for files the patterns select now.
    fn scan(&mut self) {
        let mut found = std::mem::take(&mut self.found);
        let mut skips = std::mem::take(&mut self.skips);
        paths::scan(&self.cfg.paths, &self.cfg.exclude, &mut found, &mut skips);
        for s in &skips {
            let (key, msg) = match s {
                Skip::NoMatch(p) => (format!("nomatch:{p}"), format!("{p}: no file matches yet; watching for one")),
                Skip::NotFile(p) => {
                    (format!("notfile:{p}"), format!("{p}: not a regular file; skipped until it is one"))
                }
                Skip::BadPattern(p, e) => (format!("bad:{p}"), format!("{p}: not a valid pattern: {e}")),
                Skip::Unreadable(p, e) => (format!("unreadable:{p}"), format!("{p}: {e}; retried at refresh_interval")),
                // Deleted between the directory listing and its stat: nothing to read, nothing wrong.
                Skip::Vanished(p) => {
                    flb_debug!(self.log, "{p}: deleted before it could be opened");
                    continue;
                }
            };
            self.warn_once(key, || msg);
        }
        let live: HashSet<(u64, u64)> = found.iter().map(|f| (f.dev, f.ino)).collect();
        self.retired.retain(|k, _| live.contains(k));
        for f in &found {
            if self.by_ident.contains_key(&(f.dev, f.ino)) {
                continue;
            }
            self.open(f);
        }
        self.found = found;
        self.skips = skips;
    }

    fn open(&mut self, f: &Found) {
        if !self.cfg.ignore_older.is_zero() {
            let age = now_secs().saturating_sub(f.mtime).max(0) as u64;
            if age > self.cfg.ignore_older.as_secs() {
                return;
            }
        }
        let file = match std::fs::File::open(&f.path) {
            Ok(file) => file,
            // Deleted since the scan's stat: gone, not unreadable. Nothing to say beyond debug, and no
            // key kept in `warned` (a directory where files come and go would grow it for ever).
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                flb_debug!(self.log, "{}: deleted before it could be opened", f.path);
                return;
            }
            Err(e) => {
                self.warn_once(format!("open:{}", f.path), || {
                    format!("{}: cannot open: {e}; retried at refresh_interval", f.path)
                });
                return;
            }
        };
        // The path may have been replaced between the scan and the open: trust the descriptor.
        let Ok(meta) = file.metadata() else { return };
        if !meta.is_file() {
            return;
        }
        let ident = (meta.dev(), meta.ino());
        if self.by_ident.contains_key(&ident) {
            return;
        }
        self.warned.remove(&format!("open:{}", f.path));
        if self.cfg.file_cache_advise {
            advise_dontneed(&file);
        }
        let size = meta.len();
        let id = self.next_id;
        self.next_id += 1;
        let tag = self.tag_for(&f.path);
        let mut head = [0u8; 3];
        let got = std::os::unix::fs::FileExt::read_at(&file, &mut head, 0).unwrap_or(0);
        let (encoding, bom) = self.cfg.encoding.for_file(&head[..got]);
        let mut tf = TailFile::new(id, f.path.clone(), tag, file, ident.0, ident.1);
        tf.encoding = encoding;
        tf.bom = bom;
        if !self.cfg.multiline.is_empty() {
            tf.ml = Some(Box::new(Multiline::new(&self.cfg)));
        }
        let (pos, marker, from) = self.start_position(&tf, size);
        tf.seek(pos, marker);
        tf.db_id = from;
        if tf.db_id.is_none() && self.db_failing.is_none() {
            if let Some(db) = self.db.as_mut() {
                match db.insert(&tf.path, tf.ino, pos, marker) {
                    Ok(id) => tf.db_id = Some(id),
                    // Its row is inserted by the retry (write_db), at the offset taken by then.
                    Err(e) => self.db_failed(&e),
                }
            }
        }
        flb_debug!(self.log, "{}: tailing from offset {pos} (inode {})", tf.path, tf.ino);
        tf.real = std::fs::canonicalize(&tf.path).ok();
        self.watch_file(&tf);
        self.by_ident.insert(ident, id);
        self.files.insert(id, tf);
    }

    /// Where a newly opened file is read from, and its db row when the db knows it.
    fn start_position(&mut self, tf: &TailFile, size: u64) -> (u64, Marker, Option<i64>) {
        let file = tf.file.as_ref();
        if let Some(&(pos, marker)) = self.retired.get(&(tf.dev, tf.ino)) {
            if let Some(f) = file {
                if pos <= size && marker.matches(f, pos).unwrap_or(false) {
                    let row = self.db.as_ref().and_then(|db| db.find(tf.ino, &tf.path).ok().flatten()).map(|r| r.id);
                    return (pos, marker, row);
                }
            }
        }
        if let (Some(db), Some(f)) = (self.db.as_ref(), file) {
            match db.find(tf.ino, &tf.path) {
                Ok(Some(row)) => {
                    if let Some((pos, marker)) = row.resume_at(f, size) {
                        return (pos, marker, Some(row.id));
                    }
                    flb_info!(
                        self.log,
                        "{}: the db offset {} does not match the file (rotated, truncated or a reused inode): reading \
                         it from the start",
                        tf.path,
                        row.offset
                    );
                    return (0, Marker::default(), Some(row.id));
                }
                Ok(None) => {}
                Err(e) => flb_warn!(self.log, "db: {e}"),
            }
        }
        // Another file still open under this path: it was rotated away and the sweep has not seen it
        // yet (the scan an inotify event started came first). This file takes its place: it is the
        // rotation's new file, read from its start, not a newly discovered one.
        let replaces = self.files.values().any(|o| o.path == tf.path && o.file.is_some());
        let from_head = if self.rotated_paths.remove(&tf.path) || replaces {
            true
        } else if self.started {
            self.cfg.read_new_from_head
        } else {
            self.cfg.read_from_head
        };
        if from_head || size == 0 {
            (0, Marker::default(), None)
        } else {
            let marker = file.and_then(|f| Marker::read_at(f, size).ok()).unwrap_or_default();
            (size, marker, None)
        }
    }

    fn tag_for(&mut self, path: &str) -> Vec<u8> {
        if !self.per_file_tags {
            return Vec::new();
        }
        match self.rule.compose(path) {
            Ok(t) => t.into_bytes(),
            Err(e) => {
                self.warn_once(format!("tag:{path}"), || format!("{path}: {e}; its records go under the instance tag"));
                Vec::new()
            }
        }
    }

    fn watch_file(&mut self, f: &TailFile) {
        let Some(w) = self.watch.as_mut() else { return };
        for d in watched_dirs(f) {
            if let Err(e) = w.watch_dir(d) {
                flb_warn!(
                    self.log,
                    "inotify cannot watch {} ({e}): polling every file every {:?} from now on (raise \
                     fs.inotify.max_user_watches to watch)",
                    d.display(),
                    self.cfg.watcher_interval
                );
                self.watch = None;
                return;
            }
        }
    }

    fn poll_watch(&mut self) {
        let Some(w) = self.watch.as_mut() else { return };
        let mut ch = std::mem::take(&mut self.changes);
        ch.paths.clear();
        ch.created = false;
        ch.overflow = false;
        w.poll(&mut ch);
        if ch.overflow {
            self.files.values_mut().for_each(|f| f.dirty = true);
            self.next_sweep = Instant::now();
        }
        if ch.created {
            // A file appeared or moved in: rotation or a new file under a glob.
            self.next_refresh = Instant::now();
            self.next_sweep = Instant::now();
        }
        if !ch.paths.is_empty() {
            let changed: HashSet<&Path> = ch.paths.iter().map(PathBuf::as_path).collect();
            for f in self.files.values_mut() {
                let p = Path::new(&f.path);
                if changed.contains(p) || f.real.as_deref().is_some_and(|r| changed.contains(r)) {
                    f.dirty = true;
                }
            }
            // A file in a watched directory that is not ours changed: it may be one rotated away
            // (still ours under another name) or a new one.
            if self.files.values().any(|f| f.leaving.is_some()) {
                self.files.values_mut().filter(|f| f.leaving.is_some()).for_each(|f| f.dirty = true);
            }
        }
        self.changes = ch;
    }

    /// Every file: rotated, deleted, shrunk, idle? Then read it.
    fn sweep(&mut self) {
        let now = Instant::now();
        let mut rescan = false;
        let mut rotated = Vec::new();
        let ignore = self.cfg.ignore_older;
        let idle_close = self.cfg.ignore_active_older_files && !ignore.is_zero();
        let mut db_err = None;
        for f in self.files.values_mut() {
            if f.leaving.is_some() || f.file.is_none() {
                f.dirty = true;
                continue;
            }
            let Some(Ok(m)) = f.file.as_ref().map(|file| file.metadata()) else {
                f.dirty = true;
                continue;
            };
            let (size, nlink, mtime) = (m.len(), m.nlink(), m.mtime());
            // Read only what may have changed: a file read to its size, whose size and mtime are
            // those of the last sweep, has nothing new (1,000 quiet files would otherwise cost 1,000
            // reads per sweep). A rewrite in place changes the mtime; a lost inotify event, the size.
            let seen = (size, mtime, m.mtime_nsec());
            if f.swept != Some(seen) || !f.at_eof || size != f.read_pos + f.partial {
                f.dirty = true;
            }
            f.swept = Some(seen);
            if nlink == 0 {
                f.dirty = true;
                flb_info!(self.log, "{}: deleted; reading what is left, then closing it", f.path);
                f.leaving = Some((Leaving::Deleted, now));
                continue;
            }
            let moved = match std::fs::metadata(&f.path) {
                Ok(m) => (m.dev(), m.ino()) != (f.dev, f.ino),
                Err(_) => true,
            };
            if moved {
                f.dirty = true;
                let new_name = f.file.as_ref().and_then(fd_path);
                flb_info!(
                    self.log,
                    "{}: rotated{}; reading it to its end, then the new file from its start",
                    f.path,
                    new_name.as_deref().map(|n| format!(" (now {n})")).unwrap_or_default()
                );
                f.leaving = Some((Leaving::Rotated, now));
                rotated.push((f.id, f.path.clone()));
                if let (Some(db), Some(id), Some(name)) = (self.db.as_mut(), f.db_id, new_name) {
                    // Not retried: rows are found by inode; the name only matters to compare_filename.
                    if let Err(e) = db.rename(id, &name) {
                        db_err = Some(e);
                    }
                }
                rescan = true;
                continue;
            }
            if idle_close && now_secs().saturating_sub(mtime).max(0) as u64 > ignore.as_secs() && f.drained() {
                f.leaving = Some((Leaving::Idle, now));
            }
        }
        if let Some(e) = db_err {
            self.db_failed(&e);
        }
        // The next file at a rotated path is read from its start, unless it is open already.
        for (id, path) in rotated {
            if !self.files.values().any(|o| o.id != id && o.path == path && o.leaving.is_none()) {
                self.rotated_paths.insert(path);
            }
        }
        if rescan {
            self.next_refresh = Instant::now();
        }
    }

    /// One read per file that may have data, round robin; true when anything was read.
    fn read_round(&mut self, w: &Worker) -> bool {
        // Reused: a round per read, and a read is 256 KiB, so a fresh Vec would be a malloc per read.
        let mut ids = std::mem::take(&mut self.round);
        ids.clear();
        ids.extend(self.files.iter().filter(|(_, f)| f.dirty && f.file.is_some()).map(|(id, _)| *id));
        let progressed = self.read_files(w, &ids);
        self.round = ids;
        progressed
    }

    fn read_files(&mut self, w: &Worker, ids: &[u64]) -> bool {
        if ids.is_empty() {
            return false;
        }
        let budget = if self.started { self.cfg.event_batch_size } else { self.cfg.static_batch_size };
        let start = self.rr % ids.len();
        self.rr = self.rr.wrapping_add(1);
        let mut progressed = false;
        for k in 0..ids.len() {
            let id = ids[(start + k) % ids.len()];
            let Some(f) = self.files.get_mut(&id) else { continue };
            let (cfg, log, rb) = (&self.cfg, &self.log, &mut self.rb);
            let r = w.fill(|batch| f.read_into(rb, batch, cfg, budget, log));
            match r {
                None => return progressed, // paused, stopping or full: wait
                Some(Err(e)) => {
                    flb_error!(self.log, "{}: cannot encode a record: {e}; retrying", f.path);
                    return progressed;
                }
                Some(Ok((Read::Full, n))) => {
                    progressed |= n > 0;
                    return progressed;
                }
                Some(Ok((Read::More, n))) => progressed |= n > 0 || f.read_pos == 0,
                Some(Ok((Read::Eof, n))) => {
                    progressed |= n > 0;
                    f.dirty = false;
                }
            }
        }
        progressed
    }

    /// `multiline.parser`: joins whose next part did not come within `multiline.flush_ms` are
    /// emitted as they are. Returns when the next join falls due, for the worker's wait; a due join
    /// that could not be written (paused, batch full) is left to the wake-up that ends that, so the
    /// worker does not spin on it.
    fn flush_joins(&mut self, w: &Worker) -> Option<Instant> {
        let now = Instant::now();
        let mut blocked = false;
        let mut next: Option<Instant> = None;
        for f in self.files.values_mut() {
            if !blocked && f.joins_due(&self.cfg).is_some_and(|due| due <= now) {
                let cfg = &self.cfg;
                match w.fill(|b| f.flush_joins(b, cfg, now, false)) {
                    None => blocked = true, // paused, stopping or full: woken when that ends
                    Some(Err(e)) => flb_error!(self.log, "{}: cannot encode a record: {e}; retrying", f.path),
                    Some(Ok(_)) => {}
                }
            }
            if let Some(due) = f.joins_due(&self.cfg).filter(|&due| due > now) {
                next = Some(next.map_or(due, |n| n.min(due)));
            }
        }
        next
    }

    /// Acknowledgements: offsets advance for taken records only, all in one db transaction.
    fn handle_acks(&mut self, w: &Worker) {
        let files = &mut self.files;
        let updates = &mut self.db_updates;
        let log = &self.log;
        w.acks(|t| {
            for s in t.sources() {
                let Some(f) = files.get_mut(&s.source) else { continue };
                while f.pending.front().is_some_and(|p| p.0 < t.batch()) {
                    f.pending.pop_front();
                }
                let Some(&(b, mark, marker)) = f.pending.front() else { continue };
                if b != t.batch() {
                    continue;
                }
                f.pending.pop_front();
                if s.taken {
                    f.committed = mark;
                    f.committed_marker = marker;
                    if let Some(id) = f.db_id {
                        updates.push((id, mark, marker));
                    }
                } else {
                    flb_warn!(
                        log,
                        "{}: Fluent Bit did not take {} records (paused or its buffer is full); reading them again \
                         from offset {}",
                        f.path,
                        s.records,
                        f.committed
                    );
                    f.rewind();
                }
            }
        });
        // While the db fails, the retry comes at its own pace, not at every ack.
        if !self.db_updates.is_empty() && self.db_failing.is_none() {
            self.write_db();
        }
    }

    /// Writes what the db lacks: rows of files opened while it could not be written, the offsets
    /// taken, rows of deleted files. On failure everything stays in memory for the next try
    /// ([`DB_RETRY`]) and the failure is said once; the recovery is said once too.
    fn write_db(&mut self) {
        let Some(db) = self.db.as_mut() else {
            self.db_updates.clear();
            return;
        };
        let mut failed: Option<DbError> = None;
        // Files whose row could not be inserted at open: no other row stands for them.
        for f in self.files.values_mut().filter(|f| f.db_id.is_none() && f.file.is_some() && f.leaving.is_none()) {
            match db.insert(&f.path, f.ino, f.committed, f.committed_marker) {
                Ok(id) => f.db_id = Some(id),
                Err(e) => {
                    failed = Some(e);
                    break;
                }
            }
        }
        if failed.is_none() && !self.db_updates.is_empty() {
            match db.save_offsets_checked(&self.db_updates) {
                // Rows someone else deleted: insert them again, as native does.
                Ok(gone) => {
                    self.db_updates.clear();
                    for f in self.files.values_mut().filter(|f| f.db_id.is_some_and(|id| gone.contains(&id))) {
                        match db.insert(&f.path, f.ino, f.committed, f.committed_marker) {
                            Ok(id) => f.db_id = Some(id),
                            Err(e) => {
                                f.db_id = None; // inserted by the next try
                                failed = Some(e);
                            }
                        }
                    }
                }
                Err(e) => failed = Some(e),
            }
        }
        while failed.is_none() {
            let Some(&row) = self.db_removals.last() else { break };
            match db.remove(row) {
                Ok(()) => {
                    self.db_removals.pop();
                }
                Err(e) => failed = Some(e),
            }
        }
        match failed {
            Some(e) => {
                self.keep_newest_updates();
                self.db_failed(&e);
            }
            None => {
                if let Some(since) = self.db_failing.take() {
                    flb_info!(
                        self.log,
                        "db: {} can be written again (it could not for {:.1} s): the offsets kept in memory are saved",
                        db.path().display(),
                        since.elapsed().as_secs_f64()
                    );
                }
            }
        }
    }

    /// A db write failed: said once until it succeeds again.
    fn db_failed(&mut self, e: &DbError) {
        let now = Instant::now();
        self.next_db_retry = now + DB_RETRY;
        if self.db_failing.is_some() {
            return;
        }
        self.db_failing = Some(now);
        flb_error!(
            self.log,
            "db: cannot write: {e}; lines keep flowing, and their offsets stay in memory and are saved as soon as \
             the database can be written again (tried every {} s; a stop before then means those lines are read \
             again at the next start)",
            DB_RETRY.as_secs()
        );
    }

    /// While the db fails: only the newest offset of each row is worth keeping.
    fn keep_newest_updates(&mut self) {
        keep_newest(&mut self.db_updates);
    }

    /// How many files have taken offsets the db lacks.
    fn unsaved_rows(&self) -> usize {
        let missing = self.files.values().filter(|f| f.db_id.is_none() && f.leaving.is_none()).count();
        let mut ids: Vec<i64> = self.db_updates.iter().map(|r| r.0).collect();
        ids.sort_unstable();
        ids.dedup();
        ids.len() + missing
    }

    /// Files that left (rotated, deleted, idle), were read to their end, and whose records were all
    /// taken: closed. A rotated file stays open while it has unread bytes, whatever rotate_wait says.
    fn close_finished(&mut self, w: &Worker) {
        let now = Instant::now();
        let mut done = Vec::new();
        for (id, f) in self.files.iter_mut() {
            let Some((why, since)) = f.leaving else { continue };
            if f.file.is_none() {
                if f.pending.is_empty() {
                    done.push(*id);
                }
                continue;
            }
            if !f.drained() {
                continue;
            }
            let unread = f.fstat().map(|(size, _, _)| size > f.read_pos + f.partial).unwrap_or(false);
            if unread {
                f.dirty = true;
                continue;
            }
            if why == Leaving::Rotated && now.duration_since(since) < self.cfg.rotate_wait {
                continue;
            }
            if why != Leaving::Idle && f.partial > 0 {
                let (rb, cfg, log) = (&mut self.rb, &self.cfg, &self.log);
                match w.fill(|b| f.flush_partial(rb, b, cfg, log)) {
                    Some(Ok(_)) => {}
                    _ => continue, // paused or full: try again later
                }
            }
            // Joins still waiting for their end: it will not come from a file that is closing.
            let cfg = &self.cfg;
            if !matches!(w.fill(|b| f.flush_joins(b, cfg, now, true)), Some(Ok(_))) {
                continue;
            }
            flb_debug!(self.log, "{}: closed ({why:?})", f.path);
            self.retired.insert((f.dev, f.ino), (f.read_pos, f.pos_marker));
            f.file = None;
            self.by_ident.remove(&(f.dev, f.ino));
            if f.pending.is_empty() {
                done.push(*id);
            }
        }
        let removed = !done.is_empty();
        for id in done {
            let Some(f) = self.files.remove(&id) else { continue };
            self.not_json_closed += f.not_json;
            if f.leaving.map(|l| l.0) == Some(Leaving::Deleted) {
                self.retired.remove(&(f.dev, f.ino));
                if let Some(row) = f.db_id.filter(|_| self.db.is_some()) {
                    self.db_removals.push(row);
                }
            }
        }
        if !self.db_removals.is_empty() && self.db_failing.is_none() {
            self.write_db();
        }
        if let Some(wt) = self.watch.as_mut().filter(|_| removed) {
            if self.files.is_empty() {
                return;
            }
            let dirs: HashSet<&Path> = self.files.values().flat_map(watched_dirs).collect();
            if dirs.len() < wt.watched() {
                wt.retain(|d| dirs.contains(d));
            }
        }
    }

    /// `exit_on_eof`: once every file was read to its end and the host took every record, Fluent
    /// Bit is asked to stop as its own SIGTERM handler does (a proxy plugin has no exit API).
    fn exit_on_eof(&mut self, w: &Worker) {
        if !self.cfg.exit_on_eof || self.eof_signalled || !self.started || self.files.is_empty() {
            return;
        }
        let all_read = self.files.values().all(|f| f.file.is_none() || (f.drained() && !f.dirty));
        if !all_read {
            return;
        }
        // Unfinished last lines are records too, and so are joins still waiting for their end.
        let now = Instant::now();
        for f in self.files.values_mut() {
            if f.partial > 0 && f.file.is_some() {
                let (rb, cfg, log) = (&mut self.rb, &self.cfg, &self.log);
                if !matches!(w.fill(|b| f.flush_partial(rb, b, cfg, log)), Some(Ok(_))) {
                    return;
                }
            }
            let cfg = &self.cfg;
            if !matches!(w.fill(|b| f.flush_joins(b, cfg, now, true)), Some(Ok(_))) {
                return;
            }
        }
        let batch_empty = w.fill(|b| b.is_empty()).unwrap_or(false);
        if !batch_empty || self.files.values().any(|f| !f.pending.is_empty()) {
            return;
        }
        flb_info!(self.log, "exit_on_eof: every file was read to its end and taken; stopping Fluent Bit (SIGTERM)");
        self.eof_signalled = true;
        // SAFETY: kill(2) on our own pid with a valid signal number has no memory effects.
        unsafe {
            libc::kill(libc::getpid(), libc::SIGTERM);
        }
    }
}

/// Keeps the last (newest) entry of each row id of `updates` (oldest first), by id.
fn keep_newest(updates: &mut Vec<(i64, u64, Marker)>) {
    updates.reverse();
    updates.sort_by_key(|r| r.0); // stable: the newest of each id first
    updates.dedup_by_key(|r| r.0);
}

/// The directories whose inotify events concern `f`: its path's, and its real location's.
fn watched_dirs(f: &TailFile) -> impl Iterator<Item = &Path> {
    Path::new(&f.path).parent().into_iter().chain(f.real.as_deref().and_then(Path::parent))
}

fn now_secs() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}

/// The name an open file has now (its rotated name), from /proc.
fn fd_path(f: &std::fs::File) -> Option<String> {
    use std::os::fd::AsRawFd;
    let p = std::fs::read_link(format!("/proc/self/fd/{}", f.as_raw_fd())).ok()?;
    let s = p.to_str()?.to_string();
    (!s.ends_with(" (deleted)")).then_some(s)
}

/// `file_cache_advise`: as native, tell the kernel this file's pages need not stay cached.
fn advise_dontneed(f: &std::fs::File) {
    use std::os::fd::AsRawFd;
    // SAFETY: posix_fadvise on a descriptor we own; advice only, no memory effects.
    unsafe {
        libc::posix_fadvise(f.as_raw_fd(), 0, 0, libc::POSIX_FADV_DONTNEED);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keep_newest_keeps_the_last_offset_of_each_row() {
        let m = |h| Marker { hash: h, size: 32 };
        // Offsets can go down (a file rewritten and read again from 0): the last one wins, not the largest.
        let mut u = vec![(2, 100, m(1)), (1, 10, m(2)), (2, 300, m(3)), (1, 5, m(4)), (3, 7, m(5)), (2, 200, m(6))];
        keep_newest(&mut u);
        assert_eq!(u, vec![(1, 5, m(4)), (2, 200, m(6)), (3, 7, m(5))]);
        let mut empty = Vec::new();
        keep_newest(&mut empty);
        assert!(empty.is_empty());
    }
}
