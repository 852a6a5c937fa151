//! known_hosts parsing and matching never panic, whatever the file holds.
//! The body is `postscripts::fuzzing::known_hosts`, which `tests/fuzz_corpus.rs` also runs on the
//! kept corpus.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| postscripts::fuzzing::known_hosts(data));
