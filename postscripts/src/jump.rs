//! Jump hosts: one SSH connection per service node carries the sessions of all its nodes, as
//! `direct-tcpip` channels (what `ssh -J` does).
//!
//! libssh2 needs a file descriptor under each session, and its sessions must not be shared
//! across threads. So one pump thread per service node owns the connection and all its
//! channels (non-blocking), and hands each node's worker one end of a socket pair; the worker
//! runs an ordinary SSH session to the node over it (end-to-end encrypted, host key checked).

use ssh2::{Channel, ErrorCode, Session};
use std::io::{ErrorKind, Read, Write};
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::error::{FailKind, TransportError};

const EAGAIN: ErrorCode = ErrorCode::Session(-37);
const BUF: usize = 256 * 1024;

struct OpenReq {
    host: String,
    port: u16,
    reply: mpsc::Sender<Result<UnixStream, String>>,
}

/// A live connection to a jump host and its pump thread.
pub struct Tunnel {
    name: String,
    tx: Mutex<mpsc::Sender<OpenReq>>,
    wake: UnixStream,
    dead: Arc<Mutex<Option<String>>>,
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

impl Tunnel {
    /// Takes over an authenticated session (its socket is `fd`) and starts the pump.
    pub fn start(sess: Session, fd: RawFd, name: String) -> std::io::Result<Tunnel> {
        let (tx, rx) = mpsc::channel::<OpenReq>();
        let (wake, wake_rx) = UnixStream::pair()?;
        wake_rx.set_nonblocking(true)?;
        let dead = Arc::new(Mutex::new(None));
        let stop = Arc::new(AtomicBool::new(false));
        let (dead2, stop2) = (dead.clone(), stop.clone());
        let thread = std::thread::Builder::new()
            .name(format!("psrun-jump-{name}"))
            .spawn(move || pump(sess, fd, rx, wake_rx, dead2, stop2))?;
        Ok(Tunnel {
            name,
            tx: Mutex::new(tx),
            wake,
            dead,
            stop,
            thread: Mutex::new(Some(thread)),
        })
    }

    /// Opens a channel to `host:port` as seen from the jump host.
    pub fn open(
        &self,
        host: &str,
        port: u16,
        deadline: Instant,
    ) -> Result<UnixStream, TransportError> {
        let unreachable = |m: String| TransportError::new(FailKind::Unreachable, m);
        if let Some(why) = self.dead.lock().unwrap_or_else(|e| e.into_inner()).clone() {
            return Err(unreachable(format!("service node {}: {why}", self.name)));
        }
        let (reply, rx) = mpsc::channel();
        let req = OpenReq {
            host: host.to_string(),
            port,
            reply,
        };
        if self
            .tx
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .send(req)
            .is_err()
        {
            return Err(unreachable(format!(
                "service node {}: connection lost",
                self.name
            )));
        }
        let _ = (&self.wake).write(&[1]);
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(Ok(s)) => Ok(s),
            Ok(Err(m)) => Err(unreachable(format!("via service node {}: {m}", self.name))),
            Err(_) => Err(unreachable(format!(
                "via service node {}: no channel before the connect timeout",
                self.name
            ))),
        }
    }
}

impl Drop for Tunnel {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = (&self.wake).write(&[1]);
        if let Some(t) = self.thread.lock().unwrap_or_else(|e| e.into_inner()).take() {
            let _ = t.join();
        }
    }
}

fn pump(
    sess: Session,
    fd: RawFd,
    rx: mpsc::Receiver<OpenReq>,
    mut wake: UnixStream,
    dead: Arc<Mutex<Option<String>>>,
    stop: Arc<AtomicBool>,
) {
    sess.set_blocking(false);
    sess.set_timeout(0);
    let mut pending: Vec<OpenReq> = Vec::new();
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
            pending.push(r);
        }
        let mut progress = false;
        // Channel opens, strictly one at a time and in order: libssh2 keeps the state of a
        // pending non-blocking direct-tcpip open in the session, so a call for another target
        // while one is pending would complete the first one.
        while let Some(r) = pending.first() {
            match sess.channel_direct_tcpip(&r.host, r.port, None) {
                Ok(ch) => {
                    let r = pending.remove(0);
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
                    let r = pending.remove(0);
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
