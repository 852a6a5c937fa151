//! The `psrun` command against a real sshd: streamed lines, gathered output, summary, exit
//! status, JSON report and --retry-failed; --help and the generated man page.

mod common;

use common::*;
use std::process::Command;

fn psrun() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_psrun"));
    c.env_remove("DSH_FANOUT");
    c
}

fn sorted_lines(s: &[u8]) -> String {
    let mut l: Vec<&str> = std::str::from_utf8(s).unwrap().lines().collect();
    l.sort();
    l.join("\n") + "\n"
}

/// Streamed lines (any order across nodes) sorted, then the final report verbatim.
fn stream_then_report(s: &[u8]) -> String {
    let text = std::str::from_utf8(s).unwrap();
    let cut = text
        .find("====")
        .or_else(|| text.find("ok: "))
        .unwrap_or(text.len());
    sorted_lines(&text.as_bytes()[..cut]) + "--- final report ---\n" + &text[cut..]
}

#[test]
fn help_snapshot() {
    let _serial = serial();
    let o = psrun().arg("--help").output().unwrap();
    assert!(o.status.success());
    insta::assert_snapshot!("psrun_help", String::from_utf8(o.stdout).unwrap());
}

#[test]
fn man_page_and_completions_are_generated() {
    let _serial = serial();
    let o = psrun().args(["--generate", "man"]).output().unwrap();
    assert!(o.status.success());
    let man = String::from_utf8(o.stdout).unwrap();
    assert!(
        man.starts_with(".ie \\n(.g .ds Aq") || man.contains(".TH psrun"),
        "{man}"
    );
    assert!(man.contains("retry\\-failed"), "{man}");
    let o = psrun()
        .args(["--generate", "complete-bash"])
        .output()
        .unwrap();
    assert!(o.status.success() && String::from_utf8_lossy(&o.stdout).contains("--fanout"));
}

#[test]
fn run_report_json_and_retry() {
    let _serial = serial();
    let sshd = Sshd::start("Match LocalAddress 127.1.0.4\n  ForceCommand echo boom; exit 5\n");
    let root = NodeRoot::new();
    let kh = sshd.known_hosts_wildcard();
    let refused = free_port();
    let dir = tempfile::tempdir().unwrap();
    let hosts = dir.path().join("hosts");
    let mut h = String::from("# name address\n");
    for i in 0..4 {
        h.push_str(&format!("cn{} {}:{}\n", i + 1, node_addr(i), sshd.port));
    }
    h.push_str(&format!("cn5 127.0.0.1:{refused}\n"));
    std::fs::write(&hosts, h).unwrap();
    let json = dir.path().join("report.json");
    let base = |c: &mut Command| {
        c.arg("--hosts")
            .arg(&hosts)
            .arg("-i")
            .arg(sshd.path("client"))
            .arg("--known-hosts")
            .arg(&kh);
        c.args([
            "-e",
            &format!("PATH={}", root.path_env()),
            "-e",
            "MASTER=10.1.2.100",
            "-t",
            "5",
            "-T",
            "20",
            "-f",
            "3",
        ]);
        c.args(["-c", "echo \"master is $MASTER\"; echo to-stderr >&2"]);
    };
    let mut c = psrun();
    base(&mut c);
    c.arg("--json").arg(&json);
    let o = c.output().unwrap();
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    insta::with_settings!({filters => vec![(r"succeeded in [0-9.]+s", "succeeded in [TIME]")]}, {
        insta::assert_snapshot!("psrun_run_stdout", stream_then_report(&o.stdout));
        insta::assert_snapshot!("psrun_run_stderr", sorted_lines(&o.stderr));
    });
    let report = postscripts::Report::load(&json).unwrap();
    assert_eq!(
        report.not_succeeded().into_iter().collect::<Vec<_>>(),
        ["cn4", "cn5"]
    );
    // retry: only cn4 and cn5 run again
    let mut c = psrun();
    base(&mut c);
    c.arg("--retry-failed")
        .arg(&json)
        .arg("-q")
        .arg("--no-gather");
    let o = c.output().unwrap();
    assert_eq!(o.status.code(), Some(1));
    let out = String::from_utf8(o.stdout).unwrap();
    assert!(out.contains("ok:                     0\n"), "{out}");
    assert!(out.contains("0 of 2 nodes succeeded"), "{out}");
    // retry from the report alone (no --hosts): its failed nodes, at the address and port
    // that run used; the new report replaces the old one
    let mut c = psrun();
    c.arg("-i")
        .arg(sshd.path("client"))
        .arg("--known-hosts")
        .arg(&kh)
        .args(["-t", "5", "-c", "echo again", "-q", "--no-gather"])
        .arg("--retry-failed")
        .arg(&json)
        .arg("--json")
        .arg(&json);
    let o = c.output().unwrap();
    assert_eq!(o.status.code(), Some(1));
    let out = String::from_utf8(o.stdout).unwrap();
    assert!(out.contains("failed:                 1  cn4\n"), "{out}");
    assert!(out.contains("unreachable:            1  cn5\n"), "{out}");
    let again = postscripts::Report::load(&json).unwrap();
    assert_eq!(again.nodes.len(), 2);
    assert_eq!(again.nodes[0].port, Some(sshd.port));
    // given nodes that all succeeded, and a node the report does not have
    let mut c = psrun();
    c.args(["cn1", "cn9", "-c", "true"])
        .arg("--retry-failed")
        .arg(&json);
    let o = c.output().unwrap();
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(
        String::from_utf8_lossy(&o.stdout),
        format!(
            "none of the given nodes failed in {}: nothing to retry\n",
            json.display()
        )
    );
    assert_eq!(
        String::from_utf8_lossy(&o.stderr),
        format!(
            "psrun: 2 of the 2 given node(s) are not in {}: not run\n",
            json.display()
        )
    );
}

/// A --json path that cannot be written is refused before any node runs anything (not after
/// a whole run), and a written report replaces the file whole.
#[test]
fn unwritable_json_is_refused_before_the_run() {
    let _serial = serial();
    let sshd = Sshd::start("");
    let kh = sshd.known_hosts_wildcard();
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("ran");
    let run = |json: &std::path::Path| {
        psrun()
            .arg(format!("cn1={}:{}", node_addr(0), sshd.port))
            .arg("-i")
            .arg(sshd.path("client"))
            .arg("--known-hosts")
            .arg(&kh)
            .arg("-c")
            .arg(format!("touch {}", marker.display()))
            .arg("--json")
            .arg(json)
            .output()
            .unwrap()
    };
    let bad = dir.path().join("missing-dir").join("r.json");
    let o = run(&bad);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&o.stderr),
        format!(
            "psrun: cannot write {}: No such file or directory (os error 2)\n",
            bad.display()
        )
    );
    assert!(
        !marker.exists(),
        "the node ran although the report cannot be written"
    );
    let good = dir.path().join("r.json");
    std::fs::write(&good, "old").unwrap();
    let o = run(&good);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(marker.exists());
    assert!(postscripts::Report::load(&good).unwrap().all_ok());
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(left.len(), 2, "{left:?}"); // ran, r.json: no temporary file left
}

#[test]
fn bad_input_exits_2_with_a_clear_message() {
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    let hosts = dir.path().join("hosts");
    std::fs::write(&hosts, "cn1 a b c d\n").unwrap();
    let o = psrun()
        .arg("--hosts")
        .arg(&hosts)
        .args(["-c", "true"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let e = String::from_utf8(o.stderr).unwrap();
    assert_eq!(
        e,
        format!(
            "psrun: {}:1: expected `NAME [ADDRESS [JUMPHOST]]`, found 5 words\n",
            hosts.display()
        )
    );
    let o = psrun().args(["cn1"]).output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("nothing to run"));
    let o = psrun().args(["-c", "true"]).output().unwrap();
    assert_eq!(
        String::from_utf8_lossy(&o.stderr),
        "psrun: no nodes: give NODE arguments, --hosts FILE or --jobs FILE\n"
    );
    let o = psrun()
        .args(["cn1=host:xx", "-c", "true"])
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&o.stderr),
        "psrun: host:xx: \"xx\" is not a port number\n"
    );
    let o = psrun()
        .args([
            "-c",
            "true",
            "-i",
            "/dev/null",
            "--",
            "cn1",
            "cn 2=10.0.0.2",
        ])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&o.stderr),
        "psrun: node name \"cn 2\" contains whitespace or a control character\n"
    );
    let o = psrun()
        .args(["-P", "syslog,sylog", "--postscripts-dir"])
        .arg(dir.path())
        .args(["-i", "/dev/null", "cn1"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&o.stderr),
        format!(
            "psrun: cannot read postscript {}: No such file or directory (os error 2)\n",
            dir.path().join("sylog").display()
        )
    );
    let o = psrun()
        .args(["-P", "../x", "-i", "/dev/null", "cn1"])
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&o.stderr),
        "psrun: postscript name \"../x\" is not a plain file name\n"
    );
    let o = psrun()
        .args(["-c", "true", "-J", ":22", "cn1"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&o.stderr),
        "psrun: jump host \":22\": no host name\n"
    );
    let o = psrun()
        .args(["cn1", "-c", "true", "-i", "/nonexistent/key"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&o.stderr),
        "psrun: cannot use identity /nonexistent/key: No such file or directory (os error 2)\n"
    );
}

#[test]
fn jobs_file_is_the_library_input_as_json() {
    let _serial = serial();
    let sshd = Sshd::start("");
    let root = NodeRoot::new();
    let kh = sshd.known_hosts_wildcard();
    let dir = tempfile::tempdir().unwrap();
    let jobs: Vec<postscripts::NodeJob> = (0..3)
        .map(|i| {
            job(&format!("cn{}", i + 1), &node_addr(i), &sshd, &root).step(
                postscripts::Step::Command {
                    label: "who".into(),
                    command: "echo \"I am $NODE\"".into(),
                },
            )
        })
        .collect();
    let file = dir.path().join("jobs.json");
    std::fs::write(&file, serde_json::to_string(&jobs).unwrap()).unwrap();
    let json = dir.path().join("r.json");
    let o = psrun()
        .arg("--jobs")
        .arg(&file)
        .arg("-i")
        .arg(sshd.path("client"))
        .arg("--known-hosts")
        .arg(&kh)
        .arg("--json")
        .arg(&json)
        .args(["-q", "--no-gather"])
        .env("DSH_FANOUT", "2")
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let r = postscripts::Report::load(&json).unwrap();
    assert_eq!(r.fanout, 2, "DSH_FANOUT is honoured");
    assert_eq!(r.step_output("cn2", 0), Some("I am cn2\n"));
    let o = psrun()
        .arg("--jobs")
        .arg(dir.path().join("missing.json"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    std::fs::write(&file, "[{\"name\": 3}]").unwrap();
    let o = psrun().arg("--jobs").arg(&file).output().unwrap();
    let e = String::from_utf8(o.stderr).unwrap();
    assert!(
        e.starts_with(&format!(
            "psrun: {}: invalid type: integer `3`, expected a string at line 1 column",
            file.display()
        )),
        "{e}"
    );
}

/// A closed stdout (`psrun … | head -1` after head exited) is not a panic.
#[test]
fn closed_stdout_is_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("ok.json");
    std::fs::write(
        &report,
        r#"{"version":1,"elapsed_ms":1,"fanout":64,"connect_timeout_s":10.0,
            "command_timeout_s":300.0,"counts":{},"outputs":[],
            "nodes":[{"name":"cn1","address":"a","status":"ok","steps":[],"elapsed_ms":1}]}"#,
    )
    .unwrap();
    let closed = || {
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        writer
    };
    let o = psrun()
        .args(["-c", "true", "--retry-failed"])
        .arg(&report)
        .stdout(closed())
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&o.stderr), "");
    let o = psrun()
        .args(["--generate", "man"])
        .stdout(closed())
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// Ctrl-C during a run: no further node starts, the one in flight finishes, the summary and
/// the JSON report still come (exit 130) and list the nodes not run, which --retry-failed then
/// runs.
#[test]
fn ctrl_c_stops_starting_nodes_and_still_reports() {
    let _serial = serial();
    let sshd = Sshd::start("");
    let kh = sshd.known_hosts_wildcard();
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("r.json");
    let base = |c: &mut Command| {
        c.arg("-i")
            .arg(sshd.path("client"))
            .arg("--known-hosts")
            .arg(&kh)
            .args(["-q", "--no-gather"]);
    };
    let mut c = psrun();
    base(&mut c);
    for i in 0..3 {
        c.arg(format!("cn{}={}:{}", i + 1, node_addr(i), sshd.port));
    }
    let child = c
        .args(["-f", "1", "-c", "sleep 2; echo done"])
        .arg("--json")
        .arg(&json)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1000));
    // SAFETY: signalling our own child.
    unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGINT) };
    let o = child.wait_with_output().unwrap();
    let (out, err) = (
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr),
    );
    assert_eq!(o.status.code(), Some(130), "{out}{err}");
    assert!(
        err.contains("psrun: interrupted: no further node is started"),
        "{err}"
    );
    assert!(out.contains("ok:                     1  cn1\n"), "{out}");
    assert!(
        out.contains("not run:                2  cn[2-3]\n"),
        "{out}"
    );
    assert!(out.contains("1 of 3 nodes succeeded"), "{out}");
    let r = postscripts::Report::load(&json).unwrap();
    assert_eq!(
        r.not_succeeded().into_iter().collect::<Vec<_>>(),
        ["cn2", "cn3"]
    );
    // the retry runs the nodes not run, from the report alone
    let mut c = psrun();
    base(&mut c);
    let o = c
        .args(["-c", "true", "--retry-failed"])
        .arg(&json)
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{out}{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(
        out.contains("ok:                     2  cn[2-3]\n"),
        "{out}"
    );
}
