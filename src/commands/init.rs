//! `pyck init`: register this device with a server and pull its warehouse.

use std::path::{Path, PathBuf};
use std::time::Duration;

use pyck_sync::protocol::{PROTOCOL_VERSION, PushRequest};
use uuid::Uuid;

use super::{Ctx, runtime};
use crate::config::Config;
use crate::error::CliError;
use crate::output;
use crate::progress;
use crate::store::{identity, journal, replica, reserve};
use crate::sync::{self, Client, Remote, SyncReport, remote};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The server's address, e.g. http://10.0.0.5:7415
    #[arg(long)]
    server: String,
    /// The device token from `pyck-server device-token create`
    #[arg(long, env = "PYCK_TOKEN", hide_env_values = true)]
    token: String,
    /// A PEM file of the certificate authority that signed an https
    /// server's certificate, trusted on top of the system's (kept in the
    /// terminal's config, so the file may go afterwards)
    #[arg(long, value_name = "FILE")]
    ca: Option<PathBuf>,
    /// The text this site's scanners send for the GS1 separator (FNC1)
    /// when they cannot send the GS byte, e.g. `~` or `\F`; in a GS1 scan
    /// it ends a variable-length field as GS does. Kept in the terminal's
    /// config; re-running init without it keeps the one set, and an empty
    /// value (`--gs-substitute ''`) removes it
    #[arg(long, value_name = "TEXT")]
    gs_substitute: Option<String>,
    /// Start over on a store refused as lost (exit 8: missing, emptied,
    /// replaced or an older copy): the old file is kept beside the new one
    /// as pyck.sqlite3.lost-<time>, and new operations are numbered after
    /// the last one the server holds of this device. Operations recorded
    /// here and never synced stay lost (the message says which numbers).
    /// A store that is not refused is kept as it is
    #[arg(long)]
    start_over: bool,
    /// Print JSON
    #[arg(long)]
    json: bool,
}

pub fn run(ctx: &Ctx, args: Args) -> anyhow::Result<()> {
    if !(args.server.starts_with("http://") || args.server.starts_with("https://")) {
        return Err(CliError::Usage(format!(
            "--server: expected an http:// or https:// address, got {:?}",
            args.server
        ))
        .into());
    }
    let ca = args.ca.as_deref().map(read_ca).transpose()?;
    if let Some(problem) = args
        .gs_substitute
        .as_deref()
        .filter(|s| !s.is_empty())
        .and_then(pyck_sync::gs1::substitute_problem)
    {
        return Err(CliError::Usage(format!("--gs-substitute: {problem}")).into());
    }
    let remote = Remote::new(&args.server, &args.token, ca.as_deref());
    let mut started_over = false;
    let mut store = match ctx.store() {
        Err(e) if args.start_over && identity::is_lost(&e) => {
            let (store, aside) = identity::start_over(&ctx.paths)?;
            if let Some(aside) = aside {
                eprintln!("the lost store was kept as {}", aside.display());
            }
            started_over = true;
            store
        }
        other => other?,
    };
    runtime()?.block_on(async {
        let mut client = Client::new(&remote, Duration::from_secs(60))?;
        let hello = client.hello().await?;
        let device = Uuid::parse_str(&hello.device)?;
        let previous = Config::load(&ctx.paths)?;
        // A scanner setting outlives a re-registration unless changed.
        let gs_substitute = match args.gs_substitute.clone() {
            Some(s) if s.is_empty() => None,
            Some(s) => Some(s),
            None => previous.as_ref().and_then(|old| old.gs_substitute.clone()),
        };
        if let Some(old) = &previous
            && old.device != device
        {
            let (pending, _) = journal::backlog(store.conn())?;
            if pending > 0 {
                return Err(CliError::Usage(format!(
                    "this terminal holds {pending} unsynced operation(s) of device {}; sync them before registering as another device",
                    old.device
                ))
                .into());
            }
            // Another device, another replica: start from scratch.
            drop(store);
            std::fs::remove_file(ctx.paths.store_file())?;
            store = identity::start_over(&ctx.paths)?.0;
        }
        // Where this device's numbering stands on the server (an empty
        // push, as every sync makes). A new journal continues after it, so
        // a re-installed terminal or one started over never reuses a number
        // the server holds; a journal behind it is refused (exit 8).
        let (backlog, _) = journal::backlog(store.conn())?;
        let server_seq = client
            .push(PushRequest {
                protocol: PROTOCOL_VERSION,
                ops: Vec::new(),
                backlog,
            })
            .await?
            .last_seq;
        let fresh = store
            .conn()
            .query_row("SELECT NOT EXISTS (SELECT 1 FROM journal)", [], |r| {
                r.get::<_, bool>(0)
            })?;
        if fresh && journal::last_seq(store.conn())? < server_seq {
            store.set_meta(journal::SEQ_BASE, &server_seq.to_string())?;
        }
        let remembered = previous
            .as_ref()
            .filter(|old| old.device == device)
            .map_or(0, |old| old.last_seq);
        if started_over && remembered > server_seq {
            eprintln!(
                "operations {}..={remembered} of this device never reached the server and are \
                 not in the new store: record them again (they may be read from the kept file)",
                server_seq + 1
            );
        }
        let config = Config {
            server: args.server.trim_end_matches('/').to_owned(),
            token: args.token.clone(),
            device,
            ca,
            gs_substitute,
            store: Some(identity::ensure_id(&store)?),
            last_seq: journal::last_seq(store.conn())?,
        };
        identity::behind_server(&store, &config, server_seq)?;
        config.save(&ctx.paths)?;
        // The first pull; resumes from its last committed page if an earlier
        // init was interrupted.
        let bar = progress::for_pull(args.json);
        let mut report = SyncReport::default();
        sync::pull(&mut store, &mut client, &mut report, &bar).await?;
        bar.finish();
        store.set_meta("last_sync", &crate::store::ts(chrono::Utc::now()))?;
        reserve::ensure(&ctx.paths);
        let counts = replica::counts(store.conn())?;
        if args.json {
            output::json(&serde_json::json!({
                "device": device, "server": config.server, "server_version": hello.version,
                "pulled": report.pulled, "replica": counts, "gs_substitute": config.gs_substitute,
            }))
        } else {
            println!(
                "registered device {device} with {} (pyck-server {}); pulled {} changes: {} items, {} locations, {} stock rows, {} operators",
                config.server, hello.version, report.pulled, counts["items"], counts["locations"], counts["stock"], counts["operators"]
            );
            Ok(())
        }
    })
}

/// The CA file's text, once it holds at least one PEM certificate.
fn read_ca(path: &Path) -> anyhow::Result<String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| CliError::Invalid(format!("--ca: cannot read {}: {e}", path.display())))?;
    remote::ca_certificates(&text)
        .map_err(|why| CliError::Invalid(format!("--ca: {}: {why}", path.display())))?;
    Ok(text)
}
