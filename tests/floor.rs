//! The supervisor's floor dashboard end to end: the real `pyck floor` in a
//! real pseudo-terminal (tmux, 120x40) against a real pyck-server, while
//! another device works. Nothing is typed into the dashboard until the
//! resolution: what changes on screen arrives through the subscription.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use std::time::{Duration, Instant};

use common::tmux::{Tmux, wait_for_file};
use common::{Device, PYCK, Server, Warehouse};

#[test]
fn the_floor_follows_another_device_and_resolves_an_exception() {
    let wh = Warehouse::new();
    let server = Server::start(&wh.db, None);
    let desk = Device::new();
    desk.enrol(&server.url(), &wh.token_named("desk-1"), "3001");
    let scanner = Device::new();
    scanner.enrol(&server.url(), &wh.token_named("scanner-07"), "1007");
    let exit_file = desk.path("floor-exit");
    let command = format!(
        "sh -c \"PYCK_HOME='{}' '{}' floor; echo EXIT=$? > '{}'\"",
        desk.home.path().display(),
        PYCK,
        exit_file.display()
    );
    let tmux = Tmux::start(120, 40, &command);
    tmux.wait_for(&["pyck floor", "3001 (supervisor)", "ONLINE", "live"]);
    // The scanner has registered and pushed nothing: `init` is its first
    // contact (it asks where the device's numbering stands on the server).
    tmux.wait_for(&["scanner-07"]);

    // A move on the scanner: the feed shows it and the device's contact
    // updates, with no key pressed. The subscription may still be settling
    // when the first move is pushed; each further move is another chance.
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut screen = tmux.screen();
    while !screen.contains("stock A-01-03 SKU-10001") {
        assert!(
            Instant::now() < deadline,
            "no move reached the dashboard:\n{screen}"
        );
        scanner.move_one();
        scanner.ok(&["sync"]);
        let wait = Instant::now() + Duration::from_secs(2);
        while Instant::now() < wait && !screen.contains("stock A-01-03 SKU-10001") {
            std::thread::sleep(Duration::from_millis(50));
            screen = tmux.screen();
        }
    }
    let scanner_row = screen
        .lines()
        .find(|l| l.contains("scanner-07"))
        .unwrap()
        .to_owned();
    assert!(scanner_row.contains("s ago"), "{scanner_row}");

    // A blind count that disagrees raises an exception: it joins the queue.
    let book = scanner.qty("A-01-03", "SKU-10001");
    let counted = (book + 5).to_string();
    scanner.ok(&[
        "count",
        "--location",
        "A-01-03",
        "--sku",
        "SKU-10001",
        "--qty",
        &counted,
    ]);
    scanner.ok(&["sync"]);
    tmux.wait_for(&["Exceptions (1 open)", "count_difference"]);

    // The supervisor resolves it with a note, from the dashboard.
    tmux.key("Enter");
    tmux.wait_for(&["note for "]);
    tmux.run(&["send-keys", "-t", "pyck", "-l", "recounted with the picker"]);
    tmux.key("Enter");
    tmux.wait_for(&["Exceptions (0 open)", "none open"]);
    // The resolution is on the server.
    let all = common::admin(
        &wh.db,
        &["exceptions", "list", "--tenant", "acme", "--all", "--json"],
    );
    let exceptions: serde_json::Value = serde_json::from_str(&all).unwrap();
    let difference = exceptions
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "count_difference")
        .unwrap_or_else(|| panic!("{exceptions}"));
    assert_eq!(difference["status"], "resolved", "{difference}");

    tmux.key("q");
    assert_eq!(wait_for_file(&exit_file).trim(), "EXIT=0");
}

#[test]
fn the_floor_is_for_supervisors() {
    let wh = Warehouse::new();
    let server = Server::start(&wh.db, None);
    let scanner = Device::new();
    scanner.enrol(&server.url(), &wh.token(), "1007");
    let out = scanner.run(&["floor"]);
    assert_eq!(out.status.code(), Some(5), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("for supervisors") && err.contains("1007 is a picker"),
        "{err}"
    );
}

/// The server dies while nothing happens on the floor: the dashboard says
/// OFFLINE within seconds (the live connection's loss is the sign), not at
/// the next event, which will never come; and ONLINE again once it is back.
#[test]
fn the_floor_says_offline_when_the_server_dies_and_online_when_it_returns() {
    let wh = Warehouse::new();
    let server = Server::start(&wh.db, None);
    let desk = Device::new();
    desk.enrol(&server.url(), &wh.token_named("desk-1"), "3001");
    let exit_file = desk.path("floor-exit");
    let command = format!(
        "sh -c \"PYCK_HOME='{}' '{}' floor; echo EXIT=$? > '{}'\"",
        desk.home.path().display(),
        PYCK,
        exit_file.display()
    );
    let tmux = Tmux::start(120, 40, &command);
    tmux.wait_for(&["ONLINE", "live"]);

    let addr = server.kill();
    // `wait_for` polls the screen with a deadline; it asserts no speed.
    let screen = tmux.wait_for(&["OFFLINE", "feed down"]);
    assert!(!screen.contains("ONLINE"), "{screen}");

    // Back on the same address: the subscription reconnects on its own and
    // the snapshot it asks for says ONLINE.
    let _server = Server::start(&wh.db, Some(&addr));
    tmux.wait_for(&["ONLINE", "live"]);
    tmux.key("q");
    assert_eq!(wait_for_file(&exit_file).trim(), "EXIT=0");
}
