//! Load a generated 100k-node cluster from a CSV store and resolve every node's noderes and
//! nodehm attributes (group inheritance and computed values), as snmove does before a move.
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
    g.bench_function("load nodelist+noderes+nodehm+site", |b| {
        b.iter(|| store.load(&TABLES).unwrap())
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
        b.iter(|| {
            let db = store.load(&TABLES).unwrap();
            resolve_all(&db)
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
