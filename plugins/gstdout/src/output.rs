//! Writing a formatted chunk to a file descriptor: whole, under one process-wide lock, without
//! ever dying of SIGPIPE.

use std::sync::Mutex;

/// Serialises writes from all flush threads (and all instances) so chunks never interleave.
static STDOUT_LOCK: Mutex<()> = Mutex::new(());

/// Why a write did not complete.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteError {
    /// The reader is gone (EPIPE) after `written` of the bytes went out.
    Closed {
        /// Bytes written before the pipe closed.
        written: usize,
    },
    /// Non-blocking descriptor full (EAGAIN) before anything was written: try again later.
    WouldBlock,
    /// Any other error, after `written` bytes.
    Other {
        /// errno.
        errno: i32,
        /// Bytes written before the error.
        written: usize,
    },
}

impl core::fmt::Display for WriteError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match *self {
            WriteError::Closed { written } => write!(f, "stdout is closed (EPIPE) after {written} bytes"),
            WriteError::WouldBlock => write!(f, "stdout is full (EAGAIN)"),
            WriteError::Other { errno, written } => {
                write!(f, "write to stdout failed after {written} bytes: {}", std::io::Error::from_raw_os_error(errno))
            }
        }
    }
}

fn errno() -> i32 {
    std::io::Error::last_os_error().raw_os_error().unwrap_or(0)
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

/// Waits until `fd` is writable (for a non-blocking descriptor that filled up mid-chunk).
fn wait_writable(fd: i32) -> bool {
    let mut p = libc::pollfd { fd, events: libc::POLLOUT, revents: 0 };
    loop {
        // SAFETY: one valid pollfd.
        let r = unsafe { libc::poll(&mut p, 1, 1000) };
        if r > 0 {
            return true;
        }
        if r == 0 {
            // keep waiting: we must not leave half a chunk; another second
            continue;
        }
        if errno() != libc::EINTR {
            return false;
        }
    }
}

/// Writes all of `buf` to `fd` under the process-wide lock, with as few `write(2)` calls as the
/// kernel allows (one for a chunk that fits in the pipe). A partial write is always completed,
/// waiting for a full non-blocking descriptor if needed, unless the reader is gone.
pub fn write_all_locked(fd: i32, buf: &[u8]) -> Result<(), WriteError> {
    if buf.is_empty() {
        return Ok(());
    }
    let _lock = STDOUT_LOCK.lock().unwrap_or_else(|p| p.into_inner());
    let guard = SigpipeGuard::new();
    let mut off = 0;
    let r = loop {
        if off == buf.len() {
            break Ok(());
        }
        let rest = &buf[off..];
        // SAFETY: rest is a valid readable slice for its length.
        let n = unsafe { libc::write(fd, rest.as_ptr().cast(), rest.len()) };
        if n >= 0 {
            off += n as usize;
            continue;
        }
        match errno() {
            libc::EINTR => continue,
            libc::EAGAIN if off == 0 => break Err(WriteError::WouldBlock),
            libc::EAGAIN => {
                if wait_writable(fd) {
                    continue;
                }
                break Err(WriteError::Other { errno: libc::EAGAIN, written: off });
            }
            libc::EPIPE => {
                guard.consume();
                break Err(WriteError::Closed { written: off });
            }
            e => break Err(WriteError::Other { errno: e, written: off }),
        }
    };
    drop(guard);
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pipe() -> (i32, i32) {
        let mut fds = [0i32; 2];
        // SAFETY: fds has room for two descriptors.
        assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
        (fds[0], fds[1])
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
        // SAFETY: closing our own read end.
        unsafe { libc::close(r) };
        assert_eq!(write_all_locked(w, b"hello\n"), Err(WriteError::Closed { written: 0 }));
        // no SIGPIPE left pending in this thread
        // SAFETY: local sigset.
        unsafe {
            let mut p: libc::sigset_t = core::mem::zeroed();
            libc::sigpending(&mut p);
            assert_eq!(libc::sigismember(&p, libc::SIGPIPE), 0);
            libc::close(w);
        }
    }

    #[test]
    fn full_nonblocking_pipe_is_would_block() {
        let (r, w) = pipe();
        // SAFETY: plain fcntl on our descriptor.
        unsafe { libc::fcntl(w, libc::F_SETFL, libc::fcntl(w, libc::F_GETFL) | libc::O_NONBLOCK) };
        let big = vec![b'x'; 1 << 20];
        // The first write fills the pipe partially then would block: it must wait, not stop half
        // way. Drain from another thread so it can finish.
        let reader = std::thread::spawn(move || {
            let mut total = 0usize;
            let mut b = vec![0u8; 65536];
            while total < (1 << 20) {
                // SAFETY: b is writable for its length.
                let n = unsafe { libc::read(r, b.as_mut_ptr().cast(), b.len()) };
                assert!(n > 0);
                total += n as usize;
            }
            total
        });
        assert_eq!(write_all_locked(w, &big), Ok(()));
        assert_eq!(reader.join().unwrap(), 1 << 20);
        // Now the pipe is empty: fill it, then a new chunk gets WouldBlock with nothing written.
        let (r2, w2) = pipe();
        // SAFETY: as above.
        unsafe { libc::fcntl(w2, libc::F_SETFL, libc::fcntl(w2, libc::F_GETFL) | libc::O_NONBLOCK) };
        let mut filled = 0;
        loop {
            // SAFETY: big is readable.
            let n = unsafe { libc::write(w2, big.as_ptr().cast(), 4096) };
            if n < 0 {
                break;
            }
            filled += n;
        }
        assert!(filled > 0);
        assert_eq!(write_all_locked(w2, b"line\n"), Err(WriteError::WouldBlock));
        // SAFETY: closing our descriptors.
        unsafe {
            libc::close(w);
            libc::close(r2);
            libc::close(w2);
        }
    }
}
