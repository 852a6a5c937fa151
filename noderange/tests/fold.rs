//! Folding: the cases of `noderange_fold_cases.tsv` (spec §5) compared with ClusterShell,
//! the round trip `expand(fold(S)) == S`, and natural order.

use noderange::{expand_generic, fold, natural_cmp, Evaluator, MemorySource, NodeSet, Options};
use proptest::prelude::*;

/// The rows of `shared/spec/noderange_fold_cases.tsv`: input names, ClusterShell's fold.
const CASES: &[(&str, &str)] = &[
    ("node1,node2,node3,node5", "node[1-3,5]"),
    ("node7,node6", "node[6-7]"),
    ("node10,node2,node1", "node[1-2,10]"),
    ("node1,node6,node7", "node[1,6-7]"),
    ("node0,node1,node6,node7", "node[0-1,6-7]"),
    ("node001,node002,node003,node005", "node[001-003,005]"),
    ("node08,node09,node10,node11", "node[08-11]"),
    ("node2,node01,node001", "node[2,01,001]"),
    ("n01,n2,n03", "n[2,01,03]"),
    ("n7,n8,n09,n10,n11,n12", "n[7-8,09-12]"),
    (
        "cluster0,cluster1,cluster2,cluster5,cluster8,cluster4,cluster3",
        "cluster[0-5,8]",
    ),
    (
        "cluster0,cluster1,cluster,wool,cluster3",
        "cluster,cluster[0-1,3],wool",
    ),
    (
        "lima,oscar,zulu,alpha,delta,foxtrot,tango,x-ray",
        "alpha,delta,foxtrot,lima,oscar,tango,x-ray,zulu",
    ),
    ("node1-ipmi,node2-ipmi,node3-ipmi", "node[1-3]-ipmi"),
    (
        "mgmt1,mgmt2,login1,login2,login3,login4",
        "login[1-4],mgmt[1-2]",
    ),
    ("a1,b2,a10", "a[1,10],b2"),
    ("r3u4,r5u6", "r3u4,r5u6"),
    ("r3u4s1,r3u4s2,r5u4s3", "r3u4s[1-2],r5u4s3"),
    ("r3u4,r3u5,r3u6,r3u9,r4u1", "r3u[4-6,9],r4u1"),
    ("f1n1,f1n2,f1n3,f2n1,f2n2,f2n3", "f[1-2]n[1-3]"),
    ("f1n1,f1n2,f1n3,f2n1,f2n2", "f1n[1-3],f2n[1-2]"),
    (
        "clu-1-1,clu-1-2,clu-1-3,clu-1-4,clu-2-1,clu-2-2,clu-2-3,clu-2-4",
        "clu-[1-2]-[1-4]",
    ),
    (
        "node1-ib0,node2-ib0,node1-ib1,node2-ib1",
        "node[1-2]-ib[0-1]",
    ),
    (
        "foo1bar1,foo1bar00,foo1bar01,foo004bar1,foo004bar00,foo004bar01",
        "foo[1,004]bar[1,00-01]",
    ),
    ("nfsserv1,nfsserv2,nfsserv3", "nfsserv[1-3]"),
    ("node1,node3,node5", "node[1,3,5]"),
    ("node1,node1,node2", "node[1-2]"),
    ("cn1-ib,cn2-ib,cn3-ib", "cn[1-3]-ib"),
    ("10.0.0.1,10.0.0.2,10.0.0.3", "10.0.0.[1-3]"),
];

fn set(names: &str) -> Vec<String> {
    let s: NodeSet = names.split(',').collect();
    s.into_vec()
}

#[test]
fn fold_cases_match_clustershell() {
    for (nodes, clustershell) in CASES {
        let names: Vec<&str> = nodes.split(',').collect();
        assert_eq!(
            fold(names.iter().copied()),
            *clustershell,
            "fold of {nodes}"
        );
    }
}

#[test]
fn fold_cases_round_trip_through_xcat_generic_parsing() {
    for (nodes, clustershell) in CASES {
        let folded = fold(nodes.split(','));
        assert_eq!(
            expand_generic(&folded).unwrap().into_vec(),
            set(nodes),
            "{folded}"
        );
        // ClusterShell's own output is read back the same way.
        assert_eq!(
            expand_generic(clustershell).unwrap().into_vec(),
            set(nodes),
            "{clustershell}"
        );
    }
}

#[test]
fn fold_of_nodeset_and_natural_order() {
    let s: NodeSet = ["node10", "node9", "node1", "node01"].into_iter().collect();
    assert_eq!(s.to_vec(), ["node01", "node1", "node10", "node9"]);
    assert_eq!(s.natural(), ["node1", "node01", "node9", "node10"]);
    assert_eq!(s.fold(), "node[1,9,01,10]"); // as ClusterShell: 10 follows 01 in (width, value) order
    assert_eq!(fold(["a9", "a09", "a10"]), "a[9,09-10]");
    let mut v = vec!["b2", "a10", "a9", "A1", "a09"];
    v.sort_by(|a, b| natural_cmp(a, b));
    assert_eq!(v, ["A1", "a9", "a09", "a10", "b2"]);
}

#[test]
fn fold_leaves_unfoldable_names_alone() {
    assert_eq!(fold(["a,b", "c1", "c2"]), "a,b,c[1-2]");
    assert_eq!(fold(["-x1", "-x2"]), "-x1,-x2");
    assert_eq!(fold(["42", "43"]), "42,43");
    assert_eq!(fold(["1a", "2a"]), "1a,2a");
}

#[test]
fn fold_large_ranges() {
    let names: Vec<String> = (1..=100_000).map(|i| format!("node{i:06}")).collect();
    assert_eq!(
        fold(names.iter().map(String::as_str)),
        "node[000001-100000]"
    );
    let names: Vec<String> = (1..=1000)
        .flat_map(|r| (1..=42).map(move |u| format!("r{r}u{u:02}")))
        .collect();
    assert_eq!(fold(names.iter().map(String::as_str)), "r[1-1000]u[01-42]");
}

/// Node names made of the characters xCAT accepts, with up to three numbers of mixed
/// padding, so that sets share patterns and fold.
fn name() -> impl Strategy<Value = String> {
    let text = prop::sample::select(vec![
        "node", "n", "f", "cn", "r", "-ib", "u", "x-", ".", "_a", "s",
    ]);
    let num = (0u32..40, 0usize..4).prop_map(|(v, pad)| format!("{v:0pad$}"));
    (
        text.clone(),
        prop::collection::vec((num, prop::option::of(text)), 0..3),
    )
        .prop_map(|(head, rest)| {
            let mut s = head.trim_start_matches('-').to_string();
            if s.is_empty() {
                s.push('z');
            }
            for (n, t) in rest {
                s.push_str(&n);
                if let Some(t) = t {
                    s.push_str(t);
                }
            }
            s
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    /// xCAT reads the fold back to the same set (the nodes exist, as for `nodels`).
    #[test]
    fn expand_fold_is_identity(names in prop::collection::vec(name(), 0..60)) {
        let mut src = MemorySource::new();
        for n in &names {
            src = src.node(n, "all");
        }
        let src = src.node("unrelated1", "other").node("unrelated2", "other");
        let want: NodeSet = names.iter().map(String::as_str).collect();
        let folded = fold(names.iter().map(String::as_str));
        if want.is_empty() {
            prop_assert_eq!(folded, "");
        } else {
            let ev = Evaluator::new(&src);
            let got = ev.nodes(&folded, &Options::default());
            prop_assert_eq!(got, Ok(want), "fold: {}", folded);
        }
    }

    /// Without a database (generic parsing) the same holds for names without dashes.
    #[test]
    fn generic_expand_fold_is_identity(names in prop::collection::vec(name(), 1..60)) {
        let names: Vec<String> = names.into_iter().filter(|n| !n.contains('-')).collect();
        let want: NodeSet = names.iter().map(String::as_str).collect();
        let folded = fold(names.iter().map(String::as_str));
        if !want.is_empty() {
            prop_assert_eq!(expand_generic(&folded), Ok(want), "fold: {}", folded);
        }
    }

    /// Natural order is a total order consistent with equality.
    #[test]
    fn natural_order_is_total(a in name(), b in name(), c in name()) {
        use std::cmp::Ordering::*;
        prop_assert_eq!(natural_cmp(&a, &b), natural_cmp(&b, &a).reverse());
        prop_assert_eq!(natural_cmp(&a, &b) == Equal, a == b);
        if natural_cmp(&a, &b) != Greater && natural_cmp(&b, &c) != Greater {
            prop_assert_ne!(natural_cmp(&a, &c), Greater);
        }
    }
}
