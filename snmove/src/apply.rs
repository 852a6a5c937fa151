//! Applying a plan: the journal, then one atomic commit of every table change, then the
//! follow-up commands xCAT runs (`makeconservercf`, `nodeset`), then the node-side steps.
//! Undoing a move from its journal.

use std::path::{Path, PathBuf};

use xcattab::batch::BatchError;
use xcattab::store::{Store, StoreError};
use xcattab::{Batch, Database};

use crate::followup::{self, command_line, node_chunks, Outcome};
use crate::journal::{Journal, JournalError};
use crate::output::Console;
use crate::plan::{FollowUp, Plan};

/// Why a move or an undo wrote nothing.
#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    /// The journal could not be written, so nothing was committed.
    #[error("{0}; nothing was written")]
    Journal(#[from] JournalError),
    /// Rows read by the plan changed before the commit.
    #[error("the tables changed since the move was planned ({}); nothing was written, run snmove again", rows.join("; "))]
    Changed {
        /// The rows that differ, as `table T, row 'K'`.
        rows: Vec<String>,
    },
    /// The store refused the commit.
    #[error("Could not update xCAT node definitions: {0}; nothing was written")]
    Store(StoreError),
    /// Every row of the journal is already back to its before-image.
    #[error("the rows of this move are already as they were before it (undone already?); nothing was written")]
    AlreadyUndone,
}

/// Writes the journal of `plan`, then commits its writes in one atomic commit. On success the
/// journal's path is returned; on failure nothing was written and the journal is removed.
pub fn commit(
    store: &dyn Store,
    db: &Database,
    plan: &Plan,
    journal_dir: &Path,
    command: Vec<String>,
) -> Result<PathBuf, ApplyError> {
    let t0 = std::time::Instant::now();
    let mut journal = Journal::of(db, &plan.batch, &store.spec().to_string(), command);
    journal.summary = summary_lines(plan);
    crate::timing("journal (build)", t0);
    let t0 = std::time::Instant::now();
    let path = journal.write(journal_dir)?;
    crate::timing("journal (write, fsync)", t0);
    let t0 = std::time::Instant::now();
    let done = store.commit(&plan.batch);
    crate::timing("store commit", t0);
    match done {
        Ok(_) => Ok(path),
        Err(e) => {
            let _ = std::fs::remove_file(&path);
            Err(explain(store, &plan.batch, e))
        }
    }
}

/// "N node(s) from A to B" lines of a plan ("N node(s) already on B" for nodes whose first
/// service node already is their destination: their values are written again, they do not move).
pub fn summary_lines(plan: &Plan) -> Vec<String> {
    let mut pairs: std::collections::BTreeMap<(&str, &str), usize> = Default::default();
    for m in &plan.moves {
        *pairs
            .entry((m.current_sn(), m.new_sn.as_str()))
            .or_default() += 1;
    }
    pairs
        .into_iter()
        .map(|((a, b), n)| {
            if a == b {
                format!("{n} node(s) already on {b}")
            } else {
                format!(
                    "{n} node(s) from {} to {b}",
                    if a.is_empty() { "(none)" } else { a }
                )
            }
        })
        .collect()
}

/// Turns a refused commit into an error naming every changed row.
fn explain(store: &dyn Store, batch: &Batch, e: StoreError) -> ApplyError {
    if !matches!(
        e,
        StoreError::Batch(BatchError::Conflict { .. } | BatchError::TableChanged { .. })
    ) {
        return ApplyError::Store(e);
    }
    let mut names: Vec<&str> = batch.expects.iter().map(|x| x.table.as_str()).collect();
    names.extend(batch.expect_tables.iter().map(|t| t.name()));
    names.sort_unstable();
    names.dedup();
    let Ok(now) = store.load(&names) else {
        return ApplyError::Store(e);
    };
    let mut rows = Vec::new();
    let mut indexes: std::collections::HashMap<&str, crate::index::KeyIndex<'_>> =
        Default::default();
    for x in &batch.expects {
        let ix = indexes
            .entry(x.table.as_str())
            .or_insert_with(|| crate::index::KeyIndex::new(now.table(&x.table)));
        let cur = x.key.first().and_then(|k| ix.row(k));
        if cur != x.row.as_ref() {
            rows.push(format!("table {}, row '{}'", x.table, x.key.join("', '")));
        }
    }
    for want in &batch.expect_tables {
        let Some(have) = now.table(want.name()) else {
            continue;
        };
        if have == want {
            continue;
        }
        let key = |t: &xcattab::Table, r: &xcattab::Row| t.row_key(r).join("', '");
        let mut old: std::collections::HashMap<String, &xcattab::Row> =
            std::collections::HashMap::new();
        for r in want.rows() {
            old.entry(key(want, r)).or_insert(r);
        }
        let mut seen = std::collections::HashSet::new();
        for r in have.rows() {
            let k = key(have, r);
            if old.get(&k).copied() != Some(r) {
                rows.push(format!("table {}, row '{k}'", want.name()));
            }
            seen.insert(k);
        }
        for k in old.keys() {
            if !seen.contains(k) {
                rows.push(format!("table {}, row '{k}' (removed)", want.name()));
            }
        }
        if have.columns() != want.columns() {
            rows.push(format!("table {}: its columns", want.name()));
        }
    }
    rows.sort();
    rows.dedup();
    if rows.is_empty() {
        rows.push(e.to_string());
    }
    ApplyError::Changed { rows }
}

/// What happened to one follow-up command.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FollowUpResult {
    /// The command.
    pub follow_up: FollowUp,
    /// One outcome per run (long node lists are split).
    pub outcomes: Vec<Outcome>,
    /// The command lines still to be run by hand (not installed here).
    pub pending: Vec<String>,
}

impl FollowUpResult {
    /// Whether every run succeeded.
    pub fn ok(&self) -> bool {
        self.pending.is_empty() && self.outcomes.iter().all(Outcome::ok)
    }
}

/// Runs the follow-up commands of a plan in order, printing what xCAT prints: "Running
/// makeconservercf NODES" before makeconservercf, each command's output, and (always, unlike
/// xCAT, which sometimes loses it) "Command failed: …" when one fails. A command that is not
/// installed here is not run: one line says so, and its command lines are returned as still to
/// be run.
pub fn run_follow_ups(plan: &Plan, console: &mut Console<'_>) -> Vec<FollowUpResult> {
    let mut results = Vec::new();
    let path = std::env::var_os("PATH");
    let mut told = std::collections::BTreeSet::new();
    for f in &plan.follow_ups {
        let mut res = FollowUpResult {
            follow_up: f.clone(),
            outcomes: Vec::new(),
            pending: Vec::new(),
        };
        let Some(prog) = followup::find_command(&f.command, path.as_deref()) else {
            if told.insert(f.command.clone()) {
                console.info(not_installed(&format!("running {}", f.command), &f.command));
            }
            for chunk in node_chunks(&f.nodes) {
                let nodes: Vec<String> = chunk.split(',').map(str::to_string).collect();
                let mut shown = vec![crate::select::fold(&nodes)];
                shown.extend(f.args.iter().cloned());
                res.pending.push(command_line(&f.command, &shown));
                res.outcomes.push(Outcome::NotInstalled);
            }
            results.push(res);
            continue;
        };
        let conserver = f.command == "makeconservercf";
        if conserver {
            console.data(format!("Running makeconservercf {}", f.nodes.join(",")));
        }
        for chunk in node_chunks(&f.nodes) {
            if plan.request.announces_commands() {
                console.info(crate::plan::internal_command_line(&f.command));
            }
            let mut args = vec![chunk];
            args.extend(f.args.iter().cloned());
            let out = followup::run_program(&prog, &args);
            match &out {
                Outcome::NotInstalled => {}
                Outcome::Failed { error } => console.error(format!(
                    "Command failed: {}. Error message: {error}.\n",
                    f.command
                )),
                Outcome::Ran { ok, lines, .. } => {
                    if !ok {
                        console.error(format!(
                            "Command failed: {}. Error message: {}.\n",
                            f.command,
                            lines.concat()
                        ));
                    }
                    for l in lines {
                        if conserver {
                            console.data(l.clone());
                        } else {
                            console.info(l.clone());
                        }
                    }
                }
            }
            res.outcomes.push(out);
        }
        results.push(res);
    }
    results
}

/// The line printed instead of xCAT's "Running …" line when one of xCAT's commands is not
/// installed here: `doing` is what would have been done, `command` the missing command.
///
/// ```
/// use snmove::apply::not_installed;
/// assert_eq!(
///     not_installed("running nodeset", "nodeset"),
///     "Not running nodeset: it is not installed here (see the commands still to be run, at the end)."
/// );
/// assert_eq!(
///     not_installed("running postscripts on the nodes", "updatenode"),
///     "Not running postscripts on the nodes: xCAT's updatenode is not installed here (see the commands still to be run, at the end)."
/// );
/// ```
pub fn not_installed(doing: &str, command: &str) -> String {
    let what = if doing.ends_with(command) {
        "it".to_string()
    } else {
        format!("xCAT's {command}")
    };
    format!(
        "Not {doing}: {what} is not installed here (see the commands still to be run, at the end)."
    )
}

/// Restores the rows a move replaced, from its journal, in one atomic commit. Refused (nothing
/// written) unless every row is still exactly as the move left it.
pub fn undo(store: &dyn Store, journal: &Journal) -> Result<usize, ApplyError> {
    let names = journal.table_names();
    let db = store.load(&names).map_err(ApplyError::Store)?;
    if let Err(why) = journal.check_columns(&db) {
        return Err(ApplyError::Changed { rows: vec![why] });
    }
    let undone = journal.tables.iter().all(|(name, t)| {
        let ix = crate::index::KeyIndex::new(db.table(name));
        t.rows.iter().all(|r| ix.row(&r.key) == r.before.as_ref())
    });
    if undone && journal.rows() > 0 {
        return Err(ApplyError::AlreadyUndone);
    }
    let batch = journal.undo_batch();
    store
        .commit(&batch)
        .map_err(|e| explain(store, &batch, e))?;
    Ok(journal.rows())
}
