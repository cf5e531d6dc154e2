//! What a connector hands back for one delivery attempt, and the request and
//! response shapes its pure functions work on. A connector is two pure
//! functions around one send: `build(delivery) -> HttpRequest` and
//! `classify(response) -> Outcome`; the runtime does the sending, the
//! acking, the retries and the bookkeeping.

use std::collections::BTreeMap;
use std::time::Duration;

use herald_proto::v1::{ErrorKind, VendorResponse};

/// How one attempt ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Done: acked, status `delivered`. `handles` name what the vendor
    /// created (`dedup_key`, `issue_key`, `ts`, ...).
    Delivered {
        handles: BTreeMap<String, String>,
        response: Option<VendorResponse>,
    },
    /// Try again later: NAK with a delay. `after` is the vendor's own
    /// request (Retry-After, Slack `retry_after`); without it the runtime's
    /// backoff decides.
    Retry {
        kind: ErrorKind,
        reason: String,
        after: Option<Duration>,
        response: Option<VendorResponse>,
    },
    /// Never going to work as it is: dead-lettered and terminated.
    Permanent {
        kind: ErrorKind,
        reason: String,
        response: Option<VendorResponse>,
    },
}

impl Outcome {
    pub fn delivered() -> Outcome {
        Outcome::Delivered {
            handles: BTreeMap::new(),
            response: None,
        }
    }

    pub fn retry(kind: ErrorKind, reason: impl Into<String>) -> Outcome {
        Outcome::Retry {
            kind,
            reason: reason.into(),
            after: None,
            response: None,
        }
    }

    pub fn permanent(kind: ErrorKind, reason: impl Into<String>) -> Outcome {
        Outcome::Permanent {
            kind,
            reason: reason.into(),
            response: None,
        }
    }
}

/// An outgoing HTTP request, built by a connector from params, config and
/// secrets. Its Debug output never shows header values or the body: they
/// carry credentials.
#[derive(Clone, PartialEq)]
pub struct HttpRequest {
    pub method: http::Method,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Option<Vec<u8>>,
}

impl std::fmt::Debug for HttpRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.headers.iter().map(|(n, _)| n.as_str()).collect();
        f.debug_struct("HttpRequest")
            .field("method", &self.method)
            .field("headers", &names)
            .field("body_bytes", &self.body.as_ref().map(Vec::len))
            .finish_non_exhaustive()
    }
}

impl HttpRequest {
    /// A POST of `body` as JSON.
    pub fn post_json(url: impl Into<String>, body: &serde_json::Value) -> HttpRequest {
        HttpRequest {
            method: http::Method::POST,
            url: url.into(),
            headers: vec![("content-type".into(), "application/json".into())],
            body: Some(serde_json::to_vec(body).expect("JSON values serialize")),
        }
    }

    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> HttpRequest {
        self.headers.push((name.into(), value.into()));
        self
    }
}

/// What came back, the body already capped in size.
#[derive(Debug, Clone, PartialEq)]
pub struct HttpResponse {
    pub status: u16,
    pub headers: http::HeaderMap,
    pub body: bytes::Bytes,
}

impl HttpResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn json(&self) -> Option<serde_json::Value> {
        serde_json::from_slice(&self.body).ok()
    }

    /// The status and the first bytes of the body, for results and dead
    /// letters.
    pub fn vendor_response(&self) -> VendorResponse {
        const KEEP: usize = 2048;
        let text = String::from_utf8_lossy(&self.body[..self.body.len().min(KEEP)]).into_owned();
        VendorResponse {
            status: u32::from(self.status),
            body: text,
            request_id: [
                "x-request-id",
                "x-slack-req-id",
                "request-id",
                "x-ms-request-id",
            ]
            .iter()
            .find_map(|h| self.header(h))
            .unwrap_or_default()
            .to_owned(),
        }
    }
}

/// The part of classification every HTTP vendor shares: `None` for 2xx
/// (the connector then reads the body: Slack's `ok: false`, Teams'
/// throttling inside a 200), else the outcome by status. 408, 429 and 5xx
/// are retried, honouring `Retry-After`; 401 and 403 are authentication
/// failures; any other 4xx is the vendor refusing the request for good.
pub fn classify_status(response: &HttpResponse) -> Option<Outcome> {
    let status = response.status;
    if (200..300).contains(&status) {
        return None;
    }
    let vendor = Some(response.vendor_response());
    let after = response.header("retry-after").and_then(parse_retry_after);
    let outcome = match status {
        429 => Outcome::Retry {
            kind: ErrorKind::Throttled,
            reason: "the vendor answered 429 Too Many Requests".into(),
            after,
            response: vendor,
        },
        408 | 500..=599 => Outcome::Retry {
            kind: ErrorKind::VendorTemporary,
            reason: format!("the vendor answered {status}"),
            after,
            response: vendor,
        },
        401 | 403 => Outcome::Permanent {
            kind: ErrorKind::Auth,
            reason: format!("the vendor refused the credentials ({status})"),
            response: vendor,
        },
        _ => Outcome::Permanent {
            kind: ErrorKind::VendorRejected,
            reason: format!("the vendor rejected the request ({status})"),
            response: vendor,
        },
    };
    Some(outcome)
}

/// `Retry-After` as seconds or as an HTTP date (RFC 9110 §10.2.3).
pub fn parse_retry_after(value: &str) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let when = httpdate::parse_http_date(value).ok()?;
    Some(
        when.duration_since(std::time::SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response(status: u16, headers: &[(&'static str, &str)]) -> HttpResponse {
        let mut map = http::HeaderMap::new();
        for (k, v) in headers {
            map.insert(http::HeaderName::from_static(k), v.parse().unwrap());
        }
        HttpResponse {
            status,
            headers: map,
            body: bytes::Bytes::from_static(b"{\"message\":\"nope\"}"),
        }
    }

    #[test]
    fn statuses_classify() {
        assert_eq!(classify_status(&response(200, &[])), None);
        assert_eq!(classify_status(&response(204, &[])), None);
        let Some(Outcome::Retry { kind, after, .. }) =
            classify_status(&response(429, &[("retry-after", "2")]))
        else {
            panic!()
        };
        assert_eq!(
            (kind, after),
            (ErrorKind::Throttled, Some(Duration::from_secs(2)))
        );
        for status in [408, 500, 502, 503] {
            assert!(
                matches!(
                    classify_status(&response(status, &[])),
                    Some(Outcome::Retry { after: None, .. })
                ),
                "{status}"
            );
        }
        for status in [401, 403] {
            assert!(matches!(
                classify_status(&response(status, &[])),
                Some(Outcome::Permanent {
                    kind: ErrorKind::Auth,
                    ..
                })
            ));
        }
        let Some(Outcome::Permanent { kind, response, .. }) = classify_status(&response(400, &[]))
        else {
            panic!()
        };
        assert_eq!(kind, ErrorKind::VendorRejected);
        assert_eq!(response.unwrap().body, "{\"message\":\"nope\"}");
    }

    #[test]
    fn retry_after_forms() {
        assert_eq!(parse_retry_after("120"), Some(Duration::from_secs(120)));
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"),
            Some(Duration::ZERO)
        );
        let later = httpdate::fmt_http_date(std::time::SystemTime::now() + Duration::from_secs(30));
        let d = parse_retry_after(&later).unwrap();
        assert!(
            d > Duration::from_secs(28) && d <= Duration::from_secs(30),
            "{d:?}"
        );
        assert_eq!(parse_retry_after("soon"), None);
    }
}
