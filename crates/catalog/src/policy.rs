//! The operator's delivery policy (`policy:` in `HERALD_CONFIG`): which hosts
//! connectors may reach, which connector types are enabled and which e-mail
//! domains may receive mail. The registry checks it when an account is saved;
//! ingest and workers check it again at send time, and workers check the
//! address of every connection they open (`allows_address`).
//!
//! Internal addresses (loopback, private, link-local and cloud metadata,
//! unique-local, unspecified, CGNAT, multicast, broadcast, and their
//! IPv4-mapped IPv6 forms) are refused unless an entry names them: the IP,
//! a CIDR holding it, or the host name that resolves to it. `*` means any
//! public host.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use serde::{Deserialize, Deserializer, Serialize};

use crate::urls::{Host, HostRef, parse_host};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    /// Hosts a connector may reach: exact names, `*.example.com`
    /// wildcards (any subdomain, not the apex), IP addresses, CIDR blocks
    /// (`10.0.0.0/8`), or `*` for every public host. An empty list allows
    /// none, as in Kibana. Read from config in normal form (see
    /// [`normalize_allowed_host`]); a bad entry is refused.
    #[serde(default = "everything", deserialize_with = "allowed_hosts")]
    pub allowed_hosts: Vec<String>,
    /// Connector type ids that may be used; `*` enables all.
    #[serde(default = "everything")]
    pub enabled_connector_types: Vec<String>,
    #[serde(default)]
    pub email: EmailPolicy,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmailPolicy {
    /// Domains e-mail may be sent to or from. Empty means no restriction.
    #[serde(default)]
    pub domain_allowlist: Vec<String>,
}

fn everything() -> Vec<String> {
    vec!["*".to_owned()]
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            allowed_hosts: everything(),
            enabled_connector_types: everything(),
            email: EmailPolicy::default(),
        }
    }
}

/// One `allowed_hosts` entry, read without allocating: the policy is
/// consulted on every request and every new connection.
enum Entry<'a> {
    /// `*`: any public host.
    Any,
    /// `*.example.com`: any subdomain (the suffix without `*.`).
    Subdomains(&'a str),
    Name(&'a str),
    Net(IpNet),
    /// Matches nothing (config loading refuses these; a policy built in
    /// code may still hold one).
    Invalid,
}

impl<'a> Entry<'a> {
    fn read(pattern: &'a str) -> Entry<'a> {
        if pattern == "*" {
            return Entry::Any;
        }
        if let Some(suffix) = pattern.strip_prefix("*.") {
            return Entry::Subdomains(suffix.strip_suffix('.').unwrap_or(suffix));
        }
        if pattern.contains('/') {
            return IpNet::parse(pattern).map_or(Entry::Invalid, Entry::Net);
        }
        let bare = pattern
            .strip_prefix('[')
            .and_then(|p| p.strip_suffix(']'))
            .unwrap_or(pattern);
        match bare.parse::<IpAddr>() {
            Ok(ip) => Entry::Net(IpNet::host(ip)),
            Err(_) => Entry::Name(pattern.strip_suffix('.').unwrap_or(pattern)),
        }
    }

    /// Whether this entry names `name` itself (not through `*`).
    fn names(&self, name: &str) -> bool {
        match self {
            Entry::Subdomains(suffix) => {
                name.len() > suffix.len() + 1 && {
                    let (prefix, tail) = name.as_bytes().split_at(name.len() - suffix.len());
                    prefix.ends_with(b".") && tail.eq_ignore_ascii_case(suffix.as_bytes())
                }
            }
            Entry::Name(entry) => entry.eq_ignore_ascii_case(name),
            _ => false,
        }
    }

    fn holds(&self, ip: IpAddr) -> bool {
        matches!(self, Entry::Net(net) if net.contains(ip))
    }
}

/// This machine's loopback, by address and by name.
pub const LOOPBACK_HOSTS: [&str; 3] = ["127.0.0.1", "::1", "localhost"];

impl Policy {
    /// This policy with [`LOOPBACK_HOSTS`] listed too, for a stack that
    /// delivers to receivers on this machine: `heraldctl up --demo`, tests
    /// and benchmarks.
    pub fn with_loopback(mut self) -> Policy {
        for host in LOOPBACK_HOSTS {
            if !self.allowed_hosts.iter().any(|h| h == host) {
                self.allowed_hosts.push(host.to_owned());
            }
        }
        self
    }

    fn entries(&self) -> impl Iterator<Item = Entry<'_>> {
        self.allowed_hosts.iter().map(|p| Entry::read(p))
    }

    /// May a connector be pointed at `host` (written alone: a `hostname`
    /// field, an SMTP server)? Normalised by [`parse_host`]; what does not
    /// parse as a host is refused.
    pub fn allows_host(&self, host: &str) -> bool {
        parse_host(host).is_some_and(|host| self.allows(host.as_ref()))
    }

    /// May a connector be pointed at `host` (a URL's, from
    /// [`crate::urls::url_host`])? A name must be listed, or be public
    /// under `*` (`localhost` and `*.localhost` are loopback by name, so
    /// `*` does not cover them); an IP must be in a listed IP or CIDR, or
    /// be public under `*`. Names are resolved later, at connect time,
    /// where [`Policy::allows_address`] checks what they resolve to.
    pub fn allows(&self, host: HostRef<'_>) -> bool {
        match host {
            HostRef::Ip(ip) => {
                self.entries().any(|e| e.holds(ip))
                    || (!is_internal(ip) && self.entries().any(|e| matches!(e, Entry::Any)))
            }
            HostRef::Name(name) => self.entries().any(|e| match e {
                Entry::Any => !is_loopback_name(name),
                other => other.names(name),
            }),
        }
    }

    /// May we open a connection to `ip`, found by resolving `name`? Public
    /// addresses may (the name itself was checked by [`Policy::allows`]);
    /// an internal one only when the policy lists that IP, a CIDR holding
    /// it, or names `name` itself (an exact or `*.` entry, not `*`).
    pub fn allows_address(&self, name: &str, ip: IpAddr) -> bool {
        if !is_internal(ip) {
            return true;
        }
        let name = name.strip_suffix('.').unwrap_or(name);
        self.entries().any(|e| e.holds(ip) || e.names(name))
    }

    /// `connector_type` is the canonical id, without the leading dot.
    pub fn type_enabled(&self, connector_type: &str) -> bool {
        self.enabled_connector_types
            .iter()
            .any(|t| t == "*" || t.trim_start_matches('.') == connector_type)
    }

    pub fn allows_email_domain(&self, domain: &str) -> bool {
        let allow = &self.email.domain_allowlist;
        allow.is_empty()
            || allow.iter().any(|d| {
                d.trim_end_matches('.')
                    .eq_ignore_ascii_case(domain.trim_end_matches('.'))
            })
    }
}

/// `allowed_hosts` as read from config: every entry in normal form, a bad
/// one refused with its index.
fn allowed_hosts<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<String>, D::Error> {
    let raw = Vec::<String>::deserialize(deserializer)?;
    raw.iter()
        .enumerate()
        .map(|(i, entry)| {
            normalize_allowed_host(entry)
                .map_err(|why| serde::de::Error::custom(format!("allowed_hosts[{i}]: {why}")))
        })
        .collect()
}

/// An `allowed_hosts` entry in the one form the matcher compares: `*`,
/// `*.suffix`, a CIDR with its host bits cleared, an IP, or a host name,
/// each as [`parse_host`] reads hosts (`LOCALHOST.` is `localhost`,
/// `[::1]` is `::1`, `0x7f.1` is `127.0.0.1`).
pub fn normalize_allowed_host(entry: &str) -> Result<String, String> {
    let entry = entry.trim();
    if entry == "*" {
        return Ok(entry.to_owned());
    }
    if entry.contains('/') {
        return IpNet::parse(entry)
            .map(|net| net.to_string())
            .ok_or_else(|| format!("{entry} is not a CIDR block such as 10.0.0.0/8 or fc00::/7"));
    }
    let (wildcard, host) = match entry.strip_prefix("*.") {
        Some(suffix) => (true, suffix),
        None => (false, entry),
    };
    match parse_host(host) {
        Some(Host::Name(name)) if wildcard => Ok(format!("*.{name}")),
        Some(Host::Name(name)) => Ok(name),
        Some(Host::Ip(ip)) if !wildcard => Ok(ip.to_string()),
        _ => Err(format!(
            "{entry} is not a host name, *.domain, IP address, CIDR block or *"
        )),
    }
}

/// `localhost` and its subdomains are loopback by definition (RFC 6761),
/// whatever a resolver says; this is what a proxy that resolves names for
/// us would do with them.
pub(crate) fn is_loopback_name(name: &str) -> bool {
    let name = name.strip_suffix('.').unwrap_or(name);
    name.eq_ignore_ascii_case("localhost")
        || (name.len() > 10
            && name.as_bytes()[name.len() - 10..].eq_ignore_ascii_case(b".localhost"))
}

/// Addresses a connector must not reach unless the policy lists them:
/// anything not on the public internet.
pub fn is_internal(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_internal_v4(v4),
        IpAddr::V6(v6) => match embedded_v4(v6) {
            Some(v4) => is_internal_v4(v4),
            None => {
                let first = v6.segments()[0];
                v6.is_unspecified()
                    || v6.is_loopback()
                    || first & 0xffc0 == 0xfe80 // link-local
                    || first & 0xffc0 == 0xfec0 // site-local (deprecated)
                    || first & 0xfe00 == 0xfc00 // unique-local
                    || first & 0xff00 == 0xff00 // multicast
            }
        },
    }
}

fn is_internal_v4(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    a == 0 // "this network", 0.0.0.0 included
        || a == 10
        || a == 127
        || (a == 100 && b & 0xc0 == 64) // CGNAT 100.64/10
        || (a == 169 && b == 254) // link-local, cloud metadata
        || (a == 172 && b & 0xf0 == 16)
        || (a == 192 && b == 168)
        || a >= 224 // multicast, reserved, broadcast
}

/// The IPv4 address inside an IPv4-mapped (`::ffff:a.b.c.d`), IPv4-compatible
/// (`::a.b.c.d`) or NAT64 (`64:ff9b::a.b.c.d`) IPv6 address: each of them
/// reaches that IPv4 address.
fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return Some(v4);
    }
    let s = ip.segments();
    let low = Ipv4Addr::from(((s[6] as u32) << 16) | s[7] as u32);
    match s[..6] {
        // `::` and `::1` are IPv6's own unspecified and loopback.
        [0, 0, 0, 0, 0, 0] if !(s[6] == 0 && s[7] <= 1) => Some(low),
        [0x64, 0xff9b, 0, 0, 0, 0] => Some(low),
        _ => None,
    }
}

/// An IP block: an address and a prefix length (a single address has the
/// full length).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct IpNet {
    addr: IpAddr,
    prefix: u8,
}

impl IpNet {
    fn host(addr: IpAddr) -> IpNet {
        let prefix = if addr.is_ipv4() { 32 } else { 128 };
        IpNet { addr, prefix }
    }

    /// `addr/prefix`; host bits are cleared.
    fn parse(text: &str) -> Option<IpNet> {
        let (addr, prefix) = text.split_once('/')?;
        let addr: IpAddr = addr.parse().ok()?;
        let prefix: u8 = prefix.parse().ok()?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        if prefix > max {
            return None;
        }
        let addr = match addr {
            IpAddr::V4(v4) => IpAddr::V4(Ipv4Addr::from(u32::from(v4) & mask32(prefix))),
            IpAddr::V6(v6) => IpAddr::V6(Ipv6Addr::from(u128::from(v6) & mask128(prefix))),
        };
        Some(IpNet { addr, prefix })
    }

    /// An IPv4-mapped IPv6 address is in an IPv4 block, and the other way
    /// round: both reach the same host.
    fn contains(&self, ip: IpAddr) -> bool {
        let ip = match (self.addr, ip) {
            (IpAddr::V4(_), IpAddr::V6(v6)) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            (IpAddr::V6(_), IpAddr::V4(v4)) => IpAddr::V6(v4.to_ipv6_mapped()),
            _ => ip,
        };
        match (self.addr, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                (u32::from(net) ^ u32::from(ip)) & mask32(self.prefix) == 0
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                (u128::from(net) ^ u128::from(ip)) & mask128(self.prefix) == 0
            }
            _ => false,
        }
    }
}

impl std::fmt::Display for IpNet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

fn mask32(prefix: u8) -> u32 {
    u32::MAX.checked_shl(32 - prefix as u32).unwrap_or(0)
}

fn mask128(prefix: u8) -> u128 {
    u128::MAX.checked_shl(128 - prefix as u32).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hosts(list: &[&str]) -> Policy {
        Policy {
            allowed_hosts: list.iter().map(|s| s.to_string()).collect(),
            ..Policy::default()
        }
    }

    #[test]
    fn host_patterns() {
        let p = hosts(&["hooks.slack.com", "*.example.com"]);
        assert!(p.allows_host("hooks.slack.com"));
        assert!(p.allows_host("HOOKS.slack.com."));
        assert!(p.allows_host("a.example.com"));
        assert!(p.allows_host("a.b.example.com"));
        assert!(!p.allows_host("example.com"));
        assert!(!p.allows_host("evilexample.com"));
        assert!(!p.allows_host("slack.com"));
        assert!(hosts(&["*"]).allows_host("anything.test"));
        assert!(!hosts(&[]).allows_host("anything.test"));
    }

    /// Every way of writing an internal address that reached one before.
    const INTERNAL_URL_HOSTS: &[&str] = &[
        "127.0.0.1",
        "[::1]",
        "[::ffff:127.0.0.1]",
        "[::ffff:7f00:1]",
        "2130706433",
        "0x7f.1",
        "0177.0.0.1",
        "127.1",
        "0.0.0.0",
        "0",
        "[::]",
        "LOCALHOST",
        "localhost.",
        "api.localhost",
        "user@127.0.0.1",
        "user:pw@[::1]",
        "169.254.169.254",
        "[fe80::1]",
        "[fd00::1]",
        "[fc00::1]",
        "10.1.2.3",
        "172.16.0.1",
        "172.31.255.255",
        "192.168.1.1",
        "100.64.0.1",
        "255.255.255.255",
        "224.0.0.1",
        "[::ffff:169.254.169.254]",
        "[::ffff:10.0.0.1]",
        "[::127.0.0.1]",
        "[64:ff9b::7f00:1]",
    ];

    fn url_allowed(p: &Policy, host: &str) -> bool {
        let url = url::Url::parse(&format!("http://{host}:8080/x")).unwrap();
        p.allows(crate::urls::url_host(&url).unwrap())
    }

    #[test]
    fn star_means_any_public_host() {
        let p = hosts(&["*"]);
        for host in INTERNAL_URL_HOSTS {
            assert!(!url_allowed(&p, host), "{host} must be refused under *");
        }
        for host in [
            "8.8.8.8",
            "[2001:4860:4860::8888]",
            "hooks.slack.com",
            "172.32.0.1",
            "100.128.0.1",
            "[::ffff:8.8.8.8]",
        ] {
            assert!(url_allowed(&p, host), "{host} is public");
        }
        for host in [
            "::1",
            "[::1]",
            "127.0.0.1",
            "LOCALHOST",
            "0x7f.1",
            "169.254.169.254",
        ] {
            assert!(!p.allows_host(host), "{host}");
        }
    }

    #[test]
    fn internal_hosts_are_allowed_when_listed() {
        let p = hosts(&["*", "127.0.0.1", "::1", "localhost", "169.254.169.254"]);
        for host in [
            "127.0.0.1",
            "2130706433",
            "0x7f.1",
            "[::1]",
            "[::ffff:127.0.0.1]",
            "LOCALHOST",
            "user@127.0.0.1",
            "169.254.169.254",
        ] {
            assert!(url_allowed(&p, host), "{host} is listed");
        }
        // Listing one address does not open its neighbours.
        for host in ["127.0.0.2", "10.0.0.1", "[fe80::1]", "api.localhost"] {
            assert!(!url_allowed(&p, host), "{host} is not listed");
        }
        assert!(p.allows_host("::1") && p.allows_host("[::1]"));
    }

    #[test]
    fn cidr_entries() {
        let p = hosts(&["10.0.0.0/8", "fd00::/8", "192.168.1.0/24"]);
        for host in [
            "10.0.0.1",
            "10.255.255.255",
            "[fd12::1]",
            "192.168.1.77",
            "[::ffff:10.1.1.1]",
        ] {
            assert!(url_allowed(&p, host), "{host}");
        }
        for host in [
            "11.0.0.1",
            "192.168.2.1",
            "[fe80::1]",
            "8.8.8.8",
            "example.com",
        ] {
            assert!(!url_allowed(&p, host), "{host}");
        }
        // Without `*`, a public address must be listed too.
        assert!(url_allowed(&hosts(&["8.8.8.0/24"]), "8.8.8.8"));
        assert!(url_allowed(&hosts(&["0.0.0.0/0"]), "127.0.0.1"));
    }

    #[test]
    fn resolved_addresses() {
        let star = hosts(&["*"]);
        let lo: IpAddr = "127.0.0.1".parse().unwrap();
        let public: IpAddr = "93.184.215.14".parse().unwrap();
        assert!(star.allows_address("example.com", public));
        // A public name resolving to loopback (rebinding, a hostile DNS).
        assert!(!star.allows_address("example.com", lo));
        assert!(!star.allows_address("localhost", lo));
        assert!(!star.allows_address("metadata.internal", "169.254.169.254".parse().unwrap()));
        assert!(!star.allows_address("x.test", "::ffff:127.0.0.1".parse().unwrap()));
        // Naming the host allows its internal resolution; so does its IP.
        assert!(hosts(&["*", "localhost"]).allows_address("localhost.", lo));
        assert!(
            hosts(&["*.corp.test"]).allows_address("db.corp.test", "10.1.1.1".parse().unwrap())
        );
        assert!(hosts(&["*", "127.0.0.0/8"]).allows_address("anything.test", lo));
        assert!(!hosts(&["*", "localhost"]).allows_address("other.test", lo));
    }

    #[test]
    fn entries_are_normalised_when_read() {
        let p: Policy = serde_json::from_value(serde_json::json!({
            "allowed_hosts": ["LocalHost.", "[::1]", "0x7f.1", "10.1.2.3/8", "*.Example.COM", "*", "Bücher.example"]
        }))
        .unwrap();
        assert_eq!(
            p.allowed_hosts,
            [
                "localhost",
                "::1",
                "127.0.0.1",
                "10.0.0.0/8",
                "*.example.com",
                "*",
                "xn--bcher-kva.example"
            ]
        );
        for bad in [
            "10.0.0.0/33",
            "a b",
            "*.10.0.0.1",
            "x/y",
            "http://example.com",
        ] {
            let error =
                serde_json::from_value::<Policy>(serde_json::json!({"allowed_hosts": ["*", bad]}))
                    .unwrap_err()
                    .to_string();
            assert!(error.contains("allowed_hosts[1]"), "{bad}: {error}");
        }
    }

    #[test]
    fn types_and_domains() {
        let mut p = Policy::default();
        assert!(p.type_enabled("email"));
        p.enabled_connector_types = vec![".slack".into(), "email".into()];
        assert!(p.type_enabled("slack") && p.type_enabled("email"));
        assert!(!p.type_enabled("webhook"));
        assert!(p.allows_email_domain("anything.test"));
        p.email.domain_allowlist = vec!["Example.com".into()];
        assert!(p.allows_email_domain("example.COM"));
        assert!(!p.allows_email_domain("other.com"));
    }
}
