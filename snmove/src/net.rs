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

/// Perl's numification of a string: its leading decimal digits (`"24abc"` is 24, `"x"` is 0).
fn perl_num(s: &str) -> u32 {
    let s = s.trim_start();
    let digits: String = s.chars().take_while(|c| c.is_ascii_digit()).collect();
    digits
        .parse()
        .unwrap_or(if digits.is_empty() { 0 } else { u32::MAX })
}

/// `inet_aton` of a dotted mask: `a.b.c.d`, `a.b.c`, `a.b`, `a` (each part decimal, octal with a
/// leading 0, or hex with 0x, the last part filling the remaining bytes).
fn inet_aton(s: &str) -> Option<u32> {
    let parts: Vec<&str> = s.split('.').collect();
    if parts.is_empty() || parts.len() > 4 {
        return None;
    }
    let mut nums = Vec::with_capacity(parts.len());
    for p in &parts {
        let v = if let Some(h) = p.strip_prefix("0x").or_else(|| p.strip_prefix("0X")) {
            u64::from_str_radix(h, 16).ok()?
        } else if p.len() > 1 && p.starts_with('0') {
            u64::from_str_radix(&p[1..], 8).ok()?
        } else {
            p.parse::<u64>().ok()?
        };
        nums.push(v);
    }
    let (last, head) = nums.split_last()?;
    let mut v: u64 = 0;
    for (i, h) in head.iter().enumerate() {
        if *h > 255 {
            return None;
        }
        v |= h << (24 - 8 * i);
    }
    let room = 32 - 8 * head.len() as u32;
    if room < 64 && *last >= (1u64 << room) {
        return None;
    }
    Some((v | last) as u32)
}

/// Whether `ip` lies in `net`/`mask`, as xCAT's `ishostinsubnet` decides it: `net` may carry
/// a CIDR suffix (which then replaces `mask`); `mask` may be `/len`, hex (`0xffff0000`) or
/// dotted (read by `inet_aton`, so a bare number is an address, not a length); the masks are
/// applied bit by bit. IPv4 and IPv6 never match each other; IPv6 takes prefix lengths.
///
/// ```
/// use snmove::net::in_subnet;
/// let ip = "10.1.2.3".parse().unwrap();
/// assert!(in_subnet(ip, "10.1.0.0", "255.255.0.0"));
/// assert!(in_subnet(ip, "10.1.0.0/16", ""));
/// assert!(in_subnet(ip, "10.1.2.0", "/24"));
/// assert!(in_subnet(ip, "10.1.0.0", "0xffff0000"));
/// assert!(!in_subnet(ip, "10.2.0.0", "255.255.0.0"));
/// ```
pub fn in_subnet(ip: IpAddr, net: &str, mask: &str) -> bool {
    // 0: dotted, 1: prefix length, 2: hex.
    let (net, mask, kind) = match net.split_once('/') {
        Some((n, m)) => (n, m, 1),
        None => match mask.strip_prefix('/') {
            Some(m) => (net, m, 1),
            None if mask.contains('/') => (net, mask, 1),
            None if mask.get(..2).is_some_and(|p| p.eq_ignore_ascii_case("0x")) => (net, mask, 2),
            None => (net, mask, 0),
        },
    };
    let Ok(net) = net.trim().parse::<IpAddr>() else {
        return false;
    };
    match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(n)) => {
            let m: u32 = match kind {
                1 => {
                    let len = perl_num(mask).min(32);
                    if len == 0 {
                        0
                    } else {
                        u32::MAX << (32 - len)
                    }
                }
                2 => {
                    let h: String = mask[2..]
                        .chars()
                        .take_while(|c| c.is_ascii_hexdigit())
                        .collect();
                    u64::from_str_radix(&h, 16).map(|v| v as u32).unwrap_or(0)
                }
                _ => match inet_aton(mask.trim()) {
                    Some(m) => m,
                    // xCAT would AND with an undefined (zero) mask and match everything; a
                    // mask nobody can read matches nothing here.
                    None => return false,
                },
            };
            (u32::from(a) & m) == (u32::from(n) & m)
        }
        (IpAddr::V6(a), IpAddr::V6(n)) => {
            let len = if kind == 1 || mask.chars().all(|c| c.is_ascii_digit()) {
                perl_num(mask).min(128)
            } else {
                return false;
            };
            let m: u128 = if len == 0 {
                0
            } else {
                u128::MAX << (128 - len)
            };
            (u128::from(a) & m) == (u128::from(n) & m)
        }
        _ => false,
    }
}

/// The network of a node address: among the networks containing `ip`, the **last** one, as
/// xCAT's loop leaves it (spec quirk; rows are in table order).
pub fn network_of(ip: IpAddr, networks: &[Network]) -> Option<&Network> {
    networks
        .iter()
        .rev()
        .find(|n| in_subnet(ip, &n.net, &n.mask))
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
            Some((host, rest))
                if !host.contains(char::is_whitespace) && rest.trim_start().starts_with("inet") =>
            {
                rest
            }
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
            ("172.20.0.0", "0xffff0000"),
            ("172.20.0.0/16", "255.255.255.255"),
            ("0.0.0.0", "0.0.0.0"),
            ("172.20.7.9", "255.255.0.255"),
        ] {
            assert!(in_subnet(a, net, mask), "{net} {mask}");
        }
        for (net, mask) in [
            ("172.21.0.0", "255.255.0.0"),
            ("172.20.0.0", "garbage"),
            ("x", "/8"),
            ("172.20.0.0", "/33"),
        ] {
            assert!(!in_subnet(a, net, mask), "{net} {mask}");
        }
        assert_eq!(
            inet_aton("16"),
            Some(16),
            "a bare number is an address for inet_aton"
        );
        assert!(
            !in_subnet(ip("172.20.5.16"), "172.20.0.0", "16"),
            "so mask 16 tests one bit"
        );
        assert_eq!(inet_aton("255.255.0"), Some(0xffff_0000));
        assert_eq!(inet_aton("255.256.0.0"), None);
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
            Network {
                name: Some("wide".into()),
                net: "10.0.0.0".into(),
                mask: "255.0.0.0".into(),
                gateway: None,
            },
            Network {
                name: Some("narrow".into()),
                net: "10.1.0.0".into(),
                mask: "255.255.0.0".into(),
                gateway: Some("<xcatmaster>".into()),
            },
            Network {
                name: Some("other".into()),
                net: "192.168.0.0".into(),
                mask: "255.255.0.0".into(),
                gateway: None,
            },
        ];
        assert_eq!(
            network_of(ip("10.1.0.7"), &nets).unwrap().name.as_deref(),
            Some("narrow")
        );
        assert_eq!(
            network_of(ip("10.2.0.7"), &nets).unwrap().name.as_deref(),
            Some("wide")
        );
        assert!(network_of(ip("8.8.8.8"), &nets).is_none());
    }

    #[test]
    fn ip_addr_output_with_and_without_prefix() {
        let local = "2: eth0: <BROADCAST>\n    inet 10.0.0.1/24 brd 10.0.0.255 scope global eth0\n    inet6 fe80::1/64 scope link\n";
        assert_eq!(parse_ip_addr(local), [ip("10.0.0.1")]);
        let nets = Network {
            name: None,
            net: "10.0.0.0".into(),
            mask: "255.255.255.0".into(),
            gateway: None,
        };
        assert_eq!(
            first_in_network(&parse_ip_addr(local), &nets),
            Some(ip("10.0.0.1"))
        );
    }
}
