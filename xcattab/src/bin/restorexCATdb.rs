//! `restorexCATdb` — restore the xCAT database from a directory of tabdump CSV files (as
//! `dumpxCATdb -p DIR` writes them), on any store. Unlike xCAT's command, which restores file
//! by file and carries on after errors, all files are checked first and written in one commit:
//! one bad file and nothing is written.

#![allow(non_snake_case)]

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use xcattab::cli::{generate, version, Generate};
use xcattab::store::{self, transfer};

const USAGE: &str = " restorexCATdb  -h \n restorexCATdb -v \n restorexCATdb [-a] [-V] <-p> [path to restore .csv files]\n restorexCATdb -b [-V] <-t> [timestamp on restore backup file]  <-p> [path to restore backup file]";

/// Restore the xCAT database from a directory of CSV files written by dumpxCATdb.
///
/// Every file is restored as tabrestore would (the table is the file name up to the first
/// dot); all of them in one commit. Skipped: auditlog and eventlog (unless -a), x_teal*,
/// isnm_perf*, and the tables named in site.skiptables.
#[derive(Parser, Debug)]
#[command(
    name = "restorexCATdb",
    disable_version_flag = true,
    disable_help_flag = true
)]
struct Args {
    /// Show usage.
    #[arg(short = 'h', long = "help")]
    help: bool,
    /// Show the version.
    #[arg(short = 'v', long = "version")]
    version: bool,
    /// Also restore the auditlog and eventlog tables.
    #[arg(short = 'a', long = "all")]
    all: bool,
    /// Binary restore with the database's own tool (not supported here: use pg_restore).
    #[arg(short = 'b', long = "binary")]
    binary: bool,
    /// Timestamp of a binary backup (with -b only).
    #[arg(short = 't', long = "timestamp", value_name = "TIMESTAMP")]
    timestamp: Option<String>,
    /// Print each file as it is restored or skipped.
    #[arg(short = 'V', long = "verbose")]
    verbose: bool,
    /// The directory holding the files.
    #[arg(short = 'p', long = "path", value_name = "DIR")]
    path: Option<PathBuf>,
    /// The xCAT database (CSV:/dir, SQLite:/dir, Pg:…); default: XCATCFG, then the first line
    /// of /etc/xcat/cfgloc, then SQLite:/etc/xcat.
    #[arg(long = "db", value_name = "STORE")]
    db: Option<String>,
    /// Generate the man page or shell completions and exit.
    #[arg(long, value_enum, hide = true)]
    generate: Option<Generate>,
}

fn main() -> ExitCode {
    let args = match Args::try_parse() {
        Ok(a) => a,
        Err(_) => {
            eprintln!("{USAGE}");
            return ExitCode::from(1);
        }
    };
    if let Some(g) = args.generate {
        use clap::CommandFactory;
        return match generate(Args::command(), g) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("{e}");
                ExitCode::from(1)
            }
        };
    }
    if args.help {
        println!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    if args.version {
        println!("{}", version());
        return ExitCode::SUCCESS;
    }
    let (store, _) = match store::open_selected(args.db.as_deref()) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(1);
        }
    };
    if args.binary {
        let kind = match store.spec() {
            store::StoreSpec::Pg(_) => "PG",
            store::StoreSpec::Mysql(_) => "MYSQL",
            store::StoreSpec::Db2(_) => "DB2",
            _ => "SQLITE",
        };
        eprintln!("Binary dump (-b) is not supported for {kind}");
        return ExitCode::from(1);
    }
    let Some(path) = args.path else {
        eprintln!(" -p with path to database files is required \n");
        return ExitCode::from(1);
    };
    if !path.exists() {
        eprintln!(" Input path must exist \n");
        return ExitCode::from(1);
    }
    let skiptables = match transfer::site_skiptables(&*store) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(1);
        }
    };
    let skips = transfer::Skips::new(args.all, skiptables.as_deref());
    match transfer::restore_from_dir(&*store, &path, &skips) {
        Ok(report) => {
            if args.verbose {
                for line in report.verbose_lines(true) {
                    println!("{line}");
                }
            }
            println!("Restore of Database Complete.");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{e}");
            eprintln!("Restore Failed: nothing was written.");
            ExitCode::from(1)
        }
    }
}
