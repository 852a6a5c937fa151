//! Where node names, groups and attributes come from: the [`NodeSource`] trait, and
//! [`MemorySource`], a small in-memory implementation for tests and examples.

use std::collections::HashMap;

/// One row of xCAT's `nodegroup` table, as far as the noderange language uses it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GroupDef {
    /// `nodegroup.groupname`.
    pub name: String,
    /// `nodegroup.grouptype` (`static`, `dynamic`, or unset).
    pub grouptype: Option<String>,
    /// `nodegroup.wherevals`: the criteria of a dynamic group joined by `::`.
    pub wherevals: Option<String>,
}

/// The storage a noderange is evaluated against.
///
/// The evaluator reads `nodelist` and `nodegroup` once when it is built (as `NodeRange.pm`
/// caches them), then asks for attribute values, schema facts, `site` values and files
/// while it evaluates. `xcattab` implements this trait over its database snapshot;
/// [`MemorySource`] implements it in memory.
pub trait NodeSource {
    /// Every row of `nodelist` as `(node, groups)` in table order (`groups` is the raw
    /// comma-separated `nodelist.groups`).
    fn nodelist(&self) -> Vec<(String, Option<String>)>;

    /// Every row of `nodegroup`, in table order.
    fn nodegroups(&self) -> Vec<GroupDef>;

    /// The value of `table.column` for `node`, resolved the way xCAT's `getNodesAttribs`
    /// does it (node row, then the node's groups in order, regex-valued rows applied).
    /// `None` when the node has no value.
    fn attribute(&self, node: &str, table: &str, column: &str) -> Option<String>;

    /// The columns of `table` according to the schema, or `None` for an unknown table.
    fn table_columns(&self, table: &str) -> Option<Vec<String>>;

    /// A value of the `site` table (`site.excludenodes` is the one the evaluator reads).
    fn site(&self, key: &str) -> Option<String>;

    /// The contents of the file named by a `^file` element; any error makes the element
    /// contribute nothing, as in xCAT. The default reads the local file system (paths are
    /// relative to the current directory).
    fn read_file(&self, path: &str) -> std::io::Result<Vec<u8>> {
        std::fs::read(path)
    }
}

impl<T: NodeSource + ?Sized> NodeSource for &T {
    fn nodelist(&self) -> Vec<(String, Option<String>)> {
        (**self).nodelist()
    }
    fn nodegroups(&self) -> Vec<GroupDef> {
        (**self).nodegroups()
    }
    fn attribute(&self, node: &str, table: &str, column: &str) -> Option<String> {
        (**self).attribute(node, table, column)
    }
    fn table_columns(&self, table: &str) -> Option<Vec<String>> {
        (**self).table_columns(table)
    }
    fn site(&self, key: &str) -> Option<String> {
        (**self).site(key)
    }
    fn read_file(&self, path: &str) -> std::io::Result<Vec<u8>> {
        (**self).read_file(path)
    }
}

/// A source with no nodes, no groups and no files: every name is unknown. Useful with
/// [`Options::generic`](crate::Options::generic) for purely syntactic expansion.
#[derive(Debug, Clone, Copy, Default)]
pub struct EmptySource;

impl NodeSource for EmptySource {
    fn nodelist(&self) -> Vec<(String, Option<String>)> {
        Vec::new()
    }
    fn nodegroups(&self) -> Vec<GroupDef> {
        Vec::new()
    }
    fn attribute(&self, _: &str, _: &str, _: &str) -> Option<String> {
        None
    }
    fn table_columns(&self, _: &str) -> Option<Vec<String>> {
        None
    }
    fn site(&self, _: &str) -> Option<String> {
        None
    }
    fn read_file(&self, path: &str) -> std::io::Result<Vec<u8>> {
        Err(std::io::Error::new(
            std::io::ErrorKind::NotFound,
            format!("{path}: EmptySource has no files"),
        ))
    }
}

/// The columns of the node tables that tests and examples use most, as in xCAT's schema.
const BUILTIN_SCHEMA: &[(&str, &[&str])] = &[
    (
        "nodelist",
        &[
            "node",
            "groups",
            "status",
            "statustime",
            "appstatus",
            "appstatustime",
            "primarysn",
            "hidden",
            "updatestatus",
            "updatestatustime",
            "zonename",
            "comments",
            "disable",
        ],
    ),
    (
        "nodehm",
        &[
            "node",
            "power",
            "mgt",
            "cons",
            "termserver",
            "termport",
            "conserver",
            "serialport",
            "serialspeed",
            "serialflow",
            "getmac",
            "cmdmapping",
            "consoleondemand",
            "consoleenabled",
            "comments",
            "disable",
        ],
    ),
    (
        "nodetype",
        &[
            "node",
            "os",
            "arch",
            "profile",
            "provmethod",
            "supportedarchs",
            "nodetype",
            "comments",
            "disable",
        ],
    ),
    (
        "noderes",
        &[
            "node",
            "servicenode",
            "netboot",
            "tftpserver",
            "tftpdir",
            "nfsserver",
            "monserver",
            "nfsdir",
            "installnic",
            "primarynic",
            "discoverynics",
            "cmdinterface",
            "xcatmaster",
            "current_osimage",
            "next_osimage",
            "nimserver",
            "routenames",
            "nameservers",
            "proxydhcp",
            "syslog",
            "comments",
            "disable",
        ],
    ),
    (
        "nodegroup",
        &[
            "groupname",
            "grouptype",
            "members",
            "membergroups",
            "wherevals",
            "comments",
            "disable",
        ],
    ),
    ("site", &["key", "value", "comments", "disable"]),
    (
        "hosts",
        &[
            "node",
            "ip",
            "hostnames",
            "otherinterfaces",
            "comments",
            "disable",
        ],
    ),
    ("mac", &["node", "interface", "mac", "comments", "disable"]),
    (
        "ipmi",
        &[
            "node",
            "bmc",
            "bmcport",
            "taggedvlan",
            "bmcid",
            "username",
            "password",
            "comments",
            "disable",
        ],
    ),
    (
        "nodepos",
        &[
            "node", "rack", "u", "chassis", "slot", "room", "height", "comments", "disable",
        ],
    ),
    (
        "vpd",
        &[
            "node", "serial", "mtm", "side", "asset", "uuid", "comments", "disable",
        ],
    ),
];

/// A row of a node table: its key (node or group) and its non-empty values.
type Row = (String, Vec<(String, String)>);

/// An in-memory cluster: nodes with their groups, `nodegroup` rows, node-table rows,
/// `site` values and virtual files. Attribute lookups follow xCAT's simple inheritance:
/// the node's own row, then the rows of its groups in the order of `nodelist.groups`.
///
/// ```
/// use noderange::{Evaluator, MemorySource, Options};
/// let cluster = MemorySource::new()
///     .node("node1", "compute,rack1")
///     .node("node2", "compute,rack1")
///     .node("node3", "compute")
///     .row("nodehm", "compute", &[("mgt", "ipmi")]);
/// let ev = Evaluator::new(&cluster);
/// let set = ev.expand("compute,-rack1", &Options::default()).unwrap();
/// assert_eq!(set.nodes.to_vec(), ["node3"]);
/// ```
#[derive(Debug, Clone, Default)]
pub struct MemorySource {
    nodes: Vec<(String, Option<String>)>,
    groups: Vec<GroupDef>,
    rows: HashMap<String, Vec<Row>>,
    schema: HashMap<String, Vec<String>>,
    site: HashMap<String, String>,
    files: Option<HashMap<String, Vec<u8>>>,
}

impl MemorySource {
    /// An empty cluster knowing the columns of the common node tables (`nodelist`,
    /// `nodehm`, `nodetype`, `noderes`, `hosts`, `mac`, `ipmi`, `nodepos`, `vpd`, …).
    pub fn new() -> Self {
        let schema = BUILTIN_SCHEMA
            .iter()
            .map(|(t, cols)| (t.to_string(), cols.iter().map(|c| c.to_string()).collect()))
            .collect();
        MemorySource {
            schema,
            ..Default::default()
        }
    }

    /// Adds a node with its `nodelist.groups` (comma-separated).
    pub fn node(mut self, name: &str, groups: &str) -> Self {
        self.nodes
            .push((name.to_string(), Some(groups.to_string())));
        self
    }

    /// Adds a node whose `nodelist.groups` is unset.
    pub fn node_without_groups(mut self, name: &str) -> Self {
        self.nodes.push((name.to_string(), None));
        self
    }

    /// Adds a `nodegroup` row.
    pub fn group(mut self, name: &str, grouptype: Option<&str>, wherevals: Option<&str>) -> Self {
        self.groups.push(GroupDef {
            name: name.to_string(),
            grouptype: grouptype.map(str::to_string),
            wherevals: wherevals.map(str::to_string),
        });
        self
    }

    /// Adds a row to a node table (`key` is a node or a group name).
    pub fn row(mut self, table: &str, key: &str, values: &[(&str, &str)]) -> Self {
        self.rows.entry(table.to_string()).or_default().push((
            key.to_string(),
            values
                .iter()
                .map(|(c, v)| (c.to_string(), v.to_string()))
                .collect(),
        ));
        self
    }

    /// Declares (or replaces) the columns of a table.
    pub fn table(mut self, name: &str, columns: &[&str]) -> Self {
        self.schema.insert(
            name.to_string(),
            columns.iter().map(|c| c.to_string()).collect(),
        );
        self
    }

    /// Sets a `site` value (for example `excludenodes`).
    pub fn site_value(mut self, key: &str, value: &str) -> Self {
        self.site.insert(key.to_string(), value.to_string());
        self
    }

    /// Adds a virtual file for `^file` elements. Once a virtual file is added, the real
    /// file system is no longer consulted.
    pub fn file(mut self, path: &str, contents: &str) -> Self {
        self.files
            .get_or_insert_with(HashMap::new)
            .insert(path.to_string(), contents.as_bytes().to_vec());
        self
    }

    fn groups_of(&self, node: &str) -> Vec<&str> {
        self.nodes
            .iter()
            .find(|(n, _)| n == node)
            .and_then(|(_, g)| g.as_deref())
            .map(|g| g.split(',').collect())
            .unwrap_or_default()
    }
}

impl NodeSource for MemorySource {
    fn nodelist(&self) -> Vec<(String, Option<String>)> {
        self.nodes.clone()
    }

    fn nodegroups(&self) -> Vec<GroupDef> {
        self.groups.clone()
    }

    fn attribute(&self, node: &str, table: &str, column: &str) -> Option<String> {
        if table == "nodelist" {
            return match column {
                "node" => self
                    .nodes
                    .iter()
                    .any(|(n, _)| n == node)
                    .then(|| node.to_string()),
                "groups" => self
                    .nodes
                    .iter()
                    .find(|(n, _)| n == node)
                    .and_then(|(_, g)| g.clone())
                    .filter(|g| !g.is_empty()),
                _ => self.lookup(table, &[node], column),
            };
        }
        let mut keys = vec![node];
        keys.extend(self.groups_of(node));
        self.lookup(table, &keys, column)
    }

    fn table_columns(&self, table: &str) -> Option<Vec<String>> {
        self.schema.get(table).cloned()
    }

    fn site(&self, key: &str) -> Option<String> {
        self.site.get(key).cloned()
    }

    fn read_file(&self, path: &str) -> std::io::Result<Vec<u8>> {
        match &self.files {
            None => std::fs::read(path),
            Some(files) => files
                .get(path)
                .cloned()
                .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::NotFound, path.to_string())),
        }
    }
}

impl MemorySource {
    fn lookup(&self, table: &str, keys: &[&str], column: &str) -> Option<String> {
        let rows = self.rows.get(table)?;
        for key in keys {
            for (k, values) in rows {
                if k == key {
                    if let Some((_, v)) = values.iter().find(|(c, v)| c == column && !v.is_empty())
                    {
                        return Some(v.clone());
                    }
                }
            }
        }
        None
    }
}
