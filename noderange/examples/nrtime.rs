//! Times the benchmark workloads of the noderange issue in one process (best of N runs),
//! for `bench/vs-clustershell.sh`. Prints `workload<TAB>milliseconds` of CPU time (the
//! thread's own, so that a busy machine does not inflate it; wall time on an idle machine
//! is the same).
//!
//! cargo run --release -p noderange --example nrtime [-- RUNS]

use noderange::{fold, Evaluator, MemorySource, Options};

const N: usize = 100_000;

fn cpu_ms() -> f64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime only writes the timespec we pass.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    ts.tv_sec as f64 * 1000.0 + ts.tv_nsec as f64 / 1e6
}

fn best<T>(runs: usize, mut f: impl FnMut() -> T) -> f64 {
    let mut best = f64::MAX;
    for _ in 0..runs {
        let t = cpu_ms();
        let r = f();
        let d = cpu_ms() - t;
        drop(std::hint::black_box(r));
        best = best.min(d);
    }
    best
}

fn main() {
    let runs: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(5);
    let mut src = MemorySource::new();
    for i in 1..=N {
        let mut groups = String::from("compute");
        if i <= 50_000 {
            groups.push_str(",rackA");
        }
        if (25_001..=75_000).contains(&i) {
            groups.push_str(",rackB");
        }
        src = src.node(&format!("node{i:06}"), &groups);
    }
    let ev = Evaluator::new(&src);
    let o = Options::default();
    let check = |r: &str, n: usize| {
        let got = ev.nodes(r, &o).map(|s| s.len());
        assert_eq!(got, Ok(n), "{r}");
    };
    check("node[000001-100000]", N);
    check("compute", N);
    check("compute,-node[000001-100000]", 0);
    check("rackA@rackB", 25_000);
    let mut names: Vec<String> = (1..=N).map(|i| format!("node{i}")).collect();
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    for i in (1..names.len()).rev() {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        names.swap(i, (x % (i as u64 + 1)) as usize);
    }
    assert_eq!(fold(names.iter().map(String::as_str)), "node[1-100000]");
    println!(
        "index 100k nodes\t{:.1}",
        best(runs, || Evaluator::new(&src))
    );
    println!(
        "index 100k nodes + first range\t{:.1}",
        best(runs, || {
            let e = Evaluator::new(&src);
            e.expand("node[000001-000100]", &o).map(|x| x.nodes.len())
        })
    );
    println!(
        "expand node[000001-100000]\t{:.1}",
        best(runs, || ev.expand("node[000001-100000]", &o))
    );
    println!(
        "expand generic x[1-100000]\t{:.1}",
        best(runs, || noderange::expand_generic("x[1-100000]"))
    );
    println!(
        "group of 100k\t{:.1}",
        best(runs, || ev.expand("compute", &o))
    );
    println!(
        "group minus 100k range\t{:.1}",
        best(runs, || ev.expand("compute,-node[000001-100000]", &o))
    );
    println!(
        "@ of two 50k sets\t{:.1}",
        best(runs, || ev.expand("rackA@rackB", &o))
    );
    println!(
        "fold 100k shuffled names\t{:.1}",
        best(runs, || fold(names.iter().map(String::as_str)))
    );
}
