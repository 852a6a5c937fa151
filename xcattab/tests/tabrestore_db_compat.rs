//! tabrestore's writes against xCAT's own (450 cases; 1300 compared during development): every
//! case in `data/tabrestore_db.jsonl` was produced by running xCAT's tabrestore loop
//! (tabutils.pm) with xCAT's real `setAttribs` (Table.pm) on a real SQLite table created with
//! xCAT's DDL (primary keys, NOT NULL for statelite), starting from the given rows, with or
//! without `-a`. Expected output: the error lines, then either
//! `ROLLBACK` or `ROWS` and the final rows in storage order (fields tab-separated, `<NULL>`).

use xcattab::csv::restore_into;
use xcattab::Table;

fn esc(v: &Option<String>) -> String {
    match v {
        None => "<NULL>".into(),
        Some(s) => s
            .replace('\\', "\\\\")
            .replace('\n', "\\n")
            .replace('\r', "\\r")
            .replace('\t', "\\t"),
    }
}

#[test]
fn restores_match_xcat_with_sqlite_on_every_recorded_case() {
    let data = include_str!("data/tabrestore_db.jsonl");
    let mut failures = Vec::new();
    let mut n = 0;
    for line in data.lines() {
        let case: serde_json::Value = serde_json::from_str(line).unwrap();
        let name = case["table"].as_str().unwrap();
        let mut t = Table::new(name);
        for row in case["init"].as_array().unwrap() {
            t.push_row(
                row.as_array()
                    .unwrap()
                    .iter()
                    .map(|v| v.as_str().filter(|s| *s != "<NULL>").map(String::from))
                    .collect(),
            );
        }
        let before = t.clone();
        let input = case["input"].as_str().unwrap();
        let append = case["append"].as_bool().unwrap();
        let got: Vec<String> = match restore_into(&mut t, input, append) {
            Ok(()) => std::iter::once("ROWS".to_string())
                .chain(
                    t.rows()
                        .iter()
                        .map(|r| r.iter().map(esc).collect::<Vec<_>>().join("\t")),
                )
                .collect(),
            Err(errs) => {
                assert_eq!(t, before, "a failed restore changed the table");
                errs.errors
                    .iter()
                    .map(|e| format!("ERR {}|{e}", e.code()))
                    .chain(std::iter::once("ROLLBACK".to_string()))
                    .collect()
            }
        };
        let expect: Vec<String> = case["expect"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_string())
            .collect();
        if got != expect {
            failures.push(format!("case {n}: {line}\n  ours: {got:?}"));
        }
        n += 1;
    }
    assert!(n >= 100, "only {n} cases");
    assert!(
        failures.is_empty(),
        "{} differences:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
