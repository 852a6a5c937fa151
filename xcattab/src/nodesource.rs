//! The noderange language over xCAT tables: [`DbNodeSource`] implements
//! [`noderange::NodeSource`] on a [`Database`] snapshot, with attribute values resolved by
//! [`Resolver`] (node row, then the node's groups, computed values applied) exactly as
//! xCAT's `getNodesAttribs` gives them to `NodeRange.pm`.
//!
//! ```
//! use xcattab::{csv, nodesource::DbNodeSource, Database};
//! use noderange::{Evaluator, Options};
//! let mut db = Database::new();
//! db.insert(csv::table_from_csv("nodelist", "#node,groups\n\"cn1\",\"compute,rack1\"\n\"cn2\",\"compute\"\n").unwrap());
//! db.insert(csv::table_from_csv("nodehm", "#node,mgt\n\"compute\",\"ipmi\"\n\"cn2\",\"openbmc\"\n").unwrap());
//! let src = DbNodeSource::new(&db);
//! let ev = Evaluator::new(&src);
//! let o = Options::default();
//! assert_eq!(ev.nodes("compute,-rack1", &o).unwrap().to_vec(), ["cn2"]);
//! assert_eq!(ev.nodes("nodehm.mgt==ipmi", &o).unwrap().to_vec(), ["cn1"]);
//! ```

use noderange::{GroupDef, NodeSource};

use crate::resolve::Resolver;
use crate::Database;

/// [`NodeSource`] over a [`Database`] snapshot. The snapshot should hold `nodelist`,
/// `nodegroup`, `site` and every table that attribute selections or dynamic groups refer to
/// (a table that is not loaded reads as unset everywhere).
pub struct DbNodeSource<'db> {
    db: &'db Database,
    resolver: Resolver<'db>,
}

impl std::fmt::Debug for DbNodeSource<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DbNodeSource").finish_non_exhaustive()
    }
}

impl<'db> DbNodeSource<'db> {
    /// Prepares the source (indexes `nodelist` for attribute resolution).
    pub fn new(db: &'db Database) -> Self {
        DbNodeSource {
            db,
            resolver: Resolver::new(db),
        }
    }

    /// The resolver used for attribute values.
    pub fn resolver(&self) -> &Resolver<'db> {
        &self.resolver
    }

    /// Enabled rows of `table` as (column → value) lookups.
    fn enabled_rows(&self, table: &str, columns: &[&str]) -> Vec<Vec<Option<String>>> {
        let Some(t) = self.db.table(table) else {
            return Vec::new();
        };
        let idx: Vec<Option<usize>> = columns.iter().map(|c| t.column_index(c)).collect();
        (0..t.len())
            .filter(|&i| t.is_row_enabled(i))
            .map(|i| {
                idx.iter()
                    .map(|c| c.and_then(|c| t.value(i, c)).map(str::to_string))
                    .collect()
            })
            .collect()
    }
}

impl NodeSource for DbNodeSource<'_> {
    fn nodelist(&self) -> Vec<(String, Option<String>)> {
        self.enabled_rows("nodelist", &["node", "groups"])
            .into_iter()
            .filter_map(|mut r| {
                let groups = r.pop().flatten();
                let node = r.pop().flatten()?;
                Some((node, groups))
            })
            .collect()
    }

    fn nodegroups(&self) -> Vec<GroupDef> {
        self.enabled_rows("nodegroup", &["groupname", "grouptype", "wherevals"])
            .into_iter()
            .filter_map(|mut r| {
                let wherevals = r.pop().flatten();
                let grouptype = r.pop().flatten();
                let name = r.pop().flatten()?;
                Some(GroupDef {
                    name,
                    grouptype,
                    wherevals,
                })
            })
            .collect()
    }

    fn attribute(&self, node: &str, table: &str, column: &str) -> Option<String> {
        // Unknown columns, tables that are not loaded or not keyed by node: unset, as
        // getNodesAttribs returns nothing for them.
        self.resolver.attr(node, table, column).ok().flatten()
    }

    fn table_columns(&self, table: &str) -> Option<Vec<String>> {
        crate::schema::table(table).map(|t| t.columns.iter().map(|c| c.to_string()).collect())
    }

    fn site(&self, key: &str) -> Option<String> {
        self.resolver.site(key).map(str::to_string)
    }
}
