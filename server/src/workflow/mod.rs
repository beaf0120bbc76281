//! An order's fulfilment as a durable workflow: reserve → pick → pack → ship
//! → notify, with compensation when the order is cancelled or a step before
//! shipping fails for good.
//!
//! The rules are pure ([`machine`], on a clock and jitter given to them);
//! the engine (`engine`) claims due workflows with a lease, asks the storage
//! for the order's facts, runs the active step (reserve, compensate,
//! notify), and stores the transition with its history rows in one
//! transaction that holds only while the lease does. Every storage effect of
//! a step is idempotent, so a replica killed between an effect and its
//! transition repeats nothing when the step runs again; the webhook carries
//! an idempotency key for the same reason (docs/ARCHITECTURE.md).

pub mod effects;
pub mod engine;
pub mod machine;
pub mod notify;
pub mod policy;

#[cfg(test)]
mod tests;

use chrono::{DateTime, Utc};
use serde::Serialize;

/// A workflow as `workflow show` prints it (CLI.md).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Report {
    pub order: String,
    pub state: String,
    /// The step it is at (the last one, once finished).
    pub step: String,
    pub history: Vec<HistoryRow>,
}

/// One attempt of a step.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct HistoryRow {
    pub step: String,
    pub status: String,
    pub attempt: u32,
    pub at: DateTime<Utc>,
    pub error: Option<String>,
    /// The device operation the step rests on, when it rests on one.
    pub operation: Option<String>,
}
