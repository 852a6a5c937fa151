//! Error types.

use std::path::PathBuf;

/// Errors that stop a run before any node is contacted.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    /// A key file could not be read or used.
    #[error("cannot use identity {path}: {reason}")]
    Identity {
        /// The key file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// No identity: no key file and no agent.
    #[error("no SSH identity: none of {tried} exists and SSH_AUTH_SOCK is not set; give one with --identity")]
    NoIdentity {
        /// The files looked for.
        tried: String,
    },
    /// A known_hosts file could not be read.
    #[error("cannot read known_hosts file {path}: {reason}")]
    KnownHosts {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// The node script could not be built.
    #[error(transparent)]
    Script(#[from] ScriptError),
    /// Two jobs name the same node.
    #[error("node {0} is listed twice")]
    DuplicateNode(String),
    /// A node or jump-host name that cannot appear in a report: empty, or with whitespace, a
    /// control character, `/`, or the `,` `[` `]` `=` of noderanges (the report folds names into
    /// noderanges and prefixes every output line with `name: `).
    #[error("node name {name:?} {why}")]
    BadNodeName {
        /// The name.
        name: String,
        /// What is wrong with it.
        why: &'static str,
    },
    /// A node or jump host without an address.
    #[error("node {0}: empty address")]
    EmptyAddress(String),
    /// An address with whitespace or a control character (it is written into known_hosts).
    #[error("node {node}: address {address:?} contains whitespace or a control character")]
    BadAddress {
        /// The node or jump host.
        node: String,
        /// The address.
        address: String,
    },
    /// An invalid option value.
    #[error("{0}")]
    Invalid(String),
}

/// Errors building a node's script.
#[derive(Debug, thiserror::Error)]
pub enum ScriptError {
    /// An environment variable name a shell cannot export.
    #[error("node {node}: environment variable name {name:?} is not a valid shell name")]
    BadEnvName {
        /// The node.
        node: String,
        /// The name.
        name: String,
    },
}

/// How a node's run ended when it did not run to completion.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FailKind {
    /// No SSH session could be set up (refused, no route, no banner, connection lost before the
    /// command, jump host down).
    Unreachable,
    /// The node refused our key.
    AuthFailed,
    /// The node's host key is unknown, changed or revoked.
    HostKeyRejected,
    /// The command outlived its timeout.
    TimedOut,
    /// The session broke while the command ran.
    Failed,
}

/// A transport failure for one node: what happened, in words that name no node (the report
/// folds nodes with identical messages).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct TransportError {
    /// The class of failure.
    pub kind: FailKind,
    /// What happened.
    pub message: String,
}

impl TransportError {
    /// A new error.
    pub fn new(kind: FailKind, message: impl Into<String>) -> Self {
        TransportError {
            kind,
            message: message.into(),
        }
    }
}

/// Errors reading a JSON report (for `--retry-failed`).
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// The file could not be read.
    #[error("cannot read report {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The file is not a report.
    #[error("{path}: not a psrun JSON report: {source}")]
    Json {
        /// The file.
        path: PathBuf,
        /// The cause (with line and column).
        source: serde_json::Error,
    },
}
