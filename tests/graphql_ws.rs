//! Live events through the graphql-ws reference client (npm `graphql-ws`,
//! tests/graphql-ws/follow.mjs) against the real server: it connects with
//! its token in `connection_init`, subscribes, receives a move pushed by a
//! terminal, sees the server's stop as 1001, reconnects and subscribes again
//! on its own once the server is back, and receives again. Needs the node
//! packages of tests/graphql-ws, which `scripts/test` installs; fails (never
//! skips) without them.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use common::{Device, Server, Warehouse};
use serde_json::Value;

#[test]
fn the_reference_client_subscribes_receives_and_resubscribes_after_a_restart() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/graphql-ws");
    assert!(
        dir.join("node_modules/graphql-ws").exists(),
        "run `npm ci` in tests/graphql-ws (scripts/test does it)"
    );
    let wh = Warehouse::new();
    let mut server = Server::start(&wh.db, None);
    let mover = Device::new();
    mover.enrol(&server.url(), &wh.token(), "1007");

    let mut client = Command::new("node")
        .arg(dir.join("follow.mjs"))
        .arg(format!("ws://{}/graphql/ws", server.addr))
        .arg(wh.token())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("node must be installed");
    let stdin = client.stdin.take().unwrap();
    let stdout = client.stdout.take().unwrap();
    let (tx, lines) = mpsc::channel::<Value>();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            let value = serde_json::from_str(&line)
                .unwrap_or_else(|e| panic!("follow.mjs wrote {line:?}: {e}"));
            if tx.send(value).is_err() {
                break;
            }
        }
    });
    // The next line of follow.mjs that is not an event, skipping events.
    let next_status = || loop {
        let line = lines
            .recv_timeout(Duration::from_secs(30))
            .expect("follow.mjs said nothing");
        assert!(line.get("error").is_none(), "{line}");
        if line.get("event").is_none() {
            return line;
        }
    };
    assert_eq!(next_status(), serde_json::json!({ "connected": true }));

    // The subscription is sent just after the acknowledgement: move until
    // an event of it comes.
    let next_event = || {
        for _ in 0..10 {
            mover.move_one();
            mover.ok(&["sync"]);
            while let Ok(line) = lines.recv_timeout(Duration::from_secs(5)) {
                assert!(line.get("error").is_none(), "{line}");
                let event = &line["event"];
                // The workflow engine's steps (imported orders) come too.
                if event.is_object() && event["type"] != "workflow_step" {
                    return event.clone();
                }
            }
        }
        panic!("the reference client received nothing");
    };
    let event = next_event();
    assert_eq!(event["type"], "stock_changed", "{event}");
    assert_eq!(event["sku"], "SKU-10001", "{event}");

    // A stop: the client is told 1001 Going Away (a reason it can read, not
    // a 1006), retries while the server is away, and is acknowledged and
    // subscribed again when it is back.
    let (status, addr) = server.terminate();
    assert!(status.success(), "{status:?}");
    let closed = next_status();
    assert_eq!(closed["closed"], 1001, "{closed}");
    server = Server::start(&wh.db, Some(&addr));
    loop {
        let status = next_status();
        if status.get("connected").is_some() {
            break;
        }
        assert!(status.get("closed").is_some(), "{status}");
    }
    while lines.try_recv().is_ok() {}
    assert_eq!(next_event()["type"], "stock_changed");

    // Closing its stdin ends it cleanly.
    drop(stdin);
    let status = client.wait().unwrap();
    assert_eq!(status.code(), Some(0));
    drop(server);
}
