//! `pyck-server tenant create|list`.

use crate::storage::Storage;

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Create a tenant (a company)
    Create {
        /// The tenant's name, used by every other admin command
        name: String,
        /// Print JSON: {id, name}
        #[arg(long)]
        json: bool,
    },
    /// List tenants
    List {
        /// Print JSON
        #[arg(long)]
        json: bool,
    },
}

pub async fn run(store: &dyn Storage, cmd: Command) -> anyhow::Result<()> {
    match cmd {
        Command::Create { name, json } => {
            pyck_vocab::validate::code("name", &name)
                .map_err(|e| super::InvalidInput(e.to_string()))?;
            let t = store.create_tenant(&name).await?;
            if json {
                println!("{}", serde_json::to_string(&t)?);
            } else {
                println!("created tenant {} (id {})", t.name, t.id);
            }
        }
        Command::List { json } => {
            let tenants = store.tenants().await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&tenants)?);
            } else {
                for t in tenants {
                    println!("{}\t{}", t.id, t.name);
                }
            }
        }
    }
    Ok(())
}
