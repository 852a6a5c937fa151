//! `tabdump` — print an xCAT table in tabdump CSV form, as xCAT's command does (same options,
//! output, messages and exit codes; see `tabdump --help`).

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;
use xcattab::cli::{generate, version, Generate};
use xcattab::store;
use xcattab::table::Table;

/// Display an xCAT database table in CSV format.
///
/// Without a table, lists the tables of the schema. Values print exactly as xCAT's tabdump
/// prints them: every non-empty value in double quotes (a `"` doubled), NULL and the empty
/// string as an empty field, rows in storage order, disabled rows included unless -w filters
/// are given. The store is --db, else $XCATCFG, else the first line of /etc/xcat/cfgloc.
#[derive(Parser, Debug)]
#[command(
    name = "tabdump",
    disable_version_flag = true,
    disable_help_flag = true,
    args_override_self = true
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
    /// Show the table's columns instead of its rows (with no table: every table).
    #[arg(short = 'd')]
    desc: bool,
    /// Write the dump to this file instead of stdout.
    #[arg(short = 'f', value_name = "FILENAME")]
    file: Option<std::path::PathBuf>,
    /// Only the records of the last N record ids (auditlog and eventlog only).
    #[arg(short = 'n', long = "lines", value_name = "N")]
    lines: Option<i64>,
    /// Filter rows: attr==val, attr!=val, attr=~val (SQL LIKE, % wildcards), attr!~val, <, <=,
    /// >, >=. Several -w are ANDed; disabled rows are then left out.
    #[arg(short = 'w', value_name = "attr<op>val")]
    filters: Vec<String>,
    /// The xCAT database (CSV:/dir, SQLite:/dir, Pg:…); default: $XCATCFG, then
    /// /etc/xcat/cfgloc.
    #[arg(long = "db", value_name = "STORE")]
    db: Option<String>,
    /// Generate the man page or shell completions and exit.
    #[arg(long, value_enum, value_name = "WHAT")]
    generate: Option<Generate>,
    /// The table.
    table: Vec<String>,
    /// Arguments after the table (xCAT's option parsing stops at the table name).
    #[arg(skip)]
    after_table: usize,
}

/// Splits the command line as xCAT's tabdump parses it: Getopt::Long with `posix_default` and
/// `bundling` stops at the first argument that is not an option, so everything after the table
/// name is an argument too (`tabdump site -w key==master` names two tables: usage, exit 1).
/// Returns what clap parses (the options before the table, the table, and this workspace's own
/// `--db`/`--generate` wherever they are) and how many arguments follow the table.
fn require_order(argv: Vec<std::ffi::OsString>) -> (Vec<std::ffi::OsString>, usize) {
    let ours = |a: &str| a == "--db" || a == "--generate";
    let ours_attached = |a: &str| a.starts_with("--db=") || a.starts_with("--generate=");
    let mut head = Vec::with_capacity(argv.len());
    let mut after = 0;
    let mut table_seen = false;
    let mut it = argv.into_iter();
    if let Some(prog) = it.next() {
        head.push(prog);
    }
    while let Some(arg) = it.next() {
        let a = arg.to_string_lossy().into_owned();
        if table_seen {
            if ours(&a) {
                head.push(arg);
                head.extend(it.next());
            } else if ours_attached(&a) {
                head.push(arg);
            } else {
                after += 1;
            }
            continue;
        }
        if a == "--" {
            head.push(arg);
            head.extend(it.next());
            after += it.count();
            break;
        }
        let takes_next = if let Some(long) = a.strip_prefix("--") {
            !long.contains('=') && matches!(long, "db" | "generate" | "lines")
        } else if let Some(bundle) = a.strip_prefix('-').filter(|b| !b.is_empty()) {
            // The first of -f, -n, -w in a bundle takes the rest of it, else the next argument.
            bundle
                .char_indices()
                .find(|(_, c)| matches!(c, 'f' | 'n' | 'w'))
                .is_some_and(|(i, _)| i + 1 == bundle.len())
        } else {
            table_seen = true;
            false
        };
        head.push(arg);
        if takes_next {
            head.extend(it.next());
        }
    }
    (head, after)
}

const USAGE: &str = "Usage: tabdump [-d] [table]
       tabdump      [table]
       tabdump [-f <filename>]  [table]
       tabdump [-n <# of records>]  [auditlog | eventlog]
       tabdump [-w attr==val [-w attr=~val] ...] [table]
       tabdump [-w attr==val [-w attr=~val] ...] [-f <filename>] [table]
       tabdump [-?|-h|--help]
       tabdump {-v|--version}
       tabdump ";

/// A failure: the message (printed as `Error: …` on stderr) and the exit code.
struct Fail(String, u8);

fn fail(msg: impl Into<String>) -> Fail {
    Fail(msg.into(), 1)
}

fn main() -> ExitCode {
    let (argv, after_table) = require_order(xcattab::cli::lowercase_long_options(
        std::env::args_os().collect(),
    ));
    let mut args = match Args::try_parse_from(argv) {
        Ok(a) => a,
        Err(e) if e.kind() == clap::error::ErrorKind::DisplayHelp => {
            let _ = e.print();
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            // xCAT prints its usage; Getopt's complaint goes to xcatd's stderr (/dev/null).
            // Only a mistake in this workspace's own options gets clap's explanation.
            if xcattab::cli::is_own_option_error(&e) {
                let _ = e.print();
            }
            println!("{USAGE}");
            return ExitCode::from(1);
        }
    };
    args.after_table = after_table;
    match run(args) {
        Ok(code) => ExitCode::from(code),
        Err(Fail(msg, code)) => {
            // Every error of tabdump comes from xcatd's plugin: `Error: [server]: …`.
            eprintln!(
                "Error: {}{}",
                xcattab::cli::xcatd_source(),
                xcattab::cli::xcatd_wire_chars(&msg)
            );
            ExitCode::from(code)
        }
    }
}

fn run(args: Args) -> Result<u8, Fail> {
    if let Some(g) = args.generate {
        use clap::CommandFactory;
        generate(Args::command(), g).map_err(|e| fail(e.to_string()))?;
        return Ok(0);
    }
    if args.version {
        write_out(&format!("{}\n", version()))?;
        return Ok(0);
    }
    if args.usage {
        write_out(&format!("{USAGE}\n"))?;
        return Ok(0);
    }
    // xCAT tests -n for truth: -n 0 is as if it were absent.
    let lines = args.lines.filter(|&n| n != 0);
    if lines.is_some() && args.desc {
        return Err(fail("You  cannot use the -n and -d flag together. "));
    }
    if lines.is_some() && !args.filters.is_empty() {
        return Err(fail("You  cannot use the -n and -w flag together. "));
    }
    if lines.is_some() && args.file.is_some() {
        return Err(fail("You  cannot use the -n and -f flag together. "));
    }
    if args.table.len() + args.after_table > 1 {
        write_out(&format!("{USAGE}\n"))?;
        return Ok(1);
    }
    let Some(table) = args.table.into_iter().next() else {
        if args.file.is_some() {
            return Err(fail("table name missing from the command input. "));
        }
        let mut names: Vec<String> = xcattab::schema::tables()
            .iter()
            .map(|t| {
                if args.desc {
                    describe(t.name)
                } else {
                    t.name.to_string()
                }
            })
            .collect();
        names.sort();
        let mut out = names.join("\n");
        out.push('\n');
        write_out(&out)?;
        return Ok(0);
    };
    if lines.is_some() && !table.starts_with("auditlog") && !table.starts_with("eventlog") {
        return Err(fail(format!(
            "{table} table is not supported in tabdump -n. You may only use this option on the auditlog or the eventlog."
        )));
    }
    if table.starts_with("x_teal") {
        return Err(fail(format!(
            "{table} table is not supported in tabdump. Use Teal maintenance commands. "
        )));
    }
    if args.desc {
        let schema = xcattab::schema::table(&table)
            .ok_or_else(|| fail(format!("table {table} does not exist.")))?;
        let text: Vec<String> = schema.columns.iter().map(|c| describe(c)).collect();
        write_out(&format!("{}\n", text.join("\n")))?;
        return Ok(0);
    }
    if xcattab::schema::table(&table).is_none() {
        return Err(fail(format!("No such table: {table}")));
    }
    let (store, _) = store::open_selected(args.db.as_deref()).map_err(|e| fail(e.to_string()))?;
    let db = store.load(&[&table]).map_err(|e| fail(e.to_string()))?;
    let stored = db
        .table(&table)
        .ok_or_else(|| fail(format!("No such table: {table}")))?;
    let mut view = schema_view(stored);
    // `-n 0` passes xCAT's truth tests as absent but still selects records above the highest
    // record id (none) on the tables that have one.
    let lines = lines.or(args.lines.filter(|_| view.column_index("recid").is_some()));
    if let Some(n) = lines {
        // Records whose recid is above (highest recid - N), enabled ones only.
        let rc = view.column_index("recid");
        let id = |r: &xcattab::Row| {
            rc.and_then(|c| r[c].as_deref())
                .and_then(|v| v.trim().parse::<i64>().ok())
        };
        let Some(max) = view.rows().iter().filter_map(id).max() else {
            write_out(&format!("Nothing to display from {table}.\n"))?;
            return Ok(0);
        };
        let all = view.clone();
        view.retain_rows(|r| {
            all.row_enabled(r) && id(r).is_some_and(|i| i > max.saturating_sub(n))
        });
    }
    if !args.filters.is_empty() {
        let filters = args
            .filters
            .iter()
            .map(|w| xcattab::filter::Filter::parse(w))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| fail(e.to_string()))?;
        let mut cols = Vec::new();
        for f in &filters {
            match view.column_index(f.column()) {
                Some(c) => cols.push(c),
                None => {
                    return Err(fail(format!(
                        "No column \"{}\" in table \"{table}\"",
                        f.column()
                    )))
                }
            }
        }
        let all = view.clone();
        view.retain_rows(|r| {
            all.row_enabled(r)
                && filters
                    .iter()
                    .zip(&cols)
                    .all(|(f, &c)| f.matches(r[c].as_deref()))
        });
    }
    let text = xcattab::csv::dump(&view);
    match args.file {
        Some(path) => {
            // xCAT names the file as the client's working directory + "/" + a relative name.
            let shown = match std::env::current_dir() {
                Ok(cwd) if path.is_relative() => format!("{}/{}", cwd.display(), path.display()),
                _ => path.display().to_string(),
            };
            std::fs::write(&path, text).map_err(|_| {
                fail(format!(
                    "Error on tabdump of {table} to {shown}. Unable to open the file for write. "
                ))
            })?;
            Ok(0)
        }
        None => {
            // Through xcatd (not with -f, which the server writes itself): non-ASCII → `?`.
            write_out(&xcattab::cli::xcatd_wire(&text))?;
            Ok(0)
        }
    }
}

/// `name:` followed by xCAT's spacing (descriptions are not carried: see the notes).
fn describe(name: &str) -> String {
    format!("{name}:{}", if name.len() < 7 { "\t\t" } else { "\t" })
}

/// tabdump shows the schema's columns only; columns the schema does not know stay in the
/// store but are not printed.
fn schema_view(t: &Table) -> Table {
    let Some(schema) = t.schema() else {
        return t.clone();
    };
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

fn write_out(s: &str) -> Result<(), Fail> {
    let mut out = std::io::stdout().lock();
    match out.write_all(s.as_bytes()).and_then(|_| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(fail(e.to_string())),
        _ => Ok(()),
    }
}
