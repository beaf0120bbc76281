//! Random scan sequences through the pure `update`, 10,000 per flow, against
//! [`Fake::rich`]: wrong bins, wrong and expired lots, double scans, GS1
//! labels missing AIs, over-quantities, codes in either case, Escape, Enter,
//! F2 and F3 at any point. Whatever the operator does, nothing the fake's
//! data says is wrong is ever recorded, `update` never panics, and the
//! screen on display is always one the UI could draw.
//!
//! The oracle ([`wrong`]) restates the rules from the data rather than
//! asking `crate::checks`: a rule written once and checked by itself proves
//! nothing. A sequence is state-driven: a scan takes its text from the
//! codes that fit the step on screen (or from any code), by index, so a
//! shrunk failure is still a short, readable list of scans and keys.

use std::cell::RefCell;
use std::collections::BTreeMap;

use chrono::NaiveDate;
use proptest::prelude::*;
use proptest::test_runner::{Config as ProptestConfig, TestCaseError, TestRunner};
use pyck_vocab::operation::Kind;
use pyck_vocab::records::{OrderStatus, Role, TaskKind, TaskStatus, Temperature};

use super::*;
use crate::tui::app::{App, Entry, FieldKind, Form, SHORT_REASONS, Screen};
use crate::tui::testing::{Fake, app_as, bin_temperature, today};

/// Cases per flow. Each flow is its own test, so nextest runs them side by
/// side.
const CASES: u32 = 10_000;
/// Actions per sequence at most (a scan is one action).
const MAX_ACTS: usize = 30;

#[derive(Debug, Clone, Copy)]
enum Case {
    AsIs,
    Upper,
    Lower,
}

/// One thing the operator does.
#[derive(Debug, Clone)]
enum Act {
    /// A scan (its characters, then Enter) of a code that fits the step on
    /// screen (`fit`), or of any code the warehouse knows or does not.
    Scan {
        fit: bool,
        pick: usize,
        case: Case,
    },
    /// Characters without the Enter: half a scan, a quantity before F2.
    Type {
        fit: bool,
        pick: usize,
        case: Case,
    },
    /// The last scan again.
    Again,
    /// Anything at all, then Enter.
    Junk(String),
    Key(Msg),
}

fn act() -> impl Strategy<Value = Act> {
    let case = prop_oneof![6 => Just(Case::AsIs), 1 => Just(Case::Upper), 1 => Just(Case::Lower)];
    let key = prop_oneof![
        10 => Just(Msg::Enter),
        4 => Just(Msg::Escape),
        1 => Just(Msg::Up),
        1 => Just(Msg::Down),
        2 => Just(Msg::ShortPick),
        2 => Just(Msg::Skip),
        1 => Just(Msg::Backspace),
        3 => (0..10u32).prop_map(|d| Msg::Char(char::from_digit(d, 10).unwrap_or('0'))),
        1 => Just(Msg::Synced(SyncOutcome {
            online: true,
            pending: 0,
            last_sync: None,
            error: None,
            refused: 0,
            report: None,
            disabled: None,
        })),
    ];
    prop_oneof![
        12 => (any::<usize>(), case.clone()).prop_map(|(pick, case)| Act::Scan { fit: true, pick, case }),
        2 => (any::<usize>(), case.clone()).prop_map(|(pick, case)| Act::Scan { fit: false, pick, case }),
        2 => (any::<usize>(), case).prop_map(|(pick, case)| Act::Type { fit: true, pick, case }),
        1 => Just(Act::Again),
        1 => "\\PC{0,10}".prop_map(Act::Junk),
        8 => key.prop_map(Act::Key),
    ]
}

/// The codes a sequence draws from, built once from the fake warehouse.
struct Vocab {
    bins: Vec<String>,
    items: Vec<String>,
    lots: Vec<String>,
    expiries: Vec<String>,
    qtys: Vec<String>,
    asns: Vec<String>,
    orders: Vec<String>,
    actions: Vec<String>,
    rows: Vec<String>,
    status: Vec<String>,
    reasons: Vec<String>,
    all: Vec<String>,
}

/// AI 17 values around the fake's today (2026-11-23): later, long past,
/// today (not expired), yesterday (expired), day 00 (the month's end).
const LABEL_DATES: [&str; 5] = ["270131", "261031", "261123", "261122", "261100"];

/// A bracketed GS1 code: a GTIN-14, and a lot, an expiry and a count when
/// given.
fn gs1(gtin: &str, lot: Option<&str>, expiry: Option<&str>, count: Option<u32>) -> String {
    let mut s = format!("(01)0{gtin}");
    if let Some(e) = expiry {
        s.push_str(&format!("(17){e}"));
    }
    if let Some(c) = count {
        s.push_str(&format!("(30){c}"));
    }
    if let Some(l) = lot {
        s.push_str(&format!("(10){l}"));
    }
    s
}

impl Vocab {
    fn new(fake: &Fake) -> Vocab {
        let strings = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        let mut bins: Vec<String> = fake.locations.iter().map(|l| (*l).to_owned()).collect();
        bins.extend(strings(&["Z-99", "DOCK-04", "C-01-0"]));
        let mut lots: Vec<String> = fake.lots.iter().map(|(_, l, _)| (*l).to_owned()).collect();
        lots.extend(strings(&["L9999X", "L 1", "x"]));
        let mut items = Vec::new();
        for (item, gtins) in &fake.items {
            items.push(item.sku.clone());
            for g in gtins {
                items.push((*g).to_owned());
                items.push(format!("0{g}"));
                items.push(gs1(g, None, None, None));
                items.push(gs1(g, None, None, Some(24)));
                // Its own lots, another item's lot, an unknown one; with
                // and without an expiry, expired or not.
                let mut lots_here: Vec<&str> = fake
                    .lots
                    .iter()
                    .filter(|(s, _, _)| *s == item.sku)
                    .map(|(_, l, _)| *l)
                    .collect();
                lots_here.extend(["L2647E", "L9999X"]);
                for l in lots_here {
                    items.push(gs1(g, Some(l), None, None));
                    for e in LABEL_DATES {
                        items.push(gs1(g, Some(l), Some(e), None));
                    }
                }
                // Raw form with the group separator, lot first.
                items.push(format!("]C1010{g}10L2631H\u{1d}17270114"));
            }
        }
        items.extend(strings(&[
            "SKU-99999",
            "5790000999999",
            // No GTIN; a GTIN whose check digit is wrong; one no item has;
            // an unreadable date.
            "(10)L2631H(17)270114",
            "(01)05790000100371(10)L2631H",
            "(01)05790000999990(10)L1",
            "(01)05790000100378(17)261341(10)L2631H",
            "https://id.gs1.org/01/05790000100378/10/L2631H?17=270114",
        ]));
        let mut qtys: Vec<String> = (0..=20).map(|n: i32| n.to_string()).collect();
        qtys.extend(strings(&[
            "24",
            "144",
            "999999",
            "99999999999999999999",
            "-1",
            "1.5",
            "abc",
        ]));
        let expiries = strings(&[
            "2027-01-31",
            "2026-11-23",
            "2026-11-22",
            "261031",
            "270131",
            "261100",
            "31.01.2027",
            "2026-02-30",
        ]);
        let mut asns: Vec<String> = fake.asns.iter().map(|l| l.asn.clone()).collect();
        asns.dedup();
        asns.push("ASN-9".into());
        let mut orders: Vec<String> = fake.orders.iter().map(|(o, _)| (*o).to_owned()).collect();
        orders.push("SO-9".into());
        let actions = strings(&["1", "2", "3", "pack", "SHIP"]);
        let rows = strings(&["0", "1", "2", "3", "DOCK-01", "dock-02", "A-01-01"]);
        let status = strings(&["", "7"]);
        let reasons = strings(&["1", "2", "3", "4", "5", ""]);
        let mut all = Vec::new();
        for v in [
            &bins, &items, &lots, &expiries, &qtys, &asns, &orders, &actions,
        ] {
            all.extend(v.iter().cloned());
        }
        all.push("recounted".into());
        Vocab {
            bins,
            items,
            lots,
            expiries,
            qtys,
            asns,
            orders,
            actions,
            rows,
            status,
            reasons,
            all,
        }
    }

    /// The codes that fit what the screen asks for, and a few drawn from
    /// the task or item at hand (the right bin, its lots, its remaining
    /// quantity and one more) so a sequence gets through a flow often.
    fn fitting(&self, app: &App, fake: &Fake, menu: &str) -> (&[String], Vec<String>) {
        let form = match &app.screen {
            Screen::Form(f) => f,
            Screen::PutawayList { .. } => return (&self.rows, vec![]),
            Screen::Status => return (&self.status, vec![]),
            Screen::ShortReason { .. } => return (&self.reasons, vec![]),
            Screen::Menu => return (&self.all, vec![menu.to_owned()]),
            _ => return (&self.all, vec![]),
        };
        let task = form.task.as_ref();
        let sku = task
            .and_then(|t| t.sku.clone())
            .or_else(|| form.item.as_ref().map(|i| i.sku.clone()));
        let gtin = sku.as_deref().and_then(|s| {
            fake.items
                .iter()
                .find(|(i, _)| i.sku == s)
                .and_then(|(_, g)| g.first().copied())
        });
        let bin = task
            .map(|t| t.location.clone())
            .or_else(|| form.get("from").map(str::to_owned));
        let lots_here: Vec<String> = fake
            .stock
            .iter()
            .filter(|r| {
                Some(&r.location) == bin.as_ref() && Some(&r.sku) == sku.as_ref() && r.lot.is_some()
            })
            .filter_map(|r| r.lot.clone())
            .collect();
        let mut extra = Vec::new();
        let base = match form.current().map(|f| f.kind) {
            Some(FieldKind::Location) => {
                extra.extend(bin);
                extra.extend(task.and_then(|t| t.to.clone()));
                extra.extend(form.confirm.clone());
                &self.bins
            }
            Some(FieldKind::Item) => {
                extra.extend(sku.clone());
                if let Some(g) = gtin {
                    extra.push(g.to_owned());
                    for l in lots_here.iter().chain(task.and_then(|t| t.lot.as_ref())) {
                        extra.push(gs1(g, Some(l), None, None));
                        extra.push(gs1(g, Some(l), Some("270131"), None));
                        extra.push(gs1(g, Some(l), Some("261122"), None));
                    }
                }
                if let Some(asn) = form.get("asn") {
                    extra.extend(
                        fake.asns
                            .iter()
                            .filter(|l| l.asn == asn)
                            .map(|l| l.sku.clone()),
                    );
                }
                &self.items
            }
            Some(FieldKind::Lot) => {
                extra.extend(lots_here);
                extra.extend(task.and_then(|t| t.lot.clone()));
                &self.lots
            }
            Some(FieldKind::Expiry) => &self.expiries,
            Some(FieldKind::Qty) => {
                if let Some(t) = task {
                    let left = t.qty - t.done_qty;
                    extra.extend([left.to_string(), (left + 1).to_string()]);
                }
                extra.push(String::new());
                &self.qtys
            }
            Some(FieldKind::Asn) => &self.asns,
            Some(FieldKind::Order) => &self.orders,
            Some(FieldKind::Action) => &self.actions,
            Some(FieldKind::Note | FieldKind::Badge | FieldKind::Pin) => {
                extra.push("recounted".into());
                &self.all
            }
            None => &self.all,
        };
        (base, extra)
    }

    fn text(&self, run: &Run, fit: bool, pick: usize, case: Case) -> String {
        let (base, extra) = if fit {
            self.fitting(&run.app, run.fake, run.menu)
        } else {
            (&self.all[..], vec![])
        };
        // Three in four scans that fit are of the task or item at hand.
        let text = if !pick.is_multiple_of(4) && !extra.is_empty() {
            extra[(pick / 4) % extra.len()].clone()
        } else {
            base[(pick / 2) % base.len()].clone()
        };
        match case {
            Case::AsIs => text,
            Case::Upper => text.to_uppercase(),
            Case::Lower => text.to_lowercase(),
        }
    }
}

fn typed(text: &str, enter: bool) -> Vec<Msg> {
    text.chars()
        .map(Msg::Char)
        .chain(enter.then_some(Msg::Enter))
        .collect()
}

/// What the data says is wrong with a recording, if anything.
fn wrong(entry: &Entry, role: Role, fake: &Fake, today: NaiveDate) -> Option<String> {
    if !role.may(entry.kind()) {
        return Some(format!("a {role} recorded {}", entry.kind()));
    }
    let bin = |code: &str| fake.locations.iter().find(|l| **l == code);
    let item = |sku: &str| {
        fake.items
            .iter()
            .find(|(i, _)| i.sku == sku)
            .map(|(i, _)| i)
    };
    let known = |sku: &str, lot: &str| {
        fake.lots
            .iter()
            .find(|(s, l, _)| *s == sku && *l == lot)
            .map(|(_, _, e)| *e)
    };
    let fits = |goods: Temperature, code: &str| {
        let t = bin_temperature(code);
        t == Temperature::Dock || t == goods
    };
    let int = |s: &str| s.parse::<i64>().ok();
    match entry {
        Entry::Receive {
            asn,
            sku,
            qty,
            lot,
            expiry,
            to,
            damaged,
        } => {
            let lines: Vec<_> = fake.asns.iter().filter(|l| l.asn == *asn).collect();
            if lines.is_empty() || lines.iter().all(|l| l.closed) {
                return Some(format!("received on ASN {asn}, unknown or closed"));
            }
            let Some(item) = item(sku) else {
                return Some(format!("unknown item {sku}"));
            };
            if item.lot_tracked != lot.is_some() {
                return Some(format!("lot {lot:?} for {sku}"));
            }
            let expiry = match expiry {
                Some(e) => match NaiveDate::parse_from_str(e, "%Y-%m-%d") {
                    Ok(d) => Some(d),
                    Err(_) => return Some(format!("expiry {e:?} is no date")),
                },
                None => None,
            };
            let effective = expiry.or(lot.as_deref().and_then(|l| known(sku, l).flatten()));
            let expired = effective.is_some_and(|e| e < today);
            bin(to)?;
            match damaged {
                None => {
                    if int(qty).is_none_or(|n| n < 1) {
                        return Some(format!("received quantity {qty:?}"));
                    }
                    if expired {
                        return Some(format!(
                            "lot {lot:?} expired {effective:?} received as stock"
                        ));
                    }
                    if !fits(item.temperature, to) {
                        return Some(format!("{sku} received into {to}"));
                    }
                }
                Some(d) => {
                    if qty != "0" || int(d).is_none_or(|n| n < 1) {
                        return Some(format!("rejected {d:?} with quantity {qty:?}"));
                    }
                    // Rejected goods are not stocked: any bin takes them.
                    if !expired {
                        return Some(format!(
                            "lot {lot:?} rejected as expired, its expiry is {effective:?}"
                        ));
                    }
                }
            }
            None
        }
        Entry::Move {
            sku,
            lot,
            qty,
            from,
            to,
            task,
        } => {
            let Some(item) = item(sku) else {
                return Some(format!("unknown item {sku}"));
            };
            if item.lot_tracked != lot.is_some() {
                return Some(format!("lot {lot:?} for {sku}"));
            }
            if int(qty).is_none_or(|n| n < 1) {
                return Some(format!("moved quantity {qty:?}"));
            }
            if bin(from).is_none() || bin(to).is_none() || from == to {
                return Some(format!("moved from {from} to {to}"));
            }
            if !fits(item.temperature, to) {
                return Some(format!("{sku} moved into {to}"));
            }
            if let Some(id) = task {
                let Some(t) = fake.tasks.iter().find(|t| {
                    t.id == *id && t.kind == TaskKind::Putaway && t.status == TaskStatus::Open
                }) else {
                    return Some(format!("no open putaway task {id}"));
                };
                if t.sku.as_deref() != Some(sku)
                    || t.location != *from
                    || (t.lot.is_some() && t.lot != *lot)
                {
                    return Some(format!("putaway {id} recorded for another sku, bin or lot"));
                }
            }
            None
        }
        Entry::Pick {
            task,
            qty,
            lot,
            short,
        } => {
            let Some(t) = fake.tasks.iter().find(|t| {
                t.id == *task && t.kind == TaskKind::Pick && t.status == TaskStatus::Open
            }) else {
                return Some(format!("no open pick task {task}"));
            };
            let remaining = t.qty - t.done_qty;
            if *qty < 0 || *qty > remaining {
                return Some(format!("picked {qty} where {remaining} remain"));
            }
            match short {
                None if *qty == 0 => return Some("a pick of nothing".into()),
                Some(r) if !SHORT_REASONS.contains(&r.as_str()) => {
                    return Some(format!("short reason {r:?}"));
                }
                _ => {}
            }
            let sku = t.sku.as_deref().unwrap_or_default();
            let item = item(sku)?;
            if *qty > 0 && item.lot_tracked {
                let Some(lot) = lot else {
                    return Some(format!("picked {sku} without a lot"));
                };
                let held = fake.stock.iter().find(|r| {
                    r.location == t.location
                        && r.sku == sku
                        && r.lot.as_deref() == Some(lot)
                        && r.qty > 0
                });
                let Some(row) = held else {
                    return Some(format!("picked lot {lot}, not in {}", t.location));
                };
                let expiry = known(sku, lot).flatten().or(row.expiry);
                if expiry.is_some_and(|e| e < today) {
                    return Some(format!("picked lot {lot}, expired {expiry:?}"));
                }
            }
            if !item.lot_tracked && lot != &t.lot {
                return Some(format!("lot {lot:?} on a pick of {sku}"));
            }
            None
        }
        Entry::Count {
            location,
            sku,
            lot,
            qty,
            task,
        } => {
            let Some(item) = item(sku) else {
                return Some(format!("unknown item {sku}"));
            };
            if bin(location).is_none() {
                return Some(format!("counted at unknown bin {location}"));
            }
            if item.lot_tracked != lot.is_some() {
                return Some(format!("lot {lot:?} for {sku}"));
            }
            if int(qty).is_none_or(|n| n < 0) {
                return Some(format!("counted {qty:?}"));
            }
            if let Some(id) = task
                && !fake.tasks.iter().any(|t| {
                    t.id == *id
                        && t.kind == TaskKind::Count
                        && t.status == TaskStatus::Open
                        && t.location == *location
                        && t.sku.as_deref().is_none_or(|s| s == sku)
                })
            {
                return Some(format!("count task {id} is not for {location} {sku}"));
            }
            None
        }
        Entry::Order { kind, order } => {
            let Some((_, status)) = fake.orders.iter().find(|(o, _)| o == order) else {
                return Some(format!("unknown order {order}"));
            };
            let open = fake
                .tasks
                .iter()
                .filter(|t| {
                    t.kind == TaskKind::Pick
                        && t.status == TaskStatus::Open
                        && t.order.as_deref() == Some(order)
                })
                .count();
            let ready = open == 0
                && match kind {
                    Kind::Pack => matches!(status, OrderStatus::Open | OrderStatus::Allocated),
                    Kind::Ship => *status == OrderStatus::Packed,
                    _ => false,
                };
            (!ready).then(|| format!("{kind} of {order} ({status}, {open} open picks)"))
        }
        Entry::Resolve { id, note } => (!fake.exceptions.iter().any(|e| e.id == *id)
            || note.trim().is_empty())
        .then(|| format!("resolved {id} with {note:?}")),
    }
}

/// A form the UI can draw and go on from: its step in range, every step
/// before it filled or skipped, the step itself empty, scans where a task
/// expects them.
fn form_ok(form: &Form) -> Result<(), String> {
    let n = form.fields.len();
    if form.step > n || (form.step == n && !form.submitted) {
        return Err(format!("step {} of {n}, not submitted", form.step));
    }
    for (i, f) in form.fields.iter().enumerate() {
        if i < form.step && f.value.is_none() && !f.skip {
            return Err(format!("{} left empty before step {}", f.name, form.step));
        }
        if i == form.step && f.value.is_some() && !form.submitted {
            return Err(format!("step {} already holds {:?}", f.name, f.value));
        }
        if let (Some(v), Some(want)) = (&f.value, &f.expect)
            && v != want
        {
            return Err(format!("{} holds {v}, the task wants {want}", f.name));
        }
    }
    if let Some(item) = &form.item
        && form.get("sku") != Some(item.sku.as_str())
    {
        return Err(format!("item {} but sku {:?}", item.sku, form.get("sku")));
    }
    if form.rejected && form.flow != Flow::Receive {
        return Err("rejected outside a receipt".into());
    }
    Ok(())
}

fn consistent(app: &App) -> Result<(), String> {
    if app.operator.is_none() {
        return Err("logged out without a LoggedOut".into());
    }
    match &app.screen {
        Screen::Form(f) | Screen::Login(f) => form_ok(f),
        Screen::ShortReason { form, selected } => {
            if *selected >= SHORT_REASONS.len() || form.flow != Flow::Pick {
                return Err(format!("short reason {selected} on {:?}", form.flow));
            }
            Ok(())
        }
        Screen::PutawayList { tasks, selected } if *selected > tasks.len() => {
            Err(format!("putaway row {selected} of {}", tasks.len()))
        }
        Screen::Exceptions { list, selected } if *selected >= list.len().max(1) => {
            Err(format!("exception {selected} of {}", list.len()))
        }
        Screen::Lookup { result: Some(r) } if r.scroll >= r.rows.len().max(1) => {
            Err(format!("scrolled to {} of {} rows", r.scroll, r.rows.len()))
        }
        _ => Ok(()),
    }
}

/// One sequence: the flow's menu key, then the acts. Each recording is
/// checked, answered (recorded, or refused by the recording's own checks
/// when the `refusals` bit for it is set) and counted.
struct Run<'a> {
    fake: &'a Fake,
    vocab: &'a Vocab,
    role: Role,
    app: App,
    refusals: u32,
    recordings: u32,
    trace: Vec<String>,
    last: String,
    recorded: Vec<Kind>,
    /// The flow's menu key: a scan that fits the menu.
    menu: &'static str,
}

impl Run<'_> {
    fn send(&mut self, msg: Msg) -> Result<(), String> {
        let effects = update(&mut self.app, msg, self.fake);
        consistent(&self.app)?;
        let records: Vec<&Entry> = effects
            .iter()
            .filter_map(|e| match e {
                Effect::Record(entry) => Some(entry),
                _ => None,
            })
            .collect();
        if records.len() > 1 {
            return Err(format!("{} recordings from one key", records.len()));
        }
        for entry in records {
            if let Some(why) = wrong(entry, self.role, self.fake, today()) {
                return Err(format!("recorded {entry:?}: {why}"));
            }
            self.recorded.push(entry.kind());
            let refused = self.refusals & (1 << (self.recordings % 32)) != 0;
            self.recordings += 1;
            let outcome = if refused {
                self.trace.push("<refused>".into());
                Err("refused by the recording".to_owned())
            } else {
                self.trace.push("<recorded>".into());
                Ok("recorded".to_owned())
            };
            update(&mut self.app, Msg::Recorded(outcome), self.fake);
            consistent(&self.app)?;
        }
        Ok(())
    }

    fn act(&mut self, act: &Act) -> Result<(), String> {
        let (msgs, shown) = match act {
            Act::Scan { fit, pick, case } | Act::Type { fit, pick, case } => {
                let text = self.vocab.text(self, *fit, *pick, *case);
                let enter = matches!(act, Act::Scan { .. });
                self.last = text.clone();
                let shown = if enter {
                    format!("scan {text:?}")
                } else {
                    format!("type {text:?}")
                };
                (typed(&text, enter), shown)
            }
            Act::Again => (typed(&self.last, true), format!("scan {:?}", self.last)),
            Act::Junk(s) => (typed(s, true), format!("scan {s:?}")),
            Act::Key(m) => (vec![m.clone()], format!("{m:?}")),
        };
        self.trace.push(shown);
        for m in msgs {
            self.send(m)?;
            if self.app.quit {
                break;
            }
        }
        Ok(())
    }
}

/// How a flow is entered from the menu.
struct Start {
    role: &'static [Role],
    keys: &'static [&'static str],
    /// The kinds this flow records; the test fails if 10,000 sequences
    /// record fewer than `min` of them (the generator stopped reaching the
    /// end of the flow).
    kinds: &'static [Kind],
    min: usize,
}

fn run_flow(start: Start) {
    let fake = Fake::rich();
    let vocab = Vocab::new(&fake);
    let counts: RefCell<BTreeMap<String, usize>> = RefCell::default();
    let mut runner = TestRunner::new(ProptestConfig {
        cases: CASES,
        failure_persistence: None,
        ..ProptestConfig::default()
    });
    let input = (
        proptest::collection::vec(act(), 0..=MAX_ACTS),
        any::<u32>().prop_flat_map(|a| any::<u32>().prop_map(move |b| a & b)),
        0..start.role.len(),
        0..start.keys.len(),
    );
    let began = std::time::Instant::now();
    let result = runner.run(&input, |(acts, refusals, role, keys)| {
        let role = start.role[role];
        let mut run = Run {
            fake: &fake,
            vocab: &vocab,
            role,
            app: app_as("1001", role),
            refusals,
            recordings: 0,
            trace: vec![format!("{role}")],
            last: String::new(),
            recorded: vec![],
            menu: &start.keys[keys][..1],
        };
        let go = |run: &mut Run| -> Result<(), String> {
            // The menu key, then scans.
            for (i, k) in start.keys[keys].split(' ').enumerate() {
                let msgs = typed(k, i > 0);
                run.trace.push(k.to_owned());
                for m in msgs {
                    run.send(m)?;
                }
            }
            for a in &acts {
                run.act(a)?;
                if run.app.quit {
                    break;
                }
            }
            Ok(())
        };
        let outcome = go(&mut run);
        let mut counts = counts.borrow_mut();
        for k in &run.recorded {
            *counts.entry(k.as_str().to_owned()).or_default() += 1;
        }
        outcome.map_err(|e| TestCaseError::fail(format!("{e}\n  after: {}", run.trace.join(", "))))
    });
    let counts = counts.into_inner();
    eprintln!(
        "{CASES} sequences from {:?} in {:.1?}: {counts:?}",
        start.keys,
        began.elapsed()
    );
    if let Err(e) = result {
        panic!("{e}");
    }
    let reached: usize = start
        .kinds
        .iter()
        .map(|k| counts.get(k.as_str()).copied().unwrap_or(0))
        .sum();
    assert!(
        reached >= start.min,
        "only {reached} recordings of {:?}: the sequences no longer reach the end of the flow",
        start.kinds
    );
}

#[test]
fn receive() {
    run_flow(Start {
        role: &[Role::Receiver, Role::Supervisor],
        keys: &["1"],
        kinds: &[Kind::Receive],
        min: 200,
    });
}

#[test]
fn putaway_task() {
    run_flow(Start {
        role: &[Role::Receiver, Role::Picker],
        keys: &["2 1", "2 2", "2 DOCK-01", "2 dock-02"],
        kinds: &[Kind::Move],
        min: 200,
    });
}

#[test]
fn putaway_free() {
    run_flow(Start {
        role: &[Role::Receiver, Role::Picker],
        keys: &["2 0"],
        kinds: &[Kind::Move],
        min: 200,
    });
}

#[test]
fn move_() {
    run_flow(Start {
        role: &[Role::Receiver, Role::Picker, Role::Supervisor],
        keys: &["3"],
        kinds: &[Kind::Move],
        min: 200,
    });
}

#[test]
fn pick() {
    run_flow(Start {
        role: &[Role::Picker, Role::Supervisor],
        keys: &["4"],
        kinds: &[Kind::Pick, Kind::ShortPick],
        min: 200,
    });
}

#[test]
fn count() {
    run_flow(Start {
        role: &[Role::Receiver, Role::Picker],
        keys: &["6"],
        kinds: &[Kind::Count],
        min: 200,
    });
}

#[test]
fn pack_ship() {
    run_flow(Start {
        role: &[Role::Picker, Role::Supervisor],
        keys: &["7"],
        kinds: &[Kind::Pack, Kind::Ship],
        min: 200,
    });
}

// The sequences these properties found, kept as plain tests.

fn recorded(effects: &[Effect]) -> Vec<Entry> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Record(entry) => Some(entry.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn a_receipt_rejected_by_its_expiry_is_decided_again_when_the_expiry_is_retyped() {
    use crate::tui::testing::{scan, send};
    let look = Fake::rich();
    let mut app = app_as("2001", Role::Receiver);
    send(&mut app, &look, [Msg::Char('1')]);
    send(&mut app, &look, scan("ASN-1003"));
    send(&mut app, &look, scan("SKU-10048"));
    send(&mut app, &look, scan("L5"));
    // Yesterday: expired, the quantity will be rejected; the operator goes
    // back and types the date right.
    send(&mut app, &look, scan("2026-11-22"));
    send(&mut app, &look, [Msg::Enter, Msg::Escape]);
    send(&mut app, &look, scan("270131"));
    send(&mut app, &look, scan("5"));
    let fx = send(&mut app, &look, scan("DOCK-01"));
    assert_eq!(
        recorded(&fx),
        vec![Entry::Receive {
            asn: "ASN-1003".into(),
            sku: "SKU-10048".into(),
            qty: "5".into(),
            lot: Some("L5".into()),
            expiry: Some("2027-01-31".into()),
            to: "DOCK-01".into(),
            damaged: None,
        }]
    );
}

#[test]
fn a_label_date_does_not_revive_a_lot_known_expired_at_pick() {
    use crate::tui::testing::{scan, send};
    let look = Fake::rich();
    let mut app = app_as("1007", Role::Picker);
    send(&mut app, &look, [Msg::Char('4')]);
    send(&mut app, &look, scan("C-01-03"));
    // L2601X expired on 2026-11-01; its label says 2027-01-31.
    let fx = send(
        &mut app,
        &look,
        scan("(01)05790000100378(17)270131(10)L2601X"),
    );
    assert!(recorded(&fx).is_empty());
    let err = app.error.as_ref().map(|e| e.reason.clone());
    assert!(
        err.as_deref()
            .is_some_and(|e| e.contains("L2601X EXPIRED on 2026-11-01")),
        "{err:?}"
    );
}

#[test]
fn a_label_date_on_an_item_without_expiry_does_not_reject_the_receipt() {
    use crate::tui::testing::{scan, send};
    let look = Fake::rich();
    let mut app = app_as("2001", Role::Receiver);
    send(&mut app, &look, [Msg::Char('1')]);
    send(&mut app, &look, scan("ASN-1003"));
    // Pasta is tracked neither by lot nor by expiry: its label's date is
    // not recorded, so it cannot be the reason of a rejection.
    send(
        &mut app,
        &look,
        scan("(01)05790000100019(17)261031(10)L9999X"),
    );
    assert!(app.error.is_none(), "{:?}", app.error);
    send(&mut app, &look, scan("5"));
    let fx = send(&mut app, &look, scan("DOCK-01"));
    assert!(matches!(
        &recorded(&fx)[..],
        [Entry::Receive { qty, damaged: None, lot: None, .. }] if qty == "5"
    ));
}

#[test]
fn a_short_pick_takes_no_more_than_the_task_asks_for() {
    use crate::tui::testing::{scan, send};
    let look = Fake::rich();
    let mut app = app_as("1007", Role::Picker);
    send(&mut app, &look, [Msg::Char('4')]);
    send(&mut app, &look, scan("C-01-03"));
    send(&mut app, &look, scan("(01)05790000100378(10)L2631H"));
    let fx = send(
        &mut app,
        &look,
        [Msg::Char('1'), Msg::Char('6'), Msg::ShortPick],
    );
    assert!(recorded(&fx).is_empty());
    assert!(
        app.error
            .as_ref()
            .is_some_and(|e| e.reason.contains("pick at most 12")),
        "{:?}",
        app.error
    );
    let fx = send(&mut app, &look, [Msg::Enter, Msg::Char('1')]);
    assert!(recorded(&fx).is_empty(), "{fx:?}");
}
