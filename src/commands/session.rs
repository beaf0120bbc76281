//! `pyck login`, `logout`, `whoami`: the operator on this device. Works
//! offline for operators already pulled; supervisors and admins, whose PIN
//! only the server checks, log in where the server can be reached.

use std::time::Duration;

use pyck_vocab::{Refusal, RefusalCode};
use rusqlite::Connection;

use super::Ctx;
use crate::config::Config;
use crate::error::CliError;
use crate::output;
use crate::store::session::{self, LoginError, Operator};
use crate::sync::{Client, Remote};

/// How long an online PIN check may take before the login gives up.
const ONLINE_CHECK_TIMEOUT: Duration = Duration::from_secs(10);

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
    let config = ctx.config()?;
    let store = ctx.store()?;
    let op = log_in(store.conn(), &config, &args.badge, &args.pin)?;
    if args.json {
        output::json(&op)
    } else {
        println!("logged in: {} ({})", op.badge, op.role);
        Ok(())
    }
}

/// Logs an operator in, offline against the pulled hash or, for a badge
/// whose PIN the server keeps, by asking the server. The errors are the
/// CLI's: an unknown badge is invalid input (exit 2), a wrong PIN or a lock
/// refused (exit 5), a server out of reach unreachable (exit 4).
pub fn log_in(
    conn: &Connection,
    config: &Config,
    badge: &str,
    pin: &str,
) -> anyhow::Result<Operator> {
    match session::login(conn, badge, pin)? {
        Ok(op) => Ok(op),
        Err(e @ LoginError::UnknownBadge(_)) => Err(CliError::Invalid(e.to_string()).into()),
        Err(LoginError::CheckedOnline { badge, role }) => {
            let remote = Remote::of(config);
            let checked = super::runtime()?.block_on(async {
                Client::new(&remote, ONLINE_CHECK_TIMEOUT)?
                    .verify_operator(&badge, pin)
                    .await
            });
            match checked {
                Ok(role) => session::open(conn, &badge, role),
                Err(e) => Err(match e.downcast::<CliError>() {
                    Ok(CliError::Unreachable(why)) => CliError::Unreachable(format!(
                        "the PIN of {role} {badge} is checked by the server, which cannot be \
                         reached ({why}); log in where there is network"
                    ))
                    .into(),
                    Ok(other) => other.into(),
                    Err(other) => other,
                }),
            }
        }
        Err(e) => {
            Err(CliError::Refused(Refusal::new(RefusalCode::Unauthenticated, e.to_string())).into())
        }
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
