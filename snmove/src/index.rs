//! Row lookup by key in O(1): [`xcattab::Table::find`] scans the rows, which a move over tens of
//! thousands of nodes cannot afford once per node.

use std::collections::HashMap;

use xcattab::{Row, Table};

/// The first row of each single-column key of a table (the row `Table::find` would return).
#[derive(Debug, Default)]
pub struct KeyIndex<'a> {
    table: Option<&'a Table>,
    rows: HashMap<&'a str, usize>,
}

impl<'a> KeyIndex<'a> {
    /// Indexes `table` (nothing if absent).
    ///
    /// ```
    /// let mut t = xcattab::Table::new("nodehm");
    /// t.push_row(vec![Some("cn1".into())]);
    /// t.push_row(vec![Some("cn1".into()), Some("second".into())]);
    /// let ix = snmove::index::KeyIndex::new(Some(&t));
    /// assert_eq!(ix.position("cn1"), Some(0));
    /// assert!(ix.row("cn2").is_none());
    /// ```
    pub fn new(table: Option<&'a Table>) -> Self {
        let mut rows = HashMap::new();
        if let Some(t) = table {
            if let Some(&k) = t.key_indices().first() {
                rows.reserve(t.len());
                for (i, r) in t.rows().iter().enumerate() {
                    rows.entry(r.get(k).and_then(|v| v.as_deref()).unwrap_or(""))
                        .or_insert(i);
                }
            }
        }
        KeyIndex { table, rows }
    }

    /// The position of the first row keyed `key`.
    pub fn position(&self, key: &str) -> Option<usize> {
        self.rows.get(key).copied()
    }

    /// The first row keyed `key`.
    pub fn row(&self, key: &str) -> Option<&'a Row> {
        let t = self.table?;
        self.position(key).map(|i| &t.rows()[i])
    }
}
