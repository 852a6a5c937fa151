//! # noderange — xCAT's noderange language
//!
//! Work in progress: the parser, evaluator and folding arrive with the noderange issue.
