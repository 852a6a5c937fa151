//! Folding node lists for display (`cn[1-3,5]`) and natural order: the noderange crate's
//! [`noderange::fold`] and [`noderange::natural_cmp`], the one place this crate folds.

/// Folds node names into a compact noderange (noderange's fold).
///
/// ```
/// assert_eq!(postscripts::fold_nodes(["cn2", "cn1", "cn3", "cn5", "sn1"]), "cn[1-3,5],sn1");
/// assert_eq!(postscripts::fold_nodes(["a", "b"]), "a,b");
/// ```
pub fn fold_nodes<I, S>(names: I) -> String
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    let names: Vec<S> = names.into_iter().collect();
    noderange::fold(names.iter().map(|s| s.as_ref()))
}

/// Sorts names the way people expect (`cn2` before `cn10`); noderange's order.
pub fn natural_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    noderange::natural_cmp(a, b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds() {
        assert_eq!(fold_nodes(Vec::<String>::new()), "");
        assert_eq!(fold_nodes(["cn10", "cn9", "cn11"]), "cn[9-11]");
        assert_eq!(fold_nodes(["x", "x"]), "x");
    }

    #[test]
    fn natural() {
        let mut v = vec!["cn10", "cn2", "cn1", "a"];
        v.sort_by(|a, b| natural_cmp(a, b));
        assert_eq!(v, ["a", "cn1", "cn2", "cn10"]);
    }
}
