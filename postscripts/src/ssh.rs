//! The SSH transport, on libssh2 (the `ssh2` crate).
//!
//! Per node: TCP connect with a timeout, `TCP_NODELAY`, handshake preferring curve25519 (cheap
//! on the client: see fanout.md §3.2), host-key check against known_hosts parsed once per run,
//! public-key authentication with keys read once per run (then the agent, if any), then one
//! `exec` whose stdin carries the node script. The command phase runs non-blocking with its own
//! deadline; a watchdog thread shuts the socket down at the node's hard deadline, so neither a
//! silent node nor libssh2's blocking cleanup can hold a worker past its limit.

use crate::error::{FailKind, SetupError, TransportError};
use crate::hostkeys::{host_form, HostKeyPolicy, KnownHosts, Verdict};
use crate::job::JumpHost;
use crate::script::Stream;
use crate::transport::{
    secs, Flow, Limits, RemoteExit, Shutdown, Target, Transport, Watchdog, FINISH_GRACE,
};
use base64::Engine as _;
use ssh2::{BlockDirections, ErrorCode, Session};
use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::os::fd::{AsRawFd, RawFd};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

const EAGAIN: ErrorCode = ErrorCode::Session(-37);
const KEX_PREF: &str = "curve25519-sha256,curve25519-sha256@libssh.org,ecdh-sha2-nistp256,ecdh-sha2-nistp384,ecdh-sha2-nistp521,diffie-hellman-group14-sha256,diffie-hellman-group16-sha512,diffie-hellman-group-exchange-sha256";

/// Options of the SSH transport.
#[derive(Debug, Clone)]
pub struct SshOptions {
    /// Remote user (default `root`, as xdsh).
    pub user: String,
    /// Private key files to use, in order. Empty: the usual `~/.ssh/id_ed25519`, `id_ecdsa`,
    /// `id_rsa` that exist, then the agent.
    pub identities: Vec<PathBuf>,
    /// Also try keys held by `ssh-agent` (`SSH_AUTH_SOCK`) after the key files.
    pub use_agent: bool,
    /// known_hosts files to read. Empty: `~/.ssh/known_hosts` and `/etc/ssh/ssh_known_hosts`.
    pub known_hosts: Vec<PathBuf>,
    /// Where accept-new writes (default: the first known_hosts file).
    pub known_hosts_write: Option<PathBuf>,
    /// Host-key policy.
    pub host_keys: HostKeyPolicy,
    /// At most this many SSH handshakes at once (key exchange and authentication cost CPU on
    /// both ends); sessions past the handshake do not count.
    pub max_handshakes: usize,
}

/// Default of [`SshOptions::max_handshakes`].
pub const DEFAULT_MAX_HANDSHAKES: usize = 64;

/// A counting semaphore.
struct Slots {
    free: Mutex<usize>,
    cv: std::sync::Condvar,
}

struct Slot<'a>(&'a Slots);

impl Slots {
    fn new(n: usize) -> Slots {
        Slots {
            free: Mutex::new(n.max(1)),
            cv: std::sync::Condvar::new(),
        }
    }

    fn acquire(&self) -> Slot<'_> {
        let mut f = self.free.lock().unwrap_or_else(|e| e.into_inner());
        while *f == 0 {
            f = self.cv.wait(f).unwrap_or_else(|e| e.into_inner());
        }
        *f -= 1;
        Slot(self)
    }
}

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        *self.0.free.lock().unwrap_or_else(|e| e.into_inner()) += 1;
        self.0.cv.notify_one();
    }
}

impl Default for SshOptions {
    fn default() -> Self {
        SshOptions {
            user: "root".into(),
            identities: Vec::new(),
            use_agent: true,
            known_hosts: Vec::new(),
            known_hosts_write: None,
            host_keys: HostKeyPolicy::Strict,
            max_handshakes: DEFAULT_MAX_HANDSHAKES,
        }
    }
}

fn home() -> PathBuf {
    std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/root"))
}

struct Key {
    path: PathBuf,
    private: String,
    public: Option<String>,
}

type TunnelCell = OnceLock<Result<Arc<crate::jump::Tunnel>, TransportError>>;

/// The real transport. Create it once per run; it is shared by all worker threads.
pub struct SshTransport {
    opts: SshOptions,
    keys: Vec<Key>,
    agent: bool,
    known: KnownHosts,
    watchdog: Watchdog,
    tunnels: Mutex<HashMap<JumpHost, Arc<TunnelCell>>>,
    warned_off: std::sync::atomic::AtomicBool,
    slots: Slots,
}

impl SshTransport {
    /// Reads the keys and known_hosts files once.
    pub fn new(opts: SshOptions) -> Result<SshTransport, SetupError> {
        let mut keys = Vec::new();
        let explicit = !opts.identities.is_empty();
        let candidates: Vec<PathBuf> = if explicit {
            opts.identities.clone()
        } else {
            ["id_ed25519", "id_ecdsa", "id_rsa"]
                .iter()
                .map(|n| home().join(".ssh").join(n))
                .collect()
        };
        for path in &candidates {
            match std::fs::read_to_string(path) {
                Ok(private) => {
                    if !private.contains("PRIVATE KEY") {
                        return Err(SetupError::Identity {
                            path: path.clone(),
                            reason: "not a private key file (no PRIVATE KEY block)".into(),
                        });
                    }
                    if is_encrypted(&private) {
                        if explicit {
                            return Err(SetupError::Identity {
                                path: path.clone(),
                                reason: "the key is protected by a passphrase; load it into ssh-agent (ssh-add) and leave --identity out".into(),
                            });
                        }
                        continue; // a default key with a passphrase: the agent may hold it
                    }
                    let mut pubpath = path.clone().into_os_string();
                    pubpath.push(".pub");
                    let public = std::fs::read_to_string(&pubpath).ok();
                    keys.push(Key {
                        path: path.clone(),
                        private,
                        public,
                    });
                }
                Err(e) if !explicit && e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => {
                    return Err(SetupError::Identity {
                        path: path.clone(),
                        reason: e.to_string(),
                    })
                }
            }
        }
        let agent = opts.use_agent && !explicit && std::env::var_os("SSH_AUTH_SOCK").is_some();
        if keys.is_empty() && !agent {
            return Err(SetupError::NoIdentity {
                tried: candidates
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", "),
            });
        }
        let files = if opts.known_hosts.is_empty() {
            vec![
                home().join(".ssh/known_hosts"),
                PathBuf::from("/etc/ssh/ssh_known_hosts"),
            ]
        } else {
            opts.known_hosts.clone()
        };
        let write = opts
            .known_hosts_write
            .clone()
            .or_else(|| files.first().cloned());
        let known = KnownHosts::load(&files, write)?;
        let slots = Slots::new(opts.max_handshakes);
        Ok(SshTransport {
            opts,
            keys,
            agent,
            known,
            watchdog: Watchdog::new(),
            tunnels: Mutex::new(HashMap::new()),
            warned_off: std::sync::atomic::AtomicBool::new(false),
            slots,
        })
    }

    /// True once the `off` host-key policy has been used (the caller prints the warning).
    pub fn host_key_checks_off(&self) -> bool {
        self.opts.host_keys == HostKeyPolicy::Off
    }

    /// The watchdog (for statistics).
    pub fn watchdog(&self) -> &Watchdog {
        &self.watchdog
    }

    /// Connects, verifies and authenticates a session over `stream` (a TCP connection or one
    /// end of a tunnel) before `deadline`.
    pub(crate) fn open_session<S: 'static + AsRawFd>(
        &self,
        stream: S,
        names: &[String],
        deadline: Instant,
        what: &str,
    ) -> Result<Session, TransportError> {
        let unreachable = |m: String| TransportError::new(FailKind::Unreachable, m);
        let mut sess = Session::new().map_err(|e| unreachable(format!("libssh2: {e}")))?;
        let _ = sess.method_pref(ssh2::MethodType::Kex, KEX_PREF);
        sess.set_tcp_stream(stream);
        let left = deadline.saturating_duration_since(Instant::now());
        sess.set_timeout(left.as_millis().clamp(1, u32::MAX as u128) as u32);
        if let Err(e) = sess.handshake() {
            if Instant::now() >= deadline || e.code() == ErrorCode::Session(-9) {
                return Err(unreachable(format!(
                    "{what}: no SSH banner or handshake before the connect timeout"
                )));
            }
            return Err(unreachable(format!(
                "{what}: SSH handshake failed: {}",
                e.message()
            )));
        }
        let (key, _) = sess
            .host_key()
            .ok_or_else(|| unreachable(format!("{what}: the server sent no host key")))?;
        let key = key.to_vec();
        self.check_host_key(&sess, names, &key, what)?;
        self.authenticate(&sess, what)?;
        Ok(sess)
    }

    /// Handshake, host key and authentication on an open stream, holding one of the
    /// handshake slots (so a large fanout does not start hundreds of key exchanges at once);
    /// the connect timeout counts from when the slot is taken.
    fn handshake<S: 'static + AsRawFd>(
        &self,
        stream: S,
        shut: Shutdown,
        names: &[String],
        limits: &Limits,
    ) -> Result<Session, TransportError> {
        let _slot = self.slots.acquire();
        let deadline = Instant::now() + limits.connect;
        let armed = self.watchdog.arm(deadline, shut);
        let r = self.open_session(stream, names, deadline, "ssh");
        let fired = armed.fired();
        drop(armed);
        r.map_err(|e| if fired { connect_timeout_error() } else { e })
    }

    fn check_host_key(
        &self,
        sess: &Session,
        names: &[String],
        key: &[u8],
        what: &str,
    ) -> Result<(), TransportError> {
        if self.opts.host_keys == HostKeyPolicy::Off {
            self.warned_off
                .store(true, std::sync::atomic::Ordering::Relaxed);
            return Ok(());
        }
        let fp = sess
            .host_key_hash(ssh2::HashType::Sha256)
            .map(|h| {
                format!(
                    "SHA256:{}",
                    base64::engine::general_purpose::STANDARD_NO_PAD.encode(h)
                )
            })
            .unwrap_or_else(|| "(no fingerprint)".into());
        let ktype = crate::hostkeys::blob_type(key).unwrap_or_else(|| "unknown".into());
        let rejected = |m: String| TransportError::new(FailKind::HostKeyRejected, m);
        match self.known.check(names, key) {
            Verdict::Known => Ok(()),
            Verdict::Changed { file, line } => Err(rejected(format!(
                "{what}: HOST KEY CHANGED: the {ktype} key offered ({fp}) differs from {}:{line}; a reinstalled node or a man-in-the-middle; remove the old line (ssh-keygen -R) once you know which",
                file.display()
            ))),
            Verdict::Revoked { file, line } => Err(rejected(format!(
                "{what}: the {ktype} host key offered is revoked ({}:{line})",
                file.display()
            ))),
            Verdict::Unknown => match self.opts.host_keys {
                HostKeyPolicy::AcceptNew => self
                    .known
                    .add(names, key)
                    .map_err(|e| rejected(format!("{what}: cannot record the new host key: {e}"))),
                _ => Err(rejected(format!(
                    "{what}: host key unknown ({ktype} {fp}) and host-key checking is strict; add it to known_hosts or use --host-key-check accept-new"
                ))),
            },
        }
    }

    fn authenticate(&self, sess: &Session, what: &str) -> Result<(), TransportError> {
        let user = &self.opts.user;
        let mut tried = Vec::new();
        for k in &self.keys {
            let _ = sess.userauth_pubkey_memory(user, k.public.as_deref(), &k.private, None);
            if sess.authenticated() {
                return Ok(());
            }
            tried.push(k.path.display().to_string());
        }
        if self.agent {
            if let Ok(mut agent) = sess.agent() {
                if agent.connect().is_ok() && agent.list_identities().is_ok() {
                    if let Ok(ids) = agent.identities() {
                        for id in ids {
                            if agent.userauth(user, &id).is_ok() && sess.authenticated() {
                                return Ok(());
                            }
                        }
                    }
                    let _ = agent.disconnect();
                }
                tried.push("ssh-agent".into());
            }
        }
        Err(TransportError::new(
            FailKind::AuthFailed,
            format!(
                "{what}: permission denied for user {user} (publickey; tried {})",
                tried.join(", ")
            ),
        ))
    }

    /// A new connection to `jump`, ready to carry channels.
    fn jump_lane(
        &self,
        jump: &JumpHost,
        limits: &Limits,
    ) -> Result<crate::jump::Lane, TransportError> {
        let port = jump.port.unwrap_or(22);
        let what = format!("service node {}", jump.name);
        let deadline = Instant::now() + limits.connect;
        let tcp = connect_tcp(&jump.address, port, deadline, &what)?;
        let fd = tcp
            .try_clone()
            .map_err(|e| TransportError::new(FailKind::Unreachable, format!("{what}: {e}")))?;
        let armed = self.watchdog.arm(deadline, Shutdown::Tcp(fd));
        let mut names = vec![host_form(&jump.name, port)];
        if jump.address != jump.name {
            names.push(host_form(&jump.address, port));
        }
        let raw = tcp.as_raw_fd();
        let res = self.open_session(tcp, &names, deadline, &what);
        let fired = armed.fired();
        drop(armed);
        let sess = match res {
            Err(mut e) if fired => {
                e.message =
                    format!("{what}: no SSH banner or handshake before the connect timeout");
                return Err(e);
            }
            r => r?,
        };
        crate::jump::Lane::start(sess, raw, &jump.name)
            .map_err(|e| TransportError::new(FailKind::Unreachable, format!("{what}: {e}")))
    }

    fn tunnel(
        &self,
        jump: &JumpHost,
        limits: &Limits,
    ) -> Result<Arc<crate::jump::Tunnel>, TransportError> {
        let cell = {
            let mut map = self.tunnels.lock().unwrap_or_else(|e| e.into_inner());
            map.entry(jump.clone()).or_default().clone()
        };
        cell.get_or_init(|| {
            let lane = self.jump_lane(jump, limits)?;
            Ok(Arc::new(crate::jump::Tunnel::new(jump.name.clone(), lane)))
        })
        .clone()
    }
}

/// True when a private key file needs a passphrase (PEM `ENCRYPTED`, or an OpenSSH-format key
/// whose cipher is not `none`).
fn is_encrypted(pem: &str) -> bool {
    if pem.contains("ENCRYPTED") {
        return true;
    }
    let Some(body) = pem
        .split("-----BEGIN OPENSSH PRIVATE KEY-----")
        .nth(1)
        .and_then(|r| r.split("-----END").next())
    else {
        return false;
    };
    let b64: String = body.chars().filter(|c| !c.is_whitespace()).collect();
    let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(b64) else {
        return false;
    };
    let Some(rest) = bytes.strip_prefix(b"openssh-key-v1\0") else {
        return false;
    };
    let Some(len) = rest
        .get(..4)
        .map(|l| u32::from_be_bytes([l[0], l[1], l[2], l[3]]) as usize)
    else {
        return false;
    };
    rest.get(4..4 + len).is_some_and(|cipher| cipher != b"none")
}

/// Resolves `address` before `deadline`: an IP literal at once, a name in a helper thread
/// (the system resolver has no timeout of its own below its resolv.conf retries).
fn resolve(address: &str, port: u16, deadline: Instant) -> Result<Vec<SocketAddr>, String> {
    if let Ok(ip) = address.parse::<std::net::IpAddr>() {
        return Ok(vec![SocketAddr::new(ip, port)]);
    }
    let (tx, rx) = std::sync::mpsc::channel();
    let name = address.to_string();
    std::thread::Builder::new()
        .name("psrun-resolve".into())
        .stack_size(256 * 1024)
        .spawn(move || {
            let r = (name.as_str(), port)
                .to_socket_addrs()
                .map(|a| a.collect::<Vec<_>>());
            let _ = tx.send(r);
        })
        .map_err(|e| e.to_string())?;
    match rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
        Ok(Ok(a)) if !a.is_empty() => Ok(a),
        Ok(Ok(_)) => Err("no address".into()),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err("no answer from the resolver before the connect timeout".into()),
    }
}

/// Connects with a deadline, trying each address the name resolves to.
fn connect_tcp(
    address: &str,
    port: u16,
    deadline: Instant,
    what: &str,
) -> Result<TcpStream, TransportError> {
    let unreachable = |m: String| TransportError::new(FailKind::Unreachable, m);
    let addrs = resolve(address, port, deadline)
        .map_err(|e| unreachable(format!("{what}: cannot resolve the address: {e}")))?;
    let mut last = None;
    for a in &addrs {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break;
        }
        match TcpStream::connect_timeout(a, left) {
            Ok(s) => {
                let _ = s.set_nodelay(true);
                return Ok(s);
            }
            Err(e) => last = Some(e),
        }
    }
    Err(unreachable(match last {
        Some(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
            format!("{what}: connection refused")
        }
        Some(e) if e.kind() == std::io::ErrorKind::TimedOut => format!("{what}: connect timed out"),
        Some(e) => format!("{what}: connect: {e}"),
        None => format!("{what}: connect timed out"),
    }))
}

enum Nb {
    Timeout,
    Err(ssh2::Error),
}

fn wait_io(sess: &Session, fd: RawFd, deadline: Instant) -> Result<(), Nb> {
    let left = deadline.saturating_duration_since(Instant::now());
    if left.is_zero() {
        return Err(Nb::Timeout);
    }
    let events = match sess.block_directions() {
        BlockDirections::Inbound => libc::POLLIN,
        BlockDirections::Outbound => libc::POLLOUT,
        _ => libc::POLLIN | libc::POLLOUT,
    };
    let mut pfd = libc::pollfd {
        fd,
        events,
        revents: 0,
    };
    let ms = left.as_millis().min(1000) as libc::c_int;
    // SAFETY: one valid pollfd for the duration of the call.
    unsafe { libc::poll(&mut pfd, 1, ms.max(1)) };
    Ok(())
}

fn nb<T>(
    sess: &Session,
    fd: RawFd,
    deadline: Instant,
    mut f: impl FnMut() -> Result<T, ssh2::Error>,
) -> Result<T, Nb> {
    loop {
        match f() {
            Ok(v) => return Ok(v),
            Err(e) if e.code() == EAGAIN => wait_io(sess, fd, deadline)?,
            Err(e) => return Err(Nb::Err(e)),
        }
    }
}

/// Runs the command on an open session, non-blocking, until it ends or `deadline` passes.
pub(crate) fn run_command(
    sess: &Session,
    fd: RawFd,
    command: &str,
    stdin: &[u8],
    deadline: Instant,
    out: &mut dyn FnMut(Stream, &[u8]) -> Flow,
) -> Result<(RemoteExit, bool), TransportError> {
    sess.set_timeout(0);
    sess.set_blocking(false);
    let broke = |e: Nb| match e {
        Nb::Timeout => TransportError::new(FailKind::TimedOut, "timed out"),
        Nb::Err(e) => TransportError::new(
            FailKind::Failed,
            format!("SSH session failed: {}", e.message()),
        ),
    };
    let mut ch = nb(sess, fd, deadline, || sess.channel_session()).map_err(broke)?;
    nb(sess, fd, deadline, || ch.exec(command)).map_err(broke)?;
    let mut written = 0usize;
    let mut eof_sent = false;
    let (mut out_eof, mut err_eof) = (false, false);
    let mut buf = vec![0u8; 32 * 1024];
    // set when `out` has seen everything it needs: then wait only a little for the end
    let mut finish_by: Option<Instant> = None;
    let mut early = false;
    let flow = |f: Flow, finish_by: &mut Option<Instant>| {
        if f == Flow::Finish && finish_by.is_none() {
            *finish_by = Some(Instant::now() + FINISH_GRACE);
        }
    };
    loop {
        let mut progress = false;
        if written < stdin.len() {
            match ch.write(&stdin[written..]) {
                Ok(n) => {
                    written += n;
                    progress |= n > 0;
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                // the remote closed its stdin (e.g. the command exited): stop feeding it
                Err(_) => written = stdin.len(),
            }
        } else if !eof_sent {
            match ch.send_eof() {
                Ok(()) => eof_sent = true,
                Err(e) if e.code() == EAGAIN => {}
                Err(_) => eof_sent = true,
            }
        }
        if !out_eof {
            match ch.read(&mut buf) {
                Ok(0) => out_eof = true,
                Ok(n) => {
                    flow(out(Stream::Stdout, &buf[..n]), &mut finish_by);
                    progress = true;
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                Err(e) => {
                    return Err(TransportError::new(
                        FailKind::Failed,
                        format!("connection lost while the steps ran: {e}"),
                    ))
                }
            }
        }
        if !err_eof {
            match ch.stderr().read(&mut buf) {
                Ok(0) => err_eof = true,
                Ok(n) => {
                    flow(out(Stream::Stderr, &buf[..n]), &mut finish_by);
                    progress = true;
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                Err(e) => {
                    return Err(TransportError::new(
                        FailKind::Failed,
                        format!("connection lost while the steps ran: {e}"),
                    ))
                }
            }
        }
        if out_eof && err_eof {
            break;
        }
        if !progress {
            let now = Instant::now();
            if finish_by.is_some_and(|f| now >= f) {
                early = true; // something on the node still holds the output open
                break;
            }
            if now >= deadline {
                return Err(TransportError::new(FailKind::TimedOut, "timed out"));
            }
            let until = finish_by.map_or(deadline, |f| f.min(deadline));
            wait_io(sess, fd, until).map_err(broke)?;
        }
    }
    if !early {
        nb(sess, fd, deadline, || ch.wait_close()).map_err(broke)?;
    }
    let status = ch.exit_status().unwrap_or(-1);
    let signal = ch.exit_signal().ok().and_then(|s| s.exit_signal);
    Ok((
        RemoteExit {
            status: if signal.is_some() { -1 } else { status },
            signal,
        },
        early,
    ))
}

impl Transport for SshTransport {
    fn exec(
        &self,
        target: &Target<'_>,
        command: &str,
        stdin: &[u8],
        limits: &Limits,
        out: &mut dyn FnMut(Stream, &[u8]),
    ) -> Result<RemoteExit, TransportError> {
        self.exec_until(target, command, stdin, limits, &mut |s, d| {
            out(s, d);
            Flow::Continue
        })
    }

    fn exec_until(
        &self,
        target: &Target<'_>,
        command: &str,
        stdin: &[u8],
        limits: &Limits,
        out: &mut dyn FnMut(Stream, &[u8]) -> Flow,
    ) -> Result<RemoteExit, TransportError> {
        let start = Instant::now();
        let connect_deadline = start + limits.connect;
        let mut names = vec![host_form(target.name, target.port)];
        if target.address != target.name {
            names.push(host_form(target.address, target.port));
        }
        let what = "ssh";
        // Open the byte stream: TCP, or a channel through the jump host's connection.
        let (fd, shut, sess_res) = match target.jump {
            None => {
                let tcp = connect_tcp(target.address, target.port, connect_deadline, what)?;
                let clone = tcp
                    .try_clone()
                    .map_err(|e| TransportError::new(FailKind::Unreachable, format!("{e}")))?;
                let fd = tcp.as_raw_fd();
                let shut = tcp.try_clone().ok().map(Shutdown::Tcp);
                let r = self.handshake(tcp, Shutdown::Tcp(clone), &names, limits);
                (fd, shut, r)
            }
            Some(jump) => {
                let tunnel = self.tunnel(jump, limits)?;
                let more = || self.jump_lane(jump, limits);
                let sock = tunnel.open(target.address, target.port, connect_deadline, &more)?;
                let clone = sock
                    .try_clone()
                    .map_err(|e| TransportError::new(FailKind::Unreachable, format!("{e}")))?;
                let fd = sock.as_raw_fd();
                let shut = sock.try_clone().ok().map(Shutdown::Unix);
                let r = self.handshake(sock, Shutdown::Unix(clone), &names, limits);
                (fd, shut, r)
            }
        };
        let sess = sess_res?;
        let deadline = Instant::now() + limits.command + limits.grace;
        // Backstop: whatever libssh2 does, the socket is shut down a little after the deadline.
        let _armed = shut.map(|s| self.watchdog.arm(deadline + Duration::from_secs(2), s));
        let r = run_command(&sess, fd, command, stdin, deadline, out);
        let early = matches!(r, Ok((_, true)));
        let r = r.map(|(exit, _)| exit);
        if r.is_err() || early {
            // make the drop of the session immediate (libssh2's cleanup would block otherwise)
            // SAFETY: shutting down our own fd; the session still owns it and closes it on drop.
            unsafe { libc::shutdown(fd, libc::SHUT_RDWR) };
        } else {
            let _ = sess.disconnect(None, "done", None);
        }
        r.map_err(|mut e| {
            if e.kind == FailKind::TimedOut {
                e.message = format!("timed out after {} (command timeout); the node did not report the end of its steps", secs(limits.command + limits.grace));
            }
            e
        })
    }
}

fn connect_timeout_error() -> TransportError {
    TransportError::new(
        FailKind::Unreachable,
        "ssh: no SSH banner or handshake before the connect timeout",
    )
}

/// Reads `name` known_hosts lines for tests: `[addr]:port type base64` of a host key file.
pub fn known_hosts_line(hosts: &str, pubkey_line: &str) -> String {
    let mut f = pubkey_line.split_whitespace();
    let (t, k) = (f.next().unwrap_or(""), f.next().unwrap_or(""));
    format!("{hosts} {t} {k}\n")
}

#[allow(dead_code)]
fn _assert_send_sync() {
    fn f<T: Send + Sync>() {}
    f::<SshTransport>();
}
