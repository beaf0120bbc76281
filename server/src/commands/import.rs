//! `pyck-server import`: master data and opening state from a directory.

use std::path::PathBuf;

use crate::service::UseCases;
use crate::storage::Storage;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Tenant name
    #[arg(long)]
    tenant: String,
    /// Warehouse code; created if new
    #[arg(long)]
    warehouse: String,
    /// Directory with items.csv, locations.csv, stock.csv, asns.csv, orders.csv
    dir: PathBuf,
}

pub async fn run(store: &dyn Storage, args: Args) -> anyhow::Result<()> {
    pyck_vocab::validate::code("warehouse", &args.warehouse)
        .map_err(|e| super::InvalidInput(e.to_string()))?;
    let tenant = store.tenant(&args.tenant).await?;
    let data = crate::import::read_dir(&args.dir)?;
    for name in &data.ignored {
        eprintln!("note: ignoring {name} (not an import file)");
    }
    let s = store.import(tenant.id, &args.warehouse, &data).await?;
    println!(
        "imported into {}/{}: {} items, {} locations, {} stock rows ({} changed), {} ASN lines, {} order lines",
        tenant.name,
        args.warehouse,
        s.items,
        s.locations,
        s.stock_rows,
        s.movements,
        s.asn_lines,
        s.order_lines
    );
    Ok(())
}
