//! The one outbound HTTP client of a worker: every connector request goes
//! through `Outbound::send`, which enforces the operator's host policy (on
//! the request, on every redirect, and on the address of every connection
//! through `resolver`), the response timeout and size cap, and the
//! account's TLS and proxy options (`account_client`). Connectors only
//! build requests and classify responses (`crate::delivery::outcome`).
//!
//! Redirects are followed here, not by reqwest, so that a hop to another
//! origin carries none of the account's headers (API keys, tokens, the
//! webhook's secret headers) and never the request body: a cross-origin
//! 307 or 308, which would re-send the body, is not followed at all.
//!
//! Errors name the host at most: URLs carry credentials (a Slack webhook URL
//! is the secret), so no URL, header value or body reaches an error or a log.

mod account_client;
mod errors;
mod resolver;
#[cfg(test)]
mod tests;

use std::sync::Arc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use herald_catalog::Policy;
use herald_proto::v1::ErrorKind;
use url::Url;

use crate::delivery::connector::Account;
use crate::delivery::outcome::{HttpRequest, HttpResponse, Outcome};

pub use account_client::Verification;
use account_client::{AccountClients, Tls};
use resolver::PolicyResolver;
pub use resolver::{InternalAddress, LookupError, lookup_allowed};

/// Redirect hops followed before giving up (reqwest's and browsers' default).
const MAX_REDIRECTS: usize = 10;

/// Kibana's `xpack.actions` outbound settings that apply to every account.
#[derive(Debug, Clone)]
pub struct OutboundSettings {
    /// TCP (and proxy) connect timeout.
    pub connect_timeout: Duration,
    /// The whole exchange, from connecting to the last body byte
    /// (Kibana's `responseTimeout`).
    pub response_timeout: Duration,
    /// Larger response bodies fail the send (Kibana's
    /// `maxResponseContentLength`).
    pub max_response_bytes: usize,
    /// Proxy for every account without its own `config.proxyUrl`:
    /// `http://`, `https://` or `socks5h://`. `None` connects directly; the
    /// `HTTP_PROXY` family of environment variables is ignored on purpose, so
    /// that what the config says is what happens.
    pub proxy: Option<String>,
    /// Hosts reached without `proxy` (Kibana's `proxyBypassHosts`).
    pub proxy_bypass_hosts: Vec<String>,
    /// When not empty, only these hosts go through `proxy` (Kibana's
    /// `proxyOnlyHosts`).
    pub proxy_only_hosts: Vec<String>,
    /// Sent to `proxy` only (Kibana's `proxyHeaders`).
    pub proxy_headers: Vec<(String, String)>,
    pub user_agent: String,
    /// The link of an e-mail footer when the account sets none (Kibana's
    /// `server.publicBaseUrl`).
    pub public_base_url: Option<String>,
    /// How every TLS connection without an account `verificationMode` is
    /// checked (Kibana's `ssl.verificationMode`).
    pub verification: Verification,
    /// How the certificate of an `https://` `proxy` is checked (Kibana's
    /// `ssl.proxyVerificationMode`); `None` checks it as `verification`.
    pub proxy_verification: Option<Verification>,
    /// Settings for one origin (Kibana's `customHostSettings`), first
    /// match wins; they override the ones above for that origin.
    pub custom_hosts: Vec<CustomHost>,
}

/// Kibana's `customHostSettings` entry, as the workers apply it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomHost {
    /// `https` or `smtp` (`http` entries have nothing to apply).
    pub scheme: String,
    /// Lower case, no brackets around IPv6.
    pub host: String,
    pub port: u16,
    pub verification: Option<Verification>,
    /// PEM certificates trusted for this host besides the system's.
    pub certificate_authorities: Vec<String>,
    pub smtp_require_tls: Option<bool>,
    pub smtp_ignore_tls: Option<bool>,
}

impl OutboundSettings {
    /// The entry for `scheme://host:port` and its index, if one names it.
    pub fn custom_host(&self, scheme: &str, host: &str, port: u16) -> Option<(usize, &CustomHost)> {
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let host = host.trim_end_matches('.');
        self.custom_hosts.iter().enumerate().find(|(_, custom)| {
            custom.scheme.eq_ignore_ascii_case(scheme)
                && custom.host.eq_ignore_ascii_case(host)
                && custom.port == port
        })
    }

    /// The proxy's host and the mode its certificate is checked in, when
    /// the proxy is `https://` and that mode differs from the vendors'.
    fn proxy_tls(&self, host: &str) -> Option<(String, Verification)> {
        let proxy = self.proxy.as_deref()?;
        let mode = self.proxy_verification?;
        proxy
            .get(..8)
            .is_some_and(|s| s.eq_ignore_ascii_case("https://"))
            .then(|| (host.to_owned(), mode))
    }
}

impl Default for OutboundSettings {
    fn default() -> Self {
        OutboundSettings {
            connect_timeout: Duration::from_secs(10),
            response_timeout: Duration::from_secs(60),
            max_response_bytes: 1024 * 1024,
            proxy: None,
            proxy_bypass_hosts: Vec::new(),
            proxy_only_hosts: Vec::new(),
            proxy_headers: Vec::new(),
            user_agent: concat!("herald/", env!("CARGO_PKG_VERSION")).to_owned(),
            public_base_url: None,
            verification: Verification::Full,
            proxy_verification: None,
            custom_hosts: Vec::new(),
        }
    }
}

/// The settings cannot make a client. Names no proxy URL: it may hold
/// credentials.
#[derive(Debug, thiserror::Error)]
pub enum OutboundError {
    #[error("outbound proxy: {0}")]
    Proxy(String),
    #[error("outbound HTTP client: {0}")]
    Client(String),
}

/// Why a request got no response. Display never shows a URL, a header value
/// or a body.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// The request's host, or a redirect's, is not in `policy.allowed_hosts`
    /// (an internal address must be listed explicitly: `*` covers public
    /// hosts only).
    #[error(
        "host {host} is not in the allowed hosts of the policy{}",
        internal_hint(host)
    )]
    Policy { host: String },
    /// Every address the host resolves to is internal and not listed.
    #[error("{0}")]
    InternalAddress(InternalAddress),
    /// A 307 or 308 to another origin would re-send the request body there.
    #[error(
        "the answer {status} redirects to another origin (host {host}); the request body is not sent there"
    )]
    CrossOriginRedirect { status: u16, host: String },
    /// No complete response within `response_timeout`.
    #[error("no complete response within the response timeout")]
    Timeout,
    /// Connecting, or the connection failing mid-exchange (DNS, refused,
    /// reset, proxy failure, too many redirects).
    #[error("network error: {0}")]
    Connect(String),
    /// The TLS handshake failed, or the account's TLS material is unusable.
    #[error("TLS: {0}")]
    Tls(String),
    /// The response body was larger than `max_response_bytes`.
    #[error("the response body is larger than {limit} bytes")]
    TooLarge { limit: usize },
    /// The connector built a request that cannot be sent (bad URL, header).
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    /// The account's network settings cannot be used (`config.proxyUrl`).
    #[error("invalid account setting: {0}")]
    InvalidConfig(String),
}

impl SendError {
    /// How a delivery attempt that got this error ends.
    ///
    /// `TooLarge` is permanent: the vendor answered, so it has probably
    /// acted on the request already, and trying again would notify twice; an
    /// answer we cannot read will not shrink either.
    pub fn outcome(&self) -> Outcome {
        let reason = self.to_string();
        match self {
            SendError::Policy { .. }
            | SendError::InternalAddress(_)
            | SendError::CrossOriginRedirect { .. } => {
                Outcome::permanent(ErrorKind::Policy, reason)
            }
            SendError::Timeout | SendError::Connect(_) => {
                Outcome::retry(ErrorKind::Network, reason)
            }
            // A certificate problem will not fix itself.
            SendError::Tls(_) | SendError::InvalidConfig(_) => {
                Outcome::permanent(ErrorKind::InvalidConfig, reason)
            }
            SendError::TooLarge { .. } => Outcome::permanent(ErrorKind::VendorRejected, reason),
            SendError::InvalidRequest(_) => Outcome::permanent(ErrorKind::InvalidParams, reason),
        }
    }
}

/// The worker's HTTP client. Cloning is cheap: clones share the connection
/// pools.
#[derive(Clone)]
pub struct Outbound {
    inner: Arc<Inner>,
}

struct Inner {
    settings: OutboundSettings,
    policy: Arc<Policy>,
    /// The operator's proxy and its host, which the resolver trusts.
    global_proxy: Option<(reqwest::Proxy, String)>,
    /// For accounts without TLS or proxy options: nearly all of them, so
    /// they all share its connection pool.
    shared: reqwest::Client,
    /// The same for each `https` entry of `custom_hosts` (by index):
    /// requests to that origin from accounts without options of their own.
    host_clients: Vec<Option<reqwest::Client>>,
    accounts: AccountClients,
}

impl Outbound {
    pub fn new(settings: OutboundSettings, policy: Policy) -> Result<Outbound, OutboundError> {
        let policy = Arc::new(policy);
        let global_proxy = match &settings.proxy {
            Some(proxy) => Some(global_proxy(proxy, &settings).map_err(OutboundError::Proxy)?),
            None => None,
        };
        let proxy_tls = global_proxy
            .as_ref()
            .and_then(|(_, host)| settings.proxy_tls(host));
        let shared_client = |tls: Tls| -> Result<reqwest::Client, SendError> {
            let mut builder = client_builder(&settings);
            if let Some((proxy, _)) = &global_proxy {
                builder = builder.proxy(proxy.clone());
            }
            builder = account_client::apply_tls(builder, tls, proxy_tls.as_ref())?;
            builder
                .dns_resolver(Arc::new(PolicyResolver {
                    policy: Arc::clone(&policy),
                    trusted: global_proxy.as_ref().map(|(_, host)| host.clone()),
                }))
                .build()
                .map_err(|e| SendError::Tls(errors::describe(&e.without_url())))
        };
        let shared = shared_client(Tls::new(settings.verification))
            .map_err(|e| OutboundError::Client(e.to_string()))?;
        let mut host_clients = Vec::with_capacity(settings.custom_hosts.len());
        for (index, custom) in settings.custom_hosts.iter().enumerate() {
            if !custom.scheme.eq_ignore_ascii_case("https") {
                host_clients.push(None);
                continue;
            }
            let mut tls = Tls::new(custom.verification.unwrap_or(settings.verification));
            tls.add_host_cas(custom);
            let client = shared_client(tls)
                .map_err(|e| OutboundError::Client(format!("custom_hosts[{index}]: {e}")))?;
            host_clients.push(Some(client));
        }
        Ok(Outbound {
            inner: Arc::new(Inner {
                settings,
                policy,
                global_proxy,
                shared,
                host_clients,
                accounts: AccountClients::default(),
            }),
        })
    }

    pub fn settings(&self) -> &OutboundSettings {
        &self.inner.settings
    }

    /// The operator's policy, for what connectors check beyond hosts (the
    /// e-mail domain allowlist at send time).
    pub fn policy(&self) -> &Policy {
        &self.inner.policy
    }

    /// Sends one request for `account` and reads the response, its body
    /// capped at `max_response_bytes`. Any status is a response; the
    /// connector classifies it. The account's `config.ca`,
    /// `config.verificationMode`, `config.proxyUrl`, `secrets.crt` and
    /// `secrets.key` choose the TLS and proxy options.
    pub async fn send(
        &self,
        account: &Account,
        request: HttpRequest,
    ) -> Result<HttpResponse, SendError> {
        let inner = &*self.inner;
        let url = herald_catalog::urls::parse(&request.url)
            .map_err(|e| SendError::InvalidRequest(format!("the URL cannot be parsed ({e})")))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(SendError::InvalidRequest(format!(
                "the URL scheme {} is not http or https",
                url.scheme()
            )));
        }
        let host = checked_host(&inner.policy, &url)?;
        // The operator's settings for this origin, if any: chosen per
        // request, since one account reaches several hosts (a token
        // endpoint and an API).
        let custom = match url.scheme() {
            "https" => url
                .port_or_known_default()
                .and_then(|port| inner.settings.custom_host("https", &host, port)),
            _ => None,
        };
        let inherited = custom
            .and_then(|(_, custom)| custom.verification)
            .unwrap_or(inner.settings.verification);
        let client = match (account_client::options_of(account, inherited), custom) {
            (None, None) => inner.shared.clone(),
            (None, Some((index, _))) => inner.host_clients[index]
                .clone()
                .unwrap_or_else(|| inner.shared.clone()),
            (Some(options), custom) => inner.accounts.get_or_build(
                account,
                options,
                custom,
                || client_builder(&inner.settings),
                &inner.policy,
                inner.global_proxy.as_ref(),
                inner.proxy_tls(),
            )?,
        };

        let hop = Hop {
            method: request.method,
            url,
            headers: outgoing_headers(&request.headers)?,
            body: request.body.map(Bytes::from),
        };
        let limit = inner.settings.max_response_bytes;
        let exchange = async {
            let response = follow(&client, &inner.policy, &request.headers, hop).await?;
            read_capped(response, limit).await
        };
        let result = match tokio::time::timeout(inner.settings.response_timeout, exchange).await {
            Ok(result) => result,
            Err(_elapsed) => Err(SendError::Timeout),
        };
        match &result {
            Ok(response) => tracing::debug!(%host, status = response.status, "outbound response"),
            Err(error) => tracing::debug!(%host, %error, "outbound request failed"),
        }
        result
    }
}

impl Inner {
    fn proxy_tls(&self) -> Option<(String, Verification)> {
        let (_, host) = self.global_proxy.as_ref()?;
        self.settings.proxy_tls(host)
    }
}

/// Why a listed-looking host is refused: `*` does not cover it.
fn internal_hint(host: &str) -> &'static str {
    let internal = herald_catalog::urls::parse_host(host).is_some_and(|h| h.as_ref().is_internal());
    if internal {
        " (an internal address: * covers public hosts only, so it must be listed explicitly)"
    } else {
        ""
    }
}

/// One request of a chain of redirects.
struct Hop {
    method: http::Method,
    url: Url,
    headers: http::HeaderMap,
    body: Option<Bytes>,
}

/// Headers that may follow a redirect to another origin: none of them
/// came from the account. Everything else a connector set (authorization,
/// API keys, the webhook's `headers` and `secretHeaders`) stays behind.
const CROSS_ORIGIN_HEADERS: &[&str] = &["accept", "traceparent", "tracestate"];

/// Sends `hop` and follows redirects (at most `MAX_REDIRECTS`), checking
/// each target against the policy. A hop to the same origin is sent as a
/// browser would (301/302 after POST and 303 become a GET without body;
/// 307/308 keep method and body). Once a hop leaves the first origin, the
/// connector's headers are dropped for the rest of the chain, and a
/// 307/308 that would carry the body there is refused.
///
/// Nearly every request gets its answer at once, so nothing is copied for
/// a redirect that does not come: the headers are made again from the
/// connector's `source` list, and the URL read back from the response.
async fn follow(
    client: &reqwest::Client,
    policy: &Policy,
    source: &[(String, String)],
    mut hop: Hop,
) -> Result<reqwest::Response, SendError> {
    let mut first: Option<Url> = None;
    let mut credentials = true;
    for redirects in 0.. {
        let mut builder = client
            .request(hop.method.clone(), hop.url)
            .headers(std::mem::take(&mut hop.headers));
        if let Some(body) = &hop.body {
            builder = builder.body(body.clone());
        }
        let response = builder.send().await.map_err(errors::from_reqwest)?;
        let status = response.status().as_u16();
        let location = match status {
            301 | 302 | 303 | 307 | 308 => response.headers().get(http::header::LOCATION),
            _ => None,
        };
        // A redirect without a usable Location is an answer like any other.
        let Some(next) = location
            .and_then(|l| l.to_str().ok())
            .and_then(|l| response.url().join(l).ok())
        else {
            return Ok(response);
        };
        if redirects == MAX_REDIRECTS {
            return Err(SendError::Connect(errors::TooManyRedirects.to_string()));
        }
        // Not somewhere we go: the connector classifies the 3xx.
        if !matches!(next.scheme(), "http" | "https") {
            return Ok(response);
        }
        let host = checked_host(policy, &next)?;
        let first = first.get_or_insert_with(|| response.url().clone());
        credentials = credentials && same_origin(first, &next);
        hop.headers = outgoing_headers(source)?;
        if !credentials {
            if matches!(status, 307 | 308) && hop.body.is_some() {
                return Err(SendError::CrossOriginRedirect { status, host });
            }
            hop.headers = hop
                .headers
                .iter()
                .filter(|(name, _)| CROSS_ORIGIN_HEADERS.contains(&name.as_str()))
                .map(|(name, value)| (name.clone(), value.clone()))
                .collect();
        }
        let to_get = match status {
            303 => hop.method != http::Method::HEAD,
            301 | 302 => hop.method == http::Method::POST,
            _ => false,
        };
        if to_get {
            hop.method = http::Method::GET;
            hop.body = None;
            for name in [
                http::header::CONTENT_TYPE,
                http::header::CONTENT_LENGTH,
                http::header::CONTENT_ENCODING,
            ] {
                hop.headers.remove(name);
            }
        }
        hop.url = next;
    }
    unreachable!("the loop returns within MAX_REDIRECTS + 1 hops")
}

/// The connector's headers and the delivery's trace context.
fn outgoing_headers(source: &[(String, String)]) -> Result<http::HeaderMap, SendError> {
    let mut headers = header_map(source)?;
    // The delivery's trace goes on to the vendor.
    herald_telemetry::inject_http(&tracing::Span::current(), &mut headers);
    Ok(headers)
}

/// Same scheme, host and port; or the same host moving from `http` to
/// `https` on the default ports, which only makes the hop safer.
fn same_origin(first: &Url, next: &Url) -> bool {
    if first.origin() == next.origin() {
        return true;
    }
    first.scheme() == "http"
        && next.scheme() == "https"
        && first.host() == next.host()
        && first.port_or_known_default() == Some(80)
        && next.port_or_known_default() == Some(443)
}

/// The URL's host, normalised, if the policy allows it (names here, their
/// addresses in the resolver; IP literals only here, since reqwest does
/// not resolve them).
fn checked_host(policy: &Policy, url: &Url) -> Result<String, SendError> {
    let host = herald_catalog::urls::url_host(url)
        .ok_or_else(|| SendError::InvalidRequest("the URL has no host".into()))?;
    if policy.allows(host) {
        Ok(host.to_string())
    } else {
        Err(SendError::Policy {
            host: host.to_string(),
        })
    }
}

/// What every client of this `Outbound` shares: timeouts, pooling, no
/// redirects (`follow` does them). Each client adds its resolver, and
/// per-account clients TLS and proxy options.
fn client_builder(settings: &OutboundSettings) -> reqwest::ClientBuilder {
    reqwest::Client::builder()
        .user_agent(settings.user_agent.clone())
        .connect_timeout(settings.connect_timeout)
        .redirect(reqwest::redirect::Policy::none())
        // A Referer on a redirect would hand the previous URL, with its
        // tokens, to the next host.
        .referer(false)
        // Explicit settings only: no HTTP_PROXY from the environment.
        .no_proxy()
        .tcp_nodelay(true)
        // Idle connections kept per host: the pipeline sends thousands of
        // requests a second to few hosts, and a new TLS handshake per request
        // would dominate. Bounded all the same, so a burst does not leave
        // thousands of sockets open.
        .pool_max_idle_per_host(1024)
        .pool_idle_timeout(Duration::from_secs(90))
}

/// A proxy from its URL, with its host; the error never repeats the URL
/// (it may carry `user:password@`).
fn parse_proxy(proxy: &str) -> Result<(reqwest::Proxy, String), String> {
    let url = Url::parse(proxy).map_err(|e| format!("the proxy URL cannot be parsed ({e})"))?;
    if !matches!(url.scheme(), "http" | "https" | "socks5" | "socks5h") {
        return Err(format!(
            "proxy scheme {} is not http, https, socks5 or socks5h",
            url.scheme()
        ));
    }
    let host = herald_catalog::urls::url_host(&url)
        .ok_or("the proxy URL has no host")?
        .to_string();
    let proxy = reqwest::Proxy::all(url).map_err(|e| errors::describe(&e.without_url()))?;
    Ok((proxy, host))
}

/// The operator's proxy with its host lists and headers.
fn global_proxy(
    proxy: &str,
    settings: &OutboundSettings,
) -> Result<(reqwest::Proxy, String), String> {
    let (mut built, host) = parse_proxy(proxy)?;
    if !settings.proxy_only_hosts.is_empty() {
        let only: Vec<String> = settings
            .proxy_only_hosts
            .iter()
            .map(|h| h.trim().trim_end_matches('.').to_ascii_lowercase())
            .collect();
        let target =
            Url::parse(proxy).map_err(|e| format!("the proxy URL cannot be parsed ({e})"))?;
        built = reqwest::Proxy::custom(move |url| {
            let host = url.host_str()?.trim_end_matches('.').to_ascii_lowercase();
            only.contains(&host).then(|| target.clone())
        });
    }
    if !settings.proxy_bypass_hosts.is_empty() {
        built = built.no_proxy(reqwest::NoProxy::from_string(
            &settings.proxy_bypass_hosts.join(","),
        ));
    }
    if !settings.proxy_headers.is_empty() {
        let headers =
            header_map(&settings.proxy_headers).map_err(|e| format!("proxy headers: {e}"))?;
        built = built.headers(headers);
    }
    Ok((built, host))
}

fn header_map(headers: &[(String, String)]) -> Result<http::HeaderMap, SendError> {
    let mut map = http::HeaderMap::with_capacity(headers.len());
    for (name, value) in headers {
        let header = http::HeaderName::from_bytes(name.as_bytes()).map_err(|_| {
            SendError::InvalidRequest(format!("{name:?} is not a valid header name"))
        })?;
        let value = http::HeaderValue::from_str(value).map_err(|_| {
            SendError::InvalidRequest(format!("the value of header {header} is not valid"))
        })?;
        map.append(header, value);
    }
    Ok(map)
}

/// Reads the body chunk by chunk, failing as soon as it passes `limit`, so
/// a huge or endless answer costs at most `limit` bytes of memory.
async fn read_capped(
    mut response: reqwest::Response,
    limit: usize,
) -> Result<HttpResponse, SendError> {
    let too_large = SendError::TooLarge { limit };
    if response
        .content_length()
        .is_some_and(|len| len > limit as u64)
    {
        return Err(too_large);
    }
    let status = response.status().as_u16();
    let headers = std::mem::take(response.headers_mut());
    // Most answers arrive in one chunk: keep it as it is, copy only when a
    // second one comes.
    let mut first: Option<Bytes> = None;
    let mut rest = BytesMut::new();
    while let Some(chunk) = response.chunk().await.map_err(errors::from_reqwest)? {
        let so_far = first.as_ref().map_or(0, Bytes::len) + rest.len();
        if so_far + chunk.len() > limit {
            return Err(too_large);
        }
        match &first {
            None => first = Some(chunk),
            Some(head) => {
                if rest.is_empty() {
                    rest.reserve(head.len() + chunk.len());
                    rest.extend_from_slice(head);
                }
                rest.extend_from_slice(&chunk);
            }
        }
    }
    let body = if rest.is_empty() {
        first.unwrap_or_default()
    } else {
        rest.freeze()
    };
    Ok(HttpResponse {
        status,
        headers,
        body,
    })
}
