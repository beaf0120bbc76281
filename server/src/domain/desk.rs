//! The supervisor's own writes, decided once, in pure code, over a view the
//! backend loaded ([`crate::storage::Storage::transact`]): a blind count
//! task, and an exception resolved with a note. The backends only load and
//! write.

use std::collections::BTreeSet;

use pyck_sync::records::{TaskKind, TaskRecord, TaskStatus};

use super::{BatchView, Needs};
use crate::push::Plan;

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
    ex.status = "resolved".into();
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

    #[test]
    fn resolving_leaves_the_task_counter_where_it_was() {
        let mut view = view();
        let ex = pyck_sync::records::ExceptionRecord {
            id: "x1".into(),
            kind: "count_difference".into(),
            status: "open".into(),
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
        assert_eq!(plan.resolved[0].0.status, "resolved");
        assert_eq!(plan.next_task, 7);
        assert!(resolve(&view, "x2", "seen").is_none());
    }
}
