//! `pyck-server serve`: the HTTP API until Ctrl-C or SIGTERM.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;

use crate::events::Events;
use crate::http::{AppState, app};
use crate::storage::Storage;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Address to listen on; port 0 picks a free port (printed at start)
    #[arg(long, env = "PYCK_LISTEN", default_value = "127.0.0.1:7415")]
    listen: SocketAddr,
    /// NATS server for live events across replicas (`nats://host:4222`):
    /// events are published to JetStream and every replica delivers every
    /// replica's events to its subscribers. Without it, events stay in this
    /// process (fine for a single server)
    #[arg(long, env = "PYCK_NATS")]
    nats: Option<String>,
}

pub async fn run(store: Arc<dyn Storage>, args: Args) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("while binding {}", args.listen))?;
    let addr = listener.local_addr()?;
    // Tests and scripts read this line to find the port.
    println!("pyck-server listening on http://{addr}");
    tracing::info!(%addr, backend = store.backend(), "serving");
    let events = match &args.nats {
        Some(url) => {
            let events = Events::nats(url).await?;
            tracing::info!(url = %url, "live events through NATS JetStream");
            events
        }
        None => Events::in_process(),
    };
    axum::serve(listener, app(AppState::with_events(store, events)))
        .with_graceful_shutdown(shutdown())
        .await
        .context("while serving")?;
    tracing::info!("stopped");
    Ok(())
}

async fn shutdown() {
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
