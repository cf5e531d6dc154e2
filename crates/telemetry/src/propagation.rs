//! W3C trace context (`traceparent`, `tracestate`) in and out of the three
//! carriers Herald uses: NATS headers, HTTP headers (axum and reqwest) and
//! tonic metadata. Extracting gives the caller's context, to parent a span
//! with ([`set_parent`]); injecting writes a span's own context, so the next
//! hop continues the same trace under a new span id.
//!
//! Herald speaks W3C trace context only, so these use
//! `TraceContextPropagator` itself rather than the global propagator: they
//! work the same before [`crate::init`] (library tests, embedding). Without
//! the OpenTelemetry layer installed, spans have no context: injecting
//! writes nothing and [`traceparent`] is `None`.

use opentelemetry::Context;
use opentelemetry::propagation::{Extractor, Injector, TextMapPropagator};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use tracing::Span;
use tracing_opentelemetry::OpenTelemetrySpanExt;

/// The W3C header that carries the trace and parent span ids.
pub const TRACEPARENT: &str = "traceparent";

/// `span` continues the trace of `parent` (a context extracted from the
/// caller's request or message). Does nothing when `parent` carries no
/// valid span context, so the span then starts a trace of its own. Call it
/// before the span is first entered.
pub fn set_parent(span: &Span, parent: Context) {
    use opentelemetry::trace::TraceContextExt;
    if !parent.span().span_context().is_valid() {
        return;
    }
    if let Err(error) = span.set_parent(parent) {
        tracing::debug!(%error, "span not attached to the caller's trace");
    }
}

/// [`set_parent`] from a bare `traceparent` value (a NATS header read
/// earlier, say); a missing or malformed value leaves the span a root.
pub fn continue_trace(span: &Span, traceparent: Option<&str>) {
    if let Some(value) = traceparent {
        set_parent(span, extract(&One(value)));
    }
}

/// The `traceparent` of `span`'s context, for carriers that take a string
/// (NATS publishes); `None` when the span has no trace context.
pub fn traceparent(span: &Span) -> Option<String> {
    traceparent_of(&span.context())
}

/// The `traceparent` of a context, e.g. one extracted from a request.
pub fn traceparent_of(cx: &Context) -> Option<String> {
    let mut out = None;
    TraceContextPropagator::new().inject_context(
        cx,
        &mut OneOut {
            value: &mut out,
            want: TRACEPARENT,
        },
    );
    out
}

pub fn extract_nats(headers: Option<&async_nats::HeaderMap>) -> Context {
    match headers {
        Some(headers) => extract(&NatsHeaders(headers)),
        None => Context::new(),
    }
}

pub fn extract_http(headers: &http::HeaderMap) -> Context {
    extract(&HttpHeaders(headers))
}

/// Writes `span`'s context into outgoing HTTP headers (the vendor request).
pub fn inject_http(span: &Span, headers: &mut http::HeaderMap) {
    inject(span, &mut HttpHeadersMut(headers));
}

pub fn extract_metadata(metadata: &tonic::metadata::MetadataMap) -> Context {
    extract(&Metadata(metadata))
}

/// Writes `span`'s context into an outgoing gRPC request's metadata.
pub fn inject_metadata(span: &Span, metadata: &mut tonic::metadata::MetadataMap) {
    inject(span, &mut MetadataMut(metadata));
}

fn extract(carrier: &dyn Extractor) -> Context {
    TraceContextPropagator::new().extract(carrier)
}

fn inject(span: &Span, carrier: &mut dyn Injector) {
    TraceContextPropagator::new().inject_context(&span.context(), carrier);
}

/// A carrier holding only a `traceparent`.
struct One<'a>(&'a str);

impl Extractor for One<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        (key == TRACEPARENT).then_some(self.0)
    }
    fn keys(&self) -> Vec<&str> {
        vec![TRACEPARENT]
    }
}

/// Keeps the one header asked for (`tracestate` is dropped).
struct OneOut<'a> {
    value: &'a mut Option<String>,
    want: &'static str,
}

impl Injector for OneOut<'_> {
    fn set(&mut self, key: &str, value: String) {
        if key == self.want {
            *self.value = Some(value);
        }
    }
}

struct NatsHeaders<'a>(&'a async_nats::HeaderMap);

impl Extractor for NatsHeaders<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(|v| v.as_str())
    }
    fn keys(&self) -> Vec<&str> {
        self.0.iter().map(|(name, _)| name.as_ref()).collect()
    }
}

struct HttpHeaders<'a>(&'a http::HeaderMap);

impl Extractor for HttpHeaders<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|v| v.to_str().ok())
    }
    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(http::HeaderName::as_str).collect()
    }
}

struct HttpHeadersMut<'a>(&'a mut http::HeaderMap);

impl Injector for HttpHeadersMut<'_> {
    fn set(&mut self, key: &str, value: String) {
        if let (Ok(name), Ok(value)) = (
            http::HeaderName::from_bytes(key.as_bytes()),
            http::HeaderValue::from_str(&value),
        ) {
            self.0.insert(name, value);
        }
    }
}

struct Metadata<'a>(&'a tonic::metadata::MetadataMap);

impl Extractor for Metadata<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|v| v.to_str().ok())
    }
    fn keys(&self) -> Vec<&str> {
        self.0
            .keys()
            .filter_map(|key| match key {
                tonic::metadata::KeyRef::Ascii(key) => Some(key.as_str()),
                tonic::metadata::KeyRef::Binary(_) => None,
            })
            .collect()
    }
}

struct MetadataMut<'a>(&'a mut tonic::metadata::MetadataMap);

impl Injector for MetadataMut<'_> {
    fn set(&mut self, key: &str, value: String) {
        if let (Ok(key), Ok(value)) = (
            tonic::metadata::MetadataKey::from_bytes(key.as_bytes()),
            value.parse(),
        ) {
            self.0.insert(key, value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry::trace::TraceContextExt;

    const PARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    fn trace_id(cx: &Context) -> String {
        cx.span().span_context().trace_id().to_string()
    }

    #[test]
    fn every_carrier_round_trips_the_context() {
        let cx = extract(&One(PARENT));
        assert_eq!(trace_id(&cx), "4bf92f3577b34da6a3ce929d0e0e4736");
        assert_eq!(traceparent_of(&cx).as_deref(), Some(PARENT));

        let mut http = http::HeaderMap::new();
        TraceContextPropagator::new().inject_context(&cx, &mut HttpHeadersMut(&mut http));
        assert_eq!(http[TRACEPARENT], PARENT);
        assert_eq!(trace_id(&extract_http(&http)), trace_id(&cx));

        let mut metadata = tonic::metadata::MetadataMap::new();
        TraceContextPropagator::new().inject_context(&cx, &mut MetadataMut(&mut metadata));
        assert_eq!(metadata.get(TRACEPARENT).unwrap(), PARENT);
        assert_eq!(trace_id(&extract_metadata(&metadata)), trace_id(&cx));

        let mut nats = async_nats::HeaderMap::new();
        nats.insert(TRACEPARENT, PARENT);
        assert_eq!(trace_id(&extract_nats(Some(&nats))), trace_id(&cx));
        assert!(!extract_nats(None).span().span_context().is_valid());
    }

    #[test]
    fn a_malformed_traceparent_gives_no_context() {
        for bad in ["", "00-xyz-00f067aa0ba902b7-01", "garbage"] {
            let cx = extract(&One(bad));
            assert!(!cx.span().span_context().is_valid(), "{bad}");
            assert_eq!(traceparent_of(&cx), None, "{bad}");
        }
    }
}
