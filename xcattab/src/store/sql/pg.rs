//! The PostgreSQL back end, `Pg:dbname=xcatdb;host=…|user|password` (the form `pgsqlsetup`
//! writes into `/etc/xcat/cfgloc`): xCAT's layout, every table side by side in one database,
//! quoted column names, keys `VARCHAR(128)`, other columns `TEXT`, `PRIMARY KEY(keys)`;
//! columns are found by name, extra columns kept, missing ones added on write (as xCAT's
//! `updateschema` does), tables created on their first write with xCAT's DDL.
//!
//! # Round trips
//! Independent of the number of rows: a commit costs two round trips to begin, lock and
//! discover the tables, one `COPY … TO STDOUT` per table read, one for all DDL and the
//! `TRUNCATE`, two per table written (`COPY … FROM STDIN`), one to restore big tables' keys,
//! one to commit — 11 for a two-table move of any size; a load costs `3 + tables`.
//! [`PgStore::round_trips`] counts them.
//!
//! # One transaction, no lost update
//! A commit runs in one transaction. It first takes `EXCLUSIVE` locks on every table the batch
//! touches (in name order, so two writers never deadlock; readers still read), reads them,
//! checks the batch's expectations and applies it in memory, then takes `ACCESS EXCLUSIVE` on
//! the changed tables, empties them with `TRUNCATE` and copies the new content in, and
//! commits. A second writer waits for the locks (up to the lock timeout, then fails with
//! [`StoreError::Locked`]); xCAT's own writers wait the same way. A client killed at any
//! instant leaves the server to roll the transaction back: every table old, or every table new.
//!
//! # Row order
//! xCAT reads PostgreSQL tables without `ORDER BY`: it shows heap order, which an `UPDATE`
//! changes (the new row version goes elsewhere). This store reads in the same physical order
//! (a sequential scan with synchronized scans and parallel workers off, so it always starts at
//! the first block) and writes a changed table in full, in its logical order, into a freshly
//! truncated heap — so after our writes physical order *is* insertion order, with an updated
//! row keeping its place, exactly as on SQLite and in the CSV store. The cost is a rewrite of
//! each changed table (for a big table the primary key is dropped and re-added around the
//! copy, in the same transaction: one index build instead of 100k insertions); the gain is
//! that `tabdump` shows the same order on every store.
//!
//! Credentials never appear in errors: user name and password are scrubbed from every
//! message, and the store's name ([`StoreSpec`]'s `Display`) omits them.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use postgres::error::SqlState;
use postgres::{Client, Config, NoTls, SimpleQueryMessage};

use super::copy::{decode, encode_row};
use super::{
    check_table_name, create_table_sql, is_serial, missing_columns, quote_ident, replaced_tables,
    Dialect,
};
use crate::batch::Batch;
use crate::database::Database;
use crate::store::{crash_point, Commit, Dsn, Store, StoreError, StoreSpec, DEFAULT_LOCK_TIMEOUT};
use crate::table::Table;

/// How many times a commit is retried after a transient conflict (a table created or dropped
/// concurrently, a deadlock the server broke).
const ATTEMPTS: usize = 5;

/// An xCAT database on a PostgreSQL server.
///
/// ```no_run
/// use xcattab::store::{PgStore, Store, StoreSpec};
/// let spec: StoreSpec = "Pg:dbname=xcatdb;host=10.0.0.1|xcatadm|secret".parse().unwrap();
/// let store = PgStore::open(&spec).unwrap();
/// let db = store.load(&["noderes", "nodehm"]).unwrap();
/// ```
pub struct PgStore {
    spec: StoreSpec,
    config: Config,
    secrets: Vec<String>,
    lock_timeout: Duration,
    client: Mutex<Option<Client>>,
    round_trips: AtomicU64,
}

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PgStore({})", self.spec)
    }
}

/// Why one attempt of a commit or load ended.
enum Fail {
    /// A transient conflict: try again from the start.
    Retry(String),
    /// A real error.
    Error(StoreError),
}

impl From<StoreError> for Fail {
    fn from(e: StoreError) -> Self {
        Fail::Error(e)
    }
}

/// A table as found in the database.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
struct Found {
    /// Its columns, in physical order.
    columns: Vec<String>,
    /// Its primary-key constraint: name and definition (`PRIMARY KEY (node)`).
    pkey: Option<(String, String)>,
}

/// The tables found, by name.
type Columns = BTreeMap<String, Found>;

/// Rows above which a rewritten table's primary key is dropped and re-added around the COPY
/// (one index build instead of one index insertion per row: about 3× faster for 100k rows).
const REBUILD_KEY_ABOVE: usize = 5000;

impl PgStore {
    /// Connects to the database named by a `Pg:` store (see the module docs for the form).
    ///
    /// The data source is DBD::Pg's: `key=value` pairs separated by `;` — `dbname` (also
    /// `database`, `db`), `host` (a name, an address, or a Unix-socket directory), `hostaddr`,
    /// `port`, `options`, `application_name`, `connect_timeout`, `sslmode` (`disable`,
    /// `allow`, `prefer`; TLS itself is not built in). Unset ones come from `PGHOST`,
    /// `PGPORT`, `PGDATABASE`, `PGUSER` as with libpq, then libpq's defaults (Debian's socket
    /// directory `/var/run/postgresql`, port 5432, the user's name).
    pub fn open(spec: &StoreSpec) -> Result<Self, StoreError> {
        let StoreSpec::Pg(dsn) = spec else {
            return Err(StoreError::BadSpec {
                spec: spec.to_string(),
                reason: "not a Pg: store".into(),
            });
        };
        let (config, secrets) = config_from(spec, dsn)?;
        let store = PgStore {
            spec: spec.clone(),
            config,
            secrets,
            lock_timeout: DEFAULT_LOCK_TIMEOUT,
            client: Mutex::new(None),
            round_trips: AtomicU64::new(0),
        };
        drop(store.client()?);
        Ok(store)
    }

    /// How long to wait for another session's table locks (default 30 s).
    pub fn with_lock_timeout(mut self, timeout: Duration) -> Self {
        self.lock_timeout = timeout;
        self
    }

    /// Round trips to the server so far (statements, `COPY` streams, connection set-up).
    pub fn round_trips(&self) -> u64 {
        self.round_trips.load(Ordering::Relaxed)
    }

    fn trip(&self) {
        self.round_trips.fetch_add(1, Ordering::Relaxed);
    }

    /// `text` with the user name and password replaced.
    fn scrub(&self, text: &str) -> String {
        let mut t = text.to_string();
        for s in &self.secrets {
            if s.len() >= 3 {
                t = t.replace(s.as_str(), "<hidden>");
            } else if !s.is_empty() {
                t = t.replace(&format!("\"{s}\""), "\"<hidden>\"");
            }
        }
        t
    }

    /// A store error for a failed server operation (credentials scrubbed).
    fn error(&self, what: &str, e: &postgres::Error) -> StoreError {
        if e.code() == Some(&SqlState::LOCK_NOT_AVAILABLE) {
            return StoreError::Locked {
                spec: self.spec.to_string(),
                holder: format!("another database session holds a lock needed to {what}"),
                waited: self.lock_timeout,
            };
        }
        StoreError::Backend {
            spec: self.spec.to_string(),
            message: self.scrub(&format!("cannot {what}: {}", describe(e))),
        }
    }

    fn fail(&self, what: &str, e: postgres::Error) -> Fail {
        let retry = match e.code() {
            Some(c)
                if *c == SqlState::T_R_SERIALIZATION_FAILURE
                    || *c == SqlState::T_R_DEADLOCK_DETECTED
                    || *c == SqlState::DUPLICATE_TABLE
                    || *c == SqlState::UNDEFINED_TABLE =>
            {
                true
            }
            Some(c) if *c == SqlState::UNIQUE_VIOLATION => e
                .as_db_error()
                .and_then(|d| d.constraint())
                .is_some_and(|c| c.starts_with("pg_")),
            _ => false,
        };
        if retry {
            Fail::Retry(self.scrub(&describe(&e)))
        } else {
            Fail::Error(self.error(what, &e))
        }
    }

    /// The cached connection (made or remade as needed).
    fn client(&self) -> Result<MutexGuard<'_, Option<Client>>, StoreError> {
        let mut guard = self.client.lock().unwrap_or_else(|p| p.into_inner());
        if guard.as_ref().map_or(true, |c| c.is_closed()) {
            self.trip();
            let c = self
                .config
                .connect(NoTls)
                .map_err(|e| self.error("connect", &e))?;
            *guard = Some(c);
        }
        Ok(guard)
    }

    /// Runs one simple-protocol query string (one round trip, several statements allowed);
    /// returns the rows of all its statements as text.
    fn simple(
        &self,
        c: &mut Client,
        sql: &str,
        what: &str,
    ) -> Result<Vec<Vec<Option<String>>>, Fail> {
        self.trip();
        let msgs = c.simple_query(sql).map_err(|e| self.fail(what, e))?;
        Ok(msgs
            .into_iter()
            .filter_map(|m| match m {
                SimpleQueryMessage::Row(r) => {
                    Some((0..r.len()).map(|i| r.get(i).map(str::to_string)).collect())
                }
                _ => None,
            })
            .collect())
    }

    fn rollback(&self, c: &mut Client) {
        self.trip();
        let _ = c.batch_execute("ROLLBACK");
    }

    /// Reads `table` (whose columns are `db_columns`) with one `COPY … TO STDOUT`.
    fn read(&self, c: &mut Client, table: &str, db_columns: &[String]) -> Result<Table, Fail> {
        let what = format!("read table {table}");
        let cols: Vec<String> = db_columns
            .iter()
            .map(|c| format!("{}::text", quote_ident(c)))
            .collect();
        // A plain sequential scan returns rows in physical order (what xCAT shows): the
        // session has synchronized scans and parallel workers off (see `SCAN_SETTINGS`).
        let sql = format!(
            "COPY (SELECT {} FROM {}) TO STDOUT",
            cols.join(", "),
            quote_ident(table)
        );
        self.trip();
        let mut data = Vec::new();
        c.copy_out(sql.as_str())
            .map_err(|e| self.fail(&what, e))?
            .read_to_end(&mut data)
            .map_err(|e| {
                Fail::Error(StoreError::Backend {
                    spec: self.spec.to_string(),
                    message: format!("cannot {what}: {e}"),
                })
            })?;
        let rows = decode(&data, db_columns.len()).map_err(|e| {
            Fail::Error(StoreError::Backend {
                spec: self.spec.to_string(),
                message: format!(
                    "cannot {what}: malformed COPY data at line {}: {}",
                    e.line, e.reason
                ),
            })
        })?;
        let mut t = Table::with_schema_and_extra(table, db_columns);
        let map: Vec<Option<usize>> = t
            .columns()
            .iter()
            .map(|c| db_columns.iter().position(|d| d == c))
            .collect();
        let identity =
            map.iter().enumerate().all(|(k, i)| *i == Some(k)) && map.len() == db_columns.len();
        for mut r in rows {
            if identity {
                t.push_row(r);
            } else {
                t.push_row(map.iter().map(|i| i.and_then(|i| r[i].take())).collect());
            }
        }
        Ok(t)
    }

    /// The tables among `names` that exist, with their columns.
    fn discover(&self, c: &mut Client, prefix: &str, names: &[String]) -> Result<Columns, Fail> {
        let sql = format!("{prefix}{}", discovery_sql(names));
        let mut found: Columns = BTreeMap::new();
        for r in self.simple(c, &sql, "read the table definitions")? {
            let field = |i: usize| r.get(i).cloned().flatten();
            match (field(0).as_deref(), field(1), field(2), field(3)) {
                (Some("c"), Some(t), Some(col), _) => found.entry(t).or_default().columns.push(col),
                (Some("k"), Some(t), Some(name), Some(def)) => {
                    found.entry(t).or_default().pkey = Some((name, def));
                }
                _ => {}
            }
        }
        found.retain(|_, f| !f.columns.is_empty());
        Ok(found)
    }

    fn lock_sql(tables: &[&String], mode: &str) -> String {
        let list: Vec<String> = tables.iter().map(|t| quote_ident(t)).collect();
        format!("LOCK TABLE {} IN {mode} MODE", list.join(", "))
    }

    fn timeout_sql(&self) -> String {
        format!(
            "SET LOCAL lock_timeout = {}",
            self.lock_timeout.as_millis().max(1)
        )
    }

    fn try_load(&self, c: &mut Client, names: &[String]) -> Result<Database, Fail> {
        let before = self.discover(c, "", names)?;
        let mut db = Database::new();
        if !before.is_empty() {
            let existing: Vec<&String> = before.keys().collect();
            let prefix = format!(
                "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; {}; {SCAN_SETTINGS}; {}; ",
                self.timeout_sql(),
                Self::lock_sql(&existing, "ACCESS SHARE")
            );
            let found = match self.discover(c, &prefix, names) {
                Ok(f) => f,
                Err(e) => {
                    self.rollback(c);
                    return Err(e);
                }
            };
            if found.keys().ne(before.keys()) {
                self.rollback(c);
                return Err(Fail::Retry(
                    "a table was created or dropped meanwhile".into(),
                ));
            }
            for (t, f) in &found {
                match self.read(c, t, &f.columns) {
                    Ok(table) => db.insert(table),
                    Err(e) => {
                        self.rollback(c);
                        return Err(e);
                    }
                }
            }
            self.simple(c, "COMMIT", "finish reading")?;
        }
        for n in names {
            if db.table(n).is_none() {
                db.insert(Table::new(n));
            }
        }
        Ok(db)
    }

    fn try_commit(&self, c: &mut Client, batch: &Batch, names: &[String]) -> Result<Commit, Fail> {
        let prefix = format!("BEGIN; {}; {SCAN_SETTINGS}; ", self.timeout_sql());
        let result = self
            .discover(c, &prefix, names)
            .and_then(|before| self.commit_in_transaction(c, batch, names, before));
        if result.is_err() {
            self.rollback(c);
        }
        result
    }

    fn commit_in_transaction(
        &self,
        c: &mut Client,
        batch: &Batch,
        names: &[String],
        before: Columns,
    ) -> Result<Commit, Fail> {
        let mut found = before;
        if !found.is_empty() {
            let existing: Vec<&String> = found.keys().collect();
            let prefix = format!("{}; ", Self::lock_sql(&existing, "EXCLUSIVE"));
            let after = self.discover(c, &prefix, names)?;
            if after.keys().ne(found.keys()) {
                return Err(Fail::Retry(
                    "a table was created or dropped meanwhile".into(),
                ));
            }
            found = after;
        }
        crash_point("pg-locked");
        let mut db = Database::new();
        for n in names {
            match found.get(n) {
                Some(f) => db.insert(self.read(c, n, &f.columns)?),
                None => db.insert(Table::new(n)),
            }
        }
        let changed = batch.apply(&mut db).map_err(|e| Fail::Error(e.into()))?;
        let mut to_write = changed.clone();
        to_write.extend(
            replaced_tables(batch)
                .into_iter()
                .filter(|t| !found.contains_key(t)),
        );
        if to_write.is_empty() {
            self.simple(c, "COMMIT", "commit")?;
            return Ok(Commit::default());
        }
        // DDL and TRUNCATE for every changed table in one round trip.
        let mut ddl = Vec::new();
        let changed_existing: Vec<&String> =
            to_write.iter().filter(|t| found.contains_key(*t)).collect();
        if !changed_existing.is_empty() {
            ddl.push(Self::lock_sql(&changed_existing, "ACCESS EXCLUSIVE"));
        }
        // Statements run after the copies, before the commit.
        let mut post = Vec::new();
        for t in &to_write {
            let Some(new) = db.table(t) else { continue };
            match found.get(t) {
                Some(f) => {
                    for col in missing_columns(new, &f.columns) {
                        ddl.push(format!(
                            "ALTER TABLE {} ADD {} TEXT",
                            quote_ident(t),
                            quote_ident(col)
                        ));
                    }
                    if let Some((name, def)) =
                        f.pkey.as_ref().filter(|_| new.len() > REBUILD_KEY_ABOVE)
                    {
                        // Same transaction, table exclusively locked: nobody sees it without.
                        ddl.push(format!(
                            "ALTER TABLE {} DROP CONSTRAINT {}",
                            quote_ident(t),
                            quote_ident(name)
                        ));
                        post.push(format!(
                            "ALTER TABLE {} ADD CONSTRAINT {} {def}",
                            quote_ident(t),
                            quote_ident(name)
                        ));
                    }
                }
                None => ddl.push(create_table_sql(t, new.columns(), Dialect::Pg)),
            }
        }
        if !changed_existing.is_empty() {
            let list: Vec<String> = changed_existing.iter().map(|t| quote_ident(t)).collect();
            ddl.push(format!("TRUNCATE {}", list.join(", ")));
        }
        self.simple(c, &ddl.join(";\n"), "prepare the tables for writing")?;
        crash_point("pg-truncated");
        for t in &to_write {
            let Some(new) = db.table(t) else { continue };
            self.write(c, new)?;
            crash_point("pg-copied");
            for col in new.columns().iter().filter(|col| is_serial(t, col)) {
                post.push(format!(
                    "SELECT setval(pg_get_serial_sequence('{t}', '{col}'), GREATEST(COALESCE(MAX({q}), 0), 1), COALESCE(MAX({q}), 0) > 0) FROM {tq}",
                    q = quote_ident(col),
                    tq = quote_ident(t)
                ));
            }
        }
        if !post.is_empty() {
            self.simple(c, &post.join(";\n"), "restore keys and record-id sequences")?;
        }
        crash_point("pg-before-commit");
        self.simple(c, "COMMIT", "commit")?;
        crash_point("pg-committed");
        Ok(Commit { changed })
    }

    /// Copies `table`'s rows into its (empty) database table, in order.
    fn write(&self, c: &mut Client, table: &Table) -> Result<(), Fail> {
        let what = format!("write table {}", table.name());
        let keys = if table.schema().is_some() {
            table.key_indices()
        } else {
            Vec::new()
        };
        let mut buf = Vec::with_capacity(table.len() * 64);
        let empty = Some(String::new());
        for row in table.rows() {
            // A NULL key is stored as '' (PRIMARY KEY columns are NOT NULL), as xCAT does.
            encode_row(
                &mut buf,
                row.iter().enumerate().map(|(i, v)| {
                    if v.is_none() && keys.contains(&i) {
                        &empty
                    } else {
                        v
                    }
                }),
            );
        }
        let cols: Vec<String> = table.columns().iter().map(|c| quote_ident(c)).collect();
        let sql = format!(
            "COPY {} ({}) FROM STDIN",
            quote_ident(table.name()),
            cols.join(", ")
        );
        // Preparing the COPY statement and streaming the data: two round trips.
        self.trip();
        self.trip();
        let mut w = c.copy_in(sql.as_str()).map_err(|e| self.fail(&what, e))?;
        w.write_all(&buf).map_err(|e| {
            Fail::Error(StoreError::Backend {
                spec: self.spec.to_string(),
                message: format!("cannot {what}: {e}"),
            })
        })?;
        w.finish().map_err(|e| self.fail(&what, e))?;
        Ok(())
    }

    fn with_retries<T>(&self, f: impl Fn(&mut Client) -> Result<T, Fail>) -> Result<T, StoreError> {
        let mut last = String::new();
        for attempt in 0..ATTEMPTS {
            if attempt > 0 {
                std::thread::sleep(Duration::from_millis(20 << attempt));
            }
            let mut guard = self.client()?;
            let Some(c) = guard.as_mut() else { continue };
            match f(c) {
                Ok(v) => return Ok(v),
                Err(Fail::Error(e)) => {
                    if c.is_closed() {
                        *guard = None;
                    }
                    return Err(e);
                }
                Err(Fail::Retry(why)) => last = why,
            }
        }
        Err(StoreError::Backend {
            spec: self.spec.to_string(),
            message: format!("gave up after {ATTEMPTS} attempts: {last}"),
        })
    }
}

/// Session settings under which a plain sequential scan returns rows in physical order (the
/// order xCAT's unordered query shows): no synchronized scans (which start mid-table), no
/// parallel workers.
const SCAN_SETTINGS: &str =
    "SET LOCAL synchronize_seqscans = off; SET LOCAL max_parallel_workers_per_gather = 0";

/// The query listing, for each of `names` that exists as a table (found on the search path,
/// as xCAT's unqualified names are), its columns in physical order (`'c'` rows) and its
/// primary-key constraint (a `'k'` row: name, definition).
fn discovery_sql(names: &[String]) -> String {
    // The names passed `check_table_name` (letters, digits, `_-.`): safe between quotes.
    let list: Vec<String> = names.iter().map(|n| format!("'{n}'")).collect();
    let tables = format!(
        "(SELECT to_regclass(quote_ident(n)) FROM unnest(ARRAY[{}]::text[]) AS n)",
        list.join(", ")
    );
    format!(
        "SELECT 'c', c.relname::text, a.attname::text, NULL, a.attnum FROM pg_catalog.pg_class c \
         JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid \
         WHERE c.oid IN {tables} AND c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped \
         UNION ALL \
         SELECT 'k', c.relname::text, k.conname::text, pg_catalog.pg_get_constraintdef(k.oid), 0 \
         FROM pg_catalog.pg_constraint k JOIN pg_catalog.pg_class c ON c.oid = k.conrelid \
         WHERE c.oid IN {tables} AND k.contype = 'p' \
         ORDER BY 2, 1, 5"
    )
}

/// A server error's own words (message, detail, hint), or the client error with its causes.
fn describe(e: &postgres::Error) -> String {
    if let Some(db) = e.as_db_error() {
        let mut s = db.message().to_string();
        if let Some(d) = db.detail() {
            s.push_str(&format!(" ({d})"));
        }
        if let Some(h) = db.hint() {
            s.push_str(&format!("; hint: {h}"));
        }
        return s;
    }
    let mut s = e.to_string();
    let mut src = std::error::Error::source(e);
    while let Some(cause) = src {
        s.push_str(": ");
        s.push_str(&cause.to_string());
        src = cause.source();
    }
    s
}

fn bad(spec: &StoreSpec, reason: String) -> StoreError {
    StoreError::BadSpec {
        spec: spec.to_string(),
        reason,
    }
}

/// The connection settings of a `Pg:` store, and the secrets to scrub from messages.
pub(crate) fn config_from(
    spec: &StoreSpec,
    dsn: &Dsn,
) -> Result<(Config, Vec<String>), StoreError> {
    let mut config = Config::new();
    let (mut host, mut port, mut dbname) = (None, None, None);
    config.application_name("xcattab");
    config.connect_timeout(Duration::from_secs(10));
    for part in dsn.source.split(';') {
        let part = part.trim();
        if part.is_empty() {
            continue;
        }
        let Some((k, v)) = part.split_once('=') else {
            return Err(bad(spec, format!("'{part}' is not key=value")));
        };
        let (k, v) = (k.trim(), v.trim());
        match k.to_ascii_lowercase().as_str() {
            "dbname" | "database" | "db" => dbname = Some(v.to_string()),
            "host" | "hostaddr" => host = Some(v.to_string()),
            "port" => {
                port = Some(v.parse::<u16>().map_err(|_| bad(spec, format!("port '{v}' is not a port number")))?)
            }
            "options" => {
                config.options(v);
            }
            "application_name" => {
                config.application_name(v);
            }
            "connect_timeout" => {
                let s: u64 = v
                    .parse()
                    .map_err(|_| bad(spec, format!("connect_timeout '{v}' is not a number of seconds")))?;
                config.connect_timeout(Duration::from_secs(s.max(1)));
            }
            "sslmode" => match v {
                "disable" | "allow" | "prefer" => {
                    config.ssl_mode(postgres::config::SslMode::Disable);
                }
                _ => {
                    return Err(bad(
                        spec,
                        format!("sslmode={v}: TLS connections are not supported by this build; use sslmode=disable or prefer"),
                    ))
                }
            },
            "user" | "password" => {
                return Err(bad(
                    spec,
                    format!("give the {k} after the '|' (Pg:dbname=…;host=…|user|password), not in the data source"),
                ))
            }
            other => {
                return Err(bad(
                    spec,
                    format!("unknown connection parameter '{other}' (known: dbname, host, hostaddr, port, options, application_name, connect_timeout, sslmode)"),
                ))
            }
        }
    }
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    let host = host
        .or_else(|| env("PGHOST"))
        .unwrap_or_else(|| "/var/run/postgresql".into());
    if host.starts_with('/') {
        config.host_path(&host);
    } else {
        config.host(&host);
    }
    let port = match port {
        Some(p) => p,
        None => match env("PGPORT") {
            Some(p) => p
                .parse()
                .map_err(|_| bad(spec, format!("PGPORT '{p}' is not a port number")))?,
            None => 5432,
        },
    };
    config.port(port);
    let user = if !dsn.user.is_empty() {
        dsn.user.clone()
    } else {
        env("PGUSER")
            .or_else(os_user)
            .unwrap_or_else(|| "root".into())
    };
    config.user(&user);
    config.dbname(
        &dbname
            .or_else(|| env("PGDATABASE"))
            .unwrap_or_else(|| user.clone()),
    );
    if !dsn.password.is_empty() {
        config.password(dsn.password.as_bytes());
    }
    let mut secrets = vec![dsn.password.clone()];
    if !dsn.user.is_empty() {
        secrets.push(dsn.user.clone());
    }
    Ok((config, secrets))
}

fn os_user() -> Option<String> {
    // SAFETY: getpwuid returns static storage or NULL; the name is copied at once.
    unsafe {
        let pw = libc::getpwuid(libc::geteuid());
        if pw.is_null() || (*pw).pw_name.is_null() {
            return None;
        }
        Some(
            std::ffi::CStr::from_ptr((*pw).pw_name)
                .to_string_lossy()
                .into_owned(),
        )
    }
}

impl Store for PgStore {
    fn spec(&self) -> &StoreSpec {
        &self.spec
    }

    fn round_trips(&self) -> Option<u64> {
        Some(PgStore::round_trips(self))
    }

    fn list_tables(&self) -> Result<Vec<String>, StoreError> {
        self.with_retries(|c| {
            let rows = self.simple(
                c,
                "SELECT c.relname::text FROM pg_catalog.pg_class c \
                 JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
                 WHERE c.relkind IN ('r', 'p') AND pg_catalog.pg_table_is_visible(c.oid) \
                 AND n.nspname NOT IN ('pg_catalog', 'information_schema')",
                "list the tables",
            )?;
            let mut names: Vec<String> = rows
                .into_iter()
                .filter_map(|r| r.into_iter().next().flatten())
                .filter(|n| check_table_name(n).is_ok())
                .collect();
            names.sort();
            Ok(names)
        })
    }

    fn load(&self, tables: &[&str]) -> Result<Database, StoreError> {
        let mut names: Vec<String> = tables.iter().map(|t| t.to_string()).collect();
        names.sort();
        names.dedup();
        for n in &names {
            check_table_name(n)?;
        }
        self.with_retries(|c| self.try_load(c, &names))
    }

    fn commit(&self, batch: &Batch) -> Result<Commit, StoreError> {
        let names: Vec<String> = batch.tables().into_iter().collect();
        for n in &names {
            check_table_name(n)?;
        }
        if batch.is_empty() && batch.expects.is_empty() && batch.expect_tables.is_empty() {
            return Ok(Commit::default());
        }
        self.with_retries(|c| self.try_commit(c, batch, &names))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(s: &str) -> Result<(Config, Vec<String>), StoreError> {
        let spec = StoreSpec::parse(s).unwrap();
        let StoreSpec::Pg(dsn) = &spec else { panic!() };
        config_from(&spec, dsn)
    }

    #[test]
    fn cfgloc_forms() {
        let (c, secrets) = cfg("Pg:dbname=xcatdb;host=10.1.0.100|xcatadm|s3cret").unwrap();
        assert_eq!(c.get_dbname(), Some("xcatdb"));
        assert_eq!(c.get_user(), Some("xcatadm"));
        assert_eq!(c.get_ports(), [5432]);
        assert_eq!(secrets, ["s3cret", "xcatadm"]);
        let (c, _) = cfg("Pg:dbname=x; host=/run/pg ;port=6543|u|").unwrap();
        assert_eq!(c.get_ports(), [6543]);
        assert!(matches!(c.get_hosts()[0], postgres::config::Host::Unix(_)));
        assert!(c.get_password().is_none());
    }

    #[test]
    fn bad_data_sources_are_refused_without_secrets() {
        for (s, want) in [
            ("Pg:dbname=x;port=abc|u|topsecret", "port 'abc'"),
            (
                "Pg:dbname=x;frobnicate=1|u|topsecret",
                "unknown connection parameter 'frobnicate'",
            ),
            ("Pg:dbname=x;sslmode=require|u|topsecret", "TLS"),
            ("Pg:dbname=x;nonsense|u|topsecret", "not key=value"),
        ] {
            let e = cfg(s).unwrap_err().to_string();
            assert!(e.contains(want), "{e}");
            assert!(!e.contains("topsecret"), "{e}");
        }
    }

    #[test]
    fn discovery_lists_the_names() {
        let q = discovery_sql(&["noderes".into(), "nodehm".into()]);
        assert!(q.contains("ARRAY['noderes', 'nodehm']"), "{q}");
    }
}
