//! Noderange expansion and node-list folding, through the `noderange` crate over the table
//! snapshot (`xcattab::nodesource::DbNodeSource`): xCAT's whole noderange language (groups,
//! ranges, regexes, exclusions, attribute selections, `^file`, `site.excludenodes`), and names
//! that are neither nodes nor groups reported as xCAT's `nodesmissed`.

use noderange::{Evaluator, Options};
use xcattab::nodesource::DbNodeSource;
use xcattab::Database;

use crate::plan::{Expander, Selection};

/// Expands noderanges with the `noderange` crate (`XCAT_NODE_PREFIX`, `XCAT_NODE_SUFFIX` and
/// `NODERANGE_MAX_NAMES` from the environment, as xCAT reads them).
#[derive(Debug, Clone, Copy, Default)]
pub struct NoderangeExpander;

impl Expander for NoderangeExpander {
    fn expand(&self, db: &Database, noderange: &str) -> Result<Selection, String> {
        let src = DbNodeSource::new(db);
        let ev = Evaluator::new(&src);
        let e = ev
            .expand(noderange, &Options::default().with_env())
            .map_err(|e| format!("noderange '{noderange}': {e}"))?;
        Ok(Selection {
            nodes: e.nodes.to_vec(),
            missed: e.missing,
        })
    }
}

/// Whether expanding `noderange` may read tables beyond the ones a plan loads, judged from its
/// text alone: attribute selections such as `nodehm.mgt==ipmi`, and `^file` elements (whose
/// lines may hold selections). Then every table of the store is loaded. Dynamic groups and
/// `site.excludenodes` are the other cases: see [`selection_needs_all_tables`].
///
/// ```
/// use snmove::select::needs_all_tables;
/// assert!(needs_all_tables("nodehm.mgt==ipmi"));
/// assert!(needs_all_tables("^/tmp/nodes"));
/// assert!(!needs_all_tables("cn[01-10],rack2"));
/// ```
pub fn needs_all_tables(noderange: &str) -> bool {
    noderange.contains('=') || noderange.contains('~') || noderange.contains('^')
}

/// Whether expanding any noderange over `db` may read tables beyond the ones a plan loads,
/// whatever its text: `nodegroup` defines a dynamic group ([`has_dynamic_groups`]), or
/// `site.excludenodes` — a noderange xCAT subtracts from every expansion — needs them by its
/// own text ([`needs_all_tables`]).
///
/// ```
/// use xcattab::{csv, Database};
/// let mut db = Database::new();
/// db.insert(csv::table_from_csv("site",
///     "#key,value,comments,disable\n\"excludenodes\",\"ipmi.bmc==10.2.0.5\",,\n").unwrap());
/// assert!(snmove::select::selection_needs_all_tables(&db));
/// ```
pub fn selection_needs_all_tables(db: &Database) -> bool {
    if has_dynamic_groups(db) {
        return true;
    }
    let Some(t) = db.table("site") else {
        return false;
    };
    let (Some(kc), Some(vc)) = (t.column_index("key"), t.column_index("value")) else {
        return false;
    };
    // The first enabled row, as xCAT's site lookups read it.
    (0..t.len())
        .find(|&i| t.is_row_enabled(i) && t.value(i, kc) == Some("excludenodes"))
        .and_then(|i| t.value(i, vc))
        .is_some_and(needs_all_tables)
}

/// Whether `nodegroup` (in `db`) defines an enabled dynamic group. Its members are chosen by
/// `wherevals` over any table (`bmc==…` reads `ipmi`), so a noderange may then need every
/// table of the store, as xCAT reads them.
///
/// ```
/// use xcattab::{csv, Database};
/// let mut db = Database::new();
/// db.insert(csv::table_from_csv("nodegroup",
///     "#groupname,grouptype,members,membergroups,wherevals,comments,disable\n\"bmcs\",\"dynamic\",,,\"bmc==10.2.1.5\",,\n").unwrap());
/// assert!(snmove::select::has_dynamic_groups(&db));
/// assert!(!snmove::select::has_dynamic_groups(&Database::new()));
/// ```
pub fn has_dynamic_groups(db: &Database) -> bool {
    let Some(t) = db.table("nodegroup") else {
        return false;
    };
    let Some(c) = t.column_index("grouptype") else {
        return false;
    };
    (0..t.len()).any(|i| t.is_row_enabled(i) && t.value(i, c) == Some("dynamic"))
}

/// Prints a node list compactly (`cn[01-40],sn1`).
///
/// ```
/// let v: Vec<String> = ["cn01", "cn02", "cn03", "sn1"].iter().map(|s| s.to_string()).collect();
/// assert_eq!(snmove::select::fold(&v), "cn[01-03],sn1");
/// ```
pub fn fold(nodes: &[String]) -> String {
    noderange::fold(nodes.iter().map(String::as_str))
}
