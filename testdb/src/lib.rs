//! # testdb — real databases for tests
//!
//! Tests of the xCAT stores (and end-to-end tests that should run on every store) use this
//! crate to get real databases, never mocks:
//!
//! * [`pg`]: a private PostgreSQL server per test process — `initdb` into a temporary
//!   directory, run as an unprivileged user (`postgres` when the tests run as root) on a free
//!   loopback port and a private socket directory, torn down when the process exits — and a
//!   fresh database per test ([`pg::PgServer::create_database`]). If the server cannot be
//!   started the call fails with the reason and the server log: a test must fail, not skip.
//! * [`materialise`]: a fresh store of any [`StoreKind`] holding the tables of a CSV
//!   directory (a fixture, or a `gencluster` output), returned with its store string.
//!
//! ```no_run
//! use testdb::{materialise, StoreKind};
//! for kind in StoreKind::ALL {
//!     let store = materialise(kind, std::path::Path::new("fixtures/small")).unwrap();
//!     // store.spec() is e.g. "SQLite:/tmp/.tmpAbC123" or "Pg:dbname=xcatdb_3;host=127.0.0.1;port=…|xcatadm|…"
//!     let s = store.open().unwrap();
//!     let _db = s.load(&["noderes"]).unwrap();
//! }
//! ```
//!
//! Nothing here is for production use: the server runs with `fsync=off`.

pub mod pg;

use std::path::Path;

use xcattab::store::{self, transfer, Store, StoreSpec};

/// What went wrong while preparing a test database.
#[derive(Debug, thiserror::Error)]
pub enum TestDbError {
    /// The server could not be started (the message says why, with its log).
    #[error("cannot start the PostgreSQL test server: {0}")]
    Start(String),
    /// A statement of the test harness failed.
    #[error("PostgreSQL test server: {0}")]
    Pg(String),
    /// The store could not be created or filled.
    #[error(transparent)]
    Store(#[from] xcattab::StoreError),
    /// A temporary directory could not be made or filled.
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// The kinds of store the tests run on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StoreKind {
    /// `CSV:/dir`, the embedded default.
    Csv,
    /// `SQLite:/dir`, xCAT's one file per table.
    Sqlite,
    /// `Pg:…`, a database on the private PostgreSQL server.
    Pg,
}

impl StoreKind {
    /// Every kind, in this order.
    pub const ALL: [StoreKind; 3] = [StoreKind::Csv, StoreKind::Sqlite, StoreKind::Pg];

    /// A short lower-case name (`csv`, `sqlite`, `pg`), for test and snapshot names.
    pub fn name(self) -> &'static str {
        match self {
            StoreKind::Csv => "csv",
            StoreKind::Sqlite => "sqlite",
            StoreKind::Pg => "pg",
        }
    }
}

impl std::fmt::Display for StoreKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// A store made for one test; its directory or database lives as long as this value.
#[derive(Debug)]
pub struct Materialised {
    kind: StoreKind,
    spec: String,
    _dir: Option<tempfile::TempDir>,
    db: Option<pg::PgDatabase>,
}

impl Materialised {
    /// The kind of store.
    pub fn kind(&self) -> StoreKind {
        self.kind
    }

    /// The store string (for `--db`, `XCATCFG` or a cfgloc file). A `Pg:` string carries the
    /// test role's credentials.
    pub fn spec(&self) -> &str {
        &self.spec
    }

    /// Opens the store.
    pub fn open(&self) -> Result<Box<dyn Store>, xcattab::StoreError> {
        store::open(&self.spec.parse()?)
    }

    /// The PostgreSQL database, for a `Pg` store.
    pub fn pg_database(&self) -> Option<&pg::PgDatabase> {
        self.db.as_ref()
    }
}

/// A fresh, empty store of `kind`.
pub fn empty(kind: StoreKind) -> Result<Materialised, TestDbError> {
    match kind {
        StoreKind::Csv | StoreKind::Sqlite => {
            let dir = tempfile::Builder::new()
                .prefix("xcattab-store-")
                .tempdir()?;
            let spec = match kind {
                StoreKind::Csv => StoreSpec::Csv(dir.path().to_path_buf()),
                _ => StoreSpec::Sqlite(dir.path().to_path_buf()),
            };
            Ok(Materialised {
                kind,
                spec: spec.to_string(),
                _dir: Some(dir),
                db: None,
            })
        }
        StoreKind::Pg => {
            let db = pg::server()?.create_database()?;
            Ok(Materialised {
                kind,
                spec: db.spec(),
                _dir: None,
                db: Some(db),
            })
        }
    }
}

/// A fresh store of `kind` holding every table of the CSV directory `csv_dir` (every
/// `<table>.csv` file, read as the CSV store reads it: unknown columns and tables kept), in one
/// commit. Row order, NULL versus empty string and every byte of every value are kept.
///
/// `csv_dir` is only read: the files are copied to a temporary directory first, since opening a
/// CSV store creates its lock file in the directory (a fixture in the source tree stays as
/// committed).
pub fn materialise(kind: StoreKind, csv_dir: &Path) -> Result<Materialised, TestDbError> {
    let m = empty(kind)?;
    let copy = tempfile::Builder::new()
        .prefix("xcattab-source-")
        .tempdir()?;
    for entry in std::fs::read_dir(csv_dir)? {
        let entry = entry?;
        let name = entry.file_name();
        if name.to_string_lossy().ends_with(".csv") && entry.file_type()?.is_file() {
            std::fs::copy(entry.path(), copy.path().join(&name))?;
        }
    }
    let from = store::CsvDirStore::open(copy.path())?;
    let to = m.open()?;
    transfer::copy_store(&from, &*to, None)?;
    Ok(m)
}
