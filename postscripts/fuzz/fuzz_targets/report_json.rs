//! A report read back for --retry-failed never panics, and what parses renders.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(r) = serde_json::from_slice::<postscripts::Report>(data) {
        let _ = r.render_text();
        let _ = r.not_succeeded();
    }
});
