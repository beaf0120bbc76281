//! Logs and traces: log lines on stderr (text, coloured only on a terminal,
//! or JSON with the request id and trace id of the request that caused
//! them), and — with `--otlp URL` — every span (one per request, named and
//! described by OpenTelemetry's HTTP conventions, request_id.rs) exported
//! to an OpenTelemetry collector over OTLP/HTTP.

use std::io::IsTerminal;

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::WithExportConfig;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_subscriber::Layer;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

use crate::commands::LogFormat;

/// Keeps the exporter running; [`Telemetry::shutdown`] sends what is left.
#[derive(Debug)]
pub struct Telemetry {
    provider: Option<SdkTracerProvider>,
}

/// Sets up logging (and tracing export when `otlp` names a collector, e.g.
/// `http://collector:4318`). Call outside the async runtime: the exporter's
/// HTTP client runs on a thread of its own.
pub fn init(format: LogFormat, otlp: Option<&str>) -> anyhow::Result<Telemetry> {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,rusqlite_migration=warn"));
    // Colours only for a person at a terminal: in a file or the journal
    // they would be escape codes around every level.
    let ansi = std::io::stderr().is_terminal();
    let logs = match format {
        LogFormat::Text => tracing_subscriber::fmt::layer()
            .with_ansi(ansi)
            .with_writer(std::io::stderr)
            .boxed(),
        // One JSON object per line, span fields (request_id, trace_id, …)
        // included.
        LogFormat::Json => tracing_subscriber::fmt::layer()
            .json()
            .with_ansi(false)
            .with_current_span(true)
            .with_writer(std::io::stderr)
            .boxed(),
    };
    let registry = tracing_subscriber::registry().with(filter).with(logs);
    // Spans get OpenTelemetry ids even without a collector: a request's
    // log lines carry the caller's `trace_id` (request_id.rs), so they can
    // be found from a trace seen elsewhere. Without an exporter the spans
    // end in no processor and cost only their ids.
    let mut provider = SdkTracerProvider::builder().with_resource(
        opentelemetry_sdk::Resource::builder()
            .with_service_name("pyck-server")
            .build(),
    );
    let endpoint = match otlp {
        Some(url) => {
            let endpoint = format!("{}/v1/traces", url.trim_end_matches('/'));
            let exporter = opentelemetry_otlp::SpanExporter::builder()
                .with_http()
                .with_endpoint(&endpoint)
                .build()?;
            provider = provider.with_batch_exporter(exporter);
            Some(endpoint)
        }
        None => None,
    };
    let provider = provider.build();
    let tracer = provider.tracer("pyck-server");
    registry
        .with(tracing_opentelemetry::layer().with_tracer(tracer))
        .init();
    if let Some(endpoint) = endpoint {
        tracing::info!(endpoint = %crate::commands::redact(&endpoint), "exporting traces over OTLP/HTTP");
    }
    Ok(Telemetry {
        provider: Some(provider),
    })
}

impl Telemetry {
    /// Exports the spans still buffered; call after the runtime has ended.
    pub fn shutdown(self) {
        if let Some(provider) = self.provider
            && let Err(e) = provider.shutdown()
        {
            eprintln!("warning: exporting the last traces: {e}");
        }
    }
}
