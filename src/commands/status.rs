//! `pyck status`: what a supervisor asks first when a device seems stuck.

use serde::Serialize;

use super::Ctx;
use crate::config::Config;
use crate::output;
use crate::store::{journal, replica, session};
use crate::sync::Remote;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Print JSON
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Serialize)]
struct Status {
    device: Option<String>,
    server: Option<String>,
    online: bool,
    operator: Option<String>,
    pending: u64,
    oldest_pending: Option<String>,
    oldest_pending_age_seconds: Option<i64>,
    last_sync: Option<String>,
    last_error: Option<String>,
    cursor: u64,
}

pub fn run(ctx: &Ctx, args: Args) -> anyhow::Result<()> {
    let config = Config::load(&ctx.paths)?;
    let store = ctx.store()?;
    let (pending, oldest) = journal::backlog(store.conn())?;
    let online = match &config {
        Some(c) => probe(&Remote::of(c)),
        None => false,
    };
    let status = Status {
        device: config.as_ref().map(|c| c.device.to_string()),
        server: config.as_ref().map(|c| c.server.clone()),
        online,
        operator: session::current(store.conn())?.map(|o| o.badge),
        pending,
        oldest_pending: oldest.map(crate::store::ts),
        oldest_pending_age_seconds: oldest.map(|t| (chrono::Utc::now() - t).num_seconds()),
        last_sync: store.meta("last_sync")?,
        last_error: store.meta("last_error")?.filter(|e| !e.is_empty()),
        cursor: store
            .meta(replica::CURSOR)?
            .and_then(|c| c.parse().ok())
            .unwrap_or(0),
    };
    if args.json {
        return output::json(&status);
    }
    let show = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".into());
    println!("device     {}", show(&status.device));
    println!(
        "server     {} ({})",
        show(&status.server),
        if online { "online" } else { "offline" }
    );
    println!("operator   {}", show(&status.operator));
    match status.oldest_pending_age_seconds {
        Some(age) => println!("pending    {} (oldest {} min ago)", pending, age / 60),
        None => println!("pending    0"),
    }
    println!("last sync  {}", show(&status.last_sync));
    if let Some(e) = &status.last_error {
        println!("last error {e}");
    }
    Ok(())
}

/// Whether the server answers its health check within a moment.
fn probe(remote: &Remote) -> bool {
    super::runtime().is_ok_and(|rt| rt.block_on(remote.healthy()))
}
