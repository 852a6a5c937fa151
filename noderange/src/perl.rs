//! Small, exact emulations of the Perl built-ins that xCAT's `NodeRange.pm` relies on.
//!
//! The noderange language is defined by what Perl does with a handful of regular
//! expressions, `split`, the range operator `..` and numeric conversion. Each helper here
//! reproduces one of those behaviours on its own so that the evaluator can follow the
//! structure of `NodeRange.pm` line by line.

use crate::Error;

/// Perl's `$` at the end of a pattern: the end of the string, or just before a final `"\n"`.
/// Returns the string without that one optional final newline.
pub(crate) fn before_final_newline(s: &str) -> &str {
    s.strip_suffix('\n').unwrap_or(s)
}

/// `s =~ /X$/` for a literal suffix `X`.
pub(crate) fn ends_with_dollar(s: &str, suffix: &str) -> bool {
    s.ends_with(suffix) || (s.ends_with('\n') && before_final_newline(s).ends_with(suffix))
}

/// `s =~ s/X$//` for a literal suffix `X` (the final newline, if any, is kept).
pub(crate) fn remove_suffix_dollar(s: &mut String, suffix: &str) {
    if s.ends_with(suffix) {
        s.truncate(s.len() - suffix.len());
    } else if s.ends_with('\n') {
        let body = &s[..s.len() - 1];
        if body.ends_with(suffix) {
            let cut = body.len() - suffix.len();
            s.replace_range(cut..s.len() - 1, "");
        }
    }
}

/// Perl `split` without a limit: drops trailing empty fields (leading ones are kept).
pub(crate) fn drop_trailing_empty(fields: &mut Vec<String>) {
    while fields.last().is_some_and(|f| f.is_empty()) {
        fields.pop();
    }
}

/// Perl `split /(D)/, s` where `D` is one of the characters accepted by `is_sep`, the
/// separator being captured: `field, sep, field, sep, …`, trailing empty fields dropped.
pub(crate) fn split_keep_chars(s: &str, is_sep: impl Fn(char) -> bool) -> Vec<String> {
    let mut out = Vec::new();
    let mut start = 0;
    for (i, c) in s.char_indices() {
        if is_sep(c) {
            out.push(s[start..i].to_string());
            out.push(c.to_string());
            start = i + c.len_utf8();
        }
    }
    out.push(s[start..].to_string());
    drop_trailing_empty(&mut out);
    out
}

/// Perl `split /,/, s` (no capture, no limit).
pub(crate) fn split_commas(s: &str) -> Vec<String> {
    if s.is_empty() {
        return Vec::new();
    }
    let mut out: Vec<String> = s.split(',').map(str::to_string).collect();
    drop_trailing_empty(&mut out);
    out
}

/// Perl `split(/(\d+)/, s)`: alternating non-digit / digit runs, a leading empty field when
/// `s` starts with a digit, trailing empty fields dropped, `()` for the empty string.
pub(crate) fn split_digit_runs(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let b = s.as_bytes();
    let mut start = 0;
    let mut i = 0;
    while i < b.len() {
        if b[i].is_ascii_digit() {
            let run_start = i;
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
            out.push(&s[start..run_start]);
            out.push(&s[run_start..i]);
            start = i;
        } else {
            i += 1;
        }
    }
    out.push(&s[start..]);
    while out.last().is_some_and(|f| f.is_empty()) {
        out.pop();
    }
    out
}

/// A Perl scalar after numeric conversion: an integer (IV) or a float (NV).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Num {
    Int(i128),
    Float(f64),
}

/// Perl's numeric value of a string (`grok_number` then `atof`): leading white space, an
/// optional sign, digits, an optional fraction and exponent, `Inf`/`NaN`; anything after the
/// number is ignored; a string that does not start with a number is 0.
pub(crate) fn numify(s: &str) -> Num {
    let t = s.trim_start_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c']);
    let b = t.as_bytes();
    let mut i = 0;
    let mut neg = false;
    if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
        neg = b[i] == b'-';
        i += 1;
    }
    let rest = &t[i..];
    let lower = rest.get(..3).map(|p| p.to_ascii_lowercase());
    if lower.as_deref() == Some("inf") {
        return Num::Float(if neg {
            f64::NEG_INFINITY
        } else {
            f64::INFINITY
        });
    }
    if lower.as_deref() == Some("nan") {
        return Num::Float(f64::NAN);
    }
    let int_start = i;
    while i < b.len() && b[i].is_ascii_digit() {
        i += 1;
    }
    let int_end = i;
    let mut is_float = false;
    if i < b.len() && b[i] == b'.' {
        let mut j = i + 1;
        while j < b.len() && b[j].is_ascii_digit() {
            j += 1;
        }
        if j > i + 1 || int_end > int_start {
            is_float = j > i + 1 || is_float;
            i = j;
        }
    }
    if int_end == int_start && !is_float {
        return Num::Int(0);
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        let mut j = i + 1;
        if j < b.len() && (b[j] == b'+' || b[j] == b'-') {
            j += 1;
        }
        let exp_digits = j;
        while j < b.len() && b[j].is_ascii_digit() {
            j += 1;
        }
        if j > exp_digits {
            is_float = true;
            i = j;
        }
    }
    if !is_float {
        let digits = &t[int_start..int_end];
        if digits.len() <= 20 {
            if let Ok(v) = digits.parse::<u64>() {
                let v = v as i128;
                return Num::Int(if neg { -v } else { v });
            }
        }
    }
    let text = &t[int_start..i];
    let v: f64 = text.parse().unwrap_or(0.0);
    Num::Float(if neg { -v } else { v })
}

const IV_MAX: i128 = i64::MAX as i128;
const IV_MIN: i128 = i64::MIN as i128;

/// Perl's `$a + $b` on two numbers (integer while it fits, else floating point).
pub(crate) fn add(a: Num, b: Num) -> Num {
    match (a, b) {
        (Num::Int(x), Num::Int(y)) => {
            let s = x + y;
            if (IV_MIN..=u64::MAX as i128).contains(&s) {
                Num::Int(s)
            } else {
                Num::Float(s as f64)
            }
        }
        (x, y) => Num::Float(to_f64(x) + to_f64(y)),
    }
}

fn to_f64(n: Num) -> f64 {
    match n {
        Num::Int(i) => i as f64,
        Num::Float(f) => f,
    }
}

/// Perl's `sprintf("%d", n)` (`%0Wd` when `width` is given), including its conversion of
/// out-of-range floats (`I_V`) and its spelling of infinities.
pub(crate) fn sprintf_d(n: Num, width: usize) -> String {
    let iv: i128 = match n {
        Num::Int(i) => {
            if i > IV_MAX {
                // a UV printed with %d is reinterpreted as an IV
                (i as u64) as i64 as i128
            } else {
                i
            }
        }
        Num::Float(f) => {
            if f.is_nan() {
                return "NaN".to_string();
            }
            if f.is_infinite() {
                return if f > 0.0 { "Inf" } else { "-Inf" }.to_string();
            }
            if f < i64::MIN as f64 {
                IV_MIN
            } else if f < 9_223_372_036_854_775_808.0 {
                f.trunc() as i64 as i128
            } else if f < 18_446_744_073_709_551_616.0 {
                (f as u64) as i64 as i128
            } else {
                -1
            }
        }
    };
    if iv < 0 {
        let digits = (-iv).to_string();
        let pad = width.saturating_sub(digits.len() + 1);
        format!("-{}{}", "0".repeat(pad), digits)
    } else {
        let digits = iv.to_string();
        let pad = width.saturating_sub(digits.len());
        format!("{}{}", "0".repeat(pad), digits)
    }
}

/// Does Perl consider this string a number (`looks_like_number`)? Only the forms that the
/// evaluator can produce are relevant: optional sign and digits, `Inf`, `NaN`.
fn looks_like_number(s: &str) -> bool {
    let t = s.strip_prefix('-').unwrap_or(s);
    (!t.is_empty() && t.bytes().all(|c| c.is_ascii_digit()))
        || t.eq_ignore_ascii_case("inf")
        || t.eq_ignore_ascii_case("nan")
}

/// Perl's magical string increment of a string of digits: `"09"` → `"10"`, `"99"` → `"100"`.
pub(crate) fn magic_increment(s: &mut Vec<u8>) {
    let mut i = s.len();
    while i > 0 {
        i -= 1;
        if s[i] < b'9' {
            s[i] += 1;
            return;
        }
        s[i] = b'0';
    }
    s.insert(0, b'1');
}

/// How many values the range `l .. r` yields, without producing them (saturating).
/// `None` when Perl dies with "Range iterator outside integer range".
pub(crate) fn range_len(l: &str, r: &str) -> Result<u128, Error> {
    match range_mode(l, r)? {
        Mode::Numeric(a, b) => Ok(if a > b { 0 } else { (b - a + 1) as u128 }),
        Mode::Str => Ok(string_range_len(l, r)),
    }
}

/// The values of `l .. r` for two digit strings, as (first, last, width): value `v` is
/// written with at least `width` digits (zero-padded), 0 meaning unpadded. `None` when the
/// range is not a plain digit range (or is too large to describe).
pub(crate) fn digit_range(l: &str, r: &str) -> Option<(u128, u128, usize)> {
    if l.is_empty() || r.is_empty() || l.len() > 30 || r.len() > 30 {
        return None;
    }
    if !l.bytes().chain(r.bytes()).all(|c| c.is_ascii_digit()) {
        return None;
    }
    match range_mode(l, r).ok()? {
        Mode::Numeric(a, b) => Some((a as u128, b as u128, 0)),
        Mode::Str => {
            let n = string_range_len(l, r);
            if n == 0 {
                return None;
            }
            let start = parse_u128_sat(l);
            Some((start, start + n - 1, l.len()))
        }
    }
}

enum Mode {
    Numeric(i128, i128),
    Str,
}

fn range_mode(l: &str, r: &str) -> Result<Mode, Error> {
    // RANGE_IS_NUMERIC: the left side looks like a number and does not start with "0"
    // (a lone "0" counts as a number since Perl 5.30), and the right side looks like one.
    let numeric = looks_like_number(l) && (!l.starts_with('0') || l == "0") && looks_like_number(r);
    if !numeric {
        return Ok(Mode::Str);
    }
    let parse = |s: &str| -> Option<i128> {
        let (neg, d) = match s.strip_prefix('-') {
            Some(d) => (true, d),
            None => (false, s),
        };
        let d = d.trim_start_matches('0');
        if d.len() > 20 || !d.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        }
        let v: i128 = if d.is_empty() { 0 } else { d.parse().ok()? };
        let v = if neg { -v } else { v };
        (IV_MIN..=IV_MAX).contains(&v).then_some(v)
    };
    match (parse(l), parse(r)) {
        (Some(a), Some(b)) => Ok(Mode::Numeric(a, b)),
        _ => Err(Error::RangeIterator),
    }
}

fn string_range_len(l: &str, r: &str) -> u128 {
    if l.len() > r.len() {
        return 0;
    }
    if l.is_empty() {
        return 1;
    }
    if !l.bytes().all(|c| c.is_ascii_digit()) {
        return 1;
    }
    let width = l.len();
    let start = parse_u128_sat(l);
    // The sequence meets r only if r is a string of digits that the increments produce.
    let r_digits = r.bytes().all(|c| c.is_ascii_digit()) && !r.is_empty();
    if r_digits {
        let rv = parse_u128_sat(r);
        let natural_len = if rv == 0 { 1 } else { rv.ilog10() as usize + 1 };
        let produced = if natural_len >= width {
            natural_len == r.len()
        } else {
            r.len() == width
        };
        if produced && rv >= start {
            return rv - start + 1;
        }
    }
    // Otherwise it runs until the values grow longer than r.
    let limit = pow10_sat(r.len()).saturating_sub(1);
    if limit < start {
        0
    } else {
        limit - start + 1
    }
}

fn parse_u128_sat(s: &str) -> u128 {
    let mut v: u128 = 0;
    for c in s.bytes() {
        v = v.saturating_mul(10).saturating_add(u128::from(c - b'0'));
    }
    v
}

fn pow10_sat(n: usize) -> u128 {
    let mut v: u128 = 1;
    for _ in 0..n {
        v = v.saturating_mul(10);
    }
    v
}

/// Perl's range operator `l .. r` on two strings, as used by `NodeRange.pm`: numeric when
/// the left side is a plain number, else the magical string increment (which keeps the
/// zero padding and stops at `r` or when the values grow longer than `r`).
/// `emit` receives each value; the caller checks [`range_len`] against its limits first.
pub(crate) fn for_each_in_range(
    l: &str,
    r: &str,
    mut emit: impl FnMut(&str) -> Result<(), Error>,
) -> Result<(), Error> {
    match range_mode(l, r)? {
        Mode::Numeric(a, b) => {
            let mut buf = String::new();
            let mut i = a;
            while i <= b {
                buf.clear();
                use std::fmt::Write;
                let _ = write!(buf, "{i}");
                emit(&buf)?;
                i += 1;
            }
            Ok(())
        }
        Mode::Str => {
            if l.len() > r.len() {
                return Ok(());
            }
            if l.is_empty() || !l.bytes().all(|c| c.is_ascii_digit()) {
                // Not a magical-increment sequence (or the empty string): only the start.
                return emit(l);
            }
            let mut s: Vec<u8> = l.as_bytes().to_vec();
            while s.len() <= r.len() {
                // Digits only: always valid UTF-8.
                let text = std::str::from_utf8(&s).unwrap_or_default();
                emit(text)?;
                if text == r {
                    break;
                }
                magic_increment(&mut s);
            }
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn range(l: &str, r: &str) -> Vec<String> {
        let mut v = Vec::new();
        for_each_in_range(l, r, |s| {
            v.push(s.to_string());
            Ok(())
        })
        .unwrap();
        assert_eq!(v.len() as u128, range_len(l, r).unwrap(), "{l}..{r}");
        v
    }

    #[test]
    fn perl_range_numeric_and_padded() {
        assert_eq!(range("1", "03"), ["1", "2", "3"]);
        assert_eq!(range("3", "1"), Vec::<String>::new());
        assert_eq!(range("9", "11"), ["9", "10", "11"]);
        assert_eq!(range("08", "10"), ["08", "09", "10"]);
        assert_eq!(range("098", "101"), ["098", "099", "100", "101"]);
        assert!(range("01", "5").is_empty());
        assert!(range("00", "3").is_empty());
        assert_eq!(range("05", "03").len(), 95);
        assert_eq!(range("0", "03"), ["0", "1", "2", "3"]);
        assert_eq!(range("", "2"), [""]);
        assert_eq!(range("1", "-1"), Vec::<String>::new());
        assert_eq!(range("05", "02").last().map(String::as_str), Some("99"));
    }

    #[test]
    fn perl_range_outside_integer_range() {
        assert!(matches!(
            range_len("1", "99999999999999999999"),
            Err(Error::RangeIterator)
        ));
        assert!(matches!(
            range_len("99999999999999999999", "1"),
            Err(Error::RangeIterator)
        ));
        assert_eq!(
            range_len("1", "9223372036854775807").unwrap(),
            9223372036854775807
        );
    }

    #[test]
    fn perl_numify() {
        assert_eq!(numify("1-node3+1"), Num::Int(1));
        assert_eq!(numify("abc"), Num::Int(0));
        assert_eq!(numify(""), Num::Int(0));
        assert_eq!(numify(" 5x"), Num::Int(5));
        assert_eq!(numify("1e1"), Num::Float(10.0));
        assert_eq!(numify("0.5"), Num::Float(0.5));
        assert_eq!(numify("-3"), Num::Int(-3));
        assert!(matches!(numify("inf"), Num::Float(f) if f.is_infinite()));
        assert_eq!(sprintf_d(Num::Float(1e30), 0), "-1");
        assert_eq!(sprintf_d(Num::Float(1e19), 0), "-8446744073709551616");
        assert_eq!(sprintf_d(Num::Float(-1e30), 0), "-9223372036854775808");
        assert_eq!(sprintf_d(Num::Float(2.7), 0), "2");
        assert_eq!(sprintf_d(Num::Int(-2), 3), "-02");
        assert_eq!(sprintf_d(Num::Int(11), 3), "011");
    }

    #[test]
    fn perl_split_helpers() {
        assert_eq!(split_digit_runs("f1n10"), ["f", "1", "n", "10"]);
        assert_eq!(split_digit_runs("1a"), ["", "1", "a"]);
        assert!(split_digit_runs("").is_empty());
        assert_eq!(
            split_keep_chars("1-3,5", |c| matches!(c, ',' | '-' | ':')),
            ["1", "-", "3", ",", "5"]
        );
        assert_eq!(split_keep_chars("1-", |c| c == '-'), ["1", "-"]);
        assert_eq!(split_commas("a,,b,,"), ["a", "", "b"]);
        let mut s = "a,-\n".to_string();
        remove_suffix_dollar(&mut s, ",-");
        assert_eq!(s, "a\n");
    }
}
