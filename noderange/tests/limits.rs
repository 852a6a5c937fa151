//! Limits instead of exhaustion: huge ranges, runaway brackets and deep nesting end with a
//! clear error (xCAT runs out of memory, time or stack on these), and the limits are
//! configurable.

use noderange::{expand_generic, Error, Evaluator, Limits, MemorySource, Options};

#[test]
fn huge_range_is_an_error_not_an_allocation() {
    let err = expand_generic("n[1-99999999999]").unwrap_err();
    assert_eq!(
        err,
        Error::TooManyNames {
            element: "n1-n99999999999".into(),
            count: 99_999_999_999,
            limit: 10_000_000
        }
    );
    assert!(err.to_string().contains("NODERANGE_MAX_NAMES"));
}

#[test]
fn limit_counts_names_across_a_cartesian_product() {
    let mut o = Options::generic();
    o.limits.max_names = 1_000;
    let ev = Evaluator::new(&noderange::EmptySource);
    assert_eq!(ev.expand("f[1-10]n[1-90]", &o).unwrap().nodes.len(), 900);
    assert!(matches!(
        ev.expand("f[1-20]n[1-90]", &o),
        Err(Error::TooManyNames { .. })
    ));
}

#[test]
fn limit_is_configurable() {
    let mut o = Options::generic();
    o.limits = Limits {
        max_names: 6,
        ..Limits::default()
    };
    let ev = Evaluator::new(&noderange::EmptySource);
    // n[1-5]: one bracket piece and five names.
    assert_eq!(ev.expand("n[1-5]", &o).unwrap().nodes.len(), 5);
    assert!(ev.expand("n[1-6]", &o).is_err());
    assert_eq!(ev.expand("n1+5", &o).unwrap().nodes.len(), 6);
    assert!(ev.expand("n1+6", &o).is_err());
}

#[test]
fn perl_integer_range_overflow_dies_like_perl() {
    assert_eq!(
        expand_generic("n1-n99999999999999999999"),
        Err(Error::RangeIterator)
    );
}

#[test]
fn runaway_bracket_growth_stops() {
    // In xCAT each step doubles the text until memory runs out.
    assert!(matches!(
        expand_generic("[00-0]b[1-2]"),
        Err(Error::TooLong { .. }) | Err(Error::TooDeep { .. })
    ));
    // Found by the fuzzer: text that branches at every step.
    let c = MemorySource::new().node("x", "all");
    let ev = Evaluator::new(&c);
    let r = ev.expand("x,([`f1-2\u{1d}f1-2]n[1-6]))b\"n", &Options::verify());
    assert!(r.is_err() || r.is_ok()); // returns at all: that is the point
}

#[test]
fn deep_parentheses_do_not_overflow_the_stack() {
    let c = MemorySource::new().node("node1", "all");
    let ev = Evaluator::new(&c);
    let ok = format!("{}node1{}", "(".repeat(3000), ")".repeat(3000));
    assert_eq!(
        ev.nodes(&ok, &Options::verify()).unwrap().to_vec(),
        ["node1"]
    );
    // Deeper than the limit: a clear error, no stack overflow, no quadratic time.
    let deep = format!("{}node1{}", "(".repeat(200_000), ")".repeat(200_000));
    let err = ev.expand(&deep, &Options::verify()).unwrap_err();
    assert!(
        matches!(
            err,
            Error::TooDeep { limit: 10_000, .. } | Error::TooLong { .. }
        ),
        "{err}"
    );
    let mut o = Options::verify();
    o.limits.max_depth = 50;
    let err = ev.expand(&ok, &o).unwrap_err();
    assert!(matches!(err, Error::TooDeep { limit: 50, .. }), "{err}");
}

#[test]
fn xcat_recursion_limit_wins_for_self_including_files() {
    let c = MemorySource::new()
        .node("node1", "all")
        .file("/nr", "node1,^/nr\n");
    let ev = Evaluator::new(&c);
    assert_eq!(
        ev.expand("^/nr", &Options::verify())
            .unwrap_err()
            .to_string(),
        "NodeRange seems to be hung on evaluating node1, recursion limit hit"
    );
}

#[test]
fn at_element_that_contains_itself_hits_xcat_recursion_limit() {
    let ev = Evaluator::new(&noderange::EmptySource);
    assert_eq!(
        ev.expand("rack1@a)", &Options::verify()),
        Err(Error::RecursionLimit {
            atom: "rack1@a)".into()
        })
    );
}
