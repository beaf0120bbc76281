//! The warehouse rules, as pure functions: `(what the server knows, one
//! operation) -> effects`, or a refusal when the operation cannot be a fact.
//!
//! Nothing here touches a database. A fact that contradicts the server's view
//! (stock moved out of an empty bin, a pick for a cancelled order) is applied
//! all the same and raises an exception; only what cannot be a fact is
//! refused.

pub mod allocation;
pub mod counting;
pub mod desk;
pub mod effects;
pub mod import;
pub mod operators;
pub mod orders;
pub mod putaway;
pub mod receiving;
pub mod view;

use std::convert::Infallible;

use chrono::{DateTime, NaiveDate, Utc};
use pyck_vocab::operation::{Operation, Payload};
use pyck_vocab::records::{
    ExceptionKind, ExceptionRecord, ExceptionStatus, OrderStatus, TaskKind, TaskRecord, TaskStatus,
    Temperature,
};
use pyck_vocab::refusal::{Refusal, RefusalCode};
use pyck_vocab::rules::{LotProblem, Tracking, lot_problem};
use uuid::Uuid;

pub use effects::{AsnClosure, Effects, Movement, NewException};
pub use view::{BatchView, ItemFacts, Needs, OperatorRow, Settled, StockKey, StoredLine, staging};

/// Applies one valid operation of a known operator to the view, returning
/// what it changed. On refusal the view is left untouched.
pub fn apply(view: &mut BatchView, op: &Operation) -> Result<Effects, Refusal> {
    check_references(view, &op.payload)?;
    let mut fx = Effects::default();
    let mut ctx = Ctx {
        view,
        fx: &mut fx,
        op: op.id,
        at: op.at,
    };
    match &op.payload {
        Payload::Receive(r) => {
            let lot = ctx.lot(&r.sku, r.lot.as_deref(), r.expiry)?;
            if r.qty > 0 {
                ctx.change(StockKey::new(&r.to, &r.sku, lot), r.qty);
                if ctx.view.locations.get(&r.to) == Some(&Temperature::Dock) {
                    ctx.putaway_task(&r.sku, lot, &r.to, r.qty, None);
                }
            }
            ctx.receive_on_asn(r, lot);
        }
        Payload::Putaway(m) | Payload::Move(m) => {
            let task = match &m.task {
                Some(id) => Some(ctx.task(id, TaskKind::Putaway)?),
                None => None,
            };
            let lot = ctx.lot(&m.sku, m.lot.as_deref(), None)?;
            ctx.take(StockKey::new(&m.from, &m.sku, lot), m.qty);
            ctx.change(StockKey::new(&m.to, &m.sku, lot), m.qty);
            ctx.check_temperature(&m.sku, lot, &m.to);
            if let Some(mut t) = task {
                t.done_qty += m.qty;
                if t.done_qty >= t.qty {
                    t.status = TaskStatus::Done;
                }
                ctx.save_task(t);
            }
        }
        Payload::Pick(p) => {
            let mut task = ctx.task(&p.task, TaskKind::Pick)?;
            let lot = ctx.lot(&p.sku, p.lot.as_deref(), None)?;
            ctx.take(StockKey::new(&p.location, &p.sku, lot), p.qty);
            ctx.change(StockKey::new(&staging(&p.order), &p.sku, lot), p.qty);
            ctx.check_fefo(&task, &p.sku, lot, &p.order);
            task.done_qty += p.qty;
            // A task cancelled under the picker stays cancelled: what was
            // picked on it goes back to stock (below).
            if task.status != TaskStatus::Cancelled && task.done_qty >= task.qty {
                task.status = TaskStatus::Done;
            }
            ctx.save_task(task);
            ctx.picked_for_closed_order(&p.order, &p.sku, lot, &p.location, p.qty);
        }
        Payload::ShortPick(p) => {
            let mut task = ctx.task(&p.task, TaskKind::Pick)?;
            let lot = ctx.lot(&p.sku, p.lot.as_deref(), None)?;
            if p.qty > 0 {
                ctx.take(StockKey::new(&p.location, &p.sku, lot), p.qty);
                ctx.change(StockKey::new(&staging(&p.order), &p.sku, lot), p.qty);
            }
            // A task already short had its missing units re-allocated the
            // first time; a second short pick on it must not reserve them again.
            let already_short = task.status == TaskStatus::Short;
            // Nor is anything re-allocated for a task cancelled under the
            // picker, or for an order that shipped or was cancelled.
            let cancelled = task.status == TaskStatus::Cancelled;
            let closed = ctx.order_closed(&p.order);
            task.done_qty += p.qty;
            if !cancelled {
                task.status = TaskStatus::Short;
            }
            let missing = if already_short || cancelled || closed {
                0
            } else {
                (task.qty - task.done_qty).max(0)
            };
            ctx.save_task(task.clone());
            // What the task found in all: earlier picks on it count.
            ctx.raise(
                ExceptionKind::ShortPick,
                format!(
                    "short pick on order {} (task {}): {} of {} {} found at {} ({})",
                    p.order, p.task, task.done_qty, task.qty, p.sku, p.location, p.reason
                ),
                Refs {
                    order: Some(&p.order),
                    location: Some(&p.location),
                    sku: Some(&p.sku),
                    lot,
                    ..Refs::default()
                },
            );
            ctx.reallocate(&task, missing);
            if !already_short {
                ctx.count_task(&p.location, &p.sku);
            }
            ctx.picked_for_closed_order(&p.order, &p.sku, lot, &p.location, p.qty);
        }
        Payload::Count(c) => {
            let task = match &c.task {
                Some(id) => Some(ctx.task(id, TaskKind::Count)?),
                None => None,
            };
            let lot = ctx.lot(&c.sku, c.lot.as_deref(), None)?;
            let key = StockKey::new(&c.location, &c.sku, lot);
            let expected = ctx.view.stock.get(&key).copied().unwrap_or(0);
            match counting::outcome(c.qty, expected, ctx.view.settings.count_threshold) {
                counting::CountOutcome::Set => ctx.set(key, c.qty),
                counting::CountOutcome::Exception { difference } => ctx.raise(
                    ExceptionKind::CountDifference,
                    format!(
                        "count of {}{} at {}: {} counted, {} expected ({difference:+}); stock left unchanged",
                        c.sku,
                        lot.map(|l| format!(" lot {l}")).unwrap_or_default(),
                        c.location,
                        c.qty,
                        expected
                    ),
                    Refs {
                        location: Some(&c.location),
                        sku: Some(&c.sku),
                        lot,
                        ..Refs::default()
                    },
                ),
            }
            if let Some(mut t) = task {
                t.status = TaskStatus::Done;
                t.done_qty = c.qty;
                ctx.save_task(t);
            }
        }
        Payload::Adjust(a) => {
            let lot = ctx.lot(&a.sku, a.lot.as_deref(), None)?;
            ctx.set(StockKey::new(&a.location, &a.sku, lot), a.qty);
        }
        Payload::CloseAsn(c) => {
            let mut closing = Vec::new();
            if let Some(lines) = ctx.view.asns.get_mut(&c.asn) {
                for line in lines.iter_mut().filter(|l| !l.closed) {
                    line.closed = true;
                    closing.push(line.clone());
                }
            }
            ctx.fx
                .asn_closures
                .extend(closing.iter().map(|l| effects::AsnClosure {
                    asn: l.asn.clone(),
                    line: l.line,
                    received_qty: l.received_qty,
                    damaged_qty: l.damaged_qty,
                }));
            for d in receiving::close(&closing) {
                ctx.raise(
                    d.kind,
                    d.message,
                    Refs {
                        asn: Some(&c.asn),
                        sku: Some(&d.sku),
                        ..Refs::default()
                    },
                );
            }
            ctx.fx.asn_lines.extend(closing);
        }
        Payload::Pack(o) => ctx.pack(&o.order),
        Payload::Ship(o) => ctx.ship(&o.order),
        Payload::ResolveException(r) => {
            let Some(mut ex) = ctx.view.exceptions.get(&r.exception).cloned() else {
                return Err(Refusal::new(
                    RefusalCode::UnknownException,
                    format!("no exception {} in this warehouse", r.exception),
                ));
            };
            ex.status = ExceptionStatus::Resolved;
            ctx.view.exceptions.insert(r.exception.clone(), ex.clone());
            ctx.fx.resolved.push((ex, r.note.clone()));
        }
    }
    Ok(fx)
}

/// Refuses operations naming things the server does not know.
fn check_references(view: &BatchView, payload: &Payload) -> Result<(), Refusal> {
    let item = |sku: &str| {
        if view.items.contains_key(sku) {
            Ok(())
        } else {
            Err(Refusal::new(
                RefusalCode::UnknownItem,
                format!("no item with SKU {sku}"),
            ))
        }
    };
    let location = |code: &str| {
        if view.locations.contains_key(code) {
            Ok(())
        } else {
            Err(Refusal::new(
                RefusalCode::UnknownLocation,
                format!("no location {code} in this warehouse"),
            ))
        }
    };
    let order = |order: &str| {
        if view.orders.contains_key(order) {
            Ok(())
        } else {
            Err(Refusal::new(
                RefusalCode::UnknownOrder,
                format!("no order {order} in this warehouse"),
            ))
        }
    };
    let asn = |asn: &str| {
        if view.asns.contains_key(asn) {
            Ok(())
        } else {
            Err(Refusal::new(
                RefusalCode::UnknownAsn,
                format!("no ASN {asn} in this warehouse"),
            ))
        }
    };
    match payload {
        Payload::Receive(r) => {
            asn(&r.asn)?;
            item(&r.sku)?;
            location(&r.to)
        }
        Payload::Putaway(m) | Payload::Move(m) => {
            item(&m.sku)?;
            location(&m.from)?;
            location(&m.to)
        }
        Payload::Pick(p) => {
            order(&p.order)?;
            item(&p.sku)?;
            location(&p.location)
        }
        Payload::ShortPick(p) => {
            order(&p.order)?;
            item(&p.sku)?;
            location(&p.location)
        }
        Payload::Count(c) => {
            item(&c.sku)?;
            location(&c.location)
        }
        Payload::Adjust(a) => {
            item(&a.sku)?;
            location(&a.location)
        }
        Payload::CloseAsn(c) => asn(&c.asn),
        Payload::Pack(o) | Payload::Ship(o) => order(&o.order),
        Payload::ResolveException(_) => Ok(()),
    }
}

#[derive(Default)]
struct Refs<'a> {
    order: Option<&'a str>,
    asn: Option<&'a str>,
    location: Option<&'a str>,
    sku: Option<&'a str>,
    lot: Option<&'a str>,
}

/// The state threaded through one operation's application.
struct Ctx<'a> {
    view: &'a mut BatchView,
    fx: &'a mut Effects,
    op: Uuid,
    at: DateTime<Utc>,
}

impl Ctx<'_> {
    /// The lot to book against, by the lot rule (`rules::lot_problem`): a
    /// missing lot, or a new lot's missing expiry, is refused; a lot or
    /// expiry the item does not track is left off, since a stale device's
    /// goods did move.
    fn lot<'l>(
        &mut self,
        sku: &str,
        lot: Option<&'l str>,
        expiry: Option<NaiveDate>,
    ) -> Result<Option<&'l str>, Refusal> {
        let Some(facts) = self.view.items.get(sku).copied() else {
            return Err(Refusal::new(
                RefusalCode::UnknownItem,
                format!("no item with SKU {sku}"),
            ));
        };
        let tracking = Tracking {
            lots: facts.lot_tracked,
            expiry: facts.expiry_tracked,
        };
        let lots = &self.view.lots;
        let is_new = |l: &str| Ok(!lots.contains_key(&(sku.to_owned(), l.to_owned())));
        let refuse = |code, problem: LotProblem| Err(Refusal::new(code, problem.message(sku, lot)));
        match lot_problem::<Infallible>(tracking, lot, expiry.is_some(), is_new) {
            Ok(Some(p @ LotProblem::LotMissing)) => return refuse(RefusalCode::LotRequired, p),
            Ok(Some(p @ LotProblem::ExpiryMissing)) => {
                return refuse(RefusalCode::ExpiryRequired, p);
            }
            Ok(Some(LotProblem::LotUntracked | LotProblem::ExpiryUntracked) | None) => {}
        }
        let Some(lot) = lot.filter(|_| tracking.lots) else {
            return Ok(None);
        };
        let key = (sku.to_owned(), lot.to_owned());
        if let std::collections::hash_map::Entry::Vacant(slot) = self.view.lots.entry(key) {
            let expiry = expiry.filter(|_| tracking.expiry);
            slot.insert(expiry);
            self.fx
                .new_lots
                .push((sku.to_owned(), lot.to_owned(), expiry));
        }
        Ok(Some(lot))
    }

    /// A task the operation names, of the kind it must be.
    fn task(&self, id: &str, kind: TaskKind) -> Result<TaskRecord, Refusal> {
        match self.view.tasks.get(id) {
            Some(t) if t.kind == kind => Ok(t.clone()),
            _ => Err(Refusal::new(
                RefusalCode::UnknownTask,
                format!("no {kind:?} task {id} in this warehouse").to_lowercase(),
            )),
        }
    }

    fn save_task(&mut self, task: TaskRecord) {
        self.view.tasks.insert(task.id.clone(), task.clone());
        self.fx.tasks.retain(|t| t.id != task.id);
        self.fx.tasks.push(task);
    }

    fn new_task_id(&mut self) -> (String, u64) {
        let n = self.view.next_task;
        self.view.next_task += 1;
        (format!("T{n}"), n)
    }

    fn zone(&self, location: &str) -> String {
        self.view.zones.get(location).cloned().unwrap_or_default()
    }

    /// A putaway task carrying goods from `from` to a bin of the item's
    /// temperature (or to `to` when given).
    fn putaway_task(
        &mut self,
        sku: &str,
        lot: Option<&str>,
        from: &str,
        qty: i64,
        to: Option<&str>,
    ) {
        let temperature = self.view.items.get(sku).map(|i| i.temperature);
        let suggestion = to.map(str::to_owned).or_else(|| {
            temperature.and_then(|t| {
                putaway::suggest(sku, t, self.view.bins.get(&t).map_or(&[][..], |b| &b[..]))
            })
        });
        let (id, n) = self.new_task_id();
        let task = TaskRecord {
            id,
            kind: TaskKind::Putaway,
            status: TaskStatus::Open,
            order: None,
            line: None,
            sku: Some(sku.to_owned()),
            lot: lot.map(str::to_owned),
            location: from.to_owned(),
            to: suggestion,
            qty,
            done_qty: 0,
            zone: self.zone(from),
            sequence: n,
        };
        self.save_task(task);
    }

    /// A blind count task at `location` (after a short pick found less).
    fn count_task(&mut self, location: &str, sku: &str) {
        let (id, n) = self.new_task_id();
        let task = TaskRecord {
            id,
            kind: TaskKind::Count,
            status: TaskStatus::Open,
            order: None,
            line: None,
            sku: Some(sku.to_owned()),
            lot: None,
            location: location.to_owned(),
            to: None,
            qty: 0,
            done_qty: 0,
            zone: self.zone(location),
            sequence: n,
        };
        self.save_task(task);
    }

    /// After a short pick: new pick tasks for what is still missing, from
    /// other stock of the item (FEFO), never from the bin that came up short.
    fn reallocate(&mut self, short: &TaskRecord, missing: i64) {
        let Some(sku) = short.sku.clone() else { return };
        if missing == 0 {
            return;
        }
        let expiry_tracked = self.view.items.get(&sku).is_some_and(|i| i.expiry_tracked);
        let candidates: Vec<allocation::Candidate> = self
            .view
            .candidates
            .get(&sku)
            .map(|c| {
                c.iter()
                    .filter(|c| c.location != short.location)
                    .cloned()
                    .collect()
            })
            .unwrap_or_default();
        let found = allocation::allocate(
            missing,
            expiry_tracked,
            &candidates,
            self.view.today,
            self.view.settings.fefo,
        );
        if let (Some(w), crate::settings::Fefo::Warn) = (&found.waiting, self.view.settings.fefo) {
            let order = short.order.clone().unwrap_or_default();
            self.raise(
                ExceptionKind::FefoBreach,
                fefo_waiting_message(&order, &sku, w),
                Refs {
                    order: Some(&order),
                    sku: Some(&sku),
                    lot: w.lot.as_deref(),
                    location: Some(&w.location),
                    ..Refs::default()
                },
            );
        }
        for pick in found.picks {
            // What this new task reserves is no longer available to the next.
            if let Some(list) = self.view.candidates.get_mut(&sku)
                && let Some(c) = list
                    .iter_mut()
                    .find(|c| c.location == pick.location && c.lot == pick.lot)
            {
                c.available -= pick.qty;
            }
            let (id, n) = self.new_task_id();
            let task = TaskRecord {
                id,
                kind: TaskKind::Pick,
                status: TaskStatus::Open,
                order: short.order.clone(),
                line: short.line,
                sku: Some(sku.clone()),
                lot: pick.lot,
                location: pick.location,
                to: None,
                qty: pick.qty,
                done_qty: 0,
                zone: pick.zone,
                sequence: n,
            };
            self.save_task(task);
        }
    }

    /// A different lot than allocated is fine unless it expires later than
    /// the allocated one (first expiry, first out).
    fn check_fefo(&mut self, task: &TaskRecord, sku: &str, lot: Option<&str>, order: &str) {
        if task.lot.as_deref() == lot {
            return;
        }
        let expiry_of = |l: Option<&str>| {
            l.and_then(|l| {
                self.view
                    .lots
                    .get(&(sku.to_owned(), l.to_owned()))
                    .copied()
                    .flatten()
            })
        };
        let (picked, allocated) = (expiry_of(lot), expiry_of(task.lot.as_deref()));
        if allocation::breaks_fefo(picked, allocated) {
            self.raise(
                ExceptionKind::FefoBreach,
                format!(
                    "order {order}: picked {sku} lot {} (expires {}) instead of lot {} (expires {})",
                    lot.unwrap_or("-"),
                    picked.map_or("-".into(), |d| d.to_string()),
                    task.lot.as_deref().unwrap_or("-"),
                    allocated.map_or("-".into(), |d| d.to_string()),
                ),
                Refs {
                    order: Some(order),
                    sku: Some(sku),
                    lot,
                    location: Some(&task.location),
                    ..Refs::default()
                },
            );
        }
    }

    /// Whether an order has left the way of picking: shipped or cancelled.
    fn order_closed(&self, order: &str) -> bool {
        self.view.orders.get(order).is_some_and(|s| s.is_closed())
    }

    /// The order's pick tasks still open, and how many pick tasks it has.
    fn open_picks(&self, order: &str) -> (Vec<TaskRecord>, usize) {
        let mut picks: Vec<&TaskRecord> = self
            .view
            .tasks
            .values()
            .filter(|t| t.kind == TaskKind::Pick && t.order.as_deref() == Some(order))
            .collect();
        picks.sort_by_key(|t| t.sequence);
        let total = picks.len();
        let open = picks
            .into_iter()
            .filter(|t| t.status == TaskStatus::Open)
            .cloned()
            .collect();
        (open, total)
    }

    /// A pack is a fact: the order is `packed` whatever its picks say, but
    /// packed with picks open raises `packed_with_open_picks`, and the
    /// workflow's pick step waits for it (docs/WORKFLOW.md). A pack arriving
    /// after the order shipped or was cancelled changes nothing.
    fn pack(&mut self, order: &str) {
        if self.order_closed(order) {
            return;
        }
        let (open, total) = self.open_picks(order);
        if !open.is_empty() {
            self.raise(
                ExceptionKind::PackedWithOpenPicks,
                format!(
                    "order {order} packed with {} of {total} picks open; its workflow waits until they are picked or this is resolved",
                    open.len()
                ),
                Refs {
                    order: Some(order),
                    ..Refs::default()
                },
            );
        }
        self.order_status(order, OrderStatus::Packed);
    }

    /// A ship takes everything staged for the order out of the warehouse,
    /// through the ledger, and cancels what is left open for it: its open
    /// picks (no longer handed to pickers) and open tasks out of its staging
    /// location (nothing is left there to move). Shipped unpacked or with
    /// picks open, it raises for a supervisor; a second ship changes
    /// nothing.
    fn ship(&mut self, order: &str) {
        let status = self.view.orders.get(order).copied();
        if status == Some(OrderStatus::Shipped) {
            return;
        }
        let stage = staging(order);
        let mut staged: Vec<(StockKey, i64)> = self
            .view
            .stock
            .iter()
            .filter(|(k, q)| k.location == stage && **q != 0)
            .map(|(k, q)| (k.clone(), *q))
            .collect();
        staged.sort();
        let units: i64 = staged.iter().map(|(_, q)| q).sum();
        let (open, total) = self.open_picks(order);
        let refs = || Refs {
            order: Some(order),
            ..Refs::default()
        };
        if status == Some(OrderStatus::Cancelled) {
            self.raise(
                ExceptionKind::CancelledOrderShipped,
                format!(
                    "order {order} was cancelled, but a ship was recorded: {units} staged units left with it; tell the customer or call the goods back"
                ),
                refs(),
            );
        } else {
            if status != Some(OrderStatus::Packed) {
                self.raise(
                    ExceptionKind::ShippedUnpacked,
                    format!(
                        "order {order} shipped without being packed; its workflow waits until this is resolved"
                    ),
                    refs(),
                );
            }
            if !open.is_empty() {
                let missing: i64 = open.iter().map(|t| (t.qty - t.done_qty).max(0)).sum();
                self.raise(
                    ExceptionKind::PackedWithOpenPicks,
                    format!(
                        "order {order} shipped with {} of {total} picks open: they are cancelled and their {missing} units did not ship; its workflow waits until this is resolved",
                        open.len()
                    ),
                    refs(),
                );
            }
        }
        for mut t in open {
            t.status = TaskStatus::Cancelled;
            self.save_task(t);
        }
        let mut returns: Vec<TaskRecord> = self
            .view
            .tasks
            .values()
            .filter(|t| t.location == stage && t.status == TaskStatus::Open)
            .cloned()
            .collect();
        returns.sort_by_key(|t| t.sequence);
        for mut t in returns {
            t.status = TaskStatus::Cancelled;
            self.save_task(t);
        }
        for (key, qty) in staged {
            self.change(key, -qty);
        }
        if status != Some(OrderStatus::Cancelled) {
            self.order_status(order, OrderStatus::Shipped);
        }
    }

    /// A pick for an order cancelled, or shipped, while the picker was
    /// offline: it happened, so it stands; the goods wait at the order's
    /// staging location with a task to take them back to the bin.
    fn picked_for_closed_order(
        &mut self,
        order: &str,
        sku: &str,
        lot: Option<&str>,
        location: &str,
        qty: i64,
    ) {
        let (kind, message) = match self.view.orders.get(order) {
            _ if qty == 0 => return,
            Some(OrderStatus::Cancelled) => (
                ExceptionKind::CancelledOrderPicked,
                format!(
                    "{qty} of {sku} picked from {location} for order {order}, which was cancelled; return them to stock"
                ),
            ),
            Some(OrderStatus::Shipped) => (
                ExceptionKind::PickedAfterShip,
                format!(
                    "{qty} of {sku} picked from {location} for order {order} after it shipped; they wait at {}: return them to stock (or, if they left with the shipment, count {})",
                    staging(order),
                    staging(order)
                ),
            ),
            _ => return,
        };
        self.raise(
            kind,
            message,
            Refs {
                order: Some(order),
                sku: Some(sku),
                lot,
                location: Some(location),
                ..Refs::default()
            },
        );
        self.putaway_task(sku, lot, &staging(order), qty, Some(location));
    }

    fn check_temperature(&mut self, sku: &str, lot: Option<&str>, to: &str) {
        let (Some(item), Some(bin)) = (self.view.items.get(sku), self.view.locations.get(to))
        else {
            return;
        };
        if putaway::temperature_breach(item.temperature, *bin) {
            let message = format!(
                "{} goods ({sku}) put into {to}, {} {} location",
                item.temperature.as_str(),
                article(bin.as_str()),
                bin.as_str()
            );
            self.raise(
                ExceptionKind::TemperatureBreach,
                message,
                Refs {
                    sku: Some(sku),
                    lot,
                    location: Some(to),
                    ..Refs::default()
                },
            );
        }
    }

    fn order_status(&mut self, order: &str, status: OrderStatus) {
        self.view.orders.insert(order.to_owned(), status);
        self.fx.orders.retain(|(o, _)| o != order);
        self.fx.orders.push((order.to_owned(), status));
    }

    /// Adds `delta` to a stock key and writes the movement.
    fn change(&mut self, key: StockKey, delta: i64) {
        if delta == 0 {
            return;
        }
        let line = self.fx.movements.len() as u32 + 1;
        match self.view.stock.get_mut(&key) {
            Some(qty) => *qty += delta,
            None => {
                self.view.stock.insert(key.clone(), delta);
            }
        }
        self.fx.movements.push(Movement {
            op: self.op,
            line,
            key,
            delta,
            at: self.at,
        });
    }

    /// Takes `qty` out of a location; taking more than the server thinks is
    /// there still happened, and is an exception.
    fn take(&mut self, key: StockKey, qty: i64) {
        let before = self.view.stock.get(&key).copied().unwrap_or(0);
        if before < qty {
            let message = format!(
                "{qty} of {}{} taken from {} where the server had {before}",
                key.sku,
                key.lot().map(|l| format!(" lot {l}")).unwrap_or_default(),
                key.location,
            );
            let (location, sku, lot) = (key.location.clone(), key.sku.clone(), key.lot.clone());
            self.raise(
                ExceptionKind::NegativeStock,
                message,
                Refs {
                    location: Some(&location),
                    sku: Some(&sku),
                    lot: (!lot.is_empty()).then_some(lot.as_str()),
                    ..Refs::default()
                },
            );
        }
        self.change(key, -qty);
    }

    /// Sets a key to a counted or adjusted quantity: a movement of the
    /// difference.
    fn set(&mut self, key: StockKey, qty: i64) {
        let before = self.view.stock.get(&key).copied().unwrap_or(0);
        self.change(key, qty - before);
    }

    fn receive_on_asn(&mut self, r: &pyck_vocab::operation::Receive, lot: Option<&str>) {
        let (asn, sku, qty, to) = (r.asn.as_str(), r.sku.as_str(), r.qty, r.to.as_str());
        let lines = self.view.asns.entry(asn.to_owned()).or_default();
        let Some(line) = lines.iter_mut().find(|l| l.sku == sku) else {
            self.raise(
                ExceptionKind::UnexpectedItem,
                format!(
                    "{qty} of {sku} received into {to} on ASN {asn}, which does not list {sku}"
                ),
                Refs {
                    asn: Some(asn),
                    sku: Some(sku),
                    location: Some(to),
                    ..Refs::default()
                },
            );
            return;
        };
        line.received_qty += qty;
        line.damaged_qty += r.damaged;
        let line = line.clone();
        self.fx.asn_lines.push(line.clone());
        if !line.closed {
            return;
        }
        // A receipt after the close is a fact (the goods are here), and the
        // close's exceptions must say what arrived in the end.
        let damaged = if r.damaged > 0 {
            format!(" (+{} damaged)", r.damaged)
        } else {
            String::new()
        };
        self.raise(
            ExceptionKind::ReceiptOnClosedAsn,
            format!(
                "{qty}{damaged} of {sku} received into {to} on ASN {asn} line {}, which was already closed",
                line.line
            ),
            Refs {
                asn: Some(asn),
                sku: Some(sku),
                location: Some(to),
                lot,
                ..Refs::default()
            },
        );
        let open: Vec<ExceptionRecord> = self
            .view
            .exceptions
            .values()
            .filter(|e| {
                e.status == ExceptionStatus::Open
                    && e.asn.as_deref() == Some(asn)
                    && e.sku.as_deref() == Some(sku)
            })
            .cloned()
            .collect();
        for change in receiving::reconcile(&line, &open) {
            match change {
                receiving::Reconcile::Raise(d) => self.raise(
                    d.kind,
                    d.message,
                    Refs {
                        asn: Some(asn),
                        sku: Some(&d.sku),
                        ..Refs::default()
                    },
                ),
                receiving::Reconcile::Resolve { id, note } => self.resolve(&id, note),
            }
        }
    }

    /// Resolves an exception the view holds, with a note.
    fn resolve(&mut self, id: &str, note: String) {
        let Some(ex) = self.view.exceptions.get_mut(id) else {
            return;
        };
        ex.status = ExceptionStatus::Resolved;
        let ex = ex.clone();
        self.fx.resolved.push((ex, note));
    }

    fn raise(&mut self, kind: ExceptionKind, message: String, refs: Refs<'_>) {
        let own = |s: Option<&str>| s.map(str::to_owned);
        let ex = NewException {
            id: Uuid::now_v7(),
            op: Some(self.op),
            kind,
            message,
            order: own(refs.order),
            asn: own(refs.asn),
            location: own(refs.location),
            sku: own(refs.sku),
            lot: own(refs.lot),
            at: self.at,
        };
        // Later operations of the batch see it (a late receipt updates it).
        let record = ex.record();
        self.view.exceptions.insert(record.id.clone(), record);
        self.fx.exceptions.push(ex);
    }
}

/// "a" or "an" before a word, by its first letter.
fn article(word: &str) -> &'static str {
    match word.chars().next() {
        Some('a' | 'e' | 'i' | 'o' | 'u' | 'A' | 'E' | 'I' | 'O' | 'U') => "an",
        _ => "a",
    }
}

#[cfg(test)]
mod tests;

/// The `fefo_breach` exception of an order allocation that took a later lot
/// while an earlier one waited at a dock (both backends raise it).
pub fn fefo_waiting_exception(
    order: &str,
    sku: &str,
    w: &allocation::Waiting,
) -> pyck_vocab::records::ExceptionRecord {
    pyck_vocab::records::ExceptionRecord {
        id: Uuid::now_v7().to_string(),
        kind: ExceptionKind::FefoBreach,
        status: ExceptionStatus::Open,
        message: fefo_waiting_message(order, sku, w),
        order: Some(order.to_owned()),
        asn: None,
        location: Some(w.location.clone()),
        sku: Some(sku.to_owned()),
        lot: w.lot.clone(),
        raised_at: chrono::Utc::now(),
    }
}

/// The `fefo_breach` message of an allocation that took a later lot while
/// an earlier one waited at a dock.
pub fn fefo_waiting_message(order: &str, sku: &str, w: &allocation::Waiting) -> String {
    format!(
        "order {order}: {sku} allocated from a lot expiring after lot {} (expires {}), which waits at {}; put it away first",
        w.lot.as_deref().unwrap_or("-"),
        w.expiry,
        w.location
    )
}
