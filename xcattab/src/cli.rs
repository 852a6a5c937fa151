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
