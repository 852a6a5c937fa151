//! Where the tables live, and how they are read and written.
//!
//! A store is named the way xCAT names its database ([`StoreSpec`]): `CSV:/dir` is the
//! embedded default (a directory as `dumpxCATdb -p /dir` writes it, see [`CsvDirStore`]);
//! `SQLite:/dir` is xCAT's one-file-per-table layout ([`SqliteStore`], feature `sqlite`),
//! `Pg:dbname=…` a PostgreSQL database ([`PgStore`], feature `pg`); `mysql:` and `DB2:` names
//! are understood and refused. [`transfer`] copies whole databases (dumpxCATdb/restorexCATdb).
//!
//! Every store offers the same guarantees through [`Store`]:
//! * [`Store::load`] returns a consistent snapshot of the tables asked for;
//! * [`Store::commit`] applies a [`Batch`] atomically — every table is afterwards entirely old
//!   or entirely new, even if the process is killed at any instant — after checking the
//!   batch's expectations under the store's writer lock, so no update is ever lost.

mod csvdir;
mod lock;
mod spec;
pub mod sql;
pub mod transfer;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub use csvdir::CsvDirStore;
pub(crate) use spec::is_secret_key;
pub use spec::{select_spec, Dsn, SpecSource, StoreSpec, CFGLOC};
#[cfg(feature = "pg")]
pub use sql::pg::PgStore;
#[cfg(feature = "sqlite")]
pub use sql::sqlite::SqliteStore;

use crate::batch::{Batch, BatchError};
use crate::csv::CsvErrors;
use crate::database::Database;

/// What went wrong with a store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The store name cannot be understood.
    #[error("invalid store name {spec:?}: {reason}")]
    BadSpec {
        /// The offending text (never with credentials).
        spec: String,
        /// Why.
        reason: String,
    },
    /// No `--db`, no `XCATCFG`, no cfgloc file.
    #[error("no xCAT database configured: give --db CSV:/path/to/dir, set XCATCFG, or create {}", cfgloc.display())]
    NoStore {
        /// Where cfgloc was looked for.
        cfgloc: PathBuf,
    },
    /// A back end that does not exist yet.
    #[error("{spec}: the {kind} back end is not supported yet; dump the tables with `dumpxCATdb -p DIR` and use --db CSV:DIR")]
    Unsupported {
        /// The store (without credentials).
        spec: String,
        /// Back-end kind.
        kind: &'static str,
    },
    /// The store's directory does not exist.
    #[error("{}: no such directory", path.display())]
    NoSuchDir {
        /// The directory.
        path: PathBuf,
    },
    /// The store's path exists but is not a directory.
    #[error("{}: not a directory", path.display())]
    NotADir {
        /// The path.
        path: PathBuf,
    },
    /// A table name that cannot be a file of the store.
    #[error("invalid table name {name:?}")]
    BadTableName {
        /// The name.
        name: String,
    },
    /// An I/O error on a file of the store.
    #[error("cannot {op} {}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// What was being done.
        op: &'static str,
        /// The OS error.
        source: std::io::Error,
    },
    /// A table file that is not valid tabdump CSV.
    #[error("{}: {errors}", path.display())]
    Csv {
        /// The file.
        path: PathBuf,
        /// tabrestore's diagnostics.
        errors: CsvErrors,
    },
    /// Another writer holds the lock.
    #[error("{spec} is locked by another writer ({holder}); gave up after {}s", waited.as_secs())]
    Locked {
        /// The store.
        spec: String,
        /// Who holds it, as recorded in the lock file.
        holder: String,
        /// How long we waited.
        waited: Duration,
    },
    /// A commit record that cannot be read.
    #[error("{}: unreadable commit record ({reason}); inspect the directory by hand", path.display())]
    Journal {
        /// The record.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// A database server or library reported an error (credentials scrubbed from it).
    #[error("{spec}: {message}")]
    Backend {
        /// The store (without credentials).
        spec: String,
        /// What failed, in the database's words.
        message: String,
    },
    /// A commit touching more tables than SQLite can hold in one transaction (the main file and
    /// `SQLITE_MAX_ATTACHED` attached ones): it could not be atomic, so nothing was written.
    #[error(
        "{spec}: a commit of {tables} tables cannot be atomic: this build's SQLite holds at most \
         {max} table files in one transaction (SQLITE_MAX_ATTACHED + 1); nothing was written. \
         Commit fewer tables at a time, or build with LIBSQLITE3_FLAGS=\"-DSQLITE_MAX_ATTACHED=125\" \
         (as the workspace's .cargo/config.toml does)"
    )]
    TooManyTables {
        /// The store.
        spec: String,
        /// Tables the batch touches.
        tables: usize,
        /// The most one commit may touch.
        max: usize,
    },
    /// The batch could not be applied (nothing was written).
    #[error(transparent)]
    Batch(#[from] BatchError),
}

/// The result of a commit.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Commit {
    /// Tables whose content changed (only these were rewritten).
    pub changed: BTreeSet<String>,
}

/// A place where xCAT tables are kept.
pub trait Store: Send + Sync {
    /// The store's name (without credentials).
    fn spec(&self) -> &StoreSpec;

    /// The tables present in the store, sorted.
    fn list_tables(&self) -> Result<Vec<String>, StoreError>;

    /// A consistent snapshot of `tables` (a table absent from the store is returned empty,
    /// with its schema columns).
    fn load(&self, tables: &[&str]) -> Result<Database, StoreError>;

    /// Applies `batch` atomically: checks its expectations and applies its writes under the
    /// writer lock, then makes every changed table durable in one commit.
    fn commit(&self, batch: &Batch) -> Result<Commit, StoreError>;

    /// Round trips to a database server so far, for stores that talk to one (`None` for the
    /// file stores). Benchmarks report it.
    fn round_trips(&self) -> Option<u64> {
        None
    }
}

/// Default time a writer waits for another writer's lock.
pub const DEFAULT_LOCK_TIMEOUT: Duration = Duration::from_secs(30);

/// Opens a store by name.
///
/// ```
/// let dir = tempfile::tempdir().unwrap();
/// let spec = xcattab::store::StoreSpec::Csv(dir.path().into());
/// let store = xcattab::store::open(&spec).unwrap();
/// let db = store.load(&["site"]).unwrap();
/// assert!(db.table("site").unwrap().is_empty());
/// assert!(xcattab::store::open(&"mysql:dbname=xcatdb|u|p".parse().unwrap()).is_err());
/// ```
pub fn open(spec: &StoreSpec) -> Result<Box<dyn Store>, StoreError> {
    let unsupported = |kind| {
        Err(StoreError::Unsupported {
            spec: spec.to_string(),
            kind,
        })
    };
    match spec {
        StoreSpec::Csv(dir) => Ok(Box::new(CsvDirStore::open(dir)?)),
        #[cfg(feature = "sqlite")]
        StoreSpec::Sqlite(dir) => Ok(Box::new(SqliteStore::open(dir)?)),
        #[cfg(not(feature = "sqlite"))]
        StoreSpec::Sqlite(_) => unsupported("SQLite"),
        #[cfg(feature = "pg")]
        StoreSpec::Pg(_) => Ok(Box::new(PgStore::open(spec)?)),
        #[cfg(not(feature = "pg"))]
        StoreSpec::Pg(_) => unsupported("PostgreSQL"),
        StoreSpec::Mysql(_) => unsupported("MySQL"),
        StoreSpec::Db2(_) => unsupported("DB2"),
    }
}

/// Selects (`--db`, then `XCATCFG`, then `/etc/xcat/cfgloc`) and opens the store.
pub fn open_selected(option: Option<&str>) -> Result<(Box<dyn Store>, SpecSource), StoreError> {
    let (spec, from) = select_spec(
        option,
        std::env::var("XCATCFG").ok(),
        std::path::Path::new(CFGLOC),
    )?;
    Ok((open(&spec)?, from))
}

impl std::str::FromStr for StoreSpec {
    type Err = StoreError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        StoreSpec::parse(s)
    }
}

/// Test hook for crash-safety tests: when the environment variable `XCATTAB_CRASH_AT` names
/// this point (`name`, or `name:N` for its N-th passage, counting from 1), the process kills
/// itself with SIGKILL right here.
pub(crate) fn crash_point(name: &str) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::OnceLock;
    static TARGET: OnceLock<Option<(String, usize)>> = OnceLock::new();
    static PASSES: AtomicUsize = AtomicUsize::new(0);
    let target = TARGET.get_or_init(|| {
        let v = std::env::var("XCATTAB_CRASH_AT").ok()?;
        Some(match v.rsplit_once(':') {
            Some((n, k)) => (n.to_string(), k.parse().unwrap_or(1)),
            None => (v, 1),
        })
    });
    if let Some((n, k)) = target {
        if n == name && PASSES.fetch_add(1, Ordering::SeqCst) + 1 == *k {
            // SAFETY: plain libc calls with no memory arguments.
            unsafe {
                libc::kill(libc::getpid(), libc::SIGKILL);
            }
        }
    }
}

/// Checks that a directory store's path is an existing directory, telling apart "missing",
/// "not a directory" and errors such as a permission denied on a parent.
pub(crate) fn check_store_dir(dir: &Path) -> Result<(), StoreError> {
    match std::fs::metadata(dir) {
        Ok(meta) if meta.is_dir() => Ok(()),
        Ok(_) => Err(StoreError::NotADir {
            path: dir.to_path_buf(),
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(StoreError::NoSuchDir {
            path: dir.to_path_buf(),
        }),
        Err(source) => Err(StoreError::Io {
            path: dir.to_path_buf(),
            op: "open the store directory",
            source,
        }),
    }
}
