//! Orders' fulfilment workflows end to end, through the real binaries: an
//! order picked, packed and shipped completes with its history and one
//! webhook call; an order cancelled half-picked compensates on the floor's
//! devices; a server killed with `kill -9` mid-workflow resumes and finishes.

#![allow(clippy::unwrap_used)]

use crate::common;

use common::webhook::Webhook;
use common::{Device, Server, Warehouse, admin, record_fulfilment, tasks_of, wait_for};
use serde_json::Value;

fn workflow(wh: &Warehouse, order: &str) -> Value {
    let out = admin(
        &wh.db,
        &["workflow", "show", "--tenant", "acme", order, "--json"],
    );
    serde_json::from_str(&out).unwrap()
}

fn wait_state(wh: &Warehouse, order: &str, state: &str) -> Value {
    wait_for(&format!("{order} to be {state}"), || {
        let w = workflow(wh, order);
        (w["state"] == state).then_some(w)
    })
}

/// (step, status) of each history row.
fn steps(w: &Value) -> Vec<(String, String)> {
    w["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            (
                h["step"].as_str().unwrap().to_owned(),
                h["status"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn done(steps: &[(String, String)], step: &str) -> usize {
    steps
        .iter()
        .filter(|(s, status)| s == step && status == "done")
        .count()
}

/// Picks every task of `order` in full, packs and ships it, and syncs.
fn fulfil(picker: &Device, order: &str) {
    picker.ok(&["sync"]);
    record_fulfilment(picker, order);
    picker.ok(&["sync"]);
}

#[test]
fn a_shipped_order_completes_with_its_history_and_one_webhook_call() {
    let wh = Warehouse::new();
    let hook = Webhook::start(200);
    let server = Server::start_with(&wh.db, None, &["--notify-url", &hook.url]);
    let picker = Device::new();
    picker.enrol(&server.url(), &wh.token(), "1007");

    let w = workflow(&wh, "SO-5004");
    assert_eq!(w["state"], "running");
    fulfil(&picker, "SO-5004");
    let w = wait_state(&wh, "SO-5004", "completed");
    let s = steps(&w);
    for step in ["reserve", "pick", "pack", "ship", "notify"] {
        assert_eq!(done(&s, step), 1, "{step} done once: {w}");
    }
    let order: Vec<&str> = s.iter().map(|(step, _)| step.as_str()).collect();
    assert_eq!(order, ["reserve", "pick", "pack", "ship", "notify"], "{w}");
    for h in w["history"].as_array().unwrap() {
        assert!(h["at"].is_string() && h["attempt"] == 1, "{h}");
    }
    // Each scan-driven step names the operation from the picker's journal
    // it rests on: the last pick, the pack, the ship.
    let journal = picker.journal();
    let last = |kind: &str| {
        journal
            .iter()
            .rev()
            .find(|e| e["kind"] == kind)
            .map(|e| e["id"].clone())
            .unwrap()
    };
    let rests_on = |step: &str| {
        w["history"]
            .as_array()
            .unwrap()
            .iter()
            .find(|h| h["step"] == step && h["status"] == "done")
            .map(|h| h["operation"].clone())
            .unwrap()
    };
    assert_eq!(rests_on("pick"), last("pick"), "{w}");
    assert_eq!(rests_on("pack"), last("pack"), "{w}");
    assert_eq!(rests_on("ship"), last("ship"), "{w}");
    assert!(rests_on("reserve").is_null(), "{w}");

    let calls: Vec<_> = hook
        .calls()
        .into_iter()
        .filter(|c| c.body["order"] == "SO-5004")
        .collect();
    assert_eq!(calls.len(), 1, "one webhook call: {calls:?}");
    assert_eq!(calls[0].body["outcome"], "shipped");
    assert!(
        calls[0]
            .header("idempotency-key")
            .unwrap()
            .ends_with("/SO-5004/notify")
    );
    // The other orders are still waiting for their picks.
    assert_eq!(workflow(&wh, "SO-5001")["state"], "running");
    let list = admin(&wh.db, &["workflow", "list", "--tenant", "acme", "--json"]);
    let list: Value = serde_json::from_str(&list).unwrap();
    assert!(list.as_array().unwrap().len() >= 8, "{list}");
    assert!(wh.verify().status.success());
}

#[test]
fn an_order_cancelled_half_picked_compensates_on_the_devices() {
    let wh = Warehouse::new();
    let hook = Webhook::start(200);
    let server = Server::start_with(&wh.db, None, &["--notify-url", &hook.url]);
    let picker = Device::new();
    picker.enrol(&server.url(), &wh.token(), "1007");

    // One of SO-5005's picks is done, the others are still open.
    picker.ok(&["sync"]);
    let picks = tasks_of(&picker.json(&["pick", "list"]), "SO-5005");
    assert!(picks.len() >= 2, "{picks:?}");
    let first = &picks[0];
    let (sku, qty, from) = (
        first["sku"].as_str().unwrap(),
        first["qty"].as_i64().unwrap(),
        first["location"].as_str().unwrap(),
    );
    picker.ok(&[
        "pick",
        "confirm",
        "--task",
        first["task"].as_str().unwrap(),
        "--qty",
        &qty.to_string(),
    ]);
    picker.ok(&["sync"]);

    let out = admin(&wh.db, &["order", "cancel", "--tenant", "acme", "SO-5005"]);
    assert!(out.contains("cancel requested"), "{out}");
    let w = wait_state(&wh, "SO-5005", "compensated");
    let s = steps(&w);
    assert!(s.contains(&("pick".into(), "cancelled".into())), "{w}");
    assert_eq!(done(&s, "compensate"), 1, "{w}");
    assert_eq!(done(&s, "notify"), 1, "{w}");
    assert_eq!(done(&s, "pack"), 0, "{w}");
    let calls: Vec<_> = hook
        .calls()
        .into_iter()
        .filter(|c| c.body["order"] == "SO-5005")
        .collect();
    assert_eq!(calls.len(), 1, "{calls:?}");
    assert_eq!(calls[0].body["outcome"], "compensated");

    // On the device: the open picks are gone, a return-to-stock putaway
    // takes the picked units back to where they came from.
    picker.ok(&["sync"]);
    assert!(
        tasks_of(&picker.json(&["pick", "list"]), "SO-5005").is_empty(),
        "cancelled picks leave the device"
    );
    let putaways = picker.json(&["putaway", "list"]);
    let back: Vec<_> = putaways
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["from"] == "STAGE:SO-5005" || t["location"] == "STAGE:SO-5005")
        .collect();
    assert_eq!(back.len(), 1, "{putaways}");
    assert_eq!(back[0]["sku"], sku);
    assert_eq!(back[0]["qty"], qty);
    assert_eq!(back[0]["to"], from);
    // Cancelling again changes nothing.
    let out = admin(&wh.db, &["order", "cancel", "--tenant", "acme", "SO-5005"]);
    assert!(out.contains("already compensated"), "{out}");
    assert!(wh.verify().status.success());
}

#[test]
fn a_server_killed_mid_workflow_resumes_and_finishes() {
    let wh = Warehouse::new();
    let hook = Webhook::start(503);
    let options = [
        "--notify-url",
        hook.url.as_str(),
        "--retry-base-ms",
        "100",
        "--step-attempts",
        "1000",
        "--workflow-lease",
        "1",
    ];
    let server = Server::start_with(&wh.db, None, &options);
    let picker = Device::new();
    picker.enrol(&server.url(), &wh.token(), "1007");
    fulfil(&picker, "SO-5004");
    // The webhook refuses: notify is being retried when the server dies.
    wait_for("notify attempts", || {
        (hook
            .calls()
            .iter()
            .filter(|c| c.body["order"] == "SO-5004")
            .count()
            >= 2)
            .then_some(())
    });
    let addr = server.kill();
    let before = workflow(&wh, "SO-5004");
    assert_eq!(before["state"], "running");
    assert_eq!(before["step"], "notify");

    hook.answer(200);
    let _server = Server::start_with(&wh.db, Some(&addr), &options);
    let w = wait_state(&wh, "SO-5004", "completed");
    let s = steps(&w);
    for step in ["reserve", "pick", "pack", "ship", "notify"] {
        assert_eq!(done(&s, step), 1, "{step} done exactly once: {w}");
    }
    let failed = s
        .iter()
        .filter(|(step, status)| step == "notify" && status == "failed")
        .count();
    assert!(failed >= 1, "{w}");
    let attempts: Vec<u64> = w["history"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|h| h["step"] == "notify")
        .map(|h| h["attempt"].as_u64().unwrap())
        .collect();
    let expected: Vec<u64> = (1..=attempts.len() as u64).collect();
    assert_eq!(attempts, expected, "attempts numbered without gaps: {w}");
    // One call per recorded attempt, plus at most the one the kill cut off
    // before it was recorded (the window the idempotency key covers).
    let calls = hook
        .calls()
        .into_iter()
        .filter(|c| c.body["order"] == "SO-5004")
        .count();
    assert!(
        (attempts.len()..=attempts.len() + 1).contains(&calls),
        "{calls} calls for {} recorded attempts",
        attempts.len()
    );
    assert!(wh.verify().status.success());
}
