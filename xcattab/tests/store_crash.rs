//! Crash safety and concurrency of the CSV directory store, with real processes: a writer is
//! killed with SIGKILL at every step of the commit protocol and at random instants, and every
//! table must then be entirely old or entirely new — all tables of one commit together.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::time::{Duration, Instant};

use xcattab::store::{CsvDirStore, Store, StoreError};
use xcattab::{Batch, Op};

const TABLES: [&str; 3] = ["nodelist", "noderes", "nodehm"];
const ROWS: usize = 1500;
const CHILD_ENV: &str = "XCATTAB_TEST_CHILD_DIR";

/// One commit that writes generation `g` into every row of the three tables.
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

/// The generation every row of every table carries; panics if they disagree.
fn generation(dir: &Path) -> u64 {
    let store = CsvDirStore::open(dir).unwrap();
    let db = store.load(&TABLES).unwrap();
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

fn leftovers(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".new") || n.starts_with(".xcattab-commit"))
        .collect()
}

fn setup() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let store = CsvDirStore::open(dir.path()).unwrap();
    store.commit(&generation_batch(0)).unwrap();
    std::fs::set_permissions(
        dir.path().join("noderes.csv"),
        std::fs::Permissions::from_mode(0o640),
    )
    .unwrap();
    dir
}

fn spawn_child(test: &str, dir: &Path, crash_at: Option<&str>) -> std::process::Child {
    common::spawn_self(test, CHILD_ENV, dir, crash_at)
}

/// Child: one commit of generation 1 (killed part-way by XCATTAB_CRASH_AT).
#[test]
fn child_commit_once() {
    let Ok(dir) = std::env::var(CHILD_ENV) else {
        return;
    };
    let store = CsvDirStore::open(dir).unwrap();
    store.commit(&generation_batch(1)).unwrap();
}

/// Child: commits generations 1, 2, 3, … until killed.
#[test]
fn child_commit_forever() {
    let Ok(dir) = std::env::var(CHILD_ENV) else {
        return;
    };
    // Continue from the generation the store is at (an earlier child may have been killed).
    let start = generation(Path::new(&dir)) + 1;
    let store = CsvDirStore::open(&dir).unwrap();
    for g in start.. {
        store.commit(&generation_batch(g)).unwrap();
    }
}

#[test]
fn killed_at_every_step_of_the_commit_protocol() {
    // (crash point, generation expected afterwards)
    let points = [
        ("table-written:1", 0),
        ("table-written:2", 0),
        ("table-written:3", 0),
        ("before-commit", 0),
        ("committed", 1),
        ("renamed:1", 1),
        ("renamed:2", 1),
        ("renamed:3", 1),
    ];
    for (point, expected) in points {
        let dir = setup();
        let status = spawn_child("child_commit_once", dir.path(), Some(point))
            .wait()
            .unwrap();
        assert_eq!(
            status.signal(),
            Some(9),
            "{point}: the child was not killed ({status:?})"
        );
        assert_eq!(generation(dir.path()), expected, "after a kill at {point}");
        assert_eq!(
            leftovers(dir.path()),
            Vec::<String>::new(),
            "{point}: recovery left files behind"
        );
        let mode = std::fs::metadata(dir.path().join("noderes.csv"))
            .unwrap()
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(mode, 0o640, "{point}: the table's permissions changed");
    }
}

#[test]
fn without_a_crash_point_the_child_commits() {
    let dir = setup();
    let status = spawn_child("child_commit_once", dir.path(), None)
        .wait()
        .unwrap();
    assert!(status.success());
    assert_eq!(generation(dir.path()), 1);
}

#[test]
fn killed_at_random_instants() {
    let dir = setup();
    // Calibrate on this machine (shared, possibly busy): how long until a child has made its
    // first commit. Later children are killed at random instants within twice that time, so
    // kills land before, during and after commits.
    let t0 = Instant::now();
    let mut child = spawn_child("child_commit_forever", dir.path(), None);
    while generation(dir.path()) == 0 {
        assert!(
            t0.elapsed() < Duration::from_secs(120),
            "the writer never committed"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    let span = t0.elapsed().as_millis() as u64 * 2 + 1;
    child.kill().unwrap();
    child.wait().unwrap();
    let mut last = generation(dir.path());
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let start = Instant::now();
    for round in 0..20 {
        if start.elapsed() > Duration::from_secs(25) {
            break;
        }
        let mut child = spawn_child("child_commit_forever", dir.path(), None);
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        std::thread::sleep(Duration::from_millis(seed % span));
        child.kill().unwrap();
        child.wait().unwrap();
        // Every table at one generation (checked by generation()), never going back.
        let g = generation(dir.path());
        assert!(
            g >= last,
            "round {round}: generation went back from {last} to {g}"
        );
        assert_eq!(leftovers(dir.path()), Vec::<String>::new(), "round {round}");
        last = g;
    }
    assert!(
        last > 1,
        "the writers committed too little ({last}) to prove anything"
    );
}

#[test]
fn a_second_writer_waits_then_fails_clearly() {
    let dir = setup();
    // Hold the writer lock as another process would.
    let lock = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(dir.path().join(".xcattab.lock"))
        .unwrap();
    std::fs::write(dir.path().join(".xcattab.lock"), "pid 4242 (snmove)\n").unwrap();
    use std::os::unix::io::AsRawFd;
    assert_eq!(unsafe { libc::flock(lock.as_raw_fd(), libc::LOCK_EX) }, 0);
    let store = CsvDirStore::open(dir.path())
        .unwrap()
        .with_lock_timeout(Duration::from_millis(200));
    let t = Instant::now();
    let err = store.commit(&generation_batch(7)).unwrap_err();
    assert!(t.elapsed() >= Duration::from_millis(200));
    assert!(matches!(err, StoreError::Locked { .. }), "{err}");
    assert!(err.to_string().contains("pid 4242 (snmove)"), "{err}");
    drop(lock);
    assert_eq!(
        generation(dir.path()),
        0,
        "nothing may be written by a refused writer"
    );
    store.commit(&generation_batch(7)).unwrap();
    assert_eq!(generation(dir.path()), 7);
}

#[test]
fn concurrent_writers_lose_no_update() {
    let dir = tempfile::tempdir().unwrap();
    let threads: Vec<_> = (0..4)
        .map(|w| {
            let path = dir.path().to_path_buf();
            std::thread::spawn(move || {
                let store = CsvDirStore::open(&path).unwrap();
                for i in 0..25 {
                    let mut b = Batch::new();
                    b.set(
                        "noderes",
                        &format!("w{w}n{i}"),
                        [("servicenode", "sn1,sn2")],
                    );
                    store.commit(&b).unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let db = CsvDirStore::open(dir.path())
        .unwrap()
        .load(&["noderes"])
        .unwrap();
    assert_eq!(db.table("noderes").unwrap().len(), 100);
}

#[test]
fn unchanged_tables_are_not_rewritten() {
    let dir = setup();
    let before = std::fs::metadata(dir.path().join("nodehm.csv"))
        .unwrap()
        .modified()
        .unwrap();
    std::thread::sleep(Duration::from_millis(20));
    let mut b = Batch::new();
    b.set("noderes", "cn00001", [("netboot", "xnba")]);
    b.set("nodehm", "cn00001", [("conserver", "gen0")]); // same value: no change
    let c = CsvDirStore::open(dir.path()).unwrap().commit(&b).unwrap();
    assert_eq!(c.changed.into_iter().collect::<Vec<_>>(), ["noderes"]);
    let after = std::fs::metadata(dir.path().join("nodehm.csv"))
        .unwrap()
        .modified()
        .unwrap();
    assert_eq!(before, after);
}

#[test]
fn a_failed_batch_writes_nothing() {
    let dir = setup();
    let mut b = generation_batch(5);
    b.push(Op::Set {
        table: "noderes".into(),
        key: vec!["cn1".into()],
        values: vec![("nosuchcolumn".into(), Some("x".into()))],
    });
    assert!(CsvDirStore::open(dir.path()).unwrap().commit(&b).is_err());
    assert_eq!(generation(dir.path()), 0);
}
