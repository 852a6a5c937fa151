//! # noderange — xCAT's noderange language
//!
//! A *noderange* is the first argument of nearly every xCAT command (`nodels`, `rpower`,
//! `xdsh`, `snmove`, …): a compact expression naming a set of nodes. This crate evaluates
//! noderanges with exactly the semantics of xCAT's `NodeRange.pm` — quirks included — and
//! writes node sets back compactly.
//!
//! * [`Evaluator`] evaluates a noderange against a [`NodeSource`] (the cluster's
//!   `nodelist`, `nodegroup`, node attributes, `site.excludenodes`, `^files`). The crate has
//!   no storage code: `xcattab` implements the trait over its tables, [`MemorySource`] in
//!   memory.
//! * [`Options`] selects xCAT's modes: verify (default), noverify, genericrange; and the
//!   [`Limits`] that replace running out of memory or stack.
//! * [`NodeSet`] is the result: sorted byte-wise like xCAT (`node1,node10,node2`), with a
//!   natural order (`node2` before `node10`) and [`fold()`] (`node[1-2,10]`) beside it.
//!
//! ## The language in one table
//!
//! | element | meaning |
//! |---|---|
//! | `a,b` | union |
//! | `-a` | exclusion, applied at the end of its level (`-rack1,compute` works) |
//! | `a@b` | intersection; binds tighter than `,` (`gpu,storage@rack1` = gpu ∪ (storage ∩ rack1)) |
//! | `( … )` | grouping; the first group of a level is combined at once (`rack1,-(node1-node3),node2`) |
//! | `node1-node10`, `node1:node10` | range; exactly one number varies; `cn1-ib-cn3-ib` splits at the middle dash |
//! | `node[1-10]`, `n[01-10]`, `f[1-2]n[1-3]`, `n[1,3,5]` | brackets, several per name, cartesian product |
//! | `node10+3` | `node10` to `node13` (the last number before an optional `.domain`) |
//! | `5`, `10-20`, `10+3` | `node5`, … (`XCAT_NODE_PREFIX` / `XCAT_NODE_SUFFIX`) |
//! | `compute` | a static group (`nodelist.groups`) or a dynamic one (`nodegroup.wherevals`) |
//! | `/node1.*` | nodes matching a Perl regex, anchored at both ends |
//! | `^/path/file` | one noderange per line, each only added |
//! | `nodehm.mgt==ipmi`, `!=`, `=~`, `!~`, `=`; `groups`, `tags`, `mgt` | selection by attribute (unset = `''`) |
//!
//! Quotes are deleted, blanks are kept, names are case-sensitive. Zero padding follows
//! Perl's string range: `n[08-10]` keeps two digits, `n[01-5]` is empty. Names that are
//! neither nodes nor groups are collected in [`Expansion::missing`]; [`Expansion::into_result`]
//! refuses them with xcatd's message `Invalid nodes and/or groups in noderange: …`.
//!
//! ```
//! use noderange::{Evaluator, MemorySource, Options};
//!
//! let cluster = MemorySource::new()
//!     .node("node1", "compute,rack1")
//!     .node("node2", "compute,rack1")
//!     .node("node3", "compute,rack2,gpu")
//!     .node("node10", "compute,rack2")
//!     .row("nodehm", "compute", &[("mgt", "ipmi")])
//!     .row("nodehm", "node10", &[("mgt", "openbmc")]);
//! let ev = Evaluator::new(&cluster);
//! let opts = Options::default();
//!
//! let set = ev.nodes("compute,-gpu", &opts).unwrap();
//! assert_eq!(set.to_vec(), ["node1", "node10", "node2"]);      // xCAT's order
//! assert_eq!(set.natural(), ["node1", "node2", "node10"]);     // natural order
//! assert_eq!(set.fold(), "node[1-2,10]");                      // compact
//!
//! assert_eq!(ev.nodes("mgt==ipmi", &opts).unwrap().fold(), "node[1-3]");
//! assert_eq!(
//!     ev.nodes("node1,node4", &opts).unwrap_err().to_string(),
//!     "Invalid nodes and/or groups in noderange: node4"
//! );
//! // Without a database: xCAT's "genericrange" expansion.
//! assert_eq!(noderange::expand_generic("n[08-10]").unwrap().to_vec(), ["n08", "n09", "n10"]);
//! ```
//!
//! ## Differences from xCAT
//!
//! * Limits: more than [`Limits::max_names`] generated names (default 10 million, env
//!   `NODERANGE_MAX_NAMES`) or nesting deeper than [`Limits::max_depth`] is an error
//!   instead of exhausting memory; numbers too large for Perl's integers are an error
//!   where Perl would wrap around.
//! * Regular expressions run on `fancy-regex`: Perl syntax with back-references and
//!   look-around; `\Q…\E`, code blocks and a few other Perl-only forms are refused as
//!   invalid patterns; `\d`/`\w` are Unicode-aware.
//! * Files are read as UTF-8 (invalid bytes replaced).

mod attr;
mod defspec;
mod error;
mod eval;
mod fold;
#[doc(hidden)]
pub mod fuzzing;
mod hash;
mod nodeset;
mod perl;
mod regex;
mod source;

pub use error::Error;
pub use eval::{Evaluator, Expansion, Limits, Options};
pub use fold::fold;
pub use nodeset::{natural_cmp, NodeSet};
pub use regex::PerlRegex;
pub use source::{EmptySource, GroupDef, MemorySource, NodeSource};

/// Expands a noderange purely syntactically (xCAT's `genericrange`): no database, names
/// returned as written, groups not expanded.
///
/// ```
/// assert_eq!(
///     noderange::expand_generic("f[1-2]n[1-2],x9+1").unwrap().to_vec(),
///     ["f1n1", "f1n2", "f2n1", "f2n2", "x10", "x9"]
/// );
/// ```
pub fn expand_generic(range: &str) -> Result<NodeSet, Error> {
    Ok(Evaluator::new(&EmptySource)
        .expand(range, &Options::generic())?
        .nodes)
}
