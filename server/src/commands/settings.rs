//! `pyck-server settings get|set|history`: a warehouse's settings, changed
//! with an audit trail (docs/SETTINGS.md).

use super::InvalidInput;
use crate::service::UseCases;
use crate::settings::Key;
use crate::storage::Storage;

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Print a warehouse's settings (unset ones show their default)
    Get(Scope),
    /// Change one setting; `default` resets it. Audited.
    Set(SetArgs),
    /// Every change of a warehouse's settings: key, old, new, who, when
    History(Scope),
}

#[derive(Debug, clap::Args)]
pub struct Scope {
    /// Tenant name
    #[arg(long)]
    tenant: String,
    /// Warehouse code
    #[arg(long)]
    warehouse: String,
    /// Print JSON
    #[arg(long)]
    json: bool,
}

#[derive(Debug, clap::Args)]
pub struct SetArgs {
    #[command(flatten)]
    scope: Scope,
    /// count_threshold (units), pick_deadline (seconds), step_attempts,
    /// retry_base_ms, fefo (warn|refuse)
    key: String,
    /// The new value, or `default`
    value: String,
    /// Who changes it, for the audit [default: the user running this]
    #[arg(long)]
    by: Option<String>,
}

pub async fn run(store: &dyn Storage, cmd: Command) -> anyhow::Result<()> {
    match cmd {
        Command::Get(scope) => {
            let (tenant, wh) = resolve(store, &scope).await?;
            let settings = store.settings(tenant, wh).await?;
            if scope.json {
                println!("{}", serde_json::to_string(&settings)?);
            } else {
                for key in Key::ALL {
                    let value = settings.get(key).unwrap_or_else(|| "default".into());
                    println!("{key:<16} {value}");
                }
            }
            Ok(())
        }
        Command::Set(args) => {
            let key = Key::parse(&args.key).map_err(InvalidInput)?;
            let value = key.value(&args.value).map_err(InvalidInput)?;
            let (tenant, wh) = resolve(store, &args.scope).await?;
            let by = format!(
                "admin:{}",
                args.by
                    .or_else(|| std::env::var("USER").ok())
                    .unwrap_or_else(|| "unknown".into())
            );
            let change = store.set_setting(tenant, wh, key, &value, &by).await?;
            if args.scope.json {
                println!("{}", serde_json::to_string(&change)?);
            } else {
                println!(
                    "{}: {} -> {}",
                    change.key,
                    change.old.as_deref().unwrap_or("default"),
                    change.new.as_deref().unwrap_or("default")
                );
            }
            Ok(())
        }
        Command::History(scope) => {
            let (tenant, wh) = resolve(store, &scope).await?;
            let changes = store.settings_history(tenant, wh).await?;
            if scope.json {
                println!("{}", serde_json::to_string(&changes)?);
            } else {
                for c in &changes {
                    println!(
                        "{}  {:<16} {} -> {}  by {}",
                        c.at.format("%Y-%m-%d %H:%M:%S"),
                        c.key,
                        c.old.as_deref().unwrap_or("default"),
                        c.new.as_deref().unwrap_or("default"),
                        c.by
                    );
                }
            }
            Ok(())
        }
    }
}

async fn resolve(store: &dyn Storage, scope: &Scope) -> anyhow::Result<(i64, i64)> {
    let tenant = store.tenant(&scope.tenant).await?;
    let wh = store.warehouse(tenant.id, &scope.warehouse).await?;
    Ok((tenant.id, wh.id))
}
