//! Subscriptions, served over WebSocket at `/graphql/ws` (graphql-transport-ws;
//! see `crate::http::ws`). Scoped like everything else to the device token's
//! tenant and warehouse.

use async_graphql::{Context, Json, Result, SimpleObject, Subscription as SubscriptionType};
use futures_util::{Stream, StreamExt};
use pyck_vocab::events::Event;

use super::{ApiError, auth, events};
use async_graphql::ErrorExtensions;

pub struct Subscription;

/// One live event of the caller's warehouse.
#[derive(SimpleObject)]
pub struct LiveEvent {
    /// The event's stable snake_case name (`stock_changed`, `task_created`,
    /// `task_cancelled`, `exception_raised`, `exception_resolved`,
    /// `workflow_step`), or `lagged`: this subscriber missed events and
    /// should pull.
    #[graphql(name = "type")]
    pub kind: String,
    /// The whole event as one flat JSON object (`at`, `warehouse`, `type`
    /// and the event's own fields), as `pyck feed --json` prints it.
    pub event: Json<Event>,
}

#[SubscriptionType]
impl Subscription {
    /// Live events of the calling device's warehouse, from now on. Events are
    /// hints: a terminal pulls when it gets one.
    async fn events(&self, ctx: &Context<'_>) -> Result<impl Stream<Item = LiveEvent> + use<>> {
        let a = auth(ctx)?;
        let stream = events(ctx)
            .subscribe(a.tenant, a.warehouse)
            .await
            .map_err(|e| {
                tracing::error!(error = %e, "subscription failed");
                ApiError::Internal.extend()
            })?;
        Ok(stream.map(|event| LiveEvent {
            kind: event.kind.name().to_owned(),
            event: Json(event),
        }))
    }
}
