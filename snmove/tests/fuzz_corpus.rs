//! Replays the kept corpus of every cargo-fuzz target of this crate (`fuzz/corpus/<target>/`,
//! and `fuzz/artifacts/<target>/` when a fuzzing run left findings there) through the same
//! checks as the target, written here against the public API (the targets in
//! `fuzz/fuzz_targets/` hold the same bodies): no input may panic or break the target's
//! invariants. Fuzzing itself runs by hand (`cd fuzz && cargo +nightly fuzz run <target>`);
//! this is CI's smoke run.

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

/// Target `cli`: any words (split at NUL bytes) parse or are refused, never panic.
fn cli(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let words: Vec<&str> = if text.is_empty() {
        Vec::new()
    } else {
        text.split('\0').collect()
    };
    let table = snmove::cli::option_table();
    let parsed = snmove::getopt::parse(&table, &words);
    // Every word is consumed: as an option, a value, a positional, or an error — at most one
    // per character (a bundle `-abc` is three options). (The fuzz target's own bound,
    // 64 per word, is too tight: one 66-character bundle of unknown options broke it.)
    let bound: usize = words
        .iter()
        .map(|w| w.chars().count().max(1))
        .sum::<usize>()
        + 1;
    let found = parsed.options.len() + parsed.positionals.len() + parsed.errors.len();
    assert!(found <= bound, "{found} results for {words:?}");
    let _ = snmove::cli::parse(&words);
    let _ = snmove::cli::shows_server(&words);
}

/// Target `journal`: any text is read or refused; a journal that is read gives an undo batch
/// and after-images, and applies to a database, without panicking.
fn journal(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    if let Ok(j) = snmove::journal::Journal::parse(&text, Path::new("fuzz.json")) {
        for (name, t) in &j.tables {
            let keys = t.key_positions(name);
            for r in &t.rows {
                let _ = r.after(t.columns.len(), &keys);
            }
        }
        let mut db = xcattab::Database::new();
        let _ = j.undo_batch().apply(&mut db);
    }
}

/// Target `net`: service-node `ip addr` output and networks-table masks, any text, no panic.
fn net(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let ips = snmove::net::parse_ip_addr(&text);
    let mut parts = text.splitn(3, '\n');
    let (net, mask) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    for ip in ips.iter().take(8) {
        let _ = snmove::net::in_subnet(*ip, net, mask);
    }
    let v4: std::net::IpAddr = [10, 1, 2, 3].into();
    let v6: std::net::IpAddr = [0xfd00, 0, 0, 0, 0, 0, 0, 1].into();
    let _ = snmove::net::in_subnet(v4, net, mask);
    let _ = snmove::net::in_subnet(v6, net, mask);
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
