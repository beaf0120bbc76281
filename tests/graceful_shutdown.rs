//! SIGTERM to one of two replicas (PostgreSQL + NATS) while devices push
//! through it and one of its workflow steps is under way: it stops taking
//! connections, lets the pushes finish or roll back (never half), closes the
//! subscription with a reason, gives the workflow's lease back and exits 0;
//! the other replica finishes the workflow at once — the lease is set to ten
//! minutes, so only the release explains it — the devices push the rest
//! there, and `verify` passes with exact stock.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::Duration;

use common::webhook::Webhook;
use common::{Device, Server, Warehouse, admin, nats_url, record_fulfilment, wait_for};
use serde_json::Value;

const SKU: &str = "SKU-10035";
const FROM: (&str, i64) = ("A-04-05", 288);
const TO: (&str, i64) = ("A-02-06", 24);
const DEVICES: usize = 3;
const MOVES: usize = 150;

fn workflow(wh: &Warehouse, order: &str) -> Value {
    let out = admin(
        &wh.db,
        &["workflow", "show", "--tenant", "acme", order, "--json"],
    );
    serde_json::from_str(&out).unwrap()
}

#[test]
fn sigterm_mid_push_and_mid_step_loses_nothing_and_hands_over() {
    let wh = Warehouse::postgres();
    let nats = nats_url();
    let hook = Webhook::start(200);
    let options = [
        "--nats",
        nats.as_str(),
        "--notify-url",
        hook.url.as_str(),
        "--workflow-lease",
        "600",
        "--retry-base-ms",
        "100",
        "--shutdown-timeout",
        "3",
    ];
    let a = Server::start_with(&wh.db, None, &options);

    // SO-5004 shipped through A: A's engine calls the webhook, which takes
    // its time — A holds the workflow's lease.
    hook.delay(Duration::from_secs(120));
    let picker = Device::new();
    picker.enrol(&a.url(), &wh.token(), "1007");
    record_fulfilment(&picker, "SO-5004");
    picker.ok(&["sync"]);
    wait_for("A to call the webhook for SO-5004", || {
        hook.calls()
            .iter()
            .any(|c| c.body["order"] == "SO-5004")
            .then_some(())
    });
    let b = Server::start_with(&wh.db, None, &options);

    // A subscription on A.
    let watcher = Device::new();
    watcher.enrol(&a.url(), &wh.token(), "3001");
    let mut feed = watcher
        .cmd(&["feed"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut notices = BufReader::new(feed.stderr.take().unwrap()).lines();
    let first = notices.next().unwrap().unwrap();
    assert!(first.contains("following"), "{first}");

    // Devices with a backlog each, pushing through A in batches of 5.
    let devices: Vec<Device> = (0..DEVICES)
        .map(|i| {
            let d = Device::new();
            d.enrol(&a.url(), &wh.token(), "1007");
            let mut csv = String::from("sku,qty,from,to,ref\n");
            for n in 0..MOVES {
                csv.push_str(&format!("{SKU},1,{},{},d{i}-{n}\n", FROM.0, TO.0));
            }
            let file = d.path("moves.csv");
            std::fs::write(&file, csv).unwrap();
            d.ok(&["move", "--file", file.to_str().unwrap()]);
            d
        })
        .collect();
    let mut syncs: Vec<_> = devices
        .iter()
        .map(|d| {
            d.cmd(&["sync"])
                .env("PYCK_PUSH_BATCH", "5")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    // Pushes under way: at least one batch of each device is on the server.
    wait_for("the pushes to be under way", || {
        devices
            .iter()
            .all(|d| d.json(&["status"])["pending"].as_u64().unwrap() < MOVES as u64)
            .then_some(())
    });

    // The webhook answers quickly from now on; A is told to stop.
    hook.delay(Duration::ZERO);
    let (status, _) = a.terminate();
    assert!(status.success(), "A exits 0 on SIGTERM: {status:?}");
    // The subscription was closed with the reason, not cut.
    let closed = notices
        .map_while(Result::ok)
        .find(|l| l.contains("connection lost"))
        .unwrap();
    assert!(closed.contains("server shutting down"), "{closed}");
    let _ = feed.kill();
    let _ = feed.wait();
    for s in &mut syncs {
        let _ = s.wait();
    }

    // B takes the workflow over at once (its lease would last ten minutes).
    let w = wait_for("B to finish SO-5004", || {
        let w = workflow(&wh, "SO-5004");
        (w["state"] == "completed").then_some(w)
    });
    let notify_done = w["history"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|h| h["step"] == "notify" && h["status"] == "done")
        .count();
    assert_eq!(notify_done, 1, "{w}");
    let keys: Vec<String> = hook
        .calls()
        .iter()
        .filter(|c| c.body["order"] == "SO-5004")
        .map(|c| c.header("idempotency-key").unwrap().to_owned())
        .collect();
    assert!(
        keys.len() >= 2 && keys.iter().all(|k| *k == keys[0]),
        "{keys:?}"
    );

    // The devices push the rest through B: every move once, exact stock.
    for d in &devices {
        d.ok(&["sync", "--server", &b.url()]);
        assert_eq!(d.json(&["status"])["pending"], 0);
    }
    assert!(wh.verify().status.success());
    let checker = Device::new();
    checker.enrol(&b.url(), &wh.token(), "3001");
    let moved = (DEVICES * MOVES) as i64;
    assert_eq!(checker.qty(FROM.0, SKU), FROM.1 - moved);
    assert_eq!(checker.qty(TO.0, SKU), TO.1 + moved);
}
