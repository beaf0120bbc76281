//! `pyck-server`: the sync server in front of the warehouse backend.
//!
//! The binary (`main.rs`) is a thin CLI over this library so that tests can
//! build the HTTP app, open storage and run admin commands in-process.

pub mod attachments;
pub mod auth;
pub mod commands;
pub mod domain;
pub mod events;
pub mod floor;
pub mod graphql;
pub mod http;
pub mod import;
pub mod login;
pub mod metrics;
pub mod outbox;
pub mod push;
pub mod reports;
pub mod request;
pub mod service;
pub mod settings;
pub mod shutdown;
pub mod storage;
pub mod telemetry;
pub mod tls;
pub mod workflow;

/// Re-exported for embedding the server (`pyck demo`).
pub use axum;
