//! The journal of a move: the exact rows before the move (and the rows the move writes),
//! written before the commit, so `snmove --undo JOURNAL` can restore the database exactly.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use xcattab::{Batch, Database, Expect, Op, Row};

/// One row image.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RowImage {
    /// Table.
    pub table: String,
    /// Key (the node).
    pub key: String,
    /// The table's columns, in order, when the image was taken.
    pub columns: Vec<String>,
    /// The whole row; `None`: the row did not exist.
    pub row: Option<Row>,
}

/// A journal file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Journal {
    /// Format version.
    pub version: u32,
    /// The store (without credentials).
    pub store: String,
    /// The command line of the move.
    pub command: Vec<String>,
    /// Seconds since the epoch when written.
    pub created: u64,
    /// Rows before the move.
    pub before: Vec<RowImage>,
    /// The same rows after the move.
    pub after: Vec<RowImage>,
}

/// Journal errors.
#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    /// I/O.
    #[error("cannot {op} journal {}: {source}", path.display())]
    Io {
        /// What.
        op: &'static str,
        /// Where.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Not a journal.
    #[error("{} is not a snmove journal: {source}", path.display())]
    Format {
        /// Where.
        path: PathBuf,
        /// Why.
        source: serde_json::Error,
    },
    /// Written for another store.
    #[error("{} was written for {journal}, not {store}", path.display())]
    OtherStore {
        /// Where.
        path: PathBuf,
        /// The journal's store.
        journal: String,
        /// The store in use.
        store: String,
    },
    /// Bad contents.
    #[error("{}: {reason}", path.display())]
    Invalid {
        /// Where.
        path: PathBuf,
        /// Why.
        reason: String,
    },
}

fn image(db: &Database, table: &str, key: &str) -> RowImage {
    let t = db.table(table);
    RowImage {
        table: table.to_string(),
        key: key.to_string(),
        columns: t.map(|t| t.columns().to_vec()).unwrap_or_default(),
        row: t.and_then(|t| t.find(&[key]).map(|i| t.rows()[i].clone())),
    }
}

impl Journal {
    /// Builds the journal of `batch` applied to `db`: images of every row it writes, before and
    /// after (computed by applying the batch to a copy).
    pub fn of(db: &Database, batch: &Batch, store: &str, command: Vec<String>) -> Result<Self, xcattab::batch::BatchError> {
        let mut keys: Vec<(String, String)> = Vec::new();
        for op in &batch.ops {
            if let Op::Set { table, key, .. } | Op::Put { table, key, .. } | Op::Delete { table, key } = op {
                if let Some(k) = key.first() {
                    keys.push((table.clone(), k.clone()));
                }
            }
        }
        keys.sort();
        keys.dedup();
        let mut after_db = Database::new();
        for t in keys.iter().map(|(t, _)| t).collect::<std::collections::BTreeSet<_>>() {
            if let Some(table) = db.table(t) {
                after_db.insert(table.clone());
            }
        }
        let mut plain = batch.clone();
        plain.expects.clear();
        plain.apply(&mut after_db)?;
        Ok(Journal {
            version: 1,
            store: store.to_string(),
            command,
            created: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0),
            before: keys.iter().map(|(t, k)| image(db, t, k)).collect(),
            after: keys.iter().map(|(t, k)| image(&after_db, t, k)).collect(),
        })
    }

    /// Writes the journal durably (temporary file, fsync, rename) as `dir/snmove-<time>-<pid>.json`.
    pub fn write(&self, dir: &Path) -> Result<PathBuf, JournalError> {
        let io = |op, path: &Path| {
            let path = path.to_path_buf();
            move |source| JournalError::Io { op, path, source }
        };
        std::fs::create_dir_all(dir).map_err(io("create the directory of", dir))?;
        let path = dir.join(format!("snmove-{}-{}.json", self.created, std::process::id()));
        let tmp = path.with_extension("json.tmp");
        let text = serde_json::to_string_pretty(self).map_err(|e| JournalError::Invalid {
            path: path.clone(),
            reason: e.to_string(),
        })?;
        {
            use std::io::Write;
            let mut f = std::fs::File::create(&tmp).map_err(io("create", &tmp))?;
            f.write_all(text.as_bytes()).and_then(|_| f.sync_all()).map_err(io("write", &tmp))?;
        }
        std::fs::rename(&tmp, &path).map_err(io("rename", &tmp))?;
        if let Ok(d) = std::fs::File::open(dir) {
            let _ = d.sync_all();
        }
        Ok(path)
    }

    /// Reads a journal.
    pub fn read(path: &Path) -> Result<Self, JournalError> {
        let text = std::fs::read_to_string(path).map_err(|source| JournalError::Io {
            op: "read",
            path: path.to_path_buf(),
            source,
        })?;
        let j: Journal = serde_json::from_str(&text).map_err(|source| JournalError::Format {
            path: path.to_path_buf(),
            source,
        })?;
        if j.version != 1 || j.before.len() != j.after.len() {
            return Err(JournalError::Invalid {
                path: path.to_path_buf(),
                reason: "unsupported version or inconsistent row lists".into(),
            });
        }
        Ok(j)
    }

    /// The batch that undoes the move: each row back to its before-image (rows that did not
    /// exist are deleted again), refused at commit unless every row is still as the move left
    /// it.
    pub fn undo_batch(&self) -> Batch {
        let mut b = Batch::new();
        for (before, after) in self.before.iter().zip(&self.after) {
            b.expect(Expect {
                table: after.table.clone(),
                key: vec![after.key.clone()],
                row: after.row.clone(),
            });
            match &before.row {
                Some(row) => b.push(Op::Put {
                    table: before.table.clone(),
                    key: vec![before.key.clone()],
                    row: row.clone(),
                }),
                None => b.push(Op::Delete {
                    table: before.table.clone(),
                    key: vec![before.key.clone()],
                }),
            };
        }
        b
    }
}
