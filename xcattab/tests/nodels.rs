//! `nodels` on a small CSV store (`tests/nodels_fixture`, the cluster the noderange spec
//! tests use plus a hidden node): xCAT's output lines, messages and exit codes, as insta
//! snapshots.

use std::path::Path;
use std::process::Command;

/// A copy of `tests/nodels_fixture` in a temporary directory: opening a CSV store creates its
/// lock file there, and tests never write into the source tree.
fn fixture_copy() -> tempfile::TempDir {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/nodels_fixture");
    let dir = tempfile::tempdir().expect("a temporary directory");
    for entry in std::fs::read_dir(&src).expect("tests/nodels_fixture") {
        let entry = entry.expect("a fixture file");
        let name = entry.file_name();
        if name.to_string_lossy().ends_with(".csv") {
            std::fs::copy(entry.path(), dir.path().join(&name)).expect("copy a fixture file");
        }
    }
    dir
}

fn nodels(args: &[&str]) -> String {
    let fixture = fixture_copy();
    let out = Command::new(env!("CARGO_BIN_EXE_nodels"))
        .arg("--db")
        .arg(format!("CSV:{}", fixture.path().display()))
        .args(args)
        .env_remove("XCATCFG")
        .env_remove("XCAT_NODE_PREFIX")
        .env_remove("XCAT_NODE_SUFFIX")
        .env_remove("NODERANGE_MAX_NAMES")
        .output()
        .expect("nodels runs");
    // Errors the plugin sends through xcatd name the server: `Error: [<host>]: …`.
    let source = xcattab::cli::xcatd_source();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stderr = if source.is_empty() {
        stderr.into_owned()
    } else {
        stderr.replace(&source, "[SERVER]: ")
    };
    format!(
        "$ nodels {}\n--- stdout\n{}--- stderr\n{}--- exit {}\n",
        args.join(" "),
        String::from_utf8_lossy(&out.stdout),
        stderr,
        out.status.code().unwrap_or(-1)
    )
}

macro_rules! case {
    ($name:ident, $($arg:expr),*) => {
        #[test]
        fn $name() {
            insta::assert_snapshot!(stringify!($name), nodels(&[$($arg),*]));
        }
    };
}

case!(nodels_all_nodes_sorted_bytewise_hidden_left_out,);
case!(nodels_dash_s_shows_hidden_nodes, "-S");
case!(nodels_group, "compute");
case!(nodels_group_natural_order, "--natural", "compute");
case!(nodels_fold, "--fold", "all");
case!(nodels_exclusion_after_double_dash, "--", "-rack1,compute");
case!(nodels_one_column_is_terse, "rack1", "nodehm.mgt");
case!(
    nodels_two_columns_are_labelled,
    "rack1",
    "nodehm.mgt",
    "nodehm.cons"
);
case!(nodels_with_fieldname, "-H", "login1", "mgt");
case!(nodels_shortnames, "login1,node6", "groups", "tags", "mgt");
case!(nodels_whole_table, "node6", "nodehm");
// A record taken from a group row carries the node's name in its key column (getNodeAttribs
// sets it), and the key column is never blamed on a group.
case!(
    nodels_key_column_names_the_node_not_the_group,
    "-b",
    "node1,login1,mgmt1",
    "nodehm.node"
);
case!(nodels_whole_table_inherited_from_a_group, "node1", "nodehm");
case!(nodels_unset_value_prints_empty, "f1n1,login1", "nodehm.mgt");
case!(nodels_filter_eq, "all", "nodehm.mgt==openbmc");
case!(nodels_filter_ne_keeps_unset, "all", "nodehm.mgt!=ipmi");
case!(nodels_filter_regex, "all", "nodetype.arch=~/ppc/");
case!(nodels_filter_not_regex, "compute", "nodehm.cons!~ipmi");
case!(
    nodels_filter_and_display,
    "all",
    "nodehm.mgt==openbmc",
    "nodetype.arch"
);
case!(
    nodels_filter_and_display_same_column,
    "all",
    "nodehm.mgt=~bmc",
    "nodehm.mgt"
);
case!(
    nodels_blame_inherited_values,
    "-b",
    "node9,node6",
    "nodetype.arch",
    "nodehm.mgt"
);
case!(nodels_noderange_attribute_selection, "groups=~gpu");
case!(nodels_noderange_dynamic_group, "ipmi@rack2");
case!(nodels_empty_group_prints_nothing, "rack3");
case!(nodels_zero_noderange_lists_all_nodes, "0");
case!(nodels_invalid_nodes, "node1,foo,bar[1-2]");
case!(nodels_unbalanced_parentheses, "(node1");
case!(nodels_invalid_regex, "/node[");
case!(
    nodels_bad_column,
    "node1",
    "foo.bar",
    "nodehm.nosuch",
    "nodehm.mgt"
);
case!(nodels_bad_word, "node1", "notatable");
case!(
    nodels_multiple_selection_criteria,
    "all",
    "mgt==ipmi",
    "nodehm.mgt!=kvm"
);
case!(nodels_too_many_names, "x[1-99999999999]");
case!(nodels_usage, "-h");
case!(nodels_bad_option, "--nosuch");
// xcatd expands the noderange before nodels reads its options: a bad noderange is reported
// instead of the usage text (-h, a refused option) or the version.
case!(nodels_invalid_noderange_before_usage, "nosuch", "-h");
case!(
    nodels_invalid_noderange_before_bad_option,
    "-x",
    "node1,nosuch"
);
case!(nodels_invalid_noderange_before_version, "nosuch", "-v");
// Getopt::Long as nodels configures it: repeated flags, unique abbreviations of long names.
case!(
    nodels_repeated_and_abbreviated_options,
    "node1",
    "-S",
    "-S",
    "--with",
    "groups"
);
// Getopt::Long matches long option names ignoring case.
case!(
    nodels_long_options_ignore_case,
    "--BLAME",
    "node1",
    "--With-Fieldname",
    "nodehm.mgt"
);
