//! Test support: replays the kept corpus of a cargo-fuzz target through the target's body, so
//! that `cargo test` runs every input fuzzing ever kept through the same checks (CI's smoke run
//! of the fuzzers; fuzzing itself runs by hand, `cd <crate>/fuzz && cargo +nightly fuzz run T`).
//!
//! Each crate with fuzz targets keeps their bodies in a `fuzzing` module and calls [`replay`]
//! from `tests/fuzz_corpus.rs`:
//!
//! ```no_run
//! fn body(data: &[u8]) {
//!     let _ = std::str::from_utf8(data);
//! }
//! fuzzreplay::replay(env!("CARGO_MANIFEST_DIR"), "expand", body);
//! ```

use std::path::{Path, PathBuf};

/// Every file kept for `target` under `<crate_dir>/fuzz/corpus/<target>/` and, when a fuzzing
/// run left findings there, `<crate_dir>/fuzz/artifacts/<target>/`, sorted; and how many of
/// them are in the corpus.
///
/// # Panics
/// When a corpus directory cannot be listed (a test helper: failing loudly is its job).
pub fn kept_inputs(crate_dir: &str, target: &str) -> (Vec<PathBuf>, usize) {
    let fuzz = Path::new(crate_dir).join("fuzz");
    let mut files = Vec::new();
    let mut corpus = 0;
    for kind in ["corpus", "artifacts"] {
        let dir = fuzz.join(kind).join(target);
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries {
            let path = entry
                .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
                .path();
            if kind == "corpus" {
                corpus += 1;
            }
            files.push(path);
        }
    }
    files.sort();
    (files, corpus)
}

/// Runs every file kept for `target` (see [`kept_inputs`]) through `body`.
///
/// # Panics
/// When the target has no kept corpus, or naming every input on which `body` panicked.
pub fn replay(crate_dir: &str, target: &str, body: fn(&[u8])) {
    let (files, corpus) = kept_inputs(crate_dir, target);
    assert!(
        corpus > 0,
        "no kept corpus in {crate_dir}/fuzz/corpus/{target}"
    );
    let mut failed = Vec::new();
    for f in &files {
        let data = std::fs::read(f).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        if std::panic::catch_unwind(|| body(&data)).is_err() {
            failed.push(f.display().to_string());
        }
    }
    assert!(
        failed.is_empty(),
        "{target}: these inputs fail: {failed:#?}"
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fails_on_x(data: &[u8]) {
        assert!(!data.contains(&b'x'), "an x");
    }

    #[test]
    fn replays_corpus_and_artifacts_and_names_failures() {
        let tmp = std::env::temp_dir().join(format!("fuzzreplay-{}", std::process::id()));
        let corpus = tmp.join("fuzz/corpus/t");
        let artifacts = tmp.join("fuzz/artifacts/t");
        std::fs::create_dir_all(&corpus).unwrap();
        std::fs::create_dir_all(&artifacts).unwrap();
        std::fs::write(corpus.join("a"), "abc").unwrap();
        let dir = tmp.to_str().unwrap().to_string();
        replay(&dir, "t", fails_on_x);
        std::fs::write(artifacts.join("crash-1"), "xyz").unwrap();
        let (files, n) = kept_inputs(&dir, "t");
        assert_eq!((files.len(), n), (2, 1));
        let err = std::panic::catch_unwind(|| replay(&dir, "t", fails_on_x)).unwrap_err();
        let msg = err.downcast_ref::<String>().cloned().unwrap_or_default();
        assert!(msg.contains("crash-1"), "{msg}");
        let empty = std::panic::catch_unwind(|| replay(&dir, "none", fails_on_x));
        assert!(empty.is_err(), "a target without corpus must fail");
        std::fs::remove_dir_all(&tmp).unwrap();
    }
}
