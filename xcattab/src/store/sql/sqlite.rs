//! The SQLite back end, `SQLite:/etc/xcat`: xCAT's own layout, one `<table>.sqlite` file per
//! table holding one table of that name, created with xCAT's DDL (every column `TEXT`, keys
//! `VARCHAR(128)`, `PRIMARY KEY(keys)`), files `0600`.
//!
//! # Order
//! Rows are read in rowid order, which is the order xCAT's `tabdump` prints (its query has no
//! `ORDER BY`): insertion order, an updated row keeping its place. Writes keep that: a changed
//! row is updated in place, a new row appended, a deleted row deleted.
//!
//! # Atomic commits across tables
//! The files a commit touches are attached to one connection (the first, in name order, is the
//! main database) and written in one transaction, started with `BEGIN IMMEDIATE` so every file
//! is write-locked before the batch's expectations are checked. In rollback-journal mode (xCAT's
//! default; the store refuses WAL files it cannot switch back) SQLite commits a transaction
//! that spans several files through a *super-journal*: every file's journal names it, and a
//! crash at any instant leaves all files old or all new once the next connection opens them.
//! (In WAL mode SQLite only guarantees atomicity per file.)
//!
//! One connection holds the main file and at most `SQLITE_MAX_ATTACHED` more, a limit fixed
//! when SQLite is compiled (10 by default). The workspace's `.cargo/config.toml` compiles the
//! bundled SQLite with `LIBSQLITE3_FLAGS="-DSQLITE_MAX_ATTACHED=125"` (SQLite's maximum), and
//! every connection raises its run-time limit to it, so a commit of up to 126 tables — a
//! restore of all 73 tables of xCAT's schema included — is one transaction
//! ([`SqliteStore::max_tables_per_commit`]). A wider commit (or, in a build without that
//! setting, one of more than 11 tables) could not be atomic: it is refused with
//! [`StoreError::TooManyTables`] before anything is written, never split.
//!
//! Reads wider than the limit use several connections; every file is shared-locked before any
//! is read, so the snapshot is still consistent.
//!
//! # Concurrency
//! xcatd, `chtab` and other xCAT tools use the same files with SQLite's file locks and no
//! busy timeout of their own. This store waits for locks up to its lock timeout (SQLite's busy
//! handler retries with back-off), then fails with [`StoreError::Locked`] naming the file.
//! Readers take a shared lock on every file they read before reading any, so a snapshot is
//! consistent across tables.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io::ErrorKind;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;

use rusqlite::limits::Limit;
use rusqlite::{params_from_iter, Connection, ErrorCode, OpenFlags};

use super::{
    check_table_name, create_table_sql, diff_rows, missing_columns, project_rows, quote_ident,
    replaced_tables, Dialect,
};
use crate::batch::{Batch, Op};
use crate::database::Database;
use crate::store::{crash_point, Commit, Store, StoreError, StoreSpec, DEFAULT_LOCK_TIMEOUT};
use crate::table::{Row, Table};

/// A directory of xCAT SQLite table files (`<dir>/<table>.sqlite`).
///
/// ```
/// use xcattab::store::{SqliteStore, Store};
/// use xcattab::Batch;
/// let dir = tempfile::tempdir().unwrap();
/// let store = SqliteStore::open(dir.path()).unwrap();
/// let mut batch = Batch::new();
/// batch.set("nodehm", "cn1", [("conserver", "sn2")]);
/// assert_eq!(store.commit(&batch).unwrap().changed.len(), 1);
/// let db = store.load(&["nodehm"]).unwrap();
/// assert_eq!(xcattab::csv::dump(db.table("nodehm").unwrap()).lines().nth(1),
///            Some(r#""cn1",,,,,,"sn2",,,,,,,,,"#));
/// assert!(dir.path().join("nodehm.sqlite").exists());
/// ```
#[derive(Debug)]
pub struct SqliteStore {
    spec: StoreSpec,
    dir: PathBuf,
    lock_timeout: Duration,
}

/// SQLite's largest possible `SQLITE_MAX_ATTACHED`, which the workspace compiles in.
const ATTACH_MAX: i32 = 125;

/// Raises the connection's limit of attached files to what this SQLite was compiled with (at
/// most [`ATTACH_MAX`]) and returns it.
fn raise_attach_limit(conn: &Connection) -> usize {
    // sqlite3_limit clamps the new value to the compile-time SQLITE_MAX_ATTACHED.
    let _ = conn.set_limit(Limit::SQLITE_LIMIT_ATTACHED, ATTACH_MAX);
    conn.limit(Limit::SQLITE_LIMIT_ATTACHED)
        .map_or(0, |n| usize::try_from(n).unwrap_or(0))
}

/// One connection with up to `1 + SQLITE_MAX_ATTACHED` table files.
struct Group {
    conn: Connection,
    /// (table, schema alias) of the files in this connection.
    tables: Vec<(String, String)>,
}

/// Where each table of a session lives.
struct Session {
    groups: Vec<Group>,
    place: BTreeMap<String, (usize, String)>,
}

/// One table as stored: its columns in the file, and its rows with their rowids.
struct Stored {
    db_columns: Vec<String>,
    rowids: Vec<i64>,
}

impl SqliteStore {
    /// Opens an existing directory (no file needs to exist yet: tables are created on their
    /// first write, as xCAT does).
    pub fn open(dir: impl AsRef<Path>) -> Result<Self, StoreError> {
        let dir = dir.as_ref().to_path_buf();
        crate::store::check_store_dir(&dir)?;
        Ok(SqliteStore {
            spec: StoreSpec::Sqlite(dir.clone()),
            dir,
            lock_timeout: DEFAULT_LOCK_TIMEOUT,
        })
    }

    /// How long to wait for another process's lock on a table file (default 30 s).
    pub fn with_lock_timeout(mut self, timeout: Duration) -> Self {
        self.lock_timeout = timeout;
        self
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The most tables one commit may touch (written or only checked): the main file of the
    /// transaction plus SQLite's limit of attached files — 126 when SQLite is built with the
    /// workspace's `.cargo/config.toml` (`-DSQLITE_MAX_ATTACHED=125`), 11 with SQLite's
    /// default. A wider batch is refused with [`StoreError::TooManyTables`].
    ///
    /// ```
    /// // Every table of xCAT's schema fits in one atomic commit.
    /// assert!(xcattab::store::SqliteStore::max_tables_per_commit()
    ///     >= xcattab::schema::tables().len());
    /// ```
    pub fn max_tables_per_commit() -> usize {
        static MAX: OnceLock<usize> = OnceLock::new();
        *MAX.get_or_init(|| Connection::open_in_memory().map_or(1, |c| 1 + raise_attach_limit(&c)))
    }

    /// The file of `table`.
    pub fn table_path(&self, table: &str) -> PathBuf {
        self.dir.join(format!("{table}.sqlite"))
    }

    fn has_file(&self, table: &str) -> bool {
        fs::metadata(self.table_path(table))
            .map(|m| m.is_file() && m.len() > 0)
            .unwrap_or(false)
    }

    fn err(&self, what: impl std::fmt::Display, e: rusqlite::Error) -> StoreError {
        if let rusqlite::Error::SqliteFailure(f, _) = &e {
            if matches!(f.code, ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) {
                return StoreError::Locked {
                    spec: self.spec.to_string(),
                    holder: format!(
                        "another process (xcatd, chtab or another writer) holds a lock on {what}"
                    ),
                    waited: self.lock_timeout,
                };
            }
        }
        StoreError::Backend {
            spec: self.spec.to_string(),
            message: format!("{what}: {e}"),
        }
    }

    /// Opens `tables` (sorted, every file existing) in as few connections as SQLite allows.
    fn connect(&self, tables: &[String]) -> Result<Session, StoreError> {
        let mut session = Session {
            groups: Vec::new(),
            place: BTreeMap::new(),
        };
        let mut rest = tables;
        while let Some(first) = rest.first() {
            let path = self.table_path(first);
            let conn = Connection::open_with_flags(
                &path,
                OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
            )
            .map_err(|e| self.err(path.display(), e))?;
            conn.busy_timeout(self.lock_timeout)
                .map_err(|e| self.err(path.display(), e))?;
            let max_attached = raise_attach_limit(&conn);
            let take = rest.len().min(1 + max_attached);
            let mut group = Group {
                conn,
                tables: vec![(first.clone(), "main".to_string())],
            };
            for (k, t) in rest[1..take].iter().enumerate() {
                let alias = format!("a{}", k + 1);
                let p = self.table_path(t);
                group
                    .conn
                    .execute(
                        &format!("ATTACH DATABASE ?1 AS {alias}"),
                        [p.to_string_lossy()],
                    )
                    .map_err(|e| self.err(p.display(), e))?;
                group.tables.push((t.clone(), alias));
            }
            for (t, alias) in &group.tables {
                session
                    .place
                    .insert(t.clone(), (session.groups.len(), alias.clone()));
            }
            session.groups.push(group);
            rest = &rest[take..];
        }
        Ok(session)
    }

    /// Rollback-journal mode on every file (a multi-file commit is only atomic in it).
    fn check_journal_modes(&self, session: &Session) -> Result<(), StoreError> {
        for g in &session.groups {
            for (t, alias) in &g.tables {
                let q = |sql: &str| -> Result<String, StoreError> {
                    g.conn
                        .query_row(sql, [], |r| r.get::<_, String>(0))
                        .map_err(|e| self.err(self.table_path(t).display(), e))
                };
                let mode = q(&format!("PRAGMA {alias}.journal_mode"))?;
                if mode.eq_ignore_ascii_case("wal") {
                    let now = q(&format!("PRAGMA {alias}.journal_mode=DELETE"))?;
                    if now.eq_ignore_ascii_case("wal") {
                        return Err(StoreError::Backend {
                            spec: self.spec.to_string(),
                            message: format!(
                                "{} is in WAL mode, where SQLite cannot commit several tables \
                                 atomically, and could not be switched back to xCAT's default \
                                 (close other users of it, or run: sqlite3 {} 'PRAGMA \
                                 journal_mode=DELETE')",
                                self.table_path(t).display(),
                                self.table_path(t).display()
                            ),
                        });
                    }
                }
            }
        }
        Ok(())
    }

    /// Starts a transaction on every connection and takes the locks on every file before
    /// anything is read (`IMMEDIATE`: write locks).
    fn begin(&self, session: &Session, immediate: bool) -> Result<(), StoreError> {
        for g in &session.groups {
            let what = || {
                g.tables
                    .iter()
                    .map(|(t, _)| format!("{t}.sqlite"))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            let sql = if immediate {
                "BEGIN IMMEDIATE"
            } else {
                "BEGIN"
            };
            g.conn.execute_batch(sql).map_err(|e| self.err(what(), e))?;
            if !immediate {
                // One statement that reads every file's schema: shared locks on all of them,
                // taken in a fixed order (the order writers lock in), before any data is read.
                let parts: Vec<String> = g
                    .tables
                    .iter()
                    .map(|(_, a)| format!("(SELECT count(*) FROM {a}.sqlite_master)"))
                    .collect();
                g.conn
                    .query_row(&format!("SELECT {}", parts.join(" + ")), [], |r| {
                        r.get::<_, i64>(0)
                    })
                    .map_err(|e| self.err(what(), e))?;
            }
        }
        Ok(())
    }

    /// Reads one table (missing: `None`), with its file columns and rowids.
    fn read(&self, session: &Session, table: &str) -> Result<Option<(Table, Stored)>, StoreError> {
        let Some((gi, alias)) = session.place.get(table) else {
            return Ok(None);
        };
        let conn = &session.groups[*gi].conn;
        let what = self.table_path(table);
        let mut stmt = conn
            .prepare(&format!(
                "PRAGMA {alias}.table_info({})",
                quote_ident(table)
            ))
            .map_err(|e| self.err(what.display(), e))?;
        let db_columns: Vec<String> = stmt
            .query_map([], |r| r.get::<_, String>(1))
            .and_then(|rows| rows.collect())
            .map_err(|e| self.err(what.display(), e))?;
        if db_columns.is_empty() {
            return Ok(None);
        }
        let mut table_obj = Table::with_schema_and_extra(table, &db_columns);
        let map: Vec<Option<usize>> = table_obj
            .columns()
            .iter()
            .map(|c| db_columns.iter().position(|d| d == c))
            .collect();
        let select: Vec<String> = db_columns
            .iter()
            .map(|c| format!("CAST({} AS TEXT)", quote_ident(c)))
            .collect();
        let sql = format!(
            "SELECT rowid, {} FROM {alias}.{} ORDER BY rowid",
            select.join(", "),
            quote_ident(table)
        );
        let mut stmt = conn
            .prepare(&sql)
            .map_err(|e| self.err(what.display(), e))?;
        let mut rowids = Vec::new();
        let mut rows = stmt.query([]).map_err(|e| self.err(what.display(), e))?;
        while let Some(r) = rows.next().map_err(|e| self.err(what.display(), e))? {
            rowids.push(
                r.get::<_, i64>(0)
                    .map_err(|e| self.err(what.display(), e))?,
            );
            let mut fields: Vec<Option<String>> = Vec::with_capacity(db_columns.len());
            for i in 0..db_columns.len() {
                let v = match r.get_ref(i + 1).map_err(|e| self.err(what.display(), e))? {
                    rusqlite::types::ValueRef::Null => None,
                    rusqlite::types::ValueRef::Text(t) | rusqlite::types::ValueRef::Blob(t) => {
                        Some(String::from_utf8_lossy(t).into_owned())
                    }
                    rusqlite::types::ValueRef::Integer(n) => Some(n.to_string()),
                    rusqlite::types::ValueRef::Real(x) => Some(x.to_string()),
                };
                fields.push(v);
            }
            let row: Row = map
                .iter()
                .map(|i| i.and_then(|i| fields[i].take()))
                .collect();
            table_obj.push_row(row);
        }
        Ok(Some((table_obj, Stored { db_columns, rowids })))
    }

    /// Makes the file's table hold `new`, given what it held (`old`, `stored`).
    fn write(
        &self,
        session: &Session,
        new: &Table,
        old: Option<&(Table, Stored)>,
    ) -> Result<(), StoreError> {
        let name = new.name();
        let (gi, alias) = session
            .place
            .get(name)
            .ok_or_else(|| StoreError::BadTableName {
                name: name.to_string(),
            })?;
        let conn = &session.groups[*gi].conn;
        let what = self.table_path(name);
        let e = |e| self.err(what.display(), e);
        let target = format!("{alias}.{}", quote_ident(name));
        let (old_rows, rowids): (Vec<Row>, &[i64]) = match old {
            Some((t, stored)) => {
                for c in missing_columns(new, &stored.db_columns) {
                    conn.execute_batch(&format!(
                        "ALTER TABLE {target} ADD {} TEXT",
                        quote_ident(c)
                    ))
                    .map_err(e)?;
                }
                (project_rows(t, new.columns()), &stored.rowids)
            }
            None => {
                let ddl = create_table_sql(name, new.columns(), Dialect::Sqlite);
                let ddl = ddl.replacen("CREATE TABLE ", &format!("CREATE TABLE {alias}."), 1);
                conn.execute_batch(&ddl).map_err(e)?;
                (Vec::new(), &[])
            }
        };
        let diff = diff_rows(&new.key_indices(), &old_rows, new.rows());
        if !diff.deletes.is_empty() {
            let mut del = conn
                .prepare(&format!("DELETE FROM {target} WHERE rowid = ?1"))
                .map_err(e)?;
            for &i in &diff.deletes {
                del.execute([rowids[i]]).map_err(e)?;
            }
        }
        let cols: Vec<String> = new.columns().iter().map(|c| quote_ident(c)).collect();
        if !diff.updates.is_empty() {
            let sets: Vec<String> = cols
                .iter()
                .enumerate()
                .map(|(i, c)| format!("{c} = ?{}", i + 1))
                .collect();
            let mut upd = conn
                .prepare(&format!(
                    "UPDATE {target} SET {} WHERE rowid = ?{}",
                    sets.join(", "),
                    cols.len() + 1
                ))
                .map_err(e)?;
            for &(i, j) in &diff.updates {
                let row = &new.rows()[j];
                let params = row
                    .iter()
                    .map(|v| rusqlite::types::Value::from(v.clone()))
                    .chain(std::iter::once(rusqlite::types::Value::Integer(rowids[i])));
                upd.execute(params_from_iter(params)).map_err(e)?;
            }
        }
        if !diff.inserts.is_empty() {
            let marks: Vec<String> = (1..=cols.len()).map(|i| format!("?{i}")).collect();
            let mut ins = conn
                .prepare(&format!(
                    "INSERT INTO {target} ({}) VALUES ({})",
                    cols.join(", "),
                    marks.join(", ")
                ))
                .map_err(e)?;
            for &j in &diff.inserts {
                ins.execute(params_from_iter(new.rows()[j].iter()))
                    .map_err(e)?;
            }
        }
        crash_point("sqlite-written");
        Ok(())
    }

    /// Creates, mode 0600, the (empty) files of tables a batch may write. Returns those it
    /// created.
    fn create_files(&self, tables: &BTreeSet<String>) -> Result<Vec<PathBuf>, StoreError> {
        let mut created = Vec::new();
        for t in tables {
            let path = self.table_path(t);
            match fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&path)
            {
                Ok(_) => created.push(path),
                Err(e) if e.kind() == ErrorKind::AlreadyExists => {}
                Err(source) => {
                    return Err(StoreError::Io {
                        path,
                        op: "create",
                        source,
                    })
                }
            }
        }
        Ok(created)
    }

    fn too_many(&self, tables: usize) -> StoreError {
        StoreError::TooManyTables {
            spec: self.spec.to_string(),
            tables,
            max: Self::max_tables_per_commit(),
        }
    }

    fn commit_in(&self, batch: &Batch, tables: &[String]) -> Result<Commit, StoreError> {
        let session = self.connect(tables)?;
        // One connection, one transaction: checked by commit() before any file was created.
        let [group] = session.groups.as_slice() else {
            return Err(self.too_many(tables.len()));
        };
        self.check_journal_modes(&session)?;
        self.begin(&session, true)?;
        crash_point("sqlite-locked");
        let mut db = Database::new();
        let mut old: BTreeMap<String, (Table, Stored)> = BTreeMap::new();
        for t in batch.tables() {
            match self.read(&session, &t)? {
                Some((table, stored)) => {
                    db.insert(table.clone());
                    old.insert(t, (table, stored));
                }
                None => db.insert(Table::new(&t)),
            }
        }
        // An error leaves the transactions open; dropping the connections rolls them back.
        let changed = batch.apply(&mut db)?;
        let mut to_write = changed.clone();
        to_write.extend(
            replaced_tables(batch)
                .into_iter()
                .filter(|t| !old.contains_key(t)),
        );
        for t in &to_write {
            if let Some(new) = db.table(t) {
                self.write(&session, new, old.get(t))?;
            }
        }
        crash_point("sqlite-before-commit");
        if let Err(e) = group.conn.execute_batch("COMMIT") {
            let err = self.err(
                group
                    .tables
                    .iter()
                    .map(|(t, _)| format!("{t}.sqlite"))
                    .collect::<Vec<_>>()
                    .join(", "),
                e,
            );
            let _ = group.conn.execute_batch("ROLLBACK");
            return Err(err);
        }
        crash_point("sqlite-committed");
        Ok(Commit { changed })
    }
}

/// Tables a batch writes (as opposed to only checks).
fn written_tables(batch: &Batch) -> BTreeSet<String> {
    batch
        .ops
        .iter()
        .map(|op| match op {
            Op::Set { table, .. } | Op::Delete { table, .. } | Op::Put { table, .. } => {
                table.clone()
            }
            Op::Replace(t) => t.name().to_string(),
        })
        .collect()
}

impl Store for SqliteStore {
    fn spec(&self) -> &StoreSpec {
        &self.spec
    }

    fn list_tables(&self) -> Result<Vec<String>, StoreError> {
        let mut names = Vec::new();
        let entries = fs::read_dir(&self.dir).map_err(|source| StoreError::Io {
            path: self.dir.clone(),
            op: "list",
            source,
        })?;
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if let Some(t) = name.strip_suffix(".sqlite") {
                if check_table_name(t).is_ok() && self.has_file(t) {
                    names.push(t.to_string());
                }
            }
        }
        names.sort();
        Ok(names)
    }

    fn load(&self, tables: &[&str]) -> Result<Database, StoreError> {
        let mut names: Vec<String> = tables.iter().map(|t| t.to_string()).collect();
        names.sort();
        names.dedup();
        for n in &names {
            check_table_name(n)?;
        }
        let present: Vec<String> = names.iter().filter(|t| self.has_file(t)).cloned().collect();
        let mut db = Database::new();
        if !present.is_empty() {
            let session = self.connect(&present)?;
            self.begin(&session, false)?;
            for t in &present {
                if let Some((table, _)) = self.read(&session, t)? {
                    db.insert(table);
                }
            }
            for g in &session.groups {
                let _ = g.conn.execute_batch("COMMIT");
            }
        }
        for n in &names {
            if db.table(n).is_none() {
                db.insert(Table::new(n));
            }
        }
        Ok(db)
    }

    fn commit(&self, batch: &Batch) -> Result<Commit, StoreError> {
        let names = batch.tables();
        for n in &names {
            check_table_name(n)?;
        }
        if names.len() > Self::max_tables_per_commit() {
            return Err(self.too_many(names.len()));
        }
        let created = self.create_files(&written_tables(batch))?;
        let tables: Vec<String> = names
            .iter()
            .filter(|t| self.table_path(t).exists())
            .cloned()
            .collect();
        let result = self.commit_in(batch, &tables);
        // Files made for tables that ended up unchanged are removed again.
        for p in created {
            if fs::metadata(&p).map(|m| m.len() == 0).unwrap_or(false) {
                let _ = fs::remove_file(&p);
            }
        }
        result
    }
}
