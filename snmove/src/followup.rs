//! The xCAT commands a move runs after the database commit (spec §10.5, §10.9): `makeconservercf`
//! for the nodes whose conserver changed, and `nodeset` per provisioning method. They run where
//! xCAT is installed (`PATH`, then `/opt/xcat/sbin`, then `/opt/xcat/bin`); elsewhere the exact
//! command lines the administrator still has to run are reported.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::plan::Plan;

/// One follow-up command.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FollowUp {
    /// Program name (`makeconservercf`, `nodeset`).
    pub program: String,
    /// Its arguments.
    pub args: Vec<String>,
}

impl FollowUp {
    /// The command line as an administrator would type it.
    pub fn command_line(&self) -> String {
        let mut s = self.program.clone();
        for a in &self.args {
            s.push(' ');
            s.push_str(a);
        }
        s
    }
}

/// What happened to a follow-up.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub enum FollowUpResult {
    /// Ran and succeeded; its output.
    Ok {
        /// stdout and stderr.
        output: String,
    },
    /// Ran and failed.
    Failed {
        /// Exit code, if any.
        code: Option<i32>,
        /// stdout and stderr.
        output: String,
    },
    /// xCAT is not installed here: the administrator must run it.
    NotInstalled,
}

/// The follow-ups of a plan, in xCAT's order (makeconservercf, then nodeset per method).
pub fn follow_ups(plan: &Plan) -> Vec<FollowUp> {
    let mut v = Vec::new();
    if !plan.conserver_nodes.is_empty() {
        v.push(FollowUp {
            program: "makeconservercf".into(),
            args: vec![plan.conserver_nodes.join(",")],
        });
    }
    for (arg, nodes) in &plan.nodeset {
        v.push(FollowUp {
            program: "nodeset".into(),
            args: vec![nodes.join(","), arg.clone()],
        });
    }
    v
}

/// Finds an xCAT command: `PATH` first, then `/opt/xcat/sbin`, then `/opt/xcat/bin`.
pub fn find_command(name: &str, path: Option<&std::ffi::OsStr>) -> Option<PathBuf> {
    let mut dirs: Vec<PathBuf> = path.map(|p| std::env::split_paths(p).collect()).unwrap_or_default();
    dirs.push("/opt/xcat/sbin".into());
    dirs.push("/opt/xcat/bin".into());
    dirs.into_iter().map(|d| d.join(name)).find(|p| is_executable(p))
}

fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0).unwrap_or(false)
}

/// Runs one follow-up if the command is installed.
pub fn run(f: &FollowUp) -> FollowUpResult {
    let Some(prog) = find_command(&f.program, std::env::var_os("PATH").as_deref()) else {
        return FollowUpResult::NotInstalled;
    };
    match Command::new(&prog).args(&f.args).stdin(std::process::Stdio::null()).output() {
        Ok(o) => {
            let mut output = String::from_utf8_lossy(&o.stdout).into_owned();
            output.push_str(&String::from_utf8_lossy(&o.stderr));
            if o.status.success() {
                FollowUpResult::Ok { output }
            } else {
                FollowUpResult::Failed { code: o.status.code(), output }
            }
        }
        Err(e) => FollowUpResult::Failed {
            code: None,
            output: format!("cannot run {}: {e}", prog.display()),
        },
    }
}
