//! The `tabrestore` reader: what xCAT's `tabrestore` accepts and rejects, with its messages,
//! line numbers and character positions.
//!
//! The format, as xCAT's parser (`tabutils.pm`, `tabrestore`) reads it:
//!
//! * the first line is the header: it must start with `#`; every `"` is removed, then the `#`
//!   and trailing blanks, and the rest split on `,` (no trimming). The header may name any
//!   subset of the table's columns, in any order;
//! * every later line is data — there is no comment syntax: a data line starting with `#` is a
//!   row. Trailing blanks of every physical line are dropped;
//! * fields, per header column: nothing (`,` next or end of line) is NULL — short lines are
//!   fine; a field starting with `"` runs to a `"` followed by `,` or the end of the line, `""`
//!   inside standing for `"`, continuing on the next physical lines (joined with `\n`) while
//!   the closing quote is missing; `""` alone is the empty string; any other field is the text
//!   up to the next `,`, and must not contain `"`;
//! * line numbers in messages count data lines from 0 (the line after the header is line 0),
//!   continuation lines included; character positions are where the rest of the line first
//!   occurs in the line (Perl's `index`), `-1` when it no longer does.
//!
//! [`restore_into`] then writes the records as tabrestore does (every record is an insert
//! unless all its fields are non-NULL and equal an existing row; NULL keys become `''`;
//! a record with no non-empty value is a database error; duplicate keys and NOT NULL columns
//! are rejected with SQLite's messages), all or nothing. [`table_from_csv`] is the lenient
//! reader the CSV store uses for its own files.

use std::borrow::Cow;
use std::collections::HashMap;

use crate::schema;
use crate::table::{Row, Table};

/// One diagnostic of tabrestore.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CsvError {
    /// The first line does not start with `#` (or the file is empty).
    #[error("Data missing header line starting with #")]
    MissingHeader,
    /// A header name that is not a column of the table.
    #[error("The header line indicates that column '{column}' should exist, which is not defined in the schema for '{table}'")]
    UnknownColumn {
        /// The header name.
        column: String,
        /// The table.
        table: String,
    },
    /// A header name that cannot be a column (store files only: letters, digits and `_`).
    #[error(
        "invalid column name '{column}' in the header of {table} (letters, digits and _ only)"
    )]
    BadColumnName {
        /// The header name.
        column: String,
        /// The table.
        table: String,
    },
    /// A field with a `"` that does not start with one.
    #[error("CSV missing opening \" for record with \" characters on line {line}, character {character}: {text}")]
    MissingOpeningQuote {
        /// tabrestore's line number.
        line: usize,
        /// Position (in characters) reported by tabrestore.
        character: i64,
        /// The first physical line of the record.
        text: String,
        /// 1-based line of the file where the record starts.
        physical: usize,
    },
    /// A closing quote followed by something other than `,` or the end of the line.
    #[error("CSV unescaped \" in record on line {line}, character {character}: {text}")]
    UnescapedQuote {
        /// tabrestore's line number.
        line: usize,
        /// Position (in characters) reported by tabrestore.
        character: i64,
        /// The first physical line of the record.
        text: String,
        /// 1-based line of the file where the record starts.
        physical: usize,
    },
    /// A quoted field that is never closed.
    #[error("CSV unmatched \" in record on line {line}, character {character}: {text}")]
    UnmatchedQuote {
        /// tabrestore's line number.
        line: usize,
        /// Position (in characters) reported by tabrestore.
        character: i64,
        /// The first physical line of the record.
        text: String,
        /// 1-based line of the file where the record starts.
        physical: usize,
    },
    /// More fields than header columns.
    #[error("Too many fields on line {line}: {text} | {rest}")]
    TooManyFields {
        /// tabrestore's line number.
        line: usize,
        /// The first physical line of the record.
        text: String,
        /// What was left over.
        rest: String,
        /// 1-based line of the file where the record starts.
        physical: usize,
    },
    /// The record could not be written (duplicate key, NOT NULL column, blank record).
    #[error("DB error {message} with line {line}: {text}")]
    Db {
        /// The database's message (SQLite's wording; empty for a blank record).
        message: String,
        /// tabrestore's line number.
        line: usize,
        /// The first physical line of the record.
        text: String,
        /// 1-based line of the file where the record starts.
        physical: usize,
    },
    /// The file is not UTF-8 text.
    #[error("the file is not UTF-8 text (invalid byte sequence on line {physical})")]
    NotUtf8 {
        /// 1-based line of the file.
        physical: usize,
    },
}

impl CsvError {
    /// xCAT's error code: 1 for header problems, 4 for line problems.
    pub fn code(&self) -> u8 {
        match self {
            CsvError::MissingHeader | CsvError::UnknownColumn { .. } | CsvError::NotUtf8 { .. } => {
                1
            }
            _ => 4,
        }
    }

    /// The 1-based line of the file where the offending record starts (1 for header errors).
    pub fn physical_line(&self) -> usize {
        match self {
            CsvError::MissingHeader
            | CsvError::UnknownColumn { .. }
            | CsvError::BadColumnName { .. } => 1,
            CsvError::MissingOpeningQuote { physical, .. }
            | CsvError::UnescapedQuote { physical, .. }
            | CsvError::UnmatchedQuote { physical, .. }
            | CsvError::TooManyFields { physical, .. }
            | CsvError::Db { physical, .. }
            | CsvError::NotUtf8 { physical } => *physical,
        }
    }
}

/// Every diagnostic of one file, in file order.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", .errors.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("\n"))]
pub struct CsvErrors {
    /// The diagnostics.
    pub errors: Vec<CsvError>,
}

impl CsvErrors {
    fn one(e: CsvError) -> Self {
        CsvErrors { errors: vec![e] }
    }

    /// The exit code xCAT's client returns: the OR of the error codes.
    pub fn exit_code(&self) -> u8 {
        self.errors.iter().fold(0, |a, e| a | e.code())
    }
}

/// One data record of a CSV file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsvRecord {
    /// tabrestore's line number of the record: 0-based index of the data line after the
    /// header (continuation lines of earlier multi-line values counted).
    pub line: usize,
    /// 1-based line of the file where the record starts.
    pub physical: usize,
    /// Fields aligned with the header: `None` = empty field (NULL), `Some("")` = `""`.
    pub fields: Vec<Option<String>>,
}

/// A parsed CSV file: its header names and records (nothing checked against a schema).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CsvFile {
    /// Column names from the header line, in file order.
    pub header: Vec<String>,
    /// The records, in file order (blank lines included, as all-NULL records).
    pub records: Vec<CsvRecord>,
}

/// Perl's `s/\s+$//`.
fn rstrip(s: &str) -> &str {
    s.trim_end_matches(char::is_whitespace)
}

/// Perl's `index($haystack, $needle)` in characters, -1 if absent.
fn perl_index(haystack: &str, needle: &str) -> i64 {
    match haystack.find(needle) {
        Some(b) => haystack[..b].chars().count() as i64,
        None => -1,
    }
}

/// Perl truthiness of a string: anything but `""` and `"0"`.
fn perl_true(s: &str) -> bool {
    !(s.is_empty() || s == "0")
}

/// Physical lines as Perl's `<$fh>` yields them (split after each `\n`), not yet stripped.
fn physical_lines(text: &str) -> Vec<&str> {
    text.split_inclusive('\n').collect()
}

/// The header line → column names, as tabrestore derives them.
fn header_names(first: &str) -> Option<Vec<String>> {
    if !first.starts_with('#') {
        return None;
    }
    let h: String = first.chars().filter(|&c| c != '"').collect();
    let h = h.strip_prefix('#').unwrap_or(&h);
    let h = rstrip(h);
    // Perl's split drops trailing empty fields (and yields nothing for an empty string).
    let mut names: Vec<String> = h.split(',').map(str::to_string).collect();
    while names.last().is_some_and(|n| n.is_empty()) {
        names.pop();
    }
    Some(names)
}

/// The outcome of scanning one record.
enum Scanned<'a> {
    Record(Vec<Option<Cow<'a, str>>>),
    Error(CsvError),
}

/// Scans the record starting at data line `*ln` (tabrestore's loop body), advancing `*ln` over
/// continuation lines. `data` holds the unstripped data lines.
fn scan_record<'a>(data: &[&'a str], ln: &mut usize, ncols: usize) -> Scanned<'a> {
    let count = data.len();
    let orig: &'a str = rstrip(data[*ln]);
    let physical = *ln + 2;
    let mut line: Cow<'a, str> = Cow::Borrowed(orig);
    let mut pos = 0usize;
    let mut fields: Vec<Option<Cow<'a, str>>> = Vec::with_capacity(ncols);
    for _ in 0..ncols {
        let cur = &line[pos..];
        if cur.is_empty() || cur.starts_with(',') {
            fields.push(None);
            if cur.starts_with(',') {
                pos += 1;
            }
            continue;
        }
        let quote = cur.find('"');
        let comma = cur.find(',');
        let quoted = match (quote, comma) {
            (Some(q), Some(c)) => q < c,
            (Some(_), None) => true,
            _ => false,
        };
        if !quoted {
            let end = comma.unwrap_or(cur.len());
            let field = match &line {
                Cow::Borrowed(b) => Cow::Borrowed(&b[pos..pos + end]),
                Cow::Owned(o) => Cow::Owned(o[pos..pos + end].to_string()),
            };
            fields.push(Some(field));
            pos += end;
            if line[pos..].starts_with(',') {
                pos += 1;
            }
            continue;
        }
        if !cur.starts_with('"') {
            return Scanned::Error(CsvError::MissingOpeningQuote {
                line: *ln,
                character: perl_index(orig, cur),
                text: orig.to_string(),
                physical,
            });
        }
        // Offsets are relative to `pos` (the start of Perl's shrinking $line).
        let mut offset = 1usize;
        loop {
            let found = line.get(pos + offset..).and_then(|s| s.find('"'));
            match found {
                None => {
                    if *ln < count {
                        *ln += 1;
                        offset = line.len() - pos;
                        let mut joined = line.into_owned();
                        joined.push('\n');
                        if let Some(next) = data.get(*ln) {
                            joined.push_str(next);
                        }
                        let keep = rstrip(&joined).len();
                        joined.truncate(keep);
                        line = Cow::Owned(joined);
                    } else {
                        return Scanned::Error(CsvError::UnmatchedQuote {
                            line: *ln,
                            character: perl_index(orig, &line[pos..]),
                            text: orig.to_string(),
                            physical,
                        });
                    }
                }
                Some(q) => {
                    offset += q + 1;
                    let next = line.as_bytes().get(pos + offset).copied();
                    if next == Some(b'"') {
                        offset += 1;
                    } else if next.is_none() || next == Some(b',') {
                        let inner = &line[pos + 1..pos + offset - 1];
                        let value: Cow<'a, str> = if inner.contains("\"\"") {
                            Cow::Owned(inner.replace("\"\"", "\""))
                        } else {
                            match &line {
                                Cow::Borrowed(b) => Cow::Borrowed(&b[pos + 1..pos + offset - 1]),
                                Cow::Owned(_) => Cow::Owned(inner.to_string()),
                            }
                        };
                        fields.push(Some(value));
                        pos += offset;
                        if line[pos..].starts_with(',') {
                            pos += 1;
                        }
                        break;
                    } else {
                        return Scanned::Error(CsvError::UnescapedQuote {
                            line: *ln,
                            character: perl_index(orig, &line[pos..]),
                            text: orig.to_string(),
                            physical,
                        });
                    }
                }
            }
        }
    }
    let rest = &line[pos..];
    if perl_true(rest) {
        return Scanned::Error(CsvError::TooManyFields {
            line: *ln,
            text: orig.to_string(),
            rest: rest.to_string(),
            physical,
        });
    }
    Scanned::Record(fields)
}

/// What [`scan`] returns: the header names, and per record its fields or its error.
pub type Scan = (Vec<String>, Vec<Result<CsvRecord, CsvError>>);

/// Scans a whole file as tabrestore does, without reference to a schema: the header names,
/// then for every record either its fields or the error that stopped it, in file order
/// (tabrestore reports every bad line and goes on). `Err` only when the header line is missing.
///
/// ```
/// let (header, records) = xcattab::csv::scan("#key,value\n\"a\"b\",\"c\"\n\"ok\",\"fine\"\n").unwrap();
/// assert_eq!(header, ["key", "value"]);
/// assert_eq!(records[0].as_ref().unwrap_err().to_string(),
///            "CSV unescaped \" in record on line 0, character 0: \"a\"b\",\"c\"");
/// assert_eq!(records[1].as_ref().unwrap().fields, [Some("ok".to_string()), Some("fine".to_string())]);
/// ```
pub fn scan(text: &str) -> Result<Scan, CsvError> {
    let lines = physical_lines(text);
    let first = lines.first().ok_or(CsvError::MissingHeader)?;
    let header = header_names(first).ok_or(CsvError::MissingHeader)?;
    let data = &lines[1..];
    let mut out = Vec::new();
    let mut ln = 0;
    while ln < data.len() {
        let start = ln;
        out.push(match scan_record(data, &mut ln, header.len()) {
            Scanned::Record(f) => Ok(CsvRecord {
                line: ln,
                physical: start + 2,
                fields: f.into_iter().map(|v| v.map(Cow::into_owned)).collect(),
            }),
            Scanned::Error(e) => Err(e),
        });
        ln += 1;
    }
    Ok((header, out))
}

/// Parses a whole file without reference to a schema: the header names and every record
/// (blank lines included, as all-NULL records); all scanner errors if there are any.
///
/// ```
/// let f = xcattab::csv::parse("#key,value\n\"motd\",\"two\nlines\"\n\"x\",\"\"\n").unwrap();
/// assert_eq!(f.header, ["key", "value"]);
/// assert_eq!(f.records[0].fields, [Some("motd".into()), Some("two\nlines".into())]);
/// assert_eq!(f.records[1].line, 2); // continuation lines count
/// assert_eq!(f.records[1].fields[1].as_deref(), Some("")); // "" is the empty string
/// ```
pub fn parse(text: &str) -> Result<CsvFile, CsvErrors> {
    let (header, scanned) = scan(text).map_err(CsvErrors::one)?;
    let mut records = Vec::with_capacity(scanned.len());
    let mut errors = Vec::new();
    for r in scanned {
        match r {
            Ok(rec) => records.push(rec),
            Err(e) => errors.push(e),
        }
    }
    if errors.is_empty() {
        Ok(CsvFile { header, records })
    } else {
        Err(CsvErrors { errors })
    }
}

/// Reads a table file of a CSV store: like tabrestore, but header names that the schema does
/// not know become extra columns (kept, never dropped), records that would dump as an empty
/// line are skipped, and duplicate keys are kept as they are.
///
/// ```
/// let t = xcattab::csv::table_from_csv("site", "#key,value,comments,disable,extra\n\"master\",\"10.0.0.1\",,,\"x\"\n").unwrap();
/// assert_eq!(t.columns(), ["key", "value", "comments", "disable", "extra"]);
/// assert_eq!(t.value(0, 4), Some("x"));
/// ```
pub fn table_from_csv(name: &str, text: &str) -> Result<Table, CsvErrors> {
    let lines = physical_lines(text);
    let Some(first) = lines.first() else {
        return Err(CsvErrors::one(CsvError::MissingHeader));
    };
    let header = header_names(first).ok_or_else(|| CsvErrors::one(CsvError::MissingHeader))?;
    let plain =
        |h: &String| !h.is_empty() && h.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if let Some(bad) = header.iter().find(|h| !plain(h)) {
        return Err(CsvErrors::one(CsvError::BadColumnName {
            column: bad.clone(),
            table: name.to_string(),
        }));
    }
    let extra: Vec<String> = match schema::table(name) {
        Some(s) => header
            .iter()
            .filter(|h| !s.columns.contains(&h.as_str()))
            .cloned()
            .collect(),
        None => header.clone(),
    };
    let mut table = Table::with_schema_and_extra(name, &extra);
    let map: Vec<usize> = header
        .iter()
        .map(|h| table.column_index(h).unwrap_or(usize::MAX))
        .collect();
    let width = table.columns().len();
    let data = &lines[1..];
    table.reserve(data.len());
    let mut errors = Vec::new();
    let mut ln = 0;
    while ln < data.len() {
        match scan_record(data, &mut ln, header.len()) {
            Scanned::Record(fields) => {
                // A record that would dump as an empty line (every field NULL, '' or a lone
                // newline) is skipped, like a blank line: it could not survive a dump anyway.
                if fields
                    .iter()
                    .any(|f| f.as_deref().is_some_and(|v| !v.is_empty() && v != "\n"))
                {
                    let mut row: Row = vec![None; width];
                    for (f, &c) in fields.into_iter().zip(&map) {
                        if let (Some(v), Some(slot)) = (f, row.get_mut(c)) {
                            *slot = Some(v.into_owned());
                        }
                    }
                    table.push_row(row);
                }
            }
            Scanned::Error(e) => errors.push(e),
        }
        ln += 1;
    }
    if errors.is_empty() {
        Ok(table)
    } else {
        Err(CsvErrors { errors })
    }
}

/// Restores `text` into `table` exactly as `tabrestore [-a]` does: without `append` every row
/// is deleted first; the header must name columns of the table's schema; each record is then
/// written with xCAT's `setAttribs(record, record)`. On any error `table` is left untouched and
/// every diagnostic is returned (tabrestore reports them all, then rolls back).
///
/// ```
/// let mut t = xcattab::Table::new("site");
/// xcattab::csv::restore_into(&mut t, "#key,value\n\"master\",\"mn1\"\n\"domain\",\"c\"\n", false).unwrap();
/// assert_eq!(t.len(), 2);
/// let err = xcattab::csv::restore_into(&mut t, "#key,value,comments\n\"master\",\"x\",\n", true).unwrap_err();
/// assert_eq!(err.to_string(), "DB error UNIQUE constraint failed: site.key with line 0: \"master\",\"x\",");
/// assert_eq!(t.len(), 2); // nothing changed
/// ```
pub fn restore_into(table: &mut Table, text: &str, append: bool) -> Result<(), CsvErrors> {
    let Some(schema) = schema::table(table.name()) else {
        return Err(CsvErrors::one(CsvError::UnknownColumn {
            column: String::new(),
            table: table.name().to_string(),
        }));
    };
    let lines = physical_lines(text);
    let Some(first) = lines.first() else {
        return Err(CsvErrors::one(CsvError::MissingHeader));
    };
    let header = header_names(first).ok_or_else(|| CsvErrors::one(CsvError::MissingHeader))?;
    for h in &header {
        if !schema.columns.contains(&h.as_str()) {
            return Err(CsvErrors::one(CsvError::UnknownColumn {
                column: h.clone(),
                table: table.name().to_string(),
            }));
        }
    }
    let mut w = Writer::new(table, schema, append);
    // Header position → table column, and the distinct columns of the record (a column named
    // twice takes its last field, as a Perl hash does).
    let map: Vec<Option<usize>> = header
        .iter()
        .map(|h| {
            if schema.auto_increment().contains(&h.as_str()) {
                None
            } else {
                w.table.column_index(h)
            }
        })
        .collect();
    let mut cols: Vec<usize> = map.iter().flatten().copied().collect();
    cols.sort_unstable();
    cols.dedup();
    let data = &lines[1..];
    let mut errors = Vec::new();
    let mut ln = 0;
    while ln < data.len() {
        let start = ln;
        match scan_record(data, &mut ln, header.len()) {
            Scanned::Record(fields) => {
                let mut record: Vec<(usize, Option<Cow<'_, str>>)> =
                    cols.iter().map(|&c| (c, None)).collect();
                for (f, c) in fields.into_iter().zip(&map) {
                    if let Some(c) = c {
                        if let Some(slot) = record.iter_mut().find(|(k, _)| k == c) {
                            slot.1 = f;
                        }
                    }
                }
                if let Err(message) = w.set_attribs(&record) {
                    errors.push(CsvError::Db {
                        message,
                        line: ln,
                        text: rstrip(data[start]).to_string(),
                        physical: start + 2,
                    });
                }
            }
            Scanned::Error(e) => errors.push(e),
        }
        ln += 1;
    }
    if !errors.is_empty() {
        return Err(CsvErrors { errors });
    }
    *table = w.table;
    Ok(())
}

/// The write side of tabrestore on one table (SQLite semantics, in memory).
struct Writer {
    table: Table,
    schema: &'static schema::TableSchema,
    keys: Vec<usize>,
    /// Key text (fields joined by NUL, NULL as '') → rows with that key.
    index: HashMap<String, Vec<usize>>,
    next_auto: i64,
}

fn key_text<'a>(parts: impl Iterator<Item = &'a str>) -> String {
    let mut k = String::new();
    for (i, p) in parts.enumerate() {
        if i > 0 {
            k.push('\0');
        }
        k.push_str(p);
    }
    k
}

impl Writer {
    fn new(table: &Table, schema: &'static schema::TableSchema, append: bool) -> Self {
        let mut t = table.clone();
        let keys = t.key_indices();
        // AUTOINCREMENT never reuses a value, even after the rows are deleted.
        let next_auto = schema
            .auto_increment()
            .first()
            .and_then(|c| t.column_index(c))
            .map(|c| {
                t.rows()
                    .iter()
                    .filter_map(|r| r[c].as_deref().and_then(|v| v.parse::<i64>().ok()))
                    .max()
                    .unwrap_or(0)
                    + 1
            })
            .unwrap_or(1);
        if !append {
            t.clear();
        }
        let mut index: HashMap<String, Vec<usize>> = HashMap::with_capacity(t.len());
        for (i, r) in t.rows().iter().enumerate() {
            let k = key_text(keys.iter().map(|&c| r[c].as_deref().unwrap_or("")));
            index.entry(k).or_default().push(i);
        }
        Writer {
            table: t,
            schema,
            keys,
            index,
            next_auto,
        }
    }

    /// Rows whose every given column equals the given value (SQL `=`: never NULL).
    fn matching(&self, want: &[(usize, &str)]) -> Vec<usize> {
        let rows = self.table.rows();
        let eq = |i: &usize| {
            want.iter()
                .all(|(c, v)| rows[*i][*c].as_deref() == Some(*v))
        };
        let key_given: Option<Vec<&str>> = self
            .keys
            .iter()
            .map(|k| want.iter().find(|(c, _)| c == k).map(|(_, v)| *v))
            .collect();
        match key_given {
            Some(parts) if !parts.is_empty() => self
                .index
                .get(&key_text(parts.into_iter()))
                .map(|v| v.iter().copied().filter(eq).collect())
                .unwrap_or_default(),
            _ => (0..rows.len()).filter(eq).collect(),
        }
    }

    /// xCAT's `setAttribs(\%record, \%record)`; `Err` carries the database message.
    fn set_attribs(&mut self, record: &[(usize, Option<Cow<'_, str>>)]) -> Result<(), String> {
        let tname = self.table.name().to_string();
        // SELECT … WHERE every column = value: a NULL never matches.
        let all_set: Option<Vec<(usize, &str)>> = record
            .iter()
            .map(|(c, v)| v.as_deref().map(|v| (*c, v)))
            .collect();
        if let Some(want) = all_set.filter(|w| !w.is_empty()) {
            if !self.matching(&want).is_empty() {
                // UPDATE … SET col = ? (the text NULL becomes NULL) WHERE col = '<value>' — the
                // value pasted into SQL quotes without escaping.
                let mut literal = Vec::with_capacity(want.len());
                for (c, v) in &want {
                    literal.push((
                        *c,
                        sql_literal(v).ok_or("Error attempting requested DB operation")?,
                    ));
                }
                let lit_ref: Vec<(usize, &str)> =
                    literal.iter().map(|(c, v)| (*c, v.as_str())).collect();
                let targets = self.matching(&lit_ref);
                for i in targets {
                    if let Some(row) = self.table.row_mut(i) {
                        for (c, v) in &want {
                            row[*c] = if *v == "NULL" {
                                None
                            } else {
                                Some(v.to_string())
                            };
                        }
                    }
                }
                return Ok(());
            }
        }
        // INSERT: NULL or absent key columns become ''; nothing to insert is an (empty) error.
        let width = self.table.columns().len();
        let mut row: Row = vec![None; width];
        for (c, v) in record {
            row[*c] = v.as_ref().map(|v| v.to_string());
        }
        if self.schema.auto_increment().is_empty() {
            for &k in &self.keys {
                if row[k].is_none() {
                    row[k] = Some(String::new());
                }
            }
        }
        if !row
            .iter()
            .any(|v| v.as_deref().is_some_and(|v| !v.is_empty()))
        {
            return Err(String::new());
        }
        for req in self.schema.required {
            if let Some(c) = self.table.column_index(req) {
                if row[c].is_none() && !self.schema.auto_increment().contains(req) {
                    return Err(format!("NOT NULL constraint failed: {tname}.{req}"));
                }
            }
        }
        for auto in self.schema.auto_increment() {
            if let Some(c) = self.table.column_index(auto) {
                row[c] = Some(self.next_auto.to_string());
                self.next_auto += 1;
            }
        }
        let k = key_text(self.keys.iter().map(|&c| row[c].as_deref().unwrap_or("")));
        if !self.keys.is_empty() && self.index.contains_key(&k) {
            let names: Vec<String> = self
                .keys
                .iter()
                .map(|&c| format!("{tname}.{}", self.table.columns()[c]))
                .collect();
            return Err(format!("UNIQUE constraint failed: {}", names.join(", ")));
        }
        self.index.entry(k).or_default().push(self.table.len());
        self.table.push_row(row);
        Ok(())
    }
}

/// The value of `'<v>'` as an SQL string literal, if it is one (every `'` doubled).
fn sql_literal(v: &str) -> Option<String> {
    if !v.contains('\'') {
        return Some(v.to_string());
    }
    let mut out = String::with_capacity(v.len());
    let mut chars = v.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\'' {
            if chars.peek() == Some(&'\'') {
                chars.next();
                out.push('\'');
            } else {
                return None;
            }
        } else {
            out.push(c);
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn errs(table: &str, text: &str, append: bool) -> Vec<String> {
        let mut t = Table::new(table);
        match restore_into(&mut t, text, append) {
            Ok(()) => Vec::new(),
            Err(e) => e.errors.iter().map(|e| e.to_string()).collect(),
        }
    }

    #[test]
    fn header_rules() {
        assert_eq!(
            errs("site", "", false),
            ["Data missing header line starting with #"]
        );
        assert_eq!(
            errs("site", "key,value\n", false),
            ["Data missing header line starting with #"]
        );
        assert_eq!(
            errs("site", "#key, value\n", false),
            ["The header line indicates that column ' value' should exist, which is not defined in the schema for 'site'"]
        );
        // Quotes are stripped from the header, trailing blanks too, trailing empty names dropped.
        assert!(errs("site", "#\"key\",\"value\",, \r\n\"a\",\"b\"\n", false).is_empty());
        assert_eq!(
            errs("site", "#,key\n", false),
            ["The header line indicates that column '' should exist, which is not defined in the schema for 'site'"]
        );
    }

    #[test]
    fn field_errors_with_positions() {
        let text =
            "#key,value\n\"a\"b\",\"c\"\n\"ok\",\"fine\"\nx\"y,z\n\"n6\" ,\"x\"\n\"open,\"x\n";
        assert_eq!(
            errs("site", text, false),
            [
                "CSV unescaped \" in record on line 0, character 0: \"a\"b\",\"c\"",
                "CSV missing opening \" for record with \" characters on line 2, character 0: x\"y,z",
                "CSV unescaped \" in record on line 3, character 0: \"n6\" ,\"x\"",
                "CSV unescaped \" in record on line 4, character 0: \"open,\"x",
            ]
        );
        // The position is where the rest first occurs in the line.
        assert_eq!(
            errs("site", "#key,value\n\"x\",x\"\n", false),
            ["CSV missing opening \" for record with \" characters on line 0, character 1: \"x\",x\""]
        );
        assert_eq!(
            errs("site", "#key\n\"a\",\"b\"\n", false),
            ["Too many fields on line 0: \"a\",\"b\" | \"b\""]
        );
        // A trailing comma after the last field is swallowed; a lone leftover "0" is false.
        assert!(errs("site", "#key\n\"a\",\n\"b\",0\n", false).is_empty());
    }

    #[test]
    fn multi_line_values_and_line_numbers() {
        let f = parse("#key,value\n\"motd\",\"one  \n\n  two\"\n\"next\",\"v\"\n").unwrap();
        // Blanks before a newline are lost, blank continuation lines vanish.
        assert_eq!(f.records[0].fields[1].as_deref(), Some("one\n  two"));
        assert_eq!(f.records[1].line, 3);
        assert_eq!(f.records[1].physical, 5);
    }

    #[test]
    fn records_become_inserts() {
        let mut t = Table::new("site");
        restore_into(
            &mut t,
            "#value,key\n\"v\",\"k\"\n,\n\"only value\"\n",
            false,
        )
        .unwrap_err();
        // A blank line is a DB error with an empty message.
        assert_eq!(
            errs("site", "#key,value\n\"a\",\"b\"\n\n", false),
            ["DB error  with line 1: "]
        );
        // A NULL key becomes ''.
        let mut t = Table::new("site");
        restore_into(&mut t, "#value\n\"v\"\n", false).unwrap();
        assert_eq!(t.rows()[0][0].as_deref(), Some(""));
        // Same fully-set record twice: the second is an (idle) update, not a duplicate.
        assert!(errs("site", "#key,value\n\"a\",\"b\"\n\"a\",\"b\"\n", false).is_empty());
        assert_eq!(
            errs(
                "site",
                "#key,value,comments\n\"a\",\"b\",\n\"a\",\"b\",\n",
                false
            ),
            ["DB error UNIQUE constraint failed: site.key with line 1: \"a\",\"b\","]
        );
        assert_eq!(
            errs("networks", "#net,mask,netname\n\"10.0.0.0\",\"255.0.0.0\",\n\"10.0.0.0\",\"255.0.0.0\",\"x\"\n", false),
            ["DB error UNIQUE constraint failed: networks.net, networks.mask with line 1: \"10.0.0.0\",\"255.0.0.0\",\"x\""]
        );
        assert_eq!(
            errs("statelite", "#node,image\n\"cn1\",\"img\"\n", false),
            ["DB error NOT NULL constraint failed: statelite.statemnt with line 0: \"cn1\",\"img\""]
        );
    }

    #[test]
    fn literal_null_is_only_special_in_updates() {
        let mut t = Table::new("site");
        restore_into(&mut t, "#key,value\n\"a\",\"NULL\"\n", false).unwrap();
        assert_eq!(t.rows()[0][1].as_deref(), Some("NULL"));
        restore_into(&mut t, "#key,value\n\"a\",\"NULL\"\n", true).unwrap();
        assert_eq!(t.rows()[0][1], None);
    }

    #[test]
    fn append_keeps_rows_and_replace_clears() {
        let mut t = Table::new("site");
        restore_into(&mut t, "#key,value\n\"a\",\"1\"\n", false).unwrap();
        restore_into(&mut t, "#key,value\n\"b\",\"2\"\n", true).unwrap();
        assert_eq!(t.len(), 2);
        restore_into(&mut t, "#key,value\n", false).unwrap();
        assert!(t.is_empty());
    }
}
