//! Errors that decide an exit code. Everything else is an internal error
//! (exit 1). Only `main` turns these into codes (docs/SCRIPTING.md).

use pyck_vocab::refusal::Refusal;

#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// Exit 2: the command line cannot be used as given.
    #[error("{0}")]
    Usage(String),
    /// Exit 3: input (a flag value, a file row, a scan) is not valid.
    #[error("{0}")]
    Invalid(String),
    /// Exit 3: one row of an input file is not valid; it names the line
    /// and the field, so a file's bad rows can be reported together.
    #[error("{0}")]
    BadRow(BadRow),
    /// Exit 3: an input file with bad rows, every one named (the first
    /// [`BadRows::LIMIT`]); nothing of it was recorded.
    #[error("{0}")]
    BadRows(BadRows),
    /// Exit 4: the server cannot be reached (or keeps failing).
    #[error("server unreachable: {0}")]
    Unreachable(String),
    /// Exit 5: the server refused the request as a whole.
    #[error("refused by the server: {0}")]
    Refused(Refusal),
    /// Exit 6: not initialised, or no operator logged in.
    #[error("{0}")]
    NotInitialised(String),
    /// Exit 8: the terminal's store is not the one its config and the
    /// server know (missing, emptied, replaced by another or an older
    /// copy); nothing is read or recorded until it is restored or the
    /// device starts over (`pyck init --start-over`).
    #[error("{0}")]
    StoreLost(String),
}

pub mod exit {
    pub const OK: u8 = 0;
    pub const INTERNAL: u8 = 1;
    pub const USAGE: u8 = 2;
    pub const INVALID_INPUT: u8 = 3;
    pub const UNREACHABLE: u8 = 4;
    pub const REFUSED: u8 = 5;
    pub const NOT_READY: u8 = 6;
    /// 7 is `pyck-server verify`'s "broken invariant".
    pub const STORE_LOST: u8 = 8;
}

impl CliError {
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Usage(_) => exit::USAGE,
            CliError::Invalid(_) | CliError::BadRow(_) | CliError::BadRows(_) => {
                exit::INVALID_INPUT
            }
            CliError::Unreachable(_) => exit::UNREACHABLE,
            CliError::Refused(_) => exit::REFUSED,
            CliError::NotInitialised(_) => exit::NOT_READY,
            CliError::StoreLost(_) => exit::STORE_LOST,
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
    if !is_disk_full(&err) {
        return err;
    }
    anyhow::anyhow!(
        "cannot write the terminal's store {}: the disk is full or failing ({err:#}). \
         Nothing of this command was recorded; everything recorded before is kept \
         (`pyck journal`). Free some space and run it again.",
        store.display()
    )
}

/// Whether SQLite failed for want of room (or of a working disk).
pub fn is_disk_full(err: &anyhow::Error) -> bool {
    use rusqlite::ErrorCode::{DiskFull, SystemIoFailure};
    err.chain()
        .filter_map(|e| e.downcast_ref::<rusqlite::Error>())
        .filter_map(rusqlite::Error::sqlite_error_code)
        .any(|code| matches!(code, DiskFull | SystemIoFailure))
}

/// One problem with one line of an input file, as a script is told it:
/// `line N: field: problem` on stderr, `{"line","field","message"}` in JSON.
/// `field` is absent when the line as a whole cannot be read, `line` when
/// the problem is with the input as a whole (it cannot be opened, it has
/// no rows).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct BadRow {
    pub line: Option<u64>,
    pub field: Option<String>,
    pub message: String,
}

impl std::fmt::Display for BadRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Some(line) = self.line {
            write!(f, "line {line}: ")?;
        }
        if let Some(field) = &self.field {
            write!(f, "{field}: ")?;
        }
        f.write_str(&self.message)
    }
}

/// The bad rows of one input, collected while every row is checked so that
/// one run names them all: the first [`BadRows::LIMIT`] by line, and how
/// many more there are.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BadRows {
    listed: Vec<BadRow>,
    total: usize,
}

impl BadRows {
    /// How many bad rows a report lists; a script fixing its input needs
    /// the first ones, not ten thousand lines of the same mistake.
    pub const LIMIT: usize = 100;

    pub fn push(&mut self, row: BadRow) {
        self.total += 1;
        self.listed.push(row);
        // Rows may arrive out of line order (problems found reading come
        // before those found checking), so keep more than the limit and cut
        // back to the first ones by line now and then: bounded memory
        // whatever the size of the input.
        if self.listed.len() >= 10 * Self::LIMIT {
            self.cut();
        }
    }

    /// Records `err`, the outcome of checking the row at `line`, if it is
    /// about the input (exit 3); any other error (the store failing) is
    /// handed back, and the run should stop with it.
    pub fn add(&mut self, line: u64, err: anyhow::Error) -> anyhow::Result<()> {
        let bad = match err.chain().find_map(|e| e.downcast_ref::<CliError>()) {
            Some(CliError::BadRow(bad)) => bad.clone(),
            Some(CliError::Invalid(message)) => BadRow {
                line: Some(line),
                field: None,
                message: message.clone(),
            },
            Some(CliError::BadRows(many)) => {
                for bad in many.rows() {
                    self.push(bad.clone());
                }
                self.total += many.total - many.listed.len();
                return Ok(());
            }
            _ => return Err(err),
        };
        self.push(bad);
        Ok(())
    }

    pub fn is_empty(&self) -> bool {
        self.total == 0
    }

    /// How many bad rows there are, listed or not.
    pub fn total(&self) -> usize {
        self.total
    }

    /// The rows listed so far; by line, and at most [`BadRows::LIMIT`],
    /// once [`BadRows::into_result`] made the report.
    pub fn rows(&self) -> &[BadRow] {
        &self.listed
    }

    /// `Ok` when there is nothing to report; else the error naming them.
    pub fn into_result(mut self) -> Result<(), CliError> {
        if self.is_empty() {
            return Ok(());
        }
        self.cut();
        Err(CliError::BadRows(self))
    }

    fn cut(&mut self) {
        // Stable: the problems of one line keep their order.
        self.listed.sort_by_key(|b| b.line);
        self.listed.truncate(Self::LIMIT);
    }
}

/// One line per bad row, so that `grep '^line '` finds them all; a single
/// bad row reads as it always did.
impl std::fmt::Display for BadRows {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let ([only], 1) = (self.listed.as_slice(), self.total) {
            return write!(f, "{only}");
        }
        write!(
            f,
            "{} bad rows; nothing of the input was recorded",
            self.total
        )?;
        for bad in &self.listed {
            write!(f, "\n{bad}")?;
        }
        let more = self.total - self.listed.len();
        if more > 0 {
            write!(
                f,
                "\n… and {more} more bad rows (the first {} are listed)",
                self.listed.len()
            )?;
        }
        Ok(())
    }
}

/// Shorthand for an invalid-input error.
pub fn invalid(msg: impl Into<String>) -> anyhow::Error {
    CliError::Invalid(msg.into()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bad(line: u64) -> BadRow {
        BadRow {
            line: Some(line),
            field: Some("qty".into()),
            message: format!("wrong on {line}"),
        }
    }

    #[test]
    fn a_report_lists_the_first_rows_by_line_and_counts_the_rest() {
        let mut rows = BadRows::default();
        // Out of order, and far more than the limit: memory stays bounded.
        for line in (2..5_002).rev() {
            rows.push(bad(line));
            assert!(rows.listed.len() < 10 * BadRows::LIMIT);
        }
        let err = rows.into_result().unwrap_err();
        assert_eq!(err.exit_code(), exit::INVALID_INPUT);
        let CliError::BadRows(report) = &err else {
            panic!("{err:?}")
        };
        assert_eq!(report.total(), 5_000);
        let lines: Vec<_> = report.rows().iter().filter_map(|b| b.line).collect();
        assert_eq!(lines, (2..102).collect::<Vec<_>>());
        let text = err.to_string();
        let mut text_lines = text.lines();
        assert_eq!(
            text_lines.next(),
            Some("5000 bad rows; nothing of the input was recorded")
        );
        assert_eq!(text_lines.next(), Some("line 2: qty: wrong on 2"));
        assert_eq!(
            text.lines().last(),
            Some("… and 4900 more bad rows (the first 100 are listed)")
        );
    }

    #[test]
    fn one_bad_row_reads_as_itself_and_other_errors_pass_through() {
        let mut rows = BadRows::default();
        rows.add(7, invalid("not a receipt")).unwrap();
        let err = rows.into_result().unwrap_err();
        assert_eq!(err.to_string(), "line 7: not a receipt");
        let mut rows = BadRows::default();
        let internal = rows.add(3, anyhow::anyhow!("disk on fire")).unwrap_err();
        assert_eq!(internal.to_string(), "disk on fire");
        assert!(rows.into_result().is_ok());
    }
}
