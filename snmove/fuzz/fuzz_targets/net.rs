//! Service-node `ip addr` output and networks-table masks: any text, no panic.
//! The body is `snmove::fuzzing::net`, which `tests/fuzz_corpus.rs` also runs on the kept corpus.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| snmove::fuzzing::net(data));
