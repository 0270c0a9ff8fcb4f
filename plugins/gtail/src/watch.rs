//! inotify on the worker's own thread: one watch per directory that holds a tailed file (or the
//! file a symlink points to), read without blocking each time the worker wakes. When inotify is
//! off, missing, or out of watches, the worker finds changes by polling (see `tail.rs`).

use inotify::{Inotify, WatchDescriptor, WatchMask};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

pub struct Watch {
    inotify: Inotify,
    dirs: HashMap<PathBuf, WatchDescriptor>,
    by_wd: HashMap<WatchDescriptor, PathBuf>,
    buf: Vec<u8>,
}

/// What the events since the last look said.
#[derive(Default)]
pub struct Changes {
    /// Paths written, created, moved or removed.
    pub paths: Vec<PathBuf>,
    /// A file appeared or moved in: look for new files now rather than at refresh_interval.
    pub created: bool,
    /// The kernel dropped events: treat every file as changed.
    pub overflow: bool,
}

impl Watch {
    pub fn new() -> std::io::Result<Watch> {
        // Inotify::init opens the descriptor non-blocking and close-on-exec.
        Ok(Watch { inotify: Inotify::init()?, dirs: HashMap::new(), by_wd: HashMap::new(), buf: vec![0; 64 << 10] })
    }

    /// Watches `dir` (once). An error (ENOSPC: out of watches) tells the caller to poll instead.
    pub fn watch_dir(&mut self, dir: &Path) -> std::io::Result<()> {
        if self.dirs.contains_key(dir) {
            return Ok(());
        }
        let mask = WatchMask::MODIFY
            | WatchMask::CREATE
            | WatchMask::MOVED_TO
            | WatchMask::MOVED_FROM
            | WatchMask::DELETE
            | WatchMask::CLOSE_WRITE
            | WatchMask::ATTRIB;
        let wd = self.inotify.watches().add(dir, mask)?;
        self.dirs.insert(dir.to_path_buf(), wd.clone());
        self.by_wd.insert(wd, dir.to_path_buf());
        Ok(())
    }

    /// Drops watches on directories no tailed file lives in any more.
    pub fn retain(&mut self, keep: impl Fn(&Path) -> bool) {
        let gone: Vec<PathBuf> = self.dirs.keys().filter(|d| !keep(d)).cloned().collect();
        for d in gone {
            if let Some(wd) = self.dirs.remove(&d) {
                self.by_wd.remove(&wd);
                let _ = self.inotify.watches().remove(wd);
            }
        }
    }

    pub fn watched(&self) -> usize {
        self.dirs.len()
    }

    /// Reads every pending event without blocking.
    pub fn poll(&mut self, out: &mut Changes) {
        loop {
            let events = match self.inotify.read_events(&mut self.buf) {
                Ok(ev) => ev,
                Err(_) => return, // WouldBlock: nothing more
            };
            let mut any = false;
            for ev in events {
                any = true;
                if ev.mask.contains(inotify::EventMask::Q_OVERFLOW) {
                    out.overflow = true;
                    continue;
                }
                if ev.mask.intersects(inotify::EventMask::CREATE | inotify::EventMask::MOVED_TO) {
                    out.created = true;
                }
                if let (Some(dir), Some(name)) = (self.by_wd.get(&ev.wd), ev.name) {
                    out.paths.push(dir.join(name));
                }
            }
            if !any {
                return;
            }
        }
    }
}
