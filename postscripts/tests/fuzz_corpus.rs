//! Replays the kept corpus of every cargo-fuzz target of this crate (`fuzz/corpus/<target>/`,
//! and `fuzz/artifacts/<target>/` when a fuzzing run left findings there) through the target's
//! body, [`postscripts::fuzzing`]: no input may panic or break the target's invariants. Fuzzing
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
fn inet() {
    replay("inet", postscripts::fuzzing::inet);
}

#[test]
fn known_hosts() {
    replay("known_hosts", postscripts::fuzzing::known_hosts);
}

#[test]
fn report_json() {
    replay("report_json", postscripts::fuzzing::report_json);
}

#[test]
fn step_markers() {
    replay("step_markers", postscripts::fuzzing::step_markers);
}
