//! One module per subcommand; each has an `Args` struct (its doc comments
//! are the `--help`) and a `run`.

mod backup;
mod device_token;
mod exceptions;
mod import;
mod manual;
mod order;
mod report;
mod serve;
mod settings;
mod tenant;
mod user;
mod verify;
mod workflow;

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use clap::{Parser, Subcommand};

use crate::import::ImportError;
use crate::storage::{self, Storage, StorageError};

/// Exit codes shared with the terminal (docs/SCRIPTING.md).
pub mod exit {
    pub const INTERNAL: u8 = 1;
    pub const USAGE: u8 = 2;
    pub const INVALID_INPUT: u8 = 3;
    pub const VERIFY_FAILED: u8 = 7;
}

/// pyck's sync server: GraphQL API, sync endpoint, warehouse domain.
#[derive(Debug, Parser)]
#[command(name = "pyck-server", version, about)]
pub struct Cli {
    /// Database: a SQLite file path or a postgres:// URL [default: a SQLite
    /// file in the platform data directory]
    #[arg(long, env = "PYCK_DB", global = true, hide_env_values = true)]
    pub db: Option<String>,

    /// Log lines on stderr: `text`, or `json` (one object per line, with
    /// the request id of the request that caused it)
    #[arg(long, env = "PYCK_LOG_FORMAT", global = true, value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,

    /// Export traces (a span per request, with its request id) to this
    /// OpenTelemetry collector over OTLP/HTTP, e.g. `http://collector:4318`
    #[arg(long, env = "PYCK_OTLP", global = true, hide_env_values = true)]
    pub otlp: Option<String>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the API over HTTP
    Serve(serve::Args),
    /// Apply database migrations and exit
    Migrate,
    /// Create and list tenants
    #[command(subcommand)]
    Tenant(tenant::Command),
    /// Import master data and opening stock from CSV files in a directory
    Import(import::Args),
    /// Operators: create, list, set PIN or role, disable and enable
    #[command(subcommand)]
    User(user::Command),
    /// Create, list and revoke device tokens
    #[command(subcommand, name = "device-token")]
    DeviceToken(device_token::Command),
    /// Check every invariant of a tenant (exit 7 when one fails)
    Verify(verify::Args),
    /// List exceptions for supervisors
    #[command(subcommand)]
    Exceptions(exceptions::Command),
    /// Cancel orders (their fulfilment workflows compensate)
    #[command(subcommand)]
    Order(order::Command),
    /// A warehouse's settings: get, set (audited), history
    #[command(subcommand)]
    Settings(settings::Command),
    /// Show where orders' fulfilment workflows stand
    #[command(subcommand)]
    Workflow(workflow::Command),
    /// Reports: productivity, receiving, exceptions, accuracy, cycle-time
    Report(report::Args),
    /// Copy the SQLite database to a new file while the server runs
    Backup(backup::Args),
    /// Manual pages (roff): this one, a command's, or all into a directory
    Man(manual::ManArgs),
    /// Shell completions
    Completions(manual::CompletionsArgs),
}

/// A failed `verify`: the differences were printed; exit 7.
#[derive(Debug, thiserror::Error)]
#[error("verification failed: {0} invariant violation(s)")]
pub struct VerifyFailed(pub usize);

/// Input a person or script gave that cannot be used; exit 3.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct InvalidInput(pub String);

pub fn exit_code(err: &anyhow::Error) -> u8 {
    if err.downcast_ref::<VerifyFailed>().is_some() {
        return exit::VERIFY_FAILED;
    }
    if err.downcast_ref::<ImportError>().is_some() || err.downcast_ref::<InvalidInput>().is_some() {
        return exit::INVALID_INPUT;
    }
    match err.downcast_ref::<StorageError>() {
        Some(
            StorageError::InvalidImport(_)
            | StorageError::Invalid(_)
            | StorageError::UnknownTenant(_)
            | StorageError::UnknownWarehouse(_)
            | StorageError::AlreadyExists(_)
            | StorageError::UnknownToken(_)
            | StorageError::UnknownOperator(_),
        ) => exit::INVALID_INPUT,
        Some(StorageError::Unsupported(_)) => exit::USAGE,
        _ => exit::INTERNAL,
    }
}

/// The default database: one SQLite file in the platform's data directory.
fn default_db() -> anyhow::Result<String> {
    let dirs = directories::ProjectDirs::from("", "", "pyck-server")
        .context("cannot find a home directory for the default database; pass --db")?;
    let path: PathBuf = dirs.data_dir().join("pyck-server.sqlite3");
    Ok(path.display().to_string())
}

async fn open(db: &str) -> anyhow::Result<Arc<dyn Storage>> {
    storage::open(db)
        .await
        .with_context(|| format!("while opening the database {}", redact(db)))
}

/// A database URL without its password, for messages and logs.
pub fn redact(db: &str) -> String {
    match (db.find("://"), db.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &db[scheme + 3..at];
            match userinfo.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &db[..scheme + 3], &db[at..]),
                None => db.to_owned(),
            }
        }
        _ => db.to_owned(),
    }
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    // Documentation needs no database.
    let command = match cli.command {
        Command::Man(args) => return manual::man(args),
        Command::Completions(args) => return manual::completions(args),
        other => other,
    };
    let db = match cli.db {
        Some(db) => db,
        None => default_db()?,
    };
    let store = open(&db).await?;
    match command {
        Command::Serve(args) => serve::run(store, &db, args).await,
        Command::Migrate => {
            println!("schema is current ({})", store.backend());
            Ok(())
        }
        Command::Tenant(cmd) => tenant::run(&*store, cmd).await,
        Command::Import(args) => import::run(&*store, args).await,
        Command::User(cmd) => user::run(&*store, cmd).await,
        Command::DeviceToken(cmd) => device_token::run(&*store, cmd).await,
        Command::Verify(args) => verify::run(&*store, args).await,
        Command::Exceptions(cmd) => exceptions::run(&*store, cmd).await,
        Command::Order(cmd) => order::run(&*store, cmd).await,
        Command::Settings(cmd) => settings::run(&*store, cmd).await,
        Command::Workflow(cmd) => workflow::run(&*store, cmd).await,
        Command::Report(args) => report::run(&*store, args).await,
        Command::Backup(args) => backup::run(&*store, args).await,
        // Answered above, before the database was opened.
        Command::Man(_) | Command::Completions(_) => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(
            redact("postgres://u:secret@h:5432/db"),
            "postgres://u:***@h:5432/db"
        );
        assert_eq!(redact("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(redact("/tmp/x.sqlite3"), "/tmp/x.sqlite3");
    }
}
