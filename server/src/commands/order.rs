//! `pyck-server order cancel`: an order's fulfilment workflow compensates.

use super::InvalidInput;
use crate::storage::Storage;

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Cancel an order: its open picks are cancelled, what was picked goes
    /// back to stock through putaway tasks (the workflow compensates)
    Cancel(CancelArgs),
}

#[derive(Debug, clap::Args)]
pub struct CancelArgs {
    /// Tenant name
    #[arg(long)]
    tenant: String,
    /// Order number
    order: String,
}

pub async fn run(store: &dyn Storage, cmd: Command) -> anyhow::Result<()> {
    let Command::Cancel(args) = cmd;
    let tenant = store.tenant(&args.tenant).await?;
    match store.cancel_order(tenant.id, &args.order).await? {
        None => Err(InvalidInput(format!(
            "order: no order {} in tenant {}",
            args.order, tenant.name
        ))
        .into()),
        Some(state) if state == "running" => {
            println!(
                "order {}: cancel requested; its workflow compensates (see `pyck-server workflow show --tenant {} {}`)",
                args.order, tenant.name, args.order
            );
            Ok(())
        }
        Some(state) => {
            println!(
                "order {}: its workflow is already {state}; nothing to cancel",
                args.order
            );
            Ok(())
        }
    }
}
