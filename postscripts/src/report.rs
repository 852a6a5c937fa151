//! The report: per-node results, the gathered (dshbak -c style) text report, the summary, the
//! JSON report and `--retry-failed`; and [`Console`], the streaming `node: line` printer with
//! a progress line on a terminal.

use crate::error::ReportError;
use crate::fold::{fold_nodes, natural_cmp};
use crate::job::NodeJob;
use crate::run::{Observer, Progress, RunOptions};
use crate::script::Stream;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::io::{IsTerminal, Write};
use std::path::Path;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How a node ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// Every step exited 0.
    Ok,
    /// A step failed, or the session broke while the steps ran.
    Failed,
    /// The steps outlived the command timeout.
    TimedOut,
    /// No session: refused, no route, no banner, DNS, jump host down.
    Unreachable,
    /// The node refused our keys.
    AuthFailed,
    /// The node's host key is unknown, changed or revoked.
    HostKeyRejected,
}

impl Status {
    /// All statuses in report order.
    pub const ALL: [Status; 6] = [
        Status::Ok,
        Status::Failed,
        Status::TimedOut,
        Status::Unreachable,
        Status::AuthFailed,
        Status::HostKeyRejected,
    ];

    /// The name used in reports and JSON.
    pub fn name(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Failed => "failed",
            Status::TimedOut => "timed-out",
            Status::Unreachable => "unreachable",
            Status::AuthFailed => "auth-failed",
            Status::HostKeyRejected => "host-key-rejected",
        }
    }
}

/// One step of one node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepResult {
    /// The step's label (`xcatinfo`, `route`, `syslog`, …).
    pub label: String,
    /// Its exit status; `None` when it did not run or did not report.
    pub rc: Option<i32>,
    /// Index into [`Report::outputs`] of what this step printed (stdout lines, then stderr
    /// lines), if anything.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output: Option<usize>,
}

/// One node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeResult {
    /// Node name.
    pub name: String,
    /// Address connected to.
    pub address: String,
    /// SSH port of the node, when the job gave one (`--retry-failed` reuses it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    /// Jump host, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jump: Option<String>,
    /// Address of the jump host, when it is not its name (`--retry-failed` reuses it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jump_address: Option<String>,
    /// SSH port of the jump host, when the job gave one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jump_port: Option<u16>,
    /// Outcome.
    pub status: Status,
    /// Why it is not ok (no node name in it, so identical reasons fold).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Exit status of the remote script, when it ended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit_status: Option<i32>,
    /// Each step.
    pub steps: Vec<StepResult>,
    /// Wall time for this node.
    pub elapsed_ms: u64,
    /// Index into [`Report::outputs`] of this node's output (its stdout lines, then its stderr
    /// lines), if it printed anything.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output: Option<usize>,
}

/// The result of a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// Format version.
    pub version: u32,
    /// Wall time of the run.
    pub elapsed_ms: u64,
    /// Fanout used.
    pub fanout: usize,
    /// Connect timeout used, in seconds.
    pub connect_timeout_s: f64,
    /// Command timeout used, in seconds.
    pub command_timeout_s: f64,
    /// Nodes per status.
    pub counts: BTreeMap<Status, usize>,
    /// Jump hosts that could not be reached, with the message.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub jump_failures: BTreeMap<String, String>,
    /// Every node, in natural name order.
    pub nodes: Vec<NodeResult>,
    /// Distinct outputs (each stored once, whatever the number of nodes that printed it).
    pub outputs: Vec<String>,
    /// Nodes the run never started because it was interrupted ([`crate::Observer::stop`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub not_run: Vec<NotRun>,
}

/// A node an interrupted run did not start: where it is, for `--retry-failed`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotRun {
    /// Node name.
    pub name: String,
    /// Address.
    pub address: String,
    /// SSH port, when the job gave one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    /// Jump host, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jump: Option<crate::job::JumpHost>,
}

impl NotRun {
    /// A job reaching this node as the run would have, with `NODE` set and no steps.
    pub fn to_job(&self) -> NodeJob {
        let mut job = NodeJob::new(self.name.clone(), self.address.clone());
        job.port = self.port;
        job.jump = self.jump.clone();
        job
    }
}

impl Report {
    pub(crate) fn new(
        mut nodes: Vec<NodeResult>,
        outputs: Vec<String>,
        jump_failures: BTreeMap<String, String>,
        elapsed: Duration,
        opts: &RunOptions,
    ) -> Report {
        nodes.sort_by(|a, b| natural_cmp(&a.name, &b.name));
        // number the outputs in node order, so the report does not depend on arrival order
        let mut remap: Vec<Option<usize>> = vec![None; outputs.len()];
        let mut ordered: Vec<String> = Vec::with_capacity(outputs.len());
        let mut outputs: Vec<Option<String>> = outputs.into_iter().map(Some).collect();
        let mut renumber = |o: &mut Option<usize>| {
            if let Some(i) = *o {
                let j = *remap[i].get_or_insert_with(|| {
                    ordered.push(outputs[i].take().unwrap_or_default());
                    ordered.len() - 1
                });
                *o = Some(j);
            }
        };
        for n in &mut nodes {
            renumber(&mut n.output);
            for st in &mut n.steps {
                renumber(&mut st.output);
            }
        }
        let outputs = ordered;
        let mut counts: BTreeMap<Status, usize> = Status::ALL.iter().map(|s| (*s, 0)).collect();
        for n in &nodes {
            *counts.entry(n.status).or_default() += 1;
        }
        Report {
            version: 1,
            elapsed_ms: elapsed.as_millis() as u64,
            fanout: opts.fanout,
            connect_timeout_s: opts.connect_timeout.as_secs_f64(),
            command_timeout_s: opts.command_timeout.as_secs_f64(),
            counts,
            jump_failures,
            nodes,
            outputs,
            not_run: Vec::new(),
        }
    }

    /// True when every node succeeded.
    pub fn all_ok(&self) -> bool {
        self.not_run.is_empty() && self.nodes.iter().all(|n| n.status == Status::Ok)
    }

    /// Names of the nodes that did not succeed (including those an interrupted run did not
    /// start).
    pub fn not_succeeded(&self) -> BTreeSet<String> {
        self.nodes
            .iter()
            .filter(|n| n.status != Status::Ok)
            .map(|n| n.name.clone())
            .chain(self.not_run.iter().map(|n| n.name.clone()))
            .collect()
    }

    /// The result of `node`.
    pub fn node(&self, node: &str) -> Option<&NodeResult> {
        self.nodes.iter().find(|n| n.name == node)
    }

    /// What step `step` (0-based) of `node` printed, if anything.
    pub fn step_output(&self, node: &str, step: usize) -> Option<&str> {
        let n = self.node(node)?;
        let i = n.steps.get(step)?.output?;
        self.outputs.get(i).map(String::as_str)
    }

    /// The output of `node`, if it printed anything.
    pub fn output_of(&self, node: &str) -> Option<&str> {
        self.node(node)
            .and_then(|n| n.output)
            .and_then(|i| self.outputs.get(i))
            .map(String::as_str)
    }

    /// The JSON report.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default() + "\n"
    }

    /// Reads a JSON report written by [`Report::to_json`].
    pub fn load(path: &Path) -> Result<Report, ReportError> {
        let text = std::fs::read_to_string(path).map_err(|source| ReportError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        serde_json::from_str(&text).map_err(|source| ReportError::Json {
            path: path.to_path_buf(),
            source,
        })
    }

    /// The gathered outputs, dshbak `-c` style: identical outputs once, under the folded list of
    /// the nodes that printed them, ordered by their first node.
    pub fn render_gathered(&self) -> String {
        let mut by_output: BTreeMap<usize, Vec<&str>> = BTreeMap::new();
        for n in &self.nodes {
            if let Some(i) = n.output {
                by_output.entry(i).or_default().push(&n.name);
            }
        }
        let mut blocks: Vec<(&str, String, usize)> = by_output
            .into_iter()
            .map(|(i, names)| (names[0], fold_nodes(&names), i))
            .collect();
        blocks.sort_by(|a, b| natural_cmp(a.0, b.0));
        let mut s = String::new();
        for (_, folded, i) in blocks {
            s.push_str("====================================\n");
            s.push_str(&folded);
            s.push_str("\n====================================\n");
            s.push_str(self.outputs.get(i).map(String::as_str).unwrap_or(""));
            s.push('\n');
        }
        s
    }

    /// The summary: each status with its count and folded nodes; under each, the nodes folded
    /// by identical reason.
    pub fn render_summary(&self) -> String {
        let mut s = String::new();
        for st in Status::ALL {
            let nodes: Vec<&NodeResult> = self.nodes.iter().filter(|n| n.status == st).collect();
            let names: Vec<&str> = nodes.iter().map(|n| n.name.as_str()).collect();
            let line = format!(
                "{:<18} {:>6}  {}",
                format!("{}:", st.name()),
                nodes.len(),
                fold_nodes(&names)
            );
            s.push_str(line.trim_end());
            s.push('\n');
            let mut reasons: BTreeMap<String, Vec<&str>> = BTreeMap::new();
            for n in &nodes {
                if let Some(r) = &n.reason {
                    reasons.entry(summary_reason(r)).or_default().push(&n.name);
                }
            }
            let mut reasons: Vec<_> = reasons.into_iter().collect();
            reasons.sort_by(|a, b| natural_cmp(a.1[0], b.1[0]));
            for (r, names) in reasons {
                s.push_str(&format!(
                    "    {} ({}): {}\n",
                    fold_nodes(&names),
                    names.len(),
                    r
                ));
            }
        }
        if !self.not_run.is_empty() {
            let names: Vec<&str> = self.not_run.iter().map(|n| n.name.as_str()).collect();
            s.push_str(&format!(
                "{:<18} {:>6}  {}\n",
                "not run:",
                names.len(),
                fold_nodes(&names)
            ));
            s.push_str("    (the run was interrupted before they started)\n");
        }
        for (j, m) in &self.jump_failures {
            let n = self
                .nodes
                .iter()
                .filter(|n| n.jump.as_deref() == Some(j))
                .count();
            s.push_str(&format!("{m}: its {n} node(s) were not run\n"));
        }
        let ok = self.counts.get(&Status::Ok).copied().unwrap_or(0);
        s.push_str(&format!(
            "{ok} of {} nodes succeeded in {:.1}s\n",
            self.nodes.len() + self.not_run.len(),
            self.elapsed_ms as f64 / 1000.0
        ));
        s
    }

    /// Gathered outputs then the summary.
    pub fn render_text(&self) -> String {
        let mut s = self.render_gathered();
        s.push_str(&self.render_summary());
        s
    }
}

impl NodeResult {
    /// A job reaching this node as the run did (name, address, port, jump host), with
    /// `NODE` set and no steps: what `--retry-failed` runs when no node list is given.
    ///
    /// ```
    /// use postscripts::{JumpHost, NodeResult};
    /// let r: NodeResult = serde_json::from_str(r#"{"name":"cn1","address":"10.1.0.1",
    ///     "port":2222,"jump":"sn1","jump_address":"10.0.0.1","jump_port":22,
    ///     "status":"unreachable","steps":[],"elapsed_ms":1}"#).unwrap();
    /// let job = r.to_job();
    /// assert_eq!((job.name.as_str(), job.address.as_str(), job.port), ("cn1", "10.1.0.1", Some(2222)));
    /// assert_eq!(job.jump, Some(JumpHost { name: "sn1".into(), address: "10.0.0.1".into(), port: Some(22) }));
    /// assert_eq!(job.env["NODE"], "cn1");
    /// ```
    pub fn to_job(&self) -> NodeJob {
        let mut job = NodeJob::new(self.name.clone(), self.address.clone());
        job.port = self.port;
        job.jump = self.jump.as_ref().map(|j| crate::job::JumpHost {
            name: j.clone(),
            address: self.jump_address.clone().unwrap_or_else(|| j.clone()),
            port: self.jump_port,
        });
        job
    }
}

/// A reason as the summary groups it: host-key fingerprints (`SHA256:…`) and known_hosts line
/// numbers (`/path/known_hosts:…`) differ from node to node, so 1000 reinstalled nodes would
/// otherwise give 1000 reason lines; masked, they fold into one. The JSON report and the
/// per-node lines on stderr keep the full reason.
///
/// ```
/// use postscripts::report::summary_reason;
/// assert_eq!(
///     summary_reason("ssh: the ssh-ed25519 key offered (SHA256:AbC+/9) differs from /root/.ssh/known_hosts:12; remove it"),
///     "ssh: the ssh-ed25519 key offered (SHA256:…) differs from /root/.ssh/known_hosts:…; remove it"
/// );
/// assert_eq!(summary_reason("syslog exited 2"), "syslog exited 2");
/// ```
pub fn summary_reason(reason: &str) -> String {
    let mut masked = String::with_capacity(reason.len());
    let mut rest = reason;
    while let Some(i) = rest.find("SHA256:") {
        masked.push_str(&rest[..i + 7]);
        let tail = &rest[i + 7..];
        let end = tail
            .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '=')))
            .unwrap_or(tail.len());
        masked.push('…');
        rest = &tail[end..];
    }
    masked.push_str(rest);
    masked
        .split_inclusive(' ')
        .map(|word| {
            // PATH:LINE, maybe followed by punctuation
            let body = word.trim_end_matches([' ', ';', ')', ',', '.']);
            match body.rsplit_once(':') {
                Some((path, line))
                    if path.contains('/')
                        && !line.is_empty()
                        && line.bytes().all(|b| b.is_ascii_digit()) =>
                {
                    format!("{path}:…{}", &word[body.len()..])
                }
                _ => word.to_string(),
            }
        })
        .collect()
}

/// Keeps only the jobs of the nodes that did not succeed in `report` (`--retry-failed`).
/// Nodes absent from the report are dropped too: a retry never runs a node the first run did
/// not.
///
/// ```
/// use postscripts::{retry_jobs, NodeJob, Report};
/// let json = r#"{"version":1,"elapsed_ms":1,"fanout":64,"connect_timeout_s":10.0,
///   "command_timeout_s":300.0,"counts":{},"outputs":[],
///   "nodes":[{"name":"cn1","address":"a","status":"ok","steps":[],"elapsed_ms":1},
///            {"name":"cn2","address":"b","status":"timed-out","steps":[],"elapsed_ms":1}]}"#;
/// let report: Report = serde_json::from_str(json).unwrap();
/// let jobs = vec![NodeJob::new("cn1", "a"), NodeJob::new("cn2", "b"), NodeJob::new("cn3", "c")];
/// let again = retry_jobs(jobs, &report);
/// assert_eq!(again.len(), 1);
/// assert_eq!(again[0].name, "cn2");
/// ```
pub fn retry_jobs(jobs: Vec<NodeJob>, report: &Report) -> Vec<NodeJob> {
    let want = report.not_succeeded();
    jobs.into_iter()
        .filter(|j| want.contains(&j.name))
        .collect()
}

/// The progress line: counts so far, nodes in flight, time so far and estimated time left.
/// Unreachable counts every node that got no session (unreachable, auth-failed,
/// host-key-rejected).
///
/// ```
/// use postscripts::{report::progress_line, Progress, Status};
/// let mut p = Progress { done: 50, total: 200, in_flight: 64, elapsed: std::time::Duration::from_secs(10), ..Default::default() };
/// p.counts.insert(Status::Ok, 47);
/// p.counts.insert(Status::HostKeyRejected, 3);
/// assert_eq!(progress_line(&p), "[50/200] ok 47 failed 0 timed-out 0 unreachable 3 | in flight 64 | 10s, ETA 30s");
/// ```
pub fn progress_line(p: &Progress) -> String {
    let c = |s: Status| p.counts.get(&s).copied().unwrap_or(0);
    let bad = c(Status::Unreachable) + c(Status::AuthFailed) + c(Status::HostKeyRejected);
    let eta = p
        .eta()
        .map(|d| format!("{}s", d.as_secs()))
        .unwrap_or_else(|| "?".into());
    format!(
        "[{}/{}] ok {} failed {} timed-out {} unreachable {} | in flight {} | {}s, ETA {eta}",
        p.done,
        p.total,
        c(Status::Ok),
        c(Status::Failed),
        c(Status::TimedOut),
        bad,
        p.in_flight,
        p.elapsed.as_secs()
    )
}

/// Prints output as it arrives, `node: line`, stdout lines on stdout and stderr lines on
/// stderr (as xdsh does), one line per node failure on stderr, and — only when stderr is a
/// terminal — a progress line with counts and ETA.
pub struct Console {
    inner: Mutex<ConsoleState>,
    progress: bool,
    quiet_output: bool,
}

struct ConsoleState {
    last_draw: Option<Instant>,
    drawn: bool,
    failed_jumps: BTreeSet<String>,
}

impl Console {
    /// A console on the process's stdout/stderr; `progress` only takes effect on a terminal.
    pub fn new(progress: bool) -> Console {
        Console {
            inner: Mutex::new(ConsoleState {
                last_draw: None,
                drawn: false,
                failed_jumps: BTreeSet::new(),
            }),
            progress: progress && std::io::stderr().is_terminal(),
            quiet_output: false,
        }
    }

    /// Do not stream output lines (the gathered report will show them).
    pub fn without_output(mut self) -> Console {
        self.quiet_output = true;
        self
    }

    fn clear(&self, st: &mut ConsoleState, err: &mut dyn Write) {
        if st.drawn {
            let _ = write!(err, "\r\x1b[K");
            st.drawn = false;
        }
    }

    /// Removes the progress line (call before printing the final report).
    pub fn finish(&self) {
        let mut st = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let mut err = std::io::stderr().lock();
        self.clear(&mut st, &mut err);
    }
}

impl Observer for Console {
    fn line(&self, node: &str, stream: Stream, text: &str) {
        if self.quiet_output {
            return;
        }
        let mut st = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let mut err = std::io::stderr().lock();
        self.clear(&mut st, &mut err);
        match stream {
            Stream::Stdout => {
                let _ = writeln!(std::io::stdout().lock(), "{node}: {text}");
            }
            Stream::Stderr => {
                let _ = writeln!(err, "{node}: {text}");
            }
        }
    }

    fn node_done(&self, r: &NodeResult, p: &Progress) {
        let mut st = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let mut err = std::io::stderr().lock();
        if r.status != Status::Ok {
            let via_failed_jump = r.jump.as_ref().is_some_and(|j| st.failed_jumps.contains(j));
            if !via_failed_jump {
                self.clear(&mut st, &mut err);
                let _ = writeln!(
                    err,
                    "{}: {}: {}",
                    r.name,
                    r.status.name(),
                    r.reason.as_deref().unwrap_or("")
                );
            }
        }
        if self.progress {
            let now = Instant::now();
            if p.done == p.total
                || st.last_draw.map_or(true, |t| {
                    now.duration_since(t) >= Duration::from_millis(100)
                })
            {
                st.last_draw = Some(now);
                let _ = write!(err, "\r\x1b[K{}", progress_line(p));
                st.drawn = true;
            }
        }
    }

    fn tick(&self, p: &Progress) {
        if !self.progress {
            return;
        }
        let mut st = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        st.last_draw = Some(Instant::now());
        let _ = write!(std::io::stderr().lock(), "\r\x1b[K{}", progress_line(p));
        st.drawn = true;
    }

    fn jump_failed(&self, jump: &str, message: &str, nodes: usize) {
        let mut st = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        st.failed_jumps.insert(jump.to_string());
        let mut err = std::io::stderr().lock();
        self.clear(&mut st, &mut err);
        let _ = writeln!(err, "{jump}: {message}; its {nodes} node(s) are not run");
    }
}
