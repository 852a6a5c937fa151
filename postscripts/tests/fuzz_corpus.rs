//! Replays the kept corpus of every cargo-fuzz target of this crate (`fuzz/corpus/<target>/`,
//! and `fuzz/artifacts/<target>/` when a fuzzing run left findings there) through the target's
//! body, [`postscripts::fuzzing`]: no input may panic or break the target's invariants. Fuzzing
//! itself runs by hand (`cd fuzz && cargo +nightly fuzz run <target>`); this is CI's smoke run.

/// Runs every file kept for `target` through `body` (see [`fuzzreplay::replay`]).
fn replay(target: &str, body: fn(&[u8])) {
    fuzzreplay::replay(env!("CARGO_MANIFEST_DIR"), target, body);
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
