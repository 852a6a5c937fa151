//! The `snmove` command: the command line, the store, the move lock, the plan, the journal and
//! the commit, the follow-ups and the node-side steps, printed the way xCAT prints them, then
//! a closing summary and the journal's path.
//!
//! Exit status: [`EXIT_OK`] when everything was done, [`EXIT_NOTHING_CHANGED`] when nothing was
//! written (usage, validation, store or journal error, concurrent change), [`EXIT_PARTIAL`] when
//! the database moved but a follow-up command or a node-side step failed or could not be run.

use std::io::Write;
use std::path::PathBuf;

use xcattab::store::{self, Store, StoreSpec};

use crate::addr::SystemResolver;
use crate::apply::{self, ApplyError};
use crate::cli::{self, Action, MoveArgs, UndoArgs, UsageError, USAGE_LINES};
use crate::journal::Journal;
use crate::lock::MoveLock;
use crate::nodeside::NodeSide;
use crate::output::{Console, Msg};
use crate::plan::{self, Expander, Probe, Request};
use crate::render;

/// Everything was done.
pub const EXIT_OK: u8 = 0;
/// Nothing was written.
pub const EXIT_NOTHING_CHANGED: u8 = 1;
/// The database moved, but some follow-up or node-side step failed or was not run.
pub const EXIT_PARTIAL: u8 = 2;

/// The command's surroundings: how it expands noderanges, folds node lists, asks service nodes
/// for their addresses, resolves names and runs node-side steps.
pub struct Context<'a> {
    /// Noderange expansion.
    pub expander: &'a dyn Expander,
    /// Node-list folding for display.
    pub fold: &'a dyn Fn(&[String]) -> String,
    /// The service-node probe; `None`: chosen by `--transport`.
    pub probe: Option<&'a dyn Probe>,
    /// The system resolver.
    pub system: &'a dyn SystemResolver,
    /// The node-side steps; `None`: chosen by `--transport`.
    pub node_side: Option<&'a dyn NodeSide>,
    /// The host name stamped on messages.
    pub host: String,
    /// The process exits right after the command: large structures are left for the operating
    /// system to reclaim instead of being freed one by one.
    pub exit_after: bool,
}

/// Runs `snmove` with `args` (without the program name) and returns the exit status.
pub fn main_with(
    args: &[String],
    ctx: &Context<'_>,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> u8 {
    let mut console = Console::new(out, err, ctx.host.clone());
    console.show_server(cli::shows_server(args));
    let status = match cli::parse(args) {
        Err(e) => usage_error(&e, &mut console),
        Ok(Action::Usage) => {
            for l in USAGE_LINES {
                console.data(l);
            }
            EXIT_OK
        }
        Ok(Action::Version) => {
            console.data(version());
            EXIT_OK
        }
        Ok(Action::LongHelp) => {
            console.raw(&cli::long_help());
            EXIT_OK
        }
        Ok(Action::Generate(g)) => {
            let mut buf = Vec::new();
            match cli::generate(g, &mut buf) {
                Ok(()) => {
                    console.raw(&String::from_utf8_lossy(&buf));
                    EXIT_OK
                }
                Err(e) => {
                    console.error(format!("cannot write the generated text: {e}"));
                    EXIT_NOTHING_CHANGED
                }
            }
        }
        Ok(Action::Undo(u)) => undo(&u, args, &mut console),
        Ok(Action::Move(m)) => run_move(&m, args, ctx, &mut console),
    };
    console.flush();
    status
}

/// The version line printed by `-v`.
pub fn version() -> String {
    format!(
        "Version {} (snmove, a Rust reimplementation of xCAT's snmove)",
        env!("CARGO_PKG_VERSION")
    )
}

/// A refused command line: the errors on stderr (Getopt's explanation, or xCAT's message with
/// the blank line its trailing newline makes), then, where xCAT gives it, the usage text on
/// stdout.
fn usage_error(e: &UsageError, console: &mut Console<'_>) -> u8 {
    for x in e.extra_errors() {
        console.error(x);
    }
    if let Some(text) = e.xcat_error() {
        console.error(text);
    }
    if e.with_usage() {
        for l in USAGE_LINES {
            console.data(l);
        }
    }
    EXIT_NOTHING_CHANGED
}

/// Where snmove keeps its journals and its move lock: `--journal-dir`, else `.snmove/` in a
/// CSV store's directory, else `/var/lib/snmove`.
pub fn state_dir(spec: &StoreSpec, given: Option<&std::path::Path>) -> PathBuf {
    match (given, spec) {
        (Some(d), _) => d.to_path_buf(),
        (None, StoreSpec::Csv(d)) => d.join(".snmove"),
        (None, _) => PathBuf::from("/var/lib/snmove"),
    }
}

fn open_store(db: Option<&str>, console: &mut Console<'_>) -> Option<Box<dyn Store>> {
    match store::open_selected(db) {
        Ok((s, _)) => Some(s),
        Err(e) => {
            console.error(e.to_string());
            None
        }
    }
}

fn take_lock(dir: &std::path::Path, console: &mut Console<'_>) -> Option<MoveLock> {
    match MoveLock::acquire(dir) {
        Ok(l) => Some(l),
        Err(e @ (crate::lock::LockError::Io { .. } | crate::lock::LockError::Dir { .. })) => {
            console.error(format!(
                "{e}; nothing was written (--journal-dir chooses another directory)"
            ));
            None
        }
        Err(e) => {
            console.error(format!("{e}; nothing was written"));
            None
        }
    }
}

fn run_move(m: &MoveArgs, args: &[String], ctx: &Context<'_>, console: &mut Console<'_>) -> u8 {
    console.json_mode(m.json);
    let Some(store) = open_store(m.db.as_deref(), console) else {
        return EXIT_NOTHING_CHANGED;
    };
    let state = state_dir(store.spec(), m.journal_dir.as_deref());
    let _lock = if m.dry_run {
        None
    } else {
        match take_lock(&state, console) {
            Some(l) => Some(l),
            None => return EXIT_NOTHING_CHANGED,
        }
    };
    if !m.liteonly && !m.dry_run {
        console.info("Moving nodes to their backup service nodes.\n");
    }
    let t0 = std::time::Instant::now();
    // A noderange may read any table: through an attribute selection or a `^file` (seen in its
    // text), a dynamic group or site.excludenodes (seen in nodegroup and site, which the plan
    // loads anyway).
    let load_all = || {
        store.list_tables().and_then(|mut all| {
            all.extend(plan::TABLES.iter().map(|t| t.to_string()));
            all.sort();
            all.dedup();
            store.load(&all.iter().map(String::as_str).collect::<Vec<_>>())
        })
    };
    let loaded = match m.noderange.as_deref() {
        Some(nr) if crate::select::needs_all_tables(nr) => load_all(),
        Some(_) => match store.load(plan::TABLES) {
            Ok(db) if crate::select::selection_needs_all_tables(&db) => load_all(),
            other => other,
        },
        None => store.load(plan::TABLES),
    };
    let db = match loaded {
        Ok(db) => db,
        Err(e) => {
            console.error(format!("{e}; nothing was written"));
            return EXIT_NOTHING_CHANGED;
        }
    };
    let req = Request::from(m);
    let backend = crate::backend::Backend::choose(&m.remote);
    let probe_box;
    let probe: &dyn Probe = match ctx.probe {
        Some(p) => p,
        None => {
            probe_box = backend.probe();
            &*probe_box
        }
    };
    let env = plan::Env {
        expander: ctx.expander,
        probe,
        system: ctx.system,
        fold: ctx.fold,
    };
    crate::timing("load", t0);
    let t0 = std::time::Instant::now();
    let plan = match plan::plan(&db, &req, &env) {
        Ok(p) => p,
        Err(rej) => {
            console.emit_all(rej.events);
            return EXIT_NOTHING_CHANGED;
        }
    };
    console.emit_all(plan.events.clone());
    if m.verbose {
        for (source, names) in &plan.address_sources {
            console.info(format!("Addresses from {source}: {}", (ctx.fold)(names)));
        }
    }
    if m.dry_run {
        if m.json {
            console.raw(&format!("{:#}\n", render::plan_json(&plan)));
        } else {
            console.raw(&render::dry_run_text(&plan, ctx.fold));
        }
        return EXIT_OK;
    }
    crate::timing("plan", t0);
    console.info("Setting new values in the xCAT database.\n");
    let journal = match apply::commit(
        store.as_ref(),
        &db,
        &plan,
        &state,
        std::iter::once("snmove".to_string())
            .chain(args.iter().cloned())
            .collect(),
    ) {
        Ok(p) => p,
        Err(e) => {
            console.error(e.to_string());
            return EXIT_NOTHING_CHANGED;
        }
    };
    if let Some(trips) = store.round_trips() {
        if std::env::var_os("SNMOVE_TIMING").is_some() {
            eprintln!("snmove timing: database round trips (load + commit) {trips}");
        }
    }
    if ctx.exit_after {
        // The process ends soon: the operating system reclaims the snapshot at once, freeing it
        // piece by piece would cost more than a tenth of a large move.
        std::mem::forget(db);
    } else {
        drop(db);
    }
    let t0 = std::time::Instant::now();
    let follow_ups = apply::run_follow_ups(&plan, console);
    crate::timing("follow-ups", t0);
    let nodes = if m.ignorenodes {
        None
    } else {
        backend.set_report_path(journal.with_extension("nodes.json"));
        Some(
            ctx.node_side
                .unwrap_or_else(|| backend.node_side())
                .run(&plan, console),
        )
    };
    let mut complete = follow_ups.iter().all(|f| f.ok());
    if let Some(r) = &nodes {
        complete &= !render::node_side_incomplete(r);
    }
    let summary = render::summary(&plan, &follow_ups, nodes.as_ref(), ctx.fold);
    let journal_line = format!(
        "Journal: {} (undo with: snmove --undo {})",
        journal.display(),
        journal.display()
    );
    if m.json {
        let report = serde_json::json!({
            "journal": journal,
            "moved": apply::summary_lines(&plan),
            "moves": plan.moves,
            "follow_ups": follow_ups,
            "node_side": nodes,
            "messages": console.log,
            "complete": complete,
        });
        console.raw(&format!("{report:#}\n"));
    } else {
        for l in summary {
            console.info(l);
        }
        console.info(journal_line);
    }
    if ctx.exit_after {
        std::mem::forget(plan);
    }
    if complete {
        EXIT_OK
    } else {
        EXIT_PARTIAL
    }
}

fn undo(u: &UndoArgs, _args: &[String], console: &mut Console<'_>) -> u8 {
    console.json_mode(u.json);
    let journal = match Journal::read(&u.journal) {
        Ok(j) => j,
        Err(e) => {
            console.error(e.to_string());
            return EXIT_NOTHING_CHANGED;
        }
    };
    let Some(store) = open_store(u.db.as_deref(), console) else {
        return EXIT_NOTHING_CHANGED;
    };
    if store.spec().to_string() != journal.store {
        console.error(format!(
            "cannot undo {}: it records a move in {}, but the store selected is {}; nothing was written (select the journal's store with --db or XCATCFG)",
            u.journal.display(),
            journal.store,
            store.spec(),
        ));
        return EXIT_NOTHING_CHANGED;
    }
    let Some(_lock) = take_lock(&state_dir(store.spec(), u.journal_dir.as_deref()), console) else {
        return EXIT_NOTHING_CHANGED;
    };
    match apply::undo(store.as_ref(), &journal) {
        Ok(n) => {
            let text = format!(
                "Restored {n} row(s) of {} from {}: the move ({}) is undone in the database.",
                journal.table_names().join(", "),
                u.journal.display(),
                journal.summary.join(", ")
            );
            if u.json {
                console.raw(&format!("{:#}\n", serde_json::json!({"restored_rows": n, "journal": u.journal, "tables": journal.table_names()})));
            } else {
                console.info(text);
                console.info("The follow-up commands and node-side steps are not undone: run snmove again towards the old service nodes for those (or nodeset/makeconservercf/updatenode by hand).");
            }
            EXIT_OK
        }
        Err(ApplyError::Changed { rows }) => {
            console.error(format!(
                "cannot undo {}: these rows changed since the move ({}); nothing was written",
                u.journal.display(),
                rows.join("; ")
            ));
            EXIT_NOTHING_CHANGED
        }
        Err(e) => {
            console.error(format!("cannot undo {}: {e}", u.journal.display()));
            EXIT_NOTHING_CHANGED
        }
    }
}

/// Prints messages (for library users that render [`crate::plan::Rejected`] themselves).
pub fn print_messages(
    ms: &[Msg],
    host: &str,
    show_server: bool,
    out: &mut dyn Write,
    err: &mut dyn Write,
) {
    let mut c = Console::new(out, err, host);
    c.show_server(show_server);
    c.emit_all(ms.iter().cloned());
}
