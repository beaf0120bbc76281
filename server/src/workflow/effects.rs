//! What the workflow's storage effects produce, computed once for both
//! backends: the reserve step's outcome, a return-to-stock task, and a
//! step's plan (the transition, its history and the `pick_overdue`
//! exception), stored through [`crate::storage::Storage::transact`]. The
//! backends only read and write rows.

use chrono::Utc;
use pyck_vocab::records::{ExceptionKind, TaskKind, TaskRecord, TaskStatus};

use super::machine::{Outcome, Transition, Workflow};
use crate::domain::{BatchView, Needs, NewException};
use crate::push::{Plan, WorkflowStep};

/// The reserve step is done when every line it tried got a pick task: a
/// shortfall of a line with no task of the plan is a line left unreserved.
pub fn reserve_outcome(plan: &crate::push::Plan) -> Outcome {
    let unreserved: Vec<String> = plan
        .shortfalls
        .iter()
        .filter(|(order, line, _, _)| {
            !plan
                .tasks
                .values()
                .any(|t| t.order.as_ref() == Some(order) && t.line == Some(*line))
        })
        .map(|(_, line, sku, _)| format!("line {line} ({sku})"))
        .collect();
    if unreserved.is_empty() {
        Outcome::Done
    } else {
        Outcome::Failed(format!("no pickable stock for {}", unreserved.join(", ")))
    }
}

/// Staged goods of a cancelled order, as one staged row.
pub struct Staged {
    pub sku: String,
    /// `""` for no lot, as stock rows store it.
    pub lot: String,
    /// Staged and not yet covered by an open return task.
    pub qty: i64,
    /// The bin they were picked from, if a done pick says so.
    pub back_to: Option<String>,
    /// The staging location's zone.
    pub zone: Option<String>,
}

/// A putaway task taking staged goods back to stock, numbered `n`.
pub fn return_to_stock(stage: &str, staged: Staged, n: i64) -> TaskRecord {
    TaskRecord {
        id: format!("T{n}"),
        kind: TaskKind::Putaway,
        status: TaskStatus::Open,
        order: None,
        line: None,
        sku: Some(staged.sku),
        lot: (!staged.lot.is_empty()).then_some(staged.lot),
        location: stage.to_owned(),
        to: staged.back_to,
        qty: staged.qty,
        done_qty: 0,
        zone: staged.zone.unwrap_or_default(),
        sequence: n as u64,
    }
}

/// What the workflow's lease loads to store a step: whether `owner` still
/// holds the lease on `order`, and its history so far.
pub fn step_needs(order: &str, owner: &str) -> Needs {
    Needs {
        workflow_lease: Some((order.to_owned(), owner.to_owned())),
        ..Needs::default()
    }
}

/// A transition as a plan: the workflow row and its new history rows (each
/// a `workflow_step` event), and the `pick_overdue` exception it may raise.
/// Nothing when the lease was lost: another replica took the workflow over.
pub fn step_plan(view: &BatchView, wf: &Workflow, t: Transition) -> Plan {
    let mut plan = Plan::over(view);
    let Some(done) = view.workflow_history else {
        return plan;
    };
    if t.raise_pick_overdue {
        let reason = t
            .history
            .iter()
            .find_map(|a| a.error.clone())
            .unwrap_or_else(|| "picks still open at the deadline".into());
        plan.exceptions.push(NewException {
            id: uuid::Uuid::now_v7(),
            op: None,
            kind: ExceptionKind::PickOverdue,
            message: format!("order {}: {reason}", wf.order),
            order: Some(wf.order.clone()),
            asn: None,
            location: None,
            sku: None,
            lot: None,
            at: view.now.unwrap_or_else(Utc::now),
        });
    }
    plan.workflow_step = Some(WorkflowStep {
        order: wf.order.clone(),
        first_history: done + 1,
        transition: t,
    });
    plan
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use chrono::TimeZone;

    use super::*;
    use crate::workflow::machine::{Attempt, State, Step, StepStatus};

    fn overdue() -> (Workflow, Transition) {
        let at = Utc.with_ymd_and_hms(2026, 12, 7, 9, 0, 0).unwrap();
        let wf = Workflow {
            tenant: 1,
            warehouse: 2,
            order: "SO-1".into(),
            state: State::Running,
            step: Step::Pick,
            attempt: 1,
            step_started_at: at,
            cancel_requested: false,
            pick_overdue_raised: false,
        };
        let t = Transition {
            state: State::Running,
            step: Step::Pick,
            attempt: 1,
            step_started_at: at,
            next_run_at: Some(at),
            history: vec![Attempt {
                step: Step::Pick,
                status: StepStatus::Failed,
                attempt: 1,
                at,
                error: Some("2 picks open at the deadline".into()),
                operation: None,
            }],
            raise_pick_overdue: true,
        };
        (wf, t)
    }

    /// A step numbers its history after the rows stored, raises its
    /// `pick_overdue` naming the reason, tells of the step before the
    /// exception, and leaves the task counter where it stood.
    #[test]
    fn a_step_under_a_held_lease_is_a_plan_of_its_rows_and_events() {
        let (wf, t) = overdue();
        let view = BatchView {
            workflow_history: Some(4),
            next_task: 17,
            ..BatchView::default()
        };
        let plan = step_plan(&view, &wf, t.clone());
        let step = plan.workflow_step.as_ref().unwrap();
        assert_eq!((step.first_history, &step.transition), (5, &t));
        assert_eq!((plan.first_new_task, plan.next_task), (17, 17));
        assert_eq!(plan.exceptions.len(), 1);
        assert_eq!(plan.exceptions[0].kind, ExceptionKind::PickOverdue);
        assert_eq!(
            plan.exceptions[0].message,
            "order SO-1: 2 picks open at the deadline"
        );
        let kinds: Vec<&str> = plan.events().iter().map(|(k, _)| k.name()).collect();
        assert_eq!(kinds, ["workflow_step", "exception_raised"]);
    }

    #[test]
    fn a_lost_lease_stores_nothing() {
        let (wf, t) = overdue();
        let view = BatchView {
            next_task: 17,
            ..BatchView::default()
        };
        let plan = step_plan(&view, &wf, t);
        assert!(plan.workflow_step.is_none() && plan.exceptions.is_empty());
        assert!(plan.events().is_empty());
        assert_eq!(plan.next_task, 17);
    }
}
