//! `pyck count`: a counted quantity (blind: the expected one is never
//! shown), and `pyck count list`: open count tasks.

use pyck_vocab::operation::{Count, Kind, Payload};
use pyck_vocab::records::{TaskKind, TaskStatus};

use super::Ctx;
use super::record::{self, Resolver};
use crate::input::Row;
use crate::output;
use crate::store::{Store, work};

#[derive(Debug, clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct Args {
    #[command(subcommand)]
    list: Option<List>,
    /// Location counted
    #[arg(long)]
    location: Option<String>,
    /// SKU or GTIN counted
    #[arg(long)]
    sku: Option<String>,
    /// Lot counted (lot-tracked items)
    #[arg(long)]
    lot: Option<String>,
    /// Units counted (0 for an empty bin); left out, the count (or weight)
    /// on a GS1 label given as --sku
    #[arg(long)]
    qty: Option<String>,
    /// The count task this completes
    #[arg(long)]
    task: Option<String>,
    /// Print JSON
    #[arg(long, global = true)]
    json: bool,
}

#[derive(Debug, clap::Subcommand)]
enum List {
    /// Open count tasks (no expected quantities)
    List,
}

pub fn run(ctx: &Ctx, args: Args) -> anyhow::Result<()> {
    let mut store = ctx.store()?;
    if args.list.is_some() {
        let tasks: Vec<_> = work::tasks(store.conn(), TaskKind::Count)?
            .into_iter()
            .filter(|t| t.status == TaskStatus::Open)
            .collect();
        if args.json {
            let rows: Vec<_> = tasks
                .iter()
                .map(|t| serde_json::json!({"task": t.id, "location": t.location, "sku": t.sku}))
                .collect();
            return output::json(&rows);
        }
        let rows: Vec<Vec<String>> = tasks
            .iter()
            .map(|t| {
                vec![
                    t.id.clone(),
                    t.location.clone(),
                    t.sku.clone().unwrap_or_default(),
                ]
            })
            .collect();
        return output::table(&["TASK", "LOCATION", "SKU"], &rows);
    }
    let operator = record::operator(&store, Kind::Count)?;
    let row = Row::from_flags(&[
        ("location", args.location),
        ("sku", args.sku),
        ("lot", args.lot),
        ("qty", args.qty),
    ]);
    let payload = counted(&store, &row, args.task)?;
    let draft = record::draft(payload, &operator, None)?;
    record::record_and_report(&mut store, Kind::Count, vec![(0, draft)], true, args.json)
}

/// A count checked against the replica: what `pyck count` and the scanner UI
/// both record.
pub(crate) fn counted(store: &Store, row: &Row, task: Option<String>) -> anyhow::Result<Payload> {
    let mut r = Resolver::new(store);
    let item = r.item(row, "sku")?;
    let lot = r.lot(row, &item, None)?;
    let qty = r.labelled_qty(row, &item, true)?;
    Ok(Payload::Count(Count {
        location: r.location(row, "location")?,
        sku: item.sku.clone(),
        lot,
        qty,
        task,
    }))
}
