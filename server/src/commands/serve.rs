//! `pyck-server serve`: the HTTP API and the workflow engine until Ctrl-C
//! or SIGTERM.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use axum::Router;
use axum::serve::Listener;

use crate::attachments::{PhotoLocation, PhotoStore};
use crate::events::Events;
use crate::http::readiness::DiskFloor;
use crate::http::{AppState, app};
use crate::shutdown::Shutdown;
use crate::storage::Storage;
use crate::tls::{self, TlsListener};
use crate::workflow::engine::Engine;
use crate::workflow::notify::Notifier;
use crate::workflow::policy::Policy;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Address to listen on; port 0 picks a free port (printed at start)
    #[arg(long, env = "PYCK_LISTEN", default_value = "127.0.0.1:7415")]
    listen: SocketAddr,
    /// NATS server for live events across replicas (`nats://host:4222`):
    /// events are published to JetStream and every replica delivers every
    /// replica's events to its subscribers. Without it, events stay in this
    /// process (fine for a single server)
    #[arg(long, env = "PYCK_NATS", hide_env_values = true)]
    nats: Option<String>,
    /// Where the fulfilment workflow POSTs each order's outcome (its
    /// `notify` step); without it the step completes without a call
    #[arg(long, env = "PYCK_NOTIFY_URL", hide_env_values = true)]
    notify_url: Option<String>,
    /// Seconds an order's picks may take before a `pick_overdue` exception
    #[arg(long, env = "PYCK_PICK_DEADLINE", default_value_t = 4 * 3600)]
    pick_deadline: u64,
    /// Attempts of a failing workflow step before it fails for good
    #[arg(long, env = "PYCK_STEP_ATTEMPTS", default_value_t = 5)]
    step_attempts: u32,
    /// Milliseconds before a failed step's first retry (doubling, jittered)
    #[arg(long, env = "PYCK_RETRY_BASE_MS", default_value_t = 2000)]
    retry_base_ms: u64,
    /// Seconds a replica's claim on a workflow lasts: how long another
    /// replica waits to take over from one that died
    #[arg(long, env = "PYCK_WORKFLOW_LEASE", default_value_t = 30)]
    workflow_lease: u64,
    /// Seconds requests under way may take to finish after SIGTERM (and a
    /// workflow step its attempt) before they are cut; a cut push rolls back
    #[arg(long, env = "PYCK_SHUTDOWN_TIMEOUT", default_value_t = 10)]
    shutdown_timeout: u64,
    /// Where photo attachments live: a directory, or s3://BUCKET[/PREFIX]
    /// with endpoint and credentials in the AWS_* environment variables
    /// [default: beside the SQLite file (`<db>.photos/`), or `photos/` in
    /// the platform data directory for PostgreSQL]; every replica must see
    /// the same one
    #[arg(long, env = "PYCK_OBJECT_STORE", hide_env_values = true)]
    object_store: Option<PhotoLocation>,
    /// Largest photo accepted, in bytes
    #[arg(long, env = "PYCK_MAX_PHOTO_BYTES", default_value_t = pyck_vocab::attachments::MAX_PHOTO_BYTES)]
    max_photo_bytes: u64,
    /// Requests per second each device token may make (0: no limit); over
    /// it, 429 with Retry-After
    #[arg(long, env = "PYCK_RATE_LIMIT", default_value_t = 200)]
    rate_limit: u32,
    /// Requests a device token may make at once before the rate applies
    #[arg(long, env = "PYCK_RATE_BURST", default_value_t = 1000)]
    rate_burst: u32,
    /// Hours an unfinished photo upload's chunks are kept before they are
    /// removed (a device that comes back later starts that photo again)
    #[arg(long, env = "PYCK_STAGED_UPLOAD_HOURS", default_value_t = 24, value_parser = clap::value_parser!(u64).range(1..=24 * 365))]
    staged_upload_hours: u64,
    /// Seconds a GraphQL request body may take to arrive once its turn has
    /// come (408 after): a slow body gives its place back
    #[arg(long, env = "PYCK_BODY_TIMEOUT", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=3600))]
    body_timeout: u64,
    /// Seconds a live-event socket has to send `connection_init` before it
    /// is closed with 4408
    #[arg(long, env = "PYCK_WS_INIT_TIMEOUT", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=300))]
    ws_init_timeout: u64,
    /// Seconds between the server's pings on each live-event socket; one
    /// from which nothing came in two of these is dropped
    #[arg(long, env = "PYCK_WS_KEEPALIVE", default_value_t = 15, value_parser = clap::value_parser!(u64).range(1..=300))]
    ws_keepalive: u64,
    /// Live-event connections one tenant may have open; beyond, 429
    /// (token on the upgrade) or close 1013 (token in connection_init)
    #[arg(long, env = "PYCK_WS_CONNECTIONS_PER_TENANT", default_value_t = 1_000, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    ws_connections_per_tenant: u64,
    /// Live-event subscriptions one tenant may have open; beyond, a
    /// subscribe is answered with an error coded too_many_subscriptions
    #[arg(long, env = "PYCK_WS_SUBSCRIPTIONS_PER_TENANT", default_value_t = 2_000, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    ws_subscriptions_per_tenant: u64,
    /// Free space, in MiB, the SQLite database's file system must keep for
    /// `/readyz` to answer 200 (503 disk_nearly_full under it); 0 turns
    /// the check off. Not used with PostgreSQL
    #[arg(long, env = "PYCK_MIN_FREE_DISK_MB", default_value_t = 64)]
    min_free_disk_mb: u64,
    /// Serve HTTPS with this PEM certificate chain (the server's first)
    #[arg(long, env = "PYCK_TLS_CERT", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// The PEM private key of --tls-cert
    #[arg(long, env = "PYCK_TLS_KEY", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
}

impl Args {
    fn policy(&self) -> Policy {
        Policy {
            max_attempts: self.step_attempts.max(1),
            base_delay: Duration::from_millis(self.retry_base_ms),
            pick_deadline: Duration::from_secs(self.pick_deadline),
            ..Policy::default()
        }
    }
}

pub async fn run(store: Arc<dyn Storage>, db: &str, args: Args) -> anyhow::Result<()> {
    // Bad certificate files fail before anything listens.
    let tls = match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => Some(tls::server_config(cert, key)?),
        _ => None,
    };
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("while binding {}", args.listen))?;
    let addr = listener.local_addr()?;
    let events = match &args.nats {
        Some(url) => {
            let events = Events::nats(url).await?;
            tracing::info!(url = %super::redact(url), "live events through NATS JetStream");
            events
        }
        None => Events::in_process(),
    };
    let policy = args.policy();
    let notifier = args
        .notify_url
        .clone()
        .map(|url| Notifier::new(url, policy.step_timeout))
        .transpose()?;
    let engine = Engine::new(
        Arc::clone(&store),
        policy,
        notifier,
        Duration::from_secs(args.workflow_lease.max(1)),
    )
    .with_events(events.clone());
    let drain = Duration::from_secs(args.shutdown_timeout);
    let engine = engine.with_drain(drain);
    let photo_location = match &args.object_store {
        Some(location) => location.clone(),
        None => PhotoLocation::Dir(default_photo_dir(db)?),
    };
    let photos = PhotoStore::open(&photo_location, args.max_photo_bytes)
        .await
        .with_context(|| {
            format!("while opening the photo store (--object-store) {photo_location}")
        })?;
    tracing::info!(store = %photo_location, "photo attachments");
    if let Err(e) = events.relay_all(store.as_ref()).await {
        tracing::warn!(error = %format!("{e:#}"), "live events not relayed yet");
    }
    let scheme = if tls.is_some() { "https" } else { "http" };
    // Tests and scripts read this line to find the port, so it comes once
    // everything the server needs has answered.
    println!("pyck-server listening on {scheme}://{addr}");
    tracing::info!(%addr, scheme, backend = store.backend(), "serving");
    let state = AppState::with_events(store, events)
        .with_photos(photos)
        .with_rate_limit(args.rate_limit, args.rate_burst)
        .with_body_timeout(std::time::Duration::from_secs(args.body_timeout))
        .with_live_events(crate::http::ws::places::Settings {
            init_timeout: Duration::from_secs(args.ws_init_timeout),
            keepalive: Duration::from_secs(args.ws_keepalive),
            connections_per_tenant: args.ws_connections_per_tenant as usize,
            subscriptions_per_tenant: args.ws_subscriptions_per_tenant as usize,
        });
    // The disk that matters for readiness is the embedded database's; a
    // PostgreSQL server watches its own.
    let state = if state.storage.backend() == "sqlite" {
        state.with_disk_floor(DiskFloor {
            path: PathBuf::from(db),
            min_free_mib: args.min_free_disk_mb,
        })
    } else {
        state
    };
    let shutdown = state.shutdown.clone();
    tokio::spawn(expire_staged_uploads(
        state.photos.clone(),
        std::time::Duration::from_secs(args.staged_upload_hours * 3600),
    ));
    {
        let shutdown = shutdown.clone();
        tokio::spawn(async move {
            signal().await;
            tracing::info!(
                timeout_s = drain.as_secs(),
                "shutting down: no new connections; requests and workflow steps under way may finish; subscriptions closed"
            );
            shutdown.trigger();
        });
    }
    let relay = state.events.relay(Arc::clone(&state.storage), {
        let shutdown = shutdown.clone();
        async move { shutdown.triggered().await }
    });
    let engine = engine.with_metrics(Arc::clone(&state.metrics));
    let workflows = tokio::spawn(engine.run({
        let shutdown = shutdown.clone();
        async move { shutdown.triggered().await }
    }));
    let router = app(state);
    match tls {
        Some(config) => {
            let listener = TlsListener::new(listener, config)?;
            serve_until_shutdown(listener, router, &shutdown, drain).await?;
        }
        None => serve_until_shutdown(listener, router, &shutdown, drain).await?,
    }
    // Subscriptions have been sent their close frame; let them go out.
    if tokio::time::timeout(drain, shutdown.released())
        .await
        .is_err()
    {
        tracing::warn!("subscriptions still open after the timeout: cut");
    }
    let _ = workflows.await;
    let _ = relay.await;
    tracing::info!("stopped");
    Ok(())
}

/// Serves until shutdown, then lets requests under way finish for `drain`
/// and cuts the rest.
async fn serve_until_shutdown<L>(
    listener: L,
    router: Router,
    shutdown: &Shutdown,
    drain: Duration,
) -> anyhow::Result<()>
where
    L: Listener,
    L::Addr: std::fmt::Debug,
{
    let server = axum::serve(listener, router).with_graceful_shutdown({
        let shutdown = shutdown.clone();
        async move { shutdown.triggered().await }
    });
    let cut = async {
        shutdown.triggered().await;
        tokio::time::sleep(drain).await;
    };
    tokio::select! {
        served = server => served.context("while serving")?,
        () = cut => tracing::warn!(
            "requests still under way after {} s: cut (a cut push rolls back; the device re-sends it)",
            drain.as_secs()
        ),
    }
    Ok(())
}

/// Photos beside a SQLite database, or in the platform data directory.
fn default_photo_dir(db: &str) -> anyhow::Result<PathBuf> {
    if db.starts_with("postgres://") || db.starts_with("postgresql://") {
        let dirs = directories::ProjectDirs::from("", "", "pyck-server")
            .context("cannot find a home directory for photos; pass --object-store")?;
        Ok(dirs.data_dir().join("photos"))
    } else {
        Ok(PathBuf::from(format!("{db}.photos")))
    }
}

/// SIGTERM (what service managers and orchestrators send) or Ctrl-C.
async fn signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}

/// Every ten minutes, removes staged photo chunks older than `ttl`: one
/// device's abandoned uploads must not fill the object store.
async fn expire_staged_uploads(photos: PhotoStore, ttl: std::time::Duration) {
    let mut every = tokio::time::interval(std::time::Duration::from_secs(600));
    loop {
        every.tick().await;
        match photos.expire_staged(ttl).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(chunks = n, "expired abandoned photo upload chunks"),
            Err(e) => tracing::warn!(error = %e, "expiring staged photo chunks"),
        }
    }
}
