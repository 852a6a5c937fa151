//! Journals: any text must be read or refused, and a journal that is read must give an undo
//! batch and after-images, and apply to a database, without panicking.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(j) = snmove::journal::Journal::parse(&text, std::path::Path::new("fuzz.json")) {
        for (name, t) in &j.tables {
            let keys = t.key_positions(name);
            for r in &t.rows {
                let _ = r.after(t.columns.len(), &keys);
            }
        }
        let mut db = xcattab::Database::new();
        let _ = j.undo_batch().apply(&mut db);
    }
});
