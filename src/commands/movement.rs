//! `pyck move`: stock carried from one location to another, one from flags
//! or many from a file. Moving more than this device sees is recorded anyway
//! (it physically happened), with a warning; the server raises an exception.

use pyck_vocab::operation::{Kind, Move, Payload};
use pyck_vocab::records::{TaskKind, TaskStatus};

use super::Ctx;
use super::record::{self, Resolver};
use crate::input::{self, Columns, Row};
use crate::store::Store;
use crate::store::view::Snapshot;
use crate::store::work;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// SKU or GTIN of the item
    #[arg(long)]
    sku: Option<String>,
    /// Lot (required for lot-tracked items)
    #[arg(long)]
    lot: Option<String>,
    /// Units moved; left out, the count (or, for an item stocked by weight,
    /// the weight) on a GS1 label given as --sku
    #[arg(long)]
    qty: Option<String>,
    /// Location the stock came from
    #[arg(long)]
    from: Option<String>,
    /// Location the stock went to
    #[arg(long)]
    to: Option<String>,
    /// The putaway task this move completes (recorded as a putaway)
    #[arg(long)]
    task: Option<String>,
    /// Idempotency key: a move with a key already in the journal is not recorded again
    #[arg(long = "ref")]
    reference: Option<String>,
    /// Many moves from a CSV or JSON-lines file (`-` for stdin): columns
    /// sku,lot,qty,from,to (+ optional ref)
    #[arg(long, conflicts_with_all = ["sku", "lot", "qty", "from", "to", "reference", "task"])]
    file: Option<String>,
    /// Print JSON
    #[arg(long)]
    json: bool,
}

const COLUMNS: Columns = Columns {
    required: &["sku", "qty", "from", "to"],
    optional: &["lot", "ref", "task"],
};

pub fn run(ctx: &Ctx, args: Args) -> anyhow::Result<()> {
    let mut store = ctx.store()?;
    let operator = record::operator(&store, Kind::Move)?;
    let (rows, mut bad, single) = match &args.file {
        Some(file) => {
            let input = crate::output::refused_input(args.json, input::read(file, &COLUMNS))?;
            (input.rows, input.bad, false)
        }
        None => (
            vec![Row::from_flags(&[
                ("sku", args.sku.clone()),
                ("lot", args.lot.clone()),
                ("qty", args.qty.clone()),
                ("from", args.from.clone()),
                ("to", args.to.clone()),
                ("task", args.task.clone()),
            ])],
            crate::error::BadRows::default(),
            true,
        ),
    };
    // Check every row before recording any, and name every bad one. All
    // reads at one moment, in one read transaction: not one lock and
    // snapshot per look-up.
    let read = store.conn().unchecked_transaction()?;
    let mut moves = Vec::with_capacity(rows.len());
    {
        let mut r = Resolver::new(&store);
        for row in &rows {
            match checked(&store, &mut r, row) {
                Ok(m) => moves.push((row, m)),
                Err(e) if single => return Err(e),
                Err(e) => bad.add(row.line, e)?,
            }
        }
    }
    crate::output::refused_input(args.json, bad.into_result().map_err(Into::into))?;
    // Warn about moves of more than this device sees at the source.
    {
        let keys = moves.iter().flat_map(|(_, m)| {
            let lot = m.lot.as_deref().unwrap_or("");
            [
                (m.from.as_str(), m.sku.as_str(), lot),
                (m.to.as_str(), m.sku.as_str(), lot),
            ]
        });
        let (mut view, slots) = Snapshot::load(store.conn(), keys)?;
        for ((row, m), slots) in moves.iter().zip(slots.chunks_exact(2)) {
            let (from, to) = (slots[0], slots[1]);
            let there = view.qty(from);
            if there < m.qty {
                let at = if row.line == 0 {
                    String::new()
                } else {
                    format!("line {}: ", row.line)
                };
                eprintln!(
                    "warning: {at}moving {} of {} from {}, where this device sees {there}; recorded — the server will raise an exception if it agrees",
                    m.qty, m.sku, m.from
                );
            }
            view.add(from, -m.qty);
            view.add(to, m.qty);
        }
    }
    read.commit()?;
    let mut drafts = Vec::with_capacity(moves.len());
    for (row, m) in moves {
        let reference = if single {
            args.reference.clone().map(|r| format!("ref:{r}"))
        } else {
            record::reference(Kind::Move, row)
        };
        drafts.push((
            row.line,
            record::draft(Payload::Move(m), &operator, reference)?,
        ));
    }
    record::record_and_report(&mut store, Kind::Move, drafts, single, args.json)
}

/// A move checked against the replica: what `pyck move` and the scanner UI
/// both record.
pub(crate) fn checked(store: &Store, r: &mut Resolver<'_>, row: &Row) -> anyhow::Result<Move> {
    let item = r.item(row, "sku")?;
    let lot = r.lot(row, &item, None)?;
    let qty = r.labelled_qty(row, &item, false)?;
    let from = r.location(row, "from")?;
    let to = r.destination(row, "to", &item)?;
    if from == to {
        return Err(row.error("to", "must differ from `from`"));
    }
    let task = match row.opt("task") {
        Some(id) => match work::task(store.conn(), id)? {
            Some(t) if t.kind == TaskKind::Putaway && t.status == TaskStatus::Open => {
                Some(id.to_owned())
            }
            Some(_) => {
                return Err(row.error("task", format!("task {id} is not an open putaway task")));
            }
            None => {
                return Err(row.error("task", format!("no task {id} on this device (sync first)")));
            }
        },
        None => None,
    };
    Ok(Move {
        sku: item.sku.clone(),
        lot,
        qty,
        from,
        to,
        task,
    })
}
