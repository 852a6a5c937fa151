//! Test support: a private OpenSSH `sshd` on loopback, for the tests that need a real SSH
//! server (the fan-out of `postscripts`, the node-side steps of `snmove`).
//!
//! The server runs as a plain child process (`sshd -D`) with its own configuration, host key,
//! client key, `authorized_keys` and port in a temporary directory; it never touches the
//! machine's own sshd or its files. It listens on `0.0.0.0:PORT`, so one socket serves every
//! `127.0.0.0/8` address and tests can play many nodes as `127.x.y.z`, but it lets in only the
//! current user coming from loopback. Per-node behaviour comes from `Match LocalAddress` blocks
//! given to [`Sshd::start`]. The server is killed when the guard is dropped, also when a test
//! panics.
//!
//! ```no_run
//! let sshd = testsshd::Sshd::start("Match LocalAddress 127.1.0.9\n  ForceCommand exit 3\n");
//! let (kind, key) = sshd.host_key();
//! let line = format!("[127.1.*]:{} {kind} {key}\n", sshd.port);
//! std::fs::write(sshd.path("known_hosts"), line).unwrap();
//! // ... connect to 127.1.0.1:sshd.port as testsshd::user() with sshd.client_key()
//! ```
//!
//! A test helper: every failure to set the server up panics with what went wrong.

use std::io::Read;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Where Debian's `openssh-server` installs the daemon (`.ci/apt-packages` lists it).
pub const SSHD: &str = "/usr/sbin/sshd";

/// The user the tests log in as: this process's user.
pub fn user() -> String {
    std::env::var("USER")
        .ok()
        .filter(|u| !u.is_empty())
        .unwrap_or_else(|| "root".into())
}

/// A TCP port on loopback that was free a moment ago.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port on 127.0.0.1")
}

fn keygen(path: &Path) {
    let st = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-f"])
        .arg(path)
        .stdin(Stdio::null())
        .status()
        .expect("ssh-keygen runs (openssh-client)");
    assert!(st.success(), "ssh-keygen failed for {}", path.display());
}

/// A running private sshd; killed on drop.
pub struct Sshd {
    dir: tempfile::TempDir,
    /// The port it listens on, on every loopback address.
    pub port: u16,
    child: Child,
}

impl Sshd {
    /// Starts an sshd and waits until it greets. `extra` is appended to its configuration
    /// (typically `Match` blocks). Panics, with the server's log, when it does not come up
    /// within 10 s, and when `/usr/sbin/sshd` is missing (the tests need it: a missing server
    /// is a failure, not a skip).
    pub fn start(extra: &str) -> Sshd {
        assert!(
            Path::new(SSHD).exists(),
            "{SSHD} is missing: install openssh-server (.ci/apt-packages)"
        );
        // sshd checks that its privilege-separation directory exists.
        let _ = std::fs::create_dir_all("/run/sshd");
        let dir = tempfile::tempdir().expect("a temporary directory for sshd");
        let d = dir.path();
        keygen(&d.join("hostkey"));
        keygen(&d.join("client"));
        std::fs::copy(d.join("client.pub"), d.join("authorized_keys"))
            .expect("write authorized_keys");
        let port = free_port();
        let cfg = format!(
            "Port {port}\nListenAddress 0.0.0.0\nHostKey {d}/hostkey\nPidFile {d}/sshd.pid\n\
             AuthorizedKeysFile {d}/authorized_keys\nStrictModes no\nUsePAM no\n\
             PasswordAuthentication no\nKbdInteractiveAuthentication no\nUseDNS no\nPrintMotd no\n\
             PrintLastLog no\nLogLevel ERROR\nMaxStartups 4000:30:8000\nMaxSessions 100\n\
             PermitRootLogin prohibit-password\nAllowUsers {user}@127.*\nAllowTcpForwarding yes\n\
             SetEnv SHLVL=1\nSubsystem sftp internal-sftp\n{extra}\n",
            d = d.display(),
            user = user(),
        );
        std::fs::write(d.join("sshd_config"), cfg).expect("write sshd_config");
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
        panic!("sshd did not start; log: {}", self.log());
    }

    /// The server's private directory (config, keys, log); tests may put files there too.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// A file in [`Sshd::dir`].
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// The private key the server accepts for [`user`].
    pub fn client_key(&self) -> PathBuf {
        self.path("client")
    }

    /// The server's host key as `(type, base64)`, for known_hosts lines.
    pub fn host_key(&self) -> (String, String) {
        let text = std::fs::read_to_string(self.path("hostkey.pub")).expect("read hostkey.pub");
        let mut f = text.split_whitespace();
        match (f.next(), f.next()) {
            (Some(t), Some(b)) => (t.to_string(), b.to_string()),
            _ => panic!("hostkey.pub is not a public key line: {text:?}"),
        }
    }

    /// What the server logged so far (errors only).
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
