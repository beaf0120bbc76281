//! `pyck feed`: the live events of this device's warehouse, one per line,
//! until interrupted (Ctrl-C exits 0). A lost connection is retried with
//! backoff and a notice on stderr; a refused token ends it (exit 5). Stderr
//! also says when the feed is following (again), so a script can wait for it.

use std::io::Write;

use pyck_vocab::events::{Event, EventKind};
use pyck_vocab::refusal::{Refusal, RefusalCode};

use super::{Ctx, runtime};
use crate::error::CliError;
use crate::sync::Remote;
use crate::sync::live::{self, LiveError, Status};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Follow another address for this run only (another replica, a load balancer)
    #[arg(long)]
    server: Option<String>,
    /// Print each event as one JSON object per line (the default is one line of text)
    #[arg(long)]
    json: bool,
}

pub fn run(ctx: &Ctx, args: Args) -> anyhow::Result<()> {
    let config = ctx.config()?;
    let remote = Remote::of(&config).via(args.server);
    let json = args.json;
    runtime()?.block_on(async {
        let follow = live::follow(
            &remote,
            |event| print(&event, json),
            |status| match status {
                Status::Connected => {
                    eprintln!("pyck feed: following {}", live::ws_url(&remote.server))
                }
                Status::Lost(err, wait) => eprintln!(
                    "pyck feed: connection lost ({err}); retrying in {:.1} s",
                    wait.as_secs_f64()
                ),
            },
        );
        tokio::select! {
            result = follow => result.map_err(|e| match e.downcast::<LiveError>() {
                Ok(LiveError::Unauthorised(why)) => {
                    CliError::Refused(Refusal::new(RefusalCode::Unauthenticated, why)).into()
                }
                Ok(other) => other.into(),
                Err(e) => e,
            }),
            _ = tokio::signal::ctrl_c() => Ok(()),
        }
    })
}

fn print(event: &Event, json: bool) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    if json {
        serde_json::to_writer(&mut out, event)?;
        writeln!(out)?;
    } else {
        writeln!(
            out,
            "{} {}",
            event.at.format("%H:%M:%S"),
            describe(&event.kind)
        )?;
    }
    // One line at a time: a script reading the pipe sees each event at once.
    out.flush()?;
    Ok(())
}

/// One event as a line of text (also the floor dashboard's feed).
pub(crate) fn describe(kind: &EventKind) -> String {
    match kind {
        EventKind::StockChanged {
            location,
            sku,
            lot,
            qty,
        } => match lot {
            Some(lot) => format!("stock {location} {sku} lot {lot}: {qty}"),
            None => format!("stock {location} {sku}: {qty}"),
        },
        EventKind::TaskCreated { task } => format!("task {task} created"),
        EventKind::TaskCancelled { id } => format!("task {id} cancelled"),
        EventKind::ExceptionRaised { id, kind, message } => {
            format!("exception {id} raised ({kind}): {message}")
        }
        EventKind::ExceptionResolved { id } => format!("exception {id} resolved"),
        EventKind::WorkflowStep {
            order,
            step,
            status,
            attempt,
            error,
        } => {
            let mut s = format!("order {order}: {step} {status} (attempt {attempt})");
            if let Some(e) = error {
                s.push_str(&format!(": {e}"));
            }
            s
        }
        EventKind::Lagged { missed } => format!("missed {missed} events; pull to catch up"),
    }
}
