//! The rules walked through one operation at a time, on a small view.

use chrono::{NaiveDate, Utc};
use pyck_vocab::operation::{
    CloseAsn, Count, Move, OrderRef, Pick, Receive, ResolveException, ShortPick,
};
use pyck_vocab::records::{
    AsnLineRecord, ExceptionKind, ExceptionRecord, ExceptionStatus, OrderStatus, TaskKind,
    TaskRecord, TaskStatus, Temperature,
};

use super::allocation::Candidate;
use super::putaway::Bin;
use super::*;

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn view() -> BatchView {
    let mut v = BatchView {
        today: d("2026-11-23"),
        next_task: 100,
        ..BatchView::default()
    };
    v.items.insert(
        "FISH".into(),
        ItemFacts {
            lot_tracked: true,
            expiry_tracked: true,
            temperature: Temperature::Frozen,
        },
    );
    v.items.insert(
        "PASTA".into(),
        ItemFacts {
            lot_tracked: false,
            expiry_tracked: false,
            temperature: Temperature::Ambient,
        },
    );
    for (code, t, zone) in [
        ("DOCK-1", Temperature::Dock, "DOCK"),
        ("F-01", Temperature::Frozen, "FRZ"),
        ("F-02", Temperature::Frozen, "FRZ"),
        ("A-01", Temperature::Ambient, "AMB"),
    ] {
        v.locations.insert(code.into(), t);
        v.zones.insert(code.into(), zone.into());
    }
    v.lots
        .insert(("FISH".into(), "OLD".into()), Some(d("2027-01-01")));
    v.lots
        .insert(("FISH".into(), "NEW".into()), Some(d("2027-06-01")));
    v.stock
        .insert(StockKey::new("F-01", "FISH", Some("OLD")), 10);
    v.stock
        .insert(StockKey::new("F-02", "FISH", Some("NEW")), 50);
    v.bins.insert(
        Temperature::Frozen,
        vec![
            Bin {
                code: "F-01".into(),
                temperature: Temperature::Frozen,
                holds: vec!["FISH".into()],
            },
            Bin {
                code: "F-02".into(),
                temperature: Temperature::Frozen,
                holds: vec![],
            },
        ],
    );
    v.orders.insert("SO-1".into(), OrderStatus::Allocated);
    v.asns.insert(
        "ASN-1".into(),
        vec![AsnLineRecord {
            asn: "ASN-1".into(),
            line: 1,
            sku: "FISH".into(),
            supplier: "Sea".into(),
            expected_qty: 20,
            received_qty: 0,
            damaged_qty: 0,
            closed: false,
        }],
    );
    v.tasks
        .insert("T1".into(), pick_task("T1", "F-01", "OLD", 10));
    v
}

fn pick_task(id: &str, location: &str, lot: &str, qty: i64) -> TaskRecord {
    TaskRecord {
        id: id.into(),
        kind: TaskKind::Pick,
        status: TaskStatus::Open,
        order: Some("SO-1".into()),
        line: Some(1),
        sku: Some("FISH".into()),
        lot: Some(lot.into()),
        location: location.into(),
        to: None,
        qty,
        done_qty: 0,
        zone: "FRZ".into(),
        sequence: 1,
    }
}

fn op(payload: Payload) -> Operation {
    Operation {
        id: Uuid::now_v7(),
        device: Uuid::nil(),
        seq: 1,
        operator: "1".into(),
        at: Utc::now(),
        payload,
    }
}

fn qty(v: &BatchView, loc: &str, sku: &str, lot: Option<&str>) -> i64 {
    v.stock
        .get(&StockKey::new(loc, sku, lot))
        .copied()
        .unwrap_or(0)
}

fn kinds(fx: &Effects) -> Vec<&'static str> {
    fx.exceptions.iter().map(|e| e.kind.as_str()).collect()
}

#[test]
fn a_receipt_into_a_dock_creates_a_putaway_task_to_a_bin_of_its_temperature() {
    let mut v = view();
    let fx = apply(
        &mut v,
        &op(Payload::Receive(Receive {
            asn: "ASN-1".into(),
            sku: "FISH".into(),
            qty: 12,
            lot: Some("L9".into()),
            expiry: Some(d("2027-03-01")),
            to: "DOCK-1".into(),
            damaged: 2,
            damaged_reason: None,
        })),
    )
    .unwrap();
    assert_eq!(qty(&v, "DOCK-1", "FISH", Some("L9")), 12);
    let task = &fx.tasks[0];
    assert_eq!(
        (
            task.kind,
            task.location.as_str(),
            task.to.as_deref(),
            task.qty
        ),
        (TaskKind::Putaway, "DOCK-1", Some("F-01"), 12)
    );
    assert_eq!(task.id, "T100");
    assert_eq!(fx.asn_lines[0].received_qty, 12);
    assert_eq!(fx.asn_lines[0].damaged_qty, 2);
}

#[test]
fn putaway_completes_its_task_and_a_wrong_temperature_is_a_breach() {
    let mut v = view();
    v.stock
        .insert(StockKey::new("DOCK-1", "FISH", Some("OLD")), 5);
    let mut t = pick_task("T7", "DOCK-1", "OLD", 5);
    t.kind = TaskKind::Putaway;
    v.tasks.insert("T7".into(), t);
    let fx = apply(
        &mut v,
        &op(Payload::Putaway(Move {
            sku: "FISH".into(),
            lot: Some("OLD".into()),
            qty: 5,
            from: "DOCK-1".into(),
            to: "A-01".into(),
            task: Some("T7".into()),
        })),
    )
    .unwrap();
    assert_eq!(fx.tasks[0].status, TaskStatus::Done);
    assert_eq!(kinds(&fx), vec!["temperature_breach"]);
    assert_eq!(qty(&v, "A-01", "FISH", Some("OLD")), 5);
}

#[test]
fn picks_move_stock_to_the_order_staging_and_a_later_lot_breaks_fefo() {
    let mut v = view();
    let fx = apply(
        &mut v,
        &op(Payload::Pick(Pick {
            task: "T1".into(),
            order: "SO-1".into(),
            sku: "FISH".into(),
            lot: Some("NEW".into()),
            location: "F-02".into(),
            qty: 10,
        })),
    )
    .unwrap();
    assert_eq!(qty(&v, "F-02", "FISH", Some("NEW")), 40);
    assert_eq!(qty(&v, &staging("SO-1"), "FISH", Some("NEW")), 10);
    assert_eq!(kinds(&fx), vec!["fefo_breach"]);
    assert_eq!(fx.tasks[0].status, TaskStatus::Done);
    // The allocated lot is no breach.
    let mut v = view();
    let fx = apply(
        &mut v,
        &op(Payload::Pick(Pick {
            task: "T1".into(),
            order: "SO-1".into(),
            sku: "FISH".into(),
            lot: Some("OLD".into()),
            location: "F-01".into(),
            qty: 10,
        })),
    )
    .unwrap();
    assert!(fx.exceptions.is_empty());
}

#[test]
fn a_pick_names_a_known_task() {
    let mut v = view();
    let err = apply(
        &mut v,
        &op(Payload::Pick(Pick {
            task: "T404".into(),
            order: "SO-1".into(),
            sku: "FISH".into(),
            lot: Some("OLD".into()),
            location: "F-01".into(),
            qty: 1,
        })),
    )
    .unwrap_err();
    assert_eq!(err.code, RefusalCode::UnknownTask);
}

#[test]
fn a_short_pick_raises_reallocates_elsewhere_and_asks_for_a_count() {
    let mut v = view();
    v.candidates.insert(
        "FISH".into(),
        vec![
            Candidate {
                location: "F-01".into(),
                zone: "FRZ".into(),
                is_dock: false,
                lot: Some("OLD".into()),
                expiry: Some(d("2027-01-01")),
                available: 10,
            },
            Candidate {
                location: "F-02".into(),
                zone: "FRZ".into(),
                is_dock: false,
                lot: Some("NEW".into()),
                expiry: Some(d("2027-06-01")),
                available: 50,
            },
        ],
    );
    let fx = apply(
        &mut v,
        &op(Payload::ShortPick(ShortPick {
            task: "T1".into(),
            order: "SO-1".into(),
            sku: "FISH".into(),
            lot: Some("OLD".into()),
            location: "F-01".into(),
            qty: 4,
            reason: "bin short".into(),
        })),
    )
    .unwrap();
    assert_eq!(kinds(&fx), vec!["short_pick"]);
    assert!(fx.exceptions[0].message.contains("SO-1"));
    let short = fx.tasks.iter().find(|t| t.id == "T1").unwrap();
    assert_eq!((short.status, short.done_qty), (TaskStatus::Short, 4));
    let repick = fx
        .tasks
        .iter()
        .find(|t| t.kind == TaskKind::Pick && t.id != "T1")
        .unwrap();
    assert_eq!(
        (repick.location.as_str(), repick.lot.as_deref(), repick.qty),
        ("F-02", Some("NEW"), 6)
    );
    let count = fx.tasks.iter().find(|t| t.kind == TaskKind::Count).unwrap();
    assert_eq!(count.location, "F-01");
    assert_eq!(qty(&v, &staging("SO-1"), "FISH", Some("OLD")), 4);
}

#[test]
fn counts_within_the_threshold_set_stock_and_others_go_to_a_supervisor() {
    let count = |q| {
        Payload::Count(Count {
            location: "F-02".into(),
            sku: "FISH".into(),
            lot: Some("NEW".into()),
            qty: q,
            task: None,
        })
    };
    let mut v = view();
    let fx = apply(&mut v, &op(count(48))).unwrap();
    assert_eq!(
        kinds(&fx),
        vec!["count_difference"],
        "default threshold: any difference"
    );
    assert_eq!(qty(&v, "F-02", "FISH", Some("NEW")), 50, "stock unchanged");
    let mut v = view();
    v.settings.count_threshold = Some(2);
    let fx = apply(&mut v, &op(count(48))).unwrap();
    assert!(fx.exceptions.is_empty());
    assert_eq!(qty(&v, "F-02", "FISH", Some("NEW")), 48);
}

#[test]
fn closing_an_asn_raises_its_discrepancies() {
    let mut v = view();
    v.asns.get_mut("ASN-1").unwrap()[0].received_qty = 15;
    let fx = apply(
        &mut v,
        &op(Payload::CloseAsn(CloseAsn {
            asn: "ASN-1".into(),
        })),
    )
    .unwrap();
    assert_eq!(kinds(&fx), vec!["under_receipt"]);
    assert!(fx.asn_lines[0].closed);
}

#[test]
fn shipping_takes_staged_stock_out_through_the_ledger() {
    let mut v = view();
    v.stock
        .insert(StockKey::new(&staging("SO-1"), "FISH", Some("OLD")), 10);
    apply(
        &mut v,
        &op(Payload::Pack(OrderRef {
            order: "SO-1".into(),
        })),
    )
    .unwrap();
    let fx = apply(
        &mut v,
        &op(Payload::Ship(OrderRef {
            order: "SO-1".into(),
        })),
    )
    .unwrap();
    assert_eq!(fx.movements.len(), 1);
    assert_eq!(fx.movements[0].delta, -10);
    assert_eq!(qty(&v, &staging("SO-1"), "FISH", Some("OLD")), 0);
    assert_eq!(fx.orders, vec![("SO-1".to_owned(), OrderStatus::Shipped)]);
}

#[test]
fn a_pick_for_a_cancelled_order_stands_and_goes_back_to_stock() {
    let mut v = view();
    v.orders.insert("SO-1".into(), OrderStatus::Cancelled);
    let fx = apply(
        &mut v,
        &op(Payload::Pick(Pick {
            task: "T1".into(),
            order: "SO-1".into(),
            sku: "FISH".into(),
            lot: Some("OLD".into()),
            location: "F-01".into(),
            qty: 10,
        })),
    )
    .unwrap();
    assert_eq!(kinds(&fx), vec!["cancelled_order_picked"]);
    let back = fx
        .tasks
        .iter()
        .find(|t| t.kind == TaskKind::Putaway)
        .unwrap();
    assert_eq!(
        (back.location.as_str(), back.to.as_deref(), back.qty),
        (staging("SO-1").as_str(), Some("F-01"), 10)
    );
}

#[test]
fn supervisors_resolve_known_exceptions() {
    let mut v = view();
    let ex = ExceptionRecord {
        id: "E1".into(),
        kind: ExceptionKind::ShortPick,
        status: ExceptionStatus::Open,
        message: "m".into(),
        order: None,
        asn: None,
        location: None,
        sku: None,
        lot: None,
        raised_at: Utc::now(),
    };
    v.exceptions.insert("E1".into(), ex);
    let fx = apply(
        &mut v,
        &op(Payload::ResolveException(ResolveException {
            exception: "E1".into(),
            note: "recounted".into(),
        })),
    )
    .unwrap();
    assert_eq!(fx.resolved[0].0.status, ExceptionStatus::Resolved);
    let err = apply(
        &mut v,
        &op(Payload::ResolveException(ResolveException {
            exception: "E9".into(),
            note: "x".into(),
        })),
    )
    .unwrap_err();
    assert_eq!(err.code, RefusalCode::UnknownException);
}

/// A receipt, built from its wire form so these tests do not depend on
/// fields they do not use.
fn receipt(qty: i64, damaged: i64) -> Payload {
    Payload::Receive(
        serde_json::from_value(serde_json::json!({
            "asn": "ASN-1", "sku": "FISH", "qty": qty, "lot": "OLD",
            "to": "DOCK-1", "damaged": damaged,
        }))
        .unwrap(),
    )
}

fn order_op(order: &str, ship: bool) -> Operation {
    let r = OrderRef {
        order: order.into(),
    };
    op(if ship {
        Payload::Ship(r)
    } else {
        Payload::Pack(r)
    })
}

fn pick(qty: i64) -> Payload {
    Payload::Pick(Pick {
        task: "T1".into(),
        order: "SO-1".into(),
        sku: "FISH".into(),
        lot: Some("OLD".into()),
        location: "F-01".into(),
        qty,
    })
}

#[test]
fn a_pack_with_picks_open_is_packed_and_raises_for_the_supervisor() {
    let mut v = view();
    v.tasks
        .insert("T2".into(), pick_task("T2", "F-02", "NEW", 5));
    v.tasks.get_mut("T2").unwrap().status = TaskStatus::Done;
    let fx = apply(&mut v, &order_op("SO-1", false)).unwrap();
    assert_eq!(kinds(&fx), vec!["packed_with_open_picks"]);
    assert_eq!(
        fx.exceptions[0].message,
        "order SO-1 packed with 1 of 2 picks open; its workflow waits until they are picked or this is resolved"
    );
    assert_eq!(fx.exceptions[0].order.as_deref(), Some("SO-1"));
    assert_eq!(fx.orders, vec![("SO-1".to_owned(), OrderStatus::Packed)]);
    // Picked first, a pack raises nothing.
    let mut v = view();
    apply(&mut v, &op(pick(10))).unwrap();
    let fx = apply(&mut v, &order_op("SO-1", false)).unwrap();
    assert_eq!(kinds(&fx), Vec::<&str>::new());
}

#[test]
fn a_ship_with_picks_open_cancels_them_and_takes_out_what_was_staged() {
    let mut v = view();
    v.tasks
        .insert("T2".into(), pick_task("T2", "F-02", "NEW", 5));
    apply(&mut v, &op(pick(10))).unwrap();
    apply(&mut v, &order_op("SO-1", false)).unwrap();
    let fx = apply(&mut v, &order_op("SO-1", true)).unwrap();
    assert_eq!(kinds(&fx), vec!["packed_with_open_picks"]);
    assert_eq!(
        fx.exceptions[0].message,
        "order SO-1 shipped with 1 of 2 picks open: they are cancelled and their 5 units did not ship; its workflow waits until this is resolved"
    );
    let t2 = fx.tasks.iter().find(|t| t.id == "T2").unwrap();
    assert_eq!(t2.status, TaskStatus::Cancelled, "no longer handed out");
    assert_eq!(qty(&v, &staging("SO-1"), "FISH", Some("OLD")), 0);
    assert_eq!(fx.orders, vec![("SO-1".to_owned(), OrderStatus::Shipped)]);
    // A second ship of the same order changes nothing.
    let again = apply(&mut v, &order_op("SO-1", true)).unwrap();
    assert_eq!(again, Effects::default());
    // Nor does a late pack.
    let late = apply(&mut v, &order_op("SO-1", false)).unwrap();
    assert_eq!(late, Effects::default());
}

#[test]
fn a_ship_of_an_order_never_packed_raises_shipped_unpacked() {
    let mut v = view();
    apply(&mut v, &op(pick(10))).unwrap();
    let fx = apply(&mut v, &order_op("SO-1", true)).unwrap();
    assert_eq!(kinds(&fx), vec!["shipped_unpacked"]);
    assert_eq!(
        fx.exceptions[0].message,
        "order SO-1 shipped without being packed; its workflow waits until this is resolved"
    );
    assert_eq!(fx.orders, vec![("SO-1".to_owned(), OrderStatus::Shipped)]);
}

#[test]
fn a_pick_after_the_ship_waits_at_staging_with_a_task_back_to_its_bin() {
    let mut v = view();
    apply(&mut v, &order_op("SO-1", false)).unwrap();
    apply(&mut v, &order_op("SO-1", true)).unwrap();
    // The stale device picked on the task the ship cancelled.
    let fx = apply(&mut v, &op(pick(10))).unwrap();
    assert_eq!(kinds(&fx), vec!["picked_after_ship"]);
    assert_eq!(
        fx.exceptions[0].message,
        "10 of FISH picked from F-01 for order SO-1 after it shipped; they wait at STAGE:SO-1: return them to stock (or, if they left with the shipment, count STAGE:SO-1)"
    );
    let t1 = fx.tasks.iter().find(|t| t.id == "T1").unwrap();
    assert_eq!(
        (t1.status, t1.done_qty),
        (TaskStatus::Cancelled, 10),
        "a cancelled task stays cancelled"
    );
    let back = fx
        .tasks
        .iter()
        .find(|t| t.kind == TaskKind::Putaway)
        .unwrap();
    assert_eq!(
        (back.location.as_str(), back.to.as_deref(), back.qty),
        ("STAGE:SO-1", Some("F-01"), 10)
    );
    assert_eq!(qty(&v, &staging("SO-1"), "FISH", Some("OLD")), 10);
}

#[test]
fn a_short_pick_of_a_shipped_order_reallocates_nothing() {
    let mut v = view();
    v.candidates.insert(
        "FISH".into(),
        vec![Candidate {
            location: "F-02".into(),
            zone: "FRZ".into(),
            is_dock: false,
            lot: Some("NEW".into()),
            expiry: Some(d("2027-06-01")),
            available: 50,
        }],
    );
    v.orders.insert("SO-1".into(), OrderStatus::Shipped);
    let fx = apply(
        &mut v,
        &op(Payload::ShortPick(ShortPick {
            task: "T1".into(),
            order: "SO-1".into(),
            sku: "FISH".into(),
            lot: Some("OLD".into()),
            location: "F-01".into(),
            qty: 4,
            reason: "bin short".into(),
        })),
    )
    .unwrap();
    assert_eq!(kinds(&fx), vec!["short_pick", "picked_after_ship"]);
    assert!(
        fx.tasks
            .iter()
            .all(|t| t.kind != TaskKind::Pick || t.id == "T1"),
        "no new pick task for a shipped order: {:?}",
        fx.tasks
    );
}

#[test]
fn a_short_pick_counts_what_the_task_found_before() {
    let mut v = view();
    v.tasks.get_mut("T1").unwrap().qty = 36;
    v.stock
        .insert(StockKey::new("F-01", "FISH", Some("OLD")), 36);
    apply(&mut v, &op(pick(30))).unwrap();
    let fx = apply(
        &mut v,
        &op(Payload::ShortPick(ShortPick {
            task: "T1".into(),
            order: "SO-1".into(),
            sku: "FISH".into(),
            lot: Some("OLD".into()),
            location: "F-01".into(),
            qty: 0,
            reason: "bin empty".into(),
        })),
    )
    .unwrap();
    assert_eq!(
        fx.exceptions[0].message,
        "short pick on order SO-1 (task T1): 30 of 36 FISH found at F-01 (bin empty)"
    );
}

#[test]
fn a_breach_names_its_location_with_the_right_article() {
    let mut v = view();
    let fx = apply(
        &mut v,
        &op(Payload::Move(Move {
            sku: "FISH".into(),
            lot: Some("OLD".into()),
            qty: 1,
            from: "F-01".into(),
            to: "A-01".into(),
            task: None,
        })),
    )
    .unwrap();
    assert_eq!(
        fx.exceptions[0].message,
        "frozen goods (FISH) put into A-01, an ambient location"
    );
}

#[test]
fn a_receipt_on_a_closed_asn_stands_raises_and_updates_the_shortfall() {
    let mut v = view();
    apply(&mut v, &op(receipt(12, 0))).unwrap();
    let close = apply(
        &mut v,
        &op(Payload::CloseAsn(CloseAsn {
            asn: "ASN-1".into(),
        })),
    )
    .unwrap();
    assert_eq!(kinds(&close), vec!["under_receipt"]);
    let under = close.exceptions[0].id.to_string();
    assert_eq!(close.asn_closures[0].received_qty, 12);
    // A stale device's receipt of 5 more: applied, raised, and the
    // shortfall restated.
    let fx = apply(&mut v, &op(receipt(5, 0))).unwrap();
    assert_eq!(qty(&v, "DOCK-1", "FISH", Some("OLD")), 17, "it is a fact");
    assert_eq!(kinds(&fx), vec!["receipt_on_closed_asn", "under_receipt"]);
    assert_eq!(
        fx.exceptions[0].message,
        "5 of FISH received into DOCK-1 on ASN ASN-1 line 1, which was already closed"
    );
    assert_eq!(
        fx.exceptions[1].message,
        "ASN ASN-1 line 1 (FISH): received 17, expected 20"
    );
    assert_eq!(fx.resolved.len(), 1);
    assert_eq!(fx.resolved[0].0.id, under);
    // The rest arrives, part damaged: the shortfall is settled.
    let fx = apply(&mut v, &op(receipt(1, 2))).unwrap();
    assert_eq!(kinds(&fx), vec!["receipt_on_closed_asn", "damaged_receipt"]);
    assert_eq!(
        fx.resolved[0].1,
        "settled by a later receipt: ASN ASN-1 line 1 (FISH) received 18 (+2 damaged), expected 20"
    );
    assert!(
        v.exceptions
            .values()
            .filter(|e| e.kind == ExceptionKind::UnderReceipt)
            .all(|e| e.status == ExceptionStatus::Resolved)
    );
}
