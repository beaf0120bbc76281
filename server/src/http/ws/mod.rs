//! `/graphql/ws`: GraphQL subscriptions over WebSocket, in the
//! graphql-transport-ws protocol (its rules in [`protocol`], its bounds and
//! times in [`places`]).
//!
//! The device token comes in the upgrade's `Authorization` header or, for
//! clients that cannot set headers, in the `connection_init` payload as
//! `{"authorization": "Bearer …"}`. A bad header token is refused before the
//! upgrade (401); a bad or missing token in `connection_init` closes the
//! socket with 4403. A header token's upgrade counts against its device's
//! rate and waits for a place among its tenant's requests, as any GraphQL
//! request; a `connection_init` token's handshake and every `subscribe`
//! count against the device's rate too. Every subscription then runs with
//! that device's [`DeviceAuth`], so it sees only its tenant's and
//! warehouse's events. The token is checked again every [`RECHECK`]: a
//! revoked token's open connection is closed with 4403 within seconds, not
//! at its next connect.
//!
//! Only subscriptions run here: queries and mutations go over HTTP, where
//! the per-tenant places and the body timeout hold.

pub mod places;
pub mod protocol;

use std::time::{Duration, Instant};

use async_graphql::parser::types::OperationType;
use async_graphql::{ServerError, Variables};
use axum::extract::ws::{CloseFrame, Message, WebSocket};
use axum::extract::{Request, State, WebSocketUpgrade};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use futures_util::stream::{AbortHandle, BoxStream, SelectAll};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Map, Value, json};
use tokio::sync::OwnedSemaphorePermit;

use self::protocol::{Close, Connection, Step, TOO_MANY_SUBSCRIPTIONS};
use super::{AppState, bearer, json_error};
use crate::auth::token_hash;
use crate::graphql::limits;
use crate::storage::DeviceAuth;

/// How often an open connection's token is looked up again.
pub const RECHECK: Duration = Duration::from_secs(5);

/// The one subprotocol spoken here.
const SUBPROTOCOL: &str = "graphql-transport-ws";

/// `extensions.code` of a query or mutation sent over the socket.
const SUBSCRIPTIONS_ONLY: &str = "subscriptions_only";

/// `extensions.code` of a refused connection (HTTP 429 before the upgrade)
/// and the reason of a close with 1013 after `connection_init`.
const TOO_MANY_CONNECTIONS: &str = "too_many_connections";

/// Authenticates the upgrade when it carries a token, so the rate and
/// in-flight layers count it against its device and tenant; without one,
/// the token comes in `connection_init`.
pub async fn authenticate_if_given(state: State<AppState>, req: Request, next: Next) -> Response {
    if bearer(req.headers()).is_some() {
        super::authenticate(state, req, next).await
    } else {
        next.run(req).await
    }
}

pub async fn handle(
    State(state): State<AppState>,
    device: Option<axum::Extension<DeviceAuth>>,
    headers: HeaderMap,
    upgrade: WebSocketUpgrade,
) -> Response {
    let offered = headers
        .get_all(header::SEC_WEBSOCKET_PROTOCOL)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|p| p.trim().eq_ignore_ascii_case(SUBPROTOCOL));
    if !offered {
        return (
            StatusCode::BAD_REQUEST,
            "send `Sec-WebSocket-Protocol: graphql-transport-ws`\n",
        )
            .into_response();
    }
    let device = device.map(|axum::Extension(d)| d);
    // A place is taken now, so a refused socket is never upgraded.
    let place = match &device {
        Some(d) => state.ws.connection(d.tenant),
        None => state.ws.pending(),
    };
    let Some(place) = place else {
        tracing::warn!(tenant = ?device.as_ref().map(|d| d.tenant), "live-event connections full: 429");
        let mut resp = json_error(
            StatusCode::TOO_MANY_REQUESTS,
            TOO_MANY_CONNECTIONS,
            "too many live-event connections are open: retry later",
        );
        resp.headers_mut()
            .insert(header::RETRY_AFTER, header::HeaderValue::from(5));
        return resp;
    };
    let token = bearer(&headers).map(token_hash);
    upgrade
        .protocols([SUBPROTOCOL])
        // Subscribe messages are small; the schema's limits extension then
        // bounds the document in them as it does over HTTP.
        .max_message_size(limits::MAX_WS_MESSAGE_BYTES)
        .on_upgrade(move |socket| {
            let session = Session {
                state,
                device,
                token,
                place,
                connection: Connection::new(),
                stops: std::collections::HashMap::new(),
            };
            session.run(socket)
        })
}

/// One item of an operation's stream, tagged with the operation's id: a
/// result, or `None` once the operation has ended on its own.
type Item = (String, Option<async_graphql::Response>);

type Operations = SelectAll<BoxStream<'static, Item>>;

/// One connection: the protocol's state and what the server holds for it.
struct Session {
    state: AppState,
    /// The device, once authenticated (on the upgrade or in
    /// `connection_init`).
    device: Option<DeviceAuth>,
    /// The hash of the device's token, for the periodic check.
    token: Option<String>,
    /// A pending place until authenticated, then one of the tenant's.
    place: OwnedSemaphorePermit,
    connection: Connection,
    /// How to stop each operation still running, by id.
    stops: std::collections::HashMap<String, AbortHandle>,
}

/// What the loop does after handling one thing.
enum Flow {
    Go,
    Stop,
}

impl Session {
    async fn run(mut self, socket: WebSocket) {
        // The server's stop waits for this connection's close frame.
        let _held = self.state.shutdown.hold();
        let (mut sink, mut stream) = socket.split();
        let settings = self.state.ws.settings.clone();
        let init_deadline = tokio::time::Instant::now() + settings.init_timeout;
        let mut operations: Operations = SelectAll::new();
        let mut keepalive = tokio::time::interval(settings.keepalive);
        keepalive.tick().await;
        // Set when a ping goes out, cleared by anything coming in: still set
        // at the next tick means the peer is gone (a half-open link).
        let mut awaiting = false;
        let mut recheck = tokio::time::interval(RECHECK);
        recheck.tick().await;
        let shutdown = self.state.shutdown.clone();
        loop {
            let flow = tokio::select! {
                msg = stream.next() => {
                    awaiting = false;
                    let text = match msg {
                        None | Some(Err(_)) | Some(Ok(Message::Close(_))) => break,
                        Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                        Some(Ok(Message::Text(t))) => t.as_str().to_owned(),
                        Some(Ok(Message::Binary(b))) => match String::from_utf8(b.to_vec()) {
                            Ok(t) => t,
                            Err(_) => {
                                close(&mut sink, Close::new(4400, "Invalid message: not UTF-8")).await;
                                break;
                            }
                        },
                    };
                    let step = self.connection.receive(&text);
                    self.step(step, &mut sink, &mut operations).await
                }
                Some((id, item)) = operations.next(), if !operations.is_empty() => {
                    self.result(id, item, &mut sink).await
                }
                () = tokio::time::sleep_until(init_deadline), if !self.connection.initialised() => {
                    close(&mut sink, Close::init_timeout()).await;
                    Flow::Stop
                }
                _ = keepalive.tick() => {
                    if awaiting {
                        tracing::debug!("live-event socket silent through a keep-alive: dropped");
                        Flow::Stop
                    } else {
                        awaiting = true;
                        sent(sink.send(Message::Ping(Default::default())).await)
                    }
                }
                _ = recheck.tick() => {
                    if self.revoked().await {
                        tracing::info!("device token revoked: closing its subscription");
                        close(&mut sink, Close::forbidden("device token revoked")).await;
                        Flow::Stop
                    } else {
                        Flow::Go
                    }
                }
                () = shutdown.triggered() => {
                    // 1001 Going Away: the client reconnects, to another
                    // replica behind the load balancer or to this one when
                    // it is back, and pulls what it missed.
                    close(&mut sink, Close::new(1001, "server shutting down")).await;
                    Flow::Stop
                }
            };
            if let Flow::Stop = flow {
                break;
            }
        }
        for stop in self.stops.values() {
            stop.abort();
        }
    }

    async fn step(&mut self, step: Step, sink: &mut Sink, operations: &mut Operations) -> Flow {
        match step {
            Step::Authenticate(payload) => match self.authenticate(payload).await {
                Ok(()) => {
                    self.connection.acknowledge();
                    send(sink, json!({ "type": "connection_ack" })).await
                }
                Err(close_with) => {
                    close(sink, close_with).await;
                    Flow::Stop
                }
            },
            Step::Pong(payload) => {
                let mut pong = json!({ "type": "pong" });
                if let Some(payload) = payload {
                    pong["payload"] = payload;
                }
                send(sink, pong).await
            }
            Step::Start(id, request) => match self.start(&id, request) {
                Ok(operation) => {
                    operations.push(operation);
                    Flow::Go
                }
                Err(errors) => {
                    self.connection.ended(&id);
                    send(sink, error_message(&id, &errors)).await
                }
            },
            Step::Stop(id) => {
                if let Some(stop) = self.stops.remove(&id) {
                    stop.abort();
                }
                Flow::Go
            }
            Step::Refuse { id, code, message } => {
                let errors = [limits::refusal(code, message)];
                send(sink, error_message(&id, &errors)).await
            }
            Step::Nothing => Flow::Go,
            Step::Close(close_with) => {
                close(sink, close_with).await;
                Flow::Stop
            }
        }
    }

    /// The device of the upgrade's token, or else of the `authorization` in
    /// the `connection_init` payload; then its tenant's connection place.
    async fn authenticate(&mut self, payload: Map<String, Value>) -> Result<(), Close> {
        if self.device.is_some() {
            return Ok(());
        }
        let token = payload
            .get("authorization")
            .or_else(|| payload.get("Authorization"))
            .and_then(|v| v.as_str())
            .and_then(|v| v.split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, token)| token.trim())
            .filter(|t| !t.is_empty())
            .ok_or_else(|| {
                Close::forbidden("authentication required: send authorization: Bearer <token>")
            })?;
        let hash = token_hash(token);
        let device = match self.state.storage.authenticate(&hash).await {
            Ok(Some(device)) => device,
            Ok(None) => return Err(Close::forbidden("unknown or revoked device token")),
            Err(e) => {
                tracing::error!(error = %e, "authentication lookup failed");
                // 1011: the server could not; the client tries again.
                return Err(Close::new(1011, "storage unavailable"));
            }
        };
        if let Err(wait) = self.state.rate_limit.take(device.device, Instant::now()) {
            let secs = wait.as_secs_f64().ceil().max(1.0);
            return Err(Close::new(
                1013,
                &format!("rate_limited: too many requests from this device, retry in {secs} s"),
            ));
        }
        // 1013 Try Again Later: the client reconnects with its backoff.
        let place = self.state.ws.connection(device.tenant).ok_or_else(|| {
            tracing::warn!(tenant = device.tenant, "live-event connections full: 1013");
            Close::new(
                1013,
                &format!("{TOO_MANY_CONNECTIONS}: this tenant's live-event connections are full"),
            )
        })?;
        // The pending place goes back as the tenant's is taken.
        self.place = place;
        self.device = Some(device);
        self.token = Some(hash);
        Ok(())
    }

    /// The operation of a `subscribe`, as a stream tagged with its id, or
    /// the errors that refuse it (sent as one `error` message).
    fn start(
        &mut self,
        id: &str,
        request: protocol::Subscribe,
    ) -> Result<BoxStream<'static, Item>, Vec<ServerError>> {
        let Some(device) = self.device.clone() else {
            // The protocol starts nothing before the acknowledgement, which
            // comes only after authentication.
            return Err(vec![ServerError::new("not authenticated", None)]);
        };
        if let Err(wait) = self.state.rate_limit.take(device.device, Instant::now()) {
            let secs = wait.as_secs_f64().ceil().max(1.0);
            return Err(vec![limits::refusal(
                "rate_limited",
                format!("too many requests from this device: retry in {secs} s"),
            )]);
        }
        // The limits before the parser, whose recursion they bound (the
        // schema's extension runs them again on the parsed document).
        limits::check_text(&request.query).map_err(|e| vec![e])?;
        let document = async_graphql::parser::parse_query(&request.query)
            .map_err(|e| vec![ServerError::from(e)])?;
        limits::check_document(&document).map_err(|e| vec![e])?;
        let subscription = document.operations.iter().any(|(name, op)| {
            op.node.ty == OperationType::Subscription
                && request
                    .operation_name
                    .as_deref()
                    .is_none_or(|want| name.map(|n| n.as_str()) == Some(want))
        });
        if !subscription {
            return Err(vec![limits::refusal(
                SUBSCRIPTIONS_ONLY,
                "only subscriptions run over /graphql/ws: send queries and mutations to /graphql",
            )]);
        }
        let place = self.state.ws.subscription(device.tenant).ok_or_else(|| {
            tracing::warn!(tenant = device.tenant, "live-event subscriptions full");
            vec![limits::refusal(
                TOO_MANY_SUBSCRIPTIONS,
                "this tenant has as many subscriptions open as allowed: retry later",
            )]
        })?;
        let mut graphql = async_graphql::Request::new(request.query)
            .variables(Variables::from_json(Value::Object(
                request.variables.unwrap_or_default(),
            )))
            .data(device);
        graphql.set_parsed_query(document);
        if let Some(name) = request.operation_name {
            graphql = graphql.operation_name(name);
        }
        let results = self
            .state
            .schema
            .execute_stream(graphql)
            .map(Some)
            .chain(futures_util::stream::once(async { None }));
        let (results, stop) = futures_util::stream::abortable(results);
        self.stops.insert(id.to_owned(), stop);
        let id = id.to_owned();
        Ok(results
            .map(move |item| {
                // The tenant's place is held as long as the stream lives.
                let _ = &place;
                (id.clone(), item)
            })
            .boxed())
    }

    /// Sends one result of operation `id`: `next`, or `error` when its first
    /// result says it never ran (it did not validate), or `complete`.
    async fn result(
        &mut self,
        id: String,
        item: Option<async_graphql::Response>,
        sink: &mut Sink,
    ) -> Flow {
        match item {
            Some(mut response) => {
                limits::code_builtin_errors(&mut response);
                let never_ran = response.data == async_graphql::Value::Null
                    && !response.errors.is_empty()
                    && response.errors.iter().all(|e| e.path.is_empty());
                if never_ran {
                    if let Some(stop) = self.stops.remove(&id) {
                        stop.abort();
                    }
                    self.connection.ended(&id);
                    return send(sink, error_message(&id, &response.errors)).await;
                }
                send(
                    sink,
                    json!({ "id": id, "type": "next", "payload": response }),
                )
                .await
            }
            None => {
                self.stops.remove(&id);
                self.connection.ended(&id);
                send(sink, json!({ "id": id, "type": "complete" })).await
            }
        }
    }

    /// Whether the connection's token no longer authenticates. A lookup that
    /// fails (the database busy or away) is not a revocation.
    async fn revoked(&self) -> bool {
        match &self.token {
            Some(hash) => matches!(self.state.storage.authenticate(hash).await, Ok(None)),
            None => false,
        }
    }
}

type Sink = futures_util::stream::SplitSink<WebSocket, Message>;

fn error_message(id: &str, errors: &[ServerError]) -> Value {
    json!({ "id": id, "type": "error", "payload": errors })
}

async fn send(sink: &mut Sink, message: Value) -> Flow {
    sent(sink.send(Message::Text(message.to_string().into())).await)
}

fn sent(result: Result<(), axum::Error>) -> Flow {
    match result {
        Ok(()) => Flow::Go,
        Err(_) => Flow::Stop,
    }
}

async fn close(sink: &mut Sink, close: Close) {
    let _ = sink
        .send(Message::Close(Some(CloseFrame {
            code: close.code,
            reason: close.reason.into(),
        })))
        .await;
}
