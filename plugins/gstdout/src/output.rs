//! Writing formatted bytes to stdout within a deadline and without ever dying of SIGPIPE.
//!
//! A reader that stops reading must not hang a flush (and with it Fluent Bit's other flushes and
//! its shutdown) in `write(2)`: every write waits in `poll(2)` with the time left, and gives up when
//! no byte could go out for the whole `write_timeout`. `poll` saying "writable" does not stop a
//! *blocking* `write(2)` of more than the free space from blocking, so [`Stdout::open`] picks how
//! to write by what the descriptor is:
//! - already non-blocking: write everything, wait in `poll` on `EAGAIN`;
//! - a pipe or FIFO: its own non-blocking open file description of the same pipe
//!   (`/proc/self/fd/N`), so stdout's description, which other code and processes share, keeps its
//!   flags; when that open fails, at most `PIPE_BUF` bytes per write after `poll`, which a pipe
//!   with a free slot always takes at once;
//! - a socket: `send(2)` with `MSG_DONTWAIT`;
//! - anything else (a file, a terminal, /dev/null): `poll`, then a plain write. A stopped
//!   terminal (Ctrl-S) can still block that write: no flag can stop it without changing the
//!   terminal's description for every process sharing it.

use std::time::{Duration, Instant};

/// Why a write did not complete.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteError {
    /// The reader is gone (EPIPE).
    Closed,
    /// No byte could be written for the whole timeout.
    Stalled,
    /// Any other error (errno).
    Other(i32),
}

impl core::fmt::Display for WriteError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match *self {
            WriteError::Closed => write!(f, "stdout is closed (EPIPE)"),
            WriteError::Stalled => write!(f, "stdout is stalled (its reader stopped reading)"),
            WriteError::Other(errno) => {
                write!(f, "write to stdout failed: {}", std::io::Error::from_raw_os_error(errno))
            }
        }
    }
}

/// A write that stopped: why, and how many bytes went out before.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Partial {
    /// Why it stopped.
    pub error: WriteError,
    /// Bytes written before it stopped.
    pub written: usize,
}

fn errno() -> i32 {
    std::io::Error::last_os_error().raw_os_error().unwrap_or(0)
}

/// How writes to the descriptor are kept from blocking.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Non-blocking descriptor: whole writes, `poll` on `EAGAIN`.
    NonBlocking,
    /// Blocking pipe: `poll`, then at most `PIPE_BUF` bytes.
    PipeBufPieces,
    /// Socket: `send(MSG_DONTWAIT)`.
    Socket,
    /// Anything else: `poll`, then a whole write.
    Blocking,
}

/// The descriptor gstdout writes to.
#[derive(Debug)]
pub struct Stdout {
    fd: i32,
    /// Our own non-blocking descriptor of stdout's pipe (closed on drop), if we opened one.
    own: bool,
    mode: Mode,
}

impl Stdout {
    /// The writer for `fd` (stdout for the plugin; a pipe in tests).
    pub fn open(fd: i32) -> Stdout {
        // SAFETY: fcntl/fstat on a descriptor number; a bad one just fails.
        let (flags, st) = unsafe {
            let mut st: libc::stat = core::mem::zeroed();
            (libc::fcntl(fd, libc::F_GETFL), (libc::fstat(fd, &mut st) == 0).then_some(st))
        };
        if flags >= 0 && flags & libc::O_NONBLOCK != 0 {
            return Stdout { fd, own: false, mode: Mode::NonBlocking };
        }
        let kind = st.map_or(0, |s| s.st_mode & libc::S_IFMT);
        match kind {
            libc::S_IFIFO => {
                let path = format!("/proc/self/fd/{fd}\0");
                // SAFETY: a NUL-terminated path; the flags open a new description of the same
                // pipe, closed in Drop.
                let own = unsafe {
                    libc::open(
                        path.as_ptr().cast(),
                        libc::O_WRONLY | libc::O_NONBLOCK | libc::O_CLOEXEC | libc::O_NOCTTY,
                    )
                };
                if own >= 0 {
                    Stdout { fd: own, own: true, mode: Mode::NonBlocking }
                } else {
                    Stdout { fd, own: false, mode: Mode::PipeBufPieces }
                }
            }
            libc::S_IFSOCK => Stdout { fd, own: false, mode: Mode::Socket },
            _ => Stdout { fd, own: false, mode: Mode::Blocking },
        }
    }

    /// Writes all of `buf`, giving up when no byte could go out for `timeout`.
    pub fn write_all(&self, buf: &[u8], timeout: Duration) -> Result<(), Partial> {
        self.write_all_within(buf, timeout, timeout)
    }

    /// [`write_all`](Self::write_all), waiting at most `first` for the first byte (0: only what
    /// the descriptor takes at once), then at most `timeout` between bytes.
    pub fn write_all_within(&self, buf: &[u8], first: Duration, timeout: Duration) -> Result<(), Partial> {
        let guard = SigpipeGuard::new();
        let mut off = 0;
        let mut last_progress = Instant::now();
        let mut patience = first;
        // the non-blocking modes try first and wait only when the descriptor is full
        let mut must_wait = matches!(self.mode, Mode::PipeBufPieces | Mode::Blocking);
        let r = loop {
            if off == buf.len() {
                break Ok(());
            }
            if must_wait {
                match self.wait_writable(patience.saturating_sub(last_progress.elapsed())) {
                    Ok(true) => {}
                    Ok(false) => break Err(Partial { error: WriteError::Stalled, written: off }),
                    Err(e) => break Err(Partial { error: WriteError::Other(e), written: off }),
                }
            }
            let rest = &buf[off..];
            // SAFETY: rest is a valid readable slice for the length passed.
            let n = unsafe {
                match self.mode {
                    Mode::Socket => {
                        libc::send(self.fd, rest.as_ptr().cast(), rest.len(), libc::MSG_DONTWAIT | libc::MSG_NOSIGNAL)
                    }
                    Mode::PipeBufPieces => libc::write(self.fd, rest.as_ptr().cast(), rest.len().min(libc::PIPE_BUF)),
                    Mode::NonBlocking | Mode::Blocking => libc::write(self.fd, rest.as_ptr().cast(), rest.len()),
                }
            };
            if n > 0 {
                off += n as usize;
                last_progress = Instant::now();
                patience = timeout;
                must_wait = matches!(self.mode, Mode::PipeBufPieces | Mode::Blocking);
                continue;
            }
            match errno() {
                libc::EINTR => {}
                libc::EAGAIN => must_wait = true,
                libc::EPIPE => {
                    guard.consume();
                    break Err(Partial { error: WriteError::Closed, written: off });
                }
                e => break Err(Partial { error: WriteError::Other(e), written: off }),
            }
        };
        drop(guard);
        r
    }

    /// Waits until the descriptor takes bytes: `Ok(false)` when `left` passed first. An error
    /// condition (no reader: POLLERR) counts as writable, so the write reports it.
    fn wait_writable(&self, left: Duration) -> Result<bool, i32> {
        let deadline = Instant::now() + left;
        let mut p = libc::pollfd { fd: self.fd, events: libc::POLLOUT, revents: 0 };
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            // rounded up: a poll of 0 ms with time still left would spin
            let ms = i32::try_from(left.as_nanos().div_ceil(1_000_000)).unwrap_or(i32::MAX);
            // SAFETY: one valid pollfd.
            let r = unsafe { libc::poll(&mut p, 1, ms) };
            if r > 0 {
                return Ok(true);
            }
            if r == 0 {
                if Instant::now() >= deadline {
                    return Ok(false);
                }
                continue;
            }
            let e = errno();
            if e != libc::EINTR {
                return Err(e);
            }
        }
    }
}

impl Drop for Stdout {
    fn drop(&mut self) {
        if self.own {
            // SAFETY: the descriptor opened in `open`, closed once.
            unsafe { libc::close(self.fd) };
        }
    }
}

/// SIGPIPE blocked in this thread for the guard's life; on drop, a SIGPIPE raised meanwhile by our
/// writes is consumed and the old mask restored (the technique of e.g. curl and libpq).
struct SigpipeGuard {
    old: libc::sigset_t,
    was_pending: bool,
    changed: bool,
}

impl SigpipeGuard {
    fn new() -> Self {
        // SAFETY: sigset_t is plain data; the libc calls get valid pointers to local sets.
        unsafe {
            let mut set: libc::sigset_t = core::mem::zeroed();
            let mut old: libc::sigset_t = core::mem::zeroed();
            let mut pending: libc::sigset_t = core::mem::zeroed();
            libc::sigemptyset(&mut set);
            libc::sigaddset(&mut set, libc::SIGPIPE);
            libc::sigemptyset(&mut pending);
            libc::sigpending(&mut pending);
            let was_pending = libc::sigismember(&pending, libc::SIGPIPE) == 1;
            let changed = libc::pthread_sigmask(libc::SIG_BLOCK, &set, &mut old) == 0;
            SigpipeGuard { old, was_pending, changed }
        }
    }

    /// Consumes a SIGPIPE our write raised (only if none was pending before we started).
    fn consume(&self) {
        if self.was_pending || !self.changed {
            return;
        }
        // SAFETY: valid pointers to local data; a zero timeout makes sigtimedwait poll.
        unsafe {
            let mut set: libc::sigset_t = core::mem::zeroed();
            libc::sigemptyset(&mut set);
            libc::sigaddset(&mut set, libc::SIGPIPE);
            let ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
            while libc::sigtimedwait(&set, core::ptr::null_mut(), &ts) == -1 && errno() == libc::EINTR {}
        }
    }
}

impl Drop for SigpipeGuard {
    fn drop(&mut self) {
        if self.changed {
            // SAFETY: restores the mask saved in new() for this same thread.
            unsafe {
                libc::pthread_sigmask(libc::SIG_SETMASK, &self.old, core::ptr::null_mut());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LONG: Duration = Duration::from_secs(60);

    fn pipe() -> (i32, i32) {
        let mut fds = [0i32; 2];
        // SAFETY: fds has room for two descriptors.
        assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
        (fds[0], fds[1])
    }

    fn close(fd: i32) {
        // SAFETY: closing a descriptor this test opened.
        unsafe { libc::close(fd) };
    }

    /// Set in the child process [`closed_pipe_is_epipe_not_death`] runs its check in.
    const SIGPIPE_CHILD: &str = "OUT_GSTDOUT_SIGPIPE_TEST_CHILD";

    /// A write to a pipe whose reader is gone gives `Closed`, and the SIGPIPE it raised neither
    /// kills the process nor stays pending, with SIGPIPE at its default action (death). The check
    /// needs that action set for the whole process, which would change SIGPIPE for every other test
    /// running in this one (the test harness ignores it): so it runs in a child, this test binary
    /// run again for this test only, and this test fails if the child died of a signal or did not
    /// run the check.
    #[test]
    fn closed_pipe_is_epipe_not_death() {
        if std::env::var_os(SIGPIPE_CHILD).is_some() {
            closed_pipe_is_epipe_not_death_in_this_process();
            return;
        }
        use std::os::unix::process::ExitStatusExt;
        let name = format!("{}::closed_pipe_is_epipe_not_death", module_path!().split_once("::").map_or("", |m| m.1));
        let exe = std::env::current_exe().expect("the test binary's path");
        let out = std::process::Command::new(&exe)
            .args([name.as_str(), "--exact", "--test-threads=1", "--nocapture"])
            .env(SIGPIPE_CHILD, "1")
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("cannot run {} again: {e}", exe.display()));
        let text = format!(
            "{}\n--- stdout\n{}\n--- stderr\n{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(out.status.signal(), None, "the child died of a signal (SIGPIPE is {}): {text}", libc::SIGPIPE);
        assert!(out.status.success(), "{text}");
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("test result: ok. 1 passed"),
            "the child ran no test: {text}"
        );
    }

    fn closed_pipe_is_epipe_not_death_in_this_process() {
        // Restore SIGPIPE's default action so an unblocked SIGPIPE would really kill us (this
        // process runs this test alone).
        // SAFETY: setting a signal disposition to default.
        unsafe { libc::signal(libc::SIGPIPE, libc::SIG_DFL) };
        let (r, w) = pipe();
        close(r);
        let out = Stdout::open(w);
        assert_eq!(out.write_all(b"hello\n", LONG), Err(Partial { error: WriteError::Closed, written: 0 }));
        // no SIGPIPE left pending in this thread
        // SAFETY: local sigset.
        unsafe {
            let mut p: libc::sigset_t = core::mem::zeroed();
            libc::sigpending(&mut p);
            assert_eq!(libc::sigismember(&p, libc::SIGPIPE), 0);
        }
        drop(out);
        close(w);
    }

    fn fill(w: i32) -> usize {
        // SAFETY: plain fcntl on our descriptor, restored below.
        let fl = unsafe { libc::fcntl(w, libc::F_GETFL) };
        // SAFETY: as above.
        unsafe { libc::fcntl(w, libc::F_SETFL, fl | libc::O_NONBLOCK) };
        let page = [b'f'; 4096];
        let mut filled = 0;
        loop {
            // SAFETY: page is readable for its length.
            let n = unsafe { libc::write(w, page.as_ptr().cast(), page.len()) };
            if n <= 0 {
                break;
            }
            filled += n as usize;
        }
        // SAFETY: as above.
        unsafe { libc::fcntl(w, libc::F_SETFL, fl) };
        filled
    }

    fn drain(r: i32, want: usize) -> Vec<u8> {
        let mut all = Vec::new();
        let mut b = vec![0u8; 65536];
        while all.len() < want {
            // SAFETY: b is writable for its length.
            let n = unsafe { libc::read(r, b.as_mut_ptr().cast(), b.len()) };
            assert!(n > 0, "read: {n}");
            all.extend_from_slice(&b[..n as usize]);
        }
        all
    }

    /// Each way of writing: a full pipe makes the write give up after the timeout with what went
    /// out so far, and a reader draining it lets a 1 MiB write finish whole.
    fn stall_then_drain(out: &Stdout, r: i32, w: i32) {
        let filled = fill(w);
        assert!(filled > 0);
        let r1 = out.write_all(b"line\n", Duration::from_millis(50));
        assert_eq!(r1, Err(Partial { error: WriteError::Stalled, written: 0 }));
        assert_eq!(drain(r, filled).len(), filled);
        let big: Vec<u8> = (0..1u32 << 20).map(|i| (i % 251) as u8).collect();
        let want = big.clone();
        let reader = std::thread::spawn(move || drain(r, want.len()));
        assert_eq!(out.write_all(&big, LONG), Ok(()));
        assert_eq!(reader.join().expect("reader"), big);
    }

    #[test]
    fn blocking_pipe_gets_its_own_nonblocking_description() {
        let (r, w) = pipe();
        let out = Stdout::open(w);
        assert_eq!(out.mode, Mode::NonBlocking);
        assert!(out.own);
        // stdout's own description stays blocking
        // SAFETY: plain fcntl.
        assert_eq!(unsafe { libc::fcntl(w, libc::F_GETFL) } & libc::O_NONBLOCK, 0);
        stall_then_drain(&out, r, w);
        drop(out);
        close(r);
        close(w);
    }

    #[test]
    fn blocking_pipe_without_proc_writes_pipe_buf_pieces() {
        let (r, w) = pipe();
        let out = Stdout { fd: w, own: false, mode: Mode::PipeBufPieces };
        stall_then_drain(&out, r, w);
        close(r);
        close(w);
    }

    #[test]
    fn nonblocking_descriptor_is_used_as_is() {
        let (r, w) = pipe();
        // SAFETY: plain fcntl on our descriptor.
        unsafe { libc::fcntl(w, libc::F_SETFL, libc::fcntl(w, libc::F_GETFL) | libc::O_NONBLOCK) };
        let out = Stdout::open(w);
        assert_eq!((out.mode, out.own), (Mode::NonBlocking, false));
        stall_then_drain(&out, r, w);
        close(r);
        close(w);
    }

    #[test]
    fn socket_is_sent_to_without_blocking() {
        let mut fds = [0i32; 2];
        // SAFETY: fds has room for two descriptors.
        assert_eq!(unsafe { libc::socketpair(libc::AF_UNIX, libc::SOCK_STREAM, 0, fds.as_mut_ptr()) }, 0);
        let out = Stdout::open(fds[1]);
        assert_eq!(out.mode, Mode::Socket);
        stall_then_drain(&out, fds[0], fds[1]);
        close(fds[0]);
        close(fds[1]);
    }
}
