//! `tabrestore` — replace (or with `-a` extend) an xCAT table from a tabdump CSV file, as
//! xCAT's command does: the table name is the file's base name up to the first dot, every bad
//! line is reported, and any error leaves the table exactly as it was.

use std::process::ExitCode;

use clap::{CommandFactory, Parser};
use xcattab::cli::{generate, version, Generate};
use xcattab::store;
use xcattab::{Batch, Op};

/// Restore an xCAT table from a CSV file written by tabdump.
///
/// The table is named by the file: its base name up to the first dot (noderes.csv and
/// noderes.bak.csv both restore noderes). Without -a the table's rows are replaced by the
/// file's; with -a the file's rows are added. The header may name any of the table's columns
/// in any order. Every bad line is reported (line numbers count data lines from 0); if there
/// is any error nothing is written. Exit code: 1 for header errors, 4 for line errors, 3 if
/// the file cannot be read.
#[derive(Parser, Debug)]
#[command(
    name = "tabrestore",
    disable_version_flag = true,
    disable_help_flag = true,
    args_override_self = true,
    infer_long_args = true
)]
struct Args {
    /// Show xCAT's usage text (--help shows this help).
    #[arg(short = 'h', visible_short_alias = '?', action = clap::ArgAction::SetTrue)]
    usage: bool,
    /// Show this help.
    #[arg(long = "help", action = clap::ArgAction::Help)]
    help: Option<bool>,
    /// Show the version.
    #[arg(short = 'v', long = "version")]
    version: bool,
    /// Add the rows to the table instead of replacing its content.
    #[arg(short = 'a', long = "addrows")]
    append: bool,
    /// The xCAT database (CSV:/dir, SQLite:/dir, Pg:…); default: $XCATCFG, then
    /// /etc/xcat/cfgloc.
    #[arg(long = "db", value_name = "STORE")]
    db: Option<String>,
    /// Generate the man page or shell completions and exit.
    #[arg(long, value_enum, value_name = "WHAT")]
    generate: Option<Generate>,
    /// The CSV file; its name up to the first dot names the table.
    file: Option<std::path::PathBuf>,
    /// Ignored (xCAT only reads the first file).
    #[arg(hide = true)]
    rest: Vec<String>,
}

const USAGE: &str = "Usage: tabrestore <tablename>.csv
       tabrestore -a <tablename>.csv
       tabrestore [-?|-h|--help]
       tabrestore [-v|--version]";

fn usage(code: u8) -> ExitCode {
    println!("{USAGE}");
    ExitCode::from(code)
}

/// Rewrites the command line as xCAT's tabrestore client reads it (Getopt::Long defaults: no
/// bundling, so `-addrows` is the long option `addrows` and `-ah` is the unknown option `ah`;
/// option names ignore case). Arguments after `--` are left alone.
fn getopt_defaults(argv: Vec<std::ffi::OsString>) -> Vec<std::ffi::OsString> {
    let mut out = Vec::with_capacity(argv.len());
    let mut it = argv.into_iter();
    out.extend(it.next());
    for arg in it.by_ref() {
        let Some(a) = arg.to_str().map(str::to_string) else {
            out.push(arg);
            continue;
        };
        if a == "--" {
            out.push(arg);
            break;
        }
        let (name, value) = match a.split_once('=') {
            Some((n, v)) => (n, Some(v)),
            None => (a.as_str(), None),
        };
        let rewritten = if let Some(long) = name.strip_prefix("--") {
            format!("--{}", long.to_lowercase())
        } else if let Some(short) = name.strip_prefix('-').filter(|s| !s.is_empty()) {
            if short.chars().count() == 1 {
                format!("-{}", short.to_lowercase())
            } else {
                format!("--{}", short.to_lowercase())
            }
        } else {
            out.push(arg);
            continue;
        };
        out.push(match value {
            Some(v) => format!("{rewritten}={v}").into(),
            None => rewritten.into(),
        });
    }
    out.extend(it);
    out
}

fn main() -> ExitCode {
    let args = match Args::try_parse_from(getopt_defaults(std::env::args_os().collect())) {
        Ok(a) => a,
        Err(e) if e.kind() == clap::error::ErrorKind::DisplayHelp => {
            let _ = e.print();
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("{}", xcattab::cli::getopt_message(&e, &Args::command()));
            return usage(1);
        }
    };
    if let Some(g) = args.generate {
        return match generate(Args::command(), g) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("Error: {e}");
                ExitCode::from(1)
            }
        };
    }
    if args.version {
        println!("{}", version());
        return ExitCode::SUCCESS;
    }
    if args.usage {
        return usage(0);
    }
    // The client takes the first argument that does not start with `-` (`--` then `-x.csv`
    // leaves no file: usage).
    let file = args
        .file
        .into_iter()
        .chain(args.rest.into_iter().map(std::path::PathBuf::from))
        .find(|f| !f.as_os_str().to_string_lossy().starts_with('-'));
    let Some(file) = file else {
        return usage(2);
    };
    let bytes = match std::fs::read(&file) {
        Ok(b) => b,
        // Perl opens a directory and reads no line from it: the request has no data.
        Err(_) if file.is_dir() => Vec::new(),
        Err(_) => {
            // xCAT's client prints this one on stdout.
            println!("Error: Unable to open {} for reading.", file.display());
            return ExitCode::from(3);
        }
    };
    let base = file
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_default();
    let table = base.split('.').next().unwrap_or("").to_string();
    let fail = |msg: String, code: u8| {
        // Past reading the file, errors come from xcatd's plugin: `Error: [server]: …`.
        eprintln!(
            "Error: {}{}",
            xcattab::cli::xcatd_source(),
            xcattab::cli::xcatd_wire_chars(&msg)
        );
        ExitCode::from(code)
    };
    if table.starts_with("x_teal") {
        return fail(
            format!("{table} is not supported in tabrestore. Use Teal maintenance commands. "),
            1,
        );
    }
    if xcattab::schema::table(&table).is_none() {
        return fail(format!("Unable to open {table}"), 4);
    }
    let text = match String::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => {
            let good = &e.as_bytes()[..e.utf8_error().valid_up_to()];
            let line = good.iter().filter(|&&b| b == b'\n').count() + 1;
            return fail(
                format!(
                    "{}: {}",
                    file.display(),
                    xcattab::csv::CsvError::NotUtf8 { physical: line }
                ),
                1,
            );
        }
    };
    let (store, _) = match store::open_selected(args.db.as_deref()) {
        Ok(s) => s,
        Err(e) => return fail(e.to_string(), 1),
    };
    let db = match store.load(&[&table]) {
        Ok(db) => db,
        Err(e) => return fail(e.to_string(), 1),
    };
    let Some(old) = db.table(&table) else {
        return fail(format!("Unable to open {table}"), 4);
    };
    let mut new = old.clone();
    if let Err(errors) = xcattab::csv::restore_into(&mut new, &text, args.append) {
        for e in &errors.errors {
            eprintln!(
                "Error: {}{}",
                xcattab::cli::xcatd_source(),
                xcattab::cli::xcatd_wire_chars(&e.to_string())
            );
        }
        return ExitCode::from(errors.exit_code());
    }
    let mut batch = Batch::new();
    // Refuse if another writer changed the table between our read and our write.
    batch.expect_tables.push(old.clone());
    batch.push(Op::Replace(new));
    match store.commit(&batch) {
        Ok(_) => ExitCode::SUCCESS,
        Err(e) => fail(e.to_string(), 1),
    }
}
