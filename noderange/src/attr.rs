//! Selection by attribute values: `table.column==value` elements (`nodesbycriteria` in
//! `NodeRange.pm`) and the criteria of dynamic groups (`getGroupMembers` with
//! `parse_selection_string` / `selection_string_match`).

use crate::hash::FxHashMap;

use crate::defspec::NODE_ATTRS;
use crate::eval::Evaluator;
use crate::regex::PerlRegex;
use crate::Error;

pub(crate) type RegexCache = FxHashMap<String, Result<PerlRegex, Error>>;

/// Compiles (once) a Perl pattern.
pub(crate) fn compile<'c>(
    cache: &'c mut RegexCache,
    pattern: &str,
    shown: &str,
) -> Result<&'c PerlRegex, Error> {
    cache
        .entry(pattern.to_string())
        .or_insert_with(|| PerlRegex::named(pattern, shown))
        .as_ref()
        .map_err(Clone::clone)
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Match {
    Eq,
    Ne,
    Re,
    NotRe,
}

/// `s/^\///; s/\/$//` on a regex value.
fn strip_slashes(v: &str) -> String {
    let v = v.strip_prefix('/').unwrap_or(v);
    let mut s = v.to_string();
    crate::perl::remove_suffix_dollar(&mut s, "/");
    s
}

/// The operator detection of `nodesbycriteria` (and of `nodels` filters): `!=` when no `=`
/// precedes it, `=~` when no `=` precedes it, `==`, `=`, `!~` — each split at its first
/// occurrence. Returns `(left, value, operator)`; no operator when none applies.
pub(crate) fn parse_criterion(c: &str) -> (String, Option<String>, Option<Match>) {
    let first_eq = c.find('=');
    if let Some(e) = first_eq {
        if e >= 1 && c.as_bytes()[e - 1] == b'!' {
            let (l, r) = c.split_once("!=").unwrap_or((c, ""));
            return (l.to_string(), Some(r.to_string()), Some(Match::Ne));
        }
        if c.as_bytes().get(e + 1) == Some(&b'~') {
            let (l, r) = c.split_once("=~").unwrap_or((c, ""));
            return (l.to_string(), Some(strip_slashes(r)), Some(Match::Re));
        }
    }
    if let Some((l, r)) = c.split_once("==") {
        return (l.to_string(), Some(r.to_string()), Some(Match::Eq));
    }
    if let Some((l, r)) = c.split_once('=') {
        return (l.to_string(), Some(r.to_string()), Some(Match::Eq));
    }
    if let Some((l, r)) = c.split_once("!~") {
        return (l.to_string(), Some(strip_slashes(r)), Some(Match::NotRe));
    }
    (c.to_string(), None, None)
}

/// `nodesbycriteria(\@allnodes, [$atom])->{$atom}`.
pub(crate) fn nodes_by_criteria(
    ev: &Evaluator<'_>,
    atom: &str,
    cache: &mut RegexCache,
) -> Result<Vec<u32>, Error> {
    let (left, value, op) = parse_criterion(atom);
    let (table, column) = match left.as_str() {
        "groups" | "tags" => ("nodelist".to_string(), "groups".to_string()),
        "mgt" => ("nodehm".to_string(), "mgt".to_string()),
        _ => match left.split_once('.') {
            Some((t, c)) => (t.to_string(), c.to_string()),
            None => return Ok(Vec::new()),
        },
    };
    // unless (grep /$column/, @{ $xCAT::Schema::tabspec{$table}->{cols} }) { return undef }
    let cols = ev.source().table_columns(&table).unwrap_or_default();
    if cols.is_empty() {
        return Ok(Vec::new());
    }
    let column_ok = if column.is_empty() {
        // An empty pattern reuses the last successful one, /\./ here: no column has a dot.
        cols.iter().any(|c| c.contains('.'))
    } else {
        let re = compile(cache, &column, &column)?;
        let mut ok = false;
        for c in &cols {
            if re.is_match(c)? {
                ok = true;
                break;
            }
        }
        ok
    };
    if !column_ok {
        return Ok(Vec::new());
    }
    let (Some(op), Some(value)) = (op, value) else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for (i, node) in ev.all_nodes().iter().enumerate() {
        let v = ev
            .source()
            .attribute(node, &table, &column)
            .unwrap_or_default();
        let hit = match op {
            Match::Eq => v == value,
            Match::Ne => v != value,
            Match::Re | Match::NotRe => {
                let m = if value.is_empty() {
                    // An empty pattern reuses the last successful match of the caller's
                    // scope: expandatom's m/[=~]/.
                    v.contains(['=', '~'])
                } else {
                    compile(cache, &value, &value)?.is_match(&v)?
                };
                (op == Match::Re) == m
            }
        };
        if hit {
            out.push(i as u32);
        }
    }
    Ok(out)
}

/// One criterion of `parse_selection_string`.
fn parse_selection(m: &str) -> Option<(String, String, Match)> {
    let first_eq = m.find('=');
    if first_eq.is_some_and(|e| m[e..].starts_with("==")) {
        let (a, v) = m.split_once("==")?;
        return Some((a.to_string(), v.to_string(), Match::Eq));
    }
    if first_eq.is_some_and(|e| m[e..].starts_with("=~")) {
        let (a, v) = m.split_once("=~")?;
        return Some((a.to_string(), strip_slashes(v), Match::Re));
    }
    if first_eq.is_some_and(|e| e >= 1 && m.as_bytes()[e - 1] == b'!') {
        let (a, v) = m.split_once("!=")?;
        return Some((a.to_string(), v.to_string(), Match::Ne));
    }
    if let Some((a, v)) = m.split_once("!~") {
        return Some((a.to_string(), strip_slashes(v), Match::NotRe));
    }
    // /^[^=]*=[^=]+$/
    if let Some(e) = first_eq {
        let rest = crate::perl::before_final_newline(&m[e + 1..]);
        if !rest.is_empty() && !rest.contains('=') {
            return Some((m[..e].to_string(), m[e + 1..].to_string(), Match::Eq));
        }
    }
    None
}

/// The members of a dynamic group: every node whose object attributes (as `lsdef` names
/// them) satisfy all criteria of `wherevals`; a node without the attribute fails.
pub(crate) fn dynamic_group_members(
    ev: &Evaluator<'_>,
    wherevals: &str,
    cache: &mut RegexCache,
) -> Result<Vec<u32>, Error> {
    let mut criteria: Vec<String> = wherevals.split("::").map(str::to_string).collect();
    crate::perl::drop_trailing_empty(&mut criteria);
    if wherevals.is_empty() {
        criteria.clear();
    }
    // %whereHash: a later criterion on the same attribute replaces an earlier one. A
    // criterion that does not parse ends the parsing (xCAT reports it and goes on with
    // what it has).
    let mut wanted: Vec<(String, String, Match)> = Vec::new();
    for c in &criteria {
        match parse_selection(c) {
            Some((a, v, m)) => {
                if let Some(w) = wanted.iter_mut().find(|w| w.0 == a) {
                    *w = (a, v, m);
                } else {
                    wanted.push((a, v, m));
                }
            }
            None => break,
        }
    }
    let needed = |a: &str| a == "mgt" || a == "nodetype" || wanted.iter().any(|w| w.0 == a);
    let mut out = Vec::new();
    for (i, node) in ev.all_nodes().iter().enumerate() {
        let mut obj: FxHashMap<&str, String> = FxHashMap::default();
        for &(name, table, column, only_if) in NODE_ATTRS {
            if name == "node" || !needed(name) {
                continue;
            }
            if let Some((ca, cv)) = only_if {
                let cur = obj.get(ca).cloned().unwrap_or_default();
                let re = compile(cache, &format!(r"\b{cv}\b"), cv)?;
                if !re.is_match(&cur)? {
                    continue;
                }
            }
            if let Some(v) = ev.source().attribute(node, table, column) {
                obj.insert(name, v);
            }
        }
        obj.insert("node", node.clone());
        let mut ok = true;
        for (a, v, m) in &wanted {
            let Some(have) = obj.get(a.as_str()) else {
                ok = false;
                break;
            };
            let hit = match m {
                Match::Eq => have == v,
                Match::Ne => have != v,
                Match::Re | Match::NotRe => {
                    let found = v.is_empty() || compile(cache, v, v)?.is_match(have)?;
                    (*m == Match::Re) == found
                }
            };
            if !hit {
                ok = false;
                break;
            }
        }
        if ok {
            out.push(i as u32);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn criterion_operators() {
        assert_eq!(
            parse_criterion("nodehm.mgt!=ipmi"),
            ("nodehm.mgt".into(), Some("ipmi".into()), Some(Match::Ne))
        );
        assert_eq!(
            parse_criterion("groups=~/comp/"),
            ("groups".into(), Some("comp".into()), Some(Match::Re))
        );
        assert_eq!(
            parse_criterion("a=b==c"),
            ("a=b".into(), Some("c".into()), Some(Match::Eq))
        );
        assert_eq!(
            parse_criterion("a=!=b"),
            ("a".into(), Some("!=b".into()), Some(Match::Eq))
        );
        assert_eq!(
            parse_criterion("nodehm.mgt!~ipmi"),
            ("nodehm.mgt".into(), Some("ipmi".into()), Some(Match::NotRe))
        );
        assert_eq!(parse_criterion("a~b"), ("a~b".into(), None, None));
    }

    #[test]
    fn selection_strings() {
        assert_eq!(
            parse_selection("mgt==ipmi"),
            Some(("mgt".into(), "ipmi".into(), Match::Eq))
        );
        assert_eq!(
            parse_selection("mgt=ipmi"),
            Some(("mgt".into(), "ipmi".into(), Match::Eq))
        );
        assert_eq!(parse_selection("mgt="), None);
        assert_eq!(
            parse_selection("os!=x"),
            Some(("os".into(), "x".into(), Match::Ne))
        );
        assert_eq!(
            parse_selection("os=~/rh/"),
            Some(("os".into(), "rh".into(), Match::Re))
        );
        assert_eq!(
            parse_selection("os!~rh"),
            Some(("os".into(), "rh".into(), Match::NotRe))
        );
    }
}
