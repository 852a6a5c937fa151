//! The `snmove` command line: xCAT's options with Getopt::Long's behaviour (bundling `-Vi`,
//! attached values `-dsn2`, `--dest=sn2`, options and the noderange in any order, at most one
//! noderange, unique long-option prefixes), xCAT's validation order and message texts, plus this
//! project's own options. The one clap definition also produces `--help`, the man page and the
//! shell completions.

use std::path::PathBuf;

use clap::Parser;

/// xCAT's usage text, byte for byte (12 data lines, each printed with a newline; the typos and
/// the misprinted `[-D|--dest ]` are xCAT's).
pub const USAGE: &str = concat!(
    "\nsnmove - Move xCAT compute nodes from one xCAT service node to a \nbackup service node.\n",
    "\nUsage: \n",
    "\tsnmove [-h | --help ]\n\n",
    "\tsnmove noderange [-V] [-l|--liteonly] [[-d|--dest]  sn2]\n\t\t[[-D|--destn]  sn2n] [-i|--ignorenodes] \n\t\t[[-P|--postscripts]  script1,script2...|all]\n\n",
    "\tsnmove [-V] [-l|--liteonly] -s|--source  sn1 [[-S|--sourcen]  sn1n]\n\t\t[[-d|--dest]  sn2] [[-D|--dest ]  sn2n]\n\t\t[-i|--ignorenodes][[-P|--postscripts] script1,script2...|all]\n",
    "\n\n",
    "\nWhere:\n",
    "\tsn1 is the hostname of the source service node as known by (facing) the management node.\n",
    "\tsn1n is the hostname of the source service node as known by (facing) the nodes.\n",
    "\tsn2 is the hostname of the destination service node as known by (facing) the management node.\n",
    "\tsn2n is the hostname of the destination service node as known by (facing) the nodes.\n",
    "\tscripts is a comma separated list of postscripts to be run on the nodes. 'all' means all the scripts defined in the postscripts table for each node are to be run.\n",
);

/// Move xCAT compute nodes from one service node to a backup service node.
///
/// `snmove NODERANGE [-d sn2] [-D sn2n]` moves the nodes of a noderange; `snmove -s sn1`
/// moves every node whose first service node is sn1. Without -d each node moves to the 2nd
/// entry of its noderes.servicenode; without -D the new xcatmaster is the new service node's
/// address on the node's network. -h prints xCAT's usage text; --help prints this.
#[derive(Parser, Debug, Clone, Default)]
#[command(
    name = "snmove",
    disable_help_flag = true,
    disable_version_flag = true,
    infer_long_args = true,
    args_override_self = true,
    dont_collapse_args_in_usage = true
)]
pub struct Args {
    /// Print xCAT's usage text.
    #[arg(short = 'h')]
    pub usage: bool,
    /// Print this help, generated from the option definitions.
    #[arg(long = "help")]
    pub help: bool,
    /// Print the version.
    #[arg(short = 'v', long = "version")]
    pub version: bool,
    /// The source service node, as known by the management node.
    #[arg(short = 's', long = "source", value_name = "sn1")]
    pub source: Option<String>,
    /// The source service node, as known by the nodes (its xcatmaster name).
    #[arg(short = 'S', long = "sourcen", value_name = "sn1n")]
    pub sourcen: Option<String>,
    /// The destination service node, as known by the management node.
    #[arg(short = 'd', long = "dest", value_name = "sn2")]
    pub dest: Option<String>,
    /// The destination service node, as known by the nodes (becomes xcatmaster verbatim).
    #[arg(short = 'D', long = "destn", value_name = "sn2n")]
    pub destn: Option<String>,
    /// AIX only: synchronize statelite files, do not move nodes.
    #[arg(short = 'l', long = "liteonly")]
    pub liteonly: bool,
    /// Do not run anything on the compute nodes themselves.
    #[arg(short = 'i', long = "ignorenodes")]
    pub ignorenodes: bool,
    /// Extra postscripts to run on the nodes (comma list), or `all`.
    #[arg(short = 'P', long = "postscripts", value_name = "script1,script2...|all")]
    pub postscripts: Option<String>,
    /// Verbose output.
    #[arg(short = 'V', long = "verbose")]
    pub verbose: bool,
    /// AIX only: do not re-target the dump device (undocumented in xCAT).
    #[arg(short = 'n', long = "noretarget")]
    pub noretarget: bool,
    /// Show the full plan (every attribute, old → new) and change nothing.
    #[arg(long = "dry-run")]
    pub dry_run: bool,
    /// With --dry-run, or for the final report: print JSON instead of text.
    #[arg(long = "json")]
    pub json: bool,
    /// Restore the database exactly as a move's journal recorded it before that move.
    #[arg(long = "undo", value_name = "JOURNAL")]
    pub undo: Option<PathBuf>,
    /// Where journals are written (default: /var/lib/snmove, or the store directory's
    /// `.snmove/` for a CSV store).
    #[arg(long = "journal-dir", value_name = "DIR")]
    pub journal_dir: Option<PathBuf>,
    /// The xCAT database (CSV:/dir, ...); default: XCATCFG, then /etc/xcat/cfgloc.
    #[arg(long = "db", value_name = "STORE")]
    pub db: Option<String>,
    /// Generate the man page or shell completions and exit.
    #[arg(long = "generate", value_enum, hide = true)]
    pub generate: Option<xcattab::cli::Generate>,
    /// The noderange (at most one).
    #[arg(value_name = "noderange", num_args = 0.., allow_hyphen_values = false)]
    pub positional: Vec<String>,
}

/// What the command line asks for, after xCAT's validation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Print xCAT's usage (exit 0).
    Usage,
    /// Print the generated help (exit 0).
    Help,
    /// Print the version (exit 0).
    Version,
    /// A move (or a dry run of one).
    Move(MoveArgs),
    /// Undo a journal.
    Undo {
        /// The journal.
        journal: PathBuf,
        /// `--db`.
        db: Option<String>,
    },
}

/// A validated move request.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MoveArgs {
    /// The noderange, if given.
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
    /// `-V`.
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
}

/// A usage error: xCAT's message (printed before the usage text where xCAT does so).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UsageError {
    /// Getopt failed (unknown option, missing value): usage text only in xCAT; we add the
    /// parser's explanation on stderr.
    #[error("{0}")]
    Getopt(String),
    /// `-i` with `-P`.
    #[error("-P and -i flags cannot be specified at the same time.")]
    IgnoreWithPostscripts,
    /// More than one positional argument.
    #[error("Too many paramters.")]
    TooMany,
    /// Neither a noderange nor `-s`.
    #[error("A node range or the source service node must be specified.")]
    NothingToMove,
}

impl UsageError {
    /// Whether xCAT prints its usage text after the message.
    pub fn with_usage(&self) -> bool {
        !matches!(self, UsageError::IgnoreWithPostscripts)
    }
}

fn nonempty(v: Option<String>) -> Option<String> {
    v.filter(|s| !s.is_empty())
}

/// Parses and validates a command line (`argv[0]` included) in xCAT's order: Getopt errors,
/// `-h`, `-v`, `-i` with `-P`, too many positionals, nothing to move.
///
/// ```
/// use snmove::cli::{parse, Action, UsageError};
/// let Action::Move(m) = parse(["snmove", "-Vi", "-dsn2", "rack1"]).unwrap() else { panic!() };
/// assert!(m.verbose && m.ignorenodes);
/// assert_eq!((m.dest.as_deref(), m.noderange.as_deref()), (Some("sn2"), Some("rack1")));
/// assert_eq!(parse(["snmove", "-h", "-v"]).unwrap(), Action::Usage);
/// assert_eq!(parse(["snmove", "a", "b"]).unwrap_err(), UsageError::TooMany);
/// ```
pub fn parse<I, T>(argv: I) -> Result<Action, UsageError>
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let args = Args::try_parse_from(argv).map_err(|e| {
        let text = e.render().to_string();
        UsageError::Getopt(text.lines().next().unwrap_or("invalid option").to_string())
    })?;
    validate(args)
}

/// xCAT's validation of parsed options (see [`parse`]).
pub fn validate(a: Args) -> Result<Action, UsageError> {
    if a.usage {
        return Ok(Action::Usage);
    }
    if a.help {
        return Ok(Action::Help);
    }
    if a.version {
        return Ok(Action::Version);
    }
    let postscripts = nonempty(a.postscripts);
    if a.ignorenodes && postscripts.is_some() {
        return Err(UsageError::IgnoreWithPostscripts);
    }
    if a.positional.len() > 1 {
        return Err(UsageError::TooMany);
    }
    if let Some(journal) = a.undo {
        return Ok(Action::Undo { journal, db: a.db });
    }
    let noderange = a.positional.into_iter().next();
    let source = nonempty(a.source);
    if noderange.is_none() && source.is_none() {
        return Err(UsageError::NothingToMove);
    }
    Ok(Action::Move(MoveArgs {
        noderange,
        source,
        sourcen: nonempty(a.sourcen),
        dest: nonempty(a.dest),
        destn: nonempty(a.destn),
        liteonly: a.liteonly,
        ignorenodes: a.ignorenodes,
        postscripts,
        verbose: a.verbose,
        noretarget: a.noretarget,
        dry_run: a.dry_run,
        json: a.json,
        db: a.db,
        journal_dir: a.journal_dir,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mv(args: &[&str]) -> MoveArgs {
        let mut v = vec!["snmove"];
        v.extend_from_slice(args);
        match parse(v).unwrap() {
            Action::Move(m) => m,
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
        assert_eq!(mv(&["--source", "sn1"]).source.as_deref(), Some("sn1"), "exact beats prefix of --sourcen");
        assert!(parse(["snmove", "--sou", "x"]).is_err(), "ambiguous prefix, as Getopt::Long says");
        assert_eq!(mv(&["-s", "a", "-s", "b"]).source.as_deref(), Some("b"), "last one wins");
        let m = mv(&["-Vin", "-s", "sn1"]);
        assert!(m.verbose && m.ignorenodes && m.noretarget);
        // A single-dash long form is a bundle: -source x = -s ource, then x is the noderange.
        let m = mv(&["-source", "x"]);
        assert_eq!((m.source.as_deref(), m.noderange.as_deref()), (Some("ource"), Some("x")));
    }

    #[test]
    fn validation_order() {
        assert_eq!(parse(["snmove", "-h", "-v"]).unwrap(), Action::Usage);
        assert_eq!(parse(["snmove", "-v", "-i", "-P", "x"]).unwrap(), Action::Version);
        assert_eq!(parse(["snmove", "-i", "-P", "x", "a", "b"]).unwrap_err(), UsageError::IgnoreWithPostscripts);
        assert_eq!(parse(["snmove", "a", "b"]).unwrap_err(), UsageError::TooMany);
        assert_eq!(parse(["snmove"]).unwrap_err(), UsageError::NothingToMove);
        assert_eq!(parse(["snmove", "-s", ""]).unwrap_err(), UsageError::NothingToMove);
        assert!(matches!(parse(["snmove", "-x"]).unwrap_err(), UsageError::Getopt(_)));
        assert!(matches!(parse(["snmove", "-d"]).unwrap_err(), UsageError::Getopt(_)));
        // An empty -P counts as not given, so it does not clash with -i.
        assert!(mv(&["-i", "-P", "", "g"]).postscripts.is_none());
    }

    #[test]
    fn usage_text_is_xcats() {
        assert_eq!(USAGE.lines().count(), 23);
        assert!(USAGE.starts_with("\nsnmove - Move xCAT compute nodes from one xCAT service node to a \nbackup"));
        assert!(USAGE.contains("[[-D|--dest ]  sn2n]"));
        assert!(USAGE.contains("\t\t[[-D|--destn]  sn2n] [-i|--ignorenodes] \n"));
    }
}
