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
    // skeleton -> (number of axes, tokens of all its names, flattened)
    let mut index: FxHashMap<String, usize> = FxHashMap::default();
    let mut groups: Vec<(String, usize, Vec<&str>)> = Vec::new();
    let mut literal: Vec<&str> = Vec::new();
    let mut spans: Vec<(usize, usize)> = Vec::new();
    let mut last: Option<usize> = None;
    for name in names {
        if !foldable(name) || !digit_spans(name, &mut spans) {
            literal.push(name);
            continue;
        }
        // Names of one set mostly share a skeleton: try the previous one first.
        let g = match last.filter(|&g| same_skeleton(&groups[g].0, name, &spans)) {
            Some(g) => g,
            None => {
                let sk = skeleton(name, &spans);
                let g = *index.entry(sk.clone()).or_insert_with(|| {
                    groups.push((sk, spans.len(), Vec::new()));
                    groups.len() - 1
                });
                last = Some(g);
                g
            }
        };
        groups[g].2.extend(spans.iter().map(|&(a, b)| &name[a..b]));
    }
    // Duplicates: the range sets drop repeated values; literal names are deduplicated here.
    literal.sort_unstable();
    literal.dedup();
    // (sort key, first values, text)
    let mut pieces: Vec<(String, Vec<&str>, String)> = literal
        .into_iter()
        .map(|n| (n.to_string(), Vec::new(), n.to_string()))
        .collect();
    for (skeleton, k, flat) in groups {
        let texts: Vec<&str> = skeleton.split('\0').collect();
        let key = texts.join("%s");
        let products = if k == 1 {
            vec![vec![RangeSet::from_tokens(flat)]]
        } else {
            fold_nd(flat.chunks(k).map(<[&str]>::to_vec).collect(), k)
        };
        for product in products {
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

/// Can this name be written inside a folded noderange at all?
fn foldable(name: &str) -> bool {
    let b = name.as_bytes();
    !(b.is_empty()
        || matches!(b[0], b'-' | b'^' | b'/')
        || b.iter().all(u8::is_ascii_digit)
        || name.chars().any(|c| {
            c.is_control()
                || matches!(
                    c,
                    ',' | '(' | ')' | '@' | '=' | '~' | '[' | ']' | '+' | ':' | '\'' | '"'
                )
        }))
}

/// The byte spans of the digit runs that are axes (a leading number stays text: a
/// bracket needs at least one character before it). False when there are none.
fn digit_spans(name: &str, spans: &mut Vec<(usize, usize)>) -> bool {
    spans.clear();
    let b = name.as_bytes();
    let mut i = 0;
    while i < b.len() && b[i].is_ascii_digit() {
        i += 1;
    }
    while i < b.len() {
        if b[i].is_ascii_digit() {
            let s = i;
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
            spans.push((s, i));
        } else {
            i += 1;
        }
    }
    !spans.is_empty()
}

/// The text parts of a name joined by NUL.
fn skeleton(name: &str, spans: &[(usize, usize)]) -> String {
    let mut s = String::with_capacity(name.len());
    let mut at = 0;
    for &(a, b) in spans {
        s.push_str(&name[at..a]);
        s.push('\0');
        at = b;
    }
    s.push_str(&name[at..]);
    s
}

fn same_skeleton(sk: &str, name: &str, spans: &[(usize, usize)]) -> bool {
    let mut parts = sk.split('\0');
    let mut at = 0;
    for &(a, b) in spans {
        if parts.next() != Some(&name[at..a]) {
            return false;
        }
        at = b;
    }
    parts.next() == Some(&name[at..]) && parts.next().is_none()
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
    fn from_tokens(tokens: Vec<&'a str>) -> Self {
        // Sort by (length, value) on integers where the value fits, else by text.
        let mut keyed: Vec<(usize, u128, &'a str)> = tokens
            .into_iter()
            .map(|t| {
                (
                    t.len(),
                    if t.len() <= 38 {
                        parse_value(t).unwrap_or(0)
                    } else {
                        0
                    },
                    t,
                )
            })
            .collect();
        keyed.sort_unstable_by(|a, b| a.0.cmp(&b.0).then(a.1.cmp(&b.1)).then_with(|| a.2.cmp(b.2)));
        keyed.dedup_by(|a, b| a.2 == b.2);
        let tokens = keyed.into_iter().map(|k| k.2);
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
    let mut v: u128 = 0;
    for c in t.bytes() {
        v = v * 10 + u128::from(c - b'0');
    }
    Some(v)
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
