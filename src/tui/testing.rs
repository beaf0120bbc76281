//! An in-memory [`Lookup`] over a tiny warehouse, for update and view tests.

use chrono::NaiveDate;
use pyck_vocab::records::{
    AsnLineRecord, ExceptionKind, ExceptionRecord, ExceptionStatus, LocationRecord, OrderStatus,
    TaskKind, TaskRecord, TaskStatus, Temperature,
};

use super::app::{App, Link};
use super::update::{Effect, Lookup, Msg, update};
use crate::checks::OrderState;
use crate::store::replica::Item;
use crate::store::session::Operator;
use crate::store::view::{Filter, StockRow};

pub struct Fake {
    pub locations: Vec<&'static str>,
    pub items: Vec<(Item, Vec<&'static str>)>,
    pub asns: Vec<AsnLineRecord>,
    /// Orders and their status.
    pub orders: Vec<(&'static str, OrderStatus)>,
    pub lots: Vec<(&'static str, &'static str, Option<NaiveDate>)>,
    pub stock: Vec<StockRow>,
    pub tasks: Vec<TaskRecord>,
    pub exceptions: Vec<ExceptionRecord>,
}

fn date(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

/// A bin's temperature from its code, as in the demo warehouse: DOCK,
/// C(hilled), F(rozen), else ambient.
pub fn bin_temperature(code: &str) -> Temperature {
    match code.as_bytes().first() {
        _ if code.starts_with("DOCK") => Temperature::Dock,
        Some(b'C') => Temperature::Chilled,
        Some(b'F') => Temperature::Frozen,
        _ => Temperature::Ambient,
    }
}

pub fn item(sku: &str, description: &str, lots: bool) -> Item {
    Item {
        sku: sku.into(),
        description: description.into(),
        uom: "EA".into(),
        lot_tracked: lots,
        expiry_tracked: lots,
        temperature: Temperature::Ambient,
    }
}

pub fn chilled(mut item: Item) -> Item {
    item.temperature = Temperature::Chilled;
    item
}

pub fn task(id: &str, kind: TaskKind, location: &str, sku: &str, qty: i64) -> TaskRecord {
    TaskRecord {
        id: id.into(),
        kind,
        status: TaskStatus::Open,
        order: (kind == TaskKind::Pick).then(|| "SO-5001".into()),
        line: (kind == TaskKind::Pick).then_some(1),
        sku: Some(sku.into()),
        lot: None,
        location: location.into(),
        to: (kind == TaskKind::Putaway).then(|| "A-01-05".into()),
        qty,
        done_qty: 0,
        zone: "AMB".into(),
        sequence: 1,
    }
}

impl Fake {
    /// A few bins, a dry item and a chilled lot-tracked one, an ASN, an
    /// order, a pick, a putaway and a count task, one exception.
    pub fn warehouse() -> Fake {
        let mut pick = task("T-1", TaskKind::Pick, "C-01-03", "SKU-10037", 12);
        pick.lot = Some("L2631H".into());
        Fake {
            locations: vec!["DOCK-01", "A-01-01", "A-01-05", "C-01-01", "C-01-03"],
            items: vec![
                (
                    item("SKU-10001", "Pasta Spaghetti 500g", false),
                    vec!["5790000100019"],
                ),
                (
                    chilled(item("SKU-10037", "Milk Whole 1L", true)),
                    vec!["5790000100378"],
                ),
                (
                    chilled(item("SKU-10048", "Salmon Fillet 400g", true)),
                    vec!["5790000100484"],
                ),
            ],
            asns: vec![AsnLineRecord {
                asn: "ASN-1003".into(),
                line: 1,
                sku: "SKU-10048".into(),
                supplier: "Lofoten Sjømat AS".into(),
                expected_qty: 144,
                received_qty: 0,
                damaged_qty: 0,
                closed: false,
            }],
            orders: vec![("SO-5001", OrderStatus::Allocated)],
            lots: vec![("SKU-10037", "L2631H", Some(date("2026-12-17")))],
            stock: vec![
                StockRow {
                    location: "C-01-03".into(),
                    sku: "SKU-10037".into(),
                    lot: Some("L2631H".into()),
                    expiry: Some(date("2026-12-17")),
                    qty: 40,
                },
                StockRow {
                    location: "A-01-01".into(),
                    sku: "SKU-10001".into(),
                    lot: None,
                    expiry: None,
                    qty: 300,
                },
                StockRow {
                    location: "C-01-01".into(),
                    sku: "SKU-10037".into(),
                    lot: Some("L2634F".into()),
                    expiry: Some(date("2027-01-14")),
                    qty: 24,
                },
            ],
            tasks: vec![
                pick,
                task("T-2", TaskKind::Putaway, "DOCK-01", "SKU-10001", 48),
                task("T-3", TaskKind::Count, "A-01-01", "SKU-10001", 0),
            ],
            exceptions: vec![ExceptionRecord {
                id: "E-1".into(),
                kind: ExceptionKind::ShortPick,
                status: ExceptionStatus::Open,
                message: "short pick of SKU-10037 at C-01-03".into(),
                order: Some("SO-5001".into()),
                asn: None,
                location: Some("C-01-03".into()),
                sku: Some("SKU-10037".into()),
                lot: None,
                raised_at: chrono::DateTime::from_timestamp(1_790_000_000, 0).unwrap(),
            }],
        }
    }
}

impl Fake {
    /// [`Fake::warehouse`] with the cases the property tests need around
    /// every rule: expired lots in a pick bin and at the dock, a lot expiring
    /// today, an empty stock row, a frozen item and bin, a lot-tracked item
    /// without expiry, pick tasks with and without a lot (one half done),
    /// a chilled putaway task with a lot, a closed ASN and one of two lines,
    /// and an order in every status.
    pub fn rich() -> Fake {
        let mut f = Fake::warehouse();
        f.locations = vec![
            "DOCK-01", "DOCK-02", "A-01-01", "A-01-05", "C-01-01", "C-01-03", "F-01-01",
        ];
        let mut frozen = item("SKU-20001", "Peas Frozen 1kg", true);
        frozen.temperature = Temperature::Frozen;
        let mut batteries = item("SKU-30001", "Batteries AA 4-pack", true);
        batteries.expiry_tracked = false;
        f.items.push((frozen, vec!["5790000200016"]));
        f.items.push((batteries, vec!["5790000300013"]));
        let line = |asn: &str, line, sku: &str, expected, received, closed| AsnLineRecord {
            asn: asn.into(),
            line,
            sku: sku.into(),
            supplier: "Bakkeland Dagligvare Import AS".into(),
            expected_qty: expected,
            received_qty: received,
            damaged_qty: 0,
            closed,
        };
        f.asns.extend([
            line("ASN-1004", 1, "SKU-10001", 100, 100, false),
            line("ASN-1004", 2, "SKU-10037", 50, 20, false),
            line("ASN-1009", 1, "SKU-10001", 10, 10, true),
        ]);
        f.orders = vec![
            ("SO-5001", OrderStatus::Allocated),
            ("SO-5002", OrderStatus::Allocated),
            ("SO-5003", OrderStatus::Packed),
            ("SO-5004", OrderStatus::Allocated),
            ("SO-5005", OrderStatus::Shipped),
            ("SO-5006", OrderStatus::Cancelled),
            ("SO-5007", OrderStatus::Packed),
            ("SO-5008", OrderStatus::Open),
        ];
        f.lots = vec![
            ("SKU-10037", "L2631H", Some(date("2026-12-17"))),
            ("SKU-10037", "L2634F", Some(date("2027-01-14"))),
            ("SKU-10037", "L2601X", Some(date("2026-11-01"))),
            ("SKU-10037", "L2611T", Some(date("2026-11-23"))),
            ("SKU-10037", "L2699Z", Some(date("2027-03-01"))),
            ("SKU-10048", "L2647E", Some(date("2027-01-31"))),
            ("SKU-10048", "L2640A", Some(date("2026-11-20"))),
            ("SKU-20001", "L2602P", Some(date("2027-06-30"))),
            ("SKU-20001", "L2590Q", None),
            ("SKU-30001", "B-77", None),
        ];
        let row = |location: &str, sku: &str, lot: Option<&str>, qty| StockRow {
            location: location.into(),
            sku: sku.into(),
            lot: lot.map(Into::into),
            expiry: lot.and_then(|l| {
                f.lots
                    .iter()
                    .find(|(s, x, _)| *s == sku && *x == l)
                    .and_then(|(_, _, e)| *e)
            }),
            qty,
        };
        f.stock = vec![
            row("C-01-03", "SKU-10037", Some("L2631H"), 40),
            row("C-01-03", "SKU-10037", Some("L2601X"), 10),
            row("C-01-03", "SKU-10037", Some("L2611T"), 5),
            row("C-01-03", "SKU-10037", Some("L2699Z"), 0),
            row("A-01-01", "SKU-10001", None, 300),
            row("C-01-01", "SKU-10037", Some("L2634F"), 24),
            row("DOCK-01", "SKU-10001", None, 48),
            row("DOCK-02", "SKU-10048", Some("L2647E"), 20),
            row("F-01-01", "SKU-20001", Some("L2602P"), 4),
            row("F-01-01", "SKU-20001", Some("L2590Q"), 6),
            row("A-01-05", "SKU-30001", Some("B-77"), 10),
        ];
        let pick = |id: &str, at: &str, sku: &str, lot: Option<&str>, qty, order: &str| {
            let mut t = task(id, TaskKind::Pick, at, sku, qty);
            t.lot = lot.map(Into::into);
            t.order = Some(order.into());
            t
        };
        let mut half_done = pick("T-4", "A-01-01", "SKU-10001", None, 5, "SO-5002");
        half_done.done_qty = 2;
        let mut chilled_putaway = task("T-6", TaskKind::Putaway, "DOCK-02", "SKU-10048", 20);
        chilled_putaway.lot = Some("L2647E".into());
        chilled_putaway.to = Some("C-01-01".into());
        let mut count_bin = task("T-7", TaskKind::Count, "C-01-03", "SKU-10037", 0);
        count_bin.sku = None;
        f.tasks = vec![
            pick("T-1", "C-01-03", "SKU-10037", Some("L2631H"), 12, "SO-5001"),
            half_done,
            pick("T-5", "C-01-01", "SKU-10037", None, 30, "SO-5001"),
            pick("T-8", "F-01-01", "SKU-20001", Some("L2602P"), 4, "SO-5007"),
            pick("T-9", "A-01-05", "SKU-30001", Some("B-77"), 3, "SO-5002"),
            task("T-2", TaskKind::Putaway, "DOCK-01", "SKU-10001", 48),
            chilled_putaway,
            task("T-3", TaskKind::Count, "A-01-01", "SKU-10001", 0),
            count_bin,
        ];
        f
    }
}

impl Lookup for Fake {
    fn location(&self, code: &str) -> anyhow::Result<Option<LocationRecord>> {
        Ok(self
            .locations
            .iter()
            .find(|l| l.eq_ignore_ascii_case(code))
            .map(|l| LocationRecord {
                code: (*l).to_owned(),
                zone: l[..1].to_owned(),
                temperature: bin_temperature(l),
            }))
    }

    fn item(&self, code: &str) -> anyhow::Result<Option<Item>> {
        Ok(self
            .items
            .iter()
            .find(|(i, gtins)| i.sku == code || gtins.contains(&code))
            .map(|(i, _)| i.clone())
            .or_else(|| {
                // 14-digit GTINs from GS1 codes.
                let short = code.strip_prefix('0')?;
                self.items
                    .iter()
                    .find(|(_, g)| g.contains(&short))
                    .map(|(i, _)| i.clone())
            }))
    }

    fn asn(&self, asn: &str) -> anyhow::Result<Vec<AsnLineRecord>> {
        Ok(self.asns.iter().filter(|l| l.asn == asn).cloned().collect())
    }

    fn order(&self, order: &str) -> anyhow::Result<Option<OrderState>> {
        Ok(self
            .orders
            .iter()
            .find(|(o, _)| *o == order)
            .map(|(o, status)| OrderState {
                order: (*o).to_owned(),
                status: *status,
                open_picks: self
                    .tasks
                    .iter()
                    .filter(|t| {
                        t.kind == TaskKind::Pick
                            && t.status == TaskStatus::Open
                            && t.order.as_deref() == Some(*o)
                    })
                    .count(),
            }))
    }

    fn lot_expiry(&self, sku: &str, lot: &str) -> anyhow::Result<Option<Option<NaiveDate>>> {
        Ok(self
            .lots
            .iter()
            .find(|(s, l, _)| *s == sku && *l == lot)
            .map(|(_, _, e)| *e))
    }

    fn stock(&self, filter: &Filter) -> anyhow::Result<Vec<StockRow>> {
        Ok(self
            .stock
            .iter()
            .filter(|r| {
                filter.location.as_deref().is_none_or(|l| l == r.location)
                    && filter.sku.as_deref().is_none_or(|s| s == r.sku)
            })
            .cloned()
            .collect())
    }

    fn open_tasks(&self, kind: TaskKind) -> anyhow::Result<Vec<TaskRecord>> {
        Ok(self
            .tasks
            .iter()
            .filter(|t| t.kind == kind && t.status == TaskStatus::Open)
            .cloned()
            .collect())
    }

    fn open_exceptions(&self) -> anyhow::Result<Vec<ExceptionRecord>> {
        Ok(self.exceptions.clone())
    }
}

pub fn today() -> NaiveDate {
    date("2026-11-23")
}

pub fn link() -> Link {
    Link {
        online: Some(true),
        pending: 2,
        server: "http://127.0.0.1:8080".into(),
        device: "0190f5c2-0000-7000-8000-000000000001".into(),
        last_sync: Some("2026-11-23T21:40:03.000000Z".into()),
        last_error: None,
        last_report: Some("pushed 2, pulled 5".into()),
        syncing: false,
    }
}

pub fn app_as(badge: &str, role: pyck_vocab::records::Role) -> App {
    App::new(
        Some(Operator {
            badge: badge.into(),
            role,
        }),
        link(),
        today(),
    )
}

/// Sends each message; returns all effects.
pub fn send(app: &mut App, look: &dyn Lookup, msgs: impl IntoIterator<Item = Msg>) -> Vec<Effect> {
    msgs.into_iter()
        .flat_map(|m| update(app, m, look))
        .collect()
}

/// Typing a scan and Enter, as a scanner does.
pub fn scan(text: &str) -> Vec<Msg> {
    text.chars()
        .map(Msg::Char)
        .chain(std::iter::once(Msg::Enter))
        .collect()
}
