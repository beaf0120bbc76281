//! Prometheus metrics: what an operator of the server watches.
//!
//! Counted where things happen (push outcomes in the GraphQL layer, request
//! statuses in the HTTP layer) and rendered at `/metrics` in the text format.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use pyck_sync::protocol::{OpResult, PushOutcome};

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ResultLabel {
    result: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StatusLabel {
    status: u16,
}

pub struct Metrics {
    registry: Registry,
    operations: Family<ResultLabel, Counter>,
    push_seconds: Histogram,
    requests: Family<StatusLabel, Counter>,
    photo_bytes: Counter,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("pyck");
        let operations = Family::<ResultLabel, Counter>::default();
        registry.register(
            "operations",
            "Pushed operations by outcome (applied, duplicate, refused, gap)",
            operations.clone(),
        );
        // 0.5 ms .. ~16 s
        let push_seconds = Histogram::new(exponential_buckets(0.0005, 2.0, 16));
        registry.register(
            "push_duration_seconds",
            "Time to settle and commit one push batch",
            push_seconds.clone(),
        );
        let requests = Family::<StatusLabel, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests by response status",
            requests.clone(),
        );
        let photo_bytes = Counter::default();
        registry.register(
            "photo_bytes_received",
            "Bytes of photo chunks taken (a resumed upload does not count twice)",
            photo_bytes.clone(),
        );
        Self {
            registry,
            operations,
            push_seconds,
            requests,
            photo_bytes,
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

    pub fn record_request(&self, status: u16) {
        self.requests.get_or_create(&StatusLabel { status }).inc();
    }

    /// The text exposition format.
    pub fn render(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
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
        m.record_request(200);
        let text = m.render();
        assert!(
            text.contains("pyck_operations_total{result=\"duplicate\"} 2"),
            "{text}"
        );
        assert!(text.contains("pyck_operations_total{result=\"applied\"} 1"));
        assert!(text.contains("pyck_push_duration_seconds_count 1"));
        assert!(text.contains("pyck_http_requests_total{status=\"200\"} 1"));
    }
}
