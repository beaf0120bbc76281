//! The HTTP API of a real server process: authentication, tenancy, the sync
//! protocol over GraphQL, limits, health and metrics, and the GraphQL-over-
//! HTTP audit.

#![allow(clippy::unwrap_used)]

use crate::common;

use common::server::{TestServer, device_token, provision};
use serde_json::{Value, json};

struct Env {
    _dir: tempfile::TempDir,
    db: String,
    server: TestServer,
    token: String,
}

fn env() -> Env {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("s.sqlite3").display().to_string();
    let token = provision(&db, "acme");
    let server = TestServer::start(&db);
    Env {
        _dir: dir,
        db,
        server,
        token,
    }
}

async fn gql(env: &Env, token: Option<&str>, query: &str, variables: Value) -> (u16, Value) {
    let mut req = reqwest::Client::new()
        .post(env.server.graphql())
        .header("accept", "application/graphql-response+json")
        .json(&json!({ "query": query, "variables": variables }));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

const PUSH: &str = "mutation($r: PushRequest!) { push(request: $r) }";
const PULL: &str = "query($r: PullRequest!) { pull(request: $r) }";
const ME: &str = "{ me { id } }";

fn device_of(me: &Value) -> String {
    me["data"]["me"]["id"].as_str().unwrap().to_owned()
}

fn move_op(device: &str, seq: u64, qty: i64) -> Value {
    json!({
        "id": uuid::Uuid::now_v7(), "device": device, "seq": seq, "operator": "1007",
        "at": "2026-11-23T10:42:00Z", "kind": "move",
        "payload": {"sku": "SKU-10001", "qty": qty, "from": "A-01-02", "to": "A-01-03"}
    })
}

#[tokio::test]
async fn requests_without_a_valid_token_get_nothing() {
    let env = env();
    let (status, body) = gql(&env, None, "{ items { sku } }", json!({})).await;
    assert_eq!(status, 401);
    assert_eq!(body["errors"][0]["extensions"]["code"], "unauthenticated");
    assert!(body.get("data").is_none());
    let (status, _) = gql(
        &env,
        Some("pyck_forged-token"),
        "{ items { sku } }",
        json!({}),
    )
    .await;
    assert_eq!(status, 401);
    let (status, body) = gql(&env, Some(&env.token), "{ items { sku } }", json!({})).await;
    assert_eq!(status, 200);
    assert!(body["data"]["items"].as_array().unwrap().len() >= 50);
}

#[tokio::test]
async fn a_revoked_token_is_refused() {
    let env = env();
    let other = device_token(&env.db, "acme");
    let (status, _) = gql(&env, Some(&other), ME, json!({})).await;
    assert_eq!(status, 200);
    common::server::admin(&env.db, &["device-token", "revoke", &other]);
    let (status, _) = gql(&env, Some(&other), ME, json!({})).await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn push_then_pull_over_graphql_and_duplicates_on_resend() {
    let env = env();
    let (_, me) = gql(&env, Some(&env.token), ME, json!({})).await;
    let device = device_of(&me);
    let ops: Vec<Value> = (1..=3).map(|seq| move_op(&device, seq, 2)).collect();
    let request = json!({"protocol": 1, "ops": ops});
    let (status, body) = gql(&env, Some(&env.token), PUSH, json!({"r": request})).await;
    assert_eq!(status, 200, "{body}");
    let results = body["data"]["push"]["results"].as_array().unwrap();
    assert!(results.iter().all(|r| r["result"] == "applied"), "{body}");
    assert_eq!(body["data"]["push"]["last_seq"], 3);
    let (_, again) = gql(&env, Some(&env.token), PUSH, json!({"r": request})).await;
    assert!(
        again["data"]["push"]["results"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["result"] == "duplicate")
    );

    let (_, page) = gql(
        &env,
        Some(&env.token),
        PULL,
        json!({"r": {"protocol": 1, "cursor": 0, "limit": 100000}}),
    )
    .await;
    let changes = page["data"]["pull"]["changes"].as_array().unwrap();
    let a0103 = changes
        .iter()
        .find(|c| c["entity"] == "stock" && c["key"] == "A-01-03|SKU-10001|")
        .unwrap();
    assert_eq!(a0103["data"]["qty"], 6);
}

/// The same requests through the fast path for the sync documents and through
/// the general executor (a no-op `@include` sends them there) get the same
/// status and the same body, answers and errors alike.
#[tokio::test]
async fn the_sync_fast_path_answers_as_the_general_executor_does() {
    const PUSH_GENERAL: &str =
        "mutation($r: PushRequest!) { push(request: $r) @include(if: true) }";
    const PULL_GENERAL: &str = "query($r: PullRequest!) { pull(request: $r) @include(if: true) }";
    let env = env();
    let other = device_token(&env.db, "acme");
    let (_, me) = gql(&env, Some(&env.token), ME, json!({})).await;
    let device = device_of(&me);
    let (_, me) = gql(&env, Some(&other), ME, json!({})).await;
    let other_device = device_of(&me);

    let ops: Vec<Value> = (1..=3).map(|seq| move_op(&device, seq, 2)).collect();
    let (status, first) = gql(
        &env,
        Some(&env.token),
        PUSH,
        json!({"r": {"protocol": 1, "ops": ops}}),
    )
    .await;
    assert_eq!(status, 200, "{first}");
    assert_eq!(first["data"]["push"]["last_seq"], 3, "{first}");

    let pushes = [
        json!({"protocol": 1, "ops": ops}),
        json!({"protocol": 99, "ops": []}),
        json!({"protocol": 1, "ops": [move_op(&other_device, 1, 1)]}),
        json!({"protocol": 1, "ops": [move_op(&device, 9, 1)], "backlog": 4}),
        json!({"protocol": 1, "ops": "not a list"}),
    ];
    for request in pushes {
        let fast = gql(&env, Some(&env.token), PUSH, json!({"r": request})).await;
        let general = gql(&env, Some(&env.token), PUSH_GENERAL, json!({"r": request})).await;
        assert_eq!(fast, general, "push {request}");
    }
    let pulls = [
        json!({"protocol": 1, "cursor": 0, "limit": 100000}),
        json!({"protocol": 1, "cursor": 3, "limit": 2}),
        json!({"protocol": 0, "cursor": 0, "limit": 2}),
    ];
    for request in pulls {
        let fast = gql(&env, Some(&env.token), PULL, json!({"r": request})).await;
        let general = gql(&env, Some(&env.token), PULL_GENERAL, json!({"r": request})).await;
        assert_eq!(fast, general, "pull {request}");
    }
}

#[tokio::test]
async fn a_protocol_mismatch_names_both_versions() {
    let env = env();
    let (_, body) = gql(
        &env,
        Some(&env.token),
        PULL,
        json!({"r": {"protocol": 99, "cursor": 0, "limit": 10}}),
    )
    .await;
    let err = &body["errors"][0];
    assert_eq!(err["extensions"]["code"], "protocol_version");
    let msg = err["message"].as_str().unwrap();
    assert!(msg.contains("1..=1") && msg.contains("99"), "{msg}");
}

#[tokio::test]
async fn a_device_cannot_push_for_another_device() {
    let env = env();
    let other = device_token(&env.db, "acme");
    let (_, me) = gql(&env, Some(&other), ME, json!({})).await;
    let other_device = device_of(&me);
    let request = json!({"protocol": 1, "ops": [move_op(&other_device, 1, 1)]});
    let (_, body) = gql(&env, Some(&env.token), PUSH, json!({"r": request})).await;
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "device_mismatch",
        "{body}"
    );
}

#[tokio::test]
async fn one_tenant_reads_and_writes_nothing_of_another() {
    let env = env();
    let globex = provision(&env.db, "globex");
    // acme moves stock; globex's view of the same codes does not change.
    let (_, me) = gql(&env, Some(&env.token), ME, json!({})).await;
    let acme_device = device_of(&me);
    let request = json!({"protocol": 1, "ops": [move_op(&acme_device, 1, 5)]});
    gql(&env, Some(&env.token), PUSH, json!({"r": request})).await;
    let q = r#"{ stock(location: "A-01-03") { sku qty } }"#;
    let (_, acme) = gql(&env, Some(&env.token), q, json!({})).await;
    let (_, theirs) = gql(&env, Some(&globex), q, json!({})).await;
    assert_eq!(acme["data"]["stock"][0]["qty"], 5);
    assert_eq!(theirs["data"]["stock"], json!([]));
    // globex cannot read acme's device's operations.
    let q = format!(r#"{{ operations(device: "{acme_device}") {{ seq }} }}"#);
    let (_, ops) = gql(&env, Some(&globex), &q, json!({})).await;
    assert_eq!(ops["data"]["operations"], json!([]));
    let (_, own) = gql(&env, Some(&env.token), &q, json!({})).await;
    assert_eq!(own["data"]["operations"].as_array().unwrap().len(), 1);
    // And globex's pull carries none of acme's changes.
    let (_, page) = gql(
        &env,
        Some(&globex),
        PULL,
        json!({"r": {"protocol": 1, "cursor": 0, "limit": 100000}}),
    )
    .await;
    let changes = page["data"]["pull"]["changes"].as_array().unwrap();
    assert!(changes.iter().all(|c| c["key"] != "A-01-03|SKU-10001|"));
}

#[tokio::test]
async fn oversized_bodies_get_413_and_deep_queries_are_refused() {
    let env = env();
    let huge = "x".repeat(33 * 1024 * 1024);
    let resp = reqwest::Client::new()
        .post(env.server.graphql())
        .bearer_auth(&env.token)
        .header("content-type", "application/json")
        .body(format!("{{\"query\":\"{huge}\"}}"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 413);
    let deep = "{ __schema { types { fields { type { ofType { ofType { ofType { ofType { ofType { ofType { name } } } } } } } } } } }";
    let (status, body) = gql(&env, Some(&env.token), deep, json!({})).await;
    assert_eq!(status, 400);
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("nested too deep"),
        "{body}"
    );
    // Still healthy afterwards.
    let ready = reqwest::get(format!("{}/readyz", env.server.url))
        .await
        .unwrap();
    assert_eq!(ready.status().as_u16(), 200);
}

#[tokio::test]
async fn wide_queries_over_the_complexity_limit_are_refused() {
    let env = env();
    let fields = |n: usize| -> String {
        (0..n)
            .map(|i| format!("a{i}: me {{ id }}"))
            .collect::<Vec<_>>()
            .join(" ")
    };
    // Two per alias: 100 aliases stay under the limit of 1000; 600 are over
    // the root-field limit of 100, refused before any complexity is counted.
    let (status, body) = gql(
        &env,
        Some(&env.token),
        &format!("{{ {} }}", fields(100)),
        json!({}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = gql(
        &env,
        Some(&env.token),
        &format!("{{ {} }}", fields(600)),
        json!({}),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "too_many_root_fields",
        "{body}"
    );
    // 1,200 aliases under one root field: async-graphql's complexity limit.
    let ids: Vec<_> = (0..1200).map(|i| format!("a{i}: id")).collect();
    let (status, body) = gql(
        &env,
        Some(&env.token),
        &format!("{{ me {{ {} }} }}", ids.join(" ")),
        json!({}),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("too complex"),
        "{body}"
    );
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "query_too_complex",
        "{body}"
    );
    let ready = reqwest::get(format!("{}/readyz", env.server.url))
        .await
        .unwrap();
    assert_eq!(ready.status().as_u16(), 200);
}

/// Each device token has its own bucket: a burst, then a steady rate; over
/// it, 429 with `Retry-After` and a stable code. Other devices, health
/// probes and the same device after the wait are served.
#[tokio::test]
async fn a_device_over_its_rate_gets_429_with_retry_after() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("s.sqlite3").display().to_string();
    let token = provision(&db, "acme");
    let other = device_token(&db, "acme");
    let server = TestServer::start_with(&db, &["--rate-limit", "1", "--rate-burst", "5"]);
    let env = Env {
        _dir: dir,
        db,
        server,
        token,
    };
    let mut statuses = Vec::new();
    let mut limited = None;
    for _ in 0..8 {
        let resp = reqwest::Client::new()
            .post(env.server.graphql())
            .bearer_auth(&env.token)
            .json(&json!({ "query": ME }))
            .send()
            .await
            .unwrap();
        statuses.push(resp.status().as_u16());
        if resp.status().as_u16() == 429 && limited.is_none() {
            let after = resp.headers()["retry-after"].to_str().unwrap().to_owned();
            limited = Some((after, resp.json::<Value>().await.unwrap()));
        }
    }
    // The burst passes (a request may have earned one more meanwhile).
    assert!(statuses[..5].iter().all(|s| *s == 200), "{statuses:?}");
    assert!(statuses[5..].contains(&429), "{statuses:?}");
    let (after, body) = limited.unwrap();
    assert_eq!(after, "1");
    assert_eq!(body["errors"][0]["extensions"]["code"], "rate_limited");
    // Another token and the probes are not held back.
    let (status, _) = gql(&env, Some(&other), ME, json!({})).await;
    assert_eq!(status, 200);
    let health = reqwest::get(format!("{}/healthz", env.server.url))
        .await
        .unwrap();
    assert_eq!(health.status().as_u16(), 200);
    // After the wait it is served again.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let (status, _) = gql(&env, Some(&env.token), ME, json!({})).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn health_readiness_and_metrics() {
    let env = env();
    let health = reqwest::get(format!("{}/healthz", env.server.url))
        .await
        .unwrap();
    assert_eq!(health.status().as_u16(), 200);
    let ready = reqwest::get(format!("{}/readyz", env.server.url))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(ready.contains("sqlite"));
    let (_, me) = gql(&env, Some(&env.token), ME, json!({})).await;
    let device = device_of(&me);
    let request = json!({"protocol": 1, "ops": [move_op(&device, 1, 1), move_op(&device, 3, 1)]});
    gql(&env, Some(&env.token), PUSH, json!({"r": request})).await;
    let metrics = reqwest::get(format!("{}/metrics", env.server.url))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("pyck_operations_total{result=\"applied\"} 1"),
        "{metrics}"
    );
    assert!(metrics.contains("pyck_operations_total{result=\"gap\"} 1"));
    assert!(metrics.contains("pyck_push_duration_seconds_count 1"));
    assert!(metrics.contains("pyck_http_requests_total{status=\"200\"}"));
}

/// The `graphql-http` package's audit must pass every MUST. Needs the node
/// packages of tests/graphql-http, which `scripts/test` installs; fails (not
/// skips) without them.
#[tokio::test]
async fn graphql_over_http_audit_passes_every_must() {
    let env = env();
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/graphql-http");
    assert!(
        dir.join("node_modules/graphql-http").exists(),
        "run `npm ci` in tests/graphql-http (scripts/test does it)"
    );
    let out = tokio::process::Command::new("node")
        .arg(dir.join("audit.mjs"))
        .arg(env.server.graphql())
        .arg(&env.token)
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "audit failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let summary: Value = serde_json::from_str(stdout.lines().last().unwrap()).unwrap();
    assert_eq!(summary["must_failed"], 0);
    assert!(summary["must_total"].as_u64().unwrap() >= 10);
}

/// GraphQL over HTTP: a request that executed is a 2xx even when its
/// `data` came out null (a non-null field failed); one that never executed
/// (it did not parse or validate) is a 400 without a `data` entry.
#[tokio::test]
async fn null_data_is_200_and_a_request_that_never_ran_is_400_without_data() {
    let env = env();
    // accuracyReport is a non-null list: its error nulls the whole data.
    let (status, body) = gql(
        &env,
        Some(&env.token),
        r#"{ accuracyReport(to: "soon") { counts } }"#,
        json!({}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert!(body.get("data").is_some_and(Value::is_null), "{body}");
    assert_eq!(body["errors"][0]["path"][0], "accuracyReport", "{body}");
    for never_ran in ["{ me { id }", "{ me { noSuchField } }"] {
        let (status, body) = gql(&env, Some(&env.token), never_ran, json!({})).await;
        assert_eq!(status, 400, "{never_ran}: {body}");
        assert!(body.get("data").is_none(), "{never_ran}: {body}");
        assert!(body["errors"][0]["message"].is_string(), "{body}");
    }
}

#[tokio::test]
async fn supervisors_manage_orders_counts_and_exceptions_over_graphql() {
    let env = env();
    common::server::admin(
        &env.db,
        &[
            "user",
            "create",
            "--tenant",
            "acme",
            "--badge",
            "3001",
            "--pin",
            "1234",
            "--role",
            "supervisor",
        ],
    );
    let create = r#"mutation($op: String!) { createOrder(operator: $op, order: "SO-9001", customer: "Test", lines: [{sku: "SKU-10001", qty: 5}]) { id kind location qty order } }"#;
    let (_, refused) = gql(&env, Some(&env.token), create, json!({"op": "1007"})).await;
    assert_eq!(
        refused["errors"][0]["extensions"]["code"], "forbidden",
        "{refused}"
    );
    // A customer name of a megabyte is refused, naming the field; nothing
    // is stored (the order number stays free).
    let huge = r#"mutation($op: String!, $c: String!) { createOrder(operator: $op, order: "SO-9001", customer: $c, lines: [{sku: "SKU-10001", qty: 5}]) { id } }"#;
    let (_, refused) = gql(
        &env,
        Some(&env.token),
        huge,
        json!({"op": "3001", "c": "x".repeat(1024 * 1024)}),
    )
    .await;
    let message = refused["errors"][0]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("customer") && message.contains("longer than 200"),
        "{message}"
    );
    let (_, body) = gql(&env, Some(&env.token), create, json!({"op": "3001"})).await;
    let tasks = body["data"]["createOrder"].as_array().unwrap();
    assert_eq!(tasks.len(), 1, "{body}");
    assert_eq!(tasks[0]["kind"], "pick");
    assert_eq!(tasks[0]["qty"], 5);
    // The new order's fulfilment workflow is there (the engine has reserved
    // it or is about to).
    let q = r#"{ workflow(order: "SO-9001") { order state step history { step status attempt } } workflows { order } }"#;
    let (_, wf) = gql(&env, Some(&env.token), q, json!({})).await;
    assert_eq!(wf["data"]["workflow"]["order"], "SO-9001", "{wf}");
    assert_eq!(wf["data"]["workflow"]["state"], "running", "{wf}");
    assert!(
        wf["data"]["workflows"]
            .as_array()
            .unwrap()
            .iter()
            .any(|w| w["order"] == "SO-9001")
    );
    let q = r#"{ workflow(order: "SO-404") { order } }"#;
    let (_, none) = gql(&env, Some(&env.token), q, json!({})).await;
    assert_eq!(none["data"]["workflow"], Value::Null, "{none}");
    let (_, again) = gql(&env, Some(&env.token), create, json!({"op": "3001"})).await;
    assert!(
        again["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("already exists")
    );

    // Settings: supervisors change them, audited with their badge.
    let set = r#"mutation($op: String!, $v: String!) { setSetting(operator: $op, key: "count_threshold", value: $v) { key old new by } }"#;
    let (_, refused) = gql(&env, Some(&env.token), set, json!({"op": "1007", "v": "4"})).await;
    assert_eq!(
        refused["errors"][0]["extensions"]["code"], "forbidden",
        "{refused}"
    );
    let (_, bad) = gql(
        &env,
        Some(&env.token),
        set,
        json!({"op": "3001", "v": "lots"}),
    )
    .await;
    assert_eq!(
        bad["errors"][0]["extensions"]["code"], "bad_request",
        "{bad}"
    );
    assert!(
        bad["errors"][0]["message"]
            .as_str()
            .unwrap()
            .starts_with("value: count_threshold")
    );
    let (_, changed) = gql(&env, Some(&env.token), set, json!({"op": "3001", "v": "4"})).await;
    assert_eq!(
        changed["data"]["setSetting"],
        json!({"key": "count_threshold", "old": null, "new": "4", "by": "3001"})
    );
    let q = "{ settings { countThreshold fefo } settingsHistory { key by } }";
    let (_, read) = gql(&env, Some(&env.token), q, json!({})).await;
    assert_eq!(
        read["data"]["settings"],
        json!({"countThreshold": 4, "fefo": "warn"}),
        "{read}"
    );
    assert_eq!(read["data"]["settingsHistory"].as_array().unwrap().len(), 1);

    let count = r#"mutation { createCountTask(operator: "3001", location: "A-01-02") { id kind location } }"#;
    let (_, body) = gql(&env, Some(&env.token), count, json!({})).await;
    assert_eq!(body["data"]["createCountTask"]["kind"], "count", "{body}");

    // A fact that contradicts the server raises an exception to resolve.
    let (_, me) = gql(&env, Some(&env.token), ME, json!({})).await;
    let device = device_of(&me);
    let mut op = move_op(&device, 1, 1);
    op["payload"]["from"] = json!("A-01-01");
    gql(
        &env,
        Some(&env.token),
        PUSH,
        json!({"r": {"protocol": 1, "ops": [op]}}),
    )
    .await;
    let (_, list) = gql(
        &env,
        Some(&env.token),
        "{ exceptions { id kind status } }",
        json!({}),
    )
    .await;
    let ex = &list["data"]["exceptions"][0];
    assert_eq!(ex["kind"], "negative_stock");
    let resolve = r#"mutation($id: ID!) { resolveException(operator: "3001", id: $id, note: "found behind the bin") { status } }"#;
    let (_, body) = gql(&env, Some(&env.token), resolve, json!({"id": ex["id"]})).await;
    assert_eq!(
        body["data"]["resolveException"]["status"], "resolved",
        "{body}"
    );
    let (_, missing) = gql(&env, Some(&env.token), resolve, json!({"id": "nope"})).await;
    assert_eq!(
        missing["errors"][0]["extensions"]["code"],
        "unknown_exception"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reports_over_graphql_agree_with_the_admin_cli() {
    let env = env();
    let (_, me) = gql(&env, Some(&env.token), ME, json!({})).await;
    let device = device_of(&me);
    // Two counts of one bin, both after the import: the first 3 over (an
    // exception, stock unchanged), the second right.
    let now = chrono::Utc::now();
    let count = |seq: u64, qty: i64, at: chrono::DateTime<chrono::Utc>| {
        json!({
            "id": uuid::Uuid::now_v7(), "device": device, "seq": seq, "operator": "1007",
            "at": at.to_rfc3339(), "kind": "count",
            "payload": {"sku": "SKU-10001", "qty": qty, "location": "A-01-02"}
        })
    };
    let none: Value = serde_json::from_str(&common::server::admin(
        &env.db,
        &["report", "accuracy", "--tenant", "acme", "--json"],
    ))
    .unwrap();
    assert_eq!(none, json!([]), "no counts yet");
    let (_, held) = gql(
        &env,
        Some(&env.token),
        r#"{ stock(location: "A-01-02", sku: "SKU-10001") { qty } }"#,
        json!({}),
    )
    .await;
    let held = held["data"]["stock"][0]["qty"].as_i64().unwrap_or(0);
    let ops = json!([
        count(1, held + 3, now),
        count(2, held, now + chrono::Duration::seconds(1))
    ]);
    let (_, pushed) = gql(
        &env,
        Some(&env.token),
        PUSH,
        json!({"r": {"protocol": 1, "ops": ops}}),
    )
    .await;
    assert!(
        pushed["data"]["push"]["results"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["result"] == "applied"),
        "{pushed}"
    );

    let today = now.date_naive();
    let vars =
        json!({"from": today.to_string(), "to": (today + chrono::Duration::days(1)).to_string()});
    let q = r#"query($from: String, $to: String) {
        accuracyReport(from: $from, to: $to) { warehouse counts matched accuracy absoluteVariance netVariance }
        exceptionsReport(from: $from, to: $to) { day kind raised resolved }
        productivityReport(from: $from, to: $to) { operator }
        receivingReport(from: $from, to: $to) { asn }
        cycleTimeReport(from: $from, to: $to) { orders { order } summary { shipped medianSeconds p90Seconds } }
    }"#;
    let (_, body) = gql(&env, Some(&env.token), q, vars).await;
    let d = &body["data"];
    assert_eq!(
        d["accuracyReport"],
        json!([{"warehouse": "DC1", "counts": 2, "matched": 1, "accuracy": 0.5, "absoluteVariance": 3, "netVariance": 3}]),
        "{body}"
    );
    assert_eq!(
        d["exceptionsReport"],
        json!([{"day": today.to_string(), "kind": "count_difference", "raised": 1, "resolved": 0}])
    );
    assert_eq!(d["productivityReport"], json!([]));
    assert_eq!(d["receivingReport"], json!([]));
    assert_eq!(d["cycleTimeReport"]["summary"]["shipped"], 0);
    // The admin CLI computes the same rows.
    let cli: Value = serde_json::from_str(&common::server::admin(
        &env.db,
        &[
            "report",
            "accuracy",
            "--tenant",
            "acme",
            "--warehouse",
            "DC1",
            "--json",
        ],
    ))
    .unwrap();
    assert_eq!(
        cli[0]["absolute_variance"],
        d["accuracyReport"][0]["absoluteVariance"]
    );
    assert_eq!(cli[0]["matched"], d["accuracyReport"][0]["matched"]);

    let (_, bad) = gql(
        &env,
        Some(&env.token),
        r#"{ accuracyReport(to: "soon") { counts } }"#,
        json!({}),
    )
    .await;
    assert_eq!(
        bad["errors"][0]["extensions"]["code"], "bad_request",
        "{bad}"
    );
    assert!(
        bad["errors"][0]["message"]
            .as_str()
            .unwrap()
            .starts_with("to:"),
        "{bad}"
    );
    let (_, anon) = gql(&env, None, r#"{ accuracyReport { counts } }"#, json!({})).await;
    assert!(
        anon["data"].is_null() || anon["data"]["accuracyReport"].is_null(),
        "{anon}"
    );
}
