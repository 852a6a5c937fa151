//! Test harness: a private OpenSSH sshd on loopback ([`testsshd`]), many "nodes" as 127.x.y.z
//! addresses, node roots, and listeners that misbehave.

#![allow(dead_code)]

use postscripts::*;
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::time::Duration;

pub use testsshd::{free_port, Sshd};

/// The i-th node address (i from 0): 127.1.x.y.
pub fn node_addr(i: usize) -> String {
    Ipv4Addr::new(127, 1, (i / 250) as u8, (i % 250 + 1) as u8).to_string()
}

/// What these tests need of the private sshd beyond [`testsshd::Sshd`].
pub trait SshdExt {
    /// A known_hosts file accepting this sshd's key on every 127.1.* address and for names
    /// cn* and sn* (minus the `negate` patterns), plus `extra` lines.
    fn known_hosts_with(&self, negate: &str, extra: &str) -> PathBuf;
    /// [`SshdExt::known_hosts_with`] without exceptions.
    fn known_hosts_wildcard(&self) -> PathBuf {
        self.known_hosts_with("", "")
    }
    /// Options logging in as this process's user with the sshd's client key.
    fn ssh_options(&self, known_hosts: PathBuf, policy: HostKeyPolicy) -> SshOptions;
    /// A strict transport for this sshd.
    fn transport(&self) -> SshTransport;
}

impl SshdExt for Sshd {
    fn known_hosts_with(&self, negate: &str, extra: &str) -> PathBuf {
        let p = self.path("known_hosts");
        let (t, b) = self.host_key();
        let port = self.port;
        let line = format!("[127.1.*]:{port},[cn*]:{port},[sn*]:{port}{negate} {t} {b}\n");
        std::fs::write(&p, format!("# test\n{line}{extra}")).unwrap();
        p
    }

    fn ssh_options(&self, known_hosts: PathBuf, policy: HostKeyPolicy) -> SshOptions {
        SshOptions {
            user: testsshd::user(),
            identities: vec![self.client_key()],
            use_agent: false,
            known_hosts: vec![known_hosts],
            known_hosts_write: None,
            host_keys: policy,
            max_handshakes: 64,
        }
    }

    fn transport(&self) -> SshTransport {
        SshTransport::new(self.ssh_options(self.known_hosts_wildcard(), HostKeyPolicy::Strict))
            .expect("transport")
    }
}

/// A listener that accepts connections and never says anything (a hung sshd).
pub struct Silent {
    pub port: u16,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Silent {
    pub fn start() -> Silent {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        l.set_nonblocking(true).unwrap();
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let s2 = stop.clone();
        let thread = std::thread::spawn(move || {
            let mut held = Vec::new();
            while !s2.load(std::sync::atomic::Ordering::SeqCst) {
                if let Ok((c, _)) = l.accept() {
                    held.push(c);
                }
                std::thread::sleep(Duration::from_millis(10));
            }
        });
        Silent {
            port,
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for Silent {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// A node-side test root: `root/<node>/...` file trees and `root/bin` with fake system commands
/// (systemctl, route, ip, chronyd, hwclock, niminit, netstat, service) that only log their
/// arguments to `$PSROOT/calls.log`, so no step can touch this machine's services or routes.
pub struct NodeRoot {
    pub dir: tempfile::TempDir,
}

impl NodeRoot {
    pub fn new() -> NodeRoot {
        let dir = tempfile::tempdir().unwrap();
        let bin = dir.path().join("bin");
        std::fs::create_dir_all(&bin).unwrap();
        for cmd in [
            "systemctl",
            "route",
            "ip",
            "chronyd",
            "hwclock",
            "niminit",
            "netstat",
            "service",
            "timedatectl",
            "bootlist",
        ] {
            let body = match cmd {
                "netstat" => "#!/bin/sh\necho \"netstat $*\" >> \"$PSROOT/calls.log\"\ncat \"$PSROOT/netstat.out\" 2>/dev/null\n".to_string(),
                "route" => "#!/bin/sh\necho \"route $*\" >> \"$PSROOT/calls.log\"\nif [ -f \"$PSROOT/route.exists\" ]; then echo 'SIOCADDRT: File exists' >&2; exit 7; fi\n".to_string(),
                _ => format!("#!/bin/sh\necho \"{cmd} $*\" >> \"$PSROOT/calls.log\"\n"),
            };
            let p = bin.join(cmd);
            std::fs::write(&p, body).unwrap();
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        NodeRoot { dir }
    }

    /// The `node_root` option value (`<root>/{node}`).
    pub fn pattern(&self) -> String {
        format!("{}/{{node}}", self.dir.path().display())
    }

    pub fn node(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Creates the node's tree with the given files.
    pub fn prepare(&self, name: &str, files: &[(&str, &str)]) {
        for (rel, body) in files {
            let p = self.node(name).join(rel);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, body).unwrap();
        }
        std::fs::create_dir_all(self.node(name)).unwrap();
    }

    pub fn read(&self, name: &str, rel: &str) -> String {
        std::fs::read_to_string(self.node(name).join(rel))
            .unwrap_or_else(|e| panic!("{name}:{rel}: {e}"))
    }

    pub fn path_env(&self) -> String {
        format!("{}:/usr/bin:/bin", self.dir.path().join("bin").display())
    }
}

/// A job for node `name` at `addr` on the test sshd's port, with PATH pointing at the fakes.
/// Its TMPDIR is `<root>/<node>/tmp`, so leftovers can be checked per node.
pub fn job(name: &str, addr: &str, sshd: &Sshd, root: &NodeRoot) -> NodeJob {
    let tmp = root.node(name).join("tmp");
    std::fs::create_dir_all(&tmp).unwrap();
    NodeJob::new(name, addr)
        .port(sshd.port)
        .env("PATH", root.path_env())
        .env("TMPDIR", tmp.display().to_string())
}

pub fn opts(root: &NodeRoot, postscripts_dir: &Path) -> RunOptions {
    RunOptions {
        fanout: 16,
        connect_timeout: Duration::from_secs(5),
        command_timeout: Duration::from_secs(30),
        kill_grace: Duration::from_secs(2),
        port: 22,
        postscripts_dir: postscripts_dir.to_path_buf(),
        builtins: Builtins::Fallback,
        node_root: root.pattern(),
    }
}

/// Tests of one binary that start sshds run one at a time: their time bounds must not depend
/// on how many other tests hammer the same two cores at that moment.
pub fn serial() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

/// A port whose connects hang like a powered-off node's: a listener that never accepts, its
/// accept queue filled, so the kernel drops further SYNs.
pub struct BlackHole {
    pub port: u16,
    _listener: TcpListener,
    _held: Vec<TcpStream>,
}

impl BlackHole {
    pub fn start() -> BlackHole {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let addr = l.local_addr().unwrap();
        let mut held = Vec::new();
        for _ in 0..5000 {
            match TcpStream::connect_timeout(&addr, Duration::from_millis(300)) {
                Ok(s) => held.push(s),
                Err(_) => {
                    return BlackHole {
                        port,
                        _listener: l,
                        _held: held,
                    };
                }
            }
        }
        panic!("could not fill the accept queue of a listener");
    }
}
