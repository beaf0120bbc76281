//! The scanner UI's logic: `update(app, msg, lookup) -> effects`.
//!
//! Update never does I/O. What it needs to know about the warehouse to accept
//! or refuse a scan (is this a bin? which item has this GTIN? what is the
//! next pick task?) it asks a read-only [`Lookup`]; what it wants done
//! (record, log in, sync, ring the bell, quit) it returns as [`Effect`]s for
//! the event loop to carry out, which feeds the outcome back as a [`Msg`].
//!
//! Why a lookup trait rather than lookups as effects: a scan must be accepted
//! or refused before the next keystroke of a scanner burst is interpreted
//! (the burst may already hold the next step's scan). With lookups as
//! effects every step would be split in two with a "waiting" state in
//! between, and input arriving meanwhile would have to be queued by hand.
//! Lookups only read the replica, take microseconds, and in tests are an
//! in-memory table, so update stays deterministic and free of side effects.
//! Recording stays an effect: it writes the journal.

use chrono::NaiveDate;
use pyck_vocab::operation::Kind;
use pyck_vocab::records::{
    AsnLineRecord, ExceptionRecord, LocationRecord, Role, TaskKind, TaskRecord,
};

use super::app::{
    App, Entry, ErrorBox, FieldKind, Flow, Form, LookupResult, REJECTED, SHORT_REASONS, Screen,
};
use crate::checks::{self, OrderState, Use};
use crate::store::replica::Item;
use crate::store::session::Operator;
use crate::store::view::{Filter, StockRow};

/// Read-only questions update asks about the warehouse (the replica with
/// this device's pending operations on top).
pub trait Lookup {
    /// A location by code (matched without regard to case), as stored.
    fn location(&self, code: &str) -> anyhow::Result<Option<LocationRecord>>;
    /// An item by SKU or by GTIN.
    fn item(&self, code: &str) -> anyhow::Result<Option<Item>>;
    /// The lines of an ASN with this device's receipts on top (none:
    /// unknown ASN).
    fn asn(&self, asn: &str) -> anyhow::Result<Vec<AsnLineRecord>>;
    /// An order's status and open picks (None: unknown order).
    fn order(&self, order: &str) -> anyhow::Result<Option<OrderState>>;
    /// Expiry of a lot this device knows (outer None: unknown lot).
    fn lot_expiry(&self, sku: &str, lot: &str) -> anyhow::Result<Option<Option<NaiveDate>>>;
    fn stock(&self, filter: &Filter) -> anyhow::Result<Vec<StockRow>>;
    /// Open tasks of a kind, in walking order.
    fn open_tasks(&self, kind: TaskKind) -> anyhow::Result<Vec<TaskRecord>>;
    /// Exceptions not resolved yet.
    fn open_exceptions(&self) -> anyhow::Result<Vec<ExceptionRecord>>;
}

/// Everything that can happen to the UI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Msg {
    /// A typed or scanned character.
    Char(char),
    Enter,
    Escape,
    Backspace,
    Up,
    Down,
    /// The short-pick key (F2).
    ShortPick,
    /// Leave this pick task for later (F3).
    Skip,
    /// Ctrl-C: leave at once, from any screen.
    Quit,
    /// The terminal was resized: only a redraw.
    Resize,
    /// A new day for GS1 date rules.
    Today(NaiveDate),
    LoggedIn(Result<Operator, String>),
    LoggedOut,
    /// The outcome of an [`Effect::Record`]: a sentence, or why nothing was
    /// recorded.
    Recorded(Result<String, String>),
    /// Journal entries waiting for the server.
    Pending(u64),
    /// A background sync began.
    SyncStarted,
    /// The outcome of a background sync (or of a reachability check).
    Synced(SyncOutcome),
    /// The server said something changed (a later issue wires its
    /// subscription to this): sync now rather than at the next interval.
    ServerNudge,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncOutcome {
    pub online: bool,
    pub pending: u64,
    pub last_sync: Option<String>,
    pub error: Option<String>,
    /// Operations the server refused in this sync (settled as refused in
    /// the journal).
    pub refused: u64,
    /// "pushed 2, pulled 5".
    pub report: Option<String>,
    /// The badge of this device's session, when the sync brought word that
    /// a supervisor disabled it: the session ends now, not at a restart.
    pub disabled: Option<String>,
}

/// What update asks the event loop to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    Bell,
    Login {
        badge: String,
        pin: String,
    },
    Logout,
    Record(Entry),
    /// Sync now, in the background.
    SyncNow,
    Quit,
}

/// The one entry point: applies a message and returns the effects to run.
pub fn update(app: &mut App, msg: Msg, look: &dyn Lookup) -> Vec<Effect> {
    match msg {
        Msg::Quit => {
            app.quit = true;
            vec![Effect::Quit]
        }
        Msg::Resize => vec![],
        Msg::Today(d) => {
            app.today = d;
            vec![]
        }
        Msg::Pending(n) => {
            app.link.pending = n;
            vec![]
        }
        Msg::SyncStarted => {
            app.link.syncing = true;
            vec![]
        }
        Msg::Synced(o) => {
            app.link.syncing = false;
            app.link.online = Some(o.online);
            app.link.pending = o.pending;
            if o.last_sync.is_some() {
                app.link.last_sync = o.last_sync;
            }
            app.link.last_error = o.error;
            if o.report.is_some() {
                app.link.last_report = o.report;
            }
            if let Some(effects) = session_disabled(app, o.disabled.as_deref()) {
                return effects;
            }
            if let Some(effects) = task_gone(app, look) {
                return effects;
            }
            // Work the server would not take must not go unnoticed; it is
            // not a refusal of what the operator is doing now, so a notice
            // rather than a full-screen error in the middle of a scan.
            if o.refused > 0 {
                app.notice = Some(format!(
                    "server refused {} operation(s): see pyck journal",
                    o.refused
                ));
                return vec![Effect::Bell];
            }
            vec![]
        }
        Msg::ServerNudge => vec![Effect::SyncNow],
        Msg::LoggedIn(result) => logged_in(app, result),
        Msg::LoggedOut => {
            app.operator = None;
            app.back.clear();
            app.input.clear();
            app.screen = Screen::Login(Form::login());
            app.notice = Some("logged out".into());
            vec![]
        }
        Msg::Recorded(result) => recorded(app, result, look),
        key => {
            if app.error.is_some() {
                return error_key(app, key);
            }
            match key_on_screen(app, key, look) {
                Ok(effects) => effects,
                Err(e) => refuse(app, format!("{e:#}")),
            }
        }
    }
}

/// Shows a refusal full screen with the bell. Nothing was recorded.
pub fn refuse(app: &mut App, reason: impl Into<String>) -> Vec<Effect> {
    app.input.clear();
    app.error = Some(ErrorBox {
        reason: reason.into(),
        typed: false,
    });
    vec![Effect::Bell]
}

fn error_key(app: &mut App, key: Msg) -> Vec<Effect> {
    let Some(err) = app.error.as_mut() else {
        return vec![];
    };
    match key {
        Msg::Escape => app.error = None,
        Msg::Enter if !err.typed => app.error = None,
        // The Enter ending a scan burst: the burst is dropped, the message
        // stays until a deliberate Enter or Escape.
        Msg::Enter => err.typed = false,
        Msg::Char(_) => err.typed = true,
        _ => {}
    }
    vec![]
}

fn go_back(app: &mut App) {
    app.input.clear();
    app.screen = app.back.pop().unwrap_or(Screen::Menu);
}

fn key_on_screen(app: &mut App, key: Msg, look: &dyn Lookup) -> anyhow::Result<Vec<Effect>> {
    // Typing into the current step is the same on every screen that takes
    // input. Screens where a scan could land (lists, the sync screen) take
    // typed input too and act only on Enter, so a stray scan is refused
    // rather than read as single-key commands.
    let takes_input = matches!(
        app.screen,
        Screen::Login(_)
            | Screen::Form(_)
            | Screen::Lookup { .. }
            | Screen::PutawayList { .. }
            | Screen::Status
    );
    if takes_input {
        match key {
            Msg::Char(c) => {
                app.input.push(c);
                return Ok(vec![]);
            }
            Msg::Backspace => {
                app.input.pop();
                return Ok(vec![]);
            }
            _ => {}
        }
    }
    let screen = std::mem::replace(&mut app.screen, Screen::Menu);
    let (screen, effects) = on_screen(app, screen, key, look);
    // A handler that navigated put the new screen in place already; one that
    // did not hands its screen back.
    if let Some(screen) = screen {
        app.screen = screen;
    }
    effects
}

type Outcome = (Option<Screen>, anyhow::Result<Vec<Effect>>);

fn stay(screen: Screen) -> Outcome {
    (Some(screen), Ok(vec![]))
}

fn on_screen(app: &mut App, screen: Screen, key: Msg, look: &dyn Lookup) -> Outcome {
    match screen {
        Screen::Menu => (None, menu_key(app, key, look)),
        Screen::Login(mut form) => {
            let r = login_key(app, &mut form, key);
            (Some(Screen::Login(form)), r)
        }
        Screen::Form(mut form) => match key {
            Msg::Escape => {
                app.input.clear();
                if form.back() {
                    (Some(Screen::Form(form)), Ok(vec![]))
                } else {
                    go_back(app);
                    (None, Ok(vec![]))
                }
            }
            Msg::Enter => {
                let r = form_enter(app, &mut form, look);
                (Some(Screen::Form(form)), r)
            }
            Msg::Skip if form.flow == Flow::Pick && !form.submitted => {
                app.input.clear();
                if let Some(task) = &form.task {
                    app.skipped.retain(|t| *t != task.id);
                    app.skipped.push(task.id.clone());
                }
                match next_pick(app, look) {
                    Ok(Screen::Form(next)) if next.task == form.task => (
                        Some(Screen::Form(form)),
                        Err(anyhow::anyhow!("no other open pick task to go to")),
                    ),
                    Ok(next) => {
                        app.notice = form.task.as_ref().map(|t| format!("skipped task {}", t.id));
                        (Some(next), Ok(vec![]))
                    }
                    Err(e) => (Some(Screen::Form(form)), Err(e)),
                }
            }
            Msg::ShortPick if form.flow == Flow::Pick => {
                if form.get("location").is_none() {
                    let r = Err(anyhow::anyhow!(
                        "scan the bin first: a short pick is recorded at the bin you are at"
                    ));
                    return (Some(Screen::Form(form)), r);
                }
                // A quantity typed before F2 is what was taken (the pick
                // form itself is left as it was, for Escape).
                let typed = app.input.trim().to_owned();
                let mut short = form.clone();
                if form.current().is_some_and(|f| f.kind == FieldKind::Qty) && !typed.is_empty() {
                    match typed.parse::<i64>() {
                        Ok(n) if n >= 0 => {
                            // A short pick took less than asked, never more.
                            if let Some(task) = &form.task
                                && let Err(e) = checks::within_task(n, task.qty - task.done_qty)
                            {
                                return (Some(Screen::Form(form)), Err(e.into()));
                            }
                            if let Some(f) = short.field_mut("qty") {
                                f.value = Some(n.to_string());
                            }
                        }
                        _ => {
                            let r = Err(anyhow::anyhow!(
                                "expected the quantity taken (a whole number), got {typed:?}"
                            ));
                            return (Some(Screen::Form(form)), r);
                        }
                    }
                }
                let to = Screen::ShortReason {
                    form: short,
                    selected: 0,
                };
                go_with(app, Screen::Form(form), to)
            }
            _ => stay(Screen::Form(form)),
        },
        Screen::ShortReason { form, selected } => short_key(app, form, selected, key),
        Screen::PutawayList { tasks, selected } => match key {
            Msg::Escape => {
                go_back(app);
                (None, Ok(vec![]))
            }
            Msg::Up | Msg::Down => {
                let n = tasks.len() + 1;
                let selected = step_selection(selected, n, key == Msg::Up);
                stay(Screen::PutawayList { tasks, selected })
            }
            Msg::Enter => {
                let typed = std::mem::take(&mut app.input).trim().to_owned();
                if typed.is_empty() {
                    return putaway_open(app, tasks, selected, false);
                }
                // A row number, or the scan of the bin a task starts from
                // (then the form does not ask for that bin again).
                let row = match typed.parse::<usize>() {
                    Ok(i) if i <= tasks.len() => Some((i, false)),
                    Ok(_) => None,
                    Err(_) => tasks
                        .iter()
                        .position(|t| t.location.eq_ignore_ascii_case(&typed))
                        .map(|i| (i + 1, true)),
                };
                match row {
                    Some((i, at_bin)) => putaway_open(app, tasks, i, at_bin),
                    None => (
                        Some(Screen::PutawayList { tasks, selected }),
                        Err(anyhow::anyhow!(
                            "no putaway task {typed}: type a row number or scan the bin a task starts from"
                        )),
                    ),
                }
            }
            _ => stay(Screen::PutawayList { tasks, selected }),
        },
        Screen::Lookup { result } => match key {
            Msg::Escape => {
                go_back(app);
                (None, Ok(vec![]))
            }
            Msg::Enter => {
                let code = std::mem::take(&mut app.input).trim().to_owned();
                if code.is_empty() {
                    return stay(Screen::Lookup { result });
                }
                match lookup(app, &code, look) {
                    Ok(found) => stay(Screen::Lookup {
                        result: Some(found),
                    }),
                    Err(e) => (Some(Screen::Lookup { result }), Err(e)),
                }
            }
            Msg::Up | Msg::Down => stay(Screen::Lookup {
                result: result.map(|mut r| {
                    r.scroll = if key == Msg::Up {
                        r.scroll.saturating_sub(1)
                    } else {
                        (r.scroll + 1).min(r.rows.len().saturating_sub(1))
                    };
                    r
                }),
            }),
            _ => stay(Screen::Lookup { result }),
        },
        Screen::Exceptions { list, selected } => match key {
            Msg::Escape => {
                go_back(app);
                (None, Ok(vec![]))
            }
            Msg::Up | Msg::Down => {
                let selected = step_selection(selected, list.len(), key == Msg::Up);
                stay(Screen::Exceptions { list, selected })
            }
            Msg::Enter => {
                let Some(exception) = list.get(selected).cloned() else {
                    return stay(Screen::Exceptions { list, selected });
                };
                let supervisor = app
                    .operator
                    .as_ref()
                    .is_some_and(|o| o.role.may(Kind::ResolveException));
                if !supervisor {
                    let role = app.operator.as_ref().map_or(Role::Picker, |o| o.role);
                    return (
                        Some(Screen::Exceptions { list, selected }),
                        Err(anyhow::anyhow!(
                            "a {role} may not resolve exceptions: ask a supervisor"
                        )),
                    );
                }
                go_with(
                    app,
                    Screen::Exceptions { list, selected },
                    Screen::Form(Form::resolve(&exception)),
                )
            }
            _ => stay(Screen::Exceptions { list, selected }),
        },
        Screen::Status => match key {
            Msg::Escape => {
                go_back(app);
                (None, Ok(vec![]))
            }
            Msg::Enter => match std::mem::take(&mut app.input).trim() {
                "" => {
                    app.notice = Some("sync asked for".into());
                    (Some(Screen::Status), Ok(vec![Effect::SyncNow]))
                }
                "0" => (Some(Screen::Status), Ok(vec![Effect::Logout])),
                other => (
                    Some(Screen::Status),
                    Err(anyhow::anyhow!(
                        "{other:?} means nothing here: Enter syncs, 0 and Enter logs out"
                    )),
                ),
            },
            _ => stay(Screen::Status),
        },
        Screen::Idle { title, text } => match key {
            Msg::Escape | Msg::Enter => {
                go_back(app);
                (None, Ok(vec![]))
            }
            _ => stay(Screen::Idle { title, text }),
        },
    }
}

/// Goes from `from` to `to`, remembering `from` for Escape.
fn go_with(app: &mut App, from: Screen, to: Screen) -> Outcome {
    app.back.push(from);
    app.input.clear();
    (Some(to), Ok(vec![]))
}

fn step_selection(selected: usize, n: usize, up: bool) -> usize {
    if n == 0 {
        0
    } else if up {
        (selected + n - 1) % n
    } else {
        (selected + 1) % n
    }
}

fn menu_key(app: &mut App, key: Msg, look: &dyn Lookup) -> anyhow::Result<Vec<Effect>> {
    // A flow the operator's role may not record is refused at the door,
    // not after every field is in (the same matrix as the recording).
    let needs = match key {
        Msg::Char('1') => Some(Kind::Receive),
        Msg::Char('4') => Some(Kind::Pick),
        Msg::Char('7') => Some(Kind::Pack),
        _ => None,
    };
    if let (Some(kind), Some(op)) = (needs, &app.operator)
        && !op.role.may(kind)
    {
        anyhow::bail!("a {} may not record {kind}: ask a supervisor", op.role);
    }
    let screen = match key {
        Msg::Char('q') | Msg::Char('Q') => {
            app.quit = true;
            return Ok(vec![Effect::Quit]);
        }
        Msg::Char('1') => Screen::Form(Form::receive()),
        Msg::Char('2') => Screen::PutawayList {
            tasks: look.open_tasks(TaskKind::Putaway)?,
            selected: 0,
        },
        Msg::Char('3') => Screen::Form(Form::movement(Flow::Move)),
        Msg::Char('4') => next_pick(app, look)?,
        Msg::Char('5') => Screen::Lookup { result: None },
        Msg::Char('6') => Screen::Form(count_form(look)?),
        Msg::Char('7') => Screen::Form(Form::pack_ship()),
        Msg::Char('8') => Screen::Exceptions {
            list: look.open_exceptions()?,
            selected: 0,
        },
        Msg::Char('9') => Screen::Status,
        _ => return Ok(vec![]),
    };
    app.notice = None;
    app.back.clear();
    app.back.push(Screen::Menu);
    app.screen = screen;
    app.input.clear();
    Ok(vec![])
}

/// A count, with the open count tasks named (bins only: the count is
/// blind).
fn count_form(look: &dyn Lookup) -> anyhow::Result<Form> {
    let mut form = Form::count();
    let tasks = look.open_tasks(TaskKind::Count)?;
    form.hint = tasks.first().map(|t| match tasks.len() {
        1 => format!("count task: {}", t.location),
        n => format!("count tasks: {} and {} more", t.location, n - 1),
    });
    Ok(form)
}

/// The next open pick task in walking order, skipped ones last.
fn next_pick(app: &App, look: &dyn Lookup) -> anyhow::Result<Screen> {
    let open = look.open_tasks(TaskKind::Pick)?;
    let next = open
        .iter()
        .find(|t| !app.skipped.contains(&t.id))
        .or_else(|| {
            // Every one was skipped: in the order they were skipped.
            app.skipped
                .iter()
                .find_map(|id| open.iter().find(|t| t.id == *id))
        })
        .cloned();
    Ok(match next {
        Some(task) => {
            let item = match &task.sku {
                Some(sku) => look.item(sku)?,
                None => None,
            };
            Screen::Form(Form::pick(task, item))
        }
        None => Screen::Idle {
            title: "Pick",
            text: "No open pick tasks on this device. Sync, or ask a supervisor.".into(),
        },
    })
}

/// After a sync: the pick task on screen was cancelled (or taken by someone
/// else) meanwhile. Said at once, with what to put back if the item was
/// already taken, and on to the next task.
/// A leaver's session ends at the sync that brings word of it, whatever
/// screen they are on: what they typed is dropped, what they recorded stays.
fn session_disabled(app: &mut App, disabled: Option<&str>) -> Option<Vec<Effect>> {
    let badge = disabled.filter(|b| app.operator.as_ref().is_some_and(|op| op.badge == *b))?;
    let reason = format!("badge {badge} was disabled by a supervisor: logged out");
    app.operator = None;
    app.back.clear();
    app.screen = Screen::Login(Form::login());
    let mut effects = vec![Effect::Logout];
    effects.extend(refuse(app, reason));
    Some(effects)
}

fn task_gone(app: &mut App, look: &dyn Lookup) -> Option<Vec<Effect>> {
    let Screen::Form(form) = &app.screen else {
        return None;
    };
    let task = form
        .task
        .as_ref()
        .filter(|_| form.flow == Flow::Pick && !form.submitted)?;
    let open = look.open_tasks(TaskKind::Pick).ok()?;
    if open.iter().any(|t| t.id == task.id) {
        return None;
    }
    let taken = form.get("sku").is_some();
    let qty = form
        .get("qty")
        .map(str::to_owned)
        .unwrap_or_else(|| (task.qty - task.done_qty).max(0).to_string());
    let sku = task.sku.clone().unwrap_or_default();
    let lot = form
        .get("lot")
        .map(str::to_owned)
        .or(task.lot.clone())
        .map(|l| format!(" lot {l}"))
        .unwrap_or_default();
    let reason = if taken {
        format!(
            "TASK {} CANCELLED: put back {qty} of {sku}{lot} at {}",
            task.id, task.location
        )
    } else {
        format!("TASK {} CANCELLED: do not pick it", task.id)
    };
    match next_pick(app, look) {
        Ok(next) => app.screen = next,
        Err(e) => return Some(refuse(app, format!("{reason}. {e:#}"))),
    }
    Some(refuse(app, reason))
}

fn putaway_open(app: &mut App, tasks: Vec<TaskRecord>, i: usize, at_bin: bool) -> Outcome {
    let form = match i.checked_sub(1).and_then(|t| tasks.get(t)) {
        Some(task) => Form::putaway(task.clone(), at_bin),
        None => Form::movement(Flow::Putaway),
    };
    go_with(
        app,
        Screen::PutawayList { tasks, selected: i },
        Screen::Form(form),
    )
}

fn login_key(app: &mut App, form: &mut Form, key: Msg) -> anyhow::Result<Vec<Effect>> {
    match key {
        Msg::Escape => {
            app.input.clear();
            form.back();
            Ok(vec![])
        }
        Msg::Enter => {
            let value = std::mem::take(&mut app.input).trim().to_owned();
            if value.is_empty() {
                return Ok(vec![]);
            }
            match form.current().map(|f| f.kind) {
                Some(FieldKind::Badge) => {
                    if let Some(f) = form.field_mut("badge") {
                        f.value = Some(value);
                    }
                    form.advance();
                    Ok(vec![])
                }
                Some(FieldKind::Pin) => {
                    let badge = form.get("badge").unwrap_or_default().to_owned();
                    form.submitted = true;
                    Ok(vec![Effect::Login { badge, pin: value }])
                }
                _ => Ok(vec![]),
            }
        }
        _ => Ok(vec![]),
    }
}

fn logged_in(app: &mut App, result: Result<Operator, String>) -> Vec<Effect> {
    match result {
        Ok(op) => {
            app.notice = Some(format!("logged in: {} ({})", op.badge, op.role));
            app.operator = Some(op);
            app.back.clear();
            app.screen = Screen::Menu;
            app.input.clear();
            vec![]
        }
        Err(reason) => {
            app.screen = Screen::Login(Form::login());
            refuse(app, reason)
        }
    }
}

/// Enter on a form: the input (or the step's default) is checked for this
/// step; accepted, the form moves on; complete, it asks for the recording.
fn form_enter(app: &mut App, form: &mut Form, look: &dyn Lookup) -> anyhow::Result<Vec<Effect>> {
    if form.submitted {
        return Ok(vec![]);
    }
    let Some(field) = form.current().cloned() else {
        return Ok(vec![]);
    };
    let typed = std::mem::take(&mut app.input).trim().to_owned();
    let value = if typed.is_empty() {
        match &field.default {
            Some(d) => d.clone(),
            None => return Ok(vec![]),
        }
    } else {
        typed
    };
    // A loud message shown once the step is taken (an expired lot at the
    // dock: the receipt goes on, as rejected).
    let mut alarm = None;
    let accepted = match field.kind {
        FieldKind::Item => {
            alarm = accept_item(app, form, &value, look)?;
            None
        }
        FieldKind::Location => {
            let Some(bin) = look.location(&value)? else {
                anyhow::bail!("unknown location {value}: scan a bin label");
            };
            let value = bin.code.clone();
            if let Some(want) = &field.expect
                && *want != value
            {
                anyhow::bail!("wrong bin {value}: go to {want} and scan its label");
            }
            if field.name == "to" {
                if form.get("from") == Some(value.as_str()) {
                    anyhow::bail!("{value} is where the stock comes from: scan the bin it goes to");
                }
                if let Some(item) = &form.item
                    && !form.rejected
                {
                    checks::bin_temperature(&item.sku, item.temperature, &value, bin.temperature)?;
                }
                if let Some(suggested) = form.task.as_ref().and_then(|t| t.to.clone())
                    && form.flow == Flow::Putaway
                    && suggested != value
                    && form.confirm.as_deref() != Some(value.as_str())
                {
                    form.hint = Some(format!(
                        "! {value} is not the suggested {suggested}: scan {value} again to put it there"
                    ));
                    form.confirm = Some(value);
                    return Ok(vec![Effect::Bell]);
                }
            }
            Some(value)
        }
        FieldKind::Asn => {
            let lines = look.asn(&value)?;
            let Some(first) = lines.first() else {
                anyhow::bail!(
                    "ASN {value} is not known on this device (sync, or check the paperwork)"
                );
            };
            checks::asn_open(&value, &lines)?;
            form.hint = Some(asn_hint(&lines, first));
            Some(value)
        }
        FieldKind::Order => {
            if look.order(&value)?.is_none() {
                anyhow::bail!("order {value} is not known on this device (sync first)");
            }
            Some(value)
        }
        FieldKind::Lot => {
            pyck_vocab::validate::code("lot", &value).map_err(|e| anyhow::anyhow!("{e}"))?;
            if let Some(want) = &field.expect
                && *want != value
            {
                anyhow::bail!("wrong lot {value}: this task is for lot {want}");
            }
            if let Some(item) = form.item.clone() {
                let known = look.lot_expiry(&item.sku, &value)?;
                alarm = lot_rules(form, look, &item, &value, known.flatten(), app.today)?;
                // A lot this device knows has an expiry already.
                if known.is_some()
                    && let Some(f) = form.field_mut("expiry")
                    && f.value.is_none()
                {
                    f.skip = true;
                }
            }
            Some(value)
        }
        FieldKind::Expiry => {
            let date = expiry_date(&value, app.today)?;
            if let (Some(item), Some(lot)) = (form.item.clone(), form.get("lot").map(str::to_owned))
            {
                alarm = lot_rules(form, look, &item, &lot, Some(date), app.today)?;
            }
            Some(date.to_string())
        }
        FieldKind::Qty => {
            let n: i64 = value.parse().map_err(|_| {
                anyhow::anyhow!("expected a quantity (a whole number), got {value:?}")
            })?;
            if n < 0 || (n == 0 && !field.zero_ok) {
                anyhow::bail!(
                    "a quantity must be at least {}",
                    if field.zero_ok { 0 } else { 1 }
                );
            }
            if form.flow == Flow::Pick
                && let Some(task) = &form.task
            {
                checks::within_task(n, task.qty - task.done_qty)?;
            }
            Some(n.to_string())
        }
        FieldKind::Action => {
            let kind = match value.to_ascii_lowercase().as_str() {
                "1" | "pack" => Kind::Pack,
                "2" | "ship" => Kind::Ship,
                _ => anyhow::bail!("press 1 to pack or 2 to ship"),
            };
            if let Some(state) = look.order(form.get("order").unwrap_or_default())? {
                checks::order_ready(kind, &state)?;
            }
            Some(kind.as_str().to_owned())
        }
        FieldKind::Note | FieldKind::Badge | FieldKind::Pin => Some(value),
    };
    if let Some(v) = accepted
        && let Some(f) = form.fields.get_mut(form.step)
    {
        f.value = Some(v);
    }
    if form.advance() {
        if let Some(alarm) = alarm {
            anyhow::bail!(alarm);
        }
        return Ok(vec![]);
    }
    let entry = entry(form, look)?;
    form.submitted = true;
    Ok(vec![Effect::Record(entry)])
}

/// An expiry as a person types it (`YYYY-MM-DD`) or as a GS1 label prints
/// it (`YYMMDD`, day 00 the month's last day).
fn expiry_date(value: &str, today: NaiveDate) -> anyhow::Result<NaiveDate> {
    if value.len() == 6 && value.bytes().all(|b| b.is_ascii_digit()) {
        return pyck_vocab::gs1::Element::new("17", value, today)
            .ok()
            .and_then(|e| e.date())
            .ok_or_else(|| anyhow::anyhow!("{value} is no real date (YYMMDD or YYYY-MM-DD)"));
    }
    pyck_vocab::validate::date("expiry", value).map_err(|e| anyhow::anyhow!(e.problem))
}

/// What the device knows about a lot about to be picked or received (from
/// the label or the local view): a pick's lot must be in the bin and not
/// expired; a receipt of an expired lot goes on as rejected, with a loud
/// message (returned) rather than a refusal: the goods are at the dock.
fn lot_rules(
    form: &mut Form,
    look: &dyn Lookup,
    item: &Item,
    lot: &str,
    expiry: Option<NaiveDate>,
    today: NaiveDate,
) -> anyhow::Result<Option<String>> {
    match form.flow {
        Flow::Pick => {
            if let Some(task) = &form.task {
                let held = look.stock(&Filter {
                    location: Some(task.location.clone()),
                    sku: Some(item.sku.clone()),
                })?;
                checks::lot_in_bin(lot, &task.location, &held)?;
            }
            if item.expiry_tracked {
                checks::not_expired(lot, expiry, today, Use::Pick)?;
            }
            Ok(None)
        }
        // Only an item whose expiry is tracked is rejected as expired: the
        // receipt records that expiry, so the rejection carries its reason
        // (a date on the label of another item is not recorded at all).
        Flow::Receive if !item.expiry_tracked => Ok(None),
        Flow::Receive => match checks::not_expired(lot, expiry, today, Use::Receipt) {
            Ok(()) => Ok(None),
            Err(wrong) => {
                form.rejected = true;
                if let Some(f) = form.field_mut("qty") {
                    f.label = REJECTED;
                    f.default = None;
                }
                Ok(Some(format!(
                    "{wrong}. The quantity you enter now is recorded as REJECTED (expired), not stocked"
                )))
            }
        },
        _ => Ok(None),
    }
}

/// "3 lines from Bakkeland Dagligvare Import AS".
fn asn_hint(lines: &[AsnLineRecord], first: &AsnLineRecord) -> String {
    match lines.len() {
        1 => format!("1 line from {}", first.supplier),
        n => format!("{n} lines from {}", first.supplier),
    }
}

/// The item step: a SKU, a GTIN, or a GS1 code whose lot, expiry and count
/// fill the steps after it. Returns a loud message to show once the step
/// is taken (an expired lot at the dock).
fn accept_item(
    app: &App,
    form: &mut Form,
    code: &str,
    look: &dyn Lookup,
) -> anyhow::Result<Option<String>> {
    let mut gs1 = None;
    let read = match look.item(code)? {
        Some(_) => None,
        None => pyck_vocab::gs1::read_scan(code, app.today),
    };
    let item = if let Some(read) = read {
        let parsed = read.map_err(|e| anyhow::anyhow!("unreadable GS1 code: {e}"))?;
        let Some(gtin) = parsed.gtin().map(str::to_owned) else {
            anyhow::bail!("this GS1 label names no item (no GTIN): scan the item's label");
        };
        let item = look.item(&gtin)?.ok_or_else(|| {
            anyhow::anyhow!("GTIN {gtin} belongs to no item known on this device")
        })?;
        gs1 = Some(parsed);
        item
    } else {
        look.item(code)?.ok_or_else(|| {
            anyhow::anyhow!("unknown code {code}: no item with this SKU, GTIN or GS1 label here")
        })?
    };
    let step = form.step;
    if let Some(want) = form.fields.get(step).and_then(|f| f.expect.clone())
        && want != item.sku
    {
        anyhow::bail!("wrong item {}: this task is for {want}", item.sku);
    }
    let lot = gs1.as_ref().and_then(|g| g.lot()).map(str::to_owned);
    let expiry = gs1.as_ref().and_then(|g| g.expiry());
    // A weighed case of an item stocked by weight (catch weight): the
    // label's weight, in the item's unit, is the quantity; else a count.
    let count = gs1
        .as_ref()
        .and_then(|g| g.quantity_for(&item.uom))
        .transpose()
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    if let (Some(lot), Some(want)) = (
        &lot,
        form.fields
            .iter()
            .find(|f| f.kind == FieldKind::Lot)
            .and_then(|f| f.expect.as_ref()),
    ) && lot != want
    {
        anyhow::bail!("wrong lot {lot}: this task is for lot {want}");
    }
    let known = match &lot {
        Some(l) if item.lot_tracked => look.lot_expiry(&item.sku, l)?,
        _ => None,
    };
    // A pick's lot is checked at this scan, before anything is filled in.
    // A label's later date does not revive a lot this device knows expired:
    // the earlier of the two decides.
    if form.flow == Flow::Pick
        && item.lot_tracked
        && let Some(l) = &lot
    {
        let earliest = expiry.into_iter().chain(known.flatten()).min();
        lot_rules(form, look, &item, l, earliest, app.today)?;
    }
    if let Some(f) = form.fields.get_mut(step) {
        f.value = Some(item.sku.clone());
    }
    let known_expiry = item.expiry_tracked && known.is_some();
    for f in form.fields.iter_mut().skip(step + 1) {
        match f.kind {
            FieldKind::Lot => {
                f.skip = !item.lot_tracked;
                if item.lot_tracked {
                    f.value = lot.clone();
                    f.auto = f.value.is_some();
                }
            }
            FieldKind::Expiry => {
                f.skip = !item.expiry_tracked || !item.lot_tracked;
                if item.expiry_tracked {
                    f.value = expiry.map(|d| d.to_string());
                    f.auto = f.value.is_some();
                    if f.value.is_none() && known_expiry {
                        f.skip = true;
                    }
                }
            }
            FieldKind::Qty if f.default.is_none() => {
                f.default = count.map(|c| c.to_string());
            }
            _ => {}
        }
    }
    // What the ASN expects of this item (the server raises an exception for
    // items it does not list; the receipt is still recorded, as by the CLI),
    // and what is still to come as the quantity's default.
    if form.flow == Flow::Receive
        && let Some(asn) = form.get("asn").map(str::to_owned)
    {
        let lines = look.asn(&asn)?;
        let line = lines.iter().find(|l| l.sku == item.sku);
        form.hint = Some(match line {
            Some(l) => {
                let came = l.received_qty + l.damaged_qty;
                if came > 0 {
                    format!(
                        "{asn} line {}: {} expected, {came} in",
                        l.line, l.expected_qty
                    )
                } else {
                    format!("{asn} line {}: {} expected", l.line, l.expected_qty)
                }
            }
            None => format!("! {} is not on {asn}", item.sku),
        });
        let left = line.map_or(0, |l| l.expected_qty - l.received_qty - l.damaged_qty);
        if let Some(f) = form.field_mut("qty")
            && count.is_none()
            && left > 0
        {
            f.default = Some(left.to_string());
        }
    }
    form.item = Some(item.clone());
    if form.flow == Flow::Receive
        && let Some(l) = &lot
    {
        return lot_rules(form, look, &item, l, expiry.or(known.flatten()), app.today);
    }
    Ok(None)
}

fn opt(form: &Form, name: &str) -> Option<String> {
    form.fields
        .iter()
        .find(|f| f.name == name && !f.skip)
        .and_then(|f| f.value.clone())
}

fn req(form: &Form, name: &str) -> anyhow::Result<String> {
    opt(form, name).ok_or_else(|| anyhow::anyhow!("{name} is missing"))
}

/// The operation a complete form records.
fn entry(form: &Form, look: &dyn Lookup) -> anyhow::Result<Entry> {
    Ok(match form.flow {
        Flow::Receive => {
            let qty = req(form, "qty")?;
            let (qty, damaged) = if form.rejected {
                ("0".to_owned(), Some(qty))
            } else {
                (qty, None)
            };
            Entry::Receive {
                asn: req(form, "asn")?,
                sku: req(form, "sku")?,
                qty,
                lot: opt(form, "lot"),
                expiry: opt(form, "expiry"),
                to: req(form, "to")?,
                damaged,
            }
        }
        Flow::Move | Flow::Putaway => Entry::Move {
            sku: req(form, "sku")?,
            lot: opt(form, "lot"),
            qty: req(form, "qty")?,
            from: req(form, "from")?,
            to: req(form, "to")?,
            task: form.task.as_ref().map(|t| t.id.clone()),
        },
        Flow::Pick => {
            let task = form
                .task
                .as_ref()
                .ok_or_else(|| anyhow::anyhow!("no pick task"))?;
            Entry::Pick {
                task: task.id.clone(),
                qty: req(form, "qty")?.parse()?,
                lot: opt(form, "lot").or(task.lot.clone()),
                short: None,
            }
        }
        Flow::Count => {
            let location = req(form, "location")?;
            let sku = req(form, "sku")?;
            // A count of a bin and item with an open count task completes it.
            let task = look
                .open_tasks(TaskKind::Count)?
                .into_iter()
                .find(|t| t.location == location && t.sku.as_deref().is_none_or(|s| s == sku))
                .map(|t| t.id);
            Entry::Count {
                location,
                sku,
                lot: opt(form, "lot"),
                qty: req(form, "qty")?,
                task,
            }
        }
        Flow::PackShip => Entry::Order {
            kind: if req(form, "action")? == "ship" {
                Kind::Ship
            } else {
                Kind::Pack
            },
            order: req(form, "order")?,
        },
        Flow::Resolve => Entry::Resolve {
            id: form
                .target
                .clone()
                .ok_or_else(|| anyhow::anyhow!("no exception chosen"))?,
            note: req(form, "note")?,
        },
        Flow::Login => anyhow::bail!("login is not recorded"),
    })
}

fn short_key(app: &mut App, form: Form, selected: usize, key: Msg) -> Outcome {
    let choose = |i: usize, app: &mut App, form: Form| -> Outcome {
        let Some(task) = form.task.clone() else {
            return (Some(Screen::Form(form)), Ok(vec![]));
        };
        // What was typed at the quantity step counts as taken; nothing
        // typed means none was.
        let qty = form.get("qty").unwrap_or("0").to_owned();
        let qty: i64 = match qty.parse() {
            Ok(n) if n >= 0 => n,
            _ => {
                return (
                    Some(Screen::ShortReason { form, selected: i }),
                    Err(anyhow::anyhow!("expected a quantity taken, got {qty:?}")),
                );
            }
        };
        let reason = SHORT_REASONS[i].to_owned();
        let lot = opt(&form, "lot").or(task.lot.clone());
        let mut form = form;
        form.submitted = true;
        app.input.clear();
        // Back on the pick form, which waits for the recording's outcome.
        app.back.pop();
        (
            Some(Screen::Form(form)),
            Ok(vec![Effect::Record(Entry::Pick {
                task: task.id,
                qty,
                lot,
                short: Some(reason),
            })]),
        )
    };
    match key {
        Msg::Escape => {
            go_back(app);
            (None, Ok(vec![]))
        }
        Msg::Up | Msg::Down => stay(Screen::ShortReason {
            form,
            selected: step_selection(selected, SHORT_REASONS.len(), key == Msg::Up),
        }),
        Msg::Char(c @ '1'..='4') => choose(c as usize - '1' as usize, app, form),
        Msg::Enter => choose(selected.min(SHORT_REASONS.len() - 1), app, form),
        _ => stay(Screen::ShortReason { form, selected }),
    }
}

fn recorded(app: &mut App, result: Result<String, String>, look: &dyn Lookup) -> Vec<Effect> {
    if let Ok(done) = &result {
        remember(app, done);
    }
    let Screen::Form(form) = &mut app.screen else {
        return match result {
            Ok(done) => {
                app.notice = Some(done);
                vec![]
            }
            Err(reason) => refuse(app, reason),
        };
    };
    match result {
        Err(reason) => {
            // Nothing recorded: back to the last step, to fix or leave.
            form.submitted = false;
            form.back();
            if form.step >= form.fields.len() {
                form.step = form.fields.len().saturating_sub(1);
            }
            refuse(app, reason)
        }
        Ok(done) => {
            app.notice = Some(done);
            app.input.clear();
            let flow = form.flow;
            let keep = form.keep;
            match flow {
                Flow::Pick => {
                    let next = next_pick(app, look);
                    match next {
                        Ok(screen) => app.screen = screen,
                        Err(e) => return refuse(app, format!("{e:#}")),
                    }
                }
                Flow::Resolve => {
                    app.back.pop();
                    app.screen = match look.open_exceptions() {
                        Ok(list) => Screen::Exceptions { list, selected: 0 },
                        Err(e) => return refuse(app, format!("{e:#}")),
                    };
                }
                Flow::Putaway if form.task.is_some() => {
                    app.back.pop();
                    app.screen = match look.open_tasks(TaskKind::Putaway) {
                        Ok(tasks) => Screen::PutawayList { tasks, selected: 0 },
                        Err(e) => return refuse(app, format!("{e:#}")),
                    };
                }
                Flow::Count => match count_form(look) {
                    Ok(fresh) => *form = fresh,
                    Err(e) => return refuse(app, format!("{e:#}")),
                },
                Flow::Receive => {
                    // The next pallet goes to the same dock: Enter takes it.
                    let dock = form.get("to").map(str::to_owned);
                    form.clear_from(keep);
                    if let Some(f) = form.field_mut("to") {
                        f.default = dock;
                    }
                    form.hint = None;
                    if let Some(asn) = form.get("asn").map(str::to_owned)
                        && let Ok(lines) = look.asn(&asn)
                        && let Some(first) = lines.first()
                    {
                        form.hint = Some(asn_hint(&lines, first));
                    }
                }
                _ => form.clear_from(keep),
            }
            vec![]
        }
    }
}

/// Keeps the last few recordings for the side panel.
fn remember(app: &mut App, done: &str) {
    const KEEP: usize = 20;
    app.recent.push(done.to_owned());
    if app.recent.len() > KEEP {
        app.recent.remove(0);
    }
}

/// Stock lookup: a bin, a SKU, a GTIN or a GS1 label.
fn lookup(app: &App, code: &str, look: &dyn Lookup) -> anyhow::Result<LookupResult> {
    if let Some(bin) = look.location(code)? {
        let rows = look.stock(&Filter {
            location: Some(bin.code.clone()),
            sku: None,
        })?;
        return Ok(LookupResult {
            code: code.to_owned(),
            heading: format!("bin {}", bin.code),
            by_location: true,
            rows,
            scroll: 0,
        });
    }
    let (item, lot) = match look.item(code)? {
        Some(item) => (item, None),
        None => {
            let Some(read) = pyck_vocab::gs1::read_scan(code, app.today) else {
                anyhow::bail!(
                    "unknown code {code}: no bin, SKU, GTIN or GS1 label known on this device"
                );
            };
            let gs1 = read.map_err(|e| anyhow::anyhow!("unreadable GS1 code: {e}"))?;
            let gtin = gs1
                .gtin()
                .ok_or_else(|| anyhow::anyhow!("this GS1 label names no item (no GTIN)"))?;
            let item = look
                .item(gtin)?
                .ok_or_else(|| anyhow::anyhow!("GTIN {gtin} belongs to no item known here"))?;
            (item, gs1.lot().map(str::to_owned))
        }
    };
    let rows = look
        .stock(&Filter {
            location: None,
            sku: Some(item.sku.clone()),
        })?
        .into_iter()
        .filter(|r| lot.is_none() || r.lot == lot)
        .collect();
    let heading = match &lot {
        Some(l) => format!("{} lot {l} {}", item.sku, item.description),
        None => format!("{} {}", item.sku, item.description),
    };
    Ok(LookupResult {
        code: code.to_owned(),
        heading,
        by_location: false,
        rows,
        scroll: 0,
    })
}

#[cfg(test)]
mod props;
#[cfg(test)]
mod tests;
