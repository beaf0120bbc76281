//! `pyck sync`: push pending operations in batches, then pull changes.

use std::time::Duration;

use super::{Ctx, runtime};
use crate::error::is_disk_full;
use crate::output;
use crate::progress;
use crate::store::reserve;
use crate::sync::{self, Client, Remote};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Send through another address for this run only (another replica, a load balancer)
    #[arg(long)]
    server: Option<String>,
    /// Print JSON
    #[arg(long)]
    json: bool,
}

pub fn run(ctx: &Ctx, args: Args) -> anyhow::Result<()> {
    let config = ctx.config()?;
    // On a full disk even opening the store can fail (SQLite recreates its
    // WAL and shared-memory files): the room kept for syncing is for this.
    let (mut store, released) = match ctx.store() {
        Err(e) if is_disk_full(&e) && reserve::release(&ctx.paths) => (ctx.store()?, true),
        opened => (opened?, false),
    };
    let remote = Remote::of(&config).via(args.server.clone());
    let mut report = runtime()?.block_on(async {
        let mut client = Client::new(&remote, Duration::from_secs(60))?;
        let bar = progress::for_sync(args.json);
        let report = sync::sync(&mut store, &mut client, &config, &bar).await;
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
