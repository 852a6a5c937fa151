//! The fan-out: a bounded pool of worker threads, one SSH session per node, results collected
//! by the calling thread.

use crate::error::{FailKind, SetupError, TransportError};
use crate::job::NodeJob;
use crate::report::{NodeResult, NotRun, Report, Status, StepResult};
use crate::script::{render, Builtins, Demux, Parsed, ScriptSet, Stream};
use crate::transport::{secs, Flow, Limits, RemoteExit, Target, Transport};
use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// xdsh's and clush's default fanout.
pub const DEFAULT_FANOUT: usize = 64;
/// Default connect timeout (TCP + SSH handshake + authentication), as pdsh and ClusterShell.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Default command timeout: long enough for setupntp's one-shot clock sync and a syslog
/// restart on a loaded node, short enough that a hung node cannot hold an outage for long.
pub const DEFAULT_COMMAND_TIMEOUT: Duration = Duration::from_secs(300);
/// Default postscripts directory.
pub const DEFAULT_POSTSCRIPTS_DIR: &str = "/install/postscripts";
/// Cap of the output kept per node for the gathered report (streamed output is not capped).
pub const OUTPUT_CAP: usize = 1 << 20;
/// Cap of all the distinct outputs a report keeps (each stored once): past it, a node's new
/// output is kept as [`OUTPUT_DROPPED`], so memory stays bounded whatever the number of
/// nodes (the streamed `node: line` output is complete).
pub const OUTPUT_BUDGET: usize = 256 << 20;
/// What the report keeps of an output that came after [`OUTPUT_BUDGET`] was spent.
pub const OUTPUT_DROPPED: &str =
    "[psrun: output not kept: the report's output budget is spent; it was streamed]\n";

/// Options of a run.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Nodes in flight at once.
    pub fanout: usize,
    /// Per-node connect timeout.
    pub connect_timeout: Duration,
    /// Per-node command timeout.
    pub command_timeout: Duration,
    /// Time the client waits past the command timeout for the node's `timeout` to report.
    pub kill_grace: Duration,
    /// Default SSH port for nodes without one.
    pub port: u16,
    /// Where postscripts are read from.
    pub postscripts_dir: PathBuf,
    /// Whether to use the shipped `syslog`/`setupntp`.
    pub builtins: Builtins,
    /// Prefix of every node-side file path the steps write (empty in production).
    pub node_root: String,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            fanout: DEFAULT_FANOUT,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            command_timeout: DEFAULT_COMMAND_TIMEOUT,
            kill_grace: Duration::from_secs(5),
            port: 22,
            postscripts_dir: PathBuf::from(DEFAULT_POSTSCRIPTS_DIR),
            builtins: Builtins::Fallback,
            node_root: String::new(),
        }
    }
}

/// Counts while the run goes on.
#[derive(Debug, Clone, Default)]
pub struct Progress {
    /// Nodes finished.
    pub done: usize,
    /// Nodes in the run.
    pub total: usize,
    /// Finished nodes by status.
    pub counts: HashMap<Status, usize>,
    /// Time since the start.
    pub elapsed: Duration,
    /// Nodes in flight.
    pub in_flight: usize,
}

impl Progress {
    /// Estimated time left (from the rate so far).
    pub fn eta(&self) -> Option<Duration> {
        if self.done == 0 {
            return None;
        }
        let per = self.elapsed.as_secs_f64() / self.done as f64;
        Some(Duration::from_secs_f64(
            per * (self.total - self.done) as f64,
        ))
    }
}

/// Receives the events of a run. All methods have empty defaults.
pub trait Observer: Sync {
    /// One line of output of `node` (called from worker threads as lines arrive).
    fn line(&self, _node: &str, _stream: Stream, _text: &str) {}
    /// A node finished (called from the calling thread).
    fn node_done(&self, _result: &NodeResult, _progress: &Progress) {}
    /// A jump host could not be reached: all its nodes fail with this message (called once).
    fn jump_failed(&self, _jump: &str, _message: &str, _nodes: usize) {}
    /// No node finished for [`TICK`]: the time goes on (called from the calling thread, with
    /// `progress.elapsed` and the ETA up to date), e.g. to redraw a progress line.
    fn tick(&self, _progress: &Progress) {}
    /// Once true, no further node is started (those in flight finish); the report lists the
    /// others in [`Report::not_run`]. Asked from the worker threads before each node.
    fn stop(&self) -> bool {
        false
    }
}

/// How often [`Observer::tick`] is called while no node finishes.
pub const TICK: Duration = Duration::from_secs(1);

/// An observer that ignores everything.
pub struct Quiet;
impl Observer for Quiet {}

fn token() -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0),
    );
    h.write_u32(std::process::id());
    format!("{:016x}", h.finish())
}

/// The remote command: the script comes on stdin; `timeout` (when the node has it) kills it at
/// the command timeout, so nothing is left running on the node.
pub fn remote_command(command_timeout: Duration, grace: Duration) -> String {
    let t = command_timeout.as_secs().max(1);
    let k = grace.as_secs().max(1);
    format!(
        "if command -v timeout >/dev/null 2>&1; then exec timeout -k {k} {t} /bin/sh -s; else exec /bin/sh -s; fi"
    )
}

/// Raises the soft open-files limit to the hard limit (each node in flight holds a socket).
pub fn raise_nofile_limit() {
    // SAFETY: plain getrlimit/setrlimit on a local struct.
    unsafe {
        let mut r = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut r) == 0 && r.rlim_cur < r.rlim_max {
            r.rlim_cur = r.rlim_max;
            libc::setrlimit(libc::RLIMIT_NOFILE, &r);
        }
    }
}

/// A finished node: its result, its whole output, each step's output, the transport error.
type NodeOutcome = (NodeResult, String, Vec<String>, Option<TransportError>);

struct NodeState<'a> {
    node: &'a str,
    obs: &'a dyn Observer,
    steps: Vec<StepResult>,
    current: Option<usize>,
    done: bool,
    /// stdout and stderr lines kept for the report, per step (0: outside any step)
    output: Vec<[String; 2]>,
    kept: usize,
    truncated: bool,
}

impl NodeState<'_> {
    fn on(&mut self, p: Parsed) {
        match p {
            Parsed::Line { stream, step, text } => {
                self.obs.line(self.node, stream, &text);
                let step = if step < self.output.len() { step } else { 0 };
                let buf = &mut self.output[step][stream as usize];
                // once cut, nothing more is kept: the kept output stays a prefix of the real one
                if !self.truncated && self.kept + text.len() < OUTPUT_CAP {
                    self.kept += text.len() + 1;
                    buf.push_str(&text);
                    buf.push('\n');
                } else if !self.truncated {
                    self.truncated = true;
                    buf.push_str("[psrun: output truncated]\n");
                }
            }
            Parsed::Begin(n) => self.current = Some(n),
            Parsed::End(n, rc) => {
                if let Some(s) = n.checked_sub(1).and_then(|i| self.steps.get_mut(i)) {
                    s.rc = Some(rc);
                }
                self.current = None;
            }
            Parsed::Done => self.done = true,
        }
    }
}

fn run_one(
    job: &NodeJob,
    transport: &dyn Transport,
    opts: &RunOptions,
    scripts: &ScriptSet,
    token: &str,
    command: &str,
    obs: &dyn Observer,
) -> NodeOutcome {
    let start = Instant::now();
    let mut state = NodeState {
        node: &job.name,
        obs,
        steps: job
            .steps
            .iter()
            .map(|s| StepResult {
                label: s.label(),
                rc: None,
                output: None,
            })
            .collect(),
        current: None,
        done: false,
        output: vec![[String::new(), String::new()]; job.steps.len() + 1],
        kept: 0,
        truncated: false,
    };
    let script = render(job, scripts, &opts.node_root, token);
    let limits = Limits {
        connect: opts.connect_timeout,
        command: opts.command_timeout,
        grace: opts.kill_grace,
    };
    let target = Target {
        name: &job.name,
        address: &job.address,
        port: job.port.unwrap_or(opts.port),
        jump: job.jump.as_ref(),
    };
    let res = match script {
        Err(e) => Err(TransportError::new(FailKind::Failed, e.to_string())),
        Ok(script) => {
            let mut demux = Demux::new(token);
            // once the end-of-steps marker is in, the transport need not wait for the
            // channel to close (a step may have left a process holding the output open)
            let r = transport.exec_until(
                &target,
                command,
                script.as_bytes(),
                &limits,
                &mut |stream, data| {
                    demux.feed(stream, data, &mut |p| state.on(p));
                    if state.done {
                        Flow::Finish
                    } else {
                        Flow::Continue
                    }
                },
            );
            demux.finish(&mut |p| state.on(p));
            r
        }
    };
    let (status, reason, exit_status, terr) = classify(&state, res, opts);
    let result = NodeResult {
        name: job.name.clone(),
        address: job.address.clone(),
        port: job.port,
        jump: job.jump.as_ref().map(|j| j.name.clone()),
        jump_address: job
            .jump
            .as_ref()
            .filter(|j| j.address != j.name)
            .map(|j| j.address.clone()),
        jump_port: job.jump.as_ref().and_then(|j| j.port),
        status,
        reason,
        exit_status,
        steps: state.steps,
        elapsed_ms: start.elapsed().as_millis() as u64,
        output: None,
    };
    // stdout then stderr: the same output folds the same whatever the arrival order
    let mut output = String::new();
    for o in &state.output {
        output.push_str(&o[0]);
    }
    for o in &state.output {
        output.push_str(&o[1]);
    }
    let per_step = state
        .output
        .into_iter()
        .skip(1)
        .map(|[o, e]| o + &e)
        .collect();
    (result, output, per_step, terr)
}

fn classify(
    st: &NodeState<'_>,
    res: Result<RemoteExit, TransportError>,
    opts: &RunOptions,
) -> (Status, Option<String>, Option<i32>, Option<TransportError>) {
    let step_label = |n: usize| {
        st.steps
            .get(n.wrapping_sub(1))
            .map(|s| s.label.clone())
            .unwrap_or_default()
    };
    match res {
        Err(e) => {
            let status = match e.kind {
                FailKind::Unreachable => Status::Unreachable,
                FailKind::AuthFailed => Status::AuthFailed,
                FailKind::HostKeyRejected => Status::HostKeyRejected,
                FailKind::TimedOut => Status::TimedOut,
                FailKind::Failed => Status::Failed,
            };
            let msg = match (e.kind, st.current) {
                (FailKind::TimedOut | FailKind::Failed, Some(n)) => {
                    format!("{} (in step {})", e.message, step_label(n))
                }
                _ => e.message.clone(),
            };
            (status, Some(msg), None, Some(e))
        }
        Ok(exit) => {
            if st.done {
                let failed: Vec<String> = st
                    .steps
                    .iter()
                    .filter(|s| s.rc != Some(0))
                    .map(|s| match s.rc {
                        Some(rc) => format!("{} exited {rc}", s.label),
                        None => format!("{} did not report", s.label),
                    })
                    .collect();
                if failed.is_empty() {
                    (Status::Ok, None, Some(exit.status), None)
                } else {
                    (
                        Status::Failed,
                        Some(failed.join("; ")),
                        Some(exit.status),
                        None,
                    )
                }
            } else if let Some(sig) = &exit.signal {
                let within = st
                    .current
                    .map(|n| format!(" in step {}", step_label(n)))
                    .unwrap_or_default();
                (
                    Status::Failed,
                    Some(format!("the node script was killed by SIG{sig}{within}")),
                    None,
                    None,
                )
            } else if matches!(exit.status, 124 | 137) {
                let within = st
                    .current
                    .map(|n| format!(" in step {}", step_label(n)))
                    .unwrap_or_default();
                let what = format!(
                    "stopped by the node's timeout after {}",
                    secs(opts.command_timeout)
                );
                (
                    Status::TimedOut,
                    Some(format!("{what}{within}")),
                    Some(exit.status),
                    None,
                )
            } else if exit.status == 97 {
                (
                    Status::Failed,
                    Some("cannot create a temporary directory on the node".into()),
                    Some(97),
                    None,
                )
            } else {
                let within = st
                    .current
                    .map(|n| format!(" in step {}", step_label(n)))
                    .unwrap_or_default();
                (
                    Status::Failed,
                    Some(format!(
                        "the node script stopped{within} with exit status {}",
                        exit.status
                    )),
                    Some(exit.status),
                    None,
                )
            }
        }
    }
}

/// Checks the jobs as [`run`] does before contacting anything: no node twice, node and jump
/// host names the report can show (no whitespace, control character, `/`, `,`, `[`, `]` or `=`;
/// not empty), no empty address nor one with whitespace or a control character.
///
/// ```
/// use postscripts::{validate_jobs, NodeJob};
/// assert!(validate_jobs(&[NodeJob::new("cn1", "10.0.0.1")]).is_ok());
/// let e = validate_jobs(&[NodeJob::new("cn[1-2]", "10.0.0.1")]).unwrap_err();
/// assert_eq!(e.to_string(), "node name \"cn[1-2]\" contains ',', '[', ']' or '=', which noderanges use");
/// ```
pub fn validate_jobs(jobs: &[NodeJob]) -> Result<(), SetupError> {
    let mut seen = HashSet::new();
    for j in jobs {
        check_name(&j.name)?;
        check_address(&j.name, &j.address)?;
        if let Some(jump) = &j.jump {
            check_name(&jump.name)?;
            check_address(&jump.name, &jump.address)?;
        }
        if !seen.insert(j.name.as_str()) {
            return Err(SetupError::DuplicateNode(j.name.clone()));
        }
    }
    Ok(())
}

/// Refuses an empty address, and one with whitespace or a control character (names and
/// addresses are written into known_hosts by `--host-key-check accept-new`).
fn check_address(node: &str, address: &str) -> Result<(), SetupError> {
    if address.is_empty() {
        return Err(SetupError::EmptyAddress(node.to_string()));
    }
    if address.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(SetupError::BadAddress {
            node: node.to_string(),
            address: address.to_string(),
        });
    }
    Ok(())
}

/// Refuses a name the report cannot show unambiguously: it prefixes output lines
/// (`name: line`), is folded into noderanges (`cn[1-3],sn1`) and names per-node paths.
fn check_name(name: &str) -> Result<(), SetupError> {
    let why = if name.is_empty() {
        "is empty"
    } else if name.chars().any(|c| c.is_whitespace() || c.is_control()) {
        "contains whitespace or a control character"
    } else if name.contains([',', '[', ']', '=']) {
        "contains ',', '[', ']' or '=', which noderanges use"
    } else if name.contains('/') {
        "contains '/'"
    } else {
        return Ok(());
    };
    Err(SetupError::BadNodeName {
        name: name.to_string(),
        why,
    })
}

/// Runs every job, at most `opts.fanout` at once, and returns the report.
///
/// Nothing is contacted when the input is invalid (duplicate node, a node name with
/// whitespace, a control character, `/` or noderange punctuation, an empty address, a bad
/// variable name, zero fanout). Output streams to `obs` as it arrives; the report holds each distinct output once.
pub fn run(
    jobs: &[NodeJob],
    transport: &dyn Transport,
    opts: &RunOptions,
    obs: &dyn Observer,
) -> Result<Report, SetupError> {
    run_with_budget(jobs, transport, opts, obs, OUTPUT_BUDGET)
}

fn run_with_budget(
    jobs: &[NodeJob],
    transport: &dyn Transport,
    opts: &RunOptions,
    obs: &dyn Observer,
    budget: usize,
) -> Result<Report, SetupError> {
    if opts.fanout == 0 {
        return Err(SetupError::Invalid("the fanout must be at least 1".into()));
    }
    validate_jobs(jobs)?;
    let scripts = ScriptSet::load(&opts.postscripts_dir, opts.builtins, jobs);
    // validate env names once, before any node is contacted
    for j in jobs {
        render(
            &NodeJob {
                steps: Vec::new(),
                ..j.clone()
            },
            &scripts,
            &opts.node_root,
            "x",
        )?;
    }
    raise_nofile_limit();
    let token = token();
    let command = remote_command(opts.command_timeout, opts.kill_grace);
    let start = Instant::now();
    let next = AtomicUsize::new(0);
    let workers = opts.fanout.min(jobs.len());
    let (tx, rx) = mpsc::channel::<NodeOutcome>();
    let mut results: Vec<NodeResult> = Vec::with_capacity(jobs.len());
    let mut outputs: Vec<String> = Vec::new();
    // each distinct output once (looked up by its hash), at most `budget` bytes in all
    let hasher = std::collections::hash_map::RandomState::new();
    let mut interned: HashMap<u64, Vec<usize>> = HashMap::new();
    let mut kept_bytes = 0usize;
    let mut jump_failures: std::collections::BTreeMap<String, String> = Default::default();
    let mut progress = Progress {
        total: jobs.len(),
        ..Default::default()
    };
    let mut started = 0usize;
    std::thread::scope(|scope| {
        for _ in 0..workers {
            let tx = tx.clone();
            let (next, scripts, token, command) = (&next, &scripts, &token, &command);
            let spawned = std::thread::Builder::new()
                .stack_size(512 * 1024)
                .spawn_scoped(scope, move || loop {
                    if obs.stop() {
                        break;
                    }
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    let Some(job) = jobs.get(i) else { break };
                    let r = run_one(job, transport, opts, scripts, token, command, obs);
                    if tx.send(r).is_err() {
                        break;
                    }
                });
            match spawned {
                Ok(_) => started += 1,
                Err(_) => break, // fewer workers than asked: the others still drain the queue
            }
        }
        drop(tx);
        if started == 0 && !jobs.is_empty() {
            return Err(SetupError::Invalid("cannot start any worker thread".into()));
        }
        progress.in_flight = started.min(jobs.len());
        loop {
            let (mut r, out, per_step, terr) = match rx.recv_timeout(TICK) {
                Ok(outcome) => outcome,
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    progress.elapsed = start.elapsed();
                    obs.tick(&progress);
                    continue;
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
            };
            progress.done += 1;
            *progress.counts.entry(r.status).or_default() += 1;
            progress.elapsed = start.elapsed();
            progress.in_flight = workers.min(jobs.len() - progress.done.min(jobs.len()));
            if let (Some(j), Some(e)) = (&r.jump, &terr) {
                if e.kind == FailKind::Unreachable
                    && e.message.starts_with("service node ")
                    && !jump_failures.contains_key(j)
                {
                    let n = jobs
                        .iter()
                        .filter(|x| x.jump.as_ref().is_some_and(|y| &y.name == j))
                        .count();
                    obs.jump_failed(j, &e.message, n);
                    jump_failures.insert(j.clone(), e.message.clone());
                }
            }
            let mut intern = |text: String| -> Option<usize> {
                if text.is_empty() {
                    return None;
                }
                let find = |outputs: &[String], interned: &HashMap<u64, Vec<usize>>, t: &str| {
                    let h = std::hash::BuildHasher::hash_one(&hasher, t);
                    let i = interned
                        .get(&h)
                        .and_then(|v| v.iter().copied().find(|&i| outputs[i] == t));
                    (h, i)
                };
                let (mut h, mut found) = find(&outputs, &interned, &text);
                let mut text = text;
                if found.is_none() && kept_bytes + text.len() > budget {
                    text = OUTPUT_DROPPED.to_string();
                    (h, found) = find(&outputs, &interned, &text);
                }
                Some(match found {
                    Some(i) => i,
                    None => {
                        kept_bytes += text.len();
                        text.shrink_to_fit(); // kept for the whole run: no spare capacity
                        outputs.push(text);
                        interned.entry(h).or_default().push(outputs.len() - 1);
                        outputs.len() - 1
                    }
                })
            };
            r.output = intern(out);
            for (step, text) in r.steps.iter_mut().zip(per_step) {
                step.output = intern(text);
            }
            obs.node_done(&r, &progress);

            results.push(r);
        }
        Ok(())
    })?;
    let mut report = Report::new(results, outputs, jump_failures, start.elapsed(), opts);
    // the indices no worker claimed: the run was stopped before them
    let claimed = next.load(Ordering::SeqCst).min(jobs.len());
    report.not_run = jobs[claimed..]
        .iter()
        .map(|j| NotRun {
            name: j.name.clone(),
            address: j.address.clone(),
            port: j.port,
            jump: j.jump.clone(),
        })
        .collect();
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Prints a long output of its own per node (`same*` nodes print the same one).
    struct Chatty;
    impl Transport for Chatty {
        fn exec(
            &self,
            t: &Target<'_>,
            _command: &str,
            _stdin: &[u8],
            _limits: &Limits,
            out: &mut dyn FnMut(Stream, &[u8]),
        ) -> Result<RemoteExit, TransportError> {
            let word = if t.name.starts_with("same") {
                "same"
            } else {
                t.name
            };
            out(Stream::Stdout, format!("{}\n", word.repeat(500)).as_bytes());
            Ok(RemoteExit {
                status: 0,
                signal: None,
            })
        }
    }

    /// A transport whose nodes take 2.5 s.
    struct Slow;
    impl Transport for Slow {
        fn exec(
            &self,
            _t: &Target<'_>,
            _command: &str,
            _stdin: &[u8],
            _limits: &Limits,
            _out: &mut dyn FnMut(Stream, &[u8]),
        ) -> Result<RemoteExit, TransportError> {
            std::thread::sleep(Duration::from_millis(2500));
            Ok(RemoteExit {
                status: 0,
                signal: None,
            })
        }
    }

    /// Records the elapsed times it is ticked at.
    struct Ticks(std::sync::Mutex<Vec<(usize, usize, Duration)>>);
    impl Observer for Ticks {
        fn tick(&self, p: &Progress) {
            self.0
                .lock()
                .unwrap()
                .push((p.done, p.in_flight, p.elapsed));
        }
    }

    /// While no node finishes, the observer is still told the time goes on (so a progress
    /// line's clock and ETA move during a long clock step).
    #[test]
    fn ticks_come_while_no_node_finishes() {
        let obs = Ticks(std::sync::Mutex::new(Vec::new()));
        let jobs = [NodeJob::new("cn1", "x")];
        run(&jobs, &Slow, &RunOptions::default(), &obs).unwrap();
        let ticks = obs.0.into_inner().unwrap();
        assert!(ticks.len() >= 2, "{ticks:?}");
        // nothing done yet, the node in flight, the clock moving
        assert!(ticks.iter().all(|t| t.0 == 0 && t.1 == 1), "{ticks:?}");
        assert!(ticks.windows(2).all(|w| w[0].2 < w[1].2), "{ticks:?}");
    }

    #[test]
    fn the_outputs_of_a_report_stay_within_their_budget() {
        let jobs: Vec<NodeJob> = ["same1", "cn1", "cn2", "same2", "cn3", "cn4", "same3"]
            .iter()
            .map(|n| NodeJob::new(*n, "x"))
            .collect();
        let opts = RunOptions {
            fanout: 1, // in job order
            ..RunOptions::default()
        };
        // room for the "same" output (2001 bytes) and two others (1501 bytes each)
        let r = run_with_budget(&jobs, &Chatty, &opts, &Quiet, 5100).unwrap();
        let kept: usize = r.outputs.iter().map(String::len).sum();
        assert!(kept <= 5100 + OUTPUT_DROPPED.len(), "{kept}");
        assert_eq!(
            r.output_of("cn1"),
            Some("cn1".repeat(500) + "\n").as_deref()
        );
        assert_eq!(
            r.output_of("cn2"),
            Some("cn2".repeat(500) + "\n").as_deref()
        );
        assert_eq!(r.output_of("cn3"), Some(OUTPUT_DROPPED));
        assert_eq!(r.output_of("cn4"), Some(OUTPUT_DROPPED));
        // an output already kept is still shared after the budget is spent
        assert_eq!(
            r.output_of("same3"),
            Some("same".repeat(500) + "\n").as_deref()
        );
        assert_eq!(r.outputs.len(), 4);
    }
}
