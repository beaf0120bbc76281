//! `pyck-server exceptions list`: what supervisors must look at, as the
//! terminal's `pyck exceptions` shows it, for every warehouse of a tenant.

use crate::storage::Storage;
use pyck_vocab::records::ExceptionStatus;

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Open exceptions of a tenant (all of them with --all)
    List(ListArgs),
}

#[derive(Debug, clap::Args)]
pub struct ListArgs {
    /// Tenant name
    #[arg(long)]
    tenant: String,
    /// Only this warehouse (its code)
    #[arg(long)]
    warehouse: Option<String>,
    /// Include resolved exceptions
    #[arg(long)]
    all: bool,
    /// Print JSON: [{"id","kind","status","message","order"?,"asn"?,"location"?,"sku"?,"lot"?,"raised_at","warehouse"}]
    #[arg(long)]
    json: bool,
}

pub async fn run(store: &dyn Storage, cmd: Command) -> anyhow::Result<()> {
    let Command::List(args) = cmd;
    let tenant = store.tenant(&args.tenant).await?;
    let warehouses = match &args.warehouse {
        Some(code) => vec![store.warehouse(tenant.id, code).await?],
        None => store.warehouses(tenant.id).await?,
    };
    let mut rows = Vec::new();
    for wh in &warehouses {
        for e in store.exceptions(tenant.id, wh.id).await? {
            if args.all || e.status != ExceptionStatus::Resolved {
                rows.push((wh.code.clone(), e));
            }
        }
    }
    if args.json {
        let list: Vec<serde_json::Value> = rows
            .into_iter()
            .map(|(wh, e)| {
                let mut v = serde_json::to_value(e)?;
                v["warehouse"] = serde_json::Value::String(wh);
                Ok(v)
            })
            .collect::<serde_json::Result<_>>()?;
        println!("{}", serde_json::Value::Array(list));
        return Ok(());
    }
    for (wh, e) in &rows {
        println!(
            "{}  {:<4} {:<22} {:<9} {}",
            e.id, wh, e.kind, e.status, e.message
        );
    }
    Ok(())
}
