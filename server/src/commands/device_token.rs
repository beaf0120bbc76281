//! `pyck-server device-token create|list|revoke`.

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
        /// Print JSON: {device, name, tenant, warehouse, token}
        #[arg(long)]
        json: bool,
    },
    /// List a tenant's devices, revoked ones included
    List {
        /// Tenant name
        #[arg(long)]
        tenant: String,
        /// Print JSON: an array of {id, name, warehouse, created_at,
        /// last_contact, backlog, revoked_at}
        #[arg(long)]
        json: bool,
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
            json,
        } => {
            pyck_sync::validate::name("name", &name)
                .map_err(|e| super::InvalidInput(e.to_string()))?;
            let tenant = store.tenant(&tenant).await?;
            let wh = store.warehouse(tenant.id, &warehouse).await?;
            let token = new_token();
            let device = store
                .create_device(tenant.id, wh.id, &name, &token_hash(&token))
                .await?;
            // The token is shown once, here, and stored only as a hash.
            if json {
                let created = serde_json::json!({
                    "device": device, "name": name, "tenant": tenant.name,
                    "warehouse": wh.code, "token": token,
                });
                println!("{created}");
            } else {
                println!("device {device} ({name}) in {}/{}", tenant.name, wh.code);
                println!("{token}");
            }
        }
        Command::List { tenant, json } => {
            let tenant = store.tenant(&tenant).await?;
            let devices = store.devices(tenant.id).await?;
            if json {
                println!("{}", serde_json::to_string(&devices)?);
            } else {
                for d in &devices {
                    let seen = d.last_contact.map_or("never synced".to_owned(), |t| {
                        format!("last sync {}", t.format("%Y-%m-%d %H:%M UTC"))
                    });
                    let state = if d.revoked_at.is_some() {
                        "revoked"
                    } else {
                        "active"
                    };
                    println!(
                        "{}\t{}\t{}\t{state}\t{seen}\t{} pending",
                        d.id, d.warehouse, d.name, d.backlog
                    );
                }
            }
        }
        Command::Revoke { token } => {
            let device = Uuid::parse_str(&token).ok();
            let revoked = store.revoke_device(&token_hash(&token), device).await?;
            println!("revoked device {revoked}");
        }
    }
    Ok(())
}
