//! The terminal under the server's per-token rate limit: it waits as long
//! as `Retry-After` says and its sync still completes, nothing lost.

#![allow(clippy::unwrap_used)]

use crate::common;

use common::{Device, Server, Warehouse};

#[test]
fn a_sync_over_the_rate_limit_waits_and_completes() {
    let wh = Warehouse::new();
    let log = wh.dir.path().join("server.log");
    // One request a second after the first two: every sync meets a 429.
    let server =
        Server::start_logged_with(&wh.db, &log, &["--rate-limit", "1", "--rate-burst", "2"]);
    let device = Device::new();
    device.enrol(&server.url(), &wh.token(), "1007");
    for _ in 0..3 {
        device.move_one();
    }
    let before = wh.server_qty("A-01-03", "SKU-10001");
    let report = device.json(&["sync"]);
    assert_eq!(report["pushed"], 3, "{report}");
    assert_eq!(wh.server_qty("A-01-03", "SKU-10001"), before + 3);
    let status = device.json(&["status"]);
    assert_eq!(status["pending"], 0, "{status}");

    let log = std::fs::read_to_string(&log).unwrap();
    assert!(
        log.contains("over its rate limit"),
        "the server never limited the device, so the test shows nothing:\n{log}"
    );
    assert!(wh.verify().status.success());
}

/// A server (or a proxy) that takes the connection and never answers: a
/// sync gives up after `--timeout` with exit 4 instead of waiting out every
/// retry of every request, and a later sync to the real server goes on.
#[test]
fn a_server_that_never_answers_is_given_up_on_after_the_timeout() {
    let wh = Warehouse::new();
    let server = Server::start(&wh.db, None);
    let device = Device::new();
    device.enrol(&server.url(), &wh.token(), "1007");
    device.move_one();
    // Accepts every connection and keeps it open, silent.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = format!("http://{}", silent.local_addr().unwrap());
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for conn in silent.incoming() {
            held.push(conn);
        }
    });
    let out = device.run(&["sync", "--server", &address, "--timeout", "2"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(4), "{err}");
    assert!(err.contains("did not finish a sync within 2 s"), "{err}");
    assert_eq!(device.json(&["status"])["pending"], 1);
    let report = device.json(&["sync"]);
    assert_eq!(report["applied"], 1, "{report}");
}
