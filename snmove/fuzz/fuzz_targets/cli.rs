//! The command line: any words (split at NUL bytes) must parse or be refused, never panic.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let words: Vec<&str> = if text.is_empty() {
        Vec::new()
    } else {
        text.split('\0').collect()
    };
    let table = snmove::cli::option_table();
    let parsed = snmove::getopt::parse(&table, &words);
    // Every word is consumed: as an option, a value, a positional, or an error.
    assert!(
        parsed.options.len() + parsed.positionals.len() + parsed.errors.len()
            <= words.len() * 64 + 1
    );
    let _ = snmove::cli::parse(&words);
    let _ = snmove::cli::shows_server(&words);
});
