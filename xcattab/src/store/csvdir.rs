//! The CSV directory store: one `<table>.csv` per table, exactly as `dumpxCATdb -p DIR` writes
//! them, made safe for concurrent use and crashes.
//!
//! # Commit protocol
//! Under the exclusive lock (`.xcattab.lock`):
//! 1. every changed table is written in full to `.<table>.csv.new` (same mode and owner as the
//!    table it replaces, `0600` for a new table) and fsynced;
//! 2. a commit record listing those tables is written to `.xcattab-commit.tmp`, fsynced and
//!    renamed to `.xcattab-commit` — **the commit point** — and the directory is fsynced;
//! 3. each `.<table>.csv.new` is renamed over `<table>.csv`, the directory fsynced, and the
//!    commit record removed.
//!
//! Whoever next opens the store (reader or writer) finishes a commit whose record exists (roll
//! forward) and discards the temporary files of one whose record does not (roll back). Readers
//! hold the shared lock while they read, so they never see a commit half-renamed. A crash at
//! any instant therefore leaves every table entirely old or entirely new, all tables of one
//! commit together.

use std::collections::BTreeSet;
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::lock::{self, DirLock, Mode};
use super::{crash_point, Commit, Store, StoreError, StoreSpec, DEFAULT_LOCK_TIMEOUT};
use crate::batch::Batch;
use crate::csv;
use crate::database::Database;
use crate::table::Table;

const LOCK_FILE: &str = ".xcattab.lock";
const RECORD: &str = ".xcattab-commit";
const RECORD_TMP: &str = ".xcattab-commit.tmp";
const RECORD_MAGIC: &str = "xcattab commit v1";
const RECORD_END: &str = "end";

/// A directory of tabdump CSV files.
///
/// ```
/// use xcattab::store::{CsvDirStore, Store};
/// use xcattab::Batch;
/// let dir = tempfile::tempdir().unwrap();
/// let store = CsvDirStore::open(dir.path()).unwrap();
/// let mut batch = Batch::new();
/// batch.set("nodehm", "cn1", [("conserver", "sn2")]);
/// assert_eq!(store.commit(&batch).unwrap().changed.len(), 1);
/// let text = std::fs::read_to_string(dir.path().join("nodehm.csv")).unwrap();
/// assert_eq!(text.lines().nth(1), Some(r#""cn1",,,,,,"sn2",,,,,,,,,"#));
/// ```
#[derive(Debug)]
pub struct CsvDirStore {
    spec: StoreSpec,
    dir: PathBuf,
    lock_timeout: Duration,
}

impl CsvDirStore {
    /// Opens an existing directory.
    pub fn open(dir: impl AsRef<Path>) -> Result<Self, StoreError> {
        let dir = dir.as_ref().to_path_buf();
        super::check_store_dir(&dir)?;
        Ok(CsvDirStore {
            spec: StoreSpec::Csv(dir.clone()),
            dir,
            lock_timeout: DEFAULT_LOCK_TIMEOUT,
        })
    }

    /// How long a writer waits for another writer (default 30 s).
    pub fn with_lock_timeout(mut self, timeout: Duration) -> Self {
        self.lock_timeout = timeout;
        self
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    fn table_path(&self, table: &str) -> PathBuf {
        self.dir.join(format!("{table}.csv"))
    }

    fn new_path(&self, table: &str) -> PathBuf {
        self.dir.join(format!(".{table}.csv.new"))
    }

    fn lock(&self, mode: Mode) -> Result<Option<DirLock>, StoreError> {
        lock::acquire(
            &self.path(LOCK_FILE),
            &self.spec.to_string(),
            mode,
            self.lock_timeout,
        )
    }

    fn io<'a>(path: &'a Path, op: &'static str) -> impl FnOnce(std::io::Error) -> StoreError + 'a {
        move |source| StoreError::Io {
            path: path.to_path_buf(),
            op,
            source,
        }
    }

    fn sync_dir(&self) -> Result<(), StoreError> {
        File::open(&self.dir)
            .and_then(|d| d.sync_all())
            .map_err(Self::io(&self.dir, "sync"))
    }

    /// Finishes or discards an interrupted commit. Caller holds the exclusive lock.
    fn recover(&self) -> Result<(), StoreError> {
        let record = self.path(RECORD);
        match fs::read_to_string(&record) {
            Ok(text) => {
                let tables = parse_record(&text).ok_or_else(|| StoreError::Journal {
                    path: record.clone(),
                    reason: "not a complete commit record".into(),
                })?;
                self.roll_forward(&tables)?;
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(Self::io(&record, "read")(e)),
        }
        // Anything left over belongs to a commit that never reached its commit point.
        let entries = fs::read_dir(&self.dir).map_err(Self::io(&self.dir, "list"))?;
        for entry in entries.flatten() {
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if name == RECORD_TMP || (name.starts_with('.') && name.ends_with(".csv.new")) {
                fs::remove_file(entry.path()).map_err(Self::io(&entry.path(), "remove"))?;
            }
        }
        Ok(())
    }

    fn roll_forward(&self, tables: &[String]) -> Result<(), StoreError> {
        for t in tables {
            let new = self.new_path(t);
            if new.exists() {
                fs::rename(&new, self.table_path(t)).map_err(Self::io(&new, "rename"))?;
                crash_point("renamed");
            }
        }
        self.sync_dir()?;
        let record = self.path(RECORD);
        fs::remove_file(&record).map_err(Self::io(&record, "remove"))?;
        self.sync_dir()
    }

    /// Whether a dead writer left something behind: a commit record, or temporary files of a
    /// commit that never reached its commit point.
    fn needs_recovery(&self) -> bool {
        if self.path(RECORD).exists() || self.path(RECORD_TMP).exists() {
            return true;
        }
        match fs::read_dir(&self.dir) {
            Ok(entries) => entries.flatten().any(|e| {
                let n = e.file_name();
                let n = n.to_string_lossy();
                n.starts_with('.') && n.ends_with(".csv.new")
            }),
            Err(_) => false,
        }
    }

    /// Takes the shared lock, finishing an interrupted commit first if there is one.
    fn read_lock(&self) -> Result<Option<DirLock>, StoreError> {
        for _ in 0..10 {
            if self.needs_recovery() {
                let _w = self.lock(Mode::Exclusive)?;
                self.recover()?;
            }
            let guard = self.lock(Mode::Shared)?;
            // A live writer holds the exclusive lock for its whole commit, so a record seen
            // under the shared lock belongs to a dead one.
            if guard.is_none() || !self.needs_recovery() {
                return Ok(guard);
            }
        }
        Err(StoreError::Journal {
            path: self.path(RECORD),
            reason: "an interrupted commit keeps reappearing".into(),
        })
    }

    fn read_table(&self, name: &str) -> Result<Table, StoreError> {
        check_name(name)?;
        let path = self.table_path(name);
        match fs::read(&path) {
            Ok(bytes) => {
                let text = String::from_utf8_lossy(&bytes);
                csv::table_from_csv(name, &text).map_err(|errors| StoreError::Csv { path, errors })
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Table::new(name)),
            Err(e) => Err(Self::io(&path, "read")(e)),
        }
    }

    fn write_new(&self, table: &Table) -> Result<(), StoreError> {
        let new = self.new_path(table.name());
        let old = fs::metadata(self.table_path(table.name())).ok();
        let mode = old.as_ref().map(|m| m.mode() & 0o7777).unwrap_or(0o600);
        let mut f = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(mode)
            .open(&new)
            .map_err(Self::io(&new, "create"))?;
        f.set_permissions(fs::Permissions::from_mode(mode))
            .map_err(Self::io(&new, "chmod"))?;
        if let Some(m) = &old {
            // Keep the owner when we are allowed to (root); ignore failure otherwise.
            let _ = std::os::unix::fs::fchown(&f, Some(m.uid()), Some(m.gid()));
        }
        f.write_all(csv::dump(table).as_bytes())
            .and_then(|_| f.sync_all())
            .map_err(Self::io(&new, "write"))?;
        crash_point("table-written");
        Ok(())
    }

    fn write_record(&self, tables: &BTreeSet<String>) -> Result<(), StoreError> {
        let tmp = self.path(RECORD_TMP);
        let mut text = format!("{RECORD_MAGIC}\n");
        for t in tables {
            text.push_str(t);
            text.push('\n');
        }
        text.push_str(RECORD_END);
        text.push('\n');
        let mut f = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&tmp)
            .map_err(Self::io(&tmp, "create"))?;
        f.write_all(text.as_bytes())
            .and_then(|_| f.sync_all())
            .map_err(Self::io(&tmp, "write"))?;
        crash_point("before-commit");
        fs::rename(&tmp, self.path(RECORD)).map_err(Self::io(&tmp, "rename"))?;
        self.sync_dir()?;
        crash_point("committed");
        Ok(())
    }
}

fn parse_record(text: &str) -> Option<Vec<String>> {
    let mut lines = text.lines();
    if lines.next()? != RECORD_MAGIC {
        return None;
    }
    let mut tables = Vec::new();
    for l in lines {
        if l == RECORD_END {
            return Some(tables);
        }
        check_name(l).ok()?;
        tables.push(l.to_string());
    }
    None
}

fn check_name(name: &str) -> Result<(), StoreError> {
    let ok = !name.is_empty()
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.');
    if ok {
        Ok(())
    } else {
        Err(StoreError::BadTableName {
            name: name.to_string(),
        })
    }
}

impl Store for CsvDirStore {
    fn spec(&self) -> &StoreSpec {
        &self.spec
    }

    fn list_tables(&self) -> Result<Vec<String>, StoreError> {
        let _guard = self.read_lock()?;
        let mut names = Vec::new();
        for entry in fs::read_dir(&self.dir).map_err(Self::io(&self.dir, "list"))? {
            let entry = entry.map_err(Self::io(&self.dir, "list"))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if let Some(t) = name.strip_suffix(".csv") {
                if check_name(t).is_ok() {
                    names.push(t.to_string());
                }
            }
        }
        names.sort();
        Ok(names)
    }

    fn load(&self, tables: &[&str]) -> Result<Database, StoreError> {
        let _guard = self.read_lock()?;
        let mut db = Database::new();
        // Parse the files in parallel: big tables dominate, and each parses independently.
        for r in par_map(tables, |t| self.read_table(t)) {
            db.insert(r?);
        }
        Ok(db)
    }

    fn commit(&self, batch: &Batch) -> Result<Commit, StoreError> {
        let _guard = self.lock(Mode::Exclusive)?;
        self.recover()?;
        let names: Vec<String> = batch.tables().into_iter().collect();
        for n in &names {
            check_name(n)?;
        }
        let mut db = Database::new();
        for t in par_map(&names, |n| self.read_table(n)) {
            db.insert(t?);
        }
        let changed = batch.apply(&mut db)?;
        if changed.is_empty() {
            return Ok(Commit::default());
        }
        let tables: Vec<&Table> = changed.iter().filter_map(|n| db.table(n)).collect();
        for r in par_map(&tables, |t| self.write_new(t)) {
            r?;
        }
        self.write_record(&changed)?;
        self.roll_forward(&changed.iter().cloned().collect::<Vec<_>>())?;
        Ok(Commit { changed })
    }
}

/// `f` over `items`, one scoped thread per item when there are several (tables are few and
/// independent; the big ones dominate).
fn par_map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    if items.len() < 2 {
        return items.iter().map(&f).collect();
    }
    let f = &f;
    std::thread::scope(|s| {
        let handles: Vec<_> = items.iter().map(|t| s.spawn(move || f(t))).collect();
        handles
            .into_iter()
            .map(|h| match h.join() {
                Ok(r) => r,
                Err(p) => std::panic::resume_unwind(p),
            })
            .collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_round_trip_and_torn_records() {
        assert_eq!(
            parse_record("xcattab commit v1\nnoderes\nnodehm\nend\n"),
            Some(vec!["noderes".into(), "nodehm".into()])
        );
        assert_eq!(parse_record("xcattab commit v1\nnoderes\n"), None);
        assert_eq!(parse_record("garbage"), None);
        assert_eq!(
            parse_record("xcattab commit v1\n../etc/passwd\nend\n"),
            None
        );
    }

    #[test]
    fn table_names_cannot_escape_the_directory() {
        assert!(check_name("../x").is_err());
        assert!(check_name(".hidden").is_err());
        assert!(check_name("noderes").is_ok());
    }

    #[test]
    fn opening_tells_missing_from_not_a_directory() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let missing = tmp.path().join("nope");
        let err = CsvDirStore::open(&missing).expect_err("missing dir refused");
        assert_eq!(
            err.to_string(),
            format!("{}: no such directory", missing.display())
        );
        let file = tmp.path().join("file");
        std::fs::write(&file, "x").expect("write");
        let err = CsvDirStore::open(&file).expect_err("file refused");
        assert_eq!(
            err.to_string(),
            format!("{}: not a directory", file.display())
        );
        let below_file = file.join("sub");
        let err = CsvDirStore::open(&below_file).expect_err("path below a file refused");
        assert!(
            err.to_string().starts_with(&format!(
                "cannot open the store directory {}:",
                below_file.display()
            )),
            "{err}"
        );
        assert!(CsvDirStore::open(tmp.path()).is_ok());
    }
}
