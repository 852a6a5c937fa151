//! A report read back for --retry-failed never panics, and what parses renders.
//! The body is `postscripts::fuzzing::report_json`, which `tests/fuzz_corpus.rs` also runs on the
//! kept corpus.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| postscripts::fuzzing::report_json(data));
