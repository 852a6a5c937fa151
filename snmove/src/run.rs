//! The `snmove` command: ties the command line, the store, the plan, the journal, the commit
//! and the follow-ups together, and prints what xCAT prints.

use std::ffi::OsString;
use std::io::Write;
use std::path::PathBuf;

use xcattab::store::{self, Store, StoreError};

use crate::addr::{AddressBook, Getaddrinfo};
use crate::cli::{self, Action, MoveArgs, USAGE};
use crate::followup::{self, FollowUpResult};
use crate::journal::Journal;
use crate::plan::{self, Expander, PlanError, SnInterfaces};
use crate::render;

/// Exit status: everything done.
pub const EXIT_OK: u8 = 0;
/// Exit status: nothing changed (usage, validation or store error).
pub const EXIT_NOTHING_CHANGED: u8 = 1;
/// Exit status: the database moved but some follow-up or node-side step failed.
pub const EXIT_PARTIAL: u8 = 2;

/// Where the command writes: stdout for information, stderr for errors, as xCAT's client.
pub struct Console<'a> {
    out: &'a mut dyn Write,
    err: &'a mut dyn Write,
    host: String,
    verbose: bool,
}

impl<'a> Console<'a> {
    /// A console with xCAT's `[host]` stamp on error lines.
    pub fn new(out: &'a mut dyn Write, err: &'a mut dyn Write, host: String) -> Self {
        Console { out, err, host, verbose: false }
    }

    /// An information line (with `[host]: ` under `-V`, as xCAT's client prints it).
    pub fn info(&mut self, text: &str) {
        let _ = if self.verbose {
            writeln!(self.out, "[{}]: {text}", self.host)
        } else {
            writeln!(self.out, "{text}")
        };
    }

    /// An error line: `Error: [host]: text` on stderr.
    pub fn error(&mut self, text: &str) {
        let _ = writeln!(self.err, "Error: [{}]: {text}", self.host);
    }

    /// A warning line on stderr.
    pub fn warning(&mut self, text: &str) {
        let _ = writeln!(self.err, "Warning: [{}]: {text}", self.host);
    }

    /// Raw text on stdout.
    pub fn raw(&mut self, text: &str) {
        let _ = self.out.write_all(text.as_bytes());
    }
}

/// The short host name, as xcatd stamps its responses.
pub fn short_hostname() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: gethostname writes at most buf.len() bytes into buf.
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
    if rc != 0 {
        return "localhost".into();
    }
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    let name = String::from_utf8_lossy(&buf[..end]).into_owned();
    name.split('.').next().unwrap_or("localhost").to_string()
}

/// Everything the command needs from its surroundings, replaceable in tests.
pub struct Env<'a> {
    /// Expands noderanges over the loaded tables.
    pub expand: &'a dyn Fn(&xcattab::Database, &str) -> Result<(Vec<String>, Vec<String>), String>,
    /// Folds node lists for display.
    pub fold: &'a dyn Fn(&[String]) -> String,
    /// Reads a destination SN's addresses.
    pub sn_interfaces: &'a dyn SnInterfaces,
}

/// Runs `snmove` with `argv` and returns the exit status.
pub fn main_with(argv: Vec<OsString>, console: &mut Console<'_>, env: &Env<'_>) -> u8 {
    let action = match cli::parse(argv) {
        Ok(a) => a,
        Err(e) => {
            console.error(&e.to_string());
            if e.with_usage() {
                console.raw(USAGE);
            }
            return EXIT_NOTHING_CHANGED;
        }
    };
    match action {
        Action::Usage => {
            console.raw(USAGE);
            EXIT_OK
        }
        Action::Help => {
            use clap::CommandFactory;
            console.raw(&cli::Args::command().render_long_help().to_string());
            EXIT_OK
        }
        Action::Version => {
            console.info(&xcattab::cli::version());
            EXIT_OK
        }
        Action::Undo { journal, db } => undo(&journal, db.as_deref(), console),
        Action::Move(m) => run_move(m, console, env),
    }
}

fn open_store(db: Option<&str>, console: &mut Console<'_>) -> Option<Box<dyn Store>> {
    match store::open_selected(db) {
        Ok((s, _)) => Some(s),
        Err(e) => {
            console.error(&e.to_string());
            None
        }
    }
}

fn journal_dir(store: &dyn Store, given: Option<PathBuf>) -> PathBuf {
    given.unwrap_or_else(|| match store.spec() {
        store::StoreSpec::Csv(d) => d.join(".snmove"),
        _ => PathBuf::from("/var/lib/snmove"),
    })
}

fn run_move(m: MoveArgs, console: &mut Console<'_>, env: &Env<'_>) -> u8 {
    console.verbose = m.verbose;
    let Some(store) = open_store(m.db.as_deref(), console) else {
        return EXIT_NOTHING_CHANGED;
    };
    if !m.liteonly {
        console.info("Moving nodes to their backup service nodes.\n");
    }
    let jdir = journal_dir(store.as_ref(), m.journal_dir.clone());
    let _move_lock = if m.dry_run {
        None
    } else {
        match crate::lock::MoveLock::acquire(&jdir) {
            Ok(l) => Some(l),
            Err(e) => {
                console.error(&e.to_string());
                return EXIT_NOTHING_CHANGED;
            }
        }
    };
    let db = match store.load(plan::TABLES) {
        Ok(db) => db,
        Err(e) => {
            console.error(&e.to_string());
            return EXIT_NOTHING_CHANGED;
        }
    };
    let resolver = xcattab::resolve::Resolver::new(&db);
    let names = AddressBook::new(&resolver, Getaddrinfo);
    let expand: &Expander<'_> = &|nr: &str| (env.expand)(&db, nr);
    let plan = match plan::plan(&db, &m, expand, &names, env.sn_interfaces) {
        Ok(p) => p,
        Err(PlanError { info, lines }) => {
            for i in info {
                console.info(&i);
            }
            for l in lines {
                console.error(&l);
            }
            return EXIT_NOTHING_CHANGED;
        }
    };
    if m.dry_run {
        if m.json {
            console.raw(&render::dry_run_json(&plan));
            console.raw("\n");
        } else {
            console.raw(&render::dry_run_text(&plan, env.fold));
        }
        return EXIT_OK;
    }
    for msg in &plan.messages {
        if msg.warning {
            console.warning(&msg.text);
        } else {
            console.info(&msg.text);
        }
    }
    let command: Vec<String> = std::env::args().collect();
    let journal = match Journal::of(&db, &plan.batch, &store.spec().to_string(), command) {
        Ok(j) => j,
        Err(e) => {
            console.error(&e.to_string());
            return EXIT_NOTHING_CHANGED;
        }
    };
    let jpath = match journal.write(&jdir) {
        Ok(p) => p,
        Err(e) => {
            console.error(&e.to_string());
            return EXIT_NOTHING_CHANGED;
        }
    };
    console.info("Setting new values in the xCAT database.\n");
    if let Err(e) = store.commit(&plan.batch) {
        console.error(&format!("Could not update xCAT node definitions: {e}"));
        if matches!(e, StoreError::Batch(_)) {
            console.error("Nothing was written; run snmove again to plan from the current tables.");
        }
        let _ = std::fs::remove_file(&jpath);
        return EXIT_NOTHING_CHANGED;
    }
    let mut status = EXIT_OK;
    for f in followup::follow_ups(&plan) {
        if f.program == "makeconservercf" {
            console.info(&format!("Running makeconservercf {}", f.args.join(" ")));
        }
        match followup::run(&f) {
            FollowUpResult::Ok { output } => {
                for l in output.lines() {
                    console.info(l);
                }
            }
            FollowUpResult::Failed { output, .. } => {
                console.error(&format!("Command failed: {}. Error message: {}.", f.command_line(), output.trim_end()));
                status = EXIT_PARTIAL;
            }
            FollowUpResult::NotInstalled => {
                console.warning(&format!("{} is not installed here; run it yourself: {}", f.program, f.command_line()));
            }
        }
    }
    if !m.ignorenodes {
        console.warning("The node-side steps (xcatinfo, default route, postscripts) are not run by this version; run `updatenode <nodes> -s` and `updatenode <nodes> -P syslog` yourself.");
    }
    summary(&plan, env.fold, console);
    console.info(&format!("Journal: {} (undo with: snmove --undo {})", jpath.display(), jpath.display()));
    status
}

fn summary(plan: &plan::Plan, fold: &dyn Fn(&[String]) -> String, console: &mut Console<'_>) {
    let mut pairs: std::collections::BTreeMap<(&str, &str), Vec<String>> = Default::default();
    for n in &plan.nodes {
        pairs.entry((n.old_sn.as_str(), n.new_sn.as_str())).or_default().push(n.node.clone());
    }
    for ((from, to), nodes) in pairs {
        console.info(&format!("Moved {} node(s) from {from} to {to}: {}", nodes.len(), fold(&nodes)));
    }
}

/// `snmove --undo JOURNAL`.
pub fn undo(path: &std::path::Path, db: Option<&str>, console: &mut Console<'_>) -> u8 {
    let journal = match Journal::read(path) {
        Ok(j) => j,
        Err(e) => {
            console.error(&e.to_string());
            return EXIT_NOTHING_CHANGED;
        }
    };
    let Some(store) = open_store(db, console) else {
        return EXIT_NOTHING_CHANGED;
    };
    if store.spec().to_string() != journal.store {
        console.error(&format!("{} was written for {}, not {}", path.display(), journal.store, store.spec()));
        return EXIT_NOTHING_CHANGED;
    }
    match store.commit(&journal.undo_batch()) {
        Ok(c) => {
            console.info(&format!("Restored {} row(s) from {}.", journal.before.len(), path.display()));
            let _ = c;
            EXIT_OK
        }
        Err(e) => {
            console.error(&format!("Cannot undo {}: {e}", path.display()));
            EXIT_NOTHING_CHANGED
        }
    }
}
