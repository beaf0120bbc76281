//! The only part of the floor dashboard that touches the world: the
//! terminal, the journal (a resolution is recorded like every operation),
//! the server's subscription and the GraphQL `floor` query.
//!
//! Four sources feed one channel of [`Msg`]s: a thread reading terminal
//! events, a thread following the subscription, a worker that syncs and
//! fetches snapshots, and the loop itself. The dashboard never polls: a
//! snapshot is fetched at start, after every event that can change a figure,
//! after a resolution and when the supervisor asks (`s`). Refresh requests
//! that arrive while one runs are served by one more run.

use std::collections::VecDeque;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::time::Duration;

use chrono::{Local, Offset, Utc};
use crossterm::event::{Event, KeyCode, KeyEventKind, KeyModifiers};

use super::app::{DeviceRow, Floor, OpenException, OperatorPicks, Snapshot, ZoneTasks};
use super::update::{Effect, Msg, update};
use super::view::view;
use crate::commands::{Ctx, exceptions, record};
use crate::config::{Config, Paths};
use crate::error::CliError;
use crate::store::journal::{self, Recorded};
use crate::store::{Store, session};
use crate::sync::client::floor as wire;
use crate::sync::live::{self, Status};
use crate::sync::{self, Client, Quiet, Remote};

/// Runs the dashboard until the supervisor quits.
pub fn run(ctx: &Ctx, shift_hours: u32) -> anyhow::Result<()> {
    let config = ctx.config()?;
    let mut store = ctx.store()?;
    let operator = session::current(store.conn())?.ok_or_else(|| {
        CliError::NotInitialised(
            "no operator is logged in: a supervisor runs `pyck login --badge B --pin P` first"
                .into(),
        )
    })?;
    if !operator
        .role
        .may(pyck_vocab::operation::Kind::ResolveException)
    {
        return Err(CliError::Refused(pyck_vocab::Refusal::new(
            pyck_vocab::RefusalCode::Forbidden,
            format!(
                "the floor dashboard is for supervisors; {} is a {}",
                operator.badge, operator.role
            ),
        ))
        .into());
    }
    if !std::io::IsTerminal::is_terminal(&std::io::stdout()) {
        return Err(CliError::Usage(
            "the floor dashboard needs a terminal; scripts use `pyck feed` and the reports".into(),
        )
        .into());
    }
    let offset = Local::now().offset().fix();
    let mut floor = Floor::new(operator, config.server.clone(), Utc::now(), offset);
    floor.pending = journal::pending_count(store.conn())?;

    let (tx, rx) = mpsc::channel::<Msg>();
    let (refresh, refreshes) = mpsc::channel::<()>();
    let (stopped, refresher_stopped) = mpsc::channel::<()>();
    {
        let (paths, config, tx) = (ctx.paths.clone(), config.clone(), tx.clone());
        std::thread::spawn(move || {
            refresher(&paths, &config, shift_hours, &tx, &refreshes);
            let _ = stopped.send(());
        });
    }
    {
        let (remote, tx) = (Remote::of(&config), tx.clone());
        std::thread::spawn(move || follow(&remote, &tx));
    }
    let _ = refresh.send(());
    let mut terminal = ratatui::try_init()?;
    {
        let tx = tx.clone();
        std::thread::spawn(move || {
            while let Ok(event) = crossterm::event::read() {
                if let Some(msg) = key(event)
                    && tx.send(msg).is_err()
                {
                    return;
                }
            }
        });
    }
    let result = event_loop(&mut terminal, &mut floor, &mut store, &rx, &refresh);
    ratatui::restore();
    crate::tui::event_loop::stop_background_sync(refresh, &refresher_stopped);
    result
}

fn event_loop(
    terminal: &mut ratatui::DefaultTerminal,
    floor: &mut Floor,
    store: &mut Store,
    rx: &Receiver<Msg>,
    refresh: &Sender<()>,
) -> anyhow::Result<()> {
    loop {
        terminal.draw(|frame| view(frame, floor))?;
        let first = match rx.recv_timeout(Duration::from_secs(1)) {
            Ok(msg) => msg,
            Err(RecvTimeoutError::Timeout) => Msg::Tick(Utc::now()),
            Err(RecvTimeoutError::Disconnected) => return Ok(()),
        };
        let mut queue: VecDeque<Msg> = std::iter::once(first).chain(rx.try_iter()).collect();
        let mut refreshed = false;
        while let Some(msg) = queue.pop_front() {
            for effect in update(floor, msg) {
                match effect {
                    Effect::Quit => return Ok(()),
                    Effect::Refresh if !refreshed => {
                        refreshed = true;
                        let _ = refresh.send(());
                    }
                    Effect::Refresh => {}
                    Effect::Resolve { id, note } => queue.push_back(Msg::Recorded(
                        resolve(store, id, note).map_err(|e| format!("{e:#}")),
                    )),
                }
            }
        }
        if floor.quit {
            return Ok(());
        }
    }
}

/// Records a resolution with the same checks as `pyck exceptions resolve`.
fn resolve(store: &mut Store, id: String, note: String) -> anyhow::Result<String> {
    let kind = pyck_vocab::operation::Kind::ResolveException;
    let operator = record::operator(store, kind)?;
    let payload = exceptions::resolution(store, id.clone(), note)?;
    let draft = record::draft(payload, &operator, None)?;
    Ok(match journal::record_all(store, &[draft])?.first() {
        Some(Recorded::Recorded { seq }) => format!("resolution of {id} recorded (#{seq})"),
        Some(Recorded::AlreadyRecorded { seq }) => format!("already recorded as #{seq}"),
        None => "nothing recorded".into(),
    })
}

/// Terminal events to messages.
fn key(event: Event) -> Option<Msg> {
    let Event::Key(key) = event else {
        return matches!(event, Event::Resize(..)).then_some(Msg::Resize);
    };
    if key.kind == KeyEventKind::Release {
        return None;
    }
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    Some(match key.code {
        KeyCode::Char('c') if ctrl => Msg::Quit,
        KeyCode::Char(_) if ctrl => return None,
        KeyCode::Char(c) => Msg::Char(c),
        KeyCode::Enter => Msg::Enter,
        KeyCode::Esc => Msg::Escape,
        KeyCode::Backspace => Msg::Backspace,
        KeyCode::Up => Msg::Up,
        KeyCode::Down => Msg::Down,
        _ => return None,
    })
}

/// Follows the subscription, reconnecting on its own, until the dashboard
/// ends (or the token is refused).
fn follow(remote: &Remote, tx: &Sender<Msg>) {
    let Ok(rt) = crate::commands::runtime() else {
        return;
    };
    let _ = rt.block_on(live::follow(
        remote,
        |event| {
            tx.send(Msg::Event(event))
                .map_err(|_| anyhow::anyhow!("the dashboard has ended"))
        },
        |status| {
            let _ = tx.send(Msg::Live(matches!(status, Status::Connected)));
        },
    ));
}

/// Syncs (recorded resolutions go to the server, the replica learns of new
/// exceptions to resolve) and fetches a snapshot, once per request burst.
fn refresher(
    paths: &Paths,
    config: &Config,
    shift_hours: u32,
    tx: &Sender<Msg>,
    requests: &Receiver<()>,
) {
    let failed = |e: &anyhow::Error| {
        let _ = tx.send(Msg::Snapshot(Err(format!("{e:#}")), Utc::now()));
    };
    let rt = match crate::commands::runtime() {
        Ok(rt) => rt,
        Err(e) => return failed(&e),
    };
    let mut store = match crate::store::identity::open(paths) {
        Ok(s) => s,
        Err(e) => return failed(&e),
    };
    while requests.recv().is_ok() {
        while requests.try_recv().is_ok() {}
        let result = rt.block_on(async {
            let mut client = Client::new(&Remote::of(config), Duration::from_secs(10))?;
            let synced = sync::sync(&mut store, &mut client, config, &Quiet).await;
            if let Ok(n) = journal::pending_count(store.conn()) {
                let _ = tx.send(Msg::Pending(n));
            }
            synced?;
            client.floor(shift_hours).await
        });
        let msg = match result {
            Ok(wire) => Msg::Snapshot(Ok(snapshot(wire)), Utc::now()),
            Err(e) => Msg::Snapshot(Err(format!("{e:#}")), Utc::now()),
        };
        if tx.send(msg).is_err() {
            return;
        }
    }
}

fn snapshot(f: wire::FloorFloor) -> Snapshot {
    Snapshot {
        at: f.at,
        shift_start: f.shift_start,
        tasks: f
            .tasks
            .into_iter()
            .map(|t| ZoneTasks {
                zone: t.zone,
                kind: t.kind,
                waiting: t.waiting,
                in_progress: t.in_progress,
                units_left: t.units_left,
            })
            .collect(),
        exceptions: f
            .exceptions
            .into_iter()
            .map(|e| OpenException {
                id: e.id,
                kind: e.kind,
                message: e.message,
                raised_at: e.raised_at,
            })
            .collect(),
        operators: f
            .operators
            .into_iter()
            .map(|o| OperatorPicks {
                operator: o.operator,
                per_hour: o.per_hour,
                total: o.total,
            })
            .collect(),
        devices: f
            .devices
            .into_iter()
            .map(|d| DeviceRow {
                id: d.id,
                name: d.name,
                last_contact: d.last_contact,
                backlog: d.backlog,
                revoked: d.revoked,
            })
            .collect(),
    }
}
