//! `pyck pack` and `pyck ship`: an order packed, an order shipped (its staged
//! stock leaves the warehouse).

use pyck_sync::operation::{Kind, OrderRef, Payload};

use super::Ctx;
use super::record;
use crate::error::invalid;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The order
    #[arg(long)]
    order: String,
    /// Print JSON
    #[arg(long)]
    json: bool,
}

pub fn run(ctx: &Ctx, args: Args, kind: Kind) -> anyhow::Result<()> {
    let mut store = ctx.store()?;
    let operator = record::operator(&store, kind)?;
    let known: i64 = store.conn().query_row(
        "SELECT COUNT(*) FROM order_lines WHERE order_no = ?1",
        [&args.order],
        |r| r.get(0),
    )?;
    if known == 0 {
        return Err(invalid(format!(
            "--order: order {} is not known on this device (sync first)",
            args.order
        )));
    }
    let order = OrderRef { order: args.order };
    let payload = if kind == Kind::Pack {
        Payload::Pack(order)
    } else {
        Payload::Ship(order)
    };
    let draft = record::draft(payload, &operator, None)?;
    record::record_and_report(&mut store, kind, vec![(0, draft)], true, args.json)
}
