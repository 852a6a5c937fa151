//! How one node's script reaches the node: the [`Transport`] trait, and the deadline watchdog
//! shared by the SSH implementation.

use crate::error::TransportError;
use crate::job::JumpHost;
use crate::script::Stream;
use std::collections::BTreeMap;
use std::net::TcpStream;
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

/// Where to run.
#[derive(Debug, Clone, Copy)]
pub struct Target<'a> {
    /// The node's name (for known_hosts and messages).
    pub name: &'a str,
    /// Address to connect to.
    pub address: &'a str,
    /// Port.
    pub port: u16,
    /// Jump host, if the node is reached through one.
    pub jump: Option<&'a JumpHost>,
}

/// Time limits of one node.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// TCP connect, SSH handshake, host-key check and authentication together.
    pub connect: Duration,
    /// From the start of the command to its end (the client gives up at this plus
    /// [`Limits::grace`]; the remote `timeout` wrapper kills the command at this).
    pub command: Duration,
    /// Extra time the client waits after `command` for the remote `timeout` to report.
    pub grace: Duration,
}

/// How the remote command ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteExit {
    /// Exit status (`-1` when it died of a signal).
    pub status: i32,
    /// The signal name, when it died of one.
    pub signal: Option<String>,
}

/// What the output callback of [`Transport::exec_until`] wants next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    /// Keep reading until the command ends.
    Continue,
    /// Everything needed has arrived (psrun: the end-of-steps marker).
    Finish,
}

/// After [`Flow::Finish`], how long the transport still waits for the command to end.
pub const FINISH_GRACE: Duration = Duration::from_secs(2);

/// Runs one command with one stdin on one node and streams its output.
///
/// Implementations must return within `limits.connect + limits.command + limits.grace` (plus a
/// little), whatever the node does. [`crate::SshTransport`] is the real one; tests may add
/// in-process fakes.
pub trait Transport: Send + Sync {
    /// Runs `command` with `stdin` as its standard input; every chunk of output goes to `out`
    /// as it arrives.
    fn exec(
        &self,
        target: &Target<'_>,
        command: &str,
        stdin: &[u8],
        limits: &Limits,
        out: &mut dyn FnMut(Stream, &[u8]),
    ) -> Result<RemoteExit, TransportError>;

    /// Like [`Transport::exec`], but `out` may answer [`Flow::Finish`]: the transport then
    /// waits at most [`FINISH_GRACE`] more for the command to end, and returns as if it had
    /// (the exit status is then the node's if it already sent it, else 0). So a process a
    /// step left in the background, still holding the output open, does not hold the node
    /// until its command timeout. The default calls `exec` and ignores the answers.
    fn exec_until(
        &self,
        target: &Target<'_>,
        command: &str,
        stdin: &[u8],
        limits: &Limits,
        out: &mut dyn FnMut(Stream, &[u8]) -> Flow,
    ) -> Result<RemoteExit, TransportError> {
        self.exec(target, command, stdin, limits, &mut |s, d| {
            let _ = out(s, d);
        })
    }
}

/// A socket the watchdog can shut down.
#[derive(Debug)]
pub enum Shutdown {
    /// A TCP connection.
    Tcp(TcpStream),
    /// One end of a socket pair (a tunnelled connection).
    Unix(UnixStream),
}

impl Shutdown {
    fn shutdown(&self) {
        let _ = match self {
            Shutdown::Tcp(s) => s.shutdown(std::net::Shutdown::Both),
            Shutdown::Unix(s) => s.shutdown(std::net::Shutdown::Both),
        };
    }
}

struct WatchState {
    next_id: u64,
    armed: BTreeMap<(Instant, u64), (Shutdown, Arc<AtomicBool>)>,
    stop: bool,
}

/// One thread that shuts sockets down at their deadline, so that no blocking libssh2 call (or
/// its cleanup, which blocks too) can outlive a node's time limit.
pub struct Watchdog {
    state: Arc<(Mutex<WatchState>, Condvar)>,
    thread: Option<std::thread::JoinHandle<()>>,
    fired: Arc<AtomicU64>,
}

/// Disarms its deadline when dropped.
pub struct Armed {
    state: Arc<(Mutex<WatchState>, Condvar)>,
    key: (Instant, u64),
    fired: Arc<AtomicBool>,
}

impl Armed {
    /// True when the watchdog shut the socket down.
    pub fn fired(&self) -> bool {
        self.fired.load(Ordering::SeqCst)
    }
}

impl Drop for Armed {
    fn drop(&mut self) {
        let mut st = self.state.0.lock().unwrap_or_else(|e| e.into_inner());
        st.armed.remove(&self.key);
    }
}

impl Default for Watchdog {
    fn default() -> Self {
        Self::new()
    }
}

impl Watchdog {
    /// Starts the watchdog thread.
    pub fn new() -> Watchdog {
        let state = Arc::new((
            Mutex::new(WatchState {
                next_id: 0,
                armed: BTreeMap::new(),
                stop: false,
            }),
            Condvar::new(),
        ));
        let fired = Arc::new(AtomicU64::new(0));
        let (st2, fired2) = (state.clone(), fired.clone());
        let thread = std::thread::Builder::new()
            .name("psrun-watchdog".into())
            .stack_size(64 * 1024)
            .spawn(move || {
                let (lock, cv) = &*st2;
                let mut st = lock.lock().unwrap_or_else(|e| e.into_inner());
                loop {
                    if st.stop {
                        return;
                    }
                    let now = Instant::now();
                    while let Some(entry) = st.armed.first_entry() {
                        if entry.key().0 > now {
                            break;
                        }
                        let (sock, flag) = entry.remove();
                        flag.store(true, Ordering::SeqCst);
                        sock.shutdown();
                        fired2.fetch_add(1, Ordering::Relaxed);
                    }
                    let wait = st
                        .armed
                        .first_key_value()
                        .map(|(k, _)| k.0.saturating_duration_since(now))
                        .unwrap_or(Duration::from_secs(3600));
                    st = cv
                        .wait_timeout(st, wait)
                        .unwrap_or_else(|e| e.into_inner())
                        .0;
                }
            })
            .ok();
        Watchdog {
            state,
            thread,
            fired,
        }
    }

    /// Shuts `sock` down at `deadline` unless the returned guard is dropped first.
    pub fn arm(&self, deadline: Instant, sock: Shutdown) -> Armed {
        let (lock, cv) = &*self.state;
        let mut st = lock.lock().unwrap_or_else(|e| e.into_inner());
        st.next_id += 1;
        let key = (deadline, st.next_id);
        let flag = Arc::new(AtomicBool::new(false));
        if self.thread.is_none() && deadline <= Instant::now() {
            sock.shutdown();
        }
        st.armed.insert(key, (sock, flag.clone()));
        cv.notify_one();
        Armed {
            state: self.state.clone(),
            key,
            fired: flag,
        }
    }

    /// How many sockets it has shut down so far.
    pub fn fired_count(&self) -> u64 {
        self.fired.load(Ordering::Relaxed)
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        {
            let mut st = self.state.0.lock().unwrap_or_else(|e| e.into_inner());
            st.stop = true;
            self.state.1.notify_one();
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Formats a duration for messages: `10s`, `1.5s`, `250ms`.
pub fn secs(d: Duration) -> String {
    let ms = d.as_millis();
    if ms % 1000 == 0 {
        format!("{}s", ms / 1000)
    } else if ms >= 1000 {
        format!("{:.1}s", d.as_secs_f64())
    } else {
        format!("{ms}ms")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn watchdog_fires_and_disarms() {
        let w = Watchdog::new();
        let (a, mut b) = UnixStream::pair().unwrap();
        let armed = w.arm(
            Instant::now() + Duration::from_millis(50),
            Shutdown::Unix(a),
        );
        let mut buf = [0u8; 1];
        // the peer sees EOF once the watchdog shut its end down
        assert_eq!(b.read(&mut buf).unwrap(), 0);
        assert!(armed.fired());
        let (c, _d) = UnixStream::pair().unwrap();
        let armed2 = w.arm(Instant::now() + Duration::from_secs(60), Shutdown::Unix(c));
        drop(armed2);
        assert_eq!(w.fired_count(), 1);
    }

    #[test]
    fn secs_format() {
        assert_eq!(secs(Duration::from_secs(10)), "10s");
        assert_eq!(secs(Duration::from_millis(1500)), "1.5s");
        assert_eq!(secs(Duration::from_millis(250)), "250ms");
    }
}
