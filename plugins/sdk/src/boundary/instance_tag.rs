//! The input's `Tag`, read from Fluent Bit's input instance.
//!
//! Fluent Bit keeps `Tag` as a core property: `api->input_get_property("tag")` returns NULL in every
//! version, so a proxy input cannot ask for it. Inputs that compose tags per source (the tail's
//! `Tag app.*`) need it, so it is read from `struct flb_input_instance`, the `i_ins` the host passed
//! to init. The struct's head differs between versions and builds (`mk_event`, the chunk-trace
//! members), but from 2.0 to 5.1.1 the members from `name` on keep their order:
//!
//! ```c
//! char name[32];               /* "gtail.3": plugin name, '.', instance id */
//! char *alias;
//! int test_mode;               /* 5.x only */
//! void *context;
//! flb_pipefd_t ch_events[2];
//! struct flb_input_plugin *p;
//! char *tag;                   /* never NULL once init runs: the name when no Tag is set */
//! int tag_len;
//! int tag_default;             /* 0 or 1 */
//! ```
//!
//! So the scan finds `name` by its content, then the first pointer-aligned slot after it whose
//! pointer, length and flag agree (`tag_len == strlen(tag)`, a printable tag, `tag_default` 0 or 1).
//! Every read goes through `process_vm_readv` on our own process, which returns an error instead of
//! faulting on an address that is not mapped, so a layout this scan does not know yields `None`
//! (the caller falls back to the instance tag) and never a crash.

use core::ffi::c_void;

/// How far into the instance `name` is looked for; it sits about 100 bytes in on every version.
const NAME_WINDOW: usize = 512;
/// How far after `name` the tag members are looked for.
const TAG_WINDOW: usize = 96;
const NAME_BYTES: usize = 32;
const MAX_TAG: usize = 4096;

/// Copies `dst.len()` bytes from `addr` in this process; false when any of them is not readable.
fn read_own(addr: usize, dst: &mut [u8]) -> bool {
    if addr == 0 || dst.is_empty() {
        return false;
    }
    let local = libc::iovec { iov_base: dst.as_mut_ptr().cast::<c_void>(), iov_len: dst.len() };
    let remote = libc::iovec { iov_base: addr as *mut c_void, iov_len: dst.len() };
    // SAFETY: `local` describes `dst`, writable for its length; the kernel checks `remote` and
    // returns EFAULT (or a short count) for unmapped memory instead of faulting.
    let n = unsafe { libc::process_vm_readv(libc::getpid(), &local, 1, &remote, 1, 0) };
    n == dst.len() as isize
}

/// The instance name, e.g. `gtail.0`: `plugin` then '.', digits and a NUL inside 32 bytes.
fn is_instance_name(bytes: &[u8], plugin: &[u8]) -> bool {
    let Some(rest) = bytes.strip_prefix(plugin).and_then(|r| r.strip_prefix(b".")) else {
        return false;
    };
    let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
    digits > 0 && rest.get(digits) == Some(&0)
}

fn word(bytes: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_ne_bytes(bytes.get(at..at + 8)?.try_into().ok()?))
}

fn int(bytes: &[u8], at: usize) -> Option<i32> {
    Some(i32::from_ne_bytes(bytes.get(at..at + 4)?.try_into().ok()?))
}

/// The tag `ins` routes by, or `None` when the layout is not one the scan recognises.
pub(crate) fn read(ins: *const c_void, plugin: &str) -> Option<Vec<u8>> {
    if cfg!(not(all(target_os = "linux", target_pointer_width = "64"))) {
        return None;
    }
    let base = ins as usize;
    let mut head = vec![0u8; NAME_WINDOW + NAME_BYTES + TAG_WINDOW + 16];
    if !read_own(base, &mut head) {
        return None;
    }
    let name_at = (0..NAME_WINDOW).find(|&o| is_instance_name(&head[o..o + NAME_BYTES], plugin.as_bytes()))?;
    let first = (base + name_at + NAME_BYTES).next_multiple_of(8) - base;
    (first..first + TAG_WINDOW).step_by(8).find_map(|slot| tag_at(&head, slot))
}

fn tag_at(head: &[u8], slot: usize) -> Option<Vec<u8>> {
    let ptr = word(head, slot)? as usize;
    let len = int(head, slot + 8)?;
    let default = int(head, slot + 12)?;
    if ptr == 0 || !(0..=1).contains(&default) || len <= 0 || len as usize > MAX_TAG {
        return None;
    }
    let mut tag = vec![0u8; len as usize + 1];
    if !read_own(ptr, &mut tag) || tag.pop() != Some(0) {
        return None;
    }
    tag.iter().all(|b| b.is_ascii_graphic()).then_some(tag)
}

// Not under Miri: every read of host memory goes through process_vm_readv(2), a system call Miri
// cannot run (the ASan and valgrind runs of flb-host cover this code instead).
#[cfg(all(test, not(miri)))]
mod tests {
    use super::*;

    /// Fluent Bit 5.1.1's members from `name` on, after a head of other fields.
    #[repr(C)]
    struct Ins51 {
        head: [u8; 100],
        name: [u8; 32],
        alias: *const u8,
        test_mode: i32,
        context: *const u8,
        ch_events: [i32; 2],
        p: *const u8,
        tag: *const u8,
        tag_len: i32,
        tag_default: i32,
        rest: [u8; 600],
    }

    /// 2.2's: no `test_mode`.
    #[repr(C)]
    struct Ins22 {
        head: [u8; 77],
        name: [u8; 32],
        alias: *const u8,
        context: *const u8,
        ch_events: [i32; 2],
        p: *const u8,
        tag: *const u8,
        tag_len: i32,
        tag_default: i32,
        rest: [u8; 600],
    }

    fn name(s: &str) -> [u8; 32] {
        let mut n = [0u8; 32];
        n[..s.len()].copy_from_slice(s.as_bytes());
        n
    }

    #[test]
    fn finds_the_tag_in_the_5_1_layout() {
        let tag = b"app.*\0";
        let ctx = [7u8; 64];
        let ins = Ins51 {
            head: [0xAB; 100],
            name: name("gtail.12"),
            alias: c"myalias".as_ptr().cast(),
            test_mode: 0,
            context: ctx.as_ptr(),
            ch_events: [31, 32],
            p: ctx.as_ptr(),
            tag: tag.as_ptr(),
            tag_len: 5,
            tag_default: 0,
            rest: [0; 600],
        };
        let got = read((&ins as *const Ins51).cast(), "gtail");
        assert_eq!(got.as_deref(), Some(&b"app.*"[..]));
        assert_eq!(read((&ins as *const Ins51).cast(), "other"), None, "another plugin's name");
    }

    #[test]
    fn finds_the_tag_in_the_2_2_layout() {
        let tag = b"gtail.0\0";
        let ctx = [7u8; 64];
        let ins = Ins22 {
            head: [0; 77],
            name: name("gtail.0"),
            alias: core::ptr::null(),
            context: ctx.as_ptr(),
            ch_events: [5, 6],
            p: ctx.as_ptr(),
            tag: tag.as_ptr(),
            tag_len: 7,
            tag_default: 1,
            rest: [0; 600],
        };
        assert_eq!(read((&ins as *const Ins22).cast(), "gtail").as_deref(), Some(&b"gtail.0"[..]));
    }

    #[test]
    fn a_layout_it_does_not_know_gives_none_without_faulting() {
        let mut ins = Ins51 {
            head: [0; 100],
            name: name("gtail.1"),
            alias: core::ptr::null(),
            test_mode: 0,
            context: 0x10 as *const u8,
            ch_events: [0, 1],
            p: 0x20 as *const u8,
            tag: 0x30 as *const u8,
            tag_len: 5,
            tag_default: 0,
            rest: [0; 600],
        };
        assert_eq!(read((&ins as *const Ins51).cast(), "gtail"), None, "unmapped pointers");
        let bad = b"a b\0";
        ins.tag = bad.as_ptr();
        ins.tag_len = 3;
        assert_eq!(read((&ins as *const Ins51).cast(), "gtail"), None, "a tag with a space");
        let short = b"abcdef\0";
        ins.tag = short.as_ptr();
        ins.tag_len = 4;
        assert_eq!(read((&ins as *const Ins51).cast(), "gtail"), None, "length disagrees with the NUL");
        assert_eq!(read(core::ptr::null(), "gtail"), None);
        assert_eq!(read(0x1000 as *const c_void, "gtail"), None);
    }
}
