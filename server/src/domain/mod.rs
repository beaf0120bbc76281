//! The warehouse rules, as pure functions: `(what the server knows, one
//! operation) -> effects`, or a refusal when the operation cannot be a fact.
//!
//! Nothing here touches a database. A fact that contradicts the server's view
//! (stock moved out of an empty bin) is applied all the same and raises an
//! exception; only what cannot be a fact is refused.

pub mod allocation;
pub mod counting;
pub mod effects;
pub mod putaway;
pub mod receiving;
pub mod view;

use chrono::{DateTime, NaiveDate, Utc};
use pyck_sync::operation::{Operation, Payload};
use pyck_sync::refusal::{Refusal, RefusalCode};
use uuid::Uuid;

pub use effects::{Effects, Movement, NewException};
pub use view::{BatchView, ItemFacts, Needs, Settled, StockKey};

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
            }
            ctx.receive_on_asn(&r.asn, &r.sku, r.qty, r.damaged, &r.to);
        }
        Payload::Putaway(m) | Payload::Move(m) => {
            let lot = ctx.lot(&m.sku, m.lot.as_deref(), None)?;
            ctx.take(StockKey::new(&m.from, &m.sku, lot), m.qty);
            ctx.change(StockKey::new(&m.to, &m.sku, lot), m.qty);
        }
        Payload::Pick(p) => {
            let lot = ctx.lot(&p.sku, p.lot.as_deref(), None)?;
            ctx.take(StockKey::new(&p.location, &p.sku, lot), p.qty);
        }
        Payload::ShortPick(p) => {
            let lot = ctx.lot(&p.sku, p.lot.as_deref(), None)?;
            if p.qty > 0 {
                ctx.take(StockKey::new(&p.location, &p.sku, lot), p.qty);
            }
            ctx.raise(
                "short_pick",
                format!(
                    "short pick on order {} task {}: {} of {} taken at {} ({})",
                    p.order, p.task, p.qty, p.sku, p.location, p.reason
                ),
                Refs {
                    order: Some(&p.order),
                    location: Some(&p.location),
                    sku: Some(&p.sku),
                    lot,
                    ..Refs::default()
                },
            );
        }
        Payload::Count(c) => {
            let lot = ctx.lot(&c.sku, c.lot.as_deref(), None)?;
            ctx.set(StockKey::new(&c.location, &c.sku, lot), c.qty);
        }
        Payload::Adjust(a) => {
            let lot = ctx.lot(&a.sku, a.lot.as_deref(), None)?;
            ctx.set(StockKey::new(&a.location, &a.sku, lot), a.qty);
        }
        Payload::CloseAsn(c) => {
            if let Some(lines) = ctx.view.asns.get_mut(&c.asn) {
                for line in lines.iter_mut().filter(|l| !l.closed) {
                    line.closed = true;
                    ctx.fx.asn_lines.push(line.clone());
                }
            }
        }
        Payload::Pack(_) | Payload::Ship(_) => {}
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
    /// The lot to book against: required for lot-tracked items, ignored for
    /// others; a new lot of an expiry-tracked item needs its expiry.
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
        if !facts.lot_tracked {
            return Ok(None);
        }
        let Some(lot) = lot else {
            return Err(Refusal::new(
                RefusalCode::LotRequired,
                format!("{sku} is lot-tracked: scan or enter its lot"),
            ));
        };
        let key = (sku.to_owned(), lot.to_owned());
        if let std::collections::hash_map::Entry::Vacant(slot) = self.view.lots.entry(key) {
            if facts.expiry_tracked && expiry.is_none() {
                return Err(Refusal::new(
                    RefusalCode::ExpiryRequired,
                    format!(
                        "{sku} lot {lot} is new and {sku} is expiry-tracked: give its expiry date"
                    ),
                ));
            }
            let expiry = expiry.filter(|_| facts.expiry_tracked);
            slot.insert(expiry);
            self.fx
                .new_lots
                .push((sku.to_owned(), lot.to_owned(), expiry));
        }
        Ok(Some(lot))
    }

    /// Adds `delta` to a stock key and writes the movement.
    fn change(&mut self, key: StockKey, delta: i64) {
        if delta == 0 {
            return;
        }
        let line = self.fx.movements.len() as u32 + 1;
        *self.view.stock.entry(key.clone()).or_insert(0) += delta;
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
                "negative_stock",
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

    fn receive_on_asn(&mut self, asn: &str, sku: &str, qty: i64, damaged: i64, to: &str) {
        let lines = self.view.asns.entry(asn.to_owned()).or_default();
        match lines.iter_mut().find(|l| l.sku == sku) {
            Some(line) => {
                line.received_qty += qty;
                line.damaged_qty += damaged;
                let line = line.clone();
                self.fx.asn_lines.push(line);
            }
            None => self.raise(
                "unexpected_item",
                format!(
                    "{qty} of {sku} received into {to} on ASN {asn}, which does not list {sku}"
                ),
                Refs {
                    asn: Some(asn),
                    sku: Some(sku),
                    location: Some(to),
                    ..Refs::default()
                },
            ),
        }
    }

    fn raise(&mut self, kind: &'static str, message: String, refs: Refs<'_>) {
        let own = |s: Option<&str>| s.map(str::to_owned);
        self.fx.exceptions.push(NewException {
            id: Uuid::now_v7(),
            op: self.op,
            kind,
            message,
            order: own(refs.order),
            asn: own(refs.asn),
            location: own(refs.location),
            sku: own(refs.sku),
            lot: own(refs.lot),
            at: self.at,
        });
    }
}
