//! The GraphQL schema: sync (`push`, `pull`) and supervisor queries.
//!
//! Every resolver runs for an authenticated device ([`DeviceAuth`] in the
//! request data, put there by the HTTP layer) and is scoped to its tenant and
//! warehouse. The HTTP wiring lives in `crate::http`.

mod error;
pub mod limits;
mod mutation;
pub mod push_pull;
mod query;
mod subscription;
mod types;

use std::sync::Arc;

use async_graphql::Schema;

use crate::events::Events;
use crate::metrics::Metrics;
use crate::storage::{DeviceAuth, Storage};
use async_graphql::ErrorExtensions;
pub use error::{ApiError, storage_error};

pub type PyckSchema = Schema<query::Query, mutation::Mutation, subscription::Subscription>;

/// Deepest query accepted; the schema itself is shallow.
pub const MAX_DEPTH: usize = 10;
/// Most fields (by async-graphql's complexity count) in one query.
pub const MAX_COMPLEXITY: usize = 1000;

pub fn schema(storage: Arc<dyn Storage>, metrics: Arc<Metrics>, events: Events) -> PyckSchema {
    Schema::build(query::Query, mutation::Mutation, subscription::Subscription)
        .data(storage)
        .data(metrics)
        .data(events)
        .limit_depth(MAX_DEPTH)
        .limit_complexity(MAX_COMPLEXITY)
        .extension(limits::Limits)
        .finish()
}

fn auth<'a>(ctx: &async_graphql::Context<'a>) -> async_graphql::Result<&'a DeviceAuth> {
    ctx.data_opt::<DeviceAuth>()
        .ok_or_else(|| ApiError::Unauthenticated.extend())
}

fn events<'a>(ctx: &async_graphql::Context<'a>) -> &'a Events {
    // Always present: `schema` puts it in.
    ctx.data_unchecked::<Events>()
}

fn storage<'a>(ctx: &async_graphql::Context<'a>) -> &'a Arc<dyn Storage> {
    // Always present: `schema` puts it in.
    ctx.data_unchecked::<Arc<dyn Storage>>()
}

/// The schema in SDL, as committed in `server/schema.graphql` (the terminal's
/// GraphQL client is generated from that file at compile time).
pub fn sdl() -> String {
    Schema::build(query::Query, mutation::Mutation, subscription::Subscription)
        .finish()
        .sdl()
}

#[cfg(test)]
mod tests {
    /// The committed schema file is what the server serves. Regenerate with
    /// `UPDATE_SCHEMA=1 cargo test -p pyck-server schema_file`.
    #[test]
    fn schema_file_is_current() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("schema.graphql");
        let sdl = super::sdl();
        if std::env::var_os("UPDATE_SCHEMA").is_some() {
            std::fs::write(&path, &sdl).unwrap();
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == sdl,
            "server/schema.graphql is stale: run `UPDATE_SCHEMA=1 cargo test -p pyck-server schema_file`"
        );
    }
}
