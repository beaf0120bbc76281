//! `/graphql/ws`: GraphQL subscriptions over WebSocket (the
//! graphql-transport-ws protocol; the older subscriptions-transport-ws is
//! accepted too, as async-graphql speaks both).
//!
//! The device token comes in the upgrade's `Authorization` header or, for
//! clients that cannot set headers, in the `connection_init` payload as
//! `{"authorization": "Bearer …"}`. A bad header token is refused before the
//! upgrade (401); a bad or missing token in `connection_init` closes the
//! socket with 4403. Every subscription then runs with that device's
//! [`DeviceAuth`], so it sees only its tenant's and warehouse's events.
//! The token is checked again every [`RECHECK`]: a revoked token's open
//! connection is closed with 4403 within seconds, not at its next connect.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_graphql::Data;
use async_graphql::http::{WebSocket, WebSocketProtocols, WsMessage};
use axum::extract::ws::{CloseFrame, Message};
use axum::extract::{State, WebSocketUpgrade};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures_util::{SinkExt, StreamExt};

use super::{AppState, bearer, unauthorized};
use crate::auth::token_hash;
use crate::storage::{DeviceAuth, Storage};

/// How often an open connection's token is looked up again.
pub const RECHECK: Duration = Duration::from_secs(5);

pub async fn handle(
    State(state): State<AppState>,
    headers: HeaderMap,
    upgrade: WebSocketUpgrade,
) -> Response {
    let protocol = headers
        .get(header::SEC_WEBSOCKET_PROTOCOL)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.split(',')
                .find_map(|p| p.trim().parse::<WebSocketProtocols>().ok())
        });
    let Some(protocol) = protocol else {
        return (
            StatusCode::BAD_REQUEST,
            "send `Sec-WebSocket-Protocol: graphql-transport-ws`\n",
        )
            .into_response();
    };
    // A token on the upgrade is checked now, so a bad one never upgrades.
    // The hash of the token the connection authenticated with, once known
    // (on the upgrade, or in `connection_init`), for the periodic check.
    let token = Arc::new(Mutex::new(bearer(&headers).map(token_hash)));
    let device = match bearer(&headers) {
        Some(token) => match state.storage.authenticate(&token_hash(token)).await {
            Ok(Some(device)) => Some(device),
            Ok(None) => return unauthorized("unknown or revoked device token"),
            Err(e) => {
                tracing::error!(error = %e, "authentication lookup failed");
                return (StatusCode::SERVICE_UNAVAILABLE, "storage unavailable\n").into_response();
            }
        },
        None => None,
    };
    let storage = Arc::clone(&state.storage);
    let recheck_storage = Arc::clone(&state.storage);
    let recheck_token = Arc::clone(&token);
    let schema = state.schema.clone();
    let shutdown = state.shutdown.clone();
    upgrade
        .protocols(async_graphql::http::ALL_WEBSOCKET_PROTOCOLS)
        // Subscribe messages are small; the schema's limits extension then
        // bounds the document in them as it does over HTTP.
        .max_message_size(crate::graphql::limits::MAX_WS_MESSAGE_BYTES)
        .on_upgrade(move |socket| async move {
            // The server's stop waits for this subscription's close frame.
            let _held = shutdown.hold();
            let (mut sink, stream) = socket.split();
            let input = stream
                .take_while(|m| std::future::ready(m.is_ok()))
                .filter_map(|m| {
                    std::future::ready(match m {
                        Ok(Message::Text(t)) => Some(t.as_str().as_bytes().to_vec()),
                        Ok(Message::Binary(b)) => Some(b.to_vec()),
                        _ => None,
                    })
                });
            let output =
                WebSocket::new(schema, input, protocol).on_connection_init(move |payload| {
                    connection_init(storage, device, token, payload)
                });
            futures_util::pin_mut!(output);
            let mut acknowledged = false;
            let mut recheck = tokio::time::interval(RECHECK);
            recheck.tick().await;
            loop {
                let msg = tokio::select! {
                    msg = output.next() => match msg {
                        Some(msg) => msg,
                        None => break,
                    },
                    _ = recheck.tick() => {
                        if revoked(&*recheck_storage, &recheck_token).await {
                            tracing::info!("device token revoked: closing its subscription");
                            let _ = sink
                                .send(Message::Close(Some(CloseFrame {
                                    code: 4403,
                                    reason: "device token revoked".into(),
                                })))
                                .await;
                            break;
                        }
                        continue;
                    }
                    () = shutdown.triggered() => {
                        // 1001 Going Away: the client reconnects, to another
                        // replica behind the load balancer or to this one
                        // when it is back, and pulls what it missed.
                        let _ = sink
                            .send(Message::Close(Some(CloseFrame {
                                code: 1001,
                                reason: "server shutting down".into(),
                            })))
                            .await;
                        break;
                    }
                };
                let msg = match msg {
                    WsMessage::Text(text) => {
                        acknowledged |= text.contains("\"connection_ack\"");
                        Message::Text(text.into())
                    }
                    // async-graphql closes a refused `connection_init` with
                    // 1002; graphql-transport-ws says 4403 Forbidden.
                    WsMessage::Close(code, reason) => Message::Close(Some(CloseFrame {
                        code: if code == 1002 && !acknowledged {
                            4403
                        } else {
                            code
                        },
                        reason: reason.into(),
                    })),
                };
                if sink.send(msg).await.is_err() {
                    break;
                }
            }
        })
}

/// Whether the connection's token no longer authenticates. A lookup that
/// fails (the database busy or away) is not a revocation.
async fn revoked(storage: &dyn Storage, token: &Mutex<Option<String>>) -> bool {
    let hash = token
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .clone();
    match hash {
        Some(hash) => matches!(storage.authenticate(&hash).await, Ok(None)),
        None => false,
    }
}

/// The connection's data: the device of the upgrade's token, or else of the
/// `authorization` in the `connection_init` payload (whose hash is kept in
/// `token` for the periodic check).
async fn connection_init(
    storage: Arc<dyn Storage>,
    device: Option<DeviceAuth>,
    token: Arc<Mutex<Option<String>>>,
    payload: serde_json::Value,
) -> async_graphql::Result<Data> {
    let device = match device {
        Some(device) => device,
        None => {
            let token_text = payload
                .get("authorization")
                .or_else(|| payload.get("Authorization"))
                .and_then(|v| v.as_str())
                .and_then(|v| v.split_once(' '))
                .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
                .map(|(_, token)| token.trim())
                .filter(|t| !t.is_empty())
                .ok_or_else(|| {
                    async_graphql::Error::new(
                        "authentication required: send {\"authorization\": \"Bearer <device token>\"} in connection_init",
                    )
                })?;
            let hash = token_hash(token_text);
            let device = storage
                .authenticate(&hash)
                .await
                .map_err(|e| {
                    tracing::error!(error = %e, "authentication lookup failed");
                    async_graphql::Error::new("storage unavailable")
                })?
                .ok_or_else(|| async_graphql::Error::new("unknown or revoked device token"))?;
            *token
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(hash);
            device
        }
    };
    let mut data = Data::default();
    data.insert(device);
    Ok(data)
}
