//! `ip addr` / `ifconfig -a` parsing never panics and yields no empty address.
//! The body is `postscripts::fuzzing::inet`, which `tests/fuzz_corpus.rs` also runs on the
//! kept corpus.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| postscripts::fuzzing::inet(data));
