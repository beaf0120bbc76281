//! Every request gets an id — the caller's `x-request-id` when it sends a
//! sane one (the terminal does, the same across its retries), else a new
//! UUIDv7 — carried by a tracing span around the request, so every log line
//! it causes names it, and echoed in the response.
//!
//! The span follows OpenTelemetry's HTTP server conventions: named
//! `POST /graphql` (method and route template, never the raw path), kind
//! SERVER, with `http.request.method`, `http.route`, `url.path` and
//! `http.response.status_code`, an error status on a 5xx. A W3C
//! `traceparent` (with its `tracestate`) from the caller makes it a child of
//! the caller's trace, and its `trace_id`/`span_id` are fields of the span,
//! so JSON log lines carry them and a log line can be found from a trace.

use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::http::{HeaderMap, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use opentelemetry::propagation::{Extractor, TextMapPropagator};
use opentelemetry::trace::TraceContextExt;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use tracing::Instrument;
use tracing::field::Empty;
use tracing_opentelemetry::OpenTelemetrySpanExt;

pub const HEADER: &str = "x-request-id";

/// Ids from outside are kept only when short and plain, so a log line can
/// never be forged or bloated through this header.
fn acceptable(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
}

/// The request's headers as the W3C propagator reads them.
struct Headers<'a>(&'a HeaderMap);

impl Extractor for Headers<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|v| v.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(|k| k.as_str()).collect()
    }
}

pub async fn trace(req: Request, next: Next) -> Response {
    let id = req
        .headers()
        .get(HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|id| acceptable(id))
        .map(str::to_owned)
        .unwrap_or_else(|| uuid::Uuid::now_v7().to_string());
    let method = crate::metrics::method_label(req.method());
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned());
    // The route template keeps the span names few; with no route matched
    // the method alone is the name (the conventions' fallback).
    let name = match &route {
        Some(route) => format!("{method} {route}"),
        None => method.to_owned(),
    };
    let span = tracing::info_span!(
        "request",
        otel.name = %name,
        otel.kind = "server",
        otel.status_code = Empty,
        request_id = %id,
        http.request.method = method,
        http.route = route.as_deref(),
        url.path = %req.uri().path(),
        http.response.status_code = Empty,
        trace_id = Empty,
        span_id = Empty,
    );
    // A malformed `traceparent` yields an empty context: a new trace.
    let parent = TraceContextPropagator::new().extract(&Headers(req.headers()));
    // Fails only when the span is off (filtered out): nothing to link then.
    let _ = span.set_parent(parent);
    let otel = span.context();
    let context = otel.span().span_context().clone();
    if context.is_valid() {
        span.record("trace_id", tracing::field::display(context.trace_id()));
        span.record("span_id", tracing::field::display(context.span_id()));
    }
    let started = Instant::now();
    let mut resp = crate::request::serve(id.clone(), next.run(req).instrument(span.clone())).await;
    let status = resp.status();
    span.record("http.response.status_code", i64::from(status.as_u16()));
    if status.is_server_error() {
        span.record("otel.status_code", "ERROR");
    }
    span.in_scope(|| {
        tracing::info!(
            status = status.as_u16(),
            ms = started.elapsed().as_millis() as u64,
            "served"
        );
    });
    if let Ok(value) = HeaderValue::from_str(&id) {
        resp.headers_mut().insert(HEADER, value);
    }
    resp
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_plain_short_ids_are_taken() {
        assert!(super::acceptable("0196a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"));
        assert!(super::acceptable("pyck:sync.42"));
        assert!(!super::acceptable(""));
        assert!(!super::acceptable("a b"));
        assert!(!super::acceptable("x\ny"));
        assert!(!super::acceptable(&"a".repeat(65)));
    }
}
