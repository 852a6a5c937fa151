//! Computed values on arbitrary node names and values: parsing and applying must never panic
//! or hang (the Perl-expression evaluator and sprintf included). The body is
//! `xcattab::fuzzing::regexval`, which `tests/fuzz_corpus.rs` also runs on the kept corpus.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| xcattab::fuzzing::regexval(data));
