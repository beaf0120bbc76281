//! `pyck adjust`: a supervisor sets the quantity at a location, with a reason.

use pyck_vocab::operation::{Adjust, Kind, Payload};

use super::Ctx;
use super::record::{self, Resolver};
use crate::input::Row;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Location
    #[arg(long)]
    location: String,
    /// SKU or GTIN
    #[arg(long)]
    sku: String,
    /// Lot (lot-tracked items)
    #[arg(long)]
    lot: Option<String>,
    /// The quantity there now; left out, the count (or weight) on a GS1
    /// label given as --sku
    #[arg(long)]
    qty: Option<String>,
    /// Why (kept with the adjustment)
    #[arg(long)]
    reason: String,
    /// Print JSON
    #[arg(long)]
    json: bool,
}

pub fn run(ctx: &Ctx, args: Args) -> anyhow::Result<()> {
    let mut store = ctx.store()?;
    let operator = record::operator(&store, Kind::Adjust)?;
    let row = Row::from_flags(&[
        ("location", Some(args.location)),
        ("sku", Some(args.sku)),
        ("lot", args.lot),
        ("qty", args.qty),
    ]);
    let payload = {
        let mut r = Resolver::new(&store);
        let item = r.item(&row, "sku")?;
        let lot = r.lot(&row, &item, None)?;
        let qty = r.labelled_qty(&row, &item, true)?;
        Payload::Adjust(Adjust {
            location: r.location(&row, "location")?,
            sku: item.sku.clone(),
            lot,
            qty,
            reason: args.reason,
        })
    };
    let draft = record::draft(payload, &operator, None)?;
    record::record_and_report(&mut store, Kind::Adjust, vec![(0, draft)], true, args.json)
}
