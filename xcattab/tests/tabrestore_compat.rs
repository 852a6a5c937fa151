//! The tabrestore scanner against xCAT's own: every case in `data/tabrestore_scan.jsonl` was
//! produced by running the parser loop of xCAT's `tabrestore` (tabutils.pm, with the database
//! replaced by a printer) on the input. Each line of output is `REC <line>|<field>|…` (a field
//! as `[text]` with `\` `\n` `\r` `|` escaped, or `<undef>` for NULL) or `ERR <code>|<message>`.

fn esc(v: &Option<String>) -> String {
    match v {
        None => "<undef>".into(),
        Some(s) => format!(
            "[{}]",
            s.replace('\\', "\\\\")
                .replace('\n', "\\n")
                .replace('\r', "\\r")
                .replace('|', "\\p")
        ),
    }
}

fn run(input: &str) -> Vec<String> {
    match xcattab::csv::scan(input) {
        Err(e) => vec![format!("ERR {}|{e}", e.code())],
        Ok((_, records)) => records
            .into_iter()
            .map(|r| match r {
                Ok(rec) => {
                    let fields: Vec<String> = rec.fields.iter().map(esc).collect();
                    format!("REC {}|{}", rec.line, fields.join("|"))
                }
                Err(e) => format!("ERR {}|{e}", e.code()),
            })
            .collect(),
    }
}

#[test]
fn scanner_matches_xcat_on_every_recorded_case() {
    let data = include_str!("data/tabrestore_scan.jsonl");
    let mut failures = Vec::new();
    let mut n = 0;
    for line in data.lines() {
        let case: serde_json::Value = serde_json::from_str(line).unwrap();
        let input = case["input"].as_str().unwrap();
        let expect: Vec<String> = case["expect"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_string())
            .collect();
        let got = run(input);
        if got != expect {
            failures.push(format!(
                "{}: input {input:?}\n  xCAT: {expect:?}\n  ours: {got:?}",
                case["name"]
            ));
        }
        n += 1;
    }
    assert!(n > 100, "only {n} cases");
    assert!(
        failures.is_empty(),
        "{} of {n} cases differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
