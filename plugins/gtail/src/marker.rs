//! The offset marker: the native tail's guard against inode reuse and copytruncate.
//!
//! # What the native tail does (Fluent Bit 5.1.1, `plugins/in_tail/tail_file.c`)
//!
//! - `compute_offset_marker()` reads the `window = min(offset, 32)` bytes that end at `offset`
//!   (`FLB_TAIL_DB_OFFSET_MARKER_SIZE` is 32) and hashes them with `cfl_hash_64bits`, which is
//!   `XXH3_64bits` (xxHash's XXH3, 64 bits, no seed; `lib/cfl/include/cfl/cfl_hash.h`). For
//!   `offset <= 0` the marker is 0 with size 0 ("no marker"). A short read (the file has fewer
//!   bytes than `offset`) is an error; the caller then stores 0/0 and logs
//!   "cannot compute offset marker".
//! - The hash (`uint64_t`) is bound with `sqlite3_bind_int64`, so the database holds it as a
//!   signed 64-bit integer (the same 64 bits); the size goes to `offset_marker_size`.
//! - On resume (`set_file_position`), the stored offset is dropped, and reading starts from 0,
//!   when `offset > st_size` (the file is shorter than the offset) or when
//!   `flb_tail_file_offset_marker_matches()` is false. That function says "match" when
//!   `offset <= 0` or the stored size is 0, and otherwise recomputes the marker at `offset` and
//!   requires the same size and the same hash (a short read is a mismatch).
//!
//! # Ours
//!
//! [`Marker::of`] and [`Marker::read_at`] compute the same value (the `xxhash-rust` crate's
//! `xxh3_64`, checked against the Python `xxhash` module and against markers written by a real
//! Fluent Bit 5.1.1). [`Marker::matches`] is both native resume conditions at once: the file is
//! at least `offset` bytes long, and the marker matches as above. Reads use `pread`
//! (`FileExt::read_exact_at`), so the file's seek position is left alone.

use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;

use xxhash_rust::xxh3::xxh3_64;

/// How many bytes before an offset the native marker hashes at most.
pub const MARKER_BYTES: usize = 32;

/// XXH3-64 (no seed) of the up-to-32 bytes just before an offset, stored as i64; size 0 = no marker.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Marker {
    /// `XXH3_64bits` of the bytes, its 64 bits read as a signed integer (as the native db stores it).
    pub hash: i64,
    /// How many bytes were hashed: 1..=32, or 0 for "no marker".
    pub size: u8,
}

impl Marker {
    /// The marker for an offset, given the bytes that end at it (only the last min(32, len) are used).
    /// No bytes (offset 0) gives `Marker::default()` (hash 0, size 0), as native stores it.
    pub fn of(bytes_before_offset: &[u8]) -> Marker {
        let start = bytes_before_offset.len().saturating_sub(MARKER_BYTES);
        let window = &bytes_before_offset[start..];
        if window.is_empty() {
            return Marker::default();
        }
        Marker {
            // The same 64 bits, as `sqlite3_bind_int64` stores the native `uint64_t`.
            hash: xxh3_64(window) as i64,
            // `window.len() <= MARKER_BYTES` (32), so it fits.
            size: window.len() as u8,
        }
    }

    /// pread the up-to-32 bytes before `offset` from `file` (fewer when offset < 32; offset 0 → Marker::default()).
    ///
    /// A file shorter than `offset` is an error (`UnexpectedEof`), as in native, which then stores no marker.
    pub fn read_at(file: &File, offset: u64) -> io::Result<Marker> {
        let window = window_for(offset);
        if window == 0 {
            return Ok(Marker::default());
        }
        let mut buf = [0u8; MARKER_BYTES];
        let buf = &mut buf[..window];
        file.read_exact_at(buf, offset - window as u64).map_err(|e| {
            if e.kind() == io::ErrorKind::UnexpectedEof {
                io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    format!("cannot compute the offset marker: the file is shorter than offset {offset}"),
                )
            } else {
                e
            }
        })?;
        Ok(Marker::of(buf))
    }

    /// Native's resume check: true when this marker (saved with `offset`) still matches the file's bytes
    /// before `offset`; size 0 (no marker) matches as native treats it; a file shorter than offset does not match.
    ///
    /// Exactly native's `offset > st_size || !flb_tail_file_offset_marker_matches()` negated:
    /// - the file is shorter than `offset` → false;
    /// - `offset` is 0, or the marker's size is 0 → true;
    /// - otherwise the size must be `min(offset, 32)` and the hash that of those bytes.
    pub fn matches(&self, file: &File, offset: u64) -> io::Result<bool> {
        let len = file.metadata()?.len();
        if offset > len {
            return Ok(false);
        }
        if offset == 0 || self.size == 0 {
            return Ok(true);
        }
        if usize::from(self.size) != window_for(offset) {
            return Ok(false);
        }
        match Marker::read_at(file, offset) {
            Ok(now) => Ok(now == *self),
            // Shrunk between the metadata call and the read: native's short read, a mismatch.
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => Ok(false),
            Err(e) => Err(e),
        }
    }
}

/// `min(offset, 32)`.
fn window_for(offset: u64) -> usize {
    // At most 32, so the conversion cannot truncate.
    offset.min(MARKER_BYTES as u64) as usize
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    // Expected hashes: Python `xxhash.xxh3_64_intdigest(...)` (xxhash 3.x), as signed 64-bit.

    #[test]
    fn of_known_vectors() {
        assert_eq!(Marker::of(b""), Marker { hash: 0, size: 0 });
        assert_eq!(
            Marker::of(b"a"),
            Marker { hash: -1817709641818812897, size: 1 } // unsigned 16629034431890738719
        );
        assert_eq!(
            Marker::of(b"0123456789abcdefghijklmnopqrstuv"),
            Marker { hash: -1791738471518708136, size: 32 } // unsigned 16655005602190843480
        );
        // 40 bytes: only the last 32 count (xxh3 of all 40 would be -1062761089635569168).
        assert_eq!(
            Marker::of(b"ABCDEFGH0123456789abcdefghijklmnopqrstuv"),
            Marker { hash: -1791738471518708136, size: 32 }
        );
        // Seen in a db written by a real Fluent Bit 5.1.1 (offset 12 of "line1\nline2\npartial").
        assert_eq!(Marker::of(b"line1\nline2\n"), Marker { hash: -5125364019073209763, size: 12 });
    }

    fn five_lines() -> (tempfile::TempDir, std::path::PathBuf, File) {
        // 5 lines of 28 bytes: 140 bytes.
        let mut content = Vec::new();
        for i in 1..=5 {
            content.extend_from_slice(format!("line {i:02} the quick brown fox\n").as_bytes());
        }
        assert_eq!(content.len(), 140);
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("a.log");
        let mut f = File::create(&path).expect("create test file");
        f.write_all(&content).expect("write test file");
        let f = File::open(&path).expect("open test file");
        (dir, path, f)
    }

    #[test]
    fn read_at_known_offsets() {
        let (_d, _p, f) = five_lines();
        assert_eq!(Marker::read_at(&f, 0).expect("read"), Marker::default());
        let cases: [(u64, i64, u8); 8] = [
            (1, -4607290929671566278, 1),
            (5, 4524899737528406031, 5),
            (28, -1541790563867077151, 28),
            (31, 6016763062395687283, 31),
            (32, -3005851098951260785, 32),
            (33, -7191838201497450527, 32),
            (84, 4687027752935941692, 32),
            (140, 440317287699218122, 32),
        ];
        for (offset, hash, size) in cases {
            assert_eq!(Marker::read_at(&f, offset).expect("read"), Marker { hash, size }, "offset {offset}");
        }
        let err = Marker::read_at(&f, 141).expect_err("past the end");
        assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof);
    }

    #[test]
    fn matches_as_native() {
        let (_d, p, f) = five_lines();
        let m84 = Marker { hash: 4687027752935941692, size: 32 };
        assert!(m84.matches(&f, 84).expect("matches"));
        // Same bytes, other offset: no.
        assert!(!m84.matches(&f, 85).expect("matches"));
        // Wrong size for the offset (native compares the size too).
        assert!(!Marker { hash: 4687027752935941692, size: 31 }.matches(&f, 84).expect("matches"));
        // No marker: matches whatever the bytes, when the file is long enough.
        assert!(Marker::default().matches(&f, 84).expect("matches"));
        assert!(Marker::default().matches(&f, 140).expect("matches"));
        // Offset 0 always matches.
        assert!(m84.matches(&f, 0).expect("matches"));
        // Past the end: no, even without a marker.
        assert!(!Marker::default().matches(&f, 141).expect("matches"));
        let m5 = Marker { hash: 4524899737528406031, size: 5 };
        assert!(m5.matches(&f, 5).expect("matches"));

        // Change one byte before 84: no longer matches; bytes after 84 do not matter.
        let w = std::fs::OpenOptions::new().write(true).open(&p).expect("open rw");
        w.write_all_at(b"X", 100).expect("write");
        assert!(m84.matches(&f, 84).expect("matches"));
        w.write_all_at(b"X", 60).expect("write");
        assert!(!m84.matches(&f, 84).expect("matches"));

        // Truncated (copytruncate) below the offset: no.
        w.set_len(50).expect("truncate");
        assert!(!m84.matches(&f, 84).expect("matches"));
        assert!(!Marker::default().matches(&f, 84).expect("matches"));
    }
}
