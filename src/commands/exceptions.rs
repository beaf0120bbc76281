//! `pyck exceptions`: what a supervisor must look at, and resolving one
//! with a note (recorded like any operation, so it works offline).

use pyck_sync::operation::{Kind, Payload, ResolveException};

use super::Ctx;
use super::record;
use crate::error::invalid;
use crate::output;
use crate::store::{Store, work};

#[derive(Debug, clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct Args {
    #[command(subcommand)]
    command: Option<Command>,
    /// Include resolved exceptions
    #[arg(long)]
    all: bool,
    /// Print JSON
    #[arg(long, global = true)]
    json: bool,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// Resolve an exception with a note (supervisors)
    Resolve {
        /// The exception's id
        id: String,
        /// What was done about it
        #[arg(long)]
        note: String,
    },
}

pub fn run(ctx: &Ctx, args: Args) -> anyhow::Result<()> {
    let mut store = ctx.store()?;
    match args.command {
        Some(Command::Resolve { id, note }) => {
            let operator = record::operator(&store, Kind::ResolveException)?;
            let payload = resolution(&store, id, note)?;
            let draft = record::draft(payload, &operator, None)?;
            record::record_and_report(
                &mut store,
                Kind::ResolveException,
                vec![(0, draft)],
                true,
                args.json,
            )
        }
        None => {
            let list: Vec<_> = work::exceptions(store.conn())?
                .into_iter()
                .filter(|e| args.all || e.status != "resolved")
                .collect();
            if args.json {
                return output::json(&list);
            }
            let rows: Vec<Vec<String>> = list
                .iter()
                .map(|e| {
                    vec![
                        e.id.clone(),
                        e.kind.clone(),
                        e.status.clone(),
                        e.message.clone(),
                    ]
                })
                .collect();
            output::table(&["ID", "KIND", "STATUS", "MESSAGE"], &rows)
        }
    }
}

/// A resolution of an open exception known here: what `pyck exceptions
/// resolve` and the scanner UI both record.
pub(crate) fn resolution(store: &Store, id: String, note: String) -> anyhow::Result<Payload> {
    let known = work::exceptions(store.conn())?
        .into_iter()
        .find(|e| e.id == id);
    match known {
        None => {
            return Err(invalid(format!(
                "no exception {id} on this device (sync first)"
            )));
        }
        Some(e) if e.status == "resolved" => {
            return Err(invalid(format!("exception {id} is already resolved")));
        }
        Some(_) => {}
    }
    Ok(Payload::ResolveException(ResolveException {
        exception: id,
        note,
    }))
}
