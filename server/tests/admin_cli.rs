//! The admin commands of the real `pyck-server` binary: import, verify and
//! their exit codes, and `serve` on a fresh machine with no set-up.

#![allow(clippy::unwrap_used)]

use crate::common;

use std::path::Path;
use std::process::Command;

use common::server::{BIN, admin, fixtures};

fn run(db: &str, args: &[&str]) -> std::process::Output {
    Command::new(BIN)
        .arg("--db")
        .arg(db)
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn import_fixtures_then_verify_passes() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("s.sqlite3").display().to_string();
    admin(&db, &["tenant", "create", "acme"]);
    let out = admin(
        &db,
        &[
            "import",
            "--tenant",
            "acme",
            "--warehouse",
            "DC1",
            fixtures().to_str().unwrap(),
        ],
    );
    assert!(out.contains("65 items"), "{out}");
    let again = admin(
        &db,
        &[
            "import",
            "--tenant",
            "acme",
            "--warehouse",
            "DC1",
            fixtures().to_str().unwrap(),
        ],
    );
    assert!(
        again.contains("(0 changed)"),
        "a re-run changes nothing: {again}"
    );
    let verify = run(&db, &["verify", "--tenant", "acme"]);
    assert_eq!(verify.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&verify.stdout).starts_with("ok"));
}

#[test]
fn a_corrupted_stock_row_makes_verify_exit_7_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("s.sqlite3").display().to_string();
    pyck_testkit::demo_tenant(Path::new(BIN), &db, "acme", &[]);
    // Corrupt by hand, behind the server's back.
    let conn = rusqlite::Connection::open(&db).unwrap();
    let changed = conn
        .execute(
            "UPDATE stock SET qty = qty + 5 WHERE location = 'A-01-02' AND sku = 'SKU-10004'",
            [],
        )
        .unwrap();
    assert_eq!(changed, 1);
    drop(conn);
    let verify = run(&db, &["verify", "--tenant", "acme"]);
    assert_eq!(verify.status.code(), Some(7));
    let stdout = String::from_utf8_lossy(&verify.stdout);
    assert!(
        stdout.contains("stock_equals_ledger") && stdout.contains("location A-01-02 sku SKU-10004"),
        "{stdout}"
    );
    assert!(
        stdout.contains("stock says 17, movements sum to 12"),
        "{stdout}"
    );
}

#[test]
fn a_shipped_order_with_open_picks_makes_verify_exit_7() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("s.sqlite3").display().to_string();
    pyck_testkit::demo_tenant(Path::new(BIN), &db, "acme", &[]);
    // What issue 18 found on the floor, written behind the server's back:
    // SO-5001 shipped while its picks are open.
    let conn = rusqlite::Connection::open(&db).unwrap();
    let changed = conn
        .execute(
            "UPDATE order_lines SET status = 'shipped' WHERE order_no = 'SO-5001'",
            [],
        )
        .unwrap();
    assert!(changed > 0);
    drop(conn);
    let verify = run(&db, &["verify", "--tenant", "acme", "--json"]);
    assert_eq!(verify.status.code(), Some(7));
    let out: serde_json::Value = serde_json::from_slice(&verify.stdout).unwrap();
    assert_eq!(out["ok"], false);
    let problems = out["problems"].as_array().unwrap();
    assert!(
        !problems.is_empty()
            && problems
                .iter()
                .all(|p| p["check"] == "closed_order_has_no_open_task"
                    && p["detail"]
                        .as_str()
                        .unwrap()
                        .starts_with("warehouse DC1 order SO-5001 is shipped, but its pick task")),
        "{out}"
    );
}

#[test]
fn a_bad_import_row_exits_3_naming_line_and_field_and_imports_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("s.sqlite3").display().to_string();
    let files = dir.path().join("import");
    std::fs::create_dir(&files).unwrap();
    std::fs::copy(fixtures().join("items.csv"), files.join("items.csv")).unwrap();
    std::fs::copy(
        fixtures().join("locations.csv"),
        files.join("locations.csv"),
    )
    .unwrap();
    std::fs::write(
        files.join("stock.csv"),
        "location,sku,lot,expiry,qty\nA-01-02,SKU-10004,,,12\nA-01-04,SKU-10002,,,-3\n",
    )
    .unwrap();
    admin(&db, &["tenant", "create", "acme"]);
    let out = run(
        &db,
        &[
            "import",
            "--tenant",
            "acme",
            "--warehouse",
            "DC1",
            files.to_str().unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(3));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("stock.csv line 3: qty"), "{stderr}");
    // Nothing of the directory was imported: not even the valid items.
    let conn = rusqlite::Connection::open(&db).unwrap();
    let items: i64 = conn
        .query_row("SELECT COUNT(*) FROM items", [], |r| r.get(0))
        .unwrap();
    assert_eq!(items, 0);

    // An unknown SKU in stock.csv is caught inside the import transaction.
    std::fs::write(
        files.join("stock.csv"),
        "location,sku,lot,expiry,qty\nA-01-02,NOPE,,,12\n",
    )
    .unwrap();
    let out = run(
        &db,
        &[
            "import",
            "--tenant",
            "acme",
            "--warehouse",
            "DC1",
            files.to_str().unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown SKU NOPE"));
    let items: i64 = conn
        .query_row("SELECT COUNT(*) FROM items", [], |r| r.get(0))
        .unwrap();
    assert_eq!(items, 0);
}

#[test]
fn bad_admin_input_exits_3() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("s.sqlite3").display().to_string();
    admin(&db, &["tenant", "create", "acme"]);
    let dup = run(&db, &["tenant", "create", "acme"]);
    assert_eq!(dup.status.code(), Some(3));
    let pin = run(
        &db,
        &[
            "user", "create", "--tenant", "acme", "--badge", "1", "--pin", "12", "--role", "picker",
        ],
    );
    assert_eq!(pin.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&pin.stderr).contains("pin: the PIN must be 4 to 12 digits"));
    let role = run(
        &db,
        &[
            "user", "create", "--tenant", "acme", "--badge", "1", "--pin", "1234", "--role", "boss",
        ],
    );
    assert_eq!(role.status.code(), Some(3));
    let tenant = run(&db, &["verify", "--tenant", "nobody"]);
    assert_eq!(tenant.status.code(), Some(3));
    let usage = run(&db, &["tenant", "frobnicate"]);
    assert_eq!(usage.status.code(), Some(2));
}

#[test]
fn serve_runs_with_no_set_up() {
    // A fresh home: no database, no config. The default database is created
    // in the platform data directory under it.
    let home = tempfile::tempdir().unwrap();
    let mut child = Command::new(BIN)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env_remove("PYCK_DB")
        .env("HOME", home.path())
        .env("XDG_DATA_HOME", home.path().join("data"))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(child.stdout.take().unwrap()),
        &mut line,
    )
    .unwrap();
    let url = line
        .trim()
        .strip_prefix("pyck-server listening on ")
        .unwrap()
        .to_owned();
    let ready = std::process::Command::new("curl")
        .args(["-sf", &format!("{url}/readyz")])
        .output()
        .unwrap();
    let _ = child.kill();
    let _ = child.wait();
    assert!(String::from_utf8_lossy(&ready.stdout).contains("ready (sqlite)"));
    assert!(
        home.path()
            .join("data/pyck-server/pyck-server.sqlite3")
            .exists()
    );
}

#[test]
fn settings_are_set_read_and_audited_and_bad_ones_exit_3() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("s.sqlite3").display().to_string();
    pyck_testkit::demo_tenant(Path::new(BIN), &db, "acme", &[]);
    let scope = ["--tenant", "acme", "--warehouse", "DC1"];
    let get = |db: &str| -> serde_json::Value {
        let out = admin(
            db,
            &[&["settings", "get"][..], &scope, &["--json"]].concat(),
        );
        serde_json::from_str(&out).unwrap()
    };
    assert_eq!(get(&db)["count_threshold"], serde_json::Value::Null);
    assert_eq!(get(&db)["fefo"], "warn");
    let out = admin(
        &db,
        &[
            &["settings", "set"][..],
            &scope,
            &["count_threshold", "5", "--by", "ops"],
        ]
        .concat(),
    );
    assert_eq!(out.trim(), "count_threshold: default -> 5");
    admin(
        &db,
        &[&["settings", "set"][..], &scope, &["fefo", "refuse"]].concat(),
    );
    assert_eq!(get(&db)["count_threshold"], 5);
    assert_eq!(get(&db)["fefo"], "refuse");
    let history = admin(
        &db,
        &[&["settings", "history"][..], &scope, &["--json"]].concat(),
    );
    let history: serde_json::Value = serde_json::from_str(&history).unwrap();
    assert_eq!(history[0]["key"], "count_threshold");
    assert_eq!(history[0]["by"], "admin:ops");
    assert_eq!(history[0]["new"], "5");
    assert_eq!(history[1]["old"], "warn");
    assert_eq!(history[1]["new"], "refuse");

    for (key, value, says) in [
        ("colour", "red", "key: \"colour\" is not a setting"),
        (
            "count_threshold",
            "1.5",
            "value: count_threshold takes units",
        ),
        ("fefo", "strict", "value: fefo takes `warn` or `refuse`"),
    ] {
        let bad = run(
            &db,
            &[&["settings", "set"][..], &scope, &[key, value]].concat(),
        );
        assert_eq!(bad.status.code(), Some(3), "{key}={value}");
        let err = String::from_utf8_lossy(&bad.stderr);
        assert!(err.contains(says), "{err}");
    }
    assert_eq!(get(&db)["count_threshold"], 5, "nothing half-written");
}
