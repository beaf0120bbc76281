//! Live events from the server: a graphql-transport-ws subscription to
//! `/graphql/ws` with the device token. Every event (including a `lagged`
//! marker) is a nudge: the server's state moved, pull when convenient.
//! `pyck feed` prints them; the scanner UI and the supervisor dashboard can
//! follow them with [`follow`], or just watch [`nudges`], to pull on a nudge.

use std::time::Duration;

use super::Remote;
use futures_util::{SinkExt, StreamExt};
use pyck_vocab::events::Event;
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

/// How long a subscription waits in silence before it pings the server,
/// and then for any answer: a server that vanished without closing the
/// connection (its process stopped, its host or the network gone) is
/// noticed within two of these, where TCP alone could take minutes.
pub const KEEPALIVE: Duration = Duration::from_secs(3);

/// One open subscription.
pub struct Subscription {
    ws: Socket,
    quiet: Duration,
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
        Subscription::connect_with(remote, KEEPALIVE).await
    }

    /// [`Subscription::connect`] with another keep-alive period than
    /// [`KEEPALIVE`] (tests).
    pub async fn connect_with(remote: &Remote, quiet: Duration) -> Result<Subscription, LiveError> {
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
        match next_message(&mut ws, quiet).await? {
            m if m["type"] == "connection_ack" => {}
            m => return Err(LiveError::Lost(format!("unexpected message {m}"))),
        }
        send(
            &mut ws,
            json!({ "id": "1", "type": "subscribe", "payload": { "query": SUBSCRIPTION } }),
        )
        .await?;
        Ok(Subscription { ws, quiet })
    }

    /// The next event; an error when the connection is lost.
    pub async fn next(&mut self) -> Result<Event, LiveError> {
        loop {
            let msg = next_message(&mut self.ws, self.quiet).await?;
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

/// The next graphql-transport-ws message as JSON. After `quiet` without a
/// frame it pings (WebSocket ping; the server's stack answers pong by
/// itself); when another `quiet` passes without any frame, the connection
/// is lost.
async fn next_message(ws: &mut Socket, quiet: Duration) -> Result<Value, LiveError> {
    let mut pinged = false;
    loop {
        let frame = match tokio::time::timeout(quiet, ws.next()).await {
            Ok(frame) => frame,
            Err(_) if pinged => {
                return Err(LiveError::Lost(format!(
                    "no answer from the server for {} s",
                    (quiet * 2).as_secs_f32()
                )));
            }
            Err(_) => {
                let ping = ws.send(Message::Ping(Vec::new().into()));
                match tokio::time::timeout(quiet, ping).await {
                    Ok(Ok(())) => {}
                    Ok(Err(e)) => return Err(LiveError::Lost(e.to_string())),
                    Err(_) => return Err(LiveError::Lost("the server takes no more data".into())),
                }
                pinged = true;
                continue;
            }
        };
        // Any frame, a pong included, shows the server is there.
        pinged = false;
        let msg = frame
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

/// The first reconnect's window; it doubles with each failed try.
const FIRST_WAIT: Duration = Duration::from_millis(500);

/// The largest reconnect window.
const LONGEST_WAIT: Duration = Duration::from_secs(30);

/// A wait drawn uniformly from zero to `window` ("full jitter"), from the
/// operating system's random source: after a server restart every
/// terminal's feed loses its connection at the same instant, and waits
/// drawn from the clock or the same fixed backoff would bring them all back
/// at the same instant too.
pub fn full_jitter(window: Duration) -> Duration {
    window.mul_f64(rand::random::<f64>())
}

/// Ids of the latest events delivered, to drop a repeat: delivery is at
/// least once (docs/PROTOCOL.md, "Live events"), and a repeat comes soon
/// after its first, so a window of the last [`Seen::KEPT`] ids is enough.
#[derive(Debug, Default)]
struct Seen {
    order: std::collections::VecDeque<String>,
    ids: std::collections::HashSet<String>,
}

impl Seen {
    const KEPT: usize = 4096;

    /// False for an event whose id was delivered already; an event without
    /// an id (`lagged`, an older server's) always passes.
    fn first_time(&mut self, event: &Event) -> bool {
        let Some(id) = &event.event_id else {
            return true;
        };
        if !self.ids.insert(id.clone()) {
            return false;
        }
        self.order.push_back(id.clone());
        if self.order.len() > Self::KEPT
            && let Some(oldest) = self.order.pop_front()
        {
            self.ids.remove(&oldest);
        }
        true
    }
}

/// Follows the live events until the token is refused: `on_event` gets every
/// event once (a repeat, by its `event_id`, is dropped), `on_status` every
/// (re)connection and lost connection. Reconnects
/// after a [`full_jitter`] wait in a window that doubles from 0.5 s up to
/// 30 s, reset by a successful connection.
pub async fn follow(
    remote: &Remote,
    mut on_event: impl FnMut(Event) -> anyhow::Result<()>,
    mut on_status: impl FnMut(Status<'_>),
) -> anyhow::Result<()> {
    let mut window = FIRST_WAIT;
    let mut seen = Seen::default();
    loop {
        let err = match Subscription::connect(remote).await {
            Ok(mut sub) => {
                window = FIRST_WAIT;
                on_status(Status::Connected);
                loop {
                    match sub.next().await {
                        Ok(event) if seen.first_time(&event) => on_event(event)?,
                        Ok(_) => {}
                        Err(e) => break e,
                    }
                }
            }
            Err(e) => e,
        };
        if let LiveError::Unauthorised(_) = err {
            return Err(err.into());
        }
        let wait = full_jitter(window);
        on_status(Status::Lost(&err, wait));
        tokio::time::sleep(wait).await;
        window = (window * 2).min(LONGEST_WAIT);
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
    #![allow(clippy::unwrap_used)]

    use std::time::Duration;

    use futures_util::{SinkExt, StreamExt};
    use tokio::net::TcpListener;
    use tokio_tungstenite::tungstenite::Message;
    use tokio_tungstenite::tungstenite::handshake::server::{Request, Response};

    use super::{LiveError, Subscription};
    use crate::sync::Remote;

    /// A graphql-transport-ws server of one connection: acknowledges and
    /// takes the subscription, then `then` decides what it does.
    async fn server<F, Fut>(then: F) -> String
    where
        F: FnOnce(tokio_tungstenite::WebSocketStream<tokio::net::TcpStream>) -> Fut
            + Send
            + 'static,
        Fut: std::future::Future<Output = ()> + Send,
    {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move {
            let (tcp, _) = listener.accept().await.unwrap();
            // The handshake callback's error type is tungstenite's, large.
            #[allow(clippy::result_large_err)]
            let protocol = |_: &Request, mut resp: Response| {
                resp.headers_mut().insert(
                    "sec-websocket-protocol",
                    "graphql-transport-ws".parse().unwrap(),
                );
                Ok(resp)
            };
            let mut ws = tokio_tungstenite::accept_hdr_async(tcp, protocol)
                .await
                .unwrap();
            ws.next().await.unwrap().unwrap(); // connection_init
            ws.send(Message::text(r#"{"type":"connection_ack"}"#))
                .await
                .unwrap();
            ws.next().await.unwrap().unwrap(); // subscribe
            then(ws).await;
        });
        url
    }

    /// A server that stops answering without closing the connection (a
    /// stopped process, a cut network) is lost after the keep-alive's ping
    /// goes unanswered, not when TCP gives up minutes later.
    #[tokio::test]
    async fn a_silent_server_is_lost_when_its_ping_goes_unanswered() {
        let (hold, held) = tokio::sync::oneshot::channel::<()>();
        let url = server(|ws| async move {
            // Holds the socket open and reads nothing: no pong.
            let _ = held.await;
            drop(ws);
        })
        .await;
        let remote = Remote::new(&url, "token", None);
        let mut sub = Subscription::connect_with(&remote, Duration::from_millis(100))
            .await
            .unwrap();
        let lost = tokio::time::timeout(Duration::from_secs(20), sub.next())
            .await
            .expect("the keep-alive never gave up on a silent server");
        match lost {
            Err(LiveError::Lost(why)) => assert!(why.contains("no answer"), "{why}"),
            other => panic!("{other:?}"),
        }
        drop(hold);
    }

    /// A server that is there answers the pings (its WebSocket stack does),
    /// however long it has no event to send.
    #[tokio::test]
    async fn a_quiet_server_that_answers_pings_stays_connected() {
        let url = server(|mut ws| async move {
            // Reading answers pings; an event after many keep-alive periods.
            let until = tokio::time::Instant::now() + Duration::from_millis(1500);
            while let Ok(Some(Ok(_))) = tokio::time::timeout_at(until, ws.next()).await {}
            let event = pyck_vocab::events::Event {
                event_id: None,
                at: chrono::Utc::now(),
                warehouse: 1,
                kind: pyck_vocab::events::EventKind::Lagged { missed: 1 },
                operation: None,
                request: None,
            };
            let event = serde_json::json!({"id": "1", "type": "next", "payload": {"data": {"events": {
                "type": "lagged", "event": event
            }}}});
            ws.send(Message::text(event.to_string())).await.unwrap();
            while let Some(Ok(_)) = ws.next().await {}
        })
        .await;
        let remote = Remote::new(&url, "token", None);
        let mut sub = Subscription::connect_with(&remote, Duration::from_millis(100))
            .await
            .unwrap();
        let got = tokio::time::timeout(Duration::from_secs(20), sub.next())
            .await
            .unwrap();
        assert!(got.is_ok(), "{got:?}");
    }

    /// Waits fall anywhere in the window, differently each time: a fixed
    /// or clock-derived wait would fail (many draws, few distinct values).
    #[test]
    fn a_repeated_event_is_dropped_and_one_without_an_id_passes() {
        let event = |id: Option<&str>| pyck_vocab::events::Event {
            event_id: id.map(str::to_owned),
            at: chrono::Utc::now(),
            warehouse: 1,
            kind: pyck_vocab::events::EventKind::TaskCreated { task: "T1".into() },
            operation: None,
            request: None,
        };
        let mut seen = super::Seen::default();
        assert!(seen.first_time(&event(Some("w.0"))));
        assert!(!seen.first_time(&event(Some("w.0"))), "a repeat");
        assert!(seen.first_time(&event(Some("w.1"))));
        assert!(seen.first_time(&event(None)) && seen.first_time(&event(None)));
        // The window is bounded: the oldest id is forgotten.
        for n in 0..super::Seen::KEPT {
            seen.first_time(&event(Some(&format!("x.{n}"))));
        }
        assert_eq!(seen.ids.len(), super::Seen::KEPT);
        assert!(seen.first_time(&event(Some("w.0"))));
    }

    #[test]
    fn reconnect_waits_are_spread_over_the_whole_window() {
        let window = Duration::from_secs(30);
        let waits: Vec<Duration> = (0..1000).map(|_| super::full_jitter(window)).collect();
        assert!(waits.iter().all(|w| *w <= window));
        let distinct: std::collections::BTreeSet<_> = waits.iter().collect();
        assert!(distinct.len() > 900, "{} distinct waits", distinct.len());
        // Both halves of the window are used.
        assert!(waits.iter().any(|w| *w < window / 4));
        assert!(waits.iter().any(|w| *w > window * 3 / 4));
    }

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
