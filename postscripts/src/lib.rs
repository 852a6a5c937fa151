//! # postscripts — the node-side steps of a service-node move, in parallel over SSH
//!
//! After snmove rewrites the database, every moved node must be told about its new service
//! node: `/opt/xcat/xcatinfo` (what `updatenode -s` does), its default route, its syslog and
//! NTP servers (the `syslog` and `setupntp` postscripts), its resolver, and on AIX its NIM
//! master and `/etc/xcatinfo`. xCAT does this with several sequential `updatenode`/`xdsh`
//! passes; this crate does it in **one** pass: one SSH session per node, all its steps in one
//! `sh -s`, at most `fanout` nodes at once, each step reported separately, every node bounded
//! by a connect timeout and a command timeout.
//!
//! The input is plain data built by the caller ([`NodeJob`]: name, address, optional jump
//! host, environment, ordered [`Step`]s); this crate reads no xCAT table.
//!
//! ```no_run
//! use postscripts::*;
//! let jobs = vec![
//!     NodeJob::new("cn1", "10.1.0.11")
//!         .env("MASTER", "10.1.2.100")
//!         .env("NTPSERVERS", "<xcatmaster>")
//!         .step(Step::Xcatinfo { server: "10.1.2.100".into(), servicegroup: Some("sn2,sn1".into()), httpport: None })
//!         .step(Step::DefaultRoute { gateway: "10.1.2.100".into() })
//!         .step(Step::Postscript { name: "syslog".into(), args: vec![] })
//!         .step(Step::Postscript { name: "setupntp".into(), args: vec![] }),
//! ];
//! let transport = SshTransport::new(SshOptions::default())?;
//! let console = Console::new(true);
//! let report = run(&jobs, &transport, &RunOptions::default(), &console)?;
//! console.finish();
//! print!("{}", report.render_text());
//! std::fs::write("/var/log/psrun.json", report.to_json())?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Modules: [`job`] (input), [`script`] (the node script and its in-band step markers),
//! [`transport`] (the [`Transport`] trait and the deadline watchdog), [`ssh`] (libssh2),
//! `jump` (service nodes as jump hosts), [`hostkeys`] (known_hosts), [`mod@run`] (the bounded
//! fan-out), [`report`] (text, JSON, retry, console), [`addr`] (a service node's addresses).

#![warn(missing_docs)]

pub mod addr;
#[cfg(feature = "cli")]
pub mod cli;
pub mod error;
mod fold;
#[doc(hidden)]
pub mod fuzzing;
pub mod hostkeys;
pub mod job;
mod jump;
pub mod report;
pub mod run;
pub mod script;
pub mod ssh;
pub mod transport;

pub use addr::{parse_inet, sn_addresses, AddrOs};
pub use error::{FailKind, ReportError, ScriptError, SetupError, TransportError};
pub use fold::{fold_nodes, natural_cmp};
pub use hostkeys::HostKeyPolicy;
pub use job::{
    move_steps, postscript_steps, select_postscripts, JumpHost, MoveInput, NodeJob, Step, XcatEnv,
};
pub use report::{
    progress_line, retry_jobs, Console, NodeResult, NotRun, Report, Status, StepResult,
};
pub use run::{
    run, validate_jobs, Observer, Progress, Quiet, RunOptions, DEFAULT_COMMAND_TIMEOUT,
    DEFAULT_CONNECT_TIMEOUT, DEFAULT_FANOUT, DEFAULT_POSTSCRIPTS_DIR,
};
pub use script::{Builtins, Stream};
pub use ssh::{SshOptions, SshTransport};
pub use transport::{Flow, Limits, RemoteExit, Target, Transport, FINISH_GRACE};
