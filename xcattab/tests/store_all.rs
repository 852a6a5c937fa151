//! The behavioural suite every store must pass — the CSV directory, SQLite files and a real
//! PostgreSQL server (started by the test process, see `testdb`): the same cluster must dump
//! byte for byte the same and resolve the same on each; batches must behave the same; no
//! update may be lost; and a writer killed at any instant must leave every table entirely old
//! or entirely new.

mod common;

use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use testdb::{empty, materialise, StoreKind};
use xcattab::batch::{BatchError, Expect};
use xcattab::resolve::Resolver;
use xcattab::store::{self, transfer, CsvDirStore, Store, StoreError};
use xcattab::{Batch, Op, Table};

/// A small hierarchical cluster exercising what the stores must keep: group and node rows,
/// regex values, NULL versus empty string, quotes, commas, tabs, backslashes, multi-line
/// values, a disabled row, a composite key, a column and a table the schema does not know.
const CLUSTER: &[(&str, &str)] = &[
    (
        "nodelist",
        "#node,groups,status,statustime,appstatus,appstatustime,primarysn,hidden,updatestatus,updatestatustime,zonename,comments,disable\n\
\"mn1\",\"__mgmtnode\",,,,,,,,,,,\n\
\"sn1\",\"service,all\",\"booted\",\"11-23-2025 07:15:02\",,,,,,,,,\n\
\"sn2\",\"service,all\",\"booted\",\"11-23-2025 07:15:09\",,,,,,,,,\n\
\"cn01\",\"compute,rack1,all\",\"booted\",,\"sshd=up\",,,,,,,,\n\
\"cn02\",\"compute,rack1,all\",,,,,,,,,,\"PSU replaced, \"\"see ticket 4711\"\"\",\n\
\"cn03\",\"compute,rack1,all\",,,,,,,,,,\"tab\there \\\\ backslash\",\n\
\"cn04\",\"compute,rack1,all\",,,,,,,,,,,\n\
\"cn05\",\"compute,rack2,all\",,,,,,,,,,,\n\
\"cn06\",\"compute,rack2,all\",,,,,,,,,,,\n\
\"cn07\",\"compute,rack2,all\",,,,,,,,,,,\n\
\"cn08\",\"compute,rack2,all\",,,,,,,,,,,\n",
    ),
    (
        "noderes",
        "#node,servicenode,netboot,tftpserver,tftpdir,nfsserver,monserver,nfsdir,installnic,primarynic,discoverynics,cmdinterface,xcatmaster,current_osimage,next_osimage,nimserver,routenames,nameservers,proxydhcp,syslog,comments,disable\n\
\"compute\",,\"xnba\",,,,,,\"mac\",\"mac\",,,,,,,,,,,,\n\
\"rack1\",\"sn1,sn2\",,\"sn1-c\",,\"sn1-c\",\"sn1,sn1-c\",,,,,,\"sn1-c\",,,,,,,,,\n\
\"rack2\",\"|cn(\\d+)|sn(($1-1)/4+1),sn(($1+3)/4-1)|\",,,,,,,,,,,\"|cn(\\d+)|sn(($1-1)/4+1)-c|\",,,,,,,,,\n\
\"cn03\",,,,,,,,,,,,\"10.2.0.2\",,,,,,,,,\n\
\"cn04\",,,,,,,,,,,,,,,,,,,,,\n\
\"cn06\",\"sn9\",,,,,,,,,,,,,,,,,,,,\"1\"\n",
    ),
    (
        "nodehm",
        "#node,power,mgt,cons,termserver,termport,conserver,serialport,serialspeed,serialflow,getmac,cmdmapping,consoleondemand,consoleenabled,comments,disable\n\
\"compute\",,\"ipmi\",\"ipmi\",,,,\"0\",\"115200\",,,,\"yes\",,,\n\
\"rack1\",,,,,,\"sn1\",,,,,,,,,\n\
\"rack2\",,,,,,\"sn2\",,,,,,,,,\n\
\"cn01\",,,,,,,,,,,,,\"1\",,\n",
    ),
    (
        "hosts",
        "#node,ip,hostnames,otherinterfaces,comments,disable\n\
\"compute\",\"|\\D+(\\d+)|10.2.0.($1+0)|\",,,,\n\
\"sn1\",\"10.1.0.1\",,\"sn1-c:10.2.0.1\",,\n\
\"sn2\",\"10.1.0.2\",,\"sn2-c:10.2.0.2\",,\n",
    ),
    (
        "networks",
        "#netname,net,mask,mgtifname,gateway,dhcpserver,tftpserver,nameservers,ntpservers,logservers,dynamicrange,staticrange,staticrangeincrement,nodehostname,ddnsdomain,vlanid,domain,mtu,comments,disable\n\
\"mgmt\",\"10.1.0.0\",\"255.255.0.0\",\"eth0\",,,,,,,,,,,,,,,,\n\
\"compute\",\"10.2.0.0\",\"255.255.0.0\",\"eth1\",\"<xcatmaster>\",,,,,,,,,,,,,,,\n\
\"compute16\",\"10.2.0.0\",\"255.255.255.0\",\"eth1\",,,,,,,,,,,,,,,,\n",
    ),
    (
        "site",
        "#key,value,comments,disable,localnote\n\
\"master\",\"10.1.0.100\",,,\n\
\"nameservers\",\"<xcatmaster>\",,,\"kept\"\n\
\"motd\",\"line one\n\
line two, \"\"quoted\"\"\",\"multi-line value\",,\n",
    ),
    (
        "servicenode",
        "#node,nameserver,dhcpserver,tftpserver,nfsserver,conserver,monserver,ldapserver,ntpserver,ftpserver,nimserver,ipforward,dhcpinterfaces,proxydhcp,comments,disable\n\
\"__mgmtnode\",,,\"yes\",,,,,,,,,,,,\n\
\"service\",\"1\",\"1\",\"1\",\"1\",\"2\",,,,,,\"1\",,,,\n",
    ),
    ("mytools", "#tool,owner,notes\n\"ipmitool\",\"ops\",\"a\tb\"\n\"racadm\",,\n"),
];

fn write_cluster() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (t, text) in CLUSTER {
        std::fs::write(dir.path().join(format!("{t}.csv")), text).unwrap();
    }
    dir
}

fn dump_all(store: &dyn Store) -> Vec<(String, String)> {
    let names = store.list_tables().unwrap();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let db = store.load(&refs).unwrap();
    names
        .iter()
        .map(|n| (n.clone(), xcattab::csv::dump(db.table(n).unwrap())))
        .collect()
}

fn expected_dump() -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = CLUSTER
        .iter()
        .map(|(t, s)| (t.to_string(), s.to_string()))
        .collect();
    v.sort();
    v
}

/// Resolved values of every node, for the attributes a move reads and writes.
fn resolve_all(store: &dyn Store) -> Vec<String> {
    let db = store
        .load(&["nodelist", "noderes", "nodehm", "hosts", "site"])
        .unwrap();
    let r = Resolver::new(&db);
    let mut out = Vec::new();
    for node in r.nodes().to_vec() {
        for (t, c) in [
            ("noderes", "servicenode"),
            ("noderes", "xcatmaster"),
            ("noderes", "tftpserver"),
            ("noderes", "netboot"),
            ("nodehm", "conserver"),
            ("nodehm", "mgt"),
            ("hosts", "ip"),
        ] {
            out.push(format!("{node} {t}.{c}={:?}", r.attr(node, t, c).unwrap()));
        }
    }
    out
}

#[test]
fn every_store_holds_the_cluster_byte_for_byte() {
    let src = write_cluster();
    for kind in StoreKind::ALL {
        let m = materialise(kind, src.path()).unwrap();
        let s = m.open().unwrap();
        assert_eq!(dump_all(&*s), expected_dump(), "{kind}");
    }
}

#[test]
fn every_store_resolves_the_same() {
    let src = write_cluster();
    let csv = CsvDirStore::open(src.path()).unwrap();
    let want = resolve_all(&csv);
    // Spot checks that the fixture exercises what it should.
    for line in [
        "cn01 noderes.servicenode=Some(\"sn1,sn2\")",
        "cn03 noderes.xcatmaster=Some(\"10.2.0.2\")",
        "cn04 noderes.xcatmaster=Some(\"sn1-c\")",
        "cn05 noderes.servicenode=Some(\"sn2,sn1\")",
        "cn06 noderes.servicenode=Some(\"sn2,sn1\")",
        "cn08 noderes.xcatmaster=Some(\"sn2-c\")",
        "cn07 hosts.ip=Some(\"10.2.0.7\")",
        "cn05 nodehm.conserver=Some(\"sn2\")",
    ] {
        assert!(want.iter().any(|l| l == line), "{line} not in {want:#?}");
    }
    for kind in [StoreKind::Sqlite, StoreKind::Pg] {
        let m = materialise(kind, src.path()).unwrap();
        assert_eq!(resolve_all(&*m.open().unwrap()), want, "{kind}");
    }
}

#[test]
fn a_cluster_copied_csv_pg_sqlite_csv_comes_back_byte_identical() {
    let src = write_cluster();
    let csv = CsvDirStore::open(src.path()).unwrap();
    let pg = empty(StoreKind::Pg).unwrap();
    let lite = empty(StoreKind::Sqlite).unwrap();
    let back = empty(StoreKind::Csv).unwrap();
    transfer::copy_store(&csv, &*pg.open().unwrap(), None).unwrap();
    transfer::copy_store(&*pg.open().unwrap(), &*lite.open().unwrap(), None).unwrap();
    transfer::copy_store(&*lite.open().unwrap(), &*back.open().unwrap(), None).unwrap();
    let back_dir = back.spec().strip_prefix("CSV:").unwrap();
    for (t, text) in CLUSTER {
        let got = std::fs::read_to_string(Path::new(back_dir).join(format!("{t}.csv"))).unwrap();
        assert_eq!(&got, text, "{t}");
    }
}

#[test]
fn dump_and_restore_directories_through_every_store() {
    // CSV files -> restorexCATdb into PostgreSQL -> dumpxCATdb -> restorexCATdb into SQLite
    // -> dumpxCATdb: the cluster's files come back byte for byte; the other schema tables
    // are dumped header-only, and the unknown table is kept.
    let src = write_cluster();
    // restorexCATdb takes only schema columns for schema tables (tabrestore's rule).
    let site = "#key,value,comments,disable\n\"master\",\"10.1.0.100\",,\n\"motd\",\"line one\nline two\",,\n";
    std::fs::write(src.path().join("site.csv"), site).unwrap();
    let skips = transfer::Skips::default();
    let pg = empty(StoreKind::Pg).unwrap();
    let report = transfer::restore_from_dir(&*pg.open().unwrap(), src.path(), &skips).unwrap();
    assert_eq!(report.done().len(), CLUSTER.len());
    let mid = tempfile::tempdir().unwrap();
    transfer::dump_to_dir(&*pg.open().unwrap(), mid.path(), &skips).unwrap();
    let lite = empty(StoreKind::Sqlite).unwrap();
    transfer::restore_from_dir(&*lite.open().unwrap(), mid.path(), &skips).unwrap();
    let out = tempfile::tempdir().unwrap();
    let report = transfer::dump_to_dir(&*lite.open().unwrap(), out.path(), &skips).unwrap();
    assert!(report.skipped().contains(&"auditlog") && report.skipped().contains(&"eventlog"));
    for (t, text) in CLUSTER {
        let got = std::fs::read_to_string(out.path().join(format!("{t}.csv"))).unwrap();
        let want = if *t == "site" { site } else { text };
        assert_eq!(got, want, "{t}");
    }
    let nodetype = std::fs::read_to_string(out.path().join("nodetype.csv")).unwrap();
    assert_eq!(
        nodetype,
        "#node,os,arch,profile,provmethod,supportedarchs,nodetype,comments,disable\n"
    );
    assert!(!out.path().join("auditlog.csv").exists());
}

#[test]
fn restore_with_a_bad_file_writes_nothing() {
    let src = write_cluster();
    std::fs::write(
        src.path().join("site.csv"),
        "#key,value,comments,disable\n\"master\",\"10.1.0.100\",,\n",
    )
    .unwrap();
    std::fs::write(
        src.path().join("nodehm.csv"),
        "#node,nosuchcolumn\n\"cn1\",\"x\"\n",
    )
    .unwrap();
    std::fs::write(
        src.path().join("postscripts.csv"),
        "#node,postscripts\n\"cn1\",\"a\"b\"\n",
    )
    .unwrap();
    for kind in StoreKind::ALL {
        let m = empty(kind).unwrap();
        let s = m.open().unwrap();
        let err =
            transfer::restore_from_dir(&*s, src.path(), &transfer::Skips::default()).unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains(
                "nodehm.csv: The header line indicates that column 'nosuchcolumn' should exist"
            ),
            "{kind}: {text}"
        );
        assert!(
            text.contains("postscripts.csv: CSV unescaped \" in record on line 0"),
            "{kind}: {text}"
        );
        assert_eq!(
            s.list_tables().unwrap(),
            Vec::<String>::new(),
            "{kind}: something was written"
        );
    }
}

/// The same sequence of commits on every store gives the same tables, and the order xCAT's
/// tabdump shows: an updated row keeps its place, a new row goes to the end.
#[test]
fn batches_behave_the_same_on_every_store() {
    let src = write_cluster();
    let mut results: Vec<(StoreKind, Vec<(String, String)>)> = Vec::new();
    for kind in StoreKind::ALL {
        let m = materialise(kind, src.path()).unwrap();
        let s = m.open().unwrap();
        // 1. node-level upserts, as a move writes them
        let mut b = Batch::new();
        b.set(
            "noderes",
            "cn01",
            [("servicenode", "sn2,sn1"), ("xcatmaster", "sn2-c")],
        );
        b.set("noderes", "cn03", [("xcatmaster", "sn2-c")]);
        b.set("nodehm", "cn01", [("conserver", "sn2")]);
        b.set("nodehm", "cn02", [("conserver", "sn2")]);
        b.set("nodehm", "cn09", [("conserver", "")]); // blanks only: no row is created
        let c = s.commit(&b).unwrap();
        assert_eq!(
            c.changed.iter().collect::<Vec<_>>(),
            ["nodehm", "noderes"],
            "{kind}"
        );
        let db = s.load(&["noderes", "nodehm"]).unwrap();
        let noderes = xcattab::csv::dump(db.table("noderes").unwrap());
        let lines: Vec<&str> = noderes.lines().collect();
        assert_eq!(
            lines[4], "\"cn03\",,,,,,,,,,,,\"sn2-c\",,,,,,,,,",
            "{kind}: cn03 updated in place"
        );
        assert_eq!(
            lines[7], "\"cn01\",\"sn2,sn1\",,,,,,,,,,,\"sn2-c\",,,,,,,,,",
            "{kind}: cn01 appended"
        );
        let nodehm = xcattab::csv::dump(db.table("nodehm").unwrap());
        assert_eq!(
            nodehm.lines().nth(4),
            Some("\"cn01\",,,,,,\"sn2\",,,,,,,\"1\",,"),
            "{kind}"
        );
        assert_eq!(nodehm.lines().count(), 6, "{kind}");
        // 2. delete, put, and a value with every awkward byte
        let mut b = Batch::new();
        b.push(Op::Delete {
            table: "noderes".into(),
            key: vec!["cn03".into()],
        });
        let mut row = vec![None; 6];
        row[0] = Some("cn02".into());
        row[1] = Some("10.2.0.102".into());
        row[4] = Some("tab\t nl\n cr\r bs\\ q\" ,; é \\N".into());
        row[5] = Some(String::new()); // '' disables the row, and is kept distinct from NULL
        b.push(Op::Put {
            table: "hosts".into(),
            key: vec!["cn02".into()],
            row: row.clone(),
        });
        s.commit(&b).unwrap();
        let db = s.load(&["hosts", "noderes"]).unwrap();
        let hosts = db.table("hosts").unwrap();
        if kind == StoreKind::Csv {
            // tabdump's format writes '' and NULL alike: the CSV store cannot keep them apart.
            assert_eq!(
                hosts.rows().last().unwrap()[..5],
                row[..5],
                "{kind}: exact bytes"
            );
        } else {
            assert_eq!(
                hosts.rows().last().unwrap(),
                &row,
                "{kind}: exact bytes, '' kept apart from NULL"
            );
            assert!(!hosts.is_row_enabled(hosts.len() - 1), "{kind}");
        }
        assert!(
            db.table("noderes").unwrap().find(&["cn03"]).is_none(),
            "{kind}"
        );
        // 3. a failed batch writes nothing, in any table
        let before = dump_all(&*s);
        let mut b = Batch::new();
        b.set("nodehm", "cn05", [("conserver", "sn1")]);
        b.set("noderes", "cn05", [("nosuchcolumn", "x")]);
        assert!(
            matches!(
                s.commit(&b),
                Err(StoreError::Batch(BatchError::NoSuchColumn { .. }))
            ),
            "{kind}"
        );
        let mut b = Batch::new();
        b.set("nodehm", "cn05", [("conserver", "sn1")]);
        b.expect(Expect {
            table: "noderes".into(),
            key: vec!["rack1".into()],
            row: None, // it exists: the batch was planned on a different table
        });
        b.set("noderes", "cn05", [("xcatmaster", "x")]);
        assert!(
            matches!(
                s.commit(&b),
                Err(StoreError::Batch(BatchError::Conflict { .. }))
            ),
            "{kind}"
        );
        assert_eq!(
            dump_all(&*s),
            before,
            "{kind}: a refused batch wrote something"
        );
        // 4. replace a whole table (tabrestore), and a table that did not exist
        let mut t = Table::new("postscripts");
        t.push_row(vec![
            Some("compute".into()),
            Some("syslog,setupntp".into()),
            None,
            None,
            None,
        ]);
        let mut b = Batch::new();
        b.push(Op::Replace(t));
        let mut site = db_table(&*s, "site");
        site.retain_rows(|r| r[0].as_deref() != Some("motd"));
        b.push(Op::Replace(site));
        s.commit(&b).unwrap();
        results.push((kind, dump_all(&*s)));
    }
    let (_, first) = &results[0];
    for (kind, r) in &results[1..] {
        assert_eq!(r, first, "{kind} differs from csv");
    }
}

fn db_table(s: &dyn Store, t: &str) -> Table {
    s.load(&[t]).unwrap().table(t).unwrap().clone()
}

/// Concurrent writers, each with its own connection: every one of their commits lands.
#[test]
fn concurrent_writers_lose_no_update() {
    for kind in StoreKind::ALL {
        let m = empty(kind).unwrap();
        let spec = m.spec().to_string();
        let threads: Vec<_> = (0..4)
            .map(|w| {
                let spec = spec.clone();
                std::thread::spawn(move || {
                    let s = store::open(&spec.parse().unwrap()).unwrap();
                    for i in 0..10 {
                        let mut b = Batch::new();
                        b.set(
                            "noderes",
                            &format!("w{w}n{i}"),
                            [("servicenode", "sn1,sn2")],
                        );
                        b.set("nodehm", &format!("w{w}n{i}"), [("conserver", "sn1")]);
                        s.commit(&b).unwrap();
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        let db = m.open().unwrap().load(&["noderes", "nodehm"]).unwrap();
        assert_eq!(db.table("noderes").unwrap().len(), 40, "{kind}");
        assert_eq!(db.table("nodehm").unwrap().len(), 40, "{kind}");
    }
}

/// Read-modify-write with expectations: of two writers that read the same row, exactly one
/// commits; the other is told the row changed, and its update is not silently lost.
#[test]
fn a_stale_read_modify_write_is_refused() {
    let src = write_cluster();
    for kind in StoreKind::ALL {
        let m = materialise(kind, src.path()).unwrap();
        let a = m.open().unwrap();
        let b = m.open().unwrap();
        let seen = db_table(&*a, "noderes");
        let row = seen.rows()[seen.find(&["rack1"]).unwrap()].clone();
        let attempt = |s: &dyn Store, sn: &str| {
            let mut batch = Batch::new();
            batch.expect(Expect {
                table: "noderes".into(),
                key: vec!["rack1".into()],
                row: Some(row.clone()),
            });
            batch.set("noderes", "rack1", [("servicenode", sn)]);
            s.commit(&batch)
        };
        attempt(&*a, "sn2,sn1").unwrap();
        let err = attempt(&*b, "sn3,sn1").unwrap_err();
        assert!(
            matches!(err, StoreError::Batch(BatchError::Conflict { .. })),
            "{kind}: {err}"
        );
        let now = db_table(&*b, "noderes");
        assert_eq!(
            now.value(now.find(&["rack1"]).unwrap(), 1),
            Some("sn2,sn1"),
            "{kind}"
        );
    }
}

// ---- crash safety -------------------------------------------------------------------------

const TABLES: [&str; 3] = ["nodelist", "noderes", "nodehm"];
const ROWS: usize = 600;
const CHILD_ENV: &str = "XCATTAB_TEST_CHILD_SPEC";

fn generation_batch(g: u64) -> Batch {
    let mut b = Batch::new();
    for i in 0..ROWS {
        let node = format!("cn{i:05}");
        let v = format!("gen{g}");
        b.set("nodelist", &node, [("groups", v.as_str())]);
        b.set("noderes", &node, [("xcatmaster", v.as_str())]);
        b.set("nodehm", &node, [("conserver", v.as_str())]);
    }
    b
}

/// The generation every row of every table carries; fails if they disagree.
fn generation(s: &dyn Store) -> u64 {
    let db = s.load(&TABLES).unwrap();
    let mut seen = None;
    for (t, col) in TABLES.iter().zip([1usize, 12, 6]) {
        let table = db.table(t).unwrap();
        assert_eq!(table.len(), ROWS, "{t} has {} rows", table.len());
        for r in table.rows() {
            let g: u64 = r[col]
                .as_deref()
                .unwrap()
                .trim_start_matches("gen")
                .parse()
                .unwrap();
            match seen {
                None => seen = Some(g),
                Some(s) => assert_eq!(s, g, "table {t} is at generation {g}, another at {s}"),
            }
        }
    }
    seen.unwrap()
}

fn spawn_child(test: &str, spec: &str, crash_at: Option<&str>) -> std::process::Child {
    common::spawn_self(test, CHILD_ENV, spec, crash_at)
}

/// Child: one commit of generation 1 (killed part-way by XCATTAB_CRASH_AT).
#[test]
fn child_commit_once() {
    let Ok(spec) = std::env::var(CHILD_ENV) else {
        return;
    };
    let s = store::open(&spec.parse().unwrap()).unwrap();
    s.commit(&generation_batch(1)).unwrap();
}

/// Child: commits the next generations until killed.
#[test]
fn child_commit_forever() {
    let Ok(spec) = std::env::var(CHILD_ENV) else {
        return;
    };
    let s = store::open(&spec.parse().unwrap()).unwrap();
    for g in generation(&*s) + 1.. {
        s.commit(&generation_batch(g)).unwrap();
    }
}

fn crash_points(kind: StoreKind) -> Vec<(&'static str, u64)> {
    match kind {
        StoreKind::Csv => vec![
            ("table-written:1", 0),
            ("table-written:3", 0),
            ("before-commit", 0),
            ("committed", 1),
            ("renamed:2", 1),
        ],
        StoreKind::Sqlite => vec![
            ("sqlite-locked", 0),
            ("sqlite-written:1", 0),
            ("sqlite-written:2", 0),
            ("sqlite-written:3", 0),
            ("sqlite-before-commit", 0),
            ("sqlite-committed", 1),
        ],
        StoreKind::Pg => vec![
            ("pg-locked", 0),
            ("pg-truncated", 0),
            ("pg-copied:1", 0),
            ("pg-copied:3", 0),
            ("pg-before-commit", 0),
            ("pg-committed", 1),
        ],
    }
}

#[test]
fn a_writer_killed_at_every_step_leaves_all_tables_old_or_all_new() {
    for kind in StoreKind::ALL {
        for (point, expected) in crash_points(kind) {
            let m = empty(kind).unwrap();
            m.open().unwrap().commit(&generation_batch(0)).unwrap();
            let status = spawn_child("child_commit_once", m.spec(), Some(point))
                .wait()
                .unwrap();
            assert_eq!(
                status.signal(),
                Some(9),
                "{kind} {point}: the child was not killed ({status:?})"
            );
            assert_eq!(
                generation(&*m.open().unwrap()),
                expected,
                "{kind}: after a kill at {point}"
            );
            // And the store takes the next commit.
            m.open().unwrap().commit(&generation_batch(5)).unwrap();
            assert_eq!(generation(&*m.open().unwrap()), 5, "{kind} {point}");
        }
    }
}

#[test]
fn a_writer_killed_at_random_instants_leaves_all_tables_old_or_all_new() {
    for kind in StoreKind::ALL {
        let m = empty(kind).unwrap();
        m.open().unwrap().commit(&generation_batch(0)).unwrap();
        // Calibrate: how long a child takes to start and make one commit on this machine.
        let t = Instant::now();
        assert!(spawn_child("child_commit_once", m.spec(), None)
            .wait()
            .unwrap()
            .success());
        let once = t.elapsed().as_millis() as u64;
        let mut last = generation(&*m.open().unwrap());
        assert_eq!(last, 1, "{kind}");
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        let start = Instant::now();
        for round in 0..8 {
            if start.elapsed() > Duration::from_secs(12) {
                break;
            }
            let mut child = spawn_child("child_commit_forever", m.spec(), None);
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            // Kill somewhere between start-up and a few commits in.
            std::thread::sleep(Duration::from_millis(once / 2 + seed % (3 * once)));
            child.kill().unwrap();
            child.wait().unwrap();
            let g = generation(&*m.open().unwrap());
            assert!(
                g >= last,
                "{kind} round {round}: generation went back from {last} to {g}"
            );
            last = g;
        }
        assert!(
            last > 1,
            "{kind}: the writer never committed anything: the test proved nothing"
        );
    }
}

// ---- the commands ---------------------------------------------------------------------------

const DUMPXCATDB: &str = env!("CARGO_BIN_EXE_dumpxCATdb");
const RESTOREXCATDB: &str = env!("CARGO_BIN_EXE_restorexCATdb");

fn run(bin: &str, args: &[&str], xcatcfg: Option<&str>) -> std::process::Output {
    let mut cmd = Command::new(bin);
    cmd.args(args)
        .env_remove("XCATCFG")
        .env_remove("XCAT_SKIPTABLES");
    if let Some(c) = xcatcfg {
        cmd.env("XCATCFG", c);
    }
    cmd.output().unwrap()
}

fn text(o: &std::process::Output, redact: &Path) -> String {
    format!(
        "exit: {}\n--- stdout\n{}--- stderr\n{}",
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
    .replace(&redact.display().to_string(), "[DIR]")
}

#[test]
fn dumpxcatdb_and_restorexcatdb_on_every_store() {
    let src = write_cluster();
    // restorexCATdb takes schema columns only for schema tables, as tabrestore.
    std::fs::write(src.path().join("site.csv"), "#key,value,comments,disable\n\"master\",\"10.1.0.100\",,\n\"skiptables\",\"hosts,nodetype\",,\n").unwrap();
    let mut outputs = Vec::new();
    for kind in StoreKind::ALL {
        let work = tempfile::tempdir().unwrap();
        let target = empty(kind).unwrap();
        // The store named by XCATCFG (no --db), as on a management node with a cfgloc.
        let o = run(
            RESTOREXCATDB,
            &["-V", "-p", src.path().to_str().unwrap()],
            Some(target.spec()),
        );
        let restored = text(&o, src.path());
        assert!(o.status.success(), "{kind}: {restored}");
        let out = work.path().join("dump");
        let o = run(
            DUMPXCATDB,
            &["-V", "-p", out.to_str().unwrap(), "--db", target.spec()],
            None,
        );
        let dumped = text(&o, work.path());
        assert!(o.status.success(), "{kind}: {dumped}");
        for (t, want) in CLUSTER {
            if *t == "hosts" || *t == "site" {
                continue;
            }
            let got = std::fs::read_to_string(out.join(format!("{t}.csv"))).unwrap();
            assert_eq!(&got, want, "{kind}: {t}");
        }
        assert!(
            !out.join("hosts.csv").exists(),
            "{kind}: site.skiptables not honoured"
        );
        outputs.push((kind, restored, dumped));
    }
    let (_, restored, dumped) = &outputs[0];
    for (kind, r, d) in &outputs[1..] {
        assert_eq!((r, d), (restored, dumped), "{kind}");
    }
    insta::assert_snapshot!("restorexcatdb_verbose", restored);
    insta::assert_snapshot!("dumpxcatdb_verbose", dumped);
}

#[test]
fn dumpxcatdb_and_restorexcatdb_errors() {
    let src = write_cluster();
    let m = materialise(StoreKind::Sqlite, src.path()).unwrap();
    let spec = m.spec();
    let dir = src.path();
    let d = dir.to_str().unwrap();
    let cases: Vec<(&str, &str, Vec<&str>)> = vec![
        ("dump_no_path", DUMPXCATDB, vec!["--db", spec]),
        ("dump_binary", DUMPXCATDB, vec!["-b", "-p", d, "--db", spec]),
        (
            "dump_bad_option",
            DUMPXCATDB,
            vec!["-x", "-p", d, "--db", spec],
        ),
        ("dump_help", DUMPXCATDB, vec!["-h"]),
        // xCAT checks -p (and creates the directory) before it looks at -b.
        (
            "dump_binary_without_path",
            DUMPXCATDB,
            vec!["-b", "--db", spec],
        ),
        (
            "restore_binary_missing_dir",
            RESTOREXCATDB,
            vec!["-b", "-p", "/nonexistent/dir", "--db", spec],
        ),
        // Getopt names the option as typed.
        (
            "dump_path_without_value",
            DUMPXCATDB,
            vec!["--db", spec, "-aVp"],
        ),
        ("restore_no_path", RESTOREXCATDB, vec!["--db", spec]),
        (
            "restore_missing_dir",
            RESTOREXCATDB,
            vec!["-p", "/nonexistent/dir", "--db", spec],
        ),
        ("restore_help", RESTOREXCATDB, vec!["-h"]),
        (
            "dump_bad_store",
            DUMPXCATDB,
            vec!["-p", d, "--db", "Oracle:x"],
        ),
    ];
    for (name, bin, args) in cases {
        let o = run(bin, &args, None);
        insta::assert_snapshot!(name, text(&o, dir).replace(spec, "[SPEC]"));
    }
    // A bad file: diagnostics, nothing written, exit 1.
    std::fs::write(
        dir.join("nodehm.csv"),
        "#node,conserver\n\"cn1\",\"sn\"2\"\n",
    )
    .unwrap();
    let target = empty(StoreKind::Pg).unwrap();
    let o = run(RESTOREXCATDB, &["-p", d, "--db", target.spec()], None);
    insta::assert_snapshot!("restore_bad_file", text(&o, dir));
    assert_eq!(
        target.open().unwrap().list_tables().unwrap(),
        Vec::<String>::new()
    );
}

#[test]
fn xcat_skiptables_overrides_site_for_dumps() {
    let src = write_cluster();
    let m = materialise(StoreKind::Csv, src.path()).unwrap();
    let out = tempfile::tempdir().unwrap();
    let o = Command::new(DUMPXCATDB)
        .args(["-a", "-p", out.path().to_str().unwrap(), "--db", m.spec()])
        .env("XCAT_SKIPTABLES", "nodehm,noderes")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o, out.path()));
    assert!(!out.path().join("nodehm.csv").exists() && !out.path().join("noderes.csv").exists());
    assert!(
        out.path().join("auditlog.csv").exists(),
        "-a dumps auditlog"
    );
    assert_eq!(
        std::fs::read_dir(out.path()).unwrap().count(),
        xcattab::schema::tables().len() - 2 + 1
    );
}

// ---- the project's fixtures --------------------------------------------------------------

/// CSV → PostgreSQL → SQLite → CSV, both as direct copies and through dumpxCATdb /
/// restorexCATdb directories: every file comes back byte for byte.
fn round_trip_is_byte_identical(src: &Path) {
    let files: Vec<(String, Vec<u8>)> = {
        let mut v: Vec<(String, Vec<u8>)> = std::fs::read_dir(src)
            .unwrap()
            .map(|e| e.unwrap())
            .filter(|e| e.file_name().to_string_lossy().ends_with(".csv"))
            .map(|e| {
                (
                    e.file_name().to_string_lossy().into_owned(),
                    std::fs::read(e.path()).unwrap(),
                )
            })
            .collect();
        v.sort();
        v
    };
    assert!(files.len() >= 5, "{}: too few tables", src.display());
    let csv = CsvDirStore::open(src).unwrap();
    let pg = empty(StoreKind::Pg).unwrap();
    let lite = empty(StoreKind::Sqlite).unwrap();
    let back = empty(StoreKind::Csv).unwrap();
    transfer::copy_store(&csv, &*pg.open().unwrap(), None).unwrap();
    transfer::copy_store(&*pg.open().unwrap(), &*lite.open().unwrap(), None).unwrap();
    transfer::copy_store(&*lite.open().unwrap(), &*back.open().unwrap(), None).unwrap();
    let back_dir = Path::new(back.spec().strip_prefix("CSV:").unwrap());
    for (name, bytes) in &files {
        let got = std::fs::read(back_dir.join(name)).unwrap();
        assert!(
            got == *bytes,
            "{}: {name} differs after CSV → Pg → SQLite → CSV",
            src.display()
        );
    }
    // The same through directories, as an administrator would do it.
    let skips = transfer::Skips::new(true, None);
    let pg2 = empty(StoreKind::Pg).unwrap();
    transfer::restore_from_dir(&*pg2.open().unwrap(), src, &skips).unwrap();
    let d1 = tempfile::tempdir().unwrap();
    transfer::dump_to_dir(&*pg2.open().unwrap(), d1.path(), &skips).unwrap();
    let lite2 = empty(StoreKind::Sqlite).unwrap();
    transfer::restore_from_dir(&*lite2.open().unwrap(), d1.path(), &skips).unwrap();
    let d2 = tempfile::tempdir().unwrap();
    transfer::dump_to_dir(&*lite2.open().unwrap(), d2.path(), &skips).unwrap();
    for (name, bytes) in &files {
        let got = std::fs::read(d2.path().join(name)).unwrap();
        assert!(
            got == *bytes,
            "{}: {name} differs after restore/dump through Pg and SQLite",
            src.display()
        );
    }
}

#[test]
fn fixtures_small_round_trips_through_every_store() {
    // A copy: opening a CSV store creates its lock file in the directory.
    let src = tempfile::tempdir().unwrap();
    fixtures::copy_small_to(src.path()).unwrap();
    round_trip_is_byte_identical(src.path());
}

#[test]
fn a_generated_cluster_round_trips_through_every_store() {
    let dir = tempfile::tempdir().unwrap();
    fixtures::ClusterSpec::new(3000, 4)
        .write_to(dir.path())
        .unwrap();
    round_trip_is_byte_identical(dir.path());
}
