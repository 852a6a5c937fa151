//! Jump hosts: each node's SSH session runs through its service node, as `direct-tcpip`
//! channels of an SSH connection to that service node (what `ssh -J` does).
//!
//! libssh2 needs a file descriptor under each session, and its sessions must not be shared
//! across threads. So one pump thread per connection owns it and all its channels
//! (non-blocking), and hands each node's worker one end of a socket pair; the worker runs an
//! ordinary SSH session to the node over it (end-to-end encrypted, host key checked).
//!
//! One connection per service node carries its nodes' sessions. libssh2 can only have one
//! channel open in flight per connection, and OpenSSH confirms a `direct-tcpip` open only once
//! its own TCP connect to the node succeeded, so a powered-off node behind the service node
//! would hold every later open of that connection for the kernel's SYN timeout. When the open
//! at the head of a connection has waited [`STUCK_AFTER`], the opens queued behind it move to
//! another connection to the same service node (a new one, up to [`MAX_LANES`]).

use ssh2::{Channel, ErrorCode, Session};
use std::io::{ErrorKind, Read, Write};
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::error::{FailKind, TransportError};

const EAGAIN: ErrorCode = ErrorCode::Session(-37);
const BUF: usize = 256 * 1024;
/// A channel open pending this long marks its connection as stuck.
pub const STUCK_AFTER: Duration = Duration::from_secs(2);
/// At most this many connections to one service node.
pub const MAX_LANES: usize = 8;

const QUEUED: u8 = 0;
const STARTED: u8 = 1;
const CANCELLED: u8 = 2;

struct OpenReq {
    host: String,
    port: u16,
    reply: mpsc::Sender<Result<UnixStream, String>>,
    state: Arc<AtomicU8>,
}

/// The connections to one service node.
pub struct Tunnel {
    name: String,
    lanes: Mutex<Vec<Arc<Lane>>>,
    growing: Mutex<()>,
}

/// One SSH connection to a jump host and its pump thread.
pub struct Lane {
    tx: Mutex<mpsc::Sender<OpenReq>>,
    wake: UnixStream,
    dead: Arc<Mutex<Option<String>>>,
    head_since: Arc<Mutex<Option<Instant>>>,
    queued: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
    thread: Mutex<Option<std::thread::JoinHandle<()>>>,
}

struct Pipe {
    ch: Channel,
    sock: UnixStream,
    to_sock: Vec<u8>,
    to_chan: Vec<u8>,
    chan_eof: bool,
    sock_eof: bool,
    eof_sent: bool,
    sock_shut: bool,
    done: bool,
}

impl Lane {
    /// Takes over an authenticated session (its socket is `fd`) and starts the pump.
    pub fn start(sess: Session, fd: RawFd, name: &str) -> std::io::Result<Lane> {
        let (tx, rx) = mpsc::channel::<OpenReq>();
        let (wake, wake_rx) = UnixStream::pair()?;
        wake_rx.set_nonblocking(true)?;
        let dead = Arc::new(Mutex::new(None));
        let stop = Arc::new(AtomicBool::new(false));
        let head_since = Arc::new(Mutex::new(None));
        let queued = Arc::new(AtomicUsize::new(0));
        let shared = Shared {
            dead: dead.clone(),
            stop: stop.clone(),
            head_since: head_since.clone(),
            queued: queued.clone(),
        };
        let thread = std::thread::Builder::new()
            .name(format!("psrun-jump-{name}"))
            .spawn(move || pump(sess, fd, rx, wake_rx, shared))?;
        Ok(Lane {
            tx: Mutex::new(tx),
            wake,
            dead,
            head_since,
            queued,
            stop,
            thread: Mutex::new(Some(thread)),
        })
    }

    fn dead(&self) -> Option<String> {
        self.dead.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn stuck(&self) -> bool {
        self.head_since
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .is_some_and(|t| t.elapsed() >= STUCK_AFTER)
    }

    fn send(&self, req: OpenReq) -> bool {
        self.queued.fetch_add(1, Ordering::SeqCst);
        let ok = self
            .tx
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .send(req)
            .is_ok();
        let _ = (&self.wake).write(&[1]);
        ok
    }
}

impl Drop for Lane {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = (&self.wake).write(&[1]);
        if let Some(t) = self.thread.lock().unwrap_or_else(|e| e.into_inner()).take() {
            let _ = t.join();
        }
    }
}

impl Tunnel {
    /// The connections to service node `name`, starting with `first`.
    pub fn new(name: String, first: Lane) -> Tunnel {
        Tunnel {
            name,
            lanes: Mutex::new(vec![Arc::new(first)]),
            growing: Mutex::new(()),
        }
    }

    /// A live connection that is not stuck, the least loaded; a new one (made by `connect`)
    /// when all are stuck and there is room; else the least loaded live one.
    fn pick(
        &self,
        connect: &dyn Fn() -> Result<Lane, TransportError>,
    ) -> Result<Arc<Lane>, String> {
        let best = |lanes: &[Arc<Lane>], fresh_only: bool| {
            lanes
                .iter()
                .filter(|l| l.dead().is_none() && (!fresh_only || !l.stuck()))
                .min_by_key(|l| l.queued.load(Ordering::SeqCst))
                .cloned()
        };
        if let Some(l) = best(&self.lanes.lock().unwrap_or_else(|e| e.into_inner()), true) {
            return Ok(l);
        }
        let _one_at_a_time = self.growing.lock().unwrap_or_else(|e| e.into_inner());
        {
            let mut lanes = self.lanes.lock().unwrap_or_else(|e| e.into_inner());
            lanes.retain(|l| l.dead().is_none() || l.queued.load(Ordering::SeqCst) > 0);
            if let Some(l) = best(&lanes, true) {
                return Ok(l);
            }
            if lanes.len() >= MAX_LANES {
                return best(&lanes, false).ok_or_else(|| {
                    format!(
                        "service node {}: every connection to it was lost",
                        self.name
                    )
                });
            }
        }
        match connect() {
            Ok(lane) => {
                let lane = Arc::new(lane);
                self.lanes
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push(lane.clone());
                Ok(lane)
            }
            Err(e) => {
                let lanes = self.lanes.lock().unwrap_or_else(|e| e.into_inner());
                best(&lanes, false).ok_or(e.message)
            }
        }
    }

    /// Opens a channel to `host:port` as seen from the jump host; `connect` makes a new
    /// connection to the jump host when the existing ones are stuck.
    pub fn open(
        &self,
        host: &str,
        port: u16,
        deadline: Instant,
        connect: &dyn Fn() -> Result<Lane, TransportError>,
    ) -> Result<UnixStream, TransportError> {
        let unreachable = |m: String| TransportError::new(FailKind::Unreachable, m);
        loop {
            let lane = self.pick(connect).map_err(unreachable)?;
            let (reply, rx) = mpsc::channel();
            let state = Arc::new(AtomicU8::new(QUEUED));
            let req = OpenReq {
                host: host.to_string(),
                port,
                reply,
                state: state.clone(),
            };
            if !lane.send(req) {
                let why = lane.dead().unwrap_or_else(|| "connection lost".into());
                return Err(unreachable(format!("service node {}: {why}", self.name)));
            }
            loop {
                let left = deadline.saturating_duration_since(Instant::now());
                match rx.recv_timeout(left.min(STUCK_AFTER / 4)) {
                    Ok(Ok(s)) => return Ok(s),
                    Ok(Err(m)) => {
                        return Err(unreachable(format!("via service node {}: {m}", self.name)))
                    }
                    Err(mpsc::RecvTimeoutError::Disconnected) => {
                        // the lane died before starting this open (its message says why)
                        let why = lane.dead().unwrap_or_else(|| "connection lost".into());
                        return Err(unreachable(format!("service node {}: {why}", self.name)));
                    }
                    Err(mpsc::RecvTimeoutError::Timeout) => {}
                }
                if Instant::now() >= deadline {
                    let _ = state.compare_exchange(
                        QUEUED,
                        CANCELLED,
                        Ordering::SeqCst,
                        Ordering::SeqCst,
                    );
                    return Err(unreachable(format!(
                        "via service node {}: no channel before the connect timeout",
                        self.name
                    )));
                }
                // queued behind a stuck open: move to another connection
                if lane.stuck()
                    && state
                        .compare_exchange(QUEUED, CANCELLED, Ordering::SeqCst, Ordering::SeqCst)
                        .is_ok()
                {
                    break;
                }
            }
        }
    }
}

struct Shared {
    dead: Arc<Mutex<Option<String>>>,
    stop: Arc<AtomicBool>,
    head_since: Arc<Mutex<Option<Instant>>>,
    queued: Arc<AtomicUsize>,
}

fn pump(sess: Session, fd: RawFd, rx: mpsc::Receiver<OpenReq>, mut wake: UnixStream, sh: Shared) {
    let Shared {
        dead,
        stop,
        head_since,
        queued,
    } = sh;
    let set_head = |v: Option<Instant>| *head_since.lock().unwrap_or_else(|e| e.into_inner()) = v;
    sess.set_blocking(false);
    sess.set_timeout(0);
    let mut pending: std::collections::VecDeque<OpenReq> = Default::default();
    let mut begun = false;
    let mut pipes: Vec<Pipe> = Vec::new();
    let mut buf = vec![0u8; 32 * 1024];
    let mut fatal: Option<String> = None;
    loop {
        if stop.load(Ordering::SeqCst) {
            break;
        }
        let mut scratch = [0u8; 64];
        while matches!(wake.read(&mut scratch), Ok(n) if n > 0) {}
        while let Ok(r) = rx.try_recv() {
            pending.push_back(r);
        }
        let mut progress = false;
        // Channel opens, strictly one at a time and in order: libssh2 keeps the state of a
        // pending non-blocking direct-tcpip open in the session, so a call for another target
        // while one is pending would complete the first one.
        while let Some(r) = pending.front() {
            if !begun {
                queued.fetch_sub(1, Ordering::SeqCst);
                let start =
                    r.state
                        .compare_exchange(QUEUED, STARTED, Ordering::SeqCst, Ordering::SeqCst);
                if start.is_err() {
                    pending.pop_front(); // cancelled: moved to another connection or given up
                    continue;
                }
                begun = true;
                set_head(Some(Instant::now()));
            }
            match sess.channel_direct_tcpip(&r.host, r.port, None) {
                Ok(ch) => {
                    let Some(r) = pending.pop_front() else { break };
                    begun = false;
                    set_head(None);
                    match UnixStream::pair() {
                        Ok((ours, theirs)) => {
                            let _ = ours.set_nonblocking(true);
                            pipes.push(Pipe {
                                ch,
                                sock: ours,
                                to_sock: Vec::new(),
                                to_chan: Vec::new(),
                                chan_eof: false,
                                sock_eof: false,
                                eof_sent: false,
                                sock_shut: false,
                                done: false,
                            });
                            let _ = r.reply.send(Ok(theirs));
                        }
                        Err(e) => {
                            let _ = r.reply.send(Err(e.to_string()));
                        }
                    }
                    progress = true;
                }
                Err(e) if e.code() == EAGAIN => break,
                Err(e) => {
                    let Some(r) = pending.pop_front() else { break };
                    begun = false;
                    set_head(None);
                    let msg = match e.code() {
                        ErrorCode::Session(-21) => "the service node could not connect to the node (connection refused or unreachable)".to_string(),
                        _ => format!("channel open failed: {}", e.message()),
                    };
                    if matches!(
                        e.code(),
                        ErrorCode::Session(-43) | ErrorCode::Session(-7) | ErrorCode::Session(-13)
                    ) {
                        fatal = Some(format!("connection lost: {}", e.message()));
                    }
                    let _ = r.reply.send(Err(msg));
                    progress = true;
                }
            }
        }
        // data
        for p in pipes.iter_mut() {
            match step(p, &mut buf) {
                Ok(moved) => progress |= moved,
                Err(m) => {
                    fatal = Some(m);
                    break;
                }
            }
        }
        pipes.retain(|p| !p.done);
        if let Some(m) = fatal.take() {
            *dead.lock().unwrap_or_else(|e| e.into_inner()) = Some(m.clone());
            for p in &pipes {
                let _ = p.sock.shutdown(std::net::Shutdown::Both);
            }
            pipes.clear();
            for r in pending.drain(..) {
                let _ = r.reply.send(Err(m.clone()));
            }
            queued.store(0, Ordering::SeqCst);
            set_head(None);
            // keep answering requests until the tunnel is dropped
            while !stop.load(Ordering::SeqCst) {
                while let Ok(r) = rx.try_recv() {
                    let _ = r.reply.send(Err(m.clone()));
                }
                let mut pfd = libc::pollfd {
                    fd: wake.as_raw_fd(),
                    events: libc::POLLIN,
                    revents: 0,
                };
                // SAFETY: one valid pollfd.
                unsafe { libc::poll(&mut pfd, 1, 200) };
                while matches!(wake.read(&mut scratch), Ok(n) if n > 0) {}
            }
            return;
        }
        if progress {
            continue;
        }
        // wait for the jump socket, the wake socket and the pipes
        let mut pfds = Vec::with_capacity(pipes.len() + 2);
        let dir = match sess.block_directions() {
            ssh2::BlockDirections::Outbound => libc::POLLIN | libc::POLLOUT,
            _ => libc::POLLIN,
        };
        pfds.push(libc::pollfd {
            fd,
            events: dir,
            revents: 0,
        });
        pfds.push(libc::pollfd {
            fd: wake.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        });
        for p in &pipes {
            let mut ev = 0;
            if !p.sock_eof && p.to_chan.len() < BUF {
                ev |= libc::POLLIN;
            }
            if !p.to_sock.is_empty() {
                ev |= libc::POLLOUT;
            }
            pfds.push(libc::pollfd {
                fd: p.sock.as_raw_fd(),
                events: ev,
                revents: 0,
            });
        }
        let ms = if pending.is_empty() { 200 } else { 5 };
        // SAFETY: pfds is a valid array of pollfd for the duration of the call.
        unsafe { libc::poll(pfds.as_mut_ptr(), pfds.len() as libc::nfds_t, ms) };
    }
    let _ = Duration::ZERO;
}

/// Moves bytes both ways for one pipe; true if anything moved. Err = the jump connection broke.
fn step(p: &mut Pipe, buf: &mut [u8]) -> Result<bool, String> {
    let mut moved = false;
    // channel -> socket
    if !p.chan_eof && p.to_sock.len() < BUF {
        match p.ch.read(buf) {
            Ok(0) => p.chan_eof = true,
            Ok(n) => {
                p.to_sock.extend_from_slice(&buf[..n]);
                moved = true;
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => {}
            Err(e) => {
                if p.ch.eof() {
                    p.chan_eof = true;
                } else {
                    return Err(format!("connection lost: {e}"));
                }
            }
        }
    }
    if !p.to_sock.is_empty() {
        match p.sock.write(&p.to_sock) {
            Ok(n) => {
                p.to_sock.drain(..n);
                moved |= n > 0;
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => {}
            Err(_) => {
                // the worker closed its end: drop the channel
                p.to_sock.clear();
                p.sock_eof = true;
                p.chan_eof = true;
            }
        }
    }
    if p.chan_eof && p.to_sock.is_empty() && !p.sock_shut {
        let _ = p.sock.shutdown(std::net::Shutdown::Write);
        p.sock_shut = true;
    }
    // socket -> channel
    if !p.sock_eof && p.to_chan.len() < BUF {
        match p.sock.read(buf) {
            Ok(0) => p.sock_eof = true,
            Ok(n) => {
                p.to_chan.extend_from_slice(&buf[..n]);
                moved = true;
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => {}
            Err(_) => p.sock_eof = true,
        }
    }
    if !p.to_chan.is_empty() {
        match p.ch.write(&p.to_chan) {
            Ok(n) => {
                p.to_chan.drain(..n);
                moved |= n > 0;
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => {}
            Err(_) => p.to_chan.clear(),
        }
    }
    if p.sock_eof && p.to_chan.is_empty() && !p.eof_sent {
        match p.ch.send_eof() {
            Ok(()) => p.eof_sent = true,
            Err(e) if e.code() == EAGAIN => {}
            Err(_) => p.eof_sent = true,
        }
    }
    if p.eof_sent && p.sock_shut {
        match p.ch.close() {
            Err(e) if e.code() == EAGAIN => {}
            _ => p.done = true,
        }
    }
    Ok(moved)
}
