//! Human and JSON renderings of plans and reports: the dry run (every attribute, old → new,
//! nodes with the same change folded into one line) and the closing summary of a move.

use std::collections::BTreeMap;

use crate::apply::FollowUpResult;
use crate::followup::{command_line, node_chunks, Outcome};
use crate::nodeside::{NodeReport, NodeStatus};
use crate::plan::Plan;

fn shown(v: Option<&str>) -> String {
    match v {
        None => "(unset)".into(),
        Some(s) if s.is_empty() || s.contains(char::is_whitespace) => format!("{s:?}"),
        Some(s) => s.to_string(),
    }
}

/// The dry-run text of a plan. `fold` prints a node list compactly.
pub fn dry_run_text(plan: &Plan, fold: &dyn Fn(&[String]) -> String) -> String {
    let mut out = String::new();
    let staying = plan
        .moves
        .iter()
        .filter(|m| m.current_sn() == m.new_sn)
        .count();
    if staying == 0 {
        out.push_str(&format!(
            "Dry run: nothing was written. {} node(s) would move:\n",
            plan.moves.len()
        ));
    } else {
        out.push_str(&format!(
            "Dry run: nothing was written. {} node(s) selected, {} would move:\n",
            plan.moves.len(),
            plan.moves.len() - staying
        ));
    }
    for ((from, to), nodes) in &pairs(plan) {
        if from == to {
            out.push_str(&format!(
                "  already on {to} (values re-applied): {} node(s): {}\n",
                nodes.len(),
                fold(nodes)
            ));
        } else {
            out.push_str(&format!(
                "  {} -> {to}: {} node(s): {}\n",
                shown(Some(from)).replace("\"\"", "(none)"),
                nodes.len(),
                fold(nodes)
            ));
        }
    }
    let mut changes: BTreeMap<(&str, &str, Option<&str>, &str), Vec<String>> = BTreeMap::new();
    for m in &plan.moves {
        for c in &m.changes {
            changes
                .entry((c.table, c.column, c.old.as_deref(), c.new.as_str()))
                .or_default()
                .push(m.node.clone());
        }
    }
    out.push_str("Attributes written as node-level rows (old → new: nodes):\n");
    for ((t, c, old, new), nodes) in &changes {
        if *old == Some(*new) {
            out.push_str(&format!(
                "  {t}.{c}: {} (unchanged): {}\n",
                shown(Some(new)),
                fold(nodes)
            ));
        } else {
            out.push_str(&format!(
                "  {t}.{c}: {} → {}: {}\n",
                shown(*old),
                shown(Some(new)),
                fold(nodes)
            ));
        }
    }
    for re in &plan.reenabled {
        out.push_str(&format!(
            "  {} row of {} (disable={:?}) replaced by an enabled row\n",
            re.table, re.node, re.disable
        ));
    }
    if !plan.follow_ups.is_empty() {
        out.push_str("Then:\n");
        for f in &plan.follow_ups {
            let mut args = vec![fold(&f.nodes)];
            args.extend(f.args.iter().cloned());
            out.push_str(&format!("  {}\n", command_line(&f.command, &args)));
        }
    }
    if plan.request.ignorenodes {
        out.push_str("Node-side steps: none (-i).\n");
    } else {
        out.push_str("Node-side steps:\n");
        for g in &plan.routes {
            out.push_str(&format!(
                "  default route via {}: {}\n",
                g.gateway,
                fold(&g.nodes)
            ));
        }
        for g in &plan.scripts {
            out.push_str(&format!(
                "  xcatinfo (updatenode -s), then postscripts {}: {}\n",
                g.scripts,
                fold(&g.nodes)
            ));
        }
        if plan.routes.is_empty() && plan.scripts.is_empty() {
            out.push_str("  none\n");
        }
    }
    out
}

/// The plan as JSON for other tooling.
pub fn plan_json(plan: &Plan) -> serde_json::Value {
    serde_json::json!({
        "dry_run": true,
        "plan": plan,
    })
}

/// The closing summary lines of a move.
pub fn summary(
    plan: &Plan,
    follow_ups: &[FollowUpResult],
    nodes: Option<&NodeReport>,
    fold: &dyn Fn(&[String]) -> String,
) -> Vec<String> {
    let mut lines = Vec::new();
    for ((from, to), ns) in &pairs(plan) {
        if from == to {
            lines.push(format!(
                "{} node(s) already on {to} (values re-applied): {}",
                ns.len(),
                fold(ns)
            ));
            continue;
        }
        let from = if from.is_empty() {
            "(no service node)"
        } else {
            from
        };
        lines.push(format!(
            "Moved {} node(s) from {from} to {to}: {}",
            ns.len(),
            fold(ns)
        ));
    }
    for f in follow_ups {
        let chunks = node_chunks(&f.follow_up.nodes);
        for (chunk, out) in chunks.iter().zip(&f.outcomes) {
            let why = match out {
                Outcome::Ran { ok: true, .. } | Outcome::NotInstalled => continue,
                Outcome::Ran { code: Some(c), .. } => format!("exit status {c}"),
                Outcome::Ran { code: None, .. } => "killed by a signal".to_string(),
                Outcome::Failed { .. } => "could not be started".to_string(),
            };
            let nodes: Vec<String> = chunk.split(',').map(str::to_string).collect();
            let mut args = vec![fold(&nodes)];
            args.extend(f.follow_up.args.iter().cloned());
            lines.push(format!(
                "Failed ({why}): {}",
                command_line(&f.follow_up.command, &args)
            ));
        }
    }
    match nodes {
        None => lines.push("Node-side steps: not run (-i).".into()),
        Some(r) => {
            let parts: Vec<String> = r
                .by_status()
                .iter()
                .map(|(s, ns)| format!("{} node(s) {}: {}", ns.len(), s.label(), fold(ns)))
                .collect();
            if !parts.is_empty() {
                lines.push(format!("Node-side steps: {}", parts.join("; ")));
            }
        }
    }
    let pending: Vec<&String> = follow_ups
        .iter()
        .flat_map(|f| f.pending.iter())
        .chain(nodes.map(|r| r.pending.iter()).into_iter().flatten())
        .collect();
    if !pending.is_empty() {
        lines.push("Still to be run (they could not be run here):".into());
        for p in pending {
            lines.push(format!("  {p}"));
        }
    }
    lines
}

/// The nodes of a plan by (old service node, new service node).
fn pairs(plan: &Plan) -> BTreeMap<(&str, &str), Vec<String>> {
    let mut pairs: BTreeMap<(&str, &str), Vec<String>> = BTreeMap::new();
    for m in &plan.moves {
        pairs
            .entry((m.current_sn(), m.new_sn.as_str()))
            .or_default()
            .push(m.node.clone());
    }
    pairs
}

/// Whether the node-side report has failures or steps not run.
pub fn node_side_incomplete(r: &NodeReport) -> bool {
    !r.pending.is_empty() || r.nodes.values().any(|s| *s != NodeStatus::Ok)
}
