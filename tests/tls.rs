//! HTTPS end to end: a server with `--tls-cert/--tls-key` (a certificate a
//! private CA signed, made here with the openssl command), a terminal that
//! trusts that CA (`init --ca`) syncing and following the live feed over
//! wss, and what happens without the CA or with a bad one.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use common::tls::certificates;
use common::{Device, Server, Warehouse, server_bin};
use serde_json::Value;

#[test]
fn a_terminal_trusting_the_ca_syncs_and_follows_over_https() {
    let wh = Warehouse::new();
    let (ca, cert, key) = certificates(wh.dir.path());
    let server = Server::start_with(
        &wh.db,
        None,
        &[
            "--tls-cert",
            cert.to_str().unwrap(),
            "--tls-key",
            key.to_str().unwrap(),
        ],
    );
    let url = server.url();
    assert!(url.starts_with("https://"), "{url}");
    let ca = ca.to_str().unwrap();

    // Without the CA the terminal does not trust the server: nothing is
    // registered, and the error says why.
    let stranger = Device::new();
    let out = stranger.run(&["init", "--server", &url, "--token", &wh.token()]);
    assert_eq!(out.status.code(), Some(4), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr).to_lowercase();
    assert!(err.contains("certificate"), "{err}");
    // A CA file that is not one: exit 3 naming the flag.
    let not_pem = wh.dir.path().join("server.ext");
    let out = stranger.run(&[
        "init",
        "--server",
        &url,
        "--token",
        &wh.token(),
        "--ca",
        not_pem.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(3), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("--ca"),
        "{out:?}"
    );

    // With it: init, sync and the live feed (wss) all work.
    let watcher = Device::new();
    watcher.ok(&["init", "--server", &url, "--token", &wh.token(), "--ca", ca]);
    watcher.ok(&["login", "--badge", "1007", "--pin", "1234"]);
    assert_eq!(watcher.json(&["status"])["online"], true);
    let mover = Device::new();
    mover.ok(&["init", "--server", &url, "--token", &wh.token(), "--ca", ca]);
    mover.ok(&["login", "--badge", "1007", "--pin", "1234"]);
    let before = wh.server_qty("A-01-03", "SKU-10001");

    let mut feed = watcher
        .cmd(&["feed", "--json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut notice = String::new();
    BufReader::new(feed.stderr.take().unwrap())
        .read_line(&mut notice)
        .unwrap();
    assert!(notice.contains("following wss://"), "{notice}");
    let (tx, lines) = mpsc::channel();
    let stdout = feed.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            let _ = tx.send(line);
        }
    });
    let mut seen = None;
    'moves: for _ in 0..10 {
        mover.move_one();
        mover.ok(&["sync"]);
        while let Ok(line) = lines.recv_timeout(Duration::from_secs(5)) {
            let event: Value = serde_json::from_str(&line).unwrap();
            if event["type"] == "stock_changed" {
                seen = Some(event);
                break 'moves;
            }
        }
    }
    let _ = feed.kill();
    let _ = feed.wait();
    let event = seen.expect("no event came over wss");
    assert_eq!(event["sku"], "SKU-10001", "{event}");
    let moved = mover.journal().len() as i64;
    assert_eq!(wh.server_qty("A-01-03", "SKU-10001"), before + moved);
    watcher.ok(&["sync"]);
    assert_eq!(watcher.qty("A-01-03", "SKU-10001"), before + moved);

    // Plain HTTP to the HTTPS port gets nowhere.
    let plain = Device::new();
    let out = plain.run(&[
        "init",
        "--server",
        &url.replace("https://", "http://"),
        "--token",
        &wh.token(),
    ]);
    assert_eq!(out.status.code(), Some(4), "{out:?}");
}

#[test]
fn the_server_refuses_to_start_on_bad_certificate_files() {
    let wh = Warehouse::new();
    let (_, cert, key) = certificates(wh.dir.path());
    let missing = wh.dir.path().join("missing.pem");
    for (c, k, named) in [
        (&missing, &key, "--tls-cert"),
        (&cert, &missing, "--tls-key"),
        (&key, &key, "--tls-cert"),
    ] {
        let out = Command::new(server_bin())
            .args(["--db", &wh.db, "serve", "--listen", "127.0.0.1:0"])
            .args([
                "--tls-cert",
                c.to_str().unwrap(),
                "--tls-key",
                k.to_str().unwrap(),
            ])
            .output()
            .unwrap();
        assert!(!out.status.success(), "{out:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(named), "{named}: {err}");
        assert!(out.stdout.is_empty(), "nothing listened: {out:?}");
    }
    // One without the other is a usage error.
    let out = Command::new(server_bin())
        .args([
            "--db",
            &wh.db,
            "serve",
            "--tls-cert",
            cert.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
}

/// A handheld's system image may carry no CA certificates at all (no
/// `ca-certificates` package). Over plain HTTP there is nothing to verify,
/// so the terminal must not need them: it enrols, records and syncs. (It
/// used to load the system's roots for every client and failed with "No CA
/// certificates were loaded from the system" before sending anything.)
#[test]
fn a_terminal_without_system_certificates_syncs_over_plain_http() {
    let wh = Warehouse::new();
    let server = Server::start(&wh.db, None);
    let url = server.url();
    assert!(url.starts_with("http://"), "{url}");
    let device = Device::new();
    let missing = device.home.path().join("no-certificates-here");
    let run = |args: &[&str]| {
        let out = device
            .cmd(args)
            .env("SSL_CERT_FILE", &missing)
            .env("SSL_CERT_DIR", &missing)
            .output()
            .unwrap();
        common::succeeded(args, out)
    };
    run(&["init", "--server", &url, "--token", &wh.token()]);
    run(&["login", "--badge", "1007", "--pin", "1234"]);
    run(common::MOVE_ONE);
    let report: Value = serde_json::from_str(&run(&["sync", "--json"])).unwrap();
    assert_eq!(report["pushed"], 1, "{report}");
    assert_eq!(report["applied"], 1, "{report}");
}
