//! The SSH path end to end: the real `snmove` binary, a private OpenSSH `sshd` on loopback
//! (its own config, host key and port; killed when the test ends), "nodes" and a service node
//! as 127.1.x.y addresses. The service node is asked for its addresses over SSH (`ip addr`),
//! then each node gets, in one session, the default route, the xcatinfo update and the
//! postscripts — with fake system commands on the node-side PATH and every node-side file under
//! a test root, so nothing touches this machine.

mod common;

use std::path::{Path, PathBuf};

use common::Cluster;

use testsshd::Sshd;

/// The private sshd of these tests: 127.2.* addresses refuse every login.
fn start_sshd() -> Sshd {
    Sshd::start("Match LocalAddress 127.2.*\n  DenyUsers *\n")
}

/// A known_hosts file accepting the sshd's key for the nodes (127.1.*), the unreachable
/// addresses (127.2.*) and the service nodes by name.
fn known_hosts(sshd: &Sshd) -> PathBuf {
    let (t, b) = sshd.host_key();
    let p = sshd.path("known_hosts");
    std::fs::write(
        &p,
        format!("[127.1.*]:{0},[127.2.*]:{0},[sn*]:{0} {t} {b}\n", sshd.port),
    )
    .unwrap();
    p
}

/// Fake system commands for the node side: they log their arguments under `$PSROOT`.
fn fake_bin(root: &Path) -> PathBuf {
    let bin = root.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    for cmd in [
        "systemctl",
        "route",
        "ip",
        "chronyd",
        "hwclock",
        "service",
        "timedatectl",
        "netstat",
    ] {
        let p = bin.join(cmd);
        std::fs::write(
            &p,
            format!("#!/bin/sh\necho \"{cmd} $*\" >> \"$PSROOT/calls.log\"\n"),
        )
        .unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    bin
}

const HOSTS: &str = "#node,ip,hostnames,otherinterfaces,comments,disable
\"mn\",\"127.1.9.1\",,,,
\"sn1\",\"127.1.1.1\",,,,
\"sn2\",\"127.1.1.2\",,,,
\"sn3\",\"127.1.1.3\",,,,
\"compute\",\"|cn(\\d+)|127.1.0.($1+0)|\",,,,
\"cn6\",\"127.2.0.6\",,,,
";

const NETWORKS: &str = "#netname,net,mask,mgtifname,gateway,dhcpserver,tftpserver,nameservers,ntpservers,logservers,dynamicrange,staticrange,staticrangeincrement,nodehostname,ddnsdomain,vlanid,domain,mtu,comments,disable
\"loop\",\"127.0.0.0\",\"255.0.0.0\",\"lo\",\"<xcatmaster>\",,,,,,,,,,,,,,,
";

#[test]
fn ssh_probe_and_node_steps() {
    let sshd = start_sshd();
    let mut c = Cluster::csv();
    c.xcat_installed = false;
    c.table("hosts", HOSTS);
    c.table("networks", NETWORKS);
    let node_root = c.dir.path().join("nodes");
    let bin = fake_bin(&node_root);
    for n in ["cn5", "cn6"] {
        std::fs::create_dir_all(node_root.join(n).join("etc")).unwrap();
        std::fs::write(node_root.join(n).join("etc/rsyslog.conf"), "# test\n").unwrap();
    }
    let scripts = c.dir.path().join("postscripts");
    std::fs::create_dir_all(&scripts).unwrap();
    let key = sshd.client_key();
    let kh = known_hosts(&sshd);
    let port = sshd.port.to_string();
    let ssh_args = [
        "--transport",
        "ssh",
        "--identity",
        key.to_str().unwrap(),
        "--known-hosts",
        kh.to_str().unwrap(),
        "--ssh-port",
        &port,
        "--ssh-user",
        &testsshd::user(),
        "--scripts-dir",
        scripts.to_str().unwrap(),
        "--connect-timeout",
        "5",
        "--command-timeout",
        "30",
    ];
    let mut args = vec!["rack2", "--skip-nodeset"];
    args.extend_from_slice(&ssh_args);
    let env = [
        (
            "SNMOVE_NODE_ROOT",
            format!("{}/{{node}}", node_root.display()),
        ),
        (
            "SNMOVE_NODE_PATH",
            format!("{}:/usr/bin:/bin", bin.display()),
        ),
    ];
    let r = c.run_env(&args, &env);
    // rack2 (cn5, cn6) moves to sn1, asked over SSH for its addresses: its loopback address
    // 127.0.0.1 is the first one in the nodes' network 127/8.
    assert!(
        c.dump("noderes")
            .contains("\"cn5\",\"sn1,sn2\",,,,,,,,,,,\"127.0.0.1\""),
        "{}\n{}",
        r.stdout,
        r.stderr
    );
    // cn5 is reached and gets its steps; cn6 (127.2.0.6) is refused by the sshd.
    let xcatinfo = std::fs::read_to_string(node_root.join("cn5/opt/xcat/xcatinfo"))
        .expect("cn5 xcatinfo written");
    assert!(xcatinfo.contains("XCATSERVER=127.0.0.1"), "{xcatinfo}");
    assert!(xcatinfo.contains("SERVICEGROUP=sn1,sn2"), "{xcatinfo}");
    let calls = std::fs::read_to_string(node_root.join("cn5/calls.log")).unwrap_or_default();
    assert!(
        calls.contains("route add default gw 127.0.0.1"),
        "{calls}\n{}\n{}",
        r.stdout,
        r.stderr
    );
    assert!(!node_root.join("cn6/opt/xcat/xcatinfo").exists());
    assert_eq!(
        r.code,
        Some(2),
        "cn6 failed: the database moved, a node step did not"
    );
    assert!(
        r.stdout
            .contains("Node-side steps: 1 node(s) succeeded: cn5; 1 node(s) unreachable: cn6"),
        "{}",
        r.stdout
    );
    let report = Cluster::journal_of(&r)
        .expect("journal")
        .replace(".json", ".nodes.json");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).expect("node report")).unwrap();
    assert_eq!(json["nodes"].as_array().map(Vec::len), Some(2));
    let text = r
        .text()
        .replace(&sshd.dir().display().to_string(), "[SSHD]")
        .replace(&sshd.port.to_string(), "[PORT]")
        .replace(&format!("user {}", testsshd::user()), "user [USER]")
        .replace(
            &format!("--ssh-user {}", testsshd::user()),
            "--ssh-user [USER]",
        );
    insta::assert_snapshot!("ssh_move", text);
}

#[test]
fn unreachable_sn_over_ssh_falls_back_to_the_tables() {
    let sshd = start_sshd();
    // xCAT's commands are there (makeconservercf runs), but --transport ssh asks sn3 over SSH.
    let c = Cluster::csv();
    // sn3 is at 127.2.1.3: the sshd refuses it, so its addresses come from the tables.
    c.table(
        "hosts",
        &HOSTS.replace(
            "\"sn3\",\"127.1.1.3\",,,",
            "\"sn3\",\"127.2.1.3\",,\"sn3-c:127.1.3.100\",",
        ),
    );
    c.table("networks", NETWORKS);
    let key = sshd.client_key();
    let kh = known_hosts(&sshd);
    let port = sshd.port.to_string();
    let r = c.run(&[
        "-d",
        "sn3",
        "cn1",
        "-i",
        "--skip-nodeset",
        "--transport",
        "ssh",
        "--identity",
        key.to_str().unwrap(),
        "--known-hosts",
        kh.to_str().unwrap(),
        "--ssh-port",
        &port,
        "--ssh-user",
        &testsshd::user(),
        "--connect-timeout",
        "5",
    ]);
    assert_eq!(r.code, Some(0), "{}\n{}", r.stdout, r.stderr);
    assert!(r
        .stdout
        .contains("Could not get IP addresses from service node sn3.\n\n"));
    // The first table address of sn3 in 127/8 is its own 127.2.1.3.
    assert!(
        c.dump("noderes")
            .contains("\"cn1\",\"sn3,sn1,sn2\",,\"127.2.1.3\""),
        "{}",
        c.dump("noderes")
    );
}
