//! Every terminal command under every role, and the terminal under tokens
//! that are not (or no longer) good: what the docs allow runs, the rest is
//! refused with exit 5 before anything is recorded; the server agrees with
//! everything the terminal let through.

#![allow(clippy::unwrap_used)]

use crate::common;

use common::{Device, Server, Warehouse, admin};

/// The admin's index in [`BADGES`].
const ADMIN: usize = 3;
const BADGES: [&str; 4] = ["1007", "2001", "3001", "4001"];

/// Two `negative_stock` exceptions on the server, pulled by `device`.
fn two_exceptions(wh: &Warehouse, server: &Server, device: &Device) -> Vec<String> {
    let other = Device::new();
    other.enrol(&server.url(), &wh.token_named("other"), "1007");
    for (sku, from) in [("SKU-10001", "A-01-02"), ("SKU-10002", "A-01-05")] {
        other.ok(&[
            "move", "--sku", sku, "--qty", "5000", "--from", from, "--to", "A-01-03",
        ]);
    }
    other.ok(&["sync"]);
    device.ok(&["sync"]);
    let list = device.json(&["exceptions"]);
    let ids: Vec<String> = list
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "negative_stock")
        .map(|e| e["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids.len(), 2, "{list}");
    ids
}

#[test]
fn every_command_under_every_role() {
    let wh = Warehouse::new();
    admin(
        &wh.db,
        &[
            "user", "create", "--tenant", "acme", "--badge", "4001", "--pin", "1234", "--role",
            "admin",
        ],
    );
    let server = Server::start(&wh.db, None);
    let device = Device::new();
    device.enrol(&server.url(), &wh.token(), "1007");
    let exceptions = two_exceptions(&wh, &server, &device);
    let photo = device.path("damage.jpg");
    std::fs::write(&photo, common::photos::jpeg(1_000, 1)).unwrap();
    // One order per role that may be packed and shipped as far as the
    // order's state goes (its picks short-picked here first), and one ASN
    // per role still open: then only the role decides each outcome.
    const READY: [&str; 4] = ["SO-5004", "SO-5008", "SO-5003", "SO-5006"];
    const ASNS: [&str; 4] = ["ASN-1001", "ASN-1002", "ASN-1003", "ASN-1004"];
    let open: Vec<(String, String)> = device
        .json(&["pick", "list"])
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["status"] == "open")
        .map(|t| {
            let field = |k: &str| t[k].as_str().unwrap().to_owned();
            (field("task"), field("order"))
        })
        .collect();
    device.ok(&["login", "--badge", "1007", "--pin", "1234"]);
    for (task, _) in open.iter().filter(|(_, o)| READY.contains(&o.as_str())) {
        device.ok(&[
            "pick", "confirm", "--task", task, "--qty", "0", "--short", "setup",
        ]);
    }
    let tasks: Vec<String> = open
        .into_iter()
        .filter(|(_, o)| !READY.contains(&o.as_str()))
        .map(|(t, _)| t)
        .collect();
    assert!(tasks.len() >= 8, "too few open pick tasks: {tasks:?}");

    let mut checked = 0;
    for (r, badge) in BADGES.iter().enumerate() {
        device.ok(&["login", "--badge", badge, "--pin", "1234"]);
        let (pick, short) = (&tasks[2 * r], &tasks[2 * r + 1]);
        let resolve = match r {
            ADMIN => &exceptions[1],
            _ => &exceptions[0],
        };
        let photo = photo.to_str().unwrap();
        let all = [true; 4];
        let pickers = [true, false, true, true];
        let receivers = [false, true, true, true];
        let supervisors = [false, false, true, true];
        // command, may [picker, receiver, supervisor, admin]
        let recording: Vec<(Vec<&str>, [bool; 4])> = vec![
            (
                vec![
                    "receive",
                    "--asn",
                    ASNS[r],
                    "--sku",
                    "SKU-10001",
                    "--qty",
                    "1",
                    "--to",
                    "DOCK-01",
                ],
                receivers,
            ),
            (vec!["receive", "close", "--asn", ASNS[r]], receivers),
            (
                vec![
                    "move",
                    "--sku",
                    "SKU-10004",
                    "--qty",
                    "1",
                    "--from",
                    "A-01-02",
                    "--to",
                    "A-01-03",
                ],
                all,
            ),
            (
                vec!["pick", "confirm", "--task", pick, "--qty", "1"],
                pickers,
            ),
            (
                vec![
                    "pick",
                    "confirm",
                    "--task",
                    short,
                    "--qty",
                    "0",
                    "--short",
                    "bin empty",
                ],
                pickers,
            ),
            (
                vec![
                    "count",
                    "--location",
                    "A-01-04",
                    "--sku",
                    "SKU-10002",
                    "--qty",
                    "72",
                ],
                all,
            ),
            (
                vec![
                    "adjust",
                    "--location",
                    "A-01-04",
                    "--sku",
                    "SKU-10002",
                    "--qty",
                    "72",
                    "--reason",
                    "audit",
                ],
                supervisors,
            ),
            (vec!["pack", "--order", READY[r]], pickers),
            (vec!["ship", "--order", READY[r]], pickers),
            (
                vec!["exceptions", "resolve", resolve, "--note", "seen"],
                supervisors,
            ),
            (
                vec!["exceptions", "attach", &exceptions[0], photo],
                receivers,
            ),
        ];
        for (args, may) in &recording {
            let before = device.journal().len();
            let out = device.run(args);
            let err = String::from_utf8_lossy(&out.stderr);
            if may[r] {
                assert_eq!(out.status.code(), Some(0), "{badge} {args:?}: {err}");
            } else {
                assert_eq!(out.status.code(), Some(5), "{badge} {args:?}: {err}");
                assert!(err.contains("may not"), "{badge} {args:?}: {err}");
                assert_eq!(device.journal().len(), before, "{badge} {args:?} recorded");
            }
            checked += 1;
        }
        // The floor dashboard: supervisors and admins only (without a
        // terminal an allowed one stops at "needs a terminal", exit 2).
        let out = device.run(&["floor"]);
        let expected = if supervisors[r] { 2 } else { 5 };
        assert_eq!(out.status.code(), Some(expected), "{badge} floor: {out:?}");
        checked += 1;
        // Reading is everyone's.
        for args in [
            &["whoami"][..],
            &["status"],
            &["journal"],
            &["stock", "--location", "A-01-03"],
            &["pick", "list"],
            &["putaway", "list"],
            &["count", "list"],
            &["exceptions"],
            &["exceptions", "show", &exceptions[0]],
            &["scan", "A-01-02"],
        ] {
            device.ok(args);
            checked += 1;
        }
    }

    // The server takes everything the terminal let through: nothing comes
    // back forbidden, and the books still balance.
    device.ok(&["sync"]);
    let journal = device.journal();
    assert!(
        journal
            .iter()
            .all(|e| e["refusal"]["code"] != "forbidden" && e["status"] != "pending"),
        "{journal:?}"
    );
    assert!(wh.verify().status.success());
    eprintln!("{checked} role/command combinations checked");
}

#[test]
fn a_revoked_or_foreign_token_gets_nothing() {
    let wh = Warehouse::new();
    let server = Server::start(&wh.db, None);
    let token = wh.token();
    let device = Device::new();
    device.enrol(&server.url(), &token, "1007");
    device.ok(&[
        "move",
        "--sku",
        "SKU-10004",
        "--qty",
        "1",
        "--from",
        "A-01-02",
        "--to",
        "A-01-03",
    ]);
    admin(&wh.db, &["device-token", "revoke", &token]);

    // Revoked: sync, feed and a new init are refused (exit 5); what was
    // recorded stays pending, and recording offline still works.
    for args in [&["sync"][..], &["feed"]] {
        let out = device.run(args);
        assert_eq!(out.status.code(), Some(5), "{args:?}: {out:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("revoked"), "{args:?}: {err}");
    }
    assert_eq!(device.json(&["status"])["pending"], 1);
    let fresh = Device::new();
    let out = fresh.run(&["init", "--server", &server.url(), "--token", &token]);
    assert_eq!(out.status.code(), Some(5), "{out:?}");

    // Another tenant's device sees its own tenant only: none of acme's
    // operators (acme's badges do not log in there), none of acme's stock.
    let globex = wh.other_tenant("globex");
    let theirs = Device::new();
    theirs.ok(&["init", "--server", &server.url(), "--token", &globex]);
    let out = theirs.run(&["login", "--badge", "1007", "--pin", "1234"]);
    assert_eq!(out.status.code(), Some(3), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("not known"),
        "{out:?}"
    );
    let acme = Device::new();
    acme.enrol(&server.url(), &wh.token_named("second"), "1007");
    acme.ok(&[
        "move",
        "--sku",
        "SKU-10001",
        "--qty",
        "7",
        "--from",
        "A-07-11",
        "--to",
        "A-01-03",
    ]);
    acme.ok(&["sync"]);
    theirs.ok(&["sync"]);
    assert_eq!(acme.qty("A-01-03", "SKU-10001"), 7);
    assert_eq!(theirs.qty("A-01-03", "SKU-10001"), 0);
}
