//! Which files `path` and `exclude_path` select: shell patterns as glob(3) reads them in the native
//! tail (a leading `~`, `*` and `?` never matching a leading dot), `exclude_path` matched against the
//! whole path as fnmatch(3) does, only regular files (a symlink counts as what it points to).

use std::collections::HashSet;
use std::os::unix::fs::MetadataExt;

/// One file a pattern selects.
#[derive(Debug, Clone)]
pub struct Found {
    /// The path as the pattern produced it (a symlink's own path, as native names it).
    pub path: String,
    pub dev: u64,
    pub ino: u64,
    pub size: u64,
    pub mtime: i64,
}

/// Why a path is not tailed, said once per path by the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Skip {
    /// A pattern that matches nothing (yet).
    NoMatch(String),
    /// A path that is not a regular file (a directory, a socket).
    NotFile(String),
    /// A pattern that is not a valid shell pattern.
    BadPattern(String, String),
    /// A path that cannot be stat'ed (permissions, a dangling symlink).
    Unreadable(String, String),
    /// Listed, then deleted before its stat: not an error, just gone.
    Vanished(String),
}

fn expand_tilde(p: &str) -> String {
    match (p.strip_prefix("~/"), std::env::var("HOME")) {
        (Some(rest), Ok(home)) => format!("{home}/{rest}"),
        _ => p.to_string(),
    }
}

/// Every regular file the patterns select now, each once, in pattern order.
pub fn scan(patterns: &[String], exclude: &[glob::Pattern], found: &mut Vec<Found>, skips: &mut Vec<Skip>) {
    found.clear();
    skips.clear();
    let opts =
        glob::MatchOptions { case_sensitive: true, require_literal_separator: true, require_literal_leading_dot: true };
    let exclude_opts = glob::MatchOptions::new();
    let mut seen = HashSet::new();
    for pat in patterns {
        let pat = expand_tilde(pat);
        let paths = match glob::glob_with(&pat, opts) {
            Ok(p) => p,
            Err(e) => {
                skips.push(Skip::BadPattern(pat.clone(), e.to_string()));
                continue;
            }
        };
        let mut matched = false;
        for entry in paths {
            let path = match entry {
                Ok(p) => p,
                Err(e) => {
                    skips.push(Skip::Unreadable(e.path().display().to_string(), e.error().to_string()));
                    continue;
                }
            };
            matched = true;
            let Some(name) = path.to_str().map(String::from) else {
                skips.push(Skip::Unreadable(path.display().to_string(), "the path is not UTF-8".into()));
                continue;
            };
            if exclude.iter().any(|x| x.matches_with(&name, exclude_opts)) {
                continue;
            }
            let meta = match std::fs::metadata(&path) {
                Ok(m) => m,
                // The name itself is gone (a dangling symlink's name is still there: that one is
                // Unreadable, said once, as it may be fixed).
                Err(e)
                    if e.kind() == std::io::ErrorKind::NotFound
                        && std::fs::symlink_metadata(&path)
                            .is_err_and(|e| e.kind() == std::io::ErrorKind::NotFound) =>
                {
                    skips.push(Skip::Vanished(name));
                    continue;
                }
                Err(e) => {
                    skips.push(Skip::Unreadable(name, e.to_string()));
                    continue;
                }
            };
            if !meta.is_file() {
                skips.push(Skip::NotFile(name));
                continue;
            }
            if seen.insert((meta.dev(), meta.ino())) {
                found.push(Found {
                    path: name,
                    dev: meta.dev(),
                    ino: meta.ino(),
                    size: meta.len(),
                    mtime: meta.mtime(),
                });
            }
        }
        if !matched {
            skips.push(Skip::NoMatch(pat));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_excludes_and_skips() {
        let dir = std::env::temp_dir().join(format!("gtail-paths-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("sub.log")).expect("mkdir");
        for f in ["a.log", "b.log", "c.gz", ".hidden.log"] {
            std::fs::write(dir.join(f), "x\n").expect("write");
        }
        std::os::unix::fs::symlink(dir.join("a.log"), dir.join("link.log")).expect("symlink");
        let d = dir.display();
        let pats = vec![format!("{d}/*.log"), format!("{d}/*.gz"), format!("{d}/none-*.txt")];
        let excl = vec![glob::Pattern::new("*/b.log").expect("pattern")];
        let (mut found, mut skips) = (Vec::new(), Vec::new());
        scan(&pats, &excl, &mut found, &mut skips);
        let names: Vec<_> = found.iter().map(|f| f.path.rsplit('/').next().unwrap_or_default().to_string()).collect();
        // link.log points to a.log: the same file, listed once under the first name.
        assert_eq!(names, vec!["a.log", "c.gz"]);
        assert!(skips.contains(&Skip::NotFile(format!("{d}/sub.log"))), "{skips:?}");
        assert!(skips.contains(&Skip::NoMatch(format!("{d}/none-*.txt"))), "{skips:?}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
