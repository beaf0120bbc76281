//! The scripting surface: exit codes, bad input refused as a whole, JSON
//! shapes, stdin, completions and the man page.

#![allow(clippy::unwrap_used)]

use crate::common;

use common::{Device, Server, Warehouse};

fn ready() -> (Warehouse, Server, Device) {
    let wh = Warehouse::new();
    let server = Server::start(&wh.db, None);
    let device = Device::new();
    device.enrol(&server.url(), &wh.token(), "2001");
    (wh, server, device)
}

#[test]
fn a_malformed_row_names_line_and_field_exits_3_and_records_nothing() {
    let (_wh, _server, device) = ready();
    let cases = [
        (
            "sku,lot,qty,from,to\nSKU-10001,,2,A-07-11,A-01-03\nSKU-10001,,two,A-07-11,A-01-03\n",
            "line 3: qty: expected a whole number",
        ),
        (
            "sku,lot,qty,from,to\nSKU-10001,,2,A-07-11,A-01-03\nSKU-10001,,0,A-07-11,A-01-03\n",
            "line 3: qty: must be a whole number of at least 1",
        ),
        (
            "sku,lot,qty,from,to\nSKU-10001,,2,A-07-11,NOWHERE\n",
            "line 2: to: location NOWHERE is not known",
        ),
        (
            "sku,lot,qty,from,to\nSKU-99999,,2,A-07-11,A-01-03\n",
            "line 2: sku: no item with SKU or GTIN SKU-99999",
        ),
        (
            "sku,lot,qty,from,to\nSKU-10048,,2,C-01-01,C-01-02\n",
            "line 2: lot: SKU-10048 is lot-tracked",
        ),
        (
            "sku,lot,qty,from,to\nSKU-10001,L9,2,A-07-11,A-01-03\n",
            "line 2: lot: SKU-10001 is not lot-tracked: leave the lot empty",
        ),
        (
            "sku,lot,qty,from,to,colour\nSKU-10001,,2,A-07-11,A-01-03,red\n",
            "line 1: colour: unknown column; expected sku,qty,from,to",
        ),
        (
            "{\"sku\":\"SKU-10001\",\"qty\":2,\"from\":\"A-07-11\",\"to\":\"A-01-03\"}\n{\"sku\":\"SKU-10001\",\"qty\":-1,\"from\":\"A-07-11\",\"to\":\"A-01-03\"}\n",
            "line 2: qty",
        ),
    ];
    for (i, (content, expected)) in cases.iter().enumerate() {
        let ext = if content.starts_with('{') {
            "jsonl"
        } else {
            "csv"
        };
        let file = device.path(&format!("bad-{i}.{ext}"));
        std::fs::write(&file, content).unwrap();
        let out = device.run(&["move", "--file", file.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(3), "case {i}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(expected), "case {i}: {stderr}");
    }
    let bad_date = device.path("bad-date.csv");
    std::fs::write(
        &bad_date,
        "asn,sku,qty,lot,expiry,to\nASN-1003,SKU-10048,5,LNEW,2027-02-30,DOCK-01\n",
    )
    .unwrap();
    let out = device.run(&["receive", "--file", bad_date.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stderr).contains("line 2: expiry: expected a real date"));
    let missing = device.run(&[
        "receive",
        "--asn",
        "ASN-1003",
        "--sku",
        "SKU-10048",
        "--qty",
        "5",
        "--lot",
        "LNEW",
        "--to",
        "DOCK-01",
    ]);
    assert_eq!(missing.status.code(), Some(3));
    assert!(
        String::from_utf8_lossy(&missing.stderr).contains("--expiry: SKU-10048 is expiry-tracked")
    );
    assert!(device.journal().is_empty(), "nothing was recorded");
}

/// Runs `pyck move --file` on `content` saved as `name`, with `--json`;
/// the rows' statuses.
fn move_file(device: &Device, name: &str, content: &str) -> Vec<String> {
    let file = device.path(name);
    std::fs::write(&file, content).unwrap();
    let rows = device.json(&["move", "--file", file.to_str().unwrap()]);
    rows.as_array()
        .unwrap()
        .iter()
        .map(|r| r["status"].as_str().unwrap().to_owned())
        .collect()
}

/// A refused file run: its exit code, its stderr and, with `--json`, the
/// JSON document on stdout.
fn refused(device: &Device, args: &[&str]) -> (Option<i32>, String, serde_json::Value) {
    let out = device.run(args);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let stdout = if args.contains(&"--json") {
        serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {:?}", out.stdout))
    } else {
        assert!(out.stdout.is_empty(), "{:?}", out.stdout);
        serde_json::Value::Null
    };
    (out.status.code(), stderr, stdout)
}

/// A daily script writes a new file each day: Tuesday's line 3 equals
/// Monday's, and is recorded all the same. The same rows run again, saved
/// with CRLF or LF, record nothing.
#[test]
fn files_never_shadow_each_other_and_the_same_file_records_nothing_again() {
    let (_wh, _server, device) = ready();
    let header = "sku,lot,qty,from,to\n";
    let same_line_3 = "SKU-10001,,2,A-07-11,A-01-03\n";
    let monday = format!("{header}SKU-10001,,1,A-07-11,A-01-03\n{same_line_3}");
    let tuesday = format!("{header}SKU-10001,,3,A-07-11,A-01-03\n{same_line_3}");
    assert_eq!(move_file(&device, "monday.csv", &monday), ["recorded"; 2]);
    assert_eq!(move_file(&device, "tuesday.csv", &tuesday), ["recorded"; 2]);
    assert_eq!(device.journal().len(), 4);

    assert_eq!(
        move_file(&device, "monday.csv", &monday),
        ["already_recorded"; 2]
    );
    let crlf = monday.replace('\n', "\r\n");
    assert_eq!(
        move_file(&device, "monday-crlf.csv", &crlf),
        ["already_recorded"; 2],
        "the same rows saved with CRLF are the same input"
    );
    let text = device.ok(&[
        "move",
        "--file",
        device.path("monday-crlf.csv").to_str().unwrap(),
    ]);
    assert!(text.contains("line 3: already recorded as #2"), "{text}");
    // Wednesday's file holds Monday's rows and one more: another input.
    let wednesday = format!("{monday}SKU-10001,,4,A-07-11,A-01-03\n");
    assert_eq!(
        move_file(&device, "wednesday.csv", &wednesday),
        ["recorded"; 3]
    );
    assert_eq!(device.journal().len(), 7);
}

/// Physical lines, LF or CRLF: a quoted field spanning lines and a blank
/// line do not throw the count off.
#[test]
fn errors_in_crlf_files_name_the_right_line() {
    let (_wh, _server, device) = ready();
    let file = device.path("crlf.csv");
    std::fs::write(
        &file,
        "sku,lot,qty,from,to\r\n\
         SKU-10001,,1,A-07-11,A-01-03\r\n\
         \r\n\
         \"SKU-10001\",,2,A-07-11,\"A-01-03\"\r\n\
         SKU-10001,,two,A-07-11,A-01-03\r\n",
    )
    .unwrap();
    let (code, stderr, _) = refused(&device, &["move", "--file", file.to_str().unwrap()]);
    assert_eq!(code, Some(3));
    assert!(
        stderr.contains("error: line 5: qty: expected a whole number"),
        "{stderr}"
    );
    let jsonl = device.path("crlf.jsonl");
    std::fs::write(
        &jsonl,
        "{\"sku\":\"SKU-10001\",\"qty\":1,\"from\":\"A-07-11\",\"to\":\"A-01-03\"}\r\n\
         {\"sku\":\"SKU-10001\",\"qty\":0,\"from\":\"A-07-11\",\"to\":\"A-01-03\"}\r\n",
    )
    .unwrap();
    let (code, stderr, _) = refused(&device, &["move", "--file", jsonl.to_str().unwrap()]);
    assert_eq!(code, Some(3));
    assert!(stderr.contains("error: line 2: qty: "), "{stderr}");
    assert!(device.journal().is_empty());
}

#[test]
fn every_bad_row_is_named_on_stderr_and_as_a_json_array() {
    let (_wh, _server, device) = ready();
    let file = device.path("moves.csv");
    std::fs::write(
        &file,
        "sku,lot,qty,from,to\n\
         SKU-10001,,1,A-07-11,A-01-03\n\
         SKU-10001,,two,A-07-11,A-01-03\n\
         SKU-10001,,1,A-07-11,A-01-03\n\
         SKU-10001,,1,A-07-11,NOWHERE\n\
         SKU-99999,,1,A-07-11,A-01-03\n",
    )
    .unwrap();
    let path = file.to_str().unwrap();
    let (code, stderr, _) = refused(&device, &["move", "--file", path]);
    assert_eq!(code, Some(3));
    assert!(
        stderr.starts_with("error: 3 bad rows; nothing of the input was recorded\n"),
        "{stderr}"
    );
    for expected in [
        "\nline 3: qty: expected a whole number, got \"two\"\n",
        "\nline 5: to: location NOWHERE is not known",
        "\nline 6: sku: no item with SKU or GTIN SKU-99999",
    ] {
        assert!(stderr.contains(expected), "{expected:?} in {stderr}");
    }

    let (code, stderr, json) = refused(&device, &["move", "--file", path, "--json"]);
    assert_eq!(code, Some(3));
    assert!(
        stderr.contains("line 6: sku: "),
        "stderr still says it: {stderr}"
    );
    let rows = json.as_array().unwrap();
    let named: Vec<(u64, &str)> = rows
        .iter()
        .map(|r| (r["line"].as_u64().unwrap(), r["field"].as_str().unwrap()))
        .collect();
    assert_eq!(named, [(3, "qty"), (5, "to"), (6, "sku")]);
    assert_eq!(
        rows[0],
        serde_json::json!({"line": 3, "field": "qty", "message": "expected a whole number, got \"two\""})
    );

    // Receipts too, from JSON lines, an unknown key and a line that is not
    // JSON among them.
    let receipts = device.path("receipts.jsonl");
    std::fs::write(
        &receipts,
        "{\"asn\":\"ASN-1001\",\"sku\":\"SKU-10001\",\"qty\":5,\"to\":\"DOCK-02\"}\n\
         {\"asn\":\"ASN-9999\",\"sku\":\"SKU-10001\",\"qty\":5,\"to\":\"DOCK-02\"}\n\
         {\"asn\":\"ASN-1001\",\"sku\":\"SKU-10001\",\"quantity\":5,\"to\":\"DOCK-02\"}\n\
         {oops\n",
    )
    .unwrap();
    let (code, _, json) = refused(
        &device,
        &["receive", "--file", receipts.to_str().unwrap(), "--json"],
    );
    assert_eq!(code, Some(3));
    let named: Vec<(u64, serde_json::Value)> = json
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["line"].as_u64().unwrap(), r["field"].clone()))
        .collect();
    assert_eq!(
        named,
        [
            (2, "asn".into()),
            (3, "quantity".into()),
            (4, serde_json::Value::Null)
        ]
    );

    // An input that cannot be read at all is one entry without a line.
    let (code, _, json) = refused(
        &device,
        &[
            "move",
            "--file",
            device.path("absent.csv").to_str().unwrap(),
            "--json",
        ],
    );
    assert_eq!(code, Some(3));
    assert_eq!(json[0]["line"], serde_json::Value::Null);
    assert!(json[0]["message"].as_str().unwrap().contains("cannot read"));
    assert!(device.journal().is_empty(), "nothing was recorded");
}

#[test]
fn a_file_of_150_bad_rows_names_100_and_counts_the_rest() {
    let (_wh, _server, device) = ready();
    let mut csv = String::from("sku,lot,qty,from,to\n");
    for _ in 0..150 {
        csv.push_str("SKU-10001,,0,A-07-11,A-01-03\n");
    }
    let file = device.path("zeros.csv");
    std::fs::write(&file, csv).unwrap();
    let path = file.to_str().unwrap();
    let (code, stderr, _) = refused(&device, &["move", "--file", path]);
    assert_eq!(code, Some(3));
    assert!(stderr.starts_with("error: 150 bad rows"), "{stderr}");
    let named: Vec<&str> = stderr.lines().filter(|l| l.starts_with("line ")).collect();
    assert_eq!(named.len(), 100);
    assert!(named[0].starts_with("line 2: qty: "), "{}", named[0]);
    assert!(named[99].starts_with("line 101: qty: "), "{}", named[99]);
    assert!(
        stderr.contains("… and 50 more bad rows (the first 100 are listed)"),
        "{stderr}"
    );
    let (code, _, json) = refused(&device, &["move", "--file", path, "--json"]);
    assert_eq!(code, Some(3));
    let rows = json.as_array().unwrap();
    assert_eq!(rows.len(), 100);
    assert_eq!(rows[99]["line"], 101);
    assert!(device.journal().is_empty());
}

#[test]
fn stdin_json_lines_and_json_shapes() {
    let (_wh, _server, device) = ready();
    let mut child = device
        .cmd(&["move", "--file", "-", "--json"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"{\"sku\":\"5790000100019\",\"qty\":5,\"from\":\"A-07-11\",\"to\":\"A-01-03\",\"ref\":\"r1\"}\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(rows[0]["line"], 1);
    assert_eq!(rows[0]["status"], "recorded");
    assert_eq!(rows[0]["seq"], 1);

    let journal = device.journal();
    let e = &journal[0];
    for key in ["id", "seq", "kind", "at", "operator", "status", "payload"] {
        assert!(e.get(key).is_some(), "journal entry lacks {key}: {e}");
    }
    assert_eq!(e["kind"], "move");
    assert_eq!(e["status"], "pending");
    assert_eq!(
        e["payload"]["sku"], "SKU-10001",
        "the GTIN was resolved to its SKU"
    );

    let status = device.json(&["status"]);
    for key in [
        "device",
        "server",
        "online",
        "operator",
        "pending",
        "last_sync",
        "cursor",
    ] {
        assert!(status.get(key).is_some(), "status lacks {key}");
    }
    assert_eq!(status["pending"], 1);
    assert_eq!(status["operator"], "2001");

    let stock = device.json(&["stock", "--location", "A-01-03"]);
    assert_eq!(
        stock,
        serde_json::json!([{"location":"A-01-03","sku":"SKU-10001","lot":null,"expiry":null,"qty":5}])
    );
    let by_gtin = device.json(&["stock", "--gtin", "5790000100019"]);
    assert!(
        by_gtin
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["location"] == "A-01-03")
    );

    let sync = device.json(&["sync"]);
    for key in [
        "pushed",
        "applied",
        "duplicates",
        "refused",
        "exceptions",
        "pulled",
    ] {
        assert!(sync.get(key).is_some(), "sync lacks {key}");
    }
    assert_eq!(device.journal()[0]["status"], "synced");
}

#[test]
fn single_commands_with_a_ref_are_idempotent_and_without_one_are_new_facts() {
    let (_wh, _server, device) = ready();
    let args = [common::MOVE_ONE, &["--ref", "pallet-7"]].concat();
    device.ok(&args);
    let again = device.json(&args);
    assert_eq!(again["status"], "already_recorded");
    device.ok(common::MOVE_ONE);
    assert_eq!(device.journal().len(), 2);
}

#[test]
fn not_initialised_or_logged_out_is_exit_6_and_usage_is_2() {
    let device = Device::new();
    assert_eq!(device.run(&["sync"]).status.code(), Some(6));
    assert_eq!(device.run(&["whoami"]).status.code(), Some(6));
    assert_eq!(
        device
            .run(&[
                "move", "--sku", "X", "--qty", "1", "--from", "A", "--to", "B"
            ])
            .status
            .code(),
        Some(6)
    );
    assert_eq!(device.run(&["frobnicate"]).status.code(), Some(2));
    assert_eq!(
        device
            .run(&["init", "--server", "ftp://x", "--token", "t"])
            .status
            .code(),
        Some(2)
    );
    let (wh, server, enrolled) = ready();
    enrolled.ok(&["logout"]);
    assert_eq!(enrolled.run(common::MOVE_ONE).status.code(), Some(6));
    // A revoked token: refused by the server, exit 5.
    let other = Device::new();
    let token = wh.token();
    other.enrol(&server.url(), &token, "1007");
    common::admin(&wh.db, &["device-token", "revoke", &token]);
    assert_eq!(other.run(&["sync"]).status.code(), Some(5));
    // A server that is not there: exit 4.
    let nowhere = Device::new();
    assert_eq!(
        nowhere
            .run(&["init", "--server", "http://127.0.0.1:9", "--token", "t"])
            .status
            .code(),
        Some(4)
    );
}

#[test]
fn wrong_pins_lock_the_badge_out() {
    let (_wh, _server, device) = ready();
    device.ok(&["logout"]);
    for _ in 0..4 {
        let out = device.run(&["login", "--badge", "1007", "--pin", "9999"]);
        assert_eq!(out.status.code(), Some(5));
        assert!(String::from_utf8_lossy(&out.stderr).contains("wrong PIN"));
    }
    let locked = device.run(&["login", "--badge", "1007", "--pin", "9999"]);
    assert!(String::from_utf8_lossy(&locked.stderr).contains("locked"));
    // Even the right PIN is refused while locked.
    let right = device.run(&["login", "--badge", "1007", "--pin", "1234"]);
    assert_eq!(right.status.code(), Some(5));
    assert!(String::from_utf8_lossy(&right.stderr).contains("locked"));
    // Other badges are unaffected.
    device.ok(&["login", "--badge", "3001", "--pin", "1234"]);
    assert_eq!(device.json(&["whoami"])["role"], "supervisor");
}

#[test]
fn scan_explains_codes() {
    let (_wh, _server, device) = ready();
    assert_eq!(device.json(&["scan", "F-01-01"])["type"], "location");
    assert_eq!(device.json(&["scan", "5790000100019"])["sku"], "SKU-10001");
    let gs1 = device.json(&["scan", "(01)05790000100484(17)261220(10)L2647E"]);
    assert_eq!(gs1["sku"], "SKU-10048");
    assert_eq!(gs1["lot"], "L2647E");
    assert_eq!(gs1["expiry"], "2026-12-20");
    let link = device.json(&[
        "scan",
        "https://id.gs1.org/01/05790000100484/10/L2647E?17=261220",
    ]);
    assert_eq!(link["sku"], "SKU-10048");
    assert_eq!(link["expiry"], "2026-12-20");
    let bad = device.run(&["scan", "(01)05790000100485"]);
    assert_eq!(bad.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("check digit"));
}

#[test]
fn completions_and_man_page_come_from_the_cli_definitions() {
    let device = Device::new();
    let bash = device.ok(&["completions", "bash"]);
    assert!(bash.contains("receive") && bash.contains("--file"));
    let man = device.ok(&["man"]);
    assert!(man.contains(".TH pyck") && man.contains("sync"));
    let page = device.ok(&["man", "pick", "confirm"]);
    assert!(
        page.contains(".TH pyck-pick-confirm") && page.contains("short"),
        "{page}"
    );
    assert_eq!(device.run(&["man", "no-such"]).status.code(), Some(2));

    // Both binaries write every page, and every page a page names exists.
    let dir = device.path("man");
    device.ok(&["man", "--dir", dir.to_str().unwrap()]);
    let server = std::process::Command::new(common::server_bin())
        .args(["man", "--dir", dir.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(server.status.success(), "{server:?}");
    let pages: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    for must in [
        "pyck.1",
        "pyck-move.1",
        "pyck-server.1",
        "pyck-server-user-set-pin.1",
    ] {
        assert!(
            pages.iter().any(|p| p == must),
            "{must} missing from {pages:?}"
        );
    }
    let mut named = 0;
    for page in &pages {
        let text = std::fs::read_to_string(dir.join(page)).unwrap();
        for (i, _) in text.match_indices("(1)") {
            let start = text[..i]
                .rfind(|c: char| c.is_whitespace() || c == ',')
                .map_or(0, |s| s + 1);
            let name = text[start..i]
                .replace("\\-", "-")
                .replace("\\fB", "")
                .replace("\\fR", "");
            assert!(
                pages.contains(&format!("{name}.1")),
                "{page} names {name}(1), which is not there"
            );
            named += 1;
        }
    }
    assert!(named > 30, "the top pages name their commands ({named})");

    let completions = std::process::Command::new(common::server_bin())
        .args(["completions", "bash"])
        .output()
        .unwrap();
    let bash = String::from_utf8_lossy(&completions.stdout);
    assert!(
        bash.contains("pyck-server") && bash.contains("set-pin"),
        "{bash}"
    );
}

#[test]
fn the_demo_runs_with_nothing_set_up() {
    let device = Device::new();
    let out = device.run(&["demo"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("3 already recorded"), "{stdout}");
    assert!(
        stdout.contains("pushed 4 (4 applied, 0 duplicates"),
        "{stdout}"
    );
    assert!(stdout.contains("verify: every invariant holds"));
    assert!(
        !stdout.contains("pyck_"),
        "the demo must not print its token"
    );
}

/// `pyck stock --json | head -c1`: the reader has what it wanted and closed
/// the pipe before pyck wrote. That is not an error: exit 0, nothing on
/// stderr, for JSON and for people's tables alike.
#[test]
fn a_reader_that_closes_the_pipe_first_is_not_an_error() {
    let wh = Warehouse::new();
    let server = Server::start(&wh.db, None);
    let device = Device::new();
    device.enrol(&server.url(), &wh.token(), "1007");
    device.move_one();
    for args in [
        &["stock", "--json"][..],
        &["journal", "--json"],
        &["exceptions", "--json"],
        &["stock"],
        &["journal"],
        &["pick", "list"],
    ] {
        let mut child = device
            .cmd(args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        // The only read end: closed before pyck has opened its store.
        drop(child.stdout.take());
        let out = child.wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {err}");
        assert!(err.is_empty(), "{args:?}: {err}");
    }
}
