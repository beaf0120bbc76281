//! The two sync fields, `push` and `pull`, as plain async functions on typed
//! `pyck_vocab::protocol` values. The GraphQL resolvers call them, and so does
//! the HTTP layer's fast path for the terminal's own sync documents
//! (`crate::http::push_pull_fast_path`): one implementation, so the two ways in
//! cannot disagree on checks, limits or metrics.

use std::sync::Arc;
use std::time::Instant;

use pyck_vocab::protocol::{self, PullPage, PullRequest, PushRequest, PushResponse};
use pyck_vocab::refusal::RefusalCode;

use super::ApiError;
use crate::events::Events;
use crate::metrics::Metrics;
use crate::storage::{DeviceAuth, Storage};

/// Most operations accepted in one push, written once in the vocabulary
/// crate: a terminal sends larger backlogs in batches of this size.
pub use pyck_vocab::protocol::MAX_PUSH_OPS;

/// Largest pull page handed out, whatever the device asks for.
pub const MAX_PULL_PAGE: u32 = 10_000;

/// Applies a batch of the calling device's operations, exactly once each, in
/// sequence order; answers only after the batch is committed, and wakes the
/// relay that publishes the live events committed with it.
pub async fn push(
    storage: &Arc<dyn Storage>,
    metrics: &Metrics,
    events: &Events,
    device: &DeviceAuth,
    req: PushRequest,
) -> Result<PushResponse, ApiError> {
    check_protocol(req.protocol)?;
    if req.ops.len() > MAX_PUSH_OPS {
        return Err(ApiError::BadRequest(format!(
            "ops: at most {MAX_PUSH_OPS} operations per push, got {}; send them in batches",
            req.ops.len()
        )));
    }
    if let Some(op) = req.ops.iter().find(|op| op.device != device.device) {
        return Err(ApiError::Refused {
            code: RefusalCode::DeviceMismatch,
            message: format!(
                "operation {} names device {}, but this token belongs to device {}",
                op.id, op.device, device.device
            ),
        });
    }
    let started = Instant::now();
    let pushed = storage.push(device, req.ops, req.backlog).await?;
    events.committed();
    metrics.record_push(&pushed.results, started.elapsed().as_secs_f64());
    // In the request's span, so the line carries its request id too.
    let results = &pushed.results;
    let applied = results
        .iter()
        .filter(|r| matches!(r.outcome, pyck_vocab::protocol::PushOutcome::Applied { .. }))
        .count();
    tracing::info!(
        device = %device.device,
        ops = results.len(),
        applied,
        first_op = %results.first().map(|r| r.id.to_string()).unwrap_or_default(),
        last_op = %results.last().map(|r| r.id.to_string()).unwrap_or_default(),
        last_seq = pushed.last_seq,
        "push settled"
    );
    for r in results {
        tracing::debug!(op = %r.id, seq = r.seq, outcome = ?r.outcome, "operation settled");
    }
    Ok(pushed)
}

/// Changes of the device's warehouse after a cursor, oldest first.
pub async fn pull(
    storage: &Arc<dyn Storage>,
    device: &DeviceAuth,
    req: PullRequest,
) -> Result<PullPage, ApiError> {
    check_protocol(req.protocol)?;
    let limit = req.limit.clamp(1, MAX_PULL_PAGE);
    Ok(storage.pull(device, req.cursor, limit).await?)
}

pub fn check_protocol(version: u32) -> Result<(), ApiError> {
    if protocol::supports(version) {
        Ok(())
    } else {
        Err(ApiError::Refused {
            code: RefusalCode::ProtocolVersion,
            message: protocol::mismatch_message(version),
        })
    }
}
