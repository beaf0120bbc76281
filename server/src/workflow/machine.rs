//! The workflow's rules, without I/O: given where an order's workflow stands,
//! what the storage says about the order, and how the step's attempt went,
//! where it goes next. The clock and the jitter are arguments, so the tests
//! drive time by hand.

use chrono::{DateTime, Utc};

use pyck_vocab::records::OrderStatus;

use super::policy::Policy;

pyck_vocab::named! {
    /// The steps, in order; `compensate` replaces the rest of the way when an
    /// order is cancelled or a step before shipping fails for good.
    pub enum Step {
        Reserve = "reserve",
        Pick = "pick",
        Pack = "pack",
        Ship = "ship",
        Compensate = "compensate",
        Notify = "notify",
    }
}

impl Step {
    /// Steps the engine works on itself (the others wait for the floor).
    pub fn is_active(self) -> bool {
        matches!(self, Step::Reserve | Step::Compensate | Step::Notify)
    }
}

pyck_vocab::named! {
    /// Where a whole workflow stands (CLI.md: `state`).
    pub enum State {
        Running = "running",
        Completed = "completed",
        Compensating = "compensating",
        Compensated = "compensated",
        Failed = "failed",
    }
}

impl State {
    pub fn is_finished(self) -> bool {
        matches!(self, State::Completed | State::Compensated | State::Failed)
    }
}

/// One order's workflow as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Workflow {
    pub tenant: i64,
    pub warehouse: i64,
    pub order: String,
    pub state: State,
    pub step: Step,
    /// Attempt of the current step, from 1.
    pub attempt: u32,
    /// When the current step began (the pick deadline counts from here).
    pub step_started_at: DateTime<Utc>,
    /// `order cancel` asked for compensation.
    pub cancel_requested: bool,
    /// The pick deadline's exception was raised (it is raised once).
    pub pick_overdue_raised: bool,
}

/// What the storage says about the order when the workflow looks at it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Facts {
    /// The order lines' status (None: the order has no lines).
    pub status: Option<OrderStatus>,
    /// Pick tasks of the order, and how many of them are still open or
    /// were cancelled (by a ship that left with picks open).
    pub pick_tasks: u32,
    pub open_picks: u32,
    pub cancelled_picks: u32,
    /// The order's `packed_with_open_picks` exceptions: a pack or ship that
    /// reached the server with picks open.
    pub packed_with_open_picks: Gate,
    /// The order's `shipped_unpacked` exceptions.
    pub shipped_unpacked: Gate,
}

/// The exceptions of one kind an order raised, open and resolved: a step a
/// fact skipped waits for the supervisor to resolve them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Gate {
    pub open: u32,
    pub resolved: u32,
}

impl Gate {
    /// A supervisor resolved every one raised (and there was one).
    pub fn waived(self) -> bool {
        self.resolved > 0 && self.open == 0
    }

    /// One is still open.
    pub fn holds(self) -> bool {
        self.open > 0
    }
}

impl Facts {
    /// Counts an order's exceptions of `kind` (as stored) into its gate.
    pub fn gate(&mut self, kind: &str, open: u32, resolved: u32) {
        use pyck_vocab::records::ExceptionKind;
        let gate = if kind == ExceptionKind::PackedWithOpenPicks.as_str() {
            &mut self.packed_with_open_picks
        } else if kind == ExceptionKind::ShippedUnpacked.as_str() {
            &mut self.shipped_unpacked
        } else {
            return;
        };
        gate.open += open;
        gate.resolved += resolved;
    }

    /// The pick step happened: every pick task of the order was done or
    /// short. A pack or ship never says so by itself (a stale device may
    /// send one with picks open); only the supervisor resolving its
    /// `packed_with_open_picks` lets the step pass without them.
    pub fn picked(&self) -> bool {
        let all = self.pick_tasks > 0 && self.open_picks == 0 && self.cancelled_picks == 0;
        all || self.packed_with_open_picks.waived()
    }

    /// The pack step happened: the order is packed, or shipped after a pack
    /// (a ship of an order never packed raises `shipped_unpacked`, which
    /// holds the step until it is resolved).
    pub fn packed(&self) -> bool {
        match self.status {
            Some(OrderStatus::Packed) => true,
            Some(OrderStatus::Shipped) => !self.shipped_unpacked.holds(),
            _ => false,
        }
    }
}

/// How an attempt of an active step went.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Done,
    Failed(String),
}

pyck_vocab::named! {
    /// `done`, `failed`, `cancelled` (left for compensation), `overdue` (its
    /// deadline passed; an exception was raised).
    pub enum StepStatus {
        Done = "done",
        Failed = "failed",
        Cancelled = "cancelled",
        Overdue = "overdue",
    }
}

/// One row of the history: an attempt of a step and how it ended.
#[derive(Debug, Clone, PartialEq)]
pub struct Attempt {
    pub step: Step,
    pub status: StepStatus,
    pub attempt: u32,
    pub at: DateTime<Utc>,
    pub error: Option<String>,
    /// The device operation the step's completion rests on (filled in by
    /// the engine from storage: the last pick, the pack, the ship).
    pub operation: Option<uuid::Uuid>,
}

/// Where the workflow goes: its new position, the history rows to add, and
/// what to raise. Stored in one transaction, only while the lease is held.
#[derive(Debug, Clone, PartialEq)]
pub struct Transition {
    pub state: State,
    pub step: Step,
    pub attempt: u32,
    pub step_started_at: DateTime<Utc>,
    /// When to look again; `None` once finished.
    pub next_run_at: Option<DateTime<Utc>>,
    pub history: Vec<Attempt>,
    pub raise_pick_overdue: bool,
}

impl Transition {
    fn stay(wf: &Workflow, next_run_at: DateTime<Utc>) -> Self {
        Self {
            state: wf.state,
            step: wf.step,
            attempt: wf.attempt,
            step_started_at: wf.step_started_at,
            next_run_at: Some(next_run_at),
            history: Vec::new(),
            raise_pick_overdue: false,
        }
    }

    fn to(state: State, step: Step, now: DateTime<Utc>) -> Self {
        Self {
            state,
            step,
            attempt: 1,
            step_started_at: now,
            next_run_at: (!state.is_finished()).then_some(now),
            history: Vec::new(),
            raise_pick_overdue: false,
        }
    }

    fn record(
        mut self,
        wf: &Workflow,
        status: StepStatus,
        at: DateTime<Utc>,
        error: Option<String>,
    ) -> Self {
        self.history.push(Attempt {
            step: wf.step,
            status,
            attempt: wf.attempt,
            at,
            error,
            operation: None,
        });
        self
    }
}

/// Whether the workflow must leave its way for compensation now: a cancel
/// was asked for and nothing has left the building yet.
pub fn must_compensate(wf: &Workflow, facts: &Facts) -> bool {
    wf.cancel_requested
        && wf.state == State::Running
        && matches!(
            wf.step,
            Step::Reserve | Step::Pick | Step::Pack | Step::Ship
        )
        && facts.status != Some(OrderStatus::Shipped)
}

/// The way to compensation after a cancel: the current step is recorded as
/// cancelled.
pub fn cancel(wf: &Workflow, now: DateTime<Utc>) -> Transition {
    Transition::to(State::Compensating, Step::Compensate, now).record(
        wf,
        StepStatus::Cancelled,
        now,
        Some("order cancelled".into()),
    )
}

/// The next position of a running or compensating workflow. `outcome` is
/// the attempt's result for an active step, and ignored for waiting ones.
/// `jitter` in [0, 1) spreads retries.
pub fn next(
    wf: &Workflow,
    facts: &Facts,
    outcome: Option<&Outcome>,
    now: DateTime<Utc>,
    policy: &Policy,
    jitter: f64,
) -> Transition {
    let poll = now + policy.poll;
    let advance =
        |step: Step| Transition::to(wf.state, step, now).record(wf, StepStatus::Done, now, None);
    match wf.step {
        Step::Reserve | Step::Compensate | Step::Notify => match outcome {
            None => Transition::stay(wf, now),
            Some(Outcome::Done) => match wf.step {
                Step::Reserve => advance(Step::Pick),
                Step::Compensate => advance(Step::Notify),
                _ => {
                    let end = if wf.state == State::Compensating {
                        State::Compensated
                    } else {
                        State::Completed
                    };
                    Transition::to(end, Step::Notify, now).record(wf, StepStatus::Done, now, None)
                }
            },
            Some(Outcome::Failed(error)) => failed(wf, error, now, policy, jitter),
        },
        Step::Pick => {
            if facts.picked() {
                return advance(Step::Pack);
            }
            let deadline = wf.step_started_at + policy.pick_deadline;
            if !wf.pick_overdue_raised && now >= deadline {
                let mut t = Transition::stay(wf, poll).record(
                    wf,
                    StepStatus::Overdue,
                    now,
                    Some(format!(
                        "{} of {} picks still open at the deadline",
                        facts.open_picks, facts.pick_tasks
                    )),
                );
                t.raise_pick_overdue = true;
                return t;
            }
            let wake = if wf.pick_overdue_raised {
                poll
            } else {
                poll.min(deadline)
            };
            Transition::stay(wf, wake)
        }
        Step::Pack if facts.packed() => advance(Step::Ship),
        Step::Ship if facts.status == Some(OrderStatus::Shipped) => advance(Step::Notify),
        Step::Pack | Step::Ship => Transition::stay(wf, poll),
    }
}

/// An attempt failed: retry after a backoff, or, after the last attempt,
/// compensate (before anything shipped) or fail.
fn failed(
    wf: &Workflow,
    error: &str,
    now: DateTime<Utc>,
    policy: &Policy,
    jitter: f64,
) -> Transition {
    if wf.attempt < policy.max_attempts {
        let mut t = Transition::stay(wf, now + policy.backoff(wf.attempt, jitter));
        t.attempt = wf.attempt + 1;
        return t.record(wf, StepStatus::Failed, now, Some(error.to_owned()));
    }
    let last = Some(format!(
        "{error} (attempt {} of {}, giving up)",
        wf.attempt, policy.max_attempts
    ));
    if wf.state == State::Running && wf.step == Step::Reserve {
        Transition::to(State::Compensating, Step::Compensate, now).record(
            wf,
            StepStatus::Failed,
            now,
            last,
        )
    } else {
        Transition::to(State::Failed, wf.step, now).record(wf, StepStatus::Failed, now, last)
    }
}
