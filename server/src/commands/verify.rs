//! `pyck-server verify`: every invariant of a tenant, checked from scratch.

use super::VerifyFailed;
use crate::storage::Storage;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Tenant name
    #[arg(long)]
    tenant: String,
    /// Print JSON
    #[arg(long)]
    json: bool,
}

pub async fn run(store: &dyn Storage, args: Args) -> anyhow::Result<()> {
    let tenant = store.tenant(&args.tenant).await?;
    let problems = store.verify(tenant.id).await?;
    if args.json {
        println!(
            "{}",
            serde_json::json!({ "tenant": tenant.name, "ok": problems.is_empty(), "problems": problems })
        );
    } else if problems.is_empty() {
        println!("ok: every invariant holds for {}", tenant.name);
    } else {
        for p in &problems {
            println!("{p}");
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(VerifyFailed(problems.len()).into())
    }
}
