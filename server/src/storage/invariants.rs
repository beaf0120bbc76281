//! The business invariants `verify` checks besides the ledger's, decided
//! once for both backends: a backend loads the rows below (plain reads), and
//! [`check`] says what is wrong with them.
//!
//! - A shipped or cancelled order has no open task, and nothing waits in its
//!   staging location that no open task takes back to stock (a pick that
//!   reached the server after the ship or the cancel left goods there, with
//!   a return-to-stock task: that is work to do, not stock forgotten).
//! - Every receipt on a closed ASN line raised `receipt_on_closed_asn`: what
//!   a closed line received after its close equals what the receipts that
//!   raised it brought.

use pyck_vocab::records::OrderStatus;
use std::collections::BTreeMap;

use super::Discrepancy;
use crate::domain::staging;

/// What a backend reads for [`check`], every row naming its warehouse by
/// code.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BusinessFacts {
    /// Orders whose status is `shipped` or `cancelled`.
    pub closed_orders: Vec<ClosedOrder>,
    /// Open tasks of those orders, and open tasks out of any staging
    /// location (`STAGE:…`).
    pub open_tasks: Vec<OpenTask>,
    /// Non-zero stock at staging locations.
    pub staged: Vec<Staged>,
    /// Closed ASN lines: units (good and damaged) received after the close,
    /// summed by ASN and SKU.
    pub after_close: Vec<AsnArrivals>,
    /// Units (good and damaged) of the applied receipts that raised
    /// `receipt_on_closed_asn`, summed by ASN and SKU.
    pub raised: Vec<AsnArrivals>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClosedOrder {
    pub warehouse: String,
    pub order: String,
    pub status: OrderStatus,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenTask {
    pub warehouse: String,
    pub id: String,
    pub kind: String,
    pub order: Option<String>,
    pub location: String,
    /// `""` when the task names none, as stock rows store a missing lot.
    pub sku: String,
    pub lot: String,
    /// Units still to do.
    pub remaining: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Staged {
    pub warehouse: String,
    pub location: String,
    pub sku: String,
    pub lot: String,
    pub qty: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AsnArrivals {
    pub warehouse: String,
    pub asn: String,
    pub sku: String,
    pub units: i64,
}

fn lot_suffix(lot: &str) -> String {
    if lot.is_empty() {
        String::new()
    } else {
        format!(" lot {lot}")
    }
}

/// What is wrong with the facts, in a stable order.
pub fn check(facts: &BusinessFacts) -> Vec<Discrepancy> {
    let mut out = Vec::new();
    let closed: BTreeMap<(&str, &str), OrderStatus> = facts
        .closed_orders
        .iter()
        .map(|o| ((o.warehouse.as_str(), o.order.as_str()), o.status))
        .collect();
    let mut tasks: Vec<&OpenTask> = facts.open_tasks.iter().collect();
    tasks.sort_by(|a, b| (&a.warehouse, &a.id).cmp(&(&b.warehouse, &b.id)));
    for t in &tasks {
        let Some(order) = t.order.as_deref() else {
            continue;
        };
        if let Some(status) = closed.get(&(t.warehouse.as_str(), order)) {
            out.push(Discrepancy {
                check: "closed_order_has_no_open_task",
                detail: format!(
                    "warehouse {} order {order} is {status}, but its {} task {} at {} is open",
                    t.warehouse, t.kind, t.id, t.location
                ),
            });
        }
    }
    // What open tasks will take out of each staging key.
    let mut returning: BTreeMap<(&str, &str, &str, &str), i64> = BTreeMap::new();
    for t in &tasks {
        *returning
            .entry((&t.warehouse, &t.location, &t.sku, &t.lot))
            .or_default() += t.remaining.max(0);
    }
    for ((warehouse, order), status) in &closed {
        let stage = staging(order);
        let mut staged: Vec<&Staged> = facts
            .staged
            .iter()
            .filter(|s| s.warehouse == *warehouse && s.location == stage)
            .collect();
        staged.sort_by(|a, b| (&a.sku, &a.lot).cmp(&(&b.sku, &b.lot)));
        for s in staged {
            let covered = returning
                .get(&(*warehouse, stage.as_str(), s.sku.as_str(), s.lot.as_str()))
                .copied()
                .unwrap_or(0);
            if s.qty != 0 && s.qty > covered {
                out.push(Discrepancy {
                    check: "closed_order_nothing_staged",
                    detail: format!(
                        "warehouse {warehouse} order {order} is {status}, but {} of {}{} wait at {stage} and open tasks take back {covered}",
                        s.qty,
                        s.sku,
                        lot_suffix(&s.lot)
                    ),
                });
            }
        }
    }
    let sum = |rows: &[AsnArrivals]| {
        let mut by: BTreeMap<(String, String, String), i64> = BTreeMap::new();
        for r in rows {
            *by.entry((r.warehouse.clone(), r.asn.clone(), r.sku.clone()))
                .or_default() += r.units;
        }
        by
    };
    let (after, raised) = (sum(&facts.after_close), sum(&facts.raised));
    let mut keys: Vec<&(String, String, String)> = after.keys().chain(raised.keys()).collect();
    keys.sort();
    keys.dedup();
    for key in keys {
        let (a, r) = (
            after.get(key).copied().unwrap_or(0),
            raised.get(key).copied().unwrap_or(0),
        );
        if a != r {
            let (warehouse, asn, sku) = key;
            out.push(Discrepancy {
                check: "receipt_on_closed_asn_raised",
                detail: format!(
                    "warehouse {warehouse} ASN {asn} {sku}: {a} units received after the close, but receipt_on_closed_asn exceptions account for {r}"
                ),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn order(order: &str, status: OrderStatus) -> ClosedOrder {
        ClosedOrder {
            warehouse: "DC1".into(),
            order: order.into(),
            status,
        }
    }

    fn task(id: &str, order: Option<&str>, location: &str, remaining: i64) -> OpenTask {
        OpenTask {
            warehouse: "DC1".into(),
            id: id.into(),
            kind: if order.is_some() { "pick" } else { "putaway" }.into(),
            order: order.map(str::to_owned),
            location: location.into(),
            sku: "SKU-1".into(),
            lot: String::new(),
            remaining,
        }
    }

    fn staged(location: &str, qty: i64) -> Staged {
        Staged {
            warehouse: "DC1".into(),
            location: location.into(),
            sku: "SKU-1".into(),
            lot: String::new(),
            qty,
        }
    }

    fn arrivals(units: i64) -> AsnArrivals {
        AsnArrivals {
            warehouse: "DC1".into(),
            asn: "ASN-1".into(),
            sku: "SKU-2".into(),
            units,
        }
    }

    #[test]
    fn open_work_of_a_shipped_order_is_named() {
        let facts = BusinessFacts {
            closed_orders: vec![
                order("SO-1", OrderStatus::Shipped),
                order("SO-2", OrderStatus::Cancelled),
            ],
            open_tasks: vec![
                task("T1", Some("SO-1"), "A-01", 5),
                task("T2", Some("SO-3"), "A-01", 5),
                task("T3", None, "STAGE:SO-2", 4),
            ],
            staged: vec![
                staged("STAGE:SO-1", 120),
                staged("STAGE:SO-2", 4),
                staged("STAGE:SO-3", 9),
            ],
            ..BusinessFacts::default()
        };
        let found = check(&facts);
        let details: Vec<_> = found.iter().map(|d| d.to_string()).collect();
        assert_eq!(
            details,
            vec![
                "closed_order_has_no_open_task: warehouse DC1 order SO-1 is shipped, but its pick task T1 at A-01 is open",
                "closed_order_nothing_staged: warehouse DC1 order SO-1 is shipped, but 120 of SKU-1 wait at STAGE:SO-1 and open tasks take back 0",
            ]
        );
    }

    #[test]
    fn receipts_after_a_close_must_each_have_raised() {
        let ok = BusinessFacts {
            after_close: vec![arrivals(30)],
            raised: vec![arrivals(10), arrivals(20)],
            ..BusinessFacts::default()
        };
        assert_eq!(check(&ok), vec![]);
        let silent = BusinessFacts {
            after_close: vec![arrivals(30)],
            raised: vec![arrivals(10)],
            ..BusinessFacts::default()
        };
        assert_eq!(
            check(&silent)[0].to_string(),
            "receipt_on_closed_asn_raised: warehouse DC1 ASN ASN-1 SKU-2: 30 units received after the close, but receipt_on_closed_asn exceptions account for 10"
        );
    }
}
