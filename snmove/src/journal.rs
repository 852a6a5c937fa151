//! The journal of a move: every row a move writes, exactly as it was before and as the move
//! leaves it. It is written (and fsynced) before the commit, so `snmove --undo JOURNAL` can
//! always restore the database: rows are put back in place, rows the move created are removed
//! again (so group inheritance comes back), and nothing is restored unless every row is still
//! as the move left it.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use xcattab::{Batch, Database, Expect, Op, Row, Value};

/// Format version written in every journal.
pub const VERSION: u32 = 1;

/// The rows of one table in a journal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableImages {
    /// The table's columns when the journal was written.
    pub columns: Vec<String>,
    /// One entry per row written, in the order of the move.
    pub rows: Vec<RowImages>,
}

/// One row before the move, and what the move did to it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RowImages {
    /// The row's key (the node).
    pub key: String,
    /// The whole row before (`None`: there was no row).
    pub before: Option<Row>,
    /// The columns the move set, as (column position, value), applied to `before` — or to a
    /// new row holding only the key — to give the row after the move.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub set: Vec<(usize, Value)>,
    /// The whole row after the move, when the move replaced the row (a disabled row).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replaced: Option<Row>,
    /// The move deleted the row.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub deleted: bool,
}

impl RowImages {
    /// The row as the move left it (`None`: no row). `keys` are the key columns' positions.
    pub fn after(&self, width: usize, keys: &[usize]) -> Option<Row> {
        if self.deleted {
            return None;
        }
        if let Some(r) = &self.replaced {
            return Some(r.clone());
        }
        if self.set.is_empty() {
            return self.before.clone();
        }
        let mut row = match &self.before {
            Some(r) => r.clone(),
            None => {
                let mut r: Row = vec![None; width];
                for &k in keys {
                    if let Some(slot) = r.get_mut(k) {
                        *slot = Some(self.key.clone());
                    }
                }
                r
            }
        };
        for (i, v) in &self.set {
            if let Some(slot) = row.get_mut(*i) {
                slot.clone_from(v);
            }
        }
        Some(row)
    }
}

impl TableImages {
    /// Positions of the key columns (the schema's keys, else the first column).
    pub fn key_positions(&self, table: &str) -> Vec<usize> {
        match xcattab::schema::table(table) {
            Some(s) => s
                .keys
                .iter()
                .filter_map(|k| self.columns.iter().position(|c| c == k))
                .collect(),
            None => vec![0],
        }
    }
}

/// A journal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Journal {
    /// Format version ([`VERSION`]).
    pub version: u32,
    /// The store the move was made in (without credentials).
    pub store: String,
    /// The command line of the move.
    pub command: Vec<String>,
    /// Seconds since the epoch when it was written.
    pub created: u64,
    /// Nodes moved, as `old SN -> new SN` pairs with their counts, for people reading the file.
    pub summary: Vec<String>,
    /// The rows, by table.
    pub tables: BTreeMap<String, TableImages>,
}

/// Why a journal cannot be written or read.
#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    /// I/O.
    #[error("cannot {op} {}: {source}", path.display())]
    Io {
        /// What was being done (`read the journal`, `create the journal directory`, …).
        op: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Not a journal.
    #[error("{} is not a snmove journal: {source}", path.display())]
    Format {
        /// The file.
        path: PathBuf,
        /// Why.
        source: serde_json::Error,
    },
    /// A journal this version cannot use.
    #[error("{}: {reason}", path.display())]
    Invalid {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
}

impl Journal {
    /// The journal of `batch` (node-keyed `Set` and `Put` writes) applied to `db`.
    ///
    /// ```
    /// use xcattab::{Batch, Database, Table};
    /// let mut db = Database::new();
    /// db.insert(Table::new("noderes"));
    /// let mut b = Batch::new();
    /// b.set("noderes", "cn1", [("servicenode", "sn2,sn1")]);
    /// let j = snmove::journal::Journal::of(&db, &b, "CSV:/x", vec![]);
    /// let undo = j.undo_batch();
    /// b.apply(&mut db).unwrap();
    /// undo.apply(&mut db).unwrap();
    /// assert!(db.table("noderes").unwrap().is_empty(), "the created row is removed again");
    /// ```
    pub fn of(db: &Database, batch: &Batch, store: &str, command: Vec<String>) -> Self {
        let mut tables: BTreeMap<String, TableImages> = BTreeMap::new();
        // A row written twice keeps its first before-image; the writes accumulate.
        let mut index: std::collections::HashMap<(&str, &str), usize> = Default::default();
        let mut absent: BTreeMap<String, xcattab::Table> = BTreeMap::new();
        let mut keys: BTreeMap<&str, crate::index::KeyIndex<'_>> = BTreeMap::new();
        for op in &batch.ops {
            let (tname, key) = match op {
                Op::Set { table, key, .. }
                | Op::Put { table, key, .. }
                | Op::Delete { table, key } => (table, key),
                Op::Replace(_) => continue,
            };
            let Some(k) = key.first() else { continue };
            if db.table(tname).is_none() && !absent.contains_key(tname) {
                absent.insert(tname.clone(), xcattab::Table::new(tname));
            }
            let Some(table) = db.table(tname).or_else(|| absent.get(tname)) else {
                continue;
            };
            if !tables.contains_key(tname.as_str()) {
                tables.insert(
                    tname.clone(),
                    TableImages {
                        columns: table.columns().to_vec(),
                        rows: Vec::new(),
                    },
                );
            }
            let Some(entry) = tables.get_mut(tname.as_str()) else {
                continue;
            };
            let ix = keys
                .entry(tname.as_str())
                .or_insert_with(|| crate::index::KeyIndex::new(db.table(tname)));
            let slot = *index
                .entry((tname.as_str(), k.as_str()))
                .or_insert_with(|| {
                    entry.rows.push(RowImages {
                        key: k.clone(),
                        before: ix.row(k).cloned(),
                        ..RowImages::default()
                    });
                    entry.rows.len() - 1
                });
            let img = &mut entry.rows[slot];
            match op {
                Op::Set { values, .. } => {
                    let exists = !img.deleted
                        && (img.before.is_some() || img.replaced.is_some() || !img.set.is_empty());
                    // An upsert of only blank values into a missing row inserts nothing.
                    if !exists
                        && values
                            .iter()
                            .all(|(_, v)| v.as_deref().unwrap_or("").is_empty())
                    {
                        continue;
                    }
                    img.deleted = false;
                    for (c, v) in values {
                        let Some(i) = table.column_index(c) else {
                            continue;
                        };
                        match &mut img.replaced {
                            Some(row) => row[i].clone_from(v),
                            None => match img.set.iter_mut().find(|(j, _)| *j == i) {
                                Some(slot) => slot.1.clone_from(v),
                                None => img.set.push((i, v.clone())),
                            },
                        }
                    }
                }
                Op::Put { row, .. } => {
                    img.replaced = Some(row.clone());
                    img.set.clear();
                    img.deleted = false;
                }
                Op::Delete { .. } => {
                    img.deleted = true;
                    img.replaced = None;
                    img.set.clear();
                }
                Op::Replace(_) => continue,
            }
        }
        Journal {
            version: VERSION,
            store: store.to_string(),
            command,
            created: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0),
            summary: Vec::new(),
            tables,
        }
    }

    /// Number of rows recorded.
    pub fn rows(&self) -> usize {
        self.tables.values().map(|t| t.rows.len()).sum()
    }

    /// Writes the journal durably into `dir` (created if needed) as
    /// `snmove-<seconds>-<pid>.json`: a temporary file, fsynced, renamed, the directory fsynced.
    pub fn write(&self, dir: &Path) -> Result<PathBuf, JournalError> {
        let io = |op, path: &Path| {
            let path = path.to_path_buf();
            move |source| JournalError::Io { op, path, source }
        };
        std::fs::create_dir_all(dir).map_err(io("create the journal directory", dir))?;
        let mut path = dir.join(format!(
            "snmove-{}-{}.json",
            self.created,
            std::process::id()
        ));
        let mut n = 1;
        while path.exists() {
            path = dir.join(format!(
                "snmove-{}-{}-{n}.json",
                self.created,
                std::process::id()
            ));
            n += 1;
        }
        let tmp = path.with_extension("json.tmp");
        {
            let f = std::fs::File::create(&tmp).map_err(io("create the journal", &tmp))?;
            let mut w = std::io::BufWriter::new(f);
            serde_json::to_writer(&mut w, self).map_err(|e| JournalError::Io {
                op: "write the journal",
                path: tmp.clone(),
                source: e.into(),
            })?;
            w.write_all(b"\n").map_err(io("write the journal", &tmp))?;
            let f = w.into_inner().map_err(|e| JournalError::Io {
                op: "write the journal",
                path: tmp.clone(),
                source: e.into_error(),
            })?;
            f.sync_all().map_err(io("sync the journal", &tmp))?;
        }
        std::fs::rename(&tmp, &path).map_err(io("rename the journal", &tmp))?;
        std::fs::File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(io("sync the journal directory", dir))?;
        Ok(path)
    }

    /// Reads a journal.
    pub fn read(path: &Path) -> Result<Self, JournalError> {
        let text = std::fs::read_to_string(path).map_err(|source| JournalError::Io {
            op: "read the journal",
            path: path.to_path_buf(),
            source,
        })?;
        Self::parse(&text, path)
    }

    /// Parses and checks a journal's text (`path` is only named in errors).
    pub fn parse(text: &str, path: &Path) -> Result<Self, JournalError> {
        let j: Journal = serde_json::from_str(text).map_err(|source| JournalError::Format {
            path: path.to_path_buf(),
            source,
        })?;
        if j.version != VERSION {
            return Err(JournalError::Invalid {
                path: path.to_path_buf(),
                reason: format!(
                    "journal format version {} (this snmove reads version {VERSION})",
                    j.version
                ),
            });
        }
        for (name, t) in &j.tables {
            for r in &t.rows {
                if let Some((i, _)) = r.set.iter().find(|(i, _)| *i >= t.columns.len()) {
                    return Err(JournalError::Invalid {
                        path: path.to_path_buf(),
                        reason: format!(
                            "table {name}, row '{}': column position {i} of {} columns",
                            r.key,
                            t.columns.len()
                        ),
                    });
                }
                for row in [&r.before, &r.replaced].into_iter().flatten() {
                    if row.len() != t.columns.len() {
                        return Err(JournalError::Invalid {
                            path: path.to_path_buf(),
                            reason: format!(
                                "table {name}, row '{}': {} fields for {} columns",
                                r.key,
                                row.len(),
                                t.columns.len()
                            ),
                        });
                    }
                }
            }
        }
        Ok(j)
    }

    /// The batch that undoes the move: every row back to its before-image (rows that did not
    /// exist are deleted), refused at commit unless every row is still as the move left it.
    pub fn undo_batch(&self) -> Batch {
        let mut b = Batch::new();
        for (table, t) in &self.tables {
            let keys = t.key_positions(table);
            for r in &t.rows {
                b.expect(Expect {
                    table: table.clone(),
                    key: vec![r.key.clone()],
                    row: r.after(t.columns.len(), &keys),
                });
                match &r.before {
                    Some(row) => b.push(Op::Put {
                        table: table.clone(),
                        key: vec![r.key.clone()],
                        row: row.clone(),
                    }),
                    None => b.push(Op::Delete {
                        table: table.clone(),
                        key: vec![r.key.clone()],
                    }),
                };
            }
        }
        b
    }

    /// The tables the journal touches.
    pub fn table_names(&self) -> Vec<&str> {
        self.tables.keys().map(String::as_str).collect()
    }

    /// Checks that the store's tables still have the columns the journal was written with.
    pub fn check_columns(&self, db: &Database) -> Result<(), String> {
        for (name, t) in &self.tables {
            let now = db
                .table(name)
                .map(|x| x.columns().to_vec())
                .unwrap_or_else(|| xcattab::Table::new(name).columns().to_vec());
            if now != t.columns {
                return Err(format!(
                    "table {name} has columns {} now, but the journal was written with {}",
                    now.join(","),
                    t.columns.join(",")
                ));
            }
        }
        Ok(())
    }
}
