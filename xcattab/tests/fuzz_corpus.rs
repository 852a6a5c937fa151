//! Replays the kept corpus of every cargo-fuzz target of this crate (`fuzz/corpus/<target>/`,
//! and `fuzz/artifacts/<target>/` when a fuzzing run left findings there) through the target's
//! body, [`xcattab::fuzzing`]: no input may panic or break the target's invariants. Fuzzing
//! itself runs by hand (`cd fuzz && cargo +nightly fuzz run <target>`); this is CI's smoke run.

/// Runs every file kept for `target` through `body` (see [`fuzzreplay::replay`]).
fn replay(target: &str, body: fn(&[u8])) {
    fuzzreplay::replay(env!("CARGO_MANIFEST_DIR"), target, body);
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
