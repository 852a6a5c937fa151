//! The bodies of the cargo-fuzz targets in `noderange/fuzz/`, shared with the test that replays
//! their kept corpus (`tests/fuzz_corpus.rs`) so `cargo test` runs every kept input through the
//! same checks. Not part of the supported API: each function panics when an invariant breaks.

use crate::{fold, Evaluator, Limits, MemorySource, Options};

/// How many nodes [`cluster`] defines.
const DEFINED_NODES: u64 = 9;

/// A small cluster with nodes, static and dynamic groups, node attributes and noderange files
/// (one including itself).
fn cluster() -> MemorySource {
    MemorySource::new()
        .node("node1", "compute,rack1,all")
        .node("node2", "compute,rack1,storage,all")
        .node("node3", "compute,rack2,all")
        .node("node10", "compute,gpu,all")
        .node("f1n1", "frame1,all")
        .node("f2n3", "frame2,gpu,all")
        .node("cn1-ib", "ib")
        .node("n08", "pad")
        .node("42", "digits")
        .group("rack3", Some("static"), None)
        .group("ipmi", Some("dynamic"), Some("mgt==ipmi"))
        .group("re", Some("dynamic"), Some("os=~^rh::node!~3"))
        .row("nodehm", "compute", &[("mgt", "ipmi"), ("cons", "ipmi")])
        .row("nodehm", "node3", &[("mgt", "openbmc")])
        .row("nodetype", "all", &[("os", "rhels9"), ("arch", "x86_64")])
        .file("/f1", "node1\n-node2\nrack2:x\n# c\n^/f1\nf[1-2]n[1-3]\n")
        .file("/self", "node1,^/self\n")
}

/// Target `expand`: any noderange (UTF-8, up to 512 bytes), in every mode, on a small cluster:
/// evaluation never panics and stays within its limits, and the fold of every result whose
/// names are plain evaluates back to the same set.
pub fn expand(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if text.len() > 512 {
        return;
    }
    let c = cluster();
    let ev = Evaluator::new(&c);
    let limits = Limits {
        max_names: 20_000,
        max_depth: 10_000,
        max_text: 1 << 16,
    };
    for mut opts in [Options::verify(), Options::noverify(), Options::generic()] {
        opts.limits = limits;
        let Ok(e) = ev.expand(text, &opts) else {
            continue;
        };
        // Generated names count against the limit; the cluster's own nodes come on top.
        assert!(
            e.nodes.len() as u64 <= limits.max_names + DEFINED_NODES,
            "{} names for {text:?}, limit {}",
            e.nodes.len(),
            limits.max_names
        );
        let folded = fold(e.nodes.iter());
        // The nodes as defined nodes: the fold must name exactly them.
        let mut back = MemorySource::new();
        for n in e.nodes.iter() {
            back = back.node(n, "x");
        }
        let plain = e.nodes.iter().all(|n| {
            !n.is_empty()
                && !n.starts_with(['-', '^', '/'])
                && !n.contains([',', '(', ')', '@', '=', '~', '[', ']', '+', ':', '\'', '"'])
                && !n.chars().any(char::is_control)
        });
        if plain && !e.nodes.is_empty() {
            let ev2 = Evaluator::new(&back);
            // Default limits: the folded text of a large result can exceed the small
            // text budget used above.
            let again = ev2.nodes(&folded, &Options::verify());
            assert_eq!(again.as_ref(), Ok(&e.nodes), "fold {folded:?} of {text:?}");
        }
    }
}
