//! Enrolment by code, end to end: `pyck-server device-token create --url
//! [--ca] [--qr]` makes the `pyck://enrol?…` code; `pyck init --enrol` and
//! the scanner UI's first screen (in tmux) register with it against a real
//! server, over https with a CA made by the openssl command, and over http.
//! A code pinning another CA is refused, and so is a server that presents
//! the pinned CA next to a certificate that CA never signed.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use std::path::Path;

use common::tls::{ca, fingerprint, server_cert};
use common::tmux::{Tmux, wait_for_file};
use common::{Device, PYCK, Server, Warehouse, admin};
use serde_json::Value;

/// `device-token create … --json` with more flags.
fn token_json(wh: &Warehouse, more: &[&str]) -> Value {
    let args = [
        &[
            "device-token",
            "create",
            "--tenant",
            "acme",
            "--warehouse",
            "DC1",
            "--json",
        ],
        more,
    ]
    .concat();
    serde_json::from_str(&admin(&wh.db, &args)).unwrap()
}

/// A file holding `parts` one after the other (a certificate chain).
fn concat(dir: &Path, name: &str, parts: &[&Path]) -> String {
    let text: String = parts
        .iter()
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect();
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

/// The base64 body of a PEM text, without line breaks: certificates
/// compared whatever their line lengths.
fn pem_body(pem: &str) -> String {
    pem.lines().filter(|l| !l.starts_with("-----")).collect()
}

fn not_registered(device: &Device) {
    assert!(!device.path("config.json").exists(), "a config was saved");
    assert_eq!(device.run(&["sync"]).status.code(), Some(6));
}

#[test]
fn an_https_code_pins_the_ca_the_server_presents_and_nothing_else() {
    let wh = Warehouse::new();
    let dir = wh.dir.path();
    let ca_a = ca(dir, "a");
    let ca_b = ca(dir, "b");
    let (leaf, key) = server_cert(dir, "a", "server");
    // The server presents its certificate and the CA's (docs/ADMIN.md).
    let chain = concat(dir, "chain.pem", &[&leaf, &ca_a]);
    let server = Server::start_with(
        &wh.db,
        None,
        &["--tls-cert", &chain, "--tls-key", key.to_str().unwrap()],
    );
    let url = server.url();
    assert!(url.starts_with("https://"), "{url}");

    let created = token_json(&wh, &["--url", &url, "--ca", ca_a.to_str().unwrap()]);
    for key in ["device", "name", "tenant", "warehouse", "token"] {
        assert!(created[key].is_string(), "{key}: {created}");
    }
    let code = created["enrol"].as_str().unwrap();
    assert!(
        code.ends_with(&format!("&ca={}", fingerprint(&ca_a))),
        "{code}"
    );
    assert!(code.contains(&format!("server={url}&")), "{code}");

    // Another CA's fingerprint: refused, naming both, nothing registered.
    let other = token_json(&wh, &["--url", &url, "--ca", ca_b.to_str().unwrap()]);
    let stranger = Device::new();
    let out = stranger.run(&["init", "--enrol", other["enrol"].as_str().unwrap()]);
    assert_eq!(out.status.code(), Some(3), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&fingerprint(&ca_b)), "{err}");
    assert!(err.contains(&fingerprint(&ca_a)), "presented: {err}");
    assert!(err.contains(&fingerprint(&leaf)), "presented: {err}");
    not_registered(&stranger);

    // The right code, as a keyboard-mode scanner ends it: registered,
    // the CA kept as --ca keeps it, and syncing verifies against it.
    let device = Device::new();
    let done = device.json(&["init", "--enrol", &format!("{code}\r\n")]);
    assert_eq!(done["ca_pinned"], fingerprint(&ca_a), "{done}");
    assert_eq!(done["device"], created["device"], "{done}");
    let config: Value =
        serde_json::from_str(&std::fs::read_to_string(device.path("config.json")).unwrap())
            .unwrap();
    assert_eq!(
        pem_body(config["ca"].as_str().unwrap()),
        pem_body(&std::fs::read_to_string(&ca_a).unwrap())
    );
    assert_eq!(config["server"], url);
    device.ok(&["login", "--badge", "1007", "--pin", "1234"]);
    device.move_one();
    let synced = device.json(&["sync"]);
    assert_eq!(synced["pushed"], 1, "{synced}");
    assert_eq!(device.json(&["status"])["online"], true);

    // Someone in between presents the pinned CA's certificate beside a
    // leaf of another CA: the pin matches, and the verified connection
    // that follows refuses the leaf. Nothing is registered.
    let (fake, fake_key) = server_cert(dir, "b", "impostor");
    let fake_chain = concat(dir, "impostor-chain.pem", &[&fake, &ca_a]);
    let impostor = Server::start_with(
        &wh.db,
        None,
        &[
            "--tls-cert",
            &fake_chain,
            "--tls-key",
            fake_key.to_str().unwrap(),
        ],
    );
    let lure = code.replace(&url, &impostor.url());
    let fooled = Device::new();
    let out = fooled.run(&["init", "--enrol", &lure]);
    assert_eq!(out.status.code(), Some(4), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr).to_lowercase();
    assert!(err.contains("certificate"), "{err}");
    not_registered(&fooled);
}

/// The QR code `--qr` draws on stderr, read back into modules: each
/// character is two rows; blocks are light modules (it is drawn for a
/// dark terminal), blanks dark ones.
fn modules(drawn: &str) -> Vec<Vec<bool>> {
    let mut rows = Vec::new();
    for line in drawn.lines().filter(|l| l.contains('█')) {
        let top = line.chars().map(|c| matches!(c, '▀' | '█')).collect();
        let bottom = line.chars().map(|c| matches!(c, '▄' | '█')).collect();
        rows.push(top);
        rows.push(bottom);
    }
    // An odd height leaves a last half row that is not the code's.
    if rows
        .last()
        .is_some_and(|r: &Vec<bool>| r.iter().all(|light| !light))
    {
        rows.pop();
    }
    rows
}

fn decode_qr(drawn: &str) -> String {
    const SCALE: usize = 4;
    let rows = modules(drawn);
    let (w, h) = (rows[0].len(), rows.len());
    let mut img = rqrr::PreparedImage::prepare_from_greyscale(w * SCALE, h * SCALE, |x, y| {
        if rows[y / SCALE][x / SCALE] { 255 } else { 0 }
    });
    let grids = img.detect_grids();
    assert_eq!(grids.len(), 1, "one QR code in:\n{drawn}");
    grids[0].decode().unwrap().1
}

#[test]
fn an_http_code_in_a_qr_code_enrols_and_the_token_stays_the_last_line() {
    let wh = Warehouse::new();
    let server = Server::start(&wh.db, None);
    let url = server.url();

    let out = std::process::Command::new(common::server_bin())
        .args(["--db", &wh.db, "device-token", "create", "--tenant", "acme"])
        .args([
            "--warehouse",
            "DC1",
            "--name",
            "scanner 9",
            "--url",
            &url,
            "--qr",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let stdout = String::from_utf8(out.stdout).unwrap();
    let token = stdout.lines().last().unwrap();
    assert!(token.starts_with("pyck_"), "{stdout}");
    let code = stdout
        .lines()
        .find_map(|l| l.strip_prefix("enrolment code: "))
        .unwrap();
    assert!(code.contains(&format!("token={token}")), "{stdout}");
    assert!(!code.contains("ca="), "{code}");
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(decode_qr(&stderr), code);

    // --qr without --url is a usage error naming the flag.
    let out = std::process::Command::new(common::server_bin())
        .args(["--db", &wh.db, "device-token", "create", "--tenant", "acme"])
        .args(["--warehouse", "DC1", "--qr"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("--url"),
        "{out:?}"
    );

    let device = Device::new();
    device.ok(&["init", "--enrol", code]);
    device.ok(&["login", "--badge", "2001", "--pin", "1234"]);
    assert_eq!(device.json(&["sync"])["refused"], 0);
    assert_eq!(device.json(&["status"])["server"], url);
}

#[test]
fn the_scanner_ui_starts_unregistered_on_the_enrolment_screen() {
    let wh = Warehouse::new();
    let dir = wh.dir.path();
    let ca_a = ca(dir, "a");
    let ca_b = ca(dir, "b");
    let (leaf, key) = server_cert(dir, "a", "server");
    let chain = concat(dir, "chain.pem", &[&leaf, &ca_a]);
    let server = Server::start_with(
        &wh.db,
        None,
        &["--tls-cert", &chain, "--tls-key", key.to_str().unwrap()],
    );
    let url = server.url();
    let code = token_json(&wh, &["--url", &url, "--ca", ca_a.to_str().unwrap()])["enrol"]
        .as_str()
        .unwrap()
        .to_owned();
    let wrong_ca = token_json(&wh, &["--url", &url, "--ca", ca_b.to_str().unwrap()])["enrol"]
        .as_str()
        .unwrap()
        .to_owned();

    let device = Device::new();
    let exit_file = device.path("tui-exit");
    let sh = format!(
        "sh -c \"PYCK_HOME='{}' PYCK_TODAY=2026-12-07 '{}'; echo EXIT=$? > '{}'\"",
        device.home.path().display(),
        PYCK,
        exit_file.display()
    );
    let tmux = Tmux::start(40, 16, &sh);
    tmux.wait_for(&["Enrol this device", "Scan the enrolment code"]);

    // Not a code at all, then a code for another CA: loud, and the screen
    // stays.
    tmux.scan("SKU-10001");
    tmux.wait_for(&["NOT ENROLLED", "not an enrolment code"]);
    tmux.scan(&wrong_ca);
    tmux.wait_for(&["NOT ENROLLED", "did not present"]);
    assert!(!device.path("config.json").exists());

    // The code as the scanner types it, Enter at the end: on to log in.
    tmux.scan(&code);
    tmux.wait_for(&["Log in", ">Badge", "enrolled as"]);
    tmux.scan("2001");
    tmux.wait_for(&[">PIN"]);
    tmux.scan("1234");
    tmux.wait_for(&["1 Receive", "op 2001"]);
    tmux.key("q");
    assert_eq!(wait_for_file(&exit_file).trim(), "EXIT=0");
    assert_eq!(device.json(&["status"])["server"], url);
}
