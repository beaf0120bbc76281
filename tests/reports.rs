//! `pyck-server report` end to end: a scripted shift through real devices
//! and a real server, then every report's `--json` and `--csv` compared with
//! figures this test computes from its own script (and, for exceptions, from
//! `exceptions list`).

#![allow(clippy::unwrap_used)]

use crate::common;

use std::collections::{BTreeMap, BTreeSet};

use common::{Device, Server, Warehouse};
use serde_json::Value;

fn report(wh: &Warehouse, kind: &str, format: &str) -> String {
    common::admin(
        &wh.db,
        &[
            "report",
            kind,
            "--tenant",
            "acme",
            "--warehouse",
            "DC1",
            format,
        ],
    )
}

fn json(wh: &Warehouse, kind: &str) -> Vec<Value> {
    let out = report(wh, kind, "--json");
    let v: Value = serde_json::from_str(&out).unwrap();
    let rows = v.as_array().unwrap().clone();
    // The CSV has a header and one line per JSON row.
    let csv = report(wh, kind, "--csv");
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), rows.len() + 1, "{kind}: {csv}");
    if let Some(first) = rows.first() {
        let header: BTreeSet<&str> = lines[0].split(',').collect();
        let keys: BTreeSet<&str> = first
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(header, keys, "{kind}: CSV columns are the JSON fields");
    }
    rows
}

/// Whole seconds from one JSON time to another (as the server counts them:
/// the difference, truncated, not the difference of truncated times).
fn between(from: &Value, to: &Value) -> i64 {
    let t = |v: &Value| chrono::DateTime::parse_from_rfc3339(v.as_str().unwrap()).unwrap();
    (t(to) - t(from)).num_seconds()
}

#[test]
fn reports_agree_with_a_scripted_shift() {
    let wh = Warehouse::new();
    let server = Server::start(&wh.db, None);
    let receiver = Device::new();
    receiver.enrol(&server.url(), &wh.token(), "2001");
    let picker = Device::new();
    picker.enrol(&server.url(), &wh.token(), "1007");

    // Receiving: ASN-1003, three receipts, then closed.
    let receipts = [
        ("SKU-10048", 144, "L2647E", "2026-12-20"),
        ("SKU-10060", 200, "L2650A", "2027-09-30"),
        ("SKU-10062", 100, "L2650B", "2027-10-31"),
    ];
    let mut csv = String::from("asn,sku,qty,lot,expiry,to\n");
    for (sku, qty, lot, expiry) in receipts {
        csv.push_str(&format!("ASN-1003,{sku},{qty},{lot},{expiry},DOCK-01\n"));
    }
    let file = receiver.path("asn-1003.csv");
    std::fs::write(&file, csv).unwrap();
    receiver.ok(&["receive", "--file", file.to_str().unwrap()]);
    receiver.ok(&["receive", "close", "--asn", "ASN-1003"]);
    receiver.ok(&["sync"]);

    // Picking: SO-5004 in full, SO-5005 line 1 short (7).
    let picks = picker.json(&["pick", "list"]);
    let mut picked: Vec<(String, i64, i64)> = Vec::new(); // (order, line, qty)
    for t in picks
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["order"] == "SO-5004")
    {
        let qty = t["qty"].as_i64().unwrap();
        picker.ok(&[
            "pick",
            "confirm",
            "--task",
            t["task"].as_str().unwrap(),
            "--qty",
            &qty.to_string(),
        ]);
        picked.push(("SO-5004".into(), t["line"].as_i64().unwrap(), qty));
    }
    let short = picks
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["order"] == "SO-5005" && t["line"] == 1)
        .unwrap();
    picker.ok(&[
        "pick",
        "confirm",
        "--task",
        short["task"].as_str().unwrap(),
        "--qty",
        "7",
        "--short",
        "only 7",
    ]);
    picked.push(("SO-5005".into(), 1, 7));
    picker.ok(&["pack", "--order", "SO-5004"]);
    picker.ok(&["ship", "--order", "SO-5004"]);

    // Counts: one right (what the server holds once the picks are in), one
    // 5 short.
    picker.ok(&["sync"]);
    let counts = [
        ("A-06-09", "SKU-10026", None),
        ("C-03-08", "SKU-10048", Some("L2630G")),
    ];
    let mut counted: Vec<(i64, i64)> = Vec::new(); // (counted, book)
    let books: Vec<i64> = counts
        .iter()
        .map(|(loc, sku, _)| wh.server_qty(loc, sku))
        .collect();
    for ((location, sku, lot), book) in counts.iter().zip(books) {
        let qty = if lot.is_some() { book - 5 } else { book };
        let qty_s = qty.to_string();
        let mut args = vec![
            "count",
            "--location",
            location,
            "--sku",
            sku,
            "--qty",
            &qty_s,
        ];
        if let Some(lot) = lot {
            args.extend(["--lot", lot]);
        }
        picker.ok(&args);
        counted.push((qty, book));
    }
    let sync = picker.json(&["sync"]);
    assert_eq!(sync["refused"], 0, "{sync}");

    // Productivity: 1007's picks, lines and units.
    let rows = json(&wh, "productivity");
    assert_eq!(rows.len(), 1, "{rows:?}");
    let r = &rows[0];
    let lines: BTreeSet<(&str, i64)> = picked.iter().map(|(o, l, _)| (o.as_str(), *l)).collect();
    assert_eq!(r["operator"], "1007");
    assert_eq!(r["picks"], picked.len() as i64);
    assert_eq!(r["lines"], lines.len() as i64);
    assert_eq!(r["units"], picked.iter().map(|p| p.2).sum::<i64>());
    assert_eq!(r["seconds"], between(&r["first_pick"], &r["last_pick"]));

    // Receiving: expected from the fixtures' ASN lines, received from the script.
    let expected: i64 = std::fs::read_to_string(common::fixtures().join("asns.csv"))
        .unwrap()
        .lines()
        .filter(|l| l.starts_with("ASN-1003,"))
        .map(|l| l.split(',').nth(3).unwrap().parse::<i64>().unwrap())
        .sum();
    let rows = json(&wh, "receiving");
    assert_eq!(rows.len(), 1, "{rows:?}");
    let r = &rows[0];
    assert_eq!(r["asn"], "ASN-1003");
    assert_eq!(r["expected"], expected);
    assert_eq!(r["received"], receipts.iter().map(|r| r.1).sum::<i64>());
    assert_eq!(
        (r["damaged"].as_i64(), r["receipts"].as_i64()),
        (Some(0), Some(3))
    );
    assert_eq!(r["seconds_to_close"], between(&r["opened"], &r["closed"]));

    // Exceptions: what `exceptions list` holds, by day and kind.
    let listed: Value = serde_json::from_str(&common::admin(
        &wh.db,
        &["exceptions", "list", "--tenant", "acme", "--all", "--json"],
    ))
    .unwrap();
    let mut want: BTreeMap<(String, String), i64> = BTreeMap::new();
    for e in listed.as_array().unwrap() {
        let day = e["raised_at"].as_str().unwrap()[..10].to_owned();
        *want
            .entry((day, e["kind"].as_str().unwrap().to_owned()))
            .or_default() += 1;
    }
    let got: BTreeMap<(String, String), i64> = json(&wh, "exceptions")
        .iter()
        .map(|r| {
            (
                (
                    r["day"].as_str().unwrap().to_owned(),
                    r["kind"].as_str().unwrap().to_owned(),
                ),
                r["raised"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(got, want);
    let kinds: BTreeSet<&str> = got.keys().map(|(_, k)| k.as_str()).collect();
    assert!(
        kinds.is_superset(&BTreeSet::from([
            "short_pick",
            "under_receipt",
            "count_difference"
        ])),
        "{kinds:?}"
    );

    // Accuracy from the two counts.
    let rows = json(&wh, "accuracy");
    assert_eq!(rows.len(), 1, "{rows:?}");
    let matched = counted.iter().filter(|(c, b)| c == b).count() as i64;
    assert_eq!(rows[0]["counts"], counted.len() as i64);
    assert_eq!(rows[0]["matched"], matched);
    assert_eq!(
        rows[0]["absolute_variance"],
        counted.iter().map(|(c, b)| (c - b).abs()).sum::<i64>()
    );
    assert_eq!(
        rows[0]["net_variance"],
        counted.iter().map(|(c, b)| c - b).sum::<i64>()
    );

    // Cycle time: the engine in `serve` takes SO-5004 to shipped.
    let rows = common::wait_for("SO-5004 shipped in the cycle-time report", || {
        let rows = json(&wh, "cycle-time");
        rows.iter()
            .any(|r| r["order"] == "SO-5004" && !r["shipped"].is_null())
            .then_some(rows)
    });
    let so5004 = rows.iter().find(|r| r["order"] == "SO-5004").unwrap();
    assert_eq!(
        so5004["seconds"],
        between(&so5004["started"], &so5004["shipped"])
    );
    let so5005 = rows.iter().find(|r| r["order"] == "SO-5005").unwrap();
    assert!(so5005["shipped"].is_null(), "{so5005}");
    let text = report(&wh, "cycle-time", "--csv");
    assert!(
        text.starts_with("warehouse,order,started,shipped,seconds\n"),
        "{text}"
    );

    // A window without the shift is empty; a bad date exits 3 naming the field.
    let out = common::admin(
        &wh.db,
        &[
            "report",
            "productivity",
            "--tenant",
            "acme",
            "--to",
            "2020-01-01",
            "--json",
        ],
    );
    assert_eq!(out.trim(), "[]");
    let bad = std::process::Command::new(common::server_bin())
        .args([
            "--db",
            &wh.db,
            "report",
            "accuracy",
            "--tenant",
            "acme",
            "--from",
            "yesterday",
        ])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(3));
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("--from"),
        "{bad:?}"
    );
}
