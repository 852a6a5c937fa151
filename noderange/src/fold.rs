//! Folding: writing a set of node names compactly, ClusterShell style
//! (`node[001-003,005]`, `f[1-2]n[1-3]`), in a form that xCAT's noderange parser (and this
//! crate's) reads back to exactly the same set.
//!
//! Each name is cut into text and digit runs; names with the same text skeleton are
//! folded together, one bracket per digit run (axis). Inside a bracket the values are
//! ordered by (length, value) like ClusterShell and consecutive values become `a-b`
//! ranges when xCAT's range rules reproduce them exactly: an unpadded start counts
//! numerically (`9-11`), a zero-padded start counts with its width (`08-11`, `098-101`).
//! Several axes fold as products, the last axis first: `f1n[1-3],f2n[1-2]`,
//! `f[1-2]n[1-3]`. There are no `/step` ranges (xCAT does not read them).
//!
//! Names that the parser could not read back inside brackets are written as they are:
//! those containing one of `, ( ) @ = ~ [ ] + : ' "` or a control character, starting with
//! `-`, `^` or `/`, or made only of digits. A name starting with a digit keeps that first
//! number literally (a bracket needs text before it).

use std::cmp::Ordering;

use crate::hash::FxHashMap;

/// Folds node names into a compact noderange.
///
/// The input may be in any order and contain duplicates. The output lists the folded
/// pieces sorted by their text pattern, then by their first values.
///
/// ```
/// use noderange::fold;
/// assert_eq!(fold(["node1", "node2", "node3", "node5"]), "node[1-3,5]");
/// assert_eq!(fold(["n7", "n8", "n09", "n10", "n11", "n12"]), "n[7-8,09-12]");
/// assert_eq!(fold(["f1n1", "f1n2", "f2n1", "f2n2"]), "f[1-2]n[1-2]");
/// assert_eq!(fold(["login1", "mgmt1", "mgmt2"]), "login1,mgmt[1-2]");
/// assert_eq!(fold(Vec::<&str>::new()), "");
/// ```
pub fn fold<'a>(names: impl IntoIterator<Item = &'a str>) -> String {
    let mut seen: crate::hash::FxHashSet<&str> = crate::hash::FxHashSet::default();
    // skeleton -> list of token tuples
    let mut groups: FxHashMap<String, Vec<Vec<&str>>> = FxHashMap::default();
    let mut literal: Vec<(String, &str)> = Vec::new();
    for name in names {
        if !seen.insert(name) {
            continue;
        }
        match split_name(name) {
            Some((skeleton, tokens)) if !tokens.is_empty() => {
                groups.entry(skeleton).or_default().push(tokens)
            }
            _ => literal.push((name.to_string(), name)),
        }
    }
    // (sort key, first values, text)
    let mut pieces: Vec<(String, Vec<&str>, String)> = literal
        .into_iter()
        .map(|(k, n)| (k, Vec::new(), n.to_string()))
        .collect();
    for (skeleton, tuples) in groups {
        let texts: Vec<&str> = skeleton.split('\0').collect();
        let key = texts.join("%s");
        let k = texts.len() - 1;
        for product in fold_nd(tuples, k) {
            let mut s = String::new();
            let mut first = Vec::with_capacity(k);
            for (axis, rs) in product.iter().enumerate() {
                s.push_str(texts[axis]);
                rs.render(&mut s);
                first.push(rs.first());
            }
            s.push_str(texts[k]);
            pieces.push((key.clone(), first, s));
        }
    }
    pieces.sort_by(|a, b| {
        a.0.cmp(&b.0).then_with(|| {
            for (x, y) in a.1.iter().zip(&b.1) {
                let o = token_cmp(x, y);
                if o != Ordering::Equal {
                    return o;
                }
            }
            a.2.cmp(&b.2)
        })
    });
    let mut out = String::new();
    for (i, p) in pieces.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&p.2);
    }
    out
}

/// Can this name be folded at all, and where are its digit runs? Returns the text
/// skeleton (text parts joined by NUL) and the digit runs.
fn split_name(name: &str) -> Option<(String, Vec<&str>)> {
    let b = name.as_bytes();
    if b.is_empty() || matches!(b[0], b'-' | b'^' | b'/') || b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    if name.chars().any(|c| {
        c.is_control()
            || matches!(
                c,
                ',' | '(' | ')' | '@' | '=' | '~' | '[' | ']' | '+' | ':' | '\'' | '"'
            )
    }) {
        return None;
    }
    let mut skeleton = String::with_capacity(name.len());
    let mut tokens = Vec::new();
    let mut i = 0;
    // A leading number stays text: a bracket needs at least one character before it.
    while i < b.len() && b[i].is_ascii_digit() {
        i += 1;
    }
    skeleton.push_str(&name[..i]);
    let mut text_start = i;
    while i < b.len() {
        if b[i].is_ascii_digit() {
            let s = i;
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
            skeleton.push_str(&name[text_start..s]);
            skeleton.push('\0');
            tokens.push(&name[s..i]);
            text_start = i;
        } else {
            i += 1;
        }
    }
    skeleton.push_str(&name[text_start..]);
    Some((skeleton, tokens))
}

/// (length, text) order of digit tokens, which is (width, value) order.
fn token_cmp(a: &str, b: &str) -> Ordering {
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

/// The folded values of one axis: runs of tokens.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct RangeSet<'a> {
    /// (first token, last token) of each run; equal for a single value.
    runs: Vec<(&'a str, &'a str)>,
}

impl<'a> RangeSet<'a> {
    fn from_tokens(mut tokens: Vec<&'a str>) -> Self {
        tokens.sort_unstable_by(|a, b| token_cmp(a, b));
        tokens.dedup();
        let mut runs: Vec<(&str, &str)> = Vec::new();
        // The run being built: start, last token, last value, padding width (0 = natural).
        let mut cur: Option<(&str, &str, u128, usize)> = None;
        for t in tokens {
            let value = parse_value(t);
            let width = if t.len() > 1 && t.starts_with('0') {
                t.len()
            } else {
                0
            };
            if let (Some((start, _, last, w)), Some(v)) = (cur, value) {
                if last.checked_add(1) == Some(v) && successor_matches(t, v, w) {
                    cur = Some((start, t, v, w));
                    continue;
                }
            }
            if let Some((start, last, _, _)) = cur.take() {
                runs.push((start, last));
            }
            match value {
                Some(v) => cur = Some((t, t, v, width)),
                None => runs.push((t, t)),
            }
        }
        if let Some((start, last, _, _)) = cur {
            runs.push((start, last));
        }
        RangeSet { runs }
    }

    fn first(&self) -> &'a str {
        self.runs.first().map_or("", |r| r.0)
    }

    fn render(&self, out: &mut String) {
        if self.runs.len() == 1 && self.runs[0].0 == self.runs[0].1 {
            out.push_str(self.runs[0].0);
            return;
        }
        out.push('[');
        for (i, (a, b)) in self.runs.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str(a);
            if a != b {
                out.push('-');
                out.push_str(b);
            }
        }
        out.push(']');
    }
}

/// Is `t` (of value `v`) the next string that xCAT's range from a run start of padding
/// width `w` (0 = unpadded) produces?
fn successor_matches(t: &str, v: u128, w: usize) -> bool {
    let natural_len = if v == 0 { 1 } else { v.ilog10() as usize + 1 };
    if w == 0 {
        t.len() == natural_len && (natural_len == 1 || !t.starts_with('0'))
    } else if natural_len >= w {
        t.len() == natural_len && !t.starts_with('0')
    } else {
        t.len() == w
    }
}

fn parse_value(t: &str) -> Option<u128> {
    if t.len() > 30 {
        return None;
    }
    t.parse().ok()
}

/// Folds k-tuples of tokens into products of per-axis range sets.
fn fold_nd<'a>(tuples: Vec<Vec<&'a str>>, k: usize) -> Vec<Vec<RangeSet<'a>>> {
    if k == 1 {
        let tokens = tuples.into_iter().map(|t| t[0]).collect();
        return vec![vec![RangeSet::from_tokens(tokens)]];
    }
    // Group by the first k-1 tokens; fold the last axis of each group.
    let mut by_prefix: FxHashMap<Vec<&'a str>, Vec<&'a str>> = FxHashMap::default();
    for mut t in tuples {
        let last = t.pop().unwrap_or_default();
        by_prefix.entry(t).or_default().push(last);
    }
    // Prefixes that share the same last-axis set are folded together.
    let mut by_last: FxHashMap<RangeSet<'a>, Vec<Vec<&'a str>>> = FxHashMap::default();
    for (prefix, lasts) in by_prefix {
        by_last
            .entry(RangeSet::from_tokens(lasts))
            .or_default()
            .push(prefix);
    }
    let mut out = Vec::new();
    for (last, prefixes) in by_last {
        for mut product in fold_nd(prefixes, k - 1) {
            product.push(last.clone());
            out.push(product);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_and_padding() {
        assert_eq!(fold(["node2", "node01", "node001"]), "node[2,01,001]");
        assert_eq!(fold(["n9", "n10", "n11"]), "n[9-11]");
        assert_eq!(fold(["n098", "n099", "n100", "n101"]), "n[098-101]");
        assert_eq!(fold(["n0", "n1"]), "n[0-1]");
        assert_eq!(fold(["n00", "n01"]), "n[00-01]");
        assert_eq!(fold(["1a", "2a"]), "1a,2a");
        assert_eq!(fold(["1n1", "1n2"]), "1n[1-2]");
        assert_eq!(fold(["a,b", "c"]), "a,b,c");
    }
}
