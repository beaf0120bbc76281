//! Order cycle time, from the workflow history: from the order's first
//! history row (its reserve step) to the `ship` step done. An order is in
//! the report when its first row falls in the window; orders not shipped
//! (yet, or cancelled) have no cycle time and are left out of the median
//! and p90 ([`summary`]).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::{Table, opt, time};
use crate::storage::{ReportFacts, ReportScope};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, async_graphql::SimpleObject)]
#[graphql(name = "CycleTimeRow")]
pub struct Row {
    pub warehouse: String,
    pub order: String,
    /// The first history row.
    pub started: DateTime<Utc>,
    /// The `ship` step done.
    pub shipped: Option<DateTime<Utc>>,
    pub seconds: Option<i64>,
}

/// Median and 90th percentile (nearest rank) of the shipped orders' cycle
/// times, in seconds; `None` with no shipped order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, async_graphql::SimpleObject)]
pub struct CycleTimeSummary {
    pub shipped: i64,
    pub median_seconds: Option<i64>,
    pub p90_seconds: Option<i64>,
}

/// Rows for orders whose workflow started in `scope`'s window.
pub fn compute(facts: &ReportFacts, scope: &ReportScope) -> Vec<Row> {
    let mut orders: BTreeMap<(&str, &str), Vec<&crate::storage::FactHistory>> = BTreeMap::new();
    for h in &facts.workflow_history {
        orders.entry((&h.warehouse, &h.order)).or_default().push(h);
    }
    orders
        .into_iter()
        .filter_map(|((warehouse, order), mut rows)| {
            rows.sort_by_key(|h| h.n);
            let started = rows.first()?.at;
            if !scope.contains(started) {
                return None;
            }
            let shipped = rows
                .iter()
                .find(|h| h.step == "ship" && h.status == "done")
                .map(|h| h.at);
            Some(Row {
                warehouse: warehouse.to_owned(),
                order: order.to_owned(),
                started,
                shipped,
                seconds: shipped.map(|s| super::seconds(started, s)),
            })
        })
        .collect()
}

pub fn summary(rows: &[Row]) -> CycleTimeSummary {
    let mut s: Vec<i64> = rows.iter().filter_map(|r| r.seconds).collect();
    s.sort_unstable();
    let rank = |p: f64| -> Option<i64> {
        if s.is_empty() {
            return None;
        }
        let k = ((p * s.len() as f64).ceil() as usize).clamp(1, s.len());
        Some(s[k - 1])
    };
    CycleTimeSummary {
        shipped: s.len() as i64,
        median_seconds: rank(0.5),
        p90_seconds: rank(0.9),
    }
}

impl Table for Row {
    const HEADERS: &'static [&'static str] =
        &["warehouse", "order", "started", "shipped", "seconds"];
    fn cells(&self) -> Vec<String> {
        vec![
            self.warehouse.clone(),
            self.order.clone(),
            time(self.started),
            self.shipped.map(time).unwrap_or_default(),
            opt(&self.seconds),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(seconds: Option<i64>) -> Row {
        Row {
            warehouse: "W1".into(),
            order: "O".into(),
            started: crate::reports::test_facts::at(0),
            shipped: None,
            seconds,
        }
    }

    #[test]
    fn median_and_p90_are_nearest_rank_over_shipped_orders() {
        let rows: Vec<Row> = (1..=10)
            .map(|s| row(Some(s * 60)))
            .chain([row(None)])
            .collect();
        let s = summary(&rows);
        assert_eq!(s.shipped, 10);
        assert_eq!(s.median_seconds, Some(300));
        assert_eq!(s.p90_seconds, Some(540));
        assert_eq!(summary(&[row(None)]).median_seconds, None);
    }
}
