//! The only part of the scanner UI that touches the world: the terminal
//! (raw mode, alternate screen, bracketed paste), the journal (through the
//! same checks and recording code as the CLI commands), the network (a
//! background sync thread) and the bell.
//!
//! Three sources feed one channel of [`Msg`]s: a thread reading terminal
//! events, the sync thread, and the loop itself (outcomes of effects). The
//! loop applies every queued message before drawing, so a scanner burst is
//! handled keystroke by keystroke in order and none is lost; a sync never
//! blocks input because it runs on its own thread with its own connection.

use std::collections::VecDeque;
use std::io::{IsTerminal, Write};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::time::Duration;

use crossterm::event::{DisableBracketedPaste, EnableBracketedPaste};
use pyck_vocab::operation::Payload;

use super::app::{App, Entry, Link};
use super::keys;
use super::lookup::StoreLookup;
use super::update::{Effect, Msg, SyncOutcome, update};
use super::view::view;
use crate::commands::record::{self, Resolver};
use crate::commands::session::log_in;
use crate::commands::{Ctx, count, exceptions, movement, order, pick, receive};
use crate::config::{Config, Paths};
use crate::error::CliError;
use crate::input::Row;
use crate::store::journal::{self, Recorded};
use crate::store::{Store, session};
use crate::sync::{self, Client, Quiet, Remote};

/// Seconds between background syncs (`PYCK_TUI_SYNC_SECS` overrides).
const SYNC_SECS: u64 = 5;

/// Runs the scanner UI with a line of help on the login screen (the demo
/// names its badges).
pub fn run_with(ctx: &Ctx, login_hint: Option<String>) -> anyhow::Result<()> {
    // Refuse before touching the terminal: an uninitialised device exits 6
    // with the usual message.
    let config = ctx.config()?;
    let mut store = ctx.store()?;
    if !std::io::stdin().is_terminal() || !std::io::stdout().is_terminal() {
        return Err(CliError::Usage(
            "the scanner UI needs a terminal; scripts use the commands (`pyck --help`)".into(),
        )
        .into());
    }
    let operator = session::current(store.conn())?;
    let pending = journal::pending_count(store.conn())?;
    let link = Link {
        online: None,
        pending,
        server: config.server.clone(),
        device: config.device.to_string(),
        last_sync: store.meta("last_sync")?,
        last_error: store.meta("last_error")?.filter(|e| !e.is_empty()),
        last_report: None,
        syncing: false,
    };
    let mut app = App::new(operator, link, chrono::Local::now().date_naive());
    app.login_hint = login_hint;

    let (tx, rx) = mpsc::channel::<Msg>();
    let (nudge, nudged) = mpsc::channel::<()>();
    let interval = Duration::from_secs(
        std::env::var("PYCK_TUI_SYNC_SECS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(SYNC_SECS)
            .max(1),
    );
    let (stopped, sync_stopped) = mpsc::channel::<()>();
    {
        let (paths, config, tx) = (ctx.paths.clone(), config.clone(), tx.clone());
        std::thread::spawn(move || {
            sync_worker(&paths, &config, &tx, &nudged, interval);
            let _ = stopped.send(());
        });
    }
    {
        let (remote, tx) = (Remote::of(&config), tx.clone());
        std::thread::spawn(move || follow_nudges(remote, &tx));
    }
    // Raw mode first, so no keystroke is read in line mode.
    let mut terminal = ratatui::try_init()?;
    let _ = crossterm::execute!(std::io::stdout(), EnableBracketedPaste);
    {
        let tx = tx.clone();
        std::thread::spawn(move || {
            while let Ok(event) = crossterm::event::read() {
                for msg in keys::msgs(event) {
                    if tx.send(msg).is_err() {
                        return;
                    }
                }
            }
        });
    }
    let result = event_loop(&mut terminal, &mut app, &mut store, &rx, &nudge, &config);
    let _ = crossterm::execute!(std::io::stdout(), DisableBracketedPaste);
    ratatui::restore();
    stop_background_sync(nudge, &sync_stopped);
    result
}

/// Tells the sync thread to stop and lets a sync under way finish, for a
/// moment. Its writes are transactions, so even a cut sync loses nothing,
/// but a finished one leaves nothing to redo; bounded, so quitting never
/// hangs on a slow network.
pub(crate) fn stop_background_sync(nudge: Sender<()>, stopped: &Receiver<()>) {
    drop(nudge);
    let _ = stopped.recv_timeout(Duration::from_secs(3));
}

fn event_loop(
    terminal: &mut ratatui::DefaultTerminal,
    app: &mut App,
    store: &mut Store,
    rx: &Receiver<Msg>,
    nudge: &Sender<()>,
    config: &Config,
) -> anyhow::Result<()> {
    let mut queue: VecDeque<Msg> = VecDeque::new();
    loop {
        terminal.draw(|frame| view(frame, app))?;
        match rx.recv_timeout(Duration::from_secs(1)) {
            Ok(msg) => queue.push_back(msg),
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => return Ok(()),
        }
        // Midnight passes on a night shift: GS1 dates are read against today.
        let today = chrono::Local::now().date_naive();
        if today != app.today {
            queue.push_front(Msg::Today(today));
        }
        // Everything already waiting (a scanner burst) before the next draw.
        while let Ok(msg) = rx.try_recv() {
            queue.push_back(msg);
        }
        while let Some(msg) = queue.pop_front() {
            // A scanner that sends a substitute for GS (`init
            // --gs-substitute`): the scan it ends becomes the scan with GS.
            if msg == Msg::Enter && app.error.is_none() {
                let normalized = config.normalize_scan(&app.input);
                if normalized != app.input {
                    let keys = keys::retyped_enter(&app.input, &normalized);
                    for key in keys.into_iter().rev() {
                        queue.push_front(key);
                    }
                    continue;
                }
            }
            let effects = update(app, msg, &StoreLookup(store));
            let mut outcomes = Vec::new();
            for effect in effects {
                match effect {
                    Effect::Quit => return Ok(()),
                    other => outcomes.extend(carry_out(other, store, config, nudge)),
                }
            }
            // Outcomes, in order, come before further keystrokes.
            for follow in outcomes.into_iter().rev() {
                queue.push_front(follow);
            }
        }
        if app.quit {
            return Ok(());
        }
    }
}

/// Carries out one effect; its outcomes as messages.
fn carry_out(effect: Effect, store: &mut Store, config: &Config, nudge: &Sender<()>) -> Vec<Msg> {
    match effect {
        Effect::Bell => {
            let mut out = std::io::stdout();
            let _ = out.write_all(b"\x07");
            let _ = out.flush();
            vec![]
        }
        // A supervisor's PIN is checked by the server: the screen waits for
        // that answer (seconds at most), as a person at a desk expects.
        Effect::Login { badge, pin } => vec![Msg::LoggedIn(
            log_in(store.conn(), config, &badge, &pin).map_err(|e| plain(&e)),
        )],
        Effect::Logout => match session::logout(store.conn()) {
            Ok(_) => vec![Msg::LoggedOut],
            Err(e) => vec![Msg::Recorded(Err(format!("{e:#}")))],
        },
        Effect::Record(entry) => {
            let result = record_entry(store, &entry).map_err(|e| plain(&e));
            if result.is_ok() {
                // Pushed at once when online.
                let _ = nudge.send(());
            }
            let mut out = vec![Msg::Recorded(result)];
            // The status bar's pending count follows at once.
            if let Ok(n) = journal::pending_count(store.conn()) {
                out.push(Msg::Pending(n));
            }
            out
        }
        Effect::SyncNow => {
            let _ = nudge.send(());
            vec![]
        }
        Effect::Quit => vec![],
    }
}

/// An error as a sentence for the person: the CLI's flag prefix ("--to: ")
/// means nothing on a scanner.
fn plain(e: &anyhow::Error) -> String {
    // A role check is local: "refused by the server" would mislead.
    if let Some(CliError::Refused(refusal)) = e.chain().find_map(|c| c.downcast_ref::<CliError>()) {
        return refusal.message.clone();
    }
    let text = format!("{e:#}");
    match text.strip_prefix("--") {
        Some(rest) => rest.to_owned(),
        None => text,
    }
}

/// Checks and records an entry with the CLI's own functions, so the scanner
/// UI and the commands cannot disagree about what is valid.
pub fn record_entry(store: &mut Store, entry: &Entry) -> anyhow::Result<String> {
    let kind = entry.kind();
    let operator = record::operator(store, kind)?;
    let payload = payload(store, entry)?;
    let draft = record::draft(payload, &operator, None)?;
    let recorded = journal::record_all(store, &[draft])?;
    Ok(match recorded.first() {
        Some(Recorded::Recorded { seq }) => format!("recorded {kind} #{seq}"),
        Some(Recorded::AlreadyRecorded { seq }) => format!("already recorded as #{seq}"),
        None => "nothing recorded".into(),
    })
}

fn payload(store: &Store, entry: &Entry) -> anyhow::Result<Payload> {
    let s = |v: &String| Some(v.clone());
    Ok(match entry {
        Entry::Receive {
            asn,
            sku,
            qty,
            lot,
            expiry,
            to,
            damaged,
        } => {
            let row = Row::from_flags(&[
                ("asn", s(asn)),
                ("sku", s(sku)),
                ("qty", s(qty)),
                ("lot", lot.clone()),
                ("expiry", expiry.clone()),
                ("to", s(to)),
                ("damaged", damaged.clone()),
            ]);
            receive::receipt(store, &mut Resolver::new(store), &row)?
        }
        Entry::Move {
            sku,
            lot,
            qty,
            from,
            to,
            task,
        } => {
            let row = Row::from_flags(&[
                ("sku", s(sku)),
                ("lot", lot.clone()),
                ("qty", s(qty)),
                ("from", s(from)),
                ("to", s(to)),
                ("task", task.clone()),
            ]);
            Payload::Move(movement::checked(store, &mut Resolver::new(store), &row)?)
        }
        Entry::Pick {
            task,
            qty,
            lot,
            short,
        } => pick::checked(store, task.clone(), *qty, lot.clone(), short.clone())?,
        Entry::Count {
            location,
            sku,
            lot,
            qty,
            task,
        } => {
            let row = Row::from_flags(&[
                ("location", s(location)),
                ("sku", s(sku)),
                ("lot", lot.clone()),
                ("qty", s(qty)),
            ]);
            count::counted(store, &row, task.clone())?
        }
        Entry::Order { kind, order: o } => order::checked(store, *kind, o.clone())?,
        Entry::Resolve { id, note } => exceptions::resolution(store, id.clone(), note.clone())?,
    })
}

/// Syncs now and then, and at once when nudged (an operation recorded, the
/// operator asked, the server said so). Reports every outcome, so the status
/// bar shows offline within one interval plus the probe's timeout.
/// While online, the server's live events (its subscription) arrive as
/// nudges: each burst becomes one `ServerNudge`, so the UI pulls at once
/// instead of at the next interval. Reconnects on its own; ends with the UI.
fn follow_nudges(remote: Remote, tx: &Sender<Msg>) {
    let Ok(rt) = crate::commands::runtime() else {
        return;
    };
    rt.block_on(async {
        let mut nudges = crate::sync::live::nudges(remote);
        while nudges.changed().await.is_ok() {
            if tx.send(Msg::ServerNudge).is_err() {
                return;
            }
        }
    });
}

fn sync_worker(
    paths: &Paths,
    config: &Config,
    tx: &Sender<Msg>,
    nudged: &Receiver<()>,
    interval: Duration,
) {
    let outcome = |e: String| SyncOutcome {
        online: false,
        pending: 0,
        last_sync: None,
        error: Some(e),
        refused: 0,
        report: None,
        disabled: None,
    };
    let rt = match crate::commands::runtime() {
        Ok(rt) => rt,
        Err(e) => {
            let _ = tx.send(Msg::Synced(outcome(format!("{e:#}"))));
            return;
        }
    };
    let mut store = match crate::store::identity::open(paths) {
        Ok(s) => s,
        Err(e) => {
            let _ = tx.send(Msg::Synced(outcome(format!("{e:#}"))));
            return;
        }
    };
    loop {
        if tx.send(Msg::SyncStarted).is_err() {
            return;
        }
        let result = rt.block_on(sync_once(&mut store, config));
        if tx.send(Msg::Synced(result)).is_err() {
            return;
        }
        match nudged.recv_timeout(interval) {
            Ok(()) | Err(RecvTimeoutError::Timeout) => while nudged.try_recv().is_ok() {},
            Err(RecvTimeoutError::Disconnected) => return,
        }
    }
}

async fn sync_once(store: &mut Store, config: &Config) -> SyncOutcome {
    let pending = |store: &Store| journal::pending_count(store.conn()).unwrap_or(0);
    let remote = Remote::of(config);
    let online = remote.healthy().await;
    if !online {
        return SyncOutcome {
            online,
            pending: pending(store),
            last_sync: None,
            error: Some(format!("server {} unreachable", config.server)),
            refused: 0,
            report: None,
            disabled: None,
        };
    }
    let result = async {
        let mut client = Client::new(&remote, Duration::from_secs(30))?;
        sync::sync(store, &mut client, config, &Quiet).await
    }
    .await;
    match result {
        Ok(r) => SyncOutcome {
            online: true,
            pending: pending(store),
            last_sync: store.meta("last_sync").ok().flatten(),
            error: None,
            refused: r.refused,
            report: Some(if r.refused > 0 {
                format!(
                    "pushed {} ({} refused), pulled {}",
                    r.pushed, r.refused, r.pulled
                )
            } else {
                format!("pushed {}, pulled {}", r.pushed, r.pulled)
            }),
            disabled: session::disabled(store.conn()).ok().flatten(),
        },
        Err(e) => SyncOutcome {
            online: remote.healthy().await,
            pending: pending(store),
            last_sync: None,
            error: Some(format!("{e:#}")),
            refused: 0,
            report: None,
            disabled: None,
        },
    }
}
