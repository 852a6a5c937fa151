//! Computed values on arbitrary node names and values: parsing and applying must never panic
//! or hang (the Perl-expression evaluator and sprintf included).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    // First line: the node name; the rest: the value.
    let (node, value) = text.split_once('\n').unwrap_or(("cn17", text));
    if let Ok(t) = xcattab::regexval::ValueTemplate::parse(value) {
        let _ = t.apply(node);
    }
    // Also as the replacement of a pipe form, where the Perl evaluator sees it.
    let _ = xcattab::regexval::compute(node, &format!("|cn(\\d+)|{value}|"));
});
