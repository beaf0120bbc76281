//! The terminal's end-to-end tests, one module per capability, built as
//! one test binary: the real `pyck` and `pyck-server` binaries, real
//! PostgreSQL, NATS and tmux, driven as the floor and its scripts would.
//!
//! One binary rather than one per file: each file used to compile the shared
//! harness (`common`) again and link the whole stack on its own, which was
//! most of CI's test build. nextest still runs every test in its own process.

mod common;

mod attachments;
mod backup;
mod convergence;
mod crash;
mod crash_loop;
mod deploy;
mod disk_full;
mod disk_full_sync;
mod doc_links;
mod enrol;
mod feed;
mod floor;
mod floor_truth;
mod graceful_shutdown;
mod graphql_ws;
mod limits;
mod metrics;
mod offline_shift;
mod operator_login;
mod readiness;
mod reports;
mod roles;
mod scale_out;
mod scanners;
mod scripting;
mod secrets;
mod settings;
mod slow_bodies;
mod soak;
mod store_lost;
mod tls;
mod tracing;
mod tui;
mod tui_pick_truth;
mod warehouse_flow;
mod workflow;
