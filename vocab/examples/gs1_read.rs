//! Reads scans, one a line on standard input (`{GS}` for the byte 0x1D),
//! and prints, a line each, what `pyck scan` and the recording commands
//! make of them: `ok` and the elements in bracketed form, `error` and why,
//! or `none` when a bare string is no GS1 data at all. The differential
//! comparison in `scripts/gs1-compare` drives it:
//!
//! ```sh
//! cargo run -q -p pyck-vocab --example gs1_read -- 2026-12-07 < scans.txt
//! ```

use std::io::{BufRead, Write};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let today = match std::env::args().nth(1) {
        Some(day) => chrono::NaiveDate::parse_from_str(&day, "%Y-%m-%d")?,
        None => return Err("usage: gs1_read YYYY-MM-DD < scans".into()),
    };
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    for line in std::io::stdin().lock().lines() {
        let scan = line?.replace("{GS}", "\u{1d}");
        match pyck_vocab::gs1::read_scan(&scan, today) {
            Some(Ok(gs1)) => writeln!(out, "ok\t{}", gs1.render_bracketed())?,
            Some(Err(e)) => writeln!(out, "error\t{e}")?,
            None => writeln!(out, "none\tno GS1 data")?,
        }
    }
    Ok(())
}
