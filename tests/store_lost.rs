//! The terminal knows its own history: a store that lost its journal
//! (emptied, deleted, replaced by an older copy, or behind what the server
//! settled) is refused with exit 8 naming the file and the way out, never
//! made anew without a word; `pyck init --start-over` and restoring the file
//! both work end to end.

#![allow(clippy::unwrap_used)]

use crate::common;

use std::process::Output;

use common::{Device, Server, Warehouse};

const STORE_LOST: i32 = 8;

fn one_move(device: &Device) -> Output {
    device.run(common::MOVE_ONE)
}

/// `status`, `sync`, `journal` and recording a move each exit 8 with a
/// message naming the store and both ways out.
fn assert_refused(device: &Device) {
    let store = device.path("pyck.sqlite3");
    for out in [
        device.run(&["status"]),
        device.run(&["sync"]),
        device.run(&["journal"]),
        one_move(device),
    ] {
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(STORE_LOST), "{out:?}");
        assert!(
            stderr.contains(&store.display().to_string()),
            "names the store: {stderr}"
        );
        assert!(stderr.contains("--start-over"), "says what to do: {stderr}");
        assert!(stderr.contains("backup"), "says what to do: {stderr}");
    }
}

fn refused_in_journal(device: &Device) -> Vec<serde_json::Value> {
    device
        .journal()
        .into_iter()
        .filter(|e| e["status"] != "synced")
        .collect()
}

#[test]
fn an_emptied_store_is_refused_and_init_start_over_continues_the_numbering() {
    let wh = Warehouse::new();
    let server = Server::start(&wh.db, None);
    let device = Device::new();
    let token = wh.token();
    device.enrol(&server.url(), &token, "1007");
    assert!(one_move(&device).status.success());
    device.ok(&["sync"]);
    // Recorded offline, then the store is truncated to nothing.
    assert!(one_move(&device).status.success());
    let store = device.path("pyck.sqlite3");
    std::fs::OpenOptions::new()
        .write(true)
        .truncate(true)
        .open(&store)
        .unwrap();
    assert_refused(&device);
    assert_eq!(std::fs::metadata(&store).unwrap().len(), 0, "left as found");

    // The way out: start over, same token. The old file is kept, the
    // operation that never reached the server is named, and new operations
    // continue after the server's numbering (none refused as seq_conflict).
    let plain = device.run(&["init", "--server", &server.url(), "--token", &token]);
    assert_eq!(plain.status.code(), Some(STORE_LOST), "{plain:?}");
    let out = device.run(&[
        "init",
        "--server",
        &server.url(),
        "--token",
        &token,
        "--start-over",
    ]);
    assert!(out.status.success(), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("operations 2..=2"), "{stderr}");
    assert!(stderr.contains("pyck.sqlite3.lost-"), "{stderr}");
    device.ok(&["login", "--badge", "1007", "--pin", "1234"]);
    let before = wh.server_qty("A-01-03", "SKU-10001");
    assert!(one_move(&device).status.success());
    device.ok(&["sync"]);
    assert_eq!(wh.server_qty("A-01-03", "SKU-10001"), before + 1);
    assert_eq!(refused_in_journal(&device), Vec::<serde_json::Value>::new());
    assert_eq!(device.journal()[0]["seq"], 2, "numbered after the server's");
}

#[test]
fn a_deleted_store_is_refused_and_not_made_anew() {
    let wh = Warehouse::new();
    let server = Server::start(&wh.db, None);
    let device = Device::new();
    device.enrol(&server.url(), &wh.token(), "1007");
    assert!(one_move(&device).status.success());
    let store = device.path("pyck.sqlite3");
    std::fs::remove_file(&store).unwrap();
    assert_refused(&device);
    assert!(!store.exists(), "no empty store was made in its place");
}

#[test]
fn an_older_copy_is_refused_and_restoring_the_newer_one_works() {
    let wh = Warehouse::new();
    let server = Server::start(&wh.db, None);
    let device = Device::new();
    device.enrol(&server.url(), &wh.token(), "1007");
    assert!(one_move(&device).status.success());
    let store = device.path("pyck.sqlite3");
    let dir = tempfile::tempdir().unwrap();
    // Copies taken with no pyck running: the log is checkpointed into the
    // file at close.
    let older = dir.path().join("older.sqlite3");
    std::fs::copy(&store, &older).unwrap();
    assert!(one_move(&device).status.success());
    let newer = dir.path().join("newer.sqlite3");
    std::fs::copy(&store, &newer).unwrap();

    std::fs::copy(&older, &store).unwrap();
    assert_refused(&device);
    let status = device.run(&["status"]);
    let stderr = String::from_utf8_lossy(&status.stderr);
    assert!(stderr.contains("ends at operation 1"), "{stderr}");

    // Another terminal's store in its place is refused too.
    let other = Device::new();
    other.enrol(&server.url(), &wh.token(), "1007");
    std::fs::copy(other.path("pyck.sqlite3"), &store).unwrap();
    assert_refused(&device);

    // Restoring the newest backup is the way back: both moves reach the
    // server.
    std::fs::copy(&newer, &store).unwrap();
    let before = wh.server_qty("A-01-03", "SKU-10001");
    device.ok(&["sync"]);
    assert_eq!(wh.server_qty("A-01-03", "SKU-10001"), before + 2);
    assert_eq!(refused_in_journal(&device), Vec::<serde_json::Value>::new());
}

#[test]
fn a_journal_behind_the_server_is_refused_at_sync_and_after() {
    let wh = Warehouse::new();
    let server = Server::start(&wh.db, None);
    let device = Device::new();
    device.enrol(&server.url(), &wh.token(), "1007");
    // The whole terminal (config and store) comes back from an old copy,
    // so nothing local tells: the server does.
    let dir = tempfile::tempdir().unwrap();
    for name in ["config.json", "pyck.sqlite3"] {
        std::fs::copy(device.path(name), dir.path().join(name)).unwrap();
    }
    assert!(one_move(&device).status.success());
    assert!(one_move(&device).status.success());
    device.ok(&["sync"]);
    for name in ["config.json", "pyck.sqlite3"] {
        std::fs::copy(dir.path().join(name), device.path(name)).unwrap();
    }
    assert!(
        one_move(&device).status.success(),
        "nothing local tells yet"
    );
    let out = device.run(&["sync"]);
    assert_eq!(out.status.code(), Some(STORE_LOST), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("up to 2"), "{stderr}");
    // Remembered: the next recording is refused too, not left to become a
    // seq_conflict.
    assert_eq!(one_move(&device).status.code(), Some(STORE_LOST));
    let moves: i64 = rusqlite::Connection::open(&wh.db)
        .unwrap()
        .query_row(
            "SELECT COUNT(*) FROM operations WHERE kind = 'move'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(moves, 2, "the colliding operation was never applied");
}

#[test]
fn a_reinstalled_terminal_with_the_same_token_continues_the_numbering() {
    let wh = Warehouse::new();
    let server = Server::start(&wh.db, None);
    let token = wh.token();
    let first = Device::new();
    first.enrol(&server.url(), &token, "1007");
    assert!(one_move(&first).status.success());
    first.ok(&["sync"]);
    // A new machine, nothing local: the journal starts after the server's.
    let again = Device::new();
    again.enrol(&server.url(), &token, "1007");
    let before = wh.server_qty("A-01-03", "SKU-10001");
    assert!(one_move(&again).status.success());
    again.ok(&["sync"]);
    assert_eq!(wh.server_qty("A-01-03", "SKU-10001"), before + 1);
    assert_eq!(refused_in_journal(&again), Vec::<serde_json::Value>::new());
}
