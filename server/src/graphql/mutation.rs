//! Mutations: the push.

use std::time::Instant;

use async_graphql::{Context, Object, Result};
use pyck_sync::refusal::RefusalCode;

use super::query::check_protocol;
use super::types::{PushRequest, PushResponse};
use super::{ApiError, auth, storage, storage_error};
use crate::metrics::Metrics;
use async_graphql::ErrorExtensions;

/// Most operations accepted in one push; a terminal sends larger backlogs in
/// several batches.
pub const MAX_PUSH_OPS: usize = 20_000;

pub struct Mutation;

#[Object]
impl Mutation {
    /// Applies a batch of the calling device's operations, exactly once each,
    /// in sequence order. Answers only after the batch is committed.
    async fn push(&self, ctx: &Context<'_>, request: PushRequest) -> Result<PushResponse> {
        let a = auth(ctx)?;
        let req = request.0;
        check_protocol(req.protocol)?;
        if req.ops.len() > MAX_PUSH_OPS {
            return Err(ApiError::BadRequest(format!(
                "ops: at most {MAX_PUSH_OPS} operations per push, got {}; send them in batches",
                req.ops.len()
            ))
            .extend());
        }
        if let Some(op) = req.ops.iter().find(|op| op.device != a.device) {
            return Err(ApiError::Refused {
                code: RefusalCode::DeviceMismatch,
                message: format!(
                    "operation {} names device {}, but this token belongs to device {}",
                    op.id, op.device, a.device
                ),
            }
            .extend());
        }
        let started = Instant::now();
        let resp = storage(ctx)
            .push(a, req.ops, req.backlog)
            .await
            .map_err(storage_error)?;
        ctx.data_unchecked::<std::sync::Arc<Metrics>>()
            .record_push(&resp.results, started.elapsed().as_secs_f64());
        Ok(PushResponse(resp))
    }
}
