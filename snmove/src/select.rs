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

/// Whether expanding `noderange` may read tables beyond the ones a plan loads (attribute
/// selections such as `nodehm.mgt==ipmi`): then every table of the store is loaded.
pub fn needs_all_tables(noderange: &str) -> bool {
    noderange.contains('=') || noderange.contains('~')
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
