//! The bodies of the cargo-fuzz targets in `xcattab/fuzz/`, shared with the test that replays
//! their kept corpus (`tests/fuzz_corpus.rs`) so `cargo test` runs every kept input through the
//! same checks. Not part of the supported API: each function panics when an invariant breaks.

use crate::store::{StoreError, StoreSpec};

/// Target `csv_reader`: the tabrestore reader on arbitrary text. Scanning, the store's lenient
/// reader and a full restore into a table never panic; a successful store read dumps back to
/// something that reads back to the same table.
pub fn csv_reader(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = crate::csv::scan(text);
    let _ = crate::csv::parse(text);
    for table in [
        "site",
        "networks",
        "noderes",
        "auditlog",
        "statelite",
        "nosuchtable",
    ] {
        if let Ok(t) = crate::csv::table_from_csv(table, text) {
            let dumped = crate::csv::dump(&t);
            let again = match crate::csv::table_from_csv(table, &dumped) {
                Ok(again) => again,
                Err(e) => panic!("the dump of {text:?} does not read back: {e}"),
            };
            // Values that are only blanks before a newline, lone newlines or empty strings
            // cannot survive tabdump exactly (xCAT loses them too); everything else must.
            assert_eq!(
                crate::csv::dump(&again),
                dumped,
                "dump is not a fixed point"
            );
        }
        let mut t = crate::Table::new(table);
        let _ = crate::csv::restore_into(&mut t, text, false);
        let _ = crate::csv::restore_into(&mut t, text, true);
    }
}

/// Target `regexval`: computed values on arbitrary node names and values (first line: the
/// node name; the rest: the value). Parsing and applying never panic or hang, the Perl
/// expression evaluator and sprintf included.
pub fn regexval(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (node, value) = text.split_once('\n').unwrap_or(("cn17", text));
    if let Ok(t) = crate::regexval::ValueTemplate::parse(value) {
        let _ = t.apply(node);
    }
    // Also as the replacement of a pipe form, where the Perl evaluator sees it.
    let _ = crate::regexval::compute(node, &format!("|cn(\\d+)|{value}|"));
}

/// Characters that shape a store name (driver, data source, key=value parts, user and
/// password); [`mask_credentials`] keeps them so the masked name parses the same way.
fn structural(c: char) -> bool {
    matches!(c, ':' | '/' | '|' | ';' | '=' | '\n' | '\r') || c.is_whitespace()
}

/// `text` with every credential character replaced: everything after the first `|` (user and
/// password), and the values of credential keys (`password=`, `user=`, …) in the data source.
/// Structural characters stay, so the masked name has the same shape.
fn mask_credentials(text: &str) -> String {
    let mask = |s: &str| -> String {
        s.chars()
            .map(|c| if structural(c) { c } else { '*' })
            .collect()
    };
    let (head, creds) = match text.split_once('|') {
        Some((h, c)) => (h, Some(c)),
        None => (text, None),
    };
    let mut out = String::with_capacity(text.len());
    match head.split_once(':') {
        Some((driver, source)) => {
            out.push_str(driver);
            out.push(':');
            let parts: Vec<String> = source
                .split(';')
                .map(|part| match part.split_once('=') {
                    Some((k, v)) if crate::store::is_secret_key(k) => {
                        format!("{k}={}", mask(v))
                    }
                    _ => part.to_string(),
                })
                .collect();
            out.push_str(&parts.join(";"));
        }
        None => out.push_str(head),
    }
    if let Some(c) = creds {
        out.push('|');
        out.push_str(&mask(c));
    }
    out
}

/// What a user may see of a parse: the store as printed and debugged, or the error.
fn shown(r: &Result<StoreSpec, StoreError>) -> String {
    match r {
        Ok(spec) => format!("{spec} {spec:?}"),
        Err(e) => format!("{e} {e:?}"),
    }
}

/// What a user may see of a `Pg:` store's connection settings (checked without connecting).
#[cfg(feature = "pg")]
fn shown_settings(r: &Result<StoreSpec, StoreError>) -> String {
    match r {
        Ok(spec @ StoreSpec::Pg(dsn)) => match crate::store::sql::pg::config_from(spec, dsn) {
            Ok(_) => String::new(),
            Err(e) => format!("{e} {e:?}"),
        },
        _ => String::new(),
    }
}

#[cfg(not(feature = "pg"))]
fn shown_settings(_: &Result<StoreSpec, StoreError>) -> String {
    String::new()
}

/// Target `store_spec`: any store name (`--db`, `XCATCFG`, the first line of cfgloc). Parsing
/// never panics; what is printed of a network store — its `Display`, `Debug`, the parse
/// error, and (feature `pg`) the errors of its connection settings — never depends on the user,
/// the password or a credential in the data source: masking them changes nothing shown.
/// (`CSV:` and `SQLite:` names are directories, printed whole.)
pub fn store_spec(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let parsed = StoreSpec::parse(&text);
    if let Ok(spec @ (StoreSpec::Csv(_) | StoreSpec::Sqlite(_))) = &parsed {
        assert!(spec.dir().is_some(), "{spec:?} has no directory");
        assert!(!spec.to_string().is_empty());
        return;
    }
    let masked_text = mask_credentials(&text);
    let masked = StoreSpec::parse(&masked_text);
    assert_eq!(
        shown(&parsed),
        shown(&masked),
        "what is shown of {text:?} depends on its credentials ({masked_text:?})"
    );
    assert_eq!(
        shown_settings(&parsed),
        shown_settings(&masked),
        "the connection errors of {text:?} depend on its credentials ({masked_text:?})"
    );
}
