//! `restorexCATdb` — restore the xCAT database from a directory of tabdump CSV files (as
//! `dumpxCATdb -p DIR` writes them), on any store. Unlike xCAT's command, which restores file
//! by file and carries on after errors, all files are checked first and written in one commit:
//! one bad file and nothing is written.

#![allow(non_snake_case)]

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{CommandFactory, Parser};
use xcattab::cli::BackupArgs;
use xcattab::store::transfer;

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
    disable_help_flag = true,
    args_override_self = true
)]
struct Args {
    #[command(flatten)]
    common: BackupArgs,
    /// Binary restore with the database's own tool (not supported here: use pg_restore).
    #[arg(short = 'b', long = "binary")]
    binary: bool,
    /// Timestamp of a binary backup (with -b only).
    #[arg(short = 't', long = "timestamp", value_name = "TIMESTAMP")]
    timestamp: Option<String>,
    /// The directory holding the files.
    #[arg(short = 'p', long = "path", value_name = "DIR")]
    path: Option<PathBuf>,
}

fn main() -> ExitCode {
    let args: Args = match xcattab::cli::parse_backup_args(USAGE) {
        Ok(a) => a,
        Err(code) => return code,
    };
    // xCAT checks the directory before it looks at -b or the database.
    let path = args.path.clone();
    let (store, path) = match args.common.start(
        Args::command(),
        USAGE,
        || {
            let Some(path) = path else {
                eprintln!(" -p with path to database files is required \n");
                return Err(ExitCode::from(1));
            };
            if !path.exists() {
                eprintln!(" Input path must exist \n");
                return Err(ExitCode::from(1));
            }
            Ok(path)
        },
        args.binary,
    ) {
        Ok(started) => started,
        Err(code) => return code,
    };
    let skiptables = match transfer::site_skiptables(&*store) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(1);
        }
    };
    let skips = transfer::Skips::new(args.common.all, skiptables.as_deref());
    match transfer::restore_from_dir(&*store, &path, &skips) {
        Ok(report) => {
            if args.common.verbose {
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
