//! Hierarchy: nodes reached through their service node as a jump host (like `ssh -J`), one
//! connection per service node, against a real sshd.

mod common;

use common::*;
use postscripts::*;
use std::time::{Duration, Instant};

fn sn(name: &str, addr: &str, port: u16) -> JumpHost {
    JumpHost {
        name: name.into(),
        address: addr.into(),
        port: Some(port),
    }
}

#[test]
fn nodes_behind_a_service_node_run_through_it() {
    let _serial = serial();
    // a few nodes say who they are: each channel must reach its own node
    let mut matches = String::new();
    for i in [5, 6, 7, 20, 33] {
        matches.push_str(&format!(
            "Match LocalAddress 127.1.0.{i}\n  ForceCommand echo I am 127.1.0.{i}\n"
        ));
    }
    let sshd = Sshd::start(&matches);
    let root = NodeRoot::new();
    let ps = tempfile::tempdir().unwrap();
    let sn1 = sn("sn1", "127.1.0.250", sshd.port);
    let refused = free_port();
    let mut jobs: Vec<NodeJob> = (0..40)
        .map(|i| {
            job(&format!("cn{}", i + 1), &node_addr(i), &sshd, &root)
                .via(sn1.clone())
                .step(Step::Command {
                    label: "hi".into(),
                    command: "echo \"hi from $NODE\"; head -c 100000 /dev/zero | wc -c".into(),
                })
        })
        .collect();
    // a node the service node cannot reach
    jobs.push(
        NodeJob::new("cn41", "127.1.0.41")
            .port(refused)
            .via(sn1.clone())
            .step(Step::Command {
                label: "hi".into(),
                command: "true".into(),
            }),
    );
    let mut o = opts(&root, ps.path());
    o.fanout = 16;
    let report = run(&jobs, &sshd.transport(), &o, &Quiet).unwrap();
    let text = report.render_text();
    assert_eq!(report.counts[&Status::Ok], 35, "{text}");
    for i in [5, 6, 7, 20, 33] {
        assert_eq!(
            report.output_of(&format!("cn{i}")).unwrap(),
            format!("I am 127.1.0.{i}\n"),
            "{text}"
        );
    }
    assert_eq!(report.output_of("cn8").unwrap(), "hi from cn8\n100000\n");
    let cn41 = report.node("cn41").unwrap();
    assert_eq!(cn41.status, Status::Unreachable, "{text}");
    assert!(
        cn41.reason
            .as_deref()
            .unwrap()
            .contains("via service node sn1"),
        "{text}"
    );
    assert!(report.jump_failures.is_empty());
}

#[test]
fn a_dead_service_node_fails_its_subtree_with_one_message() {
    let _serial = serial();
    let sshd = Sshd::start("");
    let root = NodeRoot::new();
    let ps = tempfile::tempdir().unwrap();
    let silent = Silent::start();
    let dead = sn("sn9", "127.0.0.1", free_port());
    let hung = sn("sn8", "127.0.0.1", silent.port);
    let live = sn("sn1", "127.1.0.250", sshd.port);
    let mut jobs = Vec::new();
    for i in 0..90 {
        let via = match i % 3 {
            0 => dead.clone(),
            1 => hung.clone(),
            _ => live.clone(),
        };
        jobs.push(
            job(&format!("cn{}", i + 1), &node_addr(i), &sshd, &root)
                .via(via)
                .step(Step::Command {
                    label: "hi".into(),
                    command: "echo ok".into(),
                }),
        );
    }
    let mut o = opts(&root, ps.path());
    o.connect_timeout = Duration::from_secs(2);
    let start = Instant::now();
    let report = run(&jobs, &sshd.transport(), &o, &Quiet).unwrap();
    let text = report.render_text();
    assert_eq!(report.counts[&Status::Ok], 30, "{text}");
    assert_eq!(report.counts[&Status::Unreachable], 60, "{text}");
    assert_eq!(report.jump_failures.len(), 2, "{text}");
    assert!(
        report.jump_failures["sn9"].contains("service node sn9: connection refused"),
        "{text}"
    );
    assert!(
        report.jump_failures["sn8"].contains("no SSH banner"),
        "{text}"
    );
    // one connection attempt per service node: the hung one costs one connect timeout, not 30
    assert!(
        start.elapsed() < Duration::from_secs(15),
        "{:?}\n{text}",
        start.elapsed()
    );
    // the summary names each dead service node once, with its subtree folded
    assert!(
        text.contains("service node sn9: connection refused: its 30 node(s) were not run"),
        "{text}"
    );
    assert!(text.contains("cn[1,4,7,10,13,16,19,22,25,28,31,34,37,40,43,46,49,52,55,58,61,64,67,70,73,76,79,82,85,88] (30): service node sn9: connection refused"), "{text}");
}

#[test]
fn a_hung_node_behind_a_service_node_is_cut_off_at_its_timeout() {
    let _serial = serial();
    let sshd = Sshd::start("Match LocalAddress 127.1.0.3\n  ForceCommand exec sleep 40\n");
    let root = NodeRoot::new();
    let ps = tempfile::tempdir().unwrap();
    let sn1 = sn("sn1", "127.1.0.250", sshd.port);
    let c = |label: &str, cmd: &str| Step::Command {
        label: label.into(),
        command: cmd.into(),
    };
    let jobs = vec![
        job("cn1", &node_addr(0), &sshd, &root)
            .via(sn1.clone())
            .step(c("ok", "echo fine")),
        // remote timeout kills the step
        job("cn2", &node_addr(1), &sshd, &root)
            .via(sn1.clone())
            .step(c("hang", "sleep 60")),
        // no remote timeout (forced command): the client deadline and the watchdog end it
        job("cn3", &node_addr(2), &sshd, &root)
            .via(sn1.clone())
            .step(c("hi", "echo hi")),
    ];
    let mut o = opts(&root, ps.path());
    o.command_timeout = Duration::from_secs(2);
    o.kill_grace = Duration::from_secs(1);
    let start = Instant::now();
    let report = run(&jobs, &sshd.transport(), &o, &Quiet).unwrap();
    let text = report.render_text();
    assert_eq!(report.node("cn1").unwrap().status, Status::Ok, "{text}");
    assert_eq!(
        report.node("cn2").unwrap().status,
        Status::TimedOut,
        "{text}"
    );
    assert_eq!(
        report.node("cn3").unwrap().status,
        Status::TimedOut,
        "{text}"
    );
    // command 2 s + grace 1 s + watchdog backstop 2 s; 15 s is generous
    assert!(
        start.elapsed() < Duration::from_secs(15),
        "{:?}",
        start.elapsed()
    );
}

#[test]
fn a_powered_off_node_behind_a_service_node_does_not_hold_the_others() {
    let _serial = serial();
    let sshd = Sshd::start("");
    let root = NodeRoot::new();
    let ps = tempfile::tempdir().unwrap();
    let hole = BlackHole::start();
    let sn1 = sn("sn1", "127.1.0.250", sshd.port);
    let c = Step::Command {
        label: "hi".into(),
        command: "echo hi".into(),
    };
    // the dead nodes come first, so their opens are at the head of the connection's queue
    let mut jobs: Vec<NodeJob> = (1..=2)
        .map(|i| {
            NodeJob::new(format!("dead{i}"), "127.0.0.1")
                .port(hole.port)
                .via(sn1.clone())
                .step(c.clone())
        })
        .collect();
    for i in 0..30 {
        jobs.push(
            job(&format!("cn{}", i + 1), &node_addr(i), &sshd, &root)
                .via(sn1.clone())
                .step(c.clone()),
        );
    }
    let mut o = opts(&root, ps.path());
    o.fanout = 8;
    o.connect_timeout = Duration::from_secs(6);
    let start = Instant::now();
    let report = run(&jobs, &sshd.transport(), &o, &Quiet).unwrap();
    let text = report.render_text();
    assert_eq!(report.counts[&Status::Ok], 30, "{text}");
    for d in ["dead1", "dead2"] {
        let n = report.node(d).unwrap();
        assert_eq!(n.status, Status::Unreachable, "{text}");
        assert_eq!(
            n.reason.as_deref(),
            Some("via service node sn1: no channel before the connect timeout")
        );
    }
    assert!(report.jump_failures.is_empty(), "{text}");
    assert!(
        start.elapsed() < Duration::from_secs(30),
        "{:?}",
        start.elapsed()
    );
}
