//! The `tabdump` and `tabrestore` commands on a CSV directory store, run as processes.

use std::path::Path;
use std::process::{Command, Output};

const TABDUMP: &str = env!("CARGO_BIN_EXE_tabdump");
const TABRESTORE: &str = env!("CARGO_BIN_EXE_tabrestore");

const SITE: &str = "#key,value,comments,disable
\"master\",\"10.1.0.100\",,
\"nameservers\",\"<xcatmaster>\",,
\"dhcpinterfaces\",\"mn1|eth1;service|eth2\",,
\"motd\",\"line one
line two\",\"multi-line value\",
\"old\",\"x\",,\"1\"
";

fn run(bin: &str, db: &Path, args: &[&str]) -> Output {
    Command::new(bin)
        .arg("--db")
        .arg(format!("CSV:{}", db.display()))
        .args(args)
        .env_remove("XCATCFG")
        .output()
        .unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "exit: {}\n--- stdout\n{}--- stderr\n{}",
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout),
        redact_server(&String::from_utf8_lossy(&o.stderr))
    )
}

/// Errors sent through xcatd name the server (`Error: [<host>]: …`); snapshots say [SERVER].
fn redact_server(s: &str) -> String {
    let source = xcattab::cli::xcatd_source();
    if source.is_empty() {
        s.to_string()
    } else {
        s.replace(&source, "[SERVER]: ")
    }
}

fn store_with_site() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("site.csv"), SITE).unwrap();
    dir
}

#[test]
fn tabdump_prints_the_table_byte_for_byte() {
    let dir = store_with_site();
    let o = run(TABDUMP, dir.path(), &["site"]);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(String::from_utf8(o.stdout).unwrap(), SITE);
}

#[test]
fn tabdump_of_an_empty_or_absent_table_prints_the_header() {
    let dir = tempfile::tempdir().unwrap();
    let o = run(TABDUMP, dir.path(), &["nodehm"]);
    insta::assert_snapshot!(text(&o));
}

#[test]
fn tabdump_filters_exclude_disabled_rows() {
    let dir = store_with_site();
    let o = run(
        TABDUMP,
        dir.path(),
        &["-w", "key!=master", "-w", "value=~%x%", "site"],
    );
    insta::assert_snapshot!(text(&o));
    let all = run(TABDUMP, dir.path(), &["-w", "key=~%", "site"]);
    assert!(!String::from_utf8_lossy(&all.stdout).contains("\"old\""));
}

#[test]
fn tabdump_errors() {
    let dir = store_with_site();
    insta::assert_snapshot!(
        "unknown_table",
        text(&run(TABDUMP, dir.path(), &["nosuch"]))
    );
    insta::assert_snapshot!(
        "bad_filter",
        text(&run(TABDUMP, dir.path(), &["-w", "key=x", "site"]))
    );
    insta::assert_snapshot!(
        "bad_column",
        text(&run(TABDUMP, dir.path(), &["-w", "nosuch==x", "site"]))
    );
    insta::assert_snapshot!(
        "n_on_site",
        text(&run(TABDUMP, dir.path(), &["-n", "3", "site"]))
    );
    let missing = run(TABDUMP, Path::new("/nonexistent/dir"), &["site"]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&missing.stderr).contains("/nonexistent/dir: no such directory")
    );
}

#[test]
fn tabdump_lists_tables_and_writes_files() {
    let dir = store_with_site();
    let o = run(TABDUMP, dir.path(), &[]);
    let list = String::from_utf8(o.stdout).unwrap();
    assert_eq!(list.lines().count(), 73);
    assert!(list.lines().any(|l| l == "noderes"));
    let out = dir.path().join("dump.csv");
    let o = run(TABDUMP, dir.path(), &["-f", out.to_str().unwrap(), "site"]);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(std::fs::read_to_string(out).unwrap(), SITE);
}

#[test]
fn tabrestore_replaces_and_appends() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("input");
    std::fs::create_dir(&file).unwrap();
    let csv = file.join("site.bak.csv");
    std::fs::write(&csv, SITE).unwrap();
    let o = run(TABRESTORE, dir.path(), &[csv.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(
        std::fs::read_to_string(dir.path().join("site.csv")).unwrap(),
        SITE
    );

    let more = file.join("site.csv");
    std::fs::write(&more, "#key,value\n\"domain\",\"cluster\"\n").unwrap();
    let o = run(TABRESTORE, dir.path(), &["-a", more.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    let after = std::fs::read_to_string(dir.path().join("site.csv")).unwrap();
    assert_eq!(after, format!("{SITE}\"domain\",\"cluster\",,\n"));

    // Appending a row equal in every given column to an existing one is an (idle) update…
    let o = run(TABRESTORE, dir.path(), &["-a", more.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(
        std::fs::read_to_string(dir.path().join("site.csv")).unwrap(),
        after
    );
    // …but with a NULL field it is an insert, and a duplicate key is a DB error that changes
    // nothing.
    std::fs::write(&more, "#key,value,comments\n\"domain\",\"other\",\n").unwrap();
    let o = run(TABRESTORE, dir.path(), &["-a", more.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(4), "{}", text(&o));
    assert_eq!(
        redact_server(&String::from_utf8_lossy(&o.stderr)),
        "Error: [SERVER]: DB error UNIQUE constraint failed: site.key with line 0: \"domain\",\"other\",\n"
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("site.csv")).unwrap(),
        after
    );
}

#[test]
fn tabrestore_errors_change_nothing() {
    let dir = store_with_site();
    let bad = dir.path().join("bad");
    std::fs::create_dir(&bad).unwrap();
    let cases = [
        ("noheader", "site.csv", "\"master\",\"x\",,\n"),
        ("badcolumn", "site.csv", "#key,nosuch\n\"a\",\"b\"\n"),
        (
            "badquote",
            "site.csv",
            "#key,value\n\"a\"b\",\"c\"\n\"ok\",\"fine\"\nx\"y,z\n",
        ),
        ("unknowntable", "nosuchtable.csv", "#a,b\n\"x\",\"y\"\n"),
    ];
    let mut all = String::new();
    for (name, file, body) in cases {
        let p = bad.join(file);
        std::fs::write(&p, body).unwrap();
        let o = run(TABRESTORE, dir.path(), &[p.to_str().unwrap()]);
        all.push_str(&format!("## {name}\n{}\n", text(&o)));
        assert_ne!(o.status.code(), Some(0), "{name}");
        assert_eq!(
            std::fs::read_to_string(dir.path().join("site.csv")).unwrap(),
            SITE,
            "{name}"
        );
    }
    let o = run(TABRESTORE, dir.path(), &["/nonexistent/site.csv"]);
    all.push_str(&format!("## unreadable\n{}\n", text(&o)));
    insta::assert_snapshot!(all);
}

#[test]
fn man_page_and_completions_come_from_the_definition() {
    for bin in [TABDUMP, TABRESTORE] {
        for what in ["man", "complete-bash", "complete-zsh", "complete-fish"] {
            let o = Command::new(bin)
                .args(["--generate", what])
                .output()
                .unwrap();
            assert!(o.status.success() && !o.stdout.is_empty(), "{bin} {what}");
        }
    }
    let help = Command::new(TABDUMP).arg("--help").output().unwrap();
    assert!(String::from_utf8_lossy(&help.stdout).contains("-w <attr<op>val>"));
}

#[test]
fn tabrestore_accepts_what_xcat_accepts() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    std::fs::create_dir(&input).unwrap();
    // Column subset in any order, short rows, unquoted fields, a value over three physical
    // lines (blanks before a newline and blank lines inside are lost), "" vs NULL, a data line
    // starting with '#' (a row, not a comment), CRLF line ends.
    let file = input.join("noderes.csv");
    std::fs::write(
        &file,
        "#xcatmaster,node,servicenode,comments\r\n\
         sn1-c,rack1,\"sn1,sn2\",\"first  \r\n\r\nsecond\r\nthird\"\r\n\
         \"\",cn01\r\n\
         ,\"#notacomment\",x\r\n",
    )
    .unwrap();
    let o = run(TABRESTORE, dir.path(), &[file.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    let o = run(TABDUMP, dir.path(), &["noderes"]);
    insta::assert_snapshot!(text(&o));
}

#[test]
fn tabrestore_reports_every_bad_line_and_ors_the_codes() {
    let dir = store_with_site();
    let input = dir.path().join("in");
    std::fs::create_dir(&input).unwrap();
    let file = input.join("site.csv");
    std::fs::write(
        &file,
        "#key,value,comments\n\"a\",\"1\",\n\n\"b\" ,\"2\"\n\"a\",\"dup\",\n\"c\",\"3\",\"x\",\"extra\"\n\"d\",\"never closed\n",
    )
    .unwrap();
    let o = run(TABRESTORE, dir.path(), &[file.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(4));
    insta::assert_snapshot!(text(&o));
    assert_eq!(
        std::fs::read_to_string(dir.path().join("site.csv")).unwrap(),
        SITE
    );
}

#[test]
fn tabrestore_usage_and_table_names() {
    let dir = tempfile::tempdir().unwrap();
    let mut all = String::new();
    for args in [&[][..], &["-h"][..], &["--bogus"][..]] {
        all.push_str(&format!(
            "## tabrestore {}\n{}\n",
            args.join(" "),
            text(&run(TABRESTORE, dir.path(), args))
        ));
    }
    let teal = dir.path().join("x_teal_event.csv");
    std::fs::write(&teal, "#a\n").unwrap();
    let o = run(TABRESTORE, dir.path(), &[teal.to_str().unwrap()]);
    all.push_str(&format!(
        "## x_teal\n{}\n",
        text(&o).replace(dir.path().to_str().unwrap(), "[DIR]")
    ));
    insta::assert_snapshot!(all);
}

#[test]
fn auditlog_record_ids_and_tabdump_n() {
    let dir = tempfile::tempdir().unwrap();
    let empty = run(TABDUMP, dir.path(), &["-n", "2", "auditlog"]);
    assert_eq!(
        String::from_utf8_lossy(&empty.stdout),
        "Nothing to display from auditlog.\n"
    );
    let input = dir.path().join("in");
    std::fs::create_dir(&input).unwrap();
    let file = input.join("auditlog.csv");
    // recid is numbered by the database: the file's values are ignored.
    std::fs::write(
        &file,
        "#recid,audittime,userid,command\n\"77\",\"t1\",\"root\",\"nodels\"\n,\"t2\",\"root\",\"tabdump\"\n,\"t3\",\"bob\",\"rpower\"\n",
    )
    .unwrap();
    let o = run(TABRESTORE, dir.path(), &[file.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    let o = run(TABDUMP, dir.path(), &["-n", "2", "auditlog"]);
    insta::assert_snapshot!(text(&o));
}

/// tabdump parses its command line as xCAT's does (Getopt::Long with posix_default and
/// bundling, inside xcatd): options stop at the table name, a refused option prints only the
/// usage text (Getopt's complaint goes to xcatd's stderr), options may be repeated (the last
/// -f wins, -w accumulate), and `-n 0` selects no record of the audit log.
#[test]
fn tabdump_parses_its_command_line_as_xcat() {
    let dir = store_with_site();
    let input = dir.path().join("in");
    std::fs::create_dir(&input).unwrap();
    let file = input.join("auditlog.csv");
    std::fs::write(&file, "#audittime,command\n\"t1\",\"nodels\"\n").unwrap();
    let o = run(TABRESTORE, dir.path(), &[file.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    let mut all = String::new();
    for args in [
        &["site", "-w", "key==master"][..],
        &["-x"],
        &["-n", "abc", "auditlog"],
        &["--lin", "2", "auditlog"],
        &["-w", "key==master", "-w", "value==nomatch", "site"],
        &["-d", "-d", "-wkey==master", "site"],
        &["-v", "site", "-x"],
        &["--", "site", "x"],
        &["-n", "0", "auditlog"],
    ] {
        let o = run(TABDUMP, dir.path(), args);
        all += &format!("$ tabdump {}\n{}\n", args.join(" "), text(&o));
    }
    insta::assert_snapshot!(all.replace(env!("CARGO_PKG_VERSION"), "[VERSION]"));

    // The file is named as xCAT names it: the working directory + "/" + a relative name.
    let o = Command::new(TABDUMP)
        .current_dir(dir.path())
        .args([
            "--db",
            "CSV:.",
            "-f",
            "nosuch/x.csv",
            "-f",
            "nosuch/y.csv",
            "site",
        ])
        .env_remove("XCATCFG")
        .output()
        .unwrap();
    let cwd = std::fs::canonicalize(dir.path()).unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        redact_server(&String::from_utf8_lossy(&o.stderr)),
        format!(
            "Error: [SERVER]: Error on tabdump of site to {}/nosuch/y.csv. Unable to open the file for write. \n",
            cwd.display()
        )
    );
}

/// tabrestore's client parses its options with Getopt::Long's defaults: no bundling (`-ah` is
/// the unknown option `ah`, `-addrows` is `--addrows`), names ignore case and may be
/// abbreviated, repeated flags are fine, and the file is the first argument that does not
/// start with `-`.
#[test]
fn tabrestore_parses_its_command_line_as_xcat() {
    let dir = store_with_site();
    let input = dir.path().join("in");
    std::fs::create_dir(&input).unwrap();
    let one = input.join("site.csv");
    std::fs::write(&one, "#key,value\n\"extra1\",\"1\"\n").unwrap();
    let two = input.join("site.two.csv");
    std::fs::write(&two, "#key,value\n\"extra2\",\"2\"\n").unwrap();
    let (one, two) = (one.to_str().unwrap(), two.to_str().unwrap());
    let sitedir = input.join("site.d");
    std::fs::create_dir(&sitedir).unwrap();
    let mut all = String::new();
    for args in [
        &["-ah", one][..],
        &["--addrows=1", one],
        &["--", "-x.csv"],
        &["-addrows", one],
        &["-A", "--add", two],
        // A directory opens in Perl and reads as no lines: the server finds no header.
        &[sitedir.to_str().unwrap()],
    ] {
        let o = run(TABRESTORE, dir.path(), args);
        let shown: Vec<&str> = args.iter().map(|a| a.rsplit('/').next().unwrap()).collect();
        all += &format!("$ tabrestore {}\n{}\n", shown.join(" "), text(&o));
    }
    all += &text(&run(TABDUMP, dir.path(), &["site"]));
    insta::assert_snapshot!(all);
}

/// Output that xCAT sends through xcatd has every byte outside \x09-\x7f replaced by `?`
/// (xcatd's send_response): tabdump on stdout and nodels show a UTF-8 value with one `?` per
/// byte; an error echoing the request's text shows one `?` per character (xcatd decoded the
/// request); `tabdump -f` (written by the server itself) keeps the bytes.
#[test]
fn output_through_xcatd_replaces_non_ascii_bytes() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("nodelist.csv"),
        "#node,groups,comments\n\"n1\",\"all\",\"caf\u{e9} \u{2014} ok\"\n",
    )
    .unwrap();
    let mut all = text(&run(TABDUMP, dir.path(), &["nodelist"]));
    all += &text(&run(
        env!("CARGO_BIN_EXE_nodels"),
        dir.path(),
        &["n1", "nodelist.comments"],
    ));
    all += &text(&run(TABDUMP, dir.path(), &["t\u{e9}"]));
    insta::assert_snapshot!(all);
    let file = dir.path().join("dump.out");
    let o = run(
        TABDUMP,
        dir.path(),
        &["-f", file.to_str().unwrap(), "nodelist"],
    );
    assert!(o.status.success(), "{}", text(&o));
    assert!(std::fs::read_to_string(&file)
        .unwrap()
        .contains("\"caf\u{e9} \u{2014} ok\""));
}

/// A command line that is not UTF-8 is refused like any other bad option, never a panic.
#[test]
fn non_utf8_arguments_do_not_panic() {
    use std::os::unix::ffi::OsStrExt;
    let dir = store_with_site();
    let bad = std::ffi::OsStr::from_bytes(b"-\xff");
    for bin in [
        TABDUMP,
        TABRESTORE,
        env!("CARGO_BIN_EXE_nodels"),
        env!("CARGO_BIN_EXE_dumpxCATdb"),
        env!("CARGO_BIN_EXE_restorexCATdb"),
    ] {
        for args in [vec![bad], vec![std::ffi::OsStr::new("x"), bad]] {
            let o = Command::new(bin)
                .arg("--db")
                .arg(format!("CSV:{}", dir.path().display()))
                .args(&args)
                .env_remove("XCATCFG")
                .output()
                .unwrap();
            assert_eq!(o.status.code(), Some(1), "{bin} {args:?}: {}", text(&o));
        }
    }
}
