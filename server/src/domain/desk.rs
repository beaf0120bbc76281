//! The supervisor's own writes, decided once, in pure code, over a view the
//! backend loaded ([`crate::storage::Storage::transact`]): a new order with
//! its allocation, a blind count task, and an exception resolved with a
//! note. The backends only load and write.

use std::collections::{BTreeSet, HashMap};

use pyck_vocab::records::{
    ExceptionKind, ExceptionStatus, OrderLineRecord, OrderStatus, TaskKind, TaskRecord, TaskStatus,
};
use uuid::Uuid;

use super::{BatchView, Needs, NewException, orders};
use crate::import::OrderLine;
use crate::push::Plan;

/// Why a supervisor's write is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    #[error("{0} already exists")]
    Exists(String),
    /// The message names the field and what is wrong.
    #[error("{0}")]
    Invalid(String),
}

/// What a new order needs loaded: whether it exists, its items, and the
/// pickable stock of its SKUs.
pub fn order_needs(lines: &[OrderLine]) -> Needs {
    let skus: BTreeSet<String> = lines.iter().map(|l| l.sku.clone()).collect();
    Needs {
        orders: lines.iter().map(|l| l.order.clone()).collect(),
        candidate_skus: skus.clone(),
        skus,
        ..Needs::default()
    }
}

/// A new order (every line of one order number), allocated at once: pick
/// tasks first-expiry-first (as the warehouse's FEFO setting says) for what
/// stock covers, `allocation_short` for what it does not, `fefo_breach` in
/// `warn` mode for a later lot taken while an earlier one waits, the order
/// `allocated`, and its fulfilment workflow started. Refused when the order
/// exists or names an unknown SKU.
pub fn create_order(view: &BatchView, lines: &[OrderLine]) -> Result<Plan, Refused> {
    let Some(order) = lines.first().map(|l| l.order.clone()) else {
        return Err(Refused::Invalid(
            "lines: an order needs at least one line".into(),
        ));
    };
    if view.orders.contains_key(&order) {
        return Err(Refused::Exists(format!("order {order:?}")));
    }
    for l in lines {
        if !view.items.contains_key(&l.sku) {
            return Err(Refused::Invalid(format!(
                "lines: line {}: unknown SKU {}",
                l.line, l.sku
            )));
        }
    }
    let records: Vec<OrderLineRecord> = lines
        .iter()
        .map(|l| OrderLineRecord {
            order: l.order.clone(),
            line: l.line,
            sku: l.sku.clone(),
            qty: l.qty,
            customer: l.customer.clone(),
            status: OrderStatus::Open,
        })
        .collect();
    let mut plan = Plan::over(view);
    allocate_raising(view, &mut plan, &records);
    plan.orders.insert(order.clone(), OrderStatus::Allocated);
    plan.workflow_starts.insert(order);
    plan.order_lines = records;
    Ok(plan)
}

/// What the workflow's reserve step needs loaded: the order's lines that
/// have no pick task yet, with their items and stock.
pub fn reserve_needs(order: &str) -> Needs {
    Needs {
        order_lines: BTreeSet::from([order.to_owned()]),
        ..Needs::default()
    }
}

/// The reserve step: pick tasks for the order's lines that have none yet,
/// as far as stock goes (what it cannot cover stays in
/// [`Plan::shortfalls`], raising nothing: the step retries); the order is
/// `allocated` when a line was tried. Idempotent: a reserved line is not
/// tried again.
pub fn reserve(view: &BatchView, order: &str) -> Plan {
    let mut plan = Plan::over(view);
    let lines: Vec<OrderLineRecord> = view
        .order_lines
        .get(order)
        .into_iter()
        .flatten()
        .filter(|l| !l.tasked && l.record.status != OrderStatus::Cancelled)
        .map(|l| l.record.clone())
        .collect();
    if lines.is_empty() {
        return plan;
    }
    let done = allocate(view, &mut plan, &lines);
    plan.orders.insert(order.to_owned(), OrderStatus::Allocated);
    plan.shortfalls = done.short;
    plan
}

/// Allocates `lines` as a new order's: what stock cannot cover raises
/// `allocation_short`, and in FEFO `warn` mode a later lot taken while an
/// earlier one waits raises `fefo_breach`.
pub(super) fn allocate_raising(view: &BatchView, plan: &mut Plan, lines: &[OrderLineRecord]) {
    let done = allocate(view, plan, lines);
    let at = view.now.unwrap_or_else(chrono::Utc::now);
    let raise = |kind, message, order: &str, sku: &str, location, lot| NewException {
        id: Uuid::now_v7(),
        op: None,
        kind,
        message,
        order: Some(order.to_owned()),
        asn: None,
        location,
        sku: Some(sku.to_owned()),
        lot,
        at,
    };
    for (order, line, sku, short) in &done.short {
        let message = format!(
            "order {order} line {line}: {short} of {sku} could not be allocated (not enough pickable stock)"
        );
        plan.exceptions.push(raise(
            ExceptionKind::AllocationShort,
            message,
            order,
            sku,
            None,
            None,
        ));
    }
    if view.settings.fefo == crate::settings::Fefo::Warn {
        for (order, _, sku, w) in &done.waiting {
            let message = super::fefo_waiting_message(order, sku, w);
            plan.exceptions.push(raise(
                ExceptionKind::FefoBreach,
                message,
                order,
                sku,
                Some(w.location.clone()),
                w.lot.clone(),
            ));
        }
    }
}

/// Allocates `lines` against the view's pickable stock (FEFO as the
/// warehouse says), numbering their pick tasks into `plan`; returns what
/// could not be covered or kept FEFO only in part.
fn allocate(view: &BatchView, plan: &mut Plan, lines: &[OrderLineRecord]) -> orders::Allocated {
    let tracked: HashMap<String, bool> = lines
        .iter()
        .map(|l| {
            let t = view.items.get(&l.sku).is_some_and(|i| i.expiry_tracked);
            (l.sku.clone(), t)
        })
        .collect();
    let mut candidates = view.candidates.clone();
    let mut done = orders::allocate_lines(
        lines,
        &mut candidates,
        &tracked,
        view.today,
        plan.next_task,
        view.settings.fefo,
    );
    plan.next_task = done.next_task;
    for t in std::mem::take(&mut done.tasks) {
        plan.tasks.insert(t.id.clone(), t);
    }
    done
}

/// What compensating an order needs loaded: its tasks (and the open ones
/// out of its staging location), its staged stock, and that location.
pub fn compensate_needs(order: &str) -> Needs {
    Needs {
        order_tasks: BTreeSet::from([order.to_owned()]),
        staged_orders: BTreeSet::from([order.to_owned()]),
        locations: BTreeSet::from([super::staging(order)]),
        ..Needs::default()
    }
}

/// Compensation of a cancelled order: its open picks cancelled; what was
/// picked (staged at `STAGE:<order>`) goes back to stock through putaway
/// tasks to the bin its first pick took it from; the order cancelled. Safe
/// to run again: cancelled tasks stay cancelled and staged goods an open
/// return task already covers get no second one.
pub fn compensate(view: &BatchView, order: &str) -> Plan {
    let mut plan = Plan::over(view);
    let stage = super::staging(order);
    let of_order = |t: &&TaskRecord| t.order.as_deref() == Some(order);
    for t in view.tasks.values().filter(of_order) {
        if t.kind == TaskKind::Pick && t.status == TaskStatus::Open {
            let mut cancelled = t.clone();
            cancelled.status = TaskStatus::Cancelled;
            plan.tasks.insert(cancelled.id.clone(), cancelled);
        }
    }
    let mut staged: Vec<(&super::StockKey, i64)> = view
        .stock
        .iter()
        .filter(|(k, qty)| k.location == stage && **qty > 0)
        .map(|(k, qty)| (k, *qty))
        .collect();
    staged.sort();
    let mut next = plan.next_task;
    for (key, qty) in staged {
        let same_goods = |t: &&TaskRecord| {
            t.sku.as_deref() == Some(key.sku.as_str()) && t.lot.as_deref() == key.lot()
        };
        let covered: i64 = view
            .tasks
            .values()
            .filter(|t| t.kind == TaskKind::Putaway && t.status == TaskStatus::Open)
            .filter(|t| t.location == stage)
            .filter(same_goods)
            .map(|t| t.qty - t.done_qty)
            .sum();
        let left = qty - covered;
        if left <= 0 {
            continue;
        }
        let back_to = view
            .tasks
            .values()
            .filter(of_order)
            .filter(|t| t.kind == TaskKind::Pick && t.done_qty > 0)
            .filter(same_goods)
            .min_by_key(|t| t.sequence)
            .map(|t| t.location.clone());
        let staged = crate::workflow::effects::Staged {
            sku: key.sku.clone(),
            lot: key.lot.clone(),
            qty: left,
            back_to,
            zone: view.zones.get(&stage).cloned(),
        };
        let task = crate::workflow::effects::return_to_stock(&stage, staged, next as i64);
        plan.tasks.insert(task.id.clone(), task);
        next += 1;
    }
    plan.next_task = next;
    plan.orders.insert(order.to_owned(), OrderStatus::Cancelled);
    plan
}

/// What a count task needs loaded: its location.
pub fn count_task_needs(location: &str) -> Needs {
    Needs {
        locations: BTreeSet::from([location.to_owned()]),
        ..Needs::default()
    }
}

/// A blind count task at `location` (of one SKU, or of all there), numbered
/// by the warehouse's task counter. Refused when the warehouse has no such
/// location.
pub fn count_task(view: &BatchView, location: &str, sku: Option<&str>) -> Result<Plan, String> {
    let Some(zone) = view.zones.get(location) else {
        return Err(format!(
            "location: no location {location} in this warehouse"
        ));
    };
    let mut plan = Plan::over(view);
    let n = plan.next_task;
    let task = TaskRecord {
        id: format!("T{n}"),
        kind: TaskKind::Count,
        status: TaskStatus::Open,
        order: None,
        line: None,
        sku: sku.map(str::to_owned),
        lot: None,
        location: location.to_owned(),
        to: None,
        qty: 0,
        done_qty: 0,
        zone: zone.clone(),
        sequence: n,
    };
    plan.tasks.insert(task.id.clone(), task);
    plan.next_task = n + 1;
    Ok(plan)
}

/// What resolving an exception needs loaded: the exception.
pub fn resolve_needs(id: &str) -> Needs {
    Needs {
        exceptions: BTreeSet::from([id.to_owned()]),
        ..Needs::default()
    }
}

/// The exception resolved with `note`, as a device's `resolve_exception`
/// operation resolves it; `None` when the warehouse has no such exception.
/// Resolving it again keeps it resolved with the new note.
pub fn resolve(view: &BatchView, id: &str, note: &str) -> Option<Plan> {
    let mut ex = view.exceptions.get(id)?.clone();
    ex.status = ExceptionStatus::Resolved;
    let mut plan = Plan::over(view);
    plan.resolved.push((ex, note.to_owned()));
    Some(plan)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view() -> BatchView {
        let mut view = BatchView {
            next_task: 7,
            ..BatchView::default()
        };
        view.zones.insert("A-01".into(), "A".into());
        view
    }

    #[test]
    fn a_count_task_takes_the_next_number_and_the_bins_zone() {
        let plan = count_task(&view(), "A-01", Some("SKU-1")).unwrap();
        let task = &plan.tasks["T7"];
        assert_eq!(
            (task.kind, task.zone.as_str(), task.sequence),
            (TaskKind::Count, "A", 7)
        );
        assert_eq!((plan.first_new_task, plan.next_task), (7, 8));
        let err = count_task(&view(), "Z-99", None).unwrap_err();
        assert!(err.starts_with("location: no location Z-99"), "{err}");
    }

    fn line(n: u32, sku: &str, qty: i64) -> OrderLine {
        OrderLine {
            order: "SO-1".into(),
            line: n,
            sku: sku.into(),
            qty,
            customer: "c".into(),
        }
    }

    #[test]
    fn a_new_order_is_allocated_short_where_stock_ends_and_started() {
        let mut view = view();
        let facts = super::super::ItemFacts {
            lot_tracked: false,
            expiry_tracked: false,
            temperature: pyck_vocab::records::Temperature::Ambient,
        };
        view.items.insert("SKU-1".into(), facts);
        view.candidates.insert(
            "SKU-1".into(),
            vec![crate::domain::allocation::Candidate {
                location: "A-01".into(),
                zone: "A".into(),
                is_dock: false,
                lot: None,
                expiry: None,
                available: 5,
            }],
        );
        let plan = create_order(&view, &[line(1, "SKU-1", 3), line(2, "SKU-1", 4)]).unwrap();
        let qtys: Vec<i64> = plan.tasks.values().map(|t| t.qty).collect();
        assert_eq!(qtys, [3, 2], "line 2 gets what line 1 left");
        assert_eq!((plan.first_new_task, plan.next_task), (7, 9));
        assert_eq!(plan.exceptions.len(), 1);
        let short = &plan.exceptions[0];
        assert_eq!(
            (short.kind, short.op),
            (ExceptionKind::AllocationShort, None)
        );
        assert!(
            short.message.contains("line 2: 2 of SKU-1"),
            "{}",
            short.message
        );
        assert_eq!(plan.orders["SO-1"], OrderStatus::Allocated);
        assert!(plan.workflow_starts.contains("SO-1"));
        assert_eq!(plan.order_lines.len(), 2);

        let unknown = create_order(&view, &[line(1, "SKU-9", 1)]).unwrap_err();
        assert_eq!(
            unknown,
            Refused::Invalid("lines: line 1: unknown SKU SKU-9".into())
        );
        view.orders.insert("SO-1".into(), OrderStatus::Open);
        let again = create_order(&view, &[line(1, "SKU-1", 1)]).unwrap_err();
        assert_eq!(again, Refused::Exists("order \"SO-1\"".into()));
    }

    #[test]
    fn reserve_tries_the_unreserved_lines_and_says_which_found_no_stock() {
        let mut view = view();
        view.candidates.insert(
            "SKU-1".into(),
            vec![crate::domain::allocation::Candidate {
                location: "A-01".into(),
                zone: "A".into(),
                is_dock: false,
                lot: None,
                expiry: None,
                available: 2,
            }],
        );
        let record = |n: u32, sku: &str, qty: i64| OrderLineRecord {
            order: "SO-1".into(),
            line: n,
            sku: sku.into(),
            qty,
            customer: "c".into(),
            status: OrderStatus::Open,
        };
        let stored = |record, tasked| crate::domain::StoredLine { record, tasked };
        view.order_lines.insert(
            "SO-1".into(),
            vec![
                stored(record(1, "SKU-1", 5), false),
                stored(record(2, "SKU-2", 1), false),
                stored(record(3, "SKU-1", 1), true),
            ],
        );
        let plan = reserve(&view, "SO-1");
        assert_eq!(plan.tasks.len(), 1, "line 1 gets what there is");
        assert!(
            plan.exceptions.is_empty(),
            "the step retries; it raises nothing"
        );
        assert_eq!(plan.orders["SO-1"], OrderStatus::Allocated);
        let outcome = crate::workflow::effects::reserve_outcome(&plan);
        assert_eq!(
            outcome,
            crate::workflow::machine::Outcome::Failed(
                "no pickable stock for line 2 (SKU-2)".into()
            )
        );
        // Nothing left to reserve: nothing changes, and the step is done.
        let done = reserve(&self::view(), "SO-1");
        assert!(done.tasks.is_empty() && done.orders.is_empty());
        assert_eq!(
            crate::workflow::effects::reserve_outcome(&done),
            crate::workflow::machine::Outcome::Done
        );
    }

    fn task(id: &str, kind: TaskKind, status: TaskStatus, order: Option<&str>) -> TaskRecord {
        TaskRecord {
            id: id.into(),
            kind,
            status,
            order: order.map(str::to_owned),
            line: order.map(|_| 1),
            sku: Some("SKU-1".into()),
            lot: Some("L1".into()),
            location: "A-01".into(),
            to: None,
            qty: 4,
            done_qty: 0,
            zone: "A".into(),
            sequence: 3,
        }
    }

    #[test]
    fn compensation_cancels_open_picks_and_sends_what_is_left_staged_back() {
        let mut view = view();
        let stage = super::super::staging("SO-1");
        let open = task("T1", TaskKind::Pick, TaskStatus::Open, Some("SO-1"));
        let mut done = task("T2", TaskKind::Pick, TaskStatus::Done, Some("SO-1"));
        done.done_qty = 4;
        done.location = "B-02".into();
        // 1 of the 4 staged is already on its way back.
        let mut returning = task("T3", TaskKind::Putaway, TaskStatus::Open, None);
        returning.location = stage.clone();
        returning.qty = 1;
        for t in [open, done, returning] {
            view.tasks.insert(t.id.clone(), t);
        }
        view.stock
            .insert(super::super::StockKey::new(&stage, "SKU-1", Some("L1")), 4);
        view.zones.insert(stage.clone(), "S".into());
        let plan = compensate(&view, "SO-1");
        assert_eq!(plan.tasks["T1"].status, TaskStatus::Cancelled);
        let back = &plan.tasks["T7"];
        assert_eq!(
            (
                back.kind,
                back.location.as_str(),
                back.to.as_deref(),
                back.qty,
                back.zone.as_str()
            ),
            (TaskKind::Putaway, stage.as_str(), Some("B-02"), 3, "S")
        );
        assert_eq!(plan.tasks.len(), 2, "the done pick is left as it is");
        assert_eq!(
            (plan.next_task, plan.orders["SO-1"]),
            (8, OrderStatus::Cancelled)
        );

        // Run again over what it left: nothing new to send back.
        let mut after = view.clone();
        for t in plan.tasks.values() {
            after.tasks.insert(t.id.clone(), t.clone());
        }
        after.next_task = plan.next_task;
        let again = compensate(&after, "SO-1");
        assert!(
            again.tasks.values().all(|t| t.id != "T8"),
            "no second return task"
        );
    }

    #[test]
    fn resolving_leaves_the_task_counter_where_it_was() {
        let mut view = view();
        let ex = pyck_vocab::records::ExceptionRecord {
            id: "x1".into(),
            kind: ExceptionKind::CountDifference,
            status: ExceptionStatus::Open,
            message: "3 more".into(),
            order: None,
            asn: None,
            location: None,
            sku: None,
            lot: None,
            raised_at: chrono::Utc::now(),
        };
        view.exceptions.insert("x1".into(), ex);
        let plan = resolve(&view, "x1", "seen").unwrap();
        assert_eq!(plan.resolved[0].0.status, ExceptionStatus::Resolved);
        assert_eq!(plan.next_task, 7);
        assert!(resolve(&view, "x2", "seen").is_none());
    }
}
