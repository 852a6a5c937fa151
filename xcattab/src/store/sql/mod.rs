//! What the SQL back ends share: xCAT's table DDL (`Table.pm` `buildcreatestmt`), identifier
//! rules, and the row diff that turns "old table, new table" into in-place writes.

#[cfg(feature = "pg")]
pub(crate) mod copy;
#[cfg(feature = "pg")]
pub mod pg;
#[cfg(feature = "sqlite")]
pub mod sqlite;

use std::collections::HashMap;

use super::StoreError;
use crate::schema;
use crate::table::{Row, Table};

/// The SQL dialect a statement is built for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dialect {
    /// SQLite: column names written bare, as xCAT does.
    #[cfg_attr(not(feature = "sqlite"), allow(dead_code))]
    Sqlite,
    /// PostgreSQL: column names in double quotes, as xCAT does (`delimitcol`).
    Pg,
}

/// Column types `Schema.pm` declares explicitly (`types =>`); every other column is `TEXT`,
/// and `TEXT` key columns become `VARCHAR(128)`.
const TYPES: &[(&str, &str, &str)] = &[
    ("auditlog", "recid", "INTEGER AUTO_INCREMENT"),
    ("discoverydata", "otherdata", "VARCHAR(2048)"),
    ("eventlog", "recid", "INTEGER AUTO_INCREMENT"),
    ("kvm_masterdata", "xml", "VARCHAR(16000)"),
    ("kvm_nodedata", "xml", "VARCHAR(16000)"),
    ("osimage", "osupdatename", "VARCHAR(1024)"),
];

/// Whether `table.column` is an auto-increment column (a sequence to advance after writes).
pub(crate) fn is_serial(table: &str, column: &str) -> bool {
    TYPES
        .iter()
        .any(|(t, c, ty)| *t == table && *c == column && ty.contains("AUTO_INCREMENT"))
}

fn column_type(table: &str, column: &str, dialect: Dialect) -> &'static str {
    match TYPES.iter().find(|(t, c, _)| *t == table && *c == column) {
        Some((_, _, ty)) if ty.contains("AUTO_INCREMENT") => match dialect {
            Dialect::Sqlite => "INTEGER PRIMARY KEY AUTOINCREMENT",
            Dialect::Pg => "SERIAL",
        },
        Some((_, _, ty)) => ty,
        None => "TEXT",
    }
}

/// `name` in double quotes, inner quotes doubled: safe for any identifier.
pub(crate) fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// A table name the SQL stores accept: what the CSV store accepts (letters, digits, `_`, `-`,
/// `.`, not starting with a dot), so a name can also be a file name.
pub(crate) fn check_table_name(name: &str) -> Result<(), StoreError> {
    let ok = !name.is_empty()
        && !name.starts_with('.')
        && name.len() <= 63
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.');
    if ok {
        Ok(())
    } else {
        Err(StoreError::BadTableName {
            name: name.to_string(),
        })
    }
}

/// The `CREATE TABLE` statement xCAT would issue for `table` (exactly `buildcreatestmt`'s text
/// for a schema table), with `columns` in order. A table the schema does not know gets quoted
/// `TEXT` columns and no key.
///
/// For nodelist on SQLite (see the unit tests for the exact texts):
///
/// ```text
/// CREATE TABLE nodelist (
///   node VARCHAR(128) ,
///   groups TEXT,
///   …
///   disable TEXT,
///   PRIMARY KEY (node)
/// )
/// ```
pub(crate) fn create_table_sql(table: &str, columns: &[String], dialect: Dialect) -> String {
    let Some(s) = schema::table(table) else {
        let cols: Vec<String> = columns
            .iter()
            .map(|c| format!("{} TEXT", quote_ident(c)))
            .collect();
        return format!(
            "CREATE TABLE {} (\n  {}\n)",
            quote_ident(table),
            cols.join(",\n  ")
        );
    };
    let delim = |c: &str| match dialect {
        Dialect::Sqlite => c.to_string(),
        Dialect::Pg => quote_ident(c),
    };
    let mut sql = format!("CREATE TABLE {table} (\n  ");
    for c in columns {
        let mut ty = column_type(table, c, dialect).to_string();
        if ty == "TEXT" && s.keys.contains(&c.as_str()) {
            ty = "VARCHAR(128) ".into();
        }
        sql.push_str(&delim(c));
        sql.push(' ');
        sql.push_str(&ty);
        if s.required.contains(&c.as_str()) {
            sql.push_str(" NOT NULL");
        }
        sql.push_str(",\n  ");
    }
    if sql.contains("PRIMARY KEY") || s.keys.is_empty() {
        if let Some(stripped) = sql.strip_suffix(",\n  ") {
            sql = stripped.to_string();
        }
        sql.push_str("\n)");
    } else {
        let keys: Vec<String> = s.keys.iter().map(|k| delim(k)).collect();
        sql.push_str(&format!("PRIMARY KEY ({})\n)", keys.join(",")));
    }
    sql
}

/// The columns a table should have when written: the columns of the in-memory table.
/// Returns the ones the database table lacks (to be added with `ALTER TABLE … ADD`, as xCAT's
/// `updateschema` does).
pub(crate) fn missing_columns<'a>(table: &'a Table, db_columns: &[String]) -> Vec<&'a String> {
    table
        .columns()
        .iter()
        .filter(|c| !db_columns.contains(c))
        .collect()
}

/// How to turn the stored rows into the new content while keeping storage order: rows are
/// matched by key in order; matched rows that differ are updated in place, unmatched old rows
/// deleted, and the remaining new rows appended at the end (which is where a row-id ordered
/// table puts new rows).
#[derive(Debug, Default, PartialEq, Eq)]
#[cfg_attr(not(feature = "sqlite"), allow(dead_code))]
pub(crate) struct RowDiff {
    /// Indices (into the old rows) of rows to delete.
    pub deletes: Vec<usize>,
    /// (old index, new index) of rows to update.
    pub updates: Vec<(usize, usize)>,
    /// Indices (into the new rows) of rows to append, in order.
    pub inserts: Vec<usize>,
}

impl RowDiff {
    /// Whether nothing needs writing.
    #[cfg(test)]
    pub fn is_empty(&self) -> bool {
        self.deletes.is_empty() && self.updates.is_empty() && self.inserts.is_empty()
    }
}

/// Computes the writes that turn `old` (rows in storage order, in `new`'s column layout) into
/// `new`. Any result is correct; it is minimal for what batches do (update in place, delete,
/// append).
#[cfg_attr(not(feature = "sqlite"), allow(dead_code))]
pub(crate) fn diff_rows(keycols: &[usize], old: &[Row], new: &[Row]) -> RowDiff {
    let key = |r: &Row| -> Vec<String> {
        keycols
            .iter()
            .map(|&c| r.get(c).and_then(|v| v.clone()).unwrap_or_default())
            .collect()
    };
    let mut queues: HashMap<Vec<String>, std::collections::VecDeque<usize>> = HashMap::new();
    for (i, r) in old.iter().enumerate() {
        queues.entry(key(r)).or_default().push_back(i);
    }
    let mut matched = vec![false; old.len()];
    let mut diff = RowDiff::default();
    let mut last: Option<usize> = None;
    let mut tail = false;
    for (j, r) in new.iter().enumerate() {
        if !tail {
            if let Some(q) = queues.get_mut(&key(r)) {
                if let Some(&i) = q.front() {
                    if last.map_or(true, |l| i > l) {
                        q.pop_front();
                        matched[i] = true;
                        last = Some(i);
                        if old[i] != *r {
                            diff.updates.push((i, j));
                        }
                        continue;
                    }
                }
            }
            tail = true;
        }
        diff.inserts.push(j);
    }
    diff.deletes = (0..old.len()).filter(|&i| !matched[i]).collect();
    diff
}

/// Tables a batch replaces whole (tabrestore): such a table is created even when it stays
/// empty, as xCAT's tabrestore creates it.
pub(crate) fn replaced_tables(batch: &crate::batch::Batch) -> std::collections::BTreeSet<String> {
    batch
        .ops
        .iter()
        .filter_map(|op| match op {
            crate::batch::Op::Replace(t) => Some(t.name().to_string()),
            _ => None,
        })
        .collect()
}

/// `old`'s rows rearranged into `new_columns` (by name; absent columns are NULL).
#[cfg_attr(not(feature = "sqlite"), allow(dead_code))]
pub(crate) fn project_rows(old: &Table, new_columns: &[String]) -> Vec<Row> {
    if old.columns() == new_columns {
        return old.rows().to_vec();
    }
    let map: Vec<Option<usize>> = new_columns.iter().map(|c| old.column_index(c)).collect();
    old.rows()
        .iter()
        .map(|r| {
            map.iter()
                .map(|i| i.and_then(|i| r.get(i).cloned().flatten()))
                .collect()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(v: &[(&str, &str)]) -> Vec<Row> {
        v.iter()
            .map(|(k, x)| vec![Some(k.to_string()), Some(x.to_string())])
            .collect()
    }

    #[test]
    fn xcat_ddl_for_sqlite_and_pg() {
        let cols = |t: &str| -> Vec<String> {
            schema::table(t)
                .unwrap()
                .columns
                .iter()
                .map(|c| c.to_string())
                .collect()
        };
        assert_eq!(
            create_table_sql("site", &cols("site"), Dialect::Sqlite),
            "CREATE TABLE site (\n  key VARCHAR(128) ,\n  value TEXT,\n  comments TEXT,\n  disable TEXT,\n  PRIMARY KEY (key)\n)"
        );
        assert_eq!(
            create_table_sql("networks", &cols("networks")[..3], Dialect::Pg),
            "CREATE TABLE networks (\n  \"netname\" TEXT,\n  \"net\" VARCHAR(128) ,\n  \"mask\" VARCHAR(128) ,\n  PRIMARY KEY (\"net\",\"mask\")\n)"
        );
        let audit = create_table_sql("auditlog", &cols("auditlog"), Dialect::Sqlite);
        assert!(audit.starts_with("CREATE TABLE auditlog (\n  recid INTEGER PRIMARY KEY AUTOINCREMENT,\n  audittime TEXT,"), "{audit}");
        assert!(audit.ends_with("disable TEXT\n)"), "{audit}");
        let audit = create_table_sql("auditlog", &cols("auditlog"), Dialect::Pg);
        assert!(
            audit.starts_with("CREATE TABLE auditlog (\n  \"recid\" SERIAL,"),
            "{audit}"
        );
        assert!(audit.ends_with("PRIMARY KEY (\"recid\")\n)"), "{audit}");
        let lite = create_table_sql("statelite", &cols("statelite"), Dialect::Sqlite);
        assert!(
            lite.contains("node VARCHAR(128)  NOT NULL,\n  image TEXT,\n  statemnt TEXT NOT NULL,"),
            "{lite}"
        );
        assert_eq!(
            create_table_sql(
                "my\"tab",
                &["a".to_string(), "b c".to_string()],
                Dialect::Sqlite
            ),
            "CREATE TABLE \"my\"\"tab\" (\n  \"a\" TEXT,\n  \"b c\" TEXT\n)"
        );
    }

    #[test]
    fn diff_updates_in_place_deletes_and_appends() {
        let old = rows(&[("a", "1"), ("b", "2"), ("c", "3")]);
        let new = rows(&[("a", "1"), ("c", "9"), ("d", "4")]);
        let d = diff_rows(&[0], &old, &new);
        assert_eq!(d.deletes, [1]);
        assert_eq!(d.updates, [(2, 1)]);
        assert_eq!(d.inserts, [2]);
    }

    #[test]
    fn a_row_moved_to_the_end_is_deleted_and_appended() {
        let old = rows(&[("a", "1"), ("b", "2")]);
        let new = rows(&[("b", "2"), ("a", "1")]);
        let d = diff_rows(&[0], &old, &new);
        assert_eq!(d.deletes, [0]);
        assert!(d.updates.is_empty());
        assert_eq!(d.inserts, [1]);
    }

    #[test]
    fn duplicate_keys_are_matched_in_order() {
        let old = rows(&[("a", "1"), ("a", "2")]);
        let new = rows(&[("a", "1"), ("a", "3")]);
        let d = diff_rows(&[0], &old, &new);
        assert!(d.deletes.is_empty());
        assert_eq!(d.updates, [(1, 1)]);
        assert!(d.inserts.is_empty());
        assert!(diff_rows(&[0], &old, &old).is_empty());
    }

    #[test]
    fn any_rearrangement_gives_the_new_order() {
        // Replaying the diff on the old rows must give exactly the new rows, in order.
        let old = rows(&[("a", "1"), ("b", "2"), ("c", "3"), ("d", "4")]);
        let cases = [
            rows(&[("d", "4"), ("c", "3"), ("b", "2"), ("a", "1")]),
            rows(&[("b", "2"), ("x", "0"), ("a", "1")]),
            rows(&[]),
            rows(&[("a", "1"), ("b", "2"), ("c", "3"), ("d", "4"), ("e", "5")]),
        ];
        for new in cases {
            let d = diff_rows(&[0], &old, &new);
            let mut result: Vec<(usize, Row)> = Vec::new(); // (position key, row)
            for (i, r) in old.iter().enumerate() {
                if d.deletes.contains(&i) {
                    continue;
                }
                let row = d
                    .updates
                    .iter()
                    .find(|(o, _)| *o == i)
                    .map(|(_, n)| new[*n].clone());
                result.push((i, row.unwrap_or_else(|| r.clone())));
            }
            for (k, &j) in d.inserts.iter().enumerate() {
                result.push((old.len() + k, new[j].clone()));
            }
            result.sort_by_key(|(p, _)| *p);
            let got: Vec<Row> = result.into_iter().map(|(_, r)| r).collect();
            assert_eq!(got, new);
        }
    }

    #[test]
    fn table_names() {
        assert!(check_table_name("noderes").is_ok());
        assert!(check_table_name("x;drop").is_err());
        assert!(check_table_name("").is_err());
        assert!(check_table_name(".x").is_err());
    }
}
