//! The SQLite back end on real files: xCAT's layout and DDL, files it did not write (older or
//! newer schemas), rowid order, locks held by other processes (xcatd), WAL files, commits wider
//! than SQLite's attach limit, and files left by a killed writer read by the `sqlite3` program.

use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use rusqlite::Connection;
use xcattab::store::{SqliteStore, Store, StoreError};
use xcattab::{Batch, Op, Table};

fn noderes_rows(store: &SqliteStore) -> Vec<String> {
    let db = store.load(&["noderes"]).unwrap();
    xcattab::csv::dump(db.table("noderes").unwrap())
        .lines()
        .skip(1)
        .map(str::to_string)
        .collect()
}

#[test]
fn new_tables_get_xcats_exact_ddl_in_files_of_mode_0600() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path()).unwrap();
    let mut b = Batch::new();
    b.set("site", "master", [("value", "10.1.0.100")]);
    b.set("nodelist", "cn1", [("groups", "compute,all")]);
    b.set("networks", "x", [("netname", "n")]); // wrong key arity: refused, nothing written
    assert!(store.commit(&b).is_err());
    assert!(
        std::fs::read_dir(dir.path()).unwrap().next().is_none(),
        "files left by a refused commit"
    );
    b.ops.pop();
    store.commit(&b).unwrap();
    let sql = |t: &str| -> String {
        let c = Connection::open(dir.path().join(format!("{t}.sqlite"))).unwrap();
        c.query_row("SELECT sql FROM sqlite_master WHERE name = ?1", [t], |r| {
            r.get(0)
        })
        .unwrap()
    };
    assert_eq!(
        sql("site"),
        "CREATE TABLE site (\n  key VARCHAR(128) ,\n  value TEXT,\n  comments TEXT,\n  disable TEXT,\n  PRIMARY KEY (key)\n)"
    );
    assert_eq!(
        sql("nodelist"),
        "CREATE TABLE nodelist (\n  node VARCHAR(128) ,\n  groups TEXT,\n  status TEXT,\n  statustime TEXT,\n  appstatus TEXT,\n  appstatustime TEXT,\n  primarysn TEXT,\n  hidden TEXT,\n  updatestatus TEXT,\n  updatestatustime TEXT,\n  zonename TEXT,\n  comments TEXT,\n  disable TEXT,\n  PRIMARY KEY (node)\n)"
    );
    let mut names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        ["nodelist.sqlite", "site.sqlite"],
        "journals or empty files left behind"
    );
    for n in names {
        let mode = std::fs::metadata(dir.path().join(&n))
            .unwrap()
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(mode, 0o600, "{n}");
    }
}

/// A noderes file as an older xCAT made it: fewer columns, a column since removed from the
/// schema, keys and values of other types, rows in its own order.
fn old_noderes(dir: &Path) {
    let c = Connection::open(dir.join("noderes.sqlite")).unwrap();
    c.execute_batch(
        "CREATE TABLE noderes (\n  node VARCHAR(128) ,\n  servicenode TEXT,\n  oldcolumn TEXT,\n  xcatmaster TEXT,\n  comments TEXT,\n  disable TEXT,\n  PRIMARY KEY (node)\n);
         INSERT INTO noderes VALUES ('compute', NULL, 'legacy', NULL, NULL, NULL);
         INSERT INTO noderes VALUES ('cn1', 'sn1,sn2', NULL, 'sn1-c', '', NULL);
         INSERT INTO noderes VALUES ('cn2', 'sn1,sn2', 7, 'sn1-c', NULL, 0);",
    )
    .unwrap();
}

#[test]
fn files_of_other_xcat_versions_are_read_by_column_name_and_upgraded_on_write() {
    let dir = tempfile::tempdir().unwrap();
    old_noderes(dir.path());
    let store = SqliteStore::open(dir.path()).unwrap();
    let db = store.load(&["noderes"]).unwrap();
    let t = db.table("noderes").unwrap();
    assert_eq!(
        t.columns().len(),
        23,
        "schema columns + the extra one: {:?}",
        t.columns()
    );
    assert_eq!(t.columns().last().unwrap(), "oldcolumn");
    assert_eq!(t.value(2, 12), Some("sn1-c"));
    assert_eq!(t.value(2, 22), Some("7"));
    assert_eq!(t.value(2, 21), Some("0"));
    assert_eq!(t.rows()[1][20], Some(String::new()), "'' is not NULL");
    let mut b = Batch::new();
    b.set(
        "noderes",
        "cn1",
        [("servicenode", "sn2,sn1"), ("netboot", "xnba")],
    );
    b.set("noderes", "cn3", [("servicenode", "sn2,sn1")]);
    store.commit(&b).unwrap();
    assert_eq!(
        noderes_rows(&store),
        // (the column the schema does not know is kept, after the schema's columns)
        [
            "\"compute\",,,,,,,,,,,,,,,,,,,,,,\"legacy\"",
            "\"cn1\",\"sn2,sn1\",\"xnba\",,,,,,,,,,\"sn1-c\",,,,,,,,,,",
            "\"cn2\",\"sn1,sn2\",,,,,,,,,,,\"sn1-c\",,,,,,,,,\"0\",\"7\"",
            "\"cn3\",\"sn2,sn1\",,,,,,,,,,,,,,,,,,,,,",
        ]
    );
    // The missing schema columns were added at the end, as xCAT's updateschema does; the
    // legacy column and its values are still there.
    let c = Connection::open(dir.path().join("noderes.sqlite")).unwrap();
    let cols: Vec<String> = c
        .prepare("PRAGMA table_info(noderes)")
        .unwrap()
        .query_map([], |r| r.get(1))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(
        &cols[..6],
        [
            "node",
            "servicenode",
            "oldcolumn",
            "xcatmaster",
            "comments",
            "disable"
        ]
    );
    assert_eq!(cols.len(), 23);
    let legacy: Option<String> = c
        .query_row(
            "SELECT oldcolumn FROM noderes WHERE node = 'compute'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(legacy.as_deref(), Some("legacy"));
}

#[test]
fn rowid_order_is_kept_an_update_keeps_its_place() {
    let dir = tempfile::tempdir().unwrap();
    old_noderes(dir.path());
    let store = SqliteStore::open(dir.path()).unwrap();
    let rowid = |node: &str| -> i64 {
        let c = Connection::open(dir.path().join("noderes.sqlite")).unwrap();
        c.query_row("SELECT rowid FROM noderes WHERE node = ?1", [node], |r| {
            r.get(0)
        })
        .unwrap()
    };
    let before = rowid("cn1");
    let mut b = Batch::new();
    b.set("noderes", "cn1", [("xcatmaster", "sn2-c")]);
    b.push(Op::Delete {
        table: "noderes".into(),
        key: vec!["compute".into()],
    });
    b.set("noderes", "cn0", [("xcatmaster", "sn2-c")]);
    store.commit(&b).unwrap();
    assert_eq!(rowid("cn1"), before, "an UPDATE in place keeps the rowid");
    let nodes: Vec<String> = noderes_rows(&store)
        .iter()
        .map(|l| l.split(',').next().unwrap().to_string())
        .collect();
    assert_eq!(nodes, ["\"cn1\"", "\"cn2\"", "\"cn0\""]);
    // tabrestore-style replacement keeps the file's order.
    let mut t = Table::new("noderes");
    for n in ["z", "a", "m"] {
        t.push_row(vec![Some(n.to_string())]);
    }
    let mut b = Batch::new();
    b.push(Op::Replace(t));
    store.commit(&b).unwrap();
    assert_eq!(
        noderes_rows(&store)
            .iter()
            .map(|l| &l[..3])
            .collect::<Vec<_>>(),
        ["\"z\"", "\"a\"", "\"m\""]
    );
}

#[test]
fn a_lock_held_by_another_process_makes_a_writer_wait_then_fail_clearly() {
    let dir = tempfile::tempdir().unwrap();
    old_noderes(dir.path());
    let path = dir.path().join("noderes.sqlite");
    // Another process (xcatd, chtab) in the middle of a write.
    let other = Connection::open(&path).unwrap();
    other
        .execute_batch("BEGIN IMMEDIATE; UPDATE noderes SET comments = 'busy' WHERE node = 'cn2'")
        .unwrap();
    let store = SqliteStore::open(dir.path())
        .unwrap()
        .with_lock_timeout(Duration::from_millis(300));
    let mut b = Batch::new();
    b.set("nodehm", "cn1", [("conserver", "sn2")]);
    b.set("noderes", "cn1", [("xcatmaster", "sn2-c")]);
    let t = Instant::now();
    let err = store.commit(&b).unwrap_err();
    assert!(
        t.elapsed() >= Duration::from_millis(300),
        "did not wait: {:?}",
        t.elapsed()
    );
    assert!(matches!(err, StoreError::Locked { .. }), "{err}");
    let text = err.to_string();
    assert!(
        text.contains("noderes.sqlite") && text.contains("locked"),
        "{text}"
    );
    other.execute_batch("ROLLBACK").unwrap();
    assert!(
        !dir.path().join("nodehm.sqlite").exists(),
        "a refused writer wrote nodehm"
    );
    assert_eq!(
        noderes_rows(&store)[1],
        "\"cn1\",\"sn1,sn2\",,,,,,,,,,,\"sn1-c\",,,,,,,,,,"
    );

    // A lock released in time: the writer waits for it and commits.
    other
        .execute_batch("BEGIN IMMEDIATE; UPDATE noderes SET comments = 'busy' WHERE node = 'cn2'")
        .unwrap();
    let t = Instant::now();
    let release = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(300));
        other.execute_batch("COMMIT").unwrap();
    });
    let store = SqliteStore::open(dir.path())
        .unwrap()
        .with_lock_timeout(Duration::from_secs(20));
    store.commit(&b).unwrap();
    assert!(
        t.elapsed() >= Duration::from_millis(300),
        "did not wait for the lock"
    );
    release.join().unwrap();
    let rows = noderes_rows(&store);
    assert_eq!(rows[1], "\"cn1\",\"sn1,sn2\",,,,,,,,,,,\"sn2-c\",,,,,,,,,,");
    assert!(
        rows[2].ends_with("\"busy\",\"0\",\"7\""),
        "the other writer's update was lost: {rows:?}"
    );
}

#[test]
fn wal_files_are_switched_back_to_rollback_journal_mode() {
    let dir = tempfile::tempdir().unwrap();
    old_noderes(dir.path());
    let c = Connection::open(dir.path().join("noderes.sqlite")).unwrap();
    let mode: String = c
        .query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    drop(c);
    let store = SqliteStore::open(dir.path()).unwrap();
    let mut b = Batch::new();
    b.set("noderes", "cn1", [("xcatmaster", "sn2-c")]);
    b.set("nodehm", "cn1", [("conserver", "sn2")]);
    store.commit(&b).unwrap();
    let c = Connection::open(dir.path().join("noderes.sqlite")).unwrap();
    let mode: String = c
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "delete");

    // Held open in WAL mode by someone else: it cannot be switched, and the commit is refused
    // with the reason rather than made non-atomic.
    let c = Connection::open(dir.path().join("nodehm.sqlite")).unwrap();
    let _: String = c
        .query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))
        .unwrap();
    c.execute_batch("BEGIN; SELECT count(*) FROM nodehm;")
        .unwrap();
    let store = SqliteStore::open(dir.path())
        .unwrap()
        .with_lock_timeout(Duration::from_millis(200));
    let err = store.commit(&b).unwrap_err().to_string();
    assert!(err.contains("nodehm.sqlite"), "{err}");
}

#[test]
fn a_commit_wider_than_the_attach_limit_writes_every_table() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path()).unwrap();
    let tables: Vec<&str> = xcattab::schema::tables()
        .iter()
        .filter(|t| t.is_node_keyed() && t.columns.contains(&"comments"))
        .map(|t| t.name)
        .take(25)
        .collect();
    assert_eq!(tables.len(), 25);
    let mut b = Batch::new();
    for t in &tables {
        b.push(Op::Set {
            table: t.to_string(),
            key: vec!["cn1".into()],
            values: vec![("comments".into(), Some(format!("in {t}")))],
        });
    }
    assert_eq!(store.commit(&b).unwrap().changed.len(), 25);
    let db = store.load(&tables).unwrap();
    for t in &tables {
        let table = db.table(t).unwrap();
        let c = table.column_index("comments").unwrap();
        assert_eq!(table.value(0, c), Some(format!("in {t}").as_str()));
    }
}

// ---- files left by a killed writer, read by the sqlite3 program (as xCAT's DBD::SQLite would)

const CHILD_ENV: &str = "XCATTAB_TEST_CHILD_SQLITE_DIR";
const ROWS: usize = 1500;

fn generation_batch(g: u64) -> Batch {
    let mut b = Batch::new();
    for i in 0..ROWS {
        let node = format!("cn{i:05}");
        let v = format!("gen{g}");
        b.set("noderes", &node, [("xcatmaster", v.as_str())]);
        b.set("nodehm", &node, [("conserver", v.as_str())]);
    }
    b
}

/// Child: one commit of generation 1 (killed part-way by XCATTAB_CRASH_AT).
#[test]
fn child_sqlite_commit_once() {
    let Ok(dir) = std::env::var(CHILD_ENV) else {
        return;
    };
    SqliteStore::open(dir)
        .unwrap()
        .commit(&generation_batch(1))
        .unwrap();
}

fn sqlite3(dir: &Path, table: &str, sql: &str) -> String {
    let o = Command::new("sqlite3")
        .arg(dir.join(format!("{table}.sqlite")))
        .arg(sql)
        .output()
        .expect("the sqlite3 program (Debian package sqlite3, listed in .ci/apt-packages)");
    assert!(
        o.status.success(),
        "sqlite3: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout).unwrap()
}

#[test]
fn after_a_kill_mid_commit_the_sqlite3_program_sees_all_old_or_all_new() {
    for (point, want) in [
        ("sqlite-written:2", "gen0"),
        ("sqlite-before-commit", "gen0"),
        ("sqlite-committed", "gen1"),
    ] {
        let dir = tempfile::tempdir().unwrap();
        SqliteStore::open(dir.path())
            .unwrap()
            .commit(&generation_batch(0))
            .unwrap();
        let status = Command::new(std::env::current_exe().unwrap())
            .args(["child_sqlite_commit_once", "--exact", "--test-threads=1"])
            .env(CHILD_ENV, dir.path())
            .env("XCATTAB_CRASH_AT", point)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .unwrap();
        assert_eq!(status.signal(), Some(9), "{point}");
        // Each file opened on its own by another SQLite: a hot journal is rolled back (or,
        // once the super-journal is gone, dropped) — never a mix.
        let a = sqlite3(
            dir.path(),
            "noderes",
            "SELECT DISTINCT xcatmaster FROM noderes",
        );
        let b = sqlite3(
            dir.path(),
            "nodehm",
            "SELECT DISTINCT conserver FROM nodehm",
        );
        assert_eq!(
            (a.trim(), b.trim()),
            (want, want),
            "after a kill at {point}"
        );
        // A journal that is not hot (the transaction never reached its commit) may stay until
        // the next write; after one, nothing is left.
        let store = SqliteStore::open(dir.path()).unwrap();
        store.commit(&generation_batch(7)).unwrap();
        let a = sqlite3(
            dir.path(),
            "noderes",
            "SELECT DISTINCT xcatmaster FROM noderes",
        );
        let b = sqlite3(
            dir.path(),
            "nodehm",
            "SELECT DISTINCT conserver FROM nodehm",
        );
        assert_eq!((a.trim(), b.trim()), ("gen7", "gen7"), "{point}");
        let left: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.contains("journal") || n.contains("-mj"))
            .collect();
        assert!(
            left.is_empty(),
            "{point}: {left:?} left after the next commit"
        );
    }
}
