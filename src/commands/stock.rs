//! `pyck stock`: the local view — server state plus this device's pending
//! operations on top.

use super::Ctx;
use crate::error::invalid;
use crate::output;
use crate::store::replica;
use crate::store::view::{self, Filter};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Only this location
    #[arg(long)]
    location: Option<String>,
    /// Only this SKU
    #[arg(long, conflicts_with = "gtin")]
    sku: Option<String>,
    /// Only the item with this GTIN
    #[arg(long)]
    gtin: Option<String>,
    /// Print JSON
    #[arg(long)]
    json: bool,
}

pub fn run(ctx: &Ctx, args: Args) -> anyhow::Result<()> {
    let store = ctx.store()?;
    let sku = match (&args.sku, &args.gtin) {
        (_, Some(gtin)) => {
            Some(replica::sku_by_gtin(store.conn(), gtin)?.ok_or_else(|| {
                invalid(format!("--gtin: no item with GTIN {gtin} on this device"))
            })?)
        }
        (sku, None) => sku.clone(),
    };
    let rows = view::stock(
        store.conn(),
        &Filter {
            location: args.location.clone(),
            sku,
        },
    )?;
    if args.json {
        return output::json(&rows);
    }
    let table: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            vec![
                r.location.clone(),
                r.sku.clone(),
                r.lot.clone().unwrap_or_default(),
                r.expiry.map(|e| e.to_string()).unwrap_or_default(),
                r.qty.to_string(),
            ]
        })
        .collect();
    output::table(&["LOCATION", "SKU", "LOT", "EXPIRY", "QTY"], &table)
}
