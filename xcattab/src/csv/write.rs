//! The `tabdump` writer.

use crate::table::Table;

/// Appends the header line `#c1,c2,...\n`.
pub fn write_header<'a>(out: &mut String, columns: impl IntoIterator<Item = &'a str>) {
    out.push('#');
    for (i, c) in columns.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(c);
    }
    out.push('\n');
}

/// Appends one row: non-empty values quoted with `"` doubled; NULL, `''` and a lone newline
/// (what Perl's `/^$/` calls empty, and xCAT turns into undef before printing) as nothing.
pub fn write_row<'a>(out: &mut String, fields: impl IntoIterator<Item = Option<&'a str>>) {
    for (i, f) in fields.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        if let Some(v) = f.filter(|v| !v.is_empty() && *v != "\n") {
            out.push('"');
            if v.contains('"') {
                out.push_str(&v.replace('"', "\"\""));
            } else {
                out.push_str(v);
            }
            out.push('"');
        }
    }
    out.push('\n');
}

/// The whole table as `tabdump` prints it (all rows, disabled ones included, in storage order).
///
/// ```
/// let mut t = xcattab::Table::new("site");
/// t.push_row(vec![Some("master".into()), Some("10.0.0.1".into()), None, None]);
/// t.push_row(vec![Some("motd".into()), Some("say \"hi\"".into()), Some("".into()), None]);
/// assert_eq!(
///     xcattab::csv::dump(&t),
///     "#key,value,comments,disable\n\"master\",\"10.0.0.1\",,\n\"motd\",\"say \"\"hi\"\"\",,\n"
/// );
/// ```
pub fn dump(table: &Table) -> String {
    let mut out = String::with_capacity(64 + table.len() * 48);
    write_header(&mut out, table.columns().iter().map(String::as_str));
    for row in table.rows() {
        write_row(&mut out, row.iter().map(|v| v.as_deref()));
    }
    out
}
