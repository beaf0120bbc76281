//! `/attachments/{sha256}`: photo uploads in chunks and downloads, scoped to
//! the device token's tenant (docs/ATTACHMENTS.md).
//!
//! - `GET  /attachments/{sha256}/upload` → `{"received":N,"complete":bool}`
//! - `PUT  /attachments/{sha256}` with `x-pyck-offset` and `x-pyck-size`
//!   headers and a chunk as the body → the same; 409 with it when the chunk
//!   is not at the server's offset; 413 over the size limit; 422 when the
//!   whole does not hash to its name or is not a photo
//! - `POST /attachments/{sha256}/links` `{"exception":"…"}` or
//!   `{"operation":"…"}` → 204; 404 for an unknown photo or target
//! - `GET  /attachments/{sha256}` → the photo

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Extension, Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use pyck_vocab::attachments::Target;
use serde_json::json;

use super::AppState;
use crate::attachments::UploadError;
use crate::storage::{DeviceAuth, LinkOutcome};

fn error(status: StatusCode, message: &str) -> Response {
    (status, Json(json!({ "error": message }))).into_response()
}

fn failed(e: &UploadError) -> Response {
    match e {
        UploadError::BadRequest(m) => error(StatusCode::BAD_REQUEST, m),
        UploadError::TooLarge { .. } => error(StatusCode::PAYLOAD_TOO_LARGE, &e.to_string()),
        UploadError::WrongOffset(state) => (StatusCode::CONFLICT, Json(*state)).into_response(),
        UploadError::Rejected(m) => error(StatusCode::UNPROCESSABLE_ENTITY, m),
        UploadError::Storage(_) | UploadError::Objects(_) => {
            tracing::error!(error = %e, "photo upload");
            error(StatusCode::SERVICE_UNAVAILABLE, "storage unavailable")
        }
    }
}

fn header_u64(headers: &HeaderMap, name: &str) -> Option<u64> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
}

pub async fn upload_state(
    State(state): State<AppState>,
    Extension(device): Extension<DeviceAuth>,
    Path(sha): Path<String>,
) -> Response {
    match state
        .photos
        .state(&*state.storage, device.tenant, &sha)
        .await
    {
        Ok(s) => Json(s).into_response(),
        Err(e) => failed(&e),
    }
}

pub async fn put_chunk(
    State(state): State<AppState>,
    Extension(device): Extension<DeviceAuth>,
    Path(sha): Path<String>,
    headers: HeaderMap,
    chunk: Bytes,
) -> Response {
    let (Some(offset), Some(size)) = (
        header_u64(&headers, "x-pyck-offset"),
        header_u64(&headers, "x-pyck-size"),
    ) else {
        return error(
            StatusCode::BAD_REQUEST,
            "x-pyck-offset and x-pyck-size: expected whole numbers of bytes",
        );
    };
    // Its own task: a client that goes away (a scanner killed, a network
    // cut) drops this handler, and the chunk must then be stored and
    // counted, or neither, not cut between the two. The device's next sync
    // asks where the upload stands and goes on from there.
    let stored = tokio::spawn(async move {
        let result = state
            .photos
            .put_chunk(&*state.storage, device.tenant, &sha, offset, size, &chunk)
            .await;
        if result.is_ok() {
            state.metrics.record_photo_bytes(chunk.len() as u64);
        }
        result
    });
    match stored.await {
        Ok(Ok(s)) => Json(s).into_response(),
        Ok(Err(e)) => failed(&e),
        Err(e) => {
            tracing::error!(error = %e, "storing a photo chunk");
            error(StatusCode::INTERNAL_SERVER_ERROR, "internal server error")
        }
    }
}

pub async fn link(
    State(state): State<AppState>,
    Extension(device): Extension<DeviceAuth>,
    Path(sha): Path<String>,
    Json(target): Json<Target>,
) -> Response {
    let outcome = state
        .storage
        .link_attachment(device.tenant, device.warehouse, &sha, &target)
        .await;
    match outcome {
        Ok(LinkOutcome::Linked) => StatusCode::NO_CONTENT.into_response(),
        Ok(LinkOutcome::UnknownAttachment) => error(
            StatusCode::NOT_FOUND,
            "no complete photo with that SHA-256: upload it first",
        ),
        Ok(LinkOutcome::UnknownTarget) => error(
            StatusCode::NOT_FOUND,
            "no such exception or operation in this warehouse",
        ),
        Err(e) => {
            tracing::error!(error = %e, "linking a photo");
            error(StatusCode::SERVICE_UNAVAILABLE, "storage unavailable")
        }
    }
}

pub async fn download(
    State(state): State<AppState>,
    Extension(device): Extension<DeviceAuth>,
    Path(sha): Path<String>,
) -> Response {
    match state.photos.get(&*state.storage, device.tenant, &sha).await {
        Ok(Some((a, bytes))) => ([(header::CONTENT_TYPE, a.content_type)], bytes).into_response(),
        Ok(None) => error(StatusCode::NOT_FOUND, "no such photo"),
        Err(e) => failed(&e),
    }
}
