//! Device tokens and PINs are kept only as hashes on the server and never
//! written to a log, even at debug level; the terminal keeps its own token
//! owner-only and never a PIN.

#![allow(clippy::unwrap_used)]

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use common::{Device, Server, Warehouse, admin};

/// Every file under `dir` (the database and its WAL, logs, photos).
fn files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut all = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            all.extend(files(&path));
        } else {
            all.push(path);
        }
    }
    all
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

#[test]
fn tokens_and_pins_are_never_stored_in_clear_nor_logged() {
    const PIN: &str = "730519";
    const WRONG_PIN: &str = "730518";
    let wh = Warehouse::new();
    admin(
        &wh.db,
        &[
            "user",
            "create",
            "--tenant",
            "acme",
            "--badge",
            "5001",
            "--pin",
            PIN,
            "--role",
            "supervisor",
        ],
    );
    let log = wh.dir.path().join("server.log");
    let server = Server::start_debug_logged(&wh.db, &log);
    let token = wh.token();
    let device = Device::new();
    device.ok(&["init", "--server", &server.url(), "--token", &token]);
    let wrong = device.run(&["login", "--badge", "5001", "--pin", WRONG_PIN]);
    assert_eq!(wrong.status.code(), Some(5), "{wrong:?}");
    device.ok(&["login", "--badge", "5001", "--pin", PIN]);
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
    device.ok(&["sync"]);
    // A forged token and a revoked one reach the server too.
    let forged = format!("pyck_{}", "Zm9yZ2Vk".repeat(5));
    let stranger = Device::new();
    let out = stranger.run(&["init", "--server", &server.url(), "--token", &forged]);
    assert_eq!(out.status.code(), Some(5), "{out:?}");
    let revoked = wh.token_named("revoked");
    admin(&wh.db, &["device-token", "revoke", &revoked]);
    let out = stranger.run(&["init", "--server", &server.url(), "--token", &revoked]);
    assert_eq!(out.status.code(), Some(5), "{out:?}");
    drop(server);

    let log_text = std::fs::read_to_string(&log).unwrap();
    assert!(
        log_text.lines().count() > 10 && log_text.contains("push settled"),
        "the debug log shows the traffic, so the test shows something:\n{log_text}"
    );
    // Server side: the log, the database (with its WAL) and every other file.
    let mut looked_at = 0;
    for file in files(wh.dir.path()) {
        let bytes = std::fs::read(&file).unwrap();
        for secret in [&token, &revoked, &forged, PIN, WRONG_PIN] {
            assert!(
                !contains(&bytes, secret),
                "{} holds the secret {secret:?}",
                file.display()
            );
        }
        looked_at += 1;
    }
    assert!(looked_at >= 2, "the database and the log at least");

    // Terminal side: the token only in the owner-only config, no PIN at all.
    for file in files(device.home.path()) {
        let bytes = std::fs::read(&file).unwrap();
        for pin in [PIN, WRONG_PIN] {
            assert!(!contains(&bytes, pin), "{} holds the PIN", file.display());
        }
        if contains(&bytes, &token) {
            let mode = std::fs::metadata(&file).unwrap().permissions().mode();
            assert_eq!(
                mode & 0o077,
                0,
                "{} holds the token but is readable by others",
                file.display()
            );
            assert!(
                file.ends_with("config.json"),
                "{} holds the token",
                file.display()
            );
        }
    }
}
