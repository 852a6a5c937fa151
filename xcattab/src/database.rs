//! A consistent snapshot of some tables of a store.

use std::collections::BTreeMap;

use crate::table::Table;

/// Tables read from one store at one instant, by name.
///
/// ```
/// let mut db = xcattab::Database::new();
/// db.insert(xcattab::Table::new("site"));
/// assert!(db.table("site").is_some());
/// assert!(db.table("noderes").is_none());
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Database {
    tables: BTreeMap<String, Table>,
}

impl Database {
    /// An empty snapshot.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds or replaces a table.
    pub fn insert(&mut self, table: Table) {
        self.tables.insert(table.name().to_string(), table);
    }

    /// A table, if it was loaded.
    pub fn table(&self, name: &str) -> Option<&Table> {
        self.tables.get(name)
    }

    /// A table for modification, created empty (schema columns) if it was not loaded.
    pub fn table_mut(&mut self, name: &str) -> &mut Table {
        self.tables
            .entry(name.to_string())
            .or_insert_with(|| Table::new(name))
    }

    /// Removes a table from the snapshot.
    pub fn remove(&mut self, name: &str) -> Option<Table> {
        self.tables.remove(name)
    }

    /// The loaded tables, by name.
    pub fn tables(&self) -> impl Iterator<Item = &Table> {
        self.tables.values()
    }

    /// The names of the loaded tables.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.tables.keys().map(String::as_str)
    }
}
