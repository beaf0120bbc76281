//! The terminal under the server's per-token rate limit: it waits as long
//! as `Retry-After` says and its sync still completes, nothing lost.

#![allow(clippy::unwrap_used)]

mod common;

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
        device.ok(&[
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
