//! The `psrun` command (feature `cli`): run the node-side steps, or any command, on a plain
//! node list. Its options are defined once here; `--help`, the man page and the completions
//! come from this definition.

use crate::hostkeys::HostKeyPolicy;
use crate::job::{postscript_steps, JumpHost, NodeJob, Step};
use crate::report::{retry_jobs, Console, NodeResult, Report, Status};
use crate::run::{run, RunOptions, DEFAULT_POSTSCRIPTS_DIR};
use crate::script::Builtins;
use crate::ssh::{SshOptions, SshTransport};
use clap::Parser;
use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

/// `eprintln!` without its panic when stderr is a closed pipe.
macro_rules! errln {
    ($($t:tt)*) => {{
        let _ = writeln!(std::io::stderr().lock(), $($t)*);
    }};
}

/// `println!` without its panic when stdout is a closed pipe (`psrun … | head`).
macro_rules! outln {
    ($($t:tt)*) => {{
        let _ = writeln!(std::io::stdout().lock(), $($t)*);
    }};
}

/// Ctrl-C: the first one stops starting nodes (those in flight finish within their timeouts)
/// and the report, summary and JSON still come, listing the nodes not run; a second one ends
/// psrun at once.
mod interrupt {
    use crate::report::{Console, NodeResult};
    use crate::run::{Observer, Progress};
    use crate::script::Stream;
    use std::io::Write;
    use std::sync::atomic::{AtomicBool, Ordering};

    static INTERRUPTED: AtomicBool = AtomicBool::new(false);
    static ANNOUNCED: AtomicBool = AtomicBool::new(false);

    extern "C" fn on_sigint(_: libc::c_int) {
        if INTERRUPTED.swap(true, Ordering::SeqCst) {
            // SAFETY: _exit is async-signal-safe.
            unsafe { libc::_exit(130) };
        }
    }

    /// Installs the SIGINT handler.
    pub fn install() {
        let handler: extern "C" fn(libc::c_int) = on_sigint;
        // SAFETY: the handler only touches an atomic and calls _exit.
        unsafe {
            libc::signal(libc::SIGINT, handler as libc::sighandler_t);
        }
    }

    /// The console, stopping the run after Ctrl-C.
    pub struct Interruptible<'a>(pub &'a Console);

    impl Observer for Interruptible<'_> {
        fn line(&self, node: &str, stream: Stream, text: &str) {
            self.0.line(node, stream, text)
        }
        fn node_done(&self, r: &NodeResult, p: &Progress) {
            self.0.node_done(r, p)
        }
        fn jump_failed(&self, jump: &str, message: &str, nodes: usize) {
            self.0.jump_failed(jump, message, nodes)
        }
        fn tick(&self, p: &Progress) {
            let _ = self.stop(); // says so within a second of Ctrl-C
            self.0.tick(p)
        }
        fn stop(&self) -> bool {
            let stop = INTERRUPTED.load(Ordering::SeqCst);
            if stop && !ANNOUNCED.swap(true, Ordering::SeqCst) {
                let _ = writeln!(
                    std::io::stderr().lock(),
                    "psrun: interrupted: no further node is started; the nodes in flight finish (Ctrl-C again to stop at once)"
                );
            }
            stop
        }
    }
}

/// What `--generate` can produce.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Generate {
    /// A roff man page on stdout.
    Man,
    /// bash completions.
    CompleteBash,
    /// zsh completions.
    CompleteZsh,
    /// fish completions.
    CompleteFish,
}

/// Run the node-side steps of a service-node move (or any command) on many nodes over SSH, at
/// most FANOUT at once, each node bounded by a connect and a command timeout.
///
/// Output lines stream as `node: line` (stdout lines on stdout, stderr lines on stderr, as
/// xdsh); at the end identical outputs are printed once under their folded node list, then a
/// summary of ok, failed, timed-out, unreachable, auth-failed and host-key-rejected nodes.
/// Exit status: 0 when every node succeeded, 1 when some did not, 2 on bad input, 130 when
/// interrupted (Ctrl-C starts no further node, lets those in flight finish and still prints
/// the report, listing the nodes not run for --retry-failed; a second Ctrl-C ends at once).
#[derive(Debug, Parser)]
#[command(name = "psrun", version, max_term_width = 100)]
pub struct Args {
    /// Nodes: NAME or NAME=ADDRESS (ADDRESS may be HOST:PORT).
    #[arg(value_name = "NODE")]
    pub nodes: Vec<String>,

    /// Read nodes from FILE: one per line, `NAME [ADDRESS [JUMPHOST]]`; `#` starts a comment.
    #[arg(short = 'H', long, value_name = "FILE")]
    pub hosts: Option<PathBuf>,

    /// Read the whole input from FILE: a JSON array of jobs (the library's `NodeJob`: name,
    /// address, port, jump, env, steps). Other step options add to every job.
    #[arg(long, value_name = "FILE")]
    pub jobs: Option<PathBuf>,

    /// Run this shell command on every node (after the other steps).
    #[arg(short = 'c', long, value_name = "COMMAND")]
    pub command: Option<String>,

    /// Run these postscripts (comma-separated, `name args` allowed) from the postscripts directory.
    #[arg(short = 'P', long, value_name = "SCRIPTS")]
    pub postscripts: Option<String>,

    /// Update /opt/xcat/xcatinfo as `updatenode -s` does: XCATSERVER=SERVER (first step).
    #[arg(long, value_name = "SERVER")]
    pub xcatinfo: Option<String>,

    /// With --xcatinfo: the SERVICEGROUP value (the node's service-node list).
    #[arg(long, value_name = "LIST", requires = "xcatinfo")]
    pub servicegroup: Option<String>,

    /// Add a default route via GATEWAY ("File exists" counts as success).
    #[arg(long, value_name = "GATEWAY")]
    pub route: Option<String>,

    /// Export KEY=VALUE to every step (repeatable), e.g. MASTER=10.1.2.100.
    #[arg(short = 'e', long = "env", value_name = "KEY=VALUE")]
    pub env: Vec<String>,

    /// Reach every node through this host, like ssh -J (HOST or HOST:PORT); one connection to it
    /// carries all the nodes' sessions.
    #[arg(short = 'J', long, value_name = "HOST")]
    pub jump: Option<String>,

    /// Nodes in flight at once (xdsh's default; like xdsh, DSH_FANOUT sets it too).
    #[arg(short = 'f', long, env = "DSH_FANOUT", default_value_t = crate::run::DEFAULT_FANOUT, value_name = "N")]
    pub fanout: usize,

    /// Seconds allowed for TCP connect, SSH handshake and authentication, per node.
    #[arg(short = 't', long, default_value_t = 10.0, value_name = "SECONDS")]
    pub connect_timeout: f64,

    /// Seconds allowed for the steps of one node; the node's `timeout` then kills them.
    #[arg(short = 'T', long, default_value_t = 300.0, value_name = "SECONDS")]
    pub command_timeout: f64,

    /// At most this many SSH handshakes (key exchange + authentication) at once; the connect
    /// timeout of a node starts when its handshake does.
    #[arg(long, default_value_t = crate::ssh::DEFAULT_MAX_HANDSHAKES, value_name = "N")]
    pub max_handshakes: usize,

    /// Remote user.
    #[arg(short = 'l', long, default_value = "root")]
    pub user: String,

    /// SSH port for nodes that do not give one.
    #[arg(short = 'p', long, default_value_t = 22)]
    pub port: u16,

    /// Private key to use (repeatable); default: ~/.ssh/id_ed25519, id_ecdsa, id_rsa, then ssh-agent.
    #[arg(short = 'i', long, value_name = "FILE")]
    pub identity: Vec<PathBuf>,

    /// known_hosts file to check against (repeatable); default: ~/.ssh/known_hosts and
    /// /etc/ssh/ssh_known_hosts.
    #[arg(long, value_name = "FILE")]
    pub known_hosts: Vec<PathBuf>,

    /// Host-key policy: strict (the key must be known), accept-new (record unknown keys, refuse
    /// changed ones), off (no check, as xCAT's StrictHostKeyChecking=no; prints a warning).
    #[arg(long, value_enum, default_value_t = HostKeyPolicy::Strict, value_name = "POLICY")]
    pub host_key_check: HostKeyPolicy,

    /// Where postscripts are read from.
    #[arg(long, default_value = DEFAULT_POSTSCRIPTS_DIR, value_name = "DIR")]
    pub postscripts_dir: PathBuf,

    /// Use the shipped syslog and setupntp: fallback (when the directory has none), prefer, never.
    #[arg(long, value_enum, default_value_t = Builtins::Fallback, value_name = "WHEN")]
    pub builtins: Builtins,

    /// Prefix of every node-side file path the steps write (`{node}` = node name); for tests.
    #[arg(
        long,
        default_value = "",
        value_name = "PREFIX",
        hide_default_value = true
    )]
    pub node_root: String,

    /// Write the JSON report to FILE.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,

    /// Run again only the nodes that did not succeed in this JSON report (--json of an
    /// earlier run): those of the given nodes, or, when no NODE, --hosts or --jobs is given,
    /// all of them, reached as that run reached them. The steps come from the other options.
    #[arg(long, value_name = "REPORT")]
    pub retry_failed: Option<PathBuf>,

    /// Do not stream output lines; print only the gathered output and the summary.
    #[arg(short = 'q', long)]
    pub quiet: bool,

    /// Do not print the gathered output at the end (only the summary).
    #[arg(long)]
    pub no_gather: bool,

    /// No progress line (it is only shown when stderr is a terminal anyway).
    #[arg(long)]
    pub no_progress: bool,

    /// Print a man page or shell completions and exit.
    #[arg(long, value_enum, value_name = "WHAT")]
    pub generate: Option<Generate>,
}

/// Writes the man page or completions to stdout.
pub fn generate(what: Generate) -> std::io::Result<()> {
    use clap::CommandFactory;
    let mut cmd = Args::command();
    let mut out = std::io::stdout().lock();
    match what {
        Generate::Man => clap_mangen::Man::new(cmd).render(&mut out)?,
        Generate::CompleteBash => {
            clap_complete::generate(clap_complete::Shell::Bash, &mut cmd, "psrun", &mut out)
        }
        Generate::CompleteZsh => {
            clap_complete::generate(clap_complete::Shell::Zsh, &mut cmd, "psrun", &mut out)
        }
        Generate::CompleteFish => {
            clap_complete::generate(clap_complete::Shell::Fish, &mut cmd, "psrun", &mut out)
        }
    }
    out.flush()
}

fn split_port(s: &str) -> Result<(String, Option<u16>), String> {
    // [IPv6]:PORT, and [IPv6] alone
    if let Some(rest) = s.strip_prefix('[') {
        if let Some((h, tail)) = rest.split_once(']') {
            return match tail.strip_prefix(':') {
                Some(p) => p
                    .parse()
                    .map(|port| (h.to_string(), Some(port)))
                    .map_err(|_| format!("{s}: {p:?} is not a port number")),
                None if tail.is_empty() => Ok((h.to_string(), None)),
                None => Err(format!("{s}: expected [ADDRESS]:PORT")),
            };
        }
    }
    match s.rsplit_once(':') {
        Some((h, p)) if !h.contains(':') => {
            let port = p
                .parse()
                .map_err(|_| format!("{s}: {p:?} is not a port number"))?;
            Ok((h.to_string(), Some(port)))
        }
        _ => Ok((s.to_string(), None)),
    }
}

fn jump_host(s: &str) -> Result<JumpHost, String> {
    let (h, port) = split_port(s)?;
    if h.is_empty() {
        return Err(format!("jump host {s:?}: no host name"));
    }
    Ok(JumpHost {
        name: h.clone(),
        address: h,
        port,
    })
}

/// Builds the jobs from the arguments (no node is contacted). With `retry`, the report of
/// `--retry-failed`, and no node given (no NODE, `--hosts` or `--jobs`), the nodes are the
/// report's nodes that did not succeed, reached as that run reached them.
pub fn jobs_from_args(a: &Args, retry: Option<&Report>) -> Result<Vec<NodeJob>, String> {
    let mut jobs: Vec<NodeJob> = Vec::new();
    if let Some(f) = &a.jobs {
        let text =
            std::fs::read_to_string(f).map_err(|e| format!("cannot read {}: {e}", f.display()))?;
        jobs = serde_json::from_str(&text).map_err(|e| format!("{}: {e}", f.display()))?;
    }
    let global_jump = a.jump.as_deref().map(jump_host).transpose()?;
    let mut add = |name: &str, addr: Option<&str>, jump: Option<JumpHost>| -> Result<(), String> {
        if name.is_empty() {
            return Err("empty node name".into());
        }
        let (address, port) = match addr {
            Some(a) => split_port(a)?,
            None => (name.to_string(), None),
        };
        let mut j = NodeJob::new(name, address);
        j.port = port;
        j.jump = jump.or_else(|| global_jump.clone());
        jobs.push(j);
        Ok(())
    };
    if let Some(f) = &a.hosts {
        let text =
            std::fs::read_to_string(f).map_err(|e| format!("cannot read {}: {e}", f.display()))?;
        for (i, line) in text.lines().enumerate() {
            let line = line.split('#').next().unwrap_or("");
            let w: Vec<&str> = line.split_whitespace().collect();
            if w.is_empty() {
                continue;
            }
            if w.len() > 3 {
                return Err(format!(
                    "{}:{}: expected `NAME [ADDRESS [JUMPHOST]]`, found {} words",
                    f.display(),
                    i + 1,
                    w.len()
                ));
            }
            let jump = w
                .get(2)
                .map(|j| jump_host(j))
                .transpose()
                .map_err(|e| format!("{}:{}: {e}", f.display(), i + 1))?;
            add(w[0], w.get(1).copied(), jump)
                .map_err(|e| format!("{}:{}: {e}", f.display(), i + 1))?;
        }
    }
    for n in &a.nodes {
        match n.split_once('=') {
            Some((name, addr)) => add(name, Some(addr), None)?,
            None => add(n, None, None)?,
        }
    }
    if let Some(report) =
        retry.filter(|_| a.nodes.is_empty() && a.hosts.is_none() && a.jobs.is_none())
    {
        jobs.extend(
            report
                .nodes
                .iter()
                .filter(|n| n.status != Status::Ok)
                .map(NodeResult::to_job)
                .chain(report.not_run.iter().map(crate::report::NotRun::to_job)),
        );
    }
    let mut env = Vec::new();
    for kv in &a.env {
        let (k, v) = kv
            .split_once('=')
            .ok_or_else(|| format!("--env {kv:?}: expected KEY=VALUE"))?;
        env.push((k.to_string(), v.to_string()));
    }
    let mut steps = Vec::new();
    if let Some(server) = &a.xcatinfo {
        steps.push(Step::Xcatinfo {
            server: server.clone(),
            servicegroup: a.servicegroup.clone(),
            httpport: None,
        });
    }
    if let Some(gw) = &a.route {
        steps.push(Step::DefaultRoute {
            gateway: gw.clone(),
        });
    }
    if let Some(p) = &a.postscripts {
        steps.extend(postscript_steps(p));
    }
    if let Some(c) = &a.command {
        steps.push(Step::Command {
            label: "command".into(),
            command: c.clone(),
        });
    }
    for j in &mut jobs {
        for (k, v) in &env {
            j.env.insert(k.clone(), v.clone());
        }
        j.steps.extend(steps.iter().cloned());
    }
    if jobs.is_empty() {
        if let (Some(r), Some(p)) = (retry, &a.retry_failed) {
            if r.all_ok() {
                return Ok(jobs); // nothing to retry
            }
            return Err(format!("{}: no node to retry in this report", p.display()));
        }
        return Err("no nodes: give NODE arguments, --hosts FILE or --jobs FILE".into());
    }
    if jobs.iter().any(|j| j.steps.is_empty()) {
        return Err("nothing to run: give --command, --postscripts, --xcatinfo or --route (or steps in --jobs)".into());
    }
    Ok(jobs)
}

fn secs(v: f64, what: &str) -> Result<Duration, String> {
    if v.is_finite() && v > 0.0 && v < 1e9 {
        Ok(Duration::from_secs_f64(v))
    } else {
        Err(format!(
            "--{what} {v}: expected a positive number of seconds"
        ))
    }
}

/// Runs `psrun`; returns the exit status.
pub fn main_with(a: Args) -> i32 {
    if let Some(g) = a.generate {
        return match generate(g) {
            Ok(()) => 0,
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => 0, // `| head`
            Err(e) => {
                errln!("psrun: {e}");
                2
            }
        };
    }
    match run_cli(a) {
        Ok(code) => code,
        Err(e) => {
            errln!("psrun: {e}");
            2
        }
    }
}

/// The `--json` file: a temporary file beside it is created before any node is contacted
/// (so a path that cannot be written is refused up front, exit 2), and renamed over it once
/// the report is complete (an interrupted run never leaves a half-written report).
struct JsonOut {
    path: PathBuf,
    tmp: PathBuf,
}

impl JsonOut {
    fn create(path: &std::path::Path) -> Result<JsonOut, String> {
        let name = path
            .file_name()
            .ok_or_else(|| format!("--json {}: not a file name", path.display()))?;
        let mut tmp_name = std::ffi::OsString::from(".");
        tmp_name.push(name);
        tmp_name.push(format!(".psrun-{}.tmp", std::process::id()));
        let tmp = path.with_file_name(tmp_name);
        std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true) // a leftover of a killed run with the same pid is reused
            .open(&tmp)
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        Ok(JsonOut {
            path: path.to_path_buf(),
            tmp,
        })
    }

    fn commit(&self, text: &str) -> Result<(), String> {
        std::fs::write(&self.tmp, text)
            .and_then(|()| std::fs::rename(&self.tmp, &self.path))
            .map_err(|e| format!("cannot write {}: {e}", self.path.display()))
    }
}

impl Drop for JsonOut {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.tmp); // gone already after a commit
    }
}

fn run_cli(a: Args) -> Result<i32, String> {
    let retry = match &a.retry_failed {
        Some(r) => Some(Report::load(r).map_err(|e| e.to_string())?),
        None => None,
    };
    let mut jobs = jobs_from_args(&a, retry.as_ref())?;
    crate::run::validate_jobs(&jobs).map_err(|e| e.to_string())?;
    // a mistyped or unreadable postscript is refused before any node is contacted (the
    // library would fail that step on every node)
    let scripts = crate::script::ScriptSet::load(&a.postscripts_dir, a.builtins, &jobs);
    if let Some((_, why)) = scripts.errors().first() {
        return Err(why.to_string());
    }
    if let (Some(report), Some(r)) = (&retry, &a.retry_failed) {
        let given = jobs.len();
        let known: std::collections::HashSet<&str> = report
            .nodes
            .iter()
            .map(|n| n.name.as_str())
            .chain(report.not_run.iter().map(|n| n.name.as_str()))
            .collect();
        let unknown = jobs
            .iter()
            .filter(|j| !known.contains(j.name.as_str()))
            .count();
        jobs = retry_jobs(jobs, report);
        if unknown > 0 {
            errln!(
                "psrun: {unknown} of the {given} given node(s) are not in {}: not run",
                r.display()
            );
        }
        if jobs.is_empty() {
            if report.all_ok() {
                outln!("every node succeeded in {}: nothing to retry", r.display());
            } else {
                outln!(
                    "none of the given nodes failed in {}: nothing to retry",
                    r.display()
                );
            }
            return Ok(0);
        }
    }
    let json = a.json.as_deref().map(JsonOut::create).transpose()?;
    let opts = RunOptions {
        fanout: a.fanout,
        connect_timeout: secs(a.connect_timeout, "connect-timeout")?,
        command_timeout: secs(a.command_timeout, "command-timeout")?,
        kill_grace: Duration::from_secs(5),
        port: a.port,
        postscripts_dir: a.postscripts_dir.clone(),
        builtins: a.builtins,
        node_root: a.node_root.clone(),
    };
    let transport = SshTransport::new(SshOptions {
        user: a.user.clone(),
        identities: a.identity.clone(),
        use_agent: true,
        known_hosts: a.known_hosts.clone(),
        known_hosts_write: None,
        host_keys: a.host_key_check,
        max_handshakes: a.max_handshakes,
    })
    .map_err(|e| e.to_string())?;
    if a.host_key_check == HostKeyPolicy::Off {
        errln!("psrun: warning: host-key checking is off: any host can impersonate the nodes");
    }
    let mut console = Console::new(!a.no_progress);
    if a.quiet {
        console = console.without_output();
    }
    interrupt::install();
    let obs = interrupt::Interruptible(&console);
    let report = run(&jobs, &transport, &opts, &obs).map_err(|e| e.to_string())?;
    console.finish();
    let mut out = std::io::stdout().lock();
    if !a.no_gather {
        let _ = out.write_all(report.render_gathered().as_bytes());
    }
    let _ = out.write_all(report.render_summary().as_bytes());
    let _ = out.flush();
    let code = if !report.not_run.is_empty() {
        130 // interrupted, as a shell reports SIGINT
    } else if report.all_ok() {
        0
    } else {
        1
    };
    if let Some(j) = &json {
        if let Err(e) = j.commit(&report.to_json()) {
            // the nodes did run: not a bad-input exit, but not a success either
            errln!("psrun: {e}");
            return Ok(1);
        }
    }
    Ok(code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_with_ports() {
        assert_eq!(split_port("h:22"), Ok(("h".into(), Some(22))));
        assert_eq!(split_port("10.0.0.1"), Ok(("10.0.0.1".into(), None)));
        assert_eq!(split_port("fe80::1"), Ok(("fe80::1".into(), None)));
        assert_eq!(
            split_port("[fe80::1]:2222"),
            Ok(("fe80::1".into(), Some(2222)))
        );
        assert_eq!(split_port("[::1]"), Ok(("::1".into(), None)));
        assert!(split_port("[::1]:x").is_err());
        assert!(split_port("[::1]x").is_err());
        assert!(split_port("h:99999").is_err());
        let a = Args::try_parse_from(["psrun", "cn1=[::1]:2222", "-c", "true"]).unwrap();
        let jobs = jobs_from_args(&a, None).unwrap();
        assert_eq!(
            (jobs[0].address.as_str(), jobs[0].port),
            ("::1", Some(2222))
        );
    }
}
