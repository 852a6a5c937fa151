//! The `snmove` command line.
//!
//! The options are defined once, by the clap derive of [`Args`]: the generated reference help
//! (`--long-help`), the man page and the shell completions (`--generate …`) come from it, and so
//! does the option table of the parser. The parser itself is not clap's: it is a model of Perl's
//! `Getopt::Long` configured as xCAT's snmove configures it ([`crate::getopt`]), so every command
//! line xCAT accepts means the same here (`-Vi`, `-dsn2`, `--dest=sn2`, `--DEST sn2`, `--ign`,
//! options and the noderange in any order) and every command line xCAT rejects is rejected. The
//! parsed options are then handed to clap as canonical `--name=value` words, so clap's typed
//! values (and their validation) are the ones the program uses.
//!
//! Validation follows xCAT's order (spec §2.2): Getopt errors, `-h`, `-v`, `-i` with `-P`, more
//! than one noderange, nothing to move. Values that Perl reads as false (`""`, `"0"`) count as
//! not given, as in xCAT.
//!
//! `-h` and `--help` print xCAT's usage text byte for byte (with its typos); the full reference
//! of every option, this project's included, is `--long-help`.

use std::path::PathBuf;

use clap::{CommandFactory, Parser};

use crate::getopt::{self, Table};

/// xCAT's usage text: the 12 lines its `usage()` sends, each printed followed by a newline
/// (typos and the misprinted `[-D|--dest ]` are xCAT's).
pub const USAGE_LINES: [&str; 12] = [
    "\nsnmove - Move xCAT compute nodes from one xCAT service node to a \nbackup service node.",
    "\nUsage: ",
    "\tsnmove [-h | --help ]\n",
    "\tsnmove noderange [-V] [-l|--liteonly] [[-d|--dest]  sn2]\n\t\t[[-D|--destn]  sn2n] [-i|--ignorenodes] \n\t\t[[-P|--postscripts]  script1,script2...|all]\n",
    "\tsnmove [-V] [-l|--liteonly] -s|--source  sn1 [[-S|--sourcen]  sn1n]\n\t\t[[-d|--dest]  sn2] [[-D|--dest ]  sn2n]\n\t\t[-i|--ignorenodes][[-P|--postscripts] script1,script2...|all]",
    "\n",
    "\nWhere:",
    "\tsn1 is the hostname of the source service node as known by (facing) the management node.",
    "\tsn1n is the hostname of the source service node as known by (facing) the nodes.",
    "\tsn2 is the hostname of the destination service node as known by (facing) the management node.",
    "\tsn2n is the hostname of the destination service node as known by (facing) the nodes.",
    "\tscripts is a comma separated list of postscripts to be run on the nodes. 'all' means all the scripts defined in the postscripts table for each node are to be run.",
];

/// Move xCAT compute nodes from one service node to a backup service node.
///
/// `snmove NODERANGE` moves the nodes of a noderange; `snmove -s SN1` moves every node whose
/// first service node (noderes.servicenode) is SN1. Without -d each node moves to the 2nd entry
/// of its servicenode list; without -D the new xcatmaster is the destination's address on the
/// node's network. All table changes of a move are committed at once, after a journal of the
/// rows they replace is written; `--undo JOURNAL` restores them.
#[derive(Parser, Debug, Clone, Default, PartialEq, Eq)]
#[command(
    name = "snmove",
    version,
    disable_help_flag = true,
    disable_version_flag = true,
    args_override_self = true
)]
pub struct Args {
    /// Print xCAT's usage text.
    #[arg(short = 'h', long = "help")]
    pub help: bool,
    /// Print the version.
    #[arg(short = 'v', long = "version")]
    pub version: bool,
    /// The source service node, as known by the management node: move every node whose first
    /// servicenode entry it is (with a noderange: only the "old SN" value compared against).
    #[arg(short = 's', long = "source", value_name = "sn1")]
    pub source: Option<String>,
    /// The source service node, as known by the nodes (the old xcatmaster to compare against).
    #[arg(short = 'S', long = "sourcen", value_name = "sn1n")]
    pub sourcen: Option<String>,
    /// The destination service node, as known by the management node (becomes the first
    /// servicenode entry); default: each node's 2nd servicenode entry.
    #[arg(short = 'd', long = "dest", value_name = "sn2")]
    pub dest: Option<String>,
    /// The destination service node, as known by the nodes (written verbatim as xcatmaster);
    /// default: the destination's address on the node's network.
    #[arg(short = 'D', long = "destn", value_name = "sn2n")]
    pub destn: Option<String>,
    /// AIX only: synchronize statelite files, do not move nodes (not supported here).
    #[arg(short = 'l', long = "liteonly")]
    pub liteonly: bool,
    /// Do not run anything on the compute nodes themselves (nodeset still runs, as in xCAT).
    #[arg(short = 'i', long = "ignorenodes")]
    pub ignorenodes: bool,
    /// Extra postscripts to run on the nodes (comma list), or `all` for every postscript the
    /// postscripts table lists for each node.
    #[arg(
        short = 'P',
        long = "postscripts",
        value_name = "script1,script2...|all"
    )]
    pub postscripts: Option<String>,
    /// Verbose: say where addresses came from and, as xCAT does once it has asked the
    /// destination for its addresses (no -D), announce each of xCAT's commands run
    /// ("Running internal xCAT command: nodeset ..."). Given as the word -V or --verbose, it also
    /// prefixes information lines with the host name, as xCAT's client does (errors always
    /// carry it: `Error: [host]: …` on stderr).
    #[arg(short = 'V', long = "verbose")]
    pub verbose: bool,
    /// AIX only: do not re-target the iSCSI dump device (undocumented in xCAT).
    #[arg(short = 'n', long = "noretarget")]
    pub noretarget: bool,
    /// Print the whole plan (every attribute, old -> new, nodes folded) and write nothing.
    #[arg(long = "dry-run")]
    pub dry_run: bool,
    /// Print JSON on stdout (the plan with --dry-run, else the report of the move); the
    /// xCAT-style messages then go to stderr.
    #[arg(long = "json")]
    pub json: bool,
    /// Restore the rows a move replaced, from the journal it printed.
    #[arg(long = "undo", value_name = "JOURNAL")]
    pub undo: Option<PathBuf>,
    /// Directory of journals and of the move lock (default: `.snmove/` in a CSV store's
    /// directory, else /var/lib/snmove).
    #[arg(long = "journal-dir", value_name = "DIR")]
    pub journal_dir: Option<PathBuf>,
    /// The xCAT database: `CSV:/dir`, `SQLite:/dir` or `Pg:dbname=…;host=…|user|password`
    /// (default: $XCATCFG, then the first line of /etc/xcat/cfgloc, then xCAT's SQLite
    /// directory).
    #[arg(long = "db", value_name = "STORE")]
    pub db: Option<String>,
    /// Do not run nodeset after the move (xCAT always runs it on Linux, even with -i, which
    /// re-arms diskful nodes for installation).
    #[arg(long = "skip-nodeset")]
    pub skip_nodeset: bool,
    /// How the node-side steps and the service-node address probe run: `xcat` (xCAT's xdsh
    /// and updatenode), `ssh` (this program's own SSH fan-out), `auto` (xCAT's commands where
    /// they are installed, else SSH). xCAT's commands (also makeconservercf and nodeset) are
    /// looked for in PATH, then /opt/xcat/sbin and /opt/xcat/bin; those not found are listed at
    /// the end as still to be run.
    #[arg(
        long = "transport",
        value_enum,
        value_name = "HOW",
        default_value = "auto"
    )]
    pub transport: TransportKind,
    /// SSH: nodes in flight at once.
    #[arg(long = "fanout", value_name = "N", default_value_t = 64)]
    pub fanout: usize,
    /// SSH: a private key file (repeatable; default: ~/.ssh/id_ed25519, id_ecdsa, id_rsa, then
    /// the agent).
    #[arg(long = "identity", value_name = "FILE")]
    pub identity: Vec<PathBuf>,
    /// SSH: the user on the nodes.
    #[arg(long = "ssh-user", value_name = "USER", default_value = "root")]
    pub ssh_user: String,
    /// SSH: the port on the nodes and service nodes.
    #[arg(long = "ssh-port", value_name = "PORT", default_value_t = 22)]
    pub ssh_port: u16,
    /// SSH: a known_hosts file (repeatable; default: ~/.ssh/known_hosts and
    /// /etc/ssh/ssh_known_hosts).
    #[arg(long = "known-hosts", value_name = "FILE")]
    pub known_hosts: Vec<PathBuf>,
    /// SSH: accept and record unknown host keys (changed keys are still refused).
    #[arg(long = "accept-new-host-keys")]
    pub accept_new_host_keys: bool,
    /// SSH: seconds to connect and authenticate, per node.
    #[arg(long = "connect-timeout", value_name = "SECS", default_value_t = 10)]
    pub connect_timeout: u64,
    /// SSH: seconds for all the steps of one node.
    #[arg(long = "command-timeout", value_name = "SECS", default_value_t = 300)]
    pub command_timeout: u64,
    /// SSH: where the postscripts are read from.
    #[arg(
        long = "scripts-dir",
        value_name = "DIR",
        default_value = "/install/postscripts"
    )]
    pub scripts_dir: PathBuf,
    /// SSH: reach each node through its new service node (as `ssh -J`).
    #[arg(long = "via-sn")]
    pub via_sn: bool,
    /// Print the reference help of every option, generated from this definition.
    #[arg(long = "long-help")]
    pub long_help: bool,
    /// Print the man page or shell completions, generated from this definition.
    #[arg(long = "generate", value_name = "WHAT", value_enum)]
    pub generate: Option<Generate>,
    /// The noderange (at most one).
    #[arg(value_name = "noderange")]
    pub noderange: Vec<String>,
}

/// What `--generate` can produce.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Generate {
    /// A roff man page.
    Man,
    /// bash completions.
    CompleteBash,
    /// zsh completions.
    CompleteZsh,
    /// fish completions.
    CompleteFish,
}

/// How node-side steps run (`--transport`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TransportKind {
    /// xCAT's commands where installed, else SSH.
    #[default]
    Auto,
    /// xCAT's `xdsh` and `updatenode`.
    Xcat,
    /// This program's SSH fan-out (the `postscripts` crate).
    Ssh,
}

/// How the node-side steps reach the nodes.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RemoteArgs {
    /// `--transport`.
    pub transport: TransportKind,
    /// `--fanout`.
    pub fanout: usize,
    /// `--identity`.
    pub identity: Vec<PathBuf>,
    /// `--ssh-user`.
    pub ssh_user: String,
    /// `--ssh-port`.
    pub ssh_port: u16,
    /// `--known-hosts`.
    pub known_hosts: Vec<PathBuf>,
    /// `--accept-new-host-keys`.
    pub accept_new_host_keys: bool,
    /// `--connect-timeout`.
    pub connect_timeout: u64,
    /// `--command-timeout`.
    pub command_timeout: u64,
    /// `--scripts-dir`.
    pub scripts_dir: PathBuf,
    /// `--via-sn`.
    pub via_sn: bool,
}

/// What the command line asks for, after xCAT's validation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Print xCAT's usage text (exit 0).
    Usage,
    /// Print the generated reference help (exit 0).
    LongHelp,
    /// Print a man page or completions (exit 0).
    Generate(Generate),
    /// Print the version (exit 0).
    Version,
    /// A move (or a dry run of one).
    Move(Box<MoveArgs>),
    /// Undo a move from its journal.
    Undo(UndoArgs),
}

/// A validated move request (Perl-false values already dropped).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MoveArgs {
    /// The noderange, if one was given (it may be empty: `snmove ""`).
    pub noderange: Option<String>,
    /// `-s`.
    pub source: Option<String>,
    /// `-S`.
    pub sourcen: Option<String>,
    /// `-d`.
    pub dest: Option<String>,
    /// `-D`.
    pub destn: Option<String>,
    /// `-l`.
    pub liteonly: bool,
    /// `-i`.
    pub ignorenodes: bool,
    /// `-P`.
    pub postscripts: Option<String>,
    /// `-V` (also in bundles).
    pub verbose: bool,
    /// `-n`.
    pub noretarget: bool,
    /// `--dry-run`.
    pub dry_run: bool,
    /// `--json`.
    pub json: bool,
    /// `--db`.
    pub db: Option<String>,
    /// `--journal-dir`.
    pub journal_dir: Option<PathBuf>,
    /// `--skip-nodeset`.
    pub skip_nodeset: bool,
    /// How node-side steps run.
    pub remote: RemoteArgs,
}

/// A validated undo request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UndoArgs {
    /// The journal to restore.
    pub journal: PathBuf,
    /// `--db`.
    pub db: Option<String>,
    /// `--journal-dir` (where the move lock is).
    pub journal_dir: Option<PathBuf>,
    /// `--json`.
    pub json: bool,
}

/// A command line xCAT's snmove refuses. [`UsageError::xcat_error`] is xCAT's message for it;
/// snmove prints it as an error on stderr (`Error: [<host>]: <text>`), then, where xCAT does,
/// the usage text on stdout.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UsageError {
    /// Getopt rejected the command line (unknown option, missing value, ambiguous prefix). xCAT
    /// prints only its usage text; Getopt's own explanations are given here.
    #[error("{}", .0.join("; "))]
    Getopt(Vec<String>),
    /// `-i` with `-P`.
    #[error("-P and -i flags cannot be specified at the same time.")]
    IgnoreWithPostscripts,
    /// More than one positional argument.
    #[error("Too many paramters.")]
    TooMany,
    /// Neither a noderange nor `-s`.
    #[error("A node range or the source service node must be specified.")]
    NothingToMove,
    /// `--undo` with move options.
    #[error("--undo restores a journal; it takes no noderange and none of -s, -S, -d, -D, -l, -P, --dry-run")]
    UndoWithMove,
}

impl UsageError {
    /// xCAT's message for this error, if it has one, with its trailing newline (which leaves a
    /// blank line after it). xCAT sends it as a data line (stdout, exit status 0); snmove prints
    /// it as an error (stderr, exit status 1: spec §14 Q1).
    ///
    /// ```
    /// use snmove::cli::UsageError;
    /// assert_eq!(UsageError::TooMany.xcat_error(), Some("Too many paramters.\n"));
    /// assert_eq!(UsageError::Getopt(vec!["Unknown option: x".into()]).xcat_error(), None);
    /// ```
    pub fn xcat_error(&self) -> Option<&'static str> {
        match self {
            UsageError::Getopt(_) | UsageError::UndoWithMove => None,
            UsageError::IgnoreWithPostscripts => {
                Some("-P and -i flags cannot be specified at the same time.\n")
            }
            UsageError::TooMany => Some("Too many paramters.\n"),
            UsageError::NothingToMove => {
                Some("A node range or the source service node must be specified.\n")
            }
        }
    }

    /// Whether xCAT prints its usage text (on stdout: it is help, not the error) for this error.
    pub fn with_usage(&self) -> bool {
        !matches!(
            self,
            UsageError::IgnoreWithPostscripts | UsageError::UndoWithMove
        )
    }

    /// Explanations for stderr that xCAT does not give (Getopt's warnings, which xCAT sends
    /// only to its daemon log; this project's own errors).
    pub fn extra_errors(&self) -> Vec<String> {
        match self {
            UsageError::Getopt(v) => v.clone(),
            UsageError::UndoWithMove => vec![self.to_string()],
            _ => Vec::new(),
        }
    }
}

/// Perl's truthiness of an option value: `""` and `"0"` are false.
pub fn perl_true(v: &Option<String>) -> bool {
    matches!(v.as_deref(), Some(s) if !s.is_empty() && s != "0")
}

fn truthy(v: Option<String>) -> Option<String> {
    Some(v).filter(perl_true).flatten()
}

/// The Getopt option table of [`Args`].
pub fn option_table() -> Table {
    Table::new(getopt::specs_from_clap(&Args::command()))
}

/// Parses `args` (without the program name) with Getopt's semantics into [`Args`].
///
/// ```
/// let a = snmove::cli::parse_args(["-Vi", "grp", "--DEST=sn2"]).unwrap();
/// assert!(a.verbose && a.ignorenodes);
/// assert_eq!(a.dest.as_deref(), Some("sn2"));
/// assert_eq!(a.noderange, ["grp"]);
/// ```
pub fn parse_args<I, S>(args: I) -> Result<Args, UsageError>
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    let words: Vec<String> = args.into_iter().map(|s| s.as_ref().to_string()).collect();
    let table = option_table();
    let parsed = getopt::parse(&table, &words);
    if !parsed.errors.is_empty() {
        return Err(UsageError::Getopt(parsed.errors));
    }
    // Hand the result to clap in canonical form.
    let cmd = Args::command();
    let mut canonical: Vec<String> = vec!["snmove".into()];
    for occ in &parsed.options {
        let long = cmd
            .get_arguments()
            .find(|a| a.get_id().as_str() == occ.id)
            .and_then(|a| a.get_long())
            .unwrap_or(occ.id.as_str());
        canonical.push(match &occ.value {
            Some(v) => format!("--{long}={v}"),
            None => format!("--{long}"),
        });
    }
    canonical.push("--".into());
    canonical.extend(parsed.positionals);
    Args::try_parse_from(canonical).map_err(|e| {
        let text = e.render().to_string();
        let first = text.lines().next().unwrap_or("invalid command line");
        UsageError::Getopt(vec![first.trim_start_matches("error: ").to_string()])
    })
}

/// Validates parsed options in xCAT's order.
pub fn validate(a: Args) -> Result<Action, UsageError> {
    if a.help {
        return Ok(Action::Usage);
    }
    if a.version {
        return Ok(Action::Version);
    }
    if a.long_help {
        return Ok(Action::LongHelp);
    }
    if let Some(g) = a.generate {
        return Ok(Action::Generate(g));
    }
    let postscripts = truthy(a.postscripts);
    if a.ignorenodes && postscripts.is_some() {
        return Err(UsageError::IgnoreWithPostscripts);
    }
    if a.noderange.len() > 1 {
        return Err(UsageError::TooMany);
    }
    let source = truthy(a.source);
    if let Some(journal) = a.undo {
        if !a.noderange.is_empty()
            || source.is_some()
            || perl_true(&a.sourcen)
            || perl_true(&a.dest)
            || perl_true(&a.destn)
            || a.liteonly
            || postscripts.is_some()
            || a.dry_run
        {
            return Err(UsageError::UndoWithMove);
        }
        return Ok(Action::Undo(UndoArgs {
            journal,
            db: a.db,
            journal_dir: a.journal_dir,
            json: a.json,
        }));
    }
    let noderange = a.noderange.into_iter().next();
    if noderange.is_none() && source.is_none() {
        return Err(UsageError::NothingToMove);
    }
    Ok(Action::Move(Box::new(MoveArgs {
        noderange,
        source,
        sourcen: truthy(a.sourcen),
        dest: truthy(a.dest),
        destn: truthy(a.destn),
        liteonly: a.liteonly,
        ignorenodes: a.ignorenodes,
        postscripts,
        verbose: a.verbose,
        noretarget: a.noretarget,
        dry_run: a.dry_run,
        json: a.json,
        db: a.db,
        journal_dir: a.journal_dir,
        skip_nodeset: a.skip_nodeset,
        remote: RemoteArgs {
            transport: a.transport,
            fanout: a.fanout,
            identity: a.identity,
            ssh_user: a.ssh_user,
            ssh_port: a.ssh_port,
            known_hosts: a.known_hosts,
            accept_new_host_keys: a.accept_new_host_keys,
            connect_timeout: a.connect_timeout,
            command_timeout: a.command_timeout,
            scripts_dir: a.scripts_dir,
            via_sn: a.via_sn,
        },
    })))
}

/// Parses and validates a command line (without the program name).
///
/// ```
/// use snmove::cli::{parse, Action, UsageError};
/// let Action::Move(m) = parse(["-Vi", "-dsn2", "rack1"]).unwrap() else { panic!() };
/// assert!(m.verbose && m.ignorenodes);
/// assert_eq!((m.dest.as_deref(), m.noderange.as_deref()), (Some("sn2"), Some("rack1")));
/// assert_eq!(parse(["-v", "-h"]).unwrap(), Action::Usage);
/// assert_eq!(parse(["a", "b"]).unwrap_err(), UsageError::TooMany);
/// ```
pub fn parse<I, S>(args: I) -> Result<Action, UsageError>
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    validate(parse_args(args)?)
}

/// Whether xCAT's client would show the server prefix on information lines: it sets
/// `XCATSHOWSVR` when a command-line word is exactly `-V` or `--verbose` (a bundle such as
/// `-Vi` makes the command verbose but does not add the prefix).
pub fn shows_server<S: AsRef<str>>(args: &[S]) -> bool {
    args.iter()
        .any(|a| matches!(a.as_ref(), "-V" | "--verbose"))
}

/// The reference help generated from [`Args`].
pub fn long_help() -> String {
    Args::command().render_long_help().to_string()
}

/// Writes the man page or completions generated from [`Args`].
pub fn generate(what: Generate, out: &mut dyn std::io::Write) -> std::io::Result<()> {
    let mut cmd = Args::command();
    match what {
        Generate::Man => clap_mangen::Man::new(cmd).render(out),
        Generate::CompleteBash => {
            clap_complete::generate(clap_complete::Shell::Bash, &mut cmd, "snmove", out);
            Ok(())
        }
        Generate::CompleteZsh => {
            clap_complete::generate(clap_complete::Shell::Zsh, &mut cmd, "snmove", out);
            Ok(())
        }
        Generate::CompleteFish => {
            clap_complete::generate(clap_complete::Shell::Fish, &mut cmd, "snmove", out);
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mv(args: &[&str]) -> MoveArgs {
        match parse(args).unwrap() {
            Action::Move(m) => *m,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn getopt_forms() {
        assert_eq!(mv(&["--dest=sn2", "g"]).dest.as_deref(), Some("sn2"));
        assert_eq!(mv(&["--dest", "sn2", "g"]).dest.as_deref(), Some("sn2"));
        assert_eq!(mv(&["g", "-d", "sn2"]).noderange.as_deref(), Some("g"));
        assert_eq!(mv(&["-ssn1"]).source.as_deref(), Some("sn1"));
        assert!(mv(&["--ign", "g"]).ignorenodes, "unique prefix");
        assert_eq!(mv(&["--source", "sn1"]).source.as_deref(), Some("sn1"));
        assert_eq!(
            mv(&["--sourcen", "x", "-s", "y"]).sourcen.as_deref(),
            Some("x")
        );
        assert!(matches!(parse(["--sou", "x"]), Err(UsageError::Getopt(_))));
        assert_eq!(
            mv(&["-s", "a", "-s", "b"]).source.as_deref(),
            Some("b"),
            "last one wins"
        );
        let m = mv(&["-Vin", "-s", "sn1"]);
        assert!(m.verbose && m.ignorenodes && m.noretarget);
        let m = mv(&["-source", "x"]);
        assert_eq!(
            (m.source.as_deref(), m.noderange.as_deref()),
            (Some("ource"), Some("x"))
        );
        assert_eq!(
            mv(&["-d", "-i", "g"]).dest.as_deref(),
            Some("-i"),
            "a value may start with -"
        );
        assert_eq!(
            mv(&["g", "--dry-run", "--json"]).noderange.as_deref(),
            Some("g")
        );
        assert!(
            mv(&["g", "--dry"]).dry_run,
            "new long options abbreviate too"
        );
    }

    #[test]
    fn new_options_do_not_make_xcat_abbreviations_ambiguous() {
        let xcat = Table::new(
            [
                ("h", 'h', "help", false),
                ("v", 'v', "version", false),
                ("source", 's', "source", true),
                ("sourcen", 'S', "sourcen", true),
                ("dest", 'd', "dest", true),
                ("destn", 'D', "destn", true),
                ("liteonly", 'l', "liteonly", false),
                ("noretarget", 'n', "noretarget", false),
                ("postscripts", 'P', "postscripts", true),
                ("ignorenodes", 'i', "ignorenodes", false),
                ("verbose", 'V', "verbose", false),
            ]
            .into_iter()
            .map(|(id, s, l, v)| getopt::OptSpec {
                id: id.into(),
                short: Some(s),
                long: vec![l.into()],
                takes_value: v,
            })
            .collect(),
        );
        let ours = option_table();
        let canon = |t: &Table, p: &getopt::Parsed| -> Vec<String> {
            let _ = t;
            p.options
                .iter()
                .map(|o| {
                    let spec = ours
                        .specs()
                        .iter()
                        .chain(xcat.specs())
                        .find(|s| s.id == o.id)
                        .unwrap();
                    format!("{:?}{:?}", spec.short, o.value)
                })
                .chain(p.errors.iter().map(|e| format!("!{e}")))
                .collect()
        };
        for name in [
            "help",
            "version",
            "source",
            "sourcen",
            "dest",
            "destn",
            "liteonly",
            "noretarget",
            "postscripts",
            "ignorenodes",
            "verbose",
        ] {
            for end in 1..=name.len() {
                for word in [
                    format!("--{}", &name[..end]),
                    format!("--{}", name[..end].to_uppercase()),
                ] {
                    let args = [word.as_str(), "x"];
                    let a = getopt::parse(&xcat, &args);
                    let b = getopt::parse(&ours, &args);
                    assert_eq!(canon(&xcat, &a), canon(&ours, &b), "{word}");
                }
            }
        }
    }

    #[test]
    fn validation_order() {
        assert_eq!(parse(["-h", "-v"]).unwrap(), Action::Usage);
        assert_eq!(parse(["-v", "-i", "-P", "x"]).unwrap(), Action::Version);
        assert_eq!(
            parse(["-i", "-P", "x", "a", "b"]).unwrap_err(),
            UsageError::IgnoreWithPostscripts
        );
        assert_eq!(parse(["a", "b"]).unwrap_err(), UsageError::TooMany);
        assert_eq!(
            parse::<[&str; 0], &str>([]).unwrap_err(),
            UsageError::NothingToMove
        );
        assert_eq!(parse(["-s", ""]).unwrap_err(), UsageError::NothingToMove);
        assert_eq!(
            parse(["-s", "0"]).unwrap_err(),
            UsageError::NothingToMove,
            "Perl reads 0 as false"
        );
        assert!(matches!(parse(["-x"]).unwrap_err(), UsageError::Getopt(_)));
        assert!(
            matches!(parse(["-h", "-x"]).unwrap_err(), UsageError::Getopt(_)),
            "Getopt errors come first"
        );
        assert!(matches!(parse(["-d"]).unwrap_err(), UsageError::Getopt(_)));
        assert!(
            mv(&["-i", "-P", "", "g"]).postscripts.is_none(),
            "an empty -P is not given"
        );
        assert_eq!(
            mv(&[""]).noderange.as_deref(),
            Some(""),
            "an empty word is a noderange"
        );
        assert!(matches!(
            parse(["--undo", "j", "g"]).unwrap_err(),
            UsageError::UndoWithMove
        ));
        assert!(matches!(parse(["--undo", "j"]).unwrap(), Action::Undo(_)));
        assert!(matches!(
            parse(["--generate", "bogus"]).unwrap_err(),
            UsageError::Getopt(_)
        ));
        assert_eq!(
            parse(["--generate", "man"]).unwrap(),
            Action::Generate(Generate::Man)
        );
    }

    #[test]
    fn usage_text_is_xcats() {
        let text: String = USAGE_LINES.iter().map(|l| format!("{l}\n")).collect();
        assert_eq!(text.lines().count(), 23);
        assert!(text.starts_with(
            "\nsnmove - Move xCAT compute nodes from one xCAT service node to a \nbackup"
        ));
        assert!(text.contains("[[-D|--dest ]  sn2n]"));
        assert!(text.contains("\t\t[[-D|--destn]  sn2n] [-i|--ignorenodes] \n"));
    }

    #[test]
    fn server_prefix_only_for_exact_words() {
        assert!(shows_server(&["g", "-V"]));
        assert!(shows_server(&["--verbose"]));
        assert!(!shows_server(&["-Vi", "g"]));
    }

    #[test]
    fn generated_help_lists_every_option() {
        let h = long_help();
        for o in [
            "--source",
            "--dry-run",
            "--undo",
            "--journal-dir",
            "--skip-nodeset",
            "--noretarget",
        ] {
            assert!(h.contains(o), "{o}");
        }
        let mut man = Vec::new();
        generate(Generate::Man, &mut man).unwrap();
        assert!(String::from_utf8_lossy(&man).contains("snmove"));
    }
}
