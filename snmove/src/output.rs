//! What the user sees, rendered the way xCAT's client (`xCAT::Client::handle_response`) prints
//! a plugin's responses:
//! * information lines go to stdout, one per message, each followed by a newline (a message that
//!   ends in `\n` therefore leaves a blank line after it);
//! * data lines likewise, except that empty (Perl-false) ones are not printed;
//! * errors go to stderr as `Error: [<host>]: <text>`, warnings as `Warning: [<host>]: <text>`;
//! * when the command line holds the word `-V` or `--verbose`, information and data lines are
//!   prefixed `[<host>]: ` ([`crate::cli::shows_server`]).
//!
//! `<host>` is the short host name of the machine, as xcatd stamps its answers.

use std::io::Write;

/// One message, with xCAT's severity.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "kind", content = "text", rename_all = "lowercase")]
pub enum Msg {
    /// An `info` response (stdout).
    Info(String),
    /// A `data` response (stdout; not printed when empty or `"0"`).
    Data(String),
    /// A warning (stderr).
    Warning(String),
    /// An error (stderr).
    Error(String),
}

impl Msg {
    /// The text.
    pub fn text(&self) -> &str {
        match self {
            Msg::Info(t) | Msg::Data(t) | Msg::Warning(t) | Msg::Error(t) => t,
        }
    }

    /// Whether it goes to stderr.
    pub fn is_stderr(&self) -> bool {
        matches!(self, Msg::Warning(_) | Msg::Error(_))
    }

    /// The bytes xCAT's client prints for it.
    ///
    /// ```
    /// use snmove::output::Msg;
    /// assert_eq!(Msg::Info("Moving nodes.\n".into()).render("mn", false), "Moving nodes.\n\n");
    /// assert_eq!(Msg::Info("x".into()).render("mn", true), "[mn]: x\n");
    /// assert_eq!(Msg::Data("".into()).render("mn", false), "");
    /// assert_eq!(Msg::Error("Could not resolve node 'cn1'.\n".into()).render("mn", false),
    ///            "Error: [mn]: Could not resolve node 'cn1'.\n\n");
    /// ```
    pub fn render(&self, host: &str, show_server: bool) -> String {
        let stamp = |t: &str| {
            if show_server && !t.is_empty() && !host.is_empty() {
                format!("[{host}]: {t}\n")
            } else {
                format!("{t}\n")
            }
        };
        let err = |kind: &str, t: &str| {
            if t.is_empty() || host.is_empty() {
                format!("{kind}: {t}\n")
            } else {
                format!("{kind}: [{host}]: {t}\n")
            }
        };
        match self {
            Msg::Info(t) => stamp(t),
            Msg::Data(t) if t.is_empty() || t == "0" => String::new(),
            Msg::Data(t) => stamp(t),
            Msg::Warning(t) => err("Warning", t),
            Msg::Error(t) => err("Error", t),
        }
    }
}

/// Where messages are printed.
pub struct Console<'a> {
    out: &'a mut dyn Write,
    err: &'a mut dyn Write,
    host: String,
    show_server: bool,
    /// Send stdout messages to stderr (stdout carries JSON).
    stdout_to_stderr: bool,
    /// Every message printed, in order (for the JSON report).
    pub log: Vec<Msg>,
}

impl<'a> Console<'a> {
    /// A console stamping errors with `host`.
    pub fn new(out: &'a mut dyn Write, err: &'a mut dyn Write, host: impl Into<String>) -> Self {
        Console {
            out,
            err,
            host: host.into(),
            show_server: false,
            stdout_to_stderr: false,
            log: Vec::new(),
        }
    }

    /// Prefix stdout lines with the host (`-V` on the command line).
    pub fn show_server(&mut self, on: bool) {
        self.show_server = on;
    }

    /// Keep stdout for JSON: messages meant for stdout go to stderr.
    pub fn json_mode(&mut self, on: bool) {
        self.stdout_to_stderr = on;
    }

    /// Prints one message.
    pub fn emit(&mut self, m: Msg) {
        let text = m.render(&self.host, self.show_server);
        let w: &mut dyn Write = if m.is_stderr() || self.stdout_to_stderr {
            &mut *self.err
        } else {
            &mut *self.out
        };
        let _ = w.write_all(text.as_bytes());
        self.log.push(m);
    }

    /// Prints several messages in order.
    pub fn emit_all(&mut self, ms: impl IntoIterator<Item = Msg>) {
        for m in ms {
            self.emit(m);
        }
    }

    /// An information line.
    pub fn info(&mut self, t: impl Into<String>) {
        self.emit(Msg::Info(t.into()));
    }

    /// A data line.
    pub fn data(&mut self, t: impl Into<String>) {
        self.emit(Msg::Data(t.into()));
    }

    /// A warning.
    pub fn warning(&mut self, t: impl Into<String>) {
        self.emit(Msg::Warning(t.into()));
    }

    /// An error.
    pub fn error(&mut self, t: impl Into<String>) {
        self.emit(Msg::Error(t.into()));
    }

    /// Raw text on stdout (generated help, dry-run plans, JSON): never prefixed.
    pub fn raw(&mut self, text: &str) {
        let _ = self.out.write_all(text.as_bytes());
    }

    /// Flushes both streams.
    pub fn flush(&mut self) {
        let _ = self.out.flush();
        let _ = self.err.flush();
    }
}

/// The short host name (up to the first dot), as xcatd stamps its responses; `SNMOVE_HOSTNAME`
/// overrides it (tests, or to mimic the management node's name).
pub fn short_hostname() -> String {
    if let Ok(h) = std::env::var("SNMOVE_HOSTNAME") {
        return h;
    }
    let name = full_hostname();
    match name.split('.').next() {
        Some(s) if !s.is_empty() => s.to_string(),
        _ => "localhost".into(),
    }
}

/// This machine's host name as `gethostname` gives it (empty if it cannot be read).
pub fn full_hostname() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: gethostname writes at most buf.len() bytes into buf.
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
    if rc != 0 {
        return String::new();
    }
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    String::from_utf8_lossy(&buf[..end]).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rendering_follows_xcat_client() {
        assert_eq!(
            Msg::Info(String::new()).render("mn", true),
            "\n",
            "empty info prints an empty line"
        );
        assert_eq!(
            Msg::Data("0".into()).render("mn", false),
            "",
            "Perl-false data is skipped"
        );
        assert_eq!(Msg::Data("\n".into()).render("mn", true), "[mn]: \n\n");
        assert_eq!(
            Msg::Warning("w".into()).render("mn", false),
            "Warning: [mn]: w\n"
        );
        assert_eq!(Msg::Error(String::new()).render("mn", false), "Error: \n");
    }

    #[test]
    fn console_routes_channels() {
        let (mut o, mut e) = (Vec::new(), Vec::new());
        {
            let mut c = Console::new(&mut o, &mut e, "mn");
            c.show_server(true);
            c.info("a");
            c.error("b");
            c.json_mode(true);
            c.data("c");
        }
        assert_eq!(String::from_utf8(o).unwrap(), "[mn]: a\n");
        assert_eq!(String::from_utf8(e).unwrap(), "Error: [mn]: b\n[mn]: c\n");
    }
}
