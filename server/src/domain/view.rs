//! What the server knows that one batch touches, loaded by a storage backend
//! before the pure planner runs. The planner updates it as it goes, so each
//! operation sees the effects of the ones before it in the batch.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::NaiveDate;
use pyck_vocab::operation::{Operation, Payload};
use pyck_vocab::records::{
    AsnLineRecord, ExceptionRecord, OrderLineRecord, OrderStatus, Role, TaskRecord, Temperature,
};
use pyck_vocab::refusal::Refusal;
use uuid::Uuid;

/// (location, sku, lot) — lot is `""` for items without lots, as stored.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct StockKey {
    pub location: String,
    pub sku: String,
    pub lot: String,
}

impl StockKey {
    pub fn new(location: &str, sku: &str, lot: Option<&str>) -> Self {
        Self {
            location: location.to_owned(),
            sku: sku.to_owned(),
            lot: lot.unwrap_or("").to_owned(),
        }
    }

    pub fn lot(&self) -> Option<&str> {
        (!self.lot.is_empty()).then_some(self.lot.as_str())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ItemFacts {
    pub lot_tracked: bool,
    pub expiry_tracked: bool,
    pub temperature: Temperature,
}

/// An operation this device already settled, found by its sequence number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settled {
    pub id: Uuid,
    pub refusal: Option<Refusal>,
}

#[derive(Debug, Clone, Default)]
pub struct BatchView {
    pub today: NaiveDate,
    /// The server's clock when the batch was loaded: the time window for an
    /// operation's `at` is measured from it (`push::AT_WINDOW_*`). `None`
    /// only in unit tests of rules that do not look at `at`; both backends
    /// set it.
    pub now: Option<chrono::DateTime<chrono::Utc>>,
    /// Ids of the batch's new operations (past the settled frontier) that
    /// the tenant already holds, from any device: each is refused as
    /// `duplicate_id`, never stored under that id again.
    pub taken_ids: std::collections::HashSet<uuid::Uuid>,
    /// The device's highest settled sequence number.
    pub last_seq: u64,
    /// Already-settled operations at the sequence numbers the batch re-sends.
    pub settled: HashMap<u64, Settled>,
    pub operators: HashMap<String, Role>,
    /// The stored rows of [`Needs::operator_rows`], tenant-wide, active or
    /// not: what the desk's operator writes decide on.
    pub operator_rows: HashMap<String, OperatorRow>,
    /// How many history rows the workflow of [`Needs::workflow_lease`] has,
    /// if its owner still holds the lease; `None` if not.
    pub workflow_history: Option<u32>,
    pub items: HashMap<String, ItemFacts>,
    pub locations: HashMap<String, Temperature>,
    /// Current quantities of the touched keys; absent means zero.
    pub stock: HashMap<StockKey, i64>,
    /// Known lots of the touched items: (sku, lot) → expiry.
    pub lots: HashMap<(String, String), Option<NaiveDate>>,
    /// Lines of the ASNs the batch names, by ASN.
    pub asns: HashMap<String, Vec<AsnLineRecord>>,
    /// Orders the batch names: order → status.
    pub orders: HashMap<String, OrderStatus>,
    /// Zones of the locations in `locations`.
    pub zones: HashMap<String, String>,
    /// Tasks the batch names, by id; for orders a pack or ship names, also
    /// every task of the order and the open tasks out of its staging
    /// location.
    pub tasks: HashMap<String, TaskRecord>,
    /// Storage bins by temperature, with the SKUs they hold, for putaway
    /// suggestions (loaded for the temperatures of items received into docks).
    pub bins: HashMap<Temperature, Vec<super::putaway::Bin>>,
    /// Pickable stock of SKUs that short picks may need to re-allocate,
    /// net of what open pick tasks reserve.
    pub candidates: HashMap<String, Vec<super::allocation::Candidate>>,
    /// Exceptions the batch resolves, and the open exceptions of the ASNs
    /// it receives on, by id. Exceptions the batch raises join them.
    pub exceptions: HashMap<String, ExceptionRecord>,
    /// The warehouse's settings: the count threshold (the largest count
    /// difference accepted without a supervisor), FEFO strictness for
    /// re-allocation after a short pick, and the old value a settings
    /// change audits.
    pub settings: crate::settings::Settings,
    /// The number the next new task gets.
    pub next_task: u64,
    /// Every stored line of the orders in [`Needs::order_lines`], by order,
    /// in line order.
    pub order_lines: HashMap<String, Vec<StoredLine>>,
    /// Owners (SKUs) of the GTINs in [`Needs::gtins`] that are taken.
    pub gtins: HashMap<String, String>,
}

/// An order line as stored, and whether a pick task already covers it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredLine {
    pub record: OrderLineRecord,
    pub tasked: bool,
}

/// The staging location picked goods wait in until the order ships.
pub fn staging(order: &str) -> String {
    format!("STAGE:{order}")
}

/// What a backend must load for a batch (derived from the operations alone)
/// or for a server write.
#[derive(Debug, Clone, Default)]
pub struct Needs {
    /// Sequence numbers at or below the device's last settled one.
    pub settled_seqs: Vec<u64>,
    /// Ids of the operations past the settled frontier: which of them the
    /// tenant already holds goes into [`BatchView::taken_ids`].
    pub new_ids: Vec<uuid::Uuid>,
    pub badges: BTreeSet<String>,
    pub skus: BTreeSet<String>,
    pub locations: BTreeSet<String>,
    pub stock: BTreeSet<StockKey>,
    pub lots: BTreeSet<(String, String)>,
    pub asns: BTreeSet<String>,
    pub orders: BTreeSet<String>,
    pub tasks: BTreeSet<String>,
    /// Orders whose staged stock a ship takes out.
    pub staged_orders: BTreeSet<String>,
    /// Orders a pack or ship names: their tasks, and the open tasks out of
    /// their staging location, go into [`BatchView::tasks`].
    pub order_tasks: BTreeSet<String>,
    /// ASNs a receipt names: their open exceptions go into
    /// [`BatchView::exceptions`] (a late receipt updates them).
    pub asn_exceptions: BTreeSet<String>,
    /// Temperatures for which putaway bins are needed.
    pub bin_temperatures_of: BTreeSet<String>,
    /// SKUs a short pick may re-allocate.
    pub candidate_skus: BTreeSet<String>,
    pub exceptions: BTreeSet<String>,
    /// Orders whose stored lines go into [`BatchView::order_lines`]; the
    /// backend loads the items and pickable stock of their SKUs too
    /// ([`Needs::with_lines`]).
    pub order_lines: BTreeSet<String>,
    /// GTINs whose owners go into [`BatchView::gtins`].
    pub gtins: BTreeSet<String>,
    /// Badges whose stored operator rows go into
    /// [`BatchView::operator_rows`].
    pub operator_rows: BTreeSet<String>,
    /// (order, lease owner): whether the owner still holds the order's
    /// workflow lease goes into [`BatchView::workflow_history`] (PostgreSQL
    /// locks the workflow row for the rest of the write).
    pub workflow_lease: Option<(String, String)>,
}

impl Needs {
    /// These needs, and the items and pickable stock of `lines`' SKUs: what
    /// allocating them takes, known only once the lines are loaded.
    pub fn with_lines<'a>(&self, lines: impl IntoIterator<Item = &'a OrderLineRecord>) -> Needs {
        let mut needs = self.clone();
        for l in lines {
            needs.skus.insert(l.sku.clone());
            needs.candidate_skus.insert(l.sku.clone());
        }
        needs
    }

    pub fn of(ops: &[Operation], last_seq: u64) -> Self {
        let mut n = Needs::default();
        for op in ops {
            if op.seq <= last_seq {
                n.settled_seqs.push(op.seq);
                continue;
            }
            n.new_ids.push(op.id);
            n.badges.insert(op.operator.clone());
            n.add_payload(&op.payload);
        }
        n
    }

    /// The stock a movement may touch. The rules book an item that is not
    /// lot-tracked without a lot whatever the device sent, so the lot-less
    /// key is loaded too: a key left out of the view would read as an empty
    /// bin and its stock row be overwritten from zero.
    fn stock_keys(&mut self, location: &str, sku: &str, lot: Option<&str>) {
        self.stock.insert(StockKey::new(location, sku, lot));
        if lot.is_some() {
            self.stock.insert(StockKey::new(location, sku, None));
        }
    }

    fn add_payload(&mut self, payload: &Payload) {
        let stock = |n: &mut Needs, loc: &str, sku: &str, lot: Option<&str>| {
            n.locations.insert(loc.to_owned());
            n.skus.insert(sku.to_owned());
            n.stock_keys(loc, sku, lot);
            if let Some(lot) = lot {
                n.lots.insert((sku.to_owned(), lot.to_owned()));
            }
        };
        match payload {
            Payload::Receive(r) => {
                stock(self, &r.to, &r.sku, r.lot.as_deref());
                self.asns.insert(r.asn.clone());
                self.asn_exceptions.insert(r.asn.clone());
                self.bin_temperatures_of.insert(r.sku.clone());
            }
            Payload::Putaway(m) | Payload::Move(m) => {
                stock(self, &m.from, &m.sku, m.lot.as_deref());
                stock(self, &m.to, &m.sku, m.lot.as_deref());
                if let Some(t) = &m.task {
                    self.tasks.insert(t.clone());
                }
            }
            Payload::Pick(p) => {
                stock(self, &p.location, &p.sku, p.lot.as_deref());
                self.stock_keys(&staging(&p.order), &p.sku, p.lot.as_deref());
                self.orders.insert(p.order.clone());
                self.tasks.insert(p.task.clone());
                // A pick of a cancelled order goes back via a putaway task.
                self.bin_temperatures_of.insert(p.sku.clone());
            }
            Payload::ShortPick(p) => {
                stock(self, &p.location, &p.sku, p.lot.as_deref());
                self.stock_keys(&staging(&p.order), &p.sku, p.lot.as_deref());
                self.orders.insert(p.order.clone());
                self.tasks.insert(p.task.clone());
                self.candidate_skus.insert(p.sku.clone());
            }
            Payload::Count(c) => {
                stock(self, &c.location, &c.sku, c.lot.as_deref());
                if let Some(t) = &c.task {
                    self.tasks.insert(t.clone());
                }
            }
            Payload::Adjust(a) => stock(self, &a.location, &a.sku, a.lot.as_deref()),
            Payload::CloseAsn(c) => {
                self.asns.insert(c.asn.clone());
            }
            Payload::Pack(o) => {
                self.orders.insert(o.order.clone());
                self.order_tasks.insert(o.order.clone());
            }
            Payload::Ship(o) => {
                self.orders.insert(o.order.clone());
                self.staged_orders.insert(o.order.clone());
                self.order_tasks.insert(o.order.clone());
            }
            Payload::ResolveException(r) => {
                self.exceptions.insert(r.exception.clone());
            }
        }
    }
}

/// Sorted for stable output where it is written or compared.
pub type Ordered<K, V> = BTreeMap<K, V>;

/// An operator as stored: which warehouses they may work in (none: all of
/// the tenant's).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperatorRow {
    pub badge: String,
    pub role: Role,
    /// The PIN's Argon2id hash.
    pub pin_hash: String,
    pub active: bool,
    pub warehouses: Vec<i64>,
}
