//! # snmove — move xCAT compute nodes to their backup service node
//!
//! In a hierarchical xCAT cluster every compute node is served by a service node (SN): its
//! `noderes.servicenode` lists the SNs it may use (the first one is the current one) and its
//! `noderes.xcatmaster` is the name or address of that SN as the node sees it. When an SN dies,
//! its nodes must be moved to their backup: `snmove -s sn27`. This crate does that the way
//! xCAT's `snmove` does — same command line, same rules, same messages, same table changes
//! (spec `snmove.md`) — and adds what an outage deserves: a dry run, one atomic commit, a
//! journal and an undo, a lock against concurrent moves and a check that nothing changed under
//! the plan, and a closing report.
//!
//! A move has four stages, each usable on its own:
//! * [`plan::plan`] — a pure function of a table snapshot and a [`plan::Request`]: selection,
//!   destination, new xcatmaster, every attribute rewrite as node-level rows, the follow-up
//!   commands and the node-side steps, or xCAT's refusal with xCAT's messages;
//! * inspection — [`plan::inspect`] gives the values a move would read for any nodes; a
//!   [`plan::Plan`] is plain data (also serializable to JSON), rendered for people by
//!   [`render::dry_run_text`];
//! * [`apply::commit`] — the journal, then one atomic commit with the rows read as
//!   expectations; then [`apply::run_follow_ups`] (xCAT's `makeconservercf`, `nodeset`) and a
//!   [`nodeside::NodeSide`]: xCAT's `xdsh`/`updatenode` ([`nodeside::XcatCommands`]) or this
//!   workspace's SSH fan-out ([`sshside::SshSide`]), chosen by [`backend::Backend`];
//! * [`apply::undo`] — the database exactly as before the move, from its [`journal::Journal`].
//!
//! ```
//! use snmove::plan::{plan, Env, NoProbe, Request};
//! use xcattab::{csv, Database};
//!
//! let mut db = Database::new();
//! db.insert(csv::table_from_csv("nodelist", "#node,groups\n\"cn1\",\"compute\"\n").unwrap());
//! db.insert(csv::table_from_csv("noderes", "#node,servicenode,xcatmaster\n\"compute\",\"sn1,sn2\",\"sn1-c\"\n").unwrap());
//! db.insert(csv::table_from_csv("hosts", "#node,ip\n\"cn1\",\"10.1.0.11\"\n").unwrap());
//!
//! let req = Request { noderange: Some("cn1".into()), destn: Some("sn2-c".into()), ..Request::default() };
//! let env = Env {
//!     expander: &snmove::select::NoderangeExpander,
//!     probe: &NoProbe,
//!     system: &snmove::addr::NoSystem,
//!     fold: &snmove::select::fold,
//! };
//! let p = plan(&db, &req, &env).unwrap();
//! assert_eq!(p.moves[0].new_sn, "sn2");
//! let sn = &p.moves[0].changes[0];
//! assert_eq!((sn.column, sn.old.as_deref(), sn.new.as_str()), ("servicenode", Some("sn1,sn2"), "sn2,sn1"));
//!
//! // Applying it in memory (a store's commit does the same, atomically, after the journal).
//! let journal = snmove::journal::Journal::of(&db, &p.batch, "memory", vec![]);
//! let before = db.clone();
//! p.batch.apply(&mut db).unwrap();
//! journal.undo_batch().apply(&mut db).unwrap();
//! assert_eq!(db.table("noderes"), before.table("noderes"));
//! ```

pub mod addr;
pub mod apply;
pub mod backend;
pub mod cli;
pub mod followup;
#[doc(hidden)]
pub mod fuzzing;
pub mod getopt;
pub mod index;
pub mod journal;
pub mod lock;
pub mod net;
pub mod nodeside;
pub mod output;
pub mod plan;
pub mod render;
pub mod rewrite;
pub mod run;
pub mod select;
pub mod sshside;

/// Prints how long a phase took on stderr when `SNMOVE_TIMING` is set (for benchmarks).
pub(crate) fn timing(phase: &str, since: std::time::Instant) {
    if std::env::var_os("SNMOVE_TIMING").is_some() {
        eprintln!(
            "snmove timing: {phase} {:.1} ms",
            since.elapsed().as_secs_f64() * 1000.0
        );
    }
}
