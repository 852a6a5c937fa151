//! Perl regular expressions, as far as noderanges use them, on top of `fancy-regex`
//! (backtracking: back-references and look-around work).
//!
//! Differences from Perl that remain: Unicode classes (`\d`, `\w`) also match non-ASCII
//! digits and letters; Perl-only syntax such as `\Q…\E`, `(?{ code })`, `\G` is refused
//! as an invalid pattern. `$` and `\Z` keep Perl's meaning (end, or before a final newline).

use crate::Error;

/// A compiled Perl-style pattern, as noderange elements (`/re`, `=~`) use them; also for
/// callers that evaluate xCAT's `attr=~value` filters the same way (`nodels`).
///
/// ```
/// use noderange::PerlRegex;
/// let r = PerlRegex::new("^node1.*$").unwrap();
/// assert!(r.is_match("node10").unwrap());
/// assert!(PerlRegex::new("[").is_err());
/// ```
#[derive(Debug, Clone)]
pub struct PerlRegex {
    re: fancy_regex::Regex,
    shown: String,
}

impl PerlRegex {
    /// Compiles `pattern` (errors name it as written).
    pub fn new(pattern: &str) -> Result<Self, Error> {
        Self::named(pattern, pattern)
    }

    /// Compiles `pattern`; `shown` is how errors name it.
    pub(crate) fn named(pattern: &str, shown: &str) -> Result<Self, Error> {
        let translated = translate(pattern);
        let re = fancy_regex::RegexBuilder::new(&translated)
            .backtrack_limit(10_000_000)
            .build()
            .map_err(|e| Error::Regex {
                pattern: shown.to_string(),
                message: e.to_string(),
            })?;
        Ok(PerlRegex {
            re,
            shown: shown.to_string(),
        })
    }

    /// Does the pattern match somewhere in `text`?
    pub fn is_match(&self, text: &str) -> Result<bool, Error> {
        self.re.is_match(text).map_err(|e| Error::Regex {
            pattern: self.shown.clone(),
            message: e.to_string(),
        })
    }
}

/// Rewrites the few constructs whose meaning differs between Perl and fancy-regex.
fn translate(p: &str) -> String {
    // Capturing groups, roughly: `(` not followed by `?` and not escaped.
    let groups = {
        let b = p.as_bytes();
        (0..b.len())
            .filter(|&i| {
                b[i] == b'(' && (i == 0 || b[i - 1] != b'\\') && b.get(i + 1) != Some(&b'?')
            })
            .count()
    };
    let mut out = String::with_capacity(p.len() + 8);
    let mut chars = p.chars().peekable();
    let mut in_class = false;
    let mut class_start = false;
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                let Some(n) = chars.next() else {
                    out.push('\\');
                    break;
                };
                if n.is_ascii_digit() {
                    // \1..\9 are back-references; a longer number is one only if that many
                    // groups exist, otherwise (and after \0) up to three octal digits.
                    let mut digits = String::from(n);
                    while let Some(d) = chars.peek().copied().filter(char::is_ascii_digit) {
                        digits.push(d);
                        chars.next();
                    }
                    let value: usize = digits.parse().unwrap_or(usize::MAX);
                    if n != '0' && (digits.len() == 1 || value <= groups) && !in_class {
                        out.push('\\');
                        out.push_str(&digits);
                    } else {
                        let oct: String = digits.chars().take_while(|c| *c < '8').take(3).collect();
                        let code = u32::from_str_radix(&oct, 8).unwrap_or(0);
                        out.push_str(&format!("\\x{{{code:x}}}"));
                        out.push_str(&digits[oct.len()..]);
                    }
                } else if !in_class && n == 'Z' {
                    out.push_str(r"(?=\n?\z)");
                } else if n.is_ascii_alphabetic() && !"dDwWsSbBAzntrfvxpPe".contains(n) {
                    // Perl reads an unknown letter escape as the letter itself.
                    out.push(n);
                } else {
                    out.push('\\');
                    out.push(n);
                }
                class_start = false;
                continue;
            }
            '[' if !in_class => {
                in_class = true;
                class_start = true;
                out.push(c);
                if chars.peek() == Some(&'^') {
                    out.push('^');
                    chars.next();
                }
                continue;
            }
            ']' if in_class && !class_start => in_class = false,
            // Inside a Perl class `[` is literal (unless it opens `[:name:]`) and `&&`, `~~`
            // are not set operations.
            '[' if in_class => {
                if chars.peek() == Some(&':') {
                    out.push('[');
                    for d in chars.by_ref() {
                        out.push(d);
                        if d == ']' {
                            break;
                        }
                    }
                } else {
                    out.push_str(r"\[");
                }
                class_start = false;
                continue;
            }
            '&' | '~' if in_class => {
                out.push('\\');
                out.push(c);
                class_start = false;
                continue;
            }
            '$' if !in_class => {
                out.push_str(r"(?=\n?\z)");
                continue;
            }
            _ => {}
        }
        class_start = false;
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn perl_dollar_and_classes() {
        let r = PerlRegex::named("^node1.*$", "node1.*").unwrap();
        assert!(r.is_match("node10").unwrap());
        assert!(r.is_match("node1\n").unwrap());
        assert!(!r.is_match("xnode1").unwrap());
        let r = PerlRegex::named("^n[]$]$", "").unwrap();
        assert!(r.is_match("n$").unwrap());
        assert!(r.is_match("n]").unwrap());
        let r = PerlRegex::named(r"^(a)\1$", "").unwrap();
        assert!(r.is_match("aa").unwrap());
        assert!(PerlRegex::named("^[$", "[").is_err());
        let r = PerlRegex::named(r"^\1007$", "").unwrap();
        assert!(r.is_match("@7").unwrap());
        let r = PerlRegex::named(r"^f.*\mgmt$", "").unwrap();
        assert!(r.is_match("f1mgmt").unwrap());
        let r = PerlRegex::named("^[/node[0-9]$", "").unwrap();
        assert!(r.is_match("[").unwrap());
        assert!(r.is_match("7").unwrap());
        let r = PerlRegex::named("^[[:alpha:]&&]+$", "").unwrap();
        assert!(r.is_match("ab&").unwrap());
    }
}
