//! `pyck pick list` and `pyck pick confirm`: working through pick tasks.

use clap::Subcommand;
use pyck_vocab::operation::{Kind, Payload, Pick, ShortPick};
use pyck_vocab::records::{TaskKind, TaskStatus};
use serde::Serialize;

use super::Ctx;
use super::record;
use crate::checks::{self, Use, Wrong};
use crate::error::invalid;
use crate::output;
use crate::store::view::{self, Filter};
use crate::store::{Store, replica, work};

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: PickCommand,
}

#[derive(Debug, Subcommand)]
enum PickCommand {
    /// The warehouse's pick tasks, in walking order
    List {
        /// Include done, short and cancelled tasks
        #[arg(long)]
        all: bool,
        /// Print JSON
        #[arg(long)]
        json: bool,
    },
    /// Record a pick (or, with --short, a short pick)
    Confirm {
        /// The task picked
        #[arg(long)]
        task: String,
        /// Units taken
        #[arg(long)]
        qty: String,
        /// Lot taken, when another than the task's
        #[arg(long)]
        lot: Option<String>,
        /// Fewer units were there: why (the rest is re-allocated elsewhere)
        #[arg(long, value_name = "REASON")]
        short: Option<String>,
        /// Print JSON
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Serialize)]
struct Row {
    task: String,
    order: Option<String>,
    line: Option<u32>,
    sku: Option<String>,
    lot: Option<String>,
    location: String,
    qty: i64,
    picked: i64,
    status: TaskStatus,
}

pub fn run(ctx: &Ctx, args: Args) -> anyhow::Result<()> {
    match args.command {
        PickCommand::List { all, json } => {
            let store = ctx.store()?;
            let rows: Vec<Row> = work::tasks(store.conn(), TaskKind::Pick)?
                .into_iter()
                .filter(|t| all || t.status == TaskStatus::Open)
                .map(|t| Row {
                    task: t.id,
                    order: t.order,
                    line: t.line,
                    sku: t.sku,
                    lot: t.lot,
                    location: t.location,
                    qty: t.qty,
                    picked: t.done_qty,
                    status: t.status,
                })
                .collect();
            if json {
                return output::json(&rows);
            }
            let table: Vec<Vec<String>> = rows
                .iter()
                .map(|r| {
                    vec![
                        r.task.clone(),
                        r.location.clone(),
                        r.sku.clone().unwrap_or_default(),
                        r.lot.clone().unwrap_or_default(),
                        format!("{}/{}", r.picked, r.qty),
                        r.order.clone().unwrap_or_default(),
                    ]
                })
                .collect();
            output::table(
                &["TASK", "LOCATION", "SKU", "LOT", "PICKED", "ORDER"],
                &table,
            )
        }
        PickCommand::Confirm {
            task,
            qty,
            lot,
            short,
            json,
        } => {
            let mut store = ctx.store()?;
            let kind = if short.is_some() {
                Kind::ShortPick
            } else {
                Kind::Pick
            };
            let operator = record::operator(&store, kind)?;
            let qty: i64 = qty
                .parse()
                .map_err(|_| invalid(format!("--qty: expected a whole number, got {qty:?}")))?;
            let payload = checked(&store, task, qty, lot, short)?;
            let draft = record::draft(payload, &operator, None)?;
            record::record_and_report(&mut store, kind, vec![(0, draft)], true, json)
        }
    }
}

/// A pick (or, with a reason, a short pick) of an open pick task known here:
/// what `pyck pick confirm` and the scanner UI both record. Refused, as at
/// the scan, when the device knows it is wrong (`crate::checks`): a lot not
/// in the bin, an expired lot, more than the task asks for.
pub(crate) fn checked(
    store: &Store,
    task: String,
    qty: i64,
    lot: Option<String>,
    short: Option<String>,
) -> anyhow::Result<Payload> {
    let conn = store.conn();
    let t = work::task(conn, &task)?
        .filter(|t| t.kind == TaskKind::Pick)
        .ok_or_else(|| {
            invalid(format!(
                "--task: no pick task {task} on this device (sync first)"
            ))
        })?;
    if t.status != TaskStatus::Open {
        return Err(invalid(
            format!("--task: task {task} is already {:?}", t.status).to_lowercase(),
        ));
    }
    let (Some(order), Some(sku)) = (t.order.clone(), t.sku.clone()) else {
        return Err(invalid(format!("--task: task {task} names no order line")));
    };
    let lot = lot.or(t.lot.clone());
    let lot_tracked = replica::item(conn, &sku)?.is_some_and(|i| i.lot_tracked);
    // A short pick reports what was not there (or not fit to take, an
    // expired lot among them): its lot is not held to these rules.
    if lot_tracked && short.is_none() {
        let Some(lot) = lot.as_deref() else {
            return Err(invalid(format!("--lot: {}", Wrong::LotMissing { sku })));
        };
        let filter = Filter {
            location: Some(t.location.clone()),
            sku: Some(sku.clone()),
        };
        checks::lot_in_bin(lot, &t.location, &view::stock(conn, &filter)?)
            .map_err(|w| invalid(format!("--lot: {w}")))?;
        let expiry = replica::lot_expiry(conn, &sku, lot)?.flatten();
        checks::not_expired(lot, expiry, checks::today(), Use::Pick)
            .map_err(|w| invalid(format!("--lot: {w}")))?;
    }
    checks::within_task(qty, t.qty - t.done_qty).map_err(|w| invalid(format!("--qty: {w}")))?;
    Ok(match short {
        Some(reason) => Payload::ShortPick(ShortPick {
            task,
            order,
            sku,
            lot,
            location: t.location,
            qty,
            reason,
        }),
        None => Payload::Pick(Pick {
            task,
            order,
            sku,
            lot,
            location: t.location,
            qty,
        }),
    })
}
