//! `tabdump -w` filters against xCAT's own: every case in `data/filter_cases.jsonl` was produced
//! by running xCAT's `buildWhereClause` (Table.pm) and the resulting query, with xCAT's
//! enabled-rows condition, on a real SQLite `site` table (DBD::SQLite). Expected: the keys of
//! the matching rows in storage order, or xCAT's error. (Cases naming a column the table lacks
//! are skipped: xCAT then fails in SQL, we say `No column`.)

use xcattab::filter::Filter;
use xcattab::Table;

#[test]
fn filters_match_xcat_with_sqlite_on_every_recorded_case() {
    let data = include_str!("data/filter_cases.jsonl");
    let mut failures = Vec::new();
    let (mut n, mut compared) = (0, 0);
    for line in data.lines() {
        n += 1;
        let case: serde_json::Value = serde_json::from_str(line).unwrap();
        let mut t = Table::new("site");
        for row in case["rows"].as_array().unwrap() {
            t.push_row(
                row.as_array()
                    .unwrap()
                    .iter()
                    .map(|v| v.as_str().map(String::from))
                    .collect(),
            );
        }
        let ws: Vec<&str> = case["w"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        let expect = &case["expect"];
        let filters: Result<Vec<Filter>, _> = ws.iter().map(|w| Filter::parse(w)).collect();
        let got = match filters {
            Err(e) => serde_json::json!({ "error": e.to_string() }),
            Ok(fs) => {
                let cols: Option<Vec<usize>> =
                    fs.iter().map(|f| t.column_index(f.column())).collect();
                let Some(cols) = cols else { continue };
                let keys: Vec<&str> = t
                    .rows()
                    .iter()
                    .filter(|r| {
                        t.row_enabled(r)
                            && fs
                                .iter()
                                .zip(&cols)
                                .all(|(f, &c)| f.matches(r[c].as_deref()))
                    })
                    .map(|r| r[0].as_deref().unwrap_or(""))
                    .collect();
                serde_json::json!({ "keys": keys })
            }
        };
        compared += 1;
        if &got != expect {
            failures.push(format!("{line}\n  ours: {got}"));
        }
    }
    assert!(compared >= 200, "only {compared} of {n} cases compared");
    assert!(
        failures.is_empty(),
        "{} differences:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
