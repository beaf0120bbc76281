//! Live events from the server: a graphql-transport-ws subscription to
//! `/graphql/ws` with the device token. Every event (including a `lagged`
//! marker) is a nudge: the server's state moved, pull when convenient.
//! `pyck feed` prints them; the scanner UI and the supervisor dashboard can
//! follow them with [`follow`], or just watch [`nudges`], to pull on a nudge.

use std::time::Duration;

use super::Remote;
use futures_util::{SinkExt, StreamExt};
use pyck_sync::events::Event;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

/// The subscription document the terminal sends.
pub const SUBSCRIPTION: &str = "subscription { events { type event } }";

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Why a subscription stopped.
#[derive(Debug, thiserror::Error)]
pub enum LiveError {
    /// The token was refused: reconnecting will not help.
    #[error("the server refused this device's token: {0}")]
    Unauthorised(String),
    /// The connection failed or was lost: try again later.
    #[error("{0}")]
    Lost(String),
}

/// One open subscription.
pub struct Subscription {
    ws: Socket,
}

/// `http://host:port` → `ws://host:port/graphql/ws` (`https` → `wss`).
pub fn ws_url(server: &str) -> String {
    let base = server.trim_end_matches('/');
    let base = if let Some(rest) = base.strip_prefix("https://") {
        format!("wss://{rest}")
    } else if let Some(rest) = base.strip_prefix("http://") {
        format!("ws://{rest}")
    } else {
        base.to_owned()
    };
    format!("{base}/graphql/ws")
}

impl Subscription {
    /// Connects, authenticates and subscribes; returns once the server has
    /// acknowledged the connection.
    pub async fn connect(remote: &Remote) -> Result<Subscription, LiveError> {
        let lost = |e: &dyn std::fmt::Display| LiveError::Lost(format!("{e}"));
        let mut req = ws_url(&remote.server)
            .into_client_request()
            .map_err(|e| lost(&e))?;
        let headers = req.headers_mut();
        headers.insert(
            "sec-websocket-protocol",
            "graphql-transport-ws".parse().map_err(|e| lost(&e))?,
        );
        headers.insert(
            "authorization",
            format!("Bearer {}", remote.token)
                .parse()
                .map_err(|_| LiveError::Unauthorised("the token is not a valid header".into()))?,
        );
        let tls = remote.ws_connector().map_err(|e| lost(&e))?;
        let connect = tokio_tungstenite::connect_async_tls_with_config(req, None, false, tls);
        let (mut ws, _) = match tokio::time::timeout(Duration::from_secs(10), connect).await {
            Err(_) => return Err(LiveError::Lost("connection timed out".into())),
            Ok(Err(tokio_tungstenite::tungstenite::Error::Http(resp)))
                if resp.status().as_u16() == 401 =>
            {
                return Err(LiveError::Unauthorised(
                    "unknown or revoked device token".into(),
                ));
            }
            Ok(Err(e)) => return Err(lost(&e)),
            Ok(Ok(ok)) => ok,
        };
        send(&mut ws, json!({ "type": "connection_init", "payload": {} })).await?;
        match next_message(&mut ws).await? {
            m if m["type"] == "connection_ack" => {}
            m => return Err(LiveError::Lost(format!("unexpected message {m}"))),
        }
        send(
            &mut ws,
            json!({ "id": "1", "type": "subscribe", "payload": { "query": SUBSCRIPTION } }),
        )
        .await?;
        Ok(Subscription { ws })
    }

    /// The next event; an error when the connection is lost.
    pub async fn next(&mut self) -> Result<Event, LiveError> {
        loop {
            let msg = next_message(&mut self.ws).await?;
            match msg["type"].as_str() {
                Some("next") => {
                    let event = &msg["payload"]["data"]["events"]["event"];
                    match serde_json::from_value::<Event>(event.clone()) {
                        Ok(event) => return Ok(event),
                        // A newer server's event this build does not know:
                        // still a nudge, but nothing to print faithfully.
                        Err(_) => continue,
                    }
                }
                Some("ping") => send(&mut self.ws, json!({ "type": "pong" })).await?,
                Some("error") => {
                    return Err(LiveError::Lost(format!(
                        "subscription refused: {}",
                        msg["payload"]
                    )));
                }
                Some("complete") => return Err(LiveError::Lost("subscription ended".into())),
                _ => continue,
            }
        }
    }
}

async fn send(ws: &mut Socket, msg: Value) -> Result<(), LiveError> {
    ws.send(Message::text(msg.to_string()))
        .await
        .map_err(|e| LiveError::Lost(e.to_string()))
}

/// The next graphql-transport-ws message as JSON.
async fn next_message(ws: &mut Socket) -> Result<Value, LiveError> {
    loop {
        let msg = ws
            .next()
            .await
            .ok_or_else(|| LiveError::Lost("connection closed".into()))?
            .map_err(|e| LiveError::Lost(e.to_string()))?;
        match msg {
            Message::Text(text) => {
                return serde_json::from_str(text.as_str())
                    .map_err(|e| LiveError::Lost(format!("unreadable message: {e}")));
            }
            Message::Close(frame) => {
                return Err(match frame {
                    Some(f) if u16::from(f.code) == 4401 || u16::from(f.code) == 4403 => {
                        LiveError::Unauthorised(f.reason.to_string())
                    }
                    Some(f) => LiveError::Lost(format!("closed by the server: {}", f.reason)),
                    None => LiveError::Lost("closed by the server".into()),
                });
            }
            _ => continue,
        }
    }
}

/// What [`follow`] reports besides events.
#[derive(Debug)]
pub enum Status<'a> {
    /// Subscribed (again).
    Connected,
    /// The connection failed or was lost; the next try is after the wait.
    Lost(&'a LiveError, Duration),
}

/// Follows the live events until the token is refused: `on_event` gets every
/// event, `on_status` every (re)connection and lost connection. Reconnects
/// with exponential backoff (0.5 s up to 30 s), reset by a successful
/// connection.
pub async fn follow(
    remote: &Remote,
    mut on_event: impl FnMut(Event) -> anyhow::Result<()>,
    mut on_status: impl FnMut(Status<'_>),
) -> anyhow::Result<()> {
    let mut wait = Duration::from_millis(500);
    loop {
        let err = match Subscription::connect(remote).await {
            Ok(mut sub) => {
                wait = Duration::from_millis(500);
                on_status(Status::Connected);
                loop {
                    match sub.next().await {
                        Ok(event) => on_event(event)?,
                        Err(e) => break e,
                    }
                }
            }
            Err(e) => e,
        };
        if let LiveError::Unauthorised(_) = err {
            return Err(err.into());
        }
        on_status(Status::Lost(&err, wait));
        tokio::time::sleep(wait).await;
        wait = (wait * 2).min(Duration::from_secs(30));
    }
}

/// Nudges for a UI's event loop: a counter that goes up with every event
/// (coalesced, so a burst is one wake-up), followed in a background task
/// that reconnects on its own. On a change, pull. The task ends when the
/// token is refused or the receiver is dropped.
pub fn nudges(remote: Remote) -> tokio::sync::watch::Receiver<u64> {
    let (tx, rx) = tokio::sync::watch::channel(0_u64);
    tokio::spawn(async move {
        let closed = tx.clone();
        let follow = follow(
            &remote,
            |_| {
                tx.send_modify(|n| *n += 1);
                Ok(())
            },
            |_| {},
        );
        tokio::select! {
            _ = follow => {},
            () = closed.closed() => {},
        }
    });
    rx
}

#[cfg(test)]
mod tests {
    #[test]
    fn websocket_address_of_a_server() {
        assert_eq!(
            super::ws_url("http://127.0.0.1:7415/"),
            "ws://127.0.0.1:7415/graphql/ws"
        );
        assert_eq!(
            super::ws_url("https://wms.example"),
            "wss://wms.example/graphql/ws"
        );
    }
}
