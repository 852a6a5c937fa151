//! Batched writes: node-level upserts (xCAT's `setNodeAttribs`), row deletes, row and table
//! replacement, and expectations checked at commit time. A [`Batch`] is applied by a store in
//! one atomic commit: every table it touches is either entirely old or entirely new.

use std::collections::BTreeSet;

use crate::database::Database;
use crate::table::{Row, Table, Value};

/// One write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    /// Upsert the row keyed exactly `key` (no notion of groups), as xCAT's `setNodeAttribs`:
    /// update the given columns if a row with that key exists (disabled or not; the text
    /// `NULL` is then stored as NULL), otherwise insert a new row at the end holding the key
    /// and the given columns (verbatim) — unless every given value is NULL or empty, in which
    /// case nothing is inserted.
    Set {
        /// Table name.
        table: String,
        /// Key values, in the table's key-column order.
        key: Vec<String>,
        /// Columns and their new values.
        values: Vec<(String, Value)>,
    },
    /// Delete the first row keyed `key` (nothing if there is none).
    Delete {
        /// Table name.
        table: String,
        /// Key values.
        key: Vec<String>,
    },
    /// Make the row keyed `key` exactly `row` (all columns, in table column order): replace it
    /// in place if it exists, else append it. Used to restore journals.
    Put {
        /// Table name.
        table: String,
        /// Key values.
        key: Vec<String>,
        /// The whole row.
        row: Row,
    },
    /// Replace the whole table (tabrestore).
    Replace(Table),
}

/// A condition checked under the store's lock before anything is written: the first row keyed
/// `key` must be exactly `row` (`None`: no such row).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expect {
    /// Table name.
    pub table: String,
    /// Key values.
    pub key: Vec<String>,
    /// The expected row, all columns in the table's column order.
    pub row: Option<Row>,
}

/// A set of writes committed together.
///
/// ```
/// use xcattab::{Batch, Database, Table};
/// let mut db = Database::new();
/// db.insert(Table::new("noderes"));
/// let mut batch = Batch::new();
/// batch.set("noderes", "cn1", [("servicenode", "sn2,sn1"), ("xcatmaster", "10.1.0.2")]);
/// let changed = batch.apply(&mut db).unwrap();
/// assert_eq!(changed.into_iter().collect::<Vec<_>>(), ["noderes"]);
/// assert_eq!(xcattab::csv::dump(db.table("noderes").unwrap()).lines().nth(1).unwrap(),
///            r#""cn1","sn2,sn1",,,,,,,,,,,"10.1.0.2",,,,,,,,,"#);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Batch {
    /// The writes, applied in order.
    pub ops: Vec<Op>,
    /// Conditions checked before any write.
    pub expects: Vec<Expect>,
    /// Whole tables that must be exactly as given before any write (for read-modify-write of a
    /// whole table, such as `tabrestore -a`).
    pub expect_tables: Vec<Table>,
}

/// Why a batch could not be applied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BatchError {
    /// A row changed since it was read.
    #[error("table {table}: the row keyed '{}' changed since it was read (another writer?)", key.join("', '"))]
    Conflict {
        /// Table name.
        table: String,
        /// Key of the row.
        key: Vec<String>,
    },
    /// A whole table changed since it was read.
    #[error("table {table} changed since it was read (another writer?); nothing was written")]
    TableChanged {
        /// Table name.
        table: String,
    },
    /// A column is not part of the table.
    #[error("table {table} has no column '{column}'")]
    NoSuchColumn {
        /// Table name.
        table: String,
        /// Column name.
        column: String,
    },
    /// A key with the wrong number of values.
    #[error("table {table} is keyed by {expected} column(s), but {got} key value(s) were given")]
    KeyArity {
        /// Table name.
        table: String,
        /// Number of key columns.
        expected: usize,
        /// Number given.
        got: usize,
    },
    /// A whole row with the wrong number of fields.
    #[error("table {table} has {expected} columns, but a row of {got} fields was given")]
    RowWidth {
        /// Table name.
        table: String,
        /// Number of columns.
        expected: usize,
        /// Number given.
        got: usize,
    },
}

impl Batch {
    /// An empty batch.
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether the batch writes nothing.
    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }

    /// Adds a node-level upsert of `table` keyed `key` (see [`Op::Set`]).
    pub fn set<'a>(
        &mut self,
        table: &str,
        key: &str,
        values: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> &mut Self {
        self.ops.push(Op::Set {
            table: table.to_string(),
            key: vec![key.to_string()],
            values: values
                .into_iter()
                .map(|(c, v)| (c.to_string(), Some(v.to_string())))
                .collect(),
        });
        self
    }

    /// Adds any write.
    pub fn push(&mut self, op: Op) -> &mut Self {
        self.ops.push(op);
        self
    }

    /// Adds a condition checked before anything is written.
    pub fn expect(&mut self, expect: Expect) -> &mut Self {
        self.expects.push(expect);
        self
    }

    /// Names of the tables the batch reads or writes.
    pub fn tables(&self) -> BTreeSet<String> {
        let mut t: BTreeSet<String> = self.expects.iter().map(|e| e.table.clone()).collect();
        t.extend(self.expect_tables.iter().map(|t| t.name().to_string()));
        for op in &self.ops {
            t.insert(
                match op {
                    Op::Set { table, .. } | Op::Delete { table, .. } | Op::Put { table, .. } => {
                        table.as_str()
                    }
                    Op::Replace(t) => t.name(),
                }
                .to_string(),
            );
        }
        t
    }

    /// Checks the expectations, then applies the writes to `db` (tables not loaded are created
    /// empty). Returns the names of the tables whose content actually changed. On error `db`
    /// may be partly modified: stores apply batches to a scratch copy.
    ///
    /// Rows are found through each table's hash index (built once), so a batch of N writes
    /// costs O(rows + N), whatever N is.
    pub fn apply(&self, db: &mut Database) -> Result<BTreeSet<String>, BatchError> {
        for want in &self.expect_tables {
            if db.table_mut(want.name()) != want {
                return Err(BatchError::TableChanged {
                    table: want.name().to_string(),
                });
            }
        }
        // Per-table deletion marks; rows are found through each table's own hash index.
        let mut state: Vec<(String, TableState)> = Vec::new();
        for e in &self.expects {
            let t = db.table_mut(&e.table);
            let st = state_for(&mut state, t);
            check_arity(t, e.key.len())?;
            let current = st.find(t, &e.key).map(|i| &t.rows()[i]);
            if current != e.row.as_ref() {
                return Err(BatchError::Conflict {
                    table: e.table.clone(),
                    key: e.key.clone(),
                });
            }
        }
        let mut changed = BTreeSet::new();
        let mut note = |name: &str, did: bool| {
            if did && !changed.contains(name) {
                changed.insert(name.to_string());
            }
        };
        for op in &self.ops {
            match op {
                Op::Set { table, key, values } => {
                    let t = db.table_mut(table);
                    let st = state_for(&mut state, t);
                    note(table, st.set(t, key, values)?);
                }
                Op::Delete { table, key } => {
                    let t = db.table_mut(table);
                    let st = state_for(&mut state, t);
                    note(table, st.delete(t, key)?);
                }
                Op::Put { table, key, row } => {
                    let t = db.table_mut(table);
                    let st = state_for(&mut state, t);
                    note(table, st.put(t, key, row)?);
                }
                Op::Replace(new) => {
                    // Finish pending deletes of the old content first, then start afresh.
                    if let Some(pos) = state.iter().position(|(n, _)| n == new.name()) {
                        let (_, st) = state.swap_remove(pos);
                        st.finish(db.table_mut(new.name()));
                    }
                    let t = db.table_mut(new.name());
                    let did = t != new;
                    if did {
                        *t = new.clone();
                    }
                    note(new.name(), did);
                }
            }
        }
        for (name, st) in state {
            st.finish(db.table_mut(&name));
        }
        Ok(changed)
    }
}

fn check_arity(t: &Table, got: usize) -> Result<(), BatchError> {
    let expected = t.key_count();
    if expected != got {
        return Err(BatchError::KeyArity {
            table: t.name().to_string(),
            expected,
            got,
        });
    }
    Ok(())
}

/// Rows deleted while a batch is applied: marked, and removed in one pass at the end so row
/// positions (and the table's key index) stay valid meanwhile.
#[derive(Default)]
struct TableState {
    deleted: Vec<bool>,
    any_deleted: bool,
}

fn state_for<'a>(state: &'a mut Vec<(String, TableState)>, t: &Table) -> &'a mut TableState {
    let pos = match state.iter().position(|(n, _)| n == t.name()) {
        Some(p) => p,
        None => {
            state.push((t.name().to_string(), TableState::default()));
            state.len() - 1
        }
    };
    &mut state[pos].1
}

impl TableState {
    fn is_deleted(&self, i: usize) -> bool {
        self.any_deleted && self.deleted.get(i).copied().unwrap_or(false)
    }

    /// The first live row with this key.
    fn find(&self, t: &Table, key: &[String]) -> Option<usize> {
        let i = t.find(key)?;
        if !self.is_deleted(i) {
            return Some(i);
        }
        // The first row with the key was deleted in this batch: a later duplicate (possible in
        // a hand-edited file) is the row now.
        let cols = t.key_indices();
        (i + 1..t.len()).find(|&j| {
            !self.is_deleted(j)
                && cols
                    .iter()
                    .zip(key)
                    .all(|(&c, k)| t.value(j, c).unwrap_or("") == k)
        })
    }

    fn delete(&mut self, t: &Table, key: &[String]) -> Result<bool, BatchError> {
        check_arity(t, key.len())?;
        match self.find(t, key) {
            Some(i) => {
                if self.deleted.len() < t.len() {
                    self.deleted.resize(t.len(), false);
                }
                self.deleted[i] = true;
                self.any_deleted = true;
                Ok(true)
            }
            None => Ok(false),
        }
    }

    fn put(&mut self, t: &mut Table, key: &[String], row: &Row) -> Result<bool, BatchError> {
        if row.len() != t.columns().len() {
            return Err(BatchError::RowWidth {
                table: t.name().to_string(),
                expected: t.columns().len(),
                got: row.len(),
            });
        }
        check_arity(t, key.len())?;
        match self.find(t, key) {
            Some(i) => Ok(t.replace_row(i, row.clone())),
            None => {
                t.push_row(row.clone());
                Ok(true)
            }
        }
    }

    fn set(
        &mut self,
        t: &mut Table,
        key: &[String],
        values: &[(String, Value)],
    ) -> Result<bool, BatchError> {
        check_arity(t, key.len())?;
        let mut cols: [(usize, &Value); 16] = [(0, &None); 16];
        let mut spill = Vec::new();
        for (n, (c, v)) in values.iter().enumerate() {
            let i = t.column_index(c).ok_or_else(|| BatchError::NoSuchColumn {
                table: t.name().to_string(),
                column: c.clone(),
            })?;
            if n < 16 {
                cols[n] = (i, v);
            } else {
                spill.push((i, v));
            }
        }
        let cols = cols[..values.len().min(16)].iter().chain(spill.iter());
        match self.find(t, key) {
            Some(i) => {
                let mut did = false;
                for &(c, v) in cols {
                    // xCAT's update path stores the text NULL as SQL NULL (its insert path
                    // stores it verbatim).
                    let v = if v.as_deref() == Some("NULL") {
                        &None
                    } else {
                        v
                    };
                    did |= t.set_value(i, c, v.clone());
                }
                Ok(did)
            }
            None => {
                if values
                    .iter()
                    .all(|(_, v)| v.as_deref().unwrap_or("").is_empty())
                {
                    return Ok(false);
                }
                let mut row: Row = vec![None; t.columns().len()];
                for (&kc, k) in t.key_indices().iter().zip(key) {
                    row[kc] = Some(k.clone());
                }
                for &(c, v) in cols {
                    row[c].clone_from(v);
                }
                t.push_row(row);
                Ok(true)
            }
        }
    }

    fn finish(self, t: &mut Table) {
        if self.any_deleted {
            let mut i = 0;
            t.retain_rows(|_| {
                let keep = !self.deleted.get(i).copied().unwrap_or(false);
                i += 1;
                keep
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn noderes() -> Database {
        let mut db = Database::new();
        let mut t = Table::new("noderes");
        let mut r = vec![None; t.columns().len()];
        r[0] = Some("cn1".into());
        r[1] = Some("sn1,sn2".into());
        t.push_row(r);
        db.insert(t);
        db
    }

    #[test]
    fn update_keeps_position_and_other_columns() {
        let mut db = noderes();
        let mut b = Batch::new();
        b.set("noderes", "cn1", [("xcatmaster", "sn2-c")]);
        assert_eq!(b.apply(&mut db).unwrap().len(), 1);
        let t = db.table("noderes").unwrap();
        assert_eq!(t.len(), 1);
        assert_eq!(t.value(0, 1), Some("sn1,sn2"));
        assert_eq!(t.value(0, 12), Some("sn2-c"));
    }

    #[test]
    fn insert_of_only_blanks_creates_nothing() {
        let mut db = noderes();
        let mut b = Batch::new();
        b.set("noderes", "cn2", [("xcatmaster", "")]);
        assert!(b.apply(&mut db).unwrap().is_empty());
        assert_eq!(db.table("noderes").unwrap().len(), 1);
    }

    #[test]
    fn unchanged_values_do_not_mark_the_table() {
        let mut db = noderes();
        let mut b = Batch::new();
        b.set("noderes", "cn1", [("servicenode", "sn1,sn2")]);
        assert!(b.apply(&mut db).unwrap().is_empty());
    }

    #[test]
    fn expectation_mismatch_is_a_conflict() {
        let mut db = noderes();
        let mut b = Batch::new();
        b.expect(Expect {
            table: "noderes".into(),
            key: vec!["cn1".into()],
            row: None,
        });
        b.set("noderes", "cn1", [("xcatmaster", "x")]);
        assert!(matches!(b.apply(&mut db), Err(BatchError::Conflict { .. })));
    }

    #[test]
    fn unknown_column_is_an_error() {
        let mut db = noderes();
        let mut b = Batch::new();
        b.set("noderes", "cn1", [("conserver", "sn2")]);
        assert_eq!(
            b.apply(&mut db).unwrap_err().to_string(),
            "table noderes has no column 'conserver'"
        );
    }

    #[test]
    fn delete_and_put_restore_rows() {
        let mut db = noderes();
        let before = db.clone();
        let mut b = Batch::new();
        b.set("noderes", "cn9", [("servicenode", "sn3")]);
        b.set("noderes", "cn1", [("servicenode", "sn2,sn1")]);
        b.apply(&mut db).unwrap();
        let mut undo = Batch::new();
        undo.push(Op::Delete {
            table: "noderes".into(),
            key: vec!["cn9".into()],
        });
        undo.push(Op::Put {
            table: "noderes".into(),
            key: vec!["cn1".into()],
            row: before.table("noderes").unwrap().rows()[0].clone(),
        });
        undo.apply(&mut db).unwrap();
        assert_eq!(db, before);
    }
}
