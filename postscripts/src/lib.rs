//! # postscripts — node-side steps over SSH
//!
//! Not implemented yet: this crate is filled by the postscripts issue. It exposes nothing so
//! that nothing can pretend to work.
