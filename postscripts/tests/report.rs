//! The text and JSON reports, with an in-process fake transport (runs the node script with the
//! local /bin/sh, or fails the way a node would): deterministic snapshots of every status.

use postscripts::*;
use std::io::Write;
use std::process::{Command, Stdio};

/// Nodes named `ok*` run the script locally; others fail according to their name.
struct Fake;

impl Transport for Fake {
    fn exec(
        &self,
        t: &Target<'_>,
        _cmd: &str,
        stdin: &[u8],
        _l: &Limits,
        out: &mut dyn FnMut(Stream, &[u8]),
    ) -> Result<RemoteExit, TransportError> {
        let fail = |k, m: &str| Err(TransportError::new(k, m));
        match t.name.trim_end_matches(|c: char| c.is_ascii_digit()) {
            "refused" => return fail(FailKind::Unreachable, "ssh: connection refused"),
            "silent" => return fail(FailKind::Unreachable, "ssh: no SSH banner or handshake before the connect timeout"),
            "nokey" => return fail(FailKind::AuthFailed, "ssh: permission denied for user root (publickey; tried /root/.ssh/id_ed25519)"),
            "changed" => {
                // a fingerprint and a known_hosts line of its own: the summary still folds them
                let n = t.name.len();
                return fail(FailKind::HostKeyRejected, &format!("ssh: HOST KEY CHANGED: the ssh-ed25519 key offered (SHA256:x{n}Y+/) differs from /root/.ssh/known_hosts:{n}; remove the old line"));
            }
            "behind" => return fail(FailKind::Unreachable, "service node sn9: connection refused"),
            "tardy" => return fail(FailKind::TimedOut, "timed out after 305s (command timeout); the node did not report the end of its steps"),
            _ => {}
        }
        // "slow" nodes get the remote `timeout` wrapper with a 1 s limit
        let slow = t.name.starts_with("slow");
        let mut cmd = Command::new(if slow { "timeout" } else { "/bin/sh" });
        if slow {
            cmd.args(["1", "/bin/sh"]);
        }
        let mut child = cmd
            .arg("-s")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(stdin).unwrap();
        let o = child.wait_with_output().unwrap();
        out(Stream::Stdout, &o.stdout);
        out(Stream::Stderr, &o.stderr);
        use std::os::unix::process::ExitStatusExt;
        let signal = o.status.signal().map(|s| match s {
            15 => "TERM".to_string(),
            s => s.to_string(),
        });
        Ok(RemoteExit {
            status: o.status.code().unwrap_or(-1),
            signal,
        })
    }
}

fn jobs() -> Vec<NodeJob> {
    let c = |label: &str, cmd: &str| Step::Command {
        label: label.into(),
        command: cmd.into(),
    };
    let tmp = std::env::temp_dir().display().to_string();
    let mut jobs = Vec::new();
    for i in 1..=12 {
        jobs.push(
            NodeJob::new(format!("ok{i}"), "x")
                .env("TMPDIR", &tmp)
                .step(c("hello", "echo hello; echo from the node")),
        );
    }
    jobs.push(
        NodeJob::new("ok13", "x")
            .env("TMPDIR", &tmp)
            .step(c("hello", "echo different")),
    );
    for i in 1..=3 {
        jobs.push(
            NodeJob::new(format!("bad{i}"), "x")
                .env("TMPDIR", &tmp)
                .step(c("syslog", "echo oops >&2; exit 2"))
                .step(c("setupntp", "echo fine")),
        );
    }
    jobs.push(
        NodeJob::new("died1", "x")
            .env("TMPDIR", &tmp)
            .step(c("first", "true"))
            .step(c("hang", "exit 124")),
    );
    jobs.push(
        NodeJob::new("died2", "x")
            .env("TMPDIR", &tmp)
            .step(c("first", "kill -TERM $$")),
    );
    jobs.push(
        NodeJob::new("slow1", "x")
            .env("TMPDIR", &tmp)
            .step(c("first", "echo started"))
            .step(c("wait", "sleep 5"))
            .step(c("never", "true")),
    );
    for n in [
        "refused1",
        "refused2",
        "refused5",
        "silent3",
        "nokey1",
        "changed7",
        "changed10",
        "tardy1",
    ] {
        jobs.push(NodeJob::new(n, "x").step(c("hello", "true")));
    }
    let sn9 = JumpHost {
        name: "sn9".into(),
        address: "sn9".into(),
        port: None,
    };
    for i in 1..=4 {
        jobs.push(
            NodeJob::new(format!("behind{i}"), "x")
                .via(sn9.clone())
                .step(c("hello", "true")),
        );
    }
    jobs
}

fn report() -> Report {
    let opts = RunOptions {
        fanout: 4,
        command_timeout: std::time::Duration::from_secs(1),
        ..RunOptions::default()
    };
    run(&jobs(), &Fake, &opts, &Quiet).unwrap()
}

#[test]
fn text_report_snapshot() {
    let r = report();
    insta::with_settings!({filters => vec![(r"succeeded in [0-9.]+s", "succeeded in [TIME]")]}, {
        insta::assert_snapshot!("text_report", r.render_text());
    });
}

#[test]
fn json_report_snapshot_and_round_trip() {
    let r = report();
    let back: Report = serde_json::from_str(&r.to_json()).unwrap();
    assert_eq!(back, r);
    let mut v: serde_json::Value = serde_json::from_str(&r.to_json()).unwrap();
    v["elapsed_ms"] = 0.into();
    for n in v["nodes"].as_array_mut().unwrap() {
        n["elapsed_ms"] = 0.into();
    }
    insta::assert_json_snapshot!("json_report", v);
}

#[test]
fn retry_keeps_only_the_failures() {
    let r = report();
    let again = retry_jobs(jobs(), &r);
    let names: Vec<&str> = again.iter().map(|j| j.name.as_str()).collect();
    assert_eq!(names.len(), 18, "{names:?}");
    assert!(!names.iter().any(|n| n.starts_with("ok")));
}

#[test]
fn bad_input_is_refused_before_any_node_is_contacted() {
    let dup = vec![NodeJob::new("a", "x"), NodeJob::new("a", "y")];
    assert_eq!(
        run(&dup, &Fake, &RunOptions::default(), &Quiet)
            .unwrap_err()
            .to_string(),
        "node a is listed twice"
    );
    let zero = RunOptions {
        fanout: 0,
        ..RunOptions::default()
    };
    assert!(run(&[NodeJob::new("a", "x")], &Fake, &zero, &Quiet).is_err());
    let bad = vec![NodeJob::new("a", "x").env("A B", "1")];
    assert_eq!(
        run(&bad, &Fake, &RunOptions::default(), &Quiet)
            .unwrap_err()
            .to_string(),
        "node a: environment variable name \"A B\" is not a valid shell name"
    );
    // names the report could not show unambiguously (`name: line`, folded noderanges)
    for (name, why) in [
        ("", "is empty"),
        ("cn 1", "contains whitespace or a control character"),
        ("cn1\nx", "contains whitespace or a control character"),
        (
            "cn[1-3]",
            "contains ',', '[', ']' or '=', which noderanges use",
        ),
        (
            "cn1,cn2",
            "contains ',', '[', ']' or '=', which noderanges use",
        ),
        (
            "cn1=10.0.0.1",
            "contains ',', '[', ']' or '=', which noderanges use",
        ),
        ("../etc", "contains '/'"),
    ] {
        let jobs = vec![NodeJob::new("ok1", "x"), NodeJob::new(name, "x")];
        assert_eq!(
            run(&jobs, &Fake, &RunOptions::default(), &Quiet)
                .unwrap_err()
                .to_string(),
            format!("node name {name:?} {why}")
        );
    }
    let jobs = vec![NodeJob::new("a", "")];
    assert_eq!(
        run(&jobs, &Fake, &RunOptions::default(), &Quiet)
            .unwrap_err()
            .to_string(),
        "node a: empty address"
    );
    // names and addresses end up in known_hosts lines (accept-new): no line breaks in them
    let jobs = vec![NodeJob::new("a", "10.0.0.1\n* ssh-ed25519 AAAA")];
    assert_eq!(
        run(&jobs, &Fake, &RunOptions::default(), &Quiet)
            .unwrap_err()
            .to_string(),
        "node a: address \"10.0.0.1\\n* ssh-ed25519 AAAA\" contains whitespace or a control character"
    );
    let jobs = vec![NodeJob::new("a", "x").via(JumpHost {
        name: "sn 1".into(),
        address: "y".into(),
        port: None,
    })];
    assert!(run(&jobs, &Fake, &RunOptions::default(), &Quiet).is_err());
    // names xCAT uses are fine
    let jobs = vec![
        NodeJob::new("cn-01.cluster_a", "x"),
        NodeJob::new("r1n01", "x"),
    ];
    assert!(run(&jobs, &Fake, &RunOptions::default(), &Quiet).is_ok());
}

#[test]
fn empty_run_is_fine() {
    let r = run(&[], &Fake, &RunOptions::default(), &Quiet).unwrap();
    assert!(r.all_ok());
    assert_eq!(r.render_gathered(), "");
}
