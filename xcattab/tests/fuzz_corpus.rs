//! Replays the kept corpus of every cargo-fuzz target of this crate (`fuzz/corpus/<target>/`,
//! and `fuzz/artifacts/<target>/` when a fuzzing run left findings there) through the target's
//! body, [`xcattab::fuzzing`]: no input may panic or break the target's invariants. Fuzzing
//! itself runs by hand (`cd fuzz && cargo +nightly fuzz run <target>`); this is CI's smoke run.

use std::path::Path;

/// Runs every file kept for `target` through `body`; fails naming every file that panicked.
fn replay(target: &str, body: fn(&[u8])) {
    let fuzz = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let mut files = Vec::new();
    for kind in ["corpus", "artifacts"] {
        if let Ok(entries) = std::fs::read_dir(fuzz.join(kind).join(target)) {
            files.extend(entries.map(|e| e.expect("a corpus entry").path()));
        }
    }
    files.sort();
    let corpus = files
        .iter()
        .filter(|f| f.starts_with(fuzz.join("corpus")))
        .count();
    assert!(corpus > 0, "no kept corpus in fuzz/corpus/{target}");
    let mut failed = Vec::new();
    for f in &files {
        let data = std::fs::read(f).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        if std::panic::catch_unwind(|| body(&data)).is_err() {
            failed.push(f.display().to_string());
        }
    }
    assert!(
        failed.is_empty(),
        "{target}: these inputs fail: {failed:#?}"
    );
}

#[test]
fn csv_reader() {
    replay("csv_reader", xcattab::fuzzing::csv_reader);
}

#[test]
fn regexval() {
    replay("regexval", xcattab::fuzzing::regexval);
}

#[test]
fn store_spec() {
    replay("store_spec", xcattab::fuzzing::store_spec);
}

/// Store names that printed credentials before the `store_spec` target existed, and the usual
/// forms: no user name or password is shown (`Display`, `Debug`, errors).
#[test]
fn store_spec_findings() {
    for text in [
        "Pg|Us3r|Pa55:w0rd",
        "Oracle|Us3r|Pa55:w0rd",
        "Pg:dbname=xcatdb;password=Pa55w0rd|Us3r|Pa55w0rd",
        "mysql:database=x;user=Us3r|Us3r|Pa55w0rd",
        "Pg:dbname=xcatdb;host=10.0.0.1|Us3r|Pa55w0rd",
        "DB2:xcatdb|Us3r|Pa55w0rd",
    ] {
        xcattab::fuzzing::store_spec(text.as_bytes());
        let shown = match xcattab::StoreSpec::parse(text) {
            Ok(s) => format!("{s} {s:?}"),
            Err(e) => format!("{e} {e:?}"),
        };
        for secret in ["Us3r", "Pa55", "w0rd"] {
            assert!(
                !shown.contains(secret),
                "{text:?} shows {secret:?}: {shown}"
            );
        }
    }
}
