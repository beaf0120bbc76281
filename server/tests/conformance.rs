//! The storage contract, stamped onto every backend: the same tests run on
//! SQLite (a real file) and PostgreSQL (a real server, started by
//! `scripts/test`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use common::{Site, TestDb, moves, mv, outbox_events, qty, receive, site, small_warehouse, today};
use pyck_server::service::UseCases;
use pyck_vocab::protocol::{Entity, PushOutcome};
use pyck_vocab::records::{ExceptionKind, ExceptionStatus, OrderStatus};
use pyck_vocab::refusal::RefusalCode;

/// Stamps each conformance case (a plain `async fn name(&TestDb)` below) onto
/// every backend as a one-line `#[tokio::test]` in `mod sqlite` and
/// `mod postgres`, so the test names read `sqlite::name` and `postgres::name`.
macro_rules! conformance {
    (@on $backend:ident, $proptest_cases:literal, $($name:ident),*) => {
        mod $backend {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    super::$name(&super::common::$backend().await).await;
                }
            )*

            #[test]
            fn random_operations_from_stale_devices_keep_every_invariant() {
                super::random_operations_keep_every_invariant(
                    || Box::pin(super::common::$backend()),
                    $proptest_cases,
                );
            }
        }
    };
    ($($name:ident),* $(,)?) => {
        // Fewer proptest cases on PostgreSQL: each costs a tenant's import.
        conformance!(@on sqlite, 16, $($name),*);
        conformance!(@on postgres, 8, $($name),*);
    };
}

conformance! {
    import_then_verify_is_clean_and_rerun_changes_nothing,
    the_same_batch_twice_applies_once,
    a_lot_given_for_an_item_without_lots_books_the_lotless_stock,
    photos_link_to_exceptions_directly_or_through_receipts,
    an_orders_latest_operation_of_a_kind_is_found,
    a_lost_response_then_a_longer_retry_applies_each_once,
    eight_concurrent_pushes_of_one_batch_apply_it_once,
    two_storage_handles_on_one_database_apply_once,
    a_gap_is_refused_with_the_expected_number,
    a_refusal_consumes_its_number_and_good_ones_follow,
    contradicting_facts_apply_and_raise_exceptions,
    a_changed_count_threshold_applies_to_the_next_count_and_is_audited,
    fefo_strictness_warns_or_refuses_while_an_earlier_lot_waits_at_a_dock,
    pull_pages_through_a_compacted_log,
    tenants_see_and_touch_nothing_of_each_other,
    warehouses_see_only_their_own_workflows_and_operations,
    imported_orders_are_allocated_to_pick_tasks,
    workflows_due_count_steps_due_whether_claimed_or_not,
    workflows_lease_to_one_replica_and_compensate_idempotently,
    picks_stage_goods_and_shipping_takes_them_out,
    a_receipt_into_a_dock_creates_a_putaway_task,
    a_committed_push_leaves_its_events_in_the_outbox_and_a_resend_none,
    supervisors_writes_and_the_workflow_tell_subscribers_through_the_outbox,
    supervisors_create_orders_count_tasks_and_resolve_exceptions,
    floor_facts_show_open_work_devices_and_recent_picks,
    reports_match_a_scripted_shift,
    times_outside_the_window_are_refused_and_every_query_still_reads,
    operation_ids_are_unique_per_tenant_and_a_taken_one_is_refused,
    a_stale_pack_and_ship_hold_the_workflow_and_leave_nothing_staged,
    a_receipt_on_a_closed_asn_raises_and_restates_the_shortfall,
    revoked_tokens_stop_authenticating,
}

fn applied(o: &PushOutcome) -> bool {
    matches!(o, PushOutcome::Applied { .. })
}

async fn import_then_verify_is_clean_and_rerun_changes_nothing(db: &TestDb) {
    let s = site(&*db.store, "acme").await;
    assert_eq!(qty(&*db.store, &s, "A-01", "SKU-1").await, 1000);
    let again = db
        .store
        .import(s.tenant, "DC1", &small_warehouse())
        .await
        .unwrap();
    assert_eq!(again.movements, 0, "a re-run moves nothing");
    assert_eq!(qty(&*db.store, &s, "A-01", "SKU-1").await, 1000);
    assert_eq!(db.store.verify(s.tenant).await.unwrap(), vec![]);
}

async fn the_same_batch_twice_applies_once(db: &TestDb) {
    let s = site(&*db.store, "acme").await;
    let batch = vec![
        mv(&s.device, 1, 5, "A-01", "A-02"),
        mv(&s.device, 2, 3, "A-01", "A-02"),
    ];
    let first = db.store.push(&s.device, batch.clone(), 0).await.unwrap();
    assert!(first.results.iter().all(|r| applied(&r.outcome)));
    assert_eq!(first.last_seq, 2);
    let second = db.store.push(&s.device, batch, 0).await.unwrap();
    assert!(
        second
            .results
            .iter()
            .all(|r| r.outcome == PushOutcome::Duplicate)
    );
    assert_eq!(qty(&*db.store, &s, "A-01", "SKU-1").await, 992);
    assert_eq!(qty(&*db.store, &s, "A-02", "SKU-1").await, 8);
    assert_eq!(db.store.verify(s.tenant).await.unwrap(), vec![]);
}

async fn a_lot_given_for_an_item_without_lots_books_the_lotless_stock(db: &TestDb) {
    // Found by server/tests/bad_input.rs: the stock row was
    // rewritten from zero while the ledger moved by the delta.
    let s = site(&*db.store, "acme").await;
    let mut with_lot = mv(&s.device, 2, 3, "A-01", "A-02");
    if let pyck_vocab::operation::Payload::Move(m) = &mut with_lot.payload {
        m.lot = Some("NO-SUCH-LOT".into());
    }
    // In a batch of its own: nothing else loads the lot-less rows.
    for batch in [vec![mv(&s.device, 1, 5, "A-01", "A-02")], vec![with_lot]] {
        let pushed = db.store.push(&s.device, batch, 0).await.unwrap();
        assert!(
            pushed.results.iter().all(|r| applied(&r.outcome)),
            "{pushed:?}"
        );
    }
    assert_eq!(qty(&*db.store, &s, "A-01", "SKU-1").await, 992);
    assert_eq!(qty(&*db.store, &s, "A-02", "SKU-1").await, 8);
    assert_eq!(db.store.verify(s.tenant).await.unwrap(), vec![]);
}

async fn an_orders_latest_operation_of_a_kind_is_found(db: &TestDb) {
    use pyck_vocab::operation::{Operation, OrderRef, Payload};
    let s = site(&*db.store, "acme").await;
    let pack = Operation {
        id: uuid::Uuid::now_v7(),
        device: s.device.device,
        seq: 1,
        operator: "1007".into(),
        at: chrono::Utc::now(),
        payload: Payload::Pack(OrderRef {
            order: "SO-1".into(),
        }),
    };
    let id = pack.id;
    db.store.push(&s.device, vec![pack], 0).await.unwrap();
    let found = |order: &'static str, kinds: &'static [&'static str]| {
        let store = &db.store;
        async move {
            store
                .order_operation(s.tenant, s.warehouse, order, kinds)
                .await
                .unwrap()
        }
    };
    assert_eq!(found("SO-1", &["pack"]).await, Some(id));
    assert_eq!(found("SO-1", &["ship"]).await, None);
    assert_eq!(found("SO-2", &["pack"]).await, None);
}

async fn a_lost_response_then_a_longer_retry_applies_each_once(db: &TestDb) {
    let s = site(&*db.store, "acme").await;
    let ops = moves(&s.device, 1..=20);
    // The first 10 commit, but the device never hears back…
    db.store
        .push(&s.device, ops[..10].to_vec(), 10)
        .await
        .unwrap();
    // …so it re-sends everything.
    let retry = db.store.push(&s.device, ops.clone(), 0).await.unwrap();
    let dups = retry
        .results
        .iter()
        .filter(|r| r.outcome == PushOutcome::Duplicate)
        .count();
    let new = retry.results.iter().filter(|r| applied(&r.outcome)).count();
    assert_eq!((dups, new), (10, 10));
    assert_eq!(retry.last_seq, 20);
    // 20 alternating moves of 1: back where we started.
    assert_eq!(qty(&*db.store, &s, "A-01", "SKU-1").await, 1000);
    let stored = db
        .store
        .operations(s.tenant, s.warehouse, s.device.device, 0, 100)
        .await
        .unwrap();
    assert_eq!(stored.len(), 20);
    assert!(stored.iter().zip(1..).all(|(o, seq)| o.seq == seq));
    assert_eq!(db.store.verify(s.tenant).await.unwrap(), vec![]);
}

async fn eight_concurrent_pushes_of_one_batch_apply_it_once(db: &TestDb) {
    let s = site(&*db.store, "acme").await;
    let batch: Vec<_> = (1..=50)
        .map(|seq| mv(&s.device, seq, 2, "A-01", "A-02"))
        .collect();
    let mut handles = Vec::new();
    for _ in 0..8 {
        let (store, device, batch) = (db.store.clone(), s.device.clone(), batch.clone());
        handles.push(tokio::spawn(
            async move { store.push(&device, batch, 0).await },
        ));
    }
    let mut applied_total = 0;
    for h in handles {
        let resp = h.await.unwrap().unwrap();
        assert_eq!(resp.last_seq, 50);
        for r in &resp.results {
            match r.outcome {
                PushOutcome::Applied { .. } => applied_total += 1,
                PushOutcome::Duplicate => {}
                ref other => panic!("unexpected outcome {other:?}"),
            }
        }
    }
    assert_eq!(applied_total, 50);
    assert_eq!(qty(&*db.store, &s, "A-01", "SKU-1").await, 900);
    assert_eq!(qty(&*db.store, &s, "A-02", "SKU-1").await, 100);
    assert_eq!(db.store.verify(s.tenant).await.unwrap(), vec![]);
}

async fn two_storage_handles_on_one_database_apply_once(db: &TestDb) {
    // Two replicas of the server: two independent handles.
    let s = site(&*db.store, "acme").await;
    let other = pyck_server::storage::open(&db.url).await.unwrap();
    let batch: Vec<_> = (1..=30)
        .map(|seq| mv(&s.device, seq, 1, "A-01", "A-02"))
        .collect();
    let (a, b) = tokio::join!(
        db.store.push(&s.device, batch.clone(), 0),
        other.push(&s.device, batch.clone(), 0)
    );
    let applied_total = a
        .unwrap()
        .results
        .iter()
        .chain(b.unwrap().results.iter())
        .filter(|r| applied(&r.outcome))
        .count();
    assert_eq!(applied_total, 30);
    assert_eq!(qty(&*db.store, &s, "A-02", "SKU-1").await, 30);
    assert_eq!(db.store.verify(s.tenant).await.unwrap(), vec![]);
}

async fn a_gap_is_refused_with_the_expected_number(db: &TestDb) {
    let s = site(&*db.store, "acme").await;
    let ops = moves(&s.device, 1..=5);
    db.store
        .push(&s.device, ops[..2].to_vec(), 0)
        .await
        .unwrap();
    let resp = db
        .store
        .push(&s.device, ops[4..].to_vec(), 0)
        .await
        .unwrap();
    assert_eq!(resp.results[0].outcome, PushOutcome::Gap { expected: 3 });
    assert_eq!(resp.last_seq, 2);
    let resp = db
        .store
        .push(&s.device, ops[2..].to_vec(), 0)
        .await
        .unwrap();
    assert!(resp.results.iter().all(|r| applied(&r.outcome)));
    assert_eq!(resp.last_seq, 5);
    assert_eq!(db.store.verify(s.tenant).await.unwrap(), vec![]);
}

async fn a_refusal_consumes_its_number_and_good_ones_follow(db: &TestDb) {
    let s = site(&*db.store, "acme").await;
    let mut bad = mv(&s.device, 1, 1, "A-01", "A-02");
    if let pyck_vocab::operation::Payload::Move(m) = &mut bad.payload {
        m.sku = "NOPE".into();
    }
    let batch = vec![
        bad.clone(),
        mv(&s.device, 2, 4, "A-01", "A-02"),
        receive(&s.device, 3, 12, "L9"),
    ];
    let resp = db.store.push(&s.device, batch, 0).await.unwrap();
    assert!(
        matches!(&resp.results[0].outcome, PushOutcome::Refused(r) if r.code == RefusalCode::UnknownItem)
    );
    assert!(applied(&resp.results[1].outcome));
    assert!(applied(&resp.results[2].outcome));
    assert_eq!(resp.last_seq, 3);
    // The refusal is stored and returned again on a re-send.
    let again = db.store.push(&s.device, vec![bad], 0).await.unwrap();
    assert!(
        matches!(&again.results[0].outcome, PushOutcome::Refused(r) if r.code == RefusalCode::UnknownItem)
    );
    let stored = db
        .store
        .operations(s.tenant, s.warehouse, s.device.device, 0, 10)
        .await
        .unwrap();
    assert_eq!(
        stored[0].refusal.as_ref().map(|r| r.code),
        Some(RefusalCode::UnknownItem)
    );
    assert_eq!(qty(&*db.store, &s, "A-02", "SKU-1").await, 4);
    assert_eq!(qty(&*db.store, &s, "DOCK-1", "SKU-2").await, 12);
    assert_eq!(db.store.verify(s.tenant).await.unwrap(), vec![]);
}

async fn contradicting_facts_apply_and_raise_exceptions(db: &TestDb) {
    let s = site(&*db.store, "acme").await;
    let resp = db
        .store
        .push(&s.device, vec![mv(&s.device, 1, 7, "A-02", "A-01")], 0)
        .await
        .unwrap();
    assert_eq!(
        resp.results[0].outcome,
        PushOutcome::Applied { exceptions: 1 }
    );
    assert_eq!(qty(&*db.store, &s, "A-02", "SKU-1").await, -7);
    let ex = db.store.exceptions(s.tenant, s.warehouse).await.unwrap();
    assert_eq!(ex.len(), 1);
    assert_eq!(ex[0].kind, ExceptionKind::NegativeStock);
    assert_eq!(ex[0].location.as_deref(), Some("A-02"));
    assert_eq!(db.store.verify(s.tenant).await.unwrap(), vec![]);
}

async fn a_changed_count_threshold_applies_to_the_next_count_and_is_audited(db: &TestDb) {
    use pyck_server::settings::{Fefo, Key};
    let s = site(&*db.store, "acme").await;
    let count = |seq, qty| pyck_vocab::operation::Operation {
        id: uuid::Uuid::now_v7(),
        device: s.device.device,
        seq,
        operator: "1007".into(),
        at: chrono::Utc::now(),
        payload: pyck_vocab::operation::Payload::Count(pyck_vocab::operation::Count {
            location: "A-01".into(),
            sku: "SKU-1".into(),
            lot: None,
            qty,
            task: None,
        }),
    };
    let defaults = db.store.settings(s.tenant, s.warehouse).await.unwrap();
    assert_eq!(
        (defaults.count_threshold, defaults.fefo),
        (None, Fefo::Warn)
    );
    // By default any difference goes to a supervisor; stock stays.
    let resp = db
        .store
        .push(&s.device, vec![count(1, 998)], 0)
        .await
        .unwrap();
    assert_eq!(
        resp.results[0].outcome,
        PushOutcome::Applied { exceptions: 1 }
    );
    assert_eq!(qty(&*db.store, &s, "A-01", "SKU-1").await, 1000);

    let value = Key::CountThreshold.value("3").unwrap();
    // A warehouse the tenant does not have: refused by name, nothing audited.
    let unknown = db
        .store
        .set_setting(
            s.tenant,
            s.warehouse + 1_000,
            Key::CountThreshold,
            &value,
            "3001",
        )
        .await;
    assert!(
        matches!(
            unknown,
            Err(pyck_server::storage::StorageError::UnknownWarehouse(_))
        ),
        "{unknown:?}"
    );
    let change = db
        .store
        .set_setting(s.tenant, s.warehouse, Key::CountThreshold, &value, "3001")
        .await
        .unwrap();
    assert_eq!(
        (
            change.old.as_deref(),
            change.new.as_deref(),
            change.by.as_str()
        ),
        (None, Some("3"), "3001")
    );
    assert_eq!(
        db.store
            .settings(s.tenant, s.warehouse)
            .await
            .unwrap()
            .count_threshold,
        Some(3)
    );
    // The next count within 3 units adjusts the stock instead.
    let resp = db
        .store
        .push(&s.device, vec![count(2, 998)], 0)
        .await
        .unwrap();
    assert_eq!(
        resp.results[0].outcome,
        PushOutcome::Applied { exceptions: 0 }
    );
    assert_eq!(qty(&*db.store, &s, "A-01", "SKU-1").await, 998);

    let reset = Key::CountThreshold.value("default").unwrap();
    db.store
        .set_setting(
            s.tenant,
            s.warehouse,
            Key::CountThreshold,
            &reset,
            "admin:ops",
        )
        .await
        .unwrap();
    let history = db
        .store
        .settings_history(s.tenant, s.warehouse)
        .await
        .unwrap();
    let trail: Vec<_> = history
        .iter()
        .map(|c| {
            (
                c.key.as_str(),
                c.old.as_deref(),
                c.new.as_deref(),
                c.by.as_str(),
            )
        })
        .collect();
    assert_eq!(
        trail,
        [
            ("count_threshold", None, Some("3"), "3001"),
            ("count_threshold", Some("3"), None, "admin:ops")
        ]
    );
    assert_eq!(history[0], change, "the answer is the audit row as stored");
    // Another tenant's warehouse is untouched.
    let other = site(&*db.store, "globex").await;
    assert_eq!(
        db.store
            .settings(other.tenant, other.warehouse)
            .await
            .unwrap()
            .count_threshold,
        None
    );
    assert!(
        db.store
            .settings_history(other.tenant, other.warehouse)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(db.store.verify(s.tenant).await.unwrap(), vec![]);
}

async fn fefo_strictness_warns_or_refuses_while_an_earlier_lot_waits_at_a_dock(db: &TestDb) {
    use pyck_server::settings::Key;
    let s = site(&*db.store, "acme").await;
    // An earlier-expiring lot of SKU-2 arrives at the dock; the
    // bins hold only L1, which expires later.
    let early = today() + chrono::Duration::days(10);
    let arrive = pyck_vocab::operation::Operation {
        id: uuid::Uuid::now_v7(),
        device: s.device.device,
        seq: 1,
        operator: "2001".into(),
        at: chrono::Utc::now(),
        payload: pyck_vocab::operation::Payload::Receive(pyck_vocab::operation::Receive {
            asn: "ASN-1".into(),
            sku: "SKU-2".into(),
            qty: 30,
            lot: Some("L0".into()),
            expiry: Some(early),
            to: "DOCK-1".into(),
            damaged: 0,
            damaged_reason: None,
        }),
    };
    db.store.push(&s.device, vec![arrive], 0).await.unwrap();
    let line = |order: &str, qty| pyck_server::import::OrderLine {
        order: order.into(),
        line: 1,
        sku: "SKU-2".into(),
        qty,
        customer: "Shop".into(),
    };
    let kinds = |ex: &[pyck_vocab::records::ExceptionRecord], order: &str| -> Vec<String> {
        ex.iter()
            .filter(|e| e.order.as_deref() == Some(order))
            .map(|e| e.kind.as_str().to_owned())
            .collect()
    };
    // warn (the default): L1 is allocated and a supervisor hears of L0.
    let tasks = db
        .store
        .create_order(s.tenant, s.warehouse, &[line("SO-W", 20)])
        .await
        .unwrap();
    assert_eq!(tasks.len(), 1);
    assert_eq!(
        (
            tasks[0].location.as_str(),
            tasks[0].lot.as_deref(),
            tasks[0].qty
        ),
        ("C-01", Some("L1"), 20)
    );
    let ex = db.store.exceptions(s.tenant, s.warehouse).await.unwrap();
    assert_eq!(kinds(&ex, "SO-W"), ["fefo_breach"]);
    let breach = ex
        .iter()
        .find(|e| e.order.as_deref() == Some("SO-W"))
        .unwrap();
    assert_eq!(
        (breach.location.as_deref(), breach.lot.as_deref()),
        (Some("DOCK-1"), Some("L0"))
    );
    // refuse: nothing later than L0 is allocated; the line stays short.
    let refuse = Key::Fefo.value("refuse").unwrap();
    db.store
        .set_setting(s.tenant, s.warehouse, Key::Fefo, &refuse, "3001")
        .await
        .unwrap();
    let tasks = db
        .store
        .create_order(s.tenant, s.warehouse, &[line("SO-R", 5)])
        .await
        .unwrap();
    assert!(tasks.is_empty(), "{tasks:?}");
    let ex = db.store.exceptions(s.tenant, s.warehouse).await.unwrap();
    assert_eq!(kinds(&ex, "SO-R"), ["allocation_short"]);
    assert_eq!(db.store.verify(s.tenant).await.unwrap(), vec![]);
}

async fn pull_pages_through_a_compacted_log(db: &TestDb) {
    let s = site(&*db.store, "acme").await;
    let mut cursor = 0;
    let mut seen = std::collections::HashMap::new();
    loop {
        let page = db.store.pull(&s.device, cursor, 3).await.unwrap();
        assert!(page.changes.len() <= 3);
        for c in &page.changes {
            assert!(c.position > cursor);
            seen.insert((c.entity, c.key.clone()), c.data.clone());
        }
        cursor = page.cursor;
        if !page.has_more {
            break;
        }
    }
    assert!(seen.contains_key(&(Entity::Item, "SKU-2".to_owned())));
    assert!(seen.contains_key(&(Entity::Location, "DOCK-1".to_owned())));
    assert!(seen.contains_key(&(Entity::Operator, "1007".to_owned())));
    assert!(seen.contains_key(&(Entity::AsnLine, "ASN-1|1".to_owned())));
    assert_eq!(
        seen[&(Entity::Stock, "A-01|SKU-1|".to_owned())]
            .as_ref()
            .unwrap()["qty"],
        1000
    );

    // 40 moves touch two records: a pull after them brings two
    // stock changes, not 80.
    db.store
        .push(&s.device, moves(&s.device, 1..=40), 0)
        .await
        .unwrap();
    let page = db.store.pull(&s.device, cursor, 1000).await.unwrap();
    let stock: Vec<_> = page
        .changes
        .iter()
        .filter(|c| c.entity == Entity::Stock)
        .collect();
    assert_eq!(stock.len(), 2, "{stock:?}");
    let a01 = stock.iter().find(|c| c.key == "A-01|SKU-1|").unwrap();
    assert_eq!(a01.data.as_ref().unwrap()["qty"], 1000);
    // A-02 went back to zero: the record is gone.
    let a02 = stock.iter().find(|c| c.key == "A-02|SKU-1|").unwrap();
    assert_eq!(a02.data, None);
    let empty = db.store.pull(&s.device, page.cursor, 1000).await.unwrap();
    assert!(empty.changes.is_empty() && !empty.has_more);
    assert_eq!(empty.cursor, page.cursor);
}

async fn tenants_see_and_touch_nothing_of_each_other(db: &TestDb) {
    let a = site(&*db.store, "acme").await;
    let b = site(&*db.store, "globex").await;
    db.store
        .push(&a.device, moves(&a.device, 1..=1), 0)
        .await
        .unwrap();
    // B's device pulls only B's records.
    let page = db.store.pull(&b.device, 0, 10_000).await.unwrap();
    let b_stock: Vec<_> = page
        .changes
        .iter()
        .filter(|c| c.entity == Entity::Stock && c.data.is_some())
        .collect();
    assert_eq!(b_stock.len(), 2);
    assert!(
        b_stock
            .iter()
            .all(|c| c.data.as_ref().unwrap()["qty"] != 999)
    );
    // A's device cannot push under B's device id…
    let mut forged = mv(&b.device, 1, 1, "A-01", "A-02");
    forged.device = a.device.device;
    let scoped_to_a = pyck_server::storage::DeviceAuth {
        device: b.device.device,
        ..a.device.clone()
    };
    assert!(db.store.push(&scoped_to_a, vec![forged], 0).await.is_err());
    // …and B's stock is untouched by A's work.
    assert_eq!(qty(&*db.store, &b, "A-01", "SKU-1").await, 1000);
    assert_eq!(qty(&*db.store, &a, "A-01", "SKU-1").await, 999);
    assert!(
        db.store
            .exceptions(b.tenant, b.warehouse)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(db.store.verify(a.tenant).await.unwrap(), vec![]);
    assert_eq!(db.store.verify(b.tenant).await.unwrap(), vec![]);
}

async fn warehouses_see_only_their_own_workflows_and_operations(db: &TestDb) {
    let s = site(&*db.store, "acme").await;
    let mut dc2 = small_warehouse();
    dc2.order_lines.clear();
    db.store.import(s.tenant, "DC2", &dc2).await.unwrap();
    let other = db.store.warehouse(s.tenant, "DC2").await.unwrap().id;
    db.store
        .push(&s.device, moves(&s.device, 1..=2), 0)
        .await
        .unwrap();
    // DC1's order and device, seen from DC1, from DC2 and tenant-wide.
    assert!(
        db.store
            .workflow(s.tenant, Some(s.warehouse), "SO-1")
            .await
            .unwrap()
            .is_some()
    );
    assert!(
        db.store
            .workflow(s.tenant, Some(other), "SO-1")
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        db.store
            .workflow(s.tenant, None, "SO-1")
            .await
            .unwrap()
            .is_some()
    );
    assert_eq!(
        db.store
            .workflows(s.tenant, Some(s.warehouse))
            .await
            .unwrap()
            .len(),
        1
    );
    assert!(
        db.store
            .workflows(s.tenant, Some(other))
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        db.store
            .operations(s.tenant, s.warehouse, s.device.device, 0, 10)
            .await
            .unwrap()
            .len(),
        2
    );
    assert!(
        db.store
            .operations(s.tenant, other, s.device.device, 0, 10)
            .await
            .unwrap()
            .is_empty()
    );
}

async fn pulled_tasks(db: &TestDb, s: &Site) -> Vec<pyck_vocab::records::TaskRecord> {
    let page = db.store.pull(&s.device, 0, 100_000).await.unwrap();
    page.changes
        .iter()
        .filter(|c| c.entity == Entity::Task)
        .filter_map(|c| c.data.clone())
        .map(|d| serde_json::from_value(d).unwrap())
        .collect()
}

async fn imported_orders_are_allocated_to_pick_tasks(db: &TestDb) {
    let s = site(&*db.store, "acme").await;
    let tasks = pulled_tasks(db, &s).await;
    assert_eq!(tasks.len(), 1, "{tasks:?}");
    let t = &tasks[0];
    assert_eq!(t.kind, pyck_vocab::records::TaskKind::Pick);
    assert_eq!(
        (t.order.as_deref(), t.location.as_str(), t.qty),
        (Some("SO-1"), "A-01", 10)
    );
    // A re-import allocates nothing twice.
    db.store
        .import(s.tenant, "DC1", &small_warehouse())
        .await
        .unwrap();
    assert_eq!(pulled_tasks(db, &s).await.len(), 1);
}

async fn workflows_due_count_steps_due_whether_claimed_or_not(db: &TestDb) {
    use pyck_server::workflow::machine::{self, Outcome, Step};
    use pyck_server::workflow::policy::Policy;
    let s = site(&*db.store, "acme").await;
    let now = chrono::Utc::now();
    let lease = now + chrono::Duration::seconds(30);
    // The import's order has a workflow, due at once.
    let due = db.store.workflows_due(now).await.unwrap();
    assert!(due >= 1, "{due}");
    assert_eq!(
        db.store
            .workflows_due(now - chrono::Duration::days(1))
            .await
            .unwrap(),
        0
    );
    let a = db.store.claim_workflows("a", now, lease, 16).await.unwrap();
    let wf = a.iter().find(|w| w.order == "SO-1").cloned().unwrap();
    assert_eq!(
        db.store.workflows_due(now).await.unwrap(),
        due,
        "a claimed step is still due"
    );
    // Reserved, the pick step is due at once.
    db.store
        .reserve_order(s.tenant, s.warehouse, "SO-1")
        .await
        .unwrap();
    let facts = db
        .store
        .order_facts(s.tenant, s.warehouse, "SO-1")
        .await
        .unwrap();
    let t = machine::next(
        &wf,
        &facts,
        Some(&Outcome::Done),
        now,
        &Policy::default(),
        0.5,
    );
    assert!(db.store.advance_workflow("a", &wf, &t).await.unwrap());
    assert_eq!(db.store.workflows_due(now).await.unwrap(), due);
    // The pick step waits for the floor: due again at the next poll.
    let a = db.store.claim_workflows("a", now, lease, 16).await.unwrap();
    let wf = a.iter().find(|w| w.order == "SO-1").cloned().unwrap();
    assert_eq!(wf.step, Step::Pick);
    let t = machine::next(&wf, &facts, None, now, &Policy::default(), 0.5);
    assert!(db.store.advance_workflow("a", &wf, &t).await.unwrap());
    assert_eq!(db.store.workflows_due(now).await.unwrap(), due - 1);
    let later = now + chrono::Duration::days(1);
    assert_eq!(db.store.workflows_due(later).await.unwrap(), due);
}

async fn workflows_lease_to_one_replica_and_compensate_idempotently(db: &TestDb) {
    use pyck_server::workflow::machine::{self, Outcome, Step};
    use pyck_server::workflow::policy::Policy;
    let s = site(&*db.store, "acme").await;
    let now = chrono::Utc::now();
    let lease = now + chrono::Duration::seconds(30);
    // The import's order has a workflow, due at once; one replica gets it.
    let a = db.store.claim_workflows("a", now, lease, 16).await.unwrap();
    let wf = a.iter().find(|w| w.order == "SO-1").cloned().unwrap();
    assert_eq!((wf.step, wf.attempt), (Step::Reserve, 1));
    let b = db.store.claim_workflows("b", now, lease, 16).await.unwrap();
    assert!(b.iter().all(|w| w.order != "SO-1"), "leased to a");

    assert_eq!(
        db.store
            .reserve_order(s.tenant, s.warehouse, "SO-1")
            .await
            .unwrap(),
        Outcome::Done
    );
    assert_eq!(
        pulled_tasks(db, &s).await.len(),
        1,
        "reserve allocates nothing twice"
    );
    let facts = db
        .store
        .order_facts(s.tenant, s.warehouse, "SO-1")
        .await
        .unwrap();
    assert_eq!(
        (facts.status, facts.pick_tasks, facts.open_picks),
        (Some(OrderStatus::Allocated), 1, 1)
    );
    let t = machine::next(
        &wf,
        &facts,
        Some(&Outcome::Done),
        now,
        &Policy::default(),
        0.5,
    );
    assert!(
        !db.store.advance_workflow("b", &wf, &t).await.unwrap(),
        "b holds no lease"
    );
    assert!(db.store.advance_workflow("a", &wf, &t).await.unwrap());
    let report = db
        .store
        .workflow(s.tenant, None, "SO-1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (report.state.as_str(), report.step.as_str()),
        ("running", "pick")
    );
    assert_eq!(report.history.len(), 1);
    assert_eq!(
        (
            report.history[0].step.as_str(),
            report.history[0].status.as_str()
        ),
        ("reserve", "done")
    );

    // 4 of 10 picked, then the order is cancelled.
    let task = pulled_tasks(db, &s).await.remove(0);
    let pick = pyck_vocab::operation::Operation {
        id: uuid::Uuid::now_v7(),
        device: s.device.device,
        seq: 1,
        operator: "1007".into(),
        at: chrono::Utc::now(),
        payload: pyck_vocab::operation::Payload::Pick(pyck_vocab::operation::Pick {
            task: task.id.clone(),
            order: "SO-1".into(),
            sku: "SKU-1".into(),
            lot: None,
            location: "A-01".into(),
            qty: 4,
        }),
    };
    db.store.push(&s.device, vec![pick], 0).await.unwrap();
    assert_eq!(
        db.store
            .cancel_order(s.tenant, "SO-1")
            .await
            .unwrap()
            .as_deref(),
        Some("running")
    );
    assert_eq!(
        db.store.cancel_order(s.tenant, "SO-404").await.unwrap(),
        None
    );
    let later = now + chrono::Duration::seconds(60);
    let c = db
        .store
        .claim_workflows("b", later, later + chrono::Duration::seconds(30), 16)
        .await
        .unwrap();
    let wf = c.iter().find(|w| w.order == "SO-1").cloned().unwrap();
    assert!(wf.cancel_requested);
    let facts = db
        .store
        .order_facts(s.tenant, s.warehouse, "SO-1")
        .await
        .unwrap();
    assert!(machine::must_compensate(&wf, &facts));
    // Compensating twice (a replica died before recording it) does it once.
    db.store
        .compensate_order(s.tenant, s.warehouse, "SO-1")
        .await
        .unwrap();
    db.store
        .compensate_order(s.tenant, s.warehouse, "SO-1")
        .await
        .unwrap();
    let tasks = pulled_tasks(db, &s).await;
    let pick = tasks.iter().find(|t| t.id == task.id).unwrap();
    assert_eq!(pick.status, pyck_vocab::records::TaskStatus::Cancelled);
    let back: Vec<_> = tasks
        .iter()
        .filter(|t| t.kind == pyck_vocab::records::TaskKind::Putaway)
        .collect();
    assert_eq!(back.len(), 1, "{tasks:?}");
    assert_eq!(
        (
            back[0].location.as_str(),
            back[0].to.as_deref(),
            back[0].qty
        ),
        ("STAGE:SO-1", Some("A-01"), 4)
    );
    let facts = db
        .store
        .order_facts(s.tenant, s.warehouse, "SO-1")
        .await
        .unwrap();
    assert_eq!(facts.status, Some(OrderStatus::Cancelled));
    let t = machine::cancel(&wf, later);
    assert!(db.store.advance_workflow("b", &wf, &t).await.unwrap());
    let report = db
        .store
        .workflow(s.tenant, None, "SO-1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (report.state.as_str(), report.step.as_str()),
        ("compensating", "compensate")
    );
    assert_eq!(
        report
            .history
            .iter()
            .map(|h| h.status.as_str())
            .collect::<Vec<_>>(),
        ["done", "cancelled"]
    );
    let all = db.store.workflows(s.tenant, None).await.unwrap();
    assert_eq!(all.len(), 1);
    db.store.release_workflows("b").await.unwrap();
    assert_eq!(db.store.verify(s.tenant).await.unwrap(), vec![]);
}

async fn picks_stage_goods_and_shipping_takes_them_out(db: &TestDb) {
    let s = site(&*db.store, "acme").await;
    let task = pulled_tasks(db, &s).await.remove(0);
    let op = |seq, payload| pyck_vocab::operation::Operation {
        id: uuid::Uuid::now_v7(),
        device: s.device.device,
        seq,
        operator: "3001".into(),
        at: chrono::Utc::now(),
        payload,
    };
    use pyck_vocab::operation::{OrderRef, Payload, Pick};
    let batch = vec![
        op(
            1,
            Payload::Pick(Pick {
                task: task.id.clone(),
                order: "SO-1".into(),
                sku: "SKU-1".into(),
                lot: None,
                location: "A-01".into(),
                qty: 10,
            }),
        ),
        op(
            2,
            Payload::Pack(OrderRef {
                order: "SO-1".into(),
            }),
        ),
        op(
            3,
            Payload::Ship(OrderRef {
                order: "SO-1".into(),
            }),
        ),
    ];
    let resp = db.store.push(&s.device, batch, 0).await.unwrap();
    assert!(resp.results.iter().all(|r| applied(&r.outcome)), "{resp:?}");
    assert_eq!(qty(&*db.store, &s, "A-01", "SKU-1").await, 990);
    assert_eq!(qty(&*db.store, &s, "STAGE:SO-1", "SKU-1").await, 0);
    let tasks = pulled_tasks(db, &s).await;
    assert_eq!(tasks[0].status, pyck_vocab::records::TaskStatus::Done);
    let page = db.store.pull(&s.device, 0, 100_000).await.unwrap();
    let order = page
        .changes
        .iter()
        .find(|c| c.entity == Entity::Order)
        .unwrap();
    assert_eq!(order.data.as_ref().unwrap()["status"], "shipped");
    assert_eq!(db.store.verify(s.tenant).await.unwrap(), vec![]);
}

async fn a_receipt_into_a_dock_creates_a_putaway_task(db: &TestDb) {
    let s = site(&*db.store, "acme").await;
    let resp = db
        .store
        .push(&s.device, vec![receive(&s.device, 1, 12, "L9")], 0)
        .await
        .unwrap();
    assert!(applied(&resp.results[0].outcome));
    let putaway: Vec<_> = pulled_tasks(db, &s)
        .await
        .into_iter()
        .filter(|t| t.kind == pyck_vocab::records::TaskKind::Putaway)
        .collect();
    assert_eq!(putaway.len(), 1);
    assert_eq!(
        (
            putaway[0].location.as_str(),
            putaway[0].to.as_deref(),
            putaway[0].qty
        ),
        ("DOCK-1", Some("C-01"), 12)
    );
}

async fn a_committed_push_leaves_its_events_in_the_outbox_and_a_resend_none(db: &TestDb) {
    use pyck_vocab::events::EventKind;
    let s = site(&*db.store, "acme").await;
    let relayed = outbox_events(&*db.store).await; // the site's own
    let batch = vec![
        mv(&s.device, 1, 5, "A-01", "A-02"),
        receive(&s.device, 2, 12, "L9"),
    ];
    let resp = db.store.push(&s.device, batch.clone(), 0).await.unwrap();
    assert!(resp.results.iter().all(|r| applied(&r.outcome)));
    let events = outbox_events(&*db.store).await;
    assert!(
        events.iter().all(|e| e.warehouse == s.warehouse),
        "{events:?}"
    );
    let ids: std::collections::HashSet<_> = events
        .iter()
        .chain(&relayed)
        .map(|e| e.event_id.clone().unwrap())
        .collect();
    assert_eq!(
        ids.len(),
        events.len() + relayed.len(),
        "event ids are unique"
    );
    let stock = |loc: &str, sku: &str| {
        events.iter().find_map(|e| match &e.kind {
            EventKind::StockChanged {
                location,
                sku: k,
                qty,
                ..
            } if location == loc && k == sku => Some((*qty, e.operation)),
            _ => None,
        })
    };
    // Final quantities, as committed, each with the operation
    // that caused it.
    let (moved, received) = (Some(batch[0].id), Some(batch[1].id));
    assert_eq!(stock("A-01", "SKU-1"), Some((995, moved)));
    assert_eq!(stock("A-02", "SKU-1"), Some((5, moved)));
    assert_eq!(stock("DOCK-1", "SKU-2"), Some((12, received)));
    // The receipt into the dock created a putaway task.
    let created: Vec<_> = events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::TaskCreated { task } => {
                assert_eq!(e.operation, received);
                Some(task.clone())
            }
            _ => None,
        })
        .collect();
    let putaway: Vec<_> = pulled_tasks(db, &s)
        .await
        .into_iter()
        .filter(|t| t.kind == pyck_vocab::records::TaskKind::Putaway)
        .map(|t| t.id)
        .collect();
    assert_eq!(created, putaway);
    // A re-send changes nothing, so it has nothing to tell.
    let again = db.store.push(&s.device, batch, 0).await.unwrap();
    assert!(
        again
            .results
            .iter()
            .all(|r| r.outcome == PushOutcome::Duplicate)
    );
    assert_eq!(outbox_events(&*db.store).await, vec![]);
}

async fn supervisors_writes_and_the_workflow_tell_subscribers_through_the_outbox(db: &TestDb) {
    use pyck_vocab::events::EventKind;
    let s = site(&*db.store, "acme").await;
    outbox_events(&*db.store).await;
    // More than there is: a pick task for what there is and an
    // allocation_short exception, both told.
    let lines = [pyck_server::import::OrderLine {
        order: "SO-77".into(),
        line: 1,
        sku: "SKU-1".into(),
        qty: 1500,
        customer: "c".into(),
    }];
    let tasks = db
        .store
        .create_order(s.tenant, s.warehouse, &lines)
        .await
        .unwrap();
    let kinds: Vec<_> = outbox_events(&*db.store)
        .await
        .into_iter()
        .map(|e| e.kind)
        .collect();
    for t in &tasks {
        assert!(
            kinds.contains(&EventKind::TaskCreated { task: t.id.clone() }),
            "{kinds:?}"
        );
    }
    let short = kinds
        .iter()
        .find_map(|k| match k {
            EventKind::ExceptionRaised { id, kind, .. } if kind == "allocation_short" => {
                Some(id.clone())
            }
            _ => None,
        })
        .expect("allocation_short is told");
    let count = db
        .store
        .create_count_task(s.tenant, s.warehouse, "A-01", None)
        .await
        .unwrap();
    db.store
        .resolve_exception(s.tenant, s.warehouse, &short, "ordered more")
        .await
        .unwrap()
        .unwrap();
    let kinds: Vec<_> = outbox_events(&*db.store)
        .await
        .into_iter()
        .map(|e| e.kind)
        .collect();
    assert_eq!(
        kinds,
        vec![
            EventKind::TaskCreated { task: count.id },
            EventKind::ExceptionResolved { id: short },
        ]
    );
    // Compensation cancels the order's open picks: told too.
    db.store
        .compensate_order(s.tenant, s.warehouse, "SO-77")
        .await
        .unwrap();
    let kinds: Vec<_> = outbox_events(&*db.store)
        .await
        .into_iter()
        .map(|e| e.kind)
        .collect();
    for t in &tasks {
        assert!(
            kinds.contains(&EventKind::TaskCancelled { id: t.id.clone() }),
            "{kinds:?}"
        );
    }
}

async fn supervisors_create_orders_count_tasks_and_resolve_exceptions(db: &TestDb) {
    let s = site(&*db.store, "acme").await;
    assert_eq!(
        db.store.operator_role(s.tenant, "3001").await.unwrap(),
        Some(pyck_vocab::Role::Supervisor)
    );
    assert_eq!(
        db.store.operator_role(s.tenant, "nobody").await.unwrap(),
        None
    );
    let line = pyck_server::import::OrderLine {
        order: "SO-9".into(),
        line: 1,
        sku: "SKU-1".into(),
        qty: 5,
        customer: "Shop".into(),
    };
    let tasks = db
        .store
        .create_order(s.tenant, s.warehouse, std::slice::from_ref(&line))
        .await
        .unwrap();
    assert_eq!(tasks.len(), 1);
    assert_eq!(tasks[0].qty, 5);
    assert!(
        db.store
            .create_order(s.tenant, s.warehouse, &[line])
            .await
            .is_err(),
        "order numbers are unique"
    );
    let count = db
        .store
        .create_count_task(s.tenant, s.warehouse, "A-02", None)
        .await
        .unwrap();
    assert_eq!(count.kind, pyck_vocab::records::TaskKind::Count);
    assert!(pulled_tasks(db, &s).await.iter().any(|t| t.id == count.id));
    // An exception to resolve.
    db.store
        .push(&s.device, vec![mv(&s.device, 1, 7, "A-02", "A-01")], 0)
        .await
        .unwrap();
    let ex = db
        .store
        .exceptions(s.tenant, s.warehouse)
        .await
        .unwrap()
        .remove(0);
    let resolved = db
        .store
        .resolve_exception(s.tenant, s.warehouse, &ex.id, "found it")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(resolved.status, ExceptionStatus::Resolved);
    assert!(
        db.store
            .resolve_exception(s.tenant, s.warehouse, "nope", "x")
            .await
            .unwrap()
            .is_none()
    );
    let page = db.store.pull(&s.device, 0, 100_000).await.unwrap();
    let pulled = page
        .changes
        .iter()
        .find(|c| c.entity == Entity::Exception && c.key == ex.id)
        .unwrap();
    assert_eq!(pulled.data.as_ref().unwrap()["status"], "resolved");
}

async fn revoked_tokens_stop_authenticating(db: &TestDb) {
    let s = site(&*db.store, "acme").await;
    let token = pyck_server::auth::new_token();
    let hash = pyck_server::auth::token_hash(&token);
    let id = db
        .store
        .create_device(s.tenant, s.warehouse, "scanner 7", &hash)
        .await
        .unwrap();
    assert!(db.store.authenticate(&hash).await.unwrap().is_some());
    assert_eq!(db.store.revoke_device("", Some(id)).await.unwrap(), id);
    assert!(db.store.authenticate(&hash).await.unwrap().is_none());
    assert!(db.store.revoke_device("no such hash", None).await.is_err());
}

/// A scripted shift pushed through `Storage::push` (and the workflow engine's
/// storage calls), then every report compared with figures computed here
/// from the script itself.
async fn reports_match_a_scripted_shift(db: &common::TestDb) {
    use chrono::{Duration, Utc};
    use pyck_server::reports::{self, Kind, Report, cycle_time};
    use pyck_server::storage::ReportScope;
    use pyck_server::workflow::machine::{self, Outcome, Step};
    use pyck_server::workflow::policy::Policy;
    use pyck_vocab::operation::{
        CloseAsn, Count, Operation, OrderRef, Payload, Pick, Receive, ShortPick,
    };
    use std::collections::{BTreeMap, BTreeSet};

    let store = &*db.store;
    let s = common::site(store, "acme").await;
    // Every scripted time is after the import, so the ledger's opening stock
    // is on the book when the counts happen.
    // Whole seconds: the stores keep microseconds.
    let base = chrono::SubsecRound::trunc_subsecs(Utc::now(), 0) + Duration::minutes(1);
    let t = |minutes: i64| base + Duration::minutes(minutes);
    let so2 = [
        pyck_server::import::OrderLine {
            order: "SO-2".into(),
            line: 1,
            sku: "SKU-1".into(),
            qty: 5,
            customer: "Shop".into(),
        },
        pyck_server::import::OrderLine {
            order: "SO-2".into(),
            line: 2,
            sku: "SKU-1".into(),
            qty: 3,
            customer: "Shop".into(),
        },
    ];
    store
        .create_order(s.tenant, s.warehouse, &so2)
        .await
        .unwrap();

    // The workflow engine's storage calls, at scripted times.
    let step = |order: &'static str, now: chrono::DateTime<Utc>| async move {
        let wf = store
            .claim_workflows("t", now, now + Duration::seconds(30), 64)
            .await
            .unwrap()
            .into_iter()
            .find(|w| w.order == order)
            .unwrap();
        let facts = store
            .order_facts(s.tenant, s.warehouse, order)
            .await
            .unwrap();
        let outcome = match wf.step {
            Step::Reserve => Some(
                store
                    .reserve_order(s.tenant, s.warehouse, order)
                    .await
                    .unwrap(),
            ),
            Step::Notify => Some(Outcome::Done),
            _ => None,
        };
        let tr = machine::next(&wf, &facts, outcome.as_ref(), now, &Policy::default(), 0.5);
        assert!(store.advance_workflow("t", &wf, &tr).await.unwrap());
        store.release_workflows("t").await.unwrap();
        wf.step
    };
    assert_eq!(step("SO-1", t(0)).await, Step::Reserve);
    assert_eq!(step("SO-2", t(2)).await, Step::Reserve);

    let tasks = store
        .pull(&s.device, 0, 100_000)
        .await
        .unwrap()
        .changes
        .into_iter()
        .filter(|c| c.entity == pyck_vocab::protocol::Entity::Task)
        .filter_map(|c| serde_json::from_value::<pyck_vocab::records::TaskRecord>(c.data?).ok())
        .filter(|t| t.kind == pyck_vocab::records::TaskKind::Pick)
        .collect::<Vec<_>>();
    let task = |order: &str, line: u32| {
        tasks
            .iter()
            .find(|t| t.order.as_deref() == Some(order) && t.line == Some(line))
            .unwrap()
            .clone()
    };

    // (operator, minute, payload), in push order.
    let pick = |order: &str, line: u32, qty: i64| {
        let t = task(order, line);
        Payload::Pick(Pick {
            task: t.id,
            order: order.into(),
            sku: "SKU-1".into(),
            lot: None,
            location: t.location,
            qty,
        })
    };
    let receipt = |qty: i64, damaged: i64| {
        Payload::Receive(Receive {
            asn: "ASN-1".into(),
            sku: "SKU-2".into(),
            qty,
            lot: Some("L9".into()),
            expiry: chrono::NaiveDate::from_ymd_opt(2027, 2, 1),
            to: "DOCK-1".into(),
            damaged,
            damaged_reason: None,
        })
    };
    let short = task("SO-2", 2);
    let script: Vec<(&str, i64, Payload)> = vec![
        ("1007", 5, pick("SO-1", 1, 10)),
        ("2001", 10, receipt(60, 0)),
        ("2001", 20, receipt(30, 5)),
        ("1007", 35, pick("SO-2", 1, 5)),
        (
            "2001",
            50,
            Payload::CloseAsn(CloseAsn {
                asn: "ASN-1".into(),
            }),
        ),
        (
            "1007",
            95,
            Payload::ShortPick(ShortPick {
                task: short.id.clone(),
                order: "SO-2".into(),
                sku: "SKU-1".into(),
                lot: None,
                location: short.location.clone(),
                qty: 1,
                reason: "not there".into(),
            }),
        ),
        (
            "1007",
            100,
            Payload::Pack(OrderRef {
                order: "SO-1".into(),
            }),
        ),
        (
            "1007",
            101,
            Payload::Ship(OrderRef {
                order: "SO-1".into(),
            }),
        ),
        // Right: the book is 1000 less the 16 picked from A-01.
        (
            "3001",
            110,
            Payload::Count(Count {
                location: "A-01".into(),
                sku: "SKU-1".into(),
                lot: None,
                qty: 1000 - 16,
                task: None,
            }),
        ),
        // Wrong by 2: the book says 50.
        (
            "3001",
            120,
            Payload::Count(Count {
                location: "C-01".into(),
                sku: "SKU-2".into(),
                lot: Some("L1".into()),
                qty: 48,
                task: None,
            }),
        ),
    ];
    let ops: Vec<Operation> = script
        .iter()
        .enumerate()
        .map(|(i, (operator, minute, payload))| Operation {
            id: uuid::Uuid::now_v7(),
            device: s.device.device,
            seq: i as u64 + 1,
            operator: (*operator).into(),
            at: t(*minute),
            payload: payload.clone(),
        })
        .collect();
    let resp = store.push(&s.device, ops, 0).await.unwrap();
    assert!(
        resp.results
            .iter()
            .all(|r| matches!(r.outcome, pyck_vocab::protocol::PushOutcome::Applied { .. })),
        "{resp:?}"
    );
    // SO-1 goes pick → pack → ship → notify; SO-2 stays short of shipping.
    for (minute, want) in [
        (102, Step::Pick),
        (103, Step::Pack),
        (104, Step::Ship),
        (105, Step::Notify),
    ] {
        assert_eq!(step("SO-1", t(minute)).await, want);
    }

    let today = Utc::now()
        .date_naive()
        .and_hms_opt(0, 0, 0)
        .unwrap()
        .and_utc();
    let scope = ReportScope {
        warehouse: Some(s.warehouse),
        from: Some(today),
        to: Some(today + Duration::days(2)),
    };
    let facts = store.report_facts(s.tenant, &scope).await.unwrap();
    let report = |kind| reports::compute(kind, &facts, &scope);

    // Productivity, from the script's picks.
    // picks, (order, line)s, units, first and last minute
    type PerOperator = (i64, BTreeSet<(String, u32)>, i64, i64, i64);
    let mut want: BTreeMap<&str, PerOperator> = BTreeMap::new();
    for (operator, minute, payload) in &script {
        let (order, task_id, qty) = match payload {
            Payload::Pick(p) => (&p.order, &p.task, p.qty),
            Payload::ShortPick(p) => (&p.order, &p.task, p.qty),
            _ => continue,
        };
        let line = tasks
            .iter()
            .find(|t| &t.id == task_id)
            .unwrap()
            .line
            .unwrap();
        let e = want
            .entry(operator)
            .or_insert((0, BTreeSet::new(), 0, *minute, *minute));
        e.0 += 1;
        e.1.insert((order.clone(), line));
        e.2 += qty;
        e.3 = e.3.min(*minute);
        e.4 = e.4.max(*minute);
    }
    let Report::Productivity(rows) = report(Kind::Productivity) else {
        unreachable!()
    };
    assert_eq!(rows.len(), want.len(), "{rows:?}");
    for (row, (operator, (picks, lines, units, first, last))) in rows.iter().zip(&want) {
        let hours = (last - first) as f64 / 60.0;
        assert_eq!(
            (row.operator.as_str(), row.picks, row.lines, row.units),
            (*operator, *picks, lines.len() as i64, *units)
        );
        assert_eq!(row.seconds, (last - first) * 60);
        assert!(
            (row.picks_per_hour.unwrap() - *picks as f64 / hours).abs() < 1e-9,
            "{row:?}"
        );
        assert!(
            (row.lines_per_hour.unwrap() - lines.len() as f64 / hours).abs() < 1e-9,
            "{row:?}"
        );
    }

    // Receiving, from the script's receipts and close.
    let (mut received, mut damaged, mut receipts, mut opened, mut closed) = (0, 0, 0, None, None);
    for (_, minute, payload) in &script {
        match payload {
            Payload::Receive(r) => {
                received += r.qty;
                damaged += r.damaged;
                receipts += 1;
                opened = opened.or(Some(t(*minute)));
            }
            Payload::CloseAsn(_) => closed = closed.or(Some(t(*minute))),
            _ => {}
        }
    }
    let Report::Receiving(rows) = report(Kind::Receiving) else {
        unreachable!()
    };
    assert_eq!(rows.len(), 1, "{rows:?}");
    let r = &rows[0];
    let expected: i64 = common::small_warehouse()
        .asn_lines
        .iter()
        .map(|l| l.expected_qty)
        .sum();
    assert_eq!(
        (
            r.asn.as_str(),
            r.expected,
            r.received,
            r.damaged,
            r.receipts
        ),
        ("ASN-1", expected, received, damaged, receipts)
    );
    assert_eq!((r.opened, r.closed), (opened, closed));
    assert_eq!(
        r.seconds_to_close,
        Some((closed.unwrap() - opened.unwrap()).num_seconds())
    );

    // Exceptions: the script raises a short pick, an under-receipt (90 good
    // + 5 damaged of 100) and a count difference; the storage's own list
    // grouped by day and kind must agree with the report.
    let Report::Exceptions(rows) = report(Kind::Exceptions) else {
        unreachable!()
    };
    let mut want: BTreeMap<(chrono::NaiveDate, String), (i64, i64)> = BTreeMap::new();
    for e in store.exceptions(s.tenant, s.warehouse).await.unwrap() {
        let w = want
            .entry((e.raised_at.date_naive(), e.kind.as_str().to_owned()))
            .or_default();
        w.0 += 1;
        w.1 += i64::from(e.status == ExceptionStatus::Resolved);
    }
    let kinds: BTreeSet<&str> = rows.iter().map(|r| r.kind.as_str()).collect();
    for kind in ["short_pick", "under_receipt", "count_difference"] {
        assert!(kinds.contains(kind), "{kind} missing from {rows:?}");
    }
    let got: BTreeMap<_, _> = rows
        .iter()
        .map(|r| ((r.day, r.kind.clone()), (r.raised, r.resolved)))
        .collect();
    assert_eq!(got, want);

    // Accuracy: of the two counts, the one of A-01 matched the book.
    let Report::Accuracy(rows) = report(Kind::Accuracy) else {
        unreachable!()
    };
    let picked_from_a01: i64 = script
        .iter()
        .map(|(_, _, p)| match p {
            Payload::Pick(p) => p.qty,
            Payload::ShortPick(p) => p.qty,
            _ => 0,
        })
        .sum();
    let book = |location: &str| {
        if location == "A-01" {
            1000 - picked_from_a01
        } else {
            50
        }
    };
    let counts: Vec<(i64, i64)> = script
        .iter()
        .filter_map(|(_, _, p)| match p {
            Payload::Count(c) => Some((c.qty, book(&c.location))),
            _ => None,
        })
        .collect();
    assert_eq!(rows.len(), 1, "{rows:?}");
    let matched = counts.iter().filter(|(c, b)| c == b).count() as i64;
    assert_eq!(
        (rows[0].counts, rows[0].matched),
        (counts.len() as i64, matched)
    );
    assert_eq!(
        rows[0].absolute_variance,
        counts.iter().map(|(c, b)| (c - b).abs()).sum::<i64>()
    );
    assert_eq!(
        rows[0].net_variance,
        counts.iter().map(|(c, b)| c - b).sum::<i64>()
    );
    assert!((rows[0].accuracy - matched as f64 / counts.len() as f64).abs() < 1e-9);

    // Cycle time: SO-1 from its reserve (minute 0) to ship done (minute
    // 104); SO-2 reserved at minute 2 and never shipped.
    let Report::CycleTime(rows) = report(Kind::CycleTime) else {
        unreachable!()
    };
    let got: Vec<_> = rows
        .iter()
        .map(|r| (r.order.as_str(), r.started, r.shipped, r.seconds))
        .collect();
    assert_eq!(
        got,
        vec![
            (
                "SO-1",
                t(0),
                Some(t(104)),
                Some((t(104) - t(0)).num_seconds())
            ),
            ("SO-2", t(2), None, None),
        ]
    );
    let summary = cycle_time::summary(&rows);
    assert_eq!(
        (summary.shipped, summary.median_seconds, summary.p90_seconds),
        (1, Some(104 * 60), Some(104 * 60))
    );

    // A window the shift is not in, and another warehouse's view: nothing.
    let before = ReportScope {
        warehouse: None,
        from: None,
        to: Some(today),
    };
    let facts = store.report_facts(s.tenant, &before).await.unwrap();
    assert!(
        facts.operations.is_empty() && facts.exceptions.is_empty(),
        "{facts:?}"
    );
    assert_eq!(reports::cycle_time::compute(&facts, &before), vec![]);
    let other = store.create_tenant("other").await.unwrap();
    let facts = store
        .report_facts(other.id, &ReportScope::default())
        .await
        .unwrap();
    assert_eq!(facts, pyck_server::storage::ReportFacts::default());
}

async fn floor_facts_show_open_work_devices_and_recent_picks(db: &common::TestDb) {
    use chrono::{Duration, Utc};
    use pyck_vocab::operation::{Count, Operation, Payload, Pick};
    use pyck_vocab::records::{TaskKind, TaskStatus};

    let store = &*db.store;
    let s = common::site(store, "acme").await;
    let other = common::site(store, "globex").await;
    let now = Utc::now();

    // Open work: a pick task (order), a putaway (a receipt at the dock), a
    // count task; and two exceptions, of which one gets resolved.
    let picks = store
        .create_order(
            s.tenant,
            s.warehouse,
            &[pyck_server::import::OrderLine {
                order: "SO-9".into(),
                line: 1,
                sku: "SKU-1".into(),
                qty: 5,
                customer: "Shop".into(),
            }],
        )
        .await
        .unwrap();
    let task = picks[0].clone();
    let count = store
        .create_count_task(s.tenant, s.warehouse, "A-02", None)
        .await
        .unwrap();
    let op = |seq: u64, operator: &str, at, payload| Operation {
        id: uuid::Uuid::now_v7(),
        device: s.device.device,
        seq,
        operator: operator.into(),
        at,
        payload,
    };
    let pick = |qty| {
        Payload::Pick(Pick {
            task: task.id.clone(),
            order: "SO-9".into(),
            sku: "SKU-1".into(),
            lot: None,
            location: task.location.clone(),
            qty,
        })
    };
    let counted = |location: &str, qty| {
        Payload::Count(Count {
            location: location.into(),
            sku: "SKU-1".into(),
            lot: None,
            qty,
            task: None,
        })
    };
    let batch = vec![
        // Before the window: not charted.
        op(1, "1007", now - Duration::hours(3), pick(1)),
        op(2, "1007", now, pick(2)),
        common::receive(&s.device, 3, 4, "L1"),
        op(4, "3001", now, counted("A-01", 1)),
        op(5, "3001", now, counted("C-01", 50)),
    ];
    let pushed = store.push(&s.device, batch, 7).await.unwrap();
    assert_eq!(pushed.results.len(), 5);
    let raised = store.exceptions(s.tenant, s.warehouse).await.unwrap();
    assert_eq!(raised.len(), 2, "two count differences: {raised:?}");
    store
        .resolve_exception(s.tenant, s.warehouse, &raised[0].id, "seen")
        .await
        .unwrap()
        .unwrap();
    // A device that never synced, and a revoked one.
    let quiet = store
        .create_device(
            s.tenant,
            s.warehouse,
            "quiet",
            &pyck_server::auth::token_hash("q"),
        )
        .await
        .unwrap();
    let gone = common::new_device(store, s.tenant, s.warehouse).await;
    store.revoke_device("", Some(gone.device)).await.unwrap();

    let facts = store
        .floor_facts(s.tenant, s.warehouse, now - Duration::hours(1))
        .await
        .unwrap();

    let open: Vec<_> = facts
        .open_tasks
        .iter()
        .map(|t| (t.kind, t.id.as_str(), t.done_qty))
        .collect();
    assert!(
        open.contains(&(TaskKind::Pick, task.id.as_str(), 3)),
        "{open:?}"
    );
    assert!(
        open.contains(&(TaskKind::Count, count.id.as_str(), 0)),
        "{open:?}"
    );
    assert!(
        open.iter().any(|(k, _, _)| *k == TaskKind::Putaway),
        "{open:?}"
    );
    assert!(
        facts
            .open_tasks
            .iter()
            .all(|t| t.status == TaskStatus::Open)
    );

    let open_ids: Vec<_> = facts.open_exceptions.iter().map(|e| e.id.clone()).collect();
    let expected: Vec<_> = raised[1..].iter().map(|e| e.id.clone()).collect();
    assert_eq!(open_ids, expected, "open exceptions only, oldest first");

    let picked: Vec<_> = facts
        .picks
        .iter()
        .map(|p| (p.operator.as_str(), p.at.timestamp()))
        .collect();
    assert_eq!(
        picked,
        [("1007", now.timestamp())],
        "picks since the window only"
    );

    let devices: Vec<_> = facts
        .devices
        .iter()
        .map(|d| (d.id, d.last_contact.is_some(), d.backlog, d.revoked))
        .collect();
    assert_eq!(devices.len(), 3, "{devices:?}");
    assert!(
        devices.contains(&(s.device.device, true, 7, false)),
        "{devices:?}"
    );
    assert!(devices.contains(&(quiet, false, 0, false)), "{devices:?}");
    assert!(
        devices.contains(&(gone.device, false, 0, true)),
        "{devices:?}"
    );
    let contact = facts
        .devices
        .iter()
        .find(|d| d.id == s.device.device)
        .and_then(|d| d.last_contact)
        .unwrap();
    assert!((contact - Utc::now()).num_minutes().abs() < 5, "{contact}");

    // Another tenant's floor shows none of it.
    let theirs = store
        .floor_facts(other.tenant, other.warehouse, now - Duration::hours(1))
        .await
        .unwrap();
    assert!(theirs.picks.is_empty() && theirs.open_exceptions.is_empty());
    assert!(theirs.devices.iter().all(|d| d.id == other.device.device));
}

async fn photos_link_to_exceptions_directly_or_through_receipts(db: &common::TestDb) {
    use pyck_server::storage::{Attachment, LinkOutcome};
    use pyck_vocab::attachments::Target;
    use pyck_vocab::operation::{CloseAsn, Operation, Payload};

    let store = &*db.store;
    let s = common::site(store, "acme").await;
    let other = common::site(store, "globex").await;
    let photo = |n: u8| Attachment {
        sha256: format!("{n:02x}").repeat(32),
        size: 1000 + u64::from(n),
        content_type: "image/jpeg".into(),
    };
    // A receipt of 4 of the 100 expected, then the ASN closed: an
    // under-receipt exception on that ASN line.
    let receipt = common::receive(&s.device, 1, 4, "L1");
    let close = Operation {
        id: uuid::Uuid::now_v7(),
        device: s.device.device,
        seq: 2,
        operator: "2001".into(),
        at: chrono::Utc::now(),
        payload: Payload::CloseAsn(CloseAsn {
            asn: "ASN-1".into(),
        }),
    };
    let receipt_id = receipt.id;
    store
        .push(&s.device, vec![receipt, close], 0)
        .await
        .unwrap();
    let raised = store.exceptions(s.tenant, s.warehouse).await.unwrap();
    let under = raised
        .iter()
        .find(|e| e.asn.as_deref() == Some("ASN-1"))
        .unwrap();

    // Nothing links before the photo is stored.
    let target = Target::Operation(receipt_id);
    let sha1 = photo(1).sha256;
    let linked = store
        .link_attachment(s.tenant, s.warehouse, &sha1, &target)
        .await
        .unwrap();
    assert_eq!(linked, LinkOutcome::UnknownAttachment);
    store.store_attachment(s.tenant, &photo(1)).await.unwrap();
    store.store_attachment(s.tenant, &photo(1)).await.unwrap(); // again: nothing
    store.store_attachment(s.tenant, &photo(2)).await.unwrap();
    assert_eq!(
        store.attachment(s.tenant, &sha1).await.unwrap(),
        Some(photo(1))
    );
    assert_eq!(store.attachment(other.tenant, &sha1).await.unwrap(), None);

    // Photo 1 documents the receipt, photo 2 the exception itself.
    for _ in 0..2 {
        let linked = store
            .link_attachment(s.tenant, s.warehouse, &sha1, &target)
            .await
            .unwrap();
        assert_eq!(linked, LinkOutcome::Linked);
    }
    let direct = Target::Exception(under.id.clone());
    let sha2 = photo(2).sha256;
    let linked = store
        .link_attachment(s.tenant, s.warehouse, &sha2, &direct)
        .await
        .unwrap();
    assert_eq!(linked, LinkOutcome::Linked);
    let listed = store
        .exception_attachments(s.tenant, s.warehouse, &under.id)
        .await
        .unwrap();
    assert_eq!(listed, vec![photo(1), photo(2)]);

    // Unknown targets, and another tenant's exception, are not linked.
    let nowhere = Target::Operation(uuid::Uuid::now_v7());
    let linked = store
        .link_attachment(s.tenant, s.warehouse, &sha1, &nowhere)
        .await
        .unwrap();
    assert_eq!(linked, LinkOutcome::UnknownTarget);
    store
        .store_attachment(other.tenant, &photo(1))
        .await
        .unwrap();
    let linked = store
        .link_attachment(other.tenant, other.warehouse, &sha1, &direct)
        .await
        .unwrap();
    assert_eq!(linked, LinkOutcome::UnknownTarget);
    let theirs = store
        .exception_attachments(other.tenant, other.warehouse, &under.id)
        .await
        .unwrap();
    assert!(theirs.is_empty());
}

/// A payload from its wire form (`kind` and fields), so these tests name
/// only the fields they use.
fn payload(kind: &str, fields: serde_json::Value) -> pyck_vocab::operation::Payload {
    serde_json::from_value(serde_json::json!({"kind": kind, "payload": fields})).unwrap()
}

fn op_of(
    device: &pyck_server::storage::DeviceAuth,
    seq: u64,
    payload: pyck_vocab::operation::Payload,
) -> pyck_vocab::operation::Operation {
    pyck_vocab::operation::Operation {
        id: uuid::Uuid::now_v7(),
        device: device.device,
        seq,
        operator: "3001".into(),
        at: chrono::Utc::now(),
        payload,
    }
}

/// Runs SQL on the test database directly: to break an invariant on
/// purpose and see `verify` find it.
async fn raw_sql(db: &common::TestDb, sql: &str) {
    if db.url.starts_with("postgres") {
        let (client, conn) = tokio_postgres::connect(&db.url, tokio_postgres::NoTls)
            .await
            .unwrap();
        tokio::spawn(conn);
        client.batch_execute(sql).await.unwrap();
    } else {
        rusqlite::Connection::open(&db.url)
            .unwrap()
            .execute_batch(sql)
            .unwrap();
    }
}

fn checks(found: &[pyck_server::storage::Discrepancy]) -> Vec<&'static str> {
    found.iter().map(|d| d.check).collect()
}

/// Issue 18's floor report: an order packed and shipped with 1 of 4 picks
/// done completed its workflow, its open tasks were still handed out, and a
/// later pick left units staged for a shipped order. Now the pick step
/// waits, the ship cancels what is open, the late pick goes back to stock.
async fn a_stale_pack_and_ship_hold_the_workflow_and_leave_nothing_staged(db: &common::TestDb) {
    use pyck_server::workflow::machine::{self, Step, Workflow};
    use pyck_server::workflow::policy::Policy;
    use pyck_vocab::records::{TaskKind, TaskStatus};
    use serde_json::json;
    let s = common::site(&*db.store, "acme").await;
    let lines: Vec<_> = (1..=4)
        .map(|line| pyck_server::import::OrderLine {
            order: "SO-5001".into(),
            line,
            sku: "SKU-1".into(),
            qty: 30,
            customer: "Shop".into(),
        })
        .collect();
    let tasks = db
        .store
        .create_order(s.tenant, s.warehouse, &lines)
        .await
        .unwrap();
    assert_eq!(tasks.len(), 4);
    let pick = |seq, t: &pyck_vocab::records::TaskRecord| {
        op_of(
            &s.device,
            seq,
            payload(
                "pick",
                json!({"task": t.id, "order": "SO-5001", "sku": "SKU-1", "location": t.location, "qty": t.qty}),
            ),
        )
    };
    let order = |seq, kind| op_of(&s.device, seq, payload(kind, json!({"order": "SO-5001"})));
    // One pick, then pack and ship from a device that did not know better.
    let pushed = db
        .store
        .push(
            &s.device,
            vec![pick(1, &tasks[0]), order(2, "pack"), order(3, "ship")],
            0,
        )
        .await
        .unwrap();
    assert_eq!(
        pushed
            .results
            .iter()
            .map(|r| r.outcome.clone())
            .collect::<Vec<_>>(),
        vec![
            pyck_vocab::protocol::PushOutcome::Applied { exceptions: 0 },
            pyck_vocab::protocol::PushOutcome::Applied { exceptions: 1 },
            pyck_vocab::protocol::PushOutcome::Applied { exceptions: 1 },
        ],
        "facts are applied"
    );
    let exceptions = db.store.exceptions(s.tenant, s.warehouse).await.unwrap();
    let raised: Vec<_> = exceptions
        .iter()
        .filter(|e| e.kind == ExceptionKind::PackedWithOpenPicks)
        .map(|e| e.message.as_str())
        .collect();
    assert_eq!(
        raised,
        vec![
            "order SO-5001 packed with 3 of 4 picks open; its workflow waits until they are picked or this is resolved",
            "order SO-5001 shipped with 3 of 4 picks open: they are cancelled and their 90 units did not ship; its workflow waits until this is resolved",
        ]
    );
    // The open picks are cancelled: no longer handed to pickers.
    let floor = db
        .store
        .floor_facts(s.tenant, s.warehouse, chrono::Utc::now())
        .await
        .unwrap();
    assert!(
        floor
            .open_tasks
            .iter()
            .all(|t| t.order.as_deref() != Some("SO-5001")),
        "{:?}",
        floor.open_tasks
    );
    // The workflow at its pick step does not move on.
    let wf = Workflow {
        tenant: s.tenant,
        warehouse: s.warehouse,
        order: "SO-5001".into(),
        state: machine::State::Running,
        step: Step::Pick,
        attempt: 1,
        step_started_at: chrono::Utc::now(),
        cancel_requested: false,
        pick_overdue_raised: false,
    };
    let facts = db
        .store
        .order_facts(s.tenant, s.warehouse, "SO-5001")
        .await
        .unwrap();
    assert_eq!(
        (
            facts.status,
            facts.pick_tasks,
            facts.open_picks,
            facts.cancelled_picks
        ),
        (Some(OrderStatus::Shipped), 4, 0, 3)
    );
    assert_eq!(
        (
            facts.packed_with_open_picks.open,
            facts.packed_with_open_picks.resolved
        ),
        (2, 0)
    );
    let now = chrono::Utc::now();
    let next = |f: &machine::Facts| machine::next(&wf, f, None, now, &Policy::default(), 0.5).step;
    assert_eq!(
        next(&facts),
        Step::Pick,
        "a ship with picks open is no pick"
    );

    // A second device, offline all along, picks on a task the ship cancelled.
    let stale = common::new_device(&*db.store, s.tenant, s.warehouse).await;
    let late = op_of(
        &stale,
        1,
        payload(
            "pick",
            json!({"task": tasks[1].id, "order": "SO-5001", "sku": "SKU-1", "location": tasks[1].location, "qty": 30}),
        ),
    );
    db.store.push(&stale, vec![late], 0).await.unwrap();
    let exceptions = db.store.exceptions(s.tenant, s.warehouse).await.unwrap();
    assert!(
        exceptions
            .iter()
            .any(|e| e.kind == ExceptionKind::PickedAfterShip),
        "{exceptions:?}"
    );
    let floor = db
        .store
        .floor_facts(s.tenant, s.warehouse, chrono::Utc::now())
        .await
        .unwrap();
    let back: Vec<_> = floor
        .open_tasks
        .iter()
        .filter(|t| t.kind == TaskKind::Putaway && t.location == "STAGE:SO-5001")
        .collect();
    assert_eq!(back.len(), 1, "{:?}", floor.open_tasks);
    assert_eq!((back[0].to.as_deref(), back[0].qty), (Some("A-01"), 30));
    assert_eq!(
        common::qty(&*db.store, &s, "STAGE:SO-5001", "SKU-1").await,
        30
    );
    // Staged with a task to take it back: accounted for.
    assert_eq!(db.store.verify(s.tenant).await.unwrap(), vec![]);

    // verify finds what the rules now prevent: the return task forgotten,
    // a pick of the shipped order open again.
    raw_sql(
        db,
        &format!(
            "UPDATE tasks SET status = 'cancelled' WHERE id = '{}'; UPDATE tasks SET status = 'open' WHERE id = '{}'",
            back[0].id, tasks[2].id
        ),
    )
    .await;
    assert_eq!(
        checks(&db.store.verify(s.tenant).await.unwrap()),
        vec![
            "closed_order_has_no_open_task",
            "closed_order_nothing_staged"
        ]
    );
    raw_sql(
        db,
        &format!(
            "UPDATE tasks SET status = 'open' WHERE id = '{}'; UPDATE tasks SET status = 'cancelled' WHERE id = '{}'",
            back[0].id, tasks[2].id
        ),
    )
    .await;
    assert_eq!(db.store.verify(s.tenant).await.unwrap(), vec![]);

    // The supervisor resolves both: the workflow proceeds.
    for e in exceptions
        .iter()
        .filter(|e| e.kind == ExceptionKind::PackedWithOpenPicks)
    {
        db.store
            .resolve_exception(s.tenant, s.warehouse, &e.id, "customer told: 90 short")
            .await
            .unwrap();
    }
    let facts = db
        .store
        .order_facts(s.tenant, s.warehouse, "SO-5001")
        .await
        .unwrap();
    assert_eq!(next(&facts), Step::Pack);
    let pulled = db.store.pull(&s.device, 0, 100_000).await.unwrap();
    let cancelled = pulled
        .changes
        .iter()
        .filter(|c| c.entity == pyck_vocab::protocol::Entity::Task)
        .filter_map(|c| c.data.clone())
        .map(|d| serde_json::from_value::<pyck_vocab::records::TaskRecord>(d).unwrap())
        .filter(|t| t.order.as_deref() == Some("SO-5001") && t.status == TaskStatus::Cancelled)
        .count();
    assert_eq!(cancelled, 3, "devices pull the cancellations");
}

/// A receipt from a stale device on an ASN already closed: applied, raised,
/// and the close's `under_receipt` brought up to what arrived.
async fn a_receipt_on_a_closed_asn_raises_and_restates_the_shortfall(db: &common::TestDb) {
    use serde_json::json;
    let s = common::site(&*db.store, "acme").await;
    let receive = |seq, qty: i64, damaged: i64| {
        op_of(
            &s.device,
            seq,
            payload(
                "receive",
                json!({"asn": "ASN-1", "sku": "SKU-2", "qty": qty, "lot": "L9", "expiry": "2027-02-01",
                       "to": "DOCK-1", "damaged": damaged}),
            ),
        )
    };
    let close = |seq| {
        op_of(
            &s.device,
            seq,
            payload("close_asn", json!({"asn": "ASN-1"})),
        )
    };
    db.store
        .push(&s.device, vec![receive(1, 70, 0), close(2)], 0)
        .await
        .unwrap();
    let open = |kind: &'static str| {
        let store = db.store.clone();
        async move {
            store
                .exceptions(s.tenant, s.warehouse)
                .await
                .unwrap()
                .into_iter()
                .filter(|e| e.kind.as_str() == kind && e.status == ExceptionStatus::Open)
                .map(|e| e.message)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        open("under_receipt").await,
        vec!["ASN ASN-1 line 1 (SKU-2): received 70, expected 100"]
    );
    // 20 more, then (in one batch with a second close) the last 10.
    let pushed = db
        .store
        .push(&s.device, vec![receive(3, 20, 0)], 0)
        .await
        .unwrap();
    assert_eq!(
        pushed.results[0].outcome,
        pyck_vocab::protocol::PushOutcome::Applied { exceptions: 2 }
    );
    assert_eq!(
        common::qty(&*db.store, &s, "DOCK-1", "SKU-2").await,
        90,
        "a fact"
    );
    assert_eq!(
        open("receipt_on_closed_asn").await,
        vec!["20 of SKU-2 received into DOCK-1 on ASN ASN-1 line 1, which was already closed"]
    );
    assert_eq!(
        open("under_receipt").await,
        vec!["ASN ASN-1 line 1 (SKU-2): received 90, expected 100"]
    );
    assert_eq!(db.store.verify(s.tenant).await.unwrap(), vec![]);
    db.store
        .push(&s.device, vec![close(4), receive(5, 8, 2)], 0)
        .await
        .unwrap();
    assert_eq!(open("under_receipt").await, Vec::<String>::new(), "filled");
    assert_eq!(
        open("damaged_receipt").await,
        vec!["ASN ASN-1 line 1 (SKU-2): 2 arrived damaged"]
    );
    assert_eq!(open("receipt_on_closed_asn").await.len(), 2);
    let all = db.store.exceptions(s.tenant, s.warehouse).await.unwrap();
    let under: Vec<_> = all
        .iter()
        .filter(|e| e.kind == ExceptionKind::UnderReceipt)
        .map(|e| e.status.as_str())
        .collect();
    assert_eq!(
        under,
        vec!["resolved", "resolved"],
        "the close's, then the restated one"
    );
    assert_eq!(db.store.verify(s.tenant).await.unwrap(), vec![]);
    // A receipt after the close that raised nothing is what verify finds.
    raw_sql(
        db,
        "UPDATE asn_lines SET closed_received_qty = closed_received_qty - 5",
    )
    .await;
    assert_eq!(
        checks(&db.store.verify(s.tenant).await.unwrap()),
        vec!["receipt_on_closed_asn_raised"]
    );
}

/// One thing a device does, or a sync; indices pick among what the device
/// knows (its tasks as of its last sync, the orders).
#[derive(Debug, Clone)]
enum Action {
    Pick { dev: usize, task: usize, part: i64 },
    Short { dev: usize, task: usize, found: i64 },
    Pack { dev: usize, order: usize },
    Ship { dev: usize, order: usize },
    Receive { dev: usize, qty: i64, damaged: i64 },
    Close { dev: usize },
    Move { dev: usize, qty: i64, back: bool },
    Cancel { order: usize },
    Sync { dev: usize },
}

fn action() -> impl proptest::strategy::Strategy<Value = Action> {
    use proptest::prelude::*;
    let dev = 0..3usize;
    prop_oneof![
        4 => (dev.clone(), 0..8usize, 1..=4i64).prop_map(|(dev, task, part)| Action::Pick { dev, task, part }),
        1 => (dev.clone(), 0..8usize, 0..=3i64).prop_map(|(dev, task, found)| Action::Short { dev, task, found }),
        2 => (dev.clone(), 0..4usize).prop_map(|(dev, order)| Action::Pack { dev, order }),
        2 => (dev.clone(), 0..4usize).prop_map(|(dev, order)| Action::Ship { dev, order }),
        2 => (dev.clone(), 1..40i64, 0..3i64).prop_map(|(dev, qty, damaged)| Action::Receive { dev, qty, damaged }),
        1 => dev.clone().prop_map(|dev| Action::Close { dev }),
        1 => (dev.clone(), 1..20i64, any::<bool>()).prop_map(|(dev, qty, back)| Action::Move { dev, qty, back }),
        1 => (0..4usize).prop_map(|order| Action::Cancel { order }),
        3 => dev.prop_map(|dev| Action::Sync { dev }),
    ]
}

/// Random operations from three devices, each working from what it saw at
/// its last sync and pushing when the sequence says (so facts arrive out of
/// order: a pick after the ship, a receipt after the close), with orders
/// cancelled in between; after every push `verify` (the ledger and the
/// business invariants) must hold.
fn random_operations_keep_every_invariant(
    db: impl Fn() -> std::pin::Pin<Box<dyn std::future::Future<Output = common::TestDb>>>,
    cases: u32,
) {
    use proptest::test_runner::{Config, TestCaseError, TestRunner};
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let db = rt.block_on(db());
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    });
    let n = std::sync::atomic::AtomicU32::new(0);
    let strategy = proptest::collection::vec(action(), 10..40);
    runner
        .run(&strategy, |actions| {
            let tenant = format!("p{}", n.fetch_add(1, std::sync::atomic::Ordering::Relaxed));
            rt.block_on(run_actions(&db, &tenant, &actions))
                .map_err(TestCaseError::fail)
        })
        .unwrap();
}

async fn run_actions(db: &common::TestDb, tenant: &str, actions: &[Action]) -> Result<(), String> {
    use pyck_vocab::records::{TaskKind, TaskRecord};
    use serde_json::json;
    let store = &*db.store;
    let s = common::site(store, tenant).await;
    let orders = ["SO-1", "SO-2", "SO-3", "SO-4"];
    for (i, order) in orders.iter().enumerate().skip(1) {
        let lines: Vec<_> = (1..=2u32)
            .map(|line| pyck_server::import::OrderLine {
                order: (*order).into(),
                line,
                sku: if line == 2 && i == 3 {
                    "SKU-2"
                } else {
                    "SKU-1"
                }
                .into(),
                qty: 3 + i as i64 + i64::from(line),
                customer: "Shop".into(),
            })
            .collect();
        store
            .create_order(s.tenant, s.warehouse, &lines)
            .await
            .unwrap();
    }
    let mut devices = vec![s.device.clone()];
    for _ in 1..3 {
        devices.push(common::new_device(store, s.tenant, s.warehouse).await);
    }
    let open_tasks = || async {
        store
            .floor_facts(s.tenant, s.warehouse, chrono::Utc::now())
            .await
            .unwrap()
            .open_tasks
            .into_iter()
            .filter(|t| t.kind == TaskKind::Pick)
            .collect::<Vec<TaskRecord>>()
    };
    // What each device knows, its queue and its next sequence number.
    let mut seen = vec![open_tasks().await; 3];
    let mut queued: Vec<Vec<pyck_vocab::operation::Operation>> = vec![Vec::new(); 3];
    let mut seq = [1u64; 3];
    let mut lots = 0;
    let sync = |dev: usize, queue: Vec<pyck_vocab::operation::Operation>, devices: &Vec<_>| {
        let device: &pyck_server::storage::DeviceAuth = &devices[dev];
        let device = device.clone();
        async move {
            let pushed = store.push(&device, queue, 0).await.unwrap();
            for r in &pushed.results {
                if !matches!(r.outcome, pyck_vocab::protocol::PushOutcome::Applied { .. }) {
                    return Err(format!("not applied: {r:?}"));
                }
            }
            let problems = store.verify(s.tenant).await.unwrap();
            if problems.is_empty() {
                Ok(())
            } else {
                Err(format!("verify: {problems:#?}"))
            }
        }
    };
    for a in actions {
        let mut record = |dev: usize, kind: &str, fields: serde_json::Value| {
            let op = op_of(&devices[dev], seq[dev], payload(kind, fields));
            seq[dev] += 1;
            queued[dev].push(op);
        };
        match a {
            Action::Pick { dev, task, part }
            | Action::Short {
                dev,
                task,
                found: part,
            } => {
                let Some(t) =
                    (!seen[*dev].is_empty()).then(|| seen[*dev][task % seen[*dev].len()].clone())
                else {
                    continue;
                };
                let left = (t.qty - t.done_qty).max(1);
                let lot = t.lot.clone();
                let mut fields = json!({"task": t.id, "order": t.order, "sku": t.sku, "lot": lot, "location": t.location});
                if matches!(a, Action::Pick { .. }) {
                    fields["qty"] = ((left * part + 3) / 4).max(1).into();
                    record(*dev, "pick", fields);
                } else {
                    fields["qty"] = (left * part / 4).min(left - 1).max(0).into();
                    fields["reason"] = "bin short".into();
                    record(*dev, "short_pick", fields);
                }
            }
            Action::Pack { dev, order } => record(*dev, "pack", json!({"order": orders[*order]})),
            Action::Ship { dev, order } => record(*dev, "ship", json!({"order": orders[*order]})),
            Action::Receive { dev, qty, damaged } => {
                lots += 1;
                record(
                    *dev,
                    "receive",
                    json!({"asn": "ASN-1", "sku": "SKU-2", "qty": qty, "lot": format!("R{}", lots % 3),
                           "expiry": "2027-02-01", "to": "DOCK-1", "damaged": damaged}),
                );
            }
            Action::Close { dev } => record(*dev, "close_asn", json!({"asn": "ASN-1"})),
            Action::Move { dev, qty, back } => {
                let (from, to) = if *back {
                    ("A-02", "A-01")
                } else {
                    ("A-01", "A-02")
                };
                record(
                    *dev,
                    "move",
                    json!({"sku": "SKU-1", "qty": qty, "from": from, "to": to}),
                );
            }
            Action::Cancel { order } => {
                // What the workflow engine does on `order cancel`.
                let order = orders[*order];
                let facts = store
                    .order_facts(s.tenant, s.warehouse, order)
                    .await
                    .unwrap();
                if facts.status != Some(OrderStatus::Shipped) {
                    store
                        .compensate_order(s.tenant, s.warehouse, order)
                        .await
                        .unwrap();
                    let problems = store.verify(s.tenant).await.unwrap();
                    if !problems.is_empty() {
                        return Err(format!("verify after cancelling {order}: {problems:#?}"));
                    }
                }
            }
            Action::Sync { dev } => {
                let queue = std::mem::take(&mut queued[*dev]);
                sync(*dev, queue, &devices).await?;
                seen[*dev] = open_tasks().await;
            }
        }
    }
    for (dev, queue) in queued.into_iter().enumerate() {
        sync(dev, queue, &devices).await?;
    }
    Ok(())
}

fn refused_with(
    outcome: &pyck_vocab::protocol::PushOutcome,
    code: pyck_vocab::refusal::RefusalCode,
) -> bool {
    matches!(outcome, pyck_vocab::protocol::PushOutcome::Refused(r) if r.code == code)
}

/// Issue 19, finding 5: an operation dated in year 10000 was applied and
/// then every report failed. Times outside the window are refused, stored
/// with a readable time, and every query still answers.
async fn times_outside_the_window_are_refused_and_every_query_still_reads(db: &common::TestDb) {
    use chrono::{NaiveDate, TimeDelta, Utc};
    use pyck_vocab::protocol::PushOutcome;
    use pyck_vocab::refusal::RefusalCode;
    let s = common::site(&*db.store, "acme").await;
    let date = |y, m, d| {
        NaiveDate::from_ymd_opt(y, m, d)
            .unwrap()
            .and_hms_opt(0, 0, 0)
            .unwrap()
            .and_utc()
    };
    let now = Utc::now();
    let times = [
        date(10000, 1, 1),
        date(1, 1, 1),
        date(9999, 12, 31),
        now - TimeDelta::days(400),
        now + TimeDelta::days(2),
        now - TimeDelta::days(30),
        now + TimeDelta::minutes(10),
    ];
    let ops: Vec<_> = times
        .iter()
        .enumerate()
        .map(|(i, at)| {
            let mut op = common::mv(&s.device, i as u64 + 1, 1, "A-01", "A-02");
            op.at = *at;
            op
        })
        .collect();
    let resp = db.store.push(&s.device, ops.clone(), 0).await.unwrap();
    for r in &resp.results[..5] {
        assert!(refused_with(&r.outcome, RefusalCode::AtOutOfRange), "{r:?}");
    }
    for r in &resp.results[5..] {
        assert!(matches!(r.outcome, PushOutcome::Applied { .. }), "{r:?}");
    }
    assert_eq!(resp.last_seq, 7);
    // A re-send gets the same refusal.
    let again = db
        .store
        .push(&s.device, ops[..1].to_vec(), 0)
        .await
        .unwrap();
    assert!(refused_with(
        &again.results[0].outcome,
        RefusalCode::AtOutOfRange
    ));

    // Everything that reads operation times still answers.
    db.store.exceptions(s.tenant, s.warehouse).await.unwrap();
    db.store
        .report_facts(s.tenant, &pyck_server::storage::ReportScope::default())
        .await
        .unwrap();
    db.store
        .floor_facts(s.tenant, s.warehouse, now - TimeDelta::days(1))
        .await
        .unwrap();
    let stored = db
        .store
        .operations(s.tenant, s.warehouse, s.device.device, 0, 10)
        .await
        .unwrap();
    assert_eq!(stored.len(), 7);
    for op in &stored[..5] {
        assert!(
            (op.at - now).abs() < TimeDelta::hours(1),
            "a refused time is stored as the server's clock, not {}",
            op.at
        );
    }
    assert_eq!(common::qty(&*db.store, &s, "A-02", "SKU-1").await, 2);
    assert_eq!(db.store.verify(s.tenant).await.unwrap(), vec![]);
}

/// Issue 19, finding 6: operation ids were unique across the server, so a
/// device of any tenant that used an id first locked the id's own device
/// out of sync, and one id twice in a batch was an internal error. Ids are
/// unique per tenant: a taken one is refused as `duplicate_id` (the number
/// is consumed, the device goes on), another tenant's ids do not matter,
/// and a re-send of the same operation is still a duplicate.
async fn operation_ids_are_unique_per_tenant_and_a_taken_one_is_refused(db: &common::TestDb) {
    use pyck_vocab::protocol::PushOutcome;
    use pyck_vocab::refusal::RefusalCode;
    let acme = common::site(&*db.store, "acme").await;
    let other = common::site(&*db.store, "globex").await;
    let (a, c) = (&acme.device, &other.device);
    let b = &common::new_device(&*db.store, acme.tenant, acme.warehouse).await;
    let applied = |o: &PushOutcome| matches!(o, PushOutcome::Applied { .. });
    let with_id = |mut op: pyck_vocab::operation::Operation, id| {
        op.id = id;
        op
    };

    let first = common::mv(a, 1, 1, "A-01", "A-02");
    let resp = db.store.push(a, vec![first.clone()], 0).await.unwrap();
    assert!(applied(&resp.results[0].outcome));

    // One id twice in a batch: the second is refused, the batch goes on.
    let twice = common::mv(a, 2, 1, "A-01", "A-02");
    let batch = vec![
        twice.clone(),
        with_id(common::mv(a, 3, 1, "A-01", "A-02"), twice.id),
        common::mv(a, 4, 1, "A-01", "A-02"),
    ];
    let resp = db.store.push(a, batch.clone(), 0).await.unwrap();
    assert!(applied(&resp.results[0].outcome));
    assert!(refused_with(
        &resp.results[1].outcome,
        RefusalCode::DuplicateId
    ));
    assert!(applied(&resp.results[2].outcome));
    assert_eq!(resp.last_seq, 4);
    // Re-sent: a duplicate, the same refusal, a duplicate.
    let again = db.store.push(a, batch, 0).await.unwrap();
    assert_eq!(again.results[0].outcome, PushOutcome::Duplicate);
    assert!(refused_with(
        &again.results[1].outcome,
        RefusalCode::DuplicateId
    ));
    assert_eq!(again.results[2].outcome, PushOutcome::Duplicate);

    // Another device of the tenant sending a taken id is refused, and goes on.
    let resp = db
        .store
        .push(
            b,
            vec![
                with_id(common::mv(b, 1, 1, "A-01", "A-02"), first.id),
                common::mv(b, 2, 1, "A-01", "A-02"),
            ],
            0,
        )
        .await
        .unwrap();
    assert!(refused_with(
        &resp.results[0].outcome,
        RefusalCode::DuplicateId
    ));
    assert!(applied(&resp.results[1].outcome));
    assert_eq!(resp.last_seq, 2);

    // Another tenant's device using the same id: its own operation, applied;
    // nothing tells it the id exists elsewhere.
    let resp = db
        .store
        .push(
            c,
            vec![with_id(common::mv(c, 1, 1, "A-01", "A-02"), first.id)],
            0,
        )
        .await
        .unwrap();
    assert!(applied(&resp.results[0].outcome));

    // A restore: the server lost device a's next operation, and before a
    // re-sends it another device claims its id — of the tenant (refused,
    // a goes on) and of another tenant (no effect on a at all).
    let lost = common::mv(a, 5, 1, "A-01", "A-02");
    let elsewhere = common::mv(a, 6, 1, "A-01", "A-02");
    db.store
        .push(
            b,
            vec![with_id(common::mv(b, 3, 1, "A-01", "A-02"), lost.id)],
            0,
        )
        .await
        .unwrap();
    db.store
        .push(
            c,
            vec![with_id(common::mv(c, 2, 1, "A-01", "A-02"), elsewhere.id)],
            0,
        )
        .await
        .unwrap();
    let resp = db
        .store
        .push(
            a,
            vec![lost, elsewhere, common::mv(a, 7, 1, "A-01", "A-02")],
            0,
        )
        .await
        .unwrap();
    assert!(refused_with(
        &resp.results[0].outcome,
        RefusalCode::DuplicateId
    ));
    assert!(applied(&resp.results[1].outcome));
    assert!(applied(&resp.results[2].outcome));
    assert_eq!(resp.last_seq, 7);
    // Its first operation is still its own: a re-send is a duplicate.
    let again = db.store.push(a, vec![first], 0).await.unwrap();
    assert_eq!(again.results[0].outcome, PushOutcome::Duplicate);

    let stored = db
        .store
        .operations(acme.tenant, acme.warehouse, a.device, 0, 10)
        .await
        .unwrap();
    assert_eq!(stored.len(), 7);
    assert_eq!(db.store.verify(acme.tenant).await.unwrap(), vec![]);
    assert_eq!(db.store.verify(other.tenant).await.unwrap(), vec![]);
}
