//! Logging in on a device, as the people do: a picker offline against the
//! hash the device pulled; a supervisor, whose PIN hash no device ever
//! holds, only where the server answers (docs/SECURITY.md, "Operators'
//! PINs").

#![allow(clippy::unwrap_used)]

use crate::common;

use common::{Device, Server, Warehouse, admin};

/// The PIN hashes in the device's own store, by badge.
fn hashes_on_device(device: &Device) -> Vec<(String, String)> {
    let conn = rusqlite::Connection::open(device.path("pyck.sqlite3")).unwrap();
    let mut stmt = conn
        .prepare("SELECT badge, pin_hash FROM operators ORDER BY badge")
        .unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap()
}

#[test]
fn a_supervisor_logs_in_online_and_a_picker_offline() {
    let wh = Warehouse::new();
    let server = Server::start(&wh.db, None);
    let device = Device::new();
    device.enrol(&server.url(), &wh.token(), "1007");

    // The device holds the picker's and the receiver's hashes, never the
    // supervisor's.
    let hashes = hashes_on_device(&device);
    let by_badge: std::collections::BTreeMap<_, _> = hashes.into_iter().collect();
    assert!(by_badge["1007"].starts_with("$argon2id$"), "{by_badge:?}");
    assert!(by_badge["2001"].starts_with("$argon2id$"), "{by_badge:?}");
    assert_eq!(
        by_badge["3001"], "",
        "a supervisor's hash reached the device"
    );

    // Online, the server checks the supervisor's PIN.
    let out = device.ok(&["login", "--badge", "3001", "--pin", "1234"]);
    assert_eq!(out.trim(), "logged in: 3001 (supervisor)");
    assert_eq!(device.ok(&["whoami"]).trim(), "3001 (supervisor)");
    let wrong = device.run(&["login", "--badge", "3001", "--pin", "4321"]);
    assert_eq!(wrong.status.code(), Some(5));
    let err = String::from_utf8_lossy(&wrong.stderr);
    assert!(err.contains("wrong PIN for badge 3001"), "{err}");
    assert!(err.contains("wrong_pin"), "{err}");
    // The session stays the supervisor's: a failed login opens nothing.
    assert_eq!(device.ok(&["whoami"]).trim(), "3001 (supervisor)");

    // Offline: the picker logs in as before; the supervisor cannot, and is
    // told why and what to do (exit 4, unreachable).
    drop(server);
    let out = device.ok(&["login", "--badge", "1007", "--pin", "1234"]);
    assert_eq!(out.trim(), "logged in: 1007 (picker)");
    let offline = device.run(&["login", "--badge", "3001", "--pin", "1234"]);
    assert_eq!(offline.status.code(), Some(4));
    let err = String::from_utf8_lossy(&offline.stderr);
    assert!(
        err.contains("the PIN of supervisor 3001 is checked by the server")
            && err.contains("log in where there is network"),
        "{err}"
    );
    assert_eq!(device.ok(&["whoami"]).trim(), "1007 (picker)");
}

#[test]
fn a_disabled_operator_cannot_log_in_after_the_next_sync() {
    let wh = Warehouse::new();
    let server = Server::start(&wh.db, None);
    let device = Device::new();
    device.enrol(&server.url(), &wh.token(), "1007");
    // Recorded while still employed: it counts, whatever comes next.
    device.move_one();
    admin(
        &wh.db,
        &["user", "disable", "--tenant", "acme", "--badge", "1007"],
    );
    let report = device.json(&["sync"]);
    assert_eq!(
        (report["applied"].as_u64(), report["refused"].as_u64()),
        (Some(1), Some(0)),
        "{report}"
    );
    // The leaver's session ended with that sync.
    assert_eq!(device.run(&["whoami"]).status.code(), Some(6));
    let out = device.run(&["login", "--badge", "1007", "--pin", "1234"]);
    assert_eq!(out.status.code(), Some(5));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("badge 1007 is deactivated"), "{err}");
    // Enabled again, with a new PIN: the old one is gone.
    admin(
        &wh.db,
        &["user", "enable", "--tenant", "acme", "--badge", "1007"],
    );
    admin(
        &wh.db,
        &[
            "user", "set-pin", "--tenant", "acme", "--badge", "1007", "--pin", "246810",
        ],
    );
    device.ok(&["sync"]);
    assert_eq!(
        device
            .run(&["login", "--badge", "1007", "--pin", "1234"])
            .status
            .code(),
        Some(5)
    );
    device.ok(&["login", "--badge", "1007", "--pin", "246810"]);
}
