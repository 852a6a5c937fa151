//! `tabrestore` — replace (or with `-a` extend) an xCAT table from a tabdump CSV file, as
//! xCAT's command does: the table name is the file's base name up to the first dot, and any
//! error leaves the table exactly as it was.

use std::process::ExitCode;

use clap::Parser;
use xcattab::cli::{generate, version, Generate};
use xcattab::store::{self, Store as _};
use xcattab::{Batch, Op};

/// Restore an xCAT table from a CSV file written by tabdump.
#[derive(Parser, Debug)]
#[command(name = "tabrestore", disable_version_flag = true, disable_help_flag = true)]
struct Args {
    /// Show usage.
    #[arg(short = 'h', visible_short_alias = '?', long = "help", action = clap::ArgAction::Help)]
    help: Option<bool>,
    /// Show the version.
    #[arg(short = 'v', long = "version")]
    version: bool,
    /// Add the rows to the table instead of replacing its content.
    #[arg(short = 'a', long = "addrows")]
    append: bool,
    /// The xCAT database (CSV:/dir, ...); default: XCATCFG, then /etc/xcat/cfgloc.
    #[arg(long = "db", value_name = "STORE")]
    db: Option<String>,
    /// Generate the man page or shell completions and exit.
    #[arg(long, value_enum, hide = true)]
    generate: Option<Generate>,
    /// The CSV file; its name up to the first dot names the table (noderes.csv → noderes).
    file: Option<std::path::PathBuf>,
}

fn main() -> ExitCode {
    let args = match Args::try_parse() {
        Ok(a) => a,
        Err(e) if e.kind() == clap::error::ErrorKind::DisplayHelp => {
            let _ = e.print();
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(1);
        }
    };
    if let Some(g) = args.generate {
        use clap::CommandFactory;
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
    let Some(file) = args.file else {
        use clap::CommandFactory;
        let _ = Args::command().print_help();
        return ExitCode::from(1);
    };
    let text = match std::fs::read(&file) {
        Ok(b) => String::from_utf8_lossy(&b).into_owned(),
        Err(_) => {
            eprintln!("Error: Unable to open {} for reading.", file.display());
            return ExitCode::from(3);
        }
    };
    let base = file.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default();
    let table = base.split('.').next().unwrap_or("").to_string();
    if table.starts_with("x_teal") {
        eprintln!("Error: {table} table is not supported in tabrestore. Use Teal maintenance commands. ");
        return ExitCode::from(1);
    }
    let (store, _) = match store::open_selected(args.db.as_deref()) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("Error: {e}");
            return ExitCode::from(1);
        }
    };
    let known = xcattab::schema::table(&table).is_some()
        || store.list_tables().map(|t| t.contains(&table)).unwrap_or(false);
    if !known {
        eprintln!("Error: Unable to open {table}");
        return ExitCode::from(4);
    }
    let db = match store.load(&[&table]) {
        Ok(db) => db,
        Err(e) => {
            eprintln!("Error: {e}");
            return ExitCode::from(1);
        }
    };
    let Some(old) = db.table(&table) else {
        eprintln!("Error: Unable to open {table}");
        return ExitCode::from(4);
    };
    let mut new = old.clone();
    if let Err(errors) = xcattab::csv::restore_into(&mut new, &text, args.append) {
        for e in &errors.errors {
            eprintln!("Error: {e}");
        }
        return ExitCode::from(errors.exit_code());
    }
    let mut batch = Batch::new();
    // Refuse if another writer changed the table between our read and our write.
    batch.expect_tables.push(old.clone());
    batch.push(Op::Replace(new));
    match store.commit(&batch) {
        Ok(_) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("Error: {e}");
            ExitCode::from(1)
        }
    }
}
