//! Scanners as they really send a GS1 code: the separator (FNC1) as the
//! byte 0x1D in keyboard mode, or as a substitute text the site configured
//! (`pyck init --gs-substitute`). The scanner UI is driven in a real
//! pseudo-terminal (tmux) with the real bytes; `pyck scan` reads the same
//! codes the same way, and explains them to people without `--json`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use common::tmux::{Tmux, wait_for_file};
use common::{Device, PYCK, Server, Warehouse};

/// SKU-10009 (GTIN 05790000100095, lot-tracked) has lot L2644H in stock at
/// A-01-07 and elsewhere (fixtures/stock.csv). The lot is a variable-length
/// field, so the expiry after it is only read as an expiry if the
/// separator arrives: without it the lot would be `L2644H17280115`.
const BEFORE_GS: &str = "]C1010579000010009510L2644H";
const AFTER_GS: &str = "17280115";

/// The UI in tmux (80 columns, so the lookup's heading fits), logged in,
/// on the stock lookup screen.
fn lookup_screen(device: &Device) -> (Tmux, std::path::PathBuf) {
    let exit_file = device.path("tui-exit");
    let sh = format!(
        "sh -c \"PYCK_HOME='{}' '{}' tui; echo EXIT=$? > '{}'\"",
        device.home.path().display(),
        PYCK,
        exit_file.display()
    );
    let tmux = Tmux::start(80, 24, &sh);
    tmux.wait_for(&["Log in", ">Badge"]);
    tmux.scan("2001");
    tmux.wait_for(&[">PIN"]);
    tmux.scan("1234");
    tmux.wait_for(&["5 Stock lookup"]);
    tmux.key("5");
    tmux.wait_for(&["Scan a bin"]);
    (tmux, exit_file)
}

/// The lookup found the lot the label names, at its bins, and not a lot
/// with the expiry glued on.
fn assert_found_lot_l2644h(tmux: &Tmux) {
    let screen = tmux.wait_for(&["SKU-10009 lot L2644H", "A-01-07"]);
    assert!(!screen.contains("L2644H1728"), "{screen}");
    assert!(!screen.contains("REFUSED"), "{screen}");
}

fn quit(tmux: &Tmux, exit_file: &std::path::Path) {
    tmux.key("Escape");
    tmux.wait_for(&["1 Receive"]);
    tmux.key("q");
    assert_eq!(wait_for_file(exit_file).trim(), "EXIT=0");
}

fn hex(bytes: &[u8]) -> Vec<String> {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A keyboard-mode scanner: the scan is one burst of bytes, GS as the raw
/// byte 0x1D (which crossterm reads as Ctrl+'5') and a CR for Enter, sent
/// to the terminal exactly so with `send-keys -H`.
#[test]
fn the_gs_byte_of_a_keyboard_mode_scanner_ends_the_lot() {
    let wh = Warehouse::new();
    let server = Server::start(&wh.db, None);
    let device = Device::new();
    device.ok(&["init", "--server", &server.url(), "--token", &wh.token()]);
    let (tmux, exit_file) = lookup_screen(&device);

    let mut burst = BEFORE_GS.as_bytes().to_vec();
    burst.push(0x1d);
    burst.extend_from_slice(AFTER_GS.as_bytes());
    burst.push(b'\r');
    let mut args = vec![
        "send-keys".to_owned(),
        "-t".into(),
        "pyck".into(),
        "-H".into(),
    ];
    args.extend(hex(&burst));
    tmux.run(&args.iter().map(String::as_str).collect::<Vec<_>>());
    assert_found_lot_l2644h(&tmux);

    // The same byte as a scanner in paste mode sends it (bracketed paste).
    tmux.run(&["set-buffer", "A-01-07\n"]);
    tmux.run(&["paste-buffer", "-p", "-t", "pyck"]);
    tmux.wait_for(&["bin A-01-07"]);
    tmux.run(&["set-buffer", &format!("{BEFORE_GS}\u{1d}{AFTER_GS}\n")]);
    tmux.run(&["paste-buffer", "-p", "-t", "pyck"]);
    assert_found_lot_l2644h(&tmux);
    quit(&tmux, &exit_file);
}

/// A scanner set up to send `~` for FNC1, on a terminal told so at init:
/// the UI reads `~` as GS in a GS1 scan, and `pyck scan` does the same.
#[test]
fn a_configured_substitute_ends_the_lot_in_the_ui_and_in_pyck_scan() {
    let wh = Warehouse::new();
    let server = Server::start(&wh.db, None);
    let device = Device::new();
    // An unusable substitute is a usage error, and nothing is registered.
    let bad = device.run(&[
        "init",
        "--server",
        &server.url(),
        "--token",
        &wh.token(),
        "--gs-substitute",
        "7",
    ]);
    assert_eq!(bad.status.code(), Some(2), "{bad:?}");
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--gs-substitute"));
    let init = device.json(&[
        "init",
        "--server",
        &server.url(),
        "--token",
        &wh.token(),
        "--gs-substitute",
        "~",
    ]);
    assert_eq!(init["gs_substitute"], "~");
    let scan = format!("{BEFORE_GS}~{AFTER_GS}");

    let (tmux, exit_file) = lookup_screen(&device);
    tmux.scan(&scan);
    assert_found_lot_l2644h(&tmux);
    quit(&tmux, &exit_file);

    let read = device.json(&["scan", &scan]);
    assert_eq!(read["lot"], "L2644H", "{read}");
    assert_eq!(read["expiry"], "2028-01-15", "{read}");

    // Registering again without the flag keeps the site's setting; an
    // empty value removes it, and `~` is then data (and no valid lot).
    device.ok(&["init", "--server", &server.url(), "--token", &wh.token()]);
    assert_eq!(device.json(&["scan", &scan])["lot"], "L2644H");
    device.ok(&[
        "init",
        "--server",
        &server.url(),
        "--token",
        &wh.token(),
        "--gs-substitute",
        "",
    ]);
    let out = device.run(&["scan", &scan]);
    assert_eq!(out.status.code(), Some(3), "{out:?}");
}

/// `pyck scan` speaks to people without `--json`, one fact a line, and
/// prints the JSON document with it.
#[test]
fn pyck_scan_explains_a_code_in_text_and_in_json() {
    let wh = Warehouse::new();
    let server = Server::start(&wh.db, None);
    let device = Device::new();
    device.ok(&["init", "--server", &server.url(), "--token", &wh.token()]);

    let bin = device.ok(&["scan", "A-01-07"]);
    assert!(bin.starts_with("location A-01-07 (zone "), "{bin}");
    assert!(bin.contains("ambient)"), "{bin}");
    let item = device.ok(&["scan", "5790000100095"]);
    assert_eq!(
        item,
        "item SKU-10009 Tuna Chunks in Water 185g Can\nGTIN 5790000100095\n"
    );

    // The keyboard scanner's GS byte given on the command line.
    let code = format!("{BEFORE_GS}\u{1d}{AFTER_GS}");
    let text = device.ok(&["scan", &code]);
    assert_eq!(
        text,
        "item SKU-10009 Tuna Chunks in Water 185g Can\n\
         (01) GTIN 05790000100095\n\
         (10) BATCH/LOT L2644H\n\
         (17) USE BY or EXPIRY 280115 = 2028-01-15\n",
    );
    assert!(!text.contains('{'), "{text}");
    let json = device.json(&["scan", &code]);
    assert_eq!(json["type"], "gs1");
    assert_eq!(json["sku"], "SKU-10009");
    assert_eq!(json["lot"], "L2644H");
    assert_eq!(json["expiry"], "2028-01-15");
    assert_eq!(json["elements"][1]["value"], "L2644H");
    assert_eq!(device.json(&["scan", "A-01-07"])["type"], "location");
}

/// A scanner set up without symbology identifiers sends a GS1-128 label of
/// fixed-length fields with nothing to mark it as GS1: a bare element
/// string. The UI, `pyck scan` and a recording command read it, as they do
/// a weighed case (net weight, AI 3103), while a bin code stays a bin.
#[test]
fn a_bare_element_string_and_a_weighed_case_are_read_everywhere() {
    // GTIN, expiry, then the lot last: no separator needed.
    const BARE: &str = "01057900001000951728011510L2644H";
    // The same case weighed: 1.234 kg net, then the lot.
    const WEIGHED: &str = "0105790000100095310300123410L2644H";
    let wh = Warehouse::new();
    let server = Server::start(&wh.db, None);
    let device = Device::new();
    device.ok(&["init", "--server", &server.url(), "--token", &wh.token()]);

    let (tmux, exit_file) = lookup_screen(&device);
    tmux.scan(BARE);
    assert_found_lot_l2644h(&tmux);
    tmux.scan("A-01-07");
    tmux.wait_for(&["bin A-01-07"]);
    tmux.scan(WEIGHED);
    assert_found_lot_l2644h(&tmux);
    quit(&tmux, &exit_file);

    let bare = device.json(&["scan", BARE]);
    assert_eq!(bare["type"], "gs1", "{bare}");
    assert_eq!(bare["sku"], "SKU-10009");
    assert_eq!(bare["lot"], "L2644H");
    assert_eq!(bare["expiry"], "2028-01-15");
    let weighed = device.json(&["scan", WEIGHED]);
    assert_eq!(weighed["elements"][1]["ai"], "3103", "{weighed}");
    assert_eq!(weighed["elements"][1]["decimal"], "1.234", "{weighed}");
    let text = device.ok(&["scan", WEIGHED]);
    assert!(
        text.contains("(3103) NET WEIGHT (kg) 001234 = 1.234"),
        "{text}"
    );
    // A code that is no valid element string is not taken for one.
    let not_gs1 = device.run(&["scan", "10L2644H"]);
    assert_eq!(not_gs1.status.code(), Some(3), "{not_gs1:?}");
    assert!(
        String::from_utf8_lossy(&not_gs1.stderr).contains("is no location, SKU, GTIN or GS1 code")
    );

    // The label scanned into --sku of a move names the item and its lot; a
    // --lot that contradicts the label is refused, naming both.
    device.ok(&["login", "--badge", "2001", "--pin", "1234"]);
    let wrong = device.run(&[
        "move", "--sku", BARE, "--lot", "L9999X", "--qty", "2", "--from", "A-01-07", "--to",
        "A-01-01",
    ]);
    assert_eq!(wrong.status.code(), Some(3), "{wrong:?}");
    assert!(
        String::from_utf8_lossy(&wrong.stderr)
            .contains("the label given as the SKU says lot L2644H")
    );
    device.ok(&[
        "move", "--sku", BARE, "--qty", "2", "--from", "A-01-07", "--to", "A-01-01",
    ]);
    let moved = device.json(&["stock", "--location", "A-01-01", "--sku", "SKU-10009"]);
    assert_eq!(moved[0]["lot"], "L2644H", "{moved}");
    assert_eq!(moved[0]["qty"], 2, "{moved}");
}

/// A label's count (30) or, for an item stocked by weight, its weight is
/// the quantity of a recording command that is given none, as in the
/// scanner UI: from flags and from a file (CRLF lines, the GS byte inside
/// the field). A quantity that contradicts the label is refused, naming
/// both, and nothing is recorded.
#[test]
fn a_labels_count_or_weight_is_the_quantity_of_a_recording_command() {
    // SKU-10009 (lot-tracked, EA), 24 cans: a bare element string, the
    // variable-length count last. The lot comes with --lot.
    const COUNT: &str = "01057900001000953024";
    // SKU-90001, stocked in KG: a weighed case of 12.00 kg net.
    const WEIGHED: &str = "01057900001999903102001200";
    let wh = Warehouse::new();
    let extra = tempfile::tempdir().unwrap();
    std::fs::write(
        extra.path().join("items.csv"),
        "sku,gtin,description,uom,lot_tracked,expiry_tracked,temperature\n\
         SKU-90001,5790000199990,Cheese wheel by weight,KG,false,false,ambient\n",
    )
    .unwrap();
    std::fs::write(
        extra.path().join("asns.csv"),
        "asn,line,sku,expected_qty,supplier\nASN-9001,1,SKU-90001,100,Ost AS\n",
    )
    .unwrap();
    common::admin(
        &wh.db,
        &[
            "import",
            "--tenant",
            "acme",
            "--warehouse",
            "DC1",
            extra.path().to_str().unwrap(),
        ],
    );
    let server = Server::start(&wh.db, None);
    let device = Device::new();
    device.ok(&["init", "--server", &server.url(), "--token", &wh.token()]);
    device.ok(&["login", "--badge", "2001", "--pin", "1234"]);
    let journal = |device: &Device| device.json(&["journal"]).as_array().unwrap().clone();

    device.ok(&[
        "receive", "--asn", "ASN-1001", "--sku", COUNT, "--lot", "L2644H", "--to", "DOCK-01",
    ]);
    device.ok(&[
        "receive", "--asn", "ASN-9001", "--sku", WEIGHED, "--to", "DOCK-01",
    ]);
    let recorded = journal(&device);
    let qtys: Vec<_> = recorded
        .iter()
        .map(|e| e["payload"]["qty"].clone())
        .collect();
    assert_eq!(qtys, [24, 12], "{recorded:?}");

    // A --qty that contradicts the label: exit 3, both named, nothing recorded.
    let wrong = device.run(&[
        "receive", "--asn", "ASN-1001", "--sku", COUNT, "--lot", "L2644H", "--qty", "5", "--to",
        "DOCK-01",
    ]);
    assert_eq!(wrong.status.code(), Some(3), "{wrong:?}");
    let stderr = String::from_utf8_lossy(&wrong.stderr);
    assert!(
        stderr.contains("--qty: 5, but the label given as the SKU says 24 EA"),
        "{stderr}"
    );
    let wrong = device.run(&[
        "move", "--sku", WEIGHED, "--qty", "13", "--from", "DOCK-01", "--to", "A-01-01",
    ]);
    assert_eq!(wrong.status.code(), Some(3), "{wrong:?}");
    assert!(
        String::from_utf8_lossy(&wrong.stderr)
            .contains("13, but the label given as the SKU says 12 KG")
    );
    // The same quantity as the label's is fine; none at all without one on
    // the label is the old error, saying why.
    let none = device.run(&[
        "move",
        "--sku",
        "SKU-10009",
        "--lot",
        "L2644H",
        "--from",
        "A-01-07",
        "--to",
        "A-01-01",
    ]);
    assert_eq!(none.status.code(), Some(3), "{none:?}");
    assert!(String::from_utf8_lossy(&none.stderr).contains("--qty: give the quantity"));
    let unlabelled = device.run(&[
        "move",
        "--sku",
        "0105790000100095",
        "--lot",
        "L2644H",
        "--from",
        "A-01-07",
        "--to",
        "A-01-01",
    ]);
    assert_eq!(unlabelled.status.code(), Some(3), "{unlabelled:?}");
    assert!(
        String::from_utf8_lossy(&unlabelled.stderr)
            .contains("carries no count (30)/(37) or weight")
    );
    assert_eq!(journal(&device).len(), 2);

    // A file: CRLF line ends, the label with its GS byte in the sku field
    // (the lot first, so the GS ends it), no qty.
    let file = device.home.path().join("receipts.csv");
    std::fs::write(
        &file,
        "asn,sku,qty,lot,expiry,to\r\n\
         ASN-1001,010579000010009510L2644H\u{1d}3024,,,,DOCK-01\r\n\
         ASN-9001,01057900001999903102001200,12,,,DOCK-01\r\n",
    )
    .unwrap();
    let rows = device.json(&["receive", "--file", file.to_str().unwrap()]);
    assert_eq!(rows.as_array().unwrap().len(), 2, "{rows}");
    let recorded = journal(&device);
    let last: Vec<_> = recorded[2..]
        .iter()
        .map(|e| {
            (
                e["payload"]["sku"].clone(),
                e["payload"]["qty"].clone(),
                e["payload"]["lot"].clone(),
            )
        })
        .collect();
    assert_eq!(
        last,
        [
            ("SKU-10009".into(), 24.into(), "L2644H".into()),
            ("SKU-90001".into(), 12.into(), serde_json::Value::Null),
        ],
        "{recorded:?}"
    );
    // A contradicting row refuses the whole file, naming line and field.
    std::fs::write(
        &file,
        "asn,sku,qty,lot,expiry,to\r\nASN-1001,010579000010009510L2644H\u{1d}3024,25,,,DOCK-02\r\n",
    )
    .unwrap();
    let refused = device.run(&["receive", "--file", file.to_str().unwrap()]);
    assert_eq!(refused.status.code(), Some(3), "{refused:?}");
    assert!(
        String::from_utf8_lossy(&refused.stderr)
            .contains("line 2: qty: 25, but the label given as the SKU says 24 EA")
    );
    assert_eq!(journal(&device).len(), 4);
}
