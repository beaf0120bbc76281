//! `pyck journal`: this device's operations, oldest first.

use super::Ctx;
use crate::output;
use crate::store::journal;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Only operations not yet acknowledged by the server
    #[arg(long)]
    pending: bool,
    /// Print JSON
    #[arg(long)]
    json: bool,
}

pub fn run(ctx: &Ctx, args: Args) -> anyhow::Result<()> {
    let store = ctx.store()?;
    let entries = journal::list(store.conn(), args.pending)?;
    if args.json {
        return output::json(&entries);
    }
    let rows: Vec<Vec<String>> = entries
        .iter()
        .map(|e| {
            vec![
                e.seq.to_string(),
                e.kind.clone(),
                e.status.clone(),
                e.operator.clone(),
                e.at.format("%m-%d %H:%M").to_string(),
                e.refusal
                    .as_ref()
                    .map(|r| r.to_string())
                    .unwrap_or_default(),
            ]
        })
        .collect();
    output::table(&["SEQ", "KIND", "STATUS", "BY", "AT", "REFUSAL"], &rows)
}
