//! The test matrix of spec §13, end to end, on every kind of store (CSV, SQLite and
//! PostgreSQL, made by `testdb` from the same seed tables): the real `snmove` binary, xCAT's
//! commands replaced by recording stand-ins on PATH. Each test snapshots what the user sees
//! (stdout, stderr, exit code), the xCAT commands run, and the tables afterwards as tabdump
//! prints them — one snapshot for all stores: a difference between stores is a bug. Key facts
//! are also asserted directly. `SNMOVE_TEST_STORES=csv` restricts a local run to some stores.

mod common;

use common::{stores, Cluster, StoreKind};

fn snap(name: &str, c: &Cluster, run: &common::Run, tables: &[&str]) {
    insta::assert_snapshot!(name, c.report(run, tables));
}

// ---------------------------------------------------------------- 1. command line (§2.2)

#[test]
fn cli_usage() {
    // Printed before any store is opened: one store is enough.
    let c = Cluster::csv();
    for (name, args) in [
        ("cli_h", vec!["-h"]),
        ("cli_help", vec!["--help"]),
        ("cli_h_beats_v", vec!["-v", "-h"]),
    ] {
        let r = c.run(&args);
        assert_eq!(r.code, Some(0));
        assert!(
            r.stdout.starts_with("\nsnmove - Move xCAT compute nodes"),
            "{name}"
        );
        assert!(r.stderr.is_empty());
        snap(name, &c, &r, &[]);
    }
}

#[test]
fn cli_version() {
    let c = Cluster::csv();
    let r = c.run(&["-v"]);
    assert_eq!(r.code, Some(0));
    assert!(r.stdout.starts_with("Version "));
}

#[test]
fn cli_errors() {
    for kind in stores() {
        let c = Cluster::new(kind);
        for (name, args) in [
            ("cli_unknown_option", vec!["-x", "cn1"]),
            ("cli_missing_value", vec!["cn1", "-d"]),
            ("cli_ambiguous_long", vec!["--de", "sn2", "cn1"]),
            ("cli_i_with_p", vec!["-i", "-P", "ntp", "cn1"]),
            ("cli_too_many", vec!["cn1", "cn2"]),
            ("cli_nothing_to_move", vec![]),
            ("cli_nothing_to_move_verbose", vec!["-V"]),
        ] {
            let r = c.run(&args);
            assert_eq!(
                r.code,
                Some(1),
                "{name}: usage errors exit 1 (xCAT: 0, spec Q1)"
            );
            // The error on stderr (xCAT's text, with the blank line its trailing newline
            // makes); the usage text, where xCAT prints it, on stdout.
            let with_usage = !matches!(name, "cli_i_with_p");
            assert_eq!(
                r.stdout.contains("\nUsage: \n"),
                with_usage,
                "{name}: {}",
                r.stdout
            );
            assert!(
                r.stderr.starts_with("Error: [mn]: "),
                "{name}: {}",
                r.stderr
            );
            assert!(!r.stdout.contains("Error"), "{name}: {}", r.stdout);
            snap(name, &c, &r, &[]);
        }
        for (args, error) in [
            (
                vec!["-i", "-P", "ntp", "cn1"],
                "Error: [mn]: -P and -i flags cannot be specified at the same time.\n\n",
            ),
            (vec!["cn1", "cn2"], "Error: [mn]: Too many paramters.\n\n"),
            (
                vec!["-V"],
                "Error: [mn]: A node range or the source service node must be specified.\n\n",
            ),
        ] {
            assert_eq!(c.run(&args).stderr, error, "{args:?}");
        }
        assert!(c.calls().is_empty(), "nothing ran");
        assert_eq!(c.dump("noderes"), common::NODERES, "nothing written");
    }
}

#[test]
fn cli_getopt_forms_move_the_same() {
    for kind in stores() {
        // Bundles, attached values, long forms with '=', the noderange first or last.
        let forms: [&[&str]; 4] = [
            &["-Vi", "-dsn3", "-Dsn3-c", "cn1"],
            &["cn1", "--dest=sn3", "--DESTN", "sn3-c", "--ign", "-V"],
            &["--destn=sn3-c", "cn1", "-i", "--verbose", "-d", "sn3"],
            &["-n", "-iVd", "sn3", "-D", "sn3-c", "cn1"],
        ];
        let mut results = Vec::new();
        for f in forms {
            let c = Cluster::new(kind);
            let r = c.run(f);
            assert_eq!(r.code, Some(0), "{f:?}: {}", r.stderr);
            results.push(c.dump("noderes"));
            assert!(
                c.dump("noderes").contains("\"cn1\",\"sn3,sn1,sn2\""),
                "{f:?}"
            );
            assert!(!c.calls().contains("updatenode"), "-i is honoured in {f:?}");
        }
        assert!(results.windows(2).all(|w| w[0] == w[1]));
        let c = Cluster::new(kind);
        snap("cli_bundled_move", &c, &c.run(forms[0]), &["noderes"]);
        let c = Cluster::new(kind);
        snap("cli_verbose_word_prefixes_lines", &c, &c.run(forms[1]), &[]);
    }
}

// ---------------------------------------------------------------- validation rows 8–17

#[test]
fn invalid_nodes_in_noderange() {
    for kind in stores() {
        let c = Cluster::new(kind);
        let r = c.run(&["cn1,nosuch,cn99"]);
        assert_eq!(r.code, Some(1));
        assert_eq!(r.stdout, "Moving nodes to their backup service nodes.\n\n");
        assert_eq!(
            r.stderr,
            "Error: [mn]: Invalid nodes in noderange:nosuch,cn99\n"
        );
        snap("invalid_nodes", &c, &r, &[]);
        // -V stamps information lines with the host; errors carry it always.
        let r = c.run(&["-V", "cn1,nosuch"]);
        assert_eq!(r.code, Some(1));
        assert_eq!(
            r.stdout,
            "[mn]: Moving nodes to their backup service nodes.\n\n"
        );
        assert_eq!(r.stderr, "Error: [mn]: Invalid nodes in noderange:nosuch\n");
    }
}

#[test]
fn unresolvable_node_stops_at_the_first() {
    for kind in stores() {
        let c = Cluster::new(kind);
        c.rows(
            "nodelist",
            "\"zz8\",\"rack3\",,,,,,,,,,,\n\"zz9\",\"rack3\",,,,,,,,,,,\n",
        );
        c.rows("noderes", "\"rack3\",\"sn1,sn2\",,,,,,,,,,,,,,,,,,,,\n");
        let r = c.run(&["rack3"]);
        assert_eq!(r.code, Some(1));
        assert!(r
            .stderr
            .contains("Error: [mn]: Could not resolve node 'zz8'.\n\n"));
        assert!(!r.stderr.contains("zz9"));
        snap("unresolvable_node", &c, &r, &[]);
    }
}

#[test]
fn empty_selection() {
    for kind in stores() {
        let c = Cluster::new(kind);
        let r = c.run(&["-s", "nosuchsn"]);
        assert_eq!(r.code, Some(1));
        assert!(r.stderr.contains("Could not get xCAT object definitions."));
        snap("empty_selection", &c, &r, &[]);
    }
}

#[test]
fn mixed_os_and_liteonly() {
    for kind in stores() {
        let c = Cluster::new(kind);
        c.rows("nodetype", "\"cn1\",\"AIX\",,,,,,,\n");
        let r = c.run(&["rack1"]);
        assert_eq!(r.code, Some(1));
        snap("mixed_os", &c, &r, &[]);
        let c = Cluster::new(kind);
        let r = c.run(&["-l", "cn1"]);
        assert_eq!(r.code, Some(1));
        assert!(
            !r.stdout.contains("Moving nodes"),
            "-l does not announce a move"
        );
        snap("liteonly_linux", &c, &r, &[]);
    }
}

#[test]
fn aix_is_refused_after_xcat_validation() {
    for kind in stores() {
        let c = Cluster::new(kind);
        c.rows(
            "nodetype",
            "\"cn5\",\"AIX\",,,,,,,\n\"cn6\",\"AIX\",,,,,,,\n",
        );
        let r = c.run(&["rack2", "-D", "sn1-c"]);
        assert_eq!(r.code, Some(1));
        assert_eq!(c.dump("noderes"), common::NODERES);
        snap("aix_refused", &c, &r, &[]);
        // Row 17: -l on AIX with a shared file system (xCAT: `sns` only; here also `all`, Q13).
        for shared in ["sns", "all"] {
            let c = Cluster::new(kind);
            c.rows(
                "nodetype",
                "\"cn5\",\"AIX\",,,,,,,\n\"cn6\",\"AIX\",,,,,,,\n",
            );
            c.rows("site", &format!("\"sharedinstall\",\"{shared}\",,\n"));
            let r = c.run(&["-l", "rack2", "-D", "sn1-c"]);
            assert_eq!(r.code, Some(1));
            assert_eq!(r.stdout, "", "-l does not announce a move");
            assert_eq!(
                r.stderr,
                "Error: [mn]: The liteonly option is not valaid when using a shared file system across service nodes.\n\n"
            );
            assert_eq!(c.dump("noderes"), common::NODERES);
        }
    }
}

#[test]
fn missing_backup_lists_every_node() {
    for kind in stores() {
        let c = Cluster::new(kind);
        c.rows(
            "noderes",
            "\"cn5\",\"sn2\",,,,,,,,,,,,,,,,,,,,\n\"cn6\",\"sn2,\",,,,,,,,,,,,,,,,,,,,\n",
        );
        let r = c.run(&["rack2,cn1"]);
        assert_eq!(r.code, Some(1), "xCAT exits 0 here (Q1)");
        assert!(r.stderr.contains("backup service node for node cn5."));
        assert!(r.stderr.contains("backup service node for node cn6."));
        assert!(!r.stderr.contains("node cn1."));
        snap("missing_backup", &c, &r, &["noderes"]);
    }
}

#[test]
fn xcatmaster_undeterminable() {
    for kind in stores() {
        // sn3 is unreachable and nothing in the tables gives it an address in 10.1/16.
        let c = Cluster::new(kind);
        c.table("hosts", &common::HOSTS.replace("\"sn3-c:10.1.3.100\"", ""));
        let r = c.run(&["-d", "sn3", "cn1,cn2"]);
        assert_eq!(r.code, Some(1));
        assert!(r
            .stdout
            .contains("Could not get IP addresses from service node sn3.\n\n"));
        assert!(r
            .stderr
            .contains("Could not determine an xcatmaster value for node cn1."));
        assert!(r
            .stderr
            .contains("Could not determine an xcatmaster value for node cn2."));
        snap("xcatmaster_undeterminable", &c, &r, &["noderes"]);
        // sn2 answers, but with no address in the nodes' network.
        let c = Cluster::new(kind);
        c.sn_answers("sn2", "1: lo: <LOOPBACK>\n    inet 127.0.0.1/8 scope host lo\n    inet 192.168.9.2/24 scope global eth9\n");
        let r = c.run(&["cn1"]);
        assert_eq!(r.code, Some(1));
        assert!(!r.stdout.contains("Could not get IP addresses"));
        snap("xcatmaster_no_address_in_network", &c, &r, &[]);
    }
}

#[test]
fn monserver_single_value_is_reported_and_left() {
    for kind in stores() {
        let c = Cluster::new(kind);
        c.table(
            "noderes",
            &common::NODERES.replace(
                "\"rack2\",\"sn2,sn1\",,,,,,",
                "\"rack2\",\"sn2,sn1\",,,,,\"sn2\",",
            ),
        );
        let r = c.run(&["rack2"]);
        assert_eq!(r.code, Some(0));
        assert_eq!(
        r.stderr
            .matches(
                "The current value of the monserver attribute is not valid.  It will not be reset."
            )
            .count(),
        2
    );
        assert!(
            c.dump("noderes").contains("\"cn5\",\"sn1,sn2\""),
            "the move went on"
        );
        snap("monserver_single_value", &c, &r, &["noderes"]);
    }
}

#[test]
fn source_equal_to_site_master_is_refused() {
    for kind in stores() {
        let c = Cluster::new(kind);
        let r = c.run(&["-s", "10.0.0.1"]);
        assert_eq!(r.code, Some(1));
        assert_eq!(c.dump("noderes"), common::NODERES);
        snap("source_is_site_master", &c, &r, &[]);
    }
}

// ---------------------------------------------------------------- 2. selection (§3)

#[test]
fn source_selects_first_servicenode_only() {
    for kind in stores() {
        let c = Cluster::new(kind);
        // cn5: node-level list with sn1 first (selected); cn6: sn1 only as xcatmaster (not).
        c.rows(
            "noderes",
            "\"cn5\",\"sn1,sn3\",,,,,,,,,,,,,,,,,,,,\n\"cn6\",,,,,,,,,,,,\"sn1-c\",,,,,,,,,\n",
        );
        let r = c.run(&["-s", "sn1", "-i"]);
        assert_eq!(r.code, Some(0), "{}", r.stderr);
        let t = c.dump("noderes");
        for n in ["cn1", "cn2", "cn3", "cn4", "cn5"] {
            assert!(t.contains(&format!("\"{n}\",")), "{n} moved");
        }
        assert!(
            !t.contains("\"cn6\",\"sn"),
            "cn6 is not selected by its xcatmaster"
        );
        snap("select_by_source", &c, &r, &["noderes", "nodehm"]);
    }
}

#[test]
fn noderange_with_source_keeps_the_noderange() {
    for kind in stores() {
        let c = Cluster::new(kind);
        let r = c.run(&["-s", "sn2", "rack1", "-D", "sn2-c", "-i"]);
        assert_eq!(r.code, Some(0), "{}", r.stderr);
        let t = c.dump("noderes");
        assert!(t.contains("\"cn1\",\"sn2,sn1\""));
        // Old SN is sn2 now: conserver and monserver (sn1) are not the old SN, so they stay.
        assert!(!c.dump("nodehm").contains("\"cn1\""));
        snap("noderange_and_source", &c, &r, &["noderes", "nodehm"]);
    }
}

// ---------------------------------------------------------------- 3–4. destination, lists

#[test]
fn destination_and_list_rules() {
    for kind in stores() {
        let c = Cluster::new(kind);
        c.rows(
        "noderes",
        "\"cn2\",\"sn1,sn2,sn3\",,,,,,,,,,,,,,,,,,,,\n\"cn3\",\"sn1,sn2,sn2\",,,,,,,,,,,,,,,,,,,,\n\"cn4\",\"sn1,sn2,sn1\",,,,,,,,,,,,,,,,,,,,\n",
    );
        let r = c.run(&["cn1,cn2,cn3,cn4", "-D", "sn9-c", "-i"]);
        assert_eq!(r.code, Some(0), "{}", r.stderr);
        let t = c.dump("noderes");
        assert!(t.contains("\"cn1\",\"sn2,sn1\""), "2nd entry");
        assert!(
            t.contains("\"cn2\",\"sn2,sn1,sn3\""),
            "3 entries: the 2nd is used"
        );
        assert!(
            t.contains("\"cn3\",\"sn2,sn1\""),
            "duplicates of the new SN removed"
        );
        assert!(t.contains("\"cn4\",\"sn2,sn1,sn1\""));
        assert!(r.stderr.contains(
            "Warning: [mn]: The service node attribute of node cn2 has more than two values"
        ));
        snap("destination_from_list", &c, &r, &["noderes"]);

        let c = Cluster::new(kind);
        let r = c.run(&["cn1,cn5", "-d", "sn3", "-D", "sn3-c", "-i"]);
        let t = c.dump("noderes");
        assert!(t.contains("\"cn1\",\"sn3,sn1,sn2\""), "-d ignores the list");
        assert!(t.contains("\"cn5\",\"sn3,sn2,sn1\""));
        snap("destination_given", &c, &r, &["noderes"]);

        let c = Cluster::new(kind);
        let r = c.run(&["cn1", "-d", "sn1", "-D", "sn1-c", "-i"]);
        assert!(
            c.dump("noderes").contains("\"cn1\",\"sn1,sn2\""),
            "-d equal to the primary: no reorder"
        );
        snap("destination_is_primary", &c, &r, &["noderes"]);
    }
}

#[test]
fn odd_servicenode_values_are_rotated_as_xcat_splits_them() {
    for kind in stores() {
        let c = Cluster::new(kind);
        // cn1: "0" is false to Perl (no backup, not selected by -s) but xCAT still splits and
        // rotates it; cn2: a leading empty item stays; cn3: items are not trimmed.
        c.rows(
            "noderes",
            "\"cn1\",\"0\",,,,,,,,,,,,,,,,,,,,\n\"cn2\",\",sn1\",,,,,,,,,,,,,,,,,,,,\n\"cn3\",\"sn1, sn3\",,,,,,,,,,,,,,,,,,,,\n",
        );
        let r = c.run(&["cn1,cn2,cn3", "-d", "sn2", "-D", "sn2 c", "-i"]);
        assert_eq!(r.code, Some(0), "{}", r.stderr);
        let t = c.dump("noderes");
        assert!(t.contains("\"cn1\",\"sn2,0\""), "{t}");
        assert!(t.contains("\"cn2\",\"sn2,,sn1\""), "{t}");
        assert!(t.contains("\"cn3\",\"sn2,sn1, sn3\""), "{t}");
        assert!(t.contains(",\"sn2 c\","), "-D written verbatim: {t}");
        snap("odd_servicenode_values", &c, &r, &["noderes"]);

        let c = Cluster::new(kind);
        c.rows("noderes", "\"cn1\",\"0\",,,,,,,,,,,,,,,,,,,,\n");
        let r = c.run(&["cn1", "-D", "sn2-c", "-i"]);
        assert_eq!(r.code, Some(1));
        assert_eq!(
            r.stderr,
            "Error: [mn]: Could not determine a backup service node for node cn1.\n"
        );
    }
}

// ---------------------------------------------------------------- 5. xcatmaster (§6)

#[test]
fn xcatmaster_derived_from_the_destination() {
    for kind in stores() {
        let c = Cluster::new(kind);
        let r = c.run(&["-s", "sn1", "-i"]);
        assert_eq!(r.code, Some(0), "{}", r.stderr);
        assert!(c
            .dump("noderes")
            .contains("\"cn1\",\"sn2,sn1\",,\"10.1.2.100\""));
        assert!(c.calls().contains("xdsh [sn2] [/sbin/ip addr ]"));
        snap("xcatmaster_from_sn", &c, &r, &["noderes"]);
    }
}

#[test]
fn xcatmaster_from_tables_when_the_sn_is_unreachable() {
    for kind in stores() {
        let c = Cluster::new(kind);
        let r = c.run(&["-d", "sn3", "cn1", "-i"]);
        assert_eq!(r.code, Some(0), "{}", r.stderr);
        assert!(r
            .stdout
            .contains("Could not get IP addresses from service node sn3."));
        assert!(c
            .dump("noderes")
            .contains("\"cn1\",\"sn3,sn1,sn2\",,\"10.1.3.100\""));
        snap("xcatmaster_from_tables", &c, &r, &["noderes"]);
    }
}

// ---------------------------------------------------------------- 6–8. conditional rewrites

#[test]
fn tftp_nfs_monserver_conserver_rules() {
    for kind in stores() {
        let c = Cluster::new(kind);
        // cn2: its own tftpserver elsewhere; cn3: nfsserver unset at node level is still inherited.
        c.rows("noderes", "\"cn2\",,,\"elsewhere\",,,,,,,,,,,,,,,,,,\n");
        c.rows("nodehm", "\"cn4\",,,,,,\"sn3\",,,,,,,,,\n");
        let r = c.run(&["-s", "sn1", "-i"]);
        assert_eq!(r.code, Some(0), "{}", r.stderr);
        let t = c.dump("noderes");
        assert!(
            t.contains("\"cn1\",\"sn2,sn1\",,\"10.1.2.100\",,\"10.1.2.100\",\"sn2,10.1.2.100\""),
            "{t}"
        );
        assert!(
            t.contains("\"cn2\",\"sn2,sn1\",,\"elsewhere\",,\"10.1.2.100\""),
            "{t}"
        );
        let calls = c.calls();
        assert!(
            calls.contains("makeconservercf [cn1,cn2,cn3]"),
            "cn4's conserver is sn3: {calls}"
        );
        snap("conditional_rewrites", &c, &r, &["noderes", "nodehm"]);
    }
}

// ---------------------------------------------------------------- 10–11. -i, postscripts

#[test]
fn ignorenodes_still_runs_nodeset() {
    for kind in stores() {
        let c = Cluster::new(kind);
        c.table(
            "nodetype",
            &common::NODETYPE.replace("rhels8-x86_64-netboot-compute", "install"),
        );
        let r = c.run(&["-i", "-s", "sn1"]);
        assert_eq!(r.code, Some(0), "{}", r.stderr);
        let calls = c.calls();
        assert!(calls.contains("nodeset [cn1,cn2,cn3,cn4] [install]"));
        assert!(!calls.contains("updatenode") && !calls.contains("xdsh [-v]"));
        assert!(r.stderr.contains("re-arms the diskful nodes"));
        snap("ignorenodes", &c, &r, &[]);
        let c = Cluster::new(kind);
        let r = c.run(&["-i", "-s", "sn1", "--skip-nodeset"]);
        assert!(!c.calls().contains("nodeset"));
        snap("skip_nodeset", &c, &r, &[]);
    }
}

#[test]
fn postscripts_selection_and_order() {
    for kind in stores() {
        let c = Cluster::new(kind);
        c.rows("postscripts", "\"cn3\",\"mkresolvconf,custom\",,,\n");
        let r = c.run(&["-s", "sn1"]);
        assert_eq!(r.code, Some(0), "{}", r.stderr);
        let calls = c.calls();
        let s = calls
            .find("updatenode [cn1,cn2,cn4] [-s]")
            .expect("-s first");
        let p = calls
            .find("updatenode [cn1,cn2,cn4] [-P] [syslog,setupntp]")
            .expect("then -P");
        assert!(s < p);
        assert!(
            calls.contains("updatenode [cn3] [-P] [syslog,mkresolvconf]"),
            "cn3's own list replaces the group's"
        );
        assert!(
            calls.contains("xdsh [-v] [cn1,cn2,cn3,cn4] [route add default gw 10.1.2.100]"),
            "one route call per group"
        );
        snap("postscripts_default", &c, &r, &[]);

        let c = Cluster::new(kind);
        let r = c.run(&["-s", "sn1", "-P", "extra1,extra2"]);
        assert!(c.calls().contains("[-P] [syslog,setupntp,extra1,extra2]"));
        snap("postscripts_extra", &c, &r, &[]);

        let c = Cluster::new(kind);
        let r = c.run(&["-s", "sn1", "-P", "all"]);
        assert!(
            c.calls()
                .contains("[-P] [syslog,remoteshell,syncfiles,setupntp,otherpkgs,]"),
            "{}",
            c.calls()
        );
        snap("postscripts_all", &c, &r, &[]);
    }
}

// ---------------------------------------------------------------- follow-up outcomes

#[test]
fn failing_follow_up_and_node_steps_exit_2() {
    for kind in stores() {
        let c = Cluster::new(kind);
        c.command_says(
            "nodeset",
            "cn1: Error: cannot find template\ncn2: done\n",
            1,
        );
        c.command_says("updatenode", "cn1: not responding\n", 1);
        let r = c.run(&["cn1,cn2"]);
        assert_eq!(r.code, Some(2));
        assert!(r.stderr.contains("Error: [mn]: Command failed: nodeset. Error message: cn1: Error: cannot find templatecn2: done.\n\n"));
        assert!(
            c.dump("noderes").contains("\"cn1\",\"sn2,sn1\""),
            "the database moved"
        );
        snap("failing_follow_ups", &c, &r, &[]);
    }
}

#[test]
fn without_xcat_commands_the_rest_is_listed() {
    for kind in stores() {
        let mut c = Cluster::new(kind);
        c.xcat_installed = false;
        let r = c.run(&["rack2", "-D", "sn1-c", "--transport", "xcat"]);
        assert_eq!(r.code, Some(2));
        assert!(r
            .stdout
            .contains("  nodeset 'cn[5-6]' osimage=rhels8-x86_64-netboot-compute\n"));
        snap("xcat_not_installed", &c, &r, &["noderes"]);
    }
}

// ---------------------------------------------------------------- dry run, JSON, -V

#[test]
fn dry_run_writes_nothing() {
    for kind in stores() {
        let c = Cluster::new(kind);
        let before = c.all_tables();
        let r = c.run(&["-s", "sn1", "--dry-run"]);
        assert_eq!(r.code, Some(0));
        assert_eq!(c.all_tables(), before);
        assert!(!c.calls().contains("nodeset") && !c.calls().contains("updatenode"));
        snap("dry_run", &c, &r, &[]);
        let r = c.run(&["-s", "sn1", "--dry-run", "--json"]);
        let v: serde_json::Value = serde_json::from_str(&r.stdout).expect("JSON on stdout");
        assert_eq!(v["plan"]["moves"].as_array().map(Vec::len), Some(4));
        snap("dry_run_json", &c, &r, &[]);
    }
}

#[test]
fn verbose_names_address_sources() {
    for kind in stores() {
        let c = Cluster::new(kind);
        let r = c.run(&["-V", "-i", "-d", "sn3", "rack2"]);
        assert_eq!(r.code, Some(0), "{}", r.stderr);
        assert!(r.stdout.contains("[mn]: Addresses from hosts.ip: cn[5-6]"));
        snap("verbose", &c, &r, &[]);
    }
}

#[test]
fn verbose_announces_xcat_commands_once_the_probe_ran() {
    for kind in stores() {
        // Without -D the probe (xdsh through xCAT's xcmd) gives xCAT's runner its callback:
        // under -V every internal command is announced, each followed by a blank line.
        let c = Cluster::new(kind);
        let r = c.run(&["-V", "-s", "sn1"]);
        assert_eq!(r.code, Some(0), "{}", r.stderr);
        let line = "[mn]: Running internal xCAT command: ";
        for (cmd, n) in [
            ("xdsh", 2),
            ("makeconservercf", 1),
            ("nodeset", 1),
            ("updatenode", 2),
        ] {
            assert_eq!(
                r.stdout.matches(&format!("{line}{cmd} ... \n\n")).count(),
                n,
                "{cmd}: {}",
                r.stdout
            );
        }
        let conserver = r.stdout.find("[mn]: Running makeconservercf").unwrap();
        let announced = r.stdout.find(&format!("{line}makeconservercf")).unwrap();
        assert!(conserver < announced, "xCAT's order: {}", r.stdout);
        snap("verbose_internal_commands", &c, &r, &[]);

        // With -D nothing gives the runner a callback: no announcement (as without -V).
        let c = Cluster::new(kind);
        let r = c.run(&["-V", "-s", "sn1", "-D", "sn2-c"]);
        assert_eq!(r.code, Some(0), "{}", r.stderr);
        assert!(!r.stdout.contains("Running internal"), "{}", r.stdout);
        let c = Cluster::new(kind);
        let r = c.run(&["-s", "sn1"]);
        assert!(!r.stdout.contains("Running internal"), "{}", r.stdout);

        // xCAT's commands not installed: none runs, none is announced.
        let mut c = Cluster::new(kind);
        c.xcat_installed = false;
        let r = c.run(&["-V", "-s", "sn1", "--transport", "xcat"]);
        assert!(!r.stdout.contains("Running internal"), "{}", r.stdout);
        assert!(
            r.stdout
                .contains("[mn]: Could not get IP addresses from service node sn2."),
            "{}",
            r.stdout
        );
    }
}

// ---------------------------------------------------------------- 12. round trips

#[test]
fn round_trip_twice_restores_the_order() {
    for kind in stores() {
        let c = Cluster::new(kind);
        c.sn_answers(
            "sn1",
            &common::SN2_IP_ADDR
                .replace("10.0.0.12", "10.0.0.11")
                .replace("10.1.2.100", "10.1.1.100"),
        );
        let r1 = c.run(&["rack1", "-i"]);
        assert_eq!(r1.code, Some(0), "{}", r1.stderr);
        let r2 = c.run(&["rack1", "-i"]);
        assert_eq!(r2.code, Some(0), "{}", r2.stderr);
        let t = c.dump("noderes");
        assert!(
            t.contains("\"cn1\",\"sn1,sn2\",,\"10.1.1.100\""),
            "back on sn1, xcatmaster now an address: {t}"
        );
        let mut s = c.report(&r1, &[]);
        s.push_str(&c.report(&r2, &["noderes", "nodehm"]));
        insta::assert_snapshot!("round_trip", s);
    }
}

#[test]
fn undo_restores_byte_identical_tables() {
    for kind in stores() {
        let c = Cluster::new(kind);
        // A disabled node row: the move replaces it by an enabled one; undo puts it back.
        c.rows(
            "noderes",
            "\"cn2\",\"sn7,sn8\",,,,,,,,,,,\"old\",,,,,,,,,\"1\"\n",
        );
        let before = c.all_tables();
        let r = c.run(&["-s", "sn1"]);
        assert_eq!(r.code, Some(0), "{}", r.stderr);
        assert!(r.stderr.contains("the noderes rows of cn2 are disabled"));
        assert!(
            c.dump("noderes")
                .contains("\"cn2\",\"sn2,sn1\",,\"10.1.2.100\""),
            "the move took effect for cn2"
        );
        let journal = Cluster::journal_of(&r).expect("journal printed");
        let u = c.run(&["--undo", &journal]);
        assert_eq!(u.code, Some(0), "{}", u.stderr);
        assert_eq!(c.all_tables(), before, "byte-identical");
        let again = c.run(&["--undo", &journal]);
        assert_eq!(again.code, Some(1), "a second undo is refused");
        // A journal is undone only in the store it records.
        let other = Cluster::new(kind);
        let elsewhere = other.run(&["--undo", &journal]);
        assert_eq!(elsewhere.code, Some(1));
        assert!(
            elsewhere.stderr.contains("it records a move in ")
                && elsewhere.stderr.contains("nothing was written"),
            "{}",
            elsewhere.stderr
        );
        assert_eq!(other.dump("noderes"), common::NODERES);
        let mut s = c.report(&r, &[]);
        s.push_str(&u.text());
        s.push_str(&again.text());
        insta::assert_snapshot!("undo", s);
    }
}

// ---------------------------------------------------------------- concurrency

#[test]
fn rows_changed_under_the_plan_are_refused() {
    for kind in stores() {
        let c = Cluster::new(kind);
        // While snmove asks sn2 for its addresses, another writer changes rack1's row.
        let r = c.run_pausing_at("xdsh", &["-s", "sn1"], || {
            c.write_row("noderes", "rack1", &[("xcatmaster", "sn1-x")])
        });
        assert_eq!(r.code, Some(1), "{}{}", r.stdout, r.stderr);
        assert!(
            r.stderr.contains("table noderes, row 'rack1'"),
            "{}",
            r.stderr
        );
        let t = c.dump("noderes");
        assert!(!t.contains("\"cn1\""), "nothing written: {t}");
        assert!(
            t.contains("\"sn1-x\""),
            "the other writer's change stays: {t}"
        );
        assert!(c.journal_files().is_empty(), "journal removed");
        snap("changed_under_plan", &c, &r, &[]);
    }
}

#[test]
fn a_second_move_waits_for_none() {
    for kind in stores() {
        let c = Cluster::new(kind);
        let _held = snmove::lock::MoveLock::acquire(&c.journals()).expect("lock");
        let r = c.run(&["-s", "sn1"]);
        assert_eq!(r.code, Some(1));
        assert!(r.stderr.contains("another snmove is running"));
        assert_eq!(c.dump("noderes"), common::NODERES);
    }
}

#[test]
fn the_noderange_language_selects() {
    for kind in stores() {
        let c = Cluster::new(kind);
        let r = c.run(&["cn[1-2],rack2,-cn6", "-D", "x", "-i", "--dry-run"]);
        assert_eq!(r.code, Some(0), "{}", r.stderr);
        assert!(r.stdout.contains("sn1 -> sn2: 2 node(s): cn[1-2]"));
        assert!(r.stdout.contains("sn2 -> sn1: 1 node(s): cn5"));
        snap("noderange_language", &c, &r, &[]);
        let r = c.run(&["nodetype.os==rhels8,-rack1", "-D", "x", "-i", "--dry-run"]);
        assert!(
            r.stdout.contains("sn2 -> sn1: 2 node(s): cn[5-6]"),
            "{}",
            r.stdout
        );
        let r = c.run(&["cn[1-", "-D", "x"]);
        assert_eq!(r.code, Some(1));
        snap("noderange_malformed", &c, &r, &[]);
    }
}

#[test]
fn dynamic_groups_and_files_see_every_table() {
    for kind in stores() {
        // A dynamic group chosen by an attribute of a table the plan itself does not read
        // (bmc is ipmi.bmc): its members must be found, as xCAT finds them.
        let c = Cluster::new(kind);
        c.table(
            "nodegroup",
            "#groupname,grouptype,members,membergroups,wherevals,comments,disable\n\"bmc5\",\"dynamic\",\"dynamic\",,\"bmc==10.2.0.5\",,\n",
        );
        c.table(
            "ipmi",
            "#node,bmc,bmcport,taggedvlan,bmcid,username,password,comments,disable\n\"compute\",\"|cn(\\d+)|10.2.0.($1+0)|\",,,,,,,\n",
        );
        let r = c.run(&["bmc5", "-d", "sn3", "-D", "sn3-c", "-i"]);
        assert_eq!(r.code, Some(0), "{}", r.stderr);
        let t = c.dump("noderes");
        assert!(t.contains("\"cn5\",\"sn3,sn2,sn1\""), "{t}");
        assert!(!t.contains("\"cn1\""), "{t}");
        snap("dynamic_group", &c, &r, &["noderes"]);

        // A ^file whose line selects on such a table.
        let c = Cluster::new(kind);
        c.table(
            "ipmi",
            "#node,bmc,bmcport,taggedvlan,bmcid,username,password,comments,disable\n\"cn6\",\"10.2.0.6\",,,,,,,\n",
        );
        let list = c.dir.path().join("nodes.txt");
        std::fs::write(&list, "ipmi.bmc==10.2.0.6\n").unwrap();
        let arg = format!("^{}", list.display());
        let r = c.run(&[arg.as_str(), "-D", "x", "-i", "--dry-run"]);
        assert_eq!(r.code, Some(0), "{}", r.stderr);
        assert!(
            r.stdout.contains("sn2 -> sn1: 1 node(s): cn6"),
            "{}",
            r.stdout
        );

        // site.excludenodes selecting on such a table: subtracted from every noderange.
        let c = Cluster::new(kind);
        c.rows("site", "\"excludenodes\",\"ipmi.bmc==10.2.0.5\",,\n");
        c.table(
            "ipmi",
            "#node,bmc,bmcport,taggedvlan,bmcid,username,password,comments,disable\n\"compute\",\"|cn(\\d+)|10.2.0.($1+0)|\",,,,,,,\n",
        );
        let r = c.run(&["rack2", "-D", "x", "-i", "--dry-run"]);
        assert_eq!(r.code, Some(0), "{}", r.stderr);
        assert!(
            r.stdout.contains("1 node(s) selected") || r.stdout.contains("1 node(s) would move"),
            "cn5 is excluded: {}",
            r.stdout
        );
        assert!(!r.stdout.contains("cn5"), "{}", r.stdout);
    }
}

#[test]
fn unusable_ssh_lists_the_node_steps() {
    for kind in stores() {
        let mut c = Cluster::new(kind);
        c.xcat_installed = false;
        let key = c.dir.path().join("no-such-key");
        let r = c.run(&[
            "rack2",
            "-D",
            "sn1-c",
            "--transport",
            "ssh",
            "--identity",
            key.to_str().unwrap(),
        ]);
        assert_eq!(r.code, Some(2));
        assert!(r.stderr.contains("the node-side steps were not run"));
        assert!(c.dump("noderes").contains("\"cn5\",\"sn1,sn2\""));
        snap("ssh_unusable", &c, &r, &[]);
    }
}

#[test]
fn moving_to_this_machine_reads_its_own_interfaces() {
    for kind in stores() {
        // Spec Q7: xCAT parses the local `ip addr` output wrongly when the destination is the
        // management node itself; here it is read like a service node's.
        let c = Cluster::new(kind);
        c.table(
            "hosts",
            &common::HOSTS.replace("|cn(\\d+)|10.1.0.($1+0)|", "|cn(\\d+)|127.1.0.($1+0)|"),
        );
        c.table(
        "networks",
        "#netname,net,mask,mgtifname,gateway,comments,disable\n\"loop\",\"127.0.0.0\",\"255.0.0.0\",\"lo\",,,\n",
    );
        let me = snmove::output::full_hostname();
        let r = c.run(&["cn1", "-d", &me, "-i", "--skip-nodeset"]);
        assert_eq!(r.code, Some(0), "{}\n{}", r.stdout, r.stderr);
        assert!(
            !c.calls().contains("xdsh"),
            "not asked over xdsh: {}",
            c.calls()
        );
        assert!(
            c.dump("noderes").contains(",\"127.0.0.1\","),
            "the first local address in 127/8: {}",
            c.dump("noderes")
        );
    }
}

#[test]
fn json_report_of_a_real_move() {
    for kind in stores() {
        let c = Cluster::new(kind);
        let r = c.run(&["rack2", "-i", "--json"]);
        assert_eq!(r.code, Some(0), "{}", r.stderr);
        let v: serde_json::Value =
            serde_json::from_str(&r.stdout).expect("stdout is one JSON document");
        assert_eq!(v["complete"], true);
        assert_eq!(v["moved"][0], "2 node(s) from sn2 to sn1");
        assert!(v["journal"].as_str().is_some_and(|j| j.ends_with(".json")));
        assert!(
            r.stderr
                .contains("Moving nodes to their backup service nodes."),
            "xCAT's lines go to stderr"
        );
        let text = common::redact(&r.stdout, c.dir.path());
        insta::assert_snapshot!("json_move", text);
    }
}

#[test]
fn a_crash_at_any_point_of_the_commit_leaves_old_or_new_tables() {
    for kind in stores() {
        // The crash points of each store's commit, and whether the move is committed there.
        let points: &[(&str, bool)] = match kind {
            StoreKind::Csv => &[
                ("table-written", false),
                ("before-commit", false),
                ("committed", true),
                ("renamed:1", true),
                ("renamed:2", true),
            ],
            StoreKind::Sqlite => &[
                ("sqlite-locked", false),
                ("sqlite-written:1", false),
                ("sqlite-before-commit", false),
                ("sqlite-committed", true),
            ],
            StoreKind::Pg => &[
                ("pg-locked", false),
                ("pg-truncated", false),
                ("pg-copied:1", false),
                ("pg-before-commit", false),
                ("pg-committed", true),
            ],
        };
        for &(point, committed) in points {
            let c = Cluster::new(kind);
            let before = (c.dump("noderes"), c.dump("nodehm"));
            let r = c.run_env(
                &["-s", "sn1", "-i"],
                &[("XCATTAB_CRASH_AT", point.to_string())],
            );
            assert_eq!(r.code, None, "{point}: killed: {}{}", r.stdout, r.stderr);
            // Another snmove reads the store after the crash: every table entirely old or
            // entirely new, together.
            let _ = c.run(&["-s", "sn1", "-i", "--dry-run"]);
            let after = (c.dump("noderes"), c.dump("nodehm"));
            let moved = after.0.contains("\"cn1\",\"sn2,sn1\"");
            assert_eq!(moved, committed, "{point}: the commit point decides");
            // The journal was written before the commit.
            let journal = c
                .journal_files()
                .pop()
                .expect("journal written before the commit");
            if moved {
                assert!(
                    after.1.contains("\"cn1\",,,,,,\"sn2\""),
                    "{point}: nodehm moved with noderes"
                );
                // Undo restores the tables exactly.
                let u = c.run(&["--undo", journal.to_str().unwrap()]);
                assert_eq!(u.code, Some(0), "{point}: {}", u.stderr);
                assert_eq!((c.dump("noderes"), c.dump("nodehm")), before, "{point}");
            } else {
                assert_eq!(after, before, "{point}: entirely old");
                // A move that never committed has nothing to undo.
                let u = c.run(&["--undo", journal.to_str().unwrap()]);
                assert_eq!(u.code, Some(1), "{point}: {}", u.stderr);
                assert_eq!((c.dump("noderes"), c.dump("nodehm")), before, "{point}");
            }
        }
    }
}

#[test]
fn a_csv_store_keeps_its_journals_beside_the_tables() {
    // Without --journal-dir: `.snmove/` in a CSV store's directory (journal and move lock).
    let c = Cluster::csv();
    let r = c.run_default_journal_dir(&["rack2", "-i"]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    let journal = Cluster::journal_of(&r).expect("journal printed");
    assert!(journal.starts_with("[STORE]/.snmove/snmove-"), "{journal}");
    let dir = c.spec().strip_prefix("CSV:").expect("CSV store");
    let lock = std::path::Path::new(dir).join(".snmove");
    let _held = snmove::lock::MoveLock::acquire(&lock).expect("lock");
    let again = c.run_default_journal_dir(&["rack2", "-i"]);
    assert_eq!(again.code, Some(1));
    assert!(again.stderr.contains("another snmove is running"));
}
