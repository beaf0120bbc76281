//! The scanner UI end to end: the real `pyck tui` in a real pseudo-terminal
//! (tmux, 40x16) against a real pyck-server. Keys go in with `send-keys`,
//! the screen comes back with `capture-pane`, polled until the expected
//! text shows (never a blind sleep).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::tmux::{Tmux, wait_for_file};
use common::{Device, PYCK, Server, Warehouse};

/// `sh -c` command running `pyck tui` for a device, writing its exit status.
fn tui_command(device: &Device, exit_file: &Path) -> String {
    format!(
        "PYCK_HOME='{}' PYCK_TODAY=2026-12-07 PYCK_TUI_SYNC_SECS=1 '{}' tui; echo EXIT=$? > '{}'",
        device.home.path().display(),
        PYCK,
        exit_file.display()
    )
}

#[test]
fn a_shift_on_the_scanner_ui_at_40x16() {
    let wh = Warehouse::new();
    let server = Server::start(&wh.db, None);
    let device = Device::new();
    device.ok(&["init", "--server", &server.url(), "--token", &wh.token()]);
    let exit_file = device.path("tui-exit");
    let sh = format!("sh -c \"{}\"", tui_command(&device, &exit_file));
    let tmux = Tmux::start(40, 16, &sh);

    // Nobody is logged in: badge, then PIN.
    tmux.wait_for(&["Log in", ">Badge"]);
    tmux.scan("2001");
    tmux.wait_for(&[">PIN"]);
    tmux.scan("1234");
    tmux.wait_for(&["1 Receive", "9 Sync", "op 2001"]);
    tmux.wait_for(&["ONLINE"]);

    // Receive a GS1-labelled case: the label fills item, lot and expiry.
    tmux.key("1");
    tmux.wait_for(&[">ASN"]);
    tmux.scan("ASN-1003");
    tmux.wait_for(&[">Item"]);
    tmux.scan("(01)05790000100484(17)270131(10)L2647E");
    tmux.wait_for(&[">Qty", "SKU-10048", "L2647E", "2027-01-31"]);
    tmux.scan("24");
    tmux.wait_for(&[">To"]);
    tmux.scan("DOCK-01");
    tmux.wait_for(&["recorded receive #1"]);

    // Move it to a chilled bin; a wrong code on the way is refused loudly.
    // (Escape from the next item goes back to the ASN, then to the menu.)
    tmux.key("Escape");
    tmux.wait_for(&[">ASN"]);
    tmux.key("Escape");
    tmux.wait_for(&["1 Receive"]);
    tmux.key("3");
    tmux.wait_for(&[">From"]);
    tmux.scan("NO-SUCH-BIN");
    tmux.wait_for(&["REFUSED", "unknown location NO-SUCH-BIN"]);
    tmux.key("Enter");
    tmux.wait_for(&[">From"]);
    tmux.scan("DOCK-01");
    tmux.wait_for(&[">Item"]);
    tmux.scan("(01)05790000100484(17)270131(10)L2647E");
    tmux.wait_for(&[">Qty"]);
    tmux.scan("24");
    tmux.wait_for(&[">To"]);
    tmux.scan("C-01-01");
    tmux.wait_for(&["recorded move #2"]);

    // Look up the bin with 5.
    tmux.key("Escape");
    tmux.wait_for(&["1 Receive"]);
    tmux.key("5");
    tmux.wait_for(&["Scan a bin"]);
    tmux.scan("C-01-01");
    let screen = tmux.wait_for(&["bin C-01-01", "SKU-10048", "L2647E"]);
    let row = screen
        .lines()
        .find(|l| l.contains("SKU-10048"))
        .unwrap_or_default();
    assert!(row.contains("24") && row.contains("2027-01-31"), "{row:?}");

    // The journal holds exactly the two operations (the refusal recorded
    // nothing).
    let journal = device.journal();
    assert_eq!(journal.len(), 2, "{journal:#?}");
    assert_eq!(journal[0]["kind"], "receive");
    assert_eq!(journal[0]["payload"]["asn"], "ASN-1003");
    assert_eq!(journal[0]["payload"]["sku"], "SKU-10048");
    assert_eq!(journal[0]["payload"]["lot"], "L2647E");
    assert_eq!(journal[0]["payload"]["expiry"], "2027-01-31");
    assert_eq!(journal[0]["payload"]["qty"], 24);
    assert_eq!(journal[0]["payload"]["to"], "DOCK-01");
    assert_eq!(journal[0]["operator"], "2001");
    assert_eq!(journal[1]["kind"], "move");
    assert_eq!(journal[1]["payload"]["from"], "DOCK-01");
    assert_eq!(journal[1]["payload"]["to"], "C-01-01");
    assert_eq!(journal[1]["payload"]["lot"], "L2647E");
    assert_eq!(journal[1]["payload"]["qty"], 24);

    // Too small, then back: no crash, the screen comes back.
    tmux.resize(20, 8);
    tmux.wait_for(&["too small"]);
    tmux.resize(40, 16);
    tmux.wait_for(&["Stock lookup", "SKU-10048"]);

    // The background sync pushes both (the status bar's count reaches 0).
    tmux.wait_for(&["ONLINE · 0 pending"]);
    let deadline = Instant::now() + Duration::from_secs(20);
    while device.journal().iter().any(|e| e["status"] != "synced") {
        assert!(Instant::now() < deadline, "the UI's sync never pushed");
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(wh.server_qty("C-01-01", "SKU-10048"), 24);

    // A scanner in paste mode: bracketed paste of a code and a line end.
    tmux.run(&["set-buffer", "A-01-02\n"]);
    tmux.run(&["paste-buffer", "-p", "-t", "pyck"]);
    tmux.wait_for(&["bin A-01-02", "SKU-10004"]);

    // The server goes away: the status bar says so within seconds, and the
    // UI keeps working offline.
    let started = Instant::now();
    server.kill();
    tmux.wait_for(&["OFFLINE"]);
    assert!(started.elapsed() < Duration::from_secs(10));
    tmux.key("Escape");
    tmux.wait_for(&["1 Receive"]);
    tmux.key("3");
    tmux.wait_for(&[">From"]);
    tmux.scan("C-01-01");
    tmux.scan("SKU-10048");
    tmux.scan("L2647E");
    tmux.scan("4");
    tmux.scan("C-01-02");
    tmux.wait_for(&["recorded move #3", "OFFLINE · 1 pending"]);
    tmux.key("Escape");

    // q on the main menu quits with 0.
    tmux.wait_for(&["1 Receive"]);
    tmux.key("q");
    assert_eq!(wait_for_file(&exit_file).trim(), "EXIT=0");
    drop(tmux);

    // Plain `pyck` on a terminal is the UI too (still offline, operator
    // still logged in).
    let exit_file = device.path("plain-exit");
    let sh = format!(
        "sh -c \"PYCK_HOME='{}' '{}'; echo EXIT=$? > '{}'\"",
        device.home.path().display(),
        PYCK,
        exit_file.display()
    );
    let tmux = Tmux::start(40, 16, &sh);
    tmux.wait_for(&["1 Receive", "OFFLINE", "1 pending", "op 2001"]);
    tmux.key("q");
    assert_eq!(wait_for_file(&exit_file).trim(), "EXIT=0");
}

#[test]
fn tui_on_an_uninitialised_device_exits_6_without_touching_the_terminal() {
    let device = Device::new();
    let out = device.run(&["tui"]);
    assert_eq!(out.status.code(), Some(6));
    assert!(String::from_utf8_lossy(&out.stderr).contains("pyck init"));
}

#[test]
fn plain_pyck_in_a_script_is_still_a_usage_error() {
    let device = Device::new();
    let out = device.run(&[]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn pyck_demo_on_a_terminal_opens_the_scanner_ui_on_the_demo_warehouse() {
    let dir = tempfile::tempdir().unwrap();
    let exit_file = dir.path().join("exit");
    let sh = format!(
        "sh -c \"'{}' demo --dir '{}'; echo EXIT=$? > '{}'\"",
        PYCK,
        dir.path().join("demo").display(),
        exit_file.display()
    );
    let tmux = Tmux::start(40, 16, &sh);
    tmux.wait_for(&["Log in", "demo badges", "ONLINE"]);
    tmux.scan("1007");
    tmux.scan("1234");
    tmux.wait_for(&["1 Receive", "op 1007"]);
    // The demo warehouse's pick tasks are there.
    tmux.key("4");
    tmux.wait_for(&["Go to", ">Bin"]);
    // Ctrl-C leaves from any screen.
    tmux.key("C-c");
    assert_eq!(wait_for_file(&exit_file).trim(), "EXIT=0");
}

/// Every kind of entry the UI records goes through the CLI's own checks and
/// lands in the journal as the command would record it.
#[test]
fn every_entry_records_through_the_commands_checks() {
    use pyck::commands::Ctx;
    use pyck::config::Paths;
    use pyck::tui::app::Entry;
    use pyck::tui::event_loop::record_entry;
    use pyck_vocab::operation::Kind;

    let wh = Warehouse::new();
    let server = Server::start(&wh.db, None);
    let device = Device::new();
    device.enrol(&server.url(), &wh.token(), "3001");
    let ctx = Ctx {
        paths: Paths {
            config_dir: device.home.path().to_owned(),
            data_dir: device.home.path().to_owned(),
        },
    };
    let mut store = ctx.store().unwrap();
    // Without a terminal, `pyck tui` is a usage error, not a garbled screen.
    let out = device.run(&["tui"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("needs a terminal"));
    let picks = device.json(&["pick", "list"]);
    let picks = picks.as_array().unwrap();
    let (first, second) = (&picks[0], &picks[1]);
    let order = first["order"].as_str().unwrap().to_owned();
    assert!(
        picks.iter().skip(2).any(|p| p["order"] == order.as_str()),
        "{order} needs an open pick left for the pack refusal"
    );

    let entries = [
        Entry::Pick {
            task: first["task"].as_str().unwrap().into(),
            qty: first["qty"].as_i64().unwrap(),
            lot: None,
            short: None,
        },
        Entry::Pick {
            task: second["task"].as_str().unwrap().into(),
            qty: 0,
            lot: None,
            short: Some("not found at location".into()),
        },
        Entry::Count {
            location: "A-01-02".into(),
            sku: "SKU-10004".into(),
            lot: None,
            qty: "11".into(),
            task: None,
        },
    ];
    for entry in &entries {
        let done = record_entry(&mut store, entry).unwrap();
        assert!(done.starts_with("recorded"), "{done}");
    }
    // The CLI's checks refuse what they refuse for the UI too, and nothing
    // is recorded.
    let refused = [
        Entry::Move {
            sku: "SKU-10001".into(),
            lot: None,
            qty: "1".into(),
            from: "A-01-01".into(),
            to: "NOWHERE".into(),
            task: None,
        },
        Entry::Pick {
            task: first["task"].as_str().unwrap().into(),
            qty: 1,
            lot: None,
            short: None,
        },
        Entry::Order {
            kind: Kind::Ship,
            order: "SO-0000".into(),
        },
        // Picks of the order are still open: packing it is refused.
        Entry::Order {
            kind: Kind::Pack,
            order: order.clone(),
        },
        Entry::Resolve {
            id: "no-such-exception".into(),
            note: "x".into(),
        },
    ];
    for entry in &refused {
        let err = record_entry(&mut store, entry).unwrap_err();
        assert_eq!(pyck::error::exit_code(&err), 3, "{err:#}");
    }
    let journal = device.journal();
    let kinds: Vec<&str> = journal
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["pick", "short_pick", "count"]);
    assert_eq!(journal[1]["payload"]["reason"], "not found at location");
    assert_eq!(journal[2]["payload"]["qty"], 11);

    // The short pick becomes an exception on the server; resolved from the
    // UI's entry, as `pyck exceptions resolve` would.
    device.ok(&["sync"]);
    let exceptions = device.json(&["exceptions"]);
    let id = exceptions
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "short_pick")
        .unwrap_or_else(|| panic!("no short pick exception in {exceptions}"))["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let done = record_entry(
        &mut store,
        &Entry::Resolve {
            id: id.clone(),
            note: "bin was empty, recounted".into(),
        },
    )
    .unwrap();
    assert!(done.starts_with("recorded resolve_exception"), "{done}");
    // A picker may not: the same role check as the CLI.
    device.ok(&["login", "--badge", "1007", "--pin", "1234"]);
    let err = record_entry(
        &mut store,
        &Entry::Resolve {
            id,
            note: "again".into(),
        },
    )
    .unwrap_err();
    assert_eq!(pyck::error::exit_code(&err), 5, "{err:#}");
}

/// With the interval sync an hour away, a move another device pushes still
/// reaches this device's local view without a key press: the server's live
/// events nudge the UI to pull.
#[test]
fn a_move_pushed_by_another_device_arrives_on_a_nudge() {
    let wh = Warehouse::new();
    let server = Server::start(&wh.db, None);
    let ui = Device::new();
    ui.enrol(&server.url(), &wh.token(), "1007");
    let other = Device::new();
    other.enrol(&server.url(), &wh.token(), "1007");
    let exit_file = ui.path("tui-exit");
    let command = format!(
        "sh -c \"PYCK_HOME='{}' PYCK_TODAY=2026-12-07 PYCK_TUI_SYNC_SECS=3600 '{}' tui; echo EXIT=$? > '{}'\"",
        ui.home.path().display(),
        PYCK,
        exit_file.display()
    );
    let tmux = Tmux::start(40, 16, &command);
    tmux.wait_for(&["5 Stock lookup"]);
    let before = ui.qty("A-01-03", "SKU-10001");

    // The UI's subscription may still be connecting when the first move is
    // pushed; each further move is another chance, and none is a key press.
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut moved = 0;
    while ui.qty("A-01-03", "SKU-10001") == before {
        assert!(Instant::now() < deadline, "no nudge reached the UI");
        other.move_one();
        other.ok(&["sync"]);
        moved += 1;
        let wait = Instant::now() + Duration::from_secs(2);
        while Instant::now() < wait && ui.qty("A-01-03", "SKU-10001") == before {
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    let seen = ui.qty("A-01-03", "SKU-10001") - before;
    assert!((1..=moved).contains(&seen), "{seen} of {moved} moves seen");
    tmux.key("q");
    assert_eq!(wait_for_file(&exit_file).trim(), "EXIT=0");
}
