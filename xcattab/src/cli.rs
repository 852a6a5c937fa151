//! Helpers shared by the commands of this workspace (feature `cli`): store selection and the
//! man page and shell completions generated from each command's one clap definition.

use std::io::Write;

/// What `--generate` can produce.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Generate {
    /// A roff man page on stdout.
    Man,
    /// bash completions.
    CompleteBash,
    /// zsh completions.
    CompleteZsh,
    /// fish completions.
    CompleteFish,
}

/// Writes the man page or completions for `cmd` to stdout.
pub fn generate(mut cmd: clap::Command, what: Generate) -> std::io::Result<()> {
    let name = cmd.get_name().to_string();
    let mut out = std::io::stdout().lock();
    match what {
        Generate::Man => clap_mangen::Man::new(cmd).render(&mut out)?,
        Generate::CompleteBash => {
            clap_complete::generate(clap_complete::Shell::Bash, &mut cmd, name, &mut out)
        }
        Generate::CompleteZsh => {
            clap_complete::generate(clap_complete::Shell::Zsh, &mut cmd, name, &mut out)
        }
        Generate::CompleteFish => {
            clap_complete::generate(clap_complete::Shell::Fish, &mut cmd, name, &mut out)
        }
    }
    out.flush()
}

/// The version string printed by `-v`.
pub fn version() -> String {
    format!(
        "Version {} (snmove workspace, Rust reimplementation)",
        env!("CARGO_PKG_VERSION")
    )
}

/// The message Perl's Getopt::Long prints for a command line that clap refused (xCAT's
/// commands print it, then their usage): `Unknown option: x`, `Option f requires an argument`,
/// `Value "abc" invalid for option n (number expected)`; clap's own text otherwise.
pub fn getopt_message(e: &clap::Error) -> String {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    let arg = || match e.get(ContextKind::InvalidArg) {
        Some(ContextValue::String(s)) => s.clone(),
        _ => String::new(),
    };
    // "-f <FILENAME>" / "--lines <N>" → "f" / "lines"
    let name = |s: String| {
        let s = s.split([' ', '=']).next().unwrap_or("").to_string();
        s.trim_start_matches('-').to_string()
    };
    match e.kind() {
        ErrorKind::UnknownArgument => format!("Unknown option: {}", name(arg())),
        ErrorKind::InvalidValue
            if e.get(ContextKind::InvalidValue)
                .is_some_and(|v| matches!(v, ContextValue::String(s) if s.is_empty())) =>
        {
            format!("Option {} requires an argument", name(arg()))
        }
        ErrorKind::ValueValidation => {
            let value = match e.get(ContextKind::InvalidValue) {
                Some(ContextValue::String(s)) => s.clone(),
                _ => String::new(),
            };
            format!(
                "Value \"{value}\" invalid for option {} (number expected)",
                name(arg())
            )
        }
        _ => e.render().to_string().trim_end().to_string(),
    }
}
