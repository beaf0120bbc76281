//! Live events over `/graphql/ws` (graphql-transport-ws) on a real server
//! process with the embedded SQLite database and the in-process bus: a
//! subscriber sees what its warehouse commits, and nothing of another
//! warehouse or another tenant; bad tokens are refused.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use std::time::Duration;

use common::server::{TestServer, admin, fixtures, provision};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

fn ws_url(server: &TestServer) -> String {
    format!("{}/graphql/ws", server.url.replacen("http://", "ws://", 1))
}

/// Opens a graphql-transport-ws connection; the token goes in the upgrade's
/// header (`header`) or in `connection_init`.
async fn open(
    server: &TestServer,
    token: &str,
    header: bool,
) -> Result<Socket, tokio_tungstenite::tungstenite::Error> {
    let mut req = ws_url(server).into_client_request().unwrap();
    req.headers_mut().insert(
        "sec-websocket-protocol",
        "graphql-transport-ws".parse().unwrap(),
    );
    if header {
        req.headers_mut()
            .insert("authorization", format!("Bearer {token}").parse().unwrap());
    }
    let (mut ws, _) = tokio_tungstenite::connect_async(req).await?;
    let payload = if header {
        json!({})
    } else {
        json!({ "authorization": format!("Bearer {token}") })
    };
    send(
        &mut ws,
        json!({ "type": "connection_init", "payload": payload }),
    )
    .await;
    Ok(ws)
}

async fn send(ws: &mut Socket, msg: Value) {
    ws.send(Message::text(msg.to_string())).await.unwrap();
}

/// The next protocol message, skipping pings; `None` if none comes in `wait`.
async fn next(ws: &mut Socket, wait: Duration) -> Option<Message> {
    loop {
        let msg = tokio::time::timeout(wait, ws.next()).await.ok()??.ok()?;
        match &msg {
            Message::Text(t) if serde_json::from_str::<Value>(t).unwrap()["type"] == "ping" => {
                continue;
            }
            Message::Ping(_) | Message::Pong(_) => continue,
            _ => return Some(msg),
        }
    }
}

async fn subscribe(server: &TestServer, token: &str, header: bool) -> Socket {
    let mut ws = open(server, token, header).await.unwrap();
    let ack = next(&mut ws, Duration::from_secs(10)).await.unwrap();
    let ack: Value = serde_json::from_str(ack.to_text().unwrap()).unwrap();
    assert_eq!(ack["type"], "connection_ack");
    send(
        &mut ws,
        json!({ "id": "1", "type": "subscribe",
                "payload": { "query": "subscription { events { type event } }" } }),
    )
    .await;
    ws
}

/// The next event of the subscription, or `None` if none comes in `wait`.
/// Workflow steps are skipped: the server's workflow engine moves the
/// imported orders of every warehouse on its own, whatever the test does.
async fn event(ws: &mut Socket, wait: Duration) -> Option<Value> {
    loop {
        let msg = next(ws, wait).await?;
        let msg: Value = serde_json::from_str(msg.to_text().unwrap()).unwrap();
        assert_eq!(msg["type"], "next", "{msg}");
        assert_eq!(msg["id"], "1");
        let data = &msg["payload"]["data"]["events"];
        assert_eq!(data["type"], data["event"]["type"]);
        if data["type"] != "workflow_step" {
            return Some(data["event"].clone());
        }
    }
}

async fn gql(server: &TestServer, token: &str, query: &str, variables: Value) -> Value {
    reqwest::Client::new()
        .post(server.graphql())
        .bearer_auth(token)
        .json(&json!({ "query": query, "variables": variables }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// Pushes one move of `qty` SKU-10001 from A-01-02 to A-01-03.
async fn push_move(server: &TestServer, token: &str, qty: i64) {
    let me = gql(server, token, "{ me { id } }", json!({})).await;
    let device = me["data"]["me"]["id"].as_str().unwrap().to_owned();
    let op = json!({
        "id": uuid::Uuid::now_v7(), "device": device, "seq": 1, "operator": "1007",
        "at": "2026-11-23T10:42:00Z", "kind": "move",
        "payload": {"sku": "SKU-10001", "qty": qty, "from": "A-01-02", "to": "A-01-03"}
    });
    let body = gql(
        server,
        token,
        "mutation($r: PushRequest!) { push(request: $r) }",
        json!({ "r": { "protocol": 1, "ops": [op] } }),
    )
    .await;
    assert_eq!(
        body["data"]["push"]["results"][0]["result"], "applied",
        "{body}"
    );
}

/// The two stock events of one move, by location (other events of it, such
/// as a negative-stock exception, are skipped).
async fn move_events(ws: &mut Socket) -> Vec<(String, i64)> {
    let mut got = Vec::new();
    while got.len() < 2 {
        let e = event(ws, Duration::from_secs(10))
            .await
            .expect("a stock event");
        if e["type"] != "stock_changed" {
            continue;
        }
        assert_eq!(e["sku"], "SKU-10001");
        got.push((
            e["location"].as_str().unwrap().to_owned(),
            e["qty"].as_i64().unwrap(),
        ));
    }
    got.sort();
    got
}

#[tokio::test]
async fn subscribers_see_their_own_warehouse_only() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("s.sqlite3").display().to_string();
    let acme = provision(&db, "acme");
    let globex = provision(&db, "globex");
    // A second warehouse of the same tenant.
    admin(
        &db,
        &[
            "import",
            "--tenant",
            "acme",
            "--warehouse",
            "DC2",
            fixtures().to_str().unwrap(),
        ],
    );
    let acme_dc2 = admin(
        &db,
        &[
            "device-token",
            "create",
            "--tenant",
            "acme",
            "--warehouse",
            "DC2",
        ],
    )
    .lines()
    .last()
    .unwrap()
    .to_owned();
    let server = TestServer::start(&db);

    // Token in connection_init, token on the upgrade: both authenticate.
    let mut acme_ws = subscribe(&server, &acme, false).await;
    let mut globex_ws = subscribe(&server, &globex, true).await;
    let mut dc2_ws = subscribe(&server, &acme_dc2, false).await;
    // A subscription is live once the server has it; give the three a
    // round trip (a ping) to be registered before anything is published.
    for ws in [&mut acme_ws, &mut globex_ws, &mut dc2_ws] {
        send(ws, json!({ "type": "ping" })).await;
        loop {
            let msg = next(ws, Duration::from_secs(10)).await.unwrap();
            let msg: Value = serde_json::from_str(msg.to_text().unwrap()).unwrap();
            if msg["type"] == "pong" {
                break;
            }
            // Only the workflow engine's own events may come first.
            assert_eq!(
                msg["payload"]["data"]["events"]["type"], "workflow_step",
                "{msg}"
            );
        }
    }

    push_move(&server, &acme, 3).await;
    let acme_seen = move_events(&mut acme_ws).await;
    assert_eq!(acme_seen[0].0, "A-01-02");
    assert_eq!(acme_seen[1].0, "A-01-03");

    // Another tenant's and another warehouse's subscribers saw nothing of it.
    assert_eq!(
        event(&mut globex_ws, Duration::from_millis(700)).await,
        None
    );
    assert_eq!(event(&mut dc2_ws, Duration::from_millis(100)).await, None);

    // globex's own move reaches globex, and only globex.
    push_move(&server, &globex, 5).await;
    let globex_seen = move_events(&mut globex_ws).await;
    // Same fixtures, different quantities moved: these are globex's numbers.
    assert_eq!(
        globex_seen[0].1 - acme_seen[0].1,
        -2,
        "{globex_seen:?} vs {acme_seen:?}"
    );
    assert_eq!(
        globex_seen[1].1 - acme_seen[1].1,
        2,
        "{globex_seen:?} vs {acme_seen:?}"
    );
    // acme's exception event may still be queued; nothing else may come.
    while let Some(e) = event(&mut acme_ws, Duration::from_millis(700)).await {
        assert_eq!(e["type"], "exception_raised", "{e}");
    }
    assert_eq!(event(&mut dc2_ws, Duration::from_millis(100)).await, None);
}

#[tokio::test]
async fn bad_tokens_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("s.sqlite3").display().to_string();
    let token = provision(&db, "acme");
    let server = TestServer::start(&db);

    // On the upgrade: 401, no WebSocket.
    match open(&server, "pyck_forged", true).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => {
            assert_eq!(resp.status().as_u16(), 401);
        }
        other => panic!("expected 401, got {:?}", other.map(|_| ())),
    }

    // In connection_init: closed with 4403, never acknowledged.
    let mut ws = open(&server, "pyck_forged", false).await.unwrap();
    let msg = next(&mut ws, Duration::from_secs(10)).await.unwrap();
    match msg {
        Message::Close(Some(frame)) => assert_eq!(frame.code, CloseCode::from(4403)),
        other => panic!("expected a 4403 close, got {other:?}"),
    }

    // No token at all: the same.
    let mut req = ws_url(&server).into_client_request().unwrap();
    req.headers_mut().insert(
        "sec-websocket-protocol",
        "graphql-transport-ws".parse().unwrap(),
    );
    let (mut ws, _) = tokio_tungstenite::connect_async(req).await.unwrap();
    send(&mut ws, json!({ "type": "connection_init" })).await;
    let msg = next(&mut ws, Duration::from_secs(10)).await.unwrap();
    assert!(
        matches!(&msg, Message::Close(Some(f)) if f.code == CloseCode::from(4403)),
        "{msg:?}"
    );

    // A token revoked while its subscriptions are open: both are closed
    // with 4403 (the server looks the token up again every few seconds),
    // whether it came on the upgrade or in connection_init.
    let mut open_ones = vec![
        subscribe(&server, &token, true).await,
        subscribe(&server, &token, false).await,
    ];
    admin(&db, &["device-token", "revoke", &token]);
    for ws in &mut open_ones {
        let msg = loop {
            match next(ws, Duration::from_secs(30)).await {
                // Events committed before the revocation may still come.
                Some(Message::Text(_)) => continue,
                other => break other,
            }
        };
        assert!(
            matches!(&msg, Some(Message::Close(Some(f))) if f.code == CloseCode::from(4403)),
            "{msg:?}"
        );
    }

    // A revoked token loses the right to subscribe.
    let mut ws = open(&server, &token, false).await.unwrap();
    let msg = next(&mut ws, Duration::from_secs(10)).await.unwrap();
    assert!(
        matches!(&msg, Message::Close(Some(f)) if f.code == CloseCode::from(4403)),
        "{msg:?}"
    );
}
