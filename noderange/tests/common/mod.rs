//! The cluster of `tools/cluster.json` (the one `tools/oracle.pl` runs xCAT's NodeRange.pm
//! on) as a [`MemorySource`], and the comparison used by the generated spec tests.
#![allow(dead_code)]

use noderange::{Error, Evaluator, MemorySource, Options};
use serde_json::Value;

/// Files read by `^file` cases (the same contents `tools/gen_spec_tests.py` writes).
pub const FILES: &[(&str, &str)] = &[
    (
        "/tmp/noderange-spec-f1",
        "node1\nbad3\n# a comment\nn01:n03\n\nrack2 trailing words\n-node5\n^ignored\n",
    ),
    ("/tmp/noderange-spec-f2", "f1n1-f1n3\nlogin1\n"),
    (
        "/tmp/noderange-spec-self",
        "node1,^/tmp/noderange-spec-self\n",
    ),
];

#[derive(Clone, Copy, Debug)]
pub enum Mode {
    Verify,
    NoVerify,
    Generic,
}

/// The test cluster, with `site.excludenodes` set when given.
pub fn cluster(excludenodes: Option<&str>) -> MemorySource {
    let c: Value = serde_json::from_str(include_str!("../../tools/cluster.json"))
        .expect("tools/cluster.json is valid JSON");
    let mut m = MemorySource::new();
    for n in c["nodes"].as_array().into_iter().flatten() {
        let name = n["node"].as_str().unwrap_or_default();
        m = match n["groups"].as_str() {
            Some(g) => m.node(name, g),
            None => m.node_without_groups(name),
        };
    }
    for g in c["nodegroup"].as_array().into_iter().flatten() {
        m = m.group(
            g["groupname"].as_str().unwrap_or_default(),
            g["grouptype"].as_str(),
            g["wherevals"].as_str(),
        );
    }
    for (t, rows) in c["tables"].as_object().into_iter().flatten() {
        for r in rows.as_array().into_iter().flatten() {
            let key = r["node"].as_str().unwrap_or_default();
            let vals: Vec<(&str, &str)> = r
                .as_object()
                .into_iter()
                .flatten()
                .filter(|(k, _)| k.as_str() != "node")
                .filter_map(|(k, v)| v.as_str().map(|v| (k.as_str(), v)))
                .collect();
            m = m.row(t, key, &vals);
        }
    }
    if let Some(ex) = excludenodes {
        m = m.site_value("excludenodes", ex);
    }
    for (p, t) in FILES {
        m = m.file(p, t);
    }
    m
}

/// Evaluates `range` on the test cluster and compares with xCAT's result: the nodes and
/// the missing names, or the message xCAT dies with (any regex error for Perl's regex
/// compilation messages, which this crate words differently).
pub fn check(
    range: &str,
    mode: Mode,
    excludenodes: Option<&str>,
    expected: Result<(&[&str], &[&str]), &str>,
) {
    let c = cluster(excludenodes);
    let ev = Evaluator::new(&c);
    let opts = match mode {
        Mode::Verify => Options::verify(),
        Mode::NoVerify => Options::noverify(),
        Mode::Generic => Options {
            exclude_site: excludenodes.is_some(),
            ..Options::generic()
        },
    };
    let got = ev.expand(range, &opts);
    match (expected, got) {
        (Ok((nodes, missing)), Ok(e)) => {
            assert_eq!(e.nodes.to_vec(), nodes, "nodes of {range:?}");
            assert_eq!(e.missing, missing, "missing names of {range:?}");
        }
        (Err(msg), Err(err)) => {
            if msg.contains("in regex") {
                assert!(matches!(err, Error::Regex { .. }), "{range:?}: {err}");
            } else {
                assert_eq!(err.to_string(), msg, "error of {range:?}");
            }
        }
        (want, got) => panic!("{range:?}: expected {want:?}, got {got:?}"),
    }
}
