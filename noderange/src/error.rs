//! The errors of noderange evaluation.

/// Why a noderange could not be evaluated.
///
/// The first four are the cases where xCAT's `NodeRange.pm` dies (its messages are kept
/// word for word); the others are this crate's limits, which replace exhaustion of memory
/// or stack. Unknown names are not an error of the evaluation itself: they are collected in
/// [`Expansion::missing`](crate::Expansion::missing) and turned into
/// [`Error::InvalidNodes`] by [`Expansion::into_result`](crate::Expansion::into_result).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// A `(` without its `)` (or a `)` before any `(`).
    #[error("Unbalanced parentheses in noderange")]
    UnbalancedParentheses,

    /// A regular expression (`/re` element, `=~`/`!~` value, dynamic group criterion,
    /// `table.column` check) that does not compile.
    #[error("Invalid regular expression {pattern:?} in noderange: {message}")]
    Regex {
        /// The pattern as written.
        pattern: String,
        /// What the regex engine said.
        message: String,
    },

    /// xCAT's guard against runaway recursion (for example a `^file` that includes itself).
    #[error("NodeRange seems to be hung on evaluating {atom}, recursion limit hit")]
    RecursionLimit {
        /// The element being expanded when the limit was hit.
        atom: String,
    },

    /// A numeric range whose bounds do not fit in a 64-bit integer (Perl dies the same way).
    #[error("Range iterator outside integer range")]
    RangeIterator,

    /// The noderange would produce more names than the configured limit.
    #[error(
        "noderange element {element:?} would generate {count} names, more than the limit of \
         {limit} (raise it with NODERANGE_MAX_NAMES or Limits::max_names)"
    )]
    TooManyNames {
        /// The range element that crossed the limit.
        element: String,
        /// How many names it would generate (saturated at `u64::MAX`).
        count: u64,
        /// The limit in force.
        limit: u64,
    },

    /// Parentheses, groups-in-groups or files nested deeper than the configured limit.
    #[error("noderange nested more than {limit} levels deep (at {atom:?})")]
    TooDeep {
        /// Where the limit was hit (its first 200 characters).
        atom: String,
        /// The limit in force.
        limit: usize,
    },

    /// An evaluation that would scan or build more text than the configured limit.
    #[error("noderange element {atom:?} expands to more than {limit} bytes of text")]
    TooLong {
        /// The element (its first 200 characters).
        atom: String,
        /// The limit in force.
        limit: usize,
    },

    /// Names that are neither nodes nor groups, reported the way xcatd refuses a request.
    #[error("Invalid nodes and/or groups in noderange: {}", .0.join(","))]
    InvalidNodes(Vec<String>),
}
