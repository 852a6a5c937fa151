//! Any journal text is read or refused; a journal that is read undoes without panicking.
//! The body is `snmove::fuzzing::journal`, which `tests/fuzz_corpus.rs` also runs on the kept corpus.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| snmove::fuzzing::journal(data));
