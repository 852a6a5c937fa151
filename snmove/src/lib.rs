//! # snmove — move xCAT compute nodes to their backup service node
//!
//! Not implemented yet: this crate is filled by the snmove issue. It exposes nothing so that
//! nothing can pretend to work.
