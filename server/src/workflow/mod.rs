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

pub mod machine;
pub mod policy;

#[cfg(test)]
mod tests;
