//! Load a generated 100k-node cluster from a CSV store and resolve every node's noderes and
//! nodehm attributes (group inheritance and computed values), as snmove does before a move;
//! then commit the node-level rows of a 50k-node move.
//!
//! Run: `cargo bench -p xcattab --bench resolve`

use criterion::{criterion_group, criterion_main, Criterion};
use xcattab::resolve::Resolver;
use xcattab::store::{CsvDirStore, Store};

const TABLES: [&str; 4] = ["nodelist", "noderes", "nodehm", "site"];

fn noderes_cols() -> Vec<&'static str> {
    let s = xcattab::schema::table("noderes").unwrap();
    s.columns[1..s.columns.len() - 2].to_vec()
}

fn nodehm_cols() -> Vec<&'static str> {
    let s = xcattab::schema::table("nodehm").unwrap();
    s.columns[1..s.columns.len() - 2].to_vec()
}

/// Every noderes and nodehm attribute of every node (columns prepared once, as a bulk caller
/// such as snmove does). Returns how many are set.
fn resolve_all(db: &xcattab::Database) -> usize {
    let r = Resolver::new(db);
    let nr = r.columns("noderes", &noderes_cols()).unwrap();
    let hm = r.columns("nodehm", &nodehm_cols()).unwrap();
    let mut set = 0;
    for node in r.nodes() {
        set += r.values(node, &nr).unwrap().iter().flatten().count();
        set += r.values(node, &hm).unwrap().iter().flatten().count();
    }
    set
}

/// The same through the convenience call that names the columns for every node.
fn resolve_all_by_name(db: &xcattab::Database) -> usize {
    let r = Resolver::new(db);
    let (nr, hm) = (noderes_cols(), nodehm_cols());
    let mut set = 0;
    for node in r.nodes() {
        set += r
            .attrs(node, "noderes", &nr)
            .unwrap()
            .iter()
            .flatten()
            .count();
        set += r
            .attrs(node, "nodehm", &hm)
            .unwrap()
            .iter()
            .flatten()
            .count();
    }
    set
}

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    fixtures::ClusterSpec::new(100_000, 10)
        .write_to(dir.path())
        .unwrap();
    let store = CsvDirStore::open(dir.path()).unwrap();
    let mut g = c.benchmark_group("100k nodes");
    g.sample_size(10);
    // The snapshot is freed outside the measurement (a command can exit without freeing it;
    // freeing 100k rows costs about as much as parsing them).
    g.bench_function("load nodelist+noderes+nodehm+site", |b| {
        b.iter_with_large_drop(|| store.load(&TABLES).unwrap())
    });
    let db = store.load(&TABLES).unwrap();
    assert_eq!(resolve_all(&db), resolve_all_by_name(&db));
    g.bench_function("resolve all noderes+nodehm attributes", |b| {
        b.iter(|| resolve_all(&db))
    });
    g.bench_function("resolve all, columns by name (attrs)", |b| {
        b.iter(|| resolve_all_by_name(&db))
    });
    g.bench_function("load + resolve", |b| {
        b.iter_with_large_drop(|| {
            let db = store.load(&TABLES).unwrap();
            let n = resolve_all(&db);
            (db, n)
        })
    });
    g.finish();
}

/// A service-node move as snmove writes it: node-level rows for half the nodes in noderes
/// (5 columns) and nodehm (conserver), one atomic commit on the CSV store (read both tables
/// under the lock, apply, write, fsync, rename).
fn commit(c: &mut Criterion) {
    let src = tempfile::tempdir().unwrap();
    let spec = fixtures::ClusterSpec::new(100_000, 10);
    spec.write_to(src.path()).unwrap();
    let mut batch = xcattab::Batch::new();
    for i in 1..=50_000 {
        let node = spec.node_name(i);
        let (a, b) = spec.service_nodes_of(i);
        let list = format!("{b},{a}");
        let ip = spec.sn_node_ip(2);
        let mon = format!("{b},{ip}");
        batch.set(
            "noderes",
            &node,
            [
                ("servicenode", list.as_str()),
                ("xcatmaster", ip.as_str()),
                ("tftpserver", ip.as_str()),
                ("nfsserver", ip.as_str()),
                ("monserver", mon.as_str()),
            ],
        );
        batch.set("nodehm", &node, [("conserver", b.as_str())]);
    }
    let mut g = c.benchmark_group("100k nodes");
    g.sample_size(10);
    g.bench_function("commit 50k node-level upserts (noderes+nodehm)", |b| {
        b.iter_batched(
            || {
                let dir = tempfile::tempdir().unwrap();
                for t in ["noderes", "nodehm"] {
                    let f = format!("{t}.csv");
                    std::fs::copy(src.path().join(&f), dir.path().join(&f)).unwrap();
                }
                dir
            },
            |dir| {
                let store = CsvDirStore::open(dir.path()).unwrap();
                store.commit(&batch).unwrap();
                dir
            },
            criterion::BatchSize::PerIteration,
        )
    });
    g.finish();
}

criterion_group!(benches, bench, commit);
criterion_main!(benches);
