//! How many GraphQL requests are read and worked on at once, and how long a
//! body may take to arrive.
//!
//! Places are taken after authentication, per tenant: one tenant's slow or
//! heavy requests (a stolen handheld sending bodies a byte at a time) wait
//! for that tenant's places only, never another tenant's. A cap over all
//! tenants keeps memory bounded: a body is read only once its request holds
//! both places, and it must arrive within the body timeout, so a slow body
//! gives its places back (408) rather than holding them.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tokio::sync::Semaphore;

use super::{AppState, MAX_BODY_BYTES, json_error};
use crate::storage::DeviceAuth;

/// Requests of one tenant read and worked on at once. Pushes serialise on
/// the database's write lock anyway, so more at once only hold more batches
/// in memory: with 50 devices syncing together the server peaked at 160 MB
/// with 8 places.
pub const PER_TENANT: usize = 8;

/// Requests of all tenants at once: one tenant can hold at most half.
pub const TOTAL: usize = 2 * PER_TENANT;

/// How long a request body may take to arrive once its places are taken
/// (`serve --body-timeout`): a push of the largest batch a terminal sends
/// (5,000 operations, about 1.2 MB) needs under 10 s at 1 Mbit/s.
pub const BODY_TIMEOUT: Duration = Duration::from_secs(30);

pub struct InFlight {
    total: Semaphore,
    tenants: Mutex<HashMap<i64, Arc<Semaphore>>>,
    body_timeout: Duration,
}

impl InFlight {
    pub fn new(body_timeout: Duration) -> InFlight {
        InFlight {
            total: Semaphore::new(TOTAL),
            tenants: Mutex::new(HashMap::new()),
            body_timeout,
        }
    }

    fn tenant(&self, tenant: i64) -> Arc<Semaphore> {
        let mut tenants = self
            .tenants
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        Arc::clone(
            tenants
                .entry(tenant)
                .or_insert_with(|| Arc::new(Semaphore::new(PER_TENANT))),
        )
    }
}

/// Waits for a place of the request's tenant and one of all, then reads the
/// body within the timeout, and keeps both places until the response is
/// built. Runs after [`super::authenticate`].
pub async fn limit(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let in_flight = &state.in_flight;
    let Some(tenant) = req.extensions().get::<DeviceAuth>().map(|d| d.tenant) else {
        return next.run(req).await;
    };
    let tenant_places = in_flight.tenant(tenant);
    let (Ok(_tenant_place), Ok(_place)) = (
        tenant_places.acquire().await,
        in_flight.total.acquire().await,
    ) else {
        return (StatusCode::SERVICE_UNAVAILABLE, "shutting down\n").into_response();
    };
    let (parts, body) = req.into_parts();
    let read = axum::body::to_bytes(body, MAX_BODY_BYTES);
    let bytes = match tokio::time::timeout(in_flight.body_timeout, read).await {
        Ok(Ok(bytes)) => bytes,
        Ok(Err(e)) => return too_large_or_broken(&e),
        Err(_) => {
            tracing::warn!(tenant, "request body not received in time: 408");
            return json_error(
                StatusCode::REQUEST_TIMEOUT,
                "body_timeout",
                &format!(
                    "the request body did not arrive within {} s",
                    in_flight.body_timeout.as_secs()
                ),
            );
        }
    };
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}

fn too_large_or_broken(e: &axum::Error) -> Response {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(e);
    let mut too_large = false;
    while let Some(c) = cause {
        too_large |= c.is::<http_body_util::LengthLimitError>();
        cause = c.source();
    }
    if too_large {
        return json_error(
            StatusCode::PAYLOAD_TOO_LARGE,
            "body_too_large",
            &format!("the request body is larger than {MAX_BODY_BYTES} bytes"),
        );
    }
    json_error(
        StatusCode::BAD_REQUEST,
        "bad_request",
        "the request body could not be read",
    )
}
