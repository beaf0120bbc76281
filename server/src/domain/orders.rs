//! Allocating new order lines to pick tasks (at import, or when an order is
//! created over GraphQL).

use std::collections::HashMap;

use chrono::NaiveDate;
use pyck_vocab::records::{OrderLineRecord, TaskKind, TaskRecord, TaskStatus};

use super::allocation::{self, Candidate};
use crate::settings::Fefo;

/// What allocating a set of order lines produced.
#[derive(Debug, Default)]
pub struct Allocated {
    pub tasks: Vec<TaskRecord>,
    /// (order, line, units no stock could cover).
    pub short: Vec<(String, u32, String, i64)>,
    /// (order, line, sku, the earlier lot waiting at a dock) where FEFO was
    /// kept only in part: a later lot allocated (`warn`) or the line left
    /// short (`refuse`).
    pub waiting: Vec<(String, u32, String, allocation::Waiting)>,
    pub next_task: u64,
}

/// Allocates `lines` in order, each against what the ones before it left.
/// `candidates` is pickable stock by SKU net of open reservations;
/// `expiry_tracked` says which SKUs go first-expiry-first.
pub fn allocate_lines(
    lines: &[OrderLineRecord],
    candidates: &mut HashMap<String, Vec<Candidate>>,
    expiry_tracked: &HashMap<String, bool>,
    today: NaiveDate,
    mut next_task: u64,
    fefo: Fefo,
) -> Allocated {
    // Ids and sequence numbers are given once all lines are allocated.
    let mut out = Allocated::default();
    for line in lines {
        let stock = candidates.entry(line.sku.clone()).or_default();
        let tracked = expiry_tracked.get(&line.sku).copied().unwrap_or(false);
        let found = allocation::allocate(line.qty, tracked, stock, today, fefo);
        if let Some(w) = found.waiting {
            out.waiting
                .push((line.order.clone(), line.line, line.sku.clone(), w));
        }
        for pick in found.picks {
            if let Some(c) = stock
                .iter_mut()
                .find(|c| c.location == pick.location && c.lot == pick.lot)
            {
                c.available -= pick.qty;
            }
            out.tasks.push(TaskRecord {
                id: String::new(),
                kind: TaskKind::Pick,
                status: TaskStatus::Open,
                order: Some(line.order.clone()),
                line: Some(line.line),
                sku: Some(line.sku.clone()),
                lot: pick.lot,
                location: pick.location,
                to: None,
                qty: pick.qty,
                done_qty: 0,
                zone: pick.zone,
                sequence: 0,
            });
        }
        if found.short > 0 {
            out.short
                .push((line.order.clone(), line.line, line.sku.clone(), found.short));
        }
    }
    // Numbered in walking order: by zone, then along the location codes, so
    // a picker working down the list walks each zone once.
    out.tasks.sort_by(|a, b| {
        a.zone
            .cmp(&b.zone)
            .then_with(|| allocation::walk_key(&a.location).cmp(&allocation::walk_key(&b.location)))
    });
    for task in &mut out.tasks {
        task.id = format!("T{next_task}");
        task.sequence = next_task;
        next_task += 1;
    }
    out.next_task = next_task;
    out
}

#[cfg(test)]
mod tests {
    use pyck_vocab::records::OrderStatus;

    use super::*;

    fn line(order: &str, line: u32, sku: &str, qty: i64) -> OrderLineRecord {
        OrderLineRecord {
            order: order.into(),
            line,
            sku: sku.into(),
            qty,
            customer: "c".into(),
            status: OrderStatus::Open,
        }
    }

    fn cand(location: &str, zone: &str, available: i64) -> Candidate {
        Candidate {
            location: location.into(),
            zone: zone.into(),
            is_dock: false,
            lot: None,
            expiry: None,
            available,
        }
    }

    #[test]
    fn lines_share_stock_and_tasks_are_numbered_in_walking_order() {
        let mut stock = HashMap::from([
            (
                "A".to_owned(),
                vec![cand("AMB-10", "AMB", 5), cand("AMB-2", "AMB", 5)],
            ),
            ("B".to_owned(), vec![cand("CHL-1", "CHL", 3)]),
        ]);
        let lines = [
            line("SO-1", 1, "B", 2),
            line("SO-1", 2, "A", 4),
            line("SO-2", 1, "A", 4),
            line("SO-2", 2, "B", 2),
        ];
        let today = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
        let done = allocate_lines(&lines, &mut stock, &HashMap::new(), today, 7, Fefo::Warn);
        let got: Vec<_> = done
            .tasks
            .iter()
            .map(|t| (t.id.as_str(), t.location.as_str(), t.qty))
            .collect();
        assert_eq!(
            got,
            vec![
                ("T7", "AMB-2", 4),
                ("T8", "AMB-2", 1),
                ("T9", "AMB-10", 3),
                ("T10", "CHL-1", 2),
                ("T11", "CHL-1", 1)
            ]
        );
        assert_eq!(done.short, vec![("SO-2".to_owned(), 2, "B".to_owned(), 1)]);
        assert_eq!(done.next_task, 12);
    }
}
