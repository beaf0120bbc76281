//! `pyck feed`: JSON lines of the warehouse's live events from a real server
//! (embedded SQLite, in-process bus); it follows again after the server
//! restarts; Ctrl-C exits 0; documented exit codes
//! when not initialised (6) or when the token is refused (5).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use common::{Device, Server, Warehouse, admin};
use serde_json::Value;

#[test]
fn feed_prints_json_lines_until_interrupted() {
    let wh = Warehouse::new();
    let mut server = Server::start(&wh.db, None);
    let watcher = Device::new();
    watcher.enrol(&server.url(), &wh.token(), "1007");
    let mover = Device::new();
    mover.enrol(&server.url(), &wh.token(), "1007");

    let mut feed = watcher
        .cmd(&["feed", "--json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(feed.stderr.take().unwrap());
    let mut notice = String::new();
    stderr.read_line(&mut notice).unwrap();
    assert!(notice.contains("following"), "{notice}");
    let (tx, lines) = mpsc::channel();
    let stdout = feed.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            let _ = tx.send(line);
        }
    });

    // The subscription is registered just after the notice: move until the
    // feed shows one.
    let next_event = || {
        for _ in 0..10 {
            mover.ok(&[
                "move",
                "--sku",
                "SKU-10001",
                "--qty",
                "1",
                "--from",
                "A-07-11",
                "--to",
                "A-01-03",
            ]);
            mover.ok(&["sync"]);
            if let Ok(line) = lines.recv_timeout(Duration::from_secs(5)) {
                return serde_json::from_str::<Value>(&line).unwrap();
            }
        }
        panic!("the feed printed nothing");
    };
    let event = next_event();
    assert_eq!(event["type"], "stock_changed", "{event}");
    assert_eq!(event["sku"], "SKU-10001");
    assert!(
        event["at"].is_string() && event["warehouse"].is_i64(),
        "{event}"
    );
    assert!(["A-07-11", "A-01-03"].contains(&event["location"].as_str().unwrap()));

    // The server goes away: a notice, retries, and the feed follows again
    // once it is back.
    let addr = server.kill();
    let mut line = String::new();
    stderr.read_line(&mut line).unwrap();
    assert!(line.contains("connection lost"), "{line}");
    server = Server::start(&wh.db, Some(&addr));
    loop {
        line.clear();
        stderr.read_line(&mut line).unwrap();
        if line.contains("following") {
            break;
        }
        assert!(line.contains("connection lost"), "{line}");
    }
    while lines.try_recv().is_ok() {}
    assert_eq!(next_event()["type"], "stock_changed");

    // Ctrl-C (SIGINT) ends it with exit 0.
    let status = Command::new("kill")
        .args(["-INT", &feed.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let status = feed.wait().unwrap();
    assert_eq!(status.code(), Some(0));
    drop(server);
}

#[test]
fn feed_exit_codes() {
    // Not initialised: 6.
    let device = Device::new();
    let out = device.run(&["feed"]);
    assert_eq!(out.status.code(), Some(6), "{out:?}");

    // A revoked token: refused, 5.
    let wh = Warehouse::new();
    let server = Server::start(&wh.db, None);
    let token = wh.token();
    device.enrol(&server.url(), &token, "1007");
    admin(&wh.db, &["device-token", "revoke", &token]);
    let out = device.run(&["feed", "--json"]);
    assert_eq!(
        out.status.code(),
        Some(5),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.stdout.is_empty());
}

#[test]
fn nudges_count_events_for_a_ui_to_pull() {
    let wh = Warehouse::new();
    let server = Server::start(&wh.db, None);
    let mover = Device::new();
    mover.enrol(&server.url(), &wh.token(), "1007");
    let rt = tokio::runtime::Runtime::new().unwrap();
    let mut nudges = rt.block_on(async { pyck::sync::live::nudges(server.url(), wh.token()) });
    for _ in 0..10 {
        mover.ok(&[
            "move",
            "--sku",
            "SKU-10001",
            "--qty",
            "1",
            "--from",
            "A-07-11",
            "--to",
            "A-01-03",
        ]);
        mover.ok(&["sync"]);
        let changed = rt.block_on(async {
            tokio::time::timeout(Duration::from_secs(5), nudges.changed()).await
        });
        if matches!(changed, Ok(Ok(()))) {
            assert!(*nudges.borrow() >= 1);
            return;
        }
    }
    panic!("no nudge after ten moves");
}
