//! `pyck pack` and `pyck ship`: an order packed, an order shipped (its staged
//! stock leaves the warehouse).

use pyck_sync::operation::{Kind, OrderRef, Payload};

use super::Ctx;
use super::record;
use crate::error::invalid;
use crate::store::Store;

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
    let payload = checked(&store, kind, args.order)?;
    let draft = record::draft(payload, &operator, None)?;
    record::record_and_report(&mut store, kind, vec![(0, draft)], true, args.json)
}

/// A pack or ship of an order known here: what `pyck pack`/`ship` and the
/// scanner UI both record.
pub(crate) fn checked(store: &Store, kind: Kind, order: String) -> anyhow::Result<Payload> {
    let known: i64 = store.conn().query_row(
        "SELECT COUNT(*) FROM order_lines WHERE order_no = ?1",
        [&order],
        |r| r.get(0),
    )?;
    if known == 0 {
        return Err(invalid(format!(
            "--order: order {order} is not known on this device (sync first)"
        )));
    }
    let order = OrderRef { order };
    Ok(if kind == Kind::Pack {
        Payload::Pack(order)
    } else {
        Payload::Ship(order)
    })
}
