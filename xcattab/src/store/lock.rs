//! The store's lock: `flock(2)` on a lock file inside the store directory. The kernel drops it
//! when the process dies, so a crashed writer never leaves a stale lock.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, Write};
use std::os::unix::io::AsRawFd;
use std::path::Path;
use std::time::{Duration, Instant};

use super::StoreError;

/// A held lock; released on drop.
#[derive(Debug)]
pub(crate) struct DirLock {
    file: File,
    exclusive: bool,
}

impl Drop for DirLock {
    fn drop(&mut self) {
        if self.exclusive {
            // Forget the holder's name before the kernel releases the lock.
            let _ = self.file.set_len(0);
        }
    }
}

/// Shared (readers) or exclusive (a writer).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    Shared,
    Exclusive,
}

/// Takes the lock, waiting at most `timeout`. Returns `Ok(None)` for a shared lock when the lock
/// file cannot be created (a read-only directory): readers then go without.
pub(crate) fn acquire(
    path: &Path,
    spec: &str,
    mode: Mode,
    timeout: Duration,
) -> Result<Option<DirLock>, StoreError> {
    let file = match OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
    {
        Ok(f) => f,
        Err(e)
            if mode == Mode::Shared
                && matches!(
                    e.kind(),
                    std::io::ErrorKind::PermissionDenied | std::io::ErrorKind::ReadOnlyFilesystem
                ) =>
        {
            return Ok(None)
        }
        Err(e) => {
            return Err(StoreError::Io {
                path: path.to_path_buf(),
                op: "open the lock file",
                source: e,
            })
        }
    };
    let op = match mode {
        Mode::Shared => libc::LOCK_SH,
        Mode::Exclusive => libc::LOCK_EX,
    } | libc::LOCK_NB;
    let start = Instant::now();
    let mut pause = Duration::from_millis(2);
    loop {
        // SAFETY: flock on a file descriptor we own.
        let rc = unsafe { libc::flock(file.as_raw_fd(), op) };
        if rc == 0 {
            break;
        }
        let err = std::io::Error::last_os_error();
        if err.raw_os_error() == Some(libc::EINTR) {
            continue;
        }
        if err.raw_os_error() != Some(libc::EWOULDBLOCK) {
            return Err(StoreError::Io {
                path: path.to_path_buf(),
                op: "lock",
                source: err,
            });
        }
        if start.elapsed() >= timeout {
            let mut holder = String::new();
            let _ = (&file).read_to_string(&mut holder);
            let holder = holder.trim();
            return Err(StoreError::Locked {
                spec: spec.to_string(),
                holder: if holder.is_empty() {
                    "a reader or an unknown writer".to_string()
                } else {
                    holder.to_string()
                },
                waited: start.elapsed(),
            });
        }
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(100));
    }
    let mut file = file;
    if mode == Mode::Exclusive {
        // Record who holds it, for the message another writer gets. Best effort.
        let me = std::env::args_os()
            .next()
            .map(|a| a.to_string_lossy().into_owned())
            .unwrap_or_default();
        let _ = file.set_len(0);
        let _ = file.rewind();
        let _ = writeln!(file, "pid {} ({me})", std::process::id());
    }
    Ok(Some(DirLock {
        file,
        exclusive: mode == Mode::Exclusive,
    }))
}
