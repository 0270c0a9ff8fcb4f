//! The process-wide turn to write to stdout, and the chunk a stall or a closed reader cut short.
//!
//! One writer at a time (all flush threads, all instances), so chunks never interleave. Waiting
//! for the turn is bounded by the same `write_timeout` as the write itself: a stalled writer
//! holds it, and the others give up with `FLB_RETRY` instead of queueing forever behind it.
//!
//! A chunk whose write stopped part way returns `FLB_RETRY` and its unwritten rest is kept here
//! (with the chunk's identity: instance, length and a hash of tag and bytes), so that:
//! - when Fluent Bit retries that chunk, only the rest is written (nothing printed twice);
//! - when another chunk comes first, the rest is written before it, so no line is ever broken
//!   by another chunk's text; the chunk is then *owed*: its retry prints nothing and returns OK.
//!   Owed identities are bounded ([`MAX_OWED`], oldest forgotten first), and one entry is used up
//!   by the first matching retry.
//!
//! Once a write timed out, stdout counts as stalled: later chunks wait for nothing (neither the
//! turn nor the descriptor), they take what it accepts at once or go back with `FLB_RETRY`
//! straight away, until a write succeeds after `write_timeout` without a failure. So a stall
//! costs one `write_timeout`, not one per pending chunk (a shutdown with many chunks pending).
//!
//! Nothing is hashed while nothing is kept: the common path costs one mutex round trip.

use crate::output::{Partial, Stdout, WriteError};
use std::collections::VecDeque;
use std::hash::{Hash, Hasher};
use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

/// Owed chunks remembered at most (a retry Fluent Bit gave up on never comes to clear its entry).
pub const MAX_OWED: usize = 64;

/// Which chunk: the instance it went to, its length and a hash of its tag and bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct ChunkId {
    instance: u64,
    len: usize,
    hash: u64,
}

impl ChunkId {
    fn of(instance: u64, tag: &[u8], data: &[u8]) -> ChunkId {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        tag.hash(&mut h);
        data.hash(&mut h);
        ChunkId { instance, len: data.len(), hash: h.finish() }
    }
}

/// A chunk cut short: the formatted bytes still to write.
struct Unfinished {
    id: ChunkId,
    rest: Vec<u8>,
}

/// The trouble stdout is in, as last logged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trouble {
    /// Writes go through.
    None,
    /// Writes fail with this error.
    Failing(WriteError),
}

#[derive(Default)]
struct Shared {
    busy: bool,
    unfinished: Option<Unfinished>,
    owed: VecDeque<ChunkId>,
    trouble: Option<WriteError>,
    /// When a write last failed.
    last_failure: Option<Instant>,
    instances: usize,
}

struct Turn {
    shared: Mutex<Shared>,
    cv: Condvar,
}

static TURN: Turn = Turn {
    shared: Mutex::new(Shared {
        busy: false,
        unfinished: None,
        owed: VecDeque::new(),
        trouble: None,
        last_failure: None,
        instances: 0,
    }),
    cv: Condvar::new(),
};

static NEXT_INSTANCE: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

fn lock() -> std::sync::MutexGuard<'static, Shared> {
    TURN.shared.lock().unwrap_or_else(|p| p.into_inner())
}

/// What a chunk's write came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Delivery {
    /// `Ok`, or why the chunk must be retried.
    pub result: Result<(), WriteError>,
    /// Set when stdout's state changed with this write (log it once): the new state.
    pub change: Option<Trouble>,
}

/// One gstdout instance's writer: registered while it lives.
#[derive(Debug)]
pub struct Writer {
    id: u64,
    out: Stdout,
    timeout: Duration,
}

impl Writer {
    /// A writer to `fd` giving up after `timeout` without progress.
    pub fn new(fd: i32, timeout: Duration) -> Writer {
        lock().instances += 1;
        let id = NEXT_INSTANCE.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Writer { id, out: Stdout::open(fd), timeout }
    }

    /// Writes a chunk's formatted text `text`, `tag` and `data` being the chunk as Fluent Bit
    /// passed it (its identity, should the write stop part way).
    pub fn deliver(&self, tag: &[u8], data: &[u8], text: &[u8]) -> Delivery {
        let mut s = lock();
        // stdout already found stalled: no more waiting a whole timeout per chunk (a shutdown
        // with many chunks pending would take that many timeouts); only what it takes at once
        let patience = if s.trouble == Some(WriteError::Stalled) { Duration::ZERO } else { self.timeout };
        let deadline = Instant::now() + patience;
        while s.busy {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                // the writer holding the turn is stalled: nothing of ours went out
                let change = note(&mut s, Err(WriteError::Stalled), self.timeout);
                return Delivery { result: Err(WriteError::Stalled), change };
            }
            s = TURN.cv.wait_timeout(s, left).unwrap_or_else(|p| p.into_inner()).0;
        }
        let id = (s.unfinished.is_some() || !s.owed.is_empty()).then(|| ChunkId::of(self.id, tag, data));
        if let Some(id) = id {
            if let Some(i) = s.owed.iter().position(|o| *o == id) {
                // its rest went out before another chunk: already printed whole
                s.owed.remove(i);
                shrink_if_empty(&mut s.owed);
                return Delivery { result: Ok(()), change: None };
            }
        }
        let pending = s.unfinished.take();
        s.busy = true;
        drop(s);

        let (result, keep, owed) = self.write_turn(id, (tag, data), pending, text, patience);

        let mut s = lock();
        s.busy = false;
        s.unfinished = keep;
        if let Some(o) = owed {
            if s.owed.len() == MAX_OWED {
                s.owed.pop_front();
            }
            s.owed.push_back(o);
        }
        let change = note(&mut s, result, self.timeout);
        drop(s);
        // all: a waiter whose deadline passed meanwhile would swallow a single wake-up
        TURN.cv.notify_all();
        Delivery { result, change }
    }

    /// The writes of one turn: another chunk's rest if one is kept, then ours (or our own rest).
    /// Returns the result, what to keep unfinished, and a chunk now owed.
    fn write_turn(
        &self,
        id: Option<ChunkId>,
        (tag, data): (&[u8], &[u8]),
        pending: Option<Unfinished>,
        text: &[u8],
        patience: Duration,
    ) -> (Result<(), WriteError>, Option<Unfinished>, Option<ChunkId>) {
        let mut owed = None;
        let mut text = text;
        if let Some(p) = pending {
            if Some(p.id) == id {
                // the retry of the chunk cut short: its rest only
                return match self.out.write_all_within(&p.rest, patience, self.timeout) {
                    Ok(()) => (Ok(()), None, None),
                    Err(e) => (Err(e.error), Some(Unfinished { id: p.id, rest: p.rest[e.written..].to_vec() }), None),
                };
            }
            if let Err(e) = self.out.write_all_within(&p.rest, patience, self.timeout) {
                let keep = Unfinished { id: p.id, rest: p.rest[e.written..].to_vec() };
                return (Err(e.error), Some(keep), None);
            }
            owed = Some(p.id);
        }
        match self.out.write_all_within(text, patience, self.timeout) {
            Ok(()) => (Ok(()), None, owed),
            Err(Partial { error, written: 0 }) => (Err(error), None, owed),
            Err(Partial { error, written }) => {
                text = &text[written..];
                let id = id.unwrap_or_else(|| ChunkId::of(self.id, tag, data));
                (Err(error), Some(Unfinished { id, rest: text.to_vec() }), owed)
            }
        }
    }
}

/// Records a write's outcome; the new state when it differs from the last one. A stalled pipe
/// still takes a small write now and then (a page frees, a short chunk fits): stdout counts as
/// taking writes again only after a success with no failure for `quiet` before it, so one stall
/// is one line, not a line per flap.
fn note(s: &mut Shared, result: Result<(), WriteError>, quiet: Duration) -> Option<Trouble> {
    match result {
        Err(e) => {
            s.last_failure = Some(Instant::now());
            if s.trouble == Some(e) {
                return None;
            }
            s.trouble = Some(e);
            Some(Trouble::Failing(e))
        }
        Ok(()) => {
            let calm = s.last_failure.is_none_or(|t| t.elapsed() >= quiet);
            if s.trouble.is_none() || !calm {
                return None;
            }
            s.trouble = None;
            Some(Trouble::None)
        }
    }
}

fn shrink_if_empty(q: &mut VecDeque<ChunkId>) {
    if q.is_empty() {
        *q = VecDeque::new();
    }
}

impl Drop for Writer {
    /// The instance exits: the rest of its chunk cut short, if one is kept, gets one last try
    /// (so the output does not end in half a line; no waiting when stdout is stalled), then what
    /// is kept for it is forgotten (its retries will not come); the last instance frees
    /// everything (the library may be unloaded next).
    fn drop(&mut self) {
        let me = self.id;
        let mut s = lock();
        let patience = if s.trouble == Some(WriteError::Stalled) { Duration::ZERO } else { self.timeout };
        let deadline = Instant::now() + patience;
        while s.busy && Instant::now() < deadline {
            let left = deadline.saturating_duration_since(Instant::now());
            s = TURN.cv.wait_timeout(s, left).unwrap_or_else(|p| p.into_inner()).0;
        }
        if !s.busy && s.unfinished.as_ref().is_some_and(|u| u.id.instance == me) {
            if let Some(u) = s.unfinished.take() {
                s.busy = true;
                drop(s);
                // best effort: what does not go out now is lost with the instance
                let _ = self.out.write_all_within(&u.rest, patience, self.timeout);
                s = lock();
                s.busy = false;
                TURN.cv.notify_all();
            }
        }
        s.instances = s.instances.saturating_sub(1);
        if s.unfinished.as_ref().is_some_and(|u| u.id.instance == me) {
            s.unfinished = None;
        }
        s.owed.retain(|o| o.instance != me);
        shrink_if_empty(&mut s.owed);
        if s.instances == 0 && !s.busy {
            s.unfinished = None;
            s.owed = VecDeque::new();
            s.trouble = None;
            s.last_failure = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;
    use std::os::fd::FromRawFd;

    fn pipe() -> (std::fs::File, i32) {
        let mut fds = [0i32; 2];
        // SAFETY: fds has room for two descriptors.
        assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
        // SAFETY: the read end is ours alone; the File closes it.
        (unsafe { std::fs::File::from_raw_fd(fds[0]) }, fds[1])
    }

    fn text(n: usize, seed: u8) -> Vec<u8> {
        (0..n).map(|i| b'a' + ((i + seed as usize) % 26) as u8).collect()
    }

    fn read_exactly(r: &mut std::fs::File, n: usize) -> Vec<u8> {
        let mut v = vec![0u8; n];
        r.read_exact(&mut v).expect("the bytes written");
        v
    }

    /// Bytes waiting in the pipe behind `r`.
    fn queued(r: &std::fs::File) -> usize {
        use std::os::fd::AsRawFd;
        let mut n: libc::c_int = 0;
        // SAFETY: FIONREAD stores one int through a valid pointer.
        assert_eq!(unsafe { libc::ioctl(r.as_raw_fd(), libc::FIONREAD, &mut n as *mut libc::c_int) }, 0);
        n as usize
    }

    /// Delivers as Fluent Bit retries: again until it is OK (a minute at most).
    fn until_ok(wr: &Writer, data: &[u8], text: &[u8]) -> Delivery {
        let end = Instant::now() + Duration::from_secs(60);
        loop {
            let d = wr.deliver(b"t", data, text);
            if d.result.is_ok() || Instant::now() > end {
                return d;
            }
            std::thread::sleep(Duration::from_millis(2));
        }
    }

    /// The state is process-wide, so the whole story is one test: a chunk cut short resumes on
    /// its retry; a cut-short chunk's rest goes out before the next chunk, and its retry then
    /// prints nothing; a writer waiting for a stalled one's turn gives up; all of it byte-exact.
    #[test]
    fn cut_short_chunks_resume_exactly_once() {
        let (mut r, w) = pipe();
        let short = Duration::from_millis(100);
        let wr = Writer::new(w, short);

        // 1. larger than the pipe, nobody reads: cut short, then resumed by its retry
        let a = text(300_000, 0);
        let d = wr.deliver(b"t", b"chunk-a", &a);
        assert_eq!(d.result, Err(WriteError::Stalled));
        assert_eq!(d.change, Some(Trouble::Failing(WriteError::Stalled)));
        let first = queued(&r);
        assert!(first > 0 && first < a.len(), "{first}");
        // still nobody reads: stalled already, so it gives up at once; nothing new logged
        let again = wr.deliver(b"t", b"chunk-a", &a);
        assert_eq!((again.result, again.change), (Err(WriteError::Stalled), None));
        assert_eq!(queued(&r), first);
        let reader = std::thread::spawn(move || {
            let v = read_exactly(&mut r, 300_000);
            (r, v)
        });
        let wr_long = Writer::new(w, Duration::from_secs(60));
        let d = until_ok(&wr_long, b"chunk-b", b"chunk b, after the rest of a");
        assert_eq!(d.result, Ok(()));
        let (mut r, got) = reader.join().expect("reader");
        assert_eq!(got, a, "chunk a exactly once");
        // chunk-b's line followed chunk a's rest, then chunk a's retry prints nothing
        let b = b"chunk b, after the rest of a";
        assert_eq!(read_exactly(&mut r, b.len()), b);
        let d = wr.deliver(b"t", b"chunk-a", &a);
        assert_eq!(d.result, Ok(()));
        assert_eq!(queued(&r), 0, "the owed chunk printed nothing");
        drop(wr_long);
        // more than wr's 100 ms without a failure: the next success ends the stalled state
        std::thread::sleep(Duration::from_millis(150));
        let d = wr.deliver(b"t", b"calm", b"calm\n");
        assert_eq!((d.result, d.change), (Ok(()), Some(Trouble::None)));
        assert_eq!(read_exactly(&mut r, 5), b"calm\n");

        // 2. a writer holding the turn while stalled: another one gives up waiting for it
        let big = text(300_000, 7);
        let stalled = {
            let big = big.clone();
            std::thread::spawn(move || {
                let wr = Writer::new(w, Duration::from_secs(3));
                let d = wr.deliver(b"t", b"chunk-c", &big);
                (d.result, wr)
            })
        };
        while queued(&r) == 0 {
            std::thread::sleep(Duration::from_millis(5));
        }
        let d = wr.deliver(b"t", b"chunk-d", b"d\n");
        assert_eq!(d.result, Err(WriteError::Stalled));
        let (res, wr_c) = stalled.join().expect("stalled writer");
        assert_eq!(res, Err(WriteError::Stalled));
        // the reader comes back: c's retry writes its rest, then d
        let reader = std::thread::spawn(move || {
            let v = read_exactly(&mut r, 300_002);
            (r, v)
        });
        let d = until_ok(&wr_c, b"chunk-c", &big);
        assert_eq!(d.result, Ok(()));
        // a failure less than its 3 s before: a flap, not yet a recovery
        assert_eq!(d.change, None);
        // more than wr's 100 ms with no failure: this success is the recovery, logged once
        std::thread::sleep(Duration::from_millis(150));
        let d = wr.deliver(b"t", b"chunk-d", b"d\n");
        assert_eq!((d.result, d.change), (Ok(()), Some(Trouble::None)));
        let (r, got) = reader.join().expect("reader");
        assert_eq!(&got[..300_000], &big[..]);
        assert_eq!(&got[300_000..], b"d\n");
        drop(wr_c);

        // 3. an instance exiting with a chunk cut short writes its rest (no half line at the end)
        let e = text(300_000, 3);
        let wr_e = Writer::new(w, Duration::from_secs(1));
        assert_eq!(wr_e.deliver(b"t", b"chunk-e", &e).result, Err(WriteError::Stalled));
        let mut r = r;
        let queued_now = queued(&r);
        let head = read_exactly(&mut r, queued_now);
        let rest_len = e.len() - head.len();
        let reader = std::thread::spawn(move || {
            let v = read_exactly(&mut r, rest_len);
            (r, v)
        });
        drop(wr_e); // the pipe is empty now: the rest's first write goes out at once
        let (r, tail) = reader.join().expect("reader");
        assert_eq!([head, tail].concat(), e, "chunk e whole, once");

        drop(wr);
        assert!(lock().unfinished.is_none() && lock().owed.capacity() == 0, "all freed with the last writer");
        drop(r);
        // SAFETY: the write end this test opened.
        unsafe { libc::close(w) };
    }
}
