//! Attribute resolution exactly as xCAT's `getNodeAttribs` reads a node's attributes.
//!
//! For node `N`, table `T` (not `nodelist`) and a column `C`:
//! 1. `T`'s enabled row keyed exactly `N` gives `C` if its value is set — NULL, `''` (and, as
//!    Perl's `/^$/` has it, a lone `"\n"`) count as unset;
//! 2. otherwise the groups of `N` (its enabled `nodelist.groups`, split on `,`, no trimming)
//!    are walked in order and the first enabled group row with a set `C` gives it — each column
//!    independently, no recursion into groups of groups, dynamic groups never consulted;
//! 3. columns named in `site.hierarchicalattrs` (`attr[:delimiter]`) instead concatenate the
//!    values of the node row and of every group row in order, de-duplicated;
//! 4. the value is then computed for `N` ([`crate::regexval`]); an empty result is unset (and
//!    no later group is consulted).
//!
//! `nodelist` never inherits. Raw reads (dump views) use [`Table`] directly.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::OnceLock;

use rustc_hash::FxHashMap;

use crate::database::Database;
use crate::regexval::{self, RegexValueError, ValueTemplate};
use crate::table::Table;

/// Why an attribute could not be resolved.
#[derive(Debug, thiserror::Error)]
pub enum ResolveError {
    /// The table is not part of the snapshot.
    #[error("table {table} was not loaded")]
    NotLoaded {
        /// Table name.
        table: String,
    },
    /// The table is not keyed by node.
    #[error("table {table} is not keyed by node names")]
    NotNodeKeyed {
        /// Table name.
        table: String,
    },
    /// The table has no such column.
    #[error("table {table} has no column '{column}'")]
    NoSuchColumn {
        /// Table name.
        table: String,
        /// Column.
        column: String,
    },
    /// A computed value could not be evaluated for the node.
    #[error(transparent)]
    Computed(Box<ComputedError>),
}

/// A computed (regex) value that could not be evaluated for a node.
#[derive(Debug, thiserror::Error)]
#[error("{table}.{column} for node {node}: value {raw:?} (from row '{row}'): {source}")]
pub struct ComputedError {
    /// Table name.
    pub table: String,
    /// Column.
    pub column: String,
    /// Node.
    pub node: String,
    /// Key of the row the value came from.
    pub row: String,
    /// The raw value.
    pub raw: String,
    /// What went wrong.
    pub source: RegexValueError,
}

/// One resolved attribute and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved<'db> {
    /// The effective value (`None`: unset).
    pub value: Option<String>,
    /// The raw stored value it was computed from.
    pub raw: Option<&'db str>,
    /// The key of the row that provided it: the node itself or one of its groups (for a
    /// hierarchical attribute, the first contributing row).
    pub from: Option<&'db str>,
}

struct TableIndex<'db> {
    table: &'db Table,
    /// First enabled row of each key.
    rows: FxHashMap<&'db str, usize>,
    /// Parsed computed values of this table, one per distinct raw text.
    templates: Vec<Result<ValueTemplate, RegexValueError>>,
    /// Address of each computed value stored in the table → its template (values are looked
    /// up by where they are stored, not by their text).
    by_addr: FxHashMap<usize, usize>,
    /// Whether rows of groups count (not for nodelist).
    inherits: bool,
}

/// Resolves node attributes over a [`Database`] snapshot. Cheap to create; per-table indexes are
/// built on first use. `Sync`, so many threads may resolve at once.
///
/// ```
/// use xcattab::{csv, resolve::Resolver, Database};
/// let mut db = Database::new();
/// db.insert(csv::table_from_csv("nodelist", "#node,groups\n\"cn7\",\"rack1,compute\"\n").unwrap());
/// db.insert(csv::table_from_csv("noderes", "#node,servicenode,xcatmaster\n\"rack1\",\"sn1,sn2\",\"sn1-c\"\n\"compute\",\"x\",\"|cn(\\d+)|10.0.0.($1+100)|\"\n").unwrap());
/// let r = Resolver::new(&db);
/// assert_eq!(r.attr("cn7", "noderes", "servicenode").unwrap().as_deref(), Some("sn1,sn2"));
/// assert_eq!(r.attr("cn7", "noderes", "xcatmaster").unwrap().as_deref(), Some("sn1-c"));
/// assert_eq!(r.attr("cn7", "noderes", "netboot").unwrap(), None);
/// // Several columns of one table at once (the row chain is looked up once):
/// let v = r.attrs("cn7", "noderes", &["servicenode", "netboot"]).unwrap();
/// assert_eq!(v, [Some("sn1,sn2".to_string()), None]);
/// // Many nodes: prepare the columns once, get borrowed values.
/// let cols = r.columns("noderes", &["servicenode", "xcatmaster"]).unwrap();
/// let v = r.values("cn7", &cols).unwrap();
/// assert_eq!(v[1].as_deref(), Some("sn1-c"));
/// ```
pub struct Resolver<'db> {
    db: &'db Database,
    /// Each node's groups: a range of `group_names`, and whether `nodelist.groups` is set at
    /// all (xCAT stops early, before its clean-up, when it is not).
    nodes: FxHashMap<&'db str, (u32, u32, bool)>,
    group_names: Vec<&'db str>,
    node_order: Vec<&'db str>,
    hierarchical: HashMap<String, String>,
    indexes: FxHashMap<&'db str, (&'db Table, OnceLock<Option<TableIndex<'db>>>)>,
}

/// Columns of one table prepared for resolving many nodes ([`Resolver::columns`]).
#[derive(Debug, Clone)]
pub struct Columns<'db> {
    table: &'db Table,
    name: String,
    /// (column name, position, hierarchical delimiter)
    cols: Vec<(String, usize, Option<String>)>,
}

impl Columns<'_> {
    /// The table.
    pub fn table(&self) -> &str {
        &self.name
    }

    /// The column names, in the order values are returned.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.cols.iter().map(|(n, _, _)| n.as_str())
    }
}

/// Whether xCAT treats a stored value as "not set" (`/^$/` in Perl: empty, or a lone newline).
pub fn is_unset(v: Option<&str>) -> bool {
    matches!(v, None | Some("" | "\n"))
}

/// xCAT looks a key up with `key = ?` only when the key is true in Perl; `""` and `"0"` become
/// `key IS NULL`, which matches no row a tabrestore or a write ever creates.
fn lookup_key(k: &str) -> bool {
    !(k.is_empty() || k == "0")
}

/// Rows of a resolution chain: (row key, row index). Small: a node and its few groups.
type Chain<'db> = smallvec_chain::Chain<'db>;

mod smallvec_chain {
    /// Up to 8 rows inline (a node and its groups), more on the heap.
    pub(super) struct Chain<'db> {
        inline: [(&'db str, usize); 8],
        len: usize,
        spill: Vec<(&'db str, usize)>,
    }

    impl<'db> Chain<'db> {
        pub(super) fn new() -> Self {
            Chain {
                inline: [("", 0); 8],
                len: 0,
                spill: Vec::new(),
            }
        }

        pub(super) fn push(&mut self, x: (&'db str, usize)) {
            if self.len < 8 {
                self.inline[self.len] = x;
            } else {
                self.spill.push(x);
            }
            self.len += 1;
        }

        pub(super) fn iter(&self) -> impl Iterator<Item = &(&'db str, usize)> {
            self.inline[..self.len.min(8)]
                .iter()
                .chain(self.spill.iter())
        }
    }
}

impl<'db> Resolver<'db> {
    /// Prepares resolution over `db` (which should hold `nodelist`, `site` when
    /// `hierarchicalattrs` matters, and the tables to resolve).
    pub fn new(db: &'db Database) -> Self {
        let mut nodes = FxHashMap::default();
        let mut group_names = Vec::new();
        let mut node_order = Vec::new();
        if let Some(nl) = db.table("nodelist") {
            let (nc, gc) = (nl.column_index("node"), nl.column_index("groups"));
            if let Some(nc) = nc {
                nodes.reserve(nl.len());
                node_order.reserve(nl.len());
                group_names.reserve(nl.len() * 3);
                for (i, row) in nl.rows().iter().enumerate() {
                    if !nl.is_row_enabled(i) {
                        continue;
                    }
                    let Some(node) = row[nc].as_deref() else {
                        continue;
                    };
                    if nodes.contains_key(node) {
                        continue;
                    }
                    node_order.push(node);
                    let start = group_names.len() as u32;
                    let raw = gc.and_then(|c| row[c].as_deref());
                    if let Some(g) = raw {
                        // Perl's split(/,/): trailing empty names dropped, others kept.
                        let g = g.trim_end_matches(',');
                        if !g.is_empty() {
                            group_names.extend(g.split(','));
                        }
                    }
                    nodes.insert(node, (start, group_names.len() as u32, !is_unset(raw)));
                }
            }
        }
        let hierarchical = site_value(db, "hierarchicalattrs")
            .map(parse_hierarchical)
            .unwrap_or_default();
        let indexes = db
            .tables()
            .map(|t| (t.name(), (t, OnceLock::new())))
            .collect();
        Resolver {
            db,
            nodes,
            group_names,
            node_order,
            hierarchical,
            indexes,
        }
    }

    /// The snapshot.
    pub fn database(&self) -> &'db Database {
        self.db
    }

    /// The nodes: keys of enabled `nodelist` rows, in table order, first occurrence only.
    pub fn nodes(&self) -> &[&'db str] {
        &self.node_order
    }

    /// Whether `name` has an enabled `nodelist` row.
    pub fn is_node(&self, name: &str) -> bool {
        self.nodes.contains_key(name)
    }

    /// The groups of a node, in priority order, as xCAT splits `nodelist.groups` (on `,`, no
    /// trimming, empty names kept except trailing ones).
    pub fn groups(&self, node: &str) -> impl Iterator<Item = &'db str> + '_ {
        let (a, b, _) = self.nodes.get(node).copied().unwrap_or((0, 0, false));
        self.group_names[a as usize..b as usize].iter().copied()
    }

    /// The raw value of an enabled `site` row.
    pub fn site(&self, key: &str) -> Option<&'db str> {
        site_value(self.db, key)
    }

    /// The `site.hierarchicalattrs` columns and their delimiters.
    pub fn hierarchical_attrs(&self) -> &HashMap<String, String> {
        &self.hierarchical
    }

    fn index(&self, table: &str) -> Result<(&'db Table, &TableIndex<'db>), ResolveError> {
        let (t, cell) = self
            .indexes
            .get(table)
            .ok_or_else(|| ResolveError::NotLoaded {
                table: table.to_string(),
            })?;
        match cell.get_or_init(|| build_index(t)) {
            Some(ix) => Ok((ix.table, ix)),
            None => Err(ResolveError::NotNodeKeyed {
                table: table.to_string(),
            }),
        }
    }

    /// The rows that can give `node` a value in this table, in priority order: its own enabled
    /// row, then the enabled rows of its groups (none for `nodelist`).
    fn chain(&self, node: &str, ix: &TableIndex<'db>) -> Chain<'db> {
        let mut chain = Chain::new();
        if lookup_key(node) {
            if let Some((&k, &r)) = ix.rows.get_key_value(node) {
                chain.push((k, r));
            }
        }
        if ix.inherits {
            for g in self.groups(node) {
                if lookup_key(g) {
                    if let Some((&k, &r)) = ix.rows.get_key_value(g) {
                        chain.push((k, r));
                    }
                }
            }
        }
        chain
    }

    /// Prepares columns of a table for [`Resolver::values`] (checks the table and the columns
    /// once, for any number of nodes).
    pub fn columns(&self, table: &str, columns: &[&str]) -> Result<Columns<'db>, ResolveError> {
        let (t, _) = self.index(table)?;
        let mut cols = Vec::with_capacity(columns.len());
        for c in columns {
            let i = t
                .column_index(c)
                .ok_or_else(|| ResolveError::NoSuchColumn {
                    table: table.to_string(),
                    column: c.to_string(),
                })?;
            let hier = if table == "nodelist" {
                None
            } else {
                self.hierarchical.get(*c).cloned()
            };
            cols.push((c.to_string(), i, hier));
        }
        Ok(Columns {
            table: t,
            name: table.to_string(),
            cols,
        })
    }

    /// The resolved values of prepared columns for one node, in column order; borrowed from
    /// the snapshot unless computed.
    pub fn values(
        &self,
        node: &str,
        cols: &Columns<'db>,
    ) -> Result<Vec<Option<Cow<'db, str>>>, ResolveError> {
        let (_, ix) = self.index(&cols.name)?;
        let chain = self.chain(node, ix);
        let mut out = Vec::with_capacity(cols.cols.len());
        for (name, c, hier) in &cols.cols {
            out.push(
                self.resolve_col(
                    node,
                    &cols.name,
                    cols.table,
                    ix,
                    &chain,
                    name,
                    *c,
                    hier.as_deref(),
                )?
                .0,
            );
        }
        Ok(out)
    }

    /// One resolved attribute.
    pub fn attr(
        &self,
        node: &str,
        table: &str,
        column: &str,
    ) -> Result<Option<String>, ResolveError> {
        Ok(self.attr_from(node, table, column)?.value)
    }

    /// Several attributes of one table, in the order asked.
    pub fn attrs(
        &self,
        node: &str,
        table: &str,
        columns: &[&str],
    ) -> Result<Vec<Option<String>>, ResolveError> {
        let (t, ix) = self.index(table)?;
        let chain = self.chain(node, ix);
        let mut out = Vec::with_capacity(columns.len());
        for column in columns {
            let (c, hier) = self.column(table, t, column)?;
            let (v, _, _) = self.resolve_col(node, table, t, ix, &chain, column, c, hier)?;
            out.push(v.map(Cow::into_owned));
        }
        Ok(out)
    }

    /// One resolved attribute with its provenance.
    pub fn attr_from(
        &self,
        node: &str,
        table: &str,
        column: &str,
    ) -> Result<Resolved<'db>, ResolveError> {
        let (t, ix) = self.index(table)?;
        let chain = self.chain(node, ix);
        let (c, hier) = self.column(table, t, column)?;
        let (value, raw, from) = self.resolve_col(node, table, t, ix, &chain, column, c, hier)?;
        Ok(Resolved {
            value: value.map(Cow::into_owned),
            raw,
            from,
        })
    }

    fn column(
        &self,
        table: &str,
        t: &Table,
        column: &str,
    ) -> Result<(usize, Option<&str>), ResolveError> {
        let c = t
            .column_index(column)
            .ok_or_else(|| ResolveError::NoSuchColumn {
                table: table.to_string(),
                column: column.to_string(),
            })?;
        let hier = if table == "nodelist" || self.hierarchical.is_empty() {
            None
        } else {
            self.hierarchical.get(column).map(String::as_str)
        };
        Ok((c, hier))
    }

    /// (value, raw stored value, key of the row it came from)
    #[allow(clippy::too_many_arguments)]
    fn resolve_col(
        &self,
        node: &str,
        table: &str,
        t: &'db Table,
        ix: &TableIndex<'db>,
        chain: &Chain<'db>,
        column: &str,
        col: usize,
        hier: Option<&str>,
    ) -> Result<ResolvedParts<'db>, ResolveError> {
        let rows = t.rows();
        let get = |r: usize| -> Option<&'db str> {
            let v = rows[r][col].as_deref();
            if is_unset(v) {
                None
            } else {
                v
            }
        };
        let owned;
        let (text, raw, from): (&str, Option<&'db str>, Option<&'db str>) =
            if let Some(delim) = hier.filter(|_| !self.nodes.get(node).is_some_and(|n| n.2)) {
                // xCAT's getNodeAttribs_nosub_returnany returns early when the node has no
                // nodelist.groups, before removing its "+=NEXTRECORD" marker: the node's own
                // value comes back as "<value><delimiter>+=NEXTRECORD" (a bug, reproduced).
                let own = chain
                    .iter()
                    .next()
                    .filter(|(k, _)| *k == node)
                    .and_then(|&(k, r)| get(r).map(|v| (v, k)));
                let Some((v, k)) = own else {
                    return Ok((None, None, None));
                };
                owned = format!("{v}{delim}+=NEXTRECORD");
                (owned.as_str(), Some(v), Some(k))
            } else if let Some(delim) = hier {
                let mut parts: Vec<&'db str> = Vec::new();
                let mut from = None;
                for &(k, r) in chain.iter() {
                    if let Some(v) = get(r) {
                        from.get_or_insert(k);
                        parts.push(v);
                    }
                }
                if parts.is_empty() {
                    return Ok((None, None, None));
                }
                owned = join_hierarchical(&parts, delim);
                (owned.as_str(), None, from)
            } else {
                match chain.iter().find_map(|&(k, r)| get(r).map(|v| (v, k))) {
                    Some((v, k)) => {
                        if !regexval::is_computed(v) {
                            return Ok((Some(Cow::Borrowed(v)), Some(v), Some(k)));
                        }
                        (v, Some(v), Some(k))
                    }
                    None => return Ok((None, None, None)),
                }
            };
        if !regexval::is_computed(text) {
            return Ok((Some(Cow::Owned(text.to_string())), raw, from));
        }
        let err = |source| {
            ResolveError::Computed(Box::new(ComputedError {
                table: table.to_string(),
                column: column.to_string(),
                node: node.to_string(),
                row: from.unwrap_or("").to_string(),
                raw: text.to_string(),
                source,
            }))
        };
        let applied = match ix
            .by_addr
            .get(&(text.as_ptr() as usize))
            .map(|&i| &ix.templates[i])
        {
            Some(Ok(tpl)) => tpl.apply(node),
            Some(Err(e)) => Err(e.clone()),
            // A hierarchical concatenation is not stored anywhere: parse it now.
            None => ValueTemplate::parse(text).and_then(|tpl| tpl.apply(node)),
        };
        Ok((applied.map_err(err)?.map(Cow::Owned), raw, from))
    }
}

type ResolvedParts<'db> = (Option<Cow<'db, str>>, Option<&'db str>, Option<&'db str>);

impl Resolved<'_> {
    /// Whether the attribute is set.
    pub fn is_set(&self) -> bool {
        self.value.is_some()
    }
}

fn build_index(t: &Table) -> Option<TableIndex<'_>> {
    let node_col = t
        .schema()
        .and_then(|s| s.node_column)
        .or(if t.column_index("node").is_some() {
            Some("node")
        } else {
            None
        })
        .and_then(|c| t.column_index(c))?;
    let mut rows = FxHashMap::with_capacity_and_hasher(t.len(), Default::default());
    let mut templates = Vec::new();
    let mut by_text: FxHashMap<&str, usize> = FxHashMap::default();
    let mut by_addr = FxHashMap::default();
    for (i, row) in t.rows().iter().enumerate() {
        if !t.is_row_enabled(i) {
            continue;
        }
        let Some(key) = row[node_col].as_deref() else {
            continue;
        };
        rows.entry(key).or_insert(i);
        for v in row.iter().flatten() {
            if regexval::is_computed(v) {
                let n = *by_text.entry(v.as_str()).or_insert_with(|| {
                    templates.push(ValueTemplate::parse(v));
                    templates.len() - 1
                });
                by_addr.insert(v.as_ptr() as usize, n);
            }
        }
    }
    Some(TableIndex {
        table: t,
        rows,
        templates,
        by_addr,
        inherits: t.name() != "nodelist",
    })
}

fn site_value<'db>(db: &'db Database, key: &str) -> Option<&'db str> {
    let t = db.table("site")?;
    let (kc, vc) = (t.column_index("key")?, t.column_index("value")?);
    t.rows()
        .iter()
        .enumerate()
        .find(|(i, r)| r[kc].as_deref() == Some(key) && t.is_row_enabled(*i))
        .and_then(|(_, r)| r[vc].as_deref())
}

/// `attr1:delim,attr2,attr3:delim2` as xCAT's getHierarchyAttrs reads it: items trimmed,
/// false items (`""`, `"0"`) skipped, the delimiter defaults to `,`.
fn parse_hierarchical(v: &str) -> HashMap<String, String> {
    let truthy = |s: &str| !(s.is_empty() || s == "0");
    let mut m = HashMap::new();
    for item in v.split(',') {
        let item = item.trim();
        if !truthy(item) {
            continue;
        }
        let (attr, del) = match item.split_once(':') {
            Some((a, d)) => (a.trim_end(), d.trim_start()),
            None => (item, ""),
        };
        if truthy(attr) {
            m.insert(
                attr.to_string(),
                if truthy(del) {
                    del.to_string()
                } else {
                    ",".into()
                },
            );
        }
    }
    m
}

/// Concatenates with `delim`, splits, drops trailing empty items (Perl `split`), de-duplicates
/// keeping first occurrences, joins.
fn join_hierarchical(parts: &[&str], delim: &str) -> String {
    let all = parts.join(delim);
    let mut items: Vec<&str> = all.split(delim).collect();
    while items.last() == Some(&"") {
        items.pop();
    }
    let mut seen = std::collections::HashSet::new();
    items.retain(|i| seen.insert(*i));
    items.join(delim)
}

impl std::fmt::Debug for Resolver<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Resolver")
            .field("nodes", &self.node_order.len())
            .field("hierarchical", &self.hierarchical)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hierarchical_join() {
        assert_eq!(join_hierarchical(&["a,b", "b,c", "a"], ","), "a,b,c");
        assert_eq!(join_hierarchical(&["a,,b", "c"], ","), "a,,b,c");
        let m = parse_hierarchical(" postscripts , postbootscripts : ; ");
        assert_eq!(m["postscripts"], ",");
        assert_eq!(m["postbootscripts"], ";");
    }

    #[test]
    fn unset_values() {
        assert!(is_unset(None));
        assert!(is_unset(Some("")));
        assert!(is_unset(Some("\n")));
        assert!(!is_unset(Some(" ")));
    }
}
