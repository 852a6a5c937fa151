//! A small evaluator for the Perl expressions found in computed table values.
//!
//! xCAT evaluates every top-level `( … )` group of a pipe-form replacement as Perl code, in a
//! `Safe` compartment, under `use integer` (see [`super`]). The code it evaluates is the node
//! name with the matched part replaced by the group, so besides the arithmetic people write
//! (`($1-1)/8+1`, `sprintf('%02d',$1)`, `ipadd(10,0,0,0,$1,1,1)`) it also meets whatever the
//! unmatched rest of the node name looks like as Perl (`($1+0)-ib` is `1 - "ib"`).
//!
//! This module implements the subset of Perl that such code uses: numbers, strings (single and
//! double quoted with `$1`-style interpolation), the capture variables, barewords, the
//! arithmetic, string, comparison, logical, bitwise and conditional operators with Perl's
//! precedence, `use integer` semantics, `sprintf`, a few builtins and xCAT's helper functions.
//! Anything else is a compile or run-time error, which — exactly as with xCAT's `reval` —
//! makes the group evaluate to the empty string.

use std::fmt::Write as _;

/// A Perl scalar.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Scalar {
    /// `undef`.
    Undef,
    /// An integer (IV).
    Int(i64),
    /// A floating-point number (NV).
    Num(f64),
    /// A string (PV).
    Str(String),
    /// Perl's false value (`!1`): the empty string, and the number 0.
    No,
}

/// Why evaluation failed (Perl would have died or refused to compile).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PerlError(pub(crate) String);

type PResult<T> = Result<T, PerlError>;

fn err<T>(msg: impl Into<String>) -> PResult<T> {
    Err(PerlError(msg.into()))
}

impl Scalar {
    fn yes() -> Scalar {
        Scalar::Int(1)
    }

    fn no() -> Scalar {
        Scalar::No
    }

    /// Whether bitwise operators treat this value as a number (Perl's SvNIOKp): numbers and
    /// the dual false value; strings and undef are strings.
    fn numeric(&self) -> bool {
        matches!(self, Scalar::Int(_) | Scalar::Num(_) | Scalar::No)
    }

    fn bool(b: bool) -> Scalar {
        if b {
            Scalar::yes()
        } else {
            Scalar::no()
        }
    }

    /// Perl truthiness: undef, `""`, `"0"` and numeric zero are false.
    pub(crate) fn truthy(&self) -> bool {
        match self {
            Scalar::Undef | Scalar::No => false,
            Scalar::Int(i) => *i != 0,
            Scalar::Num(n) => *n != 0.0,
            Scalar::Str(s) => !(s.is_empty() || s == "0"),
        }
    }

    /// The string value.
    pub(crate) fn to_str(&self) -> String {
        match self {
            Scalar::Undef | Scalar::No => String::new(),
            Scalar::Int(i) => i.to_string(),
            Scalar::Num(n) => format_nv(*n),
            Scalar::Str(s) => s.clone(),
        }
    }

    /// The numeric value, keeping integers exact.
    fn num(&self) -> Number {
        match self {
            Scalar::Undef | Scalar::No => Number::I(0),
            Scalar::Int(i) => Number::I(*i),
            Scalar::Num(n) => Number::F(*n),
            Scalar::Str(s) => grok_number(s),
        }
    }

    /// The integer value (SvIV): floats are truncated toward zero.
    pub(crate) fn iv(&self) -> i64 {
        self.num().iv()
    }

    fn nv(&self) -> f64 {
        self.num().nv()
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Number {
    I(i64),
    F(f64),
}

impl Number {
    fn iv(self) -> i64 {
        match self {
            Number::I(i) => i,
            Number::F(f) => nv_to_iv(f),
        }
    }

    fn nv(self) -> f64 {
        match self {
            Number::I(i) => i as f64,
            Number::F(f) => f,
        }
    }

    fn scalar(self) -> Scalar {
        match self {
            Number::I(i) => Scalar::Int(i),
            Number::F(f) => Scalar::Num(f),
        }
    }
}

/// Perl's `cast_iv`: truncation toward zero; above the IV range values wrap through UV, and
/// beyond UV_MAX they give -1 (UV_MAX as an IV); below IV_MIN, IV_MIN; NaN, 0.
fn nv_to_iv(f: f64) -> i64 {
    const IV_MAX_P1: f64 = 9_223_372_036_854_775_808.0;
    const UV_MAX_P1: f64 = 18_446_744_073_709_551_616.0;
    if f.is_nan() {
        0
    } else if f < IV_MAX_P1 {
        if f < -IV_MAX_P1 {
            i64::MIN
        } else {
            f as i64
        }
    } else if f < UV_MAX_P1 {
        (f as u64) as i64
    } else {
        -1
    }
}

/// Perl's numification of a string: leading whitespace, an optional sign, digits, an optional
/// fraction and exponent; `Inf`/`NaN`; anything that does not start like a number is 0.
fn grok_number(s: &str) -> Number {
    let t = s.trim_start_matches(|c: char| c.is_ascii_whitespace() || c == '\u{b}');
    let b = t.as_bytes();
    let mut i = 0;
    let neg = match b.first() {
        Some(b'-') => {
            i += 1;
            true
        }
        Some(b'+') => {
            i += 1;
            false
        }
        _ => false,
    };
    let rest = &t[i..];
    let lower = rest.get(..3).map(|p| p.to_ascii_lowercase());
    if lower.as_deref() == Some("inf") {
        return Number::F(if neg {
            f64::NEG_INFINITY
        } else {
            f64::INFINITY
        });
    }
    if lower.as_deref() == Some("nan") {
        return Number::F(f64::NAN);
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
            is_float = j > i + 1;
            i = j;
        }
    }
    if int_end == int_start && !is_float {
        return Number::I(0);
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        let mut j = i + 1;
        if j < b.len() && (b[j] == b'+' || b[j] == b'-') {
            j += 1;
        }
        let k = j;
        while j < b.len() && b[j].is_ascii_digit() {
            j += 1;
        }
        if j > k {
            is_float = true;
            i = j;
        }
    }
    if !is_float {
        let digits = &t[int_start..int_end];
        if let Ok(v) = digits.parse::<i64>() {
            return Number::I(if neg { v.wrapping_neg() } else { v });
        }
        // Up to UV_MAX a string is an exact unsigned integer (its IV wraps); beyond, a float.
        if let (false, Ok(u)) = (neg, digits.parse::<u64>()) {
            return Number::I(u as i64);
        }
        let f: f64 = digits.parse().unwrap_or(0.0);
        return Number::F(if neg { -f } else { f });
    }
    let f: f64 = t[int_start..i].parse().unwrap_or(0.0);
    Number::F(if neg { -f } else { f })
}

/// Perl's default number formatting (`%.15g`).
pub(crate) fn format_nv(n: f64) -> String {
    if n.is_nan() {
        return "NaN".into();
    }
    if n.is_infinite() {
        return if n > 0.0 { "Inf".into() } else { "-Inf".into() };
    }
    if n == n.trunc() && n.abs() < 1e15 {
        return format!("{}", n as i64);
    }
    let mut s = String::new();
    fmt_float(&mut s, n, 'g', 15, false);
    s
}

// ---------------------------------------------------------------------------------------------
// Lexer

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Num(Scalar),
    Str(String),
    Interp(Vec<Part>),
    Capture(usize),
    /// A variable other than a capture: undefined in the compartment.
    OtherVar,
    /// An array or hash variable: empty in the compartment.
    Aggregate,
    Ident(String),
    Op(&'static str),
    LParen,
    RParen,
    Comma,
    Semi,
    Eof,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Part {
    Lit(String),
    Capture(usize),
    Undef,
}

struct Lexer<'a> {
    s: &'a str,
    b: &'a [u8],
    pos: usize,
}

/// The letters of Perl's file test operators (`-e`, `-x`, …).
const FILETESTS: &[u8] = b"rwxoRWXOezsfdlpSbctugkTBAMC";

/// Words that are not barewords in term position: statement keywords and declarations, word
/// operators, quote-like operators, and builtins Safe's default compartment refuses.
const NOT_BAREWORDS: &[&str] = &[
    "if", "unless", "while", "until", "for", "foreach", "else", "elsif", "my", "our", "local",
    "sub", "do", "eval", "return", "last", "next", "redo", "goto", "package", "use", "no",
    "require", "format", "BEGIN", "END", "and", "or", "xor", "lt", "gt", "le", "ge", "eq", "ne",
    "cmp", "q", "qq", "qw", "qx", "m", "s", "tr", "y", "log", "exp", "sin", "cos", "sqrt", "atan2",
    "rand", "srand", "time", "sleep", "print", "printf", "say", "exit", "die", "warn", "wait",
    "caller", "sort", "open", "close", "system", "exec", "fork", "kill", "scalar", "keys",
    "values", "each", "splice", "push", "unshift", "lock",
];

const OPS: &[&str] = &[
    "<=>", "**", "<=", ">=", "==", "!=", "&&", "||", "//", "<<", ">>", "=>", "=~", "!~", "++",
    "--", "+", "-", "*", "/", "%", ".", "<", ">", "!", "~", "&", "|", "^", "?", ":", "=", "\\",
];

impl<'a> Lexer<'a> {
    fn new(s: &'a str) -> Self {
        Lexer {
            s,
            b: s.as_bytes(),
            pos: 0,
        }
    }

    fn skip_ws(&mut self) {
        while self.pos < self.b.len() {
            let c = self.b[self.pos];
            if c.is_ascii_whitespace() || c == 0x0b {
                self.pos += 1;
            } else if c == b'#' {
                // A comment runs to the end of the line.
                while self.pos < self.b.len() && self.b[self.pos] != b'\n' {
                    self.pos += 1;
                }
            } else {
                break;
            }
        }
    }

    /// The next token; `term` tells whether the parser expects a term (this decides what `.`
    /// followed by a digit, `/` and `?` mean, as in Perl's lexer).
    fn next(&mut self, term: bool) -> PResult<Tok> {
        self.skip_ws();
        let Some(&c) = self.b.get(self.pos) else {
            return Ok(Tok::Eof);
        };
        let start = self.pos;
        match c {
            b'(' => {
                self.pos += 1;
                Ok(Tok::LParen)
            }
            b')' => {
                self.pos += 1;
                Ok(Tok::RParen)
            }
            b',' => {
                self.pos += 1;
                Ok(Tok::Comma)
            }
            b';' => {
                self.pos += 1;
                Ok(Tok::Semi)
            }
            b'0'..=b'9' => self.number(),
            b'.' if term && self.b.get(self.pos + 1).is_some_and(u8::is_ascii_digit) => {
                self.number()
            }
            b'\'' => self.single_quoted(),
            b'"' => self.double_quoted(),
            b'$' => self.variable(),
            b'@' | b'%'
                if term
                    && self
                        .b
                        .get(self.pos + 1)
                        .is_some_and(|c| c.is_ascii_alphabetic() || *c == b'_') =>
            {
                self.pos += 1;
                self.pos += self.ident_len();
                Ok(Tok::Aggregate)
            }
            b'@' if term => err("syntax error near @"),
            // -X followed by a non-word character is a file test operator, wherever it
            // appears (Safe's compartment refuses them anyway).
            b'-' if self
                .b
                .get(self.pos + 1)
                .is_some_and(|c| FILETESTS.contains(c))
                && !self
                    .b
                    .get(self.pos + 2)
                    .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_') =>
            {
                err("file test operators are not supported")
            }
            c if c == b'_' || c.is_ascii_alphabetic() => {
                let n = self.ident_len();
                self.pos += n;
                // Package-qualified names (Foo::bar) are one identifier.
                while self.s[self.pos..].starts_with("::") {
                    self.pos += 2;
                    self.pos += self.ident_len();
                }
                Ok(Tok::Ident(self.s[start..self.pos].to_string()))
            }
            _ => {
                for op in OPS {
                    if self.s[self.pos..].starts_with(op) {
                        self.pos += op.len();
                        return Ok(Tok::Op(op));
                    }
                }
                err(format!(
                    "unrecognized character {:?}",
                    self.s[self.pos..].chars().next().unwrap_or(' ')
                ))
            }
        }
    }

    fn ident_len(&self) -> usize {
        self.b[self.pos..]
            .iter()
            .take_while(|c| c.is_ascii_alphanumeric() || **c == b'_')
            .count()
    }

    fn number(&mut self) -> PResult<Tok> {
        let b = self.b;
        let start = self.pos;
        if b[start] == b'0'
            && start + 1 < b.len()
            && matches!(b[start + 1], b'x' | b'X' | b'b' | b'B')
        {
            let radix = if matches!(b[start + 1], b'x' | b'X') {
                16
            } else {
                2
            };
            let mut i = start + 2;
            let mut v: u64 = 0;
            while i < b.len() && ((b[i] as char).is_digit(radix) || b[i] == b'_') {
                if b[i] != b'_' {
                    v = v
                        .wrapping_mul(radix as u64)
                        .wrapping_add((b[i] as char).to_digit(radix).unwrap_or(0) as u64);
                }
                i += 1;
            }
            self.pos = i;
            return Ok(Tok::Num(Scalar::Int(v as i64)));
        }
        let mut i = start;
        while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'_') {
            i += 1;
        }
        let mut float = false;
        if i < b.len() && b[i] == b'.' && !(i + 1 < b.len() && b[i + 1] == b'.') {
            // "1.5" is a number; "1.a" is 1 followed by the concatenation operator, which Perl
            // lexes as the number "1." followed by a bareword. Both evaluate alike.
            let mut j = i + 1;
            while j < b.len() && (b[j].is_ascii_digit() || b[j] == b'_') {
                j += 1;
            }
            if j < b.len() && b[j] == b'.' && j > i + 1 {
                return err("version strings are not supported");
            }
            float = true;
            i = j;
        }
        if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
            let mut j = i + 1;
            if j < b.len() && (b[j] == b'+' || b[j] == b'-') {
                j += 1;
            }
            let k = j;
            while j < b.len() && b[j].is_ascii_digit() {
                j += 1;
            }
            if j > k {
                float = true;
                i = j;
            }
        }
        let text: String = self.s[start..i].chars().filter(|c| *c != '_').collect();
        self.pos = i;
        if !float && text.len() > 1 && text.starts_with('0') {
            // Octal literal.
            let mut v: u64 = 0;
            for c in text.chars() {
                let d = c
                    .to_digit(8)
                    .ok_or_else(|| PerlError(format!("illegal octal digit in {text}")))?;
                v = v.wrapping_mul(8).wrapping_add(d as u64);
            }
            return Ok(Tok::Num(Scalar::Int(v as i64)));
        }
        if !float {
            if let Ok(v) = text.parse::<i64>() {
                return Ok(Tok::Num(Scalar::Int(v)));
            }
        }
        let f: f64 = text
            .trim_end_matches('.')
            .parse()
            .map_err(|_| PerlError(format!("bad number {text}")))?;
        Ok(Tok::Num(Scalar::Num(f)))
    }

    fn single_quoted(&mut self) -> PResult<Tok> {
        let mut out = String::new();
        let mut chars = self.s[self.pos + 1..].char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '\\' => match chars.next() {
                    Some((_, c2 @ ('\\' | '\''))) => out.push(c2),
                    Some((_, c2)) => {
                        out.push('\\');
                        out.push(c2);
                    }
                    None => break,
                },
                '\'' => {
                    self.pos += 1 + i + 1;
                    return Ok(Tok::Str(out));
                }
                c => out.push(c),
            }
        }
        err("can't find string terminator \"'\"")
    }

    fn double_quoted(&mut self) -> PResult<Tok> {
        let mut parts = Vec::new();
        let mut lit = String::new();
        let body = &self.s[self.pos + 1..];
        let bb = body.as_bytes();
        let mut i = 0;
        while i < bb.len() {
            let c = bb[i];
            match c {
                b'"' => {
                    if !lit.is_empty() {
                        parts.push(Part::Lit(lit));
                    }
                    self.pos += 1 + i + 1;
                    return Ok(Tok::Interp(parts));
                }
                b'\\' => {
                    let Some(&e) = bb.get(i + 1) else { break };
                    i += 2;
                    match e {
                        b'n' => lit.push('\n'),
                        b't' => lit.push('\t'),
                        b'r' => lit.push('\r'),
                        b'f' => lit.push('\x0c'),
                        b'a' => lit.push('\x07'),
                        b'e' => lit.push('\x1b'),
                        b'0'..=b'7' => {
                            let mut v = (e - b'0') as u32;
                            let mut n = 1;
                            while n < 3 && i < bb.len() && (b'0'..=b'7').contains(&bb[i]) {
                                v = v * 8 + (bb[i] - b'0') as u32;
                                i += 1;
                                n += 1;
                            }
                            lit.push(char::from_u32(v).unwrap_or('\u{fffd}'));
                        }
                        b'x' => {
                            let (v, used) = if bb.get(i) == Some(&b'{') {
                                let end = body[i..].find('}').map(|e| i + e).unwrap_or(bb.len());
                                let hex = &body[i + 1..end.min(bb.len())];
                                (
                                    u32::from_str_radix(hex.trim(), 16).unwrap_or(0),
                                    end + 1 - i,
                                )
                            } else {
                                let n = bb[i..]
                                    .iter()
                                    .take(2)
                                    .take_while(|c| c.is_ascii_hexdigit())
                                    .count();
                                (u32::from_str_radix(&body[i..i + n], 16).unwrap_or(0), n)
                            };
                            i += used;
                            lit.push(char::from_u32(v).unwrap_or('\u{fffd}'));
                        }
                        _ => {
                            // Any other escaped character stands for itself.
                            let ch = body[i - 1..].chars().next().unwrap_or('\\');
                            i += ch.len_utf8() - 1;
                            lit.push(ch);
                        }
                    }
                }
                b'$' | b'@' => {
                    let rest = &body[i + 1..];
                    let (part, used) = interp_var(c, rest);
                    match part {
                        Some(p) => {
                            if !lit.is_empty() {
                                parts.push(Part::Lit(std::mem::take(&mut lit)));
                            }
                            parts.push(p);
                            i += 1 + used;
                        }
                        None => {
                            lit.push(c as char);
                            i += 1;
                        }
                    }
                }
                _ => {
                    let ch = body[i..].chars().next().unwrap_or(' ');
                    lit.push(ch);
                    i += ch.len_utf8();
                }
            }
        }
        err("can't find string terminator '\"'")
    }

    fn variable(&mut self) -> PResult<Tok> {
        let rest = &self.s[self.pos + 1..];
        let rb = rest.as_bytes();
        let digits = rb.iter().take_while(|c| c.is_ascii_digit()).count();
        if digits > 0 {
            self.pos += 1 + digits;
            return Ok(Tok::Capture(rest[..digits].parse().unwrap_or(usize::MAX)));
        }
        if rb.first() == Some(&b'{') {
            if let Some(end) = rest.find('}') {
                let inner = rest[1..end].trim();
                self.pos += 1 + end + 1;
                if !inner.is_empty() && inner.bytes().all(|c| c.is_ascii_digit()) {
                    return Ok(Tok::Capture(inner.parse().unwrap_or(usize::MAX)));
                }
                return Ok(Tok::OtherVar);
            }
            return err("missing right curly");
        }
        let n = rb
            .iter()
            .take_while(|c| c.is_ascii_alphanumeric() || **c == b'_')
            .count();
        if n > 0 {
            self.pos += 1 + n;
            return Ok(Tok::OtherVar);
        }
        // Punctuation variables ($&, $_, $$ …) are not captures; treat as undefined.
        if let Some(c) = rest.chars().next() {
            self.pos += 1 + c.len_utf8();
            return Ok(Tok::OtherVar);
        }
        err("final $ should be \\$ or $name")
    }
}

/// A variable inside a double-quoted string: `$3`, `${3}`, `$name`, `@name`.
fn interp_var(sigil: u8, rest: &str) -> (Option<Part>, usize) {
    let rb = rest.as_bytes();
    if sigil == b'$' {
        let d = rb.iter().take_while(|c| c.is_ascii_digit()).count();
        if d > 0 {
            return (
                Some(Part::Capture(rest[..d].parse().unwrap_or(usize::MAX))),
                d,
            );
        }
        if rb.first() == Some(&b'{') {
            if let Some(end) = rest.find('}') {
                let inner = rest[1..end].trim();
                if !inner.is_empty() && inner.bytes().all(|c| c.is_ascii_digit()) {
                    return (
                        Some(Part::Capture(inner.parse().unwrap_or(usize::MAX))),
                        end + 1,
                    );
                }
                return (Some(Part::Undef), end + 1);
            }
        }
    }
    let n = rb
        .iter()
        .take_while(|c| c.is_ascii_alphanumeric() || **c == b'_')
        .count();
    if n > 0 && !rb[0].is_ascii_digit() {
        (Some(Part::Undef), n)
    } else {
        (None, 0)
    }
}

// ---------------------------------------------------------------------------------------------
// Parser

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Expr {
    Lit(Scalar),
    Interp(Vec<Part>),
    Capture(usize),
    Undef,
    /// An (empty) array or hash: 0 in scalar context, nothing in list context.
    Aggregate,
    Call(String, Vec<Expr>),
    Unary(&'static str, Box<Expr>),
    Binary(Bop, Box<Expr>, Box<Expr>),
    Ternary(Box<Expr>, Box<Expr>, Box<Expr>),
    List(Vec<Expr>),
    /// Statements separated by `;`: the value is the last one's.
    Seq(Vec<Expr>),
}

/// Binary operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Bop {
    And,
    Or,
    DefinedOr,
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    Pow,
    Shl,
    Shr,
    BitAnd,
    BitOr,
    BitXor,
    NumEq,
    NumNe,
    NumLt,
    NumGt,
    NumLe,
    NumGe,
    NumCmp,
    Concat,
    Repeat,
    StrEq,
    StrNe,
    StrLt,
    StrGt,
    StrLe,
    StrGe,
    StrCmp,
    Xor,
}

impl Bop {
    fn from_str(op: &str) -> PResult<Bop> {
        Ok(match op {
            "&&" | "and" => Bop::And,
            "||" | "or" => Bop::Or,
            "//" => Bop::DefinedOr,
            "+" => Bop::Add,
            "-" => Bop::Sub,
            "*" => Bop::Mul,
            "/" => Bop::Div,
            "%" => Bop::Mod,
            "**" => Bop::Pow,
            "<<" => Bop::Shl,
            ">>" => Bop::Shr,
            "&" => Bop::BitAnd,
            "|" => Bop::BitOr,
            "^" => Bop::BitXor,
            "==" => Bop::NumEq,
            "!=" => Bop::NumNe,
            "<" => Bop::NumLt,
            ">" => Bop::NumGt,
            "<=" => Bop::NumLe,
            ">=" => Bop::NumGe,
            "<=>" => Bop::NumCmp,
            "." => Bop::Concat,
            "x" => Bop::Repeat,
            "eq" => Bop::StrEq,
            "ne" => Bop::StrNe,
            "lt" => Bop::StrLt,
            "gt" => Bop::StrGt,
            "le" => Bop::StrLe,
            "ge" => Bop::StrGe,
            "cmp" => Bop::StrCmp,
            "xor" => Bop::Xor,
            other => return err(format!("operator {other} is not supported")),
        })
    }

    /// Operators whose operands are integers under `use integer`.
    fn integer(self) -> bool {
        matches!(
            self,
            Bop::Add
                | Bop::Sub
                | Bop::Mul
                | Bop::Div
                | Bop::Mod
                | Bop::Shl
                | Bop::Shr
                | Bop::NumEq
                | Bop::NumNe
                | Bop::NumLt
                | Bop::NumGt
                | Bop::NumLe
                | Bop::NumGe
                | Bop::NumCmp
        )
    }
}

/// Builtins taking one argument (named unary operators).
const UNARY_FUNCS: &[&str] = &[
    "int", "abs", "length", "lc", "uc", "lcfirst", "ucfirst", "chr", "ord", "hex", "oct", "defined",
];
/// Builtins that refuse to compile without arguments.
const BUILTIN_LIST_FUNCS: &[&str] = &["sprintf", "join", "substr", "index", "rindex"];
/// Functions taking a list.
const LIST_FUNCS: &[&str] = &[
    "sprintf", "join", "substr", "index", "rindex", "a2idx", "a2zidx", "dim2idx", "skip", "ipadd",
    "mknum",
];

struct Parser<'a> {
    lx: Lexer<'a>,
    depth: usize,
}

/// Deepest expression nesting accepted (Perl has no such limit, but nobody writes more).
const MAX_DEPTH: usize = 200;

// Binding powers (higher binds tighter), following perlop.
const BP_OR: u8 = 1; // or xor
const BP_AND: u8 = 2; // and
const BP_NOT: u8 = 3; // not
const BP_LISTOP: u8 = 4;
const BP_COMMA: u8 = 5;
const BP_TERNARY: u8 = 7;
const BP_OROR: u8 = 9; // || //
const BP_ANDAND: u8 = 10;
const BP_BITOR: u8 = 11; // | ^
const BP_BITAND: u8 = 12;
const BP_EQ: u8 = 13; // == != <=> eq ne cmp
const BP_REL: u8 = 14; // < > <= >= lt gt le ge
const BP_UNI: u8 = 15; // named unary operators
const BP_SHIFT: u8 = 16;
const BP_ADD: u8 = 17; // + - .
const BP_MUL: u8 = 18; // * / % x
const BP_PREFIX: u8 = 20; // ! ~ unary - +
const BP_POW: u8 = 21;

impl<'a> Parser<'a> {
    fn peek(&mut self, term: bool) -> PResult<Tok> {
        let p = self.lx.pos;
        let t = self.lx.next(term);
        self.lx.pos = p;
        t
    }

    fn bump(&mut self, term: bool) -> PResult<Tok> {
        self.lx.next(term)
    }

    fn program(&mut self) -> PResult<Expr> {
        let mut stmts = Vec::new();
        loop {
            match self.peek(true)? {
                Tok::Eof => break,
                Tok::Semi => {
                    self.bump(true)?;
                }
                _ => {
                    stmts.push(self.expr(0)?);
                    match self.peek(false)? {
                        Tok::Eof => break,
                        Tok::Semi => {
                            self.bump(false)?;
                        }
                        t => return err(format!("syntax error near {t:?}")),
                    }
                }
            }
        }
        Ok(if stmts.len() == 1 {
            stmts.remove(0)
        } else {
            Expr::Seq(stmts)
        })
    }

    fn infix(tok: &Tok) -> Option<(&'static str, u8, bool)> {
        // (operator, binding power, right associative)
        Some(match tok {
            Tok::Comma => (",", BP_COMMA, false),
            Tok::Op("=>") => (",", BP_COMMA, false),
            Tok::Op("?") => ("?", BP_TERNARY, true),
            Tok::Op("||") => ("||", BP_OROR, false),
            Tok::Op("//") => ("//", BP_OROR, false),
            Tok::Op("&&") => ("&&", BP_ANDAND, false),
            Tok::Op("|") => ("|", BP_BITOR, false),
            Tok::Op("^") => ("^", BP_BITOR, false),
            Tok::Op("&") => ("&", BP_BITAND, false),
            Tok::Op(o @ ("==" | "!=" | "<=>")) => (o, BP_EQ, false),
            Tok::Op(o @ ("<" | ">" | "<=" | ">=")) => (o, BP_REL, false),
            Tok::Op(o @ ("<<" | ">>")) => (o, BP_SHIFT, false),
            Tok::Op(o @ ("+" | "-" | ".")) => (o, BP_ADD, false),
            Tok::Op(o @ ("*" | "/" | "%")) => (o, BP_MUL, false),
            Tok::Op("**") => ("**", BP_POW, true),
            Tok::Ident(w) => match w.as_str() {
                "or" => ("or", BP_OR, false),
                "xor" => ("xor", BP_OR, false),
                "and" => ("and", BP_AND, false),
                "eq" => ("eq", BP_EQ, false),
                "ne" => ("ne", BP_EQ, false),
                "cmp" => ("cmp", BP_EQ, false),
                "lt" => ("lt", BP_REL, false),
                "gt" => ("gt", BP_REL, false),
                "le" => ("le", BP_REL, false),
                "ge" => ("ge", BP_REL, false),
                "x" => ("x", BP_MUL, false),
                _ => return None,
            },
            _ => return None,
        })
    }

    fn expr(&mut self, min_bp: u8) -> PResult<Expr> {
        self.depth += 1;
        let r = self.expr_inner(min_bp);
        self.depth -= 1;
        r
    }

    fn expr_inner(&mut self, min_bp: u8) -> PResult<Expr> {
        if self.depth > MAX_DEPTH {
            return err("expression nested too deeply");
        }
        let mut lhs = self.prefix()?;
        loop {
            let tok = self.peek(false)?;
            let Some((op, bp, right)) = Self::infix(&tok) else {
                match tok {
                    Tok::Eof | Tok::RParen | Tok::Semi | Tok::Op(":") => return Ok(lhs),
                    t => return err(format!("syntax error near {t:?}")),
                }
            };
            if bp < min_bp || (bp == min_bp && !right) {
                return Ok(lhs);
            }
            self.bump(false)?;
            if op == "," {
                let mut items = match lhs {
                    Expr::List(v) => v,
                    other => vec![other],
                };
                // A trailing comma is allowed.
                if matches!(self.peek(true)?, Tok::RParen | Tok::Eof | Tok::Semi) {
                    lhs = Expr::List(items);
                    continue;
                }
                items.push(self.expr(BP_COMMA + 1)?);
                lhs = Expr::List(items);
                continue;
            }
            if op == "?" {
                let then = self.expr(BP_COMMA + 1)?;
                match self.bump(false)? {
                    Tok::Op(":") => {}
                    t => return err(format!("syntax error: expected ':' near {t:?}")),
                }
                let els = self.expr(BP_TERNARY)?;
                lhs = Expr::Ternary(Box::new(lhs), Box::new(then), Box::new(els));
                continue;
            }
            let rhs = self.expr(if right { bp } else { bp + 1 })?;
            lhs = Expr::Binary(Bop::from_str(op)?, Box::new(lhs), Box::new(rhs));
        }
    }

    fn prefix(&mut self) -> PResult<Expr> {
        match self.bump(true)? {
            Tok::Num(n) => Ok(Expr::Lit(n)),
            Tok::Str(s) => Ok(Expr::Lit(Scalar::Str(s))),
            Tok::Interp(p) => Ok(Expr::Interp(p)),
            Tok::Capture(n) => Ok(Expr::Capture(n)),
            Tok::OtherVar => Ok(Expr::Undef),
            Tok::Aggregate => Ok(Expr::Aggregate),
            Tok::LParen => {
                if matches!(self.peek(true)?, Tok::RParen) {
                    self.bump(true)?;
                    return Ok(Expr::List(Vec::new()));
                }
                let e = self.expr(0)?;
                match self.bump(false)? {
                    Tok::RParen => Ok(match e {
                        // Keep a parenthesised list a list.
                        Expr::List(v) => Expr::List(v),
                        other => other,
                    }),
                    t => err(format!("syntax error: expected ')' near {t:?}")),
                }
            }
            Tok::Op("-") => {
                let e = self.expr(BP_PREFIX)?;
                Ok(Expr::Unary("neg", Box::new(e)))
            }
            Tok::Op("+") => self.expr(BP_PREFIX),
            Tok::Op("!") => Ok(Expr::Unary("!", Box::new(self.expr(BP_PREFIX)?))),
            Tok::Op("~") => Ok(Expr::Unary("~", Box::new(self.expr(BP_PREFIX)?))),
            Tok::Ident(w) => self.word(w),
            t => err(format!("syntax error near {t:?}")),
        }
    }

    fn word(&mut self, w: String) -> PResult<Expr> {
        match w.as_str() {
            "not" => return Ok(Expr::Unary("!", Box::new(self.expr(BP_NOT)?))),
            "undef" => {
                if matches!(self.peek(false)?, Tok::LParen) {
                    self.bump(false)?;
                    match self.bump(true)? {
                        Tok::RParen => {}
                        t => {
                            return err(format!("undef with an argument is not supported ({t:?})"))
                        }
                    }
                }
                return Ok(Expr::Undef);
            }
            "__LINE__" | "__FILE__" | "__PACKAGE__" => return err(format!("{w} is not supported")),
            w if NOT_BAREWORDS.contains(&w) => return err(format!("syntax error near {w}")),
            _ => {}
        }
        let next = self.peek(false)?;
        // A word followed by => is a string.
        if next == Tok::Op("=>") {
            return Ok(Expr::Lit(Scalar::Str(w)));
        }
        if next == Tok::LParen {
            self.bump(false)?;
            let args = if matches!(self.peek(true)?, Tok::RParen) {
                Vec::new()
            } else {
                match self.expr(0)? {
                    Expr::List(v) => v,
                    e => vec![e],
                }
            };
            match self.bump(false)? {
                Tok::RParen => {}
                t => return err(format!("syntax error: expected ')' near {t:?}")),
            }
            if args.is_empty() && BUILTIN_LIST_FUNCS.contains(&w.as_str()) {
                return err(format!("Not enough arguments for {w}"));
            }
            return Ok(Expr::Call(w, args));
        }
        if UNARY_FUNCS.contains(&w.as_str()) {
            let starts_term = !matches!(
                self.peek(true)?,
                Tok::Eof | Tok::RParen | Tok::Semi | Tok::Comma | Tok::Op(":" | "?" | "=>")
            );
            let args = if starts_term {
                vec![self.expr(BP_UNI + 1)?]
            } else {
                Vec::new()
            };
            return Ok(Expr::Call(w, args));
        }
        if LIST_FUNCS.contains(&w.as_str()) {
            let starts_term = !matches!(
                self.peek(true)?,
                Tok::Eof | Tok::RParen | Tok::Semi | Tok::Op(":")
            );
            let args = if starts_term {
                match self.expr(BP_LISTOP)? {
                    Expr::List(v) => v,
                    e => vec![e],
                }
            } else {
                Vec::new()
            };
            if args.is_empty() && BUILTIN_LIST_FUNCS.contains(&w.as_str()) {
                return err(format!("Not enough arguments for {w}"));
            }
            return Ok(Expr::Call(w, args));
        }
        // A bareword is its own name as a string (no `use strict` in the compartment).
        Ok(Expr::Lit(Scalar::Str(w)))
    }
}

/// Compiles Perl source (as xCAT's `reval` would, after `use integer;`).
pub(crate) fn compile(src: &str) -> PResult<Expr> {
    let mut p = Parser {
        lx: Lexer::new(src),
        depth: 0,
    };
    p.program()
}

// ---------------------------------------------------------------------------------------------
// Evaluation

/// Evaluates `expr` in scalar context with the capture variables `caps` (`caps[0]` is `$1`).
pub(crate) fn eval(expr: &Expr, caps: &[Option<&str>]) -> PResult<Scalar> {
    let mut budget = 100_000usize;
    Ev {
        caps,
        budget: &mut budget,
    }
    .scalar(expr)
}

struct Ev<'c, 'b> {
    caps: &'c [Option<&'c str>],
    budget: &'b mut usize,
}

impl Ev<'_, '_> {
    fn tick(&mut self) -> PResult<()> {
        if *self.budget == 0 {
            return err("expression too large");
        }
        *self.budget -= 1;
        Ok(())
    }

    fn capture(&self, n: usize) -> Scalar {
        match n
            .checked_sub(1)
            .and_then(|i| self.caps.get(i))
            .copied()
            .flatten()
        {
            Some(s) => Scalar::Str(s.to_string()),
            None => Scalar::Undef,
        }
    }

    fn list(&mut self, e: &Expr) -> PResult<Vec<Scalar>> {
        match e {
            Expr::List(items) => {
                let mut out = Vec::new();
                for i in items {
                    out.extend(self.list(i)?);
                }
                Ok(out)
            }
            Expr::Aggregate => Ok(Vec::new()),
            other => Ok(vec![self.scalar(other)?]),
        }
    }

    fn scalar(&mut self, e: &Expr) -> PResult<Scalar> {
        self.tick()?;
        Ok(match e {
            Expr::Lit(s) => s.clone(),
            Expr::Undef => Scalar::Undef,
            Expr::Aggregate => Scalar::Int(0),
            Expr::Capture(n) => self.capture(*n),
            Expr::Interp(parts) => {
                let mut s = String::new();
                for p in parts {
                    match p {
                        Part::Lit(l) => s.push_str(l),
                        Part::Capture(n) => s.push_str(&self.capture(*n).to_str()),
                        Part::Undef => {}
                    }
                }
                Scalar::Str(s)
            }
            Expr::List(items) => {
                // The comma operator in scalar context: evaluate all, keep the last.
                let mut last = Scalar::Undef;
                for i in items {
                    last = self.scalar(i)?;
                }
                last
            }
            Expr::Seq(stmts) => {
                let mut last = Scalar::Undef;
                for s in stmts {
                    last = self.scalar(s)?;
                }
                last
            }
            Expr::Ternary(c, t, f) => {
                if self.scalar(c)?.truthy() {
                    self.scalar(t)?
                } else {
                    self.scalar(f)?
                }
            }
            Expr::Unary(op, x) => {
                let v = self.scalar(x)?;
                match *op {
                    "!" => Scalar::bool(!v.truthy()),
                    "~" => {
                        if v.numeric() {
                            Scalar::Int(!v.iv())
                        } else {
                            Scalar::Str(string_bits(&v.to_str(), "", |a, _| !a, Len::Longer)?)
                        }
                    }
                    _ => negate(v),
                }
            }
            Expr::Binary(op, a, b) => self.binary(*op, a, b)?,
            Expr::Call(name, args) => self.call(name, args)?,
        })
    }

    /// The integer value of an operand, without building a string for a capture.
    fn int_of(&mut self, e: &Expr) -> PResult<i64> {
        Ok(match e {
            Expr::Capture(n) => match n
                .checked_sub(1)
                .and_then(|i| self.caps.get(i))
                .copied()
                .flatten()
            {
                Some(s) => grok_number(s).iv(),
                None => 0,
            },
            Expr::Lit(Scalar::Int(i)) => *i,
            other => self.scalar(other)?.iv(),
        })
    }

    fn binary(&mut self, op: Bop, a: &Expr, b: &Expr) -> PResult<Scalar> {
        match op {
            Bop::And => {
                let l = self.scalar(a)?;
                return if l.truthy() { self.scalar(b) } else { Ok(l) };
            }
            Bop::Or => {
                let l = self.scalar(a)?;
                return if l.truthy() { Ok(l) } else { self.scalar(b) };
            }
            Bop::DefinedOr => {
                let l = self.scalar(a)?;
                return if l != Scalar::Undef {
                    Ok(l)
                } else {
                    self.scalar(b)
                };
            }
            _ => {}
        }
        if op.integer() {
            // `use integer` arithmetic and comparisons.
            let (l, r) = (self.int_of(a)?, self.int_of(b)?);
            return Ok(match op {
                Bop::Add => Scalar::Int(l.wrapping_add(r)),
                Bop::Sub => Scalar::Int(l.wrapping_sub(r)),
                Bop::Mul => Scalar::Int(l.wrapping_mul(r)),
                Bop::Div => {
                    if r == 0 {
                        return err("Illegal division by zero");
                    }
                    Scalar::Int(l.wrapping_div(r))
                }
                Bop::Mod => {
                    if r == 0 {
                        return err("Illegal modulus zero");
                    }
                    Scalar::Int(l.wrapping_rem(r))
                }
                Bop::Shl => Scalar::Int(l.wrapping_shl(r as u32)),
                Bop::Shr => Scalar::Int(l.wrapping_shr(r as u32)),
                Bop::NumEq => Scalar::bool(l == r),
                Bop::NumNe => Scalar::bool(l != r),
                Bop::NumLt => Scalar::bool(l < r),
                Bop::NumGt => Scalar::bool(l > r),
                Bop::NumLe => Scalar::bool(l <= r),
                Bop::NumGe => Scalar::bool(l >= r),
                _ => Scalar::Int(l.cmp(&r) as i64),
            });
        }
        let l = self.scalar(a)?;
        let r = self.scalar(b)?;
        if matches!(op, Bop::BitAnd | Bop::BitOr | Bop::BitXor) {
            // Numbers if either side is one, else bytewise on the strings. (An unset capture
            // combined with itself, `$3 | $3`, is numeric in Perl too.)
            let same_unset = matches!((a, b), (Expr::Capture(x), Expr::Capture(y)) if x == y)
                && l == Scalar::Undef;
            if l.numeric() || r.numeric() || same_unset {
                let (x, y) = (l.iv(), r.iv());
                return Ok(Scalar::Int(match op {
                    Bop::BitAnd => x & y,
                    Bop::BitOr => x | y,
                    _ => x ^ y,
                }));
            }
            let (x, y) = (l.to_str(), r.to_str());
            return Ok(Scalar::Str(match op {
                Bop::BitAnd => string_bits(&x, &y, |a, b| a & b, Len::Shorter)?,
                Bop::BitOr => string_bits(&x, &y, |a, b| a | b, Len::Longer)?,
                _ => string_bits(&x, &y, |a, b| a ^ b, Len::Longer)?,
            }));
        }
        Ok(match op {
            Bop::Pow => pow(l.num(), r.num()),
            Bop::Concat => {
                let mut s = l.to_str();
                s.push_str(&r.to_str());
                Scalar::Str(s)
            }
            Bop::Repeat => {
                let n = r.iv();
                let s = l.to_str();
                if n <= 0 || s.is_empty() {
                    Scalar::Str(String::new())
                } else if s.len().saturating_mul(n as usize) > 1 << 20 {
                    return err("repetition result too large");
                } else {
                    Scalar::Str(s.repeat(n as usize))
                }
            }
            Bop::StrEq => Scalar::bool(l.to_str() == r.to_str()),
            Bop::StrNe => Scalar::bool(l.to_str() != r.to_str()),
            Bop::StrLt => Scalar::bool(l.to_str() < r.to_str()),
            Bop::StrGt => Scalar::bool(l.to_str() > r.to_str()),
            Bop::StrLe => Scalar::bool(l.to_str() <= r.to_str()),
            Bop::StrGe => Scalar::bool(l.to_str() >= r.to_str()),
            Bop::StrCmp => Scalar::Int(l.to_str().cmp(&r.to_str()) as i64),
            _ => Scalar::bool(l.truthy() != r.truthy()),
        })
    }

    fn call(&mut self, name: &str, args: &[Expr]) -> PResult<Scalar> {
        // Contexts as the builtins' prototypes give them: sprintf and join take their first
        // argument as a scalar and flatten the rest; the other builtins take scalars; xCAT's
        // helpers (plain subs) flatten everything.
        let mut argv = Vec::new();
        for (i, a) in args.iter().enumerate() {
            let scalar = match name {
                "sprintf" | "join" => i == 0,
                "a2idx" | "a2zidx" | "dim2idx" | "skip" | "ipadd" | "mknum" => false,
                _ => true,
            };
            if scalar {
                argv.push(self.scalar(a)?);
            } else {
                argv.extend(self.list(a)?);
            }
        }
        let arg = |i: usize| argv.get(i).cloned().unwrap_or(Scalar::Undef);
        let first_str = || arg(0).to_str();
        Ok(match name {
            "int" => match arg(0).num() {
                Number::I(i) => Scalar::Int(i),
                Number::F(f) if f.is_finite() => {
                    let t = f.trunc();
                    if t.abs() < 9.2e18 {
                        Scalar::Int(t as i64)
                    } else {
                        Scalar::Num(t)
                    }
                }
                Number::F(f) => Scalar::Num(f),
            },
            "abs" => Scalar::Int(arg(0).iv().wrapping_abs()),
            "length" => match arg(0) {
                Scalar::Undef => Scalar::Undef,
                v => Scalar::Int(v.to_str().chars().count() as i64),
            },
            "defined" => Scalar::bool(arg(0) != Scalar::Undef),
            "lc" => Scalar::Str(first_str().to_lowercase()),
            "uc" => Scalar::Str(first_str().to_uppercase()),
            "lcfirst" | "ucfirst" => {
                let s = first_str();
                let mut c = s.chars();
                match c.next() {
                    Some(f) => {
                        let head: String = if name == "lcfirst" {
                            f.to_lowercase().collect()
                        } else {
                            f.to_uppercase().collect()
                        };
                        Scalar::Str(head + c.as_str())
                    }
                    None => Scalar::Str(String::new()),
                }
            }
            "chr" => {
                let n = arg(0).iv();
                let c = if n < 0 {
                    '\u{fffd}'
                } else {
                    char::from_u32(n as u32).unwrap_or('\u{fffd}')
                };
                Scalar::Str(c.to_string())
            }
            "ord" => Scalar::Int(first_str().chars().next().map(|c| c as i64).unwrap_or(0)),
            "hex" => {
                // An optional "0x", "x" (or X) prefix.
                let s = first_str();
                let t = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X"));
                let t = t.or_else(|| s.strip_prefix(['x', 'X'])).unwrap_or(&s);
                Scalar::Int(parse_radix(t, 16))
            }
            "oct" => {
                let s = first_str();
                let t = s.trim();
                let t = t.strip_prefix('0').unwrap_or(t);
                Scalar::Int(if let Some(h) = t.strip_prefix(['x', 'X']) {
                    parse_radix(h, 16)
                } else if let Some(b) = t.strip_prefix(['b', 'B']) {
                    parse_radix(b, 2)
                } else {
                    parse_radix(t.strip_prefix(['o', 'O']).unwrap_or(t), 8)
                })
            }
            "sprintf" => {
                let fmt = first_str();
                Scalar::Str(sprintf(&fmt, &argv[argv.len().min(1)..])?)
            }
            "join" => {
                let sep = first_str();
                let parts: Vec<String> = argv.iter().skip(1).map(Scalar::to_str).collect();
                Scalar::Str(parts.join(&sep))
            }
            "substr" => substr(&first_str(), arg(1).iv(), argv.get(2).map(Scalar::iv)),
            "index" | "rindex" => {
                let s = first_str();
                let t = arg(1).to_str();
                let chars: Vec<char> = s.chars().collect();
                let needle: Vec<char> = t.chars().collect();
                let n = chars.len() as i64;
                let found = if name == "index" {
                    let from = argv.get(2).map(Scalar::iv).unwrap_or(0).clamp(0, n) as usize;
                    (from..=chars.len()).find(|&i| chars[i..].starts_with(&needle))
                } else {
                    let from = argv.get(2).map(Scalar::iv).unwrap_or(n).clamp(0, n) as usize;
                    (0..=from).rev().find(|&i| chars[i..].starts_with(&needle))
                };
                Scalar::Int(found.map(|i| i as i64).unwrap_or(-1))
            }
            // xCAT's helpers (perl-xCAT/xCAT/Table.pm), compiled without `use integer`
            // except ipadd.
            "a2idx" => Scalar::Int(lc_ord(&arg(0)) - 96),
            "a2zidx" => Scalar::Int(lc_ord(&arg(0)) - 97),
            "mknum" => Scalar::Int(first_str().bytes().map(i64::from).sum()),
            "dim2idx" => dim2idx(&argv),
            "skip" => skip(&argv),
            "ipadd" => ipadd(&argv)?,
            other => return err(format!("Undefined subroutine &main::{other} called")),
        })
    }
}

/// How long the result of a bitwise string operation is.
#[derive(Clone, Copy)]
enum Len {
    /// `&`: the shorter operand.
    Shorter,
    /// `|`, `^`: the longer operand (the other padded with NULs).
    Longer,
}

/// Perl's bitwise string operators on code points up to 0xFF (wider characters are an error).
fn string_bits(a: &str, b: &str, f: impl Fn(u8, u8) -> u8, len: Len) -> PResult<String> {
    let bytes = |s: &str| -> PResult<Vec<u8>> {
        s.chars()
            .map(|c| {
                u8::try_from(c as u32)
                    .map_err(|_| PerlError("wide character in a bitwise string operation".into()))
            })
            .collect()
    };
    let (x, y) = (bytes(a)?, bytes(b)?);
    let n = match len {
        Len::Shorter => x.len().min(y.len()),
        Len::Longer => x.len().max(y.len()),
    };
    Ok((0..n)
        .map(|i| {
            f(
                x.get(i).copied().unwrap_or(0),
                y.get(i).copied().unwrap_or(0),
            ) as char
        })
        .collect())
}

fn lc_ord(v: &Scalar) -> i64 {
    v.to_str()
        .to_lowercase()
        .chars()
        .next()
        .map(|c| c as i64)
        .unwrap_or(0)
}

fn parse_radix(s: &str, radix: u32) -> i64 {
    let mut v: i64 = 0;
    for c in s.chars() {
        if c == '_' {
            continue;
        }
        match c.to_digit(radix) {
            Some(d) => v = v.wrapping_mul(radix as i64).wrapping_add(d as i64),
            None => break,
        }
    }
    v
}

fn negate(v: Scalar) -> Scalar {
    // Perl's string negation: "-foo" for a string starting with an ASCII letter or `_`, the
    // sign flipped for "+x" (always) and "-x" (when not a number), else numeric negation.
    if let Scalar::Str(s) = &v {
        match s.as_bytes().first() {
            Some(c) if c.is_ascii_alphabetic() || *c == b'_' => {
                return Scalar::Str(format!("-{s}"))
            }
            Some(b'+') => return Scalar::Str(format!("-{}", &s[1..])),
            Some(b'-') if !looks_like_number(s) => return Scalar::Str(format!("+{}", &s[1..])),
            _ => {}
        }
    }
    Scalar::Int(v.iv().wrapping_neg())
}

/// Perl's `looks_like_number` for a string: optional blanks, sign, digits with an optional
/// fraction and exponent (or Inf/NaN), optional trailing blanks.
fn looks_like_number(s: &str) -> bool {
    let t = s.trim_matches(|c: char| c.is_ascii_whitespace());
    let t = t.strip_prefix(['+', '-']).unwrap_or(t);
    let lower = t.to_ascii_lowercase();
    if matches!(lower.as_str(), "inf" | "infinity" | "nan") {
        return true;
    }
    let (mant, exp) = match t.find(['e', 'E']) {
        Some(i) => (&t[..i], Some(&t[i + 1..])),
        None => (t, None),
    };
    let (int, frac) = match mant.split_once('.') {
        Some((a, b)) => (a, Some(b)),
        None => (mant, None),
    };
    let digits = |x: &str| x.bytes().all(|b| b.is_ascii_digit());
    let ok_mant = digits(int)
        && frac.map_or(true, digits)
        && !(int.is_empty() && frac.unwrap_or("").is_empty());
    let ok_exp = exp.map_or(true, |e| {
        let e = e.strip_prefix(['+', '-']).unwrap_or(e);
        !e.is_empty() && digits(e)
    });
    ok_mant && ok_exp
}

fn pow(a: Number, b: Number) -> Scalar {
    if let (Number::I(x), Number::I(y)) = (a, b) {
        if y >= 0 {
            if let Ok(e) = u32::try_from(y) {
                if let Some(r) = x.checked_pow(e) {
                    return Scalar::Int(r);
                }
            }
        }
    }
    Number::F(a.nv().powf(b.nv())).scalar()
}

/// Perl's `substr EXPR,OFFSET[,LENGTH]` in characters, with its clipping rules (a negative
/// offset counts from the end, a range partly outside the string is clipped, one wholly
/// outside gives undef).
fn substr(s: &str, off: i64, len: Option<i64>) -> Scalar {
    let chars: Vec<char> = s.chars().collect();
    let cur = chars.len() as i128;
    let mut p1 = off as i128;
    if p1 < 0 && cur > 0 {
        p1 += cur;
    }
    if p1 > cur {
        return Scalar::Undef;
    }
    let mut p2 = match len.map(i128::from) {
        None => cur,
        Some(l) if l < 0 => cur + l,
        Some(l) if p1 < 0 => p1 + l,
        Some(l) => (p1 + l).min(cur),
    };
    if p2 < 0 {
        if p1 < 0 {
            return Scalar::Undef;
        }
        p2 = 0;
    } else if p1 < 0 {
        p1 = 0;
    }
    let p2 = p2.max(p1).min(cur);
    Scalar::Str(chars[p1 as usize..p2 as usize].iter().collect())
}

/// `dim2idx(v1, n1, v2, n2, …, vk)`: alternately add `v-1` and multiply by `n`, plus one.
fn dim2idx(args: &[Scalar]) -> Scalar {
    // Normal (not integer) Perl arithmetic: integers stay exact, floats propagate.
    let mut val = Number::I(0);
    let mut add = true;
    for a in args {
        // `while (defined(my $element = shift))` stops at the first undef.
        if *a == Scalar::Undef {
            break;
        }
        let e = a.num();
        val = if add {
            num_add(val, num_sub(e, Number::I(1)))
        } else {
            num_mul(val, e)
        };
        add = !add;
    }
    num_add(val, Number::I(1)).scalar()
}

fn num_add(a: Number, b: Number) -> Number {
    match (a, b) {
        (Number::I(x), Number::I(y)) => x
            .checked_add(y)
            .map(Number::I)
            .unwrap_or(Number::F(x as f64 + y as f64)),
        _ => Number::F(a.nv() + b.nv()),
    }
}

fn num_sub(a: Number, b: Number) -> Number {
    match (a, b) {
        (Number::I(x), Number::I(y)) => x
            .checked_sub(y)
            .map(Number::I)
            .unwrap_or(Number::F(x as f64 - y as f64)),
        _ => Number::F(a.nv() - b.nv()),
    }
}

fn num_mul(a: Number, b: Number) -> Number {
    match (a, b) {
        (Number::I(x), Number::I(y)) => x
            .checked_mul(y)
            .map(Number::I)
            .unwrap_or(Number::F(x as f64 * y as f64)),
        _ => Number::F(a.nv() * b.nv()),
    }
}

fn num_lt(a: Number, b: Number) -> bool {
    match (a, b) {
        (Number::I(x), Number::I(y)) => x < y,
        _ => a.nv() < b.nv(),
    }
}

/// `skip(idx, "start[:count][,start[:count]...]")`: -1 if idx is skipped, else idx minus the
/// number of skipped values below it (ranges in ascending order; evaluation stops at the first
/// range above idx).
fn skip(args: &[Scalar]) -> Scalar {
    let idx = args.first().cloned().unwrap_or(Scalar::Undef);
    let skips = args.get(1).map(Scalar::to_str).unwrap_or_default();
    let idx_n = idx.num();
    let mut val = idx.clone();
    // Perl's split drops trailing empty fields.
    let mut elements: Vec<&str> = skips.split(',').collect();
    while elements.last() == Some(&"") {
        elements.pop();
    }
    for element in elements {
        let mut fields: Vec<&str> = element.split(':').collect();
        while fields.last() == Some(&"") {
            fields.pop();
        }
        let start = fields
            .first()
            .map(|s| grok_number(s))
            .unwrap_or(Number::I(0));
        let count = fields
            .get(1)
            .map(|s| grok_number(s))
            .unwrap_or(Number::I(1));
        if !num_lt(idx_n, start) {
            if num_lt(idx_n, num_add(start, count)) {
                return Scalar::Int(-1);
            }
            val = num_sub(val.num(), count).scalar();
        } else {
            break;
        }
    }
    val
}

/// `ipadd(b1, b2, b3, b4, toadd, skipstart, skipend)` under `use integer`.
fn ipadd(args: &[Scalar]) -> PResult<Scalar> {
    let a = |i: usize| args.get(i).map(Scalar::iv).unwrap_or(0);
    let (b1, b2, mut b3, b4, toadd, ss, se) = (a(0), a(1), a(2), a(3), a(4), a(5), a(6));
    let offset = if b4 >= ss { b4.wrapping_sub(ss) } else { 0 };
    let m = 256i64.wrapping_sub(ss).wrapping_sub(se);
    if m == 0 {
        return err("Illegal division by zero");
    }
    let sum = offset.wrapping_add(toadd);
    b3 = b3.wrapping_add(sum.wrapping_div(m));
    let b4 = sum.wrapping_rem(m).wrapping_add(ss);
    // join() stringifies the first two arguments as given, not as integers.
    let s = |i: usize| args.get(i).map(Scalar::to_str).unwrap_or_default();
    let _ = (b1, b2);
    Ok(Scalar::Str(format!("{}.{}.{b3}.{b4}", s(0), s(1))))
}

// ---------------------------------------------------------------------------------------------
// sprintf

/// Perl's `sprintf`.
pub(crate) fn sprintf(fmt: &str, args: &[Scalar]) -> PResult<String> {
    let mut out = String::new();
    let mut next_arg = 0usize;
    let chars: Vec<char> = fmt.chars().collect();
    let mut i = 0;
    let take = |idx: Option<usize>, next: &mut usize| -> Scalar {
        let k = match idx {
            Some(k) => k,
            None => {
                let k = *next;
                *next += 1;
                k
            }
        };
        args.get(k).cloned().unwrap_or(Scalar::Undef)
    };
    while i < chars.len() {
        let c = chars[i];
        if c != '%' {
            out.push(c);
            i += 1;
            continue;
        }
        let start = i;
        i += 1;
        if i >= chars.len() {
            out.push('%');
            break;
        }
        if chars[i] == '%' {
            out.push('%');
            i += 1;
            continue;
        }
        // Explicit index: %N$
        let mut explicit = None;
        let mut j = i;
        while j < chars.len() && chars[j].is_ascii_digit() {
            j += 1;
        }
        if j > i && j < chars.len() && chars[j] == '$' {
            let n: usize = chars[i..j].iter().collect::<String>().parse().unwrap_or(0);
            if n == 0 {
                out.extend(&chars[start..=j]);
                i = j + 1;
                continue;
            }
            explicit = Some(n - 1);
            i = j + 1;
        }
        let mut flags = Flags::default();
        while i < chars.len() {
            match chars[i] {
                '-' => flags.left = true,
                '+' => flags.plus = true,
                ' ' => flags.space = true,
                '0' => flags.zero = true,
                '#' => flags.alt = true,
                _ => break,
            }
            i += 1;
        }
        let mut width: Option<usize> = None;
        if i < chars.len() && chars[i] == '*' {
            i += 1;
            let w = take(None, &mut next_arg).iv();
            if w < 0 {
                flags.left = true;
            }
            width = Some(w.unsigned_abs().min(1 << 16) as usize);
        } else {
            let s = i;
            while i < chars.len() && chars[i].is_ascii_digit() {
                i += 1;
            }
            if i > s {
                width = Some(
                    chars[s..i]
                        .iter()
                        .collect::<String>()
                        .parse::<usize>()
                        .unwrap_or(0)
                        .min(1 << 16),
                );
            }
        }
        let mut prec: Option<usize> = None;
        if i < chars.len() && chars[i] == '.' {
            i += 1;
            if i < chars.len() && chars[i] == '*' {
                i += 1;
                let p = take(None, &mut next_arg).iv();
                prec = if p < 0 {
                    None
                } else {
                    Some((p as usize).min(1 << 16))
                };
            } else {
                let s = i;
                while i < chars.len() && chars[i].is_ascii_digit() {
                    i += 1;
                }
                prec = Some(
                    chars[s..i]
                        .iter()
                        .collect::<String>()
                        .parse::<usize>()
                        .unwrap_or(0)
                        .min(1 << 16),
                );
            }
        }
        // Size modifiers are accepted and ignored.
        while i < chars.len() && matches!(chars[i], 'h' | 'l' | 'q' | 'L' | 'V' | 'z' | 't' | 'j') {
            i += 1;
        }
        let Some(&conv) = chars.get(i) else {
            out.extend(&chars[start..]);
            break;
        };
        i += 1;
        let body = match conv {
            'c' => {
                let n = take(explicit, &mut next_arg).iv();
                let c = if n < 0 {
                    '\u{fffd}'
                } else {
                    char::from_u32(n as u32).unwrap_or('\u{fffd}')
                };
                c.to_string()
            }
            's' => {
                let s = take(explicit, &mut next_arg).to_str();
                match prec {
                    Some(p) => s.chars().take(p).collect(),
                    None => s,
                }
            }
            'd' | 'i' => {
                let v = take(explicit, &mut next_arg);
                let n = match v.num() {
                    Number::I(i) => i,
                    Number::F(f) => nv_to_iv(f),
                };
                let mut digits = n.unsigned_abs().to_string();
                if let Some(p) = prec {
                    if p == 0 && n == 0 {
                        digits.clear();
                    }
                    while digits.len() < p {
                        digits.insert(0, '0');
                    }
                }
                let sign = if n < 0 {
                    "-"
                } else if flags.plus {
                    "+"
                } else if flags.space {
                    " "
                } else {
                    ""
                };
                pad_number(sign, "", &digits, width, &flags, prec.is_none())
            }
            'u' | 'x' | 'X' | 'o' | 'b' | 'B' => {
                let v = take(explicit, &mut next_arg);
                let n: u64 = match v.num() {
                    Number::I(i) => i as u64,
                    Number::F(f) if f < 0.0 => nv_to_iv(f) as u64,
                    Number::F(f) => f as u64,
                };
                let (mut digits, prefix) = match conv {
                    'u' => (n.to_string(), ""),
                    'x' => (
                        format!("{n:x}"),
                        if flags.alt && n != 0 { "0x" } else { "" },
                    ),
                    'X' => (
                        format!("{n:X}"),
                        if flags.alt && n != 0 { "0X" } else { "" },
                    ),
                    'b' => (
                        format!("{n:b}"),
                        if flags.alt && n != 0 { "0b" } else { "" },
                    ),
                    'B' => (
                        format!("{n:b}"),
                        if flags.alt && n != 0 { "0B" } else { "" },
                    ),
                    _ => {
                        let mut d = format!("{n:o}");
                        if flags.alt && !d.starts_with('0') {
                            d.insert(0, '0');
                        }
                        (d, "")
                    }
                };
                if let Some(p) = prec {
                    if p == 0 && n == 0 {
                        digits.clear();
                    }
                    while digits.len() < p {
                        digits.insert(0, '0');
                    }
                }
                pad_number("", prefix, &digits, width, &flags, prec.is_none())
            }
            'e' | 'E' | 'f' | 'F' | 'g' | 'G' => {
                let f = take(explicit, &mut next_arg).nv();
                let mut s = String::new();
                if f.is_nan() || f.is_infinite() {
                    s.push_str(if f.is_nan() { "NaN" } else { "Inf" });
                } else {
                    fmt_float(&mut s, f.abs(), conv, prec.unwrap_or(6), flags.alt);
                }
                let sign = if f.is_sign_negative() && !f.is_nan() {
                    "-"
                } else if flags.plus {
                    "+"
                } else if flags.space {
                    " "
                } else {
                    ""
                };
                pad_number(sign, "", &s, width, &flags, f.is_finite())
            }
            _ => {
                // Invalid conversion: Perl copies the directive through.
                out.extend(&chars[start..i]);
                continue;
            }
        };
        let body = if matches!(conv, 'c' | 's') {
            pad_text(body, width, flags.left)
        } else {
            body
        };
        out.push_str(&body);
        if out.len() > 1 << 20 {
            return err("sprintf result too large");
        }
    }
    Ok(out)
}

#[derive(Default)]
struct Flags {
    left: bool,
    plus: bool,
    space: bool,
    zero: bool,
    alt: bool,
}

fn pad_text(s: String, width: Option<usize>, left: bool) -> String {
    let n = s.chars().count();
    match width {
        Some(w) if w > n => {
            let pad = " ".repeat(w - n);
            if left {
                s + &pad
            } else {
                pad + &s
            }
        }
        _ => s,
    }
}

fn pad_number(
    sign: &str,
    prefix: &str,
    digits: &str,
    width: Option<usize>,
    f: &Flags,
    zero_ok: bool,
) -> String {
    let len = sign.len() + prefix.len() + digits.chars().count();
    let w = width.unwrap_or(0);
    if w <= len {
        return format!("{sign}{prefix}{digits}");
    }
    let fill = w - len;
    if f.left {
        format!("{sign}{prefix}{digits}{}", " ".repeat(fill))
    } else if f.zero && zero_ok {
        format!("{sign}{prefix}{}{digits}", "0".repeat(fill))
    } else {
        format!("{}{sign}{prefix}{digits}", " ".repeat(fill))
    }
}

/// C-style `%e`, `%f`, `%g` of a non-negative finite number.
fn fmt_float(out: &mut String, f: f64, conv: char, prec: usize, alt: bool) {
    let prec = prec.min(400);
    match conv {
        'f' | 'F' => {
            let _ = write!(out, "{f:.prec$}");
            if alt && prec == 0 {
                out.push('.');
            }
        }
        'e' | 'E' => {
            out.push_str(&c_exp(f, prec, alt, conv == 'E'));
        }
        _ => {
            let p = if prec == 0 { 1 } else { prec };
            let e = c_exp(f, p - 1, false, false);
            let exp: i64 = e
                .rsplit_once('e')
                .and_then(|(_, x)| x.parse().ok())
                .unwrap_or(0);
            let mut s = if (-4..p as i64).contains(&exp) {
                let fp = (p as i64 - 1 - exp).max(0) as usize;
                format!("{f:.fp$}")
            } else {
                c_exp(f, p - 1, alt, conv == 'G')
            };
            if !alt {
                // Strip trailing zeros of the fraction (and the point).
                let (mant, exp_part) = match s.find(['e', 'E']) {
                    Some(k) => (s[..k].to_string(), s[k..].to_string()),
                    None => (s.clone(), String::new()),
                };
                let mant = if mant.contains('.') {
                    mant.trim_end_matches('0').trim_end_matches('.').to_string()
                } else {
                    mant
                };
                s = mant + &exp_part;
            }
            out.push_str(&s);
        }
    }
}

fn c_exp(f: f64, prec: usize, alt: bool, upper: bool) -> String {
    let s = format!("{f:.prec$e}");
    let (mant, exp) = s.split_once('e').unwrap_or((&s, "0"));
    let exp: i64 = exp.parse().unwrap_or(0);
    let mut mant = mant.to_string();
    if alt && prec == 0 {
        mant.push('.');
    }
    format!(
        "{mant}{}{}{:02}",
        if upper { 'E' } else { 'e' },
        if exp < 0 { '-' } else { '+' },
        exp.unsigned_abs()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(src: &str, caps: &[&str]) -> Option<String> {
        let caps: Vec<Option<&str>> = caps.iter().map(|c| Some(*c)).collect();
        let e = compile(src).ok()?;
        eval(&e, &caps).ok().map(|s| s.to_str())
    }

    #[test]
    fn integer_arithmetic() {
        assert_eq!(run("($1+0)", &["001"]).as_deref(), Some("1"));
        assert_eq!(run("(($1-1)/84)", &["85"]).as_deref(), Some("1"));
        assert_eq!(run("(($1-1)%84+1)", &["85"]).as_deref(), Some("1"));
        assert_eq!(run("(-7/2)", &[]).as_deref(), Some("-3"));
        assert_eq!(run("(-7%3)", &[]).as_deref(), Some("-1"));
        assert_eq!(run("(7.9+0)", &[]).as_deref(), Some("7"));
        assert_eq!(run("(2**10)", &[]).as_deref(), Some("1024"));
        assert_eq!(run("(2**-1)", &[]).as_deref(), Some("0.5"));
        assert_eq!(run("(1/0)", &[]), None);
    }

    #[test]
    fn strings_and_barewords() {
        assert_eq!(run("($1+0)-ib", &["1"]).as_deref(), Some("1"));
        assert_eq!(run("($1)", &["01"]).as_deref(), Some("01"));
        assert_eq!(run("($1+0).cluster", &["1"]).as_deref(), Some("1cluster"));
        assert_eq!(run("(\"sn$1\")", &["7"]).as_deref(), Some("sn7"));
        assert_eq!(run("('a' x 3)", &[]).as_deref(), Some("aaa"));
        assert_eq!(run("(-foo)", &[]).as_deref(), Some("-foo"));
        assert_eq!(run("node($1+1)", &["5"]), None);
        assert_eq!(run("($1 eq '7' ? 'x' : 'y')", &["7"]).as_deref(), Some("x"));
    }

    #[test]
    fn sprintf_formats() {
        let s = |f: &str, a: &[Scalar]| sprintf(f, a).unwrap();
        assert_eq!(s("%02d", &[Scalar::Int(2)]), "02");
        assert_eq!(s("%-4s|", &[Scalar::Str("ab".into())]), "ab  |");
        assert_eq!(s("%c", &[Scalar::Int(65)]), "A");
        assert_eq!(
            s(
                "%x %X %#o %b",
                &[
                    Scalar::Int(255),
                    Scalar::Int(255),
                    Scalar::Int(8),
                    Scalar::Int(5)
                ]
            ),
            "ff FF 010 101"
        );
        assert_eq!(
            s(
                "%.2f %e %g",
                &[Scalar::Num(1.005), Scalar::Num(1234.5), Scalar::Num(0.0001)]
            ),
            "1.00 1.234500e+03 0.0001"
        );
        assert_eq!(
            s(
                "%5.1f|%-6d|%+d",
                &[Scalar::Num(3.25159), Scalar::Int(42), Scalar::Int(3)]
            ),
            "  3.3|42    |+3"
        );
        assert_eq!(
            s(
                "%2$s-%1$s",
                &[Scalar::Str("a".into()), Scalar::Str("b".into())]
            ),
            "b-a"
        );
        assert_eq!(s("%d%%", &[Scalar::Str("12abc".into())]), "12%");
        assert_eq!(s("%z", &[]), "%z");
    }

    #[test]
    fn helpers() {
        assert_eq!(run("(a2idx('c'))", &[]).as_deref(), Some("3"));
        assert_eq!(run("(a2zidx('C'))", &[]).as_deref(), Some("2"));
        assert_eq!(
            run("(dim2idx(2, 10, 3, 8, 4, 8, 5))", &[]).as_deref(),
            Some("797")
        );
        assert_eq!(run("(skip(10, '3'))", &[]).as_deref(), Some("9"));
        assert_eq!(run("(skip(10, '3:2'))", &[]).as_deref(), Some("8"));
        assert_eq!(run("(skip(10, '3:2,6'))", &[]).as_deref(), Some("7"));
        assert_eq!(run("(skip(4, '3:2'))", &[]).as_deref(), Some("-1"));
        assert_eq!(
            run("(ipadd(10, 10, 10, 10, 246, 0, 0))", &[]).as_deref(),
            Some("10.10.11.0")
        );
        assert_eq!(
            run("(ipadd(10, 10, 10, 10, 245, 0, 0))", &[]).as_deref(),
            Some("10.10.10.255")
        );
        assert_eq!(run("(mknum('fred'))", &[]).as_deref(), Some("417"));
    }

    #[test]
    fn numification() {
        assert_eq!(grok_number("  12abc"), Number::I(12));
        assert_eq!(grok_number("1.5x"), Number::F(1.5));
        assert_eq!(grok_number("abc"), Number::I(0));
        assert_eq!(grok_number("-3"), Number::I(-3));
        assert_eq!(grok_number("1e3"), Number::F(1000.0));
        assert_eq!(grok_number("."), Number::I(0));
        assert_eq!(format_nv(0.1 + 0.2), "0.3");
        assert_eq!(format_nv(1e20), "1e+20");
    }
}

#[cfg(test)]
mod radix_tests {
    use super::*;

    fn run(src: &str) -> String {
        eval(&compile(src).unwrap(), &[]).unwrap().to_str()
    }

    #[test]
    fn hex_and_oct_prefixes_as_perl() {
        for (e, want) in [
            ("hex('x1f')", "31"),
            ("hex('0x1f')", "31"),
            ("hex('1f')", "31"),
            ("hex('0X1F')", "31"),
            ("hex('xx1')", "0"),
            ("oct('x1f')", "31"),
            ("oct('0b101')", "5"),
            ("oct('b101')", "5"),
            ("oct('o17')", "15"),
            ("oct('0o17')", "15"),
            ("oct('017')", "15"),
            ("oct(' 17 ')", "15"),
        ] {
            assert_eq!(run(e), want, "{e}");
        }
    }
}
