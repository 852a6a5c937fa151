//! Folds the node names read from standard input (separated by white space or commas)
//! and prints the compact noderange: the command-line counterpart of `nodeset -f`, used by
//! `bench/vs-clustershell.sh`.
//!
//! printf 'node1\nnode2\nnode3\n' | cargo run -q -p noderange --example nrfold

use std::io::Read;

fn main() {
    let mut input = String::new();
    if let Err(e) = std::io::stdin().read_to_string(&mut input) {
        eprintln!("nrfold: standard input: {e}");
        std::process::exit(1);
    }
    let names = input
        .split(|c: char| c.is_whitespace() || c == ',')
        .filter(|s| !s.is_empty());
    println!("{}", noderange::fold(names));
}
