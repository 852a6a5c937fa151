//! Names to addresses, the way a cluster's own tables answer first: the `hosts` table (`ip`,
//! with computed values, then `otherinterfaces`), then the system resolver. Every answer says
//! which source gave it, for `-V`.

use std::collections::HashMap;
use std::net::{IpAddr, ToSocketAddrs};
use std::sync::{Mutex, OnceLock};

use xcattab::resolve::Resolver;

/// Which source answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// The name was an address already.
    Literal,
    /// `hosts.ip` of the name (possibly inherited from a group or computed).
    HostsIp,
    /// An `otherinterfaces` entry of `owner`'s hosts row.
    HostsOtherInterfaces {
        /// The node whose row listed the name.
        owner: String,
    },
    /// The system resolver (/etc/hosts, DNS, …).
    System,
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Source::Literal => f.write_str("literal address"),
            Source::HostsIp => f.write_str("hosts.ip"),
            Source::HostsOtherInterfaces { owner } => write!(f, "hosts.otherinterfaces of {owner}"),
            Source::System => f.write_str("system resolver"),
        }
    }
}

/// An address and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Address {
    /// The address.
    pub ip: IpAddr,
    /// Its source.
    pub source: Source,
}

/// The system resolver, replaceable in tests.
pub trait SystemResolver: Send + Sync {
    /// The addresses of `name`, IPv4 first.
    fn lookup(&self, name: &str) -> Vec<IpAddr>;
}

/// `getaddrinfo` through the standard library.
#[derive(Debug, Default, Clone, Copy)]
pub struct Getaddrinfo;

impl SystemResolver for Getaddrinfo {
    fn lookup(&self, name: &str) -> Vec<IpAddr> {
        let mut v: Vec<IpAddr> = match (name, 0u16).to_socket_addrs() {
            Ok(it) => it.map(|a| a.ip()).collect(),
            Err(_) => Vec::new(),
        };
        v.sort_by_key(|ip| ip.is_ipv6());
        v.dedup();
        v
    }
}

/// A resolver that knows nothing (tables only).
#[derive(Debug, Default, Clone, Copy)]
pub struct NoSystem;

impl SystemResolver for NoSystem {
    fn lookup(&self, _name: &str) -> Vec<IpAddr> {
        Vec::new()
    }
}

/// Parses `otherinterfaces`: `-suffix:ip` (the owner's name plus suffix) and `name:ip`, comma
/// separated. Malformed items are skipped.
///
/// ```
/// let v = snmove::addr::parse_other_interfaces("sn1", "-ib0:10.5.0.1,sn1-c:10.2.0.1,junk");
/// assert_eq!(v, [("sn1-ib0".to_string(), "10.5.0.1".parse().unwrap()), ("sn1-c".to_string(), "10.2.0.1".parse().unwrap())]);
/// ```
pub fn parse_other_interfaces(owner: &str, value: &str) -> Vec<(String, IpAddr)> {
    value
        .split(',')
        .filter_map(|item| {
            let (name, ip) = item
                .trim()
                .rsplit_once(':')
                .filter(|(n, _)| !n.is_empty())?;
            // An IPv6 address contains ':' itself: retry with the first ':' as separator.
            let (name, ip) = match ip.parse::<IpAddr>() {
                Ok(ip) => (name, ip),
                Err(_) => {
                    let (n, i) = item.trim().split_once(':')?;
                    (n, i.parse().ok()?)
                }
            };
            let name = match name.strip_prefix('-') {
                Some(suffix) => format!("{owner}-{suffix}"),
                None => name.to_string(),
            };
            Some((name, ip))
        })
        .collect()
}

/// Resolves names through the tables first, then the system; caches answers.
pub struct AddressBook<'r, 'db> {
    tables: &'r Resolver<'db>,
    system: &'r dyn SystemResolver,
    other: OnceLock<HashMap<String, (IpAddr, String)>>,
    cache: Mutex<HashMap<String, Option<Address>>>,
}

impl<'r, 'db> AddressBook<'r, 'db> {
    /// Over a table snapshot (which should include `hosts` and `nodelist`).
    pub fn new(tables: &'r Resolver<'db>, system: &'r dyn SystemResolver) -> Self {
        AddressBook {
            tables,
            system,
            other: OnceLock::new(),
            cache: Mutex::new(HashMap::new()),
        }
    }

    fn other_index(&self) -> &HashMap<String, (IpAddr, String)> {
        self.other.get_or_init(|| {
            let mut m = HashMap::new();
            let Some(hosts) = self.tables.database().table("hosts") else {
                return m;
            };
            let Some(col) = hosts.column_index("otherinterfaces") else {
                return m;
            };
            if hosts
                .rows()
                .iter()
                .all(|r| r[col].as_deref().unwrap_or("").is_empty())
            {
                return m;
            }
            for node in self.tables.nodes() {
                if let Ok(Some(v)) = self.tables.attr(node, "hosts", "otherinterfaces") {
                    for (name, ip) in parse_other_interfaces(node, &v) {
                        m.entry(name).or_insert((ip, node.to_string()));
                    }
                }
            }
            m
        })
    }

    /// The `otherinterfaces` entries of `host`'s hosts row (name, address).
    pub fn other_interfaces_of(&self, host: &str) -> Vec<(String, IpAddr)> {
        if self.tables.database().table("hosts").is_none() {
            return Vec::new();
        }
        match self.tables.attr(host, "hosts", "otherinterfaces") {
            Ok(Some(v)) => parse_other_interfaces(host, &v),
            _ => Vec::new(),
        }
    }

    /// The address of `name`, or `None` if no source knows it.
    pub fn lookup(&self, name: &str) -> Option<Address> {
        if let Ok(ip) = name.parse::<IpAddr>() {
            return Some(Address {
                ip,
                source: Source::Literal,
            });
        }
        // The hosts table answers most names directly (no cache needed: it is indexed).
        if let Some(ip) = self.hosts_ip(name) {
            return Some(Address {
                ip,
                source: Source::HostsIp,
            });
        }
        if let Some(hit) = self.cache.lock().ok().and_then(|c| c.get(name).cloned()) {
            return hit;
        }
        let found = self.lookup_uncached(name);
        if let Ok(mut c) = self.cache.lock() {
            c.insert(name.to_string(), found.clone());
        }
        found
    }

    fn hosts_ip(&self, name: &str) -> Option<IpAddr> {
        self.tables.database().table("hosts")?;
        match self.tables.attr(name, "hosts", "ip") {
            Ok(Some(v)) => v.trim().parse::<IpAddr>().ok(),
            _ => None,
        }
    }

    fn lookup_uncached(&self, name: &str) -> Option<Address> {
        if self.tables.database().table("hosts").is_some() {
            if let Some((ip, owner)) = self.other_index().get(name) {
                return Some(Address {
                    ip: *ip,
                    source: Source::HostsOtherInterfaces {
                        owner: owner.clone(),
                    },
                });
            }
        }
        self.system
            .lookup(name)
            .into_iter()
            .next()
            .map(|ip| Address {
                ip,
                source: Source::System,
            })
    }
}

impl std::fmt::Debug for AddressBook<'_, '_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AddressBook").finish_non_exhaustive()
    }
}
