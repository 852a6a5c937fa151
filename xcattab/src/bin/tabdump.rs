//! `tabdump` — print an xCAT table in tabdump CSV form, as xCAT's command does.

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;
use xcattab::cli::{generate, version, Generate};
use xcattab::store::{self, Store as _};
use xcattab::table::Table;

/// Display an xCAT database table in CSV format.
///
/// Without a table, lists the tables of the schema. Values print exactly as xCAT's tabdump
/// prints them; disabled rows are included unless -w filters are given.
#[derive(Parser, Debug)]
#[command(name = "tabdump", disable_version_flag = true, disable_help_flag = true)]
struct Args {
    /// Show usage.
    #[arg(short = 'h', visible_short_alias = '?', long = "help", action = clap::ArgAction::Help)]
    help: Option<bool>,
    /// Show the version.
    #[arg(short = 'v', long = "version")]
    version: bool,
    /// Show the table's columns instead of its rows (descriptions are not carried).
    #[arg(short = 'd')]
    desc: bool,
    /// Write the dump to this file instead of stdout.
    #[arg(short = 'f', value_name = "FILENAME")]
    file: Option<std::path::PathBuf>,
    /// Only the last N records (auditlog and eventlog only).
    #[arg(short = 'n', long = "lines", value_name = "N")]
    lines: Option<usize>,
    /// Filter rows: attr==val, attr!=val, attr=~val (SQL LIKE, % wildcards), attr!~val, <, <=,
    /// >, >=. Several -w are ANDed; disabled rows are then left out.
    #[arg(short = 'w', value_name = "attr<op>val")]
    filters: Vec<String>,
    /// The xCAT database (CSV:/dir, ...); default: XCATCFG, then /etc/xcat/cfgloc.
    #[arg(long = "db", value_name = "STORE")]
    db: Option<String>,
    /// Generate the man page or shell completions and exit.
    #[arg(long, value_enum, hide = true)]
    generate: Option<Generate>,
    /// The table.
    table: Option<String>,
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
    match run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(msg) => {
            eprintln!("Error: {msg}");
            ExitCode::from(1)
        }
    }
}

fn run(args: Args) -> Result<(), String> {
    if let Some(g) = args.generate {
        use clap::CommandFactory;
        return generate(Args::command(), g).map_err(|e| e.to_string());
    }
    if args.version {
        println!("{}", version());
        return Ok(());
    }
    if args.lines.is_some() && args.desc {
        return Err("You  cannot use the -n and -d flag together. ".into());
    }
    if args.lines.is_some() && !args.filters.is_empty() {
        return Err("You  cannot use the -n and -w flag together. ".into());
    }
    if args.lines.is_some() && args.file.is_some() {
        return Err("You  cannot use the -n and -f flag together. ".into());
    }
    let Some(table) = args.table else {
        if args.file.is_some() {
            return Err("table name missing from the command input. ".into());
        }
        let mut out = String::new();
        for t in xcattab::schema::tables() {
            out.push_str(t.name);
            out.push('\n');
        }
        return write_out(&out);
    };
    if let Some(n) = args.lines {
        if !table.starts_with("auditlog") && !table.starts_with("eventlog") {
            return Err(format!("{table} table is not supported in tabdump -n. You may only use this option on the auditlog or the eventlog."));
        }
        let _ = n;
    }
    if table.starts_with("x_teal") {
        return Err(format!("{table} table is not supported in tabdump. Use Teal maintenance commands. "));
    }
    if args.desc {
        let schema = xcattab::schema::table(&table).ok_or_else(|| format!("table {table} does not exist."))?;
        let mut out = String::new();
        for c in schema.columns {
            out.push_str(c);
            out.push_str(":\n");
        }
        return write_out(&out);
    }
    let (store, _) = store::open_selected(args.db.as_deref()).map_err(|e| e.to_string())?;
    let known = store.list_tables().map_err(|e| e.to_string())?.contains(&table);
    if xcattab::schema::table(&table).is_none() && !known {
        return Err(format!("No such table: {table}"));
    }
    let db = store.load(&[&table]).map_err(|e| e.to_string())?;
    let t = db.table(&table).ok_or_else(|| format!("No such table: {table}"))?;
    let mut view = schema_view(t);
    if !args.filters.is_empty() {
        let filters = args
            .filters
            .iter()
            .map(|w| xcattab::filter::Filter::parse(w))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| e.to_string())?;
        for f in &filters {
            if view.column_index(f.column()).is_none() {
                return Err(format!("No column \"{}\" in table \"{table}\"", f.column()));
            }
        }
        let cols: Vec<usize> = filters.iter().filter_map(|f| view.column_index(f.column())).collect();
        let all = view.clone();
        view.retain_rows(|r| all.row_enabled(r) && filters.iter().zip(&cols).all(|(f, &c)| f.matches(r[c].as_deref())));
    }
    if let Some(n) = args.lines {
        let skip = view.len().saturating_sub(n);
        let mut i = 0;
        view.retain_rows(|_| {
            i += 1;
            i > skip
        });
    }
    let text = xcattab::csv::dump(&view);
    match args.file {
        Some(path) => std::fs::write(&path, text).map_err(|e| {
            format!("Error on tabdump of {table} to {}. Unable to open the file for write. ({e})", path.display())
        }),
        None => write_out(&text),
    }
}

/// xCAT's tabdump shows the schema's columns only; columns the schema does not know stay in
/// the store but are not printed. Tables the schema does not know print as stored.
fn schema_view(t: &Table) -> Table {
    let Some(schema) = t.schema() else { return t.clone() };
    if t.columns().len() == schema.columns.len() {
        return t.clone();
    }
    let mut v = Table::new(t.name());
    let idx: Vec<Option<usize>> = schema.columns.iter().map(|c| t.column_index(c)).collect();
    for r in t.rows() {
        v.push_row(idx.iter().map(|i| i.and_then(|i| r[i].clone())).collect());
    }
    v
}

fn write_out(s: &str) -> Result<(), String> {
    let mut out = std::io::stdout().lock();
    match out.write_all(s.as_bytes()).and_then(|_| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.to_string()),
        _ => Ok(()),
    }
}
