//! The shipped `syslog` and `setupntp`, the AIX steps and the service-node address helper, run
//! on "nodes" of a real sshd, with fake system commands and every file under a test root.

mod common;

use common::*;
use postscripts::*;

#[test]
fn shipped_syslog_and_setupntp_configure_the_node() {
    let _serial = serial();
    let sshd = Sshd::start("");
    let root = NodeRoot::new();
    let ps = tempfile::tempdir().unwrap();
    root.prepare(
        "cn1",
        &[
            ("etc/rsyslog.conf", "$ModLoad imuxsock\n# xCAT settings START\n*.* @10.9.9.9\n# xCAT settings END\n*.* /var/log/messages\n"),
            ("etc/chrony/chrony.conf", "pool 2.debian.pool.ntp.org iburst\n"),
        ],
    );
    root.prepare("cn2", &[("etc/rsyslog.d/other.conf", "x\n")]);
    root.prepare("cn3", &[]);
    let steps = postscript_steps(&select_postscripts(
        "syslog,remoteshell,setupntp",
        None,
        false,
    ));
    let mk = |name: &str, i: usize, extra: &[(&str, &str)]| {
        let mut j = job(name, &node_addr(i), &sshd, &root)
            .env("MASTER", "10.1.2.100")
            .env("NTPSERVERS", "<xcatmaster>,ntp2.example")
            .env("NTYPE", "compute");
        for (k, v) in extra {
            j = j.env(*k, *v);
        }
        j.steps = steps.clone();
        j
    };
    let jobs = vec![
        mk("cn1", 0, &[]),
        // the site table may hold <xcatmaster> HTML-escaped
        mk(
            "cn2",
            1,
            &[("NTYPE", "service"), ("NTPSERVERS", "&lt;xcatmaster&gt;")],
        ),
        mk("cn3", 2, &[("SYSLOG", "ignore")]),
    ];
    let mut o = opts(&root, ps.path());
    o.builtins = Builtins::Prefer;
    let report = run(&jobs, &sshd.transport(), &o, &Quiet).unwrap();
    let text = report.render_text();
    // cn1: compute node, forwards to MASTER; the old block left rsyslog.conf
    assert_eq!(report.node("cn1").unwrap().status, Status::Ok, "{text}");
    let remote = root.read("cn1", "etc/rsyslog.d/remote.conf");
    assert!(remote.starts_with("# xCAT settings START\n"), "{remote}");
    assert!(
        remote.contains("\n*.* @10.1.2.100\n# xCAT settings END\n"),
        "{remote}"
    );
    assert!(!remote.contains("imudp"), "{remote}");
    assert_eq!(
        root.read("cn1", "etc/rsyslog.conf"),
        "$ModLoad imuxsock\n*.* /var/log/messages\n"
    );
    assert!(root
        .read("cn1", "etc/rsyslog.conf.XCATORIG")
        .contains("10.9.9.9"));
    let chrony = root.read("cn1", "etc/chrony/chrony.conf");
    assert!(
        chrony.contains("\nserver 10.1.2.100 iburst\nserver ntp2.example iburst\n"),
        "{chrony}"
    );
    assert!(!chrony.contains("allow"), "{chrony}");
    assert_eq!(
        root.read("cn1", "etc/chrony/chrony.conf.xcatsave"),
        "pool 2.debian.pool.ntp.org iburst\n"
    );
    let calls = root.read("cn1", "calls.log");
    assert!(calls.contains("systemctl restart rsyslog\n"), "{calls}");
    assert!(
        calls.contains("chronyd -f /dev/null -q -t 20 server 10.1.2.100 iburst\n"),
        "{calls}"
    );
    assert!(
        calls.contains("systemctl enable chronyd\nsystemctl restart chronyd\n"),
        "{calls}"
    );
    assert_eq!(
        report.output_of("cn1").unwrap(),
        "syslog: forwarding to 10.1.2.100\nsetupntp: chrony uses 10.1.2.100 ntp2.example\n"
    );
    // cn2: a service node receives logs and serves time (chrony.conf in /etc)
    let remote = root.read("cn2", "etc/rsyslog.d/remote.conf");
    assert!(
        remote.contains("input(type=\"imudp\" port=\"514\")") && remote.contains("*.* @10.1.2.100"),
        "{remote}"
    );
    let chrony2 = root.read("cn2", "etc/chrony.conf");
    assert!(
        chrony2.contains("\nallow all\nlocal stratum 10\n"),
        "{chrony2}"
    );
    assert!(
        chrony2.contains("\nserver 10.1.2.100 iburst\n"),
        "{chrony2}"
    );
    assert!(!chrony2.contains("xcatmaster"), "{chrony2}");
    // cn3: SYSLOG=ignore
    assert!(
        report
            .output_of("cn3")
            .unwrap()
            .starts_with("The value of syslog is 'ignore'.\n"),
        "{text}"
    );
    // re-running is idempotent: the block is replaced, not appended
    let again = run(&jobs, &sshd.transport(), &o, &Quiet).unwrap();
    assert!(again.all_ok(), "{}", again.render_text());
    assert_eq!(
        root.read("cn1", "etc/rsyslog.d/remote.conf")
            .matches("xCAT settings START")
            .count(),
        1
    );
}

/// Nodes set up earlier by xCAT's own syslog postscript ("# xCAT settings" and its lines to the
/// end of the file) stop forwarding to the old master; the site's own lines in remote.conf
/// are kept; a second run changes nothing.
#[test]
fn syslog_replaces_what_xcats_own_syslog_wrote() {
    let _serial = serial();
    let sshd = Sshd::start("");
    let root = NodeRoot::new();
    let ps = tempfile::tempdir().unwrap();
    let site = "# site forwarding\n*.crit @@loghost.example:514\n";
    // rsyslog 8 as xCAT leaves it: remote.conf with its block appended
    root.prepare(
        "cn1",
        &[
            (
                "etc/rsyslog.conf",
                "$ModLoad imuxsock\n*.info /var/log/messages\n",
            ),
            (
                "etc/rsyslog.d/remote.conf",
                &format!("{site}# xCAT settings\n*.* @10.9.9.9\n"),
            ),
        ],
    );
    // older rsyslog as xCAT leaves it: the block at the end of rsyslog.conf
    root.prepare(
        "cn2",
        &[(
            "etc/rsyslog.conf",
            "$ModLoad imuxsock\n*.info /var/log/messages\n# xCAT settings\n*.* @10.9.9.9\n",
        )],
    );
    let jobs: Vec<NodeJob> = ["cn1", "cn2"]
        .iter()
        .enumerate()
        .map(|(i, n)| {
            job(n, &node_addr(i), &sshd, &root)
                .env("MASTER", "10.1.2.100")
                .step(Step::Postscript {
                    name: "syslog".into(),
                    args: vec![],
                })
        })
        .collect();
    let mut o = opts(&root, ps.path());
    o.builtins = Builtins::Prefer;
    let report = run(&jobs, &sshd.transport(), &o, &Quiet).unwrap();
    assert!(report.all_ok(), "{}", report.render_text());
    let remote1 = root.read("cn1", "etc/rsyslog.d/remote.conf");
    insta::assert_snapshot!("syslog_remote_conf_after_xcat", remote1);
    assert!(remote1.starts_with(site) && !remote1.contains("10.9.9.9"));
    assert!(root
        .read("cn1", "etc/rsyslog.d/remote.conf.XCATORIG")
        .contains("10.9.9.9"));
    let conf2 = root.read("cn2", "etc/rsyslog.conf");
    assert_eq!(conf2, "$ModLoad imuxsock\n*.info /var/log/messages\n");
    let remote2 = root.read("cn2", "etc/rsyslog.d/remote.conf");
    assert!(remote2.starts_with("# xCAT settings START\n"), "{remote2}");
    // idempotent: the same files after a second run
    let again = run(&jobs, &sshd.transport(), &o, &Quiet).unwrap();
    assert!(again.all_ok(), "{}", again.render_text());
    assert_eq!(root.read("cn1", "etc/rsyslog.d/remote.conf"), remote1);
    assert_eq!(root.read("cn2", "etc/rsyslog.conf"), conf2);
    assert_eq!(root.read("cn2", "etc/rsyslog.d/remote.conf"), remote2);
}

#[test]
fn syslog_without_rsyslog_fails_with_a_message() {
    let _serial = serial();
    let sshd = Sshd::start("");
    let root = NodeRoot::new();
    let ps = tempfile::tempdir().unwrap();
    root.prepare("cn1", &[]);
    let jobs = vec![job("cn1", &node_addr(0), &sshd, &root)
        .env("MASTER", "m")
        .step(Step::Postscript {
            name: "syslog".into(),
            args: vec![],
        })];
    let r = run(&jobs, &sshd.transport(), &opts(&root, ps.path()), &Quiet).unwrap();
    assert_eq!(r.nodes[0].status, Status::Failed);
    assert_eq!(r.nodes[0].reason.as_deref(), Some("syslog exited 1"));
    assert!(r
        .output_of("cn1")
        .unwrap()
        .contains("no rsyslog configuration"));
}

#[test]
fn aix_steps_niminit_xcatinfo_and_route() {
    let _serial = serial();
    let sshd = Sshd::start("");
    let root = NodeRoot::new();
    let ps = tempfile::tempdir().unwrap();
    let netstat =
        "Routing tables\nDestination Gateway Flags\ndefault 10.1.0.1 UG\n10.1.0.0 10.1.0.5 U\n";
    root.prepare(
        "cn1",
        &[
            ("netstat.out", netstat),
            ("etc/xcatinfo", "XCATSERVER=old\nOTHER=1\n"),
        ],
    );
    root.prepare(
        "cn2",
        &[("netstat.out", "default 10.1.0.2 UG\ndefault 10.1.0.1 UG\n")],
    );
    let steps = vec![
        Step::Niminit {
            name: "cn1".into(),
            master: "sn2".into(),
        },
        Step::AixXcatinfo {
            server: "10.1.0.2".into(),
        },
        Step::AixDefaultRoute {
            old: "10.1.0.1".into(),
            new: "10.1.0.2".into(),
        },
    ];
    let mut jobs = vec![
        job("cn1", &node_addr(0), &sshd, &root),
        job("cn2", &node_addr(1), &sshd, &root),
    ];
    for j in &mut jobs {
        j.steps = steps.clone();
    }
    let r = run(&jobs, &sshd.transport(), &opts(&root, ps.path()), &Quiet).unwrap();
    assert!(r.all_ok(), "{}", r.render_text());
    assert_eq!(root.read("cn1", "etc/xcatinfo"), "XCATSERVER=10.1.0.2\n");
    assert_eq!(
        root.read("cn1", "calls.log"),
        "niminit -a name=cn1 -a master=sn2\nnetstat -rn\nroute change default 10.1.0.2\n"
    );
    // the new gateway is already a default route: nothing to change
    assert!(!root.read("cn2", "calls.log").contains("route change"));
    assert_eq!(r.output_of("cn2").unwrap(), "default route unchanged\n");
}

#[test]
fn existing_default_route_counts_as_success() {
    let _serial = serial();
    let sshd = Sshd::start("");
    let root = NodeRoot::new();
    let ps = tempfile::tempdir().unwrap();
    root.prepare("cn1", &[("route.exists", "")]);
    let jobs = vec![
        job("cn1", &node_addr(0), &sshd, &root).step(Step::DefaultRoute {
            gateway: "10.1.2.100".into(),
        }),
    ];
    let r = run(&jobs, &sshd.transport(), &opts(&root, ps.path()), &Quiet).unwrap();
    assert!(r.all_ok(), "{}", r.render_text());
    assert_eq!(
        r.output_of("cn1").unwrap(),
        "default route via 10.1.2.100 already present\n"
    );
}

#[test]
fn service_node_addresses_over_ssh() {
    let _serial = serial();
    let canned = tempfile::tempdir().unwrap();
    let f = canned.path().join("ipaddr.txt");
    std::fs::write(
        &f,
        "1: lo: <LOOPBACK,UP>\n    inet 127.0.0.1/8 scope host lo\n    inet6 ::1/128 scope host\n\
         2: eth0: <BROADCAST>\n    inet 10.1.2.100/16 brd 10.1.255.255 scope global eth0\n    inet 192.168.5.1/24 scope global eth1\n",
    )
    .unwrap();
    let sshd = Sshd::start(&format!(
        "Match LocalAddress 127.1.0.9\n  ForceCommand cat {}\nMatch LocalAddress 127.1.0.10\n  ForceCommand echo nope >&2; exit 2\n",
        f.display()
    ));
    let t = sshd.transport();
    let limits = Limits {
        connect: std::time::Duration::from_secs(5),
        command: std::time::Duration::from_secs(10),
        grace: std::time::Duration::from_secs(1),
    };
    let target = Target {
        name: "sn2",
        address: "127.1.0.9",
        port: sshd.port,
        jump: None,
    };
    let ips = sn_addresses(&t, &target, AddrOs::Linux, &limits).unwrap();
    assert_eq!(ips, ["127.0.0.1", "10.1.2.100", "192.168.5.1"]);
    let bad = Target {
        name: "sn3",
        address: "127.1.0.10",
        port: sshd.port,
        jump: None,
    };
    let e = sn_addresses(&t, &bad, AddrOs::Linux, &limits).unwrap_err();
    assert_eq!(e.to_string(), "`/sbin/ip addr` exited 2: nope");
    let down = Target {
        name: "sn4",
        address: "127.0.0.1",
        port: free_port(),
        jump: None,
    };
    let e = sn_addresses(&t, &down, AddrOs::Linux, &limits).unwrap_err();
    assert_eq!(e.kind, FailKind::Unreachable);
}

#[test]
fn aix_bootlist_uses_the_adapter_that_owns_the_node_ip() {
    let _serial = serial();
    let sshd = Sshd::start("");
    let root = NodeRoot::new();
    let ps = tempfile::tempdir().unwrap();
    let netstat_in =
        "Name  Mtu   Network     Address            Ipkts Ierrs    Opkts Oerrs  Coll\n\
                      en0   1500  link#2      fa.d1.8a.7e.f3.2    1        0        1     0     0\n\
                      en0   1500  10.1        10.1.0.5           1        0        1     0     0\n\
                      hf1   1500  192.168     192.168.1.5        1        0        1     0     0\n\
                      lo0   16896 127         127.0.0.1          1        0        1     0     0\n";
    root.prepare("cn1", &[("netstat.out", netstat_in)]);
    root.prepare("cn2", &[("netstat.out", netstat_in)]);
    root.prepare("cn3", &[("netstat.out", netstat_in)]);
    let step = |client: &str| Step::AixBootlist {
        client: client.into(),
        gateway: "10.1.0.1".into(),
        server: "10.1.0.2".into(),
    };
    let jobs = vec![
        job("cn1", &node_addr(0), &sshd, &root).step(step("10.1.0.5")),
        job("cn2", &node_addr(1), &sshd, &root).step(step("192.168.1.5")),
        job("cn3", &node_addr(2), &sshd, &root).step(step("10.9.9.9")),
    ];
    let r = run(&jobs, &sshd.transport(), &opts(&root, ps.path()), &Quiet).unwrap();
    assert_eq!(
        root.read("cn1", "calls.log"),
        "netstat -in\nbootlist -m normal ent0 gateway=10.1.0.1 bserver=10.1.0.2 client=10.1.0.5\n"
    );
    assert!(root
        .read("cn2", "calls.log")
        .contains("bootlist -m normal hfi1 gateway=10.1.0.1"));
    let cn3 = r.node("cn3").unwrap();
    assert_eq!(cn3.status, Status::Failed);
    assert_eq!(cn3.reason.as_deref(), Some("bootlist exited 1"));
    assert_eq!(
        r.output_of("cn3"),
        Some("no interface owns 10.9.9.9 in netstat -in\n")
    );
}

/// Values reach the node as data: `$(…)` or backquotes in an --xcatinfo server are written and
/// printed literally, never run.
#[test]
fn xcatinfo_values_are_never_run_by_the_node_shell() {
    let _serial = serial();
    let sshd = Sshd::start("");
    let root = NodeRoot::new();
    let ps = tempfile::tempdir().unwrap();
    root.prepare("cn1", &[]);
    let server = "10.1.2.100$(touch \"$PSROOT/pwned\")`touch \"$PSROOT/pwned2\"`";
    let jobs = vec![
        job("cn1", &node_addr(0), &sshd, &root).step(Step::Xcatinfo {
            server: server.into(),
            servicegroup: None,
            httpport: None,
        }),
    ];
    let r = run(&jobs, &sshd.transport(), &opts(&root, ps.path()), &Quiet).unwrap();
    assert!(r.all_ok(), "{}", r.render_text());
    assert_eq!(
        r.output_of("cn1"),
        Some(format!("xcatinfo: XCATSERVER={server}\n").as_str())
    );
    assert!(root
        .read("cn1", "opt/xcat/xcatinfo")
        .contains(&format!("XCATSERVER={server}\n")));
    assert!(!root.node("cn1").join("pwned").exists());
    assert!(!root.node("cn1").join("pwned2").exists());
}
