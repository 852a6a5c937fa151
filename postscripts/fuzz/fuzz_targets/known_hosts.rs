//! known_hosts parsing and matching never panic, whatever the file holds.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let kh = postscripts::hostkeys::KnownHosts::from_text(&text, std::path::Path::new("fuzz"));
    let names = ["cn1".to_string(), "[10.0.0.1]:2222".to_string()];
    let _ = kh.check(&names, data);
    let mut blob = 11u32.to_be_bytes().to_vec();
    blob.extend_from_slice(b"ssh-ed25519");
    blob.extend_from_slice(data);
    let _ = kh.check(&names, &blob);
});
