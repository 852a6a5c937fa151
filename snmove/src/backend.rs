//! Choosing how the service-node probe and the node-side steps run (`--transport`): xCAT's own
//! `xdsh`/`updatenode` where they are installed (they dispatch through the service nodes as
//! xCAT does), else this program's SSH fan-out ([`crate::sshside`]).
//!
//! Two environment variables exist for tests of the SSH path only: `SNMOVE_NODE_ROOT` (a
//! prefix for every file path the node-side steps write, `{node}` = node name) and
//! `SNMOVE_NODE_PATH` (the `PATH` exported to the node-side steps, to point at fake system
//! commands).

use std::sync::Mutex;
use std::time::Duration;

use postscripts::{Builtins, HostKeyPolicy, Limits, RunOptions, SshOptions, SshTransport};

use crate::cli::{RemoteArgs, TransportKind};
use crate::nodeside::{NodeReport, NodeSide, NodeStatus, XcatCommands, XdshProbe};
use crate::output::Console;
use crate::plan::{Plan, Probe};
use crate::sshside::{SshProbe, SshSide};

/// The probe and node side chosen for a run.
pub enum Backend {
    /// xCAT's commands.
    Xcat,
    /// SSH; `Err` when the transport could not be set up (no key, unreadable known_hosts).
    Ssh(Result<Box<SshSide>, String>),
}

/// Whether xCAT's `xdsh` and `updatenode` are installed.
pub fn xcat_installed() -> bool {
    let path = std::env::var_os("PATH");
    ["xdsh", "updatenode"]
        .iter()
        .all(|c| crate::followup::find_command(c, path.as_deref()).is_some())
}

impl Backend {
    /// Chooses per `--transport` (and, for `auto`, whether xCAT is installed).
    pub fn choose(r: &RemoteArgs) -> Backend {
        let xcat = match r.transport {
            TransportKind::Xcat => true,
            TransportKind::Ssh => false,
            TransportKind::Auto => xcat_installed(),
        };
        if xcat {
            return Backend::Xcat;
        }
        let opts = SshOptions {
            user: r.ssh_user.clone(),
            identities: r.identity.clone(),
            use_agent: true,
            known_hosts: r.known_hosts.clone(),
            known_hosts_write: None,
            host_keys: if r.accept_new_host_keys {
                HostKeyPolicy::AcceptNew
            } else {
                HostKeyPolicy::Strict
            },
            max_handshakes: postscripts::ssh::DEFAULT_MAX_HANDSHAKES,
        };
        let side = SshTransport::new(opts)
            .map_err(|e| format!("SSH is not usable: {e}"))
            .map(|transport| {
                let mut extra_env = Vec::new();
                if let Ok(p) = std::env::var("SNMOVE_NODE_PATH") {
                    extra_env.push(("PATH".to_string(), p));
                }
                Box::new(SshSide {
                    transport,
                    options: RunOptions {
                        fanout: r.fanout.max(1),
                        connect_timeout: Duration::from_secs(r.connect_timeout),
                        command_timeout: Duration::from_secs(r.command_timeout),
                        kill_grace: Duration::from_secs(5),
                        port: r.ssh_port,
                        postscripts_dir: r.scripts_dir.clone(),
                        builtins: Builtins::Fallback,
                        node_root: std::env::var("SNMOVE_NODE_ROOT").unwrap_or_default(),
                    },
                    via_sn: r.via_sn,
                    extra_env,
                    report_path: Mutex::new(None),
                })
            });
        Backend::Ssh(side)
    }

    /// The probe: this machine's own interfaces when the service node is this machine (xCAT
    /// would parse its local output wrongly, spec Q7), else xCAT's or the SSH probe.
    pub fn probe(&self) -> Box<dyn Probe + '_> {
        Box::new(LocalFirst {
            inner: self.remote_probe(),
            local: std::sync::OnceLock::new(),
        })
    }

    fn remote_probe(&self) -> Box<dyn Probe + '_> {
        match self {
            Backend::Xcat => Box::new(XdshProbe),
            Backend::Ssh(Ok(side)) => Box::new(SshProbe {
                transport: &side.transport,
                port: side.options.port,
                limits: Limits {
                    connect: side.options.connect_timeout,
                    command: Duration::from_secs(60).min(side.options.command_timeout),
                    grace: Duration::from_secs(2),
                },
            }),
            Backend::Ssh(Err(why)) => Box::new(Unusable(why.clone())),
        }
    }

    /// The node side.
    pub fn node_side(&self) -> &dyn NodeSide {
        match self {
            Backend::Xcat => &XcatCommands,
            Backend::Ssh(Ok(side)) => side.as_ref(),
            Backend::Ssh(Err(why)) => self.unusable(why),
        }
    }

    fn unusable<'a>(&'a self, _why: &'a str) -> &'a dyn NodeSide {
        self
    }

    /// Where the SSH run writes its JSON report.
    pub fn set_report_path(&self, p: std::path::PathBuf) {
        if let Backend::Ssh(Ok(side)) = self {
            if let Ok(mut g) = side.report_path.lock() {
                *g = Some(p);
            }
        }
    }
}

/// Answers for this machine itself from its own `ip addr` (or `ifconfig -a`), and passes
/// every other service node on.
struct LocalFirst<'a> {
    inner: Box<dyn Probe + 'a>,
    local: std::sync::OnceLock<(Vec<std::net::IpAddr>, [String; 2])>,
}

fn local_command(aix: bool) -> (&'static str, Vec<String>) {
    if aix {
        ("/usr/sbin/ifconfig", vec!["-a".into()])
    } else {
        ("/sbin/ip", vec!["addr".into()])
    }
}

impl LocalFirst<'_> {
    fn is_me(&self, sn: &str, address: Option<std::net::IpAddr>) -> bool {
        let (ips, names) = self.local.get_or_init(|| {
            let (cmd, args) = local_command(false);
            let ips = match crate::followup::run_program(std::path::Path::new(cmd), &args) {
                crate::followup::Outcome::Ran {
                    ok: true, lines, ..
                } => crate::net::parse_ip_addr(&lines.join("\n")),
                _ => Vec::new(),
            };
            let full = crate::output::full_hostname();
            let short = full.split('.').next().unwrap_or("").to_string();
            (ips, [full, short])
        });
        names.iter().any(|n| !n.is_empty() && n == sn)
            || address.is_some_and(|a| !a.is_loopback() && ips.contains(&a))
    }
}

impl Probe for LocalFirst<'_> {
    fn announce(&self, sn: &str, address: Option<std::net::IpAddr>, aix: bool) -> Option<String> {
        if self.is_me(sn, address) {
            Some(Self::local_announce(aix))
        } else {
            self.inner.announce(sn, address, aix)
        }
    }

    fn interfaces(
        &self,
        sn: &str,
        address: Option<std::net::IpAddr>,
        aix: bool,
    ) -> Result<String, String> {
        if !self.is_me(sn, address) {
            return self.inner.interfaces(sn, address, aix);
        }
        let (cmd, args) = local_command(aix);
        match crate::followup::run_program(std::path::Path::new(cmd), &args) {
            crate::followup::Outcome::Ran {
                ok: true, lines, ..
            } => Ok(lines.join("\n")),
            crate::followup::Outcome::Ran { lines, .. } => Err(format!(
                "{cmd} failed on this machine: {}",
                lines.last().cloned().unwrap_or_default()
            )),
            crate::followup::Outcome::NotInstalled => Err(format!("{cmd} is not installed")),
            crate::followup::Outcome::Failed { error } => Err(error),
        }
    }
}

impl LocalFirst<'_> {
    /// xCAT's `runcmd` line for the local command (`/bin/hostname`'s name, or
    /// `SNMOVE_HOSTNAME`; the command with xCAT's trailing space).
    fn local_announce(aix: bool) -> String {
        let cmd = if aix {
            "/usr/sbin/ifconfig -a "
        } else {
            "/sbin/ip addr "
        };
        let host =
            std::env::var("SNMOVE_HOSTNAME").unwrap_or_else(|_| crate::output::full_hostname());
        format!("Running command on {host}: {cmd}\n")
    }
}

/// A probe that cannot reach anything, with the reason.
struct Unusable(String);

impl Probe for Unusable {
    fn interfaces(
        &self,
        _sn: &str,
        _address: Option<std::net::IpAddr>,
        _aix: bool,
    ) -> Result<String, String> {
        Err(self.0.clone())
    }
}

/// The node side when SSH cannot be set up: nothing runs, xCAT's equivalent commands are listed.
impl NodeSide for Backend {
    fn run(&self, plan: &Plan, console: &mut Console<'_>) -> NodeReport {
        let mut report = NodeReport::default();
        if let Backend::Ssh(Err(why)) = self {
            console.error(format!("the node-side steps were not run: {why}"));
        }
        for g in &plan.routes {
            report.pending.push(crate::followup::command_line(
                "xdsh",
                &[
                    "-v".into(),
                    crate::select::fold(&g.nodes),
                    format!("route add default gw {}", g.gateway),
                ],
            ));
        }
        for g in &plan.scripts {
            let nodes = crate::select::fold(&g.nodes);
            report.pending.push(crate::followup::command_line(
                "updatenode",
                &[nodes.clone(), "-s".into()],
            ));
            report.pending.push(crate::followup::command_line(
                "updatenode",
                &[nodes, "-P".into(), g.scripts.clone()],
            ));
        }
        let all: Vec<String> = plan.moves.iter().map(|m| m.node.clone()).collect();
        report.mark(&all, NodeStatus::NotRun);
        report
    }
}
