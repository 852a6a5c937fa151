//! A private PostgreSQL server for tests: `initdb` into a temporary directory, `postgres` on a
//! free loopback port and a private socket directory, run as an unprivileged user, torn down
//! when the test process exits (normally, after a failed test, or — through the parent-death
//! signal — when it is killed).

use std::ffi::CString;
use std::fs;
use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use crate::TestDbError;

/// The role the stores under test log in as (a member of nothing, owner of its databases).
pub const USER: &str = "xcatadm";
/// Its password (a test-only credential; the tests check it never leaks into output).
pub const PASSWORD: &str = "Tst-pw.9f27c1e4-never-printed";
/// The server's superuser (trusted on the private socket only).
const SUPERUSER: &str = "postgres";
/// Prefix of the temporary directories (stale ones of dead processes are removed).
const DIR_PREFIX: &str = "xcattab-pg-";

/// A running private PostgreSQL server.
pub struct PgServer {
    base: PathBuf,
    socket_dir: PathBuf,
    port: u16,
    pid: libc::pid_t,
    version: String,
    counter: AtomicUsize,
    admin: Mutex<Option<postgres::Client>>,
}

/// A fresh database on the shared server, dropped (with `WITH (FORCE)`) when this is dropped.
#[derive(Debug)]
pub struct PgDatabase {
    server: &'static PgServer,
    name: String,
}

static SERVER: OnceLock<Result<PgServer, String>> = OnceLock::new();

/// The server shared by every test of this process, started on first use.
///
/// Starting fails loudly (an error naming what went wrong, with the server log) rather than
/// letting a test skip: CI must prove the PostgreSQL back end.
///
/// ```no_run
/// let db = testdb::pg::server().unwrap().create_database().unwrap();
/// assert!(db.spec().starts_with("Pg:dbname="));
/// ```
pub fn server() -> Result<&'static PgServer, TestDbError> {
    SERVER
        .get_or_init(|| {
            let s = start().map_err(|e| e.to_string())?;
            // SAFETY: registering a plain extern "C" function.
            unsafe {
                libc::atexit(stop_at_exit);
            }
            Ok(s)
        })
        .as_ref()
        .map_err(|e| TestDbError::Start(e.clone()))
}

extern "C" fn stop_at_exit() {
    if let Some(Ok(s)) = SERVER.get() {
        s.stop();
    }
}

impl std::fmt::Debug for PgServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgServer")
            .field("base", &self.base)
            .field("port", &self.port)
            .field("pid", &self.pid)
            .finish_non_exhaustive()
    }
}

impl PgServer {
    /// The loopback TCP port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The private Unix-socket directory (usable as `host=` in a store string).
    pub fn socket_dir(&self) -> &Path {
        &self.socket_dir
    }

    /// The server's version line (`PostgreSQL 15.x …`).
    pub fn version(&self) -> &str {
        &self.version
    }

    /// The postmaster's process id.
    pub fn pid(&self) -> i32 {
        self.pid
    }

    /// Creates a new, empty database owned by [`USER`].
    pub fn create_database(&'static self) -> Result<PgDatabase, TestDbError> {
        let n = self.counter.fetch_add(1, Ordering::SeqCst);
        let name = format!("xcatdb_{n}");
        self.admin_execute(&format!(
            "CREATE DATABASE {name} OWNER {USER} TEMPLATE template0 STRATEGY FILE_COPY"
        ))?;
        Ok(PgDatabase { server: self, name })
    }

    /// Runs one statement as the superuser on the `postgres` database.
    pub fn admin_execute(&self, sql: &str) -> Result<(), TestDbError> {
        let mut guard = self.admin.lock().unwrap_or_else(|p| p.into_inner());
        if guard.is_none() {
            *guard = Some(self.superuser_client("postgres")?);
        }
        let client = guard
            .as_mut()
            .ok_or_else(|| TestDbError::Start("no admin connection".into()))?;
        client.batch_execute(sql).map_err(|e| {
            *guard = None;
            TestDbError::Pg(format!("{sql}: {e}"))
        })
    }

    /// A superuser connection to database `db` over the private socket.
    pub fn superuser_client(&self, db: &str) -> Result<postgres::Client, TestDbError> {
        postgres::Config::new()
            .host_path(&self.socket_dir)
            .port(self.port)
            .user(SUPERUSER)
            .dbname(db)
            .connect(postgres::NoTls)
            .map_err(|e| TestDbError::Pg(format!("connect to {db}: {e}")))
    }

    fn stop(&self) {
        // Fast shutdown: abort sessions, exit. Then wait for the postmaster (our child).
        // SAFETY: plain libc calls on a pid we spawned.
        unsafe {
            libc::kill(self.pid, libc::SIGINT);
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let mut status = 0;
            // SAFETY: as above.
            let r = unsafe { libc::waitpid(self.pid, &mut status, libc::WNOHANG) };
            if r != 0 || Instant::now() > deadline {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        // SAFETY: as above; harmless if it is already gone.
        unsafe {
            libc::kill(self.pid, libc::SIGKILL);
            libc::waitpid(self.pid, std::ptr::null_mut(), libc::WNOHANG);
        }
        let _ = fs::remove_dir_all(&self.base);
    }
}

impl PgDatabase {
    /// The database name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The store string, as `/etc/xcat/cfgloc` would hold it, for a loopback TCP connection
    /// with password authentication (SCRAM) as [`USER`].
    pub fn spec(&self) -> String {
        format!(
            "Pg:dbname={};host=127.0.0.1;port={}|{USER}|{PASSWORD}",
            self.name, self.server.port
        )
    }

    /// The store string for the private Unix socket (`host=` a directory).
    pub fn socket_spec(&self) -> String {
        format!(
            "Pg:dbname={};host={};port={}|{USER}|",
            self.name,
            self.server.socket_dir.display(),
            self.server.port
        )
    }

    /// A superuser connection to this database (to inspect or tamper with it).
    pub fn superuser_client(&self) -> Result<postgres::Client, TestDbError> {
        self.server.superuser_client(&self.name)
    }

    /// The server this database lives on.
    pub fn server(&self) -> &'static PgServer {
        self.server
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        let _ = self.server.admin_execute(&format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            self.name
        ));
    }
}

/// Where the server binaries are: `$PG_BINDIR`, the newest `/usr/lib/postgresql/*/bin`
/// (Debian), then `PATH`.
fn find_bindir() -> Result<PathBuf, TestDbError> {
    let has = |d: &Path| d.join("initdb").is_file() && d.join("postgres").is_file();
    if let Some(d) = std::env::var_os("PG_BINDIR") {
        let d = PathBuf::from(d);
        if has(&d) {
            return Ok(d);
        }
    }
    let mut versions: Vec<(u32, PathBuf)> = fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let v: u32 = e.file_name().to_str()?.parse().ok()?;
            Some((v, e.path().join("bin")))
        })
        .filter(|(_, d)| has(d))
        .collect();
    versions.sort();
    if let Some((_, d)) = versions.pop() {
        return Ok(d);
    }
    for d in std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()) {
        if has(&d) {
            return Ok(d);
        }
    }
    Err(TestDbError::Start(
        "PostgreSQL server binaries (initdb, postgres) not found in $PG_BINDIR, \
         /usr/lib/postgresql/*/bin or PATH: install the Debian package `postgresql` \
         (listed in .ci/apt-packages)"
            .into(),
    ))
}

/// The account to run the server as: the current one, unless we are root (PostgreSQL refuses
/// to run as root), then `$XCATTAB_PG_USER` or `postgres`.
fn run_as() -> Result<Option<(libc::uid_t, libc::gid_t, String)>, TestDbError> {
    // SAFETY: plain libc queries.
    if unsafe { libc::geteuid() } != 0 {
        return Ok(None);
    }
    let name = std::env::var("XCATTAB_PG_USER").unwrap_or_else(|_| "postgres".into());
    let c = CString::new(name.clone()).map_err(|_| TestDbError::Start("bad user name".into()))?;
    // SAFETY: getpwnam returns a pointer to static storage or NULL; we copy the fields at once.
    let pw = unsafe { libc::getpwnam(c.as_ptr()) };
    if pw.is_null() {
        return Err(TestDbError::Start(format!(
            "running as root, and there is no user {name:?} to run PostgreSQL as (it refuses \
             root): install the `postgresql` package, which creates it, or set XCATTAB_PG_USER"
        )));
    }
    // SAFETY: pw is non-null and points to a valid passwd entry.
    let (uid, gid) = unsafe { ((*pw).pw_uid, (*pw).pw_gid) };
    Ok(Some((uid, gid, name)))
}

fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> TestDbError {
    let what = what.into();
    move |e| TestDbError::Start(format!("{what}: {e}"))
}

/// Removes the directories of test servers whose process no longer exists.
fn remove_stale(tmp: &Path) {
    for e in fs::read_dir(tmp).into_iter().flatten().flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let Some(rest) = name.strip_prefix(DIR_PREFIX) else {
            continue;
        };
        let Some(pid) = rest
            .split('-')
            .next()
            .and_then(|p| p.parse::<libc::pid_t>().ok())
        else {
            continue;
        };
        // SAFETY: signal 0 only checks for existence.
        let alive = unsafe { libc::kill(pid, 0) } == 0
            || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM);
        if !alive {
            let _ = fs::remove_dir_all(e.path());
        }
    }
}

/// Applies the account switch (and the parent-death signal) in the child before exec.
fn prepare(cmd: &mut Command, user: &Option<(libc::uid_t, libc::gid_t, String)>, pdeathsig: bool) {
    let user = user.as_ref().map(|(u, g, _)| (*u, *g));
    // SAFETY: only async-signal-safe libc calls between fork and exec.
    unsafe {
        let parent = libc::getpid();
        cmd.pre_exec(move || {
            if let Some((uid, gid)) = user {
                if libc::setgroups(0, std::ptr::null()) != 0
                    || libc::setgid(gid) != 0
                    || libc::setuid(uid) != 0
                {
                    return Err(std::io::Error::last_os_error());
                }
            }
            if pdeathsig {
                // Set after setuid: changing credentials clears it.
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGQUIT as libc::c_ulong);
                if libc::getppid() != parent {
                    libc::_exit(1);
                }
            }
            Ok(())
        });
    }
}

fn free_port() -> Result<u16, TestDbError> {
    let l = std::net::TcpListener::bind("127.0.0.1:0").map_err(io("bind a loopback port"))?;
    Ok(l.local_addr().map_err(io("read a loopback port"))?.port())
}

fn read_log(path: &Path) -> String {
    let mut s = String::new();
    if let Ok(mut f) = fs::File::open(path) {
        let _ = f.read_to_string(&mut s);
    }
    s
}

fn start() -> Result<PgServer, TestDbError> {
    let bindir = find_bindir()?;
    let user = run_as()?;
    let tmp = std::env::temp_dir();
    remove_stale(&tmp);
    static SEQ: AtomicUsize = AtomicUsize::new(0);
    let base = tmp.join(format!(
        "{DIR_PREFIX}{}-{}",
        std::process::id(),
        SEQ.fetch_add(1, Ordering::SeqCst)
    ));
    let _ = fs::remove_dir_all(&base);
    fs::create_dir(&base).map_err(io(format!("create {}", base.display())))?;
    fs::set_permissions(&base, fs::Permissions::from_mode(0o700)).map_err(io("chmod"))?;
    let socket_dir = base.join("sock");
    fs::create_dir(&socket_dir).map_err(io("create the socket directory"))?;
    if let Some((uid, gid, _)) = &user {
        for d in [&base, &socket_dir] {
            std::os::unix::fs::chown(d, Some(*uid), Some(*gid))
                .map_err(io(format!("chown {}", d.display())))?;
        }
    }
    let data = base.join("data");
    let mut initdb = Command::new(bindir.join("initdb"));
    initdb
        .arg("-D")
        .arg(&data)
        .args([
            "-U",
            SUPERUSER,
            "-A",
            "trust",
            "--auth-host=scram-sha-256",
            "-E",
            "UTF8",
        ])
        .args(["--locale=C", "--no-sync", "--no-instructions"])
        .env("LC_ALL", "C")
        .env_remove("PGDATA")
        .stdin(Stdio::null())
        .current_dir(&base);
    prepare(&mut initdb, &user, false);
    let out = initdb
        .output()
        .map_err(io(format!("run {}", bindir.join("initdb").display())))?;
    if !out.status.success() {
        let _ = fs::remove_dir_all(&base);
        return Err(TestDbError::Start(format!(
            "initdb failed ({}):\n{}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )));
    }
    let mut last_log = String::new();
    for attempt in 0..4 {
        let port = free_port()?;
        let log_path = base.join(format!("server-{attempt}.log"));
        let log = fs::File::create(&log_path).map_err(io("create the server log"))?;
        let log2 = log.try_clone().map_err(io("dup the server log"))?;
        let mut cmd = Command::new(bindir.join("postgres"));
        cmd.arg("-D")
            .arg(&data)
            .arg("-k")
            .arg(&socket_dir)
            .args(["-p", &port.to_string()])
            .args(["-c", "listen_addresses=127.0.0.1"])
            .args([
                "-c",
                "fsync=off",
                "-c",
                "synchronous_commit=off",
                "-c",
                "full_page_writes=off",
            ])
            .args(["-c", "max_connections=200", "-c", "shared_buffers=64MB"])
            .args(["-c", "max_wal_size=1GB", "-c", "log_min_messages=warning"])
            .env("LC_ALL", "C")
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log2)
            .current_dir(&base);
        prepare(&mut cmd, &user, true);
        // Spawn from a thread that lives as long as the process: the parent-death signal fires
        // when the *thread* that forked the child exits.
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::Builder::new()
            .name("pg-keeper".into())
            .spawn(move || {
                let r = cmd.spawn().map(|c| c.id() as libc::pid_t);
                let _ = tx.send(r);
                loop {
                    std::thread::park();
                }
            })
            .map_err(io("spawn the keeper thread"))?;
        let pid = rx
            .recv()
            .map_err(|_| TestDbError::Start("the keeper thread died".into()))?
            .map_err(io(format!("run {}", bindir.join("postgres").display())))?;
        let server = PgServer {
            base: base.clone(),
            socket_dir: socket_dir.clone(),
            port,
            pid,
            version: String::new(),
            counter: AtomicUsize::new(0),
            admin: Mutex::new(None),
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let mut status = 0;
            // SAFETY: waitpid on our own child.
            let exited = unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) } == pid;
            if exited {
                last_log = read_log(&log_path);
                break;
            }
            if let Ok(mut c) = server.superuser_client("postgres") {
                let version: String = c
                    .query_one("SELECT version()", &[])
                    .map_err(|e| TestDbError::Pg(e.to_string()))?
                    .get(0);
                c.batch_execute(&format!("CREATE ROLE {USER} LOGIN PASSWORD '{PASSWORD}'"))
                    .map_err(|e| TestDbError::Pg(format!("create role {USER}: {e}")))?;
                let mut server = server;
                server.version = version;
                *server.admin.lock().unwrap_or_else(|p| p.into_inner()) = Some(c);
                return Ok(server);
            }
            if Instant::now() > deadline {
                last_log = read_log(&log_path);
                server.stop();
                return Err(TestDbError::Start(format!(
                    "the PostgreSQL test server did not accept connections within 60 s; its \
                     log:\n{last_log}"
                )));
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        // The postmaster exited: most likely the port was taken in between; try another.
        if !last_log.contains("could not bind") && !last_log.contains("Address already in use") {
            break;
        }
    }
    let _ = fs::remove_dir_all(&base);
    Err(TestDbError::Start(format!(
        "the PostgreSQL test server exited at start-up; its log:\n{last_log}"
    )))
}
