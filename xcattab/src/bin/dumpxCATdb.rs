//! `dumpxCATdb` — write every table of the xCAT database to a directory of tabdump CSV files,
//! as xCAT's command does (`tabdump -f DIR/<table>.csv <table>` for every table), on any store.

#![allow(non_snake_case)]

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{CommandFactory, Parser};
use xcattab::cli::BackupArgs;
use xcattab::store::transfer;

const USAGE: &str = " dumpxCATdb -h \n dumpxCATdb -v \n dumpxCATdb [-a] [-V] <-p> [path to backup directory] \n dumpxCATdb -b [-V] <-p> [path to backup directory]";

/// Dump the xCAT database to a directory of CSV files, one per table (restorexCATdb reads
/// them back).
///
/// Every schema table is written (header only when empty) plus any other table the store
/// holds. Skipped: auditlog and eventlog (unless -a), x_teal*, isnm_perf*, and the tables
/// named in XCAT_SKIPTABLES or else site.skiptables.
#[derive(Parser, Debug)]
#[command(
    name = "dumpxCATdb",
    disable_version_flag = true,
    disable_help_flag = true,
    args_override_self = true
)]
struct Args {
    #[command(flatten)]
    common: BackupArgs,
    /// Binary dump with the database's own tool (not supported here: use pg_dump).
    #[arg(short = 'b', long = "bin")]
    binary: bool,
    /// The directory to write the files to (created if missing).
    #[arg(short = 'p', long = "path", value_name = "DIR")]
    path: Option<PathBuf>,
}

fn main() -> ExitCode {
    let args: Args = match xcattab::cli::parse_backup_args(USAGE) {
        Ok(a) => a,
        Err(code) => return code,
    };
    // xCAT checks (and creates) the directory before it looks at -b or the database.
    let path = args.path.clone();
    let (store, path) = match args.common.start(
        Args::command(),
        USAGE,
        || {
            let Some(path) = path else {
                eprintln!(" Requires -p with path to directory to hold db files.");
                return Err(ExitCode::from(1));
            };
            if !path.exists() {
                println!(" Creating {} for database dump", path.display());
                if let Err(e) = std::fs::create_dir_all(&path) {
                    eprintln!("Error running mkdir -p {}: {e}", path.display());
                    return Err(ExitCode::from(1));
                }
            }
            Ok(path)
        },
        args.binary,
    ) {
        Ok(started) => started,
        Err(code) => return code,
    };
    let skiptables = match std::env::var("XCAT_SKIPTABLES")
        .ok()
        .filter(|s| !s.is_empty())
    {
        Some(s) => Some(s),
        None => match transfer::site_skiptables(&*store) {
            Ok(s) => s,
            Err(e) => {
                eprintln!("{e}");
                return ExitCode::from(1);
            }
        },
    };
    let skips = transfer::Skips::new(args.common.all, skiptables.as_deref());
    match transfer::dump_to_dir(&*store, &path, &skips) {
        Ok(report) => {
            if args.common.verbose {
                for line in report.verbose_lines(false) {
                    println!("{line}");
                }
            }
            println!("Backup Complete.");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{e}");
            println!("Backup Failed.");
            ExitCode::from(1)
        }
    }
}
