//! In-memory tables: a column list and rows of nullable text values, in storage order.

use rustc_hash::FxHashMap;
use std::sync::OnceLock;

use crate::schema::{self, TableSchema};

/// One field: `None` is SQL NULL, `Some("")` is the empty string (distinct in storage; both
/// count as "unset" when attributes are resolved).
pub type Value = Option<String>;

/// One row, with one field per column of its [`Table`], in the table's column order.
pub type Row = Vec<Value>;

/// Whether a row with this `disable` value is enabled, with xCAT's exact predicate:
/// `disable IS NULL OR disable IN ('0','no','NO','No','nO')`. The empty string **disables**.
///
/// ```
/// use xcattab::table::is_enabled_value;
/// assert!(is_enabled_value(None));
/// assert!(is_enabled_value(Some("nO")));
/// assert!(!is_enabled_value(Some("")));
/// assert!(!is_enabled_value(Some("false")));
/// ```
pub fn is_enabled_value(disable: Option<&str>) -> bool {
    matches!(disable, None | Some("0" | "no" | "NO" | "No" | "nO"))
}

/// A table: its name, its columns and its rows in storage order (the order `tabdump` prints).
///
/// The columns are the schema's columns in schema order, followed by any column found in the
/// store that the schema does not know (kept untouched, never dropped). A table the schema does
/// not know keeps the columns it was read with.
///
/// Lookups by key ([`Table::find`]) go through a hash index built on first use and kept up to
/// date by appends, so finding each of N nodes costs O(N) in total, not O(N²).
#[derive(Clone)]
pub struct Table {
    name: String,
    columns: Vec<String>,
    rows: Vec<Row>,
    disable_col: Option<usize>,
    key_cols: Vec<usize>,
    /// Column name → position.
    col_map: FxHashMap<Box<str>, usize>,
    /// Key text (key fields joined by NUL, NULL read as '') → index of the first row with it.
    index: OnceLock<FxHashMap<Box<str>, usize>>,
}

impl PartialEq for Table {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name && self.columns == other.columns && self.rows == other.rows
    }
}

impl Eq for Table {}

impl std::fmt::Debug for Table {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Table")
            .field("name", &self.name)
            .field("columns", &self.columns)
            .field("rows", &self.rows)
            .finish()
    }
}

fn key_text<'a>(parts: impl Iterator<Item = &'a str>) -> Box<str> {
    let mut k = String::new();
    for (i, p) in parts.enumerate() {
        if i > 0 {
            k.push('\0');
        }
        k.push_str(p);
    }
    k.into_boxed_str()
}

impl Table {
    /// An empty table with the schema's columns (no columns if the schema does not know it).
    ///
    /// ```
    /// let t = xcattab::Table::new("site");
    /// assert_eq!(t.columns(), ["key", "value", "comments", "disable"]);
    /// ```
    pub fn new(name: &str) -> Self {
        let columns = schema::table(name)
            .map(|s| s.columns.iter().map(|c| c.to_string()).collect())
            .unwrap_or_default();
        Self::with_columns(name, columns)
    }

    /// An empty table with exactly these columns.
    pub fn with_columns(name: &str, columns: Vec<String>) -> Self {
        let mut t = Table {
            name: name.to_string(),
            columns,
            rows: Vec::new(),
            disable_col: None,
            key_cols: Vec::new(),
            col_map: FxHashMap::default(),
            index: OnceLock::new(),
        };
        t.columns_changed();
        t
    }

    fn columns_changed(&mut self) {
        self.col_map = FxHashMap::default();
        for (i, c) in self.columns.iter().enumerate() {
            self.col_map.entry(c.as_str().into()).or_insert(i);
        }
        self.disable_col = self.columns.iter().position(|c| c == "disable");
        self.key_cols = match schema::table(&self.name) {
            Some(s) => s
                .keys
                .iter()
                .filter_map(|k| self.columns.iter().position(|c| c == k))
                .collect(),
            None if !self.columns.is_empty() => vec![0],
            None => Vec::new(),
        };
        self.index = OnceLock::new();
    }

    /// The schema columns in schema order, then `extra` columns that the schema lacks.
    pub fn with_schema_and_extra(name: &str, extra: &[String]) -> Self {
        let mut t = Self::new(name);
        for c in extra {
            if !t.columns.iter().any(|x| x == c) {
                t.columns.push(c.clone());
            }
        }
        t.columns_changed();
        t
    }

    /// The table name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The schema entry of this table, if the schema knows it.
    pub fn schema(&self) -> Option<&'static TableSchema> {
        schema::table(&self.name)
    }

    /// The columns, in order.
    pub fn columns(&self) -> &[String] {
        &self.columns
    }

    /// The rows, in storage order.
    pub fn rows(&self) -> &[Row] {
        &self.rows
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether the table has no rows.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Position of a column.
    pub fn column_index(&self, column: &str) -> Option<usize> {
        self.col_map.get(column).copied()
    }

    /// Positions of the key columns: the schema's keys, or the first column for tables the
    /// schema does not know.
    pub fn key_indices(&self) -> Vec<usize> {
        self.key_cols.clone()
    }

    /// The key of a row as text values (NULL key fields read as the empty string, as xCAT
    /// stores them).
    pub fn row_key<'a>(&self, row: &'a Row) -> Vec<&'a str> {
        self.key_cols
            .iter()
            .map(|&i| row.get(i).and_then(|v| v.as_deref()).unwrap_or(""))
            .collect()
    }

    fn row_key_text(&self, row: &Row) -> Box<str> {
        key_text(
            self.key_cols
                .iter()
                .map(|&i| row.get(i).and_then(|v| v.as_deref()).unwrap_or("")),
        )
    }

    /// Reserves room for `additional` more rows.
    pub fn reserve(&mut self, additional: usize) {
        self.rows.reserve(additional);
    }

    /// Appends a row; it is padded with NULLs or truncated to the number of columns.
    pub fn push_row(&mut self, mut row: Row) {
        row.resize(self.columns.len(), None);
        if self.index.get().is_some() {
            let k = self.row_key_text(&row);
            let i = self.rows.len();
            if let Some(ix) = self.index.get_mut() {
                ix.entry(k).or_insert(i);
            }
        }
        self.rows.push(row);
    }

    /// Mutable access to one row (the key index is rebuilt on the next lookup).
    pub fn row_mut(&mut self, index: usize) -> Option<&mut Row> {
        self.index = OnceLock::new();
        self.rows.get_mut(index)
    }

    /// Removes the row at `index`, keeping the order of the others.
    pub fn remove_row(&mut self, index: usize) -> Row {
        self.index = OnceLock::new();
        self.rows.remove(index)
    }

    /// Keeps only the rows for which `keep` returns true, in order.
    pub fn retain_rows(&mut self, keep: impl FnMut(&Row) -> bool) {
        self.index = OnceLock::new();
        self.rows.retain(keep);
    }

    /// Removes every row.
    pub fn clear(&mut self) {
        self.index = OnceLock::new();
        self.rows.clear();
    }

    /// The raw value of `column` in row `index`.
    pub fn value(&self, index: usize, column: usize) -> Option<&str> {
        self.rows.get(index)?.get(column)?.as_deref()
    }

    /// Whether row `index` is enabled (see [`is_enabled_value`]).
    pub fn is_row_enabled(&self, index: usize) -> bool {
        match self.disable_col {
            Some(c) => is_enabled_value(self.value(index, c)),
            None => true,
        }
    }

    /// Whether a row of this table is enabled.
    pub fn row_enabled(&self, row: &Row) -> bool {
        match self.disable_col {
            Some(c) => is_enabled_value(row.get(c).and_then(|v| v.as_deref())),
            None => true,
        }
    }

    /// The index of the first row whose key equals `key` (all key columns, in key order; a
    /// NULL key field equals `""`), disabled rows included. O(1) after a first O(rows) call.
    ///
    /// ```
    /// let t = xcattab::csv::table_from_csv("site", "#key,value\n\"a\",\"1\"\n\"b\",\"2\"\n").unwrap();
    /// assert_eq!(t.find(&["b"]), Some(1));
    /// assert_eq!(t.find(&["c"]), None);
    /// ```
    pub fn find<K: AsRef<str>>(&self, key: &[K]) -> Option<usize> {
        if self.key_cols.len() != key.len() {
            return None;
        }
        let ix = self.index.get_or_init(|| {
            let mut m = FxHashMap::with_capacity_and_hasher(self.rows.len(), Default::default());
            for (i, r) in self.rows.iter().enumerate() {
                m.entry(self.row_key_text(r)).or_insert(i);
            }
            m
        });
        match key {
            [one] => ix.get(one.as_ref()).copied(),
            _ => ix.get(&*key_text(key.iter().map(AsRef::as_ref))).copied(),
        }
    }

    /// Number of key columns.
    pub fn key_count(&self) -> usize {
        self.key_cols.len()
    }

    /// Sets one field; returns whether it changed. Keeps the key index valid (it is rebuilt
    /// on the next lookup when a key column changes).
    pub fn set_value(&mut self, row: usize, col: usize, value: Value) -> bool {
        let Some(slot) = self.rows.get_mut(row).and_then(|r| r.get_mut(col)) else {
            return false;
        };
        if *slot == value {
            return false;
        }
        *slot = value;
        if self.key_cols.contains(&col) {
            self.index = OnceLock::new();
        }
        true
    }

    /// Replaces a whole row (padded or truncated to the columns); returns whether it changed.
    pub fn replace_row(&mut self, index: usize, mut row: Row) -> bool {
        row.resize(self.columns.len(), None);
        let Some(slot) = self.rows.get_mut(index) else {
            return false;
        };
        if *slot == row {
            return false;
        }
        let key_changed = self.key_cols.iter().any(|&c| slot[c] != row[c]);
        *slot = row;
        if key_changed {
            self.index = OnceLock::new();
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn disable_predicate_is_exact() {
        for v in ["0", "no", "NO", "No", "nO"] {
            assert!(is_enabled_value(Some(v)), "{v}");
        }
        for v in ["", "1", "yes", "false", "off", "n", " no", "no "] {
            assert!(!is_enabled_value(Some(v)), "{v:?}");
        }
        assert!(is_enabled_value(None));
    }

    #[test]
    fn extra_columns_are_kept_after_schema_columns() {
        let t = Table::with_schema_and_extra("site", &["zzz".into(), "value".into()]);
        assert_eq!(t.columns(), ["key", "value", "comments", "disable", "zzz"]);
    }

    #[test]
    fn find_by_composite_key() {
        let mut t = Table::new("networks");
        let mut r = vec![None; t.columns().len()];
        r[1] = Some("10.0.0.0".into());
        r[2] = Some("255.0.0.0".into());
        t.push_row(r);
        assert_eq!(t.find(&["10.0.0.0", "255.0.0.0"]), Some(0));
        assert_eq!(t.find(&["10.0.0.0"]), None);
        assert!(t.is_row_enabled(0));
    }
}
