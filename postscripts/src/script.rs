//! The node script: everything one node runs, sent on the stdin of one `sh -s`, and the parser
//! that splits its output back into steps with in-band markers.
//!
//! Each step runs in a subshell with stdin from `/dev/null` (so no step can eat the rest of the
//! script) and is framed by marker lines `:PSRUN_<token>:B:<i>:` and `:PSRUN_<token>:E:<i>:<rc>:`
//! written to both stdout and stderr, so each line of either stream is attributed to its step.
//! The token is random per run, so script output cannot fake a marker by accident.

use crate::error::ScriptError;
use crate::job::{NodeJob, Step};
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// `syslog` shipped with this crate (used when the postscripts directory has none).
pub const BUILTIN_SYSLOG: &str = include_str!("../scripts/syslog");
/// `setupntp` shipped with this crate (used when the postscripts directory has none).
pub const BUILTIN_SETUPNTP: &str = include_str!("../scripts/setupntp");

/// Which copy of `syslog`/`setupntp` to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
#[serde(rename_all = "kebab-case")]
pub enum Builtins {
    /// The postscripts directory's copy if it exists, else the shipped one (default).
    #[default]
    Fallback,
    /// Always the shipped copy.
    Prefer,
    /// Never the shipped copy: a script missing from the directory fails its step.
    Never,
}

/// The scripts of a run, read once from the postscripts directory before any node is contacted.
#[derive(Debug, Clone)]
pub struct ScriptSet {
    dir: PathBuf,
    scripts: HashMap<String, Result<Arc<str>, String>>,
    /// Files a script of the directory runs from its own directory (see [`COMPANIONS`]).
    companions: HashMap<String, Vec<(String, Arc<str>)>>,
    xcatlib: Option<Arc<str>>,
}

/// Files xCAT's postscripts run from their own directory (`${0%/*}/…`), shipped with them:
/// xCAT's `setupntp` execs `setupntp.traditional` on nodes without chronyd or systemctl.
/// (`xcatlib.sh`, which they all source, is always shipped when the directory has it.)
pub const COMPANIONS: &[(&str, &[&str])] = &[("setupntp", &["setupntp.traditional"])];

fn load_companions(dir: &Path, name: &str) -> Vec<(String, Arc<str>)> {
    COMPANIONS
        .iter()
        .filter(|(n, _)| *n == name)
        .flat_map(|(_, files)| files.iter())
        .filter_map(|f| {
            let bytes = std::fs::read(dir.join(f)).ok()?;
            if bytes.contains(&0) {
                return None;
            }
            Some((
                f.to_string(),
                Arc::from(String::from_utf8_lossy(&bytes).as_ref()),
            ))
        })
        .collect()
}

impl ScriptSet {
    /// Reads every postscript the jobs name from `dir` (and `xcatlib.sh`, which xCAT's scripts
    /// source from their own directory). A missing or unreadable script is remembered as an
    /// error and fails that step on the nodes that run it; other nodes and steps still run.
    pub fn load<'a>(
        dir: &Path,
        builtins: Builtins,
        jobs: impl IntoIterator<Item = &'a NodeJob>,
    ) -> ScriptSet {
        let mut scripts = HashMap::new();
        let mut companions: HashMap<String, Vec<(String, Arc<str>)>> = HashMap::new();
        for job in jobs {
            for step in &job.steps {
                if let Step::Postscript { name, .. } = step {
                    if !scripts.contains_key(name) {
                        let script = load_one(dir, name, builtins);
                        // the shipped copies need no companion
                        let shipped = builtin(name).is_some()
                            && (builtins == Builtins::Prefer || !dir.join(name).exists());
                        if script.is_ok() && !shipped {
                            companions.insert(name.clone(), load_companions(dir, name));
                        }
                        scripts.insert(name.clone(), script);
                    }
                }
            }
        }
        let xcatlib = std::fs::read_to_string(dir.join("xcatlib.sh"))
            .ok()
            .map(Arc::from);
        ScriptSet {
            dir: dir.to_path_buf(),
            scripts,
            companions,
            xcatlib,
        }
    }

    /// The directory the scripts were read from.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Why each script that could not be loaded could not, sorted by script name (empty when
    /// all are there). `psrun` refuses to start on any; the library fails their steps only.
    pub fn errors(&self) -> Vec<(&str, &str)> {
        let mut e: Vec<(&str, &str)> = self
            .scripts
            .iter()
            .filter_map(|(n, r)| r.as_ref().err().map(|m| (n.as_str(), m.as_str())))
            .collect();
        e.sort();
        e
    }
}

fn builtin(name: &str) -> Option<&'static str> {
    match name {
        "syslog" => Some(BUILTIN_SYSLOG),
        "setupntp" => Some(BUILTIN_SETUPNTP),
        _ => None,
    }
}

fn load_one(dir: &Path, name: &str, builtins: Builtins) -> Result<Arc<str>, String> {
    if name.contains('/') || name == "." || name == ".." {
        return Err(format!("postscript name {name:?} is not a plain file name"));
    }
    if builtins == Builtins::Prefer {
        if let Some(b) = builtin(name) {
            return Ok(Arc::from(b));
        }
    }
    let path = dir.join(name);
    match std::fs::read(&path) {
        Ok(bytes) => {
            if bytes.contains(&0) {
                return Err(format!("postscript {} contains NUL bytes", path.display()));
            }
            Ok(Arc::from(String::from_utf8_lossy(&bytes).as_ref()))
        }
        Err(e) => match (builtins, builtin(name)) {
            (Builtins::Fallback, Some(b)) if e.kind() == std::io::ErrorKind::NotFound => {
                Ok(Arc::from(b))
            }
            _ => Err(format!("cannot read postscript {}: {e}", path.display())),
        },
    }
}

/// Quotes `s` for a POSIX shell (single quotes).
pub fn shell_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('\'');
    for c in s.chars() {
        if c == '\'' {
            out.push_str("'\\''");
        } else {
            out.push(c);
        }
    }
    out.push('\'');
    out
}

fn valid_env_name(k: &str) -> bool {
    let mut chars = k.chars();
    matches!(chars.next(), Some(c) if c == '_' || c.is_ascii_alphabetic())
        && chars.all(|c| c == '_' || c.is_ascii_alphanumeric())
}

/// Only when the node needs files (postscripts): a private directory, removed on exit.
const TMPDIR_PRELUDE: &str = r#"_psd="${TMPDIR:-/tmp}/psrun.$$.$_pst"
mkdir -m 700 "$_psd" || { echo "cannot create the temporary directory $_psd on the node" >&2; exit 97; }
trap 'rm -rf "$_psd"' 0
trap 'exit 143' TERM HUP INT
"#;

const PRELUDE: &str = r#"_psm() { printf ':PSRUN_%s:%s:\n' "$_pst" "$1"; printf ':PSRUN_%s:%s:\n' "$_pst" "$1" >&2; }
_ps_kv() {
  _f=$1 _k=$2 _v=$3 _d=0
  { if [ -f "$_f" ]; then
      while IFS= read -r _l || [ -n "$_l" ]; do
        case "$_l" in
          "$_k="*) if [ "$_v" != "--delete" ] && [ $_d = 0 ]; then printf '%s\n' "$_k=$_v"; _d=1; fi ;;
          *) printf '%s\n' "$_l" ;;
        esac
      done < "$_f"
    fi
    if [ "$_v" != "--delete" ] && [ $_d = 0 ]; then printf '%s\n' "$_k=$_v"; fi
  } > "$_f.psrun.$$" && mv "$_f.psrun.$$" "$_f"
}
"#;

/// Renders the script one node runs. `node_root` prefixes every node-side file path the steps
/// write (empty in production; a test root in tests; `{node}` in it is replaced by the node's
/// name); it is exported as `PSROOT` so the shipped scripts honour it too.
pub fn render(
    job: &NodeJob,
    scripts: &ScriptSet,
    node_root: &str,
    token: &str,
) -> Result<String, ScriptError> {
    let mut s = String::with_capacity(4096);
    s.push_str("# psrun node script\n");
    s.push_str(&format!("_pst={}\n", shell_quote(token)));
    let root = node_root.replace("{node}", &job.name);
    s.push_str(&format!("PSROOT={}; export PSROOT\n", shell_quote(&root)));
    s.push_str("PATH=\"$PATH:/usr/sbin:/sbin\"; export PATH\n");
    let mut env: BTreeMap<&str, &str> = BTreeMap::new();
    env.insert("NODE", &job.name);
    for (k, v) in &job.env {
        env.insert(k, v);
    }
    for (k, v) in env {
        if !valid_env_name(k) {
            return Err(ScriptError::BadEnvName {
                node: job.name.clone(),
                name: k.to_string(),
            });
        }
        s.push_str(&format!("{k}={}; export {k}\n", shell_quote(v)));
    }
    s.push_str(PRELUDE);
    let eof = format!("PSRUN_EOF_{token}");
    let mut written: Vec<&str> = Vec::new();
    let file = |s: &mut String, name: &str, body: &str| {
        s.push_str(&format!("cat > \"$_psd/{name}\" <<'{eof}'\n"));
        s.push_str(body);
        if !body.ends_with('\n') {
            s.push('\n');
        }
        s.push_str(&eof);
        s.push('\n');
        s.push_str(&format!("chmod 755 \"$_psd/{name}\"\n"));
    };
    let has_ps = job
        .steps
        .iter()
        .any(|st| matches!(st, Step::Postscript { .. }));
    if has_ps {
        s.push_str(TMPDIR_PRELUDE);
        if let Some(lib) = &scripts.xcatlib {
            file(&mut s, "xcatlib.sh", lib);
        }
    }
    for step in &job.steps {
        if let Step::Postscript { name, .. } = step {
            if let Some(Ok(body)) = scripts.scripts.get(name) {
                if !written.contains(&name.as_str()) {
                    file(&mut s, name, body);
                    written.push(name);
                    for (c, body) in scripts.companions.get(name).into_iter().flatten() {
                        if !written.contains(&c.as_str()) {
                            file(&mut s, c, body);
                            written.push(c);
                        }
                    }
                }
            }
        }
    }
    for (i, step) in job.steps.iter().enumerate() {
        let n = i + 1;
        s.push_str(&format!("_psm B:{n}\n(\n"));
        s.push_str(&step_body(step, scripts));
        s.push_str(") </dev/null\n");
        s.push_str(&format!("_psm E:{n}:$?\n"));
    }
    s.push_str("_psm DONE\nexit 0\n");
    Ok(s)
}

fn step_body(step: &Step, scripts: &ScriptSet) -> String {
    let q = shell_quote;
    match step {
        Step::Xcatinfo { server, servicegroup, httpport } => {
            let mut b = String::from(
                "_f=\"$PSROOT/opt/xcat/xcatinfo\"\nmkdir -p \"$PSROOT/opt/xcat\" || exit 1\n",
            );
            b.push_str(&format!("_ps_kv \"$_f\" XCATSERVER {} || exit 1\n", q(server)));
            if let Some(p) = httpport {
                b.push_str(&format!("_ps_kv \"$_f\" HTTPPORT {} || exit 1\n", q(p)));
            }
            b.push_str("_ps_kv \"$_f\" NODE \"$NODE\" || exit 1\n");
            match servicegroup.as_deref().filter(|g| !g.is_empty()) {
                Some(g) => b.push_str(&format!("_ps_kv \"$_f\" SERVICEGROUP {} || exit 1\n", q(g))),
                None => b.push_str("_ps_kv \"$_f\" SERVICEGROUP --delete || exit 1\n"),
            }
            // quoted like the values above: `$(…)` or backquotes in a value are never run
            b.push_str(&format!("printf 'xcatinfo: XCATSERVER=%s\\n' {}\n", q(server)));
            b
        }
        Step::DefaultRoute { gateway } => format!(
            "_g={}\nif command -v route >/dev/null 2>&1; then _o=$(route add default gw \"$_g\" 2>&1); else _o=$(ip route add default via \"$_g\" 2>&1); fi\n_r=$?\ncase \"$_o\" in *\"File exists\"*) echo \"default route via $_g already present\"; exit 0;; esac\n[ -n \"$_o\" ] && printf '%s\\n' \"$_o\"\n[ $_r = 0 ] && echo \"default route via $_g added\"\nexit $_r\n",
            q(gateway)
        ),
        Step::AixDefaultRoute { old, new } => format!(
            "_old={}; _new={}\n_rt=$(netstat -rn) || exit 1\n_has() {{ printf '%s\\n' \"$_rt\" | awk -v g=\"$1\" '$1==\"default\" && $2==g {{f=1}} END {{exit !f}}'; }}\nif _has \"$_old\" && ! _has \"$_new\"; then route change default \"$_new\"; else echo \"default route unchanged\"; fi\n",
            q(old),
            q(new)
        ),
        Step::Postscript { name, args } => match scripts.scripts.get(name) {
            Some(Ok(_)) => {
                // as mypostscript does, the scripts' directory is on PATH
                let mut b = format!(
                    "cd \"$_psd\" || exit 1\nPATH=\"$_psd:$PATH\"; export PATH\n./{}",
                    q(name)
                );
                for a in args {
                    b.push(' ');
                    b.push_str(&q(a));
                }
                b.push('\n');
                b
            }
            Some(Err(msg)) => format!("echo {} >&2\nexit 127\n", q(msg)),
            None => format!("echo {} >&2\nexit 127\n", q(&format!("postscript {name} was not loaded"))),
        },
        Step::AixXcatinfo { server } => format!(
            "mkdir -p \"$PSROOT/etc\" || exit 1\necho \"XCATSERVER=\"{} > \"$PSROOT/etc/xcatinfo\"\n",
            q(server)
        ),
        Step::AixBootlist { client, gateway, server } => format!(
            "_ip={}\n_if=$(netstat -in | awk -v ip=\"$_ip\" '$4 == ip {{ print $1; exit }}')\n[ -n \"$_if\" ] || {{ echo \"no interface owns $_ip in netstat -in\" >&2; exit 1; }}\ncase $_if in hf*) _dev=hfi${{_if#hf}} ;; en*) _dev=ent${{_if#en}} ;; et*) _dev=ent${{_if#et}} ;; *) _dev=$_if ;; esac\nbootlist -m normal \"$_dev\" gateway={} bserver={} client=\"$_ip\"\n",
            q(client),
            q(gateway),
            q(server)
        ),
        Step::Niminit { name, master } => {
            format!("niminit -a name={} -a master={}\n", q(name), q(master))
        }
        Step::Command { command, .. } => format!("eval {}\n", q(command)),
    }
}

/// Which stream a line came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Stream {
    /// Standard output.
    Stdout,
    /// Standard error.
    Stderr,
}

/// What the output parser found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parsed {
    /// A line of output of step `step` (0 = before the first step).
    Line {
        /// The stream.
        stream: Stream,
        /// 1-based step number, 0 for output outside any step.
        step: usize,
        /// The text, without its newline.
        text: String,
    },
    /// Step `step` started.
    Begin(usize),
    /// Step `step` ended with this status.
    End(usize, i32),
    /// All steps ran.
    Done,
}

/// Longest line kept whole; longer ones are passed on in pieces.
pub const MAX_LINE: usize = 64 * 1024;

/// The length of `b` without a UTF-8 character cut at its end (at most 3 bytes fewer; all of
/// `b` when its end is not inside a multi-byte character or it is not UTF-8 there).
fn utf8_cut(b: &[u8]) -> usize {
    for back in 1..=3.min(b.len()) {
        let c = b[b.len() - back];
        if c & 0xC0 == 0x80 {
            continue; // a continuation byte: look further back for the lead byte
        }
        let need = match c {
            0xC0..=0xDF => 2,
            0xE0..=0xEF => 3,
            0xF0..=0xF7 => 4,
            _ => return b.len(),
        };
        return if need > back { b.len() - back } else { b.len() };
    }
    b.len()
}

/// Splits a node's two output streams back into steps.
#[derive(Debug)]
pub struct Demux {
    prefix: String,
    bufs: [Vec<u8>; 2],
    step: [usize; 2],
}

impl Demux {
    /// A parser for the markers of `token`.
    pub fn new(token: &str) -> Demux {
        Demux {
            prefix: format!(":PSRUN_{token}:"),
            bufs: [Vec::new(), Vec::new()],
            step: [0, 0],
        }
    }

    /// Feeds bytes of one stream; complete lines come out through `out`.
    ///
    /// A line longer than [`MAX_LINE`] (plus room for a marker) comes out in pieces of
    /// `MAX_LINE` bytes (less the end of a cut UTF-8 character), so memory stays bounded
    /// whatever a node prints. The cuts depend only on the line, not on how its bytes arrived,
    /// so two nodes printing the same long line still fold together. A marker always ends its
    /// line, so none can start in a piece while more than a marker's length follows it.
    pub fn feed(&mut self, stream: Stream, data: &[u8], out: &mut dyn FnMut(Parsed)) {
        let i = stream as usize;
        let mut buf = std::mem::take(&mut self.bufs[i]);
        buf.extend_from_slice(data);
        let mut start = 0;
        while let Some(pos) = buf[start..].iter().position(|&b| b == b'\n') {
            let end = start + pos;
            start = self.pieces(stream, &buf, start, end, out);
            let text = String::from_utf8_lossy(&buf[start..end]).into_owned();
            self.line(stream, text, out);
            start = end + 1;
        }
        start = self.pieces(stream, &buf, start, buf.len(), out);
        buf.drain(..start);
        self.bufs[i] = buf;
    }

    /// Passes on `buf[start..end]` (part of one line) in pieces while more than a piece and a
    /// marker's length is left; returns where the rest starts.
    fn pieces(
        &mut self,
        stream: Stream,
        buf: &[u8],
        mut start: usize,
        end: usize,
        out: &mut dyn FnMut(Parsed),
    ) -> usize {
        let keep = self.prefix.len() + 32;
        while end - start > MAX_LINE + keep {
            let cut = utf8_cut(&buf[start..start + MAX_LINE]);
            let text = String::from_utf8_lossy(&buf[start..start + cut]).into_owned();
            let step = self.step[stream as usize];
            out(Parsed::Line { stream, step, text });
            start += cut;
        }
        start
    }

    /// Flushes unterminated last lines.
    pub fn finish(&mut self, out: &mut dyn FnMut(Parsed)) {
        for stream in [Stream::Stdout, Stream::Stderr] {
            let i = stream as usize;
            if !self.bufs[i].is_empty() {
                let text = String::from_utf8_lossy(&std::mem::take(&mut self.bufs[i])).into_owned();
                self.line(stream, text, out);
            }
        }
    }

    fn line(&mut self, stream: Stream, mut text: String, out: &mut dyn FnMut(Parsed)) {
        let i = stream as usize;
        let Some(pos) = text.find(&self.prefix) else {
            let text = text.trim_end_matches('\r').to_string();
            out(Parsed::Line {
                stream,
                step: self.step[i],
                text,
            });
            return;
        };
        let marker = text[pos + self.prefix.len()..].to_string();
        text.truncate(pos);
        if !text.is_empty() {
            out(Parsed::Line {
                stream,
                step: self.step[i],
                text,
            });
        }
        let mut f = marker.split(':');
        match (f.next(), f.next(), f.next()) {
            (Some("B"), Some(n), _) => {
                if let Ok(n) = n.parse() {
                    self.step[i] = n;
                    if stream == Stream::Stdout {
                        out(Parsed::Begin(n));
                    }
                }
            }
            (Some("E"), Some(n), Some(rc)) => {
                if let (Ok(n), Ok(rc)) = (n.parse(), rc.parse()) {
                    self.step[i] = 0;
                    if stream == Stream::Stdout {
                        out(Parsed::End(n, rc));
                    }
                }
            }
            (Some("DONE"), _, _) if stream == Stream::Stdout => out(Parsed::Done),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quote() {
        assert_eq!(shell_quote("a'b"), "'a'\\''b'");
        assert_eq!(shell_quote(""), "''");
    }

    #[test]
    fn demux_markers_and_partial_lines() {
        let mut d = Demux::new("tok");
        let mut got = Vec::new();
        let mut push = |p| got.push(p);
        d.feed(Stream::Stdout, b"pre\n:PSRUN_tok:B:1:\nhel", &mut push);
        d.feed(
            Stream::Stdout,
            b"lo\nno newline:PSRUN_tok:E:1:3:\n:PSRUN_tok:DONE:\ntail",
            &mut push,
        );
        d.feed(
            Stream::Stderr,
            b":PSRUN_tok:B:1:\nerr\n:PSRUN_tok:E:1:3:\n",
            &mut push,
        );
        d.finish(&mut push);
        let line = |stream, step, t: &str| Parsed::Line {
            stream,
            step,
            text: t.into(),
        };
        assert_eq!(
            got,
            vec![
                line(Stream::Stdout, 0, "pre"),
                Parsed::Begin(1),
                line(Stream::Stdout, 1, "hello"),
                line(Stream::Stdout, 1, "no newline"),
                Parsed::End(1, 3),
                Parsed::Done,
                line(Stream::Stderr, 1, "err"),
                line(Stream::Stdout, 0, "tail"),
            ]
        );
    }

    #[test]
    fn endless_line_is_cut_but_markers_survive() {
        let mut d = Demux::new("tok");
        let mut got = Vec::new();
        let big = vec![b'x'; MAX_LINE + 10];
        d.feed(Stream::Stdout, &big, &mut |p| got.push(p));
        d.feed(Stream::Stdout, b"y:PSRUN_tok:E:1:0:\n", &mut |p| {
            got.push(p)
        });
        let text: usize = got
            .iter()
            .map(|p| match p {
                Parsed::Line { text, .. } => text.len(),
                _ => 0,
            })
            .sum();
        assert_eq!(text, MAX_LINE + 11);
        assert_eq!(got.last(), Some(&Parsed::End(1, 0)));
        assert!(d.bufs[0].is_empty());
    }

    /// The pieces of a long line are the same whatever the chunks it arrived in (so identical
    /// outputs of two nodes fold), and no UTF-8 character is cut in two.
    #[test]
    fn long_line_pieces_do_not_depend_on_chunking() {
        let mut line = format!("a{}", "é".repeat(MAX_LINE)); // the first cut falls inside an é
        line.push_str("end\n:PSRUN_tok:E:1:0:\n");
        let pieces = |chunk: usize| {
            let mut d = Demux::new("tok");
            let mut got = Vec::new();
            for c in line.as_bytes().chunks(chunk) {
                d.feed(Stream::Stdout, c, &mut |p| got.push(p));
            }
            got
        };
        let a = pieces(line.len());
        for chunk in [1000, 4096, 32768, 65537] {
            assert_eq!(pieces(chunk), a, "chunk {chunk}");
        }
        let texts: Vec<&str> = a
            .iter()
            .filter_map(|p| match p {
                Parsed::Line { text, .. } => Some(text.as_str()),
                _ => None,
            })
            .collect();
        assert!(
            texts.iter().all(|t| !t.contains('\u{FFFD}')),
            "a character was cut"
        );
        assert_eq!(texts.concat(), format!("a{}end", "é".repeat(MAX_LINE)));
        assert_eq!(texts[0].len(), MAX_LINE - 1);
        assert_eq!(texts.len(), 2);
        assert_eq!(a.last(), Some(&Parsed::End(1, 0)));
    }

    #[test]
    fn utf8_cut_backs_off_a_partial_character() {
        assert_eq!(utf8_cut(b"ab"), 2);
        assert_eq!(utf8_cut("aé".as_bytes()), 3);
        assert_eq!(utf8_cut(&"aé".as_bytes()[..2]), 1);
        assert_eq!(utf8_cut(&"a€".as_bytes()[..3]), 1);
        assert_eq!(utf8_cut(&"a😀".as_bytes()[..4]), 1);
        assert_eq!(utf8_cut("a😀".as_bytes()), 5);
        assert_eq!(utf8_cut(b"\xff\xff"), 2);
        assert_eq!(utf8_cut(b""), 0);
    }

    #[test]
    fn foreign_token_is_plain_output() {
        let mut d = Demux::new("tok");
        let mut got = Vec::new();
        d.feed(Stream::Stdout, b":PSRUN_other:E:1:0:\n", &mut |p| {
            got.push(p)
        });
        assert_eq!(
            got,
            vec![Parsed::Line {
                stream: Stream::Stdout,
                step: 0,
                text: ":PSRUN_other:E:1:0:".into()
            }]
        );
    }

    #[test]
    fn bad_env_name_is_refused() {
        let job = NodeJob::new("cn1", "a").env("BAD-NAME", "x");
        let set = ScriptSet::load(Path::new("/nonexistent"), Builtins::Fallback, [&job]);
        let e = render(&job, &set, "", "t").unwrap_err();
        assert!(e.to_string().contains("BAD-NAME"), "{e}");
    }
}
