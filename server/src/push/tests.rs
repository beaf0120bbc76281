use chrono::{NaiveDate, Utc};
use pyck_vocab::operation::{Move, Payload};
use pyck_vocab::records::{Role, Temperature};

use super::*;
use crate::domain::{ItemFacts, Settled};

fn view() -> BatchView {
    let mut v = BatchView {
        today: NaiveDate::from_ymd_opt(2026, 11, 23).unwrap(),
        ..BatchView::default()
    };
    v.operators.insert("1007".into(), Role::Picker);
    v.operators.insert("2001".into(), Role::Receiver);
    v.items.insert(
        "SKU-1".into(),
        ItemFacts {
            lot_tracked: false,
            expiry_tracked: false,
            temperature: Temperature::Ambient,
        },
    );
    v.locations.insert("A".into(), Temperature::Ambient);
    v.locations.insert("B".into(), Temperature::Ambient);
    v.stock.insert(StockKey::new("A", "SKU-1", None), 10);
    v
}

fn mv(seq: u64, qty: i64) -> Operation {
    Operation {
        id: Uuid::now_v7(),
        device: Uuid::nil(),
        seq,
        operator: "1007".into(),
        at: Utc::now(),
        payload: Payload::Move(Move {
            sku: "SKU-1".into(),
            lot: None,
            qty,
            from: "A".into(),
            to: "B".into(),
            task: None,
        }),
    }
}

#[test]
fn applies_in_order_and_tracks_stock() {
    let mut v = view();
    let p = plan(&mut v, vec![mv(1, 3), mv(2, 4)]);
    assert_eq!(p.last_seq, 2);
    assert_eq!(p.movements.len(), 4);
    assert_eq!(p.stock[&StockKey::new("A", "SKU-1", None)].qty, 3);
    assert_eq!(p.stock[&StockKey::new("B", "SKU-1", None)].qty, 7);
    assert!(p.exceptions.is_empty());
}

#[test]
fn a_gap_stops_the_batch() {
    let mut v = view();
    let p = plan(&mut v, vec![mv(1, 1), mv(3, 1), mv(2, 1)]);
    assert_eq!(p.results[0].outcome, PushOutcome::Applied { exceptions: 0 });
    assert_eq!(p.results[1].outcome, PushOutcome::Gap { expected: 2 });
    assert_eq!(p.results[2].outcome, PushOutcome::Gap { expected: 2 });
    assert_eq!(p.last_seq, 1);
    assert_eq!(p.ops.len(), 1);
}

#[test]
fn resends_are_duplicates_and_other_ids_conflict() {
    let mut v = view();
    let first = mv(1, 1);
    v.last_seq = 1;
    v.settled.insert(
        1,
        Settled {
            id: first.id,
            refusal: None,
        },
    );
    let p = plan(&mut v, vec![first.clone(), mv(1, 1), mv(2, 1)]);
    assert_eq!(p.results[0].outcome, PushOutcome::Duplicate);
    assert!(matches!(
        &p.results[1].outcome,
        PushOutcome::Refused(r) if r.code == RefusalCode::SeqConflict
    ));
    assert_eq!(p.results[2].outcome, PushOutcome::Applied { exceptions: 0 });
    assert_eq!(p.ops.len(), 1);
}

#[test]
fn a_refusal_consumes_its_number_and_is_repeated_on_resend() {
    let mut v = view();
    let mut bad = mv(1, 1);
    bad.operator = "9999".into();
    let p = plan(&mut v, vec![bad.clone(), mv(2, 1), bad]);
    assert!(
        matches!(&p.results[0].outcome, PushOutcome::Refused(r) if r.code == RefusalCode::UnknownOperator)
    );
    assert_eq!(p.results[1].outcome, PushOutcome::Applied { exceptions: 0 });
    assert!(
        matches!(&p.results[2].outcome, PushOutcome::Refused(r) if r.code == RefusalCode::UnknownOperator)
    );
    assert_eq!(p.last_seq, 2);
    assert_eq!(p.ops.len(), 2);
    assert!(p.ops[0].refusal.is_some());
}

#[test]
fn roles_and_references_are_checked() {
    let mut v = view();
    let mut receiver_picks = mv(1, 1);
    receiver_picks.operator = "2001".into();
    receiver_picks.payload = Payload::Adjust(pyck_vocab::operation::Adjust {
        location: "A".into(),
        sku: "SKU-1".into(),
        lot: None,
        qty: 1,
        reason: "found".into(),
    });
    let mut unknown_bin = mv(2, 1);
    if let Payload::Move(m) = &mut unknown_bin.payload {
        m.to = "Z".into();
    }
    let p = plan(&mut v, vec![receiver_picks, unknown_bin]);
    assert!(
        matches!(&p.results[0].outcome, PushOutcome::Refused(r) if r.code == RefusalCode::Forbidden)
    );
    assert!(
        matches!(&p.results[1].outcome, PushOutcome::Refused(r) if r.code == RefusalCode::UnknownLocation)
    );
    assert!(p.movements.is_empty());
}

#[test]
fn moving_more_than_there_is_applies_and_raises_negative_stock() {
    let mut v = view();
    let p = plan(&mut v, vec![mv(1, 15)]);
    assert_eq!(p.results[0].outcome, PushOutcome::Applied { exceptions: 1 });
    assert_eq!(p.exceptions[0].kind.as_str(), "negative_stock");
    assert_eq!(p.stock[&StockKey::new("A", "SKU-1", None)].qty, -5);
    let changes = p.changes(&v);
    assert!(changes.iter().any(|c| c.entity == Entity::Exception));
}
