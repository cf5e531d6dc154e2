//! `herald_registry_request_duration_seconds{method,code}`: a tower layer
//! around every gRPC service the registry serves, so calls refused by the
//! auth interceptor are counted too. Its `_count` is the request count.

use std::task::{Context, Poll};
use std::time::Instant;

use futures::future::BoxFuture;
use herald_metrics::{HistogramVec, Metrics};

#[derive(Clone)]
pub struct RequestMetricsLayer {
    family: HistogramVec,
}

impl RequestMetricsLayer {
    pub fn new(metrics: &Metrics) -> RequestMetricsLayer {
        RequestMetricsLayer {
            family: metrics.histogram_vec(
                "herald_registry_request_duration_seconds",
                "gRPC requests served by herald-registry, by method and status code.",
                &["method", "code"],
                herald_metrics::CALL_BUCKETS,
            ),
        }
    }
}

impl<S> tower::Layer<S> for RequestMetricsLayer {
    type Service = RequestMetrics<S>;

    fn layer(&self, inner: S) -> RequestMetrics<S> {
        RequestMetrics {
            inner,
            family: self.family.clone(),
        }
    }
}

#[derive(Clone)]
pub struct RequestMetrics<S> {
    inner: S,
    family: HistogramVec,
}

impl<S, B, RB> tower::Service<http::Request<B>> for RequestMetrics<S>
where
    S: tower::Service<http::Request<B>, Response = http::Response<RB>>,
    S::Future: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = BoxFuture<'static, Result<S::Response, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let method = method_label(request.uri().path());
        let family = self.family.clone();
        let started = Instant::now();
        let call = self.inner.call(request);
        Box::pin(async move {
            let result = call.await;
            let code = match &result {
                Ok(response) => code_label(response.headers()),
                Err(_) => "internal",
            };
            family
                .with_label_values(&[method, code])
                .observe(started.elapsed().as_secs_f64());
            result
        })
    }
}

const REGISTRY_METHODS: &[&str] = &[
    "PutAccount",
    "GetAccount",
    "ListAccounts",
    "DeleteAccount",
    "ListConnectorTypes",
    "ResolveAccount",
];

/// The `method` label: a fixed set, whatever path a client sends.
fn method_label(path: &str) -> &'static str {
    if let Some(method) = path.strip_prefix("/herald.v1.AccountRegistry/") {
        return REGISTRY_METHODS
            .iter()
            .find(|m| **m == method)
            .copied()
            .unwrap_or("other");
    }
    if path.starts_with("/grpc.health.") {
        "health"
    } else if path.starts_with("/grpc.reflection.") {
        "reflection"
    } else {
        "other"
    }
}

/// gRPC status codes by number, as labels.
const CODES: [&str; 17] = [
    "ok",
    "cancelled",
    "unknown",
    "invalid_argument",
    "deadline_exceeded",
    "not_found",
    "already_exists",
    "permission_denied",
    "resource_exhausted",
    "failed_precondition",
    "aborted",
    "out_of_range",
    "unimplemented",
    "internal",
    "unavailable",
    "data_loss",
    "unauthenticated",
];

/// An error ends a tonic call with `grpc-status` in the response headers
/// (trailers-only); a success carries it in the trailers, after the body,
/// so a response without it in its headers is a success.
fn code_label(headers: &http::HeaderMap) -> &'static str {
    match headers.get("grpc-status") {
        None => "ok",
        Some(value) => value
            .to_str()
            .ok()
            .and_then(|v| v.parse::<usize>().ok())
            .and_then(|n| CODES.get(n).copied())
            .unwrap_or("unknown"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_a_fixed_set() {
        assert_eq!(
            method_label("/herald.v1.AccountRegistry/ResolveAccount"),
            "ResolveAccount"
        );
        assert_eq!(method_label("/herald.v1.AccountRegistry/Nope"), "other");
        assert_eq!(method_label("/grpc.health.v1.Health/Check"), "health");
        assert_eq!(method_label("/x"), "other");
        let mut headers = http::HeaderMap::new();
        assert_eq!(code_label(&headers), "ok");
        headers.insert("grpc-status", "5".parse().unwrap());
        assert_eq!(code_label(&headers), "not_found");
        headers.insert("grpc-status", "16".parse().unwrap());
        assert_eq!(code_label(&headers), "unauthenticated");
        headers.insert("grpc-status", "99".parse().unwrap());
        assert_eq!(code_label(&headers), "unknown");
    }
}
