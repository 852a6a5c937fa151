//! Store benchmark driver (`harness = false`): the whole-process cost of a move-like commit on
//! each store. Driven by `xcattab/bench/stores.sh`, which times each step as a separate process
//! (`/usr/bin/time`: elapsed seconds, peak RSS) against a private PostgreSQL server.
//!
//! ```text
//! stores gen DIR NODES            write a NODES-node cluster as tabdump CSV files into DIR
//! stores load SPEC DIR            copy the CSV directory DIR into the store SPEC (not timed)
//! stores move SPEC NODES          what a move does: load nodelist/noderes/nodehm/site, resolve
//!                                 every node's service node, then one commit of node-level
//!                                 upserts for the first NODES nodes (noderes servicenode,
//!                                 xcatmaster, tftpserver; nodehm conserver)
//! stores                          (as run by `cargo bench`) a small gen+load+move on SQLite
//! ```

use std::fmt::Write as _;
use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

use xcattab::resolve::Resolver;
use xcattab::store::{self, transfer, CsvDirStore, Store};
use xcattab::Batch;

/// Nodes per rack group; racks are served by SN pairs in turn.
const RACK: usize = 100;
const SN_PAIRS: usize = 50;

fn gen(dir: &Path, nodes: usize) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let racks = nodes.div_ceil(RACK);
    let mut nodelist = String::from("#node,groups,status,statustime,appstatus,appstatustime,primarysn,hidden,updatestatus,updatestatustime,zonename,comments,disable\n");
    let mut noderes = String::from("#node,servicenode,netboot,tftpserver,tftpdir,nfsserver,monserver,nfsdir,installnic,primarynic,discoverynics,cmdinterface,xcatmaster,current_osimage,next_osimage,nimserver,routenames,nameservers,proxydhcp,syslog,comments,disable\n");
    let mut nodehm = String::from("#node,power,mgt,cons,termserver,termport,conserver,serialport,serialspeed,serialflow,getmac,cmdmapping,consoleondemand,consoleenabled,comments,disable\n");
    let _ = writeln!(nodelist, "\"mn1\",\"__mgmtnode\",,,,,,,,,,,");
    for p in 1..=SN_PAIRS {
        for s in [2 * p - 1, 2 * p] {
            let _ = writeln!(nodelist, "\"sn{s}\",\"service,all\",\"booted\",,,,,,,,,,");
        }
    }
    let _ = writeln!(
        noderes,
        "\"compute\",,\"xnba\",,,,,,\"mac\",\"mac\",,,,,,,,,,,,"
    );
    let _ = writeln!(
        nodehm,
        "\"compute\",,\"ipmi\",\"ipmi\",,,,\"0\",\"115200\",,,,,,,"
    );
    for r in 0..racks {
        let p = r % SN_PAIRS + 1;
        let (a, b) = (2 * p - 1, 2 * p);
        let _ = writeln!(
            noderes,
            "\"rack{r:04}\",\"sn{a},sn{b}\",,\"sn{a}-c\",,\"sn{a}-c\",\"sn{a},sn{a}-c\",,,,,,\"sn{a}-c\",,,,,,,,,"
        );
        let _ = writeln!(nodehm, "\"rack{r:04}\",,,,,,\"sn{a}\",,,,,,,,,");
    }
    for i in 0..nodes {
        let r = i / RACK;
        let _ = writeln!(
            nodelist,
            "\"cn{i:06}\",\"compute,rack{r:04},all\",\"booted\",\"11-23-2025 07:20:11\",\"sshd=up\",,,,,,,,"
        );
        // Node-level rows too (what earlier moves and discovery leave behind).
        let _ = writeln!(noderes, "\"cn{i:06}\",,,,,,,,,\"eth0\",,,,,,,,,,,,");
        let _ = writeln!(nodehm, "\"cn{i:06}\",,,,,\"{}\",,,,,,,,\"1\",,", i % 48 + 1);
    }
    std::fs::write(dir.join("nodelist.csv"), nodelist)?;
    std::fs::write(dir.join("noderes.csv"), noderes)?;
    std::fs::write(dir.join("nodehm.csv"), nodehm)?;
    std::fs::write(
        dir.join("site.csv"),
        "#key,value,comments,disable\n\"master\",\"10.1.0.100\",,\n\"domain\",\"cluster\",,\n",
    )?;
    Ok(())
}

fn open(spec: &str) -> Result<Box<dyn Store>, String> {
    let spec = spec
        .parse()
        .map_err(|e: xcattab::StoreError| e.to_string())?;
    store::open(&spec).map_err(|e| e.to_string())
}

fn load(spec: &str, dir: &Path) -> Result<(), String> {
    let from = CsvDirStore::open(dir).map_err(|e| e.to_string())?;
    let to = open(spec)?;
    transfer::copy_store(&from, &*to, None).map_err(|e| e.to_string())?;
    Ok(())
}

fn do_move(spec: &str, nodes: usize) -> Result<(), String> {
    let t0 = Instant::now();
    let parsed: store::StoreSpec = spec
        .parse()
        .map_err(|e: xcattab::StoreError| e.to_string())?;
    let pg = match &parsed {
        store::StoreSpec::Pg(_) => Some(store::PgStore::open(&parsed).map_err(|e| e.to_string())?),
        _ => None,
    };
    let other = match &pg {
        Some(_) => None,
        None => Some(store::open(&parsed).map_err(|e| e.to_string())?),
    };
    let s: &dyn Store = match (&pg, &other) {
        (Some(p), _) => p,
        (None, Some(o)) => &**o,
        (None, None) => return Err("no store".into()),
    };
    let t_open = t0.elapsed();
    let t = Instant::now();
    let db = s
        .load(&["nodelist", "noderes", "nodehm", "site"])
        .map_err(|e| e.to_string())?;
    let t_load = t.elapsed();
    let t = Instant::now();
    let r = Resolver::new(&db);
    let mut batch = Batch::new();
    let mut moved = 0;
    for node in r.nodes().iter().filter(|n| n.starts_with("cn")).take(nodes) {
        let sn = r
            .attr(node, "noderes", "servicenode")
            .map_err(|e| e.to_string())?
            .unwrap_or_default();
        let mut items: Vec<&str> = sn.split(',').collect();
        if items.len() < 2 {
            return Err(format!("{node}: no backup service node in {sn:?}"));
        }
        items.swap(0, 1);
        let new_sn = items.join(",");
        let new_master = format!("{}-c", items[0]);
        batch.set(
            "noderes",
            node,
            [
                ("servicenode", new_sn.as_str()),
                ("xcatmaster", new_master.as_str()),
                ("tftpserver", new_master.as_str()),
            ],
        );
        batch.set("nodehm", node, [("conserver", items[0])]);
        moved += 1;
    }
    let t_plan = t.elapsed();
    let before = pg.as_ref().map(|p| p.round_trips());
    let t = Instant::now();
    let c = s.commit(&batch).map_err(|e| e.to_string())?;
    let t_commit = t.elapsed();
    let trips = pg.as_ref().map(|p| p.round_trips());
    let server_cpu = server_cpu(spec)
        .map(|s| format!("; server CPU {s:.2}s"))
        .unwrap_or_default();
    println!(
        "moved {moved} nodes; changed {:?}; open {:.3}s load {:.3}s resolve+plan {:.3}s commit {:.3}s; round trips: {}{server_cpu}",
        c.changed,
        t_open.as_secs_f64(),
        t_load.as_secs_f64(),
        t_plan.as_secs_f64(),
        t_commit.as_secs_f64(),
        match (trips, before) {
            (Some(all), Some(b)) => format!("{all} in all, {} for the commit", all - b),
            _ => "n/a (in-process store)".into(),
        }
    );
    Ok(())
}

/// CPU time (user + system) the PostgreSQL server process serving this store's session has
/// used so far (read from /proc: the server runs on this machine).
fn server_cpu(spec: &str) -> Option<f64> {
    let source = spec.strip_prefix("Pg:")?.split('|').next()?;
    let mut cfg = postgres::Config::new();
    cfg.user("postgres");
    for kv in source.split(';') {
        match kv.split_once('=')? {
            ("dbname", v) => {
                cfg.dbname(v);
            }
            ("host", v) if v.starts_with('/') => {
                cfg.host_path(v);
            }
            ("host", v) => {
                cfg.host(v);
            }
            ("port", v) => {
                cfg.port(v.parse().ok()?);
            }
            _ => {}
        }
    }
    let mut c = cfg.connect(postgres::NoTls).ok()?;
    let rows = c
        .query(
            "SELECT pid FROM pg_stat_activity WHERE application_name = 'xcattab'",
            &[],
        )
        .ok()?;
    let mut total = 0.0;
    for r in rows {
        let pid: i32 = r.get(0);
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
        let ticks: f64 =
            fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
        total += ticks / 100.0;
    }
    Some(total)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    let result = match a.as_slice() {
        ["gen", dir, n] => n
            .parse()
            .map_err(|_| format!("bad node count {n}"))
            .and_then(|n| gen(Path::new(dir), n).map_err(|e| e.to_string())),
        ["load", spec, dir] => load(spec, Path::new(dir)),
        ["move", spec, n] => n
            .parse()
            .map_err(|_| format!("bad node count {n}"))
            .and_then(|n| do_move(spec, n)),
        [] => (|| {
            // `cargo bench`: a quick self-contained run on SQLite.
            let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
            let csv = dir.path().join("csv");
            let lite = dir.path().join("sqlite");
            std::fs::create_dir_all(&lite).map_err(|e| e.to_string())?;
            gen(&csv, 10_000).map_err(|e| e.to_string())?;
            let spec = format!("SQLite:{}", lite.display());
            load(&spec, &csv)?;
            let t = Instant::now();
            do_move(&spec, 5_000)?;
            println!("stores/sqlite 10k nodes, move 5k: {:.3}s (see xcattab/bench/stores.sh for the full benchmark)", t.elapsed().as_secs_f64());
            Ok(())
        })(),
        _ => Err("usage: stores gen DIR NODES | load SPEC DIR | move SPEC NODES".into()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("stores: {e}");
            ExitCode::from(1)
        }
    }
}
