//! The live-event bus: what happened goes to the subscribers of its tenant
//! and warehouse, after it was committed.
//!
//! Where events come from: every write commits its events in the outbox
//! ([`crate::outbox`]), in its own transaction, and [`Events::relay`]
//! publishes them after commit, then deletes them: a full queue, a dead NATS
//! or a crash between commit and publish delays events and loses none. A
//! writer calls [`Events::committed`] to have them relayed at once; the
//! relay also looks every second, for writes of other processes (another
//! replica, `pyck-server import`) and rows a crash left.
//!
//! Two modes:
//! - in-process (default): one tokio broadcast channel per server;
//! - NATS (`serve --nats URL`): the relay publishes to a JetStream stream per
//!   tenant (`PYCK_EVENTS_<tenant>`, subjects
//!   `pyck.<tenant>.<warehouse>.<type>`, created if missing, with limits),
//!   each message with its event id as `Nats-Msg-Id` so JetStream drops a
//!   repeat; each replica consumes, with an ordered consumer delivering only
//!   new messages, every tenant that has a subscriber on it; what it consumes
//!   goes to the same local broadcast. With NATS on, local subscribers
//!   receive events only through NATS, so nothing is delivered twice and a
//!   subscriber on any replica sees what happened through any other.
//!
//! Delivering never waits for subscribers: a subscriber that falls behind the
//! broadcast buffer gets one [`EventKind::Lagged`] marker and should pull.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_nats::jetstream;
use chrono::Utc;
use futures_util::{Stream, StreamExt};
use pyck_vocab::events::{Event, EventKind};
use tokio::sync::{Notify, broadcast};

use crate::outbox::Pending;
use crate::storage::Storage;

/// Events kept for slow local subscribers before they lag.
const LOCAL_BUFFER: usize = 4096;
/// Outbox rows the relay takes at once.
const RELAY_BATCH: u32 = 256;
/// How often the relay looks for rows nobody told it about.
const RELAY_POLL: Duration = Duration::from_secs(1);
/// The longest the relay waits before trying again after a failure.
const RELAY_BACKOFF_MAX: Duration = Duration::from_secs(10);

/// An event with the tenant it belongs to, as it travels inside the server.
#[derive(Debug, Clone)]
pub struct Envelope {
    pub tenant: i64,
    pub event: Event,
}

/// The bus; cheap to clone, one per server process.
#[derive(Clone)]
pub struct Events {
    local: broadcast::Sender<Arc<Envelope>>,
    nats: Option<Arc<Nats>>,
    /// Wakes the relay: a write committed events.
    wake: Arc<Notify>,
}

impl std::fmt::Debug for Events {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Events")
            .field("nats", &self.nats.is_some())
            .finish()
    }
}

struct Nats {
    js: jetstream::Context,
    /// Tenants whose stream exists (made by this replica or found).
    streams: Mutex<HashSet<i64>>,
    /// Tenants whose stream this replica consumes.
    consuming: Mutex<HashSet<i64>>,
}

impl Default for Events {
    fn default() -> Self {
        Self::in_process()
    }
}

impl Events {
    /// Events stay in this process.
    pub fn in_process() -> Self {
        let (local, _) = broadcast::channel(LOCAL_BUFFER);
        Self {
            local,
            nats: None,
            wake: Arc::new(Notify::new()),
        }
    }

    /// Events go through NATS JetStream at `url`, so every replica connected
    /// to it delivers every replica's events.
    pub async fn nats(url: &str) -> anyhow::Result<Self> {
        let client = async_nats::connect(url)
            .await
            .map_err(|e| anyhow::anyhow!("while connecting to NATS at {url}: {e}"))?;
        let js = jetstream::new(client);
        let (local, _) = broadcast::channel(LOCAL_BUFFER);
        let nats = Arc::new(Nats {
            js,
            streams: Mutex::new(HashSet::new()),
            consuming: Mutex::new(HashSet::new()),
        });
        Ok(Self {
            local,
            nats: Some(nats),
            wake: Arc::new(Notify::new()),
        })
    }

    pub fn uses_nats(&self) -> bool {
        self.nats.is_some()
    }

    /// A write committed events to the outbox: relay them now.
    pub fn committed(&self) {
        self.wake.notify_one();
    }

    /// Publishes what the outbox holds, after commit, until `stop`: each
    /// row's events in order, then the row is deleted. A row that could not
    /// be published stays and is tried again (waits doubling up to 10 s);
    /// a row that is deleted was published, so nothing is lost, and what
    /// is published twice (a relay stopped between the two) carries the
    /// same ids.
    pub fn relay(
        &self,
        storage: Arc<dyn Storage>,
        stop: impl Future<Output = ()> + Send + 'static,
    ) -> tokio::task::JoinHandle<()> {
        let events = self.clone();
        tokio::spawn(async move {
            let mut stop = std::pin::pin!(stop);
            let mut backoff = Duration::ZERO;
            loop {
                let wait = if backoff.is_zero() {
                    RELAY_POLL
                } else {
                    backoff
                };
                tokio::select! {
                    () = &mut stop => return,
                    () = events.wake.notified(), if backoff.is_zero() => {}
                    () = tokio::time::sleep(wait) => {}
                }
                match events.relay_all(storage.as_ref()).await {
                    Ok(()) => backoff = Duration::ZERO,
                    Err(e) => {
                        backoff =
                            (backoff * 2).clamp(Duration::from_millis(100), RELAY_BACKOFF_MAX);
                        tracing::warn!(error = %format!("{e:#}"), retry_in_ms = backoff.as_millis() as u64, "live events not relayed yet");
                    }
                }
            }
        })
    }

    /// Relays every outbox row there is now: what writes committed while
    /// no server ran (imports, or a crash before the relay's turn) goes
    /// out when one starts, before it listens.
    pub async fn relay_all(&self, storage: &dyn Storage) -> anyhow::Result<()> {
        loop {
            let rows = storage.outbox(RELAY_BATCH).await?;
            if rows.is_empty() {
                return Ok(());
            }
            let mut done = Vec::with_capacity(rows.len());
            let mut failed = None;
            for row in &rows {
                match self.deliver(row).await {
                    Ok(()) => done.push(row.id),
                    Err(e) => {
                        failed = Some(e);
                        break;
                    }
                }
            }
            storage.outbox_relayed(&done).await?;
            if let Some(e) = failed {
                return Err(e);
            }
        }
    }

    /// Hands one outbox row's events to the subscribers: the local
    /// broadcast, or JetStream (each acknowledged before the next).
    async fn deliver(&self, row: &Pending) -> anyhow::Result<()> {
        let Some(nats) = &self.nats else {
            for event in &row.events {
                self.deliver_local(row.tenant, event.clone());
            }
            return Ok(());
        };
        self.ensure_stream(nats, row.tenant).await?;
        for event in &row.events {
            let mut headers = async_nats::HeaderMap::new();
            if let Some(id) = &event.event_id {
                headers.insert(async_nats::header::NATS_MESSAGE_ID, id.as_str());
            }
            let payload = serde_json::to_vec(event)?;
            nats.js
                .publish_with_headers(subject(row.tenant, event), headers, payload.into())
                .await
                .map_err(|e| anyhow::anyhow!("while publishing to NATS: {e}"))?
                .await
                .map_err(|e| anyhow::anyhow!("NATS did not acknowledge an event: {e}"))?;
        }
        Ok(())
    }

    /// No receivers is fine: nobody is listening.
    fn deliver_local(&self, tenant: i64, event: Event) {
        let _ = self.local.send(Arc::new(Envelope { tenant, event }));
    }

    async fn ensure_stream(&self, nats: &Nats, tenant: i64) -> anyhow::Result<()> {
        let known = nats.streams.lock().is_ok_and(|s| s.contains(&tenant));
        if !known {
            ensure_stream(&nats.js, tenant).await?;
            if let Ok(mut streams) = nats.streams.lock() {
                streams.insert(tenant);
            }
        }
        Ok(())
    }

    /// The live events of one warehouse of one tenant, from now on. A
    /// subscriber that falls behind gets an [`EventKind::Lagged`] marker.
    pub async fn subscribe(
        &self,
        tenant: i64,
        warehouse: i64,
    ) -> anyhow::Result<impl Stream<Item = Event> + Send + use<>> {
        // Subscribe locally first, so nothing consumed from now on is missed.
        let rx = self.local.subscribe();
        if let Some(nats) = &self.nats {
            self.consume(nats, tenant).await?;
        }
        Ok(futures_util::stream::unfold(rx, move |mut rx| async move {
            loop {
                match rx.recv().await {
                    Ok(env) if env.tenant == tenant && env.event.warehouse == warehouse => {
                        return Some((env.event.clone(), rx));
                    }
                    Ok(_) => continue,
                    Err(broadcast::error::RecvError::Lagged(missed)) => {
                        let event = Event {
                            event_id: None,
                            at: Utc::now(),
                            warehouse,
                            kind: EventKind::Lagged { missed },
                            operation: None,
                            request: None,
                        };
                        return Some((event, rx));
                    }
                    Err(broadcast::error::RecvError::Closed) => return None,
                }
            }
        }))
    }

    /// Starts consuming a tenant's stream on this replica, once.
    async fn consume(&self, nats: &Nats, tenant: i64) -> anyhow::Result<()> {
        if nats
            .consuming
            .lock()
            .map(|s| s.contains(&tenant))
            .unwrap_or(false)
        {
            return Ok(());
        }
        let (mut messages, mut next) = open_consumer(&nats.js, tenant, None).await?;
        {
            let Ok(mut consuming) = nats.consuming.lock() else {
                anyhow::bail!("event bus poisoned");
            };
            if !consuming.insert(tenant) {
                // Another subscriber started it meanwhile; drop this one.
                return Ok(());
            }
        }
        let local = self.local.clone();
        let js = nats.js.clone();
        tokio::spawn(async move {
            loop {
                while let Some(msg) = messages.next().await {
                    let msg = match msg {
                        Ok(msg) => msg,
                        Err(e) => {
                            // E.g. NATS restarted and the consumer is gone:
                            // a new one goes on from the next message.
                            tracing::warn!(tenant, error = %e, "NATS event consumer");
                            break;
                        }
                    };
                    if let Ok(info) = msg.info() {
                        next = info.stream_sequence + 1;
                    }
                    match serde_json::from_slice::<Event>(&msg.payload) {
                        Ok(event) => {
                            let _ = local.send(Arc::new(Envelope { tenant, event }));
                        }
                        Err(e) => tracing::warn!(tenant, error = %e, "undecodable NATS event"),
                    }
                }
                // The consumer ended (NATS restarted, the stream was
                // deleted…): open a new one from the first message not
                // delivered yet, with backoff, so subscribers on this
                // replica keep receiving and miss nothing published while
                // it was away.
                tracing::warn!(tenant, next, "NATS event consumer ended; reopening");
                let mut wait = Duration::from_millis(200);
                (messages, next) = loop {
                    tokio::time::sleep(wait).await;
                    match open_consumer(&js, tenant, Some(next)).await {
                        Ok(opened) => break opened,
                        Err(e) => {
                            tracing::warn!(tenant, error = %e, "NATS event consumer");
                            wait = (wait * 2).min(Duration::from_secs(10));
                        }
                    }
                };
            }
        });
        Ok(())
    }
}

/// An ordered consumer of a tenant's stream from stream sequence `from`
/// (`None`: from the next message published), and that sequence. A stream
/// that restarted its numbering (recreated) is read from its first message.
async fn open_consumer(
    js: &jetstream::Context,
    tenant: i64,
    from: Option<u64>,
) -> anyhow::Result<(jetstream::consumer::pull::Ordered, u64)> {
    let mut stream = ensure_stream(js, tenant).await?;
    let state = stream
        .info()
        .await
        .map_err(|e| anyhow::anyhow!("while reading the NATS stream: {e}"))?
        .state
        .clone();
    let after_last = state.last_sequence + 1;
    let start = match from {
        None => after_last,
        Some(n) if n > after_last => state.first_sequence.max(1),
        Some(n) => n,
    };
    let consumer = stream
        .create_consumer(jetstream::consumer::pull::OrderedConfig {
            deliver_policy: jetstream::consumer::DeliverPolicy::ByStartSequence {
                start_sequence: start,
            },
            ..Default::default()
        })
        .await
        .map_err(|e| anyhow::anyhow!("while creating a NATS consumer: {e}"))?;
    let messages = consumer
        .messages()
        .await
        .map_err(|e| anyhow::anyhow!("while consuming NATS events: {e}"))?;
    Ok((messages, start))
}

fn stream_name(tenant: i64) -> String {
    format!("PYCK_EVENTS_{tenant}")
}

/// The subject of an event: `pyck.<tenant>.<warehouse>.<type>`.
pub fn subject(tenant: i64, event: &Event) -> String {
    format!("pyck.{tenant}.{}.{}", event.warehouse, event.kind.name())
}

async fn ensure_stream(
    js: &jetstream::Context,
    tenant: i64,
) -> anyhow::Result<jetstream::stream::Stream> {
    js.get_or_create_stream(jetstream::stream::Config {
        name: stream_name(tenant),
        subjects: vec![format!("pyck.{tenant}.>")],
        // Live hints, not history: keep little, for a short time.
        max_age: Duration::from_secs(3600),
        max_messages: 100_000,
        max_bytes: 64 * 1024 * 1024,
        discard: jetstream::stream::DiscardPolicy::Old,
        ..Default::default()
    })
    .await
    .map_err(|e| anyhow::anyhow!("while creating the NATS stream for tenant {tenant}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn publish(events: &Events, tenant: i64, warehouse: i64, kind: EventKind) {
        let event = crate::outbox::stamp(warehouse, [(kind, None)]).remove(0);
        events.deliver_local(tenant, event);
    }

    fn stock(qty: i64) -> EventKind {
        EventKind::StockChanged {
            location: "A-01".into(),
            sku: "SKU-1".into(),
            lot: None,
            qty,
        }
    }

    #[tokio::test]
    async fn subscribers_get_their_tenant_and_warehouse_only() {
        let events = Events::in_process();
        let mut mine = Box::pin(events.subscribe(1, 10).await.unwrap());
        publish(&events, 2, 10, stock(1)); // another tenant
        publish(&events, 1, 11, stock(2)); // another warehouse
        publish(&events, 1, 10, stock(3));
        let got = mine.next().await.unwrap();
        assert_eq!((got.warehouse, got.kind), (10, stock(3)));
    }

    #[tokio::test]
    async fn a_slow_subscriber_gets_a_lagged_marker_and_publishers_never_wait() {
        let events = Events::in_process();
        let mut slow = Box::pin(events.subscribe(1, 10).await.unwrap());
        let extra = 5;
        for i in 0..(LOCAL_BUFFER as i64 + extra) {
            publish(&events, 1, 10, stock(i));
        }
        let first = slow.next().await.unwrap();
        assert_eq!(
            first.kind,
            EventKind::Lagged {
                missed: extra as u64
            }
        );
        // Then the oldest events still buffered, in order.
        assert_eq!(slow.next().await.unwrap().kind, stock(extra));
    }
}
