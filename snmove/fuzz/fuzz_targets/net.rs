//! Service-node `ip addr` output and networks-table masks: any text, no panic.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let ips = snmove::net::parse_ip_addr(&text);
    let mut parts = text.splitn(3, '\n');
    let (net, mask) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    for ip in ips.iter().take(8) {
        let _ = snmove::net::in_subnet(*ip, net, mask);
    }
    let _ = snmove::net::in_subnet("10.1.2.3".parse().unwrap(), net, mask);
    let _ = snmove::net::in_subnet("fd00::1".parse().unwrap(), net, mask);
});
