//! Attribute resolution as xCAT's getNodeAttribs does it (tables.md §3).

use xcattab::csv::table_from_csv;
use xcattab::resolve::Resolver;
use xcattab::Database;

const NODELIST: &str = "#node,groups,status,statustime,appstatus,appstatustime,primarysn,hidden,updatestatus,updatestatustime,zonename,comments,disable
\"mn1\",\"__mgmtnode\",,,,,,,,,,,
\"sn1\",\"service,all\",\"booted\",\"11-23-2025 07:15:02\",,,,,,,,,
\"cn001\",\"compute,rack1,all\",\"booted\",,,,,,,,,,
\"cn002\",\"compute,rack1,all\",,,,,,,,,,,
\"cn017\",\"rack2,compute,all\",,,,,,,,,,,
\"cn018\",\",rack2,,compute\",,,,,,,,,,,
\"cn099\",\"compute,all\",,,,,,,,,,,\"1\"
\"lonely\",,,,,,,,,,,,
";

const NODERES: &str = "#node,servicenode,netboot,tftpserver,tftpdir,nfsserver,monserver,nfsdir,installnic,primarynic,discoverynics,cmdinterface,xcatmaster,current_osimage,next_osimage,nimserver,routenames,nameservers,proxydhcp,syslog,comments,disable
\"service\",,\"xnba\",,,,,,\"mac\",\"mac\",,,,,,,,,,,,
\"rack1\",\"sn1,sn2\",,\"sn1-c\",,\"sn1-c\",\"sn1,sn1-c\",,,,,,\"sn1-c\",,,,,,,,,
\"compute\",\"nope\",\"xnba\",,,,,,\"mac\",\"mac\",,,\"fallback\",,,,,,,,,
\"rack2\",\"|cn(\\d+)|sn(($1-1)/8+1),sn(($1-1)/8+2)|\",,,,,,,,,,,\"|\\D+(\\d+)|10.2.0.($1+0)|\",,,,,,,,,
\"cn002\",\"sn2,sn1\",\"\",,,,,,,,,,\"10.2.0.2\",,,,,,,,,
\"cn001\",\"disabled,row\",,,,,,,,,,,,,,,,,,,,\"yes\"
\"cn099\",\"own\",,,,,,,,,,,,,,,,,,,,
";

fn db() -> Database {
    let mut db = Database::new();
    db.insert(table_from_csv("nodelist", NODELIST).unwrap());
    db.insert(table_from_csv("noderes", NODERES).unwrap());
    db
}

#[test]
fn node_row_then_groups_in_order_column_by_column() {
    let db = db();
    let r = Resolver::new(&db);
    // cn002: servicenode and xcatmaster from its own row, netboot '' at node level does not
    // block inheritance: it comes from the first group that has it (compute).
    assert_eq!(
        r.attr("cn002", "noderes", "servicenode")
            .unwrap()
            .as_deref(),
        Some("sn2,sn1")
    );
    assert_eq!(
        r.attr("cn002", "noderes", "xcatmaster").unwrap().as_deref(),
        Some("10.2.0.2")
    );
    assert_eq!(
        r.attr("cn002", "noderes", "netboot").unwrap().as_deref(),
        Some("xnba")
    );
    // tftpserver from rack1 (compute has none), servicenode from compute? No: compute comes
    // first in cn002's groups but its own row wins; for cn001 compute is first.
    assert_eq!(
        r.attr("cn002", "noderes", "tftpserver").unwrap().as_deref(),
        Some("sn1-c")
    );
}

#[test]
fn group_order_decides() {
    let db = db();
    let r = Resolver::new(&db);
    // cn001: groups compute,rack1,all. Its node row is disabled, so compute's "nope" wins.
    assert_eq!(
        r.attr("cn001", "noderes", "servicenode")
            .unwrap()
            .as_deref(),
        Some("nope")
    );
    assert_eq!(
        r.attr("cn001", "noderes", "monserver").unwrap().as_deref(),
        Some("sn1,sn1-c")
    );
    // cn017: rack2 first, so the computed pool.
    assert_eq!(
        r.attr("cn017", "noderes", "servicenode")
            .unwrap()
            .as_deref(),
        Some("sn3,sn4")
    );
    assert_eq!(
        r.attr("cn017", "noderes", "xcatmaster").unwrap().as_deref(),
        Some("10.2.0.17")
    );
}

#[test]
fn empty_group_names_are_skipped_and_substitution_uses_the_node_name() {
    let db = db();
    let r = Resolver::new(&db);
    assert_eq!(
        r.groups("cn018").collect::<Vec<_>>(),
        ["", "rack2", "", "compute"]
    );
    assert_eq!(
        r.attr("cn018", "noderes", "servicenode")
            .unwrap()
            .as_deref(),
        Some("sn3,sn4")
    );
    let from = r.attr_from("cn018", "noderes", "xcatmaster").unwrap();
    assert_eq!(from.value.as_deref(), Some("10.2.0.18"));
    assert_eq!(from.from, Some("rack2"));
}

#[test]
fn a_disabled_nodelist_row_means_no_groups() {
    let db = db();
    let r = Resolver::new(&db);
    assert!(!r.is_node("cn099"));
    assert_eq!(
        r.attr("cn099", "noderes", "servicenode")
            .unwrap()
            .as_deref(),
        Some("own")
    );
    assert_eq!(r.attr("cn099", "noderes", "netboot").unwrap(), None);
}

#[test]
fn nodes_without_groups_and_unknown_nodes() {
    let db = db();
    let r = Resolver::new(&db);
    assert_eq!(r.attr("lonely", "noderes", "servicenode").unwrap(), None);
    assert_eq!(r.attr("ghost", "noderes", "servicenode").unwrap(), None);
    assert_eq!(
        r.nodes(),
        ["mn1", "sn1", "cn001", "cn002", "cn017", "cn018", "lonely"]
    );
}

#[test]
fn nodelist_never_inherits() {
    let mut db = db();
    db.insert(
        table_from_csv(
            "nodelist",
            &(NODELIST.to_string() + "\"compute\",\"x\",\"groupstatus\",,,,,,,,,,\n"),
        )
        .unwrap(),
    );
    let r = Resolver::new(&db);
    assert_eq!(r.attr("cn002", "nodelist", "status").unwrap(), None);
    assert_eq!(
        r.attr("cn001", "nodelist", "status").unwrap().as_deref(),
        Some("booted")
    );
}

#[test]
fn hierarchical_attributes_concatenate() {
    let mut db = Database::new();
    db.insert(table_from_csv("nodelist", "#node,groups\n\"cn1\",\"compute,rack1\"\n").unwrap());
    db.insert(
        table_from_csv(
            "site",
            "#key,value,comments,disable\n\"hierarchicalattrs\",\"postscripts\",,\n",
        )
        .unwrap(),
    );
    db.insert(
        table_from_csv(
            "postscripts",
            "#node,postscripts,postbootscripts,comments,disable\n\"cn1\",\"a,b\",\"x\",,\n\"compute\",\"b,c\",\"y\",,\n\"rack1\",\"d\",,,\n",
        )
        .unwrap(),
    );
    let r = Resolver::new(&db);
    assert_eq!(
        r.attr("cn1", "postscripts", "postscripts")
            .unwrap()
            .as_deref(),
        Some("a,b,c,d")
    );
    assert_eq!(
        r.attr("cn1", "postscripts", "postbootscripts")
            .unwrap()
            .as_deref(),
        Some("x")
    );
}

#[test]
fn errors_name_the_problem() {
    let db = db();
    let r = Resolver::new(&db);
    assert_eq!(
        r.attr("cn1", "nodehm", "conserver")
            .unwrap_err()
            .to_string(),
        "table nodehm was not loaded"
    );
    assert_eq!(
        r.attr("cn1", "noderes", "conserver")
            .unwrap_err()
            .to_string(),
        "table noderes has no column 'conserver'"
    );
}
