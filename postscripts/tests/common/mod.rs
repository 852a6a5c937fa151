//! Test harness: a private OpenSSH sshd on loopback, many "nodes" as 127.x.y.z addresses.
//!
//! The sshd runs as a plain child process (`sshd -D`) with its own config, host key, port and
//! authorized_keys in a temporary directory; per-node behaviour comes from `Match LocalAddress`
//! blocks. It is killed when the guard is dropped, also when a test panics. It listens on
//! 0.0.0.0:PORT (one socket serves every 127.0.0.0/8 address) but lets only loopback clients in.

#![allow(dead_code)]

use postscripts::*;
use std::io::Read;
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const SSHD: &str = "/usr/sbin/sshd";

pub struct Sshd {
    pub dir: tempfile::TempDir,
    pub port: u16,
    child: Child,
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// The i-th node address (i from 0): 127.1.x.y.
pub fn node_addr(i: usize) -> String {
    Ipv4Addr::new(127, 1, (i / 250) as u8, (i % 250 + 1) as u8).to_string()
}

fn keygen(path: &Path) {
    let st = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-f"])
        .arg(path)
        .stdin(Stdio::null())
        .status()
        .expect("ssh-keygen");
    assert!(st.success(), "ssh-keygen failed");
}

impl Sshd {
    /// Starts an sshd; `matches` is appended to its config (Match blocks).
    pub fn start(matches: &str) -> Sshd {
        assert!(
            Path::new(SSHD).exists(),
            "{SSHD} is missing: install openssh-server (.ci/apt-packages)"
        );
        let _ = std::fs::create_dir_all("/run/sshd");
        let dir = tempfile::tempdir().expect("tempdir");
        let d = dir.path();
        keygen(&d.join("hostkey"));
        keygen(&d.join("client"));
        std::fs::copy(d.join("client.pub"), d.join("authorized_keys")).unwrap();
        let port = free_port();
        let cfg = format!(
            "Port {port}\nListenAddress 0.0.0.0\nHostKey {d}/hostkey\nPidFile {d}/sshd.pid\n\
             AuthorizedKeysFile {d}/authorized_keys\nStrictModes no\nUsePAM no\n\
             PasswordAuthentication no\nKbdInteractiveAuthentication no\nUseDNS no\nPrintMotd no\n\
             PrintLastLog no\nLogLevel ERROR\nMaxStartups 4000:30:8000\nMaxSessions 100\n\
             PermitRootLogin prohibit-password\nAllowUsers root@127.*\nAllowTcpForwarding yes\n\
             SetEnv SHLVL=1\nSubsystem sftp internal-sftp\n{matches}\n",
            d = d.display()
        );
        std::fs::write(d.join("sshd_config"), cfg).unwrap();
        let child = Command::new(SSHD)
            .arg("-D")
            .arg("-f")
            .arg(d.join("sshd_config"))
            .arg("-E")
            .arg(d.join("sshd.log"))
            .stdin(Stdio::null())
            .spawn()
            .expect("start sshd");
        let s = Sshd { dir, port, child };
        s.wait_ready();
        s
    }

    fn wait_ready(&self) {
        let until = Instant::now() + Duration::from_secs(10);
        while Instant::now() < until {
            if let Ok(mut c) = TcpStream::connect(("127.0.0.1", self.port)) {
                let mut b = [0u8; 4];
                if c.read_exact(&mut b).is_ok() && &b == b"SSH-" {
                    return;
                }
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!(
            "sshd did not start; log: {}",
            std::fs::read_to_string(self.dir.path().join("sshd.log")).unwrap_or_default()
        );
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn host_pub(&self) -> String {
        std::fs::read_to_string(self.path("hostkey.pub")).unwrap()
    }

    /// A known_hosts file accepting this sshd's key on every 127.1.* address and for names
    /// cn* and sn* (minus the `negate` patterns), plus `extra` lines.
    pub fn known_hosts_with(&self, negate: &str, extra: &str) -> PathBuf {
        let p = self.path("known_hosts");
        let k = self.host_pub();
        let mut f = k.split_whitespace();
        let (t, b) = (f.next().unwrap(), f.next().unwrap());
        let port = self.port;
        let line = format!("[127.1.*]:{port},[cn*]:{port},[sn*]:{port}{negate} {t} {b}\n");
        std::fs::write(&p, format!("# test\n{line}{extra}")).unwrap();
        p
    }

    pub fn known_hosts_wildcard(&self) -> PathBuf {
        self.known_hosts_with("", "")
    }

    pub fn ssh_options(&self, known_hosts: PathBuf, policy: HostKeyPolicy) -> SshOptions {
        SshOptions {
            user: "root".into(),
            identities: vec![self.path("client")],
            use_agent: false,
            known_hosts: vec![known_hosts],
            known_hosts_write: None,
            host_keys: policy,
            max_handshakes: 64,
        }
    }

    pub fn transport(&self) -> SshTransport {
        SshTransport::new(self.ssh_options(self.known_hosts_wildcard(), HostKeyPolicy::Strict))
            .expect("transport")
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.path("sshd.log")).unwrap_or_default()
    }
}

impl Drop for Sshd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
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
