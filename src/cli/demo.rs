//! `pyck demo`: a short scripted shift on the demo warehouse, with nothing
//! to set up. Starts a pyck-server in-process on an embedded SQLite file on
//! loopback, registers this terminal (in a temporary PYCK_HOME), receives
//! goods, loses the network, puts the goods away offline, gets the network
//! back, syncs, and shows what the server now knows.

use std::io::IsTerminal;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use clap::Parser;
use pyck_server::service::UseCases;
use pyck_server::storage::{self, StockFilter, Storage};

use super::Cli;
use crate::commands::Ctx;
use crate::config::Paths;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Keep the demo's files (server database, terminal state) in this
    /// directory instead of a temporary one
    #[arg(long)]
    dir: Option<PathBuf>,
}

/// The demo warehouse, built into the binary so the demo runs anywhere.
const FIXTURES: [(&str, &str); 5] = [
    ("items.csv", include_str!("../../fixtures/items.csv")),
    (
        "locations.csv",
        include_str!("../../fixtures/locations.csv"),
    ),
    ("stock.csv", include_str!("../../fixtures/stock.csv")),
    ("asns.csv", include_str!("../../fixtures/asns.csv")),
    ("orders.csv", include_str!("../../fixtures/orders.csv")),
];

const TENANT: &str = "nordkyst";
const WAREHOUSE: &str = "DC1";

/// A server running on its own thread and runtime (the terminal's commands
/// run their own runtime on this thread).
struct DemoServer {
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<anyhow::Result<()>>>,
}

impl DemoServer {
    fn start(db: PathBuf, addr: SocketAddr) -> anyhow::Result<(DemoServer, SocketAddr)> {
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let thread = std::thread::spawn(move || -> anyhow::Result<()> {
            let rt = tokio::runtime::Runtime::new()?;
            rt.block_on(async move {
                let store = storage::open(&db.display().to_string()).await?;
                let listener = tokio::net::TcpListener::bind(addr).await?;
                let _ = ready_tx.send(listener.local_addr());
                let state = pyck_server::http::AppState::new(store);
                // Live events leave the outbox while the runtime runs.
                state.events.relay(
                    std::sync::Arc::clone(&state.storage),
                    std::future::pending(),
                );
                let app = pyck_server::http::app(state);
                axum_serve(listener, app, stopped).await
            })
        });
        let addr = ready_rx
            .recv()
            .context("the demo server did not start")?
            .context("while binding the demo server")?;
        Ok((
            DemoServer {
                stop: Some(stop),
                thread: Some(thread),
            },
            addr,
        ))
    }

    fn stop(mut self) -> anyhow::Result<()> {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        match self.thread.take().map(std::thread::JoinHandle::join) {
            Some(Ok(result)) => result,
            Some(Err(_)) => anyhow::bail!("the demo server thread panicked"),
            None => Ok(()),
        }
    }
}

async fn axum_serve(
    listener: tokio::net::TcpListener,
    app: pyck_server::axum::Router,
    stopped: tokio::sync::oneshot::Receiver<()>,
) -> anyhow::Result<()> {
    pyck_server::axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = stopped.await;
        })
        .await?;
    Ok(())
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let (root, _guard) = match args.dir {
        Some(dir) => {
            std::fs::create_dir_all(&dir)?;
            (dir, None)
        }
        None => {
            let tmp = TempDir::new()?;
            (tmp.0.clone(), Some(tmp))
        }
    };
    let db = root.join("server.sqlite3");
    let terminal = Ctx {
        paths: Paths {
            config_dir: root.join("terminal"),
            data_dir: root.join("terminal"),
        },
    };

    say("Setting up the demo warehouse (Nordkyst Foods DC1) on an embedded SQLite server");
    let token = provision(&db, &root)?;
    let (server, addr) = DemoServer::start(db.clone(), "127.0.0.1:0".parse()?)?;
    let url = format!("http://{addr}");
    println!(
        "  pyck-server listening on {url}; database {}",
        db.display()
    );

    step(
        &terminal,
        "Register this terminal and pull its warehouse",
        &["init", "--server", &url, "--token", &token],
    )?;
    if std::io::stdin().is_terminal() && std::io::stdout().is_terminal() {
        // On a terminal the demo is the scanner UI on the demo warehouse;
        // scripts and pipes get the scripted shift below.
        let shown = crate::tui::event_loop::run_with(
            &terminal,
            Some("demo badges: 1007 picker, 2001 receiver, 3001 supervisor; PIN 1234".into()),
        );
        server.stop()?;
        return shown;
    }
    step(
        &terminal,
        "Receiver 2001 logs in (PIN checked offline)",
        &["login", "--badge", "2001", "--pin", "1234"],
    )?;
    let receipts = root.join("receipts.csv");
    std::fs::write(
        &receipts,
        "asn,sku,qty,lot,expiry,to,ref\n\
         ASN-1003,SKU-10048,144,L2647E,2026-12-20,DOCK-01,dock1-salmon\n\
         ASN-1001,SKU-10001,480,,,DOCK-02,dock2-pasta\n\
         ASN-1001,SKU-10003,240,,,DOCK-02,dock2-rice\n",
    )?;
    let file = receipts.display().to_string();
    step(
        &terminal,
        "Receive three ASN lines from a script",
        &["receive", "--file", &file],
    )?;
    step(
        &terminal,
        "The same script runs again by mistake: nothing is recorded twice",
        &["receive", "--file", &file],
    )?;
    step(&terminal, "Sync: the receipts reach the server", &["sync"])?;

    say("The cold-store Wi-Fi drops: the server is unreachable from here on");
    server.stop()?;
    let moves = root.join("putaway.csv");
    std::fs::write(
        &moves,
        "sku,lot,qty,from,to\n\
         SKU-10048,L2647E,144,DOCK-01,C-01-01\n\
         SKU-10001,,300,DOCK-02,A-01-01\n\
         SKU-10001,,180,DOCK-02,A-01-05\n\
         SKU-10003,,240,DOCK-02,A-02-03\n",
    )?;
    step(
        &terminal,
        "Put away offline: recorded locally, exit 0",
        &["move", "--file", &moves.display().to_string()],
    )?;
    step(
        &terminal,
        "The local view already shows it",
        &["stock", "--sku", "SKU-10001"],
    )?;
    println!("\n$ pyck sync   (still offline)");
    match run_cli(&terminal, &["sync"]) {
        Ok(()) => anyhow::bail!("sync succeeded while the server was down"),
        Err(e) => println!(
            "  {e:#}\n  (exit {}: nothing lost, still pending)",
            crate::error::exit_code(&e)
        ),
    }
    step(&terminal, "Status: the backlog is visible", &["status"])?;

    say("The network is back");
    let (server, _) = DemoServer::start(db.clone(), addr)?;
    step(
        &terminal,
        "Sync: pending operations pushed once, changes pulled",
        &["sync"],
    )?;
    step(
        &terminal,
        "The journal: every operation settled",
        &["journal"],
    )?;
    server.stop()?;

    say("What the server now knows");
    let summary = server_view(&db)?;
    println!("{summary}");
    say("Done: every operation applied exactly once, and `verify` passes.");
    Ok(())
}

fn say(text: &str) {
    println!("\n== {text}");
}

fn step(ctx: &Ctx, title: &str, args: &[&str]) -> anyhow::Result<()> {
    // Tokens are secrets, even a demo's: never echo one.
    let shown: Vec<&str> = args
        .iter()
        .map(|a| {
            if a.starts_with(pyck_server::auth::TOKEN_PREFIX) {
                "<token>"
            } else {
                a
            }
        })
        .collect();
    println!("\n-- {title}\n$ pyck {}", shown.join(" "));
    run_cli(ctx, args).with_context(|| format!("while running `pyck {}`", args.join(" ")))
}

fn run_cli(ctx: &Ctx, args: &[&str]) -> anyhow::Result<()> {
    let cli = Cli::try_parse_from(std::iter::once("pyck").chain(args.iter().copied()))?;
    match cli.command {
        Some(command) => super::run_command(ctx, command),
        None => Ok(()),
    }
}

/// Tenant, warehouse, operators and a device token, straight on the database.
fn provision(db: &Path, root: &Path) -> anyhow::Result<String> {
    let fixtures = root.join("fixtures");
    std::fs::create_dir_all(&fixtures)?;
    for (name, text) in FIXTURES {
        std::fs::write(fixtures.join(name), text)?;
    }
    let rt = tokio::runtime::Runtime::new()?;
    rt.block_on(async {
        let store: Arc<dyn Storage> = storage::open(&db.display().to_string()).await?;
        let tenant = match store.tenant(TENANT).await {
            Ok(t) => t,
            Err(_) => store.create_tenant(TENANT).await?,
        };
        let data = pyck_server::import::read_dir(&fixtures)?;
        store.import(tenant.id, WAREHOUSE, &data).await?;
        let warehouse = store.warehouse(tenant.id, WAREHOUSE).await?;
        for (badge, role) in [
            ("1007", pyck_vocab::Role::Picker),
            ("2001", pyck_vocab::Role::Receiver),
            ("3001", pyck_vocab::Role::Supervisor),
        ] {
            let hash = pyck_server::auth::hash_pin("1234")?;
            match store
                .create_operator(tenant.id, badge, role, &hash, &[])
                .await
            {
                Ok(()) | Err(storage::StorageError::AlreadyExists(_)) => {}
                Err(e) => return Err(e.into()),
            }
        }
        let token = pyck_server::auth::new_token();
        store
            .create_device(
                tenant.id,
                warehouse.id,
                "demo terminal",
                &pyck_server::auth::token_hash(&token),
            )
            .await?;
        Ok(token)
    })
}

fn server_view(db: &Path) -> anyhow::Result<String> {
    let rt = tokio::runtime::Runtime::new()?;
    rt.block_on(async {
        let store = storage::open(&db.display().to_string()).await?;
        let tenant = store.tenant(TENANT).await?;
        let warehouse = store.warehouse(tenant.id, WAREHOUSE).await?;
        let mut out = String::from("  LOCATION  SKU        LOT     QTY\n");
        for loc in [
            "DOCK-01", "DOCK-02", "C-01-01", "A-01-01", "A-01-05", "A-02-03",
        ] {
            let rows = store
                .stock(
                    tenant.id,
                    warehouse.id,
                    &StockFilter {
                        location: Some(loc.into()),
                        sku: None,
                    },
                )
                .await?;
            for r in rows
                .iter()
                .filter(|r| ["SKU-10048", "SKU-10001", "SKU-10003"].contains(&r.sku.as_str()))
            {
                out.push_str(&format!(
                    "  {:<9} {:<10} {:<7} {}\n",
                    r.location,
                    r.sku,
                    r.lot.clone().unwrap_or_default(),
                    r.qty
                ));
            }
        }
        let problems = store.verify(tenant.id).await?;
        if !problems.is_empty() {
            anyhow::bail!("verify found problems: {problems:?}");
        }
        out.push_str("  verify: every invariant holds");
        Ok(out)
    })
}

/// A temporary directory removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> anyhow::Result<TempDir> {
        let dir = std::env::temp_dir().join(format!("pyck-demo-{}", uuid::Uuid::now_v7().simple()));
        std::fs::create_dir_all(&dir)?;
        Ok(TempDir(dir))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
