//! Rendering results: `--json` prints one JSON document on stdout; otherwise
//! a plain table or a sentence for people.

use std::io::Write;

use serde::Serialize;

use crate::error::{BadRow, CliError};

/// Writes errors (a closed pipe) back to the caller instead of panicking
/// like `println!`.
pub fn json<T: Serialize + ?Sized>(value: &T) -> anyhow::Result<()> {
    // Buffered: stdout alone flushes every 1 KiB or so, a system call per
    // few rows of a file's outcomes.
    let mut out = std::io::BufWriter::with_capacity(64 * 1024, std::io::stdout().lock());
    serde_json::to_writer(&mut out, value)?;
    writeln!(out)?;
    out.flush()?;
    Ok(())
}

/// With `--json`, an input refused as invalid (exit 3) is also told on
/// stdout, as the array of its bad rows `[{"line","field","message"}]`
/// (docs/SCRIPTING.md), so a script reads one JSON document whether the run
/// succeeded or not. The error itself goes on to `main`, which prints it on
/// stderr and decides the exit code. Other outcomes pass through untouched.
pub fn refused_input<T>(json: bool, result: anyhow::Result<T>) -> anyhow::Result<T> {
    let Err(err) = &result else {
        return result;
    };
    if !json {
        return result;
    }
    let rows = match err.chain().find_map(|e| e.downcast_ref::<CliError>()) {
        Some(CliError::BadRows(bad)) => bad.rows().to_vec(),
        Some(CliError::BadRow(bad)) => vec![bad.clone()],
        Some(CliError::Invalid(message)) => vec![BadRow {
            line: None,
            field: None,
            message: message.clone(),
        }],
        _ => return result,
    };
    // A closed stdout must not hide the error that is on its way to stderr.
    let _ = self::json(&rows);
    result
}

/// A table with aligned columns; fits a 40-column handheld for short rows.
pub fn table(headers: &[&str], rows: &[Vec<String>]) -> anyhow::Result<()> {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = std::io::stdout().lock();
    let mut line = |cells: &mut dyn Iterator<Item = String>| -> std::io::Result<()> {
        let parts: Vec<String> = cells
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        writeln!(out, "{}", parts.join("  ").trim_end())
    };
    line(&mut headers.iter().map(|h| (*h).to_owned()))?;
    for row in rows {
        line(&mut row.iter().cloned())?;
    }
    Ok(())
}
