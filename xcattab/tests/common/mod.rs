//! Shared by the crash tests of the stores.

use std::ffi::OsStr;
use std::process::{Child, Command, Stdio};

/// Starts this test binary again to run only the test `test`, with the environment variable
/// `env` set to `value` and `XCATTAB_CRASH_AT` set to `crash_at` (removed when `None`): the
/// child process a crash test kills or lets finish. Its output is discarded.
pub fn spawn_self(
    test: &str,
    env: &str,
    value: impl AsRef<OsStr>,
    crash_at: Option<&str>,
) -> Child {
    let exe = std::env::current_exe().expect("the test binary's path");
    let mut cmd = Command::new(exe);
    cmd.args([test, "--exact", "--nocapture", "--test-threads=1"])
        .env(env, value)
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    match crash_at {
        Some(p) => cmd.env("XCATTAB_CRASH_AT", p),
        None => cmd.env_remove("XCATTAB_CRASH_AT"),
    };
    cmd.spawn().expect("start the child test process")
}
