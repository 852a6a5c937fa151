//! Whole-database copies: xCAT's `dumpxCATdb -p DIR` and `restorexCATdb -p DIR` on any store,
//! and direct store-to-store copies.
//!
//! * [`dump_to_dir`] writes `DIR/<table>.csv` for every schema table and every other table the
//!   store holds, exactly as `tabdump -f` writes it (header only for an empty or absent
//!   table), from one consistent snapshot.
//! * [`restore_from_dir`] reads every file of `DIR` as `tabrestore FILE` would (table = the
//!   file name up to the first dot; header any subset of the schema's columns; all of
//!   tabrestore's diagnostics), and replaces those tables in **one** commit: if any file is
//!   bad, nothing is written.
//! * [`copy_store`] copies tables between stores without going through CSV text (columns the
//!   schema does not know are kept).
//!
//! Both directory operations skip what xCAT skips: `auditlog*`/`eventlog*` unless `all`,
//! `x_teal*`, `isnm_perf*`, and the tables named in `site.skiptables` (for dumps, the
//! `XCAT_SKIPTABLES` environment variable takes precedence, as in xCAT).

use std::fs;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use super::{Store, StoreError};
use crate::batch::{Batch, Op};
use crate::csv::{self, CsvErrors};
use crate::database::Database;
use crate::resolve::Resolver;
use crate::schema;
use crate::table::Table;

/// What went wrong with a dump or a restore.
#[derive(Debug, thiserror::Error)]
pub enum TransferError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A file or directory could not be read or written.
    #[error("cannot {op} {}: {source}", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// What was being done.
        op: &'static str,
        /// The OS error.
        source: std::io::Error,
    },
    /// Files tabrestore would reject (nothing was written).
    #[error("{}", .0.iter().map(|(p, e)| format!("{}: {e}", p.display())).collect::<Vec<_>>().join("\n"))]
    Csv(Vec<(PathBuf, CsvErrors)>),
}

/// Which tables to leave out, as xCAT's commands decide it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Skips {
    /// `-a`: include `auditlog` and `eventlog`.
    pub all: bool,
    /// Table names from `site.skiptables` / `XCAT_SKIPTABLES`.
    pub skiptables: Vec<String>,
}

impl Skips {
    /// xCAT's skip list from a comma-separated value (`site.skiptables`, `XCAT_SKIPTABLES`).
    ///
    /// ```
    /// let s = xcattab::store::transfer::Skips::new(false, Some("hosts,nics"));
    /// assert!(s.skips("nics") && s.skips("eventlog") && s.skips("x_tealfoo"));
    /// assert!(!s.skips("noderes"));
    /// assert!(!xcattab::store::transfer::Skips::new(true, None).skips("auditlog"));
    /// ```
    pub fn new(all: bool, skiptables: Option<&str>) -> Self {
        Skips {
            all,
            skiptables: skiptables
                .map(|s| s.split(',').map(str::to_string).collect())
                .unwrap_or_default(),
        }
    }

    /// Whether `name` (a table name, or for restores a file name) is skipped by the fixed
    /// rules: `eventlog*`/`auditlog*` unless `all`, `x_teal*`, `isnm_perf*`.
    pub fn skips_by_prefix(&self, name: &str) -> bool {
        (!self.all && (name.starts_with("eventlog") || name.starts_with("auditlog")))
            || name.starts_with("x_teal")
            || name.starts_with("isnm_perf")
    }

    /// Whether `table` is skipped (fixed rules or the skip list).
    pub fn skips(&self, table: &str) -> bool {
        self.skips_by_prefix(table) || self.skiptables.iter().any(|s| s == table)
    }
}

/// The value of `site.skiptables` in `store` (an enabled row, as xCAT reads it).
pub fn site_skiptables(store: &dyn Store) -> Result<Option<String>, StoreError> {
    let db = store.load(&["site"])?;
    Ok(Resolver::new(&db).site("skiptables").map(str::to_string))
}

/// What a dump or restore did with one table or file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Dumped (a table name) or restored (a file name).
    Done(String),
    /// Skipped (dumps: the table; restores: the file, or the table for `site.skiptables`).
    Skipped(String),
    /// Skipped without a word, as xCAT does for `isnm_perf*` files on restore.
    SkippedQuietly(String),
}

/// What a dump or restore did, in the order it did it (table or file name order).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// Every table or file considered.
    pub steps: Vec<Step>,
}

impl Report {
    /// The tables dumped or files restored.
    pub fn done(&self) -> Vec<&str> {
        self.steps
            .iter()
            .filter_map(|s| match s {
                Step::Done(n) => Some(n.as_str()),
                _ => None,
            })
            .collect()
    }

    /// The tables or files skipped.
    pub fn skipped(&self) -> Vec<&str> {
        self.steps
            .iter()
            .filter_map(|s| match s {
                Step::Skipped(n) | Step::SkippedQuietly(n) => Some(n.as_str()),
                _ => None,
            })
            .collect()
    }

    /// xCAT's `-V` lines: `Skipping X` (followed by an empty line, as xCAT's message ends in
    /// a newline) and `Dumping X` / `Restoring X.` (restores end in an empty line too).
    pub fn verbose_lines(&self, restoring: bool) -> Vec<String> {
        let mut out = Vec::new();
        for s in &self.steps {
            match s {
                Step::Skipped(n) => {
                    out.push(format!("Skipping {n}"));
                    out.push(String::new());
                }
                Step::Done(n) if restoring => {
                    out.push(format!("Restoring {n}."));
                    out.push(String::new());
                }
                Step::Done(n) => out.push(format!("Dumping {n}")),
                Step::SkippedQuietly(_) => {}
            }
        }
        out
    }
}

/// Writes every table of `store` to `dir/<table>.csv` (`dir` must exist), as `dumpxCATdb -p`:
/// all schema tables (header only when empty or absent) plus every other table of the store,
/// sorted, except the skipped ones. Files are written `0600` (they may hold passwords) via a
/// temporary name, so a crash never leaves a half-written dump file.
pub fn dump_to_dir(store: &dyn Store, dir: &Path, skips: &Skips) -> Result<Report, TransferError> {
    let mut names: Vec<String> = schema::tables()
        .iter()
        .map(|t| t.name.to_string())
        .collect();
    names.extend(store.list_tables()?);
    names.sort();
    names.dedup();
    let wanted: Vec<&str> = names
        .iter()
        .filter(|n| !skips.skips(n))
        .map(String::as_str)
        .collect();
    let db = store.load(&wanted)?;
    let mut report = Report::default();
    for name in &names {
        if skips.skips(name) {
            report.steps.push(Step::Skipped(name.clone()));
            continue;
        }
        let text = db
            .table(name)
            .map(csv::dump)
            .unwrap_or_else(|| csv::dump(&Table::new(name)));
        write_file(&dir.join(format!("{name}.csv")), text.as_bytes())?;
        report.steps.push(Step::Done(name.clone()));
    }
    Ok(report)
}

fn write_file(path: &Path, data: &[u8]) -> Result<(), TransferError> {
    let io = |op| {
        move |source| TransferError::Io {
            path: path.to_path_buf(),
            op,
            source,
        }
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = path.with_file_name(format!(".{name}.tmp{}", std::process::id()));
    let mut f = fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)
        .map_err(io("create"))?;
    f.write_all(data)
        .and_then(|_| f.sync_all())
        .map_err(io("write"))?;
    fs::rename(&tmp, path).map_err(io("rename"))?;
    Ok(())
}

/// Replaces the tables of `store` with the files of `dir`, as `restorexCATdb -p` runs
/// `tabrestore` on every file (sorted by name; hidden files are ignored): the table is the
/// file name up to the first dot. Skipped: by file name, `eventlog*`/`auditlog*` unless `all`, `x_teal*`, `isnm_perf*`;
/// by table name, the skip list. A table the schema does not know is restored with the
/// columns its header names (xCAT refuses such files). All tables are replaced in one commit;
/// any bad file and nothing is written.
pub fn restore_from_dir(
    store: &dyn Store,
    dir: &Path,
    skips: &Skips,
) -> Result<Report, TransferError> {
    let entries = fs::read_dir(dir).map_err(|source| TransferError::Io {
        path: dir.to_path_buf(),
        op: "read directory",
        source,
    })?;
    let mut files: Vec<(String, PathBuf)> = Vec::new();
    for e in entries {
        let e = e.map_err(|source| TransferError::Io {
            path: dir.to_path_buf(),
            op: "read directory",
            source,
        })?;
        let name = e.file_name().to_string_lossy().into_owned();
        // A hidden file (a CSV store's lock file, an editor's swap file) names no table.
        if e.path().is_file() && !name.starts_with('.') {
            files.push((name, e.path()));
        }
    }
    files.sort();
    let mut report = Report::default();
    let mut batch = Batch::new();
    let mut bad = Vec::new();
    for (name, path) in files {
        let table = name.split('.').next().unwrap_or("").to_string();
        if name.starts_with("isnm_perf") {
            report.steps.push(Step::SkippedQuietly(name));
            continue;
        }
        if skips.skips_by_prefix(&name) {
            report.steps.push(Step::Skipped(name));
            continue;
        }
        if skips.skiptables.contains(&table) {
            report.steps.push(Step::Skipped(table));
            continue;
        }
        let bytes = fs::read(&path).map_err(|source| TransferError::Io {
            path: path.clone(),
            op: "read",
            source,
        })?;
        let text = String::from_utf8_lossy(&bytes);
        let parsed = if schema::table(&table).is_some() {
            let mut t = Table::new(&table);
            csv::restore_into(&mut t, &text, false).map(|()| t)
        } else {
            csv::table_from_csv(&table, &text)
        };
        match parsed {
            Ok(t) => {
                batch.push(Op::Replace(t));
                report.steps.push(Step::Done(name));
            }
            Err(e) => bad.push((path, e)),
        }
    }
    if !bad.is_empty() {
        return Err(TransferError::Csv(bad));
    }
    if !batch.is_empty() {
        store.commit(&batch)?;
    }
    Ok(report)
}

/// Copies `tables` (default: every table `from` holds) from one store into another, replacing
/// them there, in one commit; returns the tables copied.
///
/// ```
/// use xcattab::store::{open, transfer, Store, StoreSpec};
/// let a = tempfile::tempdir().unwrap();
/// std::fs::write(a.path().join("site.csv"), "#key,value,comments,disable\n\"master\",\"mn1\",,\n").unwrap();
/// let b = tempfile::tempdir().unwrap();
/// let from = open(&StoreSpec::Csv(a.path().into())).unwrap();
/// let to = open(&StoreSpec::Csv(b.path().into())).unwrap();
/// assert_eq!(transfer::copy_store(&*from, &*to, None).unwrap(), ["site"]);
/// assert_eq!(std::fs::read(b.path().join("site.csv")).unwrap(), std::fs::read(a.path().join("site.csv")).unwrap());
/// ```
pub fn copy_store(
    from: &dyn Store,
    to: &dyn Store,
    tables: Option<&[&str]>,
) -> Result<Vec<String>, StoreError> {
    let names: Vec<String> = match tables {
        Some(t) => t.iter().map(|s| s.to_string()).collect(),
        None => from.list_tables()?,
    };
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let db: Database = from.load(&refs)?;
    let mut batch = Batch::new();
    for t in db.tables() {
        batch.push(Op::Replace(t.clone()));
    }
    to.commit(&batch)?;
    Ok(names)
}
