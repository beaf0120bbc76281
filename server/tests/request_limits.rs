//! Issue 19, findings 1–3, against a real server process: one device token
//! sends a value literal nested 1,400 deep (over HTTP, inside `push`, and in
//! a `/graphql/ws` subscribe), a 26-level fragment bomb, or 60 aliased
//! `pull`s. Each is refused with a stable code before any expensive work,
//! and the server stays up: `/healthz` answers and another tenant's request
//! is served right after.

#![allow(clippy::unwrap_used)]

use crate::common;

use std::time::Duration;

use common::server::{TestServer, provision};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

/// How deep the probes nested: enough to overflow the stack before.
const DEEP: usize = 1_400;

struct Env {
    _dir: tempfile::TempDir,
    server: TestServer,
    attacker: String,
    other_tenant: String,
}

fn env() -> Env {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("s.sqlite3").display().to_string();
    let attacker = provision(&db, "acme");
    let other_tenant = provision(&db, "globex");
    let server = TestServer::start(&db);
    Env {
        _dir: dir,
        server,
        attacker,
        other_tenant,
    }
}

/// A generous deadline: without the limits, the fragment bomb kept a
/// release server busy for 35 s; the test only needs it to end.
fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(120))
        .build()
        .unwrap()
}

async fn gql(env: &Env, token: &str, query: &str, variables: Value) -> (u16, Value) {
    let resp = client()
        .post(env.server.graphql())
        .bearer_auth(token)
        .header("accept", "application/graphql-response+json")
        .json(&json!({ "query": query, "variables": variables }))
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

/// The server is alive and serves another tenant's ordinary request.
async fn still_serving(env: &Env, after: &str) {
    let health = client()
        .get(format!("{}/healthz", env.server.url))
        .send()
        .await
        .unwrap_or_else(|e| panic!("after {after}: /healthz did not answer: {e}"));
    assert_eq!(health.status().as_u16(), 200, "after {after}");
    let (status, body) = gql(env, &env.other_tenant, "{ me { id } }", json!({})).await;
    assert_eq!(status, 200, "after {after}: {body}");
    assert!(
        body["data"]["me"]["id"].is_string(),
        "after {after}: {body}"
    );
}

fn nested(open: &str, inner: &str, close: &str) -> String {
    format!("{}{inner}{}", open.repeat(DEEP), close.repeat(DEEP))
}

fn fragment_bomb() -> String {
    let mut q = String::from("query { ...F26 }\nfragment F0 on Query { me { id } }\n");
    for i in 1..=26 {
        q.push_str(&format!(
            "fragment F{i} on Query {{ ...F{p} ...F{p} }}\n",
            p = i - 1
        ));
    }
    q
}

fn aliased_pulls(n: usize) -> String {
    let pulls: Vec<_> = (0..n).map(|i| format!("p{i}: pull(request: $r)")).collect();
    format!("query($r: PullRequest!) {{ {} }}", pulls.join(" "))
}

#[tokio::test]
async fn deep_fragment_bombs_and_repeated_pulls_are_refused_and_the_server_stays_up() {
    let env = env();
    let pull = json!({"r": {"protocol": 1, "cursor": 0, "limit": 10000}});
    let attacks = [
        (
            "a list literal 1,400 deep",
            format!(
                "{{ stock(location: {}) {{ qty }} }}",
                nested("[", "\"A-01-01\"", "]")
            ),
            json!({}),
            "nesting_too_deep",
        ),
        (
            "an object literal 1,400 deep inside push",
            format!(
                "mutation {{ push(request: {{protocol: 1, ops: [{{payload: {}}}]}}) }}",
                nested("{a:", "1", "}")
            ),
            json!({}),
            "nesting_too_deep",
        ),
        (
            "a 26-level fragment bomb",
            fragment_bomb(),
            json!({}),
            "query_too_complex",
        ),
        (
            "60 aliased pulls",
            aliased_pulls(60),
            pull.clone(),
            "too_many_root_fields",
        ),
        (
            "two aliased pulls",
            aliased_pulls(2),
            pull.clone(),
            "too_many_root_fields",
        ),
    ];
    for (name, query, variables, code) in attacks {
        let (status, body) = gql(&env, &env.attacker, &query, variables).await;
        assert_eq!(status, 400, "{name}: {body}");
        assert_eq!(
            body["errors"][0]["extensions"]["code"], code,
            "{name}: {body}"
        );
        assert!(
            body.get("data").is_none_or(Value::is_null),
            "{name}: {body}"
        );
        still_serving(&env, name).await;
    }
    // One pull per request is what the terminal sends, and still works.
    let (status, body) = gql(&env, &env.attacker, &aliased_pulls(1), pull).await;
    assert_eq!(status, 200, "{body}");
    assert!(body["data"]["p0"]["changes"].is_array(), "{body}");
}

#[tokio::test]
async fn a_deep_subscribe_over_websocket_is_refused_and_the_server_stays_up() {
    let env = env();
    let url = format!(
        "{}/graphql/ws",
        env.server.url.replacen("http://", "ws://", 1)
    );
    let mut req = url.into_client_request().unwrap();
    req.headers_mut().insert(
        "sec-websocket-protocol",
        "graphql-transport-ws".parse().unwrap(),
    );
    req.headers_mut().insert(
        "authorization",
        format!("Bearer {}", env.attacker).parse().unwrap(),
    );
    let (mut ws, _) = tokio_tungstenite::connect_async(req).await.unwrap();
    let send = |msg: Value| Message::text(msg.to_string());
    ws.send(send(json!({"type": "connection_init", "payload": {}})))
        .await
        .unwrap();
    let query = format!(
        "subscription {{ events(filter: {}) {{ type }} }}",
        nested("{a:", "1", "}")
    );
    ws.send(send(
        json!({"id": "1", "type": "subscribe", "payload": {"query": query}}),
    ))
    .await
    .unwrap();
    let mut refusal = None;
    while let Ok(Some(Ok(msg))) = tokio::time::timeout(Duration::from_secs(20), ws.next()).await {
        let Message::Text(text) = msg else { continue };
        let msg: Value = serde_json::from_str(&text).unwrap();
        if msg["type"] == "error" || msg["type"] == "next" {
            refusal = Some(msg);
            break;
        }
    }
    let refusal = refusal.expect("the subscribe was never refused");
    assert_eq!(refusal["id"], "1", "{refusal}");
    // graphql-transport-ws: a subscribe refused before execution is
    // answered with `error`, its payload the list of errors.
    assert_eq!(refusal["type"], "error", "{refusal}");
    assert_eq!(
        refusal["payload"][0]["extensions"]["code"], "nesting_too_deep",
        "{refusal}"
    );
    still_serving(&env, "a deep subscribe").await;
}
