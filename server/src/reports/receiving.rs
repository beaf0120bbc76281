//! Receiving, per ASN: expected, received, damaged, and how long it stayed
//! open.
//!
//! Expected is the ASN lines' quantity (what the supplier announced);
//! received and damaged are the sums of the applied `receive` operations in
//! the window (never the ASN lines' running totals); opened is the first
//! receipt, closed the first applied `close_asn`. An ASN appears when one of
//! its operations falls in the window.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::{Table, opt, time};
use crate::storage::ReportFacts;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, async_graphql::SimpleObject)]
#[graphql(name = "ReceivingRow")]
pub struct Row {
    pub warehouse: String,
    pub asn: String,
    pub expected: i64,
    /// Good units received.
    pub received: i64,
    pub damaged: i64,
    /// Receipts (applied `receive` operations).
    pub receipts: i64,
    /// The first receipt.
    pub opened: Option<DateTime<Utc>>,
    pub closed: Option<DateTime<Utc>>,
    /// From the first receipt to the close.
    pub seconds_to_close: Option<i64>,
}

pub fn compute(facts: &ReportFacts) -> Vec<Row> {
    let mut expected: HashMap<(&str, &str), i64> = HashMap::new();
    for l in &facts.asn_lines {
        *expected.entry((&l.warehouse, &l.asn)).or_default() += l.expected;
    }
    let mut rows: BTreeMap<(&str, &str), Row> = BTreeMap::new();
    for op in &facts.operations {
        if op.kind != "receive" && op.kind != "close_asn" {
            continue;
        }
        let asn = op.payload["asn"].as_str().unwrap_or_default();
        let key = (op.warehouse.as_str(), asn);
        let row = rows.entry(key).or_insert_with(|| Row {
            warehouse: op.warehouse.clone(),
            asn: asn.to_owned(),
            expected: expected.get(&key).copied().unwrap_or(0),
            received: 0,
            damaged: 0,
            receipts: 0,
            opened: None,
            closed: None,
            seconds_to_close: None,
        });
        if op.kind == "receive" {
            row.receipts += 1;
            row.received += op.payload["qty"].as_i64().unwrap_or(0);
            row.damaged += op.payload["damaged"].as_i64().unwrap_or(0);
            row.opened = Some(row.opened.map_or(op.at, |o| o.min(op.at)));
        } else {
            row.closed = Some(row.closed.map_or(op.at, |c| c.min(op.at)));
        }
    }
    rows.into_values()
        .map(|mut r| {
            if let (Some(o), Some(c)) = (r.opened, r.closed) {
                r.seconds_to_close = Some(super::seconds(o, c));
            }
            r
        })
        .collect()
}

impl Table for Row {
    const HEADERS: &'static [&'static str] = &[
        "warehouse",
        "asn",
        "expected",
        "received",
        "damaged",
        "receipts",
        "opened",
        "closed",
        "seconds_to_close",
    ];
    fn cells(&self) -> Vec<String> {
        vec![
            self.warehouse.clone(),
            self.asn.clone(),
            self.expected.to_string(),
            self.received.to_string(),
            self.damaged.to_string(),
            self.receipts.to_string(),
            self.opened.map(time).unwrap_or_default(),
            self.closed.map(time).unwrap_or_default(),
            opt(&self.seconds_to_close),
        ]
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::reports::test_facts::{at, op};
    use crate::storage::FactAsnLine;

    #[test]
    fn sums_of_receipts_against_the_expected_lines() {
        let line = |line, expected| FactAsnLine {
            warehouse: "W1".into(),
            asn: "A1".into(),
            line,
            expected,
        };
        let facts = ReportFacts {
            asn_lines: vec![line(1, 100), line(2, 50)],
            operations: vec![
                op(
                    "receive",
                    "2",
                    10,
                    json!({"asn": "A1", "qty": 60, "damaged": 0}),
                ),
                op(
                    "receive",
                    "2",
                    20,
                    json!({"asn": "A1", "qty": 30, "damaged": 5}),
                ),
                op("close_asn", "2", 45, json!({"asn": "A1"})),
                op(
                    "receive",
                    "2",
                    50,
                    json!({"asn": "A2", "qty": 1, "damaged": 0}),
                ),
            ],
            ..ReportFacts::default()
        };
        let rows = compute(&facts);
        assert_eq!(rows.len(), 2);
        let a1 = &rows[0];
        assert_eq!(
            (a1.expected, a1.received, a1.damaged, a1.receipts),
            (150, 90, 5, 2)
        );
        assert_eq!(
            (a1.opened, a1.closed, a1.seconds_to_close),
            (Some(at(10)), Some(at(45)), Some(35 * 60))
        );
        // An ASN not on file, still open.
        assert_eq!(
            (rows[1].expected, rows[1].closed, rows[1].seconds_to_close),
            (0, None, None)
        );
    }
}
