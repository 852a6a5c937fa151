//! # xcattab — the xCAT table model
//!
//! xCAT keeps a cluster's definition in tables (`nodelist`, `noderes`, `nodehm`, `site`, …).
//! This crate models them the way xCAT reads and writes them:
//!
//! * [`schema`]: every table's columns, keys and node column, in `Schema.pm` order;
//! * [`table`]: in-memory tables of nullable text values, xCAT's exact `disable` predicate,
//!   O(1) lookups by key;
//! * [`csv`]: the `tabdump` writer and the `tabrestore` reader, byte-exact with xCAT (same
//!   messages, line numbers and character positions for bad input);
//! * [`regexval`]: values computed per node (`/re/repl/`, `|re|repl|` with Perl arithmetic,
//!   `sprintf` and xCAT's helpers);
//! * [`resolve`]: attribute resolution — the node's row, then its groups in `nodelist.groups`
//!   order, column by column, as xCAT's `getNodeAttribs`;
//! * [`batch`]: node-level upserts as xCAT's `setNodeAttribs`, many tables in one [`Batch`];
//! * [`store`]: where the tables live (named like xCAT's `cfgloc`: `CSV:/dir`, `SQLite:/dir`,
//!   `Pg:…`), with atomic multi-table commits and a writer lock;
//! * [`filter`]: `tabdump -w` filters.
//!
//! It knows nothing of service-node moves: that is the `snmove` crate's job.
//!
//! ```
//! use xcattab::store::{CsvDirStore, Store};
//! use xcattab::{resolve::Resolver, Batch};
//!
//! // A store is a directory of tabdump files, as `dumpxCATdb -p DIR` writes them.
//! let dir = tempfile::tempdir().unwrap();
//! std::fs::write(dir.path().join("nodelist.csv"),
//!     "#node,groups,status,statustime,appstatus,appstatustime,primarysn,hidden,updatestatus,updatestatustime,zonename,comments,disable\n\
//!      \"cn17\",\"rack1,compute,all\",,,,,,,,,,,\n").unwrap();
//! std::fs::write(dir.path().join("noderes.csv"),
//!     "#node,servicenode,xcatmaster\n\
//!      \"compute\",\"|cn(\\d+)|sn(($1-1)/8+1),sn(($1-1)/8+2)|\",\"sn3-c\"\n").unwrap();
//! let store = CsvDirStore::open(dir.path()).unwrap();
//!
//! // Read: group values and computed values, as xCAT resolves them for cn17.
//! let db = store.load(&["nodelist", "noderes", "nodehm"]).unwrap();
//! let r = Resolver::new(&db);
//! assert_eq!(r.attr("cn17", "noderes", "servicenode").unwrap().as_deref(), Some("sn3,sn4"));
//!
//! // Write: node-level rows in two tables, committed atomically.
//! let mut batch = Batch::new();
//! batch.set("noderes", "cn17", [("servicenode", "sn4,sn3"), ("xcatmaster", "sn4-c")]);
//! batch.set("nodehm", "cn17", [("conserver", "sn4")]);
//! let commit = store.commit(&batch).unwrap();
//! assert_eq!(commit.changed.len(), 2);
//! let noderes = std::fs::read_to_string(dir.path().join("noderes.csv")).unwrap();
//! assert_eq!(noderes.lines().last(), Some(r#""cn17","sn4,sn3",,,,,,,,,,,"sn4-c",,,,,,,,,"#));
//! ```

pub mod batch;
#[cfg(feature = "cli")]
pub mod cli;
pub mod csv;
pub mod database;
pub mod filter;
#[doc(hidden)]
pub mod fuzzing;
pub mod nodesource;
pub mod regexval;
pub mod resolve;
pub mod schema;
pub mod store;
pub mod table;

pub use batch::{Batch, Expect, Op};
pub use database::Database;
pub use store::{Store, StoreError, StoreSpec};
pub use table::{Row, Table, Value};
