//! A picker on the real scanner UI (tmux, 40x16, a real server): the pick
//! screen says where, how many of what for which order; a GS1 label of a lot
//! the bin does not hold is refused at the scan, full screen, and nothing is
//! recorded; the right label, sent as a keyboard-mode scanner sends it (the
//! separator as the raw byte 0x1D), is taken and recorded with its lot.

#![allow(clippy::unwrap_used)]

use crate::common;

use std::path::Path;

use common::tmux::{Tmux, wait_for_file};
use common::{Device, FIXTURE_TODAY, PYCK, Server, Warehouse};
use serde_json::Value;

fn tui_command(device: &Device, exit_file: &Path) -> String {
    format!(
        "sh -c \"PYCK_HOME='{}' PYCK_TODAY={FIXTURE_TODAY} PYCK_TUI_SYNC_SECS=3600 '{}' tui; echo EXIT=$? > '{}'\"",
        device.home.path().display(),
        PYCK,
        exit_file.display()
    )
}

/// The GTIN-14 of a SKU in the fixtures.
fn gtin14(sku: &str) -> String {
    let items = std::fs::read_to_string(common::fixtures().join("items.csv")).unwrap();
    let gtin = items
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{sku},")))
        .and_then(|rest| rest.split(',').next())
        .unwrap_or_else(|| panic!("{sku} not in items.csv"));
    format!("{gtin:0>14}")
}

/// Sends a GS1-128 scan the way a keyboard-mode scanner does: the AIM
/// symbology identifier, the element string, each FNC1 separator as the
/// byte 0x1D, then Enter.
fn scan_with_gs(tmux: &Tmux, parts: &[&str]) {
    for (i, part) in parts.iter().enumerate() {
        if i > 0 {
            tmux.run(&["send-keys", "-t", "pyck", "-H", "1d"]);
        }
        tmux.run(&["send-keys", "-t", "pyck", "-l", part]);
    }
    tmux.key("Enter");
}

#[test]
fn a_wrong_lot_is_refused_at_the_scan_and_the_right_one_recorded() {
    let wh = Warehouse::new();
    let server = Server::start(&wh.db, None);
    let device = Device::new();
    device.enrol(&server.url(), &wh.token(), "1007");
    let open: Vec<Value> = device
        .json(&["pick", "list"])
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["status"] == "open")
        .cloned()
        .collect();
    // The first task for a lot, and how many skips (F3) reach it.
    let skips = open
        .iter()
        .position(|t| t["lot"].is_string())
        .expect("a pick task for a lot");
    let task = &open[skips];
    let (bin, sku, lot) = (
        task["location"].as_str().unwrap(),
        task["sku"].as_str().unwrap(),
        task["lot"].as_str().unwrap(),
    );
    let order = task["order"].as_str().unwrap();
    let qty = task["qty"].as_i64().unwrap();
    let gtin = gtin14(sku);

    let dir = tempfile::tempdir().unwrap();
    let exit_file = dir.path().join("exit");
    let tmux = Tmux::start(40, 16, &tui_command(&device, &exit_file));
    tmux.wait_for(&["1 Receive", "op 1007"]);
    tmux.key("4");
    tmux.wait_for(&["Go to", ">Bin"]);
    for _ in 0..skips {
        tmux.key("F3");
    }
    tmux.wait_for(&["Go to", bin, &format!("order {order}")]);
    tmux.scan(bin);
    tmux.wait_for(&[">Item"]);

    // A lot that is not in the bin: refused at the scan, nothing recorded.
    scan_with_gs(&tmux, &[&format!("]C101{gtin}10L9999X"), "301"]);
    tmux.wait_for(&["REFUSED", "L9999X"]);
    tmux.key("Enter");
    tmux.wait_for(&[">Item"]);
    assert!(device.journal().is_empty(), "{:?}", device.journal());

    // The task's lot, its GS ending the lot, then a count (AI 30, the one
    // that goes with a GTIN): had the GS been lost, the lot would read
    // "{lot}301" and be refused. Enter
    // takes what the task asks for, and records.
    scan_with_gs(&tmux, &[&format!("]C101{gtin}10{lot}"), "301"]);
    tmux.wait_for(&[">Qty", &format!("Enter = {qty}")]);
    tmux.key("Enter");
    tmux.wait_for(&["recorded pick"]);
    let journal = device.journal();
    assert_eq!(journal.len(), 1, "{journal:?}");
    assert_eq!(journal[0]["payload"]["lot"], lot, "{journal:?}");
    assert_eq!(journal[0]["payload"]["qty"], qty, "{journal:?}");
    tmux.key("C-c");
    assert_eq!(wait_for_file(&exit_file).trim(), "EXIT=0");
}
