//! Store names (`--db`, `XCATCFG`, cfgloc): parsing never panics, and nothing printed of a
//! network store — Display, Debug, parse errors, PostgreSQL connection-setting errors — depends
//! on its user name, password or a credential in the data source. The body is
//! `xcattab::fuzzing::store_spec`, which `tests/fuzz_corpus.rs` also runs on the kept corpus.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| xcattab::fuzzing::store_spec(data));
