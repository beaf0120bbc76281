//! Rendering results: `--json` prints one JSON document on stdout; otherwise
//! a plain table or a sentence for people.

use std::io::Write;

use serde::Serialize;

/// Writes errors (a closed pipe) back to the caller instead of panicking
/// like `println!`.
pub fn json<T: Serialize + ?Sized>(value: &T) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    serde_json::to_writer(&mut out, value)?;
    writeln!(out)?;
    Ok(())
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
