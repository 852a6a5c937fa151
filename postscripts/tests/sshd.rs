//! Against a real OpenSSH sshd on loopback: the steps, the statuses, the faults and their
//! time bounds.

mod common;

use common::*;
use postscripts::*;
use std::time::{Duration, Instant};

fn ps_dir(files: &[(&str, &str)]) -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    for (n, body) in files {
        std::fs::write(d.path().join(n), body).unwrap();
    }
    d
}

#[test]
fn steps_run_in_order_and_write_under_the_node_root() {
    let _serial = serial();
    let sshd = Sshd::start("");
    let root = NodeRoot::new();
    let ps = ps_dir(&[(
        "hello",
        "#!/bin/sh\necho \"hello from $NODE master=$MASTER arg=$1\"\n",
    )]);
    let mut jobs = Vec::new();
    for i in 0..3 {
        let name = format!("cn{}", i + 1);
        root.prepare(
            &name,
            &[(
                "opt/xcat/xcatinfo",
                "XCATSERVER=10.0.0.1\nUPDATENODE=1\nSERVICEGROUP=old\nINSTALLDIR=/install\n",
            )],
        );
        jobs.push(
            job(&name, &node_addr(i), &sshd, &root)
                .env("MASTER", "10.1.2.100")
                .step(Step::Xcatinfo {
                    server: "10.1.2.100".into(),
                    servicegroup: Some("sn2,sn1".into()),
                    httpport: Some("80".into()),
                })
                .step(Step::DefaultRoute {
                    gateway: "10.1.2.100".into(),
                })
                .step(Step::Postscript {
                    name: "hello".into(),
                    args: vec!["x y".into()],
                }),
        );
    }
    let t = sshd.transport();
    let report = run(&jobs, &t, &opts(&root, ps.path()), &Quiet).unwrap();
    assert!(
        report.all_ok(),
        "{}\nsshd log:\n{}",
        report.render_text(),
        sshd.log()
    );
    for i in 0..3 {
        let name = format!("cn{}", i + 1);
        assert_eq!(
            root.read(&name, "opt/xcat/xcatinfo"),
            "XCATSERVER=10.1.2.100\nUPDATENODE=1\nSERVICEGROUP=sn2,sn1\nINSTALLDIR=/install\nHTTPPORT=80\nNODE=".to_string() + &name + "\n"
        );
        assert_eq!(
            root.read(&name, "calls.log"),
            "route add default gw 10.1.2.100\n"
        );
        let out = report.output_of(&name).unwrap();
        assert!(
            out.contains(&format!("hello from {name} master=10.1.2.100 arg=x y")),
            "{out}"
        );
        let n = report.node(&name).unwrap();
        assert_eq!(
            n.steps
                .iter()
                .map(|s| (s.label.as_str(), s.rc))
                .collect::<Vec<_>>(),
            [
                ("xcatinfo", Some(0)),
                ("route", Some(0)),
                ("hello", Some(0))
            ]
        );
    }
    // nothing is left behind in the nodes' temporary directories
    for i in 0..3 {
        let tmp = root.node(&format!("cn{}", i + 1)).join("tmp");
        assert_eq!(std::fs::read_dir(&tmp).unwrap().count(), 0, "{tmp:?}");
    }
}

/// One run with every fault at once: each node gets its status, and the run ends within the
/// bound the timeouts promise (generous slack, no tight timing).
#[test]
fn every_fault_gets_its_status_and_the_run_is_bounded() {
    let _serial = serial();
    let sshd = Sshd::start(
        "Match LocalAddress 127.1.0.5\n  ForceCommand exec sleep 40\n\
         Match LocalAddress 127.1.0.7\n  AuthorizedKeysFile /dev/null\n",
    );
    let silent = Silent::start();
    let hole = BlackHole::start();
    let refused = free_port();
    let root = NodeRoot::new();
    let ps = ps_dir(&[(
        "fail",
        "#!/bin/sh\necho about to fail\necho bad thing >&2\nexit 3\n",
    )]);
    let wrong = "[cn8]:{p} ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBz3wO8uG8rv3g7m9E0y8s7Jq1Jq2Jq3Jq4Jq5Jq6Jq7\n"
        .replace("{p}", &sshd.port.to_string());
    let negate = format!(",![cn8]:{p},![127.1.0.8]:{p}", p = sshd.port);
    let kh = sshd.known_hosts_with(&negate, &wrong);
    let t = SshTransport::new(sshd.ssh_options(kh, HostKeyPolicy::Strict)).unwrap();
    let echo = |label: &str, cmd: &str| Step::Command {
        label: label.into(),
        command: cmd.into(),
    };
    let jobs = vec![
        job("cn1", &node_addr(0), &sshd, &root).step(echo("hi", "echo hi")),
        NodeJob::new("cn2", "127.0.0.1")
            .port(refused)
            .step(echo("hi", "echo hi")),
        NodeJob::new("cn3", "127.0.0.1")
            .port(silent.port)
            .step(echo("hi", "echo hi")),
        job("cn4", &node_addr(3), &sshd, &root)
            .step(echo("first", "echo started"))
            .step(echo("hang", "sleep 60"))
            .step(echo("never", "echo never")),
        job("cn5", &node_addr(4), &sshd, &root).step(echo("hi", "echo hi")),
        job("cn6", &node_addr(5), &sshd, &root)
            .step(Step::Postscript {
                name: "fail".into(),
                args: vec![],
            })
            .step(echo("after", "echo still runs")),
        job("cn7", &node_addr(6), &sshd, &root).step(echo("hi", "echo hi")),
        job("cn8", &node_addr(7), &sshd, &root).step(echo("hi", "echo hi")),
        job("xn9", "127.2.0.1", &sshd, &root).step(echo("hi", "echo hi")),
        NodeJob::new("cn12", "no-such-node.invalid").step(echo("hi", "echo hi")),
        NodeJob::new("cn11", "127.0.0.1")
            .port(hole.port)
            .step(echo("hi", "echo hi")),
        job("cn10", &node_addr(9), &sshd, &root).step(Step::Postscript {
            name: "missing".into(),
            args: vec![],
        }),
    ];
    let mut o = opts(&root, ps.path());
    o.connect_timeout = Duration::from_secs(3);
    o.command_timeout = Duration::from_secs(3);
    o.kill_grace = Duration::from_secs(2);
    let start = Instant::now();
    let report = run(&jobs, &t, &o, &Quiet).unwrap();
    let took = start.elapsed();
    let text = report.render_text();
    let st = |n: &str| report.node(n).unwrap().status;
    let why = |n: &str| report.node(n).unwrap().reason.clone().unwrap_or_default();
    assert_eq!(st("cn1"), Status::Ok, "{text}");
    assert_eq!(st("cn2"), Status::Unreachable, "{text}");
    assert!(why("cn2").contains("connection refused"), "{text}");
    assert_eq!(st("cn3"), Status::Unreachable, "{text}");
    assert!(why("cn3").contains("no SSH banner"), "{text}");
    assert_eq!(st("cn4"), Status::TimedOut, "{text}");
    assert!(why("cn4").contains("in step hang"), "{text}");
    let cn4 = report.node("cn4").unwrap();
    assert_eq!(cn4.steps[0].rc, Some(0));
    assert_eq!(cn4.steps[2].rc, None);
    assert_eq!(st("cn5"), Status::TimedOut, "{text}");
    assert_eq!(st("cn6"), Status::Failed, "{text}");
    assert_eq!(why("cn6"), "fail exited 3");
    assert_eq!(
        report.output_of("cn6").unwrap(),
        "about to fail\nstill runs\nbad thing\n"
    );
    assert_eq!(
        report.step_output("cn6", 0),
        Some("about to fail\nbad thing\n")
    );
    assert_eq!(report.step_output("cn6", 1), Some("still runs\n"));
    assert_eq!(report.step_output("cn4", 0), Some("started\n"));
    assert_eq!(report.step_output("cn4", 1), None);
    assert_eq!(st("cn7"), Status::AuthFailed, "{text}");
    assert_eq!(st("cn8"), Status::HostKeyRejected, "{text}");
    assert!(why("cn8").contains("HOST KEY CHANGED"), "{text}");
    assert_eq!(st("xn9"), Status::HostKeyRejected, "{text}");
    assert!(why("xn9").contains("unknown"), "{text}");
    assert_eq!(st("cn10"), Status::Failed, "{text}");
    assert!(why("cn10").contains("missing exited 127"), "{text}");
    assert!(
        report
            .output_of("cn10")
            .unwrap()
            .contains("cannot read postscript"),
        "{text}"
    );
    // all in parallel: connect 3 + command 3 + grace 2 (+2 backstop) is the bound; 20 s is generous
    assert!(took < Duration::from_secs(20), "took {took:?}\n{text}");
    assert_eq!(st("cn11"), Status::Unreachable, "{text}");
    assert_eq!(why("cn11"), "ssh: connect timed out");
    assert_eq!(st("cn12"), Status::Unreachable, "{text}");
    assert!(
        why("cn12").starts_with("ssh: cannot resolve the address: "),
        "{text}"
    );
    assert_eq!(report.not_succeeded().len(), 11);
}

#[test]
fn accept_new_records_the_key_then_strict_accepts_it() {
    let _serial = serial();
    let sshd = Sshd::start("");
    let root = NodeRoot::new();
    let ps = ps_dir(&[]);
    let kh = sshd.path("kh-new");
    let jobs = vec![job("cn1", &node_addr(0), &sshd, &root).step(Step::Command {
        label: "hi".into(),
        command: "echo hi".into(),
    })];
    let strict = SshTransport::new(sshd.ssh_options(kh.clone(), HostKeyPolicy::Strict)).unwrap();
    let r = run(&jobs, &strict, &opts(&root, ps.path()), &Quiet).unwrap();
    assert_eq!(r.nodes[0].status, Status::HostKeyRejected);
    let mut o = sshd.ssh_options(kh.clone(), HostKeyPolicy::AcceptNew);
    o.known_hosts_write = Some(kh.clone());
    let accept = SshTransport::new(o).unwrap();
    let r = run(&jobs, &accept, &opts(&root, ps.path()), &Quiet).unwrap();
    assert!(r.all_ok(), "{}", r.render_text());
    let written = std::fs::read_to_string(&kh).unwrap();
    assert!(
        written.starts_with(&format!(
            "[cn1]:{p},[{a}]:{p} ssh-ed25519 ",
            p = sshd.port,
            a = node_addr(0)
        )),
        "{written}"
    );
    let strict = SshTransport::new(sshd.ssh_options(kh, HostKeyPolicy::Strict)).unwrap();
    let r = run(&jobs, &strict, &opts(&root, ps.path()), &Quiet).unwrap();
    assert!(r.all_ok(), "{}", r.render_text());
    // off: anything goes
    let off =
        SshTransport::new(sshd.ssh_options(sshd.path("nonexistent"), HostKeyPolicy::Off)).unwrap();
    let r = run(&jobs, &off, &opts(&root, ps.path()), &Quiet).unwrap();
    assert!(r.all_ok(), "{}", r.render_text());
}

#[test]
fn two_hundred_nodes_fold_into_one_block_and_retry_runs_only_failures() {
    let _serial = serial();
    let sshd = Sshd::start("Match LocalAddress 127.1.0.77\n  ForceCommand echo broken; exit 9\n");
    let root = NodeRoot::new();
    let ps = ps_dir(&[]);
    let jobs: Vec<NodeJob> = (0..200)
        .map(|i| {
            job(&format!("cn{}", i + 1), &node_addr(i), &sshd, &root).step(Step::Command {
                label: "hi".into(),
                command: "echo same output".into(),
            })
        })
        .collect();
    let mut o = opts(&root, ps.path());
    o.fanout = 64;
    let report = run(&jobs, &sshd.transport(), &o, &Quiet).unwrap();
    assert_eq!(
        report.counts[&Status::Ok],
        199,
        "{}",
        report.render_summary()
    );
    assert_eq!(report.node("cn77").unwrap().status, Status::Failed);
    assert_eq!(report.outputs.len(), 2, "identical outputs are stored once");
    let gathered = report.render_gathered();
    assert!(gathered.contains("====================================\ncn[1-76,78-200]\n====================================\nsame output\n"), "{gathered}");
    let json = sshd.path("report.json");
    std::fs::write(&json, report.to_json()).unwrap();
    let back = Report::load(&json).unwrap();
    assert_eq!(back, report);
    let again = retry_jobs(jobs, &back);
    assert_eq!(
        again.iter().map(|j| j.name.as_str()).collect::<Vec<_>>(),
        ["cn77"]
    );
    let r2 = run(&again, &sshd.transport(), &o, &Quiet).unwrap();
    assert_eq!(r2.nodes.len(), 1);
}

#[test]
fn a_key_with_a_passphrase_is_refused_up_front() {
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("enc");
    let st = std::process::Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "secret", "-f"])
        .arg(&key)
        .status()
        .unwrap();
    assert!(st.success());
    let opts = SshOptions {
        identities: vec![key.clone()],
        use_agent: false,
        ..SshOptions::default()
    };
    let e = SshTransport::new(opts).err().expect("must be refused");
    assert_eq!(
        e.to_string(),
        format!(
            "cannot use identity {}: the key is protected by a passphrase; load it into ssh-agent (ssh-add) and leave --identity out",
            key.display()
        )
    );
    let opts = SshOptions {
        identities: vec![dir.path().join("missing")],
        ..SshOptions::default()
    };
    assert!(SshTransport::new(opts).is_err());
}

/// A chatty step (megabytes on both streams) neither deadlocks the channel nor grows the
/// report past its cap.
#[test]
fn chatty_steps_are_read_on_both_streams_and_capped() {
    let _serial = serial();
    let sshd = Sshd::start("");
    let root = NodeRoot::new();
    let ps = ps_dir(&[]);
    let cmd = "head -c 3000000 /dev/zero | tr '\\0' e >&2; head -c 3000000 /dev/zero | tr '\\0' o; echo; echo done";
    let jobs = vec![job("cn1", &node_addr(0), &sshd, &root).step(Step::Command {
        label: "chatty".into(),
        command: cmd.into(),
    })];
    let start = Instant::now();
    let report = run(&jobs, &sshd.transport(), &opts(&root, ps.path()), &Quiet).unwrap();
    assert!(report.all_ok(), "{}", report.render_summary());
    let out = report.output_of("cn1").unwrap();
    assert!(out.len() <= (1 << 20) + 100, "{}", out.len());
    // what is kept is a prefix of what the node printed: nothing after the cut ("done" was
    // small enough to fit, but comes after it)
    assert!(
        out.ends_with("[psrun: output truncated]\n"),
        "{}",
        out.chars().rev().take(100).collect::<String>()
    );
    assert!(!out.contains("done"));
    assert!(start.elapsed() < Duration::from_secs(20));
}

/// Nodes printing the same very long lines fold into one block, however the bytes arrived
/// (the lines are cut at the same places), and no UTF-8 character is cut in two.
#[test]
fn identical_long_lines_fold_together() {
    let _serial = serial();
    let sshd = Sshd::start("");
    let root = NodeRoot::new();
    let ps = ps_dir(&[]);
    // a 400,001-byte line: an odd number of bytes before the 2-byte characters
    let cmd = "awk 'BEGIN { printf \"a\"; for (i = 0; i < 150000; i++) printf \"é\"; for (i = 0; i < 100000; i++) printf \"x\"; print \"\"; print \"done\" }'";
    let jobs: Vec<NodeJob> = (0..4)
        .map(|i| {
            job(&format!("cn{}", i + 1), &node_addr(i), &sshd, &root).step(Step::Command {
                label: "long".into(),
                command: cmd.into(),
            })
        })
        .collect();
    let report = run(&jobs, &sshd.transport(), &opts(&root, ps.path()), &Quiet).unwrap();
    assert!(report.all_ok(), "{}", report.render_summary());
    let gathered = report.render_gathered();
    assert!(
        gathered.starts_with("====================================\ncn[1-4]\n"),
        "{}",
        gathered.chars().take(200).collect::<String>()
    );
    assert_eq!(
        gathered
            .matches("====================================\n")
            .count(),
        2
    );
    let out = report.output_of("cn1").unwrap();
    assert!(!out.contains('\u{FFFD}'), "a character was cut in two");
    assert!(
        out.lines().count() > 2,
        "the long line was not cut: {}",
        out.lines().count()
    );
    assert!(out.ends_with("\ndone\n"));
}

/// A script of the postscripts directory that runs a companion from its own directory (xCAT's
/// setupntp execs `${0%/*}/setupntp.traditional` on nodes without chronyd) finds it there, and
/// only listed companions (and xcatlib.sh) travel.
#[test]
fn companions_of_a_postscript_travel_with_it() {
    let _serial = serial();
    let sshd = Sshd::start("");
    let root = NodeRoot::new();
    let ps = ps_dir(&[
        (
            "setupntp",
            "#!/bin/sh\nexport NTPSERVERS=\"${NTPSERVERS:-$MASTER}\"\nexec \"${0%/*}/setupntp.traditional\"\n",
        ),
        (
            "setupntp.traditional",
            "#!/bin/sh\necho \"traditional ntp from $NTPSERVERS\"\n",
        ),
        ("caller", "#!/bin/sh\nhelper-by-name\n"),
        ("helper-by-name", "#!/bin/sh\necho helper ran\n"),
    ]);
    let jobs = vec![job("cn1", &node_addr(0), &sshd, &root)
        .env("MASTER", "10.1.2.100")
        .step(Step::Postscript {
            name: "setupntp".into(),
            args: vec![],
        })
        .step(Step::Postscript {
            name: "caller".into(),
            args: vec![],
        })];
    let report = run(&jobs, &sshd.transport(), &opts(&root, ps.path()), &Quiet).unwrap();
    assert_eq!(
        report.step_output("cn1", 0),
        Some("traditional ntp from 10.1.2.100\n"),
        "{}",
        report.render_text()
    );
    // only listed companions travel: a script calling an unshipped one by name fails
    assert_eq!(report.node("cn1").unwrap().steps[1].rc, Some(127));
    // the shipped setupntp needs none: with --builtins prefer the directory's are not sent
    let set_jobs = vec![
        job("cn1", &node_addr(0), &sshd, &root).step(Step::Postscript {
            name: "setupntp".into(),
            args: vec![],
        }),
    ];
    let set = postscripts::script::ScriptSet::load(ps.path(), Builtins::Prefer, &set_jobs);
    let text = postscripts::script::render(&set_jobs[0], &set, "", "tok").unwrap();
    assert!(!text.contains("traditional ntp"), "{text}");
}

/// A step that leaves a process in the background holding the output open (`daemon &`) does
/// not hold its node until the command timeout nor make it "timed-out": once the node reports
/// the end of its steps, the client waits only FINISH_GRACE for the channel to close.
#[test]
fn a_background_process_holding_the_output_does_not_hold_the_node() {
    let _serial = serial();
    let sshd = Sshd::start("");
    let root = NodeRoot::new();
    let ps = ps_dir(&[]);
    let pidfile = root.dir.path().join("bg.pid");
    let jobs = vec![job("cn1", &node_addr(0), &sshd, &root).step(Step::Command {
        label: "start-daemon".into(),
        command: format!("sleep 60 & echo $! > {}; echo started", pidfile.display()),
    })];
    let mut o = opts(&root, ps.path());
    o.command_timeout = Duration::from_secs(20);
    let start = Instant::now();
    let report = run(&jobs, &sshd.transport(), &o, &Quiet).unwrap();
    let took = start.elapsed();
    if let Ok(pid) = std::fs::read_to_string(&pidfile) {
        let _ = std::process::Command::new("kill").arg(pid.trim()).status();
    }
    assert!(report.all_ok(), "{}", report.render_text());
    assert_eq!(report.output_of("cn1"), Some("started\n"));
    assert!(
        took < FINISH_GRACE + Duration::from_secs(4),
        "the node was held {took:?}"
    );
}
