//! A shift with the network coming and going, on the real binaries.

#![allow(clippy::unwrap_used)]

use crate::common;

use common::{Device, Server, Warehouse};

#[test]
fn offline_shift_loses_nothing_and_counts_nothing_twice() {
    let wh = Warehouse::new();
    let server = Server::start(&wh.db, None);
    let receiver = Device::new();
    receiver.enrol(&server.url(), &wh.token(), "2001");

    // Receive from a script, twice: 4 rows, 4 journal entries.
    let receipts = receiver.path("receipts.csv");
    std::fs::write(
        &receipts,
        "asn,sku,qty,lot,expiry,to\n\
         ASN-1001,SKU-10001,480,,,DOCK-02\n\
         ASN-1001,SKU-10003,240,,,DOCK-02\n\
         ASN-1003,SKU-10048,144,L2647E,2026-12-20,DOCK-01\n\
         ASN-1004,SKU-10026,180,,,DOCK-03\n",
    )
    .unwrap();
    let file = receipts.to_str().unwrap();
    receiver.ok(&["receive", "--file", file]);
    let again = receiver.json(&["receive", "--file", file]);
    assert!(
        again
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["status"] == "already_recorded")
    );
    assert_eq!(receiver.journal().len(), 4);
    let report = receiver.json(&["sync"]);
    assert_eq!(report["applied"], 4);

    // The server goes away; 50 moves are recorded offline, each exiting 0.
    let addr = server.kill();
    for i in 0..50 {
        let (from, to) = if i % 5 == 4 {
            ("A-01-01", "DOCK-02")
        } else {
            ("DOCK-02", "A-01-01")
        };
        receiver.ok(&[
            "move",
            "--sku",
            "SKU-10001",
            "--qty",
            "3",
            "--from",
            from,
            "--to",
            to,
        ]);
    }
    // 40 moves of 3 into A-01-01, 10 of 3 back out: +90 net.
    assert_eq!(receiver.qty("A-01-01", "SKU-10001"), 90);
    let status = receiver.json(&["status"]);
    assert_eq!(status["pending"], 50);
    assert_eq!(status["online"], false);
    let offline_sync = receiver.run(&["sync"]);
    assert_eq!(offline_sync.status.code(), Some(4), "unreachable is exit 4");
    assert!(
        receiver.json(&["status"])["last_error"]
            .as_str()
            .unwrap()
            .contains("unreachable")
    );

    // The server is back; one sync settles everything exactly once.
    let server = Server::start(&wh.db, Some(&addr));
    let report = receiver.json(&["sync"]);
    assert_eq!(report["applied"], 50);
    assert_eq!(report["duplicates"], 0);
    assert_eq!(receiver.json(&["status"])["pending"], 0);

    // A second device sees exactly the moved quantities.
    let other = Device::new();
    other.enrol(&server.url(), &wh.token(), "1007");
    assert_eq!(other.qty("A-01-01", "SKU-10001"), 90);
    assert_eq!(other.qty("DOCK-02", "SKU-10001"), 480 - 90);
    assert_eq!(other.qty("DOCK-02", "SKU-10003"), 240);
    assert_eq!(wh.server_qty("A-01-01", "SKU-10001"), 90);
    assert!(wh.verify().status.success());
}

#[test]
fn a_lost_response_is_resent_and_acknowledged_as_duplicates() {
    let wh = Warehouse::new();
    let server = Server::start(&wh.db, None);
    let device = Device::new();
    device.enrol(&server.url(), &wh.token(), "1007");
    let file = device.path("moves.csv");
    std::fs::write(&file, common::moves_csv(31, "A-07-11", "A-01-03")).unwrap();
    device.ok(&["move", "--file", file.to_str().unwrap()]);

    let proxy = common::proxy::Proxy::start(&server.addr, common::proxy::Mode::DropResponses);
    let lost = device.run(&["sync", "--server", &proxy.url]);
    assert_eq!(lost.status.code(), Some(4));
    assert_eq!(
        device.json(&["status"])["pending"],
        31,
        "nothing acknowledged"
    );
    // The server did commit: 31 alternating moves of 1 leave 1 at A-01-03.
    assert_eq!(wh.server_qty("A-01-03", "SKU-10001"), 1);

    let report = device.json(&["sync"]);
    assert_eq!(report["duplicates"], 31, "{report}");
    assert_eq!(report["applied"], 0);
    assert!(wh.verify().status.success());
    assert_eq!(wh.server_qty("A-07-11", "SKU-10001"), 239);
    assert_eq!(wh.server_qty("A-01-03", "SKU-10001"), 1);
}

#[test]
fn an_interrupted_first_sync_resumes_from_its_last_page() {
    let wh = Warehouse::new();
    let server = Server::start(&wh.db, None);
    let device = Device::new();
    // Pages of 50 changes; the network dies after 3 exchanges (hello + 2 pages).
    let proxy = common::proxy::Proxy::start(&server.addr, common::proxy::Mode::CutAfter(3));
    let token = wh.token();
    let cut = device
        .cmd(&["init", "--server", &proxy.url, "--token", &token])
        .env("PYCK_PULL_PAGE", "50")
        .output()
        .unwrap();
    assert_eq!(
        cut.status.code(),
        Some(4),
        "{}",
        String::from_utf8_lossy(&cut.stderr)
    );
    let cursor = device.json(&["status"])["cursor"].as_u64().unwrap();
    assert!(cursor > 0, "two pages were committed before the cut");

    // Re-running init against the real address resumes: it pulls only the rest.
    let done: serde_json::Value = serde_json::from_slice(
        &device
            .cmd(&[
                "init",
                "--server",
                &server.url(),
                "--token",
                &token,
                "--json",
            ])
            .env("PYCK_PULL_PAGE", "50")
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    let full = Device::new();
    let fresh = full.json(&["init", "--server", &server.url(), "--token", &wh.token()]);
    assert!(done["pulled"].as_u64().unwrap() < fresh["pulled"].as_u64().unwrap());
    assert_eq!(
        done["replica"], fresh["replica"],
        "the same records either way"
    );
}
