//! The offset database against the native tail's format: read by other SQLite clients, native
//! layouts read by ours, a real Fluent Bit 5.1.1 in both directions (when `FLUENT_BIT_BIN` is
//! set), and the error cases.
//!
//! Expected hashes are hard-coded from the Python `xxhash` module (`xxh3_64_intdigest`), shown as
//! signed 64-bit integers, never computed with the code under test.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use in_gtail::db::{Db, DbErrorKind, DbOptions, FileRow, SyncMode};
use in_gtail::marker::Marker;
use rusqlite::Connection;

/// Native's CREATE TABLE (`tail_sql.h`, `SQL_CREATE_FILES`), copied here independently.
const NATIVE_CREATE: &str = "CREATE TABLE IF NOT EXISTS in_tail_files (  id      INTEGER PRIMARY KEY,  name    TEXT NOT NULL,  offset  INTEGER,  inode   INTEGER,  created INTEGER,  rotated INTEGER DEFAULT 0,  offset_marker INTEGER DEFAULT 0,  offset_marker_size INTEGER DEFAULT 0);";

/// `sqlite_master.sql` of a db created by a real Fluent Bit 5.1.1.
const NATIVE_SCHEMA_SEEN: &str = "CREATE TABLE in_tail_files (  id      INTEGER PRIMARY KEY,  name    TEXT NOT NULL,  offset  INTEGER,  inode   INTEGER,  created INTEGER,  rotated INTEGER DEFAULT 0,  offset_marker INTEGER DEFAULT 0,  offset_marker_size INTEGER DEFAULT 0)";

/// Five lines of 28 bytes ("line 01 the quick brown fox\n" ...): 140 bytes.
fn five_lines() -> Vec<u8> {
    let mut v = Vec::new();
    for i in 1..=5 {
        v.extend_from_slice(format!("line {i:02} the quick brown fox\n").as_bytes());
    }
    assert_eq!(v.len(), 140);
    v
}

/// Python xxhash over `five_lines()`: the marker at 84 (after line 3) and at 140 (the end).
const M84: Marker = Marker { hash: 4687027752935941692, size: 32 };
const M140: Marker = Marker { hash: 440317287699218122, size: 32 };
/// Marker at 28 (after line 1): 28 bytes.
const M28: Marker = Marker { hash: -1541790563867077151, size: 28 };

fn write_file(path: &Path, content: &[u8]) -> u64 {
    fs::write(path, content).expect("write log file");
    fs::metadata(path).expect("stat log file").ino()
}

fn opts(path: PathBuf) -> DbOptions {
    DbOptions::new(path)
}

fn native_conn(path: &Path) -> Connection {
    let c = Connection::open(path).expect("open with plain rusqlite");
    c.execute_batch(NATIVE_CREATE).expect("native create table");
    c
}

// ---------------------------------------------------------------------------------------------
// Ours → other readers
// ---------------------------------------------------------------------------------------------

/// What `sqlite3` prints for our rows; a missing CLI fails the test with what to install.
#[test]
fn ours_read_by_sqlite3_cli() {
    let dir = tempfile::tempdir().expect("tempdir");
    let dbp = dir.path().join("t.db");
    {
        let mut db = Db::open(&opts(dbp.clone())).expect("open");
        let a = db.insert("/var/log/a.log", 1234, 84, M84).expect("insert a");
        let b = db.insert("/var/log/b.log", u64::MAX - 1, 28, M28).expect("insert b");
        db.save_offsets(&[(a, 140, M140)]).expect("save");
        db.rename(b, "/var/log/b.log.1").expect("rename");
    }
    let out = match Command::new("sqlite3")
        .arg(&dbp)
        .arg("SELECT id, name, offset, inode, rotated, offset_marker, offset_marker_size, typeof(inode), typeof(offset_marker) FROM in_tail_files ORDER BY id;")
        .output()
    {
        Ok(o) => o,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => panic!(
            "the sqlite3 CLI is not installed (apt-get install -y sqlite3); this test needs it"
        ),
        Err(e) => panic!("running sqlite3: {e}"),
    };
    assert!(out.status.success(), "sqlite3 failed: {}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "1|/var/log/a.log|140|1234|0|440317287699218122|32|integer|integer\n\
         2|/var/log/b.log.1|28|-2|1|-1541790563867077151|28|integer|integer\n"
    );
}

/// The same through plain SQL, plus the schema text and `created`.
#[test]
fn ours_read_by_plain_sql() {
    let dir = tempfile::tempdir().expect("tempdir");
    let dbp = dir.path().join("t.db");
    let before = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock").as_secs() as i64;
    {
        let mut db = Db::open(&opts(dbp.clone())).expect("open");
        db.insert("/l/a.log", 42, 84, M84).expect("insert");
    }
    let c = Connection::open(&dbp).expect("open");
    let schema: String =
        c.query_row("SELECT sql FROM sqlite_master WHERE name='in_tail_files'", [], |r| r.get(0)).expect("schema");
    assert_eq!(schema, NATIVE_SCHEMA_SEEN);
    let mode: String = c.query_row("PRAGMA journal_mode", [], |r| r.get(0)).expect("journal mode");
    assert_eq!(mode, "wal");
    let (name, offset, inode, created, rotated, hash, size): (String, i64, i64, i64, i64, i64, i64) = c
        .query_row(
            "SELECT name, offset, inode, created, rotated, offset_marker, offset_marker_size FROM in_tail_files WHERE id=1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?)),
        )
        .expect("row");
    assert_eq!((name.as_str(), offset, inode, rotated, hash, size), ("/l/a.log", 84, 42, 0, 4687027752935941692, 32));
    assert!((before..before + 60).contains(&created), "created {created}");
}

// ---------------------------------------------------------------------------------------------
// Native layout → ours
// ---------------------------------------------------------------------------------------------

#[test]
fn native_layout_read_by_find() {
    let dir = tempfile::tempdir().expect("tempdir");
    let dbp = dir.path().join("t.db");
    {
        let c = native_conn(&dbp);
        // As native binds them: the uint64 inode and marker as int64 (18446744073709551614 → -2).
        c.execute_batch(
            "INSERT INTO in_tail_files (name, offset, inode, created, offset_marker, offset_marker_size)
               VALUES ('/var/log/old.log', 28, 77, 1700000000, -1541790563867077151, 28);
             INSERT INTO in_tail_files (name, offset, inode, created, offset_marker, offset_marker_size)
               VALUES ('/var/log/a.log', 84, 77, 1700000001, 4687027752935941692, 32);
             INSERT INTO in_tail_files (name, offset, inode, created, rotated, offset_marker, offset_marker_size)
               VALUES ('/var/log/b.log.1', 140, -2, 1700000002, 1, 440317287699218122, 32);",
        )
        .expect("insert native rows");
    }
    let db = Db::open(&opts(dbp.clone())).expect("open");
    // Newest id wins for inode 77.
    assert_eq!(
        db.find(77, "/var/log/a.log").expect("find"),
        Some(FileRow {
            id: 2,
            name: "/var/log/a.log".into(),
            offset: 84,
            inode: 77,
            created: 1700000001,
            rotated: false,
            marker: M84,
        })
    );
    // Without compare_filename the name does not matter.
    assert_eq!(db.find(77, "/elsewhere/x.log").expect("find").map(|r| r.id), Some(2));
    assert_eq!(
        db.find(u64::MAX - 1, "/var/log/b.log").expect("find"),
        Some(FileRow {
            id: 3,
            name: "/var/log/b.log.1".into(),
            offset: 140,
            inode: u64::MAX - 1,
            created: 1700000002,
            rotated: true,
            marker: M140,
        })
    );
    assert_eq!(db.find(78, "/var/log/a.log").expect("find"), None);
    assert_eq!(db.rows().expect("rows").len(), 3);

    // The stored marker is the one of the bytes before the offset in the real file.
    let log = dir.path().join("a.log");
    write_file(&log, &five_lines());
    let f = File::open(&log).expect("open log");
    let row = db.find(77, "").expect("find").expect("row");
    assert!(row.marker.matches(&f, row.offset).expect("matches"));
    assert_eq!(Marker::read_at(&f, row.offset).expect("read"), row.marker);
}

#[test]
fn compare_filename_as_native() {
    let dir = tempfile::tempdir().expect("tempdir");
    let dbp = dir.path().join("t.db");
    {
        let c = native_conn(&dbp);
        c.execute_batch(
            "INSERT INTO in_tail_files (name, offset, inode, created) VALUES ('/a/keep.log', 5, 9, 1);
             INSERT INTO in_tail_files (name, offset, inode, created) VALUES ('/a/x.log', 10, 9, 1);",
        )
        .expect("insert");
    }
    let mut o = opts(dbp.clone());
    o.compare_filename = true;
    let mut db = Db::open(&o).expect("open");
    // Base names are compared: another directory still matches.
    assert_eq!(db.find(9, "/b/x.log").expect("find").map(|r| r.offset), Some(10));
    // Another base name: only the newest row counts, so the older 'keep.log' row is not found.
    assert_eq!(db.find(9, "/a/keep.log").expect("find"), None);
    // Inserting deletes that stale newest row (id 2, '/a/x.log' at 10), as native, then adds the
    // new row; SQLite's rowid (no AUTOINCREMENT) is max(id)+1, so it is id 2 again, at offset 7.
    let id = db.insert("/a/keep.log", 9, 7, Marker::default()).expect("insert");
    assert_eq!(id, 2);
    let rows: Vec<(i64, String, u64)> =
        db.rows().expect("rows").into_iter().map(|r| (r.id, r.name, r.offset)).collect();
    assert_eq!(rows, vec![(1, "/a/keep.log".into(), 5), (2, "/a/keep.log".into(), 7)]);
    assert_eq!(db.find(9, "/a/keep.log").expect("find").map(|r| r.offset), Some(7));
}

/// A db from before the offset marker gets its two columns, as native migrates it.
#[test]
fn old_native_db_is_migrated() {
    let dir = tempfile::tempdir().expect("tempdir");
    let dbp = dir.path().join("t.db");
    {
        let c = Connection::open(&dbp).expect("open");
        c.execute_batch(
            "CREATE TABLE in_tail_files (id INTEGER PRIMARY KEY, name TEXT NOT NULL, offset INTEGER, inode INTEGER, created INTEGER, rotated INTEGER DEFAULT 0);
             INSERT INTO in_tail_files (name, offset, inode, created) VALUES ('/a.log', 99, 5, 1);",
        )
        .expect("old layout");
    }
    let db = Db::open(&opts(dbp.clone())).expect("open");
    let row = db.find(5, "/a.log").expect("find").expect("row");
    assert_eq!((row.offset, row.marker), (99, Marker { hash: 0, size: 0 }));
    drop(db);
    let c = Connection::open(&dbp).expect("open");
    let cols: Vec<String> = c
        .prepare("SELECT name FROM pragma_table_info('in_tail_files')")
        .expect("prepare")
        .query_map([], |r| r.get(0))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("cols");
    assert_eq!(cols, ["id", "name", "offset", "inode", "created", "rotated", "offset_marker", "offset_marker_size"]);
}

// ---------------------------------------------------------------------------------------------
// Writes
// ---------------------------------------------------------------------------------------------

#[test]
fn save_offsets_is_one_transaction() {
    let dir = tempfile::tempdir().expect("tempdir");
    let dbp = dir.path().join("t.db");
    let mut db = Db::open(&opts(dbp.clone())).expect("open");
    for (i, name) in ["a", "b", "c"].iter().enumerate() {
        db.insert(name, i as u64 + 1, 0, Marker::default()).expect("insert");
    }
    db.save_offsets(&[(1, 28, M28), (2, 84, M84), (3, 140, M140)]).expect("save");
    let got: Vec<(u64, Marker)> = db.rows().expect("rows").into_iter().map(|r| (r.offset, r.marker)).collect();
    assert_eq!(got, vec![(28, M28), (84, M84), (140, M140)]);

    // Make the third update fail: the first two must be rolled back with it.
    let c = Connection::open(&dbp).expect("second connection");
    c.execute_batch(
        "CREATE TRIGGER boom BEFORE UPDATE ON in_tail_files WHEN NEW.id = 3 BEGIN SELECT RAISE(ABORT, 'boom'); END;",
    )
    .expect("trigger");
    drop(c);
    let e = db
        .save_offsets(&[(1, 1, Marker::default()), (2, 2, Marker::default()), (3, 3, Marker::default())])
        .expect_err("the trigger aborts");
    assert!(e.to_string().contains("boom") && e.to_string().contains("t.db"), "{e}");
    let got: Vec<u64> = db.rows().expect("rows").into_iter().map(|r| r.offset).collect();
    assert_eq!(got, vec![28, 84, 140]);

    // A row deleted behind our back is reported (native inserts the file again).
    db.remove(2).expect("remove");
    assert_eq!(
        db.save_offsets_checked(&[(1, 5, Marker::default()), (2, 5, Marker::default())]).expect("save"),
        vec![2]
    );
}

#[test]
fn rename_remove_and_remove_missing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut db = Db::open(&opts(dir.path().join("t.db"))).expect("open");
    let a = db.insert("/l/a.log", 10, 0, Marker::default()).expect("a");
    let b = db.insert("/l/b.log", 20, 0, Marker::default()).expect("b");
    let c = db.insert("/l/c.log", 30, 0, Marker::default()).expect("c");
    db.rename(a, "/l/a.log.1").expect("rename");
    let r = db.find(10, "").expect("find").expect("row");
    assert_eq!((r.name.as_str(), r.rotated), ("/l/a.log.1", true));
    db.remove(b).expect("remove");
    assert_eq!(db.find(20, "/l/b.log").expect("find"), None);
    let n = db.remove_missing(|r| r.inode == 30).expect("remove missing");
    assert_eq!(n, 1);
    let ids: Vec<i64> = db.rows().expect("rows").iter().map(|r| r.id).collect();
    assert_eq!(ids, vec![c]);
    assert_eq!(db.remove_missing(|_| false).expect("all"), 1);
    assert!(db.rows().expect("rows").is_empty());
}

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

#[test]
fn error_missing_directory() {
    let dir = tempfile::tempdir().expect("tempdir");
    let p = dir.path().join("no/such/dir/t.db");
    let e = Db::open(&opts(p.clone())).expect_err("missing dir");
    println!("{e}");
    assert_eq!(e.kind(), DbErrorKind::Path);
    let msg = e.to_string();
    assert!(msg.contains(&p.display().to_string()), "{msg}");
    assert!(msg.contains("directory does not exist"), "{msg}");
    assert!(!dir.path().join("no").exists());
}

#[test]
fn error_not_sqlite() {
    let dir = tempfile::tempdir().expect("tempdir");
    let p = dir.path().join("t.db");
    let content = b"this is a log file, not a database\n".repeat(200);
    fs::write(&p, &content).expect("write");
    let e = Db::open(&opts(p.clone())).expect_err("not sqlite");
    println!("{e}");
    assert_eq!(e.kind(), DbErrorKind::NotADatabase);
    let msg = e.to_string();
    assert!(msg.contains(&p.display().to_string()), "{msg}");
    assert!(msg.contains("move it away"), "{msg}");
    // Untouched.
    assert_eq!(fs::read(&p).expect("read"), content);
}

#[test]
fn error_corrupt_db() {
    let dir = tempfile::tempdir().expect("tempdir");
    let p = dir.path().join("t.db");
    {
        let mut o = opts(p.clone());
        o.journal_mode = "DELETE".into();
        let mut db = Db::open(&o).expect("open");
        db.insert("/a.log", 1, 0, Marker::default()).expect("insert");
    }
    // Page 2 is the table's root page: garbage it.
    let f = OpenOptions::new().write(true).open(&p).expect("open rw");
    std::os::unix::fs::FileExt::write_all_at(&f, &[0xA5; 4096], 4096).expect("write");
    drop(f);
    // Found at open (quick_check), not at the first save.
    let e = Db::open(&opts(p.clone())).expect_err("corrupt");
    println!("{e}");
    assert_eq!(e.kind(), DbErrorKind::NotADatabase, "{e}");
    assert!(e.to_string().contains("move it away"), "{e}");
}

#[test]
fn error_locked_by_another_connection() {
    let dir = tempfile::tempdir().expect("tempdir");
    let p = dir.path().join("t.db");
    {
        let c = native_conn(&p);
        // What native's db.locking does: EXCLUSIVE locking mode keeps the lock after a write.
        c.execute_batch(
            "PRAGMA locking_mode=EXCLUSIVE; INSERT INTO in_tail_files (name, offset, inode) VALUES ('x', 1, 1);",
        )
        .expect("lock");
        let t = Instant::now();
        let e = Db::open(&opts(p.clone())).expect_err("locked");
        println!("{e}");
        assert_eq!(e.kind(), DbErrorKind::Locked, "{e}");
        assert!(e.to_string().contains("locked by another process"), "{e}");
        assert!(e.to_string().contains(&p.display().to_string()), "{e}");
        assert!(t.elapsed() < Duration::from_secs(5));
    }
    // Released: opens.
    Db::open(&opts(p.clone())).expect("open after the other closed");

    // Ours with db.locking holds it the same way.
    let mut o = opts(p.clone());
    o.locking = true;
    let mut db = Db::open(&o).expect("open locking");
    db.insert("y", 2, 0, Marker::default()).expect("insert");
    let e = Db::open(&opts(p.clone())).expect_err("locked by ours");
    assert_eq!(e.kind(), DbErrorKind::Locked, "{e}");
    let c = Connection::open(&p).expect("open");
    c.busy_timeout(Duration::ZERO).expect("busy timeout");
    assert!(c.query_row("SELECT count(*) FROM in_tail_files", [], |r| r.get::<_, i64>(0)).is_err());
    drop(db);

    // The other holds it in WAL mode (native's default journal mode with db.locking on).
    let p = dir.path().join("wal.db");
    let c = native_conn(&p);
    c.execute_batch(
        "PRAGMA locking_mode=EXCLUSIVE; PRAGMA journal_mode=WAL; INSERT INTO in_tail_files (name, offset, inode) VALUES ('x', 1, 1);",
    )
    .expect("lock");
    let e = Db::open(&opts(p.clone())).expect_err("locked (WAL)");
    println!("{e}");
    assert_eq!(e.kind(), DbErrorKind::Locked, "{e}");
}

#[test]
fn error_read_only_location() {
    // /proc exists and nobody (root included) can create a file in it.
    let p = PathBuf::from("/proc/gtail-test-offsets.db");
    let e = Db::open(&opts(p)).expect_err("read-only location");
    println!("{e}");
    assert_eq!(e.kind(), DbErrorKind::Access, "{e}");
    assert!(e.to_string().contains("/proc/gtail-test-offsets.db"), "{e}");
    assert!(e.to_string().contains("writable"), "{e}");
}

#[test]
fn error_unknown_journal_mode_and_directory_path() {
    let dir = tempfile::tempdir().expect("tempdir");
    let p = dir.path().join("t.db");
    let mut o = opts(p.clone());
    o.journal_mode = "fast".into();
    let e = Db::open(&o).expect_err("bad journal mode");
    println!("{e}");
    assert_eq!(e.kind(), DbErrorKind::Option);
    assert!(e.to_string().contains("unknown db.journal_mode 'fast'"), "{e}");
    assert!(!p.exists(), "no file is created for a bad option");
    o.journal_mode = "truncate".into();
    o.sync = SyncMode::Full;
    Db::open(&o).expect("lower case journal mode");

    let e = Db::open(&opts(dir.path().to_path_buf())).expect_err("a directory");
    assert_eq!(e.kind(), DbErrorKind::Path);
    assert!(e.to_string().contains("is a directory"), "{e}");
}

// ---------------------------------------------------------------------------------------------
// A real Fluent Bit (FLUENT_BIT_BIN)
// ---------------------------------------------------------------------------------------------

fn fluent_bit() -> Option<PathBuf> {
    match std::env::var_os("FLUENT_BIT_BIN") {
        Some(p) if !p.is_empty() => Some(PathBuf::from(p)),
        _ => {
            println!("skipped: FLUENT_BIT_BIN not set");
            None
        }
    }
}

/// A running native tail: stdout (json_lines) and stderr (log) go to files.
struct Native {
    child: Child,
    out: PathBuf,
    err: PathBuf,
}

impl Native {
    fn start(bin: &Path, dir: &Path, log: &Path, db: &Path, read_from_head: bool) -> Native {
        Native::start_with(bin, dir, log, db, read_from_head, &[])
    }

    fn start_with(bin: &Path, dir: &Path, log: &Path, db: &Path, read_from_head: bool, extra: &[&str]) -> Native {
        let out = dir.join("fb.stdout");
        let err = dir.join("fb.stderr");
        let child = Command::new(bin)
            .args(["-i", "tail", "-p"])
            .arg(format!("path={}", log.display()))
            .arg("-p")
            .arg(format!("db={}", db.display()))
            .arg("-p")
            .arg(format!("read_from_head={}", if read_from_head { "on" } else { "off" }))
            .args(extra.iter().flat_map(|kv| ["-p", kv]))
            .args(["-o", "stdout", "-p", "format=json_lines", "-f", "1"])
            .stdin(Stdio::null())
            .stdout(File::create(&out).expect("stdout file"))
            .stderr(File::create(&err).expect("stderr file"))
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", bin.display()));
        Native { child, out, err }
    }

    fn stderr(&self) -> String {
        fs::read_to_string(&self.err).unwrap_or_default()
    }

    /// The `log` values printed so far.
    fn lines(&self) -> Vec<String> {
        fs::read_to_string(&self.out)
            .unwrap_or_default()
            .lines()
            .filter(|l| l.starts_with('{'))
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .filter_map(|v| v.get("log").and_then(|s| s.as_str()).map(str::to_string))
            .collect()
    }

    fn wait_until(&self, what: &str, cond: impl Fn(&Native) -> bool) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while !cond(self) {
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}; lines: {:?}\nstderr:\n{}",
                self.lines(),
                self.stderr()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// SIGTERM, and wait for the exit (native flushes and closes the db).
    fn stop(mut self) -> Vec<String> {
        let pid = libc::pid_t::try_from(self.child.id()).expect("pid fits pid_t");
        // SAFETY: kill(2) only sends a signal; `pid` is our own child, not yet reaped (we still
        // own `self.child` and have not waited on it), so the pid cannot have been reused.
        let rc = unsafe { libc::kill(pid, libc::SIGTERM) };
        assert_eq!(rc, 0, "kill: {}", std::io::Error::last_os_error());
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                assert!(status.success() || status.code().is_some(), "{status:?}");
                break;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                panic!("fluent-bit did not stop on SIGTERM\n{}", self.stderr());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let lines = self.lines();
        println!("native printed: {lines:?}");
        lines
    }
}

fn line(n: u32) -> String {
    format!("line {n:02} the quick brown fox")
}

/// The real native writes; ours reads its offset and marker.
#[test]
fn real_native_db_read_by_ours() {
    let Some(bin) = fluent_bit() else { return };
    let dir = tempfile::tempdir().expect("tempdir");
    let log = dir.path().join("a.log");
    let dbp = dir.path().join("t.db");
    let inode = write_file(&log, &five_lines());
    let part = dir.path().join("b.log");

    let fb = Native::start(&bin, dir.path(), &log, &dbp, true);
    fb.wait_until("line 5", |n| n.lines().contains(&line(5)));
    let lines = fb.stop();
    assert_eq!(lines, (1..=5).map(line).collect::<Vec<_>>());

    let db = Db::open(&opts(dbp.clone())).expect("open the native db");
    let row = db.find(inode, &log.display().to_string()).expect("find").expect("native wrote a row for the inode");
    println!("native wrote: {row:?}");
    assert_eq!(row.name, log.display().to_string());
    assert_eq!(row.offset, 140);
    assert_eq!(row.inode, inode);
    assert!(!row.rotated);
    assert_eq!(row.marker, M140, "native's marker is python's xxh3 of the last 32 bytes");
    let f = File::open(&log).expect("open log");
    assert_eq!(Marker::read_at(&f, row.offset).expect("read"), row.marker);
    assert!(row.marker.matches(&f, row.offset).expect("matches"));
    drop(db);

    // A partial last line: native saves the offset of its start, with the marker of what is before.
    let part_inode = write_file(&part, b"line1\nline2\npartial");
    let fb = Native::start(&bin, dir.path(), &part, &dbp, true);
    fb.wait_until("line2", |n| n.lines().contains(&"line2".to_string()));
    let lines = fb.stop();
    assert_eq!(lines, vec!["line1".to_string(), "line2".to_string()]);
    let db = Db::open(&opts(dbp)).expect("open the native db");
    let row = db.find(part_inode, "").expect("find").expect("row");
    println!("native wrote: {row:?}");
    assert_eq!(row.offset, 12);
    // Python: xxh3_64(b"line1\nline2\n") = -5125364019073209763 (signed).
    assert_eq!(row.marker, Marker { hash: -5125364019073209763, size: 12 });
    let f = File::open(&part).expect("open");
    assert_eq!(Marker::read_at(&f, 12).expect("read"), row.marker);
    // At its start native deleted the row of a.log, which it no longer monitors.
    assert_eq!(db.find(inode, "").expect("find"), None);
}

/// Ours writes offset 84 (after line 3) with its marker; the real native resumes there, and
/// keeps using (and updating) our row.
#[test]
fn real_native_resumes_from_ours() {
    let Some(bin) = fluent_bit() else { return };
    let dir = tempfile::tempdir().expect("tempdir");
    let log = dir.path().join("a.log");
    let dbp = dir.path().join("t.db");
    let inode = write_file(&log, &five_lines());
    let id = {
        let mut db = Db::open(&opts(dbp.clone())).expect("open");
        let f = File::open(&log).expect("open log");
        let m = Marker::read_at(&f, 84).expect("marker");
        assert_eq!(m, M84);
        db.insert(&log.display().to_string(), inode, 84, m).expect("insert")
    };
    // read_from_head off: if native ignored our row it would start at the end and print nothing.
    let fb = Native::start(&bin, dir.path(), &log, &dbp, false);
    fb.wait_until("line 5", |n| n.lines().contains(&line(5)));
    let lines = fb.stop();
    assert_eq!(lines, vec![line(4), line(5)]);

    let db = Db::open(&opts(dbp)).expect("open");
    let rows = db.rows().expect("rows");
    println!("after native: {rows:?}");
    assert_eq!(rows.len(), 1);
    assert_eq!((rows[0].id, rows[0].offset, rows[0].marker), (id, 140, M140));
}

/// No marker (size 0) is accepted by native as a match.
#[test]
fn real_native_resumes_from_ours_without_marker() {
    let Some(bin) = fluent_bit() else { return };
    let dir = tempfile::tempdir().expect("tempdir");
    let log = dir.path().join("a.log");
    let dbp = dir.path().join("t.db");
    let inode = write_file(&log, &five_lines());
    Db::open(&opts(dbp.clone()))
        .expect("open")
        .insert(&log.display().to_string(), inode, 28, Marker::default())
        .expect("insert");
    let fb = Native::start(&bin, dir.path(), &log, &dbp, true);
    fb.wait_until("line 5", |n| n.lines().contains(&line(5)));
    assert_eq!(fb.stop(), (2..=5).map(line).collect::<Vec<_>>());
}

/// A wrong marker: native drops the offset. With read_from_head on it reads from 0; with it off
/// it goes to the end (only lines appended later are read).
#[test]
fn real_native_ignores_ours_on_wrong_marker() {
    let Some(bin) = fluent_bit() else { return };
    let dir = tempfile::tempdir().expect("tempdir");
    let log = dir.path().join("a.log");
    let dbp = dir.path().join("t.db");
    let inode = write_file(&log, &five_lines());
    let wrong = Marker { hash: M84.hash.wrapping_add(1), size: 32 };
    Db::open(&opts(dbp.clone())).expect("open").insert(&log.display().to_string(), inode, 84, wrong).expect("insert");
    let fb = Native::start(&bin, dir.path(), &log, &dbp, true);
    fb.wait_until("line 5", |n| n.lines().contains(&line(5)));
    assert_eq!(fb.stop(), (1..=5).map(line).collect::<Vec<_>>());
    let db = Db::open(&opts(dbp.clone())).expect("open");
    assert_eq!(db.find(inode, "").expect("find").map(|r| (r.offset, r.marker)), Some((140, M140)));
    drop(db);

    // Again with read_from_head off.
    let dir2 = tempfile::tempdir().expect("tempdir");
    let log = dir2.path().join("a.log");
    let dbp = dir2.path().join("t.db");
    let inode = write_file(&log, &five_lines());
    Db::open(&opts(dbp.clone())).expect("open").insert(&log.display().to_string(), inode, 84, wrong).expect("insert");
    let fb = Native::start(&bin, dir2.path(), &log, &dbp, false);
    // Wait until it watches the file (it has positioned it by then), then append line 6.
    fb.wait_until("inotify_fs_add", |n| n.stderr().contains("inotify_fs_add"));
    OpenOptions::new()
        .append(true)
        .open(&log)
        .expect("open append")
        .write_all(format!("{}\n", line(6)).as_bytes())
        .expect("append");
    fb.wait_until("line 6", |n| n.lines().contains(&line(6)));
    assert_eq!(fb.stop(), vec![line(6)]);
}

/// A real native with `db.locking on` holds the db: ours says so.
#[test]
fn real_native_locking_blocks_ours() {
    let Some(bin) = fluent_bit() else { return };
    let dir = tempfile::tempdir().expect("tempdir");
    let log = dir.path().join("a.log");
    let dbp = dir.path().join("t.db");
    write_file(&log, &five_lines());
    let fb = Native::start_with(&bin, dir.path(), &log, &dbp, true, &["db.locking=on"]);
    fb.wait_until("line 5", |n| n.lines().contains(&line(5)));
    let e = Db::open(&opts(dbp.clone())).expect_err("locked by native");
    println!("{e}");
    assert_eq!(e.kind(), DbErrorKind::Locked, "{e}");
    fb.stop();
    Db::open(&opts(dbp)).expect("open once native has stopped");
}
