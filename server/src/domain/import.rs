//! An import directory's master data and opening state, decided once in
//! pure code over a view the backend loaded
//! ([`crate::storage::Storage::import`]): items with their GTINs, locations,
//! opening stock (set, not added: a re-run moves nothing), ASN lines and
//! order lines, and the new order lines allocated at once. The whole
//! directory is one write; the first bad row refuses all of it.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::convert::Infallible;

use pyck_vocab::records::{AsnLineRecord, OrderLineRecord, OrderStatus, Temperature};
use pyck_vocab::rules::{Tracking, lot_problem};
use uuid::Uuid;

use super::allocation::Candidate;
use super::{BatchView, ItemFacts, Movement, Needs, StockKey, desk};
use crate::import::ImportData;
use crate::push::{Plan, ServerOp, StockChange};

/// What an import needs loaded: the items, locations, stock, lots, ASNs,
/// orders (with their lines and pickable stock) and GTINs its files name.
pub fn needs(data: &ImportData) -> Needs {
    let mut n = Needs::default();
    for item in &data.items {
        n.skus.insert(item.sku.clone());
        n.gtins.extend(item.gtins.iter().cloned());
    }
    for row in &data.stock {
        n.skus.insert(row.sku.clone());
        n.locations.insert(row.location.clone());
        n.stock
            .insert(StockKey::new(&row.location, &row.sku, row.lot.as_deref()));
        if let Some(lot) = &row.lot {
            n.lots.insert((row.sku.clone(), lot.clone()));
        }
    }
    for line in &data.asn_lines {
        n.skus.insert(line.sku.clone());
        n.asns.insert(line.asn.clone());
    }
    for line in &data.order_lines {
        n.skus.insert(line.sku.clone());
        n.candidate_skus.insert(line.sku.clone());
        n.order_lines.insert(line.order.clone());
    }
    n
}

/// Plans the import, or names the first bad row: files in the order items,
/// locations, stock, ASNs, orders, rows in file order.
pub fn plan(view: &mut BatchView, data: &ImportData) -> Result<Plan, String> {
    let mut plan = Plan::over(view);
    items(view, &mut plan, data)?;
    for loc in last_of_each(&data.locations, |l| l.code.clone()) {
        view.locations.insert(loc.code.clone(), loc.temperature);
        view.zones.insert(loc.code.clone(), loc.zone.clone());
        plan.locations.push(loc.clone());
    }
    stock(view, &mut plan, data)?;
    asn_lines(view, &mut plan, data)?;
    order_lines(view, &mut plan, data)?;
    allocate_new_lines(view, &mut plan);
    Ok(plan)
}

/// Items replace their namesakes, GTINs and all. A GTIN may pass from one
/// item to another only if the item giving it up comes first in the file
/// (each item gives up its old GTINs, then claims its new ones).
fn items(view: &mut BatchView, plan: &mut Plan, data: &ImportData) -> Result<(), String> {
    // GTIN → item, and item → its GTINs: each item gives up its own in
    // time proportional to how many it holds (a scan of every GTIN per item
    // made a large catalogue quadratic).
    let mut owner = view.gtins.clone();
    let mut held: HashMap<String, Vec<String>> = HashMap::new();
    for (gtin, sku) in &owner {
        held.entry(sku.clone()).or_default().push(gtin.clone());
    }
    for item in &data.items {
        for gtin in held.remove(&item.sku).unwrap_or_default() {
            owner.remove(&gtin);
        }
        for gtin in &item.gtins {
            if owner.contains_key(gtin) {
                return Err(format!(
                    "items.csv: GTIN {gtin} of {} already belongs to another item",
                    item.sku
                ));
            }
            owner.insert(gtin.clone(), item.sku.clone());
            held.entry(item.sku.clone()).or_default().push(gtin.clone());
        }
        view.items.insert(
            item.sku.clone(),
            ItemFacts {
                lot_tracked: item.lot_tracked,
                expiry_tracked: item.expiry_tracked,
                temperature: item.temperature,
            },
        );
    }
    plan.items = last_of_each(&data.items, |i| i.sku.clone())
        .into_iter()
        .cloned()
        .collect();
    Ok(())
}

/// Opening balances are set: each row's movement is the difference to what
/// the ledger holds (or an earlier row of the file set), recorded under one
/// `opening_balance` operation of operator `import`.
fn stock(view: &mut BatchView, plan: &mut Plan, data: &ImportData) -> Result<(), String> {
    let op = Uuid::now_v7();
    let at = view.now.unwrap_or_else(chrono::Utc::now);
    let mut lots: BTreeMap<(String, String), Option<chrono::NaiveDate>> = BTreeMap::new();
    for row in &data.stock {
        let invalid = |msg: String| format!("stock.csv line {}: {msg}", row.line);
        let facts = view
            .items
            .get(&row.sku)
            .ok_or_else(|| invalid(format!("sku: unknown SKU {}", row.sku)))?;
        if !view.locations.contains_key(&row.location) {
            return Err(invalid(format!(
                "location: unknown location {}",
                row.location
            )));
        }
        let tracking = Tracking {
            lots: facts.lot_tracked,
            expiry: facts.expiry_tracked,
        };
        let is_new = |lot: &str| {
            let key = (row.sku.clone(), lot.to_owned());
            Ok::<_, Infallible>(!lots.contains_key(&key) && !view.lots.contains_key(&key))
        };
        let Ok(problem) = lot_problem(tracking, row.lot.as_deref(), row.expiry.is_some(), is_new);
        if let Some(problem) = problem {
            let message = problem.message(&row.sku, row.lot.as_deref());
            return Err(invalid(format!("{}: {message}", problem.field())));
        }
        if let Some(lot) = &row.lot {
            // A lot's known expiry stays unless a row gives one.
            let key = (row.sku.clone(), lot.clone());
            let given = row.expiry.or(lots.get(&key).copied().flatten());
            let known = view.lots.get(&key).copied().flatten();
            lots.insert(key.clone(), given);
            view.lots.insert(key, given.or(known));
        }
        let key = StockKey::new(&row.location, &row.sku, row.lot.as_deref());
        let before = view.stock.insert(key.clone(), row.qty).unwrap_or(0);
        let delta = row.qty - before;
        if delta == 0 {
            continue;
        }
        plan.movements.push(Movement {
            op,
            line: plan.movements.len() as u32 + 1,
            key: key.clone(),
            delta,
            at,
        });
        plan.stock.insert(
            key,
            StockChange {
                qty: row.qty,
                cause: Some(op),
            },
        );
    }
    plan.lots = lots.into_iter().map(|((s, l), e)| (s, l, e)).collect();
    if !plan.movements.is_empty() {
        plan.server_ops.push(ServerOp {
            id: op,
            operator: "import".into(),
            kind: "opening_balance".into(),
            payload: serde_json::json!({ "rows": data.stock.len() }).to_string(),
            at,
        });
    }
    Ok(())
}

/// ASN lines replace their namesakes' SKU, supplier and expected quantity;
/// what devices already received against a line stays.
fn asn_lines(view: &BatchView, plan: &mut Plan, data: &ImportData) -> Result<(), String> {
    if let Some(line) = data
        .asn_lines
        .iter()
        .find(|l| !view.items.contains_key(&l.sku))
    {
        return Err(format!("asns.csv: {}: unknown SKU {}", line.asn, line.sku));
    }
    let stored_lines: HashMap<(&str, u32), &AsnLineRecord> = view
        .asns
        .values()
        .flatten()
        .map(|l| ((l.asn.as_str(), l.line), l))
        .collect();
    for line in last_of_each(&data.asn_lines, |l| (l.asn.clone(), l.line)) {
        let stored = stored_lines.get(&(line.asn.as_str(), line.line));
        let record = AsnLineRecord {
            asn: line.asn.clone(),
            line: line.line,
            sku: line.sku.clone(),
            supplier: line.supplier.clone(),
            expected_qty: line.expected_qty,
            received_qty: stored.map_or(0, |s| s.received_qty),
            damaged_qty: stored.map_or(0, |s| s.damaged_qty),
            closed: stored.is_some_and(|s| s.closed),
        };
        plan.asn_lines
            .insert((record.asn.clone(), record.line), record);
    }
    Ok(())
}

/// Order lines replace their namesakes' SKU, quantity and customer; a
/// stored line keeps its status, a new one is `open`.
fn order_lines(view: &mut BatchView, plan: &mut Plan, data: &ImportData) -> Result<(), String> {
    if let Some(line) = data
        .order_lines
        .iter()
        .find(|l| !view.items.contains_key(&l.sku))
    {
        return Err(format!(
            "orders.csv: {}: unknown SKU {}",
            line.order, line.sku
        ));
    }
    // Where each stored line stands in its order's list.
    let mut at: HashMap<(String, u32), usize> = view
        .order_lines
        .values()
        .flat_map(|lines| lines.iter().enumerate())
        .map(|(i, l)| ((l.record.order.clone(), l.record.line), i))
        .collect();
    for line in last_of_each(&data.order_lines, |l| (l.order.clone(), l.line)) {
        let lines = view.order_lines.entry(line.order.clone()).or_default();
        let record = OrderLineRecord {
            order: line.order.clone(),
            line: line.line,
            sku: line.sku.clone(),
            qty: line.qty,
            customer: line.customer.clone(),
            status: OrderStatus::Open,
        };
        match at
            .get(&(line.order.clone(), line.line))
            .map(|&i| &mut lines[i])
        {
            Some(stored) => {
                stored.record = OrderLineRecord {
                    status: stored.record.status,
                    ..record
                };
                plan.order_lines.push(stored.record.clone());
            }
            None => {
                at.insert((line.order.clone(), line.line), lines.len());
                lines.push(super::StoredLine {
                    record: record.clone(),
                    tasked: false,
                });
                plan.order_lines.push(record);
            }
        }
    }
    Ok(())
}

/// The imported orders' open lines that no pick task covers get pick tasks
/// at once (against stock as the import leaves it), as a new order's do;
/// their orders become `allocated` and start their fulfilment workflow.
fn allocate_new_lines(view: &mut BatchView, plan: &mut Plan) {
    let orders: BTreeSet<&str> = plan.order_lines.iter().map(|l| l.order.as_str()).collect();
    let mut lines: Vec<OrderLineRecord> = orders
        .iter()
        .flat_map(|o| view.order_lines.get(*o).into_iter().flatten())
        .filter(|l| !l.tasked && l.record.status == OrderStatus::Open)
        .map(|l| l.record.clone())
        .collect();
    if lines.is_empty() {
        return;
    }
    lines.sort_by(|a, b| (&a.order, a.line).cmp(&(&b.order, b.line)));
    candidates_after_import(view, plan);
    desk::allocate_raising(view, plan, &lines);
    for l in &lines {
        plan.orders.insert(l.order.clone(), OrderStatus::Allocated);
        plan.workflow_starts.insert(l.order.clone());
    }
}

/// The view's pickable stock (loaded as it stood before the import) as the
/// import's opening balances, locations and lot expiries leave it.
fn candidates_after_import(view: &mut BatchView, plan: &Plan) {
    let mut deltas: BTreeMap<&StockKey, i64> = BTreeMap::new();
    for m in &plan.movements {
        *deltas.entry(&m.key).or_default() += m.delta;
    }
    for (key, delta) in deltas {
        let on_hand = view.stock.get(key).copied().unwrap_or(0);
        let Some(list) = view.candidates.get_mut(&key.sku) else {
            continue;
        };
        let lot = key.lot().map(str::to_owned);
        let here = |c: &Candidate| c.location == key.location && c.lot == lot;
        match list.iter_mut().find(|c| here(c)) {
            Some(c) => c.available += delta,
            None => list.push(Candidate {
                location: key.location.clone(),
                zone: view.zones.get(&key.location).cloned().unwrap_or_default(),
                is_dock: view.locations.get(&key.location) == Some(&Temperature::Dock),
                lot: lot.clone(),
                expiry: None,
                available: on_hand,
            }),
        }
        // As the loader: only stock on hand is a candidate.
        if on_hand <= 0 {
            list.retain(|c| !here(c));
        }
    }
    // A location the import (re)defines may have changed zone or become a
    // dock; the others' candidates already carry what the loader read.
    let placed: BTreeSet<&str> = plan.locations.iter().map(|l| l.code.as_str()).collect();
    for (sku, list) in view.candidates.iter_mut() {
        for c in list.iter_mut() {
            if placed.contains(c.location.as_str()) {
                c.zone = view.zones.get(&c.location).cloned().unwrap_or_default();
                c.is_dock = view.locations.get(&c.location) == Some(&Temperature::Dock);
            }
            if let Some(lot) = &c.lot
                && let Some(expiry) = view.lots.get(&(sku.clone(), lot.clone()))
            {
                c.expiry = *expiry;
            }
        }
    }
}

/// The last row of each key, where its key first stood: a file that lists a
/// record twice means its last row.
fn last_of_each<T, K: Eq + std::hash::Hash>(rows: &[T], key: impl Fn(&T) -> K) -> Vec<&T> {
    let mut at: HashMap<K, usize> = HashMap::with_capacity(rows.len());
    let mut out: Vec<&T> = Vec::with_capacity(rows.len());
    for row in rows {
        match at.entry(key(row)) {
            std::collections::hash_map::Entry::Occupied(slot) => out[*slot.get()] = row,
            std::collections::hash_map::Entry::Vacant(slot) => {
                slot.insert(out.len());
                out.push(row);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use pyck_vocab::records::{ItemRecord, LocationRecord};

    use super::*;
    use crate::import::{AsnLine, OpeningStock, OrderLine};

    fn item(sku: &str, gtins: &[&str], lot_tracked: bool) -> ItemRecord {
        ItemRecord {
            sku: sku.into(),
            gtins: gtins.iter().map(|g| g.to_string()).collect(),
            description: sku.into(),
            uom: "EA".into(),
            lot_tracked,
            expiry_tracked: false,
            serial_tracked: false,
            temperature: Temperature::Ambient,
        }
    }

    fn bin(code: &str) -> LocationRecord {
        LocationRecord {
            code: code.into(),
            zone: "A".into(),
            temperature: Temperature::Ambient,
        }
    }

    fn stock(line: u64, location: &str, sku: &str, lot: Option<&str>, qty: i64) -> OpeningStock {
        OpeningStock {
            location: location.into(),
            sku: sku.into(),
            lot: lot.map(str::to_owned),
            expiry: None,
            qty,
            line,
        }
    }

    fn order_line(order: &str, line: u32, sku: &str, qty: i64) -> OrderLine {
        OrderLine {
            order: order.into(),
            line,
            sku: sku.into(),
            qty,
            customer: "c".into(),
        }
    }

    /// An item the view knows from before the import.
    fn known_item(view: &mut BatchView, sku: &str) {
        let facts = ItemFacts {
            lot_tracked: false,
            expiry_tracked: false,
            temperature: Temperature::Ambient,
        };
        view.items.insert(sku.into(), facts);
    }

    /// A view as the backend would load it for `data` over an empty
    /// warehouse.
    fn fresh(data: &ImportData) -> BatchView {
        let mut view = BatchView {
            next_task: 1,
            ..BatchView::default()
        };
        for sku in needs(data).candidate_skus {
            view.candidates.insert(sku, Vec::new());
        }
        view
    }

    #[test]
    fn opening_stock_is_set_so_a_re_run_moves_nothing() {
        let data = ImportData {
            items: vec![item("SKU-1", &[], false)],
            locations: vec![bin("A-01")],
            stock: vec![stock(2, "A-01", "SKU-1", None, 10)],
            ..ImportData::default()
        };
        let first = plan(&mut fresh(&data), &data).unwrap();
        assert_eq!(first.movements.len(), 1);
        assert_eq!(first.movements[0].delta, 10);
        assert_eq!(first.server_ops.len(), 1, "one opening_balance operation");
        assert_eq!(first.server_ops[0].kind, "opening_balance");

        // The same files again, over what the first import left.
        let mut view = fresh(&data);
        known_item(&mut view, "SKU-1");
        view.locations.insert("A-01".into(), Temperature::Ambient);
        view.stock.insert(StockKey::new("A-01", "SKU-1", None), 10);
        let again = plan(&mut view, &data).unwrap();
        assert!(again.movements.is_empty() && again.stock.is_empty());
        assert!(again.server_ops.is_empty(), "nothing moved, no operation");
    }

    #[test]
    fn the_lot_rule_asks_an_expiry_only_of_a_new_lot() {
        let dated = ItemRecord {
            expiry_tracked: true,
            ..item("LOT-1", &[], true)
        };
        let expiry = chrono::NaiveDate::from_ymd_opt(2027, 3, 1);
        let data = ImportData {
            items: vec![dated, item("SKU-1", &[], false)],
            locations: vec![bin("A-01")],
            stock: vec![stock(2, "A-01", "LOT-1", Some("L1"), 4)],
            ..ImportData::default()
        };
        let err = plan(&mut fresh(&data), &data).unwrap_err();
        assert_eq!(
            err,
            "stock.csv line 2: expiry: LOT-1 is expiry-tracked and lot L1 is new here: give its expiry YYYY-MM-DD"
        );

        // A lot the warehouse knows keeps its expiry: the row needs none.
        let mut view = fresh(&data);
        view.lots.insert(("LOT-1".into(), "L1".into()), expiry);
        let plan_ = plan(&mut view, &data).unwrap();
        assert_eq!(plan_.movements.len(), 1);
        assert_eq!(view.lots[&("LOT-1".into(), "L1".into())], expiry);

        // An item without lots takes no expiry.
        let data = ImportData {
            stock: vec![OpeningStock {
                expiry,
                ..stock(3, "A-01", "SKU-1", None, 1)
            }],
            ..data
        };
        let err = plan(&mut fresh(&data), &data).unwrap_err();
        assert_eq!(
            err,
            "stock.csv line 3: expiry: SKU-1 is not expiry-tracked: leave the expiry empty"
        );
    }

    #[test]
    fn the_first_bad_row_names_its_file_line_and_field() {
        let data = ImportData {
            items: vec![item("LOT-1", &[], true), item("SKU-1", &[], false)],
            locations: vec![bin("A-01")],
            stock: vec![
                stock(2, "A-01", "SKU-1", None, 1),
                stock(3, "A-01", "LOT-1", None, 1),
                stock(4, "Z-99", "SKU-1", None, 1),
            ],
            ..ImportData::default()
        };
        let err = plan(&mut fresh(&data), &data).unwrap_err();
        assert_eq!(
            err,
            "stock.csv line 3: lot: LOT-1 is lot-tracked: give its lot"
        );
        let data = ImportData {
            stock: vec![stock(4, "Z-99", "SKU-1", None, 1)],
            ..data
        };
        let err = plan(&mut fresh(&data), &data).unwrap_err();
        assert_eq!(err, "stock.csv line 4: location: unknown location Z-99");
        let data = ImportData {
            items: vec![],
            stock: vec![],
            order_lines: vec![order_line("SO-1", 1, "NOPE", 1)],
            ..data
        };
        let err = plan(&mut fresh(&data), &data).unwrap_err();
        assert_eq!(err, "orders.csv: SO-1: unknown SKU NOPE");
    }

    #[test]
    fn a_gtin_passes_only_from_an_item_earlier_in_the_file() {
        let mut view = BatchView::default();
        view.gtins.insert("G1".into(), "OLD".into());
        let passes = ImportData {
            items: vec![item("OLD", &[], false), item("NEW", &["G1"], false)],
            ..ImportData::default()
        };
        let plan_ok = plan(&mut view.clone(), &passes).unwrap();
        assert_eq!(plan_ok.items.len(), 2);
        let taken = ImportData {
            items: vec![item("NEW", &["G1"], false), item("OLD", &[], false)],
            ..ImportData::default()
        };
        let err = plan(&mut view, &taken).unwrap_err();
        assert_eq!(
            err,
            "items.csv: GTIN G1 of NEW already belongs to another item"
        );
    }

    #[test]
    fn imported_orders_are_allocated_against_the_stock_the_import_sets() {
        let data = ImportData {
            items: vec![item("SKU-1", &[], false)],
            locations: vec![bin("A-01")],
            stock: vec![stock(2, "A-01", "SKU-1", None, 5)],
            order_lines: vec![
                order_line("SO-1", 1, "SKU-1", 3),
                order_line("SO-2", 1, "SKU-1", 4),
            ],
            ..ImportData::default()
        };
        let plan = plan(&mut fresh(&data), &data).unwrap();
        let picked: Vec<(Option<&str>, i64)> = plan
            .tasks
            .values()
            .map(|t| (t.order.as_deref(), t.qty))
            .collect();
        assert_eq!(picked, vec![(Some("SO-1"), 3), (Some("SO-2"), 2)]);
        assert_eq!(plan.exceptions.len(), 1, "SO-2 is 2 short");
        assert_eq!(plan.exceptions[0].kind.as_str(), "allocation_short");
        assert_eq!(plan.orders["SO-1"], OrderStatus::Allocated);
        assert!(plan.workflow_starts.contains("SO-2"));
    }

    #[test]
    fn a_re_imported_line_keeps_its_status_and_is_not_allocated_twice() {
        let data = ImportData {
            order_lines: vec![
                order_line("SO-1", 1, "SKU-1", 9),
                order_line("SO-1", 2, "SKU-1", 1),
            ],
            asn_lines: vec![AsnLine {
                asn: "ASN-1".into(),
                line: 1,
                sku: "SKU-1".into(),
                expected_qty: 20,
                supplier: "s".into(),
            }],
            ..ImportData::default()
        };
        let mut view = fresh(&data);
        known_item(&mut view, "SKU-1");
        view.order_lines.insert(
            "SO-1".into(),
            vec![super::super::StoredLine {
                record: OrderLineRecord {
                    order: "SO-1".into(),
                    line: 1,
                    sku: "SKU-1".into(),
                    qty: 2,
                    customer: "c".into(),
                    status: OrderStatus::Allocated,
                },
                tasked: true,
            }],
        );
        view.asns.insert(
            "ASN-1".into(),
            vec![AsnLineRecord {
                asn: "ASN-1".into(),
                line: 1,
                sku: "SKU-1".into(),
                supplier: "s".into(),
                expected_qty: 10,
                received_qty: 7,
                damaged_qty: 1,
                closed: false,
            }],
        );
        let plan = plan(&mut view, &data).unwrap();
        let statuses: Vec<(u32, &str, i64)> = plan
            .order_lines
            .iter()
            .map(|l| (l.line, l.status.as_str(), l.qty))
            .collect();
        assert_eq!(statuses, vec![(1, "allocated", 9), (2, "open", 1)]);
        // Only the new line is tried (there is no stock: it is short).
        assert_eq!(plan.exceptions.len(), 1);
        assert!(
            plan.exceptions[0].message.contains("line 2"),
            "{:?}",
            plan.exceptions
        );
        let asn = &plan.asn_lines[&("ASN-1".to_owned(), 1)];
        assert_eq!(
            (asn.expected_qty, asn.received_qty, asn.damaged_qty),
            (20, 7, 1)
        );
    }
}
