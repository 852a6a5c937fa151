//! Addresses and networks: subnet membership as xCAT's `ishostinsubnet` decides it, the node's
//! network from the `networks` table, and the service node's addresses parsed from `ip addr`.

use std::net::IpAddr;

/// A network as the `networks` table describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Network {
    /// `netname`.
    pub name: Option<String>,
    /// `net` (may carry a CIDR suffix).
    pub net: String,
    /// `mask`: dotted (`255.255.0.0`), prefix (`/16`, `16`) or hex (`0xffff0000`).
    pub mask: String,
    /// `gateway` (may be the keyword `<xcatmaster>`).
    pub gateway: Option<String>,
}

/// The number of leading one bits of a mask written in any of xCAT's forms, for an address
/// family of `bits` bits. `None` if the mask cannot be read.
fn prefix_len(mask: &str, bits: u32) -> Option<u32> {
    let m = mask.trim();
    if let Some(p) = m.strip_prefix('/') {
        return p.parse().ok().filter(|&p| p <= bits);
    }
    if let Some(h) = m.strip_prefix("0x").or_else(|| m.strip_prefix("0X")) {
        let v = u128::from_str_radix(h, 16).ok()?;
        return contiguous(v << (128 - bits), bits);
    }
    if let Ok(p) = m.parse::<u32>() {
        return (p <= bits).then_some(p);
    }
    match m.parse::<IpAddr>().ok()? {
        IpAddr::V4(a) if bits == 32 => contiguous((u32::from(a) as u128) << 96, 32),
        IpAddr::V6(a) if bits == 128 => contiguous(u128::from(a), 128),
        _ => None,
    }
}

/// Leading ones of a left-aligned mask; masks with holes are read as their leading ones, the
/// way a bitwise AND would mostly behave for real configurations.
fn contiguous(v: u128, bits: u32) -> Option<u32> {
    Some(v.leading_ones().min(bits))
}

fn to_bits(ip: IpAddr) -> (u128, u32) {
    match ip {
        IpAddr::V4(a) => ((u32::from(a) as u128) << 96, 32),
        IpAddr::V6(a) => (u128::from(a), 128),
    }
}

/// Whether `ip` lies in `net`/`mask` (`net` may also be written `a.b.c.d/len`, which then wins
/// over `mask`, as in xCAT). Addresses of different families never match.
///
/// ```
/// use snmove::net::in_subnet;
/// let ip = "10.1.2.3".parse().unwrap();
/// assert!(in_subnet(ip, "10.1.0.0", "255.255.0.0"));
/// assert!(in_subnet(ip, "10.1.0.0/16", ""));
/// assert!(in_subnet(ip, "10.1.2.0", "/24"));
/// assert!(!in_subnet(ip, "10.2.0.0", "255.255.0.0"));
/// ```
pub fn in_subnet(ip: IpAddr, net: &str, mask: &str) -> bool {
    let (net, mask) = match net.split_once('/') {
        Some((n, len)) => (n, format!("/{len}")),
        None => (net, mask.to_string()),
    };
    let Ok(net) = net.trim().parse::<IpAddr>() else { return false };
    let (a, bits) = to_bits(ip);
    let (n, nbits) = to_bits(net);
    if bits != nbits {
        return false;
    }
    let Some(len) = prefix_len(&mask, bits) else { return false };
    let keep = if len == 0 { 0 } else { u128::MAX << (128 - len) };
    (a & keep) == (n & keep)
}

/// The network of a node address: among the networks containing `ip`, the **last** one, as
/// xCAT's loop leaves it (spec quirk; rows are in table order).
pub fn network_of(ip: IpAddr, networks: &[Network]) -> Option<&Network> {
    networks.iter().rev().find(|n| in_subnet(ip, &n.net, &n.mask))
}

/// The addresses of a service node from the output of `xdsh <sn> -s "/sbin/ip addr "` (or of
/// `ip addr` run directly, without the `sn: ` prefix): every line containing `inet`, its 2nd
/// whitespace-separated field (after removing an `<sn>: ` prefix) without `/prefix`; `inet6`
/// lines are skipped. Unlike xCAT (quirk Q7), output without the prefix is read the same way.
///
/// ```
/// let out = "sn2: 1: lo: <LOOPBACK,UP>\nsn2:     inet 127.0.0.1/8 scope host lo\nsn2:     inet6 ::1/128 scope host\nsn2:     inet 10.1.2.100/16 brd 10.1.255.255 scope global eth1\n";
/// let ips = snmove::net::parse_ip_addr(out);
/// assert_eq!(ips, ["127.0.0.1".parse::<std::net::IpAddr>().unwrap(), "10.1.2.100".parse().unwrap()]);
/// ```
pub fn parse_ip_addr(output: &str) -> Vec<IpAddr> {
    let mut ips = Vec::new();
    for line in output.lines() {
        if !line.contains("inet") {
            continue;
        }
        // Drop a "host: " prefix as xdsh prints it.
        let body = match line.split_once(": ") {
            Some((host, rest)) if !host.contains(char::is_whitespace) && rest.trim_start().starts_with("inet") => rest,
            _ => line,
        };
        let mut words = body.split_whitespace();
        match words.next() {
            Some("inet") => {}
            _ => continue,
        }
        if let Some(addr) = words.next() {
            let addr = addr.split('/').next().unwrap_or(addr);
            if let Ok(ip) = addr.parse::<IpAddr>() {
                ips.push(ip);
            }
        }
    }
    ips
}

/// The new xcatmaster for a node (spec §6 step 4): the first service-node address inside the
/// node's network.
pub fn first_in_network(sn_ips: &[IpAddr], network: &Network) -> Option<IpAddr> {
    sn_ips
        .iter()
        .copied()
        .find(|&ip| in_subnet(ip, &network.net, &network.mask))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn mask_forms() {
        let a = ip("172.20.5.9");
        for (net, mask) in [
            ("172.20.0.0", "255.255.0.0"),
            ("172.20.0.0", "/16"),
            ("172.20.0.0", "16"),
            ("172.20.0.0", "0xffff0000"),
            ("172.20.0.0/16", "255.255.255.255"),
            ("0.0.0.0", "0.0.0.0"),
        ] {
            assert!(in_subnet(a, net, mask), "{net} {mask}");
        }
        for (net, mask) in [("172.21.0.0", "255.255.0.0"), ("172.20.0.0", "garbage"), ("x", "/8"), ("172.20.0.0", "/33")] {
            assert!(!in_subnet(a, net, mask), "{net} {mask}");
        }
    }

    #[test]
    fn ipv6() {
        assert!(in_subnet(ip("fd00:1::5"), "fd00:1::", "/64"));
        assert!(!in_subnet(ip("fd00:2::5"), "fd00:1::", "/64"));
        assert!(!in_subnet(ip("10.0.0.1"), "fd00:1::", "/64"));
    }

    #[test]
    fn last_matching_network_wins() {
        let nets = vec![
            Network { name: Some("wide".into()), net: "10.0.0.0".into(), mask: "255.0.0.0".into(), gateway: None },
            Network { name: Some("narrow".into()), net: "10.1.0.0".into(), mask: "255.255.0.0".into(), gateway: Some("<xcatmaster>".into()) },
            Network { name: Some("other".into()), net: "192.168.0.0".into(), mask: "255.255.0.0".into(), gateway: None },
        ];
        assert_eq!(network_of(ip("10.1.0.7"), &nets).unwrap().name.as_deref(), Some("narrow"));
        assert_eq!(network_of(ip("10.2.0.7"), &nets).unwrap().name.as_deref(), Some("wide"));
        assert!(network_of(ip("8.8.8.8"), &nets).is_none());
    }

    #[test]
    fn ip_addr_output_with_and_without_prefix() {
        let local = "2: eth0: <BROADCAST>\n    inet 10.0.0.1/24 brd 10.0.0.255 scope global eth0\n    inet6 fe80::1/64 scope link\n";
        assert_eq!(parse_ip_addr(local), [ip("10.0.0.1")]);
        let nets = Network { name: None, net: "10.0.0.0".into(), mask: "255.255.255.0".into(), gateway: None };
        assert_eq!(first_in_network(&parse_ip_addr(local), &nets), Some(ip("10.0.0.1")));
    }
}
