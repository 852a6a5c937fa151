//! The hand-written cluster `fixtures/small/` through the CSV store: every file round-trips
//! byte for byte, and the resolved values are those `fixtures/README.md` documents.

use xcattab::resolve::Resolver;
use xcattab::store::{CsvDirStore, Store};
use xcattab::{Batch, Database};

fn load() -> Database {
    // A copy: opening a store creates its lock file, and the source tree stays clean.
    let dir = tempfile::tempdir().unwrap();
    fixtures::copy_small_to(dir.path()).unwrap();
    let store = CsvDirStore::open(dir.path()).unwrap();
    store.load(fixtures::SMALL_TABLES).unwrap()
}

#[test]
fn every_table_dumps_back_byte_for_byte() {
    let db = load();
    for t in fixtures::SMALL_TABLES {
        let file = std::fs::read_to_string(fixtures::small_dir().join(format!("{t}.csv"))).unwrap();
        assert_eq!(xcattab::csv::dump(db.table(t).unwrap()), file, "{t}");
        // And tabrestore accepts it, giving the same table.
        let mut restored = xcattab::Table::new(t);
        xcattab::csv::restore_into(&mut restored, &file, false).unwrap();
        assert_eq!(xcattab::csv::dump(&restored), file, "{t} via tabrestore");
    }
}

fn attr(r: &Resolver<'_>, node: &str, table: &str, col: &str) -> String {
    r.attr(node, table, col)
        .unwrap()
        .unwrap_or_else(|| "<unset>".into())
}

#[test]
fn resolved_values_match_the_readme() {
    let db = load();
    let r = Resolver::new(&db);
    let cases: &[(&str, &str, &str, &str)] = &[
        ("cn01", "noderes", "servicenode", "sn1,sn2"),
        ("cn01", "noderes", "xcatmaster", "sn1-c"),
        ("cn01", "noderes", "tftpserver", "sn1-c"),
        ("cn01", "noderes", "nfsserver", "sn1-c"),
        ("cn01", "noderes", "monserver", "sn1,sn1-c"),
        ("cn01", "nodehm", "conserver", "sn1"),
        ("cn01", "hosts", "ip", "10.1.1.1"),
        ("cn01", "ipmi", "bmc", "10.2.1.1"),
        ("cn05", "noderes", "servicenode", "sn2,sn1"),
        ("cn05", "noderes", "xcatmaster", "sn2-c"),
        ("cn05", "noderes", "tftpserver", "sn1-c"),
        ("cn05", "noderes", "netboot", "grub2"),
        ("cn05", "nodetype", "provmethod", "netboot"),
        ("cn07", "nodehm", "conserver", "sn2"),
        ("cn11", "noderes", "nfsserver", "10.1.0.100"),
        ("cn11", "noderes", "tftpserver", "sn1-c"),
        ("cn12", "noderes", "servicenode", "sn1,sn2,sn3"),
        ("cn13", "noderes", "servicenode", "sn1"),
        ("cn20", "noderes", "xcatmaster", "10.1.0.1"),
        ("cn20", "noderes", "tftpserver", "10.1.0.1"),
        ("cn20", "noderes", "servicenode", "sn1,sn2"),
        ("cn21", "noderes", "servicenode", "sn3,sn4"),
        ("cn21", "noderes", "tftpserver", "<unset>"),
        ("cn21", "noderes", "xcatmaster", "sn3-c"),
        ("cn21", "noderes", "monserver", "sn3,sn3-c"),
        ("cn21", "nodehm", "conserver", "sn3"),
        ("cn31", "nodehm", "conserver", "mn1"),
        ("cn31", "noderes", "monserver", "<unset>"),
        ("cn31", "noderes", "nameservers", "<xcatmaster>"),
        ("cn31", "nodetype", "provmethod", "install"),
        ("cn31", "postscripts", "postscripts", "confignetwork"),
        (
            "cn01",
            "postscripts",
            "postscripts",
            "setupntp,mkresolvconf,confignetwork",
        ),
        ("cn35", "noderes", "monserver", "sn3"),
        ("cn39", "noderes", "servicenode", "sn3,sn4"),
        ("cn40", "noderes", "xcatmaster", "sn3-c"),
        ("cn40", "hosts", "ip", "10.1.1.40"),
        ("sn1", "noderes", "servicenode", "<unset>"),
        ("sn1", "noderes", "netboot", "xnba"),
        ("sn2", "ipmi", "bmc", "sn2-bmc"),
        ("sn3", "hosts", "otherinterfaces", "sn3-c:10.1.0.3"),
        ("mn1", "nodetype", "nodetype", "mn"),
    ];
    let mut wrong = Vec::new();
    for &(node, table, col, want) in cases {
        let got = attr(&r, node, table, col);
        if got != want {
            wrong.push(format!("{node} {table}.{col}: {got} (README says {want})"));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    assert_eq!(r.nodes().len(), 45);
    assert_eq!(
        r.groups("cn05").collect::<Vec<_>>(),
        ["gpu", "rack1", "compute", "all"]
    );
}

#[test]
fn a_batch_on_a_copy_of_the_fixture_rewrites_only_what_changed() {
    let dir = tempfile::tempdir().unwrap();
    fixtures::copy_small_to(dir.path()).unwrap();
    let store = CsvDirStore::open(dir.path()).unwrap();
    let mut b = Batch::new();
    b.set(
        "noderes",
        "cn03",
        [("servicenode", "sn2,sn1"), ("xcatmaster", "sn2-c")],
    );
    b.set("nodehm", "cn03", [("conserver", "sn2")]);
    let c = store.commit(&b).unwrap();
    assert_eq!(
        c.changed.into_iter().collect::<Vec<_>>(),
        ["nodehm", "noderes"]
    );
    for t in fixtures::SMALL_TABLES {
        let before =
            std::fs::read_to_string(fixtures::small_dir().join(format!("{t}.csv"))).unwrap();
        let after = std::fs::read_to_string(dir.path().join(format!("{t}.csv"))).unwrap();
        if *t == "noderes" {
            assert_eq!(
                after,
                format!("{before}\"cn03\",\"sn2,sn1\",,,,,,,,,,,\"sn2-c\",,,,,,,,,\n")
            );
        } else if *t == "nodehm" {
            assert_eq!(after, format!("{before}\"cn03\",,,,,,\"sn2\",,,,,,,,,\n"));
        } else {
            assert_eq!(after, before, "{t} must not change");
        }
    }
    let db = store.load(&["nodelist", "noderes"]).unwrap();
    let r = Resolver::new(&db);
    assert_eq!(attr(&r, "cn03", "noderes", "tftpserver"), "sn1-c");
    assert_eq!(attr(&r, "cn03", "noderes", "servicenode"), "sn2,sn1");
}
