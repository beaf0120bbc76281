//! `pyck pack` and `pyck ship`: an order packed, an order shipped (its staged
//! stock leaves the warehouse).

use pyck_vocab::operation::{Kind, OrderRef, Payload};

use super::Ctx;
use super::record;
use crate::checks;
use crate::error::invalid;
use crate::store::{Store, work};

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
/// scanner UI both record. Refused while the device knows the order is not
/// ready (`checks::order_ready`): open picks, not packed, already done.
pub(crate) fn checked(store: &Store, kind: Kind, order: String) -> anyhow::Result<Payload> {
    let Some(state) = work::order_state(store.conn(), &order)? else {
        return Err(invalid(format!(
            "--order: order {order} is not known on this device (sync first)"
        )));
    };
    checks::order_ready(kind, &state).map_err(|w| invalid(format!("--order: {w}")))?;
    let order = OrderRef { order };
    Ok(if kind == Kind::Pack {
        Payload::Pack(order)
    } else {
        Payload::Ship(order)
    })
}
