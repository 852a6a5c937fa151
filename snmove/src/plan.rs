//! Planning a move: a pure function of a table snapshot and a request (spec §3–§9). Nothing is
//! written here; [`Plan::batch`] is what a commit writes, and [`Plan::before`] what a journal
//! records so the move can be undone.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use xcattab::resolve::{ResolveError, Resolver};
use xcattab::{Batch, Database, Expect, Op, Row};

use crate::addr::AddressBook;
use crate::cli::MoveArgs;
use crate::net::{first_in_network, network_of, Network};
use crate::rewrite::{backup_sn, is_set, rewrite, split_list, Current, Direction};

/// The tables a plan reads.
pub const TABLES: &[&str] = &[
    "nodelist", "noderes", "nodehm", "nodetype", "site", "networks", "hosts", "postscripts", "nodegroup",
];

/// A message of the plan, in the order xCAT would print it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Message {
    /// Whether it goes to stderr as a warning (`true`) or stdout as information.
    pub warning: bool,
    /// The text (xCAT's wording where xCAT has one).
    pub text: String,
}

/// Why no plan can be made; nothing is written. `lines` are printed as errors, in order.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", lines.join("\n"))]
pub struct PlanError {
    /// Informational lines printed before the errors (stdout), e.g. "Could not get IP addresses …".
    pub info: Vec<String>,
    /// The error lines (xCAT's texts).
    pub lines: Vec<String>,
}

impl PlanError {
    fn one(text: impl Into<String>) -> Self {
        PlanError {
            info: Vec::new(),
            lines: vec![text.into()],
        }
    }
}

impl From<ResolveError> for PlanError {
    fn from(e: ResolveError) -> Self {
        PlanError::one(e.to_string())
    }
}

/// One attribute change.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Change {
    /// Table.
    pub table: &'static str,
    /// Column.
    pub column: &'static str,
    /// The effective value before the move.
    pub old: Option<String>,
    /// The value written (as a node-level row).
    pub new: String,
}

/// Where a node's new xcatmaster came from.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub enum MasterSource {
    /// `-D`.
    Given,
    /// An address the destination SN reported (`ip addr` over SSH).
    SnInterfaces,
    /// An address the tables or the resolver give for the destination SN (it was unreachable).
    Tables,
}

/// The move of one node.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct NodeMove {
    /// Node name.
    pub node: String,
    /// Old SN (MN-facing).
    pub old_sn: String,
    /// New SN (MN-facing).
    pub new_sn: String,
    /// Old xcatmaster (node-facing), if any.
    pub old_master: Option<String>,
    /// New xcatmaster.
    pub new_master: String,
    /// Where the new xcatmaster came from.
    pub master_source: MasterSource,
    /// The node's address and where it came from.
    pub address: String,
    /// The source of the address.
    pub address_source: String,
    /// Every attribute written, in table/column order.
    pub changes: Vec<Change>,
    /// `nodetype.provmethod`.
    pub provmethod: Option<String>,
}

/// Addresses of a destination service node, as it reports them (over SSH).
pub trait SnInterfaces {
    /// The SN's addresses in `ip addr` order, or why they could not be read.
    fn addresses(&self, sn: &str) -> Result<Vec<IpAddr>, String>;
}

/// No way to reach service nodes: every SN falls back to the tables.
#[derive(Debug, Default, Clone, Copy)]
pub struct Unreachable;

impl SnInterfaces for Unreachable {
    fn addresses(&self, _sn: &str) -> Result<Vec<IpAddr>, String> {
        Err("no transport to service nodes".into())
    }
}

/// Expands a noderange: the sorted nodes and the names it could not resolve.
pub type Expander<'a> = dyn Fn(&str) -> Result<(Vec<String>, Vec<String>), String> + 'a;

/// A complete plan.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The moved nodes, sorted by name.
    pub nodes: Vec<NodeMove>,
    /// Information and warnings, in order.
    pub messages: Vec<Message>,
    /// The database changes, with the expectations (rows read) checked at commit.
    pub batch: Batch,
    /// The rows the batch may write, exactly as they were (`None`: absent), for the journal.
    pub before: Vec<(String, String, Option<Row>)>,
    /// Nodes whose conserver changed (makeconservercf).
    pub conserver_nodes: Vec<String>,
    /// `nodeset` arguments (`install`, `netboot`, `statelite` or `osimage=<name>`) → nodes.
    pub nodeset: BTreeMap<String, Vec<String>>,
}

fn value(v: Option<String>) -> Option<String> {
    v.filter(|s| is_set(Some(s)))
}

/// Plans a move.
pub fn plan(
    db: &Database,
    req: &MoveArgs,
    expand: &Expander<'_>,
    names: &AddressBook<'_, '_>,
    sn_interfaces: &dyn SnInterfaces,
) -> Result<Plan, PlanError> {
    let r = Resolver::new(db);
    let mut messages = Vec::new();
    let info = |m: &mut Vec<Message>, t: String| m.push(Message { warning: false, text: t });

    // §3: selection.
    let nodes: Vec<String> = match &req.noderange {
        Some(nr) => {
            let (nodes, missed) = expand(nr).map_err(PlanError::one)?;
            if !missed.is_empty() {
                return Err(PlanError::one(format!("Invalid nodes in noderange:{}", missed.join(","))));
            }
            nodes
        }
        None => {
            let sn1 = req.source.as_deref().unwrap_or("");
            let master = r.site("master");
            if master == Some(sn1) {
                return Err(PlanError::one(format!(
                    "Refusing -s {sn1}: it is site.master, so xCAT would select every node without a servicenode value, service nodes included. Give the nodes as a noderange instead."
                )));
            }
            let mut v = Vec::new();
            for n in r.nodes() {
                let sn = r.attr(n, "noderes", "servicenode")?;
                if let Some(sn) = sn.as_deref() {
                    if sn == sn1 || sn.strip_prefix(sn1).is_some_and(|rest| rest.starts_with(',')) {
                        v.push(n.to_string());
                    }
                }
            }
            v.sort();
            v
        }
    };

    // Every node must resolve to an address (first failure stops).
    let mut addrs = Vec::with_capacity(nodes.len());
    for n in &nodes {
        match names.lookup(n) {
            Some(a) => addrs.push(a),
            None => return Err(PlanError::one(format!("Could not resolve node '{n}'."))),
        }
    }
    if nodes.is_empty() {
        return Err(PlanError::one("Could not get xCAT object definitions."));
    }

    // §4: OS.
    let mut aix = 0;
    for n in &nodes {
        if r.attr(n, "nodetype", "os")?.as_deref() == Some("AIX") {
            aix += 1;
        }
    }
    if aix > 0 && aix < nodes.len() {
        return Err(PlanError::one("This command does not support a mix of AIX and Linux nodes."));
    }
    if req.liteonly && aix == 0 {
        return Err(PlanError::one("The '-l' option is not supported for Linux nodes."));
    }
    if aix > 0 {
        return Err(PlanError::one(
            "AIX nodes are not supported by this snmove (NIM, statelite and bootlist handling are not implemented); use xCAT's snmove for them.",
        ));
    }

    // Current effective values.
    let mut current = Vec::with_capacity(nodes.len());
    for n in &nodes {
        let nr = r.attrs(n, "noderes", &["servicenode", "xcatmaster", "tftpserver", "nfsserver", "monserver"])?;
        let mut it = nr.into_iter().map(value);
        current.push(Current {
            servicenode: it.next().flatten(),
            xcatmaster: it.next().flatten(),
            tftpserver: it.next().flatten(),
            nfsserver: it.next().flatten(),
            monserver: it.next().flatten(),
            conserver: value(r.attr(n, "nodehm", "conserver")?),
        });
    }

    // §5: destination.
    let mut new_sns = Vec::with_capacity(nodes.len());
    let mut errors = Vec::new();
    for (n, cur) in nodes.iter().zip(&current) {
        if let Some(d) = &req.dest {
            new_sns.push(d.clone());
            continue;
        }
        if let Some(list) = cur.servicenode.as_deref() {
            if split_list(list).len() > 2 {
                messages.push(Message {
                    warning: true,
                    text: format!("{n}: the service node attribute has more than two values ({list}); the second one is used."),
                });
            }
        }
        match backup_sn(cur.servicenode.as_deref()) {
            Some(b) => new_sns.push(b.to_string()),
            None => {
                errors.push(format!("Could not determine a backup service node for node {n}."));
                new_sns.push(String::new());
            }
        }
    }
    if !errors.is_empty() {
        return Err(PlanError { info: Vec::new(), lines: errors });
    }

    // §6: new xcatmaster.
    let mut masters: Vec<(String, MasterSource)> = Vec::with_capacity(nodes.len());
    let mut pre_info = Vec::new();
    if let Some(dn) = &req.destn {
        masters.extend(nodes.iter().map(|_| (dn.clone(), MasterSource::Given)));
    } else {
        let networks = networks(db);
        let mut sn_ips: BTreeMap<&str, (Vec<IpAddr>, MasterSource)> = BTreeMap::new();
        for sn in new_sns.iter().collect::<BTreeSet<_>>() {
            let got = match sn_interfaces.addresses(sn) {
                Ok(ips) => (ips, MasterSource::SnInterfaces),
                Err(why) => {
                    pre_info.push(format!("Could not get IP addresses from service node {sn}."));
                    let ips = table_addresses(names, sn);
                    messages.push(Message {
                        warning: true,
                        text: format!(
                            "{sn} could not be reached ({why}); using the addresses the hosts table and the resolver give for it: {}",
                            if ips.is_empty() { "none".to_string() } else { ips.iter().map(|i| i.to_string()).collect::<Vec<_>>().join(",") }
                        ),
                    });
                    (ips, MasterSource::Tables)
                }
            };
            sn_ips.insert(sn, got);
        }
        for ((n, sn), a) in nodes.iter().zip(&new_sns).zip(&addrs) {
            let (ips, src) = &sn_ips[sn.as_str()];
            let found = network_of(a.ip, &networks).and_then(|net| first_in_network(ips, net));
            match found {
                Some(ip) => masters.push((ip.to_string(), src.clone())),
                None => {
                    errors.push(format!("Could not determine an xcatmaster value for node {n}."));
                    masters.push((String::new(), src.clone()));
                }
            }
        }
        if !errors.is_empty() {
            return Err(PlanError { info: pre_info, lines: errors });
        }
    }
    for line in pre_info {
        info(&mut messages, line);
    }

    // §7–§9: rewrites, as node-level rows.
    let mut batch = Batch::new();
    let mut before = Vec::new();
    let mut moves = Vec::with_capacity(nodes.len());
    let mut conserver_nodes = Vec::new();
    let mut nodeset: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut expected: BTreeSet<(&str, String)> = BTreeSet::new();
    for (i, n) in nodes.iter().enumerate() {
        let cur = &current[i];
        let old_sn = match &req.source {
            Some(s) => s.clone(),
            None => cur.servicenode.as_deref().map(|l| split_list(l).first().copied().unwrap_or("").to_string()).unwrap_or_default(),
        };
        let old_master = req.sourcen.clone().or_else(|| cur.xcatmaster.clone());
        let old_master_ip = old_master.as_deref().and_then(|m| names.lookup(m)).map(|a| a.ip.to_string());
        let (new_master, master_source) = masters[i].clone();
        let dir = Direction {
            old_sn: old_sn.clone(),
            old_master: old_master.clone(),
            old_master_ip,
            new_sn: new_sns[i].clone(),
            new_master: new_master.clone(),
        };
        let nv = rewrite(cur, &dir);
        if nv.monserver_invalid {
            messages.push(Message {
                warning: true,
                text: format!("{n}: The current value of the monserver attribute is not valid.  It will not be reset."),
            });
        }
        let mut changes = vec![
            Change { table: "noderes", column: "servicenode", old: cur.servicenode.clone(), new: nv.servicenode.clone() },
            Change { table: "noderes", column: "xcatmaster", old: cur.xcatmaster.clone(), new: nv.xcatmaster.clone() },
        ];
        for (col, old, new) in [
            ("tftpserver", &cur.tftpserver, &nv.tftpserver),
            ("nfsserver", &cur.nfsserver, &nv.nfsserver),
            ("monserver", &cur.monserver, &nv.monserver),
        ] {
            if let Some(new) = new {
                changes.push(Change { table: "noderes", column: col, old: old.clone(), new: new.clone() });
            }
        }
        if let Some(c) = &nv.conserver {
            changes.push(Change { table: "nodehm", column: "conserver", old: cur.conserver.clone(), new: c.clone() });
            conserver_nodes.push(n.clone());
        }
        for table in ["noderes", "nodehm"] {
            let cols: Vec<(&str, &str)> = changes
                .iter()
                .filter(|c| c.table == table)
                .map(|c| (c.column, c.new.as_str()))
                .collect();
            if cols.is_empty() {
                continue;
            }
            let t = db.table(table);
            let existing = t.and_then(|t| t.find(&[n.as_str()]).map(|i| (t, i)));
            before.push((table.to_string(), n.clone(), existing.map(|(t, i)| t.rows()[i].clone())));
            match existing {
                Some((t, idx)) if !t.is_row_enabled(idx) => {
                    // Writing into a disabled row would not take effect. Replace it by an enabled
                    // row holding only the moved values: the other columns contributed nothing
                    // while the row was disabled, so they keep inheriting as before.
                    let mut row: Row = vec![None; t.columns().len()];
                    for &k in &t.key_indices() {
                        row[k] = Some(n.clone());
                    }
                    for (c, v) in &cols {
                        if let Some(ci) = t.column_index(c) {
                            row[ci] = Some(v.to_string());
                        }
                    }
                    let disable = t.column_index("disable").and_then(|d| t.rows()[idx][d].clone()).unwrap_or_default();
                    messages.push(Message {
                        warning: true,
                        text: format!(
                            "{n}: its {table} row was disabled (disable={disable:?}), so a value written there would not take effect; it was replaced by an enabled row holding only the moved attributes (the old row is kept in the journal)."
                        ),
                    });
                    batch.push(Op::Put { table: table.into(), key: vec![n.clone()], row });
                }
                _ => {
                    batch.push(Op::Set {
                        table: table.into(),
                        key: vec![n.clone()],
                        values: cols.iter().map(|(c, v)| (c.to_string(), Some(v.to_string()))).collect(),
                    });
                }
            }
        }
        // The rows this node's values were read from must not change before the commit.
        for table in ["noderes", "nodehm"] {
            expected.insert((table, n.clone()));
            for g in r.groups(n) {
                expected.insert((table, g.to_string()));
            }
        }
        expected.insert(("nodelist", n.clone()));
        let provmethod = value(r.attr(n, "nodetype", "provmethod")?);
        if let Some(p) = &provmethod {
            let arg = match p.as_str() {
                "install" | "netboot" | "statelite" => p.clone(),
                other => format!("osimage={other}"),
            };
            nodeset.entry(arg).or_default().push(n.clone());
        }
        changes.sort_by(|a, b| (a.table, a.column).cmp(&(b.table, b.column)));
        let a = &addrs[i];
        moves.push(NodeMove {
            node: n.clone(),
            old_sn,
            new_sn: dir.new_sn,
            old_master,
            new_master,
            master_source,
            address: a.ip.to_string(),
            address_source: a.source.to_string(),
            changes,
            provmethod,
        });
    }
    for (table, key) in expected {
        let row = db.table(table).and_then(|t| t.find(&[key.as_str()]).map(|i| t.rows()[i].clone()));
        batch.expect(Expect { table: table.to_string(), key: vec![key], row });
    }
    Ok(Plan { nodes: moves, messages, batch, before, conserver_nodes, nodeset })
}

/// The enabled rows of the `networks` table, in table order.
pub fn networks(db: &Database) -> Vec<Network> {
    let Some(t) = db.table("networks") else { return Vec::new() };
    let col = |c: &str| t.column_index(c);
    let (name, net, mask, gw) = (col("netname"), col("net"), col("mask"), col("gateway"));
    let get = |r: &Row, c: Option<usize>| c.and_then(|c| r[c].clone());
    t.rows()
        .iter()
        .enumerate()
        .filter(|(i, _)| t.is_row_enabled(*i))
        .map(|(_, r)| Network {
            name: get(r, name),
            net: get(r, net).unwrap_or_default(),
            mask: get(r, mask).unwrap_or_default(),
            gateway: get(r, gw),
        })
        .collect()
}

/// What the tables and the resolver say of a host's addresses: its own address (`hosts.ip`,
/// else the system resolver), then every address its `hosts.otherinterfaces` lists.
pub fn table_addresses(names: &AddressBook<'_, '_>, host: &str) -> Vec<IpAddr> {
    let mut v = Vec::new();
    if let Some(a) = names.lookup(host) {
        v.push(a.ip);
    }
    for (_, ip) in names.other_interfaces_of(host) {
        if !v.contains(&ip) {
            v.push(ip);
        }
    }
    v
}
