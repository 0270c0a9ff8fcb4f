//! gtail's line splitter (`TailFile::read_into`, the code the tail runs) on a file that grows by
//! fuzzer-chosen appends, read with a fuzzer-chosen buffer size, `buffer_max_size`, budget per read
//! and long-line mode: the records out are exactly the lines of the concatenated input, at their
//! offsets (CR before the newline dropped, long lines skipped, truncated or cut into pieces at a
//! UTF-8 boundary as the mode says, the unfinished last line held back until the file is closed
//! and then recorded), and every saved offset is a line start whose marker is that of the bytes
//! before it.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::PathBuf;

use flb_plugin_sdk::api::{Batch, Config, InstanceKind, Logger};
use flb_plugin_sdk::events::{EventReader, RecordForm};
use in_gtail::config::TailConfig;
use in_gtail::file::{Read, ReadBuf, TailFile};
use in_gtail::keys::KEYS;
use in_gtail::lines::{trim_cr, utf8_cut};
use in_gtail::marker::Marker;

use crate::input::Input;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum LongLines {
    Pieces,
    Skip,
    Truncate,
}

/// The target: four bytes of options (read size, line limit, budget, mode), then the appends, each
/// a length byte and that many bytes.
pub fn tail_lines(data: &[u8]) {
    let mut input = Input::new(data);
    let line_max = 1 + usize::from(input.byte() % 64);
    let read_size = line_max + 1 + usize::from(input.byte() % 64);
    let budget = match input.byte() {
        0 => u64::MAX,
        b => u64::from(b),
    };
    let opts = input.byte();
    let mode = [LongLines::Pieces, LongLines::Skip, LongLines::Truncate][usize::from(opts & 3) % 3];
    let skip_empty = opts & 4 != 0;
    let mut appends = Vec::new();
    loop {
        let len = usize::from(input.byte());
        let rest = input.rest();
        if rest.is_empty() {
            break;
        }
        let (chunk, tail) = rest.split_at(len.min(rest.len()));
        appends.push(chunk);
        input = Input::new(tail);
    }

    let bool_str = |b: bool| if b { "on" } else { "off" };
    let pairs = [
        ("path", "/fuzz/*.log"),
        ("offset_key", "offset"),
        ("skip_long_lines", bool_str(mode == LongLines::Skip)),
        ("truncate_long_lines", bool_str(mode == LongLines::Truncate)),
        ("skip_empty_lines", bool_str(skip_empty)),
    ];
    let mut cfg = match TailConfig::from(&Config::from_pairs(&pairs).with_keys(KEYS)) {
        Ok(c) => c,
        Err(e) => panic!("the fuzz config is refused: {e}"),
    };
    // What the config keys would give with `buffer_max_size` = line_max; the read size is the
    // ReadBuf's (the plugin's is at least line_max + 1 too).
    cfg.line_max = line_max;

    let file = ScratchFile::new();
    let mut tf = TailFile::new(1, "/fuzz/a.log".to_string(), Vec::new(), file.reader(), 0, 0);
    let mut rb = ReadBuf::new(read_size);
    let log = Logger::stderr(InstanceKind::Input, "gtail");
    let mut written = Vec::new();
    let mut got = Vec::new();
    for chunk in &appends {
        file.append(chunk);
        written.extend_from_slice(chunk);
        let mut stalls = 0;
        loop {
            let mut batch = Batch::detached(1 << 30, RecordForm::Modern);
            let (read, n) = match tf.read_into(&mut rb, &mut batch, &cfg, budget, &log) {
                Ok(r) => r,
                Err(e) => panic!("read_into failed: {e}"),
            };
            records(batch.written(), &mut got);
            check_mark(&tf, &written, mode);
            match read {
                Read::Eof => break,
                Read::Full => panic!("a batch of 1 GiB is full"),
                Read::More if n == 0 => {
                    stalls += 1;
                    assert!(stalls < 3, "read_into makes no progress at {}", tf.read_pos);
                }
                Read::More => stalls = 0,
            }
        }
    }
    let mut batch = Batch::detached(1 << 30, RecordForm::Modern);
    if let Err(e) = tf.flush_partial(&mut rb, &mut batch, &cfg, &log) {
        panic!("flush_partial failed: {e}");
    }
    records(batch.written(), &mut got);
    check_mark(&tf, &written, mode);

    let want = expected(&written, line_max, mode, skip_empty);
    if got != want {
        panic!(
            "records differ from the lines of the input\n  input: {:?}\n  got:  {:?}\n  want: {:?}",
            String::from_utf8_lossy(&written),
            shown(&got),
            shown(&want)
        );
    }
}

fn shown(recs: &[(u64, Vec<u8>)]) -> Vec<(u64, String)> {
    recs.iter().map(|(o, l)| (*o, String::from_utf8_lossy(l).into_owned())).collect()
}

/// Appends the (offset, line) of each record of `chunk`.
fn records(chunk: &[u8], out: &mut Vec<(u64, Vec<u8>)>) {
    for ev in EventReader::new(chunk) {
        let ev = match ev {
            Ok(ev) => ev,
            Err(e) => panic!("gtail wrote a record that does not decode: {e}"),
        };
        let Some(body) = ev.body.as_map() else { panic!("a record body is not a map") };
        let line = body.get(b"log").ok().flatten().and_then(|v| v.as_bytes());
        let offset = body.get(b"offset").ok().flatten().and_then(|v| v.as_u64());
        match (offset, line) {
            (Some(o), Some(l)) => out.push((o, l.to_vec())),
            _ => panic!("a record lacks its log or offset field"),
        }
    }
}

/// The offset the file would resume from is a line start (or, cutting long lines into pieces, a
/// piece's start), within what was written, and carries the marker of the bytes before it.
fn check_mark(tf: &TailFile, written: &[u8], mode: LongLines) {
    let Some(&(_, mark, marker)) = tf.pending.back() else { return };
    let Ok(m) = usize::try_from(mark) else { panic!("mark {mark} is past any input") };
    assert!(m <= written.len(), "mark {m} is past the {} bytes written", written.len());
    if mode != LongLines::Pieces && m < written.len() {
        assert!(m == 0 || written[m - 1] == b'\n', "mark {m} is not at a line start");
    }
    assert_eq!(marker, Marker::of(&written[..m]), "the marker at {m} is not that of the bytes before it");
}

/// The records the input must give, from the lines of the whole input.
fn expected(input: &[u8], line_max: usize, mode: LongLines, skip_empty: bool) -> Vec<(u64, Vec<u8>)> {
    let mut out = Vec::new();
    let mut start = 0usize;
    while start < input.len() {
        let (line, complete) = match input[start..].iter().position(|&b| b == b'\n') {
            Some(i) => (&input[start..start + i], true),
            None => (&input[start..], false),
        };
        expected_line(&mut out, start, line, complete, line_max, mode, skip_empty);
        start += line.len() + 1;
    }
    out
}

/// The records of one line at `at` (`complete`: its newline was written).
fn expected_line(
    out: &mut Vec<(u64, Vec<u8>)>,
    at: usize,
    line: &[u8],
    complete: bool,
    line_max: usize,
    mode: LongLines,
    skip_empty: bool,
) {
    let mut k = 0;
    loop {
        let rest = &line[k..];
        if rest.len() <= line_max {
            let l = trim_cr(rest);
            // An unfinished last line is recorded when the file closes (if anything is left of it).
            let empty_skipped = skip_empty && l.is_empty();
            let keep = if complete { !empty_skipped } else { !(rest.is_empty() || empty_skipped) };
            if keep {
                out.push(((at + k) as u64, l.to_vec()));
            }
            return;
        }
        let cut = utf8_cut(rest, line_max);
        match mode {
            LongLines::Skip => return,
            LongLines::Truncate => {
                out.push(((at + k) as u64, rest[..cut].to_vec()));
                return;
            }
            LongLines::Pieces => {
                out.push(((at + k) as u64, rest[..cut].to_vec()));
                k += cut;
            }
        }
    }
}

/// The tailed file: one per process, emptied for each input (a fuzzer calls the target from one
/// thread; the test replay from several, hence the thread in the name).
struct ScratchFile {
    path: PathBuf,
    writer: File,
}

impl ScratchFile {
    fn new() -> ScratchFile {
        let name = format!("fuzz-tail-lines-{}-{:?}.log", std::process::id(), std::thread::current().id());
        let path = std::env::temp_dir().join(name.replace(['(', ')'], ""));
        let writer = match OpenOptions::new().create(true).write(true).truncate(true).open(&path) {
            Ok(f) => f,
            Err(e) => panic!("cannot create {}: {e}", path.display()),
        };
        ScratchFile { path, writer }
    }

    fn reader(&self) -> File {
        match File::open(&self.path) {
            Ok(f) => f,
            Err(e) => panic!("cannot open {}: {e}", self.path.display()),
        }
    }

    fn append(&self, bytes: &[u8]) {
        if let Err(e) = (&self.writer).write_all(bytes) {
            panic!("cannot append to {}: {e}", self.path.display());
        }
    }
}

impl Drop for ScratchFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}
