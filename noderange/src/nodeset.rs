//! [`NodeSet`]: a sorted set of node names, in xCAT's byte-wise order or natural order.

use std::cmp::Ordering;

/// A set of node names, kept sorted byte-wise (xCAT's order: `node1`, `node10`, `node2`)
/// without duplicates.
///
/// ```
/// use noderange::NodeSet;
/// let s: NodeSet = ["node10", "node2", "node1", "node2"].into_iter().collect();
/// assert_eq!(s.to_vec(), ["node1", "node10", "node2"]);
/// assert_eq!(s.natural(), ["node1", "node2", "node10"]);
/// assert_eq!(s.fold(), "node[1-2,10]");
/// assert!(s.contains("node10"));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct NodeSet {
    names: Vec<String>,
}

impl NodeSet {
    /// The empty set.
    pub fn new() -> Self {
        NodeSet::default()
    }

    /// Builds a set from names in any order, with or without duplicates.
    pub fn from_unsorted(mut names: Vec<String>) -> Self {
        names.sort_unstable();
        names.dedup();
        NodeSet { names }
    }

    /// Wraps names already sorted byte-wise without duplicates.
    pub(crate) fn from_sorted(names: Vec<String>) -> Self {
        debug_assert!(names.windows(2).all(|w| w[0] < w[1]));
        NodeSet { names }
    }

    /// Number of nodes.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// Is the set empty?
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// Is `name` in the set?
    pub fn contains(&self, name: &str) -> bool {
        self.names
            .binary_search_by(|n| n.as_str().cmp(name))
            .is_ok()
    }

    /// The names in xCAT's byte-wise order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = &str> + '_ {
        self.names.iter().map(String::as_str)
    }

    /// The names in xCAT's byte-wise order.
    pub fn as_slice(&self) -> &[String] {
        &self.names
    }

    /// A copy of the names in xCAT's byte-wise order.
    pub fn to_vec(&self) -> Vec<String> {
        self.names.clone()
    }

    /// The names in xCAT's byte-wise order.
    pub fn into_vec(self) -> Vec<String> {
        self.names
    }

    /// The names in natural order (`node2` before `node10`; see [`natural_cmp`]).
    pub fn natural(&self) -> Vec<&str> {
        let mut v: Vec<&str> = self.iter().collect();
        v.sort_by(|a, b| natural_cmp(a, b));
        v
    }

    /// The set written compactly, ClusterShell style (see [`fold`](crate::fold())).
    pub fn fold(&self) -> String {
        crate::fold::fold(self.iter())
    }

    /// Nodes in either set.
    pub fn union(&self, other: &NodeSet) -> NodeSet {
        let mut v = Vec::with_capacity(self.len() + other.len());
        let (mut i, mut j) = (0, 0);
        while i < self.names.len() && j < other.names.len() {
            match self.names[i].cmp(&other.names[j]) {
                Ordering::Less => {
                    v.push(self.names[i].clone());
                    i += 1;
                }
                Ordering::Greater => {
                    v.push(other.names[j].clone());
                    j += 1;
                }
                Ordering::Equal => {
                    v.push(self.names[i].clone());
                    i += 1;
                    j += 1;
                }
            }
        }
        v.extend_from_slice(&self.names[i..]);
        v.extend_from_slice(&other.names[j..]);
        NodeSet { names: v }
    }

    /// Nodes in both sets.
    pub fn intersection(&self, other: &NodeSet) -> NodeSet {
        NodeSet {
            names: self
                .names
                .iter()
                .filter(|n| other.contains(n))
                .cloned()
                .collect(),
        }
    }

    /// Nodes of `self` that are not in `other`.
    pub fn difference(&self, other: &NodeSet) -> NodeSet {
        NodeSet {
            names: self
                .names
                .iter()
                .filter(|n| !other.contains(n))
                .cloned()
                .collect(),
        }
    }
}

impl std::fmt::Display for NodeSet {
    /// The names joined by `,` in byte-wise order (a valid noderange).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.names.join(","))
    }
}

impl FromIterator<String> for NodeSet {
    fn from_iter<I: IntoIterator<Item = String>>(iter: I) -> Self {
        NodeSet::from_unsorted(iter.into_iter().collect())
    }
}

impl<'a> FromIterator<&'a str> for NodeSet {
    fn from_iter<I: IntoIterator<Item = &'a str>>(iter: I) -> Self {
        NodeSet::from_unsorted(iter.into_iter().map(str::to_string).collect())
    }
}

impl IntoIterator for NodeSet {
    type Item = String;
    type IntoIter = std::vec::IntoIter<String>;
    fn into_iter(self) -> Self::IntoIter {
        self.names.into_iter()
    }
}

impl<'a> IntoIterator for &'a NodeSet {
    type Item = &'a String;
    type IntoIter = std::slice::Iter<'a, String>;
    fn into_iter(self) -> Self::IntoIter {
        self.names.iter()
    }
}

/// Natural order of node names: runs of digits compare as numbers (`node2` < `node10`),
/// other text byte-wise; at equal value the less padded run comes first (`n1` < `n01`);
/// names still equal then compare byte-wise, so the order is total.
///
/// ```
/// use noderange::natural_cmp;
/// let mut v = vec!["node10", "node2", "node1", "node01", "f2n1", "f10n1"];
/// v.sort_by(|a, b| natural_cmp(a, b));
/// assert_eq!(v, ["f2n1", "f10n1", "node1", "node01", "node2", "node10"]);
/// ```
pub fn natural_cmp(a: &str, b: &str) -> Ordering {
    let (ab, bb) = (a.as_bytes(), b.as_bytes());
    let (mut i, mut j) = (0, 0);
    let mut pad_tiebreak = Ordering::Equal;
    while i < ab.len() && j < bb.len() {
        let (ca, cb) = (ab[i], bb[j]);
        if ca.is_ascii_digit() && cb.is_ascii_digit() {
            let si = i;
            while i < ab.len() && ab[i].is_ascii_digit() {
                i += 1;
            }
            let sj = j;
            while j < bb.len() && bb[j].is_ascii_digit() {
                j += 1;
            }
            let (da, db) = (&ab[si..i], &bb[sj..j]);
            let ta = trim_zeros(da);
            let tb = trim_zeros(db);
            let ord = ta.len().cmp(&tb.len()).then_with(|| ta.cmp(tb));
            if ord != Ordering::Equal {
                return ord;
            }
            if pad_tiebreak == Ordering::Equal {
                pad_tiebreak = da.len().cmp(&db.len());
            }
        } else {
            if ca != cb {
                return ca.cmp(&cb);
            }
            i += 1;
            j += 1;
        }
    }
    (ab.len() - i)
        .cmp(&(bb.len() - j))
        .then(pad_tiebreak)
        .then_with(|| a.cmp(b))
}

fn trim_zeros(d: &[u8]) -> &[u8] {
    let n = d.iter().take_while(|&&c| c == b'0').count();
    &d[n..]
}
