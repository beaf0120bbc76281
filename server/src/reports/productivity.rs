//! Operator productivity: picks and order lines per hour.
//!
//! A pick is an applied `pick` or `short_pick` operation; its order line is
//! the line of the pick task it names. Hours are the span from the
//! operator's first to last pick in the window: operations carry no shift
//! boundaries, and the span measures time spent picking rather than time
//! logged in. With one pick (a zero span) the rates are absent.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::{Table, rate, time};
use crate::storage::ReportFacts;

#[derive(Debug, Clone, PartialEq, Serialize, async_graphql::SimpleObject)]
#[graphql(name = "ProductivityRow")]
pub struct Row {
    pub operator: String,
    /// `pick` and `short_pick` operations.
    pub picks: i64,
    /// Distinct order lines picked for.
    pub lines: i64,
    /// Units picked.
    pub units: i64,
    pub first_pick: DateTime<Utc>,
    pub last_pick: DateTime<Utc>,
    /// From first to last pick.
    pub seconds: i64,
    pub picks_per_hour: Option<f64>,
    pub lines_per_hour: Option<f64>,
}

pub fn compute(facts: &ReportFacts) -> Vec<Row> {
    let lines: HashMap<(&str, &str), (&str, i64)> = facts
        .pick_tasks
        .iter()
        .map(|t| {
            (
                (t.warehouse.as_str(), t.task.as_str()),
                (t.order.as_str(), t.line),
            )
        })
        .collect();
    struct Acc<'a> {
        picks: i64,
        units: i64,
        lines: BTreeSet<(&'a str, &'a str, i64)>,
        first: DateTime<Utc>,
        last: DateTime<Utc>,
    }
    let mut by_operator: BTreeMap<&str, Acc> = BTreeMap::new();
    for op in &facts.operations {
        if op.kind != "pick" && op.kind != "short_pick" {
            continue;
        }
        let acc = by_operator.entry(&op.operator).or_insert(Acc {
            picks: 0,
            units: 0,
            lines: BTreeSet::new(),
            first: op.at,
            last: op.at,
        });
        acc.picks += 1;
        acc.units += op.payload["qty"].as_i64().unwrap_or(0);
        acc.first = acc.first.min(op.at);
        acc.last = acc.last.max(op.at);
        let task = op.payload["task"].as_str().unwrap_or_default();
        if let Some((order, line)) = lines.get(&(op.warehouse.as_str(), task)) {
            acc.lines.insert((&op.warehouse, order, *line));
        }
    }
    by_operator
        .into_iter()
        .map(|(operator, a)| {
            let seconds = super::seconds(a.first, a.last);
            let hours = seconds as f64 / 3600.0;
            let per_hour = |n: usize| (seconds > 0).then(|| n as f64 / hours);
            Row {
                operator: operator.to_owned(),
                picks: a.picks,
                lines: a.lines.len() as i64,
                units: a.units,
                first_pick: a.first,
                last_pick: a.last,
                seconds,
                picks_per_hour: per_hour(a.picks as usize),
                lines_per_hour: per_hour(a.lines.len()),
            }
        })
        .collect()
}

impl Table for Row {
    const HEADERS: &'static [&'static str] = &[
        "operator",
        "picks",
        "lines",
        "units",
        "first_pick",
        "last_pick",
        "seconds",
        "picks_per_hour",
        "lines_per_hour",
    ];
    fn cells(&self) -> Vec<String> {
        vec![
            self.operator.clone(),
            self.picks.to_string(),
            self.lines.to_string(),
            self.units.to_string(),
            time(self.first_pick),
            time(self.last_pick),
            self.seconds.to_string(),
            rate(self.picks_per_hour),
            rate(self.lines_per_hour),
        ]
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::reports::test_facts::op;
    use crate::storage::FactPickTask;

    #[test]
    fn picks_and_distinct_lines_over_the_span_of_picking() {
        let task = |task: &str, order: &str, line| FactPickTask {
            warehouse: "W1".into(),
            task: task.into(),
            order: order.into(),
            line,
        };
        let facts = ReportFacts {
            pick_tasks: vec![
                task("T1", "O1", 1),
                task("T2", "O1", 1),
                task("T3", "O1", 2),
            ],
            operations: vec![
                op("pick", "7", 0, json!({"task": "T1", "qty": 4})),
                // A re-allocated task of the same line: a pick, not a line.
                op("short_pick", "7", 30, json!({"task": "T2", "qty": 1})),
                op("pick", "7", 120, json!({"task": "T3", "qty": 2})),
                op("receive", "7", 200, json!({"qty": 99})),
                op("pick", "8", 10, json!({"task": "T3", "qty": 1})),
            ],
            ..ReportFacts::default()
        };
        let rows = compute(&facts);
        assert_eq!(rows.len(), 2);
        let r = &rows[0];
        assert_eq!(
            (r.operator.as_str(), r.picks, r.lines, r.units, r.seconds),
            ("7", 3, 2, 7, 7200)
        );
        assert_eq!((r.picks_per_hour, r.lines_per_hour), (Some(1.5), Some(1.0)));
        // One pick: no span, no rate.
        assert_eq!((rows[1].picks, rows[1].picks_per_hour), (1, None));
    }
}
