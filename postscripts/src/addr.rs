//! A service node's IP addresses, read over the same transport (snmove.md §6: the automatic
//! `xcatmaster` is the first address of the new SN that lies in the node's network).

use crate::error::{FailKind, TransportError};
use crate::script::Stream;
use crate::transport::{Limits, Target, Transport};

/// Which command to run and how to read it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddrOs {
    /// `/sbin/ip addr`; `inet6` lines are skipped.
    Linux,
    /// `/usr/sbin/ifconfig -a`; IPv6 is kept, `%zone` and `/len` stripped.
    Aix,
}

impl AddrOs {
    /// The command xCAT runs (snmove §6).
    pub fn command(self) -> &'static str {
        match self {
            AddrOs::Linux => "/sbin/ip addr",
            AddrOs::Aix => "/usr/sbin/ifconfig -a",
        }
    }
}

/// Parses `ip addr` / `ifconfig -a` output as snmove does: every line containing `inet`, its
/// second whitespace-separated field without `/prefix` (and without `%zone` on AIX), in order,
/// loopback included.
///
/// ```
/// use postscripts::{parse_inet, AddrOs};
/// let out = "1: lo: <LOOPBACK>\n    inet 127.0.0.1/8 scope host lo\n    inet6 ::1/128 scope host\n2: eth0:\n    inet 10.1.2.100/16 brd 10.1.255.255 scope global eth0\n";
/// assert_eq!(parse_inet(out, AddrOs::Linux), ["127.0.0.1", "10.1.2.100"]);
/// let aix = "en0: flags=1e080863\n\tinet 10.1.2.100 netmask 0xffff0000\n\tinet6 fe80::1%2/64\n";
/// assert_eq!(parse_inet(aix, AddrOs::Aix), ["10.1.2.100", "fe80::1"]);
/// ```
pub fn parse_inet(output: &str, os: AddrOs) -> Vec<String> {
    let mut out = Vec::new();
    for line in output.lines() {
        if !line.contains("inet") || (os == AddrOs::Linux && line.contains("inet6")) {
            continue;
        }
        let Some(field) = line.split_whitespace().nth(1) else {
            continue;
        };
        let mut ip = field.split('/').next().unwrap_or("");
        if os == AddrOs::Aix {
            ip = ip.split('%').next().unwrap_or("");
        }
        if !ip.is_empty() {
            out.push(ip.to_string());
        }
    }
    out
}

/// Runs the address command on `target` (a service node) and parses its output.
pub fn sn_addresses(
    transport: &dyn Transport,
    target: &Target<'_>,
    os: AddrOs,
    limits: &Limits,
) -> Result<Vec<String>, TransportError> {
    let mut stdout = Vec::new();
    let mut stderr = Vec::new();
    let exit = transport.exec(target, os.command(), b"", limits, &mut |s, d| match s {
        Stream::Stdout => stdout.extend_from_slice(d),
        Stream::Stderr => stderr.extend_from_slice(d),
    })?;
    if exit.status != 0 {
        return Err(TransportError::new(
            FailKind::Failed,
            format!(
                "`{}` exited {}: {}",
                os.command(),
                exit.status,
                String::from_utf8_lossy(&stderr).trim()
            ),
        ));
    }
    Ok(parse_inet(&String::from_utf8_lossy(&stdout), os))
}
