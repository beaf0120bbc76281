//! `pyck-server workflow show|list`: where orders' fulfilment stands.

use super::InvalidInput;
use crate::storage::Storage;

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// One order's workflow and the history of its steps
    Show(ShowArgs),
    /// Every order's workflow, newest first
    List(ListArgs),
}

#[derive(Debug, clap::Args)]
pub struct ShowArgs {
    /// Tenant name
    #[arg(long)]
    tenant: String,
    /// Order number
    order: String,
    /// Print JSON: {"order","state","step","history":[{"step","status","attempt","at","error"}]}
    #[arg(long)]
    json: bool,
}

#[derive(Debug, clap::Args)]
pub struct ListArgs {
    /// Tenant name
    #[arg(long)]
    tenant: String,
    /// Print JSON: one array of {"order","state","step"}
    #[arg(long)]
    json: bool,
}

pub async fn run(store: &dyn Storage, cmd: Command) -> anyhow::Result<()> {
    match cmd {
        Command::Show(args) => {
            let tenant = store.tenant(&args.tenant).await?;
            let Some(report) = store.workflow(tenant.id, None, &args.order).await? else {
                return Err(InvalidInput(format!(
                    "order: no order {} in tenant {}",
                    args.order, tenant.name
                ))
                .into());
            };
            if args.json {
                println!("{}", serde_json::to_string(&report)?);
                return Ok(());
            }
            println!(
                "order {}: {} (at {})",
                report.order, report.state, report.step
            );
            for h in &report.history {
                println!(
                    "  {}  {:<10} {:<9} attempt {}{}",
                    h.at.format("%Y-%m-%d %H:%M:%S"),
                    h.step,
                    h.status,
                    h.attempt,
                    h.error
                        .as_deref()
                        .map(|e| format!("  {e}"))
                        .unwrap_or_default()
                );
            }
            Ok(())
        }
        Command::List(args) => {
            let tenant = store.tenant(&args.tenant).await?;
            let all = store.workflows(tenant.id, None).await?;
            if args.json {
                let rows: Vec<_> = all
                    .iter()
                    .map(
                        |r| serde_json::json!({"order": r.order, "state": r.state, "step": r.step}),
                    )
                    .collect();
                println!("{}", serde_json::Value::Array(rows));
            } else {
                for r in &all {
                    println!("{:<16} {:<13} {}", r.order, r.state, r.step);
                }
            }
            Ok(())
        }
    }
}
