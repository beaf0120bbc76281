//! Exceptions raised, by day (UTC) and kind, with how many of them have
//! been resolved since.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::Serialize;

use super::Table;
use crate::storage::ReportFacts;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, async_graphql::SimpleObject)]
#[graphql(name = "ExceptionsRow")]
pub struct Row {
    /// The day they were raised (UTC), YYYY-MM-DD.
    pub day: NaiveDate,
    pub kind: String,
    pub raised: i64,
    /// Of those raised, resolved by now.
    pub resolved: i64,
}

pub fn compute(facts: &ReportFacts) -> Vec<Row> {
    let mut rows: BTreeMap<(NaiveDate, &str), (i64, i64)> = BTreeMap::new();
    for e in &facts.exceptions {
        let n = rows
            .entry((e.raised_at.date_naive(), e.kind.as_str()))
            .or_default();
        n.0 += 1;
        n.1 += i64::from(e.resolved_at.is_some());
    }
    rows.into_iter()
        .map(|((day, kind), (raised, resolved))| Row {
            day,
            kind: kind.to_owned(),
            raised,
            resolved,
        })
        .collect()
}

impl Table for Row {
    const HEADERS: &'static [&'static str] = &["day", "kind", "raised", "resolved"];
    fn cells(&self) -> Vec<String> {
        vec![
            self.day.to_string(),
            self.kind.clone(),
            self.raised.to_string(),
            self.resolved.to_string(),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reports::test_facts::at;
    use crate::storage::FactException;

    #[test]
    fn by_day_and_kind() {
        let e = |kind: &str, minute, resolved: bool| FactException {
            warehouse: "W1".into(),
            kind: kind.into(),
            raised_at: at(minute),
            resolved_at: resolved.then(|| at(minute + 1)),
        };
        let facts = ReportFacts {
            exceptions: vec![
                e("short_pick", 0, true),
                e("short_pick", 5, false),
                e("over_receipt", 0, false),
                e("short_pick", 24 * 60, false),
            ],
            ..ReportFacts::default()
        };
        let got: Vec<_> = compute(&facts)
            .into_iter()
            .map(|r| (r.day.to_string(), r.kind, r.raised, r.resolved))
            .collect();
        assert_eq!(
            got,
            vec![
                ("2026-11-23".into(), "over_receipt".into(), 1, 0),
                ("2026-11-23".into(), "short_pick".into(), 2, 1),
                ("2026-11-24".into(), "short_pick".into(), 1, 0),
            ]
        );
    }
}
