//! `/graphql/ws` speaks graphql-transport-ws as its specification says, to
//! raw frames on a real server process: each breach closes with the
//! specification's code and a reason that fits a close frame; pings are
//! answered before and after the handshake; a socket that never sends
//! `connection_init` is closed with 4408 and one that answers nothing
//! (a half-open link) is dropped; the connections and subscriptions one
//! tenant may hold are bounded, and the upgrade counts against the
//! device's rate.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use std::io::{Read, Write};
use std::time::Duration;

use common::server::{TestServer, device_token, provision};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

const SUBSCRIPTION: &str = "subscription { events { type event } }";

/// A server with a short init timeout and keep-alive (`options` more).
fn server(options: &[&str]) -> (tempfile::TempDir, String, TestServer) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("s.sqlite3").display().to_string();
    let token = provision(&db, "acme");
    let server = TestServer::start_with(&db, options);
    (dir, token, server)
}

fn ws_url(server: &TestServer) -> String {
    format!("{}/graphql/ws", server.url.replacen("http://", "ws://", 1))
}

/// An upgraded socket, the token on the upgrade when given.
async fn connect(
    server: &TestServer,
    token: Option<&str>,
) -> Result<Socket, tokio_tungstenite::tungstenite::Error> {
    let mut req = ws_url(server).into_client_request().unwrap();
    req.headers_mut().insert(
        "sec-websocket-protocol",
        "graphql-transport-ws".parse().unwrap(),
    );
    if let Some(token) = token {
        req.headers_mut()
            .insert("authorization", format!("Bearer {token}").parse().unwrap());
    }
    Ok(tokio_tungstenite::connect_async(req).await?.0)
}

async fn send(ws: &mut Socket, text: &str) {
    ws.send(Message::text(text)).await.unwrap();
}

/// The next frame that is not a WebSocket ping or pong, within 20 s.
async fn next(ws: &mut Socket) -> Message {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let msg = tokio::time::timeout_at(deadline, ws.next())
            .await
            .expect("the server sent nothing")
            .expect("the connection ended without a close frame")
            .unwrap();
        if !matches!(msg, Message::Ping(_) | Message::Pong(_)) {
            return msg;
        }
    }
}

async fn next_json(ws: &mut Socket) -> Value {
    match next(ws).await {
        Message::Text(t) => serde_json::from_str(&t).unwrap(),
        other => panic!("expected a message, got {other:?}"),
    }
}

/// Reads until the server closes; its code and reason. A reason over 123
/// bytes would not even parse (RFC 6455 5.5): the client would see an
/// error instead, failing here.
async fn closed(ws: &mut Socket) -> (u16, String) {
    loop {
        match next(ws).await {
            Message::Close(Some(frame)) => {
                assert!(frame.reason.len() <= 123, "{frame:?}");
                return (u16::from(frame.code), frame.reason.to_string());
            }
            Message::Close(None) => panic!("closed without a code"),
            // Workflow events may come before the close.
            Message::Text(_) => continue,
            other => panic!("expected a close, got {other:?}"),
        }
    }
}

/// A socket acknowledged with the token on the upgrade.
async fn acknowledged(server: &TestServer, token: &str) -> Socket {
    let mut ws = connect(server, Some(token)).await.unwrap();
    send(&mut ws, r#"{"type":"connection_init"}"#).await;
    assert_eq!(next_json(&mut ws).await["type"], "connection_ack");
    ws
}

/// Pings and reads up to the pong; no operation may be refused meanwhile.
async fn pong(ws: &mut Socket) {
    send(ws, r#"{"type":"ping"}"#).await;
    loop {
        let msg = next_json(ws).await;
        assert_ne!(msg["type"], "error", "{msg}");
        if msg["type"] == "pong" {
            return;
        }
    }
}

fn subscribe(id: &str, query: &str) -> String {
    json!({ "id": id, "type": "subscribe", "payload": { "query": query } }).to_string()
}

#[tokio::test]
async fn each_breach_of_the_protocol_closes_with_its_code() {
    let (_dir, token, server) = server(&["--ws-init-timeout", "1"]);

    // Pings are answered before the handshake and after, with the payload.
    let mut ws = connect(&server, Some(&token)).await.unwrap();
    send(&mut ws, r#"{"type":"ping","payload":{"n":1}}"#).await;
    assert_eq!(
        next_json(&mut ws).await,
        json!({ "type": "pong", "payload": { "n": 1 } })
    );
    send(&mut ws, r#"{"type":"connection_init"}"#).await;
    assert_eq!(next_json(&mut ws).await["type"], "connection_ack");
    send(&mut ws, r#"{"type":"ping"}"#).await;
    assert_eq!(next_json(&mut ws).await, json!({ "type": "pong" }));

    // 4400: not JSON; a message of no known type; a subscribe without its
    // payload.
    for bad in [
        "{not json",
        r#"{"type":"start","id":"1"}"#,
        r#"{"type":"subscribe","id":"1"}"#,
    ] {
        let mut ws = acknowledged(&server, &token).await;
        send(&mut ws, bad).await;
        assert_eq!(closed(&mut ws).await.0, 4400, "{bad}");
    }

    // 4401: subscribe before connection_init.
    let mut ws = connect(&server, Some(&token)).await.unwrap();
    send(&mut ws, &subscribe("1", SUBSCRIPTION)).await;
    assert_eq!(closed(&mut ws).await, (4401, "Unauthorized".into()));

    // 4409: a second subscribe under an id in use.
    let mut ws = acknowledged(&server, &token).await;
    send(&mut ws, &subscribe("1", SUBSCRIPTION)).await;
    send(&mut ws, &subscribe("1", SUBSCRIPTION)).await;
    assert_eq!(
        closed(&mut ws).await,
        (4409, "Subscriber for 1 already exists".into())
    );
    // ...however long the id, the reason fits a close frame.
    let mut ws = acknowledged(&server, &token).await;
    let id = "x".repeat(300);
    send(&mut ws, &subscribe(&id, SUBSCRIPTION)).await;
    send(&mut ws, &subscribe(&id, SUBSCRIPTION)).await;
    assert_eq!(closed(&mut ws).await.0, 4409);

    // An id is free again once its subscription was completed.
    let mut ws = acknowledged(&server, &token).await;
    send(&mut ws, &subscribe("1", SUBSCRIPTION)).await;
    send(&mut ws, r#"{"id":"1","type":"complete"}"#).await;
    send(&mut ws, &subscribe("1", SUBSCRIPTION)).await;
    send(&mut ws, r#"{"type":"ping"}"#).await;
    loop {
        let msg = next_json(&mut ws).await;
        if msg["type"] == "pong" {
            break;
        }
        assert_eq!(msg["type"], "next", "{msg}");
    }

    // 4429: a second connection_init.
    let mut ws = acknowledged(&server, &token).await;
    send(&mut ws, r#"{"type":"connection_init"}"#).await;
    assert_eq!(closed(&mut ws).await.0, 4429);

    // 4403: no token anywhere; its reason (the hint where the token goes)
    // fits a close frame.
    let mut ws = connect(&server, None).await.unwrap();
    send(&mut ws, r#"{"type":"connection_init","payload":{}}"#).await;
    let (code, reason) = closed(&mut ws).await;
    assert_eq!(code, 4403);
    assert!(reason.contains("authorization"), "{reason}");

    // 4408: no connection_init within the init timeout (1 s here).
    let mut ws = connect(&server, Some(&token)).await.unwrap();
    assert_eq!(
        closed(&mut ws).await,
        (4408, "Connection initialisation timeout".into())
    );

    // A query is refused with `error` (queries go over HTTP), and so is a
    // document that does not parse; the connection stays.
    let mut ws = acknowledged(&server, &token).await;
    send(&mut ws, &subscribe("q", "{ me { id } }")).await;
    let refused = next_json(&mut ws).await;
    assert_eq!(refused["type"], "error", "{refused}");
    assert_eq!(refused["id"], "q");
    assert_eq!(
        refused["payload"][0]["extensions"]["code"], "subscriptions_only",
        "{refused}"
    );
    send(&mut ws, &subscribe("p", "subscription {")).await;
    let refused = next_json(&mut ws).await;
    assert_eq!(refused["type"], "error", "{refused}");
    assert!(refused["payload"][0]["message"].is_string(), "{refused}");
    send(&mut ws, r#"{"type":"ping"}"#).await;
    assert_eq!(next_json(&mut ws).await["type"], "pong");
}

/// The server pings every keep-alive; a socket that answers nothing (its
/// peer gone without a FIN: a handheld out of Wi-Fi range) is dropped after
/// two keep-alives. A raw TCP client, so nothing answers the pings for it.
#[tokio::test]
async fn a_peer_that_answers_no_ping_is_dropped() {
    let (_dir, token, server) = server(&["--ws-keepalive", "1", "--ws-init-timeout", "60"]);
    let addr = server.url.strip_prefix("http://").unwrap().to_owned();
    let frames = tokio::task::spawn_blocking(move || {
        let mut tcp = std::net::TcpStream::connect(&addr).unwrap();
        tcp.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        write!(
            tcp,
            "GET /graphql/ws HTTP/1.1\r\nhost: {addr}\r\nupgrade: websocket\r\nconnection: upgrade\r\n\
             sec-websocket-version: 13\r\nsec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
             sec-websocket-protocol: graphql-transport-ws\r\nauthorization: Bearer {token}\r\n\r\n"
        )
        .unwrap();
        // connection_init as one masked text frame (mask 0: the payload as is).
        let init = br#"{"type":"connection_init"}"#;
        let mut frame = vec![0x81, 0x80 | init.len() as u8, 0, 0, 0, 0];
        frame.extend_from_slice(init);
        tcp.write_all(&frame).unwrap();
        // Everything until the server hangs up; a read timeout fails.
        let mut bytes = Vec::new();
        tcp.read_to_end(&mut bytes)
            .expect("the server never dropped a silent peer");
        bytes
    })
    .await
    .unwrap();
    let head_end = frames
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("an HTTP answer");
    let head = String::from_utf8_lossy(&frames[..head_end]);
    assert!(head.starts_with("HTTP/1.1 101"), "{head}");
    let body = &frames[head_end + 4..];
    // The frames after the upgrade: the acknowledgement, then pings, and
    // no close frame (there is nobody to read one).
    let mut opcodes = Vec::new();
    let mut rest = body;
    while rest.len() >= 2 {
        let len = usize::from(rest[1] & 0x7f);
        opcodes.push(rest[0] & 0x0f);
        rest = &rest[(2 + len).min(rest.len())..];
    }
    assert_eq!(opcodes.first(), Some(&0x1), "{opcodes:?}"); // connection_ack
    assert!(opcodes.contains(&0x9), "no ping: {opcodes:?}");
    assert!(!opcodes.contains(&0x8), "a close frame: {opcodes:?}");
}

#[tokio::test]
async fn connections_and_subscriptions_are_bounded_per_tenant() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("s.sqlite3").display().to_string();
    let acme = provision(&db, "acme");
    let acme2 = device_token(&db, "acme");
    let globex = provision(&db, "globex");
    let server = TestServer::start_with(
        &db,
        &[
            "--ws-connections-per-tenant",
            "2",
            "--ws-subscriptions-per-tenant",
            "3",
        ],
    );

    // Two connections of acme, from two devices; a third is refused before
    // the upgrade (429 too_many_connections), another tenant's is not.
    let mut first = acknowledged(&server, &acme).await;
    let second = acknowledged(&server, &acme2).await;
    match connect(&server, Some(&acme)).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => {
            assert_eq!(resp.status().as_u16(), 429);
            let body: Value = serde_json::from_slice(resp.body().as_deref().unwrap()).unwrap();
            assert_eq!(
                body["errors"][0]["extensions"]["code"],
                "too_many_connections"
            );
        }
        other => panic!("expected 429, got {:?}", other.map(|_| ())),
    }
    let mut other_tenant = acknowledged(&server, &globex).await;
    // With the token in connection_init the tenant is known only then:
    // closed 1013 Try Again Later.
    let mut ws = connect(&server, None).await.unwrap();
    let init = json!({ "type": "connection_init", "payload": { "authorization": format!("Bearer {acme}") } });
    send(&mut ws, &init.to_string()).await;
    let (code, reason) = closed(&mut ws).await;
    assert_eq!(code, 1013);
    assert!(reason.starts_with("too_many_connections"), "{reason}");

    // Closing one gives its place back (once the server has seen it go).
    drop(second);
    let mut attempts = 0;
    let mut third = loop {
        match connect(&server, Some(&acme)).await {
            Ok(mut ws) => {
                send(&mut ws, r#"{"type":"connection_init"}"#).await;
                assert_eq!(next_json(&mut ws).await["type"], "connection_ack");
                break ws;
            }
            Err(e) => {
                attempts += 1;
                assert!(
                    attempts < 100,
                    "the closed connection's place never came back: {e}"
                );
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    };

    // Three subscriptions of acme over its two connections; a fourth is
    // refused with `error` too_many_subscriptions, and its connection stays.
    send(&mut first, &subscribe("1", SUBSCRIPTION)).await;
    send(&mut first, &subscribe("2", SUBSCRIPTION)).await;
    // A connection's messages are handled in order: its pong means both
    // subscriptions hold their places before the other connection asks.
    pong(&mut first).await;
    send(&mut third, &subscribe("1", SUBSCRIPTION)).await;
    send(&mut third, &subscribe("2", SUBSCRIPTION)).await;
    let refused = loop {
        let msg = next_json(&mut third).await;
        if msg["type"] == "error" {
            break msg;
        }
        assert_eq!(msg["type"], "next", "{msg}");
    };
    assert_eq!(refused["id"], "2", "{refused}");
    assert_eq!(
        refused["payload"][0]["extensions"]["code"], "too_many_subscriptions",
        "{refused}"
    );
    // Another tenant subscribes all the same.
    send(&mut other_tenant, &subscribe("1", SUBSCRIPTION)).await;
    pong(&mut other_tenant).await;
    // A completed subscription gives its place back (once the server has
    // handled the complete: polled, boundedly).
    send(&mut first, r#"{"id":"1","type":"complete"}"#).await;
    for attempt in 0.. {
        assert!(
            attempt < 100,
            "the completed subscription's place never came back"
        );
        send(&mut third, &subscribe("3", SUBSCRIPTION)).await;
        send(&mut third, r#"{"type":"ping"}"#).await;
        let mut refused = false;
        loop {
            let msg = next_json(&mut third).await;
            refused |= msg["type"] == "error" && msg["id"] == "3";
            if msg["type"] == "pong" {
                break;
            }
        }
        if !refused {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The upgrade counts against the device's rate like any request.
#[tokio::test]
async fn upgrades_count_against_the_device_rate() {
    let (_dir, token, server) = server(&["--rate-limit", "1", "--rate-burst", "2"]);
    let mut refused = None;
    for _ in 0..5 {
        match connect(&server, Some(&token)).await {
            Ok(ws) => drop(ws),
            Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => {
                refused = Some(resp);
                break;
            }
            Err(e) => panic!("{e}"),
        }
    }
    let resp = refused.expect("five upgrades at once were all let through");
    assert_eq!(resp.status().as_u16(), 429);
    assert!(resp.headers().contains_key("retry-after"));
}
