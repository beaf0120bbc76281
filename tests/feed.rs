//! `pyck feed`: JSON lines of the warehouse's live events from a real server
//! (embedded SQLite, in-process bus); it follows again after the server
//! restarts; Ctrl-C exits 0; documented exit codes
//! when not initialised (6) or when the token is refused (5).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

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
            mover.move_one();
            mover.ok(&["sync"]);
            // The workflow engine's steps (imported orders) may come too.
            while let Ok(line) = lines.recv_timeout(Duration::from_secs(5)) {
                let event = serde_json::from_str::<Value>(&line).unwrap();
                if event["type"] != "workflow_step" {
                    return event;
                }
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
    let mut nudges = rt.block_on(async {
        pyck::sync::live::nudges(pyck::sync::Remote::new(&server.url(), &wh.token(), None))
    });
    for _ in 0..10 {
        mover.move_one();
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

#[test]
fn feed_shows_the_fulfilment_workflow_steps() {
    let wh = Warehouse::new();
    let server = Server::start(&wh.db, None);
    let watcher = Device::new();
    watcher.enrol(&server.url(), &wh.token(), "1007");
    let picker = Device::new();
    picker.enrol(&server.url(), &wh.token(), "1007");

    let mut feed = watcher
        .cmd(&["feed", "--json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let (tx, lines) = mpsc::channel();
    let stdout = feed.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            let _ = tx.send(serde_json::from_str::<Value>(&line).unwrap());
        }
    });
    // Subscribed once a probe move shows up.
    let mut subscribed = false;
    for _ in 0..10 {
        picker.move_one();
        picker.ok(&["sync"]);
        if lines.recv_timeout(Duration::from_secs(5)).is_ok() {
            subscribed = true;
            break;
        }
    }
    assert!(subscribed, "the feed printed nothing");

    // Pick, pack and ship SO-5004.
    let picks = picker.json(&["pick", "list"]);
    for t in picks
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["order"] == "SO-5004")
    {
        picker.ok(&[
            "pick",
            "confirm",
            "--task",
            t["task"].as_str().unwrap(),
            "--qty",
            &t["qty"].to_string(),
        ]);
    }
    picker.ok(&["pack", "--order", "SO-5004"]);
    picker.ok(&["ship", "--order", "SO-5004"]);
    picker.ok(&["sync"]);

    let mut done = Vec::new();
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while !done.contains(&"notify".to_owned()) {
        let left = deadline
            .checked_duration_since(std::time::Instant::now())
            .expect("the workflow's steps never all showed up in the feed");
        let Ok(e) = lines.recv_timeout(left) else {
            panic!("the feed ended; steps seen: {done:?}");
        };
        if e["type"] == "workflow_step" && e["order"] == "SO-5004" {
            assert!(e["attempt"].is_u64() && e.get("error").is_some(), "{e}");
            if e["status"] == "done" {
                done.push(e["step"].as_str().unwrap().to_owned());
            }
        }
    }
    for step in ["pick", "pack", "ship", "notify"] {
        assert!(done.contains(&step.to_owned()), "{step} not in {done:?}");
    }
    let _ = feed.kill();
    let _ = feed.wait();
}
