//! Large ranges over defined nodes take a fast path (a pattern index instead of one lookup
//! per generated name). It must give what xCAT's name-by-name expansion gives: in verify
//! mode, the generated names (generic expansion) that are nodes, and every other generated
//! name reported missing, in order.

use noderange::{expand_generic, Evaluator, MemorySource, NodeSet, Options};
use proptest::prelude::*;

fn check(cluster: &[String], range: &str) -> Result<(), TestCaseError> {
    let mut src = MemorySource::new();
    for n in cluster {
        src = src.node(n, "all");
    }
    let ev = Evaluator::new(&src);
    let generated = expand_generic(range).map_err(|e| TestCaseError::fail(e.to_string()))?;
    let nodes: NodeSet = cluster.iter().map(String::as_str).collect();
    let got = ev
        .expand(range, &Options::verify())
        .map_err(|e| TestCaseError::fail(e.to_string()))?;
    prop_assert_eq!(&got.nodes, &generated.intersection(&nodes), "{}", range);
    let mut missing: Vec<&str> = got.missing.iter().map(String::as_str).collect();
    missing.sort_unstable();
    let want: Vec<&str> = generated.iter().filter(|n| !nodes.contains(n)).collect();
    prop_assert_eq!(missing, want, "{}", range);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn fast_path_matches_name_by_name(
        lo in 0u32..300,
        len in 0u32..300,
        pad_l in 0usize..5,
        pad_r in 0usize..5,
        width in 0usize..5,
        holes in prop::collection::vec(0u32..700, 0..3),
        suffix in prop::sample::select(vec!["", "-ib", ".d", "x1"]),
    ) {
        let cluster: Vec<String> = (0..700u32)
            .filter(|v| !holes.contains(v))
            .map(|v| format!("n{v:0width$}{suffix}"))
            .collect();
        let hi = lo + len;
        let range = format!("n[{lo:0pad_l$}-{hi:0pad_r$}]{suffix}");
        check(&cluster, &range)?;
        let range = format!("n{lo:0pad_l$}{suffix}-n{hi:0pad_r$}{suffix}");
        check(&cluster, &range)?;
    }
}

#[test]
fn full_and_partial_large_ranges() {
    let cluster: Vec<String> = (1..=5000).map(|i| format!("node{i:04}")).collect();
    check(&cluster, "node[0001-5000]").unwrap();
    check(&cluster, "node[0001-5001]").unwrap();
    check(&cluster, "node[1-5000]").unwrap();
    check(&cluster, "node0100:node4000").unwrap();
    let cluster: Vec<String> = (1..=5000).map(|i| format!("node{i}")).collect();
    check(&cluster, "node[1-5000]").unwrap();
    check(&cluster, "node[01-100]").unwrap();
    check(&cluster, "node[0999-1100]").unwrap();
}
