//! Operators and their PINs against a real server, on both backends: a
//! device pulls only the operators of its own warehouse (and the
//! tenant-wide ones); supervisors' and admins' PIN hashes never leave the
//! server, which checks their PINs online and locks a badge after five
//! wrong ones in a row; and a database from before version 11 (SQLite) /
//! 9 (PostgreSQL) sends its supervisors' records again without the hash.

#![allow(clippy::unwrap_used)]

use crate::common;

use std::collections::BTreeMap;

use common::server::{TestServer, admin, fixtures};
use serde_json::{Value, json};

fn user(db: &str, badge: &str, role: &str, warehouses: &[&str]) {
    let mut args = vec![
        "user", "create", "--tenant", "acme", "--badge", badge, "--pin", "1234", "--role", role,
    ];
    for w in warehouses {
        args.extend(["--warehouse", w]);
    }
    admin(db, &args);
}

fn token(db: &str, warehouse: &str) -> String {
    let out = admin(
        db,
        &[
            "device-token",
            "create",
            "--tenant",
            "acme",
            "--warehouse",
            warehouse,
        ],
    );
    out.lines().last().unwrap().to_owned()
}

/// Tenant `acme` with warehouses DC1 and DC2 and operators of each.
fn provision(db: &str) -> (String, String) {
    admin(db, &["tenant", "create", "acme"]);
    for w in ["DC1", "DC2"] {
        admin(
            db,
            &[
                "import",
                "--tenant",
                "acme",
                "--warehouse",
                w,
                fixtures().to_str().unwrap(),
            ],
        );
    }
    user(db, "1007", "picker", &["DC1"]);
    user(db, "5007", "picker", &["DC2"]);
    user(db, "2001", "receiver", &[]);
    user(db, "3001", "supervisor", &["DC1"]);
    user(db, "4001", "admin", &[]);
    (token(db, "DC1"), token(db, "DC2"))
}

async fn gql(server: &TestServer, token: &str, query: &str, variables: Value) -> Value {
    reqwest::Client::new()
        .post(server.graphql())
        .bearer_auth(token)
        .header("accept", "application/graphql-response+json")
        .json(&json!({ "query": query, "variables": variables }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// The operator records a device pulls, by badge.
async fn pulled_operators(server: &TestServer, token: &str) -> BTreeMap<String, Value> {
    let body = gql(
        server,
        token,
        "{ pull(request: {protocol: 1, cursor: 0, limit: 100000}) }",
        json!({}),
    )
    .await;
    body["data"]["pull"]["changes"]
        .as_array()
        .unwrap_or_else(|| panic!("{body}"))
        .iter()
        .filter(|c| c["entity"] == "operator")
        .map(|c| (c["key"].as_str().unwrap().to_owned(), c["data"].clone()))
        .collect()
}

async fn verify(
    server: &TestServer,
    token: &str,
    badge: &str,
    pin: &str,
) -> Result<String, (String, String)> {
    let body = gql(
        server,
        token,
        "mutation($b: String!, $p: String!) { verifyOperator(badge: $b, pin: $p) { badge role } }",
        json!({"b": badge, "p": pin}),
    )
    .await;
    match body["errors"][0].as_object() {
        Some(e) => Err((
            e["extensions"]["code"].as_str().unwrap().to_owned(),
            e["message"].as_str().unwrap().to_owned(),
        )),
        None => Ok(body["data"]["verifyOperator"]["role"]
            .as_str()
            .unwrap()
            .to_owned()),
    }
}

async fn operators_and_pins(db: &str) {
    let (dc1, dc2) = provision(db);
    let server = TestServer::start(db);

    let one = pulled_operators(&server, &dc1).await;
    let two = pulled_operators(&server, &dc2).await;
    assert_eq!(
        one.keys().collect::<Vec<_>>(),
        ["1007", "2001", "3001", "4001"],
        "DC1's device pulls DC1's and the tenant-wide operators"
    );
    assert_eq!(two.keys().collect::<Vec<_>>(), ["2001", "4001", "5007"]);
    // Pickers and receivers log in offline: their hash travels.
    assert!(
        one["1007"]["pin_hash"]
            .as_str()
            .unwrap()
            .starts_with("$argon2id$")
    );
    assert!(
        two["2001"]["pin_hash"]
            .as_str()
            .unwrap()
            .starts_with("$argon2id$")
    );
    // Supervisors and admins do not: no hash on any device.
    assert_eq!(one["3001"]["pin_hash"], "");
    assert_eq!(one["4001"]["pin_hash"], "");
    assert_eq!(one["3001"]["role"], "supervisor");

    // Online checks: the right PIN gives the role.
    assert_eq!(
        verify(&server, &dc1, "3001", "1234").await.unwrap(),
        "supervisor"
    );
    assert_eq!(
        verify(&server, &dc2, "4001", "1234").await.unwrap(),
        "admin"
    );
    // A badge of another warehouse is unknown here.
    let (code, _) = verify(&server, &dc2, "3001", "1234").await.unwrap_err();
    assert_eq!(code, "unknown_operator");
    let (code, _) = verify(&server, &dc1, "9999", "1234").await.unwrap_err();
    assert_eq!(code, "unknown_operator");

    // Wrong PINs count across devices of the warehouse; the fifth locks,
    // and then even the right PIN is refused.
    for left in (1..=4).rev() {
        let (code, message) = verify(&server, &dc1, "4001", "0000").await.unwrap_err();
        assert_eq!(code, "wrong_pin");
        assert!(message.contains(&format!("{left} tries left")), "{message}");
    }
    // Not a PIN at all (a megabyte of it) is a wrong guess too, unhashed.
    let (code, message) = verify(&server, &dc2, "4001", &"9".repeat(1 << 20))
        .await
        .unwrap_err();
    assert_eq!(code, "wrong_pin");
    assert!(message.contains("locked"), "{message}");
    let (code, message) = verify(&server, &dc1, "4001", "1234").await.unwrap_err();
    assert_eq!(code, "wrong_pin");
    assert!(
        message.contains("is locked after 5 wrong PINs"),
        "{message}"
    );
    // Another badge is not affected; a right PIN clears its count.
    assert_eq!(
        verify(&server, &dc1, "3001", "1234").await.unwrap(),
        "supervisor"
    );
}

/// The administrator's people commands, each reaching the devices.
async fn people(db: &str) {
    let (dc1, dc2) = provision(db);
    let server = TestServer::start(db);
    let list: Value =
        serde_json::from_str(&admin(db, &["user", "list", "--tenant", "acme", "--json"])).unwrap();
    let summary: Vec<(String, String, bool, Value)> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            (
                o["badge"].as_str().unwrap().to_owned(),
                o["role"].as_str().unwrap().to_owned(),
                o["active"].as_bool().unwrap(),
                o["warehouses"].clone(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("1007".into(), "picker".into(), true, json!(["DC1"])),
            ("2001".into(), "receiver".into(), true, json!([])),
            ("3001".into(), "supervisor".into(), true, json!(["DC1"])),
            ("4001".into(), "admin".into(), true, json!([])),
            ("5007".into(), "picker".into(), true, json!(["DC2"])),
        ]
    );

    // A picker made supervisor: DC1's devices lose the hash.
    let changed: Value = serde_json::from_str(&admin(
        db,
        &[
            "user",
            "set-role",
            "--tenant",
            "acme",
            "--badge",
            "1007",
            "--role",
            "supervisor",
            "--json",
        ],
    ))
    .unwrap();
    assert_eq!(changed["role"], "supervisor");
    let one = pulled_operators(&server, &dc1).await;
    assert_eq!(
        (
            one["1007"]["role"].as_str(),
            one["1007"]["pin_hash"].as_str()
        ),
        (Some("supervisor"), Some(""))
    );
    assert_eq!(
        verify(&server, &dc1, "1007", "1234").await.unwrap(),
        "supervisor"
    );

    // A forgotten PIN after a lock-out: the new PIN works at once.
    for _ in 0..5 {
        let _ = verify(&server, &dc2, "4001", "0000").await;
    }
    let (_, message) = verify(&server, &dc2, "4001", "1234").await.unwrap_err();
    assert!(message.contains("locked"), "{message}");
    admin(
        db,
        &[
            "user", "set-pin", "--tenant", "acme", "--badge", "4001", "--pin", "567890",
        ],
    );
    assert_eq!(
        verify(&server, &dc2, "4001", "567890").await.unwrap(),
        "admin"
    );
    assert_eq!(
        verify(&server, &dc2, "4001", "1234").await.unwrap_err().0,
        "wrong_pin"
    );

    // A leaver: every device holding them learns it; online checks refuse.
    admin(
        db,
        &["user", "disable", "--tenant", "acme", "--badge", "2001"],
    );
    admin(
        db,
        &["user", "disable", "--tenant", "acme", "--badge", "3001"],
    );
    for token in [&dc1, &dc2] {
        assert_eq!(
            pulled_operators(&server, token).await["2001"]["active"],
            false
        );
    }
    assert_eq!(
        verify(&server, &dc1, "3001", "1234").await.unwrap_err().0,
        "unknown_operator"
    );
    let listed = admin(db, &["user", "list", "--tenant", "acme"]);
    assert!(
        listed.contains("2001\treceiver\tdisabled\tevery warehouse"),
        "{listed}"
    );
    admin(
        db,
        &["user", "enable", "--tenant", "acme", "--badge", "3001"],
    );
    assert_eq!(
        verify(&server, &dc1, "3001", "1234").await.unwrap(),
        "supervisor"
    );

    // Mistakes are named and change nothing (exit 3).
    for (args, says) in [
        (
            vec!["user", "disable", "--tenant", "acme", "--badge", "9999"],
            "no operator with badge \"9999\"",
        ),
        (
            vec![
                "user", "set-role", "--tenant", "acme", "--badge", "5007", "--role", "boss",
            ],
            "--role",
        ),
        (
            vec![
                "user", "set-pin", "--tenant", "acme", "--badge", "5007", "--pin", "12",
            ],
            "--pin",
        ),
        (
            vec![
                "user", "create", "--tenant", "acme", "--badge", "5007", "--pin", "1234", "--role",
                "picker",
            ],
            "already exists",
        ),
        (
            vec![
                "user",
                "create",
                "--tenant",
                "acme",
                "--badge",
                "6007",
                "--pin",
                "1234",
                "--role",
                "picker",
                "--warehouse",
                "DC9",
            ],
            "warehouse \"DC9\" does not exist",
        ),
    ] {
        let out = std::process::Command::new(common::server::BIN)
            .args(["--db", db])
            .args(&args)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(3), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(says), "{args:?}: {err}");
    }

    // Devices: both warehouses', with their state.
    admin(db, &["device-token", "revoke", &dc2]);
    let devices: Value = serde_json::from_str(&admin(
        db,
        &["device-token", "list", "--tenant", "acme", "--json"],
    ))
    .unwrap();
    let devices: Vec<(String, bool)> = devices
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["warehouse"].as_str().unwrap().to_owned(),
                d["revoked_at"].is_string(),
            )
        })
        .collect();
    assert_eq!(
        devices,
        [("DC1".to_owned(), false), ("DC2".to_owned(), true)]
    );
    let created: Value = serde_json::from_str(&admin(
        db,
        &[
            "device-token",
            "create",
            "--tenant",
            "acme",
            "--warehouse",
            "DC2",
            "--name",
            "dock 2",
            "--json",
        ],
    ))
    .unwrap();
    assert_eq!(
        (created["warehouse"].as_str(), created["name"].as_str()),
        (Some("DC2"), Some("dock 2"))
    );
    assert!(created["token"].as_str().unwrap().starts_with("pyck_"));
}

#[tokio::test]
async fn people_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("server.sqlite3").display().to_string();
    people(&db).await;
}

#[tokio::test]
async fn people_on_postgres() {
    let db = common::postgres().await;
    people(&db.url).await;
}

#[tokio::test]
async fn operators_and_pins_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("server.sqlite3").display().to_string();
    operators_and_pins(&db).await;
}

#[tokio::test]
async fn operators_and_pins_on_postgres() {
    let db = common::postgres().await;
    operators_and_pins(&db.url).await;
}
