//! URL parsing, remembered per thread. One delivery reads its account's URL
//! several times (the connector checks the field, the policy checks the
//! host, the outbound client sends to it), and a parse with IDNA host
//! processing costs thousands of instructions: measured with callgrind, a
//! tenth of the pipeline's work was parsing the same few URLs again.
//!
//! Also the one way hosts are normalised for the egress policy, on save, on
//! send and on every redirect: `parse_host` for a host written alone,
//! `url_host` for the host of a parsed URL. Both go through the `url`
//! crate's host parser, so `LOCALHOST.`, `[::1]` and `::1`, `2130706433`
//! and `0x7f.1` each come out as one value.

use std::cell::RefCell;
use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr};

use url::{ParseError, Url};

/// A host as the egress policy sees it: a DNS name (lower case, IDNA
/// ASCII, no trailing dot) or an IP address (IPv6 without brackets).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HostRef<'a> {
    Name(&'a str),
    Ip(IpAddr),
}

/// [`HostRef`] owning its name, for hosts written alone (a `hostname`
/// field, an SMTP server, a policy entry).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Host {
    Name(String),
    Ip(IpAddr),
}

impl Host {
    pub fn as_ref(&self) -> HostRef<'_> {
        match self {
            Host::Name(name) => HostRef::Name(name),
            Host::Ip(ip) => HostRef::Ip(*ip),
        }
    }
}

impl HostRef<'_> {
    /// Loopback, private, link-local, ... (`policy::is_internal`), or
    /// `localhost` by name: what `*` does not cover.
    pub fn is_internal(self) -> bool {
        match self {
            HostRef::Ip(ip) => crate::policy::is_internal(ip),
            HostRef::Name(name) => crate::policy::is_loopback_name(name),
        }
    }
}

impl std::fmt::Display for HostRef<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HostRef::Name(name) => f.write_str(name),
            HostRef::Ip(ip) => write!(f, "{ip}"),
        }
    }
}

impl std::fmt::Display for Host {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.as_ref().fmt(f)
    }
}

/// The host of a parsed URL. The URL parser has already lower-cased and
/// IDNA-encoded names and read every IPv4 form (`2130706433`, `0x7f.1`)
/// as an address; userinfo (`user@`) is not part of the host. Only a
/// trailing dot is left to drop.
pub fn url_host(url: &Url) -> Option<HostRef<'_>> {
    match url.host()? {
        url::Host::Domain(name) => {
            let name = name.strip_suffix('.').unwrap_or(name);
            (!name.is_empty()).then_some(HostRef::Name(name))
        }
        url::Host::Ipv4(ip) => Some(HostRef::Ip(IpAddr::V4(ip))),
        url::Host::Ipv6(ip) => Some(HostRef::Ip(IpAddr::V6(ip))),
    }
}

/// A host written alone, read the way a URL's host is (so `LOCALHOST.`
/// and `localhost`, `[::1]` and `::1`, `0x7f.1` and `127.0.0.1` are the
/// same host). `None` for what no URL could hold as its host.
pub fn parse_host(text: &str) -> Option<Host> {
    let text = text.trim();
    // The URL host parser wants IPv6 in brackets; a bare one is common in
    // a hostname field.
    if let Ok(ip) = text.parse::<Ipv6Addr>() {
        return Some(Host::Ip(IpAddr::V6(ip)));
    }
    if text.is_empty() || text.contains(['/', '?', '#', '@', '\\']) {
        return None;
    }
    match url::Host::parse(text).ok()? {
        url::Host::Domain(name) => {
            let name = name.strip_suffix('.').unwrap_or(&name);
            (!name.is_empty()).then(|| Host::Name(name.to_owned()))
        }
        url::Host::Ipv4(ip) => Some(Host::Ip(IpAddr::V4(ip))),
        url::Host::Ipv6(ip) => Some(Host::Ip(IpAddr::V6(ip))),
    }
}

/// Distinct URLs remembered per thread; the map starts over when full.
const CAPACITY: usize = 1024;
/// Longer texts are parsed every time, so the memory stays small.
const MAX_LEN: usize = 2048;

thread_local! {
    static PARSED: RefCell<HashMap<String, Result<Url, ParseError>>> =
        RefCell::new(HashMap::new());
}

/// `Url::parse(text)`, answered from this thread's memory when `text` was
/// parsed before.
pub fn parse(text: &str) -> Result<Url, ParseError> {
    if text.len() > MAX_LEN {
        return Url::parse(text);
    }
    PARSED.with_borrow_mut(|parsed| {
        if let Some(known) = parsed.get(text) {
            return known.clone();
        }
        let url = Url::parse(text);
        if parsed.len() >= CAPACITY {
            parsed.clear();
        }
        parsed.insert(text.to_owned(), url.clone());
        url
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_as_url_parse_does_on_first_and_later_calls() {
        for text in [
            "https://Hooks.Example.com:443/services/a?b=c#d",
            "http://127.0.0.1:8080/x",
            "https://bücher.example/",
            "not a url",
            "http://[::1",
        ] {
            for _ in 0..2 {
                assert_eq!(parse(text), Url::parse(text), "{text}");
            }
        }
        let long = format!("https://example.com/{}", "a".repeat(MAX_LEN));
        assert_eq!(parse(&long), Url::parse(&long));
    }

    #[test]
    fn every_form_of_a_host_normalises_to_one() {
        let loopback = Some(Host::Ip("127.0.0.1".parse().unwrap()));
        for text in [
            "127.0.0.1",
            "2130706433",
            "0x7f.1",
            "0x7f000001",
            "127.1",
            "0177.0.0.1",
            "127.0.0.1.",
        ] {
            assert_eq!(parse_host(text), loopback, "{text}");
            let url = Url::parse(&format!("http://{text}/x")).unwrap();
            assert_eq!(
                url_host(&url),
                loopback.as_ref().map(Host::as_ref),
                "{text}"
            );
        }
        let url = Url::parse("http://user:pw@127.0.0.1:8080/x").unwrap();
        assert_eq!(url_host(&url), loopback.as_ref().map(Host::as_ref));
        let v6 = Some(Host::Ip("::1".parse().unwrap()));
        assert_eq!(parse_host("::1"), v6);
        assert_eq!(parse_host("[::1]"), v6);
        assert_eq!(parse_host("[0:0:0:0:0:0:0:1]"), v6);
        let url = Url::parse("http://[::1]:9/").unwrap();
        assert_eq!(url_host(&url), v6.as_ref().map(Host::as_ref));
        let mapped = Url::parse("http://[::ffff:127.0.0.1]/").unwrap();
        assert_eq!(
            url_host(&mapped),
            Some(HostRef::Ip("::ffff:7f00:1".parse().unwrap()))
        );
        let name = Some(Host::Name("localhost".into()));
        assert_eq!(parse_host("LOCALHOST"), name);
        assert_eq!(parse_host("localhost."), name);
        let url = Url::parse("http://LocalHost./").unwrap();
        assert_eq!(url_host(&url), Some(HostRef::Name("localhost")));
        assert_eq!(
            parse_host("Bücher.example"),
            Some(Host::Name("xn--bcher-kva.example".into()))
        );
        for bad in ["", "a b", "user@host", "host/path", "[::1", "."] {
            assert_eq!(parse_host(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn starts_over_when_full() {
        for i in 0..CAPACITY + 10 {
            let text = format!("https://h{i}.example.com/");
            assert_eq!(
                parse(&text).unwrap().host_str(),
                Some(&text[8..text.len() - 1])
            );
        }
        assert!(PARSED.with_borrow(|p| p.len()) <= CAPACITY);
    }
}
