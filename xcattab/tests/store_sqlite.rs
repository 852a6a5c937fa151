//! The SQLite back end on real files: xCAT's layout and DDL, files it did not write (older or
//! newer schemas), rowid order, locks held by other processes (xcatd), WAL files, commits of
//! every table in one transaction (and wider ones refused), and files left by a killed writer
//! (one commit, a whole-database restore) read by the `sqlite3` program.

mod common;

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
fn the_bundled_sqlite_attaches_125_files_to_one_connection() {
    // The workspace's .cargo/config.toml builds the bundled SQLite with
    // LIBSQLITE3_FLAGS="-DSQLITE_MAX_ATTACHED=125"; SQLite's default is 10.
    let c = Connection::open_in_memory().unwrap();
    assert_eq!(
        c.limit(rusqlite::limits::Limit::SQLITE_LIMIT_ATTACHED)
            .unwrap(),
        125,
        "SQLite was not built with .cargo/config.toml's LIBSQLITE3_FLAGS"
    );
    assert_eq!(SqliteStore::max_tables_per_commit(), 126);
}

/// The column that carries a test's marker value in `table`: `comments`, else the last
/// non-key column.
fn marker_column(t: &xcattab::schema::TableSchema) -> &'static str {
    if t.columns.contains(&"comments") {
        "comments"
    } else {
        t.columns
            .iter()
            .rev()
            .find(|c| !t.keys.contains(c))
            .copied()
            .unwrap()
    }
}

#[test]
fn a_commit_of_every_schema_table_writes_every_table() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path()).unwrap();
    let tables = xcattab::schema::tables();
    assert!(tables.len() > 70);
    let mut b = Batch::new();
    for t in tables {
        // "1": auditlog's and eventlog's key is an INTEGER.
        let mut values = vec![(marker_column(t).to_string(), Some(format!("in {}", t.name)))];
        for c in t.required.iter().filter(|c| !t.keys.contains(c)) {
            values.push((c.to_string(), Some("1".into())));
        }
        b.push(Op::Set {
            table: t.name.to_string(),
            key: t.keys.iter().map(|_| "1".to_string()).collect(),
            values,
        });
    }
    assert_eq!(store.commit(&b).unwrap().changed.len(), tables.len());
    let names: Vec<&str> = tables.iter().map(|t| t.name).collect();
    let db = store.load(&names).unwrap();
    for t in tables {
        let table = db.table(t.name).unwrap();
        let c = table.column_index(marker_column(t)).unwrap();
        assert_eq!(table.len(), 1, "{}", t.name);
        assert_eq!(table.value(0, c), Some(format!("in {}", t.name).as_str()));
    }
}

/// A table outside xCAT's schema, `extra<i>`, with one row.
fn extra_table(i: usize) -> Table {
    let mut t = Table::with_columns(&format!("extra{i:03}"), vec!["key".into(), "value".into()]);
    t.push_row(vec![Some("k".into()), Some("v".into())]);
    t
}

#[test]
fn a_commit_wider_than_one_sqlite_transaction_is_refused_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path()).unwrap();
    let max = SqliteStore::max_tables_per_commit();
    let mut b = Batch::new();
    for i in 0..=max {
        b.push(Op::Replace(extra_table(i)));
    }
    let err = store.commit(&b).unwrap_err();
    assert!(
        matches!(err, StoreError::TooManyTables { tables, max: m, .. } if tables == max + 1 && m == max),
        "{err:?}"
    );
    let msg = err.to_string();
    assert!(
        msg.contains(&format!("a commit of {} tables cannot be atomic", max + 1))
            && msg.contains("nothing was written"),
        "{msg}"
    );
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    // One table fewer fits.
    let mut b = Batch::new();
    for i in 0..max {
        b.push(Op::Replace(extra_table(i)));
    }
    assert_eq!(store.commit(&b).unwrap().changed.len(), max);
}

// ---- a whole-database restore killed mid-commit

const RESTORE_ENV: &str = "XCATTAB_TEST_CHILD_RESTORE_DIR";

/// The database of generation `g` as a `dumpxCATdb` directory: every table of xCAT's schema,
/// the tables of `fixtures/small` with their rows and every other table with two rows, each
/// row's marker column holding `gen<g>`.
fn write_generation_dir(dir: &Path, g: u64) {
    std::fs::create_dir_all(dir).unwrap();
    for t in xcattab::schema::tables() {
        let fixture = fixtures::small_dir().join(format!("{}.csv", t.name));
        let mut table = match std::fs::read_to_string(&fixture) {
            Ok(text) => xcattab::csv::table_from_csv(t.name, &text).unwrap(),
            Err(_) => {
                let mut table = Table::new(t.name);
                for k in ["k1", "k2"] {
                    let row = table
                        .columns()
                        .iter()
                        .map(|c| {
                            (t.keys.contains(&c.as_str()) || t.required.contains(&c.as_str()))
                                .then(|| k.to_string())
                        })
                        .collect();
                    table.push_row(row);
                }
                table
            }
        };
        let c = table.column_index(marker_column(t)).unwrap();
        for r in 0..table.len() {
            table.set_value(r, c, Some(format!("gen{g}")));
        }
        std::fs::write(
            dir.join(format!("{}.csv", t.name)),
            xcattab::csv::dump(&table),
        )
        .unwrap();
    }
}

/// The generation of every table file, each opened on its own connection (as xCAT's tools
/// open them); panics unless all are at one generation with all their rows.
fn restored_generation(dir: &Path) -> u64 {
    let mut seen: Option<u64> = None;
    for t in xcattab::schema::tables() {
        let conn = Connection::open(dir.join(format!("{}.sqlite", t.name))).unwrap();
        conn.busy_timeout(Duration::from_secs(30)).unwrap();
        let gens: Vec<String> = conn
            .prepare(&format!("SELECT {} FROM {}", marker_column(t), t.name))
            .unwrap()
            .query_map([], |r| r.get::<_, String>(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert!(!gens.is_empty(), "{} is empty", t.name);
        for v in gens {
            let g: u64 = v.strip_prefix("gen").unwrap().parse().unwrap();
            match seen {
                None => seen = Some(g),
                Some(s) => assert_eq!(
                    s, g,
                    "{} is at generation {g}, another table at {s}",
                    t.name
                ),
            }
        }
    }
    seen.unwrap()
}

/// Child: restores generations `start`, `start + 1`, … (or only `start` with
/// XCATTAB_CRASH_AT) from `dumpxCATdb` directories into the SQLite store, until killed.
#[test]
fn child_sqlite_restore() {
    let Ok(dir) = std::env::var(RESTORE_ENV) else {
        return;
    };
    let dir = Path::new(&dir);
    let store = SqliteStore::open(dir.join("db")).unwrap();
    let start = restored_generation(&dir.join("db")) + 1;
    let skips = xcattab::store::transfer::Skips::new(true, None);
    for g in start.. {
        let src = dir.join(format!("gen{g}"));
        write_generation_dir(&src, g);
        xcattab::store::transfer::restore_from_dir(&store, &src, &skips).unwrap();
        std::fs::remove_dir_all(&src).unwrap();
        if std::env::var_os("XCATTAB_CRASH_AT").is_some() {
            break;
        }
    }
}

fn restore_setup() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("db");
    std::fs::create_dir(&db).unwrap();
    let src = dir.path().join("gen0");
    write_generation_dir(&src, 0);
    let store = SqliteStore::open(&db).unwrap();
    let skips = xcattab::store::transfer::Skips::new(true, None);
    xcattab::store::transfer::restore_from_dir(&store, &src, &skips).unwrap();
    assert_eq!(restored_generation(&db), 0);
    dir
}

fn spawn_restore(dir: &Path, crash_at: Option<&str>) -> std::process::Child {
    common::spawn_self("child_sqlite_restore", RESTORE_ENV, dir, crash_at)
}

#[test]
fn a_whole_database_restore_killed_mid_commit_leaves_every_table_old_or_new() {
    let n = xcattab::schema::tables().len();
    // At each step of the commit: every file of the restore is in one transaction.
    let last = format!("sqlite-written:{n}");
    for (point, want) in [
        ("sqlite-locked", 0),
        ("sqlite-written:1", 0),
        (last.as_str(), 0),
        ("sqlite-before-commit", 0),
        ("sqlite-committed", 1),
    ] {
        let dir = restore_setup();
        let status = spawn_restore(dir.path(), Some(point)).wait().unwrap();
        assert_eq!(
            status.signal(),
            Some(9),
            "{point}: the child was not killed"
        );
        assert_eq!(
            restored_generation(&dir.path().join("db")),
            want,
            "after a kill at {point}"
        );
        // The sqlite3 program (xCAT's SQLite) agrees, file by file.
        for t in ["auditlog", "nodelist", "site", "zvm"] {
            let col = marker_column(xcattab::schema::table(t).unwrap());
            assert_eq!(
                sqlite3(
                    &dir.path().join("db"),
                    t,
                    &format!("SELECT DISTINCT {col} FROM {t}")
                )
                .trim(),
                format!("gen{want}"),
                "{t} after a kill at {point}"
            );
        }
    }
    // At random instants, inside SQLite's commit too: calibrate on one full restore, then
    // kill restoring children at random instants within that time.
    let dir = restore_setup();
    let db = dir.path().join("db");
    let t0 = Instant::now();
    let mut child = spawn_restore(dir.path(), None);
    // Polled through the store (one consistent snapshot) while the child writes.
    let site_generation = || {
        let t = SqliteStore::open(&db).unwrap().load(&["site"]).unwrap();
        let t = t.table("site").unwrap();
        let c = t.column_index("comments").unwrap();
        t.value(0, c).unwrap().to_string()
    };
    while site_generation() == "gen0" {
        assert!(
            t0.elapsed() < Duration::from_secs(120),
            "the restore never committed"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    let span = t0.elapsed().as_millis() as u64 * 2 + 1;
    child.kill().unwrap();
    child.wait().unwrap();
    let mut last = restored_generation(&db);
    let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
    let start = Instant::now();
    for round in 0..12 {
        if start.elapsed() > Duration::from_secs(15) {
            break;
        }
        let mut child = spawn_restore(dir.path(), None);
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        std::thread::sleep(Duration::from_millis(seed % span));
        child.kill().unwrap();
        child.wait().unwrap();
        let g = restored_generation(&db);
        assert!(
            g >= last,
            "round {round}: generation went back from {last} to {g}"
        );
        last = g;
    }
    assert!(
        last > 1,
        "the restores committed too little ({last}) to prove anything"
    );
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
