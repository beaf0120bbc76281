//! Reports for supervisors (docs/REPORTS.md), computed from the raw facts
//! storage hands out ([`ReportFacts`]): the operations, the ledger, the ASN
//! lines, the exceptions and the workflow history. Nothing here reads a
//! counter kept for the purpose, so a report cannot drift from the ledger.
//!
//! One file per report, each a pure function from facts to rows; the admin
//! CLI and GraphQL render the same rows.

pub mod accuracy;
pub mod cycle_time;
pub mod exceptions;
pub mod productivity;
pub mod receiving;

use chrono::{DateTime, NaiveDate, Utc};

use crate::storage::{ReportFacts, ReportScope};

/// The reports, by their stable names (`pyck-server report KIND`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Kind {
    /// Picks and order lines per hour, per operator
    Productivity,
    /// Per ASN: expected, received, damaged, time to close
    Receiving,
    /// Exceptions raised, by day and kind
    Exceptions,
    /// Counts that matched the book, and the absolute variance
    Accuracy,
    /// Per order: from reserve to shipped
    CycleTime,
}

/// A report's rows, ready to render.
#[derive(Debug, Clone, PartialEq)]
pub enum Report {
    Productivity(Vec<productivity::Row>),
    Receiving(Vec<receiving::Row>),
    Exceptions(Vec<exceptions::Row>),
    Accuracy(Vec<accuracy::Row>),
    CycleTime(Vec<cycle_time::Row>),
}

/// Computes one report from the facts read for `scope`.
pub fn compute(kind: Kind, facts: &ReportFacts, scope: &ReportScope) -> Report {
    match kind {
        Kind::Productivity => Report::Productivity(productivity::compute(facts)),
        Kind::Receiving => Report::Receiving(receiving::compute(facts)),
        Kind::Exceptions => Report::Exceptions(exceptions::compute(facts)),
        Kind::Accuracy => Report::Accuracy(accuracy::compute(facts)),
        Kind::CycleTime => Report::CycleTime(cycle_time::compute(facts, scope)),
    }
}

/// A row as a table: the same headers and cells for text and CSV.
pub trait Table {
    const HEADERS: &'static [&'static str];
    fn cells(&self) -> Vec<String>;
}

impl Report {
    /// The rows as JSON objects (docs/SCRIPTING.md).
    pub fn to_json(&self) -> serde_json::Result<serde_json::Value> {
        match self {
            Report::Productivity(r) => serde_json::to_value(r),
            Report::Receiving(r) => serde_json::to_value(r),
            Report::Exceptions(r) => serde_json::to_value(r),
            Report::Accuracy(r) => serde_json::to_value(r),
            Report::CycleTime(r) => serde_json::to_value(r),
        }
    }

    /// Headers and cells of every row.
    pub fn table(&self) -> (&'static [&'static str], Vec<Vec<String>>) {
        fn t<R: Table>(rows: &[R]) -> (&'static [&'static str], Vec<Vec<String>>) {
            (R::HEADERS, rows.iter().map(Table::cells).collect())
        }
        match self {
            Report::Productivity(r) => t(r),
            Report::Receiving(r) => t(r),
            Report::Exceptions(r) => t(r),
            Report::Accuracy(r) => t(r),
            Report::CycleTime(r) => t(r),
        }
    }

    /// CSV with a header row (RFC 4180 quoting).
    pub fn to_csv(&self) -> String {
        let (headers, rows) = self.table();
        let mut out = String::new();
        let line = |cells: &mut dyn Iterator<Item = String>, out: &mut String| {
            let cells: Vec<String> = cells.map(|c| csv_cell(&c)).collect();
            out.push_str(&cells.join(","));
            out.push('\n');
        };
        line(&mut headers.iter().map(|h| h.to_string()), &mut out);
        for row in rows {
            line(&mut row.into_iter(), &mut out);
        }
        out
    }

    /// An aligned text table.
    pub fn to_text(&self) -> String {
        let (headers, rows) = self.table();
        let mut widths: Vec<usize> = headers.iter().map(|h| h.len()).collect();
        for row in &rows {
            for (w, c) in widths.iter_mut().zip(row) {
                *w = (*w).max(c.chars().count());
            }
        }
        let mut out = String::new();
        let mut line = |cells: Vec<String>| {
            let padded: Vec<String> = cells
                .iter()
                .zip(&widths)
                .map(|(c, w)| format!("{c:<w$}"))
                .collect();
            out.push_str(padded.join("  ").trim_end());
            out.push('\n');
        };
        line(headers.iter().map(|h| h.to_string()).collect());
        for row in rows {
            line(row);
        }
        out
    }
}

fn csv_cell(c: &str) -> String {
    if c.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", c.replace('"', "\"\""))
    } else {
        c.to_owned()
    }
}

/// A `--from`/`--to` day as the instant it starts (UTC). The error names
/// the field.
pub fn parse_day(field: &str, value: &str) -> Result<DateTime<Utc>, String> {
    NaiveDate::parse_from_str(value, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc())
        .ok_or_else(|| format!("{field}: {value:?} is not a date; write YYYY-MM-DD"))
}

/// Seconds between two instants, as a whole number.
pub(crate) fn seconds(from: DateTime<Utc>, to: DateTime<Utc>) -> i64 {
    (to - from).num_seconds()
}

/// An optional cell: empty when absent.
pub(crate) fn opt<T: ToString>(v: &Option<T>) -> String {
    v.as_ref().map(ToString::to_string).unwrap_or_default()
}

/// A rate or share, to two decimals.
pub(crate) fn rate(v: Option<f64>) -> String {
    v.map(|v| format!("{v:.2}")).unwrap_or_default()
}

/// An instant as RFC 3339 with seconds.
pub(crate) fn time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

#[cfg(test)]
pub(crate) mod test_facts {
    use chrono::{DateTime, TimeZone, Utc};
    use serde_json::json;

    use crate::storage::FactOperation;

    /// 2026-11-23 08:00 UTC plus `minutes`.
    pub fn at(minutes: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 23, 8, 0, 0).unwrap() + chrono::Duration::minutes(minutes)
    }

    /// An applied operation in warehouse W1.
    pub fn op(
        kind: &str,
        operator: &str,
        minute: i64,
        payload: serde_json::Value,
    ) -> FactOperation {
        FactOperation {
            warehouse: "W1".into(),
            kind: kind.into(),
            operator: operator.into(),
            at: at(minute),
            payload,
            book: None,
        }
    }

    pub fn count(minute: i64, counted: i64, book: i64) -> FactOperation {
        FactOperation {
            book: Some(book),
            ..op(
                "count",
                "3001",
                minute,
                json!({"location": "A", "sku": "S", "qty": counted}),
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_parse_and_errors_name_the_field() {
        assert_eq!(
            parse_day("--from", "2026-11-23").unwrap(),
            test_facts::at(-8 * 60)
        );
        let err = parse_day("--to", "23/11/2026").unwrap_err();
        assert!(err.starts_with("--to:"), "{err}");
    }

    #[test]
    fn csv_quotes_what_needs_it() {
        assert_eq!(csv_cell("a,b"), "\"a,b\"");
        assert_eq!(csv_cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_cell("plain"), "plain");
    }
}
