//! Replays the kept corpus of every cargo-fuzz target of this crate (`fuzz/corpus/<target>/`,
//! and `fuzz/artifacts/<target>/` when a fuzzing run left findings there) through the target's
//! body, [`snmove::fuzzing`]: no input may panic or break the target's invariants. Fuzzing
//! itself runs by hand (`cd fuzz && cargo +nightly fuzz run <target>`); this is CI's smoke run.

use snmove::fuzzing::{cli, journal, net};

/// Runs every file kept for `target` through `body` (see [`fuzzreplay::replay`]).
fn replay(target: &str, body: fn(&[u8])) {
    fuzzreplay::replay(env!("CARGO_MANIFEST_DIR"), target, body);
}

#[test]
fn cli_corpus() {
    replay("cli", cli);
}

#[test]
fn journal_corpus() {
    replay("journal", journal);
}

#[test]
fn net_corpus() {
    replay("net", net);
}

/// Inputs fuzzing found, kept here (the corpus directories belong to the crate's owner).
#[test]
fn findings() {
    // net: a control character as the network and U+FFFD as the mask.
    net(b"\x1a\n\xee");
    // cli: one long bundle of unknown options, one error per character.
    let mut bundle = b"-(nnn".to_vec();
    bundle.extend_from_slice(&[0x7f; 30]);
    bundle.extend_from_slice(b"nnnnnnnnnnnnnnnnnnnnnnn\xe7\xe2nnnnnnn");
    cli(&bundle);
}
