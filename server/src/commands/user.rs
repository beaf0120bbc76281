//! `pyck-server user create`: operators who log in on devices.

use pyck_sync::records::Role;

use super::InvalidInput;
use crate::storage::Storage;

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Create an operator
    Create {
        /// Tenant name
        #[arg(long)]
        tenant: String,
        /// Badge number the operator scans or types to log in
        #[arg(long)]
        badge: String,
        /// PIN: 4 to 12 digits (stored only as an Argon2id hash)
        #[arg(long)]
        pin: String,
        /// picker, receiver, supervisor or admin
        #[arg(long)]
        role: String,
        /// A warehouse the operator works in (repeat for several); devices
        /// of other warehouses never receive them. Without it, every
        /// warehouse of the tenant.
        #[arg(long = "warehouse", value_name = "CODE")]
        warehouses: Vec<String>,
    },
}

pub async fn run(store: &dyn Storage, cmd: Command) -> anyhow::Result<()> {
    let Command::Create {
        tenant,
        badge,
        pin,
        role,
        warehouses,
    } = cmd;
    pyck_sync::validate::code("badge", &badge).map_err(|e| InvalidInput(e.to_string()))?;
    crate::auth::check_pin(&pin).map_err(|e| InvalidInput(format!("pin: {e}")))?;
    let role = Role::parse(&role).ok_or_else(|| {
        InvalidInput(format!(
            "role: {role:?} is not one of picker, receiver, supervisor, admin"
        ))
    })?;
    let tenant = store.tenant(&tenant).await?;
    let mut ids = Vec::with_capacity(warehouses.len());
    for code in &warehouses {
        ids.push(store.warehouse(tenant.id, code).await?.id);
    }
    ids.sort_unstable();
    ids.dedup();
    let hash = crate::auth::hash_pin(&pin)?;
    store
        .create_operator(tenant.id, &badge, role, &hash, &ids)
        .await?;
    let scope = if warehouses.is_empty() {
        "every warehouse".to_owned()
    } else {
        format!("warehouse {}", warehouses.join(", "))
    };
    println!("created {role} {badge} in {} ({scope})", tenant.name);
    Ok(())
}
