//! `snmove`: move xCAT compute nodes to their backup service nodes.

use std::process::ExitCode;

/// Tens of thousands of small table values are allocated and freed per move.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

use snmove::addr::Getaddrinfo;
use snmove::run::{main_with, Context};
use snmove::select::{fold, NoderangeExpander};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args_os()
        .skip(1)
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let ctx = Context {
        expander: &NoderangeExpander,
        fold: &fold,
        probe: None,
        system: &Getaddrinfo,
        node_side: None,
        host: snmove::output::short_hostname(),
        exit_after: true,
    };
    let (mut out, mut err) = (std::io::stdout().lock(), std::io::stderr().lock());
    ExitCode::from(main_with(&args, &ctx, &mut out, &mut err))
}
