//! # snmove — move xCAT compute nodes to their backup service node
//!
//! Work in progress (issue 4): the pure building blocks of a move are here — subnet and
//! address handling ([`net`]) and the attribute rewrite rules ([`rewrite`]). Planning, applying,
//! undo and the command arrive with the snmove issue.

pub mod addr;
pub mod cli;
pub mod followup;
pub mod journal;
pub mod lock;
pub mod net;
pub mod plan;
pub mod render;
pub mod run;
pub mod rewrite;
