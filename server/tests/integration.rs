//! The server's integration tests, one module per concern, built as one
//! test binary: storage backends on a real SQLite file and a real
//! PostgreSQL, and the real `pyck-server` binary on 127.0.0.1.
//!
//! One binary rather than one per file, so the shared harness (`common`) is
//! compiled and the server linked once; nextest still runs every test in its
//! own process.

mod common;

mod admin_cli;
mod bad_input;
mod conformance;
mod events;
mod http_api;
mod live_protocol;
mod operation_ids_and_times;
mod operators;
mod request_limits;
mod tenancy;
