//! What the workflow's storage effects produce, computed once for both
//! backends: the reserve step's outcome, a return-to-stock task, and the
//! `pick_overdue` exception. The backends only read and write rows.

use chrono::Utc;
use pyck_sync::records::{ExceptionKind, ExceptionRecord, TaskKind, TaskRecord, TaskStatus};

use super::machine::{Outcome, Transition, Workflow};

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

/// The live events of a transition: one per history row, in order.
pub fn step_events(wf: &Workflow, t: &Transition) -> Vec<pyck_sync::events::Event> {
    let kinds = t.history.iter().map(|a| {
        let kind = pyck_sync::events::EventKind::WorkflowStep {
            order: wf.order.clone(),
            step: a.step.as_str().to_owned(),
            status: a.status.as_str().to_owned(),
            attempt: a.attempt,
            error: a.error.clone(),
        };
        (kind, None)
    });
    crate::outbox::stamp(wf.warehouse, kinds)
}

/// The exception a pick deadline raises, with the history row's reason.
pub fn pick_overdue(wf: &Workflow, t: &Transition) -> ExceptionRecord {
    let reason = t
        .history
        .iter()
        .find_map(|a| a.error.clone())
        .unwrap_or_else(|| "picks still open at the deadline".into());
    ExceptionRecord {
        id: uuid::Uuid::now_v7().to_string(),
        kind: ExceptionKind::PickOverdue.as_str().into(),
        status: "open".into(),
        message: format!("order {}: {reason}", wf.order),
        order: Some(wf.order.clone()),
        asn: None,
        location: None,
        sku: None,
        lot: None,
        raised_at: Utc::now(),
    }
}
