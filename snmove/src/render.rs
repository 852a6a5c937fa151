//! What the administrator sees: the dry-run plan (nodes with the same change folded into one
//! line) and its JSON form.

use std::collections::BTreeMap;

use crate::plan::Plan;

/// Renders a plan for `--dry-run`. `fold` prints a node list compactly (noderange folding).
pub fn dry_run_text(plan: &Plan, fold: &dyn Fn(&[String]) -> String) -> String {
    let mut out = String::new();
    // Who moves where.
    let mut pairs: BTreeMap<(&str, &str), Vec<String>> = BTreeMap::new();
    for m in &plan.nodes {
        pairs.entry((m.old_sn.as_str(), m.new_sn.as_str())).or_default().push(m.node.clone());
    }
    out.push_str(&format!("Plan: move {} node(s); nothing has been written.\n", plan.nodes.len()));
    for ((from, to), nodes) in &pairs {
        let from = if from.is_empty() { "(none)" } else { from };
        out.push_str(&format!("  {from} -> {to}: {} node(s): {}\n", nodes.len(), fold(nodes)));
    }
    // Every attribute change, identical changes folded.
    let mut changes: BTreeMap<(&str, &str, Option<&str>, &str), Vec<String>> = BTreeMap::new();
    for m in &plan.nodes {
        for c in &m.changes {
            changes
                .entry((c.table, c.column, c.old.as_deref(), c.new.as_str()))
                .or_default()
                .push(m.node.clone());
        }
    }
    out.push_str("Changes (node-level rows):\n");
    for ((t, c, old, new), nodes) in &changes {
        let old = old.map(|o| format!("{o:?}")).unwrap_or_else(|| "(unset)".into());
        out.push_str(&format!("  {t}.{c}: {old} -> {new:?}: {}\n", fold(nodes)));
    }
    if !plan.conserver_nodes.is_empty() {
        out.push_str(&format!("Then: makeconservercf {}\n", fold(&plan.conserver_nodes)));
    }
    for (arg, nodes) in &plan.nodeset {
        out.push_str(&format!("Then: nodeset {} {arg}\n", fold(nodes)));
    }
    for m in &plan.messages {
        out.push_str(if m.warning { "Warning: " } else { "Note: " });
        out.push_str(&m.text);
        out.push('\n');
    }
    out
}

/// The plan as JSON for other tooling.
pub fn dry_run_json(plan: &Plan) -> String {
    let v = serde_json::json!({
        "nodes": plan.nodes,
        "messages": plan.messages,
        "makeconservercf": plan.conserver_nodes,
        "nodeset": plan.nodeset,
    });
    serde_json::to_string_pretty(&v).unwrap_or_else(|e| format!("{{\"error\": {:?}}}", e.to_string()))
}
