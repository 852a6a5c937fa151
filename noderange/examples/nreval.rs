//! Evaluates noderanges from standard input against a cluster described in JSON, one JSON
//! result per line. Used to compare this crate with xCAT's own `NodeRange.pm`
//! (see `noderange/tools/oracle.pl` and `noderange/tools/differential.sh`).
//!
//! ```text
//! cargo run -p noderange --example nreval -- cluster.json < queries.jsonl
//! ```
//! cluster.json: `{"nodes":[{"node":"n1","groups":"a,b"}], "nodegroup":[{"groupname":..,
//! "grouptype":..,"wherevals":..}], "tables":{"nodehm":[{"node":"n1","mgt":"ipmi"}]},
//! "site":{"excludenodes":".."}, "env":{"XCAT_NODE_PREFIX":".."}}`.
//! A query: `{"range":"..","verify":1,"excludenodes":1,"genericrange":0,"site":{..}}`.

use std::io::BufRead;

use noderange::{Evaluator, MemorySource, Options};
use serde_json::{json, Value};

fn s(v: &Value) -> Option<&str> {
    v.as_str()
}

fn build(c: &Value, site_override: Option<&Value>) -> MemorySource {
    let mut m = MemorySource::new();
    for n in c["nodes"].as_array().into_iter().flatten() {
        let name = s(&n["node"]).unwrap_or_default();
        m = match s(&n["groups"]) {
            Some(g) => m.node(name, g),
            None => m.node_without_groups(name),
        };
    }
    for g in c["nodegroup"].as_array().into_iter().flatten() {
        m = m.group(
            s(&g["groupname"]).unwrap_or_default(),
            s(&g["grouptype"]),
            s(&g["wherevals"]),
        );
    }
    if let Some(tables) = c["tables"].as_object() {
        for (t, rows) in tables {
            for r in rows.as_array().into_iter().flatten() {
                let key = s(&r["node"]).unwrap_or_default();
                let vals: Vec<(&str, &str)> = r
                    .as_object()
                    .into_iter()
                    .flatten()
                    .filter(|(k, _)| k.as_str() != "node")
                    .filter_map(|(k, v)| v.as_str().map(|v| (k.as_str(), v)))
                    .collect();
                m = m.row(t, key, &vals);
            }
        }
    }
    let mut site: Vec<(String, String)> = Vec::new();
    for src in [Some(&c["site"]), site_override].into_iter().flatten() {
        for (k, v) in src.as_object().into_iter().flatten() {
            if let Some(v) = v.as_str() {
                site.retain(|(kk, _)| kk != k);
                site.push((k.clone(), v.to_string()));
            }
        }
    }
    for (k, v) in site {
        m = m.site_value(&k, &v);
    }
    m
}

fn main() {
    let path = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "cluster.json".into());
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        eprintln!("nreval: {path}: {e}");
        std::process::exit(2)
    });
    let cluster: Value = serde_json::from_str(&text).unwrap_or_else(|e| {
        eprintln!("nreval: {path}: {e}");
        std::process::exit(2)
    });
    let base = build(&cluster, None);
    for line in std::io::stdin().lock().lines() {
        let Ok(line) = line else { break };
        if line.trim().is_empty() {
            continue;
        }
        let Ok(q) = serde_json::from_str::<Value>(&line) else {
            continue;
        };
        let range = q["range"].as_str().unwrap_or_default();
        let mut opts = Options {
            verify: q["verify"].as_i64().unwrap_or(1) != 0,
            exclude_site: q["excludenodes"].as_i64().unwrap_or(1) != 0,
            generic: q["genericrange"].as_i64().unwrap_or(0) != 0,
            ..Options::default()
        };
        for env in [&cluster["env"], &q["env"]] {
            if let Some(p) = env["XCAT_NODE_PREFIX"].as_str() {
                opts.node_prefix = p.to_string();
            }
            if let Some(p) = env["XCAT_NODE_SUFFIX"].as_str() {
                opts.node_suffix = p.to_string();
            }
        }
        let source = if q.get("site").is_some() {
            build(&cluster, Some(&q["site"]))
        } else {
            base.clone()
        };
        let ev = Evaluator::new(&source);
        let out = match ev.expand(range, &opts) {
            Ok(e) => {
                json!({"range": range, "nodes": e.nodes.to_vec(), "missing": e.missing, "error": null})
            }
            Err(e) => json!({"range": range, "nodes": [], "missing": [], "error": e.to_string()}),
        };
        println!("{out}");
    }
}
