//! Bad input at the sync endpoint of a real server process: property tests
//! that push well-formed operations with one field broken in every way we
//! could think of (wrong types, negative and overflowing quantities, dates
//! like 2027-02-30, control characters, 100 kB strings, unknown kinds) and
//! raw bytes that are not JSON or not UTF-8. The server must answer every
//! one with a client error or a refusal naming the field — never a 5xx —
//! stay healthy, apply nothing invalid, and pass `verify` at the end.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use std::cell::Cell;

use common::server::{TestServer, provision};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::{Value, json};

/// Cases per property (each one HTTP request to the real server).
const CASES: u32 = 1_000;

const PUSH: &str = "mutation($r: PushRequest!) { push(request: $r) }";

/// One way to break a move operation.
#[derive(Debug, Clone)]
enum Break {
    Qty(Value),
    Text(&'static str, String),
    At(String),
    Kind(String),
    Seq(Value),
    Drop(&'static str),
    Extra(String, Value),
    Nothing,
}

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "\\PC{0,12}",
        Just(String::new()),
        Just(" A-01-03".to_owned()),
        Just("A-01-03\n".to_owned()),
        Just("A-01-03\u{0}".to_owned()),
        Just("X".repeat(100_000)),
        Just("SKU-10001".to_owned()),
        Just("A-01-02".to_owned()),
    ]
}

fn a_break() -> impl Strategy<Value = Break> {
    let qty = prop_oneof![
        any::<i64>().prop_map(|n| json!(n)),
        (-3i64..4).prop_map(|n| json!(n)),
        Just(json!(1_000_000_001_i64)),
        Just(json!(9_223_372_036_854_775_808_u64)),
        Just(json!(1e300)),
        Just(json!(2.5)),
        Just(json!("12")),
        Just(json!(null)),
        Just(json!([1])),
    ];
    let field = prop_oneof![
        Just("sku"),
        Just("from"),
        Just("to"),
        Just("lot"),
        Just("operator")
    ];
    let at = prop_oneof![
        Just("2027-02-30T10:00:00Z".to_owned()),
        Just("2026-13-01T00:00:00Z".to_owned()),
        Just("2026-11-23".to_owned()),
        Just("+262143-12-31T23:59:59Z".to_owned()),
        any::<String>(),
    ];
    prop_oneof![
        qty.prop_map(Break::Qty),
        (field, text()).prop_map(|(f, t)| Break::Text(f, t)),
        at.prop_map(Break::At),
        prop_oneof![
            Just("teleport".to_owned()),
            Just("MOVE".to_owned()),
            any::<String>()
        ]
        .prop_map(Break::Kind),
        prop_oneof![
            Just(json!(0)),
            Just(json!(-1)),
            Just(json!(u64::MAX)),
            Just(json!("1"))
        ]
        .prop_map(Break::Seq),
        prop_oneof![
            Just("id"),
            Just("seq"),
            Just("qty"),
            Just("payload"),
            Just("kind")
        ]
        .prop_map(Break::Drop),
        ("[a-z]{1,8}", any::<i64>()).prop_map(|(k, v)| Break::Extra(k, json!(v))),
        Just(Break::Nothing),
    ]
}

/// A move of 1 from A-01-02 to A-01-03 at `seq`, broken by `b`.
fn broken_move(device: &str, seq: u64, b: &Break) -> Value {
    let mut op = json!({
        "id": uuid::Uuid::now_v7(), "device": device, "seq": seq, "operator": "1007",
        "at": "2026-11-23T10:42:00Z", "kind": "move",
        "payload": {"sku": "SKU-10001", "qty": 1, "from": "A-01-02", "to": "A-01-03"}
    });
    match b {
        Break::Qty(v) => op["payload"]["qty"] = v.clone(),
        Break::Text("operator", t) => op["operator"] = json!(t),
        Break::Text(f, t) => op["payload"][*f] = json!(t),
        Break::At(t) => op["at"] = json!(t),
        Break::Kind(k) => op["kind"] = json!(k),
        Break::Seq(v) => op["seq"] = v.clone(),
        Break::Drop("qty") => {
            op["payload"].as_object_mut().unwrap().remove("qty");
        }
        Break::Drop(f) => {
            op.as_object_mut().unwrap().remove(*f);
        }
        Break::Extra(k, v) => op["payload"][k.as_str()] = v.clone(),
        Break::Nothing => {}
    }
    op
}

struct Env {
    _dir: tempfile::TempDir,
    db: String,
    server: TestServer,
    token: String,
    device: String,
    rt: tokio::runtime::Runtime,
    http: reqwest::Client,
}

impl Env {
    fn new() -> Env {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("s.sqlite3").display().to_string();
        let token = provision(&db, "acme");
        let server = TestServer::start(&db);
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let http = reqwest::Client::new();
        let mut env = Env {
            _dir: dir,
            db,
            server,
            token,
            device: String::new(),
            rt,
            http,
        };
        let (_, me) = env.post(json!({ "query": "{ me { id } }" }).to_string().into_bytes());
        env.device = me["data"]["me"]["id"].as_str().unwrap().to_owned();
        env
    }

    /// POSTs a body; the status and the JSON answer (`Null` if none).
    fn post(&self, body: Vec<u8>) -> (u16, Value) {
        self.rt.block_on(async {
            let resp = self
                .http
                .post(format!("{}/graphql", self.server.url))
                .bearer_auth(&self.token)
                .header("content-type", "application/json")
                .header("accept", "application/graphql-response+json")
                .body(body)
                .send()
                .await
                .unwrap();
            let status = resp.status().as_u16();
            (status, resp.json().await.unwrap_or(Value::Null))
        })
    }

    fn healthy(&self) -> bool {
        self.rt.block_on(async {
            self.http
                .get(format!("{}/healthz", self.server.url))
                .send()
                .await
                .is_ok_and(|r| r.status().is_success())
        })
    }
}

/// `pyck-server verify` passes.
fn verify(db: &str) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_pyck-server"))
        .args(["--db", db, "verify", "--tenant", "acme"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

/// A client error, or a GraphQL answer whose every error has a code and
/// whose every refusal names what is wrong.
fn answered_sensibly(status: u16, body: &Value) -> Result<(), TestCaseError> {
    prop_assert!(
        matches!(status, 200 | 400 | 413 | 415 | 422),
        "status {status}: {body}"
    );
    if let Some(errors) = body["errors"].as_array() {
        for e in errors {
            prop_assert!(e["message"].as_str().is_some_and(|m| !m.is_empty()), "{e}");
        }
    }
    if let Some(results) = body["data"]["push"]["results"].as_array() {
        for r in results {
            if r["result"] == "refused" {
                prop_assert!(r["code"].as_str().is_some(), "{r}");
                prop_assert!(r["message"].as_str().is_some_and(|m| !m.is_empty()), "{r}");
            }
        }
    }
    Ok(())
}

#[test]
fn broken_operations_are_refused_or_rejected_never_applied_or_crashing() {
    let env = Env::new();
    let next = Cell::new(1_u64);
    let applied = Cell::new(0_u32);
    let mut runner = TestRunner::new(Config {
        cases: CASES,
        failure_persistence: None,
        ..Config::default()
    });
    runner
        .run(&a_break(), |b| {
            let op = broken_move(&env.device, next.get(), &b);
            let body = json!({
                "query": PUSH,
                "variables": { "r": { "protocol": 1, "ops": [op], "backlog": 0 } }
            });
            let (status, answer) = env.post(body.to_string().into_bytes());
            answered_sensibly(status, &answer)?;
            if let Some(last) = answer["data"]["push"]["last_seq"].as_u64() {
                next.set(last + 1);
            }
            if answer["data"]["push"]["results"][0]["result"] == "applied" {
                applied.set(applied.get() + 1);
            }
            Ok(())
        })
        .unwrap();
    assert!(env.healthy());
    // Some of the cases were valid moves (Break::Nothing and harmless
    // breaks): the property looked at applied operations too.
    assert!(applied.get() > 0);
    // Nothing invalid got in: every applied operation is a well-formed move.
    let conn = rusqlite::Connection::open(&env.db).unwrap();
    let mut stmt = conn
        .prepare("SELECT kind, payload FROM operations WHERE refusal_code IS NULL AND device_id IS NOT NULL")
        .unwrap();
    let rows: Vec<(String, String)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(rows.len() as u32, applied.get());
    for (kind, payload) in rows {
        assert_eq!(kind, "move");
        let p: Value = serde_json::from_str(&payload).unwrap();
        let qty = p["qty"].as_i64().unwrap();
        assert!(
            (1..=pyck_vocab::validate::MAX_QTY).contains(&qty),
            "{payload}"
        );
        for f in ["sku", "from", "to"] {
            pyck_vocab::validate::code(f, p[f].as_str().unwrap()).unwrap();
        }
    }
    verify(&env.db);
}

#[test]
fn bodies_that_are_not_json_or_not_utf8_get_a_client_error() {
    let env = Env::new();
    let mut runner = TestRunner::new(Config {
        cases: CASES,
        failure_persistence: None,
        ..Config::default()
    });
    let bodies = prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..2_000),
        // A push document whose variables are cut or corrupted.
        (0usize..400, any::<u8>()).prop_map(|(cut, byte)| {
            let mut b = json!({
                "query": PUSH,
                "variables": {"r": {"protocol": 1, "backlog": 0, "ops": [{
                    "id": "01a20a00-0000-7000-8000-000000000001", "seq": 1, "operator": "1007",
                    "at": "2026-11-23T10:42:00Z", "kind": "move",
                    "payload": {"sku": "SKU-10001", "qty": 1, "from": "A-01-02", "to": "A-01-03"}}]}}
            })
            .to_string()
            .into_bytes();
            let cut = cut.min(b.len().saturating_sub(1));
            b[cut] = byte;
            b
        }),
    ];
    runner
        .run(&bodies, |body| {
            let (status, answer) = env.post(body);
            answered_sensibly(status, &answer)
        })
        .unwrap();
    assert!(env.healthy());
    verify(&env.db);
}
