//! gtail's offset db resumed after a row was corrupted: a valid database in the native schema,
//! holding the offset of a file gtail has read part of, gets fuzzer-chosen values of any SQLite
//! type written into its row's columns, or fuzzer-chosen bytes written over its pages. Then gtail
//! opens it again and looks the file up, as at start-up. Never a panic; a database gtail refuses
//! comes with an error naming its path; a row it accepts resumes the file at an offset within the
//! file whose bytes before it match the stored marker (or at 0), exactly where it was when no
//! column that places the file was touched; and the offset saved afterwards reads back.

use std::fs::File;
use std::io::Write;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use in_gtail::db::{Db, DbOptions, SyncMode};
use in_gtail::marker::Marker;
use rusqlite::types::Value as Sql;
use rusqlite::Connection;

use crate::input::Input;

const COLUMNS: [&str; 8] =
    ["id", "name", "offset", "inode", "created", "rotated", "offset_marker", "offset_marker_size"];
/// The columns whose value decides where a file resumes (the row is found by inode).
const PLACING: [&str; 4] = ["offset", "inode", "offset_marker", "offset_marker_size"];
const JOURNAL_MODES: [&str; 3] = ["DELETE", "WAL", "TRUNCATE"];
const LOG: &[u8] = b"first line\nsecond line, a little longer than the first\nthird\n\nfifth line\r\nsixth";

/// The target: a byte of options (journal mode, where the saved offset is, byte or value
/// corruption), then corruptions until the input ends.
pub fn tail_db_resume(data: &[u8]) {
    let mut input = Input::new(data);
    let opts = input.byte();
    let journal = JOURNAL_MODES[usize::from(opts & 3) % JOURNAL_MODES.len()];
    let bytewise = opts & 4 != 0;
    // The saved offset: one of the line starts of LOG, never 0 (0 means "no position").
    let starts: Vec<usize> = LOG.iter().enumerate().filter(|(_, &b)| b == b'\n').map(|(i, _)| i + 1).collect();
    let offset = starts[usize::from(opts >> 3) % starts.len()];

    let dir = ScratchDir::new();
    let log_path = dir.path.join("app.log");
    let db_path = dir.path.join("tail.db");
    if let Err(e) = File::create(&log_path).and_then(|mut f| f.write_all(LOG)) {
        panic!("cannot write {}: {e}", log_path.display());
    }
    let file = match File::open(&log_path) {
        Ok(f) => f,
        Err(e) => panic!("cannot open {}: {e}", log_path.display()),
    };
    let inode = match file.metadata() {
        Ok(m) => m.ino(),
        Err(e) => panic!("cannot stat {}: {e}", log_path.display()),
    };
    let name = log_path.to_string_lossy().into_owned();
    let marker = Marker::of(&LOG[..offset]);
    let mut options = DbOptions::new(&db_path);
    options.journal_mode = journal.to_string();
    // No fsync per statement: durability is not what this checks, and it is the slow part.
    options.sync = SyncMode::Off;
    {
        let mut db = match Db::open(&options) {
            Ok(db) => db,
            Err(e) => panic!("a new database does not open: {e}"),
        };
        let other = db.insert("/var/log/other.log", inode.wrapping_add(1), 7, Marker::default());
        let row = db.insert(&name, inode, offset as u64, marker);
        if let Err(e) = other.and(row) {
            panic!("cannot insert a row into a new database: {e}");
        }
    }

    let touched_placing =
        if bytewise { corrupt_bytes(&db_path, &mut input) } else { corrupt_values(&db_path, &mut input) };

    let mut db = match Db::open(&options) {
        Ok(db) => db,
        Err(e) => {
            let m = e.to_string();
            assert!(m.contains(&db_path.display().to_string()), "the error does not name the db: {m}");
            return;
        }
    };
    let _ = db.rows();
    let size = LOG.len() as u64;
    let row = match db.find(inode, &name) {
        Ok(Some(row)) => row,
        Ok(None) => {
            assert!(touched_placing, "the row was lost though no column that places it was touched");
            return;
        }
        Err(e) => {
            assert!(e.to_string().contains(&db_path.display().to_string()), "the error does not name the db: {e}");
            return;
        }
    };
    let resumed = row.resume_at(&file, size);
    if let Some((pos, m)) = resumed {
        assert!(pos <= size, "resumed at {pos}, past the end of the file ({size} bytes)");
        let Ok(p) = usize::try_from(pos) else { panic!("resumed at {pos}") };
        // At 0 the marker is not looked at (native: an offset of 0 always matches).
        assert!(
            p == 0 || m.size == 0 || m == Marker::of(&LOG[..p]),
            "resumed at {pos} with a marker that does not match"
        );
    }
    if !touched_placing {
        assert_eq!(resumed, Some((offset as u64, marker)), "untouched position not resumed");
    }
    // The tail goes on from there and saves its next offset: it must read back.
    let (pos, m) = resumed.unwrap_or((0, Marker::default()));
    let next = starts.iter().copied().find(|&s| s as u64 > pos).unwrap_or(LOG.len());
    let next_marker = Marker::of(&LOG[..next]);
    match db.save_offsets_checked(&[(row.id, next as u64, next_marker)]) {
        Ok(missing) if missing.is_empty() => match db.find(inode, &name) {
            Ok(Some(again)) => {
                if again.id == row.id {
                    assert_eq!(again.offset, next as u64, "the saved offset does not read back");
                    assert_eq!(again.marker, next_marker);
                }
            }
            Ok(None) => panic!("the row went away after saving its offset"),
            Err(e) => assert!(e.to_string().contains("tail db"), "unclear error: {e}"),
        },
        Ok(_) => {}
        Err(e) => assert!(e.to_string().contains("tail db"), "unclear error: {e}"),
    }
    let _ = m;
}

/// Writes fuzzer-chosen values into columns of the file's row (id 2); true when a column that
/// places the file was changed.
fn corrupt_values(db_path: &Path, input: &mut Input<'_>) -> bool {
    let conn = match Connection::open(db_path) {
        Ok(c) => c,
        Err(e) => panic!("cannot open {}: {e}", db_path.display()),
    };
    let _ = conn.execute_batch("PRAGMA synchronous=OFF;");
    let mut placing = false;
    for _ in 0..8 {
        let what = input.byte();
        let column = COLUMNS[usize::from(what & 7)];
        let value = match (what >> 3) % 6 {
            0 => Sql::Null,
            1 => Sql::Integer(input.u64() as i64),
            2 => Sql::Integer(i64::from(input.byte()) - 64),
            3 => Sql::Real(f64::from_bits(input.u64())),
            4 => Sql::Text(String::from_utf8_lossy(input.until(0)).into_owned()),
            _ => Sql::Blob(input.until(0).to_vec()),
        };
        let sql = format!("UPDATE in_tail_files SET \"{column}\" = ?1 WHERE id = 2");
        // Type and NOT NULL constraints refuse some values; the row then stays as it was.
        if let Ok(n) = conn.execute(&sql, [&value]) {
            placing |= n > 0 && PLACING.contains(&column);
            // A new id: later corruptions of "the row" would miss it; `find` looks it up by inode.
            if column == "id" && n > 0 {
                break;
            }
        }
        if input.rest_is_empty() {
            break;
        }
    }
    placing
}

/// Writes fuzzer-chosen bytes at fuzzer-chosen offsets of the database file (journal mode DELETE
/// or TRUNCATE keep everything in it; with WAL the pages may still be in the -wal file). Any
/// column may change, so this counts as touching the position.
fn corrupt_bytes(db_path: &Path, input: &mut Input<'_>) -> bool {
    let mut bytes = match std::fs::read(db_path) {
        Ok(b) => b,
        Err(e) => panic!("cannot read {}: {e}", db_path.display()),
    };
    if bytes.is_empty() {
        return true;
    }
    while !input.rest_is_empty() {
        let at = usize::from(input.u16()) % bytes.len();
        let b = input.byte();
        bytes[at] = b;
    }
    if let Err(e) = std::fs::write(db_path, &bytes) {
        panic!("cannot write {}: {e}", db_path.display());
    }
    true
}

/// A directory of its own per call, removed afterwards.
struct ScratchDir {
    path: PathBuf,
}

impl ScratchDir {
    fn new() -> ScratchDir {
        use std::sync::atomic::{AtomicU64, Ordering};
        static N: AtomicU64 = AtomicU64::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!("fuzz-tail-db-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        if let Err(e) = std::fs::create_dir_all(&path) {
            panic!("cannot create {}: {e}", path.display());
        }
        ScratchDir { path }
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}
