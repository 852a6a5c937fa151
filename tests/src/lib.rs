//! Helpers shared by the end-to-end tests: running the `snmove` command in-process on a store,
//! with recording stand-ins for xCAT's commands, and dumping a store's tables.
//!
//! The command's PATH is process-wide, so runs are serialized with [`Runner`]'s lock.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use snmove::run::{main_with, Context};

static LOCK: Mutex<()> = Mutex::new(());

/// Stand-ins for `makeconservercf` and `nodeset` that record their arguments.
const STANDIN: &str =
    "#!/bin/sh\nprintf '%s %s\\n' \"$(basename \"$0\")\" \"$*\" >> \"$STANDIN/calls\"\n";

/// What a run printed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Output {
    /// Exit status.
    pub code: u8,
    /// stdout.
    pub stdout: String,
    /// stderr.
    pub stderr: String,
}

/// Runs `snmove` in this process with stand-ins on PATH (one run at a time).
pub struct Runner {
    /// Temporary directory: stand-ins, their record, journals.
    pub dir: tempfile::TempDir,
}

impl Default for Runner {
    fn default() -> Self {
        Self::new()
    }
}

impl Runner {
    /// Creates the stand-ins.
    pub fn new() -> Runner {
        let dir = tempfile::tempdir().expect("tempdir");
        let bin = dir.path().join("bin");
        std::fs::create_dir_all(&bin).expect("bin dir");
        for cmd in ["makeconservercf", "nodeset"] {
            let p = bin.join(cmd);
            std::fs::write(&p, STANDIN).expect("stand-in");
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        }
        Runner { dir }
    }

    /// The journal directory.
    pub fn journals(&self) -> PathBuf {
        self.dir.path().join("journals")
    }

    /// The stand-in calls so far.
    pub fn calls(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("calls")).unwrap_or_default()
    }

    /// Runs `snmove --db SPEC --journal-dir … ARGS`.
    pub fn run(&self, spec: &str, args: &[&str]) -> Output {
        let _guard: MutexGuard<'_, ()> = LOCK.lock().unwrap_or_else(|e| e.into_inner());
        std::env::set_var(
            "PATH",
            format!("{}:/usr/bin:/bin", self.dir.path().join("bin").display()),
        );
        std::env::set_var("STANDIN", self.dir.path());
        let mut argv: Vec<String> = vec![
            "--db".into(),
            spec.into(),
            "--journal-dir".into(),
            self.journals().display().to_string(),
        ];
        argv.extend(args.iter().map(|s| s.to_string()));
        let ctx = Context {
            expander: &snmove::select::NoderangeExpander,
            fold: &snmove::select::fold,
            probe: None,
            system: &snmove::addr::NoSystem,
            node_side: None,
            host: "mn".into(),
            exit_after: false,
        };
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let code = main_with(&argv, &ctx, &mut out, &mut err);
        Output {
            code,
            stdout: String::from_utf8_lossy(&out).into_owned(),
            stderr: String::from_utf8_lossy(&err).into_owned(),
        }
    }

    /// The journal a move printed.
    pub fn journal_of(out: &Output) -> Option<String> {
        out.stdout
            .lines()
            .find_map(|l| l.strip_prefix("Journal: "))
            .and_then(|l| l.split(" (undo").next())
            .map(str::to_string)
    }

    /// Output with the temporary directory and the journal's time and pid hidden.
    pub fn redact(&self, text: &str) -> String {
        let t = text.replace(&self.dir.path().display().to_string(), "[TMP]");
        let mut out = String::with_capacity(t.len());
        let mut rest = t.as_str();
        while let Some(i) = rest.find("snmove-") {
            out.push_str(&rest[..i]);
            let tail = &rest[i + 7..];
            let end = tail.find(".json").unwrap_or(0);
            if end > 0 && tail[..end].chars().all(|c| c.is_ascii_digit() || c == '-') {
                out.push_str("snmove-[TIME]-[PID]");
                rest = &tail[end..];
            } else {
                out.push_str("snmove-");
                rest = tail;
            }
        }
        out.push_str(rest);
        out
    }
}

/// Every table of a store, as `tabdump` prints it, by name.
pub fn dump_all(spec: &str) -> Vec<(String, String)> {
    let store = xcattab::store::open(&spec.parse().expect("store spec")).expect("store opens");
    let names = store.list_tables().expect("tables");
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let db = store.load(&refs).expect("tables load");
    db.tables()
        .filter(|t| !t.is_empty())
        .map(|t| (t.name().to_string(), xcattab::csv::dump(t)))
        .collect()
}

/// The fixtures directory of the workspace.
pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("fixtures")
        .join(name)
}
