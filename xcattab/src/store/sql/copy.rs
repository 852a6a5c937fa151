//! PostgreSQL's `COPY … (FORMAT text)` rows: tab-separated fields, `\N` for NULL, backslash
//! escapes for backslash, newline, carriage return, tab (and, when reading, `\b \f \v`, octal
//! `\NNN` and hex `\xNN`). Whole tables move in one round trip each way.

use crate::table::{Row, Value};

/// Appends one row in COPY text format (with its line feed) to `out`.
pub(crate) fn encode_row<'a>(out: &mut Vec<u8>, fields: impl IntoIterator<Item = &'a Value>) {
    for (i, v) in fields.into_iter().enumerate() {
        if i > 0 {
            out.push(b'\t');
        }
        match v {
            None => out.extend_from_slice(b"\\N"),
            Some(s)
                if !s
                    .bytes()
                    .any(|b| matches!(b, b'\\' | b'\n' | b'\r' | b'\t')) =>
            {
                out.extend_from_slice(s.as_bytes())
            }
            Some(s) => {
                for &b in s.as_bytes() {
                    match b {
                        b'\\' => out.extend_from_slice(b"\\\\"),
                        b'\n' => out.extend_from_slice(b"\\n"),
                        b'\r' => out.extend_from_slice(b"\\r"),
                        b'\t' => out.extend_from_slice(b"\\t"),
                        _ => out.push(b),
                    }
                }
            }
        }
    }
    out.push(b'\n');
}

/// A malformed COPY stream (the server never sends one; reported rather than trusted).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CopyFormatError {
    /// 1-based line of the stream.
    pub line: usize,
    /// What was wrong.
    pub reason: &'static str,
}

/// Parses a whole COPY text stream into rows of exactly `width` fields.
pub(crate) fn decode(data: &[u8], width: usize) -> Result<Vec<Row>, CopyFormatError> {
    if data.is_empty() {
        return Ok(Vec::new());
    }
    let body = data.strip_suffix(b"\n").unwrap_or(data);
    let mut rows = Vec::new();
    for (n, line) in body.split(|&b| b == b'\n').enumerate() {
        let row = decode_line(line, n + 1, width)?;
        if row.len() != width {
            return Err(CopyFormatError {
                line: n + 1,
                reason: "wrong number of fields",
            });
        }
        rows.push(row);
    }
    Ok(rows)
}

fn text(bytes: Vec<u8>) -> String {
    match String::from_utf8(bytes) {
        Ok(s) => s,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    }
}

fn decode_line(line: &[u8], n: usize, width: usize) -> Result<Row, CopyFormatError> {
    let mut row = Vec::with_capacity(width);
    for field in line.split(|&b| b == b'\t') {
        if field == b"\\N" {
            row.push(None);
            continue;
        }
        if !field.contains(&b'\\') {
            row.push(Some(text(field.to_vec())));
            continue;
        }
        let mut out = Vec::with_capacity(field.len());
        let mut i = 0;
        while i < field.len() {
            let b = field[i];
            if b != b'\\' {
                out.push(b);
                i += 1;
                continue;
            }
            let Some(&e) = field.get(i + 1) else {
                return Err(CopyFormatError {
                    line: n,
                    reason: "backslash at the end of a field",
                });
            };
            i += 2;
            match e {
                b'b' => out.push(8),
                b'f' => out.push(12),
                b'n' => out.push(b'\n'),
                b'r' => out.push(b'\r'),
                b't' => out.push(b'\t'),
                b'v' => out.push(11),
                b'0'..=b'7' => {
                    let mut v = u32::from(e - b'0');
                    let mut k = 0;
                    while k < 2 && i < field.len() && (b'0'..=b'7').contains(&field[i]) {
                        v = v * 8 + u32::from(field[i] - b'0');
                        i += 1;
                        k += 1;
                    }
                    out.push((v & 0xff) as u8);
                }
                b'x' if field.get(i).is_some_and(u8::is_ascii_hexdigit) => {
                    let mut v = 0u32;
                    let mut k = 0;
                    while k < 2 && i < field.len() && field[i].is_ascii_hexdigit() {
                        v = v * 16 + (field[i] as char).to_digit(16).unwrap_or(0);
                        i += 1;
                        k += 1;
                    }
                    out.push(v as u8);
                }
                other => out.push(other),
            }
        }
        row.push(Some(text(out)));
    }
    Ok(row)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_of_awkward_values() {
        let rows: Vec<Row> = vec![
            vec![Some("cn1".into()), None, Some(String::new())],
            vec![
                Some("a\tb\\c\nd\re".into()),
                Some("\\N".into()),
                Some("é \"q\" ,".into()),
            ],
        ];
        let mut buf = Vec::new();
        for r in &rows {
            encode_row(&mut buf, r);
        }
        assert_eq!(decode(&buf, 3).unwrap(), rows);
    }

    #[test]
    fn server_escapes_are_understood() {
        assert_eq!(
            decode(b"\\b\\f\\v\\101\\x41\\q\t\\N\n", 2).unwrap(),
            vec![vec![Some("\u{8}\u{c}\u{b}AAq".into()), None]]
        );
        assert!(decode(b"a\tb\n", 3).is_err());
        assert!(decode(b"a\\\n", 1).is_err());
        assert_eq!(decode(b"", 2).unwrap(), Vec::<Row>::new());
    }

    #[test]
    fn one_column_tables_keep_empty_strings() {
        let mut buf = Vec::new();
        encode_row(&mut buf, &vec![Some(String::new())]);
        encode_row(&mut buf, &vec![None]);
        assert_eq!(
            decode(&buf, 1).unwrap(),
            vec![vec![Some(String::new())], vec![None]]
        );
    }
}
