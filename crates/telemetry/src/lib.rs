//! Logs and traces for every Herald binary: `init` installs the `tracing`
//! subscriber (human or JSON logs, filtered by `HERALD_LOG`) and the
//! OpenTelemetry layer, exporting spans over OTLP/gRPC when
//! `OTEL_EXPORTER_OTLP_ENDPOINT` is set. [`propagation`] carries W3C trace
//! context across NATS headers, HTTP headers and gRPC metadata, so one alert
//! is one trace from the producer's request to the vendor's.

pub mod propagation;

use std::io::IsTerminal;

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::{Sampler, SdkTracerProvider};
use tracing::Level;
use tracing_subscriber::filter::{EnvFilter, Targets};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{Layer, fmt};

pub use opentelemetry::Context as TraceContext;
pub use propagation::{
    continue_trace, extract_http, extract_metadata, extract_nats, inject_http, inject_metadata,
    set_parent, traceparent, traceparent_of,
};

/// The log filter (`EnvFilter` syntax).
pub const LOG_ENV: &str = "HERALD_LOG";
/// `text` (the default) or `json`.
pub const LOG_FORMAT_ENV: &str = "HERALD_LOG_FORMAT";
/// Where spans go; unset or empty means nowhere.
pub const OTLP_ENDPOINT_ENV: &str = "OTEL_EXPORTER_OTLP_ENDPOINT";
/// Overrides the service name spans are reported under.
pub const SERVICE_NAME_ENV: &str = "OTEL_SERVICE_NAME";

#[derive(Debug, thiserror::Error)]
pub enum InitError {
    #[error("HERALD_LOG: `{value}` is not a valid filter: {reason}")]
    Filter { value: String, reason: String },
    #[error("HERALD_LOG_FORMAT: `{0}` is neither `text` nor `json`")]
    Format(String),
    #[error("OTEL_EXPORTER_OTLP_ENDPOINT: cannot make the OTLP exporter: {0}")]
    Exporter(String),
    #[error("a tracing subscriber is already installed: {0}")]
    AlreadyInstalled(String),
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    /// One JSON object per line.
    Json,
}

impl LogFormat {
    pub fn parse(value: &str) -> Result<LogFormat, InitError> {
        match value.trim().to_ascii_lowercase().as_str() {
            "" | "text" => Ok(LogFormat::Text),
            "json" => Ok(LogFormat::Json),
            _ => Err(InitError::Format(value.to_owned())),
        }
    }
}

/// Keeps the trace pipeline alive; dropping it sends the spans still
/// buffered and shuts the exporter down. Hold it for the life of `main`.
#[must_use = "dropping the guard shuts tracing down"]
pub struct Guard {
    provider: SdkTracerProvider,
    exporting: bool,
}

impl Guard {
    /// Whether spans are exported (`OTEL_EXPORTER_OTLP_ENDPOINT` is set).
    pub fn exporting(&self) -> bool {
        self.exporting
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        if self.exporting
            && let Err(error) = self.provider.shutdown()
        {
            eprintln!("OpenTelemetry: spans may be lost at shutdown: {error}");
        }
    }
}

/// [`init_with`] with the filter `info` when `HERALD_LOG` is unset.
pub fn init(service_name: &str) -> Result<Guard, InitError> {
    init_with(service_name, "info")
}

/// Installs the global subscriber for a binary named `service_name`:
/// logs on stderr per `HERALD_LOG` (else `default_filter`) in the
/// `HERALD_LOG_FORMAT`, and the OpenTelemetry layer.
///
/// The OpenTelemetry layer is installed even without an exporter: span
/// contexts then still exist, so a producer's trace id is carried through
/// ingest, NATS and the worker to the vendor. Without an exporter it samples
/// only what the producer marked sampled (`ParentBased(AlwaysOff)`), and an
/// unsampled span costs an id and no recording, which keeps the hot path
/// cheap. Its filter is its own, not `HERALD_LOG`: `HERALD_LOG=warn` must
/// not switch propagation off.
pub fn init_with(service_name: &str, default_filter: &str) -> Result<Guard, InitError> {
    let filter = match std::env::var(LOG_ENV) {
        Ok(value) if !value.trim().is_empty() => {
            EnvFilter::try_new(&value).map_err(|e| InitError::Filter {
                value: value.clone(),
                reason: e.to_string(),
            })?
        }
        _ => EnvFilter::new(default_filter),
    };
    let format = LogFormat::parse(&std::env::var(LOG_FORMAT_ENV).unwrap_or_default())?;
    let endpoint = std::env::var(OTLP_ENDPOINT_ENV)
        .ok()
        .filter(|v| !v.trim().is_empty());
    let service_name = std::env::var(SERVICE_NAME_ENV)
        .ok()
        .filter(|v| !v.trim().is_empty())
        .unwrap_or_else(|| service_name.to_owned());

    let provider = tracer_provider(&service_name, endpoint.is_some())?;
    // Herald's own propagation does not need it (see `propagation`), but
    // OpenTelemetry's default is a no-op for anything else that asks.
    opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());

    let logs = match format {
        LogFormat::Text => fmt::layer()
            .with_writer(std::io::stderr)
            // Colours for a terminal, not for a log file or collector.
            .with_ansi(std::io::stderr().is_terminal())
            .boxed(),
        LogFormat::Json => fmt::layer().json().with_writer(std::io::stderr).boxed(),
    };
    tracing_subscriber::registry()
        .with(logs.with_filter(filter))
        .with(otel_layer(&provider, &service_name))
        .try_init()
        .map_err(|e| InitError::AlreadyInstalled(e.to_string()))?;
    Ok(Guard {
        provider,
        exporting: endpoint.is_some(),
    })
}

/// The layer that gives spans their OpenTelemetry context (and records
/// them when sampled).
fn otel_layer<S>(provider: &SdkTracerProvider, service_name: &str) -> impl Layer<S> + use<S>
where
    S: tracing::Subscriber + for<'span> tracing_subscriber::registry::LookupSpan<'span>,
{
    tracing_opentelemetry::layer()
        .with_tracer(provider.tracer(service_name.to_owned()))
        // Nothing here reads OpenTelemetry's own current context, and
        // activating it on every poll of every instrumented future costs.
        .with_context_activation(false)
        .with_tracked_inactivity(false)
        .with_threads(false)
        .with_filter(otel_filter())
}

/// With an exporter: batched OTLP/gRPC, the SDK's default sampler (which
/// honours `OTEL_TRACES_SAMPLER`). Without: no processor at all.
fn tracer_provider(service_name: &str, export: bool) -> Result<SdkTracerProvider, InitError> {
    let builder = SdkTracerProvider::builder().with_resource(
        Resource::builder()
            .with_service_name(service_name.to_owned())
            .build(),
    );
    if !export {
        return Ok(builder
            .with_sampler(Sampler::ParentBased(Box::new(Sampler::AlwaysOff)))
            .build());
    }
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_tonic()
        .build()
        .map_err(|e| InitError::Exporter(e.to_string()))?;
    Ok(builder.with_batch_exporter(exporter).build())
}

/// What the OpenTelemetry layer sees: INFO and up, except the exporter's
/// own network stack (h2, tonic, hyper, tower), which would otherwise
/// re-enter the layer while exporting and trace its own exports.
fn otel_filter() -> Targets {
    Targets::new()
        .with_default(Level::INFO)
        .with_target("h2", Level::WARN)
        .with_target("hyper", Level::WARN)
        .with_target("hyper_util", Level::WARN)
        .with_target("tonic", Level::WARN)
        .with_target("tower", Level::WARN)
        .with_target("opentelemetry", Level::WARN)
        .with_target("opentelemetry_sdk", Level::WARN)
        .with_target("opentelemetry_otlp", Level::WARN)
}

/// Resolves on SIGTERM (Kubernetes, `docker stop`) or Ctrl-C. The handlers
/// are installed when this is called, not when the future is first polled,
/// so a signal that comes in between is not lost to the default action. It
/// lives here because every binary already initialises this crate.
pub fn shutdown_signal() -> impl std::future::Future<Output = ()> + Send + 'static {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate()).expect("SIGTERM handler");
    let mut interrupt = signal(SignalKind::interrupt()).expect("SIGINT handler");
    async move {
        tokio::select! {
            _ = term.recv() => {}
            _ = interrupt.recv() => {}
        }
    }
}

/// An error and its causes, `outer: inner: innermost`, for the one log
/// line (or exit message) where an error is handled.
pub fn chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chain_names_every_cause() {
        #[derive(Debug, thiserror::Error)]
        #[error("outer")]
        struct Outer(#[source] std::io::Error);
        let error = Outer(std::io::Error::other("inner"));
        assert_eq!(chain(&error), "outer: inner");
    }

    /// Without an exporter, as the binaries run by default: a span parented
    /// by the producer's context keeps its trace id under a span id of its
    /// own, and a span without a parent still gets a context to hand on.
    #[test]
    fn spans_carry_the_trace_without_an_exporter() {
        let provider = tracer_provider("test", false).unwrap();
        let subscriber = tracing_subscriber::registry().with(otel_layer(&provider, "test"));
        tracing::subscriber::with_default(subscriber, || {
            for flags in ["01", "00"] {
                let producer =
                    format!("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-{flags}");
                let span = tracing::info_span!("submit");
                continue_trace(&span, Some(&producer));
                let ours = traceparent(&span).expect("a context");
                let parts: Vec<&str> = ours.split('-').collect();
                assert_eq!(parts[1], "4bf92f3577b34da6a3ce929d0e0e4736");
                assert_ne!(parts[2], "00f067aa0ba902b7");
                assert_eq!(parts[3], flags, "the producer's sampling decision is kept");

                let child = span.in_scope(|| tracing::info_span!("attempt"));
                let child_parent = traceparent(&child).unwrap();
                assert_eq!(child_parent.split('-').nth(1), Some(parts[1]));
            }
            let root = traceparent(&tracing::info_span!("root")).expect("a context");
            assert_eq!(root.len(), 55, "{root}");
            assert!(
                root.ends_with("-00"),
                "not sampled: nothing would record it"
            );
        });
    }

    /// As a binary starts (its own process under nextest): a log filter of
    /// `warn` leaves the INFO spans that carry traces alone.
    #[test]
    fn init_with_a_quiet_log_filter_still_propagates() {
        let _guard = init_with("test", "warn").unwrap();
        let span = tracing::info_span!("attempt");
        continue_trace(
            &span,
            Some("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),
        );
        let inner = span.in_scope(|| traceparent(&tracing::Span::current()));
        assert!(
            inner.is_some_and(|t| t.contains("4bf92f3577b34da6a3ce929d0e0e4736")),
            "the current span carries the trace"
        );
    }

    #[test]
    fn log_formats() {
        assert_eq!(LogFormat::parse("").unwrap(), LogFormat::Text);
        assert_eq!(LogFormat::parse("text").unwrap(), LogFormat::Text);
        assert_eq!(LogFormat::parse("JSON").unwrap(), LogFormat::Json);
        let error = LogFormat::parse("yaml").unwrap_err().to_string();
        assert!(error.starts_with("HERALD_LOG_FORMAT"), "{error}");
        assert!(error.contains("yaml"), "{error}");
    }
}
