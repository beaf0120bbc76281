//! The HTTP surface: `/graphql` (GraphQL over HTTP), `/graphql/ws`
//! (subscriptions over WebSocket), `/healthz`, `/readyz`, `/metrics`. Thin: authentication and transport here, everything else in
//! the GraphQL schema and below.

mod attachments;
mod graphql_over_http;
pub mod in_flight;
pub mod push_pull_fast_path;
pub mod rate_limit;
pub mod readiness;
pub mod request_id;
pub mod ws;

use std::sync::Arc;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::attachments::PhotoStore;
use crate::auth::token_hash;
use crate::events::Events;
use crate::graphql::{self, PyckSchema};
use crate::metrics::Metrics;
use crate::shutdown::Shutdown;
use crate::storage::{DeviceAuth, Storage};

/// Largest request body accepted (a push of the largest batch fits well).
pub const MAX_BODY_BYTES: usize = 32 * 1024 * 1024;

#[derive(Clone)]
pub struct AppState {
    pub storage: Arc<dyn Storage>,
    pub schema: PyckSchema,
    pub metrics: Arc<Metrics>,
    /// The live-event bus: publish here after a commit.
    pub events: Events,
    /// Raised when the server stops: subscriptions close with a reason.
    pub shutdown: Shutdown,
    /// Where photo attachments are kept (in memory unless configured).
    pub photos: PhotoStore,
    /// Requests per device token (off unless configured).
    pub rate_limit: Arc<rate_limit::RateLimit>,
    /// GraphQL requests at once, per tenant and in all (`in_flight`).
    in_flight: Arc<in_flight::InFlight>,
    /// Whether this replica can commit a write (`/readyz`).
    readiness: Arc<readiness::Readiness>,
    /// Live-event connections and subscriptions open, and their times.
    ws: Arc<ws::places::Places>,
}

impl AppState {
    /// A server whose live events stay in this process.
    pub fn new(storage: Arc<dyn Storage>) -> Self {
        Self::with_events(storage, Events::in_process())
    }

    /// A server publishing its live events on `events` (e.g. through NATS).
    pub fn with_events(storage: Arc<dyn Storage>, events: Events) -> Self {
        let metrics = Arc::new(Metrics::new());
        let schema = graphql::schema(Arc::clone(&storage), Arc::clone(&metrics), events.clone());
        let readiness = Arc::new(readiness::Readiness::new(Arc::clone(&storage), None));
        Self {
            storage,
            schema,
            metrics,
            events,
            shutdown: Shutdown::default(),
            photos: PhotoStore::in_memory(),
            rate_limit: Arc::new(rate_limit::RateLimit::new(0, 1)),
            in_flight: Arc::new(in_flight::InFlight::new(in_flight::BODY_TIMEOUT)),
            readiness,
            ws: Arc::new(ws::places::Places::new(ws::places::Settings::default())),
        }
    }

    /// The live-event route's times and bounds (`ws::places`).
    pub fn with_live_events(self, settings: ws::places::Settings) -> Self {
        Self {
            ws: Arc::new(ws::places::Places::new(settings)),
            ..self
        }
    }

    /// Gives a request body `timeout` to arrive (408 after it).
    pub fn with_body_timeout(self, timeout: std::time::Duration) -> Self {
        Self {
            in_flight: Arc::new(in_flight::InFlight::new(timeout)),
            ..self
        }
    }

    /// Limits each device token to `rate` requests per second, `burst` at
    /// once (0: no limit).
    pub fn with_rate_limit(self, rate: u32, burst: u32) -> Self {
        Self {
            rate_limit: Arc::new(rate_limit::RateLimit::new(rate, burst)),
            ..self
        }
    }

    /// Not ready while the file system of the embedded database has less
    /// free space than `disk` asks for.
    pub fn with_disk_floor(self, disk: readiness::DiskFloor) -> Self {
        Self {
            readiness: Arc::new(readiness::Readiness::new(
                Arc::clone(&self.storage),
                Some(disk),
            )),
            ..self
        }
    }

    /// Keeps photo attachments in `photos`.
    pub fn with_photos(self, photos: PhotoStore) -> Self {
        Self { photos, ..self }
    }
}

/// The whole app, without a socket, so tests can drive it directly.
pub fn app(state: AppState) -> Router {
    let graphql = Router::new()
        .route(
            "/graphql",
            get(graphql_over_http::handle).post(graphql_over_http::handle),
        )
        // Outermost last: authenticate, then the device's rate, then a
        // place among its tenant's requests (in_flight.rs).
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            in_flight::limit,
        ))
        .route_layer(middleware::from_fn_with_state(state.clone(), limit_rate))
        .route_layer(middleware::from_fn_with_state(state.clone(), authenticate));
    let photos = Router::new()
        .route(
            "/attachments/{sha}",
            get(attachments::download).put(attachments::put_chunk),
        )
        .route("/attachments/{sha}/upload", get(attachments::upload_state))
        .route(
            "/attachments/{sha}/links",
            axum::routing::post(attachments::link),
        )
        .route_layer(middleware::from_fn_with_state(state.clone(), limit_rate))
        .route_layer(middleware::from_fn_with_state(state.clone(), authenticate));
    // A token on the upgrade is authenticated and counted like a GraphQL
    // request's; without one it comes in `connection_init`, as browsers
    // cannot set headers on WebSockets (ws.rs).
    let live = Router::new()
        .route("/graphql/ws", get(ws::handle))
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            in_flight::limit,
        ))
        .route_layer(middleware::from_fn_with_state(state.clone(), limit_rate))
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            ws::authenticate_if_given,
        ));
    Router::new()
        .merge(graphql)
        .merge(photos)
        .merge(live)
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/readyz", get(ready))
        .route("/metrics", get(metrics))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            count_requests,
        ))
        .layer(middleware::from_fn(request_id::trace))
        .layer(middleware::from_fn(no_sniffing))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(state)
}

/// Resolves the bearer token to a device, or answers 401 before any GraphQL
/// work is done.
async fn authenticate(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let Some(token) = bearer(req.headers()) else {
        return unauthorized(
            "authentication required: send `Authorization: Bearer <device token>`",
        );
    };
    match state.storage.authenticate(&token_hash(token)).await {
        Ok(Some(device)) => {
            req.extensions_mut().insert::<DeviceAuth>(device);
            next.run(req).await
        }
        Ok(None) => unauthorized("unknown or revoked device token"),
        Err(e) => {
            tracing::error!(error = %e, "authentication lookup failed");
            (StatusCode::SERVICE_UNAVAILABLE, "storage unavailable\n").into_response()
        }
    }
}

/// 429 with `Retry-After` (whole seconds, at least 1) for a device over its
/// rate; runs after [`authenticate`].
async fn limit_rate(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let Some(device) = req.extensions().get::<DeviceAuth>().map(|d| d.device) else {
        return next.run(req).await;
    };
    match state.rate_limit.take(device, std::time::Instant::now()) {
        Ok(()) => next.run(req).await,
        Err(wait) => {
            let secs = wait.as_secs_f64().ceil().max(1.0) as u64;
            tracing::warn!(%device, retry_after = secs, "device over its rate limit: 429");
            let mut resp = json_error(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                &format!("too many requests from this device: retry in {secs} s"),
            );
            resp.headers_mut()
                .insert(header::RETRY_AFTER, header::HeaderValue::from(secs));
            resp
        }
    }
}

/// Every answer is what its Content-Type says: a browser must not guess
/// (a "photo" whose bytes start like a JPEG and go on as HTML is served as
/// `image/jpeg`, never run as a page).
async fn no_sniffing(req: Request, next: Next) -> Response {
    let mut resp = next.run(req).await;
    resp.headers_mut().insert(
        header::X_CONTENT_TYPE_OPTIONS,
        header::HeaderValue::from_static("nosniff"),
    );
    resp
}

pub(crate) fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

fn unauthorized(message: &str) -> Response {
    let mut resp = json_error(StatusCode::UNAUTHORIZED, "unauthenticated", message);
    resp.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        header::HeaderValue::from_static("Bearer"),
    );
    resp
}

/// A refusal before any GraphQL runs, in GraphQL's error shape with a
/// stable code, so clients read every refusal the same way.
pub(crate) fn json_error(status: StatusCode, code: &str, message: &str) -> Response {
    let body = serde_json::json!({
        "errors": [{ "message": message, "extensions": { "code": code } }]
    });
    (
        status,
        [(header::CONTENT_TYPE, "application/json; charset=utf-8")],
        body.to_string(),
    )
        .into_response()
}

/// Counts and times every request by its route's template (`MatchedPath`,
/// set by the router before this layer runs).
async fn count_requests(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let method = req.method().clone();
    let route = req
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .map(|p| p.as_str().to_owned());
    let started = std::time::Instant::now();
    let resp = next.run(req).await;
    state.metrics.record_request(
        &method,
        route.as_deref(),
        resp.status().as_u16(),
        started.elapsed().as_secs_f64(),
    );
    resp
}

/// Ready means this replica can commit a write (`readiness`).
async fn ready(State(state): State<AppState>) -> Response {
    match state.readiness.check().await {
        Ok(()) => (
            StatusCode::OK,
            format!("ready ({})\n", state.storage.backend()),
        )
            .into_response(),
        Err(e) => json_error(StatusCode::SERVICE_UNAVAILABLE, e.code(), &e.to_string()),
    }
}

async fn metrics(State(state): State<AppState>) -> Response {
    state
        .metrics
        .set_subscriptions_open(state.ws.subscriptions_open());
    (
        [(header::CONTENT_TYPE, crate::metrics::CONTENT_TYPE)],
        state.metrics.render(),
    )
        .into_response()
}
