//! Device tokens and PINs are kept only as hashes on the server and never
//! written to a log, even at debug level; the terminal keeps its own token
//! owner-only and never a PIN.

#![allow(clippy::unwrap_used)]

use crate::common;

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
    device.move_one();
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

/// The server's database (with its WAL and shared memory), a backup of it
/// and the terminal's store hold PIN hashes and every ledger: owner-only,
/// whatever the umask. (The terminal's WAL exists only while a command
/// runs; SQLite gives it the store's mode.)
#[test]
fn databases_stores_and_backups_are_owner_only() {
    let wh = Warehouse::new();
    let server = Server::start(&wh.db, None);
    let device = Device::new();
    device.enrol(&server.url(), &wh.token(), "1007");
    device.move_one();
    device.ok(&["sync"]);
    let backup = wh.dir.path().join("nightly.sqlite3");
    admin(&wh.db, &["backup", backup.to_str().unwrap()]);
    let mut checked = Vec::new();
    for file in files(wh.dir.path())
        .into_iter()
        .chain(files(device.home.path()))
    {
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        if name.contains(".sqlite3") {
            let mode = std::fs::metadata(&file).unwrap().permissions().mode();
            assert_eq!(
                mode & 0o077,
                0,
                "{} is mode {:o}",
                file.display(),
                mode & 0o777
            );
            checked.push(name);
        }
    }
    checked.sort();
    for expected in [
        "server.sqlite3",
        "server.sqlite3-wal",
        "server.sqlite3-shm",
        "nightly.sqlite3",
        "pyck.sqlite3",
    ] {
        assert!(
            checked.iter().any(|c| c == expected),
            "{expected} not found in {checked:?}"
        );
    }
}

/// A password inside a URL given by environment (database, collector,
/// NATS, webhook) is never printed: not by `--help`, which shows where an
/// option comes from, and not in the log of a server that used every one of
/// them — including while the webhook fails and is retried.
#[test]
fn passwords_in_urls_are_never_printed() {
    const SECRET: &str = "s3cretXyZ";
    let wh = Warehouse::postgres();
    let db = wh.db.replacen(
        "postgres://postgres@",
        &format!("postgres://postgres:{SECRET}@"),
        1,
    );
    assert_ne!(
        db, wh.db,
        "the test database URL has the form the test expects"
    );
    // A port nothing listens on: every webhook call fails.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let nats = common::nats_url().replacen("nats://", &format!("nats://pyck:{SECRET}@"), 1);
    let env = [
        ("PYCK_DB", db.clone()),
        ("PYCK_OTLP", format!("http://pyck:{SECRET}@{closed}")),
        ("PYCK_NATS", nats),
        (
            "PYCK_NOTIFY_URL",
            format!("http://pyck:{SECRET}@{closed}/hook"),
        ),
    ];
    for args in [
        &["--help"][..],
        &["serve", "--help"],
        &["migrate", "--help"],
    ] {
        let out = std::process::Command::new(common::server_bin())
            .args(args)
            .envs(env.iter().map(|(k, v)| (k, v)))
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            text.contains("PYCK_DB"),
            "{args:?} names its variables:\n{text}"
        );
        assert!(
            !text.contains(SECRET),
            "{args:?} prints a password:\n{text}"
        );
    }

    let log = wh.dir.path().join("server.log");
    let file = std::fs::File::create(&log).unwrap();
    let mut server = std::process::Command::new(common::server_bin())
        .args([
            "--log-format",
            "json",
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--retry-base-ms",
            "50",
        ])
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdout(std::process::Stdio::piped())
        .stderr(file)
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(server.stdout.take().unwrap()),
        &mut line,
    )
    .unwrap();
    let url = line
        .trim()
        .strip_prefix("pyck-server listening on ")
        .unwrap()
        .to_owned();
    let picker = Device::new();
    picker.enrol(&url, &wh.token(), "1007");
    common::record_fulfilment(&picker, "SO-5004");
    picker.ok(&["sync"]);
    common::wait_for("the webhook's failure in the log", || {
        let text = std::fs::read_to_string(&log).unwrap();
        text.contains("notify").then_some(())
    });
    let _ = server.kill();
    let _ = server.wait();
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(!text.contains(SECRET), "the log holds a password:\n{text}");
}
