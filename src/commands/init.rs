//! `pyck init`: register this device with a server and pull its warehouse,
//! given the server and token (`--server/--token [--ca]`) or an enrolment
//! code (`--enrol`). [`enrol`] is also what the scanner UI's first screen
//! runs, so a scan and the command register alike.

use std::path::{Path, PathBuf};
use std::time::Duration;

use pyck_vocab::enrol::EnrolCode;
use pyck_vocab::protocol::{PROTOCOL_VERSION, PushRequest};
use uuid::Uuid;

use super::{Ctx, runtime};
use crate::config::Config;
use crate::error::CliError;
use crate::output;
use crate::progress;
use crate::store::{identity, journal, replica, reserve};
use crate::sync::{self, Client, Progress, Remote, SyncReport, remote};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The server's address, e.g. http://10.0.0.5:7415 (required unless
    /// --enrol)
    #[arg(long, required_unless_present = "enrol")]
    server: Option<String>,
    /// The device token from `pyck-server device-token create` (required
    /// unless --enrol)
    #[arg(
        long,
        env = "PYCK_TOKEN",
        hide_env_values = true,
        required_unless_present = "enrol"
    )]
    token: Option<String>,
    /// A PEM file of the certificate authority that signed an https
    /// server's certificate, trusted on top of the system's (kept in the
    /// terminal's config, so the file may go afterwards)
    #[arg(long, value_name = "FILE")]
    ca: Option<PathBuf>,
    /// An enrolment code (`pyck://enrol?…`, from `pyck-server device-token
    /// create --url`) instead of --server/--token/--ca: its server and
    /// token, and for https the CA certificate with the code's SHA-256
    /// taken from the chain the server presents, then verified as --ca is
    #[arg(long, value_name = "CODE", conflicts_with_all = ["server", "ca"])]
    enrol: Option<String>,
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
    if let Some(problem) = args
        .gs_substitute
        .as_deref()
        .filter(|s| !s.is_empty())
        .and_then(pyck_vocab::gs1::substitute_problem)
    {
        return Err(CliError::Usage(format!("--gs-substitute: {problem}")).into());
    }
    let options = Options {
        gs_substitute: args.gs_substitute.clone(),
        start_over: args.start_over,
    };
    let bar = progress::for_pull(args.json);
    let registered = match (&args.enrol, &args.server, &args.token) {
        // clap counts a PYCK_TOKEN in the environment as --token, so the
        // conflict is checked here: only a --token given on the line is one.
        (Some(_), _, Some(token)) if std::env::var("PYCK_TOKEN").ok().as_ref() != Some(token) => {
            return Err(CliError::Usage(
                "--token cannot be used with --enrol: the code carries the token".into(),
            )
            .into());
        }
        (Some(code), _, _) => {
            let code =
                EnrolCode::parse(code).map_err(|e| CliError::Invalid(format!("--enrol: {e}")))?;
            enrol(ctx, &code, options, &bar)?
        }
        (None, Some(server), Some(token)) => {
            if !(server.starts_with("http://") || server.starts_with("https://")) {
                return Err(CliError::Usage(format!(
                    "--server: expected an http:// or https:// address, got {server:?}"
                ))
                .into());
            }
            let ca = args.ca.as_deref().map(read_ca).transpose()?;
            register(ctx, server, token, ca, options, &bar)?
        }
        // clap requires both unless --enrol.
        _ => {
            return Err(
                CliError::Usage("give --server and --token, or --enrol CODE".into()).into(),
            );
        }
    };
    bar.finish();
    let Registered {
        device,
        server,
        server_version,
        pulled,
        counts,
        gs_substitute,
        pinned,
    } = registered;
    if args.json {
        output::json(&serde_json::json!({
            "device": device, "server": server, "server_version": server_version,
            "pulled": pulled, "replica": counts, "gs_substitute": gs_substitute,
            "ca_pinned": pinned,
        }))
    } else {
        if let Some(pinned) = &pinned {
            eprintln!("trusting the CA certificate {pinned} the server presented (the code's)");
        }
        println!(
            "registered device {device} with {server} (pyck-server {server_version}); pulled {pulled} changes: {} items, {} locations, {} stock rows, {} operators",
            counts["items"], counts["locations"], counts["stock"], counts["operators"]
        );
        Ok(())
    }
}

/// What registration keeps of an earlier one or is told by the command.
#[derive(Debug, Clone, Default)]
pub(crate) struct Options {
    pub gs_substitute: Option<String>,
    pub start_over: bool,
}

/// What a registration did, for the command's output or the screen.
#[derive(Debug)]
pub(crate) struct Registered {
    pub device: Uuid,
    pub server: String,
    pub server_version: String,
    pub pulled: u64,
    pub counts: serde_json::Value,
    pub gs_substitute: Option<String>,
    /// The fingerprint of the CA certificate an enrolment code pinned.
    pub pinned: Option<String>,
}

/// What the scanner UI shows while an enrolment runs: each step, then the
/// pull's progress.
pub(crate) trait Steps: Progress {
    fn step(&self, what: String);
}

/// The command line shows only the pull's progress.
impl Steps for progress::Bar {
    fn step(&self, _what: String) {}
}

/// Enrolment by code: for https with a fingerprint, the CA certificate the
/// code pins (taken from the chain the server presents,
/// [`crate::enrol::pinned_ca`]), then the registration `--server/--token
/// --ca` makes, which verifies the server against that CA in full.
pub(crate) fn enrol(
    ctx: &Ctx,
    code: &EnrolCode,
    options: Options,
    steps: &dyn Steps,
) -> anyhow::Result<Registered> {
    let ca = match &code.ca_sha256 {
        Some(fp) => {
            steps.step(format!("checking the certificate of {}", code.server));
            Some(crate::enrol::pinned_ca(&code.server, fp)?)
        }
        None => None,
    };
    steps.step(format!("registering with {}", code.server));
    let mut registered = register(ctx, &code.server, &code.token, ca, options, steps)?;
    registered.pinned = code.ca_sha256.as_ref().map(pyck_vocab::enrol::fingerprint);
    Ok(registered)
}

/// Registers with `server` as the device of `token`, trusting the CA
/// certificates `ca` (PEM) on top of the system's, saves the config and
/// makes the first pull.
fn register(
    ctx: &Ctx,
    server: &str,
    token: &str,
    ca: Option<String>,
    options: Options,
    progress: &dyn Progress,
) -> anyhow::Result<Registered> {
    let remote = Remote::new(server, token, ca.as_deref());
    let mut started_over = false;
    let mut store = match ctx.store() {
        Err(e) if options.start_over && identity::is_lost(&e) => {
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
        let gs_substitute = match options.gs_substitute.clone() {
            Some(s) if s.is_empty() => None,
            Some(s) => Some(s),
            None => previous.as_ref().and_then(|old| old.gs_substitute.clone()),
        };
        if let Some(old) = &previous
            && old.device != device
        {
            let pending = journal::pending_count(store.conn())?;
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
        let backlog = journal::pending_count(store.conn())?;
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
            server: server.trim_end_matches('/').to_owned(),
            token: token.to_owned(),
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
        let mut report = SyncReport::default();
        sync::pull(&mut store, &mut client, &mut report, progress).await?;
        store.set_meta("last_sync", &crate::store::ts(chrono::Utc::now()))?;
        reserve::ensure(&ctx.paths);
        Ok(Registered {
            device,
            server: config.server,
            server_version: hello.version,
            pulled: report.pulled,
            counts: replica::counts(store.conn())?,
            gs_substitute: config.gs_substitute,
            pinned: None,
        })
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
