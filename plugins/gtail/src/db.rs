//! The offset database (placeholder until the db branch lands).
use crate::marker::Marker;
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SyncMode {
    Extra,
    Full,
    Normal,
    Off,
}
impl SyncMode {
    pub fn parse(s: &str) -> Option<SyncMode> {
        match s.to_ascii_lowercase().as_str() {
            "extra" => Some(SyncMode::Extra),
            "full" => Some(SyncMode::Full),
            "normal" => Some(SyncMode::Normal),
            "off" => Some(SyncMode::Off),
            _ => None,
        }
    }
}
#[derive(Clone, Debug)]
pub struct DbOptions {
    pub path: std::path::PathBuf,
    pub sync: SyncMode,
    pub locking: bool,
    pub journal_mode: String,
    pub compare_filename: bool,
}
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileRow {
    pub id: i64,
    pub name: String,
    pub offset: u64,
    pub inode: u64,
    pub created: i64,
    pub rotated: bool,
    pub marker: Marker,
}
#[derive(Debug)]
pub struct DbError(String);
impl std::fmt::Display for DbError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}
impl std::error::Error for DbError {}
pub struct Db;
impl Db {
    pub fn open(_o: &DbOptions) -> Result<Db, DbError> {
        Err(DbError("db: not yet".into()))
    }
    pub fn find(&self, _i: u64, _n: &str) -> Result<Option<FileRow>, DbError> {
        Ok(None)
    }
    pub fn insert(&mut self, _n: &str, _i: u64, _o: u64, _m: Marker) -> Result<i64, DbError> {
        Ok(0)
    }
    pub fn save_offsets(&mut self, _r: &[(i64, u64, Marker)]) -> Result<(), DbError> {
        Ok(())
    }
    pub fn rename(&mut self, _id: i64, _n: &str) -> Result<(), DbError> {
        Ok(())
    }
    pub fn remove(&mut self, _id: i64) -> Result<(), DbError> {
        Ok(())
    }
    pub fn remove_missing(&mut self, _p: impl Fn(&FileRow) -> bool) -> Result<usize, DbError> {
        Ok(0)
    }
    pub fn rows(&self) -> Result<Vec<FileRow>, DbError> {
        Ok(vec![])
    }
}
