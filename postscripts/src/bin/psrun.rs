//! `psrun`: run the node-side steps of a service-node move, or any command, on many nodes over
//! SSH. See `psrun --help`.

use clap::Parser;

fn main() {
    std::process::exit(postscripts::cli::main_with(postscripts::cli::Args::parse()));
}
