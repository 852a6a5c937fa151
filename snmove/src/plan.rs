//! Planning a move: a pure function of a table snapshot and a [`Request`] (spec §3–§10).
//!
//! [`plan`] reads nothing but the [`Database`] it is given and the answers of its [`Env`] (the
//! noderange expander, the name resolver and the service-node probe), and writes nothing. It
//! either rejects the request — with exactly the messages xCAT prints, in xCAT's order — or
//! returns a [`Plan`]: the new values of every node, the table writes as node-level rows with
//! the rows they were computed from as commit-time expectations, and the follow-up commands and
//! node-side steps that the move then needs. Everything is sorted by node name (and by key for
//! groups of nodes), so the same tables always give the same plan.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::IpAddr;

use xcattab::resolve::{ResolveError, Resolver};
use xcattab::{Batch, Database, Expect, Op, Row};

use crate::addr::{AddressBook, Source, SystemResolver};
use crate::index::KeyIndex;
use crate::net::{in_subnet, network_of, parse_ip_addr, Network};
use crate::output::Msg;
use crate::rewrite::{backup_sn, is_set, rewrite, split_list, Current, Direction};

/// The tables a plan reads.
pub const TABLES: &[&str] = &[
    "site",
    "nodelist",
    "nodegroup",
    "noderes",
    "nodehm",
    "nodetype",
    "hosts",
    "networks",
    "postscripts",
    "osimage",
];

/// What to move, and how: the options of xCAT's snmove that shape a plan.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Request {
    /// The noderange (`snmove NODERANGE`); `None` with `-s`.
    pub noderange: Option<String>,
    /// `-s`: the source SN, MN-facing.
    pub source: Option<String>,
    /// `-S`: the source SN, node-facing.
    pub sourcen: Option<String>,
    /// `-d`: the destination SN, MN-facing.
    pub dest: Option<String>,
    /// `-D`: the destination SN, node-facing (written verbatim as xcatmaster).
    pub destn: Option<String>,
    /// `-l`.
    pub liteonly: bool,
    /// `-i`: no node-side steps.
    pub ignorenodes: bool,
    /// `-P`: extra postscripts, or `all`.
    pub postscripts: Option<String>,
    /// `--skip-nodeset`.
    pub skip_nodeset: bool,
    /// `-V`: also announce the xCAT commands run, as xCAT's internal runner does.
    #[serde(skip)]
    pub verbose: bool,
}

impl From<&crate::cli::MoveArgs> for Request {
    fn from(m: &crate::cli::MoveArgs) -> Self {
        Request {
            noderange: m.noderange.clone(),
            source: m.source.clone(),
            sourcen: m.sourcen.clone(),
            dest: m.dest.clone(),
            destn: m.destn.clone(),
            liteonly: m.liteonly,
            ignorenodes: m.ignorenodes,
            postscripts: m.postscripts.clone(),
            skip_nodeset: m.skip_nodeset,
            verbose: m.verbose,
        }
    }
}

/// The nodes a noderange names.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Selection {
    /// The nodes, sorted.
    pub nodes: Vec<String>,
    /// The names that are neither nodes nor groups (xCAT's `nodesmissed`).
    pub missed: Vec<String>,
}

/// Expands noderanges (the noderange crate, over the snapshot's tables).
pub trait Expander {
    /// Expands `noderange`; an `Err` is a malformed noderange, explained.
    fn expand(&self, db: &Database, noderange: &str) -> Result<Selection, String>;
}

/// Reads a destination service node's interfaces: the output of `ip addr` (Linux) or
/// `ifconfig -a` (AIX) run on it, as xCAT reads it with `xdsh <sn>` (lines may carry a
/// `<sn>: ` prefix).
pub trait Probe {
    /// The command output, or why the service node could not be asked. `address` is what
    /// the tables or the resolver say of the SN's (MN-facing) name, if anything.
    fn interfaces(&self, sn: &str, address: Option<IpAddr>, aix: bool) -> Result<String, String>;

    /// The line xCAT's runner prints under `-V` before it asks `sn` this way (`Running
    /// internal xCAT command: xdsh ... `, or `Running command on <host>: /sbin/ip addr ` when
    /// `sn` is this machine), if this probe is one xCAT would announce; `None` by default.
    fn announce(&self, _sn: &str, _address: Option<IpAddr>, _aix: bool) -> Option<String> {
        None
    }
}

/// The line xCAT's `runxcmd` prints under `-V` before it runs one of xCAT's commands
/// (`command` is its name), once the command's output reaches the user — that is, once the
/// service-node probe has run (spec §2.5): a blank line follows it.
///
/// ```
/// assert_eq!(
///     snmove::plan::internal_command_line("nodeset"),
///     "Running internal xCAT command: nodeset ... \n"
/// );
/// ```
pub fn internal_command_line(command: &str) -> String {
    format!("Running internal xCAT command: {command} ... \n")
}

impl Request {
    /// Whether xCAT would announce its internal commands: `-V`, and the service-node probe
    /// ran (no `-D`), which is what gives xCAT's runner a way to the user (spec §2.5).
    pub fn announces_commands(&self) -> bool {
        self.verbose && self.destn.is_none()
    }
}

/// No way to reach service nodes.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoProbe;

impl Probe for NoProbe {
    fn interfaces(
        &self,
        _sn: &str,
        _address: Option<IpAddr>,
        _aix: bool,
    ) -> Result<String, String> {
        Err("no transport to the service nodes is configured".into())
    }
}

/// Everything a plan consults besides the tables.
pub struct Env<'a> {
    /// Noderange expansion.
    pub expander: &'a dyn Expander,
    /// The service-node probe (§6).
    pub probe: &'a dyn Probe,
    /// The system resolver, asked after the hosts table.
    pub system: &'a dyn SystemResolver,
    /// Prints a node list compactly (noderange folding).
    pub fold: &'a dyn Fn(&[String]) -> String,
}

/// The operating system family of the moved nodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Os {
    /// `nodetype.os` is anything but `AIX`.
    Linux,
    /// `nodetype.os` is exactly `AIX`.
    Aix,
}

/// Where a node's new xcatmaster came from.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum MasterSource {
    /// `-D`.
    Given,
    /// An address the destination SN reported.
    Probe,
    /// The SN could not be asked: an address the tables or the resolver give for it.
    Tables,
}

/// One attribute a move writes.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Change {
    /// Table.
    pub table: &'static str,
    /// Column.
    pub column: &'static str,
    /// The effective value before the move (`None`: unset).
    pub old: Option<String>,
    /// The value written into the node's own row.
    pub new: String,
}

/// The move of one node.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct NodeMove {
    /// Node name.
    pub node: String,
    /// The node's address, and which source gave it.
    pub address: String,
    /// `hosts.ip`, `system resolver`, …
    pub address_source: String,
    /// Old SN, MN-facing (`-s`, else the first servicenode entry; may be empty).
    pub old_sn: String,
    /// New SN, MN-facing.
    pub new_sn: String,
    /// Old xcatmaster, node-facing (`-S`, else the current value).
    pub old_master: Option<String>,
    /// New xcatmaster.
    pub new_master: String,
    /// Where the new xcatmaster came from.
    pub master_source: MasterSource,
    /// Every attribute written, in table, column order.
    pub changes: Vec<Change>,
    /// `nodetype.provmethod`.
    pub provmethod: Option<String>,
}

impl NodeMove {
    /// The node's first service node before the move (`old_sn` is the `-s` value when one
    /// was given, which need not be it); empty if it had none.
    pub fn current_sn(&self) -> &str {
        self.changes
            .iter()
            .find(|c| c.table == "noderes" && c.column == "servicenode")
            .and_then(|c| c.old.as_deref())
            .filter(|l| crate::rewrite::is_set(Some(l)))
            .and_then(|l| crate::rewrite::split_list(l).first().copied())
            .unwrap_or("")
    }
}

/// A follow-up xCAT command (§10.5, §10.9).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FollowUp {
    /// `makeconservercf` or `nodeset`.
    pub command: String,
    /// The nodes, sorted.
    pub nodes: Vec<String>,
    /// Arguments after the node list (`osimage=<image>`, `netboot`, …).
    pub args: Vec<String>,
}

/// Nodes whose default route goes to the same new gateway (§10.11).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RouteGroup {
    /// The new gateway: the address of the new xcatmaster.
    pub gateway: String,
    /// The nodes, sorted.
    pub nodes: Vec<String>,
}

/// Nodes that run the same postscripts (§10.13).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ScriptGroup {
    /// The script list as `updatenode -P` gets it.
    pub scripts: String,
    /// The nodes, sorted.
    pub nodes: Vec<String>,
}

/// A node row that was disabled and is replaced, so that the moved values take effect.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Reenabled {
    /// Table.
    pub table: String,
    /// Node.
    pub node: String,
    /// Its `disable` value.
    pub disable: String,
}

/// A complete plan. Apply it with [`crate::apply::commit`].
#[derive(Debug, Clone, serde::Serialize)]
pub struct Plan {
    /// The request.
    pub request: Request,
    /// The nodes' operating system family.
    pub os: Os,
    /// The moves, sorted by node.
    pub moves: Vec<NodeMove>,
    /// The messages of the planning phase, in order (printed before the database is written).
    pub events: Vec<Msg>,
    /// The table writes, with the rows they were computed from as expectations.
    #[serde(skip)]
    pub batch: Batch,
    /// Disabled node rows replaced by enabled ones.
    pub reenabled: Vec<Reenabled>,
    /// makeconservercf, then nodeset per provisioning method, in order.
    pub follow_ups: Vec<FollowUp>,
    /// Default-route groups (empty with `-i`).
    pub routes: Vec<RouteGroup>,
    /// Postscript groups (empty with `-i`).
    pub scripts: Vec<ScriptGroup>,
    /// Where node and service-node addresses came from: source → names.
    pub address_sources: BTreeMap<String, Vec<String>>,
    /// What the node-side steps need to know of each node, in node order (empty with `-i`).
    pub node_env: Vec<NodeEnv>,
    /// The enabled `site` rows, key → value (the postscripts' environment).
    pub site: BTreeMap<String, String>,
}

/// What the node-side steps need to know of one node (xCAT's postscript environment).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct NodeEnv {
    /// Node name.
    pub node: String,
    /// The node's address (where to connect).
    pub address: String,
    /// The new xcatmaster, as written (`MASTER`).
    pub master: String,
    /// Its address (`MASTER_IP`), when it resolves.
    pub master_ip: Option<String>,
    /// The new service node (MN-facing), and its address when it resolves (jump host).
    pub service_node: String,
    /// Address of the new service node.
    pub service_node_address: Option<String>,
    /// The new servicenode list (`SERVICEGROUP`).
    pub servicegroup: String,
    /// `noderes.syslog`.
    pub syslog: Option<String>,
    /// `nodetype.os`, `arch`, `profile`, `provmethod`.
    pub os: Option<String>,
    /// `nodetype.arch`.
    pub arch: Option<String>,
    /// `nodetype.profile`.
    pub profile: Option<String>,
    /// `nodetype.provmethod`.
    pub provmethod: Option<String>,
}

/// A refused request: the messages to print (the last ones are the errors). Nothing was
/// written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", events.iter().map(|m| m.text().trim_end()).collect::<Vec<_>>().join("; "))]
pub struct Rejected {
    /// Everything printed, in order.
    pub events: Vec<Msg>,
}

impl From<Box<ResolveError>> for Rejected {
    fn from(e: Box<ResolveError>) -> Self {
        Rejected {
            events: vec![Msg::Error(e.to_string())],
        }
    }
}

fn truthy(v: Option<String>) -> Option<String> {
    v.filter(|s| is_set(Some(s)))
}

/// Whether a text is an address the way xCAT's `toIP` sees it (dotted quad, or any `:`).
fn looks_like_ip(s: &str) -> bool {
    if s.contains(':') {
        return true;
    }
    let parts: Vec<&str> = s.split('.').collect();
    parts.len() == 4
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.len() <= 3 && p.chars().all(|c| c.is_ascii_digit()))
}

/// The enabled rows of `networks`, in table order.
pub fn networks(db: &Database) -> Vec<Network> {
    let Some(t) = db.table("networks") else {
        return Vec::new();
    };
    let col = |c: &str| t.column_index(c);
    let (name, net, mask, gw) = (col("netname"), col("net"), col("mask"), col("gateway"));
    let get = |r: &Row, c: Option<usize>| c.and_then(|c| r.get(c).cloned().flatten());
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

/// `f` over the nodes, in order, on the machine's cores when the list is long.
fn par_map<T: Send>(nodes: &[String], f: impl Fn(&str) -> T + Sync) -> Vec<T> {
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .min(8);
    if threads < 2 || nodes.len() < 4096 {
        return nodes.iter().map(|n| f(n)).collect();
    }
    let chunk = nodes.len().div_ceil(threads);
    std::thread::scope(|s| {
        let f = &f;
        let parts: Vec<_> = nodes
            .chunks(chunk)
            .map(|c| s.spawn(move || c.iter().map(|n| f(n)).collect::<Vec<T>>()))
            .collect();
        parts
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect()
    })
}

/// The effective values a move reads for one node.
#[derive(Debug, Clone, Default)]
struct NodeState {
    cur: Current,
    os: Option<String>,
    provmethod: Option<String>,
}

/// A resolved attribute; a table missing from the snapshot reads as empty.
fn attr(
    r: &Resolver<'_>,
    node: &str,
    table: &str,
    column: &str,
) -> Result<Option<String>, Box<ResolveError>> {
    match r.attr(node, table, column) {
        Err(ResolveError::NotLoaded { .. }) => Ok(None),
        other => other.map_err(Box::new),
    }
}

fn read_state(r: &Resolver<'_>, node: &str) -> Result<NodeState, Box<ResolveError>> {
    let nr = |c: &str| attr(r, node, "noderes", c).map(truthy);
    Ok(NodeState {
        cur: Current {
            // Raw: xCAT splits and rotates the value as it is, so a servicenode of "0" (false
            // to Perl, hence no backup and no selection) still keeps its item: `-d sn2` gives
            // "sn2,0".
            servicenode: attr(r, node, "noderes", "servicenode")?,
            xcatmaster: nr("xcatmaster")?,
            tftpserver: nr("tftpserver")?,
            nfsserver: nr("nfsserver")?,
            monserver: nr("monserver")?,
            conserver: truthy(attr(r, node, "nodehm", "conserver")?),
        },
        os: attr(r, node, "nodetype", "os")?,
        provmethod: truthy(attr(r, node, "nodetype", "provmethod")?),
    })
}

/// Plans a move (see the module documentation).
pub fn plan(db: &Database, req: &Request, env: &Env<'_>) -> Result<Plan, Rejected> {
    let r = Resolver::new(db);
    let names = AddressBook::new(&r, env.system);
    let mut events: Vec<Msg> = Vec::new();
    let reject = |mut events: Vec<Msg>, last: Vec<Msg>| {
        events.extend(last);
        Err(Rejected { events })
    };

    let mut t0 = std::time::Instant::now();
    // §3: selection.
    let nodes: Vec<String> = match &req.noderange {
        Some(nr) => {
            let sel = match env.expander.expand(db, nr) {
                Ok(s) => s,
                Err(why) => return reject(events, vec![Msg::Error(why)]),
            };
            if !sel.missed.is_empty() {
                // xCAT sends this as a data line (stdout, exit 0); it is an error here.
                return reject(
                    events,
                    vec![Msg::Error(format!(
                        "Invalid nodes in noderange:{}",
                        sel.missed.join(",")
                    ))],
                );
            }
            let mut nodes = sel.nodes;
            nodes.sort();
            nodes.dedup();
            nodes
        }
        None => {
            let sn1 = req.source.as_deref().unwrap_or("");
            let master = r.site("master");
            let mut picked = Vec::new();
            let mut without = Vec::new();
            for &n in r.nodes() {
                match truthy(attr(&r, n, "noderes", "servicenode")?) {
                    Some(sn)
                        if sn == sn1
                            || sn
                                .strip_prefix(sn1)
                                .is_some_and(|rest| rest.starts_with(',')) =>
                    {
                        picked.push(n.to_string());
                    }
                    None if master == Some(sn1) => without.push(n.to_string()),
                    _ => {}
                }
            }
            if !without.is_empty() {
                without.sort();
                return reject(
                    events,
                    vec![Msg::Error(format!(
                        "-s {sn1} is the management node (site.master): xCAT would also move every node that has no servicenode value, service nodes included ({} node(s): {}). Nothing was moved; give the nodes to move as a noderange instead.",
                        without.len(),
                        (env.fold)(&without)
                    ))],
                );
            }
            picked.sort();
            picked.dedup();
            picked
        }
    };

    crate::timing("plan: selection", t0);
    t0 = std::time::Instant::now();
    // Every node must resolve (the first failure stops); the nodes' addresses and current
    // values are read in parallel, then checked in node order.
    let looked_up = par_map(&nodes, |n| (names.lookup(n), read_state(&r, n)));
    let mut addrs = Vec::with_capacity(nodes.len());
    let mut states = Vec::with_capacity(nodes.len());
    for (n, (a, st)) in nodes.iter().zip(looked_up) {
        match a {
            Some(a) => {
                addrs.push(a);
                states.push(st);
            }
            None => {
                return reject(
                    events,
                    vec![Msg::Error(format!("Could not resolve node '{n}'.\n"))],
                )
            }
        }
    }
    if nodes.is_empty() {
        return reject(
            events,
            vec![Msg::Error(
                "Could not get xCAT object definitions.\n".into(),
            )],
        );
    }

    crate::timing("plan: addresses and current values", t0);
    t0 = std::time::Instant::now();
    // §4: operating system.
    let states = states.into_iter().collect::<Result<Vec<_>, _>>()?;
    let aix = states
        .iter()
        .filter(|s| s.os.as_deref() == Some("AIX"))
        .count();
    if aix > 0 && aix < nodes.len() {
        return reject(
            events,
            vec![Msg::Error(
                "This command does not support a mix of AIX and Linux nodes.\n".into(),
            )],
        );
    }
    let os = if aix > 0 { Os::Aix } else { Os::Linux };
    if req.liteonly && os == Os::Linux {
        return reject(
            events,
            vec![Msg::Error(
                "The '-l' option is not supported for Linux nodes.\n".into(),
            )],
        );
    }

    // §5: destination.
    let mut new_sns: Vec<String> = Vec::with_capacity(nodes.len());
    let mut servlist: Vec<String> = Vec::new();
    let mut errors = Vec::new();
    match &req.dest {
        Some(d) => {
            new_sns.extend(nodes.iter().map(|_| d.clone()));
            servlist.push(d.clone());
        }
        None => {
            let mut seen = BTreeSet::new();
            for (n, st) in nodes.iter().zip(&states) {
                if let Some(list) = st.cur.servicenode.as_deref() {
                    if split_list(list).len() > 2 {
                        events.push(Msg::Warning(format!(
                            "The service node attribute of node {n} has more than two values ({list}); the second one is used."
                        )));
                    }
                }
                match backup_sn(st.cur.servicenode.as_deref()) {
                    Some(b) => {
                        if seen.insert(b.to_string()) {
                            servlist.push(b.to_string());
                        }
                        new_sns.push(b.to_string());
                    }
                    None => {
                        errors.push(Msg::Error(format!(
                            "Could not determine a backup service node for node {n}."
                        )));
                        new_sns.push(String::new());
                    }
                }
            }
        }
    }
    if !errors.is_empty() {
        return reject(events, errors);
    }

    crate::timing("plan: destination", t0);
    t0 = std::time::Instant::now();
    // §6: the new xcatmaster.
    let mut masters: Vec<(String, MasterSource)> = Vec::with_capacity(nodes.len());
    let mut sources: BTreeMap<String, Vec<String>> = BTreeMap::new();
    match &req.destn {
        Some(dn) => masters.extend(nodes.iter().map(|_| (dn.clone(), MasterSource::Given))),
        None => {
            let nets = networks(db);
            let mut sn_ips: HashMap<&str, (Vec<IpAddr>, MasterSource)> = HashMap::new();
            for sn in &servlist {
                let address = names.lookup(sn).map(|a| a.ip);
                if req.verbose {
                    if let Some(line) = env.probe.announce(sn, address, os == Os::Aix) {
                        events.push(Msg::Info(line));
                    }
                }
                let got = match env.probe.interfaces(sn, address, os == Os::Aix) {
                    Ok(out) => (parse_ip_addr(&out), MasterSource::Probe),
                    Err(why) => {
                        events.push(Msg::Data(format!(
                            "Could not get IP addresses from service node {sn}.\n"
                        )));
                        let (ips, how) = table_addresses(&names, sn);
                        events.push(Msg::Info(if ips.is_empty() {
                            format!("Neither the hosts table nor the system resolver knows an address of {sn} either ({sn} could not be asked: {why}).")
                        } else {
                            format!(
                                "Using the addresses the tables and the system resolver give for {sn} instead: {} ({sn} could not be asked: {why}).",
                                ips.iter().zip(&how).map(|(i, h)| format!("{i} from {h}")).collect::<Vec<_>>().join(", ")
                            )
                        }));
                        (ips, MasterSource::Tables)
                    }
                };
                sn_ips.insert(sn.as_str(), got);
            }
            for ((n, sn), a) in nodes.iter().zip(&new_sns).zip(&addrs) {
                let found = sn_ips.get(sn.as_str()).and_then(|(ips, src)| {
                    let net = network_of(a.ip, &nets)?;
                    ips.iter()
                        .find(|ip| in_subnet(**ip, &net.net, &net.mask))
                        .map(|ip| (ip.to_string(), src.clone()))
                });
                match found {
                    Some(m) => masters.push(m),
                    None => {
                        errors.push(Msg::Error(format!(
                            "Could not determine an xcatmaster value for node {n}."
                        )));
                        masters.push((String::new(), MasterSource::Given));
                    }
                }
            }
            if !errors.is_empty() {
                return reject(events, errors);
            }
        }
    }
    for (n, a) in nodes.iter().zip(&addrs) {
        sources
            .entry(a.source.to_string())
            .or_default()
            .push(n.clone());
    }

    crate::timing("plan: xcatmaster", t0);
    t0 = std::time::Instant::now();
    // §7–§8: the new values, node by node.
    let mut dirs = Vec::with_capacity(nodes.len());
    let mut news = Vec::with_capacity(nodes.len());
    // Old xcatmaster → its address, asked once per distinct name.
    let mut master_ips: HashMap<String, Option<String>> = HashMap::new();
    for i in 0..nodes.len() {
        let cur = &states[i].cur;
        let old_sn = match &req.source {
            Some(s) => s.clone(),
            None => cur
                .servicenode
                .as_deref()
                .and_then(|l| split_list(l).first().map(|s| s.to_string()))
                .unwrap_or_default(),
        };
        let old_master = req.sourcen.clone().or_else(|| cur.xcatmaster.clone());
        let old_master_ip = old_master.as_deref().and_then(|m| {
            if looks_like_ip(m) {
                return Some(m.to_string());
            }
            if let Some(known) = master_ips.get(m) {
                return known.clone();
            }
            let ip = names.lookup(m).map(|a| {
                sources
                    .entry(a.source.to_string())
                    .or_default()
                    .push(m.to_string());
                a.ip.to_string()
            });
            master_ips.insert(m.to_string(), ip.clone());
            ip
        });
        let dir = Direction {
            old_sn,
            old_master,
            old_master_ip,
            new_sn: new_sns[i].clone(),
            new_master: masters[i].0.clone(),
        };
        let nv = rewrite(cur, &dir);
        if nv.monserver_invalid {
            events.push(Msg::Error(
                "The current value of the monserver attribute is not valid.  It will not be reset.\n".into(),
            ));
        }
        dirs.push(dir);
        news.push(nv);
    }

    // AIX: xCAT's remaining checks, then this port's refusal (spec §14 Q11).
    let sharedinstall = r
        .site("sharedinstall")
        .map(|s| s.trim_end_matches('\n'))
        .filter(|s| !s.is_empty())
        .unwrap_or("no");
    if os == Os::Aix {
        if req.liteonly && sharedinstall != "no" {
            // xCAT: an information line (stdout, exit 0), and only for `sns` (Q13).
            return reject(
                events,
                vec![Msg::Error(
                    "The liteonly option is not valaid when using a shared file system across service nodes.\n".into(),
                )],
            );
        }
        return reject(
            events,
            vec![Msg::Error(format!(
                "AIX nodes are not supported by this snmove ({}): it cannot run the statelite synchronization, NIM, dump-device and bootlist steps an AIX move needs. Nothing was written; use xCAT's snmove for AIX nodes.",
                (env.fold)(&nodes)
            ))],
        );
    }

    crate::timing("plan: rewrites", t0);
    t0 = std::time::Instant::now();
    // §9: node-level rows, with the rows read as expectations.
    let mut batch = Batch::new();
    let mut reenabled = Vec::new();
    let mut moves = Vec::with_capacity(nodes.len());
    let mut conserver_nodes = Vec::new();
    let dup_rows = duplicate_keys(db, &["noderes", "nodehm"]);
    let row_index = [
        ("noderes", KeyIndex::new(db.table("noderes"))),
        ("nodehm", KeyIndex::new(db.table("nodehm"))),
    ];
    batch.ops.reserve(nodes.len() * 2);
    let iter = nodes.iter().zip(states).zip(dirs).zip(news).enumerate();
    for (i, (((n, st), dir), nv)) in iter {
        let NodeState {
            cur, provmethod, ..
        } = st;
        // In (table, column) order: nodehm first, then noderes alphabetically.
        let mut changes = Vec::with_capacity(6);
        let conserver_changed = nv.conserver.is_some();
        if let Some(c) = nv.conserver {
            changes.push(Change {
                table: "nodehm",
                column: "conserver",
                old: cur.conserver,
                new: c,
            });
            conserver_nodes.push(n.clone());
        }
        for (col, old, new) in [
            ("monserver", cur.monserver, nv.monserver),
            ("nfsserver", cur.nfsserver, nv.nfsserver),
            ("servicenode", cur.servicenode, Some(nv.servicenode)),
            ("tftpserver", cur.tftpserver, nv.tftpserver),
            ("xcatmaster", cur.xcatmaster, Some(nv.xcatmaster)),
        ] {
            if let Some(new) = new {
                changes.push(Change {
                    table: "noderes",
                    column: col,
                    old,
                    new,
                });
            }
        }
        for (table, present) in [("noderes", true), ("nodehm", conserver_changed)] {
            if !present {
                continue;
            }
            let cols = changes.iter().filter(|c| c.table == table);
            if dup_rows.contains(&(table, n.as_str())) {
                return reject(
                    events,
                    vec![Msg::Error(format!(
                        "table {table} has more than one row keyed '{n}'; xCAT reads the first enabled one and writes the first one. Remove the duplicates (tabedit {table}) and run snmove again. Nothing was written."
                    ))],
                );
            }
            let t = db.table(table);
            let ix = row_index
                .iter()
                .find(|(name, _)| *name == table)
                .and_then(|(_, ix)| ix.position(n));
            match t.and_then(|t| ix.map(|idx| (t, idx))) {
                Some((t, idx)) if !t.is_row_enabled(idx) => {
                    // The row is invisible to every reader, so values written there would not
                    // take effect. It is replaced by an enabled row holding only the moved
                    // values: its other columns contributed nothing while it was disabled, so
                    // the node keeps inheriting them exactly as before. The old row is in the
                    // journal.
                    let mut row: Row = vec![None; t.columns().len()];
                    for k in t.key_indices() {
                        row[k] = Some(n.clone());
                    }
                    for c in cols {
                        if let Some(ci) = t.column_index(c.column) {
                            row[ci] = Some(c.new.clone());
                        }
                    }
                    let disable = t
                        .column_index("disable")
                        .and_then(|d| t.value(idx, d))
                        .unwrap_or("")
                        .to_string();
                    reenabled.push(Reenabled {
                        table: table.into(),
                        node: n.clone(),
                        disable,
                    });
                    batch.push(Op::Put {
                        table: table.into(),
                        key: vec![n.clone()],
                        row,
                    });
                }
                _ => {
                    batch.push(Op::Set {
                        table: table.into(),
                        key: vec![n.clone()],
                        values: cols
                            .map(|c| (c.column.to_string(), Some(c.new.clone())))
                            .collect(),
                    });
                }
            }
        }
        moves.push(NodeMove {
            node: n.clone(),
            address: addrs[i].ip.to_string(),
            address_source: addrs[i].source.to_string(),
            old_sn: dir.old_sn,
            new_sn: dir.new_sn,
            old_master: dir.old_master,
            new_master: dir.new_master,
            master_source: masters[i].1.clone(),
            changes,
            provmethod,
        });
    }
    if !reenabled.is_empty() {
        let mut by_table: BTreeMap<&str, Vec<String>> = BTreeMap::new();
        for re in &reenabled {
            by_table
                .entry(re.table.as_str())
                .or_default()
                .push(re.node.clone());
        }
        for (table, ns) in by_table {
            events.push(Msg::Warning(format!(
                "the {table} rows of {} are disabled, so the moved values would not take effect there: each is replaced by an enabled row holding only the moved values (the node keeps inheriting everything else, as it did; the old rows are kept in the journal).",
                (env.fold)(&ns)
            )));
        }
    }
    crate::timing("plan: node-level rows", t0);
    t0 = std::time::Instant::now();
    add_expectations(db, &r, &nodes, req, &mut batch);

    crate::timing("plan: expectations", t0);
    t0 = std::time::Instant::now();
    // §10.5 and §10.9: follow-up commands.
    let mut follow_ups = Vec::new();
    if !conserver_nodes.is_empty() {
        follow_ups.push(FollowUp {
            command: "makeconservercf".into(),
            nodes: conserver_nodes,
            args: Vec::new(),
        });
    }
    if !req.skip_nodeset {
        let mut by_method: BTreeMap<&str, Vec<String>> = BTreeMap::new();
        for m in &moves {
            if let Some(p) = m.provmethod.as_deref() {
                by_method.entry(p).or_default().push(m.node.clone());
            }
        }
        let mut diskful = Vec::new();
        for (p, ns) in by_method {
            let arg = match p {
                "install" | "netboot" | "statelite" => p.to_string(),
                other => format!("osimage={other}"),
            };
            if p == "install" || image_provmethod(&r, p).as_deref() == Some("install") {
                diskful.extend(ns.iter().cloned());
            }
            follow_ups.push(FollowUp {
                command: "nodeset".into(),
                nodes: ns,
                args: vec![arg],
            });
        }
        if req.ignorenodes && !diskful.is_empty() {
            diskful.sort();
            events.push(Msg::Warning(format!(
                "-i leaves the nodes alone, but nodeset still runs (as in xCAT): it re-arms the diskful nodes {} for installation at their next network boot. Use --skip-nodeset to leave their boot configuration alone.",
                (env.fold)(&diskful)
            )));
        }
    }

    crate::timing("plan: follow-ups", t0);
    t0 = std::time::Instant::now();
    // §10.11 and §10.13: node-side steps.
    let (routes, scripts) = if req.ignorenodes {
        (Vec::new(), Vec::new())
    } else {
        let routes = route_groups(
            &names,
            &nodes,
            &addrs,
            &masters,
            &networks(db),
            &mut events,
            env.fold,
        );
        let scripts = script_groups(&r, &nodes, req, os, sharedinstall)?;
        (routes, scripts)
    };
    let mut node_env = Vec::new();
    let mut site = BTreeMap::new();
    if !req.ignorenodes {
        if let Some(t) = db.table("site") {
            if let (Some(kc), Some(vc)) = (t.column_index("key"), t.column_index("value")) {
                for (i, row) in t.rows().iter().enumerate() {
                    if let (Some(k), true) = (row[kc].as_deref(), t.is_row_enabled(i)) {
                        site.entry(k.to_string())
                            .or_insert_with(|| row[vc].clone().unwrap_or_default());
                    }
                }
            }
        }
        let mut ips: HashMap<String, Option<String>> = HashMap::new();
        let mut ip_of = |name: &str| -> Option<String> {
            if looks_like_ip(name) {
                return Some(name.to_string());
            }
            ips.entry(name.to_string())
                .or_insert_with(|| names.lookup(name).map(|a| a.ip.to_string()))
                .clone()
        };
        for m in &moves {
            let n = m.node.as_str();
            let servicegroup = m
                .changes
                .iter()
                .find(|c| c.column == "servicenode")
                .map(|c| c.new.clone())
                .unwrap_or_default();
            node_env.push(NodeEnv {
                node: m.node.clone(),
                address: m.address.clone(),
                master: m.new_master.clone(),
                master_ip: ip_of(&m.new_master),
                service_node: m.new_sn.clone(),
                service_node_address: ip_of(&m.new_sn),
                servicegroup,
                syslog: attr(&r, n, "noderes", "syslog")?,
                os: attr(&r, n, "nodetype", "os")?,
                arch: attr(&r, n, "nodetype", "arch")?,
                profile: attr(&r, n, "nodetype", "profile")?,
                provmethod: m.provmethod.clone(),
            });
        }
    }

    crate::timing("plan: node-side steps", t0);
    Ok(Plan {
        request: req.clone(),
        os,
        moves,
        events,
        batch,
        reenabled,
        follow_ups,
        routes,
        scripts,
        node_env,
        site,
        address_sources: sources
            .into_iter()
            .map(|(k, mut v)| {
                v.sort();
                v.dedup();
                (k, v)
            })
            .collect(),
    })
}

/// `osimage.provmethod` of an image, if the image is defined.
fn image_provmethod(r: &Resolver<'_>, image: &str) -> Option<String> {
    let t = r.database().table("osimage")?;
    let (kc, pc) = (t.column_index("imagename")?, t.column_index("provmethod")?);
    t.rows()
        .iter()
        .enumerate()
        .find(|(i, row)| row[kc].as_deref() == Some(image) && t.is_row_enabled(*i))
        .and_then(|(_, row)| row[pc].clone())
}

/// Keys that occur more than once in node-keyed tables.
fn duplicate_keys<'db>(
    db: &'db Database,
    tables: &[&'static str],
) -> BTreeSet<(&'static str, &'db str)> {
    let mut out = BTreeSet::new();
    for &t in tables {
        let Some(table) = db.table(t) else { continue };
        let Some(kc) = table.column_index("node") else {
            continue;
        };
        let mut seen = std::collections::HashSet::with_capacity(table.len());
        for row in table.rows() {
            let k = row[kc].as_deref().unwrap_or("");
            if !seen.insert(k) {
                out.insert((t, k));
            }
        }
    }
    out
}

/// What the tables and the system resolver say of a host's addresses: its own address, then
/// the ones its `hosts.otherinterfaces` lists; with the source of each.
pub fn table_addresses(names: &AddressBook<'_, '_>, host: &str) -> (Vec<IpAddr>, Vec<String>) {
    let (mut ips, mut how) = (Vec::new(), Vec::new());
    if let Some(a) = names.lookup(host) {
        ips.push(a.ip);
        how.push(a.source.to_string());
    }
    for (name, ip) in names.other_interfaces_of(host) {
        if !ips.contains(&ip) {
            ips.push(ip);
            how.push(format!(
                "{} as {name}",
                Source::HostsOtherInterfaces {
                    owner: host.to_string()
                }
            ));
        }
    }
    (ips, how)
}

/// The rows the written values were computed from must still be the same at commit time: the
/// moved nodes' own rows in `noderes`, `nodehm`, `nodelist` and `hosts`, their groups' rows in
/// `noderes`, `nodehm`, `hosts` and `nodetype`, and all of `networks` and `site`; with `-s`, all
/// of `nodelist` and `noderes` (the selection read every node).
fn add_expectations(
    db: &Database,
    r: &Resolver<'_>,
    nodes: &[String],
    req: &Request,
    batch: &mut Batch,
) {
    let mut whole: Vec<&str> = vec!["networks", "site"];
    if req.noderange.is_none() {
        whole.extend(["nodelist", "noderes"]);
    }
    let mut groups: BTreeSet<&str> = BTreeSet::new();
    for n in nodes {
        groups.extend(r.groups(n));
    }
    let groups: Vec<&str> = groups
        .into_iter()
        .filter(|g| nodes.binary_search_by(|n| n.as_str().cmp(g)).is_err())
        .collect();
    for t in ["nodelist", "noderes", "nodehm", "hosts", "nodetype"] {
        if whole.contains(&t) {
            continue;
        }
        let Some(table) = db.table(t) else { continue };
        let own = if t == "nodetype" { 0 } else { nodes.len() };
        let keys = own + if t == "nodelist" { 0 } else { groups.len() };
        // Past a quarter of the table, one whole-table expectation is cheaper to take and to
        // check than a row each (and only stricter).
        if keys * 4 > table.len() {
            whole.push(t);
            continue;
        }
        let ix = KeyIndex::new(Some(table));
        let mut expect = |k: &str| {
            batch.expect(Expect {
                table: t.to_string(),
                key: vec![k.to_string()],
                row: ix.row(k).cloned(),
            });
        };
        if own > 0 {
            nodes.iter().for_each(|n| expect(n));
        }
        if t != "nodelist" {
            groups.iter().for_each(|g| expect(g));
        }
    }
    for t in whole {
        if let Some(table) = db.table(t) {
            batch.expect_tables.push(table.clone());
        }
    }
}

/// §10.11: nodes in a network whose gateway is `<xcatmaster>`, grouped by the address of their
/// new xcatmaster. A new xcatmaster that cannot be resolved is reported (xCAT skips silently).
fn route_groups(
    names: &AddressBook<'_, '_>,
    nodes: &[String],
    addrs: &[crate::addr::Address],
    masters: &[(String, MasterSource)],
    nets: &[Network],
    events: &mut Vec<Msg>,
    fold: &dyn Fn(&[String]) -> String,
) -> Vec<RouteGroup> {
    let gw_nets: Vec<&Network> = nets
        .iter()
        .filter(|n| n.gateway.as_deref().map(|g| g.trim_end_matches('\n')) == Some("<xcatmaster>"))
        .collect();
    if gw_nets.is_empty() {
        return Vec::new();
    }
    let mut groups: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut unresolved: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for ((n, a), (m, _)) in nodes.iter().zip(addrs).zip(masters) {
        if !gw_nets
            .iter()
            .any(|net| in_subnet(a.ip, &net.net, &net.mask))
        {
            continue;
        }
        let gw = if looks_like_ip(m) {
            Some(m.clone())
        } else {
            names.lookup(m).map(|x| x.ip.to_string())
        };
        match gw {
            Some(gw) => {
                groups.entry(gw).or_default().insert(n.clone());
            }
            None => unresolved.entry(m.as_str()).or_default().push(n.clone()),
        }
    }
    for (m, ns) in unresolved {
        events.push(Msg::Warning(format!(
            "the new xcatmaster {m} does not resolve to an address, so the default route of {} is not checked.",
            fold(&ns)
        )));
    }
    groups
        .into_iter()
        .map(|(gateway, ns)| RouteGroup {
            gateway,
            nodes: ns.into_iter().collect(),
        })
        .collect()
}

/// §10.13: per node, the postscripts to run; nodes with the same list form one group.
fn script_groups(
    r: &Resolver<'_>,
    nodes: &[String],
    req: &Request,
    os: Os,
    sharedinstall: &str,
) -> Result<Vec<ScriptGroup>, Box<ResolveError>> {
    let defaults = |col: &str| -> String {
        let Some(t) = r.database().table("postscripts") else {
            return String::new();
        };
        let (Some(kc), Some(vc)) = (t.column_index("node"), t.column_index(col)) else {
            return String::new();
        };
        t.rows()
            .iter()
            .enumerate()
            .find(|(i, row)| row[kc].as_deref() == Some("xcatdefaults") && t.is_row_enabled(*i))
            .and_then(|(_, row)| row[vc].clone())
            .unwrap_or_default()
    };
    let (def, defboot) = (defaults("postscripts"), defaults("postbootscripts"));
    let has_table = r.database().table("postscripts").is_some();
    let valid: &[&str] = if os == Os::Aix && sharedinstall == "sns" {
        &["syslog", "setupntp"]
    } else {
        &["syslog", "setupntp", "mkresolvconf"]
    };
    let user = req.postscripts.as_deref();
    let mut groups: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for n in nodes {
        let (ps, pbs) = if has_table {
            (
                attr(r, n, "postscripts", "postscripts")?,
                attr(r, n, "postscripts", "postbootscripts")?,
            )
        } else {
            (None, None)
        };
        let scripts = if ps.is_some() || pbs.is_some() {
            format!(
                "{def},{},{defboot},{}",
                ps.unwrap_or_default(),
                pbs.unwrap_or_default()
            )
        } else {
            format!("{def},{defboot}")
        };
        let list = if user == Some("all") {
            scripts
        } else {
            let items = split_list(&scripts);
            let mut chosen: Vec<&str> = valid
                .iter()
                .copied()
                .filter(|s| items.contains(s))
                .collect();
            if let Some(u) = user {
                chosen.push(u);
            }
            chosen.join(",")
        };
        if !list.is_empty() {
            groups.entry(list).or_default().push(n.clone());
        }
    }
    Ok(groups
        .into_iter()
        .map(|(scripts, nodes)| ScriptGroup { scripts, nodes })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ip_detection_follows_to_ip() {
        assert!(looks_like_ip("10.1.2.3"));
        assert!(looks_like_ip("fd00::1"));
        assert!(!looks_like_ip("sn1-c"));
        assert!(!looks_like_ip("10.1.2"));
    }
}

/// What the tables say of one node's service nodes (effective values: group inheritance and
/// computed values applied), as a move would read them.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct NodeView {
    /// Node name.
    pub node: String,
    /// `noderes.servicenode` (first entry: the current SN; second: its backup).
    pub servicenode: Option<String>,
    /// `noderes.xcatmaster`.
    pub xcatmaster: Option<String>,
    /// `noderes.tftpserver`.
    pub tftpserver: Option<String>,
    /// `noderes.nfsserver`.
    pub nfsserver: Option<String>,
    /// `noderes.monserver`.
    pub monserver: Option<String>,
    /// `nodehm.conserver`.
    pub conserver: Option<String>,
    /// `nodetype.os`.
    pub os: Option<String>,
    /// `nodetype.provmethod`.
    pub provmethod: Option<String>,
}

/// Inspects nodes: the values a move reads for each (in the order given).
///
/// ```
/// use xcattab::{csv, Database};
/// let mut db = Database::new();
/// db.insert(csv::table_from_csv("nodelist", "#node,groups\n\"cn1\",\"compute\"\n").unwrap());
/// db.insert(csv::table_from_csv("noderes", "#node,servicenode,xcatmaster\n\"compute\",\"sn1,sn2\",\"sn1-c\"\n").unwrap());
/// let v = snmove::plan::inspect(&db, &["cn1".to_string()]).unwrap();
/// assert_eq!(v[0].servicenode.as_deref(), Some("sn1,sn2"));
/// assert_eq!(v[0].conserver, None);
/// ```
pub fn inspect(db: &Database, nodes: &[String]) -> Result<Vec<NodeView>, Rejected> {
    let r = Resolver::new(db);
    nodes
        .iter()
        .map(|n| {
            let st = read_state(&r, n)?;
            Ok(NodeView {
                node: n.clone(),
                servicenode: st.cur.servicenode,
                xcatmaster: st.cur.xcatmaster,
                tftpserver: st.cur.tftpserver,
                nfsserver: st.cur.nfsserver,
                monserver: st.cur.monserver,
                conserver: st.cur.conserver,
                os: st.os,
                provmethod: st.provmethod,
            })
        })
        .collect()
}
