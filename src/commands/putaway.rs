//! `pyck putaway list`: open putaway tasks (received goods, returns to
//! stock). A putaway itself is recorded with `pyck move … --task T`.

use pyck_vocab::records::{TaskKind, TaskStatus};

use super::Ctx;
use crate::output;
use crate::store::work;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// Open putaway tasks, in walking order
    List {
        /// Print JSON
        #[arg(long)]
        json: bool,
    },
}

pub fn run(ctx: &Ctx, args: Args) -> anyhow::Result<()> {
    let Command::List { json } = args.command;
    let store = ctx.store()?;
    let tasks: Vec<_> = work::tasks(store.conn(), TaskKind::Putaway)?
        .into_iter()
        .filter(|t| t.status == TaskStatus::Open)
        .collect();
    if json {
        let rows: Vec<_> = tasks
            .iter()
            .map(|t| {
                serde_json::json!({"task": t.id, "sku": t.sku, "lot": t.lot, "from": t.location, "to": t.to,
                    "qty": t.qty, "done": t.done_qty, "status": t.status})
            })
            .collect();
        return output::json(&rows);
    }
    let rows: Vec<Vec<String>> = tasks
        .iter()
        .map(|t| {
            vec![
                t.id.clone(),
                t.sku.clone().unwrap_or_default(),
                t.lot.clone().unwrap_or_default(),
                t.location.clone(),
                t.to.clone().unwrap_or_else(|| "?".into()),
                (t.qty - t.done_qty).to_string(),
            ]
        })
        .collect();
    output::table(&["TASK", "SKU", "LOT", "FROM", "TO", "QTY"], &rows)
}
