//! `pyck sync`: push pending operations in batches, then pull changes.

use std::time::Duration;

use super::{Ctx, runtime};
use crate::output;
use crate::progress;
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
    let mut store = ctx.store()?;
    let remote = Remote::of(&config).via(args.server.clone());
    let report = runtime()?.block_on(async {
        let mut client = Client::new(&remote, Duration::from_secs(60))?;
        let bar = progress::for_sync(args.json);
        let report = sync::sync(&mut store, &mut client, &config, &bar).await;
        bar.finish();
        report
    })?;
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
