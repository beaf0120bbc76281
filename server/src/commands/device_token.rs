//! `pyck-server device-token create|revoke`.

use uuid::Uuid;

use crate::auth::{new_token, token_hash};
use crate::storage::Storage;

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Register a device in a warehouse; prints its token as the last line
    Create {
        /// Tenant name
        #[arg(long)]
        tenant: String,
        /// Warehouse code
        #[arg(long)]
        warehouse: String,
        /// A name to recognise the device by
        #[arg(long, default_value = "scanner")]
        name: String,
    },
    /// Revoke a device's token (give the token or the device id)
    Revoke {
        /// The token, or the device id printed at creation
        token: String,
    },
}

pub async fn run(store: &dyn Storage, cmd: Command) -> anyhow::Result<()> {
    match cmd {
        Command::Create {
            tenant,
            warehouse,
            name,
        } => {
            pyck_sync::validate::name("name", &name)
                .map_err(|e| super::InvalidInput(e.to_string()))?;
            let tenant = store.tenant(&tenant).await?;
            let wh = store.warehouse(tenant.id, &warehouse).await?;
            let token = new_token();
            let device = store
                .create_device(tenant.id, wh.id, &name, &token_hash(&token))
                .await?;
            println!("device {device} ({name}) in {}/{}", tenant.name, wh.code);
            // The token is shown once, here, and stored only as a hash.
            println!("{token}");
        }
        Command::Revoke { token } => {
            let device = Uuid::parse_str(&token).ok();
            let revoked = store.revoke_device(&token_hash(&token), device).await?;
            println!("revoked device {revoked}");
        }
    }
    Ok(())
}
