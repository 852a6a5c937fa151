//! The command line: any words (split at NUL bytes) must parse or be refused, never panic.
//! The body is `snmove::fuzzing::cli`, which `tests/fuzz_corpus.rs` also runs on the kept corpus.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| snmove::fuzzing::cli(data));
