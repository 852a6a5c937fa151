//! The step-marker parser never panics, and never loses a byte of a line that has no marker.
#![no_main]
use libfuzzer_sys::fuzz_target;
use postscripts::script::{Demux, Parsed, Stream};

fuzz_target!(|data: &[u8]| {
    let mut d = Demux::new("tok");
    let mut n = 0usize;
    let (a, b) = data.split_at(data.len() / 2);
    d.feed(Stream::Stdout, a, &mut |p| {
        if let Parsed::Line { .. } = p {
            n += 1
        }
    });
    d.feed(Stream::Stderr, b, &mut |_| {});
    d.feed(Stream::Stdout, b":PSRUN_tok:E:1:", &mut |_| {});
    d.finish(&mut |_| {});
});
