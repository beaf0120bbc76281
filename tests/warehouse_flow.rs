//! The warehouse domain end to end on the fixtures, through the real
//! binaries: receive an ASN short and close it, put away, pick an order with
//! a line short, count a bin with a difference, pack and ship another order;
//! then exceptions, stock and `verify` are exactly as expected, and a
//! supervisor's resolution reaches another device.

#![allow(clippy::unwrap_used)]

use crate::common;

use common::{Device, Server, Warehouse};
use serde_json::Value;

fn tasks_for<'a>(list: &'a Value, order: &str) -> Vec<&'a Value> {
    list.as_array()
        .unwrap()
        .iter()
        .filter(|t| t["order"] == order)
        .collect()
}

#[test]
fn a_day_on_the_floor() {
    let wh = Warehouse::new();
    let server = Server::start(&wh.db, None);
    let receiver = Device::new();
    receiver.enrol(&server.url(), &wh.token(), "2001");
    let picker = Device::new();
    picker.enrol(&server.url(), &wh.token(), "1007");
    let supervisor = Device::new();
    supervisor.enrol(&server.url(), &wh.token(), "3001");

    // Receiving: ASN-1003 arrives 20 short on line 3, then it is closed.
    let receipts = receiver.path("asn-1003.csv");
    std::fs::write(
        &receipts,
        "asn,sku,qty,lot,expiry,to\n\
         ASN-1003,SKU-10048,144,L2647E,2026-12-20,DOCK-01\n\
         ASN-1003,SKU-10060,200,L2650A,2027-09-30,DOCK-01\n\
         ASN-1003,SKU-10062,100,L2650B,2027-10-31,DOCK-01\n",
    )
    .unwrap();
    receiver.ok(&["receive", "--file", receipts.to_str().unwrap()]);
    receiver.ok(&["receive", "close", "--asn", "ASN-1003"]);
    receiver.ok(&["sync"]);
    receiver.ok(&["sync"]);

    // Putaway: each receipt left a task pointing into the frozen or chilled
    // zone; following them empties the dock.
    let putaways = receiver.json(&["putaway", "list"]);
    assert_eq!(putaways.as_array().unwrap().len(), 3, "{putaways}");
    // What each suggested bin holds of the item before the putaway.
    let before: Vec<i64> = putaways
        .as_array()
        .unwrap()
        .iter()
        .map(|t| wh.server_qty(t["to"].as_str().unwrap(), t["sku"].as_str().unwrap()))
        .collect();
    for t in putaways.as_array().unwrap() {
        let to = t["to"].as_str().unwrap();
        assert!(to.starts_with('F') || to.starts_with('C'), "suggested {to}");
        receiver.ok(&[
            "move",
            "--sku",
            t["sku"].as_str().unwrap(),
            "--lot",
            t["lot"].as_str().unwrap(),
            "--qty",
            &t["qty"].to_string(),
            "--from",
            "DOCK-01",
            "--to",
            to,
            "--task",
            t["task"].as_str().unwrap(),
        ]);
    }
    assert!(
        receiver
            .json(&["putaway", "list"])
            .as_array()
            .unwrap()
            .is_empty(),
        "done locally at once"
    );
    receiver.ok(&["sync"]);

    // Picking: SO-5005 line 1 (FEFO: lot L2630F at C-02-05) comes up short.
    let picks = picker.json(&["pick", "list"]);
    let so5005 = tasks_for(&picks, "SO-5005");
    let first = so5005.iter().find(|t| t["line"] == 1).unwrap();
    assert_eq!(
        (
            first["location"].as_str(),
            first["lot"].as_str(),
            first["qty"].as_i64()
        ),
        (Some("C-02-05"), Some("L2630F"), Some(12))
    );
    picker.ok(&[
        "pick",
        "confirm",
        "--task",
        first["task"].as_str().unwrap(),
        "--qty",
        "7",
        "--short",
        "only 7 in the bin",
    ]);
    // SO-5004 is picked in full, packed and shipped.
    for t in tasks_for(&picks, "SO-5004") {
        picker.ok(&[
            "pick",
            "confirm",
            "--task",
            t["task"].as_str().unwrap(),
            "--qty",
            &t["qty"].to_string(),
        ]);
    }
    picker.ok(&["pack", "--order", "SO-5004"]);
    picker.ok(&["ship", "--order", "SO-5004"]);
    // A blind count finds 55 where the server has 60.
    picker.ok(&[
        "count",
        "--location",
        "C-03-08",
        "--sku",
        "SKU-10048",
        "--lot",
        "L2630G",
        "--qty",
        "55",
    ]);
    let report = picker.json(&["sync"]);
    assert_eq!(report["refused"], 0, "{report}");

    // The short pick was re-allocated from the next lot, and a count task
    // was raised for the bin that came up short.
    picker.ok(&["sync"]);
    let picks = picker.json(&["pick", "list"]);
    let again: Vec<_> = tasks_for(&picks, "SO-5005")
        .into_iter()
        .filter(|t| t["line"] == 1)
        .collect();
    assert_eq!(again.len(), 1, "{picks}");
    assert_eq!(
        (again[0]["location"].as_str(), again[0]["qty"].as_i64()),
        (Some("C-01-09"), Some(5))
    );
    let counts = picker.json(&["count", "list"]);
    assert!(
        counts
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["location"] == "C-02-05")
    );
    assert!(
        counts
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c.get("qty").is_none()),
        "blind"
    );

    // Exceptions: exactly these three.
    supervisor.ok(&["sync"]);
    let exceptions = supervisor.json(&["exceptions"]);
    let mut kinds: Vec<&str> = exceptions
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    kinds.sort_unstable();
    assert_eq!(
        kinds,
        vec!["count_difference", "short_pick", "under_receipt"],
        "{exceptions}"
    );
    // The server's admin CLI lists the same exceptions.
    let listed: Value = serde_json::from_str(&common::admin(
        &wh.db,
        &["exceptions", "list", "--tenant", "acme", "--json"],
    ))
    .unwrap();
    let ids = |v: &Value| {
        let mut ids: Vec<String> = v
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["id"].as_str().unwrap().to_owned())
            .collect();
        ids.sort();
        ids
    };
    assert_eq!(ids(&listed), ids(&exceptions), "{listed}");
    assert!(
        listed
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["warehouse"] == "DC1")
    );
    let under = exceptions
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "under_receipt")
        .unwrap();
    assert!(
        under["message"]
            .as_str()
            .unwrap()
            .contains("ASN ASN-1003 line 3 (SKU-10062)")
    );
    assert_eq!(under["asn"], "ASN-1003");
    let short = exceptions
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "short_pick")
        .unwrap();
    assert_eq!(short["order"], "SO-5005");
    let diff = exceptions
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "count_difference")
        .unwrap();
    assert_eq!(diff["location"], "C-03-08");

    // Stock of every touched bin.
    assert_eq!(wh.server_qty("DOCK-01", "SKU-10048"), 0);
    assert_eq!(wh.server_qty("C-02-05", "SKU-10045"), 5);
    assert_eq!(wh.server_qty("STAGE:SO-5005", "SKU-10045"), 7);
    assert_eq!(wh.server_qty("A-01-12", "SKU-10026"), 0);
    assert_eq!(wh.server_qty("A-06-09", "SKU-10026"), 156);
    assert_eq!(
        wh.server_qty("STAGE:SO-5004", "SKU-10026"),
        0,
        "shipped out"
    );
    assert_eq!(
        wh.server_qty("C-03-08", "SKU-10048"),
        60,
        "a count above the threshold changes nothing"
    );
    for (t, before) in putaways.as_array().unwrap().iter().zip(before) {
        let (to, sku) = (t["to"].as_str().unwrap(), t["sku"].as_str().unwrap());
        assert_eq!(
            wh.server_qty(to, sku),
            before + t["qty"].as_i64().unwrap(),
            "{sku} put away into {to}"
        );
    }
    assert_eq!(wh.server_qty("DOCK-01", "SKU-10060"), 0);
    assert_eq!(wh.server_qty("DOCK-01", "SKU-10062"), 0);
    let verify = wh.verify();
    assert!(
        verify.status.success(),
        "{}",
        String::from_utf8_lossy(&verify.stdout)
    );

    // The supervisor resolves the count difference; the picker sees it.
    let id = diff["id"].as_str().unwrap();
    assert_eq!(
        picker
            .run(&["exceptions", "resolve", id, "--note", "x"])
            .status
            .code(),
        Some(5),
        "pickers may not resolve"
    );
    supervisor.ok(&[
        "exceptions",
        "resolve",
        id,
        "--note",
        "recounted: 55 is right, adjusted",
    ]);
    supervisor.ok(&[
        "adjust",
        "--location",
        "C-03-08",
        "--sku",
        "SKU-10048",
        "--lot",
        "L2630G",
        "--qty",
        "55",
        "--reason",
        "count",
    ]);
    supervisor.ok(&["sync"]);
    picker.ok(&["sync"]);
    let seen = picker.json(&["exceptions", "--all"]);
    let resolved = seen
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["id"] == id)
        .unwrap();
    assert_eq!(resolved["status"], "resolved");
    assert_eq!(wh.server_qty("C-03-08", "SKU-10048"), 55);
    assert!(wh.verify().status.success());
}
