//! The attribute rewrite rules of a move (spec §7–§8), as pure functions of a node's effective
//! values. Comparisons are exact, case-sensitive strings; a value that Perl would read as false
//! (empty or `"0"`) counts as unset, as in xCAT.

/// Perl truthiness of an attribute value: unset, `""` and `"0"` are false.
pub fn is_set(v: Option<&str>) -> bool {
    matches!(v, Some(s) if !s.is_empty() && s != "0")
}

/// Splits a comma list as Perl's `split(',', …)` does: empty items kept except trailing ones.
pub fn split_list(v: &str) -> Vec<&str> {
    let mut items: Vec<&str> = v.split(',').collect();
    while items.last() == Some(&"") {
        items.pop();
    }
    items
}

/// The backup service node of a node: the 2nd item of its servicenode list, if set.
///
/// ```
/// assert_eq!(snmove::rewrite::backup_sn(Some("sn1,sn2,sn3")), Some("sn2"));
/// assert_eq!(snmove::rewrite::backup_sn(Some("sn1")), None);
/// assert_eq!(snmove::rewrite::backup_sn(Some("sn1,,sn3")), None);
/// ```
pub fn backup_sn(servicenode: Option<&str>) -> Option<&str> {
    let list = servicenode.filter(|s| is_set(Some(s)))?;
    split_list(list).get(1).copied().filter(|s| is_set(Some(s)))
}

/// The new servicenode list: every item equal to `new_sn` removed, then `new_sn` first.
///
/// ```
/// use snmove::rewrite::rotate;
/// assert_eq!(rotate(Some("sn1,sn2"), "sn2"), "sn2,sn1");
/// assert_eq!(rotate(Some("sn1,sn2,sn3"), "sn2"), "sn2,sn1,sn3");
/// assert_eq!(rotate(Some("sn1,sn2"), "sn3"), "sn3,sn1,sn2");
/// assert_eq!(rotate(Some("sn1,sn2,sn3"), "sn3"), "sn3,sn1,sn2");
/// assert_eq!(rotate(None, "sn3"), "sn3");
/// ```
pub fn rotate(servicenode: Option<&str>, new_sn: &str) -> String {
    let mut out = vec![new_sn];
    if let Some(list) = servicenode {
        out.extend(split_list(list).into_iter().filter(|s| *s != new_sn));
    }
    out.join(",")
}

/// A node's effective (resolved) values that a move reads.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Current {
    /// `noderes.servicenode`, as read: unlike the other values it is not filtered by Perl
    /// truthiness, because xCAT splits and rotates it as it is (`"0"` with `-d sn2` gives
    /// `"sn2,0"`); [`backup_sn`] applies the truthiness itself.
    pub servicenode: Option<String>,
    /// `noderes.xcatmaster`.
    pub xcatmaster: Option<String>,
    /// `noderes.tftpserver`.
    pub tftpserver: Option<String>,
    /// `noderes.nfsserver`.
    pub nfsserver: Option<String>,
    /// `noderes.monserver`.
    pub monserver: Option<String>,
    /// `nodehm.conserver`.
    pub conserver: Option<String>,
}

/// The old and new service node of one node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Direction {
    /// Old SN, MN-facing: `-s`, else the 1st servicenode item (may be empty).
    pub old_sn: String,
    /// Old xcatmaster, node-facing: `-S`, else the current xcatmaster.
    pub old_master: Option<String>,
    /// `old_master` itself if it is an IP address, else its resolved address.
    pub old_master_ip: Option<String>,
    /// New SN, MN-facing.
    pub new_sn: String,
    /// New xcatmaster, node-facing (the `-D` value or a derived address).
    pub new_master: String,
}

/// The new values of one node. `None` fields are left alone.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewValues {
    /// Always written.
    pub servicenode: String,
    /// Always written.
    pub xcatmaster: String,
    /// Written when it equalled the old xcatmaster (name or address).
    pub tftpserver: Option<String>,
    /// Same rule as tftpserver.
    pub nfsserver: Option<String>,
    /// `newsn,newmaster` when its first item was the old SN.
    pub monserver: Option<String>,
    /// The new SN when it equalled the old SN.
    pub conserver: Option<String>,
    /// The monserver value has fewer than two items: message #16, left alone.
    pub monserver_invalid: bool,
}

/// Applies the rules of spec §8 to one node.
///
/// ```
/// use snmove::rewrite::{rewrite, Current, Direction};
/// let cur = Current {
///     servicenode: Some("sn1,sn2".into()),
///     xcatmaster: Some("sn1-c".into()),
///     tftpserver: Some("sn1-c".into()),
///     nfsserver: Some("10.9.9.9".into()),
///     monserver: Some("sn1,sn1-c".into()),
///     conserver: Some("sn1".into()),
/// };
/// let dir = Direction { old_sn: "sn1".into(), old_master: Some("sn1-c".into()), old_master_ip: None,
///                       new_sn: "sn2".into(), new_master: "10.1.2.100".into() };
/// let n = rewrite(&cur, &dir);
/// assert_eq!(n.servicenode, "sn2,sn1");
/// assert_eq!(n.tftpserver.as_deref(), Some("10.1.2.100"));
/// assert_eq!(n.nfsserver, None);
/// assert_eq!(n.monserver.as_deref(), Some("sn2,10.1.2.100"));
/// assert_eq!(n.conserver.as_deref(), Some("sn2"));
/// ```
pub fn rewrite(cur: &Current, dir: &Direction) -> NewValues {
    let was_old_master = |v: &Option<String>| -> bool {
        let Some(v) = v.as_deref().filter(|v| is_set(Some(v))) else {
            return false;
        };
        let by_name = dir
            .old_master
            .as_deref()
            .is_some_and(|m| is_set(Some(m)) && v == m);
        let by_ip = dir
            .old_master_ip
            .as_deref()
            .is_some_and(|m| is_set(Some(m)) && v == m);
        by_name || by_ip
    };
    let mut n = NewValues {
        servicenode: rotate(cur.servicenode.as_deref(), &dir.new_sn),
        xcatmaster: dir.new_master.clone(),
        ..NewValues::default()
    };
    if was_old_master(&cur.tftpserver) {
        n.tftpserver = Some(dir.new_master.clone());
    }
    if was_old_master(&cur.nfsserver) {
        n.nfsserver = Some(dir.new_master.clone());
    }
    if let Some(mon) = cur.monserver.as_deref().filter(|m| is_set(Some(m))) {
        let items = split_list(mon);
        if items.len() < 2 {
            n.monserver_invalid = true;
        } else if items[0] == dir.old_sn {
            n.monserver = Some(format!("{},{}", dir.new_sn, dir.new_master));
        }
    }
    if let Some(con) = cur.conserver.as_deref().filter(|c| is_set(Some(c))) {
        if con == dir.old_sn {
            n.conserver = Some(dir.new_sn.clone());
        }
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir() -> Direction {
        Direction {
            old_sn: "sn1".into(),
            old_master: Some("sn1-c".into()),
            old_master_ip: Some("10.1.0.1".into()),
            new_sn: "sn2".into(),
            new_master: "sn2-c".into(),
        }
    }

    #[test]
    fn list_rules() {
        assert_eq!(
            rotate(Some("sn1,sn2"), "sn1"),
            "sn1,sn2",
            "-d equal to the current primary"
        );
        assert_eq!(
            rotate(Some("sn1,sn2,sn1"), "sn1"),
            "sn1,sn2",
            "duplicates of the new SN removed"
        );
        assert_eq!(
            rotate(Some(",sn2"), "sn2"),
            "sn2,",
            "a leading empty item stays"
        );
        assert_eq!(split_list("a,,b,,"), ["a", "", "b"]);
        assert_eq!(
            rotate(Some("0"), "sn2"),
            "sn2,0",
            "Perl-false, but split as is"
        );
        assert_eq!(
            rotate(Some(","), "sn2"),
            "sn2",
            "only empty items: none kept"
        );
        assert_eq!(backup_sn(Some("sn1,0")), None, "Perl reads 0 as false");
        assert_eq!(backup_sn(None), None);
    }

    #[test]
    fn tftp_and_nfs_follow_the_old_master_by_name_or_address() {
        let cur = Current {
            tftpserver: Some("10.1.0.1".into()),
            nfsserver: Some("sn1".into()),
            ..Current::default()
        };
        let n = rewrite(&cur, &dir());
        assert_eq!(n.tftpserver.as_deref(), Some("sn2-c"));
        assert_eq!(
            n.nfsserver, None,
            "compared with the node-facing name, not the SN name"
        );
        let unset = rewrite(&Current::default(), &dir());
        assert_eq!(
            (
                unset.tftpserver,
                unset.nfsserver,
                unset.monserver,
                unset.conserver
            ),
            (None, None, None, None)
        );
    }

    #[test]
    fn monserver_rules() {
        let single = Current {
            monserver: Some("sn1".into()),
            ..Current::default()
        };
        let n = rewrite(&single, &dir());
        assert!(n.monserver_invalid);
        assert_eq!(n.monserver, None);
        let other = Current {
            monserver: Some("sn9,sn9-c".into()),
            ..Current::default()
        };
        assert_eq!(rewrite(&other, &dir()).monserver, None);
    }

    #[test]
    fn conserver_only_when_it_was_the_old_sn() {
        let c = |v: &str| Current {
            conserver: Some(v.into()),
            ..Current::default()
        };
        assert_eq!(rewrite(&c("sn1"), &dir()).conserver.as_deref(), Some("sn2"));
        assert_eq!(rewrite(&c("mn1"), &dir()).conserver, None);
        assert_eq!(rewrite(&c("sn1-c"), &dir()).conserver, None);
    }
}
