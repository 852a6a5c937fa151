//! The move lock: two moves cannot interleave. Held for a whole run (plan, journal, commit,
//! follow-ups) with `flock(2)` on `<journal dir>/.snmove.lock`; the kernel releases it if the
//! process dies.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, Write};
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};

/// Another move is running, or the lock file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    /// Held by another run.
    #[error("another snmove is running ({holder}); lock file {}", path.display())]
    Busy {
        /// The lock file.
        path: PathBuf,
        /// Who, as recorded.
        holder: String,
    },
    /// The journal directory (where the lock lives) cannot be made, or is not a directory.
    #[error("cannot use the journal directory {}: {why}", dir.display())]
    Dir {
        /// The directory.
        dir: PathBuf,
        /// Why.
        why: String,
    },
    /// I/O.
    #[error("cannot use the lock file {}: {source}", path.display())]
    Io {
        /// The lock file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

/// A held move lock.
#[derive(Debug)]
pub struct MoveLock {
    file: File,
}

impl MoveLock {
    /// Takes the lock without waiting.
    pub fn acquire(dir: &Path) -> Result<Self, LockError> {
        let path = dir.join(".snmove.lock");
        let io = |source| LockError::Io {
            path: path.clone(),
            source,
        };
        let dir_error = |why: String| LockError::Dir {
            dir: dir.to_path_buf(),
            why,
        };
        if dir.exists() && !dir.is_dir() {
            return Err(dir_error("it is not a directory".into()));
        }
        std::fs::create_dir_all(dir).map_err(|e| dir_error(e.to_string()))?;
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(io)?;
        // SAFETY: flock on a descriptor we own.
        if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } != 0 {
            let mut holder = String::new();
            let _ = file.read_to_string(&mut holder);
            return Err(LockError::Busy {
                path,
                holder: if holder.trim().is_empty() {
                    "unknown process".into()
                } else {
                    holder.trim().to_string()
                },
            });
        }
        let _ = file.set_len(0);
        let _ = file.rewind();
        let _ = writeln!(file, "pid {}", std::process::id());
        Ok(MoveLock { file })
    }
}

impl Drop for MoveLock {
    fn drop(&mut self) {
        let _ = self.file.set_len(0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_journal_dir_that_is_a_file_is_named_as_such() {
        let t = tempfile::tempdir().unwrap();
        let f = t.path().join("journal.json");
        std::fs::write(&f, "x").unwrap();
        let e = MoveLock::acquire(&f).unwrap_err();
        assert_eq!(
            e.to_string(),
            format!(
                "cannot use the journal directory {}: it is not a directory",
                f.display()
            )
        );
        let under = f.join("sub");
        let e = MoveLock::acquire(&under).unwrap_err();
        assert!(
            e.to_string().starts_with(&format!(
                "cannot use the journal directory {}: ",
                under.display()
            )),
            "{e}"
        );
        let ok = MoveLock::acquire(&t.path().join("new/dir"));
        assert!(ok.is_ok(), "missing directories are made");
    }
}
