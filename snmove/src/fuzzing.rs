//! The bodies of the cargo-fuzz targets in `snmove/fuzz/`, shared with the test that replays
//! their kept corpus (`tests/fuzz_corpus.rs`) so `cargo test` runs every kept input through the
//! same checks. Not part of the supported API: each function panics when an invariant breaks.

use std::path::Path;

/// Target `cli`: any words (split at NUL bytes) parse or are refused, never panic.
pub fn cli(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let words: Vec<&str> = if text.is_empty() {
        Vec::new()
    } else {
        text.split('\0').collect()
    };
    let table = crate::cli::option_table();
    let parsed = crate::getopt::parse(&table, &words);
    // Every word is consumed: as an option, a value, a positional, or an error — at most one
    // per character (a bundle `-abc` is three options; a first bound of 64 per word was too
    // tight: one 66-character bundle of unknown options broke it).
    let bound: usize = words
        .iter()
        .map(|w| w.chars().count().max(1))
        .sum::<usize>()
        + 1;
    let found = parsed.options.len() + parsed.positionals.len() + parsed.errors.len();
    assert!(found <= bound, "{found} results for {words:?}");
    let _ = crate::cli::parse(&words);
    let _ = crate::cli::shows_server(&words);
}

/// Target `journal`: any text is read or refused; a journal that is read gives an undo batch
/// and after-images, and applies to a database, without panicking.
pub fn journal(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    if let Ok(j) = crate::journal::Journal::parse(&text, Path::new("fuzz.json")) {
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
pub fn net(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let ips = crate::net::parse_ip_addr(&text);
    let mut parts = text.splitn(3, '\n');
    let (net, mask) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    for ip in ips.iter().take(8) {
        let _ = crate::net::in_subnet(*ip, net, mask);
    }
    let v4: std::net::IpAddr = [10, 1, 2, 3].into();
    let v6: std::net::IpAddr = [0xfd00, 0, 0, 0, 0, 0, 0, 1].into();
    let _ = crate::net::in_subnet(v4, net, mask);
    let _ = crate::net::in_subnet(v6, net, mask);
}
