//! Differential test: the Getopt model against Perl's own Getopt::Long, configured as xCAT's
//! snmove configures it (`bundling`, `no_pass_through`), with this command's option table.
//! Thousands of generated command lines must parse identically: same values, same positional
//! words, same errors in the same order. Skipped (with a note) where `perl` is not installed.

use std::io::Write;
use std::process::{Command, Stdio};

use snmove::getopt::{parse, Parsed, Table};

const PERL: &str = r#"
use strict; use Getopt::Long qw(GetOptionsFromArray);
Getopt::Long::Configure("bundling");
Getopt::Long::Configure("no_pass_through");
my @specs = split /\x1e/, scalar(<STDIN>); chomp $specs[-1];
while (my $line = <STDIN>) {
    chomp $line;
    my ($n, $rest) = split(/\x1d/, $line, 2);
    my @args = $n ? split(/\x1f/, $rest, -1) : ();
    push @args, "" while @args < $n;
    my @w; local $SIG{__WARN__} = sub { my $m = $_[0]; chomp $m; push @w, $m };
    my @order;
    my %h = map { my $s = $_; my ($id) = $s =~ /^([^|=]+)/; ($s => sub { push @order, defined $_[1] && $s =~ /=s$/ ? "$id=<$_[1]>" : $id }) } @specs;
    GetOptionsFromArray(\@args, %h);
    print join(" ", @order, (map { "[$_]" } @args), (map { "!$_" } @w)), "\n";
}
"#;

fn show(t: &Table, p: &Parsed) -> String {
    let mut s: Vec<String> = p
        .options
        .iter()
        .map(|o| {
            let spec = t.specs().iter().find(|s| s.id == o.id);
            let id = match spec {
                Some(s) => s
                    .short
                    .map(String::from)
                    .or_else(|| s.long.first().cloned())
                    .unwrap_or_default(),
                None => o.id.clone(),
            };
            match &o.value {
                Some(v) => format!("{id}=<{v}>"),
                None => id,
            }
        })
        .collect();
    s.extend(p.positionals.iter().map(|w| format!("[{w}]")));
    s.extend(p.errors.iter().map(|e| format!("!{e}")));
    s.join(" ")
}

/// A small deterministic generator (xorshift), so failures reproduce.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn pick<'a>(&mut self, v: &[&'a str]) -> &'a str {
        v[(self.next() % v.len() as u64) as usize]
    }
}

#[test]
fn getopt_model_matches_perl() {
    if Command::new("perl")
        .arg("-MGetopt::Long")
        .arg("-e1")
        .status()
        .map(|s| !s.success())
        .unwrap_or(true)
    {
        eprintln!("perl with Getopt::Long is not installed: differential test skipped");
        return;
    }
    let table = snmove::cli::option_table();
    // Perl specs in definition order; both sides print an option by its short letter, else by
    // its long name.
    let specs: Vec<String> = table
        .specs()
        .iter()
        .map(|s| {
            let mut names: Vec<String> = Vec::new();
            if let Some(c) = s.short {
                names.push(c.to_string());
            }
            names.extend(s.long.iter().cloned());
            format!(
                "{}{}",
                names.join("|"),
                if s.takes_value { "=s" } else { "" }
            )
        })
        .collect();
    let pool = [
        "-Vi",
        "-V",
        "-i",
        "-d",
        "sn2",
        "-dsn2",
        "--dest=x",
        "--DEST",
        "--de",
        "--sou",
        "-source",
        "-x",
        "--",
        "-",
        "+dest",
        "+V",
        "g",
        "h",
        "-s",
        "--s=",
        "-P",
        "",
        "all",
        "--verbose=1",
        "-iVx",
        "--ign",
        "--Ign=1",
        "-S",
        "--sourcen",
        "--D",
        "--dry",
        "--json",
        "--j",
        "--undo",
        "--db=CSV:/x",
        "-h",
        "--help",
        "-v",
        "--ve",
        "--no",
        "-lnV",
        "--generate",
        "man",
        "-d=",
        "--=x",
        "---",
        "+",
        "+x",
        "-=",
        "-Dsn2-c",
        "--destn=",
        "--P",
        "--skip",
        "--long",
        "--l",
        "--journal-dir",
        "0",
        "-0",
        "-P0",
        "--Postscripts=syslog,ntp",
    ];
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut cases: Vec<Vec<&str>> = vec![vec![]];
    for _ in 0..4000 {
        let n = 1 + (rng.next() % 5) as usize;
        cases.push((0..n).map(|_| rng.pick(&pool)).collect());
    }
    let mut child = Command::new("perl")
        .arg("-e")
        .arg(PERL)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("perl runs");
    {
        let mut stdin = child.stdin.take().expect("stdin");
        writeln!(stdin, "{}", specs.join("\x1e")).unwrap();
        for c in &cases {
            writeln!(stdin, "{}\x1d{}", c.len(), c.join("\x1f")).unwrap();
        }
    }
    let out = child.wait_with_output().expect("perl output");
    let text = String::from_utf8(out.stdout).expect("utf-8");
    let perl: Vec<&str> = text.lines().collect();
    assert_eq!(perl.len(), cases.len(), "perl answered every case");
    let mut bad = Vec::new();
    for (c, want) in cases.iter().zip(perl) {
        let got = show(&table, &parse(&table, c));
        if got != want {
            bad.push(format!("{c:?}\n  perl: {want}\n  ours: {got}"));
        }
    }
    assert!(
        bad.is_empty(),
        "{} of {} differ:\n{}",
        bad.len(),
        cases.len(),
        bad[..bad.len().min(20)].join("\n")
    );
}
