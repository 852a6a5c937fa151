//! The PostgreSQL back end against a real server (started by this test process, see
//! `testdb`): xCAT's layout, tables it did not write, credentials that never leak, a private
//! socket directory, round trips that do not grow with the number of nodes, locks held by
//! other sessions (xcatd), record-id sequences, and row order.

use std::process::Command;
use std::time::{Duration, Instant};

use testdb::pg::{server, PASSWORD, USER};
use xcattab::store::{self, PgStore, Store, StoreError, StoreSpec};
use xcattab::{Batch, Op, Table};

fn fresh() -> testdb::pg::PgDatabase {
    server()
        .expect("the PostgreSQL test server")
        .create_database()
        .unwrap()
}

fn open(db: &testdb::pg::PgDatabase) -> PgStore {
    PgStore::open(&db.spec().parse().unwrap()).unwrap()
}

fn dump(store: &dyn Store, table: &str) -> String {
    xcattab::csv::dump(store.load(&[table]).unwrap().table(table).unwrap())
}

#[test]
fn new_tables_get_xcats_layout() {
    let db = fresh();
    let store = open(&db);
    let mut b = Batch::new();
    b.set("noderes", "cn1", [("servicenode", "sn1,sn2")]);
    b.push(Op::Set {
        table: "networks".into(),
        key: vec!["10.2.0.0".into(), "255.255.0.0".into()],
        values: vec![("netname".into(), Some("compute".into()))],
    });
    store.commit(&b).unwrap();
    let mut c = db.superuser_client().unwrap();
    let mut cols = |t: &str| -> Vec<String> {
        c.query(
            "SELECT column_name || ' ' || data_type || coalesce('(' || character_maximum_length || ')', '') \
             FROM information_schema.columns WHERE table_name = $1 ORDER BY ordinal_position",
            &[&t],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect()
    };
    let noderes = cols("noderes");
    assert_eq!(noderes.len(), 22);
    assert_eq!(noderes[0], "node character varying(128)");
    assert_eq!(noderes[1], "servicenode text");
    assert_eq!(noderes[21], "disable text");
    let networks = cols("networks");
    assert_eq!(
        &networks[..3],
        [
            "netname text",
            "net character varying(128)",
            "mask character varying(128)"
        ]
    );
    let pk: Vec<String> = c
        .query(
            "SELECT a.attname::text FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid \
             AND a.attnum = ANY(i.indkey) WHERE i.indrelid = 'networks'::regclass AND i.indisprimary \
             ORDER BY array_position(i.indkey::int2[], a.attnum)",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(pk, ["net", "mask"]);
    let owner: String = c
        .query_one(
            "SELECT tableowner::text FROM pg_tables WHERE tablename = 'noderes'",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(owner, USER);
}

#[test]
fn tables_of_other_xcat_versions_are_read_by_column_name_and_upgraded_on_write() {
    let db = fresh();
    let mut c = db.superuser_client().unwrap();
    c.batch_execute(&format!(
        "CREATE TABLE noderes (\"xcatmaster\" TEXT, \"node\" VARCHAR(128), \"oldcolumn\" INTEGER, \
           \"servicenode\" TEXT, \"disable\" TEXT, PRIMARY KEY (\"node\"));
         ALTER TABLE noderes OWNER TO {USER};
         INSERT INTO noderes VALUES (NULL, 'compute', 42, NULL, NULL);
         INSERT INTO noderes VALUES ('sn1-c', 'cn1', NULL, E'sn1,sn2\\ttab\\\\', '');
         INSERT INTO noderes VALUES ('sn1-c', 'cn2', 7, 'sn1,sn2', '0');"
    ))
    .unwrap();
    let store = open(&db);
    let t = store
        .load(&["noderes"])
        .unwrap()
        .table("noderes")
        .unwrap()
        .clone();
    assert_eq!(t.columns().last().unwrap(), "oldcolumn");
    assert_eq!(t.value(1, 1), Some("sn1,sn2\ttab\\"));
    assert_eq!(t.value(1, 21), Some(""), "'' is not NULL");
    assert_eq!(t.value(0, 22), Some("42"));
    let mut b = Batch::new();
    b.set(
        "noderes",
        "cn1",
        [("netboot", "xnba"), ("xcatmaster", "sn2-c")],
    );
    b.set("noderes", "cn0", [("netboot", "xnba")]);
    store.commit(&b).unwrap();
    assert_eq!(
        dump(&store, "noderes"),
        "#node,servicenode,netboot,tftpserver,tftpdir,nfsserver,monserver,nfsdir,installnic,primarynic,discoverynics,cmdinterface,xcatmaster,current_osimage,next_osimage,nimserver,routenames,nameservers,proxydhcp,syslog,comments,disable,oldcolumn\n\
\"compute\",,,,,,,,,,,,,,,,,,,,,,\"42\"\n\
\"cn1\",\"sn1,sn2\ttab\\\",\"xnba\",,,,,,,,,,\"sn2-c\",,,,,,,,,,\n\
\"cn2\",\"sn1,sn2\",,,,,,,,,,,\"sn1-c\",,,,,,,,,\"0\",\"7\"\n\
\"cn0\",,\"xnba\",,,,,,,,,,,,,,,,,,,,\n"
    );
    let raw: Vec<(String, Option<i32>, Option<String>)> = c
        .query(
            "SELECT node, oldcolumn, disable FROM noderes ORDER BY node",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect();
    assert_eq!(
        raw[1],
        ("cn1".into(), None, Some(String::new())),
        "'' kept apart from NULL"
    );
    assert_eq!(
        raw[3],
        ("compute".into(), Some(42), None),
        "the legacy integer column survived"
    );
    let ncols: i64 = c
        .query_one(
            "SELECT count(*) FROM information_schema.columns WHERE table_name = 'noderes'",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(ncols, 23, "missing schema columns were added");
}

#[test]
fn credentials_never_appear_in_errors_or_output() {
    let db = fresh();
    let s = server().unwrap();
    let secret = "Wr0ng-Pa55-7c0ffee";
    let cases = [
        // wrong password
        format!(
            "Pg:dbname={};host=127.0.0.1;port={}|{USER}|{secret}",
            db.name(),
            s.port()
        ),
        // no such user
        format!(
            "Pg:dbname={};host=127.0.0.1;port={}|nosuchuser77|{secret}",
            db.name(),
            s.port()
        ),
        // nothing listening
        format!(
            "Pg:dbname={};host=127.0.0.1;port=1|{USER}|{secret}",
            db.name()
        ),
        // bad data source
        format!("Pg:dbname={};port=notaport|{USER}|{secret}", db.name()),
    ];
    for spec in &cases {
        let err = match spec.parse::<StoreSpec>().and_then(|s| store::open(&s)) {
            Ok(_) => panic!("{spec}: opened"),
            Err(e) => e,
        };
        for text in [err.to_string(), format!("{err:?}")] {
            assert!(!text.contains(secret), "{text}");
            assert!(
                !text.contains(USER) && !text.contains("nosuchuser77"),
                "{text}"
            );
        }
    }
    // The good store names itself without credentials.
    let store = open(&db);
    for text in [
        store.spec().to_string(),
        format!("{store:?}"),
        format!("{:?}", store.spec()),
    ] {
        assert!(!text.contains(PASSWORD) && !text.contains(USER), "{text}");
    }
    // A failing statement inside a commit.
    let mut b = Batch::new();
    b.set("noderes", &"x".repeat(200), [("netboot", "xnba")]);
    let err = store.commit(&b).unwrap_err().to_string();
    assert!(
        err.contains("character varying(128)") && !err.contains(PASSWORD),
        "{err}"
    );
    // And the commands print nothing of them, whatever happens.
    // (dumpxCATdb creates a missing -p directory before it opens the store, as xCAT's does.)
    let tmp = tempfile::tempdir().unwrap();
    let missing = tmp.path().join("x");
    for args in [vec!["-p", missing.to_str().unwrap()], vec!["-V", "-p"]] {
        for (bin, spec) in [
            (env!("CARGO_BIN_EXE_dumpxCATdb"), &cases[0]),
            (env!("CARGO_BIN_EXE_restorexCATdb"), &db.spec()),
        ] {
            let o = Command::new(bin)
                .args(&args)
                .env("XCATCFG", spec)
                .output()
                .unwrap();
            let all = format!(
                "{}{}",
                String::from_utf8_lossy(&o.stdout),
                String::from_utf8_lossy(&o.stderr)
            );
            assert!(
                !all.contains(PASSWORD) && !all.contains(secret) && !all.contains(USER),
                "{all}"
            );
        }
    }
}

#[test]
fn a_socket_directory_is_a_host() {
    let db = fresh();
    let store = store::open(&db.socket_spec().parse().unwrap()).unwrap();
    let mut b = Batch::new();
    b.set("site", "master", [("value", "10.1.0.100")]);
    store.commit(&b).unwrap();
    assert_eq!(
        dump(&*store, "site"),
        "#key,value,comments,disable\n\"master\",\"10.1.0.100\",,\n"
    );
}

fn move_batch(nodes: usize, sn: &str) -> Batch {
    let mut b = Batch::new();
    for i in 0..nodes {
        let n = format!("cn{i:06}");
        b.set(
            "noderes",
            &n,
            [("servicenode", sn), ("xcatmaster", sn), ("tftpserver", sn)],
        );
        b.set("nodehm", &n, [("conserver", sn)]);
    }
    b
}

#[test]
fn round_trips_do_not_grow_with_the_number_of_nodes() {
    let mut counts = Vec::new();
    for nodes in [10, 3000] {
        let db = fresh();
        let store = open(&db);
        store.commit(&move_batch(nodes, "sn1")).unwrap();
        let before = store.round_trips();
        store.commit(&move_batch(nodes, "sn2")).unwrap();
        let commit = store.round_trips() - before;
        let before = store.round_trips();
        let loaded = store.load(&["noderes", "nodehm"]).unwrap();
        assert_eq!(loaded.table("noderes").unwrap().len(), nodes);
        counts.push((commit, store.round_trips() - before));
    }
    assert_eq!(
        counts[0], counts[1],
        "round trips (commit, load) for 10 and 3000 nodes"
    );
    assert!(counts[0].0 <= 12, "{counts:?}");
}

#[test]
fn a_lock_held_by_another_session_makes_a_writer_wait_then_fail_clearly() {
    let db = fresh();
    let store = open(&db).with_lock_timeout(Duration::from_millis(300));
    store.commit(&move_batch(5, "sn1")).unwrap();
    // xcatd (or another tool) in the middle of a transaction that wrote noderes.
    let mut other = db.superuser_client().unwrap();
    other
        .batch_execute("BEGIN; UPDATE noderes SET comments = 'busy' WHERE node = 'cn000003'")
        .unwrap();
    let t = Instant::now();
    let err = store.commit(&move_batch(5, "sn2")).unwrap_err();
    assert!(t.elapsed() >= Duration::from_millis(300));
    assert!(matches!(err, StoreError::Locked { .. }), "{err}");
    other.batch_execute("ROLLBACK").unwrap();
    assert!(
        dump(&store, "nodehm").contains("\"sn1\""),
        "a refused writer wrote nodehm"
    );
    assert!(!dump(&store, "nodehm").contains("\"sn2\""));

    // Released in time: the writer waits, then commits on top of the other's update.
    other
        .batch_execute("BEGIN; UPDATE noderes SET comments = 'busy' WHERE node = 'cn000003'")
        .unwrap();
    let t = Instant::now();
    let release = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(300));
        other.batch_execute("COMMIT").unwrap();
    });
    let store = open(&db).with_lock_timeout(Duration::from_secs(20));
    store.commit(&move_batch(5, "sn2")).unwrap();
    assert!(
        t.elapsed() >= Duration::from_millis(300),
        "did not wait for the lock"
    );
    release.join().unwrap();
    let noderes = dump(&store, "noderes");
    assert!(
        noderes.contains("\"cn000003\",\"sn2\",,\"sn2\",,,,,,,,,\"sn2\",,,,,,,,\"busy\","),
        "{noderes}"
    );
}

#[test]
fn readers_see_a_commit_entirely_or_not_at_all() {
    let db = fresh();
    let writer = open(&db);
    writer.commit(&move_batch(2000, "sn0")).unwrap();
    let spec = db.spec();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let reader = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let r = store::open(&spec.parse().unwrap()).unwrap();
            let mut reads = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let db = r.load(&["noderes", "nodehm"]).unwrap();
                let a = db.table("noderes").unwrap();
                let b = db.table("nodehm").unwrap();
                assert_eq!(
                    (a.len(), b.len()),
                    (2000, 2000),
                    "a reader saw a half-written table"
                );
                let first = a.value(0, 1).unwrap().to_string();
                assert!(a
                    .rows()
                    .iter()
                    .all(|r| r[1].as_deref() == Some(first.as_str())));
                assert!(
                    b.rows()
                        .iter()
                        .all(|r| r[6].as_deref() == Some(first.as_str())),
                    "tables of one commit disagree"
                );
                reads += 1;
            }
            reads
        })
    };
    for g in 1..=8 {
        writer.commit(&move_batch(2000, &format!("sn{g}"))).unwrap();
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    assert!(reader.join().unwrap() > 0);
}

#[test]
fn record_ids_go_on_after_a_restore() {
    let db = fresh();
    let store = open(&db);
    let mut t = Table::new("auditlog");
    for id in [3, 7] {
        let mut r = vec![None; t.columns().len()];
        r[0] = Some(id.to_string());
        r[1] = Some("2025-11-23 07:15:02".into());
        t.push_row(r);
    }
    let mut b = Batch::new();
    b.push(Op::Replace(t));
    store.commit(&b).unwrap();
    // xCAT's auditlog insert names no recid: the sequence must continue after the restored ids.
    let mut c = db.superuser_client().unwrap();
    let id: i32 = c
        .query_one(
            "INSERT INTO auditlog (audittime) VALUES ('now') RETURNING recid",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(id, 8);
}

#[test]
fn xcat_heap_order_is_read_and_our_writes_keep_insertion_order() {
    let db = fresh();
    let store = open(&db);
    let mut b = Batch::new();
    for n in ["a", "b", "c"] {
        b.set("nodetype", n, [("os", "rhels9")]);
    }
    store.commit(&b).unwrap();
    // xCAT updates a row in place: PostgreSQL puts the new version at the end of the heap,
    // and xCAT's own tabdump (no ORDER BY) then shows a, c, b. We show what xCAT shows.
    let mut c = db.superuser_client().unwrap();
    c.batch_execute("UPDATE nodetype SET arch = 'x86_64' WHERE node = 'b'")
        .unwrap();
    let order = |s: &PgStore| -> Vec<String> {
        s.load(&["nodetype"])
            .unwrap()
            .table("nodetype")
            .unwrap()
            .rows()
            .iter()
            .map(|r| r[0].clone().unwrap())
            .collect()
    };
    let heap: Vec<String> = c
        .query("SELECT node FROM nodetype", &[])
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(order(&store), heap);
    assert_eq!(heap, ["a", "c", "b"]);
    // Our update of 'c' keeps its place, a new row goes to the end, and that is the physical
    // order afterwards too.
    let mut b = Batch::new();
    b.set("nodetype", "c", [("arch", "ppc64le")]);
    b.set("nodetype", "d", [("os", "sles15")]);
    store.commit(&b).unwrap();
    assert_eq!(order(&store), ["a", "c", "b", "d"]);
    let heap: Vec<String> = c
        .query("SELECT node FROM nodetype", &[])
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(heap, ["a", "c", "b", "d"]);
}

#[test]
fn a_missing_database_is_a_clear_error() {
    let s = server().unwrap();
    let spec = format!(
        "Pg:dbname=nosuchdb;host=127.0.0.1;port={}|{USER}|{PASSWORD}",
        s.port()
    );
    let err = PgStore::open(&spec.parse().unwrap())
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with(&format!(
            "Pg:dbname=nosuchdb;host=127.0.0.1;port={}: cannot connect:",
            s.port()
        )),
        "{err}"
    );
    assert!(err.contains("does not exist"), "{err}");
}

#[test]
fn big_tables_keep_their_primary_key_and_order() {
    // Above 5000 rows the primary key is dropped and re-added around the copy (same
    // transaction): it must come back identical, and still refuse duplicates.
    let db = fresh();
    let store = open(&db);
    store.commit(&move_batch(6000, "sn1")).unwrap();
    let before = store.round_trips();
    let mut b = move_batch(6000, "sn2");
    b.set("noderes", "zz-last", [("servicenode", "sn3")]);
    store.commit(&b).unwrap();
    assert!(
        store.round_trips() - before <= 12,
        "{}",
        store.round_trips() - before
    );
    let mut c = db.superuser_client().unwrap();
    let def: String = c
        .query_one(
            "SELECT conname || ' ' || pg_get_constraintdef(oid) FROM pg_constraint \
             WHERE conrelid = 'noderes'::regclass AND contype = 'p'",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(def, "noderes_pkey PRIMARY KEY (node)");
    let dup = c.batch_execute("INSERT INTO noderes (node) VALUES ('cn000001')");
    assert!(dup.is_err(), "the primary key no longer refuses duplicates");
    let t = store
        .load(&["noderes"])
        .unwrap()
        .table("noderes")
        .unwrap()
        .clone();
    assert_eq!(t.len(), 6001);
    assert_eq!(t.value(0, 0), Some("cn000000"));
    assert_eq!(t.value(5999, 1), Some("sn2"));
    assert_eq!(t.value(6000, 0), Some("zz-last"));
    // A duplicate key in a whole-table replacement is refused, and nothing is written.
    let mut dupes = t.clone();
    dupes.push_row(t.rows()[0].clone());
    let mut b = Batch::new();
    b.push(Op::Replace(dupes));
    let err = store.commit(&b).unwrap_err().to_string();
    assert!(err.contains("noderes") && err.contains("cn000000"), "{err}");
    assert_eq!(
        store.load(&["noderes"]).unwrap().table("noderes").unwrap(),
        &t
    );
}
