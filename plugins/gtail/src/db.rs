//! The offset database, in the native tail's own SQLite format, so a `db` file can move between
//! the native `tail` input and `gtail` in both directions and keep every file's position.
//!
//! # What the native tail does (Fluent Bit 5.1.1, `plugins/in_tail/`)
//!
//! **Table** (`tail_sql.h`, `SQL_CREATE_FILES`, run on every open; the exact text is
//! [`SQL_CREATE_FILES`] here):
//! ```sql
//! CREATE TABLE IF NOT EXISTS in_tail_files (  id      INTEGER PRIMARY KEY,  name    TEXT NOT NULL,
//!   offset  INTEGER,  inode   INTEGER,  created INTEGER,  rotated INTEGER DEFAULT 0,
//!   offset_marker INTEGER DEFAULT 0,  offset_marker_size INTEGER DEFAULT 0);
//! ```
//! Databases from before the marker get `offset_marker` and `offset_marker_size` added with
//! `ALTER TABLE ... ADD COLUMN ... DEFAULT 0` (`tail_db.c`, `flb_tail_db_open`). Ours adds them too.
//!
//! **Open** (`flb_tail_db_open`, `flb_sqldb_open`): `sqlite3_open(path)` (read-write, create, no
//! URI names, no busy timeout), then in this order: the CREATE TABLE, `PRAGMA synchronous=N`
//! (`db.sync`: extra 3, full 2, normal 1 (default), off 0; an unknown value is logged and the
//! default kept), `PRAGMA locking_mode=EXCLUSIVE` when `db.locking` is on (default off),
//! `PRAGMA journal_mode=<db.journal_mode>` (default `WAL`), the two migrations. The journal mode is
//! checked after the open against DELETE, TRUNCATE, PERSIST, MEMORY, WAL, OFF (case-insensitive);
//! another value fails the input. Ours does the same, in the same order, but checks the journal
//! mode first (so a bad value creates no file), refuses a missing directory, a read-only file
//! and a damaged file (`PRAGMA quick_check`) at open with a message that says what to do, and
//! waits up to [`BUSY_TIMEOUT`] on a lock held briefly by another connection (native fails at
//! once).
//!
//! **Values** are bound with `sqlite3_bind_int64`: the `uint64_t` inode and marker keep their 64
//! bits as a signed integer (an inode above `i64::MAX` is stored negative), the `off_t` offset
//! as is. Reading uses `sqlite3_column_int64` (NULL reads as 0). Ours does the same casts.
//!
//! **Lookup** (`db_file_exists`): `SELECT ... WHERE inode=@inode ORDER BY id DESC`, and only the
//! first row (the newest id) is looked at. With `db.compare_filename` (default off) that row also
//! needs the same *base name* (`basename()` of the stored name vs of the file's real path, from
//! `/proc/self/fd`); when it differs, the file counts as new, that stale row (only it) is
//! deleted and a new row inserted. Ours: [`Db::find`] returns the newest row for the inode
//! (`None` when the base name differs under `compare_filename`); [`Db::insert`] deletes that
//! stale row first, in the same transaction, so the find-then-insert sequence does what native does.
//!
//! **Insert** (`db_file_insert`): `name` = the path the file was opened under, `offset` = the
//! current resumable offset, `inode`, `created = time(NULL)` (Unix seconds), the marker at that
//! offset; `rotated` keeps its default 0. **Update** (`flb_tail_db_file_offset`, after each chunk
//! is processed): `offset`, `offset_marker`, `offset_marker_size` by id; when no row changed
//! (someone deleted it) native inserts the file again ([`Db::save_offsets_checked`] reports those
//! ids). Native runs each update in its own implicit transaction; ours saves a batch in one.
//!
//! **`offset`** is the byte offset of the next unread byte that starts a line: the read position
//! minus any partial line still buffered (`flb_tail_file_db_offset`). A real 5.1.1 on
//! `"line1\nline2\npartial"` stores offset 12 with a 12-byte marker of `"line1\nline2\n"`.
//!
//! **Resume** (`set_file_position`): a found row gives the offset, unless the file is shorter
//! than it or the marker does not match (see [`crate::marker`]): then reading starts at 0 and the
//! row is updated. A found offset of 0 (or below) is "no position": with `read_from_head` off
//! native then seeks to the end, as for a new file.
//!
//! **Rotation** (`flb_tail_file_rotated`, first rotation only): `UPDATE ... set name=@name,
//! rotated=1 WHERE id=@id` ([`Db::rename`]).
//!
//! **Deletion**: a row is deleted when its file is deleted (`st_nlink == 0` at purge), when a
//! rotated file is dropped after `rotate_wait`, and for the stale row under `compare_filename`
//! ([`Db::remove`]). At start, after the first scan, rows whose inode is not among the monitored
//! files are deleted (`flb_tail_db_stale_file_delete`: `DELETE ... WHERE inode NOT IN (...)`, all
//! rows when nothing is monitored) ([`Db::remove_missing`]). A file that merely stops matching
//! `path` keeps its row until the next start.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rusqlite::types::ValueRef;
use rusqlite::{params, Connection, ErrorCode, OpenFlags, OptionalExtension};

use crate::marker::Marker;

/// Native's table, byte for byte (`tail_sql.h`, `SQL_CREATE_FILES`).
pub const SQL_CREATE_FILES: &str = "CREATE TABLE IF NOT EXISTS in_tail_files (  id      INTEGER PRIMARY KEY,  name    TEXT NOT NULL,  offset  INTEGER,  inode   INTEGER,  created INTEGER,  rotated INTEGER DEFAULT 0,  offset_marker INTEGER DEFAULT 0,  offset_marker_size INTEGER DEFAULT 0);";

/// Native's lookup (`SQL_GET_FILE`) plus the `created` and `rotated` columns.
const SQL_GET_FILE: &str = "SELECT id, name, offset, inode, created, rotated, offset_marker, offset_marker_size from in_tail_files WHERE inode=@inode order by id desc LIMIT 1;";
/// `SQL_INSERT_FILE`.
const SQL_INSERT_FILE: &str = "INSERT INTO in_tail_files   (name, offset, inode, created, offset_marker, offset_marker_size)  VALUES (@name, @offset, @inode, @created, @offset_marker, @offset_marker_size);";
/// `SQL_ROTATE_FILE`.
const SQL_ROTATE_FILE: &str = "UPDATE in_tail_files set name=@name,rotated=1 WHERE id=@id;";
/// `SQL_UPDATE_OFFSET`.
const SQL_UPDATE_OFFSET: &str = "UPDATE in_tail_files set offset=@offset, offset_marker=@offset_marker, offset_marker_size=@offset_marker_size WHERE id=@id;";
/// `SQL_DELETE_FILE`.
const SQL_DELETE_FILE: &str = "DELETE FROM in_tail_files WHERE id=@id;";
const SQL_ALL_FILES: &str = "SELECT id, name, offset, inode, created, rotated, offset_marker, offset_marker_size from in_tail_files order by id;";

/// How long a statement waits for a lock another connection holds briefly (e.g. the `sqlite3`
/// CLI reading the file). Native waits 0; a lock held for good (another input with
/// `db.locking on`) still fails after this.
pub const BUSY_TIMEOUT: Duration = Duration::from_millis(250);

/// The journal modes native accepts for `db.journal_mode` (`tail_config.c`).
pub const JOURNAL_MODES: [&str; 6] = ["DELETE", "TRUNCATE", "PERSIST", "MEMORY", "WAL", "OFF"];

/// `db.sync`: SQLite's `PRAGMA synchronous`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum SyncMode {
    /// 3
    Extra,
    /// 2
    Full,
    /// 1, native's default.
    #[default]
    Normal,
    /// 0
    Off,
}

impl SyncMode {
    /// Case-insensitive `extra`, `full`, `normal`, `off` (native's `strcasecmp` set).
    pub fn parse(s: &str) -> Option<SyncMode> {
        [("extra", SyncMode::Extra), ("full", SyncMode::Full), ("normal", SyncMode::Normal), ("off", SyncMode::Off)]
            .into_iter()
            .find(|(name, _)| s.eq_ignore_ascii_case(name))
            .map(|(_, mode)| mode)
    }

    /// The `PRAGMA synchronous` number native writes.
    pub fn pragma_value(self) -> i32 {
        match self {
            SyncMode::Extra => 3,
            SyncMode::Full => 2,
            SyncMode::Normal => 1,
            SyncMode::Off => 0,
        }
    }
}

/// How to open the database: native's `db`, `db.sync`, `db.locking`, `db.journal_mode`,
/// `db.compare_filename`.
#[derive(Clone, Debug)]
pub struct DbOptions {
    pub path: PathBuf,
    pub sync: SyncMode,
    /// `PRAGMA locking_mode=EXCLUSIVE`: no other process can use the file while we have it open.
    pub locking: bool,
    /// One of [`JOURNAL_MODES`], any case.
    pub journal_mode: String,
    /// Lookup also requires the same base name.
    pub compare_filename: bool,
}

impl DbOptions {
    /// Native's defaults: sync normal, no locking, journal mode WAL, no compare_filename.
    pub fn new(path: impl Into<PathBuf>) -> DbOptions {
        DbOptions {
            path: path.into(),
            sync: SyncMode::Normal,
            locking: false,
            journal_mode: "WAL".to_string(),
            compare_filename: false,
        }
    }
}

/// One row of `in_tail_files`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileRow {
    pub id: i64,
    /// The path the file was opened under (its new path after a rotation).
    pub name: String,
    /// Next byte to read (start of a line). A negative stored value reads as 0, which native
    /// treats the same way (no position).
    pub offset: u64,
    /// Stored as i64; read back with the same 64 bits.
    pub inode: u64,
    /// Unix seconds.
    pub created: i64,
    /// `rotated != 0`.
    pub rotated: bool,
    /// `offset_marker` and `offset_marker_size`. A size outside 0..=255 reads as 255, which (like
    /// native's comparison with the real window of at most 32) never matches.
    pub marker: Marker,
}

impl FileRow {
    /// Where a file of `size` bytes open as `file` resumes from this row: its offset and marker
    /// when the file is at least that long and its bytes before the offset still hash to the marker
    /// (native's `set_file_position`), else `None` (read it from the start).
    pub fn resume_at(&self, file: &std::fs::File, size: u64) -> Option<(u64, Marker)> {
        (self.offset <= size && self.marker.matches(file, self.offset).unwrap_or(false))
            .then_some((self.offset, self.marker))
    }
}

/// What kind of failure a [`DbError`] is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DbErrorKind {
    /// A bad option value (journal mode, offset out of range).
    Option,
    /// The db's directory does not exist (or is not a directory), or the path is a directory.
    Path,
    /// The file cannot be opened, created or written (permissions, read-only file system).
    Access,
    /// The file is not an SQLite database, is corrupt, or has a different `in_tail_files` table.
    NotADatabase,
    /// Another connection holds the lock.
    Locked,
    /// Anything else SQLite reported (disk full, I/O error, ...).
    Sqlite,
}

/// A database failure; its message names the db path and says what to do.
#[derive(Debug)]
pub struct DbError {
    kind: DbErrorKind,
    message: String,
    source: Option<rusqlite::Error>,
}

impl DbError {
    pub fn kind(&self) -> DbErrorKind {
        self.kind
    }

    fn new(kind: DbErrorKind, message: String) -> DbError {
        DbError { kind, message, source: None }
    }

    /// Classifies an SQLite error met while doing `what` on the db at `path`.
    fn sql(path: &Path, what: &str, e: rusqlite::Error) -> DbError {
        let p = path.display();
        let code = e.sqlite_error_code();
        let (kind, message) = match code {
            Some(ErrorCode::DatabaseBusy) | Some(ErrorCode::DatabaseLocked) => (
                DbErrorKind::Locked,
                format!(
                    "tail db {p}: {what}: the database is locked by another process (another \
                     Fluent Bit or tail input using it with db.locking on, or a tool holding it \
                     open); stop that process or give this input its own db file ({e})"
                ),
            ),
            Some(ErrorCode::NotADatabase) | Some(ErrorCode::DatabaseCorrupt) => (
                DbErrorKind::NotADatabase,
                format!(
                    "tail db {p}: {what}: the file is not an SQLite database or is corrupt ({e}); \
                     move it away (the positions it held are lost) and start again: a new \
                     database is created"
                ),
            ),
            Some(ErrorCode::ReadOnly) | Some(ErrorCode::PermissionDenied) | Some(ErrorCode::CannotOpen) => (
                DbErrorKind::Access,
                format!(
                    "tail db {p}: {what}: cannot open, create or write the database ({e}); make \
                     the file and its directory writable (journal mode WAL also creates \
                     {p}-wal and {p}-shm next to it) or choose a writable db path"
                ),
            ),
            Some(ErrorCode::DiskFull) => {
                (DbErrorKind::Sqlite, format!("tail db {p}: {what}: the disk is full ({e}); free some space"))
            }
            _ => (DbErrorKind::Sqlite, format!("tail db {p}: {what}: {e}")),
        };
        DbError { kind, message, source: Some(e) }
    }
}

impl DbError {
    /// Adds the system's reason to an I/O failure: SQLite says "disk I/O error" for a full disk
    /// met outside a page write (its shared-memory file, a sync), and "unable to open" for EACCES
    /// and EROFS alike.
    fn os(mut self, conn: &Connection) -> DbError {
        let code = self.source.as_ref().and_then(rusqlite::Error::sqlite_error_code);
        if !matches!(code, Some(ErrorCode::SystemIoFailure | ErrorCode::DiskFull | ErrorCode::CannotOpen)) {
            return self;
        }
        // SAFETY: `conn.handle()` is the open sqlite3 handle `conn` owns, alive for this borrow;
        // sqlite3_system_errno only reads the errno SQLite kept from its last failed system call.
        let errno = unsafe { rusqlite::ffi::sqlite3_system_errno(conn.handle()) };
        if errno == 0 {
            return self;
        }
        let os = std::io::Error::from_raw_os_error(errno);
        self.message.push_str(&format!(" [the system said: {os}]"));
        if code != Some(ErrorCode::DiskFull) && matches!(errno, libc::ENOSPC | libc::EDQUOT) {
            self.message.push_str("; the disk is full: free some space");
        }
        self
    }
}

impl fmt::Display for DbError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for DbError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source.as_ref().map(|e| e as &(dyn std::error::Error + 'static))
    }
}

/// The open offset database. One thread at a time (it is `Send`, not `Sync`).
pub struct Db {
    conn: Connection,
    path: PathBuf,
    compare_filename: bool,
    journal_mode: String,
}

// `Db` moves to the collector thread.
const _: fn() = || {
    fn assert_send<T: Send>() {}
    assert_send::<Db>();
};

impl fmt::Debug for Db {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Db")
            .field("path", &self.path)
            .field("compare_filename", &self.compare_filename)
            .field("journal_mode", &self.journal_mode)
            .finish_non_exhaustive()
    }
}

impl Db {
    /// Opens or creates the database as native does (see the module docs): the table, then
    /// `PRAGMA synchronous`, `locking_mode=EXCLUSIVE` (when `locking`), `journal_mode`, then the
    /// marker columns when an old table lacks them.
    pub fn open(opts: &DbOptions) -> Result<Db, DbError> {
        let path = opts.path.as_path();
        let p = path.display();

        let journal_mode = opts.journal_mode.trim();
        if !JOURNAL_MODES.iter().any(|m| m.eq_ignore_ascii_case(journal_mode)) {
            return Err(DbError::new(
                DbErrorKind::Option,
                format!(
                    "tail db {p}: unknown db.journal_mode '{}': use one of DELETE, TRUNCATE, \
                     PERSIST, MEMORY, WAL, OFF",
                    opts.journal_mode
                ),
            ));
        }
        let journal_mode = journal_mode.to_ascii_uppercase();

        if path.as_os_str().is_empty() {
            return Err(DbError::new(
                DbErrorKind::Path,
                "tail db: the db path is empty: set db to a file path".to_string(),
            ));
        }
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        match std::fs::metadata(dir) {
            Ok(m) if m.is_dir() => {}
            Ok(_) => {
                return Err(DbError::new(
                    DbErrorKind::Path,
                    format!("tail db {p}: {} is not a directory: choose a db path in a directory", dir.display()),
                ))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(DbError::new(
                    DbErrorKind::Path,
                    format!(
                        "tail db {p}: directory does not exist ({}): create it or choose \
                         another db path",
                        dir.display()
                    ),
                ))
            }
            Err(e) => {
                return Err(DbError::new(
                    DbErrorKind::Access,
                    format!("tail db {p}: cannot read directory {}: {e}: check its permissions", dir.display()),
                ))
            }
        }
        if path.is_dir() {
            return Err(DbError::new(
                DbErrorKind::Path,
                format!("tail db {p}: is a directory: set db to a file path inside it"),
            ));
        }

        // As `sqlite3_open`: read-write, create; no URI file names. NO_MUTEX: one thread at a time.
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(path, flags).map_err(|e| DbError::sql(path, "open", e))?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(|e| DbError::sql(path, "set busy timeout", e))?;
        // SQLite falls back to read-only when it cannot open the file for writing.
        match conn.is_readonly(rusqlite::MAIN_DB) {
            Ok(false) => {}
            Ok(true) => {
                return Err(DbError::new(
                    DbErrorKind::Access,
                    format!(
                        "tail db {p}: the file can only be opened read-only: make it (and its \
                         directory) writable, or choose a writable db path"
                    ),
                ))
            }
            Err(e) => return Err(DbError::sql(path, "open", e)),
        }

        conn.execute_batch(SQL_CREATE_FILES)
            .map_err(|e| DbError::sql(path, "create table in_tail_files", e).os(&conn))?;
        conn.execute_batch(&format!("PRAGMA synchronous={};", opts.sync.pragma_value()))
            .map_err(|e| DbError::sql(path, "set PRAGMA synchronous (db.sync)", e).os(&conn))?;
        if opts.locking {
            conn.query_row("PRAGMA locking_mode=EXCLUSIVE;", [], |_| Ok(()))
                .map_err(|e| DbError::sql(path, "set PRAGMA locking_mode (db.locking)", e).os(&conn))?;
        }
        // Returns the mode in effect (e.g. `memory` for an in-memory db that cannot do WAL).
        let in_effect: String = conn
            .query_row(&format!("PRAGMA journal_mode={journal_mode};"), [], |r| r.get(0))
            .map_err(|e| DbError::sql(path, "set PRAGMA journal_mode (db.journal_mode)", e).os(&conn))?;

        let mut db =
            Db { conn, path: path.to_path_buf(), compare_filename: opts.compare_filename, journal_mode: in_effect };
        db.migrate()?;
        // A damaged file fails here, at start, rather than at the first save (native does not
        // check). The table holds a row per file: reading it all is cheap.
        let check: String = db
            .conn
            .query_row("PRAGMA quick_check(1);", [], |r| r.get(0))
            .map_err(|e| DbError::sql(&db.path, "check the database", e).os(&db.conn))?;
        let check = check.split_whitespace().collect::<Vec<_>>().join(" ");
        if check != "ok" {
            return Err(DbError::new(
                DbErrorKind::NotADatabase,
                format!(
                    "tail db {}: the database is corrupt ({check}); move it away (the positions \
                     it held are lost) and start again: a new database is created",
                    db.path.display()
                ),
            ));
        }
        // Prepare (and cache) every statement now: a table with another layout fails here, at
        // open, and not at the first save.
        for sql in [SQL_GET_FILE, SQL_INSERT_FILE, SQL_ROTATE_FILE, SQL_UPDATE_OFFSET, SQL_DELETE_FILE, SQL_ALL_FILES] {
            db.conn.prepare_cached(sql).map_err(|e| {
                let mut err = DbError::sql(&db.path, "prepare statements", e);
                if err.kind == DbErrorKind::Sqlite {
                    err.kind = DbErrorKind::NotADatabase;
                    err.message.push_str(
                        "; its in_tail_files table does not have the native tail's columns: \
                         move the file away and start again",
                    );
                }
                err
            })?;
        }
        Ok(db)
    }

    /// Native's `SQL_ALTER_FILES_ADD_OFFSET_MARKER(_SIZE)` for tables from before the marker.
    fn migrate(&mut self) -> Result<(), DbError> {
        let columns: Vec<String> = (|| {
            let mut stmt = self.conn.prepare("PRAGMA table_info(in_tail_files);")?;
            let names = stmt.query_map([], |r| r.get::<_, String>(1))?;
            names.collect::<rusqlite::Result<Vec<String>>>()
        })()
        .map_err(|e| DbError::sql(&self.path, "read table in_tail_files", e).os(&self.conn))?;
        for column in ["offset_marker", "offset_marker_size"] {
            if !columns.iter().any(|c| c.eq_ignore_ascii_case(column)) {
                self.conn
                    .execute_batch(&format!("ALTER TABLE in_tail_files ADD COLUMN {column} INTEGER DEFAULT 0;"))
                    .map_err(|e| DbError::sql(&self.path, "add the offset marker columns", e).os(&self.conn))?;
            }
        }
        Ok(())
    }

    /// The db path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The journal mode SQLite reported after `PRAGMA journal_mode` (lower case, e.g. `wal`).
    pub fn journal_mode(&self) -> &str {
        &self.journal_mode
    }

    /// As native: the newest row (highest id) with this inode; with `compare_filename` it must
    /// also have the same base name as `name` (the file's real path), else `None`.
    pub fn find(&self, inode: u64, name: &str) -> Result<Option<FileRow>, DbError> {
        let row = self.newest(inode)?;
        Ok(row.filter(|r| !self.compare_filename || same_base_name(&r.name, name)))
    }

    fn newest(&self, inode: u64) -> Result<Option<FileRow>, DbError> {
        let mut stmt = self.conn.prepare_cached(SQL_GET_FILE).map_err(|e| self.err("look up a file", e))?;
        stmt.query_row(params![inode as i64], file_row).optional().map_err(|e| self.err("look up a file", e))
    }

    /// Adds a file: `created` = now (Unix seconds), `rotated` = 0. Returns the new id.
    ///
    /// With `compare_filename`, the newest row of this inode is deleted first when its base name
    /// differs (the row [`Db::find`] just ignored), as native does before its insert.
    pub fn insert(&mut self, name: &str, inode: u64, offset: u64, marker: Marker) -> Result<i64, DbError> {
        self.insert_row(name, inode, offset, marker).map_err(|e| e.os(&self.conn))
    }

    fn insert_row(&mut self, name: &str, inode: u64, offset: u64, marker: Marker) -> Result<i64, DbError> {
        let offset = self.offset_i64(offset)?;
        let created = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
            .unwrap_or(0);
        let stale = if self.compare_filename {
            self.newest(inode)?.filter(|r| !same_base_name(&r.name, name)).map(|r| r.id)
        } else {
            None
        };
        let path = self.path.clone();
        let err = |e: rusqlite::Error| DbError::sql(&path, "insert a file", e);
        let tx = self.conn.transaction().map_err(err)?;
        if let Some(id) = stale {
            tx.prepare_cached(SQL_DELETE_FILE).and_then(|mut s| s.execute(params![id])).map_err(err)?;
        }
        tx.prepare_cached(SQL_INSERT_FILE)
            .and_then(|mut s| {
                s.execute(params![name, offset, inode as i64, created, marker.hash, i64::from(marker.size)])
            })
            .map_err(err)?;
        let id = tx.last_insert_rowid();
        tx.commit().map_err(err)?;
        Ok(id)
    }

    /// Saves (id, offset, marker) for each row, ALL in one transaction (all or nothing).
    pub fn save_offsets(&mut self, rows: &[(i64, u64, Marker)]) -> Result<(), DbError> {
        self.save_offsets_checked(rows).map(|_| ())
    }

    /// As [`Db::save_offsets`], and returns the ids that matched no row (deleted by someone
    /// else); native inserts such a file again.
    pub fn save_offsets_checked(&mut self, rows: &[(i64, u64, Marker)]) -> Result<Vec<i64>, DbError> {
        self.update_offsets(rows).map_err(|e| e.os(&self.conn))
    }

    fn update_offsets(&mut self, rows: &[(i64, u64, Marker)]) -> Result<Vec<i64>, DbError> {
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        let rows = rows
            .iter()
            .map(|&(id, offset, marker)| Ok((id, self.offset_i64(offset)?, marker)))
            .collect::<Result<Vec<_>, DbError>>()?;
        let path = self.path.clone();
        let err = |e: rusqlite::Error| DbError::sql(&path, "save offsets", e);
        let tx = self.conn.transaction().map_err(err)?;
        let mut missing = Vec::new();
        {
            let mut stmt = tx.prepare_cached(SQL_UPDATE_OFFSET).map_err(err)?;
            for (id, offset, marker) in rows {
                let changed = stmt.execute(params![offset, marker.hash, i64::from(marker.size), id]).map_err(err)?;
                if changed == 0 {
                    missing.push(id);
                }
            }
        }
        tx.commit().map_err(err)?;
        Ok(missing)
    }

    /// On rotation: the new name, and `rotated=1` (native does it on the first rotation only).
    pub fn rename(&mut self, id: i64, new_name: &str) -> Result<(), DbError> {
        self.conn
            .prepare_cached(SQL_ROTATE_FILE)
            .and_then(|mut s| s.execute(params![new_name, id]))
            .map_err(|e| self.err("rename a rotated file", e))?;
        Ok(())
    }

    /// Deletes one row (its file was deleted, or dropped after rotation).
    pub fn remove(&mut self, id: i64) -> Result<(), DbError> {
        self.conn
            .prepare_cached(SQL_DELETE_FILE)
            .and_then(|mut s| s.execute(params![id]))
            .map_err(|e| self.err("delete a file", e))?;
        Ok(())
    }

    /// At start, after the first scan: deletes, in one transaction, every row for which
    /// `present` is false (native: rows whose inode is not among the monitored files; pass
    /// `|r| monitored_inodes.contains(&r.inode)`). Returns how many were deleted.
    pub fn remove_missing(&mut self, present: impl Fn(&FileRow) -> bool) -> Result<usize, DbError> {
        self.delete_missing(present).map_err(|e| e.os(&self.conn))
    }

    fn delete_missing(&mut self, present: impl Fn(&FileRow) -> bool) -> Result<usize, DbError> {
        let gone: Vec<i64> = self.rows()?.into_iter().filter(|r| !present(r)).map(|r| r.id).collect();
        if gone.is_empty() {
            return Ok(0);
        }
        let path = self.path.clone();
        let err = |e: rusqlite::Error| DbError::sql(&path, "delete files no longer present", e);
        let tx = self.conn.transaction().map_err(err)?;
        let mut deleted = 0;
        {
            let mut stmt = tx.prepare_cached(SQL_DELETE_FILE).map_err(err)?;
            for id in gone {
                deleted += stmt.execute(params![id]).map_err(err)?;
            }
        }
        tx.commit().map_err(err)?;
        Ok(deleted)
    }

    /// Every row, by id.
    pub fn rows(&self) -> Result<Vec<FileRow>, DbError> {
        let mut stmt = self.conn.prepare_cached(SQL_ALL_FILES).map_err(|e| self.err("read files", e))?;
        let rows = stmt
            .query_map([], file_row)
            .and_then(|rows| rows.collect::<rusqlite::Result<Vec<FileRow>>>())
            .map_err(|e| self.err("read files", e))?;
        Ok(rows)
    }

    fn err(&self, what: &str, e: rusqlite::Error) -> DbError {
        DbError::sql(&self.path, what, e).os(&self.conn)
    }

    fn offset_i64(&self, offset: u64) -> Result<i64, DbError> {
        i64::try_from(offset).map_err(|_| {
            DbError::new(
                DbErrorKind::Option,
                format!("tail db {}: offset {offset} does not fit SQLite's INTEGER", self.path.display()),
            )
        })
    }
}

/// Native's `flb_tail_target_file_name_cmp`: `strcmp` of the two `basename()`s.
fn same_base_name(a: &str, b: &str) -> bool {
    base_name(a) == base_name(b)
}

/// POSIX `basename()`: the last component, trailing slashes ignored; "/" for all slashes.
fn base_name(s: &str) -> &str {
    let trimmed = s.trim_end_matches('/');
    if trimmed.is_empty() {
        return if s.is_empty() { "." } else { "/" };
    }
    match trimmed.rfind('/') {
        Some(i) => &trimmed[i + 1..],
        None => trimmed,
    }
}

/// A row of `id, name, offset, inode, created, rotated, offset_marker, offset_marker_size`.
fn file_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<FileRow> {
    let size = column_int64(r, 7)?;
    Ok(FileRow {
        id: column_int64(r, 0)?,
        name: match r.get_ref(1)? {
            ValueRef::Text(t) | ValueRef::Blob(t) => String::from_utf8_lossy(t).into_owned(),
            ValueRef::Integer(i) => i.to_string(),
            ValueRef::Real(f) => f.to_string(),
            ValueRef::Null => String::new(),
        },
        offset: u64::try_from(column_int64(r, 2)?).unwrap_or(0),
        inode: column_int64(r, 3)? as u64,
        created: column_int64(r, 4)?,
        rotated: column_int64(r, 5)? != 0,
        marker: Marker { hash: column_int64(r, 6)?, size: u8::try_from(size).unwrap_or(u8::MAX) },
    })
}

/// `sqlite3_column_int64`: NULL is 0, a real is truncated, text is read as a leading integer.
fn column_int64(r: &rusqlite::Row<'_>, idx: usize) -> rusqlite::Result<i64> {
    Ok(match r.get_ref(idx)? {
        ValueRef::Integer(i) => i,
        ValueRef::Null => 0,
        // `as` saturates (and NaN gives 0), as SQLite's conversion does.
        ValueRef::Real(f) => f as i64,
        ValueRef::Text(t) | ValueRef::Blob(t) => leading_int(t),
    })
}

/// The integer at the start of `t` (after spaces), 0 when none; saturates.
fn leading_int(t: &[u8]) -> i64 {
    let s = std::str::from_utf8(t).unwrap_or("").trim_start();
    let (neg, digits) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let mut v: i64 = 0;
    for b in digits.bytes().take_while(u8::is_ascii_digit) {
        let d = i64::from(b - b'0');
        v = if neg { v.saturating_mul(10).saturating_sub(d) } else { v.saturating_mul(10).saturating_add(d) };
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    fn open_in(dir: &Path, f: impl FnOnce(&mut DbOptions)) -> Db {
        let mut o = DbOptions::new(dir.join("t.db"));
        f(&mut o);
        Db::open(&o).expect("open db")
    }

    #[test]
    fn sync_mode_parse() {
        assert_eq!(SyncMode::parse("Extra"), Some(SyncMode::Extra));
        assert_eq!(SyncMode::parse("FULL"), Some(SyncMode::Full));
        assert_eq!(SyncMode::parse("normal"), Some(SyncMode::Normal));
        assert_eq!(SyncMode::parse("oFf"), Some(SyncMode::Off));
        assert_eq!(SyncMode::parse("on"), None);
        assert_eq!(SyncMode::parse(""), None);
        assert_eq!(SyncMode::default(), SyncMode::Normal);
        assert_eq!(
            [SyncMode::Extra, SyncMode::Full, SyncMode::Normal, SyncMode::Off].map(SyncMode::pragma_value),
            [3, 2, 1, 0]
        );
    }

    #[test]
    fn pragmas_as_native() {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = open_in(dir.path(), |_| {});
        let sync: i64 = db.conn.query_row("PRAGMA synchronous", [], |r| r.get(0)).expect("pragma");
        assert_eq!(sync, 1);
        assert_eq!(db.journal_mode(), "wal");
        let locking: String = db.conn.query_row("PRAGMA locking_mode", [], |r| r.get(0)).expect("pragma");
        assert_eq!(locking, "normal");
        drop(db);

        let db = open_in(dir.path(), |o| {
            o.sync = SyncMode::Extra;
            o.locking = true;
            o.journal_mode = "delete".into();
        });
        let sync: i64 = db.conn.query_row("PRAGMA synchronous", [], |r| r.get(0)).expect("pragma");
        assert_eq!(sync, 3);
        assert_eq!(db.journal_mode(), "delete");
        let locking: String = db.conn.query_row("PRAGMA locking_mode", [], |r| r.get(0)).expect("pragma");
        assert_eq!(locking, "exclusive");
    }

    #[test]
    fn base_names() {
        assert_eq!(base_name("/var/log/a.log"), "a.log");
        assert_eq!(base_name("a.log"), "a.log");
        assert_eq!(base_name("/var/log/"), "log");
        assert_eq!(base_name("/"), "/");
        assert_eq!(base_name(""), ".");
        assert!(same_base_name("/old/dir/a.log", "/new/a.log"));
        assert!(!same_base_name("/x/a.log.1", "/x/a.log"));
    }

    #[test]
    fn column_conversions_as_sqlite() {
        assert_eq!(leading_int(b"123abc"), 123);
        assert_eq!(leading_int(b"  -42"), -42);
        assert_eq!(leading_int(b"x"), 0);
        assert_eq!(leading_int(b"99999999999999999999"), i64::MAX);
        let dir = tempfile::tempdir().expect("tempdir");
        let db = open_in(dir.path(), |_| {});
        // Odd values someone may have written by hand.
        db.conn
            .execute_batch(
                "INSERT INTO in_tail_files (id, name, offset, inode, created, rotated, \
                 offset_marker, offset_marker_size) VALUES (1, 'a', NULL, '77', 5.9, 2, NULL, 300);
                 INSERT INTO in_tail_files (id, name, offset, inode, created) VALUES (2, 'b', -5, -1, 0);",
            )
            .expect("insert");
        let rows = db.rows().expect("rows");
        assert_eq!(
            rows,
            vec![
                FileRow {
                    id: 1,
                    name: "a".into(),
                    offset: 0,
                    inode: 77,
                    created: 5,
                    rotated: true,
                    marker: Marker { hash: 0, size: 255 },
                },
                FileRow {
                    id: 2,
                    name: "b".into(),
                    offset: 0,
                    inode: u64::MAX,
                    created: 0,
                    rotated: false,
                    marker: Marker::default(),
                },
            ]
        );
    }

    #[test]
    fn offset_out_of_range_is_an_error() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut db = open_in(dir.path(), |_| {});
        let e = db.insert("a", 1, u64::MAX, Marker::default()).expect_err("too big");
        assert_eq!(e.kind(), DbErrorKind::Option);
        assert!(e.to_string().contains("does not fit"), "{e}");
    }
}
