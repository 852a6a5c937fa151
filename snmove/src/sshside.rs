//! The node-side steps and the service-node probe over SSH, with the `postscripts` crate: one
//! SSH session per node (bounded fan-out, per-node timeouts, known_hosts checked), running in
//! xCAT's order the default-route fix-up (§10.11), what `updatenode -s` does to the node's
//! `/opt/xcat/xcatinfo`, and the selected postscripts (§10.13) with the environment xCAT's
//! postscripts expect. Optionally each node is reached through its new service node.

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;
use std::sync::Mutex;

use postscripts::{
    postscript_steps, AddrOs, JumpHost, Limits, NodeJob, Observer, Report, RunOptions,
    SshTransport, Status, Step, Stream, Target, Transport, XcatEnv,
};

use crate::nodeside::{NodeReport, NodeSide, NodeStatus};
use crate::output::Console;
use crate::plan::{Plan, Probe};

/// How the SSH steps run.
pub struct SshSide {
    /// The SSH transport (keys and known_hosts loaded).
    pub transport: SshTransport,
    /// Fan-out, timeouts, port, postscripts directory.
    pub options: RunOptions,
    /// Reach each node through its new service node (`ssh -J`).
    pub via_sn: bool,
    /// Extra environment for every node (tests point PATH at fake system commands).
    pub extra_env: Vec<(String, String)>,
    /// Where to write the JSON report of the run, if anywhere.
    pub report_path: Mutex<Option<std::path::PathBuf>>,
}

/// Collects each node's output lines (streamed from worker threads), and shows a progress line
/// on stderr when it is a terminal.
#[derive(Default)]
struct Collect {
    lines: Mutex<Vec<(String, String)>>,
    progress: bool,
}

impl Observer for Collect {
    fn line(&self, node: &str, _stream: Stream, text: &str) {
        if let Ok(mut v) = self.lines.lock() {
            v.push((node.to_string(), text.to_string()));
        }
    }

    fn node_done(&self, _result: &postscripts::NodeResult, progress: &postscripts::Progress) {
        if self.progress {
            use std::io::Write;
            let mut e = std::io::stderr().lock();
            let _ = write!(e, "\r\x1b[K{}", postscripts::progress_line(progress));
            let _ = e.flush();
        }
    }
}

impl Collect {
    fn new() -> Self {
        // SAFETY: isatty only inspects the descriptor.
        let tty = unsafe { libc::isatty(2) } == 1;
        Collect {
            lines: Mutex::new(Vec::new()),
            progress: tty,
        }
    }

    fn finish(&self) {
        if self.progress {
            use std::io::Write;
            let _ = write!(std::io::stderr(), "\r\x1b[K");
        }
    }
}

fn status(s: Status) -> NodeStatus {
    match s {
        Status::Ok => NodeStatus::Ok,
        Status::Failed => NodeStatus::Failed,
        Status::TimedOut => NodeStatus::TimedOut,
        Status::Unreachable | Status::AuthFailed | Status::HostKeyRejected => {
            NodeStatus::Unreachable
        }
    }
}

impl SshSide {
    /// The jobs of a plan: per node, in xCAT's order, the default route, the xcatinfo update and
    /// the postscripts; nodes with nothing to do get no job.
    pub fn jobs(&self, plan: &Plan) -> Vec<NodeJob> {
        let mut route: HashMap<&str, &str> = HashMap::new();
        for g in &plan.routes {
            for n in &g.nodes {
                route.insert(n, &g.gateway);
            }
        }
        let mut scripts: HashMap<&str, &str> = HashMap::new();
        for g in &plan.scripts {
            for n in &g.nodes {
                scripts.insert(n, &g.scripts);
            }
        }
        let httpport = plan.site.get("httpport").cloned().filter(|p| !p.is_empty());
        let mut jobs = Vec::new();
        for e in &plan.node_env {
            let (r, s) = (route.get(e.node.as_str()), scripts.get(e.node.as_str()));
            if r.is_none() && s.is_none() {
                continue;
            }
            let env = XcatEnv {
                node: e.node.clone(),
                master: e.master.clone(),
                master_ip: e.master_ip.clone(),
                servicegroup: Some(e.servicegroup.clone()),
                syslog: e.syslog.clone(),
                ntype: None,
                osver: e.os.clone(),
                arch: e.arch.clone(),
                profile: e.profile.clone(),
                provmethod: e.provmethod.clone(),
                site: plan.site.clone(),
            }
            .to_env();
            let mut job = NodeJob::new(e.node.clone(), e.address.clone());
            for (k, v) in env.into_iter().chain(self.extra_env.iter().cloned()) {
                job = job.env(k, v);
            }
            if self.via_sn {
                job = job.via(JumpHost {
                    name: e.service_node.clone(),
                    address: e
                        .service_node_address
                        .clone()
                        .unwrap_or_else(|| e.service_node.clone()),
                    port: None,
                });
            }
            if let Some(gw) = r {
                job = job.step(Step::DefaultRoute {
                    gateway: gw.to_string(),
                });
            }
            if let Some(list) = s {
                job = job.step(Step::Xcatinfo {
                    server: e.master.clone(),
                    servicegroup: Some(e.servicegroup.clone()),
                    httpport: httpport.clone(),
                });
                for st in postscript_steps(list) {
                    job = job.step(st);
                }
            }
            jobs.push(job);
        }
        jobs
    }
}

impl NodeSide for SshSide {
    fn run(&self, plan: &Plan, console: &mut Console<'_>) -> NodeReport {
        let mut report = NodeReport::default();
        if !plan.routes.is_empty() {
            console.info("Checking the default routes on the nodes.");
        }
        console.info("Running postscripts on the nodes.");
        let jobs = self.jobs(plan);
        let collect = Collect::new();
        let run = postscripts::run(&jobs, &self.transport, &self.options, &collect);
        collect.finish();
        let result: Report = match run {
            Ok(r) => r,
            Err(e) => {
                console.error(format!("the node-side steps could not start: {e}"));
                let nodes: Vec<String> = jobs.iter().map(|j| j.name.clone()).collect();
                report.mark(&nodes, NodeStatus::NotRun);
                return report;
            }
        };
        // Output as xdsh prints it, node by node in order.
        let mut lines = collect.lines.into_inner().unwrap_or_default();
        lines.sort_by(|a, b| noderange::natural_cmp(&a.0, &b.0));
        for (node, text) in lines {
            console.info(format!("{node}: {text}"));
        }
        let mut reasons: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for n in &result.nodes {
            report.mark(std::iter::once(&n.name), status(n.status));
            if let Some(r) = &n.reason {
                reasons
                    .entry(format!("{} ({r})", n.status.name()))
                    .or_default()
                    .push(n.name.clone());
            }
        }
        for (why, nodes) in reasons {
            console.error(format!("{}: {why}", crate::select::fold(&nodes)));
        }
        for m in &plan.moves {
            report.nodes.entry(m.node.clone()).or_insert(NodeStatus::Ok);
        }
        if let Ok(guard) = self.report_path.lock() {
            if let Some(p) = guard.as_ref() {
                if let Err(e) = std::fs::write(p, result.to_json()) {
                    console.warning(format!("cannot write the node report {}: {e}", p.display()));
                } else {
                    console.info(format!("Node-side report: {}", p.display()));
                }
            }
        }
        report
    }
}

/// Asks a service node for its interfaces over SSH (`ip addr`, or `ifconfig -a` for AIX).
pub struct SshProbe<'a> {
    /// The transport.
    pub transport: &'a SshTransport,
    /// SSH port.
    pub port: u16,
    /// Time limits.
    pub limits: Limits,
}

impl Probe for SshProbe<'_> {
    fn interfaces(&self, sn: &str, address: Option<IpAddr>, aix: bool) -> Result<String, String> {
        let addr = address
            .map(|a| a.to_string())
            .unwrap_or_else(|| sn.to_string());
        let target = Target {
            name: sn,
            address: &addr,
            port: self.port,
            jump: None,
        };
        let os = if aix { AddrOs::Aix } else { AddrOs::Linux };
        let mut out = Vec::new();
        let mut err = Vec::new();
        let exit = self
            .transport
            .exec(
                &target,
                os.command(),
                b"",
                &self.limits,
                &mut |s, d| match s {
                    Stream::Stdout => out.extend_from_slice(d),
                    Stream::Stderr => err.extend_from_slice(d),
                },
            )
            .map_err(|e| format!("ssh {sn}: {e}"))?;
        if exit.status != 0 {
            return Err(format!(
                "ssh {sn}: `{}` exited {}: {}",
                os.command(),
                exit.status,
                String::from_utf8_lossy(&err).trim()
            ));
        }
        Ok(String::from_utf8_lossy(&out).into_owned())
    }
}
