//! Helpers shared by the commands of this workspace (feature `cli`): store selection and the
//! man page and shell completions generated from each command's one clap definition.

use std::io::Write;

/// What `--generate` can produce.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Generate {
    /// A roff man page on stdout.
    Man,
    /// bash completions.
    CompleteBash,
    /// zsh completions.
    CompleteZsh,
    /// fish completions.
    CompleteFish,
}

/// Writes the man page or completions for `cmd` to stdout.
pub fn generate(mut cmd: clap::Command, what: Generate) -> std::io::Result<()> {
    let name = cmd.get_name().to_string();
    let mut out = std::io::stdout().lock();
    match what {
        Generate::Man => clap_mangen::Man::new(cmd).render(&mut out)?,
        Generate::CompleteBash => {
            clap_complete::generate(clap_complete::Shell::Bash, &mut cmd, name, &mut out)
        }
        Generate::CompleteZsh => {
            clap_complete::generate(clap_complete::Shell::Zsh, &mut cmd, name, &mut out)
        }
        Generate::CompleteFish => {
            clap_complete::generate(clap_complete::Shell::Fish, &mut cmd, name, &mut out)
        }
    }
    out.flush()
}

/// What xCAT's client (2.14 and later) puts after `Error: ` in a message that a plugin sent
/// through xcatd: `[server]: `, the management node's short host name (xcatd's
/// `$MYXCATSERVER`, the host name up to its first dot). Empty when the host name is unknown.
/// xcatd's own refusals (an invalid noderange) carry no source and get no prefix.
///
/// ```
/// let p = xcattab::cli::xcatd_source();
/// assert!(p.is_empty() || (p.starts_with('[') && p.ends_with("]: ")));
/// ```
pub fn xcatd_source() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
    let short = host.trim().split('.').next().unwrap_or("");
    if short.is_empty() || short == "0" {
        String::new()
    } else {
        format!("[{short}]: ")
    }
}

/// What reaches xCAT's client through xcatd: xcatd replaces every byte outside
/// `\x09`–`\x7f` of its XML reply with `?` (`tr/\011-\177/?/c` in send_response), so a
/// UTF-8 value prints as one `?` per byte (values read from SQLite are bytes) and control
/// characters other than tab, newline and carriage return print as `?`.
///
/// ```
/// assert_eq!(xcattab::cli::xcatd_wire("caf\u{e9}\t\u{1}x\n"), "caf??\t?x\n");
/// ```
pub fn xcatd_wire(s: &str) -> std::borrow::Cow<'_, str> {
    if s.bytes().all(|b| (0x09..=0x7f).contains(&b)) {
        return std::borrow::Cow::Borrowed(s);
    }
    s.bytes()
        .map(|b| {
            if (0x09..=0x7f).contains(&b) {
                b as char
            } else {
                '?'
            }
        })
        .collect::<String>()
        .into()
}

/// [`xcatd_wire`] for text that xcatd got from the request (arguments, the lines of a
/// tabrestore file): XML::Parser decoded it into characters, so each non-ASCII character,
/// not each byte, becomes one `?`. Error messages echo such text.
///
/// ```
/// assert_eq!(xcattab::cli::xcatd_wire_chars("No such table: t\u{e9}"), "No such table: t?");
/// ```
pub fn xcatd_wire_chars(s: &str) -> std::borrow::Cow<'_, str> {
    if s.bytes().all(|b| (0x09..=0x7f).contains(&b)) {
        return std::borrow::Cow::Borrowed(s);
    }
    s.chars()
        .map(|c| {
            if ('\u{9}'..='\u{7f}').contains(&c) {
                c
            } else {
                '?'
            }
        })
        .collect::<String>()
        .into()
}

/// The version string printed by `-v`.
pub fn version() -> String {
    format!(
        "Version {} (snmove workspace, Rust reimplementation)",
        env!("CARGO_PKG_VERSION")
    )
}

/// The message Perl's Getopt::Long prints for a command line that clap refused (xCAT's
/// commands print it, then their usage): `Unknown option: x`, `Option f requires an argument`,
/// `Value "abc" invalid for option n (number expected)`; clap's own text otherwise.
///
/// Getopt names the option as it was typed (`-p` → `p`, `--path` → `path`); clap reports the
/// long name, so the short one is used unless the command line spells the long one.
pub fn getopt_message(e: &clap::Error, cmd: &clap::Command) -> String {
    let mut msg = getopt_complaint(e);
    let argv: Vec<String> = std::env::args_os()
        .skip(1)
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    for a in cmd.get_arguments() {
        let (Some(long), Some(short)) = (a.get_long(), a.get_short()) else {
            continue;
        };
        let typed_long = argv
            .iter()
            .any(|x| x == &format!("--{long}") || x.starts_with(&format!("--{long}=")));
        if !typed_long {
            msg = msg.replace(&format!("ption {long} "), &format!("ption {short} "));
        }
    }
    msg
}

fn getopt_complaint(e: &clap::Error) -> String {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    let arg = || match e.get(ContextKind::InvalidArg) {
        Some(ContextValue::String(s)) => s.clone(),
        _ => String::new(),
    };
    // "-f <FILENAME>" / "--lines <N>" → "f" / "lines"
    let name = |s: String| {
        let s = s.split([' ', '=']).next().unwrap_or("").to_string();
        s.trim_start_matches('-').to_string()
    };
    match e.kind() {
        ErrorKind::TooManyValues | ErrorKind::UnknownArgument
            if e.to_string().contains("unexpected value") =>
        {
            format!("Option {} does not take an argument", name(arg()))
        }
        ErrorKind::UnknownArgument => format!("Unknown option: {}", name(arg())),
        ErrorKind::InvalidValue
            if e.get(ContextKind::InvalidValue)
                .is_some_and(|v| matches!(v, ContextValue::String(s) if s.is_empty())) =>
        {
            format!("Option {} requires an argument", name(arg()))
        }
        ErrorKind::ValueValidation => {
            let value = match e.get(ContextKind::InvalidValue) {
                Some(ContextValue::String(s)) => s.clone(),
                _ => String::new(),
            };
            format!(
                "Value \"{value}\" invalid for option {} (number expected)",
                name(arg())
            )
        }
        _ => e.render().to_string().trim_end().to_string(),
    }
}

/// Getopt::Long matches long option names ignoring case (`--BLAME`, `--Version`): lower-cases
/// the name (not a `=value`) of every `--name` argument before a lone `--`.
///
/// ```
/// let argv = ["nodels", "--BLAME", "--DB=CSV:/X", "Cn1", "--", "--Keep"].map(Into::into);
/// let out: Vec<std::ffi::OsString> = xcattab::cli::lowercase_long_options(argv.to_vec());
/// assert_eq!(out, ["nodels", "--blame", "--db=CSV:/X", "Cn1", "--", "--Keep"]);
/// ```
pub fn lowercase_long_options(argv: Vec<std::ffi::OsString>) -> Vec<std::ffi::OsString> {
    let mut done = false;
    argv.into_iter()
        .enumerate()
        .map(|(i, arg)| {
            let Some(a) = arg
                .to_str()
                .filter(|a| i > 0 && !done && a.starts_with("--"))
            else {
                return arg;
            };
            if a == "--" {
                done = true;
                return arg;
            }
            match a.split_once('=') {
                Some((name, value)) => format!("{}={value}", name.to_lowercase()).into(),
                None => a.to_lowercase().into(),
            }
        })
        .collect()
}

/// Whether clap refused one of this workspace's own long options (`--db`, `--generate`), which
/// deserve clap's explanation; xCAT's own options are answered with xCAT's usage text only.
pub fn is_own_option_error(e: &clap::Error) -> bool {
    use clap::error::{ContextKind, ContextValue};
    match e.get(ContextKind::InvalidArg) {
        Some(ContextValue::String(s)) => s.starts_with("--db") || s.starts_with("--generate"),
        _ => false,
    }
}

/// The options `dumpxCATdb` and `restorexCATdb` share (each adds its own `-b` and `-p`), and
/// their common start: `--generate`, `-h`, `-v`, the store, the refusal of binary backups.
#[derive(Debug, clap::Args)]
pub struct BackupArgs {
    /// Show usage.
    #[arg(short = 'h', long = "help")]
    pub help: bool,
    /// Show the version.
    #[arg(short = 'v', long = "version")]
    pub version: bool,
    /// Include the auditlog and eventlog tables.
    #[arg(short = 'a', long = "all")]
    pub all: bool,
    /// Print each table as it is copied or skipped.
    #[arg(short = 'V', long = "verbose")]
    pub verbose: bool,
    /// The xCAT database (CSV:/dir, SQLite:/dir, Pg:…); default: XCATCFG, then the first line
    /// of /etc/xcat/cfgloc, then SQLite:/etc/xcat.
    #[arg(long = "db", value_name = "STORE")]
    pub db: Option<String>,
    /// Generate the man page or shell completions and exit.
    #[arg(long, value_enum, hide = true)]
    pub generate: Option<Generate>,
}

/// Parses the words of `dumpxCATdb` or `restorexCATdb` (whose options, unlike the other
/// commands', are read on the client): a refused command line prints Getopt::Long's complaint,
/// then `usage`, both on stderr, and gives exit code 1.
pub fn parse_backup_args<A: clap::Parser>(usage: &str) -> Result<A, std::process::ExitCode> {
    A::try_parse().map_err(|e| {
        eprintln!("{}", getopt_message(&e, &A::command()));
        eprintln!("{usage}");
        std::process::ExitCode::from(1)
    })
}

impl BackupArgs {
    /// Handles what ends the command before any table is read, as xCAT's commands do, in their
    /// order: `--generate` (for `cmd`), `-h` (prints `usage`), `-v`, the command's own `-p`
    /// checks (`path`: prints its message and gives the exit code, or the directory), then
    /// `-b` (`binary`), which is refused for every store kind, then opening the selected store.
    /// `Ok` carries the open store and the directory; `Err` the exit code, with the message
    /// already printed.
    pub fn start(
        &self,
        cmd: clap::Command,
        usage: &str,
        path: impl FnOnce() -> Result<std::path::PathBuf, std::process::ExitCode>,
        binary: bool,
    ) -> Result<(Box<dyn crate::store::Store>, std::path::PathBuf), std::process::ExitCode> {
        use std::process::ExitCode;
        if let Some(g) = self.generate {
            return Err(match generate(cmd, g) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("{e}");
                    ExitCode::from(1)
                }
            });
        }
        if self.help {
            println!("{usage}");
            return Err(ExitCode::SUCCESS);
        }
        if self.version {
            println!("{}", version());
            return Err(ExitCode::SUCCESS);
        }
        let path = path()?;
        let spec = match crate::store::select_spec(
            self.db.as_deref(),
            std::env::var("XCATCFG").ok(),
            std::path::Path::new(crate::store::CFGLOC),
        ) {
            Ok((spec, _)) => spec,
            Err(e) => {
                eprintln!("{e}");
                return Err(ExitCode::from(1));
            }
        };
        if binary {
            let kind = match &spec {
                crate::store::StoreSpec::Pg(_) => "PG",
                crate::store::StoreSpec::Mysql(_) => "MYSQL",
                crate::store::StoreSpec::Db2(_) => "DB2",
                _ => "SQLITE",
            };
            eprintln!("Binary dump (-b) is not supported for {kind}");
            return Err(ExitCode::from(1));
        }
        match crate::store::open(&spec) {
            Ok(store) => Ok((store, path)),
            Err(e) => {
                eprintln!("{e}");
                Err(ExitCode::from(1))
            }
        }
    }
}
