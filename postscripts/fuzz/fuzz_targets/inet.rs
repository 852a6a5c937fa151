//! `ip addr` / `ifconfig -a` parsing never panics and yields no empty address.
#![no_main]
use libfuzzer_sys::fuzz_target;
use postscripts::{parse_inet, AddrOs};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    for os in [AddrOs::Linux, AddrOs::Aix] {
        assert!(parse_inet(&text, os).iter().all(|a| !a.is_empty()));
    }
});
