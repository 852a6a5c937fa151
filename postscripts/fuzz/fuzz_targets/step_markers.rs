//! The step-marker parser never panics, and never loses a byte of a line that has no marker.
//! The body is `postscripts::fuzzing::step_markers`, which `tests/fuzz_corpus.rs` also runs on the
//! kept corpus.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| postscripts::fuzzing::step_markers(data));
