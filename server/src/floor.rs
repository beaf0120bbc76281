//! The supervisor's floor dashboard (`pyck floor`, docs/FLOOR.md): open work
//! by zone, picks per hour per operator over the shift and the devices with
//! their last contact, computed from what [`FloorFacts`] reads. Pure: the
//! caller gives the time, so a test can give any.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, DurationRound, Utc};
use pyck_vocab::records::{ExceptionRecord, TaskKind};

use crate::storage::FloorFacts;

/// Longest shift the dashboard will chart, in hours.
pub const MAX_SHIFT_HOURS: u32 = 24;

/// The dashboard's figures at one moment.
#[derive(Debug, Clone, PartialEq)]
pub struct Floor {
    pub at: DateTime<Utc>,
    /// Start of the first hour charted in [`OperatorPicks::per_hour`].
    pub shift_start: DateTime<Utc>,
    pub tasks: Vec<ZoneTasks>,
    pub exceptions: Vec<ExceptionRecord>,
    pub operators: Vec<OperatorPicks>,
    pub devices: Vec<DeviceStatus>,
}

/// Open tasks of one kind in one zone.
#[derive(Debug, Clone, PartialEq, Eq, async_graphql::SimpleObject)]
pub struct ZoneTasks {
    pub zone: String,
    /// `pick`, `putaway` or `count`.
    pub kind: String,
    /// Open and not started.
    pub waiting: i64,
    /// Open with some units done (a pick or putaway under way).
    pub in_progress: i64,
    /// Units still to pick or put away (0 for counts).
    pub units_left: i64,
}

/// One operator's picks (`pick` and `short_pick`) over the shift.
#[derive(Debug, Clone, PartialEq, Eq, async_graphql::SimpleObject)]
pub struct OperatorPicks {
    pub operator: String,
    /// Picks per clock hour, from the shift's first hour to the current
    /// one (which is still running).
    pub per_hour: Vec<i64>,
    pub total: i64,
}

/// A device as the server last heard from it.
#[derive(Debug, Clone, PartialEq, Eq, async_graphql::SimpleObject)]
pub struct DeviceStatus {
    pub id: String,
    pub name: String,
    pub last_contact: Option<DateTime<Utc>>,
    /// Operations it still had to send at its last push.
    pub backlog: i64,
    pub revoked: bool,
}

/// Where a shift of `hours` clock hours ending with the current one starts.
pub fn shift_start(at: DateTime<Utc>, hours: u32) -> DateTime<Utc> {
    let hour = at.duration_trunc(Duration::hours(1)).unwrap_or(at);
    hour - Duration::hours(i64::from(hours.clamp(1, MAX_SHIFT_HOURS)) - 1)
}

/// The figures of `facts`, read at `at` with the picks since
/// [`shift_start`]`(at, hours)`.
pub fn summarize(facts: FloorFacts, at: DateTime<Utc>, hours: u32) -> Floor {
    let hours = hours.clamp(1, MAX_SHIFT_HOURS);
    let start = shift_start(at, hours);

    let mut tasks: BTreeMap<(String, &'static str), ZoneTasks> = BTreeMap::new();
    for t in &facts.open_tasks {
        let kind = match t.kind {
            TaskKind::Pick => "pick",
            TaskKind::Putaway => "putaway",
            TaskKind::Count => "count",
        };
        let row = tasks
            .entry((t.zone.clone(), kind))
            .or_insert_with(|| ZoneTasks {
                zone: t.zone.clone(),
                kind: kind.to_owned(),
                waiting: 0,
                in_progress: 0,
                units_left: 0,
            });
        if t.done_qty > 0 {
            row.in_progress += 1;
        } else {
            row.waiting += 1;
        }
        row.units_left += (t.qty - t.done_qty).max(0);
    }

    let mut operators: BTreeMap<&str, OperatorPicks> = BTreeMap::new();
    for p in &facts.picks {
        if p.at < start {
            continue;
        }
        let hour = usize::try_from((p.at - start).num_hours()).unwrap_or(usize::MAX);
        if hour >= hours as usize {
            continue; // a device's clock ahead of the server's
        }
        let row = operators
            .entry(&p.operator)
            .or_insert_with(|| OperatorPicks {
                operator: p.operator.clone(),
                per_hour: vec![0; hours as usize],
                total: 0,
            });
        row.per_hour[hour] += 1;
        row.total += 1;
    }

    Floor {
        at,
        shift_start: start,
        tasks: tasks.into_values().collect(),
        exceptions: facts.open_exceptions,
        operators: operators.into_values().collect(),
        devices: facts
            .devices
            .into_iter()
            .map(|d| DeviceStatus {
                id: d.id.to_string(),
                name: d.name,
                last_contact: d.last_contact,
                backlog: i64::try_from(d.backlog).unwrap_or(i64::MAX),
                revoked: d.revoked,
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use pyck_vocab::records::{TaskRecord, TaskStatus};
    use uuid::Uuid;

    use super::*;
    use crate::storage::{DeviceContact, PickFact};

    fn at(h: u32, m: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 23, h, m, 0).unwrap()
    }

    fn task(zone: &str, kind: TaskKind, qty: i64, done: i64) -> TaskRecord {
        TaskRecord {
            id: format!("T-{zone}-{qty}-{done}"),
            kind,
            status: TaskStatus::Open,
            order: None,
            line: None,
            sku: Some("SKU-1".into()),
            lot: None,
            location: format!("{zone}-01"),
            to: None,
            qty,
            done_qty: done,
            zone: zone.into(),
            sequence: 0,
        }
    }

    #[test]
    fn a_shift_ends_with_the_current_hour() {
        assert_eq!(shift_start(at(14, 25), 8), at(7, 0));
        assert_eq!(shift_start(at(14, 0), 1), at(14, 0));
        // Out-of-range lengths are clamped, not refused, here.
        assert_eq!(shift_start(at(14, 25), 0), at(14, 0));
        assert_eq!(shift_start(at(14, 25), 99), shift_start(at(14, 25), 24));
    }

    #[test]
    fn open_tasks_are_counted_by_zone_kind_and_progress() {
        let facts = FloorFacts {
            open_tasks: vec![
                task("A", TaskKind::Pick, 5, 0),
                task("A", TaskKind::Pick, 4, 1),
                task("A", TaskKind::Putaway, 10, 0),
                task("B", TaskKind::Count, 0, 0),
            ],
            ..FloorFacts::default()
        };
        let floor = summarize(facts, at(12, 0), 8);
        let rows: Vec<_> = floor
            .tasks
            .iter()
            .map(|t| {
                (
                    t.zone.as_str(),
                    t.kind.as_str(),
                    t.waiting,
                    t.in_progress,
                    t.units_left,
                )
            })
            .collect();
        assert_eq!(
            rows,
            [
                ("A", "pick", 1, 1, 8),
                ("A", "putaway", 1, 0, 10),
                ("B", "count", 1, 0, 0)
            ]
        );
    }

    #[test]
    fn picks_fall_into_clock_hours_of_the_shift() {
        let pick = |operator: &str, t| PickFact {
            operator: operator.into(),
            at: t,
        };
        let facts = FloorFacts {
            picks: vec![
                pick("P1", at(9, 59)), // before a 3-hour shift ending 12:xx
                pick("P1", at(10, 0)),
                pick("P1", at(10, 59)),
                pick("P2", at(11, 30)),
                pick("P1", at(12, 10)),
                pick("P2", at(13, 5)), // a clock ahead of the server's
            ],
            ..FloorFacts::default()
        };
        let floor = summarize(facts, at(12, 30), 3);
        assert_eq!(floor.shift_start, at(10, 0));
        let rows: Vec<_> = floor
            .operators
            .iter()
            .map(|o| (o.operator.as_str(), o.per_hour.clone(), o.total))
            .collect();
        assert_eq!(rows, [("P1", vec![2, 0, 1], 3), ("P2", vec![0, 1, 0], 1)]);
    }

    #[test]
    fn devices_keep_their_contact_and_backlog() {
        let id = Uuid::now_v7();
        let facts = FloorFacts {
            devices: vec![DeviceContact {
                id,
                name: "scanner-7".into(),
                last_contact: Some(at(8, 0)),
                backlog: 37,
                revoked: false,
            }],
            ..FloorFacts::default()
        };
        let floor = summarize(facts, at(12, 0), 8);
        assert_eq!(
            floor.devices,
            [DeviceStatus {
                id: id.to_string(),
                name: "scanner-7".into(),
                last_contact: Some(at(8, 0)),
                backlog: 37,
                revoked: false,
            }]
        );
    }
}
