//! The input of a run: plain data, one [`NodeJob`] per node, built by the caller.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One node to visit: where to reach it, its environment and its ordered steps.
///
/// The caller (snmove) computes every value from the tables; this crate never reads them.
///
/// ```
/// use postscripts::{NodeJob, Step};
/// let job = NodeJob::new("cn1", "10.1.0.11")
///     .env("MASTER", "10.1.2.100")
///     .env("NTPSERVERS", "<xcatmaster>")
///     .step(Step::Xcatinfo { server: "10.1.2.100".into(), servicegroup: Some("sn2,sn1".into()), httpport: None })
///     .step(Step::DefaultRoute { gateway: "10.1.2.100".into() })
///     .step(Step::Postscript { name: "syslog".into(), args: vec![] });
/// assert_eq!(job.steps.len(), 3);
/// assert_eq!(job.env["NODE"], "cn1");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeJob {
    /// The node's name as xCAT knows it (used in every report line).
    pub name: String,
    /// Host name or IP address to connect to (as seen from the jump host, if any).
    pub address: String,
    /// SSH port; `None` means the run's default port (22 unless changed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    /// Reach the node through this host (its service node), like `ssh -J`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jump: Option<JumpHost>,
    /// Environment exported to every step (postscripts read `MASTER`, `NODE`, `NTPSERVERS`, …).
    /// `NODE` is set to [`NodeJob::name`] unless the caller sets it.
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// The steps, run in this order in one SSH session; each is reported separately.
    #[serde(default)]
    pub steps: Vec<Step>,
}

/// A jump host (service node) through which a node is reached.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct JumpHost {
    /// Its name, used in messages and to share one connection among its nodes.
    pub name: String,
    /// Host name or IP address the fan-out host connects to.
    pub address: String,
    /// SSH port; `None` means the run's default port.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
}

/// One node-side step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Step {
    /// What `updatenode -s` does to `/opt/xcat/xcatinfo` (xcatdsklspost `-M`, mode 1): set
    /// `XCATSERVER`, `HTTPPORT` (when given) and `NODE`; set `SERVICEGROUP`, or remove the line
    /// when there is no service-node pool. Other lines are kept.
    Xcatinfo {
        /// The new `XCATSERVER` (the node-facing address of the new service node).
        server: String,
        /// The node's `noderes.servicenode` list, if any.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        servicegroup: Option<String>,
        /// `HTTPPORT` to record (site.httpport), if known.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        httpport: Option<String>,
    },
    /// Linux default-route fix-up (snmove §10.11): `route add default gw <gateway>` (or
    /// `ip route add default via`), "File exists" counts as success. The old route is kept.
    DefaultRoute {
        /// The new gateway address.
        gateway: String,
    },
    /// AIX default-route fix-up: when `old` is a default route and `new` is not,
    /// `route change default <new>`.
    AixDefaultRoute {
        /// The old gateway address (the old service node).
        old: String,
        /// The new gateway address.
        new: String,
    },
    /// Run a postscript from the postscripts directory (or the shipped one) with the node's
    /// environment, from a temporary directory that also holds `xcatlib.sh` when available.
    Postscript {
        /// Script name, e.g. `syslog`.
        name: String,
        /// Arguments passed to the script.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        args: Vec<String>,
    },
    /// AIX: `echo "XCATSERVER=<server>" > /etc/xcatinfo` (the whole file is replaced, as xCAT does).
    AixXcatinfo {
        /// The IP of the new xcatmaster.
        server: String,
    },
    /// AIX (snmove §10.12): find the interface that owns `client` in `netstat -in`, map its
    /// name to the adapter (`en*`→`ent*`, `hf*`→`hfi*`, `et*`→`ent*`) and run
    /// `bootlist -m normal <adapter> gateway=<gateway> bserver=<server> client=<client>`.
    AixBootlist {
        /// The node's IP address.
        client: String,
        /// The gateway of the node's network.
        gateway: String,
        /// The IP of the new xcatmaster (the boot server).
        server: String,
    },
    /// AIX diskful nodes: `niminit -a name=<name> -a master=<master>`.
    Niminit {
        /// The NIM client name (the node).
        name: String,
        /// The NIM master (the new service node, MN-facing name).
        master: String,
    },
    /// An arbitrary shell command (run by `/bin/sh`).
    Command {
        /// Short label for reports.
        label: String,
        /// The command text.
        command: String,
    },
}

impl Step {
    /// The label this step has in reports (`xcatinfo`, `route`, the script name, …).
    pub fn label(&self) -> String {
        match self {
            Step::Xcatinfo { .. } => "xcatinfo".into(),
            Step::DefaultRoute { .. } | Step::AixDefaultRoute { .. } => "route".into(),
            Step::Postscript { name, .. } => name.clone(),
            Step::AixXcatinfo { .. } => "etc-xcatinfo".into(),
            Step::AixBootlist { .. } => "bootlist".into(),
            Step::Niminit { .. } => "niminit".into(),
            Step::Command { label, .. } => label.clone(),
        }
    }
}

impl NodeJob {
    /// A job for `name` reached at `address`, with `NODE=name` in its environment and no steps.
    pub fn new(name: impl Into<String>, address: impl Into<String>) -> Self {
        let name = name.into();
        let mut env = BTreeMap::new();
        env.insert("NODE".to_string(), name.clone());
        NodeJob {
            name,
            address: address.into(),
            port: None,
            jump: None,
            env,
            steps: Vec::new(),
        }
    }

    /// Adds an environment variable (builder style).
    pub fn env(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.env.insert(key.into(), value.into());
        self
    }

    /// Appends a step (builder style).
    pub fn step(mut self, step: Step) -> Self {
        self.steps.push(step);
        self
    }

    /// Sets the SSH port (builder style).
    pub fn port(mut self, port: u16) -> Self {
        self.port = Some(port);
        self
    }

    /// Reaches the node through `jump` (builder style).
    pub fn via(mut self, jump: JumpHost) -> Self {
        self.jump = Some(jump);
        self
    }
}

/// The postscripts snmove runs (§10.13): from the node's candidate list (the comma-joined
/// `xcatdefaults.postscripts`, node postscripts, `xcatdefaults.postbootscripts`, node
/// postbootscripts), keep `syslog`, `setupntp`, `mkresolvconf` in that order when they are exact
/// items (only the first two when `aix_sns`), then append the `-P` list verbatim; with `-P all`
/// the whole candidate string is used as it is. Empty items are dropped when turning the
/// result into steps.
///
/// ```
/// use postscripts::select_postscripts;
/// let c = "syslog,remoteshell,syncfiles,,otherpkgs,setupntp";
/// assert_eq!(select_postscripts(c, None, false), "syslog,setupntp");
/// assert_eq!(select_postscripts(c, Some("confignics"), false), "syslog,setupntp,confignics");
/// assert_eq!(select_postscripts(c, Some("all"), false), c);
/// assert_eq!(select_postscripts("mkresolvconf", None, false), "mkresolvconf");
/// assert_eq!(select_postscripts("mkresolvconf", None, true), "");
/// ```
pub fn select_postscripts(candidates: &str, extra: Option<&str>, aix_sns: bool) -> String {
    if extra == Some("all") {
        return candidates.to_string();
    }
    let items: Vec<&str> = candidates.split(',').collect();
    let wanted: &[&str] = if aix_sns {
        &["syslog", "setupntp"]
    } else {
        &["syslog", "setupntp", "mkresolvconf"]
    };
    let mut out: Vec<&str> = wanted
        .iter()
        .copied()
        .filter(|w| items.contains(w))
        .collect();
    if let Some(e) = extra.filter(|e| !e.is_empty()) {
        out.push(e);
    }
    out.join(",")
}

/// Turns a script string (as [`select_postscripts`] returns) into postscript steps; a script may
/// carry arguments after a space (`"setupntp 10.0.0.1"`), as in xCAT's postscripts table.
///
/// ```
/// use postscripts::{postscript_steps, Step};
/// let s = postscript_steps("syslog,,setupntp 10.0.0.1");
/// assert_eq!(s.len(), 2);
/// assert_eq!(s[1], Step::Postscript { name: "setupntp".into(), args: vec!["10.0.0.1".into()] });
/// ```
pub fn postscript_steps(scripts: &str) -> Vec<Step> {
    scripts
        .split(',')
        .filter_map(|item| {
            let mut words = item.split_whitespace();
            let name = words.next()?.to_string();
            Some(Step::Postscript {
                name,
                args: words.map(str::to_string).collect(),
            })
        })
        .collect()
}

/// The variables xCAT's `mypostscript` gives postscripts (fanout.md §1.6), from plain values:
/// every site attribute upper-cased (as `getAllAttribsFromSiteTab` does) except `master`, which
/// is `SITEMASTER`; then the node's own `NODE`, `MASTER` (its xcatmaster), `MASTER_IP`,
/// `SERVICEGROUP`, `SYSLOG`, `NTYPE`, `UPDATENODE=1` (as under `updatenode`) and the optional OS
/// attributes. Empty values are exported
/// as empty strings, as mypostscript does; site attribute names that are not shell names are
/// skipped.
///
/// ```
/// use postscripts::XcatEnv;
/// use std::collections::BTreeMap;
/// let site: BTreeMap<String, String> = [("master", "10.0.0.1"), ("ntpservers", "<xcatmaster>"), ("svloglocal", "1")]
///     .into_iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
/// let env = XcatEnv { node: "cn1".into(), master: "10.1.2.100".into(), osver: Some("rhels8.6".into()), site, ..Default::default() }.to_env();
/// assert_eq!(env["SITEMASTER"], "10.0.0.1");
/// assert_eq!(env["MASTER"], "10.1.2.100");
/// assert_eq!(env["MASTER_IP"], "10.1.2.100");
/// assert_eq!(env["NTPSERVERS"], "<xcatmaster>");
/// assert_eq!(env["SVLOGLOCAL"], "1");
/// assert_eq!(env["NTYPE"], "compute");
/// assert_eq!(env["UPDATENODE"], "1");
/// assert_eq!(env["OSVER"], "rhels8.6");
/// assert!(!env.contains_key("ARCH"));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct XcatEnv {
    /// `NODE`.
    pub node: String,
    /// `MASTER`: the node's (new) xcatmaster.
    pub master: String,
    /// `MASTER_IP`: its IP (defaults to `master`, which snmove writes as an IP).
    pub master_ip: Option<String>,
    /// `SERVICEGROUP`: `noderes.servicenode`.
    pub servicegroup: Option<String>,
    /// `SYSLOG`: `noderes.syslog`.
    pub syslog: Option<String>,
    /// `NTYPE`: `service` or `compute` (default).
    pub ntype: Option<String>,
    /// `OSVER`.
    pub osver: Option<String>,
    /// `ARCH`.
    pub arch: Option<String>,
    /// `PROFILE`.
    pub profile: Option<String>,
    /// `PROVMETHOD`.
    pub provmethod: Option<String>,
    /// The site table, attribute name to value.
    pub site: BTreeMap<String, String>,
}

impl XcatEnv {
    /// The environment map for [`NodeJob::env`].
    pub fn to_env(&self) -> BTreeMap<String, String> {
        let mut env = BTreeMap::new();
        for (k, v) in &self.site {
            let up = k.to_ascii_uppercase();
            let valid = !up.is_empty()
                && up.chars().all(|c| c == '_' || c.is_ascii_alphanumeric())
                && !up.starts_with(|c: char| c.is_ascii_digit());
            if up == "MASTER" {
                env.insert("SITEMASTER".to_string(), v.clone());
            } else if valid {
                env.insert(up, v.clone());
            }
        }
        let mut set = |k: &str, v: &str| {
            env.insert(k.to_string(), v.to_string());
        };
        set("NODE", &self.node);
        set("MASTER", &self.master);
        set(
            "MASTER_IP",
            self.master_ip.as_deref().unwrap_or(&self.master),
        );
        set("NTYPE", self.ntype.as_deref().unwrap_or("compute"));
        // updatenode's xcatdsklspost turns mypostscript's UPDATENODE=0 into 1: scripts skip
        // their install-time-only work on it
        set("UPDATENODE", "1");
        for (k, v) in [
            ("SERVICEGROUP", &self.servicegroup),
            ("SYSLOG", &self.syslog),
            ("OSVER", &self.osver),
            ("ARCH", &self.arch),
            ("PROFILE", &self.profile),
            ("PROVMETHOD", &self.provmethod),
        ] {
            if let Some(v) = v {
                set(k, v);
            }
        }
        env
    }
}

/// What the node-side steps of one moved node depend on (plain values snmove computes).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MoveInput {
    /// The node's `nodetype.os` is `AIX`.
    pub aix: bool,
    /// NIM client name and NIM master (the new SN, MN-facing name) for `niminit`: AIX diskful
    /// (`standalone`) nodes only.
    pub niminit: Option<(String, String)>,
    /// IP of the new xcatmaster: `XCATSERVER` (Linux /opt/xcat/xcatinfo, AIX /etc/xcatinfo).
    pub server_ip: String,
    /// The node's new `noderes.servicenode` list (`SERVICEGROUP`).
    pub servicegroup: Option<String>,
    /// `site.httpport`, when known (`HTTPPORT`).
    pub httpport: Option<String>,
    /// §10.11: the new gateway when the node's network has `gateway=<xcatmaster>`; on AIX with
    /// the old gateway (IP of the old xcatmaster) as `.1`.
    pub gateway: Option<(String, Option<String>)>,
    /// §10.12 (AIX): the node's IP and its network's gateway for `bootlist`.
    pub bootlist: Option<(String, String)>,
    /// §10.13: the script string from [`select_postscripts`] (empty: none).
    pub scripts: String,
}

/// The node-side steps of a move for one node, in xCAT's order (snmove.md §10): `niminit`
/// (10.8), AIX `/etc/xcatinfo` (10.10), the default route (10.11), AIX `bootlist` (10.12),
/// then what `updatenode -s` (Linux `/opt/xcat/xcatinfo`) and `updatenode -P` do (10.13).
///
/// ```
/// use postscripts::{move_steps, MoveInput, Step};
/// let linux = MoveInput {
///     server_ip: "10.1.2.100".into(),
///     servicegroup: Some("sn2,sn1".into()),
///     gateway: Some(("10.1.2.100".into(), None)),
///     scripts: "syslog,setupntp".into(),
///     ..Default::default()
/// };
/// let labels: Vec<String> = move_steps(&linux).iter().map(Step::label).collect();
/// assert_eq!(labels, ["route", "xcatinfo", "syslog", "setupntp"]);
/// let aix = MoveInput {
///     aix: true,
///     niminit: Some(("cn1".into(), "sn2".into())),
///     server_ip: "10.1.2.100".into(),
///     bootlist: Some(("10.1.0.5".into(), "10.1.0.1".into())),
///     scripts: "syslog".into(),
///     ..Default::default()
/// };
/// let labels: Vec<String> = move_steps(&aix).iter().map(Step::label).collect();
/// assert_eq!(labels, ["niminit", "etc-xcatinfo", "bootlist", "syslog"]);
/// ```
pub fn move_steps(m: &MoveInput) -> Vec<Step> {
    let mut steps = Vec::new();
    if m.aix {
        if let Some((name, master)) = &m.niminit {
            steps.push(Step::Niminit {
                name: name.clone(),
                master: master.clone(),
            });
        }
        steps.push(Step::AixXcatinfo {
            server: m.server_ip.clone(),
        });
    }
    match (&m.gateway, m.aix) {
        (Some((new, Some(old))), true) => steps.push(Step::AixDefaultRoute {
            old: old.clone(),
            new: new.clone(),
        }),
        (Some((new, _)), false) => steps.push(Step::DefaultRoute {
            gateway: new.clone(),
        }),
        _ => {}
    }
    if m.aix {
        if let Some((client, gateway)) = &m.bootlist {
            steps.push(Step::AixBootlist {
                client: client.clone(),
                gateway: gateway.clone(),
                server: m.server_ip.clone(),
            });
        }
    } else {
        steps.push(Step::Xcatinfo {
            server: m.server_ip.clone(),
            servicegroup: m.servicegroup.clone(),
            httpport: m.httpport.clone(),
        });
    }
    steps.extend(postscript_steps(&m.scripts));
    steps
}
