//! `nodels` — list the nodes of a noderange and their attributes, as xCAT's command does
//! (same arguments, output lines, messages and exit codes; see `nodels --help`).

use std::collections::BTreeMap;
use std::io::Write;
use std::process::ExitCode;

use clap::Parser;
use noderange::{natural_cmp, Error as NrError, Evaluator, Options, PerlRegex};
use xcattab::cli::{generate, version, Generate};
use xcattab::nodesource::DbNodeSource;
use xcattab::resolve::Resolver;
use xcattab::store;

/// List the nodes of a noderange, and their attributes.
///
/// Without a noderange, every node is listed. Nodes are printed one per line in xCAT's
/// order (byte-wise: node1, node10, node2) unless --natural or --fold is given. Each
/// `table.column` (or `groups`, `tags`, `mgt`, or a whole table name) adds `node: value`
/// lines; `table.column==value`, `!=`, `=~`, `!~` keep only the nodes that match. Nodes whose
/// nodelist.hidden is 1 are left out unless -S is given. The store is --db, else $XCATCFG,
/// else the first line of /etc/xcat/cfgloc. A noderange that starts with `-` can be given
/// after `--`. XCAT_NODE_PREFIX / XCAT_NODE_SUFFIX change the all-digit shorthand (`5` =
/// node5); NODERANGE_MAX_NAMES limits how many names a noderange may generate (default
/// 10000000).
#[derive(Parser, Debug)]
#[command(
    name = "nodels",
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
    /// Label every value with its table.column (always so with several columns).
    #[arg(short = 'H', long = "with-fieldname")]
    with_fieldname: bool,
    /// Tell which group an inherited value comes from.
    #[arg(short = 'b', long = "blame")]
    blame: bool,
    /// Also list hidden nodes (nodelist.hidden = 1).
    #[arg(short = 'S')]
    show_hidden: bool,
    /// Print the nodes as one folded noderange (`node[1-3,5]`) instead of one per line.
    #[arg(long)]
    fold: bool,
    /// Sort nodes in natural order (node2 before node10) instead of xCAT's byte order.
    #[arg(long)]
    natural: bool,
    /// The xCAT database (CSV:/dir, SQLite:/dir, Pg:…); default: $XCATCFG, then
    /// /etc/xcat/cfgloc.
    #[arg(long = "db", value_name = "STORE")]
    db: Option<String>,
    /// Generate the man page or shell completions and exit.
    #[arg(long, value_enum, value_name = "WHAT")]
    generate: Option<Generate>,
    /// The noderange (all nodes when absent).
    #[arg(value_name = "NODERANGE")]
    noderange: Option<String>,
    /// Attributes to show or select on: table.column[op value], groups, tags, mgt, or a table.
    #[arg(value_name = "table.column")]
    columns: Vec<String>,
}

const USAGE: &str = "Usage:
  nodels [noderange] [-b|--blame] [-H|--with-fieldname] [table.attribute | shortname] [-S][...]
  nodels {-v|--version}
  nodels [-?|-h|--help]";

/// Output collected by a run: stdout lines, stderr lines (already prefixed) and exit code.
#[derive(Default)]
struct Out {
    stdout: String,
    stderr: String,
    code: u8,
}

impl Out {
    fn line(&mut self, s: &str) {
        self.stdout.push_str(s);
        self.stdout.push('\n');
    }
    /// An error the nodels plugin sends through xcatd: `Error: [server]: …`.
    fn server_error(&mut self, s: &str) {
        self.error(&format!("{}{s}", xcattab::cli::xcatd_source()));
    }
    fn error(&mut self, s: &str) {
        self.stderr.push_str("Error: ");
        self.stderr.push_str(s);
        self.stderr.push('\n');
        self.code = 1;
    }
}

fn main() -> ExitCode {
    let argv = xcattab::cli::lowercase_long_options(std::env::args_os().collect());
    let out = match Args::try_parse_from(&argv) {
        Ok(args) if args.generate.is_none() && (args.usage || args.version) => {
            let text = if args.usage {
                USAGE.to_string()
            } else {
                version()
            };
            early(args.db.as_deref(), args.noderange.as_deref(), &text, 0)
        }
        Ok(args) => run(args),
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
            let (db, noderange) = raw_db_and_noderange(&argv);
            early(db.as_deref(), noderange.as_deref(), USAGE, 1)
        }
    };
    // Everything nodels prints comes through xcatd: non-ASCII bytes of values read from the
    // database arrive as `?` each; the errors echo the request's text, one `?` per character.
    let stdout = xcattab::cli::xcatd_wire(&out.stdout);
    let stderr = xcattab::cli::xcatd_wire_chars(&out.stderr);
    let _ = std::io::stdout().lock().write_all(stdout.as_bytes());
    let _ = std::io::stderr().lock().write_all(stderr.as_bytes());
    ExitCode::from(out.code)
}

/// What xcatclient sends when clap refused the command line: the first argument that does not
/// start with `-` is the noderange (`--db` is read too, so the right store is asked).
fn raw_db_and_noderange(argv: &[std::ffi::OsString]) -> (Option<String>, Option<String>) {
    let mut db = None;
    let mut noderange = None;
    let mut it = argv
        .iter()
        .skip(1)
        .map(|a| a.to_string_lossy().into_owned());
    while let Some(a) = it.next() {
        if a == "--db" {
            db = it.next();
        } else if let Some(d) = a.strip_prefix("--db=") {
            db = Some(d.to_string());
        } else if a == "--generate" {
            it.next();
        } else if !a.starts_with('-') && noderange.is_none() {
            noderange = Some(a);
        }
    }
    (db, noderange)
}

/// `-h`, `-v` or a refused option: xcatd expands the noderange before nodels reads its
/// options, so a noderange it cannot use is reported instead of `text`.
fn early(db: Option<&str>, noderange: Option<&str>, text: &str, code: u8) -> Out {
    let mut out = Out::default();
    let noderange = noderange.map(absolute_files);
    if let Some(nr) = noderange.filter(|nr| !nr.is_empty() && nr != "0") {
        if let Ok(db) = load(db) {
            let source = DbNodeSource::new(&db);
            if let Err(e) = Evaluator::new(&source).nodes(&nr, &Options::verify().with_env()) {
                noderange_error(&mut out, &e);
                return out;
            }
        }
    }
    out.line(text);
    out.code = code;
    out
}

/// Every table of the selected store (the noderange may select on any of them).
fn load(db: Option<&str>) -> Result<xcattab::Database, xcattab::store::StoreError> {
    store::open_selected(db).and_then(|(s, _)| {
        s.list_tables().and_then(|mut t| {
            for must in ["nodelist", "nodegroup", "site"] {
                if !t.iter().any(|x| x == must) {
                    t.push(must.to_string());
                }
            }
            let names: Vec<&str> = t.iter().map(String::as_str).collect();
            s.load(&names)
        })
    })
}

fn run(args: Args) -> Out {
    let mut out = Out::default();
    if let Some(g) = args.generate {
        use clap::CommandFactory;
        if let Err(e) = generate(Args::command(), g) {
            out.error(&e.to_string());
        }
        return out;
    }
    if args.fold && !args.columns.is_empty() {
        out.error("--fold lists nodes only; it cannot be combined with table.column arguments");
        return out;
    }
    let db = match load(args.db.as_deref()) {
        Ok(db) => db,
        Err(e) => {
            out.error(&e.to_string());
            return out;
        }
    };
    let source = DbNodeSource::new(&db);
    let resolver = source.resolver();

    // xcatd expands the noderange only when it is true in Perl ("" and "0" are not).
    let noderange = args.noderange.as_deref().map(absolute_files);
    let nodes: Vec<String> = match noderange.as_deref() {
        Some(nr) if !nr.is_empty() && nr != "0" => {
            let ev = Evaluator::new(&source);
            match ev.nodes(nr, &Options::verify().with_env()) {
                Ok(set) => set.into_vec(),
                Err(e) => {
                    noderange_error(&mut out, &e);
                    return out;
                }
            }
        }
        _ => {
            // No noderange: every node (the columns are ignored, as in xCAT).
            let mut all: Vec<String> = resolver
                .nodes()
                .iter()
                .filter(|n| !n.is_empty() && **n != "0")
                .map(|n| n.to_string())
                .collect();
            all.sort();
            all.dedup();
            let all = visible(resolver, all, args.show_hidden);
            print_nodes(&mut out, all, &args);
            return out;
        }
    };
    let nodes = visible(resolver, nodes, args.show_hidden);
    if args.columns.is_empty() {
        print_nodes(&mut out, nodes, &args);
        return out;
    }
    if let Err(e) = columns(&mut out, resolver, &nodes, &args) {
        out.server_error(&e);
    }
    out
}

/// xcatclient turns `^relative/file` elements into absolute paths (splitting on every comma).
fn absolute_files(nr: &str) -> String {
    let mut parts: Vec<String> = nr.split(',').map(str::to_string).collect();
    while parts.last().is_some_and(|p| p.is_empty()) {
        parts.pop();
    }
    for p in &mut parts {
        if let Some(f) = p.strip_prefix('^') {
            if !f.starts_with('/') {
                *p = match std::fs::canonicalize(f) {
                    Ok(abs) => format!("^{}", abs.display()),
                    Err(_) => "^".to_string(),
                };
            }
        }
    }
    parts.join(",")
}

/// How xcatd reports a noderange it cannot use: names it does not know in its own reply (no
/// source prefix); a failure of the expansion as a caught die, which carries the source.
fn noderange_error(out: &mut Out, e: &NrError) {
    match e {
        NrError::InvalidNodes(_) => out.error(&e.to_string()),
        _ => out.server_error(&xcatd_message(e)),
    }
}

/// The text of a noderange failure.
fn xcatd_message(e: &NrError) -> String {
    match e {
        NrError::InvalidNodes(_) => e.to_string(),
        NrError::UnbalancedParentheses
        | NrError::Regex { .. }
        | NrError::RecursionLimit { .. }
        | NrError::RangeIterator => format!(
            "A fatal error was encountered, the following information may help identify a bug: {e}"
        ),
        _ => e.to_string(),
    }
}

/// Drops nodes whose `nodelist.hidden` is numerically 1, unless -S.
fn visible(resolver: &Resolver<'_>, nodes: Vec<String>, show_hidden: bool) -> Vec<String> {
    if show_hidden {
        return nodes;
    }
    nodes
        .into_iter()
        .filter(
            |n| match resolver.attr(n, "nodelist", "hidden").ok().flatten() {
                None => true,
                Some(v) => perl_num(&v) != 1.0,
            },
        )
        .collect()
}

/// Perl's numeric value of a string (leading number, else 0).
fn perl_num(s: &str) -> f64 {
    let t = s.trim_start();
    let end = t
        .char_indices()
        .take_while(|(i, c)| {
            c.is_ascii_digit() || *c == '.' || (*i == 0 && (*c == '-' || *c == '+'))
        })
        .map(|(i, c)| i + c.len_utf8())
        .last()
        .unwrap_or(0);
    t[..end].parse().unwrap_or(0.0)
}

fn sort_nodes(nodes: &mut [String], natural: bool) {
    if natural {
        nodes.sort_by(|a, b| natural_cmp(a, b));
    } else {
        nodes.sort();
    }
}

fn print_nodes(out: &mut Out, mut nodes: Vec<String>, args: &Args) {
    if args.fold {
        if !nodes.is_empty() {
            out.line(&noderange::fold(nodes.iter().map(String::as_str)));
        }
        return;
    }
    sort_nodes(&mut nodes, args.natural);
    for n in nodes {
        out.line(&n);
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Match {
    Eq,
    Ne,
    Re,
    NotRe,
}

/// One column argument: the column, its label, and an optional filter.
struct Col {
    column: String,
    label: String,
    filter: Option<(String, Match)>,
}

fn strip_slashes(v: &str) -> String {
    let v = v.strip_prefix('/').unwrap_or(v);
    v.strip_suffix('/').unwrap_or(v).to_string()
}

/// The operator detection of `tabutils.pm: nodels` (no single `=` form there).
fn parse_arg(a: &str) -> (String, Option<(String, Match)>) {
    let first_eq = a.find('=');
    if let Some(e) = first_eq {
        if e >= 1 && a.as_bytes()[e - 1] == b'!' {
            let (l, r) = a.split_at(e - 1);
            return (l.to_string(), Some((r[2..].to_string(), Match::Ne)));
        }
        if a[e..].starts_with("=~") {
            let (l, r) = a.split_at(e);
            return (l.to_string(), Some((strip_slashes(&r[2..]), Match::Re)));
        }
    }
    if let Some((l, r)) = a.split_once("==") {
        return (l.to_string(), Some((r.to_string(), Match::Eq)));
    }
    if let Some((l, r)) = a.split_once("!~") {
        return (l.to_string(), Some((strip_slashes(r), Match::NotRe)));
    }
    (a.to_string(), None)
}

/// Does `value` fail the filter (the node is then left out)?
fn filtered(
    value: &str,
    filter: &(String, Match),
    regexes: &mut RegexCache,
) -> Result<bool, String> {
    let (crit, m) = filter;
    Ok(match m {
        Match::Eq => value != crit,
        Match::Ne => value == crit,
        Match::Re => !regexes.is_match(crit, value)?,
        Match::NotRe => regexes.is_match(crit, value)?,
    })
}

#[derive(Default)]
struct RegexCache(BTreeMap<String, PerlRegex>);

impl RegexCache {
    fn is_match(&mut self, pattern: &str, text: &str) -> Result<bool, String> {
        if pattern.is_empty() {
            return Ok(true);
        }
        if !self.0.contains_key(pattern) {
            let r = PerlRegex::new(pattern).map_err(|e| e.to_string())?;
            self.0.insert(pattern.to_string(), r);
        }
        self.0[pattern].is_match(text).map_err(|e| e.to_string())
    }
}

/// `nodels noderange table.column …`: `node: value` lines, filters, labels.
fn columns(
    out: &mut Out,
    resolver: &Resolver<'_>,
    nodes: &[String],
    args: &Args,
) -> Result<(), String> {
    let mut terse: i32 = if args.with_fieldname { 0 } else { 2 };
    // Tables in the order first named; their column arguments in order.
    let mut tables: Vec<(String, Vec<Col>)> = Vec::new();
    let push = |tables: &mut Vec<(String, Vec<Col>)>, t: &str, c: Col| match tables
        .iter_mut()
        .find(|(n, _)| n == t)
    {
        Some((_, cols)) => cols.push(c),
        None => tables.push((t.to_string(), vec![c])),
    };
    for a in &args.columns {
        let (temp, filter) = parse_arg(a);
        let (table, column) = match temp.as_str() {
            "groups" | "tags" => ("nodelist".to_string(), "groups".to_string()),
            "mgt" => ("nodehm".to_string(), "mgt".to_string()),
            _ if temp.contains('.') => {
                let (t, c) = temp.split_once('.').unwrap_or((&temp, ""));
                (t.to_string(), c.to_string())
            }
            _ => {
                if let Some(schema) = xcattab::schema::table(&temp) {
                    terse = 0;
                    for c in schema.columns {
                        push(
                            &mut tables,
                            &temp,
                            Col {
                                column: c.to_string(),
                                label: format!("{temp}.{c}"),
                                filter: None,
                            },
                        );
                    }
                } else {
                    out.server_error(&format!("{temp} not a valid table.column description"));
                }
                continue;
            }
        };
        terse -= 1;
        // grep /$column/, @cols: the column is a regex matched against the column names.
        let known = match xcattab::schema::table(&table) {
            Some(schema) if column.is_empty() => schema.columns.iter().any(|c| c.contains('.')),
            Some(schema) => {
                let re = PerlRegex::new(&column).map_err(|e| e.to_string())?;
                let mut any = false;
                for c in schema.columns {
                    if re.is_match(c).map_err(|e| e.to_string())? {
                        any = true;
                        break;
                    }
                }
                any
            }
            None => false,
        };
        if !known {
            out.server_error(&format!(
                "{table}.{column} not a valid table.column description"
            ));
            continue;
        }
        push(
            &mut tables,
            &table,
            Col {
                column,
                label: temp.clone(),
                filter,
            },
        );
    }

    let mut regexes = RegexCache::default();
    let mut noderecs: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    let mut filtered_nodes: std::collections::BTreeSet<&str> = Default::default();
    let mut must_display: std::collections::BTreeSet<&str> = Default::default();
    for (table, cols) in &tables {
        // %labels, %values, %matchtypes, %forcedisplaykeys, in argument order.
        let mut order: Vec<&str> = Vec::new();
        let mut labels: BTreeMap<&str, &str> = BTreeMap::new();
        let mut values: BTreeMap<&str, (String, Match)> = BTreeMap::new();
        let mut force: std::collections::BTreeSet<&str> = Default::default();
        for c in cols {
            if !order.contains(&c.column.as_str()) {
                order.push(&c.column);
            }
            labels.insert(&c.column, &c.label);
            match (&c.filter, values.contains_key(c.column.as_str())) {
                (Some(f), false) => {
                    values.insert(&c.column, f.clone());
                }
                (None, true) => {
                    force.insert(&c.column);
                }
                (None, false) => {}
                (Some(_), true) => {
                    return Err(format!("Multiple selection critera for {}", c.label));
                }
            }
        }
        let nodekey = xcattab::schema::table(table)
            .and_then(|s| s.node_column)
            .unwrap_or("node");
        let removenodecol = !order.contains(&nodekey);
        for node in nodes {
            // The record: the columns that have a value, sorted by name (Perl's sort keys).
            let mut rec: BTreeMap<&str, (String, Option<String>)> = BTreeMap::new();
            for &c in &order {
                if let Ok(r) = resolver.attr_from(node, table, c) {
                    if let Some(v) = r.value {
                        if c == nodekey {
                            // getNodeAttribs puts the node's name in the key column of a
                            // record taken from a group row, and never blames a group for it.
                            rec.insert(c, (node.clone(), None));
                            continue;
                        }
                        let from = r.from.filter(|f| *f != node).map(str::to_string);
                        rec.insert(c, (v, from));
                    }
                }
            }
            if !removenodecol && !rec.is_empty() && !rec.contains_key(nodekey) {
                rec.insert(nodekey, (node.clone(), None));
            }
            let mut lines = Vec::new();
            for (&c, (v, from)) in &rec {
                if c == nodekey && removenodecol {
                    continue;
                }
                if let Some(f) = values.get(c) {
                    if filtered(v, f, &mut regexes)? {
                        filtered_nodes.insert(node);
                        continue;
                    }
                    must_display.insert(node);
                    if !force.contains(c) {
                        continue;
                    }
                }
                let shown = match (args.blame, from) {
                    (true, Some(g)) => format!("{v} (inherited from group {g})"),
                    _ => v.clone(),
                };
                lines.push(render(node, labels[c], &shown, terse));
            }
            for &c in &order {
                if rec.contains_key(c) {
                    continue;
                }
                if let Some(f) = values.get(c) {
                    if filtered("", f, &mut regexes)? {
                        filtered_nodes.insert(node);
                        continue;
                    }
                    must_display.insert(node);
                    if !force.contains(c) {
                        continue;
                    }
                }
                lines.push(render(node, labels[c], "", terse));
            }
            if !lines.is_empty() {
                noderecs.entry(node).or_default().extend(lines);
            }
        }
    }
    for n in &must_display {
        if !filtered_nodes.contains(n) && !noderecs.contains_key(n) {
            noderecs.insert(n, vec![n.to_string()]);
        }
    }
    for n in &filtered_nodes {
        noderecs.remove(n);
    }
    let mut keys: Vec<String> = noderecs.keys().map(|k| k.to_string()).collect();
    sort_nodes(&mut keys, args.natural);
    for k in keys {
        for l in &noderecs[k.as_str()] {
            out.line(l);
        }
    }
    Ok(())
}

/// One line as xCAT's client prints a node record.
fn render(node: &str, label: &str, value: &str, terse: i32) -> String {
    if terse > 0 {
        format!("{node}: {value}")
    } else {
        format!("{node}: {label}: {value}")
    }
}
