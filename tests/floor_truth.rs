//! The terminal refuses what its own view knows is wrong (SPEC §4), through
//! the real `pyck` binary against a real server: each refusal exits 3, says
//! what is wrong, and records nothing; the same fact in its right form is
//! recorded.

#![allow(clippy::unwrap_used)]

use crate::common;

use common::{Device, Server, Warehouse};
use serde_json::Value;

/// Runs a command that must be refused at the point of action: exit 3, the
/// stderr says `why`, the journal is as long as before.
fn refused(device: &Device, args: &[&str], why: &str) {
    refused_on(device, args, why, common::FIXTURE_TODAY);
}

fn refused_on(device: &Device, args: &[&str], why: &str, today: &str) {
    let before = device.journal().len();
    let out = device.cmd(args).env("PYCK_TODAY", today).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{args:?}: {err}");
    assert!(err.contains(why), "{args:?}: {err:?} does not say {why:?}");
    assert_eq!(device.journal().len(), before, "{args:?} recorded");
}

fn args(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

fn open_picks(device: &Device) -> Vec<Value> {
    device
        .json(&["pick", "list"])
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["status"] == "open")
        .cloned()
        .collect()
}

#[test]
fn picks_lots_and_the_order_state_machine_at_the_device() {
    let wh = Warehouse::new();
    let server = Server::start(&wh.db, None);
    let picker = Device::new();
    picker.enrol(&server.url(), &wh.token(), "1007");
    // A task for a lot with an expiry date, and that date.
    let expiry_of = |t: &Value| -> Option<String> {
        let bin = t["location"].as_str()?;
        picker
            .json(&["stock", "--location", bin])
            .as_array()?
            .iter()
            .find(|r| r["lot"] == t["lot"] && r["sku"] == t["sku"])
            .and_then(|r| r["expiry"].as_str().map(str::to_owned))
    };
    let picks = open_picks(&picker);
    let (task, expiry) = picks
        .iter()
        .filter(|t| t["lot"].is_string())
        .find_map(|t| Some((t.clone(), expiry_of(t)?)))
        .unwrap_or_else(|| panic!("no pick task for a lot with an expiry in {picks:?}"));
    let id = task["task"].as_str().unwrap();
    let lot = task["lot"].as_str().unwrap();
    let bin = task["location"].as_str().unwrap();
    let qty = task["qty"].as_i64().unwrap();

    // A lot the bin does not hold; more than the task asks for.
    refused(
        &picker,
        &[
            "pick", "confirm", "--task", id, "--qty", "1", "--lot", "L9999X",
        ],
        &format!("lot L9999X is not in {bin}: the bin holds lot {lot}"),
    );
    let over = (qty + 1).to_string();
    refused(
        &picker,
        &["pick", "confirm", "--task", id, "--qty", &over],
        &format!("{over} is more than the task asks for: pick at most {qty}"),
    );
    // The task's own lot, on the day after it expired.
    let day_after = chrono::NaiveDate::parse_from_str(&expiry, "%Y-%m-%d")
        .unwrap()
        .succ_opt()
        .unwrap()
        .to_string();
    refused_on(
        &picker,
        &["pick", "confirm", "--task", id, "--qty", "1"],
        &format!("lot {lot} EXPIRED on {expiry}"),
        &day_after,
    );

    // The order cannot be packed while a pick is open, nor shipped unpacked.
    let order = task["order"].as_str().unwrap().to_owned();
    refused(&picker, &["pack", "--order", &order], "open pick(s)");
    refused(&picker, &["ship", "--order", &order], "open pick(s)");
    picker.ok(&["pick", "confirm", "--task", id, "--qty", &qty.to_string()]);
    for t in open_picks(&picker)
        .iter()
        .filter(|t| t["order"] == order.as_str())
    {
        let id = t["task"].as_str().unwrap();
        picker.ok(&[
            "pick",
            "confirm",
            "--task",
            id,
            "--qty",
            "0",
            "--short",
            "not found",
        ]);
    }
    refused(
        &picker,
        &["ship", "--order", &order],
        &format!("order {order} is not packed"),
    );
    picker.ok(&["pack", "--order", &order]);
    refused(
        &picker,
        &["pack", "--order", &order],
        &format!("order {order} is already packed"),
    );
    picker.ok(&["ship", "--order", &order]);
    refused(&picker, &["ship", "--order", &order], "already shipped");
    picker.ok(&["sync"]);
    let verify = wh.verify();
    assert!(verify.status.success(), "{verify:?}");
}

#[test]
fn receipts_closed_asns_expired_lots_and_temperatures_at_the_device() {
    let wh = Warehouse::new();
    let server = Server::start(&wh.db, None);
    let receiver = Device::new();
    receiver.enrol(&server.url(), &wh.token(), "2001");
    let receive = |qty: &str, damaged: &str, expiry: &str, to: &str| -> Vec<String> {
        [
            "receive",
            "--asn",
            "ASN-1003",
            "--sku",
            "SKU-10048",
            "--lot",
            "L2601X",
            "--qty",
            qty,
            "--damaged",
            damaged,
            "--expiry",
            expiry,
            "--to",
            to,
        ]
        .map(str::to_owned)
        .to_vec()
    };

    // Good units of a lot that expired before today: refused; the same
    // units as rejected are recorded, with the reason.
    refused(
        &receiver,
        &args(&receive("24", "0", "2026-11-30", "DOCK-01")),
        "lot L2601X EXPIRED on 2026-11-30",
    );
    receiver.ok(&args(&receive("0", "24", "2026-11-30", "DOCK-01")));
    let last = receiver.journal().pop().unwrap();
    assert_eq!(last["payload"]["damaged"], 24, "{last}");
    assert_eq!(last["payload"]["damaged_reason"], "expired", "{last}");

    // Chilled goods into an ambient bin; a bin code in lower case is the bin.
    refused(
        &receiver,
        &args(&receive("12", "0", "2027-01-31", "A-01-01")),
        "SKU-10048 is chilled goods and A-01-01 is an ambient bin: take it to a chilled bin",
    );
    receiver.ok(&args(&receive("12", "0", "2027-01-31", "dock-01")));
    let last = receiver.journal().pop().unwrap();
    assert_eq!(last["payload"]["to"], "DOCK-01", "{last}");
    refused(
        &receiver,
        &[
            "move",
            "--sku",
            "SKU-10048",
            "--lot",
            "L2601X",
            "--qty",
            "12",
            "--from",
            "DOCK-01",
            "--to",
            "A-01-02",
        ],
        "chilled goods and A-01-02 is an ambient bin",
    );

    // Once closed (recorded here, not yet synced), the ASN takes nothing more.
    receiver.ok(&["receive", "close", "--asn", "ASN-1003"]);
    refused(
        &receiver,
        &args(&receive("1", "0", "2027-01-31", "DOCK-01")),
        "ASN ASN-1003 is closed",
    );
    receiver.ok(&["sync"]);
    let verify = wh.verify();
    assert!(verify.status.success(), "{verify:?}");
}
