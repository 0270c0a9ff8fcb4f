//! The offset marker (placeholder until the db branch lands).
use std::os::unix::fs::FileExt;
pub const MARKER_BYTES: usize = 32;
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Marker {
    pub hash: i64,
    pub size: u8,
}
impl Marker {
    pub fn of(bytes_before_offset: &[u8]) -> Marker {
        let b = &bytes_before_offset[bytes_before_offset.len().saturating_sub(MARKER_BYTES)..];
        if b.is_empty() {
            return Marker::default();
        }
        Marker { hash: xxhash_rust::xxh3::xxh3_64(b) as i64, size: b.len() as u8 }
    }
    pub fn read_at(file: &std::fs::File, offset: u64) -> std::io::Result<Marker> {
        let n = offset.min(MARKER_BYTES as u64) as usize;
        let mut b = [0u8; MARKER_BYTES];
        file.read_exact_at(&mut b[..n], offset - n as u64)?;
        Ok(Marker::of(&b[..n]))
    }
    pub fn matches(&self, file: &std::fs::File, offset: u64) -> std::io::Result<bool> {
        if self.size == 0 {
            return Ok(true);
        }
        if file.metadata()?.len() < offset {
            return Ok(false);
        }
        Ok(Marker::read_at(file, offset)? == *self)
    }
}
