//! `pyck`, the warehouse terminal, as a library: the binary (`main.rs`) is a
//! thin shell over it, and the benchmark harness and tests call into it.

pub mod checks;
pub mod cli;
pub mod commands;
pub mod config;
pub mod enrol;
pub mod error;
pub mod floor;
pub mod input;
pub mod output;
pub mod progress;
pub mod store;
pub mod sync;
pub mod tui;
