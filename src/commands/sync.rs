//! `pyck sync`: push pending operations in batches, then pull changes.

use std::time::Duration;

use super::{Ctx, runtime};
use crate::error::{CliError, is_disk_full};
use crate::output;
use crate::progress;
use crate::store::reserve;
use crate::sync::{self, Client, Remote};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Send through another address for this run only (another replica, a load balancer)
    #[arg(long)]
    server: Option<String>,
    /// Give up after this many seconds without finishing (exit 4); what
    /// was settled by then stays settled
    #[arg(long, value_name = "SECONDS", default_value_t = 600, value_parser = clap::value_parser!(u64).range(1..=86_400))]
    timeout: u64,
    /// Print JSON
    #[arg(long)]
    json: bool,
}

/// The longest one request may take: a push of a full batch on a slow link.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

pub fn run(ctx: &Ctx, args: Args) -> anyhow::Result<()> {
    let config = ctx.config()?;
    // On a full disk even opening the store can fail (SQLite recreates its
    // WAL and shared-memory files): the room kept for syncing is for this.
    let (mut store, released) = match ctx.store() {
        Err(e) if is_disk_full(&e) && reserve::release(&ctx.paths) => (ctx.store()?, true),
        opened => (opened?, false),
    };
    let remote = Remote::of(&config).via(args.server.clone());
    let limit = Duration::from_secs(args.timeout);
    let mut report = runtime()?.block_on(async {
        let mut client = Client::new(&remote, REQUEST_TIMEOUT.min(limit))?;
        let bar = progress::for_sync(args.json);
        // A server that takes the connection and never answers must not
        // hold a script (or a person) for the retries' whole length. Every
        // step of a sync is its own transaction, so stopping between two
        // loses nothing.
        let report =
            tokio::time::timeout(limit, sync::sync(&mut store, &mut client, &config, &bar))
                .await
                .unwrap_or_else(|_| {
                    Err(CliError::Unreachable(format!(
                "{} did not finish a sync within {} s (--timeout); what was settled stays settled",
                remote.server, args.timeout
            ))
            .into())
                });
        bar.finish();
        report
    })?;
    report.reserve_used |= released;
    if report.reserve_used {
        eprintln!(
            "the disk is full: this sync used the room the terminal keeps for syncing. \
             Free some space before recording more (pyck keeps that room again once there is some)."
        );
    }
    if args.json {
        output::json(&report)
    } else {
        println!(
            "pushed {} ({} applied, {} duplicates, {} refused, {} exceptions raised); pulled {} changes",
            report.pushed,
            report.applied,
            report.duplicates,
            report.refused,
            report.exceptions,
            report.pulled
        );
        Ok(())
    }
}
