//! What the incident worker's REST connectors share around their pure
//! builds and classifications: endpoints under an account's base URL, basic
//! auth, the one call that sends a request and turns any non-2xx answer into
//! its outcome with the vendor's own error text, and `Delivered` with the
//! vendor's handles. Connectors that make several calls for one action
//! (create, then comment) chain `VendorClient::call`s.

use std::collections::BTreeMap;

pub use crate::delivery::attempt::{check, error_text};
use crate::delivery::attempt::{snippet, text_of};
use crate::delivery::fields::{Fields, Secret};
use crate::delivery::http::Outbound;
use crate::delivery::{Account, HttpRequest, HttpResponse, Outcome};
use herald_proto::v1::ErrorKind;
use serde_json::Value;
use url::Url;

/// `base` with `segments` appended, each percent-encoded: an id from params
/// cannot change the path (`../`) or add a query.
pub fn endpoint(base: &Url, segments: &[&str]) -> Url {
    let mut url = base.clone();
    url.set_query(None);
    url.set_fragment(None);
    if let Ok(mut path) = url.path_segments_mut() {
        path.pop_if_empty().extend(segments);
    }
    url
}

/// Whether an id would be read as `.` or `..` where it is a URL path
/// segment (a record's `externalId`). `endpoint` percent-encodes
/// everything else, but these are path syntax even so (URL parsers read
/// `%2e` there as a dot too): the URL would drop the first and walk up with
/// the second, from one record to the list of every record, whose answer
/// would come back to the producer. So such ids are refused.
pub fn is_dot_segment(id: &str) -> bool {
    matches!(id, "." | "..")
}

/// An id from params that becomes one segment of a URL path, refused
/// when [`is_dot_segment`].
pub fn path_id(
    fields: &Fields<'_>,
    name: &str,
    id: Option<&str>,
) -> Result<Option<String>, Outcome> {
    match id {
        Some(id) if is_dot_segment(id) => Err(fields.refuse(name, "must not be . or ..")),
        other => Ok(other.map(str::to_owned)),
    }
}

/// `endpoint` with query pairs, form-encoded.
pub fn endpoint_with_query(base: &Url, segments: &[&str], query: &[(&str, &str)]) -> Url {
    let mut url = endpoint(base, segments);
    url.query_pairs_mut().extend_pairs(query);
    url
}

/// A request with a JSON body, or none.
pub fn json_request(method: http::Method, url: &Url, body: Option<&Value>) -> HttpRequest {
    match body {
        Some(body) => HttpRequest {
            method,
            ..HttpRequest::post_json(url.as_str(), body)
        },
        None => HttpRequest {
            method,
            url: url.as_str().to_owned(),
            headers: vec![("accept".into(), "application/json".into())],
            body: None,
        },
    }
}

/// A 2xx answer and its JSON body (`Null` when empty or not JSON).
#[derive(Debug)]
pub struct Reply {
    pub json: Value,
    pub response: HttpResponse,
}

/// One vendor API as one account reaches it: every call carries `headers`
/// (the authentication).
pub struct VendorClient<'a> {
    pub vendor: &'static str,
    pub http: &'a Outbound,
    pub account: &'a Account,
    pub headers: Vec<(&'static str, Secret)>,
}

impl VendorClient<'_> {
    /// Sends `request` with the client's headers; a 2xx answer is the
    /// reply, anything else (or no answer) the attempt's outcome.
    pub async fn call(&self, mut request: HttpRequest) -> Result<Reply, Outcome> {
        for (name, value) in &self.headers {
            request
                .headers
                .push(((*name).to_owned(), value.expose().to_owned()));
        }
        let response = self
            .http
            .send(self.account, request)
            .await
            .map_err(|error| error.outcome())?;
        let json = check(self.vendor, &response)?;
        Ok(Reply { json, response })
    }
}

/// A 2xx answer that says the request failed (ServiceNow's import-set row
/// errors, Resilient's `success: false`): refused for good.
pub fn refused_in_body(vendor: &str, response: &HttpResponse, text: &str) -> Outcome {
    Outcome::Permanent {
        kind: ErrorKind::VendorRejected,
        reason: format!(
            "{vendor} answered {} but refused the request: {}",
            response.status,
            snippet(text.as_bytes())
        ),
        response: Some(response.vendor_response()),
    }
}

/// A 2xx answer without what it should carry (a record id): the vendor
/// may have acted, so it is not retried.
pub fn unexpected(vendor: &str, response: &HttpResponse, missing: &str) -> Outcome {
    Outcome::Permanent {
        kind: ErrorKind::VendorRejected,
        reason: format!("{vendor} answered {} without {missing}", response.status),
        response: Some(response.vendor_response()),
    }
}

/// The handle that reports comment `index` (of `count`) failing after the
/// record was written. Such a failure does not fail the action: the record
/// exists, and a retry would write it again. Callers stop at the first.
pub fn comment_error(
    vendor: &str,
    index: usize,
    count: usize,
    outcome: Outcome,
) -> (&'static str, Option<String>) {
    let reason = match outcome {
        Outcome::Retry { reason, .. } | Outcome::Permanent { reason, .. } => reason,
        Outcome::Delivered { .. } => String::new(),
    };
    tracing::warn!(%reason, "{vendor}: a comment failed after the record was written");
    let error = format!("comment {} of {count}: {reason}", index + 1);
    ("comment_error", Some(error))
}

/// A string or number at a JSON pointer, as text.
pub fn text_at(json: &Value, pointer: &str) -> Option<String> {
    json.pointer(pointer)
        .and_then(text_of)
        .filter(|text| !text.is_empty())
}

/// Delivered, with the handles that have a value.
pub fn delivered<'a>(
    handles: impl IntoIterator<Item = (&'a str, Option<String>)>,
    response: &HttpResponse,
) -> Outcome {
    let handles: BTreeMap<String, String> = handles
        .into_iter()
        .filter_map(|(name, value)| Some((name.to_owned(), value?)))
        .collect();
    Outcome::Delivered {
        handles,
        response: Some(response.vendor_response()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::delivery::testing::{permanent, response, retry};
    use serde_json::json;

    #[test]
    fn statuses_carry_the_vendor_text() {
        let body = r#"{"error":{"message":"Operation Failed","detail":"ACL"}}"#;
        let (kind, reason) = permanent(check("ServiceNow", &response(400, &[], body)).unwrap_err());
        assert_eq!(
            (kind, reason.as_str()),
            (
                ErrorKind::VendorRejected,
                "ServiceNow answered 400: Operation Failed: ACL"
            )
        );
        let (kind, _) = permanent(check("ServiceNow", &response(401, &[], body)).unwrap_err());
        assert_eq!(kind, ErrorKind::Auth);
        let (kind, after, reason) =
            retry(check("TheHive", &response(429, &[("retry-after", "7")], "")).unwrap_err());
        assert_eq!(
            (kind, after, reason.as_str()),
            (
                ErrorKind::Throttled,
                Some(std::time::Duration::from_secs(7)),
                "TheHive is rate limiting this account (429)"
            )
        );
        let (kind, _, reason) = retry(check("Tines", &response(503, &[], "")).unwrap_err());
        assert_eq!(
            (kind, reason.as_str()),
            (ErrorKind::VendorTemporary, "Tines answered 503")
        );
        assert_eq!(
            check("Tines", &response(200, &[], "")).unwrap(),
            Value::Null
        );
        assert_eq!(
            check("Tines", &response(201, &[], "{\"id\":1}")).unwrap(),
            json!({"id": 1})
        );
    }

    #[test]
    fn endpoints_encode_segments() {
        let base = Url::parse("https://dev.service-now.com/").unwrap();
        assert_eq!(
            endpoint(&base, &["api", "now", "table", "inc/../x?y"]).as_str(),
            "https://dev.service-now.com/api/now/table/inc%2F..%2Fx%3Fy"
        );
        let base = Url::parse("https://example.com/soar?x=1").unwrap();
        assert_eq!(
            endpoint_with_query(&base, &["rest", "orgs", "201"], &[("q", "a b^c=d")]).as_str(),
            "https://example.com/soar/rest/orgs/201?q=a+b%5Ec%3Dd"
        );
    }
}

/// `text` cut to at most `max` characters, where a vendor caps a field
/// (PagerDuty's summary, Opsgenie's message).
pub(crate) fn truncate(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((cut, _)) => text[..cut].to_owned(),
        None => text.to_owned(),
    }
}

/// The reason of a failed outcome, for a step reported inside a delivered
/// one (a comment that could not be added).
pub(crate) fn reason_of(outcome: &crate::delivery::Outcome) -> &str {
    match outcome {
        crate::delivery::Outcome::Retry { reason, .. }
        | crate::delivery::Outcome::Permanent { reason, .. } => reason,
        crate::delivery::Outcome::Delivered { .. } => "",
    }
}

#[cfg(test)]
mod text_tests {
    #[test]
    fn truncates_by_characters() {
        assert_eq!(super::truncate("héllo", 2), "hé");
        assert_eq!(super::truncate("hi", 5), "hi");
    }
}
