//! Any noderange, in every mode, on a small cluster: evaluation never panics, stays within
//! its limits, and the fold of every result reads back to the same set. The body is
//! `noderange::fuzzing::expand`, which `tests/fuzz_corpus.rs` also runs on the kept corpus.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| noderange::fuzzing::expand(data));
