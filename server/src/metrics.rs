//! Prometheus metrics: what an operator of the server watches.
//!
//! Counted where things happen (push outcomes in the GraphQL layer, request
//! durations in the HTTP layer, step attempts in the workflow engine) and
//! rendered at `/metrics` in the OpenMetrics text format, which is what
//! `prometheus-client` writes (it ends in `# EOF` and names a counter's
//! family without `_total`): so it is served as
//! `application/openmetrics-text`, never as Prometheus' older `text/plain`,
//! whose parsers would read those counters as untyped. Names follow
//! Prometheus' conventions: base units (seconds, bytes) as a suffix, before
//! `_total` on counters. The full list is in docs/OPERATIONS.md.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::metrics::info::Info;
use prometheus_client::registry::{Registry, Unit};
use pyck_vocab::protocol::{OpResult, PushOutcome};

/// The `Content-Type` of [`Metrics::render`]'s text.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ResultLabel {
    result: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StatusLabel {
    status: u16,
}

/// One request as OpenTelemetry's `http.server.request.duration` labels it.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    method: &'static str,
    /// The route's template (`/attachments/{sha}`), never the raw path: one
    /// series per route, whatever the clients send.
    route: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StepLabels {
    step: &'static str,
    status: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StateLabel {
    state: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct BuildLabels {
    version: &'static str,
}

/// 0.5 ms .. ~16 s
fn duration_buckets() -> Histogram {
    Histogram::new(exponential_buckets(0.0005, 2.0, 16))
}

pub struct Metrics {
    registry: Registry,
    operations: Family<ResultLabel, Counter>,
    push_seconds: Histogram,
    requests: Family<StatusLabel, Counter>,
    request_seconds: Family<RouteLabels, Histogram, fn() -> Histogram>,
    photo_bytes: Counter,
    subscriptions: Gauge,
    workflow_steps: Family<StepLabels, Counter>,
    workflows_due: Gauge,
    workflows_finished: Family<StateLabel, Counter>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("pyck");
        registry.register(
            "build",
            "The server's version (always 1)",
            Info::new(BuildLabels {
                version: env!("CARGO_PKG_VERSION"),
            }),
        );
        let operations = Family::<ResultLabel, Counter>::default();
        registry.register(
            "operations",
            "Pushed operations by outcome (applied, duplicate, refused, gap)",
            operations.clone(),
        );
        let push_seconds = duration_buckets();
        registry.register_with_unit(
            "push_duration",
            "Time to settle and commit one push batch",
            Unit::Seconds,
            push_seconds.clone(),
        );
        let requests = Family::<StatusLabel, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests by response status",
            requests.clone(),
        );
        let request_seconds: Family<RouteLabels, Histogram, fn() -> Histogram> =
            Family::new_with_constructor(duration_buckets);
        registry.register_with_unit(
            "http_request_duration",
            "Time to answer an HTTP request (until its response head; a subscription's socket counts until upgraded), by method, route and status",
            Unit::Seconds,
            request_seconds.clone(),
        );
        let photo_bytes = Counter::default();
        registry.register_with_unit(
            "photo_received",
            "Bytes of photo chunks taken (a resumed upload does not count twice)",
            Unit::Bytes,
            photo_bytes.clone(),
        );
        let subscriptions = Gauge::default();
        registry.register(
            "subscriptions_open",
            "Live-event subscriptions open on this replica (/graphql/ws)",
            subscriptions.clone(),
        );
        let workflow_steps = Family::<StepLabels, Counter>::default();
        registry.register(
            "workflow_steps",
            "Workflow step attempts stored by this replica, by step and status (done, failed, cancelled, overdue)",
            workflow_steps.clone(),
        );
        let workflows_due = Gauge::default();
        registry.register(
            "workflows_due",
            "Workflows with a step due now, claimed by a replica or not (read every 5 s by each replica's engine)",
            workflows_due.clone(),
        );
        let workflows_finished = Family::<StateLabel, Counter>::default();
        registry.register(
            "workflows_finished",
            "Workflows this replica finished, by their last state (completed, compensated, failed: given up, an operator's turn)",
            workflows_finished.clone(),
        );
        Self {
            registry,
            operations,
            push_seconds,
            requests,
            request_seconds,
            photo_bytes,
            subscriptions,
            workflow_steps,
            workflows_due,
            workflows_finished,
        }
    }

    pub fn record_push(&self, results: &[OpResult], seconds: f64) {
        self.push_seconds.observe(seconds);
        for r in results {
            let result = match r.outcome {
                PushOutcome::Applied { .. } => "applied",
                PushOutcome::Duplicate => "duplicate",
                PushOutcome::Refused(_) => "refused",
                PushOutcome::Gap { .. } => "gap",
            };
            self.operations.get_or_create(&ResultLabel { result }).inc();
        }
    }

    pub fn record_photo_bytes(&self, n: u64) {
        self.photo_bytes.inc_by(n);
    }

    /// One answered request. `route` is the matched route's template, or
    /// `None` when no route matched (a 404: counted under one label, so
    /// scanning for paths cannot make new series).
    pub fn record_request(
        &self,
        method: &axum::http::Method,
        route: Option<&str>,
        status: u16,
        seconds: f64,
    ) {
        self.requests.get_or_create(&StatusLabel { status }).inc();
        let labels = RouteLabels {
            method: method_label(method),
            route: route.unwrap_or("unmatched").to_owned(),
            status,
        };
        self.request_seconds.get_or_create(&labels).observe(seconds);
    }

    /// The subscriptions open now (read from the live-event route's places
    /// at each scrape).
    pub fn set_subscriptions_open(&self, n: usize) {
        self.subscriptions.set(i64::try_from(n).unwrap_or(i64::MAX));
    }

    /// One stored workflow step attempt.
    pub fn record_workflow_step(&self, step: &'static str, status: &'static str) {
        self.workflow_steps
            .get_or_create(&StepLabels { step, status })
            .inc();
    }

    /// A workflow that reached `state`, a finished one.
    pub fn record_workflow_finished(&self, state: &'static str) {
        self.workflows_finished
            .get_or_create(&StateLabel { state })
            .inc();
    }

    /// The workflows due, as the engine last read them.
    pub fn set_workflows_due(&self, n: u64) {
        self.workflows_due.set(i64::try_from(n).unwrap_or(i64::MAX));
    }

    /// The OpenMetrics text exposition format ([`CONTENT_TYPE`]).
    pub fn render(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}

/// The method as a label: the known ones by name, any other as `_OTHER`
/// (OpenTelemetry's rule), so a client cannot make a series per verb.
pub fn method_label(method: &axum::http::Method) -> &'static str {
    match method.as_str() {
        "GET" => "GET",
        "POST" => "POST",
        "PUT" => "PUT",
        "DELETE" => "DELETE",
        "HEAD" => "HEAD",
        "OPTIONS" => "OPTIONS",
        "PATCH" => "PATCH",
        "CONNECT" => "CONNECT",
        "TRACE" => "TRACE",
        _ => "_OTHER",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    #[test]
    fn counts_outcomes() {
        let m = Metrics::new();
        let r = |outcome| OpResult {
            id: Uuid::nil(),
            seq: 1,
            outcome,
        };
        m.record_push(
            &[
                r(PushOutcome::Applied { exceptions: 0 }),
                r(PushOutcome::Duplicate),
                r(PushOutcome::Duplicate),
            ],
            0.01,
        );
        m.record_request(&axum::http::Method::POST, Some("/graphql"), 200, 0.002);
        m.record_photo_bytes(7);
        let text = m.render();
        assert!(
            text.contains("pyck_operations_total{result=\"duplicate\"} 2"),
            "{text}"
        );
        assert!(text.contains("pyck_operations_total{result=\"applied\"} 1"));
        assert!(text.contains("pyck_push_duration_seconds_count 1"));
        assert!(text.contains("pyck_http_requests_total{status=\"200\"} 1"));
        assert!(text.contains(
            "pyck_http_request_duration_seconds_count{method=\"POST\",route=\"/graphql\",status=\"200\"} 1"
        ));
        assert!(text.contains("pyck_photo_received_bytes_total 7"), "{text}");
        assert!(
            text.contains("# UNIT pyck_photo_received_bytes bytes"),
            "{text}"
        );
        assert!(text.ends_with("# EOF\n"), "OpenMetrics: {text}");
    }

    #[test]
    fn unknown_methods_share_one_label() {
        let odd = axum::http::Method::from_bytes(b"BREW").unwrap_or_default();
        assert_eq!(method_label(&odd), "_OTHER");
        assert_eq!(method_label(&axum::http::Method::PATCH), "PATCH");
    }
}
