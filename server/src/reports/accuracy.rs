//! Inventory accuracy from counts, per warehouse.
//!
//! A count matched when its counted quantity equals the book quantity at
//! count time: the sum of the ledger's movements for the counted bin, SKU
//! and lot timed before the count (storage derives it; a count that set the
//! stock wrote its own movement at the count's time, which is not included).
//! Variance is the sum of |counted − book| over the counts.

use std::collections::BTreeMap;

use serde::Serialize;

use super::{Table, rate};
use crate::storage::ReportFacts;

#[derive(Debug, Clone, PartialEq, Serialize, async_graphql::SimpleObject)]
#[graphql(name = "AccuracyRow")]
pub struct Row {
    pub warehouse: String,
    /// Applied `count` operations.
    pub counts: i64,
    /// Counts equal to the book quantity.
    pub matched: i64,
    /// matched / counts, between 0 and 1.
    pub accuracy: f64,
    /// Sum of |counted − book|.
    pub absolute_variance: i64,
    /// Sum of counted − book (negative: less found than the book said).
    pub net_variance: i64,
}

pub fn compute(facts: &ReportFacts) -> Vec<Row> {
    let mut rows: BTreeMap<&str, (i64, i64, i64, i64)> = BTreeMap::new();
    for op in &facts.operations {
        if op.kind != "count" {
            continue;
        }
        let counted = op.payload["qty"].as_i64().unwrap_or(0);
        let difference = counted - op.book.unwrap_or(0);
        let r = rows.entry(&op.warehouse).or_default();
        r.0 += 1;
        r.1 += i64::from(difference == 0);
        r.2 += difference.abs();
        r.3 += difference;
    }
    rows.into_iter()
        .map(|(warehouse, (counts, matched, abs, net))| Row {
            warehouse: warehouse.to_owned(),
            counts,
            matched,
            accuracy: matched as f64 / counts as f64,
            absolute_variance: abs,
            net_variance: net,
        })
        .collect()
}

impl Table for Row {
    const HEADERS: &'static [&'static str] = &[
        "warehouse",
        "counts",
        "matched",
        "accuracy",
        "absolute_variance",
        "net_variance",
    ];
    fn cells(&self) -> Vec<String> {
        vec![
            self.warehouse.clone(),
            self.counts.to_string(),
            self.matched.to_string(),
            rate(Some(self.accuracy)),
            self.absolute_variance.to_string(),
            self.net_variance.to_string(),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reports::test_facts::count;

    #[test]
    fn matched_share_and_variances() {
        let facts = ReportFacts {
            operations: vec![
                count(0, 10, 10),
                count(1, 7, 10),
                count(2, 12, 10),
                count(3, 0, 0),
            ],
            ..ReportFacts::default()
        };
        let rows = compute(&facts);
        assert_eq!(rows.len(), 1);
        let r = &rows[0];
        assert_eq!(
            (r.counts, r.matched, r.absolute_variance, r.net_variance),
            (4, 2, 5, -1)
        );
        assert_eq!(r.accuracy, 0.5);
        assert_eq!(compute(&ReportFacts::default()), vec![]);
    }
}
