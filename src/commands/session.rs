//! `pyck login`, `logout`, `whoami`: the operator on this device. Works
//! offline for operators already pulled.

use super::Ctx;
use crate::error::CliError;
use crate::output;
use crate::store::session::{self, LoginError};

#[derive(Debug, clap::Args)]
pub struct LoginArgs {
    /// Badge number
    #[arg(long)]
    badge: String,
    /// PIN
    #[arg(long, env = "PYCK_PIN", hide_env_values = true)]
    pin: String,
    /// Print JSON
    #[arg(long)]
    json: bool,
}

#[derive(Debug, clap::Args)]
pub struct JsonArgs {
    /// Print JSON
    #[arg(long)]
    json: bool,
}

pub fn login(ctx: &Ctx, args: LoginArgs) -> anyhow::Result<()> {
    ctx.config()?;
    let store = ctx.store()?;
    match session::login(store.conn(), &args.badge, &args.pin)? {
        Ok(op) => {
            if args.json {
                output::json(&op)
            } else {
                println!("logged in: {} ({})", op.badge, op.role);
                Ok(())
            }
        }
        Err(e @ LoginError::UnknownBadge(_)) => Err(CliError::Invalid(e.to_string()).into()),
        Err(e) => Err(CliError::Refused(pyck_sync::Refusal::new(
            pyck_sync::RefusalCode::Unauthenticated,
            e.to_string(),
        ))
        .into()),
    }
}

pub fn logout(ctx: &Ctx, args: JsonArgs) -> anyhow::Result<()> {
    let store = ctx.store()?;
    let badge = session::logout(store.conn())?;
    if args.json {
        output::json(&serde_json::json!({ "logged_out": badge }))
    } else {
        match badge {
            Some(b) => println!("logged out: {b}"),
            None => println!("nobody was logged in"),
        }
        Ok(())
    }
}

pub fn whoami(ctx: &Ctx, args: JsonArgs) -> anyhow::Result<()> {
    let store = ctx.store()?;
    let op = session::current(store.conn())?
        .ok_or_else(|| CliError::NotInitialised("no operator is logged in".into()))?;
    if args.json {
        output::json(&op)
    } else {
        println!("{} ({})", op.badge, op.role);
        Ok(())
    }
}
