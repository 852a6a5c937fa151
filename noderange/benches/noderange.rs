//! Criterion benchmarks of the workloads named in the noderange issue, on a synthetic
//! cluster of 100 000 nodes `node000001`..`node100000`:
//! group `compute` (all), `rackA` (1–50 000), `rackB` (25 001–75 000).
//!
//! cargo bench -p noderange --bench noderange

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use noderange::{fold, Evaluator, MemorySource, Options};

const N: usize = 100_000;

fn cluster() -> MemorySource {
    let mut m = MemorySource::new();
    for i in 1..=N {
        let mut groups = String::from("compute");
        if i <= 50_000 {
            groups.push_str(",rackA");
        }
        if (25_001..=75_000).contains(&i) {
            groups.push_str(",rackB");
        }
        m = m.node(&format!("node{i:06}"), &groups);
    }
    m
}

fn shuffled_names() -> Vec<String> {
    let mut v: Vec<String> = (1..=N).map(|i| format!("node{i}")).collect();
    // A fixed pseudo-random permutation (xorshift), so runs are comparable.
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    for i in (1..v.len()).rev() {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        v.swap(i, (x % (i as u64 + 1)) as usize);
    }
    v
}

fn benches(c: &mut Criterion) {
    let src = cluster();
    let ev = Evaluator::new(&src);
    let opts = Options::default();
    let mut g = c.benchmark_group("noderange");
    g.sample_size(20);
    g.bench_function("index 100k nodes (Evaluator::new)", |b| {
        b.iter(|| black_box(Evaluator::new(&src)))
    });
    g.bench_function("expand node[000001-100000] (verify)", |b| {
        b.iter(|| black_box(ev.expand("node[000001-100000]", &opts).unwrap()))
    });
    g.bench_function("expand x[000001-100000] (generic)", |b| {
        b.iter(|| black_box(noderange::expand_generic("x[000001-100000]").unwrap()))
    });
    g.bench_function("group of 100k members", |b| {
        b.iter(|| black_box(ev.expand("compute", &opts).unwrap()))
    });
    g.bench_function("group minus 100k range", |b| {
        b.iter(|| black_box(ev.expand("compute,-node[000001-100000]", &opts).unwrap()))
    });
    g.bench_function("@ of two 50k groups", |b| {
        b.iter(|| black_box(ev.expand("rackA@rackB", &opts).unwrap()))
    });
    let names = shuffled_names();
    g.bench_function("fold 100k shuffled names", |b| {
        b.iter(|| black_box(fold(names.iter().map(String::as_str))))
    });
    g.finish();
}

criterion_group!(noderange_benches, benches);
criterion_main!(noderange_benches);
