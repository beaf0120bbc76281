//! The local view: the replica with this device's not-yet-pulled operations
//! replayed on top, so offline work shows at once. Computed on demand, never
//! stored twice.

use std::collections::BTreeMap;
use std::collections::HashMap;
use std::collections::hash_map::Entry;

use chrono::NaiveDate;
use pyck_vocab::operation::{Kind, Payload};
use rusqlite::{Connection, params};
use serde::Serialize;

/// One row of `pyck stock`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StockRow {
    pub location: String,
    pub sku: String,
    pub lot: Option<String>,
    pub expiry: Option<NaiveDate>,
    pub qty: i64,
}

#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub location: Option<String>,
    pub sku: Option<String>,
}

impl Filter {
    fn matches(&self, location: &str, sku: &str) -> bool {
        self.location.as_deref().is_none_or(|l| l == location)
            && self.sku.as_deref().is_none_or(|s| s == sku)
    }
}

type Key = (String, String, String);

/// Operations the replica does not reflect yet: pending ones, and synced ones
/// whose effects no pull has brought back so far.
pub(crate) fn overlay(conn: &Connection) -> anyhow::Result<Vec<Payload>> {
    // The pending ones by their partial index and the synced ones after
    // `replica_through` by a range of sequence numbers, merged in sequence
    // order; an OR of the two scanned the whole journal (10,000 operations
    // are kept).
    let mut stmt = conn.prepare_cached(
        "SELECT seq, kind, payload FROM journal WHERE status = 'pending' \
         UNION ALL SELECT seq, kind, payload FROM journal WHERE status = 'synced' \
             AND seq > COALESCE((SELECT CAST(value AS INTEGER) FROM meta WHERE key = ?1), 0) \
         ORDER BY seq",
    )?;
    let rows = stmt.query_map([super::journal::REPLICA_THROUGH], |r| {
        Ok((r.get::<_, String>(1)?, r.get::<_, String>(2)?))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (kind, payload) = row?;
        if let Some(kind) = Kind::parse(&kind) {
            out.push(Payload::from_parts(kind, &payload)?);
        }
    }
    Ok(out)
}

/// What an operation does to stock: `(key, Change)` pairs.
enum Change {
    Add(i64),
    Set(i64),
    /// A count: sets the stock only within the warehouse's threshold, as the
    /// server will (`pyck_vocab::rules::count_sets_stock`).
    Count(i64),
}

impl Change {
    fn apply(&self, qty: &mut i64, threshold: Option<i64>) {
        match *self {
            Change::Add(d) => *qty += d,
            Change::Set(s) => *qty = s,
            Change::Count(c) => {
                if pyck_vocab::rules::count_sets_stock(c, *qty, threshold) {
                    *qty = c;
                }
            }
        }
    }
}

/// The count threshold the last pull brought (docs/SETTINGS.md).
fn count_threshold(conn: &Connection) -> anyhow::Result<Option<i64>> {
    let value = super::meta(conn, crate::sync::COUNT_THRESHOLD)?;
    Ok(value.and_then(|v| v.parse().ok()))
}

fn effects(p: &Payload) -> Vec<(Key, Change, Option<NaiveDate>)> {
    let key = |loc: &str, sku: &str, lot: &Option<String>| {
        (
            loc.to_owned(),
            sku.to_owned(),
            lot.clone().unwrap_or_default(),
        )
    };
    match p {
        Payload::Receive(r) if r.qty > 0 => {
            vec![(key(&r.to, &r.sku, &r.lot), Change::Add(r.qty), r.expiry)]
        }
        Payload::Putaway(m) | Payload::Move(m) => vec![
            (key(&m.from, &m.sku, &m.lot), Change::Add(-m.qty), None),
            (key(&m.to, &m.sku, &m.lot), Change::Add(m.qty), None),
        ],
        Payload::Pick(pk) => vec![(
            key(&pk.location, &pk.sku, &pk.lot),
            Change::Add(-pk.qty),
            None,
        )],
        Payload::ShortPick(pk) if pk.qty > 0 => vec![(
            key(&pk.location, &pk.sku, &pk.lot),
            Change::Add(-pk.qty),
            None,
        )],
        Payload::Count(c) => vec![(key(&c.location, &c.sku, &c.lot), Change::Count(c.qty), None)],
        Payload::Adjust(a) => vec![(key(&a.location, &a.sku, &a.lot), Change::Set(a.qty), None)],
        _ => vec![],
    }
}

/// Runs `read` in one read transaction when none is open, so the replica
/// and the journal it replays on top are seen at one moment: a pull that
/// commits in between would otherwise count an operation twice (in the
/// replica and on top) or not at all.
pub(crate) fn at_one_moment<T>(
    conn: &Connection,
    read: impl FnOnce() -> anyhow::Result<T>,
) -> anyhow::Result<T> {
    if !conn.is_autocommit() {
        return read();
    }
    let tx = conn.unchecked_transaction()?;
    let out = read()?;
    tx.commit()?;
    Ok(out)
}

/// Stock as this device sees it now.
pub fn stock(conn: &Connection, filter: &Filter) -> anyhow::Result<Vec<StockRow>> {
    at_one_moment(conn, || stock_now(conn, filter))
}

fn stock_now(conn: &Connection, filter: &Filter) -> anyhow::Result<Vec<StockRow>> {
    let mut rows: BTreeMap<Key, (Option<NaiveDate>, i64)> = BTreeMap::new();
    let mut stmt = conn.prepare_cached(
        "SELECT location, sku, lot, expiry, qty FROM stock WHERE (?1 IS NULL OR location = ?1) AND (?2 IS NULL OR sku = ?2)",
    )?;
    let found = stmt.query_map(params![filter.location, filter.sku], |r| {
        Ok((
            (
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
            ),
            r.get::<_, Option<String>>(3)?,
            r.get::<_, i64>(4)?,
        ))
    })?;
    for row in found {
        let (key, expiry, qty) = row?;
        let expiry = expiry.and_then(|e| NaiveDate::parse_from_str(&e, "%Y-%m-%d").ok());
        rows.insert(key, (expiry, qty));
    }
    let threshold = count_threshold(conn)?;
    for payload in overlay(conn)? {
        for (key, change, expiry) in effects(&payload) {
            if !filter.matches(&key.0, &key.1) {
                continue;
            }
            let known_expiry = super::replica::lot_expiry(conn, &key.1, &key.2)?.flatten();
            let entry = rows.entry(key).or_insert((expiry.or(known_expiry), 0));
            change.apply(&mut entry.1, threshold);
        }
    }
    Ok(rows
        .into_iter()
        .filter(|(_, (_, qty))| *qty != 0)
        .map(|((location, sku, lot), (expiry, qty))| StockRow {
            location,
            sku,
            lot: (!lot.is_empty()).then_some(lot),
            expiry,
            qty,
        })
        .collect())
}

/// A (location, sku, lot) key borrowed from what is being checked; no lot
/// is "".
pub type KeyRef<'k> = (&'k str, &'k str, &'k str);

/// The local view of a set of keys, loaded once and updated in memory, for
/// checking a whole input file without replaying the journal per row. Keys
/// are borrowed from the rows being checked and hashed once, at load; after
/// that a key is its slot, and reading or changing it allocates and hashes
/// nothing (issue 21).
#[derive(Debug, Default)]
pub struct Snapshot {
    qty: Vec<i64>,
}

impl Snapshot {
    /// Loads the local-view quantities of `keys` (repeats are fine), and
    /// returns with it the slot of each key, in the order given.
    pub fn load<'k>(
        conn: &Connection,
        keys: impl IntoIterator<Item = KeyRef<'k>>,
    ) -> anyhow::Result<(Snapshot, Vec<usize>)> {
        at_one_moment(conn, || Snapshot::load_now(conn, keys))
    }

    fn load_now<'k>(
        conn: &Connection,
        keys: impl IntoIterator<Item = KeyRef<'k>>,
    ) -> anyhow::Result<(Snapshot, Vec<usize>)> {
        let mut qty = Vec::new();
        let mut slots: HashMap<KeyRef<'k>, usize> = HashMap::new();
        let mut order = Vec::new();
        let mut stmt = conn.prepare_cached(
            "SELECT qty FROM stock WHERE location = ?1 AND sku = ?2 AND lot = ?3",
        )?;
        for key in keys {
            let slot = match slots.entry(key) {
                Entry::Occupied(e) => *e.get(),
                Entry::Vacant(e) => {
                    let q: Option<i64> = rusqlite::OptionalExtension::optional(
                        stmt.query_row(params![key.0, key.1, key.2], |r| r.get(0)),
                    )?;
                    qty.push(q.unwrap_or(0));
                    *e.insert(qty.len() - 1)
                }
            };
            order.push(slot);
        }
        let threshold = count_threshold(conn)?;
        for payload in overlay(conn)? {
            for ((location, sku, lot), change, _) in effects(&payload) {
                if let Some(&slot) = slots.get(&(location.as_str(), sku.as_str(), lot.as_str())) {
                    change.apply(&mut qty[slot], threshold);
                }
            }
        }
        Ok((Snapshot { qty }, order))
    }

    /// The quantity at a slot [`Snapshot::load`] gave.
    pub fn qty(&self, slot: usize) -> i64 {
        self.qty[slot]
    }

    pub fn add(&mut self, slot: usize, delta: i64) {
        self.qty[slot] += delta;
    }
}
