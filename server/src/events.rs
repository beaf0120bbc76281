//! The live-event bus: what happened goes to the subscribers of its tenant
//! and warehouse, after it was committed.
//!
//! Where events come from: the push path publishes what
//! [`crate::push::Plan::events`] derived from the very plan whose change-log
//! rows were committed, and only once [`crate::storage::Storage::push_committed`]
//! returned `Ok` — i.e. after commit, so a rolled-back batch publishes
//! nothing. Both backends share the planner, so both publish the same events.
//! Supervisor mutations (orders, count tasks, resolved exceptions) and the
//! fulfilment workflow publish through [`Events::publish`] after their own
//! commits.
//!
//! Two modes:
//! - in-process (default): one tokio broadcast channel per server;
//! - NATS (`serve --nats URL`): each replica publishes to a JetStream stream
//!   per tenant (`PYCK_EVENTS_<tenant>`, subjects
//!   `pyck.<tenant>.<warehouse>.<type>`, created if missing, with limits) and
//!   consumes, with an ordered consumer delivering only new messages, every
//!   tenant that has a subscriber on this replica; what it consumes goes to
//!   the same local broadcast. With NATS on, local subscribers receive events
//!   only through NATS, so nothing is delivered twice and a subscriber on any
//!   replica sees what happened through any other.
//!
//! Publishing never waits for subscribers: a subscriber that falls behind the
//! broadcast buffer gets one [`EventKind::Lagged`] marker and should pull.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_nats::jetstream;
use chrono::Utc;
use futures_util::{Stream, StreamExt};
use pyck_sync::events::{Event, EventKind};
use tokio::sync::{broadcast, mpsc};

/// Events kept for slow local subscribers before they lag.
const LOCAL_BUFFER: usize = 4096;
/// Events waiting to be published to NATS before new ones are dropped (and
/// logged): events are hints, and a stuck NATS must not stall pushes.
const NATS_OUTBOX: usize = 16 * 1024;

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
    outbox: mpsc::Sender<(i64, Event)>,
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
        Self { local, nats: None }
    }

    /// Events go through NATS JetStream at `url`, so every replica connected
    /// to it delivers every replica's events.
    pub async fn nats(url: &str) -> anyhow::Result<Self> {
        let client = async_nats::connect(url)
            .await
            .map_err(|e| anyhow::anyhow!("while connecting to NATS at {url}: {e}"))?;
        let js = jetstream::new(client);
        let (outbox, rx) = mpsc::channel(NATS_OUTBOX);
        let (local, _) = broadcast::channel(LOCAL_BUFFER);
        let nats = Arc::new(Nats {
            js: js.clone(),
            outbox,
            consuming: Mutex::new(HashSet::new()),
        });
        tokio::spawn(publisher(js, rx));
        Ok(Self {
            local,
            nats: Some(nats),
        })
    }

    pub fn uses_nats(&self) -> bool {
        self.nats.is_some()
    }

    /// Publishes one event of a warehouse. Call it only after the change it
    /// describes is committed. Never blocks.
    pub fn publish(&self, tenant: i64, warehouse: i64, kind: EventKind) {
        self.publish_caused(tenant, warehouse, kind, None);
    }

    /// Publishes an event caused by `operation`; it also names the request
    /// under way, if any (docs/PROTOCOL.md, "Live events").
    pub fn publish_caused(
        &self,
        tenant: i64,
        warehouse: i64,
        kind: EventKind,
        operation: Option<uuid::Uuid>,
    ) {
        let event = Event {
            at: Utc::now(),
            warehouse,
            kind,
            operation,
            request: crate::http::request_id::current(),
        };
        match &self.nats {
            None => {
                // No receivers is fine: nobody is listening.
                let _ = self.local.send(Arc::new(Envelope { tenant, event }));
            }
            Some(nats) => {
                if nats.outbox.try_send((tenant, event)).is_err() {
                    tracing::warn!(tenant, "NATS outbox full or closed; live event dropped");
                }
            }
        }
    }

    /// Publishes several events of one warehouse, in order, each with the
    /// operation that caused it.
    pub fn publish_all(
        &self,
        tenant: i64,
        warehouse: i64,
        kinds: Vec<(EventKind, Option<uuid::Uuid>)>,
    ) {
        for (kind, operation) in kinds {
            self.publish_caused(tenant, warehouse, kind, operation);
        }
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
        let mut messages = open_consumer(&nats.js, tenant).await?;
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
                            tracing::warn!(tenant, error = %e, "NATS event consumer");
                            tokio::time::sleep(Duration::from_millis(200)).await;
                            continue;
                        }
                    };
                    match serde_json::from_slice::<Event>(&msg.payload) {
                        Ok(event) => {
                            let _ = local.send(Arc::new(Envelope { tenant, event }));
                        }
                        Err(e) => tracing::warn!(tenant, error = %e, "undecodable NATS event"),
                    }
                }
                // The consumer ended (NATS restarted, the stream was
                // deleted…): open a new one, with backoff, so subscribers
                // on this replica keep receiving.
                tracing::warn!(tenant, "NATS event consumer ended; reopening");
                let mut wait = Duration::from_millis(200);
                messages = loop {
                    tokio::time::sleep(wait).await;
                    match open_consumer(&js, tenant).await {
                        Ok(m) => break m,
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

/// An ordered consumer of a tenant's stream delivering only new messages.
async fn open_consumer(
    js: &jetstream::Context,
    tenant: i64,
) -> anyhow::Result<jetstream::consumer::pull::Ordered> {
    let stream = ensure_stream(js, tenant).await?;
    let consumer = stream
        .create_consumer(jetstream::consumer::pull::OrderedConfig {
            deliver_policy: jetstream::consumer::DeliverPolicy::New,
            ..Default::default()
        })
        .await
        .map_err(|e| anyhow::anyhow!("while creating a NATS consumer: {e}"))?;
    consumer
        .messages()
        .await
        .map_err(|e| anyhow::anyhow!("while consuming NATS events: {e}"))
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

/// Publishes the outbox to JetStream in order, waiting for each ack so a
/// publish that NATS did not take is logged.
async fn publisher(js: jetstream::Context, mut rx: mpsc::Receiver<(i64, Event)>) {
    let mut streams: HashSet<i64> = HashSet::new();
    while let Some((tenant, event)) = rx.recv().await {
        if !streams.contains(&tenant) {
            match ensure_stream(&js, tenant).await {
                Ok(_) => {
                    streams.insert(tenant);
                }
                Err(e) => {
                    tracing::warn!(error = %e, "live event dropped");
                    continue;
                }
            }
        }
        let payload = match serde_json::to_vec(&event) {
            Ok(p) => p,
            Err(e) => {
                tracing::warn!(error = %e, "live event not serialisable");
                continue;
            }
        };
        let ack = match js.publish(subject(tenant, &event), payload.into()).await {
            Ok(ack) => ack.await,
            Err(e) => {
                tracing::warn!(error = %e, "live event not published to NATS");
                continue;
            }
        };
        if let Err(e) = ack {
            tracing::warn!(error = %e, "NATS did not acknowledge a live event");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        events.publish(2, 10, stock(1)); // another tenant
        events.publish(1, 11, stock(2)); // another warehouse
        events.publish(1, 10, stock(3));
        let got = mine.next().await.unwrap();
        assert_eq!((got.warehouse, got.kind), (10, stock(3)));
    }

    #[tokio::test]
    async fn a_slow_subscriber_gets_a_lagged_marker_and_publishers_never_wait() {
        let events = Events::in_process();
        let mut slow = Box::pin(events.subscribe(1, 10).await.unwrap());
        let extra = 5;
        for i in 0..(LOCAL_BUFFER as i64 + extra) {
            events.publish(1, 10, stock(i));
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
