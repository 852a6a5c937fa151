//! `snmove` on the sample cluster `fixtures/small`, on every kind of store (CSV, SQLite,
//! PostgreSQL): the round trip (`snmove rack1` twice puts the nodes back on their first SN),
//! the undo round trip (every table byte-identical to before), and the special nodes of the
//! fixture (three-entry list, no backup, disabled node row, single-valued monserver, console
//! elsewhere). What the user sees and the tables afterwards are snapshots, one for every store
//! (a difference between stores is a bug); the stores must also end with the same tables.

use e2e::{dump_all, fixture, Runner};
use testdb::{materialise, StoreKind};

fn tables(spec: &str, names: &[&str]) -> String {
    dump_all(spec)
        .into_iter()
        .filter(|(n, _)| names.contains(&n.as_str()))
        .map(|(n, t)| format!("--- {n}\n{t}"))
        .collect()
}

fn shown(r: &Runner, args: &str, o: &e2e::Output) -> String {
    r.redact(&format!(
        "$ snmove {args}\n--- exit {}\n--- stdout\n{}--- stderr\n{}",
        o.code, o.stdout, o.stderr
    ))
}

#[test]
fn round_trip_on_every_store() {
    let mut results = Vec::new();
    for kind in StoreKind::ALL {
        let store = materialise(kind, &fixture("small")).expect("store");
        let r = Runner::new();
        let args = ["rack1", "-i", "--transport", "xcat"];
        let first = r.run(store.spec(), &args);
        assert_eq!(first.code, 0, "{kind}: {}{}", first.stdout, first.stderr);
        let after_first = tables(store.spec(), &["noderes", "nodehm"]);
        let second = r.run(store.spec(), &args);
        assert_eq!(second.code, 0, "{kind}: {}{}", second.stdout, second.stderr);
        let after_second = tables(store.spec(), &["noderes", "nodehm"]);
        // Back on sn1 (the rotated list rotated again); xcatmaster is now an address.
        assert!(
            after_second.contains("\"cn01\",\"sn1,sn2\",,\"10.1.0.1\""),
            "{kind}: {after_second}"
        );
        assert!(
            after_first.contains("\"cn01\",\"sn2,sn1\",,\"10.1.0.2\""),
            "{kind}: {after_first}"
        );
        // One snapshot for every store.
        let mut s = shown(&r, "rack1 -i (first)", &first);
        s.push_str(&after_first);
        s.push_str(&shown(&r, "rack1 -i (second)", &second));
        s.push_str(&after_second);
        s.push_str("--- xCAT commands run\n");
        s.push_str(&r.calls());
        insta::assert_snapshot!("small_round_trip", s);
        results.push((kind, after_first, after_second));
    }
    for w in results.windows(2) {
        assert_eq!(
            w[0].1, w[1].1,
            "{} and {} differ after the first move",
            w[0].0, w[1].0
        );
        assert_eq!(
            w[0].2, w[1].2,
            "{} and {} differ after the second move",
            w[0].0, w[1].0
        );
    }
}

#[test]
fn undo_round_trip_on_every_store() {
    for kind in StoreKind::ALL {
        let store = materialise(kind, &fixture("small")).expect("store");
        let before = dump_all(store.spec());
        let r = Runner::new();
        // sn3's nodes: rack3 and rack4, with cn35's single monserver and cn39's disabled row.
        let mv = r.run(store.spec(), &["-s", "sn3", "-i", "--transport", "xcat"]);
        assert_eq!(mv.code, 0, "{kind}: {}{}", mv.stdout, mv.stderr);
        assert_ne!(dump_all(store.spec()), before, "{kind}: the move wrote");
        let journal = Runner::journal_of(&mv).expect("journal printed");
        let undo = r.run(store.spec(), &["--undo", &journal]);
        assert_eq!(undo.code, 0, "{kind}: {}{}", undo.stdout, undo.stderr);
        assert_eq!(
            dump_all(store.spec()),
            before,
            "{kind}: tables byte-identical after undo"
        );
        let mut s = shown(&r, "-s sn3 -i", &mv);
        s.push_str(&shown(&r, "--undo JOURNAL", &undo));
        insta::assert_snapshot!("small_undo", s);
    }
}

#[test]
fn the_fixture_cases_in_a_dry_run() {
    for kind in StoreKind::ALL {
        let store = materialise(kind, &fixture("small")).expect("store");
        let r = Runner::new();
        let before = dump_all(store.spec());
        // cn13 has no backup: xCAT refuses the whole move and names it.
        let all = r.run(
            store.spec(),
            &["compute", "--dry-run", "--transport", "xcat"],
        );
        assert_eq!(all.code, 1, "{kind}");
        assert!(all
            .stderr
            .contains("Could not determine a backup service node for node cn13."));
        let rest = r.run(
            store.spec(),
            &["compute,-cn13", "--dry-run", "--transport", "xcat"],
        );
        assert_eq!(rest.code, 0, "{kind}: {}{}", rest.stdout, rest.stderr);
        assert_eq!(
            dump_all(store.spec()),
            before,
            "{kind}: a dry run writes nothing"
        );
        let mut s = shown(&r, "compute --dry-run", &all);
        s.push_str(&shown(&r, "compute,-cn13 --dry-run", &rest));
        // One snapshot for every store.
        insta::assert_snapshot!("small_dry_run", s);
    }
}
