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

fn resolve_all(db: &xcattab::Database) -> usize {
    let r = Resolver::new(db);
    let (nr, hm) = (noderes_cols(), nodehm_cols());
    let mut set = 0;
    for node in r.nodes() {
        for v in r.attrs(node, "noderes", &nr).unwrap() {
            set += v.is_some() as usize;
        }
        for v in r.attrs(node, "nodehm", &hm).unwrap() {
            set += v.is_some() as usize;
        }
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
    g.bench_function("resolve all noderes+nodehm attributes", |b| {
        b.iter(|| resolve_all(&db))
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
