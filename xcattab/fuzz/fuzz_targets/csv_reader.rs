//! The tabrestore reader on arbitrary text: scanning, the store's lenient reader and a full
//! restore into a table must never panic; a successful store read must dump back to something
//! that reads back to the same table. The body is `xcattab::fuzzing::csv_reader`, which
//! `tests/fuzz_corpus.rs` also runs on the kept corpus.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| xcattab::fuzzing::csv_reader(data));
