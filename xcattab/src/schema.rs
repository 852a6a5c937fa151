//! The xCAT schema: the column list, key columns and node column of every table, in the order
//! xCAT's `Schema.pm` declares them (which is the order `tabdump` prints).

mod data {
    include!("schema_data.rs");
}

/// The definition of one xCAT table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TableSchema {
    /// Table name, for example `noderes`.
    pub name: &'static str,
    /// Columns in schema order; `comments` and `disable` are always last.
    pub columns: &'static [&'static str],
    /// Primary-key columns (`node` for node-keyed tables, `net,mask` for `networks`).
    pub keys: &'static [&'static str],
    /// Columns the schema declares NOT NULL.
    pub required: &'static [&'static str],
    /// The column holding node (or group) names, when the table is node-keyed.
    pub node_column: Option<&'static str>,
}

impl TableSchema {
    /// Position of `column` in [`TableSchema::columns`].
    pub fn column_index(&self, column: &str) -> Option<usize> {
        self.columns.iter().position(|c| *c == column)
    }

    /// Columns the database numbers itself (`INTEGER AUTO_INCREMENT` in Schema.pm): the
    /// `recid` of `auditlog` and `eventlog`. tabrestore ignores their values in the file.
    ///
    /// ```
    /// assert_eq!(xcattab::schema::table("auditlog").unwrap().auto_increment(), ["recid"]);
    /// assert!(xcattab::schema::table("site").unwrap().auto_increment().is_empty());
    /// ```
    pub fn auto_increment(&self) -> &'static [&'static str] {
        match self.name {
            "auditlog" | "eventlog" => &["recid"],
            _ => &[],
        }
    }

    /// Whether the table's rows are keyed by a node (or group) name.
    pub fn is_node_keyed(&self) -> bool {
        self.node_column.is_some() && self.keys.len() == 1 && Some(self.keys[0]) == self.node_column
    }
}

/// Looks up a table of the schema by name.
///
/// ```
/// let noderes = xcattab::schema::table("noderes").unwrap();
/// assert_eq!(noderes.columns[1], "servicenode");
/// assert!(xcattab::schema::table("nosuchtable").is_none());
/// ```
pub fn table(name: &str) -> Option<&'static TableSchema> {
    data::TABLES
        .binary_search_by(|t| t.name.cmp(name))
        .ok()
        .map(|i| &data::TABLES[i])
}

/// All tables of the schema, sorted by name.
pub fn tables() -> &'static [TableSchema] {
    data::TABLES
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cols(name: &str) -> String {
        table(name).unwrap().columns.join(",")
    }

    #[test]
    fn sorted_for_binary_search() {
        assert!(tables().windows(2).all(|w| w[0].name < w[1].name));
        assert_eq!(tables().len(), 73);
    }

    #[test]
    fn tables_end_with_comments_disable_except_two() {
        // Schema.pm has two exceptions: taskstate has no comments, zvm adds columns after
        // disable. Everything else ends in comments,disable.
        let odd: Vec<&str> = tables()
            .iter()
            .filter(|t| !t.columns.ends_with(&["comments", "disable"]))
            .map(|t| t.name)
            .collect();
        assert_eq!(odd, ["taskstate", "zvm"]);
    }

    #[test]
    fn the_tables_snmove_uses() {
        assert_eq!(cols("nodelist"), "node,groups,status,statustime,appstatus,appstatustime,primarysn,hidden,updatestatus,updatestatustime,zonename,comments,disable");
        assert_eq!(cols("noderes"), "node,servicenode,netboot,tftpserver,tftpdir,nfsserver,monserver,nfsdir,installnic,primarynic,discoverynics,cmdinterface,xcatmaster,current_osimage,next_osimage,nimserver,routenames,nameservers,proxydhcp,syslog,comments,disable");
        assert_eq!(cols("servicenode"), "node,nameserver,dhcpserver,tftpserver,nfsserver,conserver,monserver,ldapserver,ntpserver,ftpserver,nimserver,ipforward,dhcpinterfaces,proxydhcp,comments,disable");
        assert_eq!(cols("nodehm"), "node,power,mgt,cons,termserver,termport,conserver,serialport,serialspeed,serialflow,getmac,cmdmapping,consoleondemand,consoleenabled,comments,disable");
        assert_eq!(cols("site"), "key,value,comments,disable");
        assert_eq!(
            cols("nodegroup"),
            "groupname,grouptype,members,membergroups,wherevals,comments,disable"
        );
        assert_eq!(
            cols("nodetype"),
            "node,os,arch,profile,provmethod,supportedarchs,nodetype,comments,disable"
        );
        assert_eq!(
            cols("hosts"),
            "node,ip,hostnames,otherinterfaces,comments,disable"
        );
        assert_eq!(cols("networks"), "netname,net,mask,mgtifname,gateway,dhcpserver,tftpserver,nameservers,ntpservers,logservers,dynamicrange,staticrange,staticrangeincrement,nodehostname,ddnsdomain,vlanid,domain,mtu,comments,disable");
        assert_eq!(
            cols("postscripts"),
            "node,postscripts,postbootscripts,comments,disable"
        );
        assert_eq!(
            cols("statelite"),
            "node,image,statemnt,mntopts,comments,disable"
        );
    }

    #[test]
    fn keys_and_node_columns() {
        assert_eq!(table("networks").unwrap().keys, &["net", "mask"]);
        assert!(!table("networks").unwrap().is_node_keyed());
        assert!(table("noderes").unwrap().is_node_keyed());
        assert_eq!(table("site").unwrap().keys, &["key"]);
        assert_eq!(table("ppchcp").unwrap().node_column, Some("hcp"));
        assert_eq!(table("statelite").unwrap().required, &["node", "statemnt"]);
    }
}
