//! A growable byte buffer in libc `malloc` memory. Input plugins hand their buffer to the host, and a
//! host without the cleanup callback (Fluent Bit < 2.0) frees it with libc `free`, so the bytes must
//! come from libc's allocator, not Rust's.

use core::ptr::NonNull;
use std::io;

/// A byte buffer allocated with libc `malloc`/`realloc`, reused across collects: `clear` keeps the
/// capacity, so a steady-state collect allocates nothing.
pub struct MallocBuf {
    ptr: Option<NonNull<u8>>,
    len: usize,
    cap: usize,
}

// SAFETY: MallocBuf owns its allocation exclusively, like Vec<u8>.
unsafe impl Send for MallocBuf {}
// SAFETY: shared references only read the bytes.
unsafe impl Sync for MallocBuf {}

/// The allocation failed (libc returned NULL).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AllocError {
    /// The capacity that was asked for.
    pub requested: usize,
}

impl core::fmt::Display for AllocError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "out of memory allocating {} bytes", self.requested)
    }
}

impl std::error::Error for AllocError {}

/// Copies at most 16 bytes without a call to `memcpy`: record fields (headers, keys, short
/// values) are mostly that small, and a call per field costs more than the copy. Two overlapping
/// loads and stores of 8, 4 or 1 byte(s) cover every length.
///
/// # Safety
/// `dst` must be valid for `src.len()` (at most 16) byte writes and not overlap `src`.
#[inline(always)]
unsafe fn small_copy(src: &[u8], dst: *mut u8) {
    let n = src.len();
    debug_assert!(n <= 16);
    let s = src.as_ptr();
    // SAFETY: in every arm each read is inside `src` (offsets 0..n) and each write inside
    // dst[0..n], which the caller guarantees; unaligned accesses are what read/write_unaligned allow.
    unsafe {
        if n >= 8 {
            let a = core::ptr::read_unaligned(s as *const u64);
            let b = core::ptr::read_unaligned(s.add(n - 8) as *const u64);
            core::ptr::write_unaligned(dst as *mut u64, a);
            core::ptr::write_unaligned(dst.add(n - 8) as *mut u64, b);
        } else if n >= 4 {
            let a = core::ptr::read_unaligned(s as *const u32);
            let b = core::ptr::read_unaligned(s.add(n - 4) as *const u32);
            core::ptr::write_unaligned(dst as *mut u32, a);
            core::ptr::write_unaligned(dst.add(n - 4) as *mut u32, b);
        } else if n > 0 {
            // 1 to 3 bytes: first, middle, last (some the same byte).
            *dst = *s;
            *dst.add(n / 2) = *s.add(n / 2);
            *dst.add(n - 1) = *s.add(n - 1);
        }
    }
}

impl MallocBuf {
    /// An empty buffer; allocates nothing until the first write.
    pub const fn new() -> Self {
        MallocBuf { ptr: None, len: 0, cap: 0 }
    }

    /// An empty buffer with room for `cap` bytes.
    pub fn with_capacity(cap: usize) -> Result<Self, AllocError> {
        let mut b = Self::new();
        b.reserve(cap)?;
        Ok(b)
    }

    /// Bytes written.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when nothing is written.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Bytes allocated.
    pub fn capacity(&self) -> usize {
        self.cap
    }

    /// Forgets the contents, keeps the allocation.
    pub fn clear(&mut self) {
        self.len = 0;
    }

    /// Shortens the contents to `len` bytes (no-op when already shorter).
    pub fn truncate(&mut self, len: usize) {
        if len < self.len {
            self.len = len;
        }
    }

    /// The written bytes.
    pub fn as_slice(&self) -> &[u8] {
        match self.ptr {
            // SAFETY: ptr is a live allocation of cap >= len bytes, of which len are initialised.
            Some(p) => unsafe { core::slice::from_raw_parts(p.as_ptr(), self.len) },
            None => &[],
        }
    }

    /// The written bytes, mutable (for patching timestamps in place).
    pub fn as_mut_slice(&mut self) -> &mut [u8] {
        match self.ptr {
            // SAFETY: as in as_slice, and &mut self gives exclusive access.
            Some(p) => unsafe { core::slice::from_raw_parts_mut(p.as_ptr(), self.len) },
            None => &mut [],
        }
    }

    /// The start of the allocation (NULL when nothing was ever allocated).
    pub fn as_ptr(&self) -> *const u8 {
        self.ptr.map_or(core::ptr::null(), |p| p.as_ptr() as *const u8)
    }

    /// Makes room for `additional` more bytes, growing geometrically.
    // Inline: every append checks for room, per field of every record; only growing is out of line.
    #[inline]
    pub fn reserve(&mut self, additional: usize) -> Result<(), AllocError> {
        if additional <= self.cap - self.len {
            return Ok(());
        }
        self.grow(additional)
    }

    #[cold]
    #[inline(never)]
    fn grow(&mut self, additional: usize) -> Result<(), AllocError> {
        let need = self.len.checked_add(additional).ok_or(AllocError { requested: usize::MAX })?;
        if need <= self.cap {
            return Ok(());
        }
        let new_cap = need.max(self.cap.saturating_mul(2)).max(256);
        let old = self.ptr.map_or(core::ptr::null_mut(), |p| p.as_ptr() as *mut libc::c_void);
        // SAFETY: old is NULL or a pointer this buffer got from malloc/realloc and still owns.
        let p = unsafe { libc::realloc(old, new_cap) } as *mut u8;
        match NonNull::new(p) {
            Some(p) => {
                self.ptr = Some(p);
                self.cap = new_cap;
                Ok(())
            }
            None => Err(AllocError { requested: new_cap }),
        }
    }

    /// Appends bytes.
    #[inline]
    pub fn extend_from_slice(&mut self, bytes: &[u8]) -> Result<(), AllocError> {
        self.reserve(bytes.len())?;
        if let Some(p) = self.ptr {
            let n = bytes.len();
            // SAFETY: reserve made cap >= len + n, so `dst` has n writable bytes; the source cannot
            // overlap our allocation because we hold &mut self and bytes is a shared borrow of
            // something else.
            unsafe {
                let dst = p.as_ptr().add(self.len);
                if n <= 16 {
                    small_copy(bytes, dst);
                } else {
                    core::ptr::copy_nonoverlapping(bytes.as_ptr(), dst, n);
                }
            }
        }
        self.len += bytes.len();
        Ok(())
    }

    /// Appends the buffer's own bytes `range` again at the end (a record template repeated).
    pub fn extend_from_within(&mut self, range: core::ops::Range<usize>) -> Result<(), AllocError> {
        assert!(range.start <= range.end && range.end <= self.len, "range out of bounds");
        let n = range.end - range.start;
        self.reserve(n)?;
        if let Some(p) = self.ptr {
            // SAFETY: the source range lies inside [0, len) and the destination starts at len, so they
            // do not overlap; reserve made room for n more bytes.
            unsafe { core::ptr::copy_nonoverlapping(p.as_ptr().add(range.start), p.as_ptr().add(self.len), n) };
        }
        self.len += n;
        Ok(())
    }

    /// Gives up ownership of the allocation: the caller must `libc::free` the pointer. The buffer is
    /// left empty. Returns NULL when nothing was allocated.
    pub fn into_raw(&mut self) -> *mut u8 {
        let p = self.ptr.take().map_or(core::ptr::null_mut(), |p| p.as_ptr());
        self.len = 0;
        self.cap = 0;
        p
    }

    /// Forgets the allocation without freeing it, because someone else (the host) now owns it.
    pub fn forget_allocation(&mut self) {
        let _ = self.into_raw();
    }
}

impl Default for MallocBuf {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for MallocBuf {
    fn drop(&mut self) {
        if let Some(p) = self.ptr.take() {
            // SAFETY: p came from realloc and is owned by this buffer alone.
            unsafe { libc::free(p.as_ptr() as *mut libc::c_void) };
        }
    }
}

impl io::Write for MallocBuf {
    #[inline]
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.extend_from_slice(buf).map_err(|e| io::Error::new(io::ErrorKind::OutOfMemory, e))?;
        Ok(buf.len())
    }

    #[inline]
    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.write(buf).map(|_| ())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn appends_of_every_small_length_land_whole() {
        // 0 to 40 bytes covers each branch of the small copy and the memcpy above it.
        let src: Vec<u8> = (0..40u8).collect();
        let mut b = super::MallocBuf::new();
        let mut want = Vec::new();
        for n in 0..=40 {
            b.extend_from_slice(&src[..n]).unwrap();
            want.extend_from_slice(&src[..n]);
            assert_eq!(b.as_slice(), &want[..], "after an append of {n} bytes");
        }
    }

    use super::*;
    use std::io::Write;

    #[test]
    fn grows_keeps_bytes_and_reuses_capacity() {
        let mut b = MallocBuf::new();
        assert!(b.as_ptr().is_null());
        for i in 0..1000u32 {
            b.write_all(&i.to_be_bytes()).unwrap();
        }
        assert_eq!(b.len(), 4000);
        assert_eq!(&b.as_slice()[3996..], &999u32.to_be_bytes());
        let cap = b.capacity();
        b.clear();
        b.extend_from_slice(&[1, 2, 3]).unwrap();
        assert_eq!(b.capacity(), cap);
        b.extend_from_within(0..3).unwrap();
        assert_eq!(b.as_slice(), &[1, 2, 3, 1, 2, 3]);
    }

    #[test]
    fn into_raw_transfers_ownership() {
        let mut b = MallocBuf::with_capacity(10).unwrap();
        b.extend_from_slice(b"abc").unwrap();
        let p = b.into_raw();
        assert!(!p.is_null());
        assert!(b.is_empty() && b.capacity() == 0);
        // SAFETY: p came from realloc and we now own it.
        unsafe { libc::free(p as *mut libc::c_void) };
    }

    #[test]
    fn impossible_reservation_is_an_error_not_a_panic() {
        let mut b = MallocBuf::new();
        b.extend_from_slice(b"x").unwrap();
        assert!(b.reserve(usize::MAX).is_err());
    }
}
