//! Host-key verification against OpenSSH `known_hosts` files, parsed once per run.
//!
//! Understands what OpenSSH writes and admins write by hand: comma-separated host lists,
//! `[host]:port` for non-22 ports, `*`/`?` wildcards, `!` negation, hashed `|1|salt|hash` names
//! and the `@revoked` marker. (`@cert-authority` lines are skipped: host certificates are not
//! supported.) libssh2's own checker does not support wildcards, hence this module.

use base64::Engine as _;
use hmac::{Hmac, Mac};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::error::SetupError;

/// What to do with host keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
#[serde(rename_all = "kebab-case")]
pub enum HostKeyPolicy {
    /// The key must be in known_hosts (default; OpenSSH `StrictHostKeyChecking yes`).
    #[default]
    Strict,
    /// Unknown keys are accepted and appended to the known_hosts file; changed keys are still
    /// refused (OpenSSH `accept-new`).
    AcceptNew,
    /// No check at all, as xCAT configures (`StrictHostKeyChecking no`). Prints a warning.
    Off,
}

#[derive(Debug, Clone)]
enum Hosts {
    Patterns(Vec<(bool, String)>),
    Hashed { salt: Vec<u8>, hash: Vec<u8> },
}

#[derive(Debug, Clone)]
struct Entry {
    revoked: bool,
    hosts: Hosts,
    key_type: String,
    key: Vec<u8>,
    file: PathBuf,
    line: usize,
}

/// The outcome of a check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// A line names this host with this key.
    Known,
    /// No line names this host with a key of this type.
    Unknown,
    /// A line names this host with another key of the same type.
    Changed {
        /// Where.
        file: PathBuf,
        /// 1-based line.
        line: usize,
    },
    /// The key is marked `@revoked`.
    Revoked {
        /// Where.
        file: PathBuf,
        /// 1-based line.
        line: usize,
    },
}

/// Parsed known_hosts files plus the keys accepted during this run.
#[derive(Debug)]
pub struct KnownHosts {
    entries: Vec<Entry>,
    write_to: Option<PathBuf>,
    added: Mutex<Vec<Entry>>,
}

/// `host` for port 22, else `[host]:port`, as OpenSSH records it.
pub fn host_form(host: &str, port: u16) -> String {
    if port == 22 {
        host.to_string()
    } else {
        format!("[{host}]:{port}")
    }
}

/// The key type named inside an SSH public-key blob (`ssh-ed25519`, …).
pub fn blob_type(blob: &[u8]) -> Option<String> {
    let len = u32::from_be_bytes(blob.get(..4)?.try_into().ok()?) as usize;
    let name = blob.get(4..4 + len)?;
    String::from_utf8(name.to_vec()).ok()
}

/// OpenSSH's host pattern match: `*` any run of characters, `?` any one, every other byte
/// itself, ignoring ASCII case. Iterative, backtracking only to the last `*`: time at most
/// proportional to `pattern.len() * text.len()` and no recursion, whatever a known_hosts line
/// holds (a recursive matcher takes exponential time on `****…x`).
fn glob(pattern: &[u8], text: &[u8]) -> bool {
    let (mut p, mut t) = (0, 0);
    // Where the last `*` was, and the text position it currently extends to.
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        match pattern.get(p) {
            Some(b'*') => {
                star = Some((p, t));
                p += 1;
            }
            Some(&c) if c == b'?' || c.eq_ignore_ascii_case(&text[t]) => {
                p += 1;
                t += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    // Let the last `*` take one more character and retry after it.
                    star = Some((sp, st + 1));
                    p = sp + 1;
                    t = st + 1;
                }
                None => return false,
            },
        }
    }
    pattern[p..].iter().all(|&c| c == b'*')
}

impl Hosts {
    fn matches(&self, host: &str) -> bool {
        match self {
            Hosts::Hashed { salt, hash } => {
                let Ok(mut mac) = Hmac::<sha1::Sha1>::new_from_slice(salt) else {
                    return false;
                };
                mac.update(host.as_bytes());
                mac.verify_slice(hash).is_ok()
            }
            Hosts::Patterns(pats) => {
                let mut hit = false;
                for (neg, p) in pats {
                    if glob(p.as_bytes(), host.as_bytes()) {
                        if *neg {
                            return false;
                        }
                        hit = true;
                    }
                }
                hit
            }
        }
    }
}

fn parse_hosts(field: &str) -> Option<Hosts> {
    let b64 = base64::engine::general_purpose::STANDARD;
    if let Some(rest) = field.strip_prefix("|1|") {
        let (salt, hash) = rest.split_once('|')?;
        return Some(Hosts::Hashed {
            salt: b64.decode(salt).ok()?,
            hash: b64.decode(hash).ok()?,
        });
    }
    Some(Hosts::Patterns(
        field
            .split(',')
            .filter(|p| !p.is_empty())
            .map(|p| match p.strip_prefix('!') {
                Some(p) => (true, p.to_string()),
                None => (false, p.to_string()),
            })
            .collect(),
    ))
}

impl KnownHosts {
    /// Reads `files` (missing files are skipped, as OpenSSH does; unreadable ones are an error).
    /// Keys accepted with [`HostKeyPolicy::AcceptNew`] are appended to `write_to`.
    pub fn load(files: &[PathBuf], write_to: Option<PathBuf>) -> Result<KnownHosts, SetupError> {
        let mut entries = Vec::new();
        for f in files {
            let text = match std::fs::read(f) {
                Ok(t) => String::from_utf8_lossy(&t).into_owned(),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => {
                    return Err(SetupError::KnownHosts {
                        path: f.clone(),
                        reason: e.to_string(),
                    })
                }
            };
            entries.extend(parse(&text, f));
        }
        Ok(KnownHosts {
            entries,
            write_to,
            added: Mutex::new(Vec::new()),
        })
    }

    /// Parses known_hosts text (for tests and tools).
    pub fn from_text(text: &str, name: &Path) -> KnownHosts {
        KnownHosts {
            entries: parse(text, name),
            write_to: None,
            added: Mutex::new(Vec::new()),
        }
    }

    /// Checks `key` (an SSH public-key blob) for any of the host forms `names`.
    pub fn check(&self, names: &[String], key: &[u8]) -> Verdict {
        let Some(ktype) = blob_type(key) else {
            return Verdict::Unknown;
        };
        let added = self.added.lock().unwrap_or_else(|e| e.into_inner());
        let mut changed = None;
        let mut known = false;
        for e in self.entries.iter().chain(added.iter()) {
            if !names.iter().any(|n| e.hosts.matches(n)) && !e.revoked {
                continue;
            }
            if e.revoked {
                if e.key == key {
                    return Verdict::Revoked {
                        file: e.file.clone(),
                        line: e.line,
                    };
                }
                continue;
            }
            if e.key == key {
                known = true;
            } else if e.key_type == ktype && changed.is_none() {
                changed = Some(Verdict::Changed {
                    file: e.file.clone(),
                    line: e.line,
                });
            }
        }
        if known {
            Verdict::Known
        } else {
            changed.unwrap_or(Verdict::Unknown)
        }
    }

    /// Records `key` for `names` (accept-new): appends one line to the write file.
    pub fn add(&self, names: &[String], key: &[u8]) -> Result<(), String> {
        let ktype = blob_type(key).ok_or("the host key blob is malformed")?;
        let mut added = self.added.lock().unwrap_or_else(|e| e.into_inner());
        let file = self.write_to.clone().unwrap_or_default();
        if let Some(path) = &self.write_to {
            let line = format!(
                "{} {} {}\n",
                names.join(","),
                ktype,
                base64::engine::general_purpose::STANDARD.encode(key)
            );
            if let Some(dir) = path.parent() {
                let _ = std::fs::create_dir_all(dir);
            }
            let mut f = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .map_err(|e| format!("cannot append to {}: {e}", path.display()))?;
            f.write_all(line.as_bytes())
                .map_err(|e| format!("cannot append to {}: {e}", path.display()))?;
        }
        added.push(Entry {
            revoked: false,
            hosts: Hosts::Patterns(names.iter().map(|n| (false, n.clone())).collect()),
            key_type: ktype,
            key: key.to_vec(),
            file,
            line: 0,
        });
        Ok(())
    }

    /// Number of usable lines read.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when no line was read.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

fn parse(text: &str, file: &Path) -> Vec<Entry> {
    let b64 = base64::engine::general_purpose::STANDARD;
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut f = line.split_whitespace();
        let mut first = f.next().unwrap_or("");
        let mut revoked = false;
        if first.starts_with('@') {
            match first {
                "@revoked" => revoked = true,
                _ => continue, // @cert-authority: not supported
            }
            first = f.next().unwrap_or("");
        }
        let (Some(ktype), Some(kb64)) = (f.next(), f.next()) else {
            continue;
        };
        let (Some(hosts), Ok(key)) = (parse_hosts(first), b64.decode(kb64)) else {
            continue;
        };
        out.push(Entry {
            revoked,
            hosts,
            key_type: ktype.to_string(),
            key,
            file: file.to_path_buf(),
            line: i + 1,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The plain recursive definition of the match, for short inputs.
    fn glob_reference(pattern: &[u8], text: &[u8]) -> bool {
        match (pattern.first(), text.first()) {
            (None, None) => true,
            (Some(b'*'), _) => {
                glob_reference(&pattern[1..], text)
                    || (!text.is_empty() && glob_reference(pattern, &text[1..]))
            }
            (Some(b'?'), Some(_)) => glob_reference(&pattern[1..], &text[1..]),
            (Some(p), Some(t)) if p.eq_ignore_ascii_case(t) => {
                glob_reference(&pattern[1..], &text[1..])
            }
            _ => false,
        }
    }

    /// Every string of up to `max` bytes over `alphabet`.
    fn strings(alphabet: &[u8], max: usize) -> Vec<Vec<u8>> {
        let mut all = vec![Vec::new()];
        let mut last = vec![Vec::new()];
        for _ in 0..max {
            last = last
                .iter()
                .flat_map(|s: &Vec<u8>| {
                    alphabet.iter().map(move |&c| {
                        let mut s = s.clone();
                        s.push(c);
                        s
                    })
                })
                .collect();
            all.extend(last.iter().cloned());
        }
        all
    }

    #[test]
    fn glob_matches_the_recursive_definition() {
        let patterns = strings(b"a*?B", 5);
        let texts = strings(b"abA", 5);
        for p in &patterns {
            for t in &texts {
                assert_eq!(
                    glob(p, t),
                    glob_reference(p, t),
                    "{:?} on {:?}",
                    String::from_utf8_lossy(p),
                    String::from_utf8_lossy(t)
                );
            }
        }
    }

    #[test]
    fn glob_is_fast_on_hostile_patterns() {
        let stars = "*".repeat(5000) + "x";
        assert!(!glob(stars.as_bytes(), b"[10.0.0.1]:2222"));
        let pairs = "*2".repeat(3000) + "x";
        assert!(!glob(pairs.as_bytes(), "2".repeat(3000).as_bytes()));
        assert!(glob(&[b'*'; 100_000], b"anything"));
    }

    fn blob(t: &str, body: &[u8]) -> Vec<u8> {
        let mut b = (t.len() as u32).to_be_bytes().to_vec();
        b.extend_from_slice(t.as_bytes());
        b.extend_from_slice(body);
        b
    }

    fn line(hosts: &str, key: &[u8]) -> String {
        format!(
            "{hosts} {} {}\n",
            blob_type(key).unwrap(),
            base64::engine::general_purpose::STANDARD.encode(key)
        )
    }

    #[test]
    fn plain_wildcard_negation_port() {
        let k = blob("ssh-ed25519", b"AAAA");
        let other = blob("ssh-ed25519", b"BBBB");
        let text = line("cn1,10.0.0.1", &k)
            + &line("[127.0.0.*]:2222,!127.0.0.9", &k)
            + &line("cn2", &other);
        let kh = KnownHosts::from_text(&text, Path::new("kh"));
        assert_eq!(kh.check(&["cn1".into()], &k), Verdict::Known);
        assert_eq!(kh.check(&["CN1".into()], &k), Verdict::Known);
        assert_eq!(
            kh.check(&[host_form("127.0.0.5", 2222)], &k),
            Verdict::Known
        );
        assert_eq!(
            kh.check(&[host_form("127.0.0.5", 22)], &k),
            Verdict::Unknown
        );
        assert_eq!(
            kh.check(&["cn2".into()], &k),
            Verdict::Changed {
                file: "kh".into(),
                line: 3
            }
        );
        // another key type is not a change
        let rsa = blob("ssh-rsa", b"CCCC");
        assert_eq!(kh.check(&["cn2".into()], &rsa), Verdict::Unknown);
    }

    #[test]
    fn hashed_and_revoked() {
        let k = blob("ssh-ed25519", b"AAAA");
        let salt = b"0123456789abcdef0123";
        let mut mac = Hmac::<sha1::Sha1>::new_from_slice(salt).unwrap();
        mac.update(b"cn7");
        let hash = mac.finalize().into_bytes();
        let e = base64::engine::general_purpose::STANDARD;
        let text = line(&format!("|1|{}|{}", e.encode(salt), e.encode(hash)), &k)
            + "@revoked * "
            + &line("", &blob("ssh-ed25519", b"EVIL"))[1..];
        let kh = KnownHosts::from_text(&text, Path::new("kh"));
        assert_eq!(kh.check(&["cn7".into()], &k), Verdict::Known);
        assert_eq!(kh.check(&["cn8".into()], &k), Verdict::Unknown);
        assert!(matches!(
            kh.check(&["cn7".into()], &blob("ssh-ed25519", b"EVIL")),
            Verdict::Revoked { .. }
        ));
    }

    #[test]
    fn accept_new_appends() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("kh");
        let kh = KnownHosts::load(std::slice::from_ref(&p), Some(p.clone())).unwrap();
        let k = blob("ssh-ed25519", b"AAAA");
        assert_eq!(kh.check(&["cn1".into()], &k), Verdict::Unknown);
        kh.add(&["cn1".into(), "10.0.0.1".into()], &k).unwrap();
        assert_eq!(kh.check(&["10.0.0.1".into()], &k), Verdict::Known);
        let again = KnownHosts::load(std::slice::from_ref(&p), None).unwrap();
        assert_eq!(again.check(&["cn1".into()], &k), Verdict::Known);
    }

    #[test]
    fn garbage_lines_are_skipped() {
        let kh = KnownHosts::from_text(
            "junk\n\n# c\nhost ssh-ed25519 !!notbase64\n@cert-authority * x y\n",
            Path::new("k"),
        );
        assert!(kh.is_empty());
    }
}
