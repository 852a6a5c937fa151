//! Folding node lists for display (`cn[1-3,5]`), the one place this crate folds.
//!
//! TODO(noderange): switch to `noderange`'s fold when it lands; until then this is a small
//! local fold: names are grouped by their prefix before the last run of digits (and the text
//! after it); numbers with the same width form ranges; groups are printed in natural order.

use std::collections::BTreeMap;

/// Folds node names into a compact, comma-separated list: `cn[1-3,5],sn1`.
///
/// ```
/// assert_eq!(postscripts::fold_nodes(["cn2", "cn1", "cn3", "cn5", "sn1"]), "cn[1-3,5],sn1");
/// assert_eq!(postscripts::fold_nodes(["n01", "n02", "n10"]), "n[01-02,10]");
/// assert_eq!(postscripts::fold_nodes(["a", "b"]), "a,b");
/// ```
pub fn fold_nodes<I, S>(names: I) -> String
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    // (prefix, suffix) -> (number, digit count, zero-padded); plain names kept aside
    let mut by_affix: BTreeMap<(String, String), Vec<Num>> = BTreeMap::new();
    let mut plain: Vec<String> = Vec::new();
    for n in names {
        let n = n.as_ref();
        match split_num(n) {
            Some((pre, num, width, suf)) => by_affix
                .entry((pre.to_string(), suf.to_string()))
                .or_default()
                .push((num, width, width > 1 && n.as_bytes()[pre.len()] == b'0')),
            None => plain.push(n.to_string()),
        }
    }
    // Zero-padded numbers form one group per width, which also takes the unpadded numbers of
    // that many digits (n01,n02,n10 -> n[01-02,10]); the other unpadded numbers form width 0.
    let mut groups: BTreeMap<(String, String, usize), Vec<u64>> = BTreeMap::new();
    for ((pre, suf), nums) in by_affix {
        let padded: Vec<usize> = nums.iter().filter(|n| n.2).map(|n| n.1).collect();
        for (num, width, is_padded) in nums {
            let w = if is_padded || padded.contains(&width) {
                width
            } else {
                0
            };
            groups
                .entry((pre.clone(), suf.clone(), w))
                .or_default()
                .push(num);
        }
    }
    let mut items: Vec<(String, String)> = Vec::new(); // (sort key, text)
    for ((pre, suf, width), mut nums) in groups {
        nums.sort_unstable();
        nums.dedup();
        let key = format!("{pre}\u{0}{width:08}{:020}", nums[0]);
        if nums.len() == 1 {
            items.push((key, format!("{pre}{:0width$}{suf}", nums[0])));
            continue;
        }
        let mut parts = Vec::new();
        let mut i = 0;
        while i < nums.len() {
            let mut j = i;
            while j + 1 < nums.len() && nums[j + 1] == nums[j] + 1 {
                j += 1;
            }
            if i == j {
                parts.push(format!("{:0width$}", nums[i]));
            } else {
                parts.push(format!("{:0width$}-{:0width$}", nums[i], nums[j]));
            }
            i = j + 1;
        }
        items.push((key, format!("{pre}[{}]{suf}", parts.join(","))));
    }
    plain.sort();
    plain.dedup();
    for p in plain {
        items.push((p.clone(), p));
    }
    items.sort();
    items
        .into_iter()
        .map(|(_, t)| t)
        .collect::<Vec<_>>()
        .join(",")
}

/// (number, digit count, zero-padded)
type Num = (u64, usize, bool);

/// Splits `cn012x` into ("cn", 12, 3, "x") on its last run of digits.
fn split_num(n: &str) -> Option<(&str, u64, usize, &str)> {
    let b = n.as_bytes();
    let end = b.iter().rposition(|c| c.is_ascii_digit())? + 1;
    let start = b[..end]
        .iter()
        .rposition(|c| !c.is_ascii_digit())
        .map_or(0, |p| p + 1);
    let digits = &n[start..end];
    if digits.len() > 18 {
        return None;
    }
    Some((&n[..start], digits.parse().ok()?, digits.len(), &n[end..]))
}

/// Sorts names the way people expect (`cn2` before `cn10`).
pub fn natural_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    match (split_num(a), split_num(b)) {
        (Some((pa, na, _, sa)), Some((pb, nb, _, sb))) => {
            pa.cmp(pb).then(na.cmp(&nb)).then(sa.cmp(sb)).then(a.cmp(b))
        }
        _ => a.cmp(b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds() {
        assert_eq!(fold_nodes(Vec::<String>::new()), "");
        assert_eq!(fold_nodes(["cn10", "cn9", "cn11"]), "cn[9-11]");
        assert_eq!(fold_nodes(["r1n1", "r1n2", "r2n1"]), "r1n[1-2],r2n1");
        assert_eq!(fold_nodes(["cn1-ib", "cn2-ib"]), "cn[1-2]-ib");
        assert_eq!(fold_nodes(["x", "x"]), "x");
    }

    #[test]
    fn natural() {
        let mut v = vec!["cn10", "cn2", "cn1", "a"];
        v.sort_by(|a, b| natural_cmp(a, b));
        assert_eq!(v, ["a", "cn1", "cn2", "cn10"]);
    }
}
