//! Noderange expansion and node-list folding for the command.
//!
//! Interim: until the `noderange` crate's evaluator is wired in, a noderange is read as a
//! comma-separated list of node names and static group names (`nodelist.groups`), and node
//! lists are printed comma-joined. Anything else in a noderange is refused with an error
//! naming it, never silently misread.

use std::collections::BTreeSet;

use xcattab::resolve::Resolver;
use xcattab::Database;

use crate::plan::{Expander, Selection};

/// The interim expander (see the module documentation).
#[derive(Debug, Clone, Copy, Default)]
pub struct SimpleExpander;

impl Expander for SimpleExpander {
    fn expand(&self, db: &Database, noderange: &str) -> Result<Selection, String> {
        let r = Resolver::new(db);
        let mut nodes = BTreeSet::new();
        let mut missed = Vec::new();
        for item in noderange.split(',').filter(|s| !s.is_empty()) {
            if item.starts_with('-') || item.contains(|c: char| "[]^@!*?/|:+=()~<>{}".contains(c)) {
                return Err(format!(
                    "noderange '{noderange}': '{item}' uses noderange syntax this build does not evaluate yet; list the nodes or groups by name"
                ));
            }
            if r.is_node(item) {
                nodes.insert(item.to_string());
                continue;
            }
            let members: Vec<&str> = r
                .nodes()
                .iter()
                .copied()
                .filter(|n| r.groups(n).any(|g| g == item))
                .collect();
            if members.is_empty() {
                missed.push(item.to_string());
            } else {
                nodes.extend(members.into_iter().map(str::to_string));
            }
        }
        Ok(Selection {
            nodes: nodes.into_iter().collect(),
            missed,
        })
    }
}

/// Prints a node list (interim: comma-joined).
pub fn fold(nodes: &[String]) -> String {
    nodes.join(",")
}
