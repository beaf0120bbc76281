//! Errors that decide an exit code. Everything else is an internal error
//! (exit 1). Only `main` turns these into codes (docs/SCRIPTING.md).

use pyck_sync::refusal::Refusal;

#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// Exit 2: the command line cannot be used as given.
    #[error("{0}")]
    Usage(String),
    /// Exit 3: input (a flag value, a file row, a scan) is not valid.
    #[error("{0}")]
    Invalid(String),
    /// Exit 4: the server cannot be reached (or keeps failing).
    #[error("server unreachable: {0}")]
    Unreachable(String),
    /// Exit 5: the server refused the request as a whole.
    #[error("refused by the server: {0}")]
    Refused(Refusal),
    /// Exit 6: not initialised, or no operator logged in.
    #[error("{0}")]
    NotInitialised(String),
}

pub mod exit {
    pub const OK: u8 = 0;
    pub const INTERNAL: u8 = 1;
    pub const USAGE: u8 = 2;
    pub const INVALID_INPUT: u8 = 3;
    pub const UNREACHABLE: u8 = 4;
    pub const REFUSED: u8 = 5;
    pub const NOT_READY: u8 = 6;
}

impl CliError {
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Usage(_) => exit::USAGE,
            CliError::Invalid(_) => exit::INVALID_INPUT,
            CliError::Unreachable(_) => exit::UNREACHABLE,
            CliError::Refused(_) => exit::REFUSED,
            CliError::NotInitialised(_) => exit::NOT_READY,
        }
    }
}

/// The exit code for any error a command returned.
pub fn exit_code(err: &anyhow::Error) -> u8 {
    err.chain()
        .find_map(|e| e.downcast_ref::<CliError>())
        .map_or(exit::INTERNAL, CliError::exit_code)
}

/// A failure to write the terminal's own store because the disk is full
/// or failing, said plainly: what happened, that nothing of the command was
/// recorded (each recording is one transaction) and that everything before
/// is kept. Other errors pass through. Still exit 1 (docs/SCRIPTING.md).
pub fn explain_storage_failure(err: anyhow::Error, store: &std::path::Path) -> anyhow::Error {
    use rusqlite::ErrorCode::{DiskFull, SystemIoFailure};
    let failed = err
        .chain()
        .filter_map(|e| e.downcast_ref::<rusqlite::Error>())
        .filter_map(rusqlite::Error::sqlite_error_code)
        .any(|code| matches!(code, DiskFull | SystemIoFailure));
    if !failed {
        return err;
    }
    anyhow::anyhow!(
        "cannot write the terminal's store {}: the disk is full or failing ({err:#}). \
         Nothing of this command was recorded; everything recorded before is kept \
         (`pyck journal`). Free some space and run it again.",
        store.display()
    )
}

/// Shorthand for an invalid-input error.
pub fn invalid(msg: impl Into<String>) -> anyhow::Error {
    CliError::Invalid(msg.into()).into()
}
