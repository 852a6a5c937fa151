//! `tabdump -w` filters: `attr<op>val` with xCAT's operator detection and SQLite's semantics
//! (NULL matches nothing; `=~`/`!~` are SQL `LIKE`/`NOT LIKE` with `%` and `_`, ASCII
//! case-insensitive, a leading and a trailing `/` stripped; `<`… compare bytes).

/// One filter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filter {
    column: String,
    op: FilterOp,
    value: String,
}

/// The comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FilterOp {
    /// `==`
    Eq,
    /// `!=`
    Ne,
    /// `=~` (LIKE)
    Like,
    /// `!~` (NOT LIKE)
    NotLike,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
}

/// A filter xCAT would refuse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Unsupported operator:{0} on -w flag input")]
pub struct FilterError(pub String);

impl Filter {
    /// Parses `attr<op>val`, trying operators in xCAT's order: `==`, `=~`, `!=`, `!~`, `<=`,
    /// `<`, `>=`, `>` (each only where no `=` precedes it in the attribute part, as xCAT's
    /// patterns require).
    ///
    /// ```
    /// use xcattab::filter::Filter;
    /// let f = Filter::parse("groups=~%rack1%").unwrap();
    /// assert!(f.matches(Some("compute,RACK1,all")));
    /// assert!(!f.matches(None));
    /// assert!(Filter::parse("nonsense").is_err());
    /// ```
    pub fn parse(text: &str) -> Result<Self, FilterError> {
        let pre = |op: &str| -> Option<usize> {
            let at = text.find(op)?;
            (!text[..at].contains('=')).then_some(at)
        };
        let strip = |v: &str| -> String {
            let v = v.strip_prefix('/').unwrap_or(v);
            v.strip_suffix('/').unwrap_or(v).to_string()
        };
        let found = if let Some(at) = pre("==") {
            (at, 2, FilterOp::Eq)
        } else if let Some(at) = pre("=~") {
            (at, 2, FilterOp::Like)
        } else if let Some(at) = pre("!=") {
            (at, 2, FilterOp::Ne)
        } else if let Some(at) = text.find("!~") {
            (at, 2, FilterOp::NotLike)
        } else if let Some(at) = pre("<=") {
            (at, 2, FilterOp::Le)
        } else if let Some(at) = pre("<") {
            (at, 1, FilterOp::Lt)
        } else if let Some(at) = pre(">=") {
            (at, 2, FilterOp::Ge)
        } else if let Some(at) = pre(">") {
            (at, 1, FilterOp::Gt)
        } else {
            return Err(FilterError(text.to_string()));
        };
        let (at, len, op) = found;
        let raw = &text[at + len..];
        let value = match op {
            FilterOp::Like | FilterOp::NotLike => strip(raw),
            _ => raw.to_string(),
        };
        Ok(Filter {
            column: text[..at].to_string(),
            op,
            value,
        })
    }

    /// The column the filter reads.
    pub fn column(&self) -> &str {
        &self.column
    }

    /// The operator.
    pub fn op(&self) -> FilterOp {
        self.op
    }

    /// Whether a stored value passes (NULL never does, as in SQL).
    pub fn matches(&self, v: Option<&str>) -> bool {
        let Some(v) = v else { return false };
        let val = self.value.as_str();
        match self.op {
            FilterOp::Eq => v == val,
            FilterOp::Ne => v != val,
            FilterOp::Like => like(v.as_bytes(), val.as_bytes()),
            FilterOp::NotLike => !like(v.as_bytes(), val.as_bytes()),
            FilterOp::Lt => v.as_bytes() < val.as_bytes(),
            FilterOp::Le => v.as_bytes() <= val.as_bytes(),
            FilterOp::Gt => v.as_bytes() > val.as_bytes(),
            FilterOp::Ge => v.as_bytes() >= val.as_bytes(),
        }
    }
}

/// SQLite's LIKE without ESCAPE: `%` any run, `_` one character, ASCII case-insensitive.
/// Iterative with backtracking to the last `%`, so it runs in O(len(s) * len(p)).
fn like(s: &[u8], p: &[u8]) -> bool {
    let (mut si, mut pi) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    let utf8_len = |b: u8| -> usize {
        match b {
            0xF0..=0xFF => 4,
            0xE0..=0xEF => 3,
            0xC0..=0xDF => 2,
            _ => 1,
        }
    };
    while si < s.len() {
        if pi < p.len() && p[pi] == b'%' {
            star = Some((pi, si));
            pi += 1;
        } else if pi < p.len() && p[pi] == b'_' {
            si += utf8_len(s[si]).min(s.len() - si);
            pi += 1;
        } else if pi < p.len() && p[pi].eq_ignore_ascii_case(&s[si]) {
            si += 1;
            pi += 1;
        } else if let Some((sp, ss)) = star {
            let next = ss + utf8_len(s[ss]).min(s.len() - ss);
            star = Some((sp, next));
            pi = sp + 1;
            si = next;
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == b'%' {
        pi += 1;
    }
    pi == p.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operators_in_xcat_order() {
        let f = Filter::parse("node==cn1").unwrap();
        assert_eq!((f.column(), f.op()), ("node", FilterOp::Eq));
        assert_eq!(Filter::parse("a!=b").unwrap().op(), FilterOp::Ne);
        assert_eq!(Filter::parse("a<=b").unwrap().op(), FilterOp::Le);
        assert_eq!(Filter::parse("a>b").unwrap().op(), FilterOp::Gt);
        let l = Filter::parse("groups=~/%rack%/").unwrap();
        assert_eq!(l.value, "%rack%");
        assert_eq!(
            Filter::parse("a=b").unwrap_err().to_string(),
            "Unsupported operator:a=b on -w flag input"
        );
    }

    #[test]
    fn like_semantics() {
        assert!(like(b"compute,rack1", b"%RACK_"));
        assert!(like(b"abc", b"a%c"));
        assert!(!like(b"abc", b"a%d"));
        assert!(like(b"", b"%"));
        assert!(!like(b"", b"_"));
        assert!(like(b"a%b", b"a%b"));
    }

    #[test]
    fn null_matches_nothing() {
        for w in ["x==", "x!=a", "x!~a", "x<z"] {
            assert!(!Filter::parse(w).unwrap().matches(None), "{w}");
        }
        assert!(Filter::parse("x==").unwrap().matches(Some("")));
    }
}
