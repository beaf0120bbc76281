//! Every request gets an id — the caller's `x-request-id` when it sends a
//! sane one (the terminal does, the same across its retries), else a new
//! UUIDv7 — carried by a tracing span around the request, so every log line
//! it causes names it, and echoed in the response.

use std::time::Instant;

use axum::extract::Request;
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;
use tracing::Instrument;

pub const HEADER: &str = "x-request-id";

tokio::task_local! {
    /// The id of the request being served, for what it causes beyond the
    /// log (the live events it publishes).
    static REQUEST_ID: String;
}

/// The id of the request this task serves, if it serves one.
pub fn current() -> Option<String> {
    REQUEST_ID.try_with(Clone::clone).ok()
}

/// Ids from outside are kept only when short and plain, so a log line can
/// never be forged or bloated through this header.
fn acceptable(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
}

pub async fn trace(req: Request, next: Next) -> Response {
    let id = req
        .headers()
        .get(HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|id| acceptable(id))
        .map(str::to_owned)
        .unwrap_or_else(|| uuid::Uuid::now_v7().to_string());
    let span = tracing::info_span!(
        "request",
        request_id = %id,
        method = %req.method(),
        path = %req.uri().path(),
    );
    let started = Instant::now();
    let mut resp = REQUEST_ID
        .scope(id.clone(), next.run(req).instrument(span.clone()))
        .await;
    span.in_scope(|| {
        tracing::info!(
            status = resp.status().as_u16(),
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
