//! Values computed per node, exactly as xCAT's `transRegexAttrs` computes them.
//!
//! A table value of one of these shapes is not used as is: it is computed from the name of the
//! node whose attribute is being read (even when the value comes from a group row):
//!
//! * **slash form** `/PATTERN/REPLACEMENT/` (exactly three slashes, the last at the end): the
//!   node name with the first match of `PATTERN` replaced by the literal `REPLACEMENT`. Any
//!   ordinary value of that shape is a regex too: `/install/post/` on `n5` gives `n5`.
//! * **pipe form** `|PATTERN|REPLACEMENT|`: every top-level `( … )` group of `REPLACEMENT` is
//!   evaluated as a Perl expression under `use integer`, after `PATTERN` has been matched
//!   against the node name (so `$1`, `$2` … are its captures); the text outside the groups is
//!   literal. The part of the node name matched by `PATTERN` is then replaced by the result, so
//!   an unmatched suffix survives (`node1-ib` → `10.0.0.1-ib`). Without any group the
//!   replacement is literal (`$1` is not interpolated). `sprintf` and xCAT's helpers `a2idx`,
//!   `a2zidx`, `dim2idx`, `skip`, `ipadd`, `mknum` are available.
//! * **easy pipe form** `|REPLACEMENT|`: the pattern is generated from the node name, one
//!   `[\D0]*(\d+)` per run of digits, then `.*$` — so leading zeros are dropped.
//!
//! A result that is empty (or a lone newline) means "unset".
//!
//! ```
//! use xcattab::regexval::compute;
//! assert_eq!(compute("cn17", r"|cn(\d+)|sn(($1-1)/8+1),sn(($1-1)/8+2)|").unwrap().as_deref(), Some("sn3,sn4"));
//! assert_eq!(compute("node001", "|10.0.0.($1+0)|").unwrap().as_deref(), Some("10.0.0.1"));
//! assert_eq!(compute("n1", "/\\z/-bmc/").unwrap().as_deref(), Some("n1-bmc"));
//! assert_eq!(compute("n1", "|^.*$||").unwrap(), None);
//! assert_eq!(compute("n1", "plain").unwrap().as_deref(), Some("plain"));
//! ```
//!
//! Parse a value once with [`ValueTemplate::parse`] and [`ValueTemplate::apply`] it to many
//! nodes: patterns and expressions are compiled once.

mod perl;

use std::sync::{Arc, OnceLock};

use perl::{Expr, Scalar};

/// Why a computed value cannot be computed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegexValueError {
    /// The pattern is not a valid regular expression (xCAT dies on it too).
    #[error("invalid regular expression {pattern:?}: {reason}")]
    Pattern {
        /// The pattern.
        pattern: String,
        /// The regex engine's message.
        reason: String,
    },
    /// Matching the pattern failed (for example its backtracking limit was exceeded).
    #[error("regular expression {pattern:?} could not be matched against {node:?}: {reason}")]
    Match {
        /// The pattern.
        pattern: String,
        /// The node name.
        node: String,
        /// Why.
        reason: String,
    },
    /// The evaluation kept producing new parenthesised groups.
    #[error("the expression does not settle after {0} evaluations")]
    Runaway(usize),
}

/// Whether xCAT computes this value per node (slash or pipe form).
///
/// ```
/// use xcattab::regexval::is_computed;
/// assert!(is_computed("|\\D+(\\d+)|10.0.0.($1+0)|"));
/// assert!(is_computed("/n/sn/"));
/// assert!(is_computed("/install/post/"));
/// assert!(!is_computed("/tftpboot"));
/// assert!(!is_computed("sn1,sn2"));
/// ```
pub fn is_computed(value: &str) -> bool {
    matches!(value.as_bytes().first(), Some(b'/' | b'|'))
        && (slash_parts(value).is_some() || pipe_body(value).is_some())
}

/// Perl's `/^...$/`: `$` also matches before a final newline. Returns the text without it.
fn perl_dollar(v: &str) -> [&str; 2] {
    match v.strip_suffix('\n') {
        Some(s) => [v, s],
        None => [v, v],
    }
}

/// `/^\/[^\/]*\/[^\/]*\/$/` → (pattern, replacement) as xCAT splits them.
fn slash_parts(v: &str) -> Option<(&str, &str)> {
    let ok = perl_dollar(v).iter().any(|t| {
        let b = t.as_bytes();
        b.len() >= 3
            && b[0] == b'/'
            && b[b.len() - 1] == b'/'
            && t[1..t.len() - 1].matches('/').count() == 1
    });
    if !ok {
        return None;
    }
    // substr($attr, 1); chop — removes the last character, which is the final newline when
    // there is one.
    let exp = chop(&v[1..]);
    Some(exp.split_once('/').unwrap_or((exp, "")))
}

/// `/^\|.*\|$/` (`.` does not match a newline) → the text between the outer bars as xCAT takes
/// it (`substr($attr, 1)` then `chop`).
fn pipe_body(v: &str) -> Option<&str> {
    let ok = perl_dollar(v)
        .iter()
        .any(|t| t.len() >= 2 && t.starts_with('|') && t.ends_with('|') && !t.contains('\n'));
    if !ok {
        return None;
    }
    Some(chop(&v[1..]))
}

fn chop(s: &str) -> &str {
    match s.char_indices().next_back() {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

/// A compiled Perl-style regular expression.
#[derive(Debug, Clone)]
struct Pattern {
    source: Arc<str>,
    re: Option<Arc<Engine>>,
}

/// The regex crate for what it supports (fast, linear time), fancy-regex for back-references
/// and look-around.
#[derive(Debug)]
enum Engine {
    Std(regex::Regex),
    Fancy(fancy_regex::Regex),
}

struct Found<'n> {
    start: usize,
    end: usize,
    caps: Vec<Option<&'n str>>,
}

impl Pattern {
    fn new(source: &str) -> Result<Self, RegexValueError> {
        if source.is_empty() {
            // Perl reuses the last successful pattern for an empty one; in transRegexAttrs that
            // is the shape test on the value, which never matches a node name.
            return Ok(Pattern {
                source: Arc::from(""),
                re: None,
            });
        }
        let translated = translate(source);
        let engine = match regex::Regex::new(&translated) {
            Ok(re) => Engine::Std(re),
            Err(e) if !needs_fancy(&translated) => {
                return Err(RegexValueError::Pattern {
                    pattern: source.to_string(),
                    reason: e.to_string(),
                })
            }
            Err(_) => Engine::Fancy(
                fancy_regex::RegexBuilder::new(&translated)
                    .backtrack_limit(1_000_000)
                    .build()
                    .map_err(|e| RegexValueError::Pattern {
                        pattern: source.to_string(),
                        reason: e.to_string(),
                    })?,
            ),
        };
        Ok(Pattern {
            source: Arc::from(source),
            re: Some(Arc::new(engine)),
        })
    }

    fn find<'n>(&self, node: &'n str) -> Result<Option<Found<'n>>, RegexValueError> {
        let Some(re) = &self.re else { return Ok(None) };
        match &**re {
            Engine::Std(re) => Ok(re.captures(node).map(|c| {
                let m = c.get(0);
                Found {
                    start: m.map(|m| m.start()).unwrap_or(0),
                    end: m.map(|m| m.end()).unwrap_or(0),
                    caps: (1..c.len()).map(|i| c.get(i).map(|m| m.as_str())).collect(),
                }
            })),
            Engine::Fancy(re) => {
                let caps = re.captures(node).map_err(|e| RegexValueError::Match {
                    pattern: self.source.to_string(),
                    node: node.to_string(),
                    reason: e.to_string(),
                })?;
                Ok(caps.map(|c| {
                    let m = c.get(0);
                    Found {
                        start: m.map(|m| m.start()).unwrap_or(0),
                        end: m.map(|m| m.end()).unwrap_or(0),
                        caps: (1..c.len()).map(|i| c.get(i).map(|m| m.as_str())).collect(),
                    }
                }))
            }
        }
    }
}

/// Whether a pattern the regex crate refused uses what only fancy-regex has (back-references,
/// look-around, atomic groups); anything else is a genuine error. Long or deeply nested
/// patterns are not handed to fancy-regex's recursive parser.
fn needs_fancy(p: &str) -> bool {
    let fancy = ["(?=", "(?!", "(?<=", "(?<!", "(?>", "\\k<", "\\k{"]
        .iter()
        .any(|f| p.contains(f))
        || p.as_bytes()
            .windows(2)
            .any(|w| w[0] == b'\\' && w[1].is_ascii_digit() && w[1] != b'0');
    let mut depth = 0usize;
    let mut max = 0usize;
    for b in p.bytes() {
        match b {
            b'(' => {
                depth += 1;
                max = max.max(depth);
            }
            b')' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    fancy && p.len() <= 4096 && max <= 64
}

/// Perl regex syntax that the Rust engine spells differently.
fn translate(p: &str) -> String {
    let mut out = String::with_capacity(p.len() + 8);
    let mut chars = p.chars().peekable();
    let mut in_class = false;
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                let Some(n) = chars.next() else {
                    out.push('\\');
                    break;
                };
                match n {
                    // \Z: end of string (node names never end in a newline).
                    'Z' if !in_class => out.push_str("\\z"),
                    _ => {
                        out.push('\\');
                        out.push(n);
                    }
                }
            }
            '[' if !in_class => {
                in_class = true;
                out.push('[');
                // A leading ] (or ^]) is literal in Perl.
                if chars.peek() == Some(&'^') {
                    out.push('^');
                    chars.next();
                }
                if chars.peek() == Some(&']') {
                    out.push_str("\\]");
                    chars.next();
                }
            }
            ']' if in_class => {
                in_class = false;
                out.push(']');
            }
            _ => out.push(c),
        }
    }
    out
}

/// A raw table value, parsed once, to be computed for many nodes.
#[derive(Debug, Clone)]
pub struct ValueTemplate {
    kind: Kind,
}

#[derive(Debug, Clone)]
enum Kind {
    /// Not computed: the value itself.
    Literal(String),
    /// Slash form, or pipe form without expressions: literal replacement of the first match.
    Substitute {
        pattern: Source,
        replacement: String,
    },
    /// Pipe form with `( … )` groups.
    Evaluate {
        pattern: Source,
        replacement: Replacement,
    },
}

#[derive(Debug, Clone)]
enum Source {
    Fixed(Pattern),
    /// The easy form: generated from the node's digit runs (cached per run count).
    Easy(Arc<EasyCache>),
}

/// Easy-form patterns by number of digit runs (compiled once each).
#[derive(Debug, Default)]
struct EasyCache {
    by_count: [OnceLock<Pattern>; 16],
}

impl Source {
    fn pattern_for(&self, node: &str) -> Result<std::borrow::Cow<'_, Pattern>, RegexValueError> {
        use std::borrow::Cow;
        match self {
            Source::Fixed(p) => Ok(Cow::Borrowed(p)),
            Source::Easy(cache) => {
                let n = digit_runs(node);
                match cache.by_count.get(n) {
                    Some(cell) => {
                        if let Some(p) = cell.get() {
                            return Ok(Cow::Borrowed(p));
                        }
                        let p = Pattern::new(&easy_pattern(n))?;
                        Ok(Cow::Borrowed(cell.get_or_init(|| p)))
                    }
                    None => Ok(Cow::Owned(Pattern::new(&easy_pattern(n))?)),
                }
            }
        }
    }
}

fn easy_pattern(n: usize) -> String {
    let mut s = r"[\D0]*(\d+)".repeat(n);
    s.push_str(".*$");
    s
}

/// How many times `m/[\D0]*(\d+)/g` matches the node name (the number of digit runs).
fn digit_runs(node: &str) -> usize {
    static RE: OnceLock<Option<regex::Regex>> = OnceLock::new();
    match RE.get_or_init(|| regex::Regex::new(r"[\D0]*(\d+)").ok()) {
        Some(re) => re.find_iter(node).count(),
        None => 0,
    }
}

/// The replacement of the expression form, pre-split at its top-level groups as
/// Text::Balanced's `extract_bracketed` finds them.
#[derive(Debug, Clone)]
struct Replacement {
    /// The raw replacement text.
    text: String,
    /// `(literal before, group text, compiled group)` in order, then the remaining text.
    groups: Vec<(String, String, Option<Arc<Expr>>)>,
    tail: String,
}

/// `extract_bracketed($text, '()', qr/[^()]*/)` in list context: (group, remainder, prefix).
fn extract_bracketed(text: &str) -> Option<(&str, &str, &str)> {
    let b = text.as_bytes();
    let open = b.iter().position(|&c| c == b'(' || c == b')')?;
    if b[open] != b'(' {
        return None;
    }
    let mut depth = 0usize;
    let mut i = open;
    while i < b.len() {
        match b[i] {
            b'\\' if i + 1 < b.len() => {
                // An escaped character (any, including a bracket) is skipped.
                i += 1 + utf8_len(b[i + 1]);
                continue;
            }
            b'(' => depth += 1,
            b')' => {
                depth -= 1;
                if depth == 0 {
                    return Some((&text[open..=i], &text[i + 1..], &text[..open]));
                }
            }
            _ => {}
        }
        i += 1;
    }
    None
}

fn utf8_len(first: u8) -> usize {
    match first {
        0xF0..=0xFF => 4,
        0xE0..=0xEF => 3,
        0xC0..=0xDF => 2,
        _ => 1,
    }
}

impl Replacement {
    fn new(text: &str) -> Option<Self> {
        extract_bracketed(text)?;
        let mut groups = Vec::new();
        let mut rest = text;
        while let Some((group, remainder, prefix)) = extract_bracketed(rest) {
            let compiled = perl::compile(group).ok().map(Arc::new);
            groups.push((prefix.to_string(), group.to_string(), compiled));
            rest = remainder;
        }
        Some(Replacement {
            text: text.to_string(),
            groups,
            tail: rest.to_string(),
        })
    }
}

/// The limit on re-evaluations when evaluated groups produce new groups.
const MAX_ROUNDS: usize = 10_000;

impl ValueTemplate {
    /// Parses a raw value (any value: non-computed ones apply as themselves).
    pub fn parse(raw: &str) -> Result<Self, RegexValueError> {
        if let Some((pat, repl)) = slash_parts(raw) {
            return Ok(ValueTemplate {
                kind: Kind::Substitute {
                    pattern: Source::Fixed(Pattern::new(pat)?),
                    replacement: repl.to_string(),
                },
            });
        }
        let Some(body) = pipe_body(raw) else {
            return Ok(ValueTemplate {
                kind: Kind::Literal(raw.to_string()),
            });
        };
        // split('\|', $exp, 2): an empty body gives no fields at all.
        let (pattern, replacement) = match body.split_once('|') {
            Some((p, r)) => (Source::Fixed(Pattern::new(p)?), r),
            None if body.is_empty() => (Source::Easy(Arc::default()), ""),
            None => (Source::Easy(Arc::default()), body),
        };
        let kind = match Replacement::new(replacement) {
            Some(r) => Kind::Evaluate {
                pattern,
                replacement: r,
            },
            None => Kind::Substitute {
                pattern,
                replacement: replacement.to_string(),
            },
        };
        Ok(ValueTemplate { kind })
    }

    /// Whether the value is computed per node.
    pub fn is_computed(&self) -> bool {
        !matches!(self.kind, Kind::Literal(_))
    }

    /// The value for `node`; `None` when the result is empty (the attribute is then unset).
    pub fn apply(&self, node: &str) -> Result<Option<String>, RegexValueError> {
        let out = match &self.kind {
            Kind::Literal(v) => v.clone(),
            Kind::Substitute {
                pattern,
                replacement,
            } => {
                let p = pattern.pattern_for(node)?;
                match p.find(node)? {
                    Some(f) => splice(node, &f, replacement),
                    None => node.to_string(),
                }
            }
            Kind::Evaluate {
                pattern,
                replacement,
            } => {
                let p = pattern.pattern_for(node)?;
                match p.find(node)? {
                    // Without a match every evaluation sees the bare node name, and the final
                    // substitution does not happen: the result is the node name.
                    None => node.to_string(),
                    Some(f) => {
                        let value = evaluate(node, &f, replacement)?;
                        splice(node, &f, &value)
                    }
                }
            }
        };
        Ok(if out.is_empty() || out == "\n" {
            None
        } else {
            Some(out)
        })
    }
}

fn splice(node: &str, f: &Found<'_>, with: &str) -> String {
    let mut s = String::with_capacity(node.len() + with.len());
    s.push_str(&node[..f.start]);
    s.push_str(with);
    s.push_str(&node[f.end..]);
    s
}

/// Evaluates one group as xCAT does: the node name with the match replaced by the group's text,
/// evaluated as Perl; any compile or run-time error gives the empty string. `compiled` is the
/// group compiled beforehand, if it was (`Some(None)`: it does not compile).
fn eval_group(node: &str, f: &Found<'_>, group: &str, compiled: Option<Option<&Expr>>) -> String {
    let whole = f.start == 0 && f.end == node.len();
    let result = match (whole, compiled) {
        (true, Some(Some(e))) => perl::eval(e, &f.caps),
        (true, Some(None)) => return String::new(),
        _ => {
            let src = splice(node, f, group);
            perl::compile(&src).and_then(|e| perl::eval(&e, &f.caps))
        }
    };
    result.map(|s: Scalar| s.to_str()).unwrap_or_default()
}

fn evaluate(node: &str, f: &Found<'_>, r: &Replacement) -> Result<String, RegexValueError> {
    // Fast path: the pre-split groups, as long as no evaluated value contains a bracket (which
    // would change where the next group starts).
    let mut done = String::with_capacity(r.text.len() + 16);
    for (k, (prefix, group, compiled)) in r.groups.iter().enumerate() {
        done.push_str(prefix);
        let v = eval_group(node, f, group, Some(compiled.as_deref()));
        let has_bracket = v.contains(['(', ')']);
        done.push_str(&v);
        if has_bracket {
            // Continue exactly as xCAT's loop does, on the re-assembled text.
            let mut rest = String::new();
            for (p, g, _) in &r.groups[k + 1..] {
                rest.push_str(p);
                rest.push_str(g);
            }
            rest.push_str(&r.tail);
            return evaluate_slow(node, f, done + &rest);
        }
    }
    done.push_str(&r.tail);
    Ok(done)
}

fn evaluate_slow(node: &str, f: &Found<'_>, mut text: String) -> Result<String, RegexValueError> {
    for _ in 0..MAX_ROUNDS {
        let Some((group, next, prev)) = extract_bracketed(&text) else {
            return Ok(text);
        };
        let v = eval_group(node, f, group, None);
        text = format!("{prev}{v}{next}");
    }
    Err(RegexValueError::Runaway(MAX_ROUNDS))
}

/// Computes `value` for `node` (xCAT's `transRegexAttrs`). `None`: the attribute is unset.
pub fn compute(node: &str, value: &str) -> Result<Option<String>, RegexValueError> {
    ValueTemplate::parse(value)?.apply(node)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes() {
        assert_eq!(slash_parts("/a/b/"), Some(("a", "b")));
        assert_eq!(slash_parts("/a/b/\n"), Some(("a", "b/")));
        assert_eq!(slash_parts("/x/"), None);
        assert_eq!(slash_parts("/a/b/c/"), None);
        assert_eq!(pipe_body("|a|b|"), Some("a|b"));
        assert_eq!(pipe_body("||"), Some(""));
        assert_eq!(pipe_body("|"), None);
        assert_eq!(pipe_body("|a\nb|"), None);
        assert_eq!(pipe_body("|x|\n"), Some("x|"));
    }

    #[test]
    fn bracket_extraction() {
        assert_eq!(extract_bracketed("a(b)c"), Some(("(b)", "c", "a")));
        assert_eq!(
            extract_bracketed("a((b)(c))d(e)"),
            Some(("((b)(c))", "d(e)", "a"))
        );
        assert_eq!(extract_bracketed("a)b(c)"), None);
        assert_eq!(extract_bracketed("a(b"), None);
        assert_eq!(extract_bracketed(r"a(\)b)c"), Some((r"(\)b)", "c", "a")));
        assert_eq!(extract_bracketed("abc"), None);
    }

    #[test]
    fn easy_patterns() {
        assert_eq!(digit_runs("node01a02"), 2);
        assert_eq!(digit_runs("cn"), 0);
        assert_eq!(digit_runs("a00"), 1);
    }
}

/// Every example of tables.md §3.3 (results verified there by running xCAT's function).
#[cfg(test)]
mod spec_examples {
    use super::compute;

    fn c(node: &str, value: &str) -> Option<String> {
        compute(node, value).unwrap()
    }

    #[test]
    fn slash_form() {
        assert_eq!(c("n1", r"/\z/-bmc/").as_deref(), Some("n1-bmc"));
        assert_eq!(c("n1", "/n/sn/").as_deref(), Some("sn1"));
        assert_eq!(c("n5", "/install/post/").as_deref(), Some("n5"));
        assert_eq!(c("n5", "/tftpboot").as_deref(), Some("/tftpboot"));
        assert_eq!(c("n5", "/x/").as_deref(), Some("/x/"));
    }

    #[test]
    fn pipe_form_table() {
        let rows: &[(&str, &str, Option<&str>)] = &[
            ("node001", r"|\D+(\d+)|10.0.0.($1+0)|", Some("10.0.0.1")),
            ("node1-ib", r"|\D+(\d+)|10.0.0.($1+0)|", Some("10.0.0.1-ib")),
            ("node1-ib", r"|\D+(\d+).*$|10.0.0.($1+0)|", Some("10.0.0.1")),
            (
                "node85",
                r"|\D+(\d+).*$|172.20.(101+(($1-1)/84)).(($1-1)%84+1)|",
                Some("172.20.102.1"),
            ),
            (
                "cn17",
                r"|cn(\d+)|sn(($1-1)/8+1),sn(($1-1)/8+2)|",
                Some("sn3,sn4"),
            ),
            (
                "c01f02x03v04",
                r"|\D+(\d+)\D+(\d+)\D+(\d+)\D+(\d+)|c($1)f($2)x($3)|",
                Some("c01f02x03"),
            ),
            (
                "node20",
                r"|\D+(\d+)|cmm(sprintf('%02d',($1-1)/14+1))|",
                Some("cmm02"),
            ),
            ("node5", "|node|sn|", Some("sn5")),
            ("node5", r"|\D+(\d+)|sn$1|", Some("sn$1")),
            ("cn7", r"|sn(\d+)|x($1)|", Some("cn7")),
            ("n1", "|^.*$||", None),
        ];
        for (node, value, want) in rows {
            assert_eq!(c(node, value).as_deref(), *want, "{node} {value}");
        }
    }

    #[test]
    fn easy_form() {
        assert_eq!(c("node001", "|10.0.0.($1+0)|").as_deref(), Some("10.0.0.1"));
        assert_eq!(c("cn07", "|sn($1)|").as_deref(), Some("sn7"));
        assert_eq!(c("node01a02", "|sn($1)-($2+0)|").as_deref(), Some("sn1-2"));
        assert_eq!(c("cn7", "|sn1|").as_deref(), Some("sn1"));
    }

    #[test]
    fn helpers_from_regexp_db_rst() {
        assert_eq!(c("n1", "|n(\\d+)|(a2idx('b'))|").as_deref(), Some("2"));
        assert_eq!(c("n1", "|n(\\d+)|(a2zidx('b'))|").as_deref(), Some("1"));
        assert_eq!(
            c("n1", "|n(\\d+)|(dim2idx(2, 10, 3, 8, 4, 8, 5))|").as_deref(),
            Some("797")
        );
        assert_eq!(
            c("n1", "|n(\\d+)|(skip(10, '3:2,6'))|").as_deref(),
            Some("7")
        );
        assert_eq!(
            c("n1", "|n(\\d+)|(ipadd(10, 10, 10, 10, 246, 0, 0))|").as_deref(),
            Some("10.10.11.0")
        );
        assert_eq!(
            c("n1", "|n(\\d+)|(mknum('free')-mknum('fred'))|").as_deref(),
            Some("1")
        );
    }
}

#[cfg(test)]
mod limits {
    use super::compute;

    #[test]
    fn deep_nesting_is_an_error_or_empty_not_a_crash() {
        let deep = format!("|n(\\d+)|x{}1{}|", "(".repeat(100_000), ")".repeat(100_000));
        // The expression is too deep to evaluate: the group gives the empty string, as a Perl
        // compile error would.
        assert_eq!(compute("n1", &deep).unwrap().as_deref(), Some("x"));
        let pattern = format!("|{}n{}|x|", "(".repeat(50_000), ")".repeat(50_000));
        assert!(compute("n1", &pattern).is_err());
        let backref = r"|(a)\1(\d)|($2)|";
        assert_eq!(compute("aa1", backref).unwrap().as_deref(), Some("1"));
    }
}
