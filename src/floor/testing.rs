//! A dashboard on a small warehouse at a fixed time, for update and view
//! tests.

use chrono::{DateTime, Duration, FixedOffset, TimeZone, Utc};
use pyck_vocab::events::{Event, EventKind};
use pyck_vocab::records::Role;

use super::app::{DeviceRow, Floor, OpenException, OperatorPicks, Snapshot, ZoneTasks};
use super::update::{Msg, update};
use crate::store::session::Operator;

/// 14:20:00 UTC: the shift charted from 07:00.
pub fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 14, 20, 0).unwrap()
}

pub fn ago(minutes: i64) -> DateTime<Utc> {
    now() - Duration::minutes(minutes)
}

pub fn snapshot() -> Snapshot {
    let zone = |zone: &str, kind: &str, waiting, in_progress, units_left| ZoneTasks {
        zone: zone.into(),
        kind: kind.into(),
        waiting,
        in_progress,
        units_left,
    };
    let exception = |id: &str, kind: &str, message: &str, minutes| OpenException {
        id: id.into(),
        kind: kind.into(),
        message: message.into(),
        raised_at: ago(minutes),
    };
    let device = |name: &str, contact: Option<i64>, backlog, revoked| DeviceRow {
        id: format!("0190f5c2-{name}"),
        name: name.into(),
        last_contact: contact.map(ago),
        backlog,
        revoked,
    };
    Snapshot {
        at: now(),
        shift_start: Utc.with_ymd_and_hms(2026, 11, 23, 7, 0, 0).unwrap(),
        tasks: vec![
            zone("AMB", "pick", 12, 3, 140),
            zone("AMB", "putaway", 4, 0, 96),
            zone("CHL", "pick", 5, 1, 30),
            zone("FRZ", "count", 2, 0, 0),
        ],
        exceptions: vec![
            exception(
                "01a20aa1-0001-7000-8000-000000000001",
                "short_pick",
                "SO-5001 line 2: 3 of 5 picked at A-01-03 (not found at location)",
                42,
            ),
            exception(
                "01a20aa1-0002-7000-8000-000000000002",
                "count_difference",
                "count of SKU-1 at A-02: 7 counted, 10 expected (-3); stock left unchanged",
                15,
            ),
            exception(
                "01a20aa1-0003-7000-8000-000000000003",
                "damaged_receipt",
                "ASN-1003 line 1: 2 damaged",
                3,
            ),
        ],
        operators: vec![
            OperatorPicks {
                operator: "1007".into(),
                per_hour: vec![0, 31, 42, 38, 40, 12, 36, 9],
                total: 208,
            },
            OperatorPicks {
                operator: "1012".into(),
                per_hour: vec![0, 0, 0, 20, 44, 47, 41, 15],
                total: 167,
            },
        ],
        devices: vec![
            device("desk-1", Some(0), 0, false),
            device("scanner-07", Some(1), 0, false),
            device("scanner-12", Some(95), 37, false),
            device("scanner-spare", None, 0, false),
            device("scanner-lost", Some(60 * 24 * 3), 0, true),
        ],
    }
}

/// A supervisor's dashboard in UTC, with the snapshot in and the feed live.
pub fn floor() -> Floor {
    let mut floor = Floor::new(
        Operator {
            badge: "3001".into(),
            role: Role::Supervisor,
        },
        "http://127.0.0.1:8080".into(),
        now(),
        FixedOffset::east_opt(0).unwrap(),
    );
    update(&mut floor, Msg::Live(true));
    update(&mut floor, Msg::Snapshot(Ok(snapshot()), now()));
    floor
}

pub fn event(minutes: i64, kind: EventKind) -> Event {
    Event {
        event_id: None,
        at: ago(minutes),
        warehouse: 1,
        kind,
        operation: None,
        request: None,
    }
}

pub fn stock_changed(location: &str, qty: i64) -> EventKind {
    EventKind::StockChanged {
        location: location.into(),
        sku: "SKU-1".into(),
        lot: None,
        qty,
    }
}
