//! Values computed per node (xCAT's `transRegexAttrs`). Placeholder: filled in by the regex work.
