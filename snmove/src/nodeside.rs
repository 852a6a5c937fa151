//! The node-side steps of a move (spec §10.11, §10.13) and the service-node probe (§6).
//!
//! A [`NodeSide`] runs, for the moved nodes, the default-route fix-up and then what
//! `updatenode -s` and `updatenode -P <scripts>` do. [`XcatCommands`] runs them with xCAT's own
//! `xdsh` and `updatenode` where xCAT is installed (one call per group of nodes, the route
//! fix-up once per group rather than once per node); a step whose command is not installed is
//! reported with the exact command line still to be run. Every node ends with a
//! [`NodeStatus`]; a failure never stops the other nodes or steps.

use std::collections::BTreeMap;

use crate::followup::{self, command_line, node_chunks, Outcome};
use crate::output::Console;
use crate::plan::{Plan, Probe};

/// How a node fared in the node-side steps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum NodeStatus {
    /// Every step succeeded.
    Ok,
    /// A step failed.
    Failed,
    /// A step did not finish in time.
    TimedOut,
    /// The node could not be reached.
    Unreachable,
    /// The steps were not run (no way to run them here): the administrator has to.
    NotRun,
}

impl NodeStatus {
    /// How it is named in the summary.
    pub fn label(self) -> &'static str {
        match self {
            NodeStatus::Ok => "succeeded",
            NodeStatus::Failed => "failed",
            NodeStatus::TimedOut => "timed out",
            NodeStatus::Unreachable => "unreachable",
            NodeStatus::NotRun => "not run",
        }
    }
}

/// The outcome of the node-side steps.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct NodeReport {
    /// Each node's status.
    pub nodes: BTreeMap<String, NodeStatus>,
    /// Command lines the administrator still has to run, in order.
    pub pending: Vec<String>,
}

impl NodeReport {
    /// Records `status` for `nodes`, keeping the worst status a node already has.
    pub fn mark<'a>(&mut self, nodes: impl IntoIterator<Item = &'a String>, status: NodeStatus) {
        for n in nodes {
            let e = self.nodes.entry(n.clone()).or_insert(status);
            if status > *e {
                *e = status;
            }
        }
    }

    /// The nodes with each status, sorted.
    pub fn by_status(&self) -> BTreeMap<NodeStatus, Vec<String>> {
        let mut m: BTreeMap<NodeStatus, Vec<String>> = BTreeMap::new();
        for (n, s) in &self.nodes {
            m.entry(*s).or_default().push(n.clone());
        }
        m
    }

    /// Whether every node succeeded.
    pub fn all_ok(&self) -> bool {
        self.nodes.values().all(|s| *s == NodeStatus::Ok) && self.pending.is_empty()
    }
}

/// Something that runs the node-side steps of a plan.
pub trait NodeSide {
    /// Runs the steps of `plan` for its nodes, printing what xCAT prints, and reports.
    fn run(&self, plan: &Plan, console: &mut Console<'_>) -> NodeReport;
}

/// The node-side steps through xCAT's `xdsh` and `updatenode`, where installed.
#[derive(Debug, Clone, Copy, Default)]
pub struct XcatCommands;

fn run_or_pending(
    report: &mut NodeReport,
    name: &str,
    args: Vec<String>,
    nodes: &[String],
) -> Option<Outcome> {
    match followup::run(name, &args) {
        Outcome::NotInstalled => {
            // Shown with the node list folded into a noderange, which xCAT's commands accept.
            let folded = crate::select::fold(nodes);
            let shown: Vec<String> = args
                .iter()
                .map(|a| {
                    if *a == nodes.join(",") {
                        folded.clone()
                    } else {
                        a.clone()
                    }
                })
                .collect();
            report.pending.push(command_line(name, &shown));
            report.mark(nodes, NodeStatus::NotRun);
            None
        }
        other => Some(other),
    }
}

impl NodeSide for XcatCommands {
    fn run(&self, plan: &Plan, console: &mut Console<'_>) -> NodeReport {
        let mut report = NodeReport::default();
        let path = std::env::var_os("PATH");
        let installed = |c: &str| followup::find_command(c, path.as_deref()).is_some();
        if !plan.routes.is_empty() {
            if installed("xdsh") {
                console.info("Checking the default routes on the nodes.");
            } else {
                console.info(crate::apply::not_installed(
                    "checking the default routes on the nodes",
                    "xdsh",
                ));
            }
        }
        for g in &plan.routes {
            for chunk in node_chunks(&g.nodes) {
                let nodes: Vec<String> = chunk.split(',').map(str::to_string).collect();
                let args = vec![
                    "-v".into(),
                    chunk,
                    format!("route add default gw {}", g.gateway),
                ];
                if plan.request.announces_commands() && installed("xdsh") {
                    console.info(crate::plan::internal_command_line("xdsh"));
                }
                let Some(out) = run_or_pending(&mut report, "xdsh", args, &nodes) else {
                    continue;
                };
                // "File exists": the route is there already, which is what was wanted.
                if out.ok() || out.lines().iter().any(|l| l.contains(" File exists")) {
                    report.mark(&nodes, NodeStatus::Ok);
                } else {
                    for l in out.lines() {
                        console.error(l.clone());
                    }
                    if let Outcome::Failed { error } = &out {
                        console.error(error.clone());
                    }
                    console.error("Could not set default route.\n");
                    report.mark(&nodes, NodeStatus::Failed);
                }
            }
        }
        if installed("updatenode") {
            console.info("Running postscripts on the nodes.");
        } else if !plan.scripts.is_empty() {
            console.info(crate::apply::not_installed(
                "running postscripts on the nodes",
                "updatenode",
            ));
        }
        for g in &plan.scripts {
            for chunk in node_chunks(&g.nodes) {
                let nodes: Vec<String> = chunk.split(',').map(str::to_string).collect();
                for args in [
                    vec![chunk.clone(), "-s".into()],
                    vec![chunk.clone(), "-P".into(), g.scripts.clone()],
                ] {
                    if plan.request.announces_commands() && installed("updatenode") {
                        console.info(crate::plan::internal_command_line("updatenode"));
                    }
                    let Some(out) = run_or_pending(&mut report, "updatenode", args, &nodes) else {
                        continue;
                    };
                    for l in out.lines() {
                        console.info(l.clone());
                    }
                    match &out {
                        Outcome::Ran { ok: true, .. } => report.mark(&nodes, NodeStatus::Ok),
                        Outcome::Failed { error } => {
                            console.error(error.clone());
                            report.mark(&nodes, NodeStatus::Failed);
                        }
                        _ => report.mark(&nodes, NodeStatus::Failed),
                    }
                }
            }
        }
        // Nodes without any step (no route change, no script) are done.
        for m in &plan.moves {
            report.nodes.entry(m.node.clone()).or_insert(NodeStatus::Ok);
        }
        report
    }
}

/// Asks a service node for its interfaces with xCAT's `xdsh`, where installed.
#[derive(Debug, Clone, Copy, Default)]
pub struct XdshProbe;

impl Probe for XdshProbe {
    fn interfaces(
        &self,
        sn: &str,
        _address: Option<std::net::IpAddr>,
        aix: bool,
    ) -> Result<String, String> {
        let cmd = if aix {
            "/usr/sbin/ifconfig -a "
        } else {
            "/sbin/ip addr "
        };
        match followup::run("xdsh", &[sn.to_string(), cmd.to_string()]) {
            Outcome::Ran {
                ok: true, lines, ..
            } => Ok(lines.join("\n")),
            Outcome::Ran { lines, code, .. } => Err(format!(
                "xdsh {sn} failed (exit status {}){}",
                code.map(|c| c.to_string())
                    .unwrap_or_else(|| "signal".into()),
                lines.last().map(|l| format!(": {l}")).unwrap_or_default()
            )),
            Outcome::NotInstalled => {
                Err("--transport xcat asks for xCAT's xdsh, which is not installed here".into())
            }
            Outcome::Failed { error } => Err(error),
        }
    }

    fn announce(
        &self,
        _sn: &str,
        _address: Option<std::net::IpAddr>,
        _aix: bool,
    ) -> Option<String> {
        // Only when xCAT's xdsh really runs (`--transport xcat` without it does not).
        let path = std::env::var_os("PATH");
        followup::find_command("xdsh", path.as_deref())
            .map(|_| crate::plan::internal_command_line("xdsh"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn worst_status_wins() {
        let mut r = NodeReport::default();
        let n = vec!["cn1".to_string(), "cn2".to_string()];
        r.mark(&n, NodeStatus::Ok);
        r.mark(&n[..1], NodeStatus::Failed);
        r.mark(&n[..1], NodeStatus::Ok);
        assert_eq!(r.nodes["cn1"], NodeStatus::Failed);
        assert_eq!(r.by_status()[&NodeStatus::Ok], ["cn2"]);
        assert!(!r.all_ok());
    }
}
