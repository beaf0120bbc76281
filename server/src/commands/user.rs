//! `pyck-server user create|list|set-pin|set-role|disable|enable`: the
//! operators who log in on devices, and what an administrator does when
//! people join, forget a PIN, change jobs or leave. Every change reaches the
//! devices that hold the operator at their next sync (docs/SECURITY.md,
//! "Operators' PINs").

use pyck_vocab::records::Role;

use super::InvalidInput;
use crate::domain::operators::OperatorUpdate;
use crate::service::UseCases;
use crate::storage::{OperatorInfo, Storage};

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
        /// Print the operator as JSON
        #[arg(long)]
        json: bool,
    },
    /// List a tenant's operators
    List {
        /// Tenant name
        #[arg(long)]
        tenant: String,
        /// Print JSON: an array of {badge, role, active, warehouses, locked_until}
        #[arg(long)]
        json: bool,
    },
    /// Give an operator a new PIN (and lift a lock-out after wrong PINs)
    SetPin {
        #[command(flatten)]
        who: Who,
        /// PIN: 4 to 12 digits
        #[arg(long)]
        pin: String,
    },
    /// Change an operator's role
    SetRole {
        #[command(flatten)]
        who: Who,
        /// picker, receiver, supervisor or admin
        #[arg(long)]
        role: String,
    },
    /// Stop an operator logging in on any device (after the device's next
    /// sync); what they recorded before still counts
    Disable {
        #[command(flatten)]
        who: Who,
    },
    /// Let a disabled operator log in again
    Enable {
        #[command(flatten)]
        who: Who,
    },
}

/// The operator a change is for.
#[derive(Debug, clap::Args)]
pub struct Who {
    /// Tenant name
    #[arg(long)]
    tenant: String,
    /// The operator's badge
    #[arg(long)]
    badge: String,
    /// Print the operator as JSON
    #[arg(long)]
    json: bool,
}

pub async fn run(store: &dyn Storage, cmd: Command) -> anyhow::Result<()> {
    match cmd {
        Command::Create {
            tenant,
            badge,
            pin,
            role,
            warehouses,
            json,
        } => {
            pyck_vocab::validate::code("badge", &badge).map_err(|e| InvalidInput(e.to_string()))?;
            check_pin(&pin)?;
            let role = role_of(&role)?;
            let tenant = store.tenant(&tenant).await?;
            let mut ids = Vec::with_capacity(warehouses.len());
            for code in &warehouses {
                ids.push(store.warehouse(tenant.id, code).await?.id);
            }
            let hash = crate::auth::hash_pin(&pin)?;
            store
                .create_operator(tenant.id, &badge, role, &hash, &ids)
                .await?;
            let created = find(store, tenant.id, &badge).await?;
            show(&created, json, &format!("created in {}", tenant.name))
        }
        Command::List { tenant, json } => {
            let tenant = store.tenant(&tenant).await?;
            let operators = store.operators(tenant.id).await?;
            if json {
                println!("{}", serde_json::to_string(&operators)?);
            } else {
                for op in &operators {
                    println!("{}", line(op));
                }
            }
            Ok(())
        }
        Command::SetPin { who, pin } => {
            check_pin(&pin)?;
            let update = OperatorUpdate {
                pin_hash: Some(crate::auth::hash_pin(&pin)?),
                ..OperatorUpdate::default()
            };
            change(store, who, update, "new PIN").await
        }
        Command::SetRole { who, role } => {
            let update = OperatorUpdate {
                role: Some(role_of(&role)?),
                ..OperatorUpdate::default()
            };
            change(store, who, update, "new role").await
        }
        Command::Disable { who } => {
            let update = OperatorUpdate {
                active: Some(false),
                ..OperatorUpdate::default()
            };
            change(store, who, update, "disabled").await
        }
        Command::Enable { who } => {
            let update = OperatorUpdate {
                active: Some(true),
                ..OperatorUpdate::default()
            };
            change(store, who, update, "enabled").await
        }
    }
}

async fn change(
    store: &dyn Storage,
    who: Who,
    update: OperatorUpdate,
    what: &str,
) -> anyhow::Result<()> {
    let tenant = store.tenant(&who.tenant).await?;
    let op = store
        .update_operator(tenant.id, &who.badge, &update)
        .await?;
    show(&op, who.json, what)
}

async fn find(store: &dyn Storage, tenant: i64, badge: &str) -> anyhow::Result<OperatorInfo> {
    store
        .operators(tenant)
        .await?
        .into_iter()
        .find(|o| o.badge == badge)
        .ok_or_else(|| anyhow::anyhow!("operator {badge} vanished after it was written"))
}

fn show(op: &OperatorInfo, json: bool, what: &str) -> anyhow::Result<()> {
    if json {
        println!("{}", serde_json::to_string(op)?);
    } else {
        println!("{what}: {}", line(op));
    }
    Ok(())
}

/// One operator as a line: badge, role, state, warehouses.
fn line(op: &OperatorInfo) -> String {
    let state = match (op.active, op.locked_until) {
        (false, _) => "disabled".to_owned(),
        (true, Some(until)) if until > chrono::Utc::now() => {
            format!("locked until {}", until.format("%Y-%m-%d %H:%M:%S UTC"))
        }
        (true, _) => "active".to_owned(),
    };
    let warehouses = if op.warehouses.is_empty() {
        "every warehouse".to_owned()
    } else {
        op.warehouses.join(",")
    };
    format!("{}\t{}\t{state}\t{warehouses}", op.badge, op.role)
}

fn check_pin(pin: &str) -> anyhow::Result<()> {
    crate::auth::check_pin(pin).map_err(|e| InvalidInput(format!("--pin: {e}")).into())
}

fn role_of(role: &str) -> anyhow::Result<Role> {
    Role::parse(role).ok_or_else(|| {
        InvalidInput(format!(
            "--role: {role:?} is not one of picker, receiver, supervisor, admin"
        ))
        .into()
    })
}
