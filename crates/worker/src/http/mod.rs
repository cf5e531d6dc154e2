//! The one outbound HTTP client of a worker: every connector request goes
//! through `Outbound::send`, which enforces the operator's host policy (on
//! the request and on every redirect), the response timeout and size cap,
//! and the account's TLS and proxy options (`account_client`). Connectors
//! only build requests and classify responses (`crate::outcome`).
//!
//! Errors name the host at most: URLs carry credentials (a Slack webhook URL
//! is the secret), so no URL, header value or body reaches an error or a log.

mod account_client;
mod errors;
#[cfg(test)]
mod tests;

use std::sync::Arc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use herald_catalog::Policy;
use herald_proto::v1::ErrorKind;
use url::Url;

use crate::connector::Account;
use crate::outcome::{HttpRequest, HttpResponse, Outcome};

use account_client::AccountClients;

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
    pub user_agent: String,
}

impl Default for OutboundSettings {
    fn default() -> Self {
        OutboundSettings {
            connect_timeout: Duration::from_secs(10),
            response_timeout: Duration::from_secs(60),
            max_response_bytes: 1024 * 1024,
            proxy: None,
            user_agent: concat!("herald/", env!("CARGO_PKG_VERSION")).to_owned(),
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
    /// The request's host, or a redirect's, is not in `policy.allowed_hosts`.
    #[error("host {host} is not in the allowed hosts of the policy")]
    Policy { host: String },
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
            SendError::Policy { .. } => Outcome::permanent(ErrorKind::Policy, reason),
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
    global_proxy: Option<reqwest::Proxy>,
    /// For accounts without TLS or proxy options: nearly all of them, so
    /// they all share its connection pool.
    shared: reqwest::Client,
    accounts: AccountClients,
}

impl Outbound {
    pub fn new(settings: OutboundSettings, policy: Policy) -> Result<Outbound, OutboundError> {
        let policy = Arc::new(policy);
        let global_proxy = match &settings.proxy {
            Some(proxy) => Some(parse_proxy(proxy).map_err(OutboundError::Proxy)?),
            None => None,
        };
        let mut builder = client_builder(&settings, &policy);
        if let Some(proxy) = &global_proxy {
            builder = builder.proxy(proxy.clone());
        }
        let shared = builder
            .build()
            .map_err(|e| OutboundError::Client(errors::describe(&e.without_url())))?;
        Ok(Outbound {
            inner: Arc::new(Inner {
                settings,
                policy,
                global_proxy,
                shared,
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
        let host =
            host_of(&url).ok_or_else(|| SendError::InvalidRequest("the URL has no host".into()))?;
        if !inner.policy.allows_host(&host) {
            return Err(SendError::Policy { host });
        }
        let client = match account_client::options_of(account) {
            None => inner.shared.clone(),
            Some(options) => inner.accounts.get_or_build(
                account,
                options,
                || client_builder(&inner.settings, &inner.policy),
                inner.global_proxy.as_ref(),
            )?,
        };

        let mut headers = header_map(&request.headers)?;
        // The delivery's trace goes on to the vendor.
        herald_telemetry::inject_http(&tracing::Span::current(), &mut headers);
        let mut builder = client.request(request.method, url).headers(headers);
        if let Some(body) = request.body {
            builder = builder.body(body);
        }
        let limit = inner.settings.max_response_bytes;
        let exchange = async {
            let response = builder.send().await.map_err(errors::from_reqwest)?;
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

/// What every client of this `Outbound` shares: timeouts, pooling, the
/// redirect policy. Per-account clients add TLS and proxy options to it.
fn client_builder(settings: &OutboundSettings, policy: &Arc<Policy>) -> reqwest::ClientBuilder {
    let policy = Arc::clone(policy);
    let redirects = reqwest::redirect::Policy::custom(move |attempt| {
        if attempt.previous().len() > MAX_REDIRECTS {
            return attempt.error(errors::TooManyRedirects);
        }
        match host_of(attempt.url()) {
            Some(host) if policy.allows_host(&host) => attempt.follow(),
            host => attempt.error(errors::RedirectRefused {
                host: host.unwrap_or_default(),
            }),
        }
    });
    reqwest::Client::builder()
        .user_agent(settings.user_agent.clone())
        .connect_timeout(settings.connect_timeout)
        .redirect(redirects)
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

/// A proxy from its URL; the error never repeats the URL (it may carry
/// `user:password@`).
fn parse_proxy(proxy: &str) -> Result<reqwest::Proxy, String> {
    let url = Url::parse(proxy).map_err(|e| format!("the proxy URL cannot be parsed ({e})"))?;
    if !matches!(url.scheme(), "http" | "https" | "socks5" | "socks5h") {
        return Err(format!(
            "proxy scheme {} is not http, https, socks5 or socks5h",
            url.scheme()
        ));
    }
    reqwest::Proxy::all(url).map_err(|e| errors::describe(&e.without_url()))
}

/// The host as the policy sees it: a name, or an IP address without IPv6
/// brackets.
fn host_of(url: &Url) -> Option<String> {
    match url.host()? {
        url::Host::Domain(name) => Some(name.to_owned()),
        url::Host::Ipv4(ip) => Some(ip.to_string()),
        url::Host::Ipv6(ip) => Some(ip.to_string()),
    }
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
