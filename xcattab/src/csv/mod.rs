//! The tabdump/tabrestore CSV format, byte-exact with xCAT.
//!
//! * [`write`](mod@write): what `tabdump` prints: a `#col,...` header in schema order, every non-empty
//!   value inside double quotes with `"` doubled, NULL and `''` both as an empty field, raw
//!   newlines inside quotes, `\n` line ends.
//! * [`read`](mod@read): what `tabrestore` accepts and rejects, with its messages and line numbers.

pub mod read;
pub mod write;

pub use read::*;
pub use write::{dump, write_header, write_row};
