//! The graphql-transport-ws protocol of one connection, without I/O: what a
//! client's message means and what the connection does about it. The
//! route (`super`) reads the socket, authenticates, runs the operations and
//! writes what this module decides, so every rule of the protocol (and
//! every close code) is decided here, once, and unit-tested.
//!
//! Close codes, as the graphql-transport-ws specification names them:
//! 4400 a message that is not one of the protocol's, 4401 a `subscribe`
//! before the connection is acknowledged, 4403 a refused token, 4408 no
//! `connection_init` in time, 4409 a subscription id already in use, 4429 a
//! second `connection_init`. A close reason is at most [`MAX_REASON_BYTES`].

use std::collections::HashSet;

use serde::Deserialize;
use serde_json::{Map, Value};

/// RFC 6455 (5.5): a control frame's payload is at most 125 bytes, two of
/// which are the close code. A longer reason makes clients drop the
/// connection with 1006 instead of reading the code.
pub const MAX_REASON_BYTES: usize = 123;

/// Operations one connection may have open at once. A terminal uses one;
/// a browser dashboard a few. Beyond, a subscribe is answered with an
/// `error` message coded [`TOO_MANY_SUBSCRIPTIONS`].
pub const MAX_SUBSCRIPTIONS_PER_CONNECTION: usize = 8;

/// `extensions.code` of a subscribe refused because the connection or the
/// tenant has as many subscriptions open as allowed.
pub const TOO_MANY_SUBSCRIPTIONS: &str = "too_many_subscriptions";

/// A WebSocket close: its code and a reason that fits a close frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Close {
    pub code: u16,
    pub reason: String,
}

impl Close {
    /// A close whose reason is cut (at a character boundary) to
    /// [`MAX_REASON_BYTES`].
    pub fn new(code: u16, reason: &str) -> Close {
        let mut end = reason.len().min(MAX_REASON_BYTES);
        while !reason.is_char_boundary(end) {
            end -= 1;
        }
        Close {
            code,
            reason: reason[..end].to_owned(),
        }
    }

    pub fn init_timeout() -> Close {
        Close::new(4408, "Connection initialisation timeout")
    }

    pub fn forbidden(why: &str) -> Close {
        Close::new(4403, why)
    }
}

/// What a client may send.
#[derive(Debug, Deserialize, PartialEq)]
#[serde(tag = "type", rename_all = "snake_case")]
enum ClientMessage {
    ConnectionInit {
        #[serde(default)]
        payload: Option<Map<String, Value>>,
    },
    Ping {
        #[serde(default)]
        payload: Option<Value>,
    },
    Pong {
        #[allow(dead_code)] // read only to check the message's shape
        #[serde(default)]
        payload: Option<Value>,
    },
    Subscribe {
        id: String,
        payload: Subscribe,
    },
    Complete {
        id: String,
    },
}

/// A `subscribe` message's payload: one GraphQL request.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Subscribe {
    pub query: String,
    #[serde(default)]
    pub operation_name: Option<String>,
    #[serde(default)]
    pub variables: Option<Map<String, Value>>,
    #[allow(dead_code)] // accepted as the protocol allows; nothing reads it
    #[serde(default)]
    pub extensions: Option<Map<String, Value>>,
}

/// What the connection does about one client message.
#[derive(Debug, PartialEq)]
pub enum Step {
    /// Authenticate with this `connection_init` payload, then call
    /// [`Connection::acknowledge`] and send `connection_ack`, or close 4403.
    Authenticate(Map<String, Value>),
    /// Answer with a `pong` carrying this payload.
    Pong(Option<Value>),
    /// Start the operation under `id` (already counted as open).
    Start(String, Subscribe),
    /// The client completed `id`: stop its operation, send nothing.
    Stop(String),
    /// Refuse the operation under `id` with an `error` message of this code
    /// and message; the connection stays.
    Refuse {
        id: String,
        code: &'static str,
        message: String,
    },
    /// Nothing to do (a pong, a complete for an operation already over).
    Nothing,
    /// Close the socket.
    Close(Close),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// No `connection_init` yet.
    Waiting,
    /// `connection_init` received, not acknowledged yet.
    Initialising,
    Acknowledged,
}

/// One connection's protocol state: where the handshake stands and which
/// operation ids are in use.
#[derive(Debug)]
pub struct Connection {
    phase: Phase,
    open: HashSet<String>,
}

impl Default for Connection {
    fn default() -> Self {
        Self::new()
    }
}

impl Connection {
    pub fn new() -> Connection {
        Connection {
            phase: Phase::Waiting,
            open: HashSet::new(),
        }
    }

    /// Whether `connection_init` has arrived (the init timeout no longer
    /// applies).
    pub fn initialised(&self) -> bool {
        self.phase != Phase::Waiting
    }

    /// The `connection_init` was accepted: operations may start.
    pub fn acknowledge(&mut self) {
        self.phase = Phase::Acknowledged;
    }

    /// The operation under `id` ended on the server's side (its stream
    /// completed, or it was refused with `error`): its id is free again.
    pub fn ended(&mut self, id: &str) {
        self.open.remove(id);
    }

    /// What to do about the text of one client message.
    pub fn receive(&mut self, text: &str) -> Step {
        let message = match serde_json::from_str::<ClientMessage>(text) {
            Ok(m) => m,
            Err(e) => return Step::Close(Close::new(4400, &format!("Invalid message: {e}"))),
        };
        match message {
            ClientMessage::ConnectionInit { payload } => {
                if self.phase != Phase::Waiting {
                    return Step::Close(Close::new(4429, "Too many initialisation requests"));
                }
                self.phase = Phase::Initialising;
                Step::Authenticate(payload.unwrap_or_default())
            }
            ClientMessage::Ping { payload } => Step::Pong(payload),
            ClientMessage::Pong { .. } => Step::Nothing,
            ClientMessage::Subscribe { id, payload } => {
                if self.phase != Phase::Acknowledged {
                    return Step::Close(Close::new(4401, "Unauthorized"));
                }
                if self.open.contains(&id) {
                    return Step::Close(Close::new(
                        4409,
                        &format!("Subscriber for {id} already exists"),
                    ));
                }
                if self.open.len() >= MAX_SUBSCRIPTIONS_PER_CONNECTION {
                    return Step::Refuse {
                        id,
                        code: TOO_MANY_SUBSCRIPTIONS,
                        message: format!(
                            "this connection has {MAX_SUBSCRIPTIONS_PER_CONNECTION} operations open: complete one first"
                        ),
                    };
                }
                self.open.insert(id.clone());
                Step::Start(id, payload)
            }
            ClientMessage::Complete { id } => {
                if self.open.remove(&id) {
                    Step::Stop(id)
                } else {
                    Step::Nothing
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    const SUB: &str =
        r#"{"id":"1","type":"subscribe","payload":{"query":"subscription { events { type } }"}}"#;

    fn acknowledged() -> Connection {
        let mut c = Connection::new();
        assert!(matches!(
            c.receive(r#"{"type":"connection_init"}"#),
            Step::Authenticate(_)
        ));
        c.acknowledge();
        c
    }

    fn code(step: Step) -> u16 {
        match step {
            Step::Close(close) => {
                assert!(close.reason.len() <= MAX_REASON_BYTES, "{close:?}");
                close.code
            }
            other => panic!("expected a close, got {other:?}"),
        }
    }

    #[test]
    fn the_handshake_then_a_subscription() {
        let mut c = Connection::new();
        assert!(!c.initialised());
        let step =
            c.receive(r#"{"type":"connection_init","payload":{"authorization":"Bearer x"}}"#);
        let Step::Authenticate(payload) = step else {
            panic!("{step:?}")
        };
        assert_eq!(payload["authorization"], "Bearer x");
        assert!(c.initialised());
        c.acknowledge();
        let Step::Start(id, request) = c.receive(SUB) else {
            panic!()
        };
        assert_eq!(id, "1");
        assert_eq!(request.query, "subscription { events { type } }");
        assert_eq!(
            c.receive(r#"{"type":"complete","id":"1"}"#),
            Step::Stop("1".into())
        );
        // Completed twice, or never started: nothing to stop.
        assert_eq!(c.receive(r#"{"type":"complete","id":"1"}"#), Step::Nothing);
        // The id is free again.
        assert!(matches!(c.receive(SUB), Step::Start(..)));
    }

    #[test]
    fn pings_are_answered_before_and_after_the_handshake() {
        let mut c = Connection::new();
        assert_eq!(c.receive(r#"{"type":"ping"}"#), Step::Pong(None));
        assert_eq!(
            c.receive(r#"{"type":"ping","payload":{"n":1}}"#),
            Step::Pong(Some(serde_json::json!({"n": 1})))
        );
        assert_eq!(c.receive(r#"{"type":"pong"}"#), Step::Nothing);
        let mut c = acknowledged();
        assert_eq!(c.receive(r#"{"type":"ping"}"#), Step::Pong(None));
    }

    #[test]
    fn each_breach_closes_with_the_specifications_code() {
        // Not JSON, not a message, a message of no known type, a subscribe
        // without its payload: 4400.
        for bad in [
            "{",
            "[]",
            r#"{"type":"start","id":"1"}"#,
            r#"{"type":"subscribe","id":"1"}"#,
            r#"{"type":"connection_init","payload":"x"}"#,
        ] {
            assert_eq!(code(acknowledged().receive(bad)), 4400, "{bad}");
        }
        // Subscribing before the acknowledgement: 4401, also while the
        // token is being checked.
        assert_eq!(code(Connection::new().receive(SUB)), 4401);
        let mut c = Connection::new();
        c.receive(r#"{"type":"connection_init"}"#);
        assert_eq!(code(c.receive(SUB)), 4401);
        // A second connection_init: 4429.
        assert_eq!(
            code(acknowledged().receive(r#"{"type":"connection_init"}"#)),
            4429
        );
        // An id in use: 4409; it is free again once the server ended it.
        let mut c = acknowledged();
        assert!(matches!(c.receive(SUB), Step::Start(..)));
        assert_eq!(code(c.receive(SUB)), 4409);
        let mut c = acknowledged();
        c.receive(SUB);
        c.ended("1");
        assert!(matches!(c.receive(SUB), Step::Start(..)));
    }

    #[test]
    fn a_connection_holds_a_bounded_number_of_operations() {
        let mut c = acknowledged();
        for i in 0..MAX_SUBSCRIPTIONS_PER_CONNECTION {
            let msg = SUB.replace(r#""id":"1""#, &format!(r#""id":"{i}""#));
            assert!(matches!(c.receive(&msg), Step::Start(..)));
        }
        let more = SUB.replace(r#""id":"1""#, r#""id":"x""#);
        assert!(matches!(
            c.receive(&more),
            Step::Refuse {
                code: TOO_MANY_SUBSCRIPTIONS,
                ..
            }
        ));
        c.receive(r#"{"type":"complete","id":"0"}"#);
        assert!(matches!(c.receive(&more), Step::Start(..)));
    }

    #[test]
    fn close_reasons_fit_a_close_frame() {
        let long = "é".repeat(200);
        let close = Close::new(4400, &long);
        assert!(close.reason.len() <= MAX_REASON_BYTES);
        assert!(close.reason.len() >= MAX_REASON_BYTES - 1);
        assert!(long.starts_with(&close.reason));
        // A 4409 names the id, however long the id.
        let mut c = acknowledged();
        let id = "x".repeat(500);
        let msg = SUB.replace(r#""id":"1""#, &format!(r#""id":"{id}""#));
        c.receive(&msg);
        assert_eq!(code(c.receive(&msg)), 4409);
    }
}
