//! gtail inside flb-host (c-host/), which drives the release-built `.so` the way Fluent Bit's proxy
//! does, into gstdout. Writers append numbered lines (`seq=<n> <padding>`, see `common::line`)
//! while the host runs; every record is counted by its seq, and unless a test says otherwise every
//! line must arrive exactly once, whole, from the right file.
//!
//! No test measures time: waits end as soon as their condition holds (`common::PATIENCE` only
//! bounds how long a failing test takes to say so), and runs end at `--max-records` or when the
//! test has seen what it waits for.

mod common;

use common::*;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// 1,000,000 lines appended to `a.log`, rotated by rename every 100,000 lines while being written:
/// `a.log` -> `a.log.1` -> `a.log.2` -> `a.log.3`, the oldest deleted (so some rotated files are
/// deleted while gtail may still be reading them). `path` names `a.log` only, as a rotation setup
/// does; `rotate_wait` is the default (5 s). After each rename the writer writes `post` lines more
/// to the file it has open (now `a.log.1`), as a program does until it reopens its log, then creates
/// the new `a.log` and writes its first `pre` lines at once, before gtail can have seen it.
///
/// Before the next rotation the writer waits until gtail holds the new `a.log` open: a file that is
/// renamed away before any tailer opened it never was at the path it watches (for any tailer),
/// and that is not what this test is about. Everything else runs at the writer's full speed.
///
/// Asserted: every line exactly once, each record naming `a.log` with the byte offset of its line
/// in its file (offset_key), gtail saw the 9 rotations, and once everything arrived it keeps no
/// descriptor on a rotated or deleted file.
fn rename_rotation(name: &str, pattern: &str, props: &[&str], pre: u64, post: u64) {
    const TOTAL: u64 = 1_000_000;
    const EVERY: u64 = 100_000;
    const KEEP: u32 = 3;
    let dir = TempDir::new(name);
    let a = dir.file("a.log");
    std::fs::write(&a, b"").expect("create a.log");
    let path = format!("path={}", dir.file(pattern));
    // `{dir}` in a property: the test's directory.
    let props: Vec<String> = props.iter().map(|p| p.replace("{dir}", &dir.path().display().to_string())).collect();
    let mut all = vec![path.as_str(), "read_from_head=on", "path_key=file", "offset_key=off"];
    all.extend(props.iter().map(String::as_str));
    let h = Host::start(&all, &[], Out::Tally);
    assert!(h.wait_open(&a, PATIENCE), "gtail never opened {a}\n{}", h.stderr_tail());
    let pid = h.pid;
    let a2 = a.clone();
    let writer = std::thread::spawn(move || {
        let name = |k: u32| format!("{a2}.{k}");
        let mut w = Writer::open(&a2);
        let mut next = 0;
        let mut starts = vec![0];
        for r in 0..TOTAL / EVERY {
            w.lines(next..(r + 1) * EVERY);
            w.flush();
            next = (r + 1) * EVERY;
            if next == TOTAL {
                break;
            }
            let _ = std::fs::remove_file(name(KEEP));
            for k in (1..KEEP).rev() {
                let _ = std::fs::rename(name(k), name(k + 1));
            }
            std::fs::rename(&a2, name(1)).expect("rotate");
            w.lines(next..next + post);
            w.flush();
            next += post;
            w = Writer::open(&a2);
            starts.push(next);
            w.lines(next..next + pre);
            w.flush();
            next += pre;
            let seen = wait_for(PATIENCE, || open_files(pid).contains(&a2));
            assert!(seen, "rotation {r}: gtail never opened the new a.log");
        }
        starts
    });
    let ok = h.wait_all(0..TOTAL, PATIENCE);
    let starts = writer.join().expect("writer");
    // Rotated files the pattern still selects are tailed (from where gtail left them) under their new
    // names; the others must be closed. Deleted ones never stay open.
    let keeps_rotated = pattern.ends_with('*');
    let only_a = |fds: &[String]| {
        !fds.iter().any(|p| (!keeps_rotated && p.starts_with(&format!("{a}."))) || p.ends_with("(deleted)"))
    };
    let closed = wait_for(PATIENCE, || only_a(&h.open_files()));
    let fds = h.open_files();
    let d = h.stop();
    d.assert_clean();
    assert!(ok, "{}\n{}", d.tally.describe(0..TOTAL), d.all());
    assert_exactly_once(&d, 0..TOTAL);
    let mut off = 0;
    for n in 0..TOTAL {
        if starts.contains(&n) {
            off = 0;
        }
        assert_eq!(d.tally.file_of(n), Some(a.as_str()), "seq {n}: records name the path the file was opened under");
        assert_eq!(d.tally.offset_of(n), Some(off), "seq {n}: the offset of its line in its file");
        off += line(n).len() as u64 + 1;
    }
    // Each of the 9 files rotated away is seen leaving once: as rotated, or as deleted when it was
    // renamed down to a.log.3 and removed before gtail's sweep looked (under load).
    let left = d.count(": rotated") + d.count(": deleted; ");
    assert!(left >= 9, "gtail saw {left} of the 9 rotations\n{}", d.all());
    assert!(closed, "descriptors left on rotated files: {fds:?}\n{}", d.all());
}

#[test]
fn s01a_rename_rotation_every_100k_lines_of_1m_loses_and_repeats_nothing() {
    rename_rotation("s01a", "a.log", &[], 0, 500);
}

/// The same with `read_newly_discovered_files_from_head off` and 1,000 lines in each new `a.log`
/// before gtail sees it: a file that takes a rotated file's place is not a newly discovered file;
/// it is read from its start.
#[test]
fn s01b_rename_rotation_reads_the_new_file_from_its_start_whatever_read_newly_discovered() {
    rename_rotation("s01b", "a.log", &["read_newly_discovered_files_from_head=off"], 1_000, 0);
}

/// The same, polling (`inotify_watcher off`, a stat every 0.5 s), 500 lines written to each rotated
/// file after its rename and 1,000 lines in each new `a.log` before gtail sees it.
#[test]
fn s01c_rename_rotation_without_inotify() {
    rename_rotation("s01c", "a.log", &["inotify_watcher=off", "watcher_interval=0.5"], 1_000, 500);
}

/// The same with `path` selecting the rotated files too (`a.log*`, a common setup): a rotated file
/// is the same file under a new name, so nothing of it is read twice.
#[test]
fn s01d_rename_rotation_with_a_pattern_that_selects_rotated_files_too() {
    rename_rotation("s01d", "a.log*", &[], 1_000, 500);
}

/// The same with the offset database on (rows inserted, renamed to the rotated names, removed for
/// deleted files, offsets saved on every collect while all this happens).
#[test]
fn s01e_rename_rotation_with_db() {
    rename_rotation("s01e", "a.log", &["db={dir}/tail.db"], 1_000, 500);
}

/// copytruncate, as logrotate does it, while the writer keeps writing (one write per line).
/// What is asserted:
/// - the 50,000 lines written before it and delivered before it (the test waits for them): exactly
///   once (they are not in the file any more, so reading it again from 0 cannot repeat them);
/// - lines written between then and the truncation: at most once (those gtail had not read yet
///   are gone with the truncated bytes: copytruncate's own window, the copy holds them);
/// - every line written after the truncation: exactly once;
/// - gtail says it saw the truncation.
#[test]
fn s02_copytruncate_delivers_every_line_written_after_the_truncation() {
    const FIRST: u64 = 50_000;
    const AFTER: u64 = 100_000;
    let dir = TempDir::new("s02");
    let a = dir.file("a.log");
    std::fs::write(&a, b"").expect("create a.log");
    let h = Host::start(&[&format!("path={a}"), "read_from_head=on"], &[], Out::Tally);
    assert!(h.wait_open(&a, PATIENCE), "gtail never opened {a}\n{}", h.stderr_tail());
    let written = Arc::new(AtomicU64::new(0));
    let end = Arc::new(AtomicU64::new(u64::MAX));
    let (a2, wr, en) = (a.clone(), Arc::clone(&written), Arc::clone(&end));
    let writer = std::thread::spawn(move || {
        let mut w = Writer::open(&a2).chunk(1);
        let mut n = 0;
        while n < en.load(Ordering::SeqCst) {
            w.lines(n..n + 1);
            w.flush();
            wr.store(n + 1, Ordering::SeqCst);
            if n >= FIRST && en.load(Ordering::SeqCst) == u64::MAX {
                // Slowly, while the test waits for the first lines and truncates.
                std::thread::sleep(Duration::from_millis(1));
            }
            n += 1;
        }
    });
    assert!(h.wait_all(0..FIRST, PATIENCE), "the first lines: {}\n{}", h.describe_now(0..FIRST), h.stderr_tail());
    std::fs::copy(&a, dir.file("a.log.1")).expect("copy");
    std::fs::OpenOptions::new().write(true).open(&a).and_then(|f| f.set_len(0)).expect("truncate");
    // The write of line `c` may have happened before the truncation; line c+1 was written after.
    let after = written.load(Ordering::SeqCst) + 1;
    let total = after + AFTER;
    end.store(total, Ordering::SeqCst);
    writer.join().expect("writer");
    let ok = h.wait_all(after..total, PATIENCE);
    let d = h.stop();
    d.assert_clean();
    let t = &d.tally;
    assert!(ok, "lines after the truncation: {}\n{}", t.describe(after..total), d.all());
    assert!(t.missing(0..FIRST).is_empty() && t.repeated(0..FIRST).is_empty(), "{}", t.describe(0..FIRST));
    assert!(t.repeated(FIRST..after).is_empty(), "window lines at most once: {}", t.describe(FIRST..after));
    assert!(t.missing(after..total).is_empty() && t.repeated(after..total).is_empty(), "{}", t.describe(after..total));
    assert!(t.outside(std::slice::from_ref(&(0..total))).is_empty() && t.other_count == 0, "{}", t.describe(0..total));
    assert_eq!(d.count("reading it again from the start"), 1, "gtail saw the truncation once\n{}", d.all());
}

/// Polling (`inotify_watcher off`): a file rewritten in place at the same size is read again from
/// its start. A sweep skips the read of a file whose size and mtime are those it saw last time, so
/// this is the mtime's doing.
#[test]
fn s02b_a_file_rewritten_in_place_at_the_same_size_is_read_again_when_polling() {
    let dir = TempDir::new("s02b");
    let a = dir.file("a.log");
    // Seqs with the same digits and the same n % 12 sequence: the same line lengths, so the same size.
    let (first, second) = (1200..1300, 2400..2500);
    write_lines(&a, first.clone());
    let props = [&format!("path={a}") as &str, "read_from_head=on", "inotify_watcher=off", "watcher_interval=0.5"];
    let h = Host::start(&props, &["--max-records", "200"], Out::Tally);
    assert!(h.wait_all(first.clone(), PATIENCE), "{}\n{}", h.describe_now(first.clone()), h.stderr_tail());
    let size = std::fs::metadata(&a).expect("stat").len();
    let new = lines(second.clone());
    assert_eq!(new.len() as u64, size, "the rewrite keeps the size");
    {
        use std::io::Write;
        let mut f = std::fs::OpenOptions::new().write(true).open(&a).expect("open for the rewrite");
        f.write_all(&new).expect("rewrite in place");
    }
    assert_eq!(std::fs::metadata(&a).expect("stat").len(), size);
    let d = h.wait(PATIENCE);
    d.assert_clean();
    let t = &d.tally;
    for r in [first.clone(), second.clone()] {
        assert!(t.missing(r.clone()).is_empty() && t.repeated(r.clone()).is_empty(), "{}\n{}", t.describe(r), d.all());
    }
    assert!(t.outside(&[first, second]).is_empty() && t.other_count == 0, "{}", d.all());
    assert_eq!(d.count("reading it again from the start"), 1, "gtail saw the rewrite once\n{}", d.all());
}

/// Files that appear under the glob after start, each written in part before gtail can have seen
/// it and in part after it opened it: read from their head (read_newly_discovered_files_from_head
/// defaults to on), every line once, each record naming its file. `seed.log`, there at start when
/// `seed` is set, is read from its end (read_from_head off): its first lines must not arrive.
fn new_files_under_a_glob(name: &str, props: &[&str], seed: bool) {
    const PER: u64 = 2_000;
    const FILES: u64 = 3;
    let dir = TempDir::new(name);
    let glob = dir.file("*.log");
    let seed_path = dir.file("seed.log");
    if seed {
        write_lines(&seed_path, 0..10);
    }
    let mut all: Vec<&str> = vec![];
    let path = format!("path={glob}");
    all.push(&path);
    all.extend_from_slice(props);
    all.push("path_key=file");
    let h = Host::start(&all, &[], Out::Tally);
    if seed {
        assert!(h.wait_open(&seed_path, PATIENCE), "{}", h.stderr_tail());
        write_lines(&seed_path, 10..20);
    } else {
        assert!(h.wait_stderr("no file matches yet", 1, PATIENCE), "{}", h.stderr_tail());
    }
    let base = 1_000;
    for f in 0..FILES {
        let p = dir.file(&format!("new{f}.log"));
        let first = base + f * PER;
        write_lines(&p, first..first + PER / 2);
        assert!(h.wait_open(&p, PATIENCE), "gtail never opened {p}\n{}", h.stderr_tail());
        write_lines(&p, first + PER / 2..first + PER);
    }
    let want = |n: u64| if n < 20 { seed && n >= 10 } else { n >= base && n < base + FILES * PER };
    let expected: u64 = (0..base + FILES * PER).filter(|&n| want(n)).count() as u64;
    let ok =
        h.wait_tally(PATIENCE, |t| t.records >= expected && t.distinct_in(base..base + FILES * PER) == FILES * PER);
    let d = h.stop();
    d.assert_clean();
    let t = &d.tally;
    assert!(ok, "{}\n{}", t.describe(base..base + FILES * PER), d.all());
    let ranges = [10..20, base..base + FILES * PER];
    for r in if seed { &ranges[..] } else { &ranges[1..] } {
        assert!(
            t.missing(r.clone()).is_empty() && t.repeated(r.clone()).is_empty(),
            "{}\n{}",
            t.describe(r.clone()),
            d.all()
        );
    }
    assert_eq!(t.distinct_in(0..10), 0, "seed.log's lines before start arrived (read_from_head is off)");
    assert!(
        t.outside(if seed { &ranges[..] } else { &ranges[1..] }).is_empty() && t.other_count == 0,
        "{}",
        t.describe(0..base + FILES * PER)
    );
    for f in 0..FILES {
        let p = dir.file(&format!("new{f}.log"));
        for n in (base + f * PER..base + (f + 1) * PER).step_by(37) {
            assert_eq!(t.file_of(n), Some(p.as_str()), "seq {n}");
        }
    }
}

#[test]
fn s03a_new_files_found_by_refresh_interval_with_inotify() {
    new_files_under_a_glob("s03a", &["refresh_interval=1"], false);
}

#[test]
fn s03b_new_files_found_by_refresh_interval_without_inotify() {
    new_files_under_a_glob("s03b", &["refresh_interval=1", "inotify_watcher=off"], true);
}

/// With the default refresh_interval (60 s) a new file in a directory gtail already watches is found
/// by its inotify event.
#[test]
fn s03c_new_files_found_by_inotify_in_a_watched_directory() {
    new_files_under_a_glob("s03c", &[], true);
}

/// A file deleted while open, with lines gtail has not read yet and an unfinished last line: they
/// all arrive (the unfinished line as a record of its own: the file can grow no more), then gtail
/// closes it (no descriptor left on the deleted file).
#[test]
fn s04_a_deleted_file_is_read_to_its_end_then_closed() {
    let dir = TempDir::new("s04");
    let a = dir.file("a.log");
    write_lines(&a, 0..10_000);
    let h = Host::start(&[&format!("path={a}"), "read_from_head=on"], &[], Out::Tally);
    assert!(h.wait_open(&a, PATIENCE), "{}", h.stderr_tail());
    write_lines(&a, 10_000..50_000);
    Writer::open(&a).raw(line(50_000).as_bytes());
    std::fs::remove_file(&a).expect("rm");
    let ok = h.wait_all(0..50_001, PATIENCE);
    let deleted = format!("{a} (deleted)");
    let closed = wait_for(PATIENCE, || !h.open_files().iter().any(|p| *p == deleted || *p == a));
    let fds = h.open_files();
    let d = h.stop();
    d.assert_clean();
    assert!(ok, "{}\n{}", d.tally.describe(0..50_001), d.all());
    assert_exactly_once(&d, 0..50_001);
    assert!(closed, "gtail still holds the deleted file open: {fds:?}\n{}", d.all());
    assert_eq!(d.count(": deleted; "), 1, "gtail saw the deletion once\n{}", d.all());
}

/// rotate_wait far shorter than the time the rotated file takes to drain: 2,000,000 lines written
/// before the rotation, `batch_max_size 1M` so one collect (every 0.05 s) takes at most 1 MB of
/// records: draining takes well over 60 collects (3 s) by construction, against rotate_wait 1. The
/// native tail closes the file after rotate_wait and loses the rest (fluent-bit #10414); gtail
/// must deliver every line of it, and of the new file.
#[test]
fn s05_rotate_wait_shorter_than_draining_loses_nothing() {
    const BIG: u64 = 2_000_000;
    const NEW: u64 = 1_000;
    let dir = TempDir::new("s05");
    let a = dir.file("a.log");
    write_lines(&a, 0..BIG);
    let h = Host::start(
        &[&format!("path={a}"), "read_from_head=on", "rotate_wait=1", "batch_max_size=1M", "path_key=file"],
        &["--max-records", &(BIG + NEW).to_string()],
        Out::Tally,
    );
    assert!(h.wait_open(&a, PATIENCE), "{}", h.stderr_tail());
    let rotated = dir.file("a.log.1");
    std::fs::rename(&a, &rotated).expect("rotate");
    write_lines(&a, BIG..BIG + NEW);
    let d = h.wait(PATIENCE);
    d.assert_clean();
    assert_exactly_once(&d, 0..BIG + NEW);
    assert_eq!(
        d.tally.file_of(BIG - 1),
        Some(a.as_str()),
        "the rotated file's records keep the path it was opened under"
    );
    assert_eq!(d.tally.file_of(BIG), Some(a.as_str()));
    assert_eq!(d.count(": rotated"), 1, "gtail saw the rotation once\n{}", d.all());
}

/// read_from_head off: 100 lines there before start do not arrive; the 100 appended once gtail has
/// the file open all do.
#[test]
fn s06a_read_from_head_off_delivers_only_lines_appended_after_start() {
    let dir = TempDir::new("s06a");
    let a = dir.file("a.log");
    write_lines(&a, 0..100);
    let h = Host::start(&[&format!("path={a}")], &["--max-records", "100"], Out::Tally);
    assert!(h.wait_open(&a, PATIENCE), "{}", h.stderr_tail());
    write_lines(&a, 100..200);
    let d = h.wait(PATIENCE);
    d.assert_clean();
    assert_exactly_once(&d, 100..200);
}

/// read_from_head on: the 100 lines there before start arrive, then the 100 appended.
#[test]
fn s06b_read_from_head_on_delivers_every_line() {
    let dir = TempDir::new("s06b");
    let a = dir.file("a.log");
    write_lines(&a, 0..100);
    let h = Host::start(&[&format!("path={a}"), "read_from_head=on"], &["--max-records", "200"], Out::Tally);
    assert!(h.wait_open(&a, PATIENCE), "{}", h.stderr_tail());
    write_lines(&a, 100..200);
    let d = h.wait(PATIENCE);
    d.assert_clean();
    assert_exactly_once(&d, 0..200);
}

/// A file of numbered lines with long lines among them: `(index in the file, long line)`.
fn long_lines_file(path: &str, long: &[(usize, Vec<u8>)], total: u64) -> Vec<Vec<u8>> {
    let mut content = Vec::new();
    let mut expect_lines = Vec::new();
    let mut n = 0;
    for i in 0..total as usize + long.len() {
        if let Some((_, l)) = long.iter().find(|(at, _)| *at == i) {
            content.extend_from_slice(l);
            expect_lines.push(l.clone());
        } else {
            let l = line(n).into_bytes();
            content.extend_from_slice(&l);
            expect_lines.push(l);
            n += 1;
        }
        content.push(b'\n');
    }
    std::fs::write(path, content).expect("write");
    expect_lines
}

/// Multi-byte UTF-8 text of `bytes` bytes or a few more (é, €, 😀 and ASCII mixed).
fn utf8_text(bytes: usize) -> Vec<u8> {
    let parts = ["é", "€", "😀", "a", "€", "é", "😀", "b"];
    let mut s = String::new();
    let mut i = 0;
    while s.len() < bytes {
        s.push_str(parts[i % parts.len()]);
        i += 1;
    }
    s.into_bytes()
}

/// buffer_max_size in bytes (`1k` would be 1,000: Fluent Bit sizes are decimal).
const LONG_PROPS: [&str; 3] = ["read_from_head=on", "buffer_chunk_size=1024", "buffer_max_size=1024"];

/// Runs gtail with `props` over `path` in Raw form until `n` records arrived; returns their log
/// values, in order.
fn raw_run(path: &str, props: &[&str], n: usize) -> (Done, Vec<Vec<u8>>) {
    let mut all = vec![format!("path={path}")];
    all.extend(props.iter().map(|s| s.to_string()));
    let all: Vec<&str> = all.iter().map(String::as_str).collect();
    let h = Host::start(&all, &["--max-records", &n.to_string()], Out::Raw);
    let d = h.wait(PATIENCE);
    d.assert_clean();
    let logs = d.raw_logs();
    (d, logs)
}

/// skip_long_lines: each line longer than buffer_max_size (1 KiB) is skipped, and every line after
/// it arrives (native drops the rest of the file: fluent-bit #370, #10435). Long lines of 5 KiB, of
/// 1 MiB (longer than one 256 KiB read), one first in the file and one last.
#[test]
fn s07a_skip_long_lines_skips_only_the_long_line() {
    let dir = TempDir::new("s07a");
    let a = dir.file("a.log");
    let long = vec![
        (0, vec![b'L'; 2000]),
        (10, vec![b'x'; 5000]),
        (500, utf8_text(1 << 20)),
        (501, vec![b'y'; 1025]),
        (1004, vec![b'z'; 300_000]),
    ];
    let written = long_lines_file(&a, &long, 1000);
    let want: Vec<Vec<u8>> = written.iter().filter(|l| l.len() <= 1024).cloned().collect();
    assert_eq!(want.len(), 1000);
    let mut props = LONG_PROPS.to_vec();
    props.push("skip_long_lines=on");
    let (d, logs) = raw_run(&a, &props, want.len());
    assert_eq!(logs.len(), want.len(), "{}", d.all());
    for (i, (got, exp)) in logs.iter().zip(&want).enumerate() {
        assert_eq!(got, exp, "record {i}");
    }
    assert_eq!(d.count("longer than buffer_max_size"), 1, "one warning per file\n{}", d.all());
}

/// truncate_long_lines: a long line arrives cut to at most buffer_max_size bytes (at a UTF-8
/// boundary, so at most 3 bytes fewer), and the lines after it arrive.
#[test]
fn s07b_truncate_long_lines_cuts_the_line_and_keeps_the_rest() {
    let dir = TempDir::new("s07b");
    let a = dir.file("a.log");
    let long = vec![(3, utf8_text(5000)), (200, vec![b'x'; 700_000]), (201, utf8_text(1025))];
    let written = long_lines_file(&a, &long, 300);
    let mut props = LONG_PROPS.to_vec();
    props.push("truncate_long_lines=on");
    let (d, logs) = raw_run(&a, &props, written.len());
    assert_eq!(logs.len(), written.len(), "{}", d.all());
    for (i, (got, exp)) in logs.iter().zip(&written).enumerate() {
        if exp.len() <= 1024 {
            assert_eq!(got, exp, "record {i}");
        } else {
            assert!(got.len() <= 1024 && got.len() >= 1021, "record {i}: {} bytes", got.len());
            if exp.is_ascii() {
                assert_eq!(got.len(), 1024, "record {i}: ASCII is cut at buffer_max_size exactly");
            }
            assert!(exp.starts_with(got), "record {i} is the start of the long line");
            if std::str::from_utf8(exp).is_ok() {
                assert!(std::str::from_utf8(got).is_ok(), "record {i} cut inside a UTF-8 character");
            }
        }
    }
}

/// Neither key: a long line arrives as pieces of at most buffer_max_size bytes, cut at UTF-8
/// boundaries, whose concatenation is the line; then the next lines.
#[test]
fn s07c_long_lines_arrive_in_pieces_cut_at_utf8_boundaries() {
    let dir = TempDir::new("s07c");
    let a = dir.file("a.log");
    let long = vec![(5, utf8_text(10_000)), (50, utf8_text(300_000)), (51, vec![b'q'; 2048])];
    let written = long_lines_file(&a, &long, 100);
    let h = Host::start(&[&format!("path={a}"), LONG_PROPS[0], LONG_PROPS[1], LONG_PROPS[2]], &[], Out::Raw);
    // One file arrives in order: once its last line is there, every piece before it is.
    let last = format!("\"{}\"", line(99));
    let ok = h.wait_raw_contains(last.as_bytes(), PATIENCE);
    let d = h.stop();
    d.assert_clean();
    assert!(ok, "the last line never arrived\n{}", d.all());
    let logs = d.raw_logs();
    let mut it = logs.iter();
    for (i, exp) in written.iter().enumerate() {
        if exp.len() <= 1024 {
            let got = it.next().unwrap_or_else(|| panic!("line {i} missing\n{}", d.all()));
            assert_eq!(got, exp, "line {i}");
            continue;
        }
        let mut joined = Vec::new();
        while joined.len() < exp.len() {
            let p = it.next().unwrap_or_else(|| panic!("line {i}: pieces stop at {} bytes", joined.len()));
            assert!(p.len() <= 1024 && !p.is_empty(), "line {i}: a piece of {} bytes", p.len());
            assert!(std::str::from_utf8(p).is_ok(), "line {i}: a piece cut inside a UTF-8 character");
            joined.extend_from_slice(p);
        }
        assert_eq!(&joined, exp, "line {i}: the pieces joined are the line");
    }
}

/// skip_long_lines with one line of 1 GiB, written while gtail runs (so it is skipped across many
/// reads, some ending at the end of the file mid-line): the lines around it all arrive.
#[test]
fn s07d_a_1_gib_line_is_skipped_and_the_lines_after_it_arrive() {
    let dir = TempDir::new("s07d");
    let a = dir.file("a.log");
    write_lines(&a, 0..100);
    let h = Host::start(
        &[&format!("path={a}"), "read_from_head=on", "skip_long_lines=on"],
        &["--max-records", "200"],
        Out::Tally,
    );
    assert!(h.wait_open(&a, PATIENCE), "{}", h.stderr_tail());
    {
        let mut w = Writer::open(&a);
        let block = vec![b'g'; 8 << 20];
        for _ in 0..128 {
            w.raw(&block);
        }
        w.raw(b"\n");
        w.lines(100..200);
    }
    let d = h.wait(PATIENCE);
    d.assert_clean();
    assert_exactly_once(&d, 0..200);
    assert_eq!(d.count("longer than buffer_max_size"), 1, "{}", d.all());
}

/// A deleted file and a rotated one, each ending in an over-long line with no newline yet: gtail
/// skips (or truncates) what there is of it, delivers every line before it, and then closes both
/// files like any other deleted or rotated file (no descriptor kept on them).
fn unfinished_long_line_does_not_keep_a_file_open(name: &str, mode: &str) {
    let dir = TempDir::new(name);
    let (del, rot) = (dir.file("del.log"), dir.file("rot.log"));
    let long = vec![b'x'; 100_000];
    write_lines(&del, 0..100);
    Writer::open(&del).raw(&long);
    write_lines(&rot, 100..200);
    Writer::open(&rot).raw(&long);
    let h = Host::start(
        &[
            &format!("path={}", dir.file("*.log")),
            "read_from_head=on",
            "buffer_chunk_size=1024",
            "buffer_max_size=1024",
            mode,
            "rotate_wait=1",
        ],
        &[],
        Out::Tally,
    );
    assert!(h.wait_all(0..200, PATIENCE), "{}", h.stderr_tail());
    std::fs::remove_file(&del).expect("rm");
    let rotated = dir.file("rot.log.1");
    std::fs::rename(&rot, &rotated).expect("rotate");
    let gone = |fds: &[String]| !fds.iter().any(|p| p.contains("del.log") || p.contains("rot.log"));
    let closed = wait_for(PATIENCE, || gone(&h.open_files()));
    let fds = h.open_files();
    let d = h.stop();
    d.assert_clean();
    let t = &d.tally;
    assert!(closed, "{mode}: files still open: {fds:?}\n{}", d.all());
    assert!(t.missing(0..200).is_empty() && t.repeated(0..200).is_empty(), "{}", t.describe(0..200));
    assert!(t.outside(std::slice::from_ref(&(0..200))).is_empty(), "{}", t.describe(0..200));
    // truncate_long_lines records the first 1024 bytes of each long line; skip_long_lines nothing.
    let cut = format!("\"log\":\"{}\"", "x".repeat(1024));
    let want_cut = if mode.starts_with("truncate") { 2 } else { 0 };
    assert_eq!(t.other_count, want_cut, "{mode}: {:?}", t.other.iter().map(|o| o.len()).collect::<Vec<_>>());
    assert!(t.other.iter().all(|o| o.contains(&cut)), "{mode}: the cut lines are 1024 bytes of the line");
}

#[test]
fn s07e_an_unfinished_long_line_being_skipped_does_not_keep_a_file_open() {
    unfinished_long_line_does_not_keep_a_file_open("s07e", "skip_long_lines=on");
}

#[test]
fn s07f_an_unfinished_long_line_being_truncated_does_not_keep_a_file_open() {
    unfinished_long_line_does_not_keep_a_file_open("s07f", "truncate_long_lines=on");
}

/// A line written in two parts (no newline, then the rest a second later) arrives once, whole; CRLF
/// lines lose the CR (only the one before the newline); bytes that are not UTF-8 pass unchanged
/// (gstdout's msgpack format prints string values as their raw bytes).
#[test]
fn s08_partial_lines_crlf_and_bytes_that_are_not_utf8() {
    let dir = TempDir::new("s08");
    let a = dir.file("a.log");
    let first = line(0);
    std::fs::write(&a, format!("{first}\nthe first half of a line, ")).expect("write");
    let h = Host::start(&[&format!("path={a}"), "read_from_head=on"], &[], Out::Raw);
    assert!(h.wait_raw_contains(first.as_bytes(), PATIENCE), "{}", h.stderr_tail());
    // gtail has read the file to its end, the half line included; give it many collects to get it
    // wrong before the rest comes.
    std::thread::sleep(Duration::from_millis(1500));
    let last = line(1);
    let mut w = Writer::open(&a);
    w.raw(b"then the second half\n");
    w.raw(b"crlf line\r\n\r\nan inner \r stays\r\n");
    w.raw(b"not utf-8: \xff\xfe \xc3\x28 \x80\xbf end\n");
    w.raw(format!("{last}\n").as_bytes());
    drop(w);
    let ok = h.wait_raw_contains(last.as_bytes(), PATIENCE);
    let d = h.stop();
    d.assert_clean();
    assert!(ok, "{}", d.all());
    let want: Vec<&[u8]> = vec![
        first.as_bytes(),
        b"the first half of a line, then the second half",
        b"crlf line",
        b"",
        b"an inner \r stays",
        b"not utf-8: \xff\xfe \xc3\x28 \x80\xbf end",
        last.as_bytes(),
    ];
    let got = d.raw_logs();
    assert_eq!(got, want.iter().map(|b| b.to_vec()).collect::<Vec<_>>(), "{}", d.all());
}

/// 1,000 files under one glob, 60 lines each there at start and 40 appended once those arrived:
/// all 100,000 lines exactly once, each from its own file.
#[test]
fn s09_a_thousand_files_in_one_glob() {
    const FILES: u64 = 1_000;
    let dir = TempDir::new("s09");
    let name = |f: u64| dir.file(&format!("f{f:04}.log"));
    for f in 0..FILES {
        write_lines(&name(f), f * 100..f * 100 + 60);
    }
    let h = Host::start(
        &[&format!("path={}", dir.file("*.log")), "read_from_head=on", "path_key=file"],
        &["--max-records", "100000"],
        Out::Tally,
    );
    let first = |t: &Tally| t.records >= FILES * 60;
    assert!(h.wait_tally(PATIENCE, first), "{}", h.stderr_tail());
    for f in 0..FILES {
        write_lines(&name(f), f * 100 + 60..f * 100 + 100);
    }
    let d = h.wait(PATIENCE);
    d.assert_clean();
    assert_exactly_once(&d, 0..FILES * 100);
    for n in 0..FILES * 100 {
        assert_eq!(d.tally.file_of(n), Some(name(n / 100).as_str()), "seq {n}");
    }
}

/// Pause and resume while lines are written and read: by `--pause-after 1 --resume-after 2`, and
/// again by SIGUSR1/SIGUSR2 (the host's pause and resume) once half the lines arrived. Nothing is
/// lost, nothing repeated.
#[test]
fn s10_pause_and_resume_lose_and_repeat_nothing() {
    const TOTAL: u64 = 300_000;
    let dir = TempDir::new("s10");
    let a = dir.file("a.log");
    std::fs::write(&a, b"").expect("create");
    let h = Host::start(
        &[&format!("path={a}"), "read_from_head=on", "batch_max_size=256k"],
        &["--pause-after", "1", "--resume-after", "2", "--max-records", &TOTAL.to_string()],
        Out::Tally,
    );
    assert!(h.wait_open(&a, PATIENCE), "{}", h.stderr_tail());
    let a2 = a.clone();
    let writer = std::thread::spawn(move || {
        let mut w = Writer::open(&a2).chunk(4096);
        for k in 0..TOTAL / 1000 {
            w.lines(k * 1000..(k + 1) * 1000);
            std::thread::sleep(Duration::from_millis(10));
        }
    });
    assert!(h.wait_tally(PATIENCE, |t| t.records >= TOTAL / 2), "{}", h.stderr_tail());
    h.signal(libc::SIGUSR1);
    std::thread::sleep(Duration::from_millis(800));
    h.signal(libc::SIGUSR2);
    writer.join().expect("writer");
    let d = h.wait(PATIENCE);
    d.assert_clean();
    assert_exactly_once(&d, 0..TOTAL);
}

/// A path that matches nothing: one warning however many refreshes pass, and a file created there
/// later is read (from its head: it is new).
#[test]
fn s11a_a_path_matching_nothing_warns_once_and_keeps_watching() {
    let dir = TempDir::new("s11a");
    let h = Host::start(
        &[&format!("path={}", dir.file("none-*.log")), "refresh_interval=0.5"],
        &["--max-records", "100"],
        Out::Tally,
    );
    assert!(h.wait_stderr("no file matches yet", 1, PATIENCE), "{}", h.stderr_tail());
    std::thread::sleep(Duration::from_millis(2000)); // several refreshes
    write_lines(&dir.file("none-1.log"), 0..100);
    let d = h.wait(PATIENCE);
    d.assert_clean();
    assert_exactly_once(&d, 0..100);
    assert_eq!(d.count("no file matches yet"), 1, "{}", d.all());
}

/// Files gtail cannot read: each warned about once however many refreshes pass, the other files
/// read meanwhile, and once they can be read their lines arrive (from their head: gtail never read
/// them). Two kinds: a dangling symlink (stat fails; later its target appears), and a chmod 000 file
/// (open fails; later chmod 644). chmod 000 stops nothing for root, so as root (CI) the host runs
/// as `nobody` for this test; where `nobody` cannot read the build (then only the symlink case
/// runs, and the test says so on stderr).
#[test]
fn s11b_unreadable_files_are_warned_once_and_read_when_they_can_be() {
    let dir = TempDir::new("s11b");
    let (ok, link, bad, target) = (dir.file("ok.log"), dir.file("link.log"), dir.file("bad.log"), dir.file("target"));
    write_lines(&ok, 0..100);
    std::os::unix::fs::symlink(&target, &link).expect("symlink");
    let uid = nobody(dir.path());
    let chmod = !is_root() || uid.is_some();
    if chmod {
        write_lines(&bad, 2000..2100);
        std::fs::set_permissions(&bad, std::os::unix::fs::PermissionsExt::from_mode(0o000)).expect("chmod");
    } else {
        eprintln!("s11b: root, and user nobody cannot read the build: the chmod 000 case is not run");
    }
    let h = Host::start_as(
        &[&format!("path={}", dir.file("*.log")), "read_from_head=on", "refresh_interval=0.5", "path_key=file"],
        &[],
        Out::Tally,
        uid,
    );
    assert!(h.wait_all(0..100, PATIENCE), "{}", h.stderr_tail());
    let warns: &[&str] = if chmod {
        &["link.log: No such file", "bad.log: cannot open: Permission denied"]
    } else {
        &["link.log: No such file"]
    };
    for w in warns {
        assert!(h.wait_stderr(w, 1, PATIENCE), "{w}\n{}", h.stderr_tail());
    }
    std::thread::sleep(Duration::from_millis(1500)); // several refreshes
    write_lines(&target, 1000..1100);
    if chmod {
        std::fs::set_permissions(&bad, std::os::unix::fs::PermissionsExt::from_mode(0o644)).expect("chmod");
    }
    let mut want = vec![0..100, 1000..1100];
    if chmod {
        want.push(2000..2100);
    }
    let ok = h.wait_tally(PATIENCE, |t| want.iter().all(|r| t.has_all(r.clone())));
    let d = h.stop();
    d.assert_clean();
    let t = &d.tally;
    assert!(ok, "{}\n{}", t.describe(0..2100), d.all());
    for r in &want {
        assert!(t.missing(r.clone()).is_empty() && t.repeated(r.clone()).is_empty(), "{}", t.describe(r.clone()));
    }
    assert!(t.outside(&want).is_empty() && t.other_count == 0, "{}", t.describe(0..2100));
    assert_eq!(t.file_of(1000), Some(link.as_str()), "the file is named by the path that matched");
    if chmod {
        assert_eq!(t.file_of(2000), Some(bad.as_str()));
    }
    for w in warns {
        assert_eq!(d.count(w), 1, "{w}: one warning\n{}", d.all());
    }
}

/// A binary file: every byte value but the newline, in lines of random length, passes unchanged
/// (a CR just before a newline aside, which is dropped as for any line); nothing crashes.
#[test]
fn s11c_a_binary_file_passes_unchanged() {
    let dir = TempDir::new("s11c");
    let a = dir.file("a.bin");
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut rnd = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let mut content = Vec::new();
    let mut want = Vec::new();
    for i in 0..500 {
        let len = (rnd() % 400) as usize;
        let mut l: Vec<u8> = (0..len).map(|_| (rnd() % 256) as u8).filter(|&b| b != b'\n').collect();
        if i % 50 == 0 {
            l = (0u8..=255).filter(|&b| b != b'\n').collect(); // every byte value
        }
        content.extend_from_slice(&l);
        content.push(b'\n');
        if l.last() == Some(&b'\r') {
            l.pop();
        }
        want.push(l);
    }
    std::fs::write(&a, &content).expect("write");
    let (d, got) = raw_run(&a, &["read_from_head=on"], want.len());
    assert_eq!(got.len(), want.len(), "{}", d.all());
    for (i, (g, w)) in got.iter().zip(&want).enumerate() {
        assert_eq!(g, w, "line {i}");
    }
}

/// A tailed file replaced by a directory: its lines arrive, the directory is warned about once
/// however many refreshes pass, and a file put back at the path is read from its head.
#[test]
fn s11d_a_file_replaced_by_a_directory_is_warned_once() {
    let dir = TempDir::new("s11d");
    let a = dir.file("a.log");
    write_lines(&a, 0..100);
    let h = Host::start(
        &[&format!("path={}", dir.file("*.log")), "read_from_head=on", "refresh_interval=0.5"],
        &["--max-records", "200"],
        Out::Tally,
    );
    assert!(h.wait_all(0..100, PATIENCE), "{}", h.stderr_tail());
    std::fs::remove_file(&a).expect("rm");
    std::fs::create_dir(&a).expect("mkdir");
    assert!(h.wait_stderr("not a regular file", 1, PATIENCE), "{}", h.stderr_tail());
    std::thread::sleep(Duration::from_millis(2000)); // several refreshes
    std::fs::remove_dir(&a).expect("rmdir");
    write_lines(&a, 100..200);
    let d = h.wait(PATIENCE);
    d.assert_clean();
    assert_exactly_once(&d, 0..200);
    assert_eq!(d.count("not a regular file"), 1, "{}", d.all());
}

/// `db` in a directory that does not exist: init fails with one error naming the db path, and the
/// host stops (Fluent Bit would not start the instance).
#[test]
fn s11e_a_db_in_a_missing_directory_fails_init_naming_the_path() {
    let dir = TempDir::new("s11e");
    write_lines(&dir.file("a.log"), 0..10);
    let db = dir.file("no/such/dir/tail.db");
    let h = Host::start(&[&format!("path={}", dir.file("a.log")), &format!("db={db}")], &[], Out::Tally);
    let d = h.wait(PATIENCE);
    assert!(!d.timed_out, "{}", d.all());
    assert_ne!(d.code, Some(0), "init must fail\n{}", d.all());
    assert!(d.count("failed to initialize") >= 1, "{}", d.all());
    let errors: Vec<&str> = d.stderr.lines().filter(|l| l.contains("[error] [gtail]")).collect();
    assert_eq!(errors.len(), 1, "one error line\n{}", d.all());
    assert!(errors[0].contains(&db), "the error names the db path {db}: {:?}", errors[0]);
    assert_eq!(d.tally.records, 0);
}

/// A file truncated while gtail is still reading it (a big backlog, read in 256 KiB batches), then
/// written again: gtail says so and reads it again from 0, so every new line arrives exactly once;
/// the old lines arrive at most once (those not read before the truncation are gone).
#[test]
fn s11f_a_file_truncated_while_being_read() {
    const OLD: u64 = 1_000_000;
    const NEW: u64 = 1_000;
    let dir = TempDir::new("s11f");
    let a = dir.file("a.log");
    write_lines(&a, 0..OLD);
    let h = Host::start(&[&format!("path={a}"), "read_from_head=on", "batch_max_size=256k"], &[], Out::Tally);
    assert!(h.wait_tally(PATIENCE, |t| t.records >= 10_000), "{}", h.stderr_tail());
    std::fs::OpenOptions::new().write(true).open(&a).and_then(|f| f.set_len(0)).expect("truncate");
    write_lines(&a, OLD..OLD + NEW);
    let ok = h.wait_all(OLD..OLD + NEW, PATIENCE);
    let d = h.stop();
    d.assert_clean();
    let t = &d.tally;
    assert!(ok, "{}\n{}", t.describe(OLD..OLD + NEW), d.all());
    assert!(
        t.missing(OLD..OLD + NEW).is_empty() && t.repeated(0..OLD + NEW).is_empty(),
        "{}",
        t.describe(0..OLD + NEW)
    );
    assert!(t.distinct_in(0..OLD) < OLD, "the truncation came mid-read: {}", t.describe(0..OLD));
    assert!(
        t.outside(std::slice::from_ref(&(0..OLD + NEW))).is_empty() && t.other_count == 0,
        "{}",
        t.describe(0..OLD + NEW)
    );
    assert_eq!(d.count("reading it again from the start"), 1, "gtail saw the truncation once\n{}", d.all());
}

/// `flb-host check` (load, register, init, two instances, collects, leaks, exit, dlclose) passes
/// under every Fluent Bit version the host emulates, and a key gtail cannot support fails init.
#[test]
fn s12_conformance_check_passes_under_every_abi() {
    let dir = TempDir::new("s12");
    let a = dir.file("a.log");
    write_lines(&a, 0..1000);
    let so = gtail_so();
    let path = format!("path={a}");
    // One check per ABI, side by side (each collects for 2 s).
    let runs: Vec<_> = ["1.9", "2.0", "2.2", "4.1", "5.1"]
        .into_iter()
        .map(|abi| {
            let args: Vec<String> = [
                "check",
                &so,
                "-p",
                &path,
                "-p",
                "read_from_head=on",
                "--bad",
                "parser=json",
                "--abi",
                abi,
                "--count",
                "40",
                "--interval",
                "0.05",
            ]
            .map(String::from)
            .to_vec();
            (abi, std::thread::spawn(move || flb_host::run_host(&args.iter().map(String::as_str).collect::<Vec<_>>())))
        })
        .collect();
    for (abi, t) in runs {
        let r = t.join().expect("check thread");
        assert_eq!(r.code, Some(0), "--abi {abi}\n{}", r.all());
        let all = r.all();
        assert!(!all.contains("FAIL"), "--abi {abi}\n{all}");
        let pass = |name: &str| all.lines().find(|l| l.starts_with(&format!("PASS {name}:")));
        for check in
            ["load", "register", "init-bad-config", "init", "two-instances", "leak-per-call", "all-freed", "dlclose"]
        {
            assert!(pass(check).is_some(), "--abi {abi}: no PASS {check}\n{all}");
        }
        // Each instance reads the whole file: 1,000 lines. Before 4.1 the collect callback has no
        // context, so it reaches one instance only (the SDK's context-less rule, as for Go plugins).
        let want = if matches!(abi, "4.1" | "5.1") { " 2000 valid records" } else { " 1000 valid records" };
        let collect = pass("collect").unwrap_or_else(|| panic!("--abi {abi}: no PASS collect\n{all}"));
        assert!(collect.contains(want), "--abi {abi}: want{want}: {collect}");
    }
}

/// exit_on_eof: once every file was read to its end (an unfinished last line included, as a record)
/// and every record taken, gtail stops the host by itself, with every line delivered once.
#[test]
fn s13_exit_on_eof_stops_the_host_after_the_last_line() {
    let dir = TempDir::new("s13");
    for f in 0..3u64 {
        write_lines(&dir.file(&format!("f{f}.log")), f * 100_000..f * 100_000 + 50_000);
    }
    Writer::open(&dir.file("f3.log")).raw(line(300_000).as_bytes());
    let h = Host::start(
        &[&format!("path={}", dir.file("*.log")), "read_from_head=on", "exit_on_eof=on", "path_key=file"],
        &[],
        Out::Tally,
    );
    let d = h.wait(PATIENCE);
    d.assert_clean();
    assert_eq!(d.count("exit_on_eof"), 1, "{}", d.all());
    let t = &d.tally;
    let want = [0..50_000, 100_000..150_000, 200_000..250_000, 300_000..300_001];
    for r in &want {
        assert!(
            t.missing(r.clone()).is_empty() && t.repeated(r.clone()).is_empty(),
            "{}\n{}",
            t.describe(r.clone()),
            d.all()
        );
    }
    assert!(t.outside(&want).is_empty() && t.other_count == 0, "{}", t.describe(0..300_001));
    assert_eq!(t.file_of(300_000), Some(dir.file("f3.log").as_str()));
}
