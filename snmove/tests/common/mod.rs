//! A small cluster in a temporary CSV store, recording stand-ins for xCAT's commands on PATH,
//! and a runner of the real `snmove` binary whose output is made deterministic for snapshots.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

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

/// A cluster in a temporary CSV store.
pub struct Cluster {
    pub dir: tempfile::TempDir,
    /// The store directory.
    pub store: PathBuf,
    /// Stand-in scripts and their records.
    pub standin: PathBuf,
    /// Whether the stand-ins are on PATH (otherwise xCAT is "not installed").
    pub xcat_installed: bool,
}

impl Cluster {
    /// The sample cluster, with xCAT's commands present (stand-ins) and sn2 answering `ip addr`.
    pub fn new() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = dir.path().join("db");
        let standin = dir.path().join("bin");
        std::fs::create_dir_all(&store).unwrap();
        std::fs::create_dir_all(&standin).unwrap();
        for cmd in ["makeconservercf", "nodeset", "xdsh", "updatenode"] {
            let p = standin.join(cmd);
            std::fs::write(&p, STANDIN).unwrap();
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        let c = Cluster {
            dir,
            store,
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

    /// Replaces a table.
    pub fn table(&self, name: &str, text: &str) -> &Self {
        std::fs::write(self.store.join(format!("{name}.csv")), text).unwrap();
        self
    }

    /// Appends rows to a table.
    pub fn rows(&self, name: &str, rows: &str) -> &Self {
        let mut t = self.dump(name);
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

    /// A table file's content.
    pub fn dump(&self, name: &str) -> String {
        std::fs::read_to_string(self.store.join(format!("{name}.csv"))).unwrap_or_default()
    }

    /// Every table file, by name.
    pub fn all_tables(&self) -> Vec<(String, Vec<u8>)> {
        let mut v: Vec<(String, Vec<u8>)> = std::fs::read_dir(&self.store)
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.path().extension().is_some_and(|x| x == "csv"))
            .map(|e| {
                (
                    e.file_name().to_string_lossy().into_owned(),
                    std::fs::read(e.path()).unwrap(),
                )
            })
            .collect();
        v.sort();
        v
    }

    /// The stand-in calls so far, one per line.
    pub fn calls(&self) -> String {
        std::fs::read_to_string(self.standin.join("calls")).unwrap_or_default()
    }

    /// Runs `snmove args…` on this cluster (store from `XCATCFG`, host name `mn`).
    pub fn run(&self, args: &[&str]) -> Run {
        self.run_env(args, &[])
    }

    /// Runs `snmove args…` with extra environment variables.
    pub fn run_env(&self, args: &[&str], env: &[(&str, String)]) -> Run {
        let path = if self.xcat_installed {
            format!("{}:/usr/bin:/bin", self.standin.display())
        } else {
            "/usr/bin:/bin".to_string()
        };
        let out = Command::new(env!("CARGO_BIN_EXE_snmove"))
            .args(args)
            .env_clear()
            .env("PATH", path)
            .env("STANDIN", &self.standin)
            .env("XCATCFG", format!("CSV:{}", self.store.display()))
            .env("SNMOVE_HOSTNAME", "mn")
            .envs(env.iter().map(|(k, v)| (k, v)))
            .current_dir(self.dir.path())
            .output()
            .expect("snmove runs");
        Run {
            args: args.iter().map(|s| s.to_string()).collect(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
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
