//! Running xCAT's own commands after the database commit (`makeconservercf`, `nodeset`, and
//! `xdsh`/`updatenode` when they carry the node-side steps). A command is run where xCAT is
//! installed — the first executable found in `PATH`, then `/opt/xcat/sbin`, then
//! `/opt/xcat/bin` — with stdout and stderr merged in order, as xCAT relays a sub-command's
//! output. Where it is not installed, the caller reports the exact command line the
//! administrator still has to run.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The longest node list passed as one argument (Linux refuses single arguments over 128 KiB);
/// longer lists are split over several runs of the same command.
pub const MAX_NODE_ARG: usize = 100_000;

/// What happened to one command.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "status", rename_all = "kebab-case")]
pub enum Outcome {
    /// It ran; its exit status and output lines (stdout and stderr, merged).
    Ran {
        /// Whether it exited 0.
        ok: bool,
        /// Its exit code (`None`: killed by a signal).
        code: Option<i32>,
        /// Its output, line by line.
        lines: Vec<String>,
    },
    /// The command is not installed here.
    NotInstalled,
    /// It could not be started.
    Failed {
        /// Why.
        error: String,
    },
}

impl Outcome {
    /// Whether the command ran and succeeded.
    pub fn ok(&self) -> bool {
        matches!(self, Outcome::Ran { ok: true, .. })
    }

    /// The output lines (none if it did not run).
    pub fn lines(&self) -> &[String] {
        match self {
            Outcome::Ran { lines, .. } => lines,
            _ => &[],
        }
    }
}

/// Finds an xCAT command: `PATH` first, then `/opt/xcat/sbin`, then `/opt/xcat/bin`.
///
/// ```
/// let sh = snmove::followup::find_command("sh", Some(std::ffi::OsStr::new("/bin:/usr/bin")));
/// assert!(sh.is_some());
/// assert!(snmove::followup::find_command("no-such-command-here", Some(std::ffi::OsStr::new("/nonexistent"))).is_none());
/// ```
pub fn find_command(name: &str, path: Option<&OsStr>) -> Option<PathBuf> {
    let mut dirs: Vec<PathBuf> = path
        .map(|p| std::env::split_paths(p).collect())
        .unwrap_or_default();
    dirs.push("/opt/xcat/sbin".into());
    dirs.push("/opt/xcat/bin".into());
    dirs.into_iter()
        .filter(|d| !d.as_os_str().is_empty())
        .map(|d| d.join(name))
        .find(|p| is_executable(p) && !is_foreign(name, p))
}

/// Whether `p` is another tool's command of the same name: ClusterShell's `nodeset` (a node
/// set tool often installed beside xCAT) is recognized by its text.
fn is_foreign(name: &str, p: &Path) -> bool {
    if name != "nodeset" {
        return false;
    }
    let mut head = vec![0u8; 4096];
    let n = std::fs::File::open(p)
        .and_then(|mut f| std::io::Read::read(&mut f, &mut head))
        .unwrap_or(0);
    String::from_utf8_lossy(&head[..n]).contains("ClusterShell")
}

fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p)
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

/// Runs `name args…` if the command is installed, collecting its merged output.
pub fn run(name: &str, args: &[String]) -> Outcome {
    let Some(prog) = find_command(name, std::env::var_os("PATH").as_deref()) else {
        return Outcome::NotInstalled;
    };
    run_program(&prog, args)
}

/// Runs a program with its stderr sent to its stdout (through `/bin/sh`, `exec prog "$@" 2>&1`),
/// so the two keep their relative order as xCAT relays them.
pub fn run_program(prog: &Path, args: &[String]) -> Outcome {
    if !is_executable(prog) {
        return Outcome::Failed {
            error: format!("cannot run {}: not an executable file", prog.display()),
        };
    }
    let out = Command::new("/bin/sh")
        .arg("-c")
        .arg("exec \"$0\" \"$@\" 2>&1")
        .arg(prog)
        .args(args)
        .stdin(Stdio::null())
        .output();
    let out = match out {
        Ok(o) => o,
        Err(e) => {
            return Outcome::Failed {
                error: format!("cannot run {}: {e}", prog.display()),
            }
        }
    };
    let text = String::from_utf8_lossy(&out.stdout);
    Outcome::Ran {
        ok: out.status.success(),
        code: out.status.code(),
        lines: text.lines().map(str::to_string).collect(),
    }
}

/// Splits a node list into comma-joined chunks of at most [`MAX_NODE_ARG`] bytes.
///
/// ```
/// let nodes: Vec<String> = (0..3).map(|i| format!("cn{i}")).collect();
/// assert_eq!(snmove::followup::node_chunks(&nodes), ["cn0,cn1,cn2"]);
/// ```
pub fn node_chunks(nodes: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    for n in nodes {
        if !cur.is_empty() && cur.len() + 1 + n.len() > MAX_NODE_ARG {
            out.push(std::mem::take(&mut cur));
        }
        if !cur.is_empty() {
            cur.push(',');
        }
        cur.push_str(n);
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// A command line as an administrator would type it (arguments with spaces quoted).
pub fn command_line(name: &str, args: &[String]) -> String {
    let mut s = name.to_string();
    for a in args {
        s.push(' ');
        if a.is_empty()
            || a.contains(|c: char| c.is_whitespace() || "'\"$`\\|&;<>()*?[]{}!#~".contains(c))
        {
            s.push('\'');
            s.push_str(&a.replace('\'', r"'\''"));
            s.push('\'');
        } else {
            s.push_str(a);
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merged_output_keeps_order_and_status() {
        let out = run_program(
            Path::new("/bin/sh"),
            &["-c".into(), "echo a; echo b >&2; echo c; exit 3".into()],
        );
        assert_eq!(
            out,
            Outcome::Ran {
                ok: false,
                code: Some(3),
                lines: vec!["a".into(), "b".into(), "c".into()]
            }
        );
        assert!(matches!(
            run_program(Path::new("/nonexistent/x"), &[]),
            Outcome::Failed { .. }
        ));
    }

    #[test]
    fn chunks_respect_the_argument_limit() {
        let nodes: Vec<String> = (0..60_000).map(|i| format!("node{i:05}")).collect();
        let chunks = node_chunks(&nodes);
        assert!(chunks.len() > 1);
        assert!(chunks.iter().all(|c| c.len() <= MAX_NODE_ARG));
        assert_eq!(chunks.join(",").split(',').count(), nodes.len());
    }

    #[test]
    fn quoting() {
        assert_eq!(
            command_line(
                "updatenode",
                &["cn1,cn2".into(), "-P".into(), "syslog,setupntp".into()]
            ),
            "updatenode cn1,cn2 -P syslog,setupntp"
        );
        assert_eq!(
            command_line(
                "xdsh",
                &["cn1".into(), "route add default gw 10.0.0.1".into()]
            ),
            "xdsh cn1 'route add default gw 10.0.0.1'"
        );
    }
}
