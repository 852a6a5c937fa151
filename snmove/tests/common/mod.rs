//! A small cluster in a store of any kind (CSV, SQLite, PostgreSQL — made by `testdb` from
//! CSV seed tables), recording stand-ins for xCAT's commands on PATH, and a runner of the real
//! `snmove` binary whose output is made deterministic for snapshots. Tables are compared
//! through their tabdump text, so one snapshot serves every store.
#![allow(dead_code)]

use std::cell::OnceCell;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

pub use testdb::StoreKind;
use testdb::{materialise, Materialised};

/// The sample tables every test starts from (Linux; two racks on two SN pairs).
pub const SITE: &str =
    "#key,value,comments,disable\n\"master\",\"10.0.0.1\",,\n\"domain\",\"cluster.example\",,\n";
pub const NODELIST: &str = "#node,groups,status,statustime,appstatus,appstatustime,primarysn,hidden,updatestatus,updatestatustime,zonename,comments,disable
\"mn\",\"__mgmtnode\",,,,,,,,,,,
\"sn1\",\"service\",,,,,,,,,,,
\"sn2\",\"service\",,,,,,,,,,,
\"sn3\",\"service\",,,,,,,,,,,
\"cn1\",\"compute,rack1\",,,,,,,,,,,
\"cn2\",\"compute,rack1\",,,,,,,,,,,
\"cn3\",\"compute,rack1\",,,,,,,,,,,
\"cn4\",\"compute,rack1\",,,,,,,,,,,
\"cn5\",\"compute,rack2\",,,,,,,,,,,
\"cn6\",\"compute,rack2\",,,,,,,,,,,
";
pub const NODERES: &str = "#node,servicenode,netboot,tftpserver,tftpdir,nfsserver,monserver,nfsdir,installnic,primarynic,discoverynics,cmdinterface,xcatmaster,current_osimage,next_osimage,nimserver,routenames,nameservers,proxydhcp,syslog,comments,disable
\"rack1\",\"sn1,sn2\",,\"sn1-c\",,\"10.1.1.100\",\"sn1,sn1-c\",,,,,,\"sn1-c\",,,,,,,,,
\"rack2\",\"sn2,sn1\",,,,,,,,,,,\"sn2-c\",,,,,,,,,
";
pub const NODEHM: &str = "#node,power,mgt,cons,termserver,termport,conserver,serialport,serialspeed,serialflow,getmac,cmdmapping,consoleondemand,consoleenabled,comments,disable
\"compute\",\"ipmi\",\"ipmi\",\"ipmi\",,,\"sn1\",,,,,,,,,
";
pub const NODETYPE: &str =
    "#node,os,arch,profile,provmethod,supportedarchs,nodetype,comments,disable
\"compute\",\"rhels8\",\"x86_64\",\"compute\",\"rhels8-x86_64-netboot-compute\",,,,
";
pub const HOSTS: &str = "#node,ip,hostnames,otherinterfaces,comments,disable
\"mn\",\"10.0.0.1\",,,,
\"sn1\",\"10.0.0.11\",,\"sn1-c:10.1.1.100\",,
\"sn2\",\"10.0.0.12\",,\"sn2-c:10.1.2.100\",,
\"sn3\",\"10.0.0.13\",,\"sn3-c:10.1.3.100\",,
\"compute\",\"|cn(\\d+)|10.1.0.($1+0)|\",,,,
";
pub const NETWORKS: &str = "#netname,net,mask,mgtifname,gateway,dhcpserver,tftpserver,nameservers,ntpservers,logservers,dynamicrange,staticrange,staticrangeincrement,nodehostname,ddnsdomain,vlanid,domain,mtu,comments,disable
\"mgmt\",\"10.0.0.0\",\"255.255.0.0\",\"eth0\",,,,,,,,,,,,,,,,
\"compute\",\"10.1.0.0\",\"255.255.0.0\",\"eth1\",\"<xcatmaster>\",,,,,,,,,,,,,,,
";
pub const POSTSCRIPTS: &str = "#node,postscripts,postbootscripts,comments,disable
\"xcatdefaults\",\"syslog,remoteshell,syncfiles\",\"otherpkgs\",,
\"compute\",\"setupntp\",,,
";

/// `ip addr` of sn2 as `xdsh sn2` prints it.
pub const SN2_IP_ADDR: &str = "1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN
    inet 127.0.0.1/8 scope host lo
    inet6 ::1/128 scope host
2: eth0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc mq state UP
    inet 10.0.0.12/16 brd 10.0.255.255 scope global eth0
3: eth1: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc mq state UP
    inet 10.1.2.100/16 brd 10.1.255.255 scope global eth1
    inet6 fe80::2/64 scope link
";

/// The stand-in for every xCAT command: records its argv, answers `xdsh <sn> ip addr` from
/// `$STANDIN/ipaddr.<sn>` (missing file: the SN is unreachable), prints `$STANDIN/out.<cmd>`
/// and exits with `$STANDIN/rc.<cmd>` when those exist.
const STANDIN: &str = r#"#!/bin/sh
cmd=$(basename "$0")
printf '%s' "$cmd" >> "$STANDIN/calls"
for a in "$@"; do printf ' [%s]' "$a" >> "$STANDIN/calls"; done
printf '\n' >> "$STANDIN/calls"
if [ -f "$STANDIN/hook.$cmd" ]; then sh "$STANDIN/hook.$cmd"; fi
if [ "$cmd" = xdsh ] && [ "$#" = 2 ] && [ "$1" != -v ]; then
    if [ -f "$STANDIN/ipaddr.$1" ]; then
        sed "s/^/$1: /" "$STANDIN/ipaddr.$1"
        exit 0
    fi
    echo "$1: ssh: connect to host $1 port 22: No route to host" >&2
    exit 1
fi
if [ -f "$STANDIN/out.$cmd" ]; then cat "$STANDIN/out.$cmd"; fi
if [ -f "$STANDIN/rc.$cmd" ]; then exit "$(cat "$STANDIN/rc.$cmd")"; fi
exit 0
"#;

/// The stores a test runs on: every kind, or those named in `SNMOVE_TEST_STORES`
/// (`csv,sqlite,pg`; for quick local runs — CI runs them all).
pub fn stores() -> Vec<StoreKind> {
    match std::env::var("SNMOVE_TEST_STORES") {
        Ok(v) if !v.trim().is_empty() => StoreKind::ALL
            .into_iter()
            .filter(|k| v.split(',').any(|n| n.trim() == k.name()))
            .collect(),
        _ => StoreKind::ALL.to_vec(),
    }
}

/// A cluster: seed tables (CSV, edited before the first use of the store), the store made from
/// them on first use, stand-ins for xCAT's commands and a journal directory.
pub struct Cluster {
    pub dir: tempfile::TempDir,
    /// The kind of store.
    pub kind: StoreKind,
    /// The seed tables (a tabdump CSV directory).
    seed: PathBuf,
    /// The store opened by the test itself (one connection for every dump; dropped before the
    /// store).
    opened: OnceCell<Box<dyn xcattab::store::Store>>,
    /// The store, made from the seed on first use.
    store: OnceCell<Materialised>,
    /// Stand-in scripts and their records.
    pub standin: PathBuf,
    /// Whether the stand-ins are on PATH (otherwise xCAT is "not installed").
    pub xcat_installed: bool,
}

impl Cluster {
    /// The sample cluster in a store of `kind`, with xCAT's commands present (stand-ins) and
    /// sn2 answering `ip addr`.
    pub fn new(kind: StoreKind) -> Self {
        // Captured by the test harness: names the store of a failing iteration.
        eprintln!("--- store: {kind}");
        let dir = tempfile::tempdir().expect("tempdir");
        let seed = dir.path().join("seed");
        let standin = dir.path().join("bin");
        std::fs::create_dir_all(&seed).unwrap();
        std::fs::create_dir_all(&standin).unwrap();
        std::fs::create_dir_all(dir.path().join("journals")).unwrap();
        for cmd in ["makeconservercf", "nodeset", "xdsh", "updatenode"] {
            let p = standin.join(cmd);
            std::fs::write(&p, STANDIN).unwrap();
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        let c = Cluster {
            dir,
            kind,
            seed,
            opened: OnceCell::new(),
            store: OnceCell::new(),
            standin,
            xcat_installed: true,
        };
        for (t, text) in [
            ("site", SITE),
            ("nodelist", NODELIST),
            ("noderes", NODERES),
            ("nodehm", NODEHM),
            ("nodetype", NODETYPE),
            ("hosts", HOSTS),
            ("networks", NETWORKS),
            ("postscripts", POSTSCRIPTS),
        ] {
            c.table(t, text);
        }
        c.sn_answers("sn2", SN2_IP_ADDR);
        c
    }

    /// The sample cluster in a CSV store.
    pub fn csv() -> Self {
        Self::new(StoreKind::Csv)
    }

    /// The store (made from the seed tables on first use).
    pub fn store(&self) -> &Materialised {
        self.store.get_or_init(|| {
            materialise(self.kind, &self.seed)
                .unwrap_or_else(|e| panic!("{} store from the seed tables: {e}", self.kind))
        })
    }

    /// The store, opened by this test process.
    pub fn open(&self) -> &dyn xcattab::store::Store {
        &**self
            .opened
            .get_or_init(|| self.store().open().expect("store opens"))
    }

    /// The store string.
    pub fn spec(&self) -> &str {
        self.store().spec()
    }

    /// The directory of journals and of the move lock (`--journal-dir` of every run).
    pub fn journals(&self) -> PathBuf {
        self.dir.path().join("journals")
    }

    /// The journals written so far.
    pub fn journal_files(&self) -> Vec<PathBuf> {
        let mut v: Vec<PathBuf> = std::fs::read_dir(self.journals())
            .map(|d| {
                d.filter_map(|e| e.ok())
                    .map(|e| e.path())
                    .filter(|p| {
                        p.extension().is_some_and(|x| x == "json")
                            && !p.to_string_lossy().ends_with(".nodes.json")
                    })
                    .collect()
            })
            .unwrap_or_default();
        v.sort();
        v
    }

    /// Replaces a seed table (before the store is made).
    pub fn table(&self, name: &str, text: &str) -> &Self {
        assert!(
            self.store.get().is_none(),
            "seed table {name} edited after the store was made"
        );
        std::fs::write(self.seed.join(format!("{name}.csv")), text).unwrap();
        self
    }

    /// Appends rows to a seed table (before the store is made).
    pub fn rows(&self, name: &str, rows: &str) -> &Self {
        let mut t =
            std::fs::read_to_string(self.seed.join(format!("{name}.csv"))).unwrap_or_default();
        t.push_str(rows);
        self.table(name, &t)
    }

    /// Makes `sn` answer `ip addr` with `output`.
    pub fn sn_answers(&self, sn: &str, output: &str) -> &Self {
        std::fs::write(self.standin.join(format!("ipaddr.{sn}")), output).unwrap();
        self
    }

    /// Makes a stand-in print `out` and exit with `rc`.
    pub fn command_says(&self, cmd: &str, out: &str, rc: i32) -> &Self {
        std::fs::write(self.standin.join(format!("out.{cmd}")), out).unwrap();
        std::fs::write(self.standin.join(format!("rc.{cmd}")), rc.to_string()).unwrap();
        self
    }

    /// Runs a shell snippet whenever the stand-in `cmd` is called (before it answers).
    pub fn hook(&self, cmd: &str, script: &str) -> &Self {
        std::fs::write(self.standin.join(format!("hook.{cmd}")), script).unwrap();
        self
    }

    /// A table as `tabdump` prints it, read from the store ("" when the store has no such
    /// table).
    pub fn dump(&self, name: &str) -> String {
        let store = self.open();
        let db = store.load(&[name]).expect("table loads");
        match db.table(name) {
            Some(t) if !t.is_empty() || self.has_table(store, name) => xcattab::csv::dump(t),
            _ => String::new(),
        }
    }

    fn has_table(&self, store: &dyn xcattab::store::Store, name: &str) -> bool {
        store
            .list_tables()
            .expect("tables list")
            .iter()
            .any(|t| t == name)
    }

    /// Every table of the store, by name, as `tabdump` prints it; for a CSV store also every
    /// file's bytes (byte-identical files, not only equal tables).
    pub fn all_tables(&self) -> Vec<(String, Vec<u8>)> {
        let store = self.open();
        let names = store.list_tables().expect("tables list");
        let refs: Vec<&str> = names.iter().map(String::as_str).collect();
        let db = store.load(&refs).expect("tables load");
        let mut v: Vec<(String, Vec<u8>)> = db
            .tables()
            .map(|t| (t.name().to_string(), xcattab::csv::dump(t).into_bytes()))
            .collect();
        if let Some(dir) = self.spec().strip_prefix("CSV:") {
            for e in std::fs::read_dir(dir).unwrap().filter_map(|e| e.ok()) {
                if e.path().extension().is_some_and(|x| x == "csv") {
                    let name = format!("file {}", e.file_name().to_string_lossy());
                    v.push((name, std::fs::read(e.path()).unwrap()));
                }
            }
        }
        v.sort();
        v
    }

    /// Changes a row of the store as another writer would (one commit of its own).
    pub fn write_row(&self, table: &str, key: &str, values: &[(&str, &str)]) {
        let store = self.open();
        let mut batch = xcattab::Batch::new();
        batch.set(table, key, values.iter().copied());
        store.commit(&batch).expect("concurrent write commits");
    }

    /// The stand-in calls so far, one per line.
    pub fn calls(&self) -> String {
        std::fs::read_to_string(self.standin.join("calls")).unwrap_or_default()
    }

    /// Runs `snmove args…` on this cluster (store from `XCATCFG`, journals in
    /// [`Cluster::journals`], host name `mn`).
    pub fn run(&self, args: &[&str]) -> Run {
        self.run_env(args, &[])
    }

    /// Runs `snmove args…` with extra environment variables.
    pub fn run_env(&self, args: &[&str], env: &[(&str, String)]) -> Run {
        let out = self.command(args, env, true).output().expect("snmove runs");
        self.finish(args, out)
    }

    /// Runs `snmove args…` without `--journal-dir` (the default journal directory).
    pub fn run_default_journal_dir(&self, args: &[&str]) -> Run {
        let out = self
            .command(args, &[], false)
            .output()
            .expect("snmove runs");
        self.finish(args, out)
    }

    /// Runs `snmove args…`; when the stand-in `cmd` is first called, it waits while `during`
    /// runs in this process (for example another writer changing the store).
    pub fn run_pausing_at(&self, cmd: &str, args: &[&str], during: impl FnOnce()) -> Run {
        let paused = self.standin.join("paused");
        let resume = self.standin.join("resume");
        self.hook(
            cmd,
            &format!(
                "if [ ! -f '{r}' ]; then : > '{p}'; while [ ! -f '{r}' ]; do sleep 0.01; done; fi\n",
                p = paused.display(),
                r = resume.display()
            ),
        );
        let child = self
            .command(args, &[], true)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("snmove starts");
        let start = Instant::now();
        while !paused.exists() {
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "{cmd} was never called"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        during();
        std::fs::write(&resume, "").unwrap();
        let out = child.wait_with_output().expect("snmove ends");
        self.finish(args, out)
    }

    fn command(&self, args: &[&str], env: &[(&str, String)], journal_dir: bool) -> Command {
        let path = if self.xcat_installed {
            format!("{}:/usr/bin:/bin", self.standin.display())
        } else {
            "/usr/bin:/bin".to_string()
        };
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_snmove"));
        if journal_dir {
            // First, so that no argument of the test can take it as its value.
            cmd.arg("--journal-dir").arg(self.journals());
        }
        cmd.args(args)
            .env_clear()
            .env("PATH", path)
            .env("STANDIN", &self.standin)
            .env("XCATCFG", self.spec())
            .env("SNMOVE_HOSTNAME", "mn")
            .envs(env.iter().map(|(k, v)| (k, v)))
            .current_dir(self.dir.path());
        cmd
    }

    fn finish(&self, args: &[&str], out: std::process::Output) -> Run {
        let spec = self.spec();
        let dir = spec
            .strip_prefix("CSV:")
            .or_else(|| spec.strip_prefix("SQLite:"));
        let redact_store = |s: String| {
            let s = s.replace(spec, "[STORE]");
            match dir {
                Some(d) => s.replace(d, "[STORE]"),
                None => s,
            }
        };
        Run {
            args: args.iter().map(|s| s.to_string()).collect(),
            stdout: redact_store(String::from_utf8_lossy(&out.stdout).into_owned()),
            stderr: redact_store(String::from_utf8_lossy(&out.stderr).into_owned()),
            code: out.status.code(),
            root: self.dir.path().to_path_buf(),
        }
    }

    /// A snapshot text: the command, its exit code, stdout, stderr, the stand-in calls and the
    /// given tables afterwards.
    pub fn report(&self, run: &Run, tables: &[&str]) -> String {
        let mut s = run.text();
        s.push_str("--- xCAT commands run\n");
        s.push_str(&redact(&self.calls(), &run.root));
        for t in tables {
            s.push_str(&format!("--- {t}.csv\n"));
            s.push_str(&self.dump(t));
        }
        s
    }

    /// The journal path a move printed.
    pub fn journal_of(run: &Run) -> Option<String> {
        run.stdout
            .lines()
            .find_map(|l| l.strip_prefix("Journal: "))
            .and_then(|l| l.split(" (undo").next())
            .map(str::to_string)
    }
}

/// One run of the binary.
pub struct Run {
    pub args: Vec<String>,
    pub stdout: String,
    pub stderr: String,
    pub code: Option<i32>,
    root: PathBuf,
}

impl Run {
    /// Command, exit code, stdout and stderr, redacted.
    pub fn text(&self) -> String {
        format!(
            "$ snmove {}\n--- exit {}\n--- stdout\n{}--- stderr\n{}",
            redact(&self.args.join(" "), &self.root),
            self.code
                .map(|c| c.to_string())
                .unwrap_or_else(|| "signal".into()),
            redact(&self.stdout, &self.root),
            redact(&self.stderr, &self.root),
        )
    }
}

/// Removes the temporary directory and the journal's time and pid.
pub fn redact(text: &str, root: &Path) -> String {
    let t = text.replace(&root.display().to_string(), "[TMP]");
    let re = regex::Regex::new(r"snmove-\d+-\d+(-\d+)?\.(nodes\.)?json").unwrap();
    re.replace_all(&t, "snmove-[TIME]-[PID].${2}json")
        .into_owned()
}
