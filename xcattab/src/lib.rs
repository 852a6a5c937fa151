//! # xcattab — the xCAT table model
//!
//! xCAT keeps a cluster's definition in tables (`nodelist`, `noderes`, `nodehm`, `site`, …).
//! This crate models them the way xCAT reads and writes them:
//!
//! * [`schema`]: every table's columns, keys and node column, in `Schema.pm` order;
//! * [`table`]: in-memory tables of nullable text values, xCAT's exact `disable` predicate;
//! * [`csv`]: the `tabdump` writer and the `tabrestore` reader, byte-exact with xCAT;
//! * [`regexval`]: values computed per node (`/re/repl/`, `|re|repl|` with arithmetic);
//! * [`resolve`]: attribute resolution — node row, then its groups in order, column by column;
//! * [`store`]: where the tables live (a tabdump CSV directory, named like xCAT's `cfgloc`),
//!   with batched node-level writes that are atomic across tables and a writer lock.

pub mod batch;
#[cfg(feature = "cli")]
pub mod cli;
pub mod csv;
pub mod database;
pub mod filter;
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
