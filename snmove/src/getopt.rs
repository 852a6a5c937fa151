//! A faithful model of Perl's `Getopt::Long` as xCAT's snmove configures it: `bundling`,
//! `no_pass_through`, and the defaults that come with them — `ignore_case` (long names only),
//! `auto_abbrev`, `permute`, and the option starters `--`, `-` and `+`.
//!
//! The option table is not written here: [`OptSpec`]s are taken from the clap definition of the
//! command ([`specs_from_clap`]), so the options are defined once.
//!
//! What the model reproduces (each point is pinned by a test against Perl itself when `perl` is
//! installed, see `tests/getopt_perl.rs`):
//! * `-Vi` is a bundle of single letters, case-sensitive; a letter that takes a value takes the
//!   rest of the word (`-dsn2`, `-d=x` gives `=x`) or else the next word, whatever it is
//!   (`-d -i` gives `-i`, `-d --` gives `--`);
//! * `--name`, `--name=value` and `+name` are long options: case-insensitive, any unique prefix
//!   (`--ign`), an exact name beats longer ones (`--s`, `--source`), other prefixes shared by
//!   several options are ambiguous (`--sou`); single-letter names are long names too (`--d x`,
//!   `--V` is `-v`, lowercased);
//! * `--name=` (empty) is a missing value; `--flag=value` is an error;
//! * a lone `-` is a positional word, `--` ends the options, and positional words may appear
//!   anywhere;
//! * errors (unknown option, missing value, ambiguous prefix) do not stop the parse: every word
//!   is consumed and every error is reported, in order, with Getopt's own wording.

/// One option as Getopt sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OptSpec {
    /// The identifier the parse reports (the clap argument id).
    pub id: String,
    /// The single-letter name, case-sensitive.
    pub short: Option<char>,
    /// The long names, as defined (matched case-insensitively).
    pub long: Vec<String>,
    /// Whether the option takes a (mandatory) value.
    pub takes_value: bool,
}

/// One option occurrence: the option id and its value (`None` for a flag).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Occurrence {
    /// The option id.
    pub id: String,
    /// The value, if the option takes one.
    pub value: Option<String>,
}

/// The result of a parse.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Parsed {
    /// Options in command-line order.
    pub options: Vec<Occurrence>,
    /// Positional words in order.
    pub positionals: Vec<String>,
    /// Getopt's warnings, in order (`Unknown option: x`, `Option d requires an argument`, …).
    /// The parse failed if there is any.
    pub errors: Vec<String>,
}

impl Parsed {
    /// The last value given for `id` (Getopt keeps the last one).
    pub fn last(&self, id: &str) -> Option<&Occurrence> {
        self.options.iter().rev().find(|o| o.id == id)
    }
}

/// The option table, built once.
#[derive(Debug, Clone)]
pub struct Table {
    specs: Vec<OptSpec>,
    /// (name as stored, index into specs). Single letters keep their case; longer names are
    /// lowercased. Sorted by name, as Getopt sorts the keys before abbreviating.
    names: Vec<(String, usize)>,
}

impl Table {
    /// Builds the table. When two options store the same name (`-s` and `-S` both give the
    /// long name `s`), the one defined first wins the exact lookup.
    pub fn new(specs: Vec<OptSpec>) -> Self {
        let mut names: Vec<(String, usize)> = Vec::new();
        for (i, s) in specs.iter().enumerate() {
            if let Some(c) = s.short {
                names.push((c.to_string(), i));
            }
            for l in &s.long {
                let stored = if l.chars().count() == 1 {
                    l.clone()
                } else {
                    l.to_lowercase()
                };
                names.push((stored, i));
            }
        }
        // Stable: for duplicate names the first definition stays first.
        names.sort_by(|a, b| a.0.cmp(&b.0));
        Table { specs, names }
    }

    /// The options.
    pub fn specs(&self) -> &[OptSpec] {
        &self.specs
    }

    fn exact(&self, name: &str) -> Option<usize> {
        // Perl's hash holds the last assignment of a duplicate name, but ParseOptionSpec
        // processes `s|source` before `S|sourcen`, and the single letter `S` is stored with its
        // case, so only true duplicates could collide; keep the first.
        self.names.iter().find(|(n, _)| n == name).map(|(_, i)| *i)
    }

    fn short(&self, c: char) -> Option<usize> {
        self.specs.iter().position(|s| s.short == Some(c))
    }

    /// Long lookup with auto-abbreviation, as `FindOption` does it.
    fn long(&self, name: &str) -> Result<usize, String> {
        let opt = name.to_lowercase();
        if opt.is_empty() {
            return Err(format!("Unknown option: {name}"));
        }
        let hits: Vec<&(String, usize)> = self
            .names
            .iter()
            .filter(|(n, _)| n.starts_with(&opt))
            .collect();
        let exact_hits = hits.iter().filter(|(n, _)| *n == opt).count();
        if hits.len() > 1 && exact_hits != 1 {
            let mut distinct: Vec<usize> = hits.iter().map(|(_, i)| *i).collect();
            distinct.sort_unstable();
            distinct.dedup();
            if distinct.len() != 1 {
                let list: Vec<&str> = hits.iter().map(|(n, _)| n.as_str()).collect();
                return Err(format!("Option {opt} is ambiguous ({})", list.join(", ")));
            }
            return Ok(distinct[0]);
        }
        if hits.len() == 1 {
            return Ok(hits[0].1);
        }
        // Several hits, one of them exact; or none (then the exact lookup fails too).
        self.exact(&opt)
            .ok_or_else(|| format!("Unknown option: {opt}"))
    }
}

/// Builds the option table from a clap command: every argument with a short or long name.
pub fn specs_from_clap(cmd: &clap::Command) -> Vec<OptSpec> {
    cmd.get_arguments()
        .filter(|a| !a.is_positional())
        .map(|a| OptSpec {
            id: a.get_id().to_string(),
            short: a.get_short(),
            long: a
                .get_long()
                .map(|l| vec![l.to_string()])
                .unwrap_or_default(),
            takes_value: a.get_action().takes_values(),
        })
        .collect()
}

/// Parses `args` (without the program name) the way `GetOptions` does.
///
/// ```
/// use snmove::getopt::{parse, OptSpec, Table};
/// let t = Table::new(vec![
///     OptSpec { id: "dest".into(), short: Some('d'), long: vec!["dest".into()], takes_value: true },
///     OptSpec { id: "verbose".into(), short: Some('V'), long: vec!["verbose".into()], takes_value: false },
///     OptSpec { id: "ignore".into(), short: Some('i'), long: vec!["ignorenodes".into()], takes_value: false },
/// ]);
/// let p = parse(&t, &["grp", "-Vidsn2", "--IGN"]);
/// assert_eq!(p.positionals, ["grp"]);
/// assert_eq!(p.last("dest").unwrap().value.as_deref(), Some("sn2"));
/// assert!(p.errors.is_empty());
/// assert_eq!(parse(&t, &["-x"]).errors, ["Unknown option: x"]);
/// ```
pub fn parse<S: AsRef<str>>(table: &Table, args: &[S]) -> Parsed {
    let mut argv: std::collections::VecDeque<String> =
        args.iter().map(|a| a.as_ref().to_string()).collect();
    let mut out = Parsed::default();
    while let Some(word) = argv.pop_front() {
        if word == "--" {
            out.positionals.extend(argv.drain(..));
            break;
        }
        let (starter, body) = if let Some(b) = word.strip_prefix("--") {
            ("--", b)
        } else if let Some(b) = word.strip_prefix('-') {
            ("-", b)
        } else if let Some(b) = word.strip_prefix('+') {
            ("+", b)
        } else {
            out.positionals.push(word);
            continue;
        };
        if starter == "-" && body.is_empty() {
            out.positionals.push(word);
            continue;
        }
        let body = body.to_string();
        if starter == "-" {
            // A bundle: the first letter, case-sensitive; the rest is its value or more letters.
            let mut chars = body.chars();
            let Some(c) = chars.next() else { continue };
            let rest: String = chars.collect();
            match table.short(c) {
                None => {
                    out.errors.push(format!("Unknown option: {c}"));
                    if !rest.is_empty() {
                        argv.push_front(format!("-{rest}"));
                    }
                }
                Some(i) if !table.specs[i].takes_value => {
                    out.options.push(Occurrence {
                        id: table.specs[i].id.clone(),
                        value: None,
                    });
                    if !rest.is_empty() {
                        argv.push_front(format!("-{rest}"));
                    }
                }
                Some(i) => {
                    let value = if !rest.is_empty() {
                        Some(rest)
                    } else {
                        argv.pop_front()
                    };
                    match value {
                        Some(v) => out.options.push(Occurrence {
                            id: table.specs[i].id.clone(),
                            value: Some(v),
                        }),
                        None => out.errors.push(format!("Option {c} requires an argument")),
                    }
                }
            }
            continue;
        }
        // Long option (`--` or `+`). Only `--` may carry `=value` under bundling.
        let (name, attached) = match (starter, body.find('=')) {
            ("--", Some(p)) if p > 0 => (body[..p].to_string(), Some(body[p + 1..].to_string())),
            _ => (body.clone(), None),
        };
        let found = if name.is_empty() {
            Err(if starter == "+" {
                "Missing option after +".to_string()
            } else {
                format!("Unknown option: {name}")
            })
        } else {
            table.long(&name)
        };
        let i = match found {
            Ok(i) => i,
            Err(e) => {
                // `+word` that is not a long option: Getopt reports its first letter.
                let e = if starter == "+" && e.starts_with("Unknown option") {
                    format!(
                        "Unknown option: {}",
                        name.to_lowercase()
                            .chars()
                            .next()
                            .map(String::from)
                            .unwrap_or_default()
                    )
                } else {
                    e
                };
                out.errors.push(e);
                continue;
            }
        };
        let spec = &table.specs[i];
        let shown = name.to_lowercase();
        let shown = match table
            .names
            .iter()
            .find(|(n, j)| *j == i && n.starts_with(&shown))
        {
            Some((n, _))
                if table
                    .names
                    .iter()
                    .filter(|(m, _)| m.starts_with(&shown))
                    .count()
                    == 1 =>
            {
                n.clone()
            }
            _ => shown,
        };
        if !spec.takes_value {
            if attached.is_some() {
                out.errors
                    .push(format!("Option {shown} does not take an argument"));
            } else {
                out.options.push(Occurrence {
                    id: spec.id.clone(),
                    value: None,
                });
            }
            continue;
        }
        let value = match attached {
            Some(v) if v.is_empty() => None,
            Some(v) => Some(v),
            None => argv.pop_front(),
        };
        match value {
            Some(v) => out.options.push(Occurrence {
                id: spec.id.clone(),
                value: Some(v),
            }),
            None => out
                .errors
                .push(format!("Option {shown} requires an argument")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// snmove.pm's GetOptions table.
    fn xcat() -> Table {
        let o = |id: &str, s: char, l: &str, v: bool| OptSpec {
            id: id.into(),
            short: Some(s),
            long: vec![l.into()],
            takes_value: v,
        };
        Table::new(vec![
            o("h", 'h', "help", false),
            o("v", 'v', "version", false),
            o("s", 's', "source", true),
            o("S", 'S', "sourcen", true),
            o("d", 'd', "dest", true),
            o("D", 'D', "destn", true),
            o("l", 'l', "liteonly", false),
            o("n", 'n', "noretarget", false),
            o("P", 'P', "postscripts", true),
            o("i", 'i', "ignorenodes", false),
            o("V", 'V', "verbose", false),
        ])
    }

    fn show(p: &Parsed) -> String {
        let mut s: Vec<String> = p
            .options
            .iter()
            .map(|o| match &o.value {
                Some(v) => format!("{}=<{v}>", o.id),
                None => o.id.clone(),
            })
            .collect();
        s.extend(p.positionals.iter().map(|w| format!("[{w}]")));
        s.extend(p.errors.iter().map(|e| format!("!{e}")));
        s.join(" ")
    }

    fn run(line: &str) -> String {
        let words: Vec<&str> = if line.is_empty() {
            vec![]
        } else {
            line.split(' ').collect()
        };
        show(&parse(&xcat(), &words))
    }

    #[test]
    fn observed_perl_behaviour() {
        // Each expectation was produced by Perl's Getopt::Long 2.52 with snmove's table.
        for (line, want) in [
            ("-Vi", "V i"),
            ("-dsn2 g", "d=<sn2> [g]"),
            ("--DEST=x", "d=<x>"),
            ("--d x", "d=<x>"),
            ("--de x", "[x] !Option de is ambiguous (dest, destn)"),
            ("--sou x", "[x] !Option sou is ambiguous (source, sourcen)"),
            ("-source x", "s=<ource> [x]"),
            ("-d -i", "d=<-i>"),
            ("-d", "!Option d requires an argument"),
            ("g -d x h", "d=<x> [g] [h]"),
            ("-- -x", "[-x]"),
            ("-", "[-]"),
            ("-h -x", "h !Unknown option: x"),
            ("--h", "h"),
            ("--V", "v"),
            ("--S=x", "s=<x>"),
            ("--D y", "d=<y>"),
            ("--P x", "P=<x>"),
            ("--p x", "P=<x>"),
            ("--N", "n"),
            ("--no", "n"),
            ("--he", "h"),
            ("--ve", "!Option ve is ambiguous (verbose, version)"),
            ("--hx", "!Unknown option: hx"),
            ("--dest= g", "[g] !Option dest requires an argument"),
            ("-d= g", "d=<=> [g]"),
            ("--verbose=1", "!Option verbose does not take an argument"),
            ("-xVi", "V i !Unknown option: x"),
            ("-i=1", "i !Unknown option: = !Unknown option: 1"),
            ("--ignorenodesx", "!Unknown option: ignorenodesx"),
            ("-dVi", "d=<Vi>"),
            ("--dest --", "d=<-->"),
            ("g -- -x", "[g] [-x]"),
            ("-- --", "[--]"),
            ("+dest x", "d=<x>"),
            ("+V", "v"),
            ("+", "!Missing option after +"),
            ("+x", "!Unknown option: x"),
            ("+dest=x g", "[g] !Unknown option: d"),
            ("g+", "[g+]"),
            ("---", "!Unknown option: -"),
            ("--=x", "!Unknown option: =x"),
            ("-s x -s y", "s=<x> s=<y>"),
            ("--SOURCEN=x", "S=<x>"),
        ] {
            assert_eq!(run(line), want, "{line}");
        }
    }
}
