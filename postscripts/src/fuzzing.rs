//! The bodies of the cargo-fuzz targets in `postscripts/fuzz/`, shared with the test that
//! replays their kept corpus (`tests/fuzz_corpus.rs`) so `cargo test` runs every kept input
//! through the same checks. Not part of the supported API: each function panics when an
//! invariant breaks.

use std::path::Path;

use crate::hostkeys::{KnownHosts, Verdict};
use crate::script::{Demux, Parsed, Stream, MAX_LINE};
use crate::{parse_inet, AddrOs, Report};

/// Target `inet`: `ip addr` / `ifconfig -a` parsing never panics and yields only non-empty
/// addresses without blanks.
pub fn inet(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    for os in [AddrOs::Linux, AddrOs::Aix] {
        for a in parse_inet(&text, os) {
            assert!(
                !a.is_empty() && !a.contains(char::is_whitespace),
                "{os:?}: address {a:?} from {text:?}"
            );
        }
    }
}

/// Target `known_hosts`: parsing and matching any known_hosts text never panic nor take
/// exponential time (host patterns are globs); a verdict names a line of the text; a key
/// accepted for some names is then known (or revoked) for them.
pub fn known_hosts(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let kh = KnownHosts::from_text(&text, Path::new("fuzz"));
    let lines = text.lines().count();
    let names = ["cn1".to_string(), "[10.0.0.1]:2222".to_string()];
    let mut blob = 11u32.to_be_bytes().to_vec();
    blob.extend_from_slice(b"ssh-ed25519");
    blob.extend_from_slice(data);
    for key in [data, blob.as_slice()] {
        match kh.check(&names, key) {
            Verdict::Changed { line, .. } | Verdict::Revoked { line, .. } => {
                assert!(
                    (1..=lines).contains(&line),
                    "verdict names line {line} of {lines}"
                )
            }
            Verdict::Known | Verdict::Unknown => {}
        }
    }
    if kh.add(&names, &blob).is_ok() {
        let v = kh.check(&names, &blob);
        assert!(
            matches!(v, Verdict::Known | Verdict::Revoked { .. }),
            "an accepted key is {v:?}"
        );
    }
}

/// Target `report_json`: a report read back (for `--retry-failed`) never panics; what parses
/// renders, and writes back as JSON that reads again.
pub fn report_json(data: &[u8]) {
    if let Ok(r) = serde_json::from_slice::<Report>(data) {
        let _ = r.render_text();
        let _ = r.not_succeeded();
        let json = r.to_json();
        if let Err(e) = serde_json::from_str::<Report>(&json) {
            panic!("the report's own JSON does not read back: {e}\n{json}");
        }
    }
}

/// Target `step_markers`: the step-marker parser never panics and never loses a byte of a
/// line: every line of standard output comes out whole (as text, without its `\r`), or, when
/// it holds a marker, with the text before the marker.
pub fn step_markers(data: &[u8]) {
    const TOKEN: &str = "tok";
    const END: &[u8] = b":PSRUN_tok:E:1:";
    let mut d = Demux::new(TOKEN);
    let mut got = Vec::new();
    let (a, b) = data.split_at(data.len() / 2);
    let mut keep = |p: Parsed| {
        if let Parsed::Line {
            stream: Stream::Stdout,
            text,
            ..
        } = p
        {
            got.push(text);
        }
    };
    d.feed(Stream::Stdout, a, &mut keep);
    d.feed(Stream::Stderr, b, &mut keep);
    d.feed(Stream::Stdout, END, &mut keep);
    d.finish(&mut keep);
    if data.len() >= MAX_LINE {
        return; // longer lines come out in pieces
    }
    // What standard output must give: its lines (the last one ends in the end marker).
    let mut stdout = a.to_vec();
    stdout.extend_from_slice(END);
    let prefix = format!(":PSRUN_{TOKEN}:");
    let want: Vec<String> = stdout
        .split(|&c| c == b'\n')
        .filter_map(|line| {
            let text = String::from_utf8_lossy(line);
            match text.find(&prefix) {
                Some(0) => None,
                Some(pos) => Some(text[..pos].to_string()),
                None => Some(text.trim_end_matches('\r').to_string()),
            }
        })
        .collect();
    assert_eq!(got, want, "standard output lines of {data:?}");
}
