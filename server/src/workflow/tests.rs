//! The workflow's rules on a hand-driven clock.

use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use pyck_vocab::records::OrderStatus;

use super::machine::*;
use super::policy::Policy;

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 8, 0, 0).unwrap()
}

fn wf(step: Step) -> Workflow {
    Workflow {
        tenant: 1,
        warehouse: 1,
        order: "SO-1".into(),
        state: State::Running,
        step,
        attempt: 1,
        step_started_at: t0(),
        cancel_requested: false,
        pick_overdue_raised: false,
    }
}

fn facts(status: &str, pick_tasks: u32, open_picks: u32) -> Facts {
    Facts {
        status: OrderStatus::parse(status),
        pick_tasks,
        open_picks,
        ..Facts::default()
    }
}

/// Moves the workflow to where the transition says.
fn apply(w: &mut Workflow, t: &Transition) {
    w.state = t.state;
    w.step = t.step;
    w.attempt = t.attempt;
    w.step_started_at = t.step_started_at;
    w.pick_overdue_raised |= t.raise_pick_overdue;
}

#[test]
fn backoff_grows_exponentially_within_its_jitter_bounds() {
    let p = Policy {
        base_delay: Duration::from_secs(2),
        max_delay: Duration::from_secs(60),
        ..Policy::default()
    };
    for attempt in 1..=10u32 {
        let exp = (Duration::from_secs(2) * 2u32.pow(attempt - 1)).min(Duration::from_secs(60));
        for i in 0..100 {
            let jitter = f64::from(i) / 100.0;
            let d = p.backoff(attempt, jitter);
            assert!(
                d >= exp / 10,
                "attempt {attempt}: {d:?} below a tenth of {exp:?}"
            );
            assert!(d <= exp, "attempt {attempt}: {d:?} above {exp:?}");
        }
        assert!(
            p.backoff(attempt, 0.99) > p.backoff(attempt, 0.01),
            "jitter spreads"
        );
    }
    assert_eq!(p.backoff(1, 0.0), Duration::from_millis(200));
    assert_eq!(p.backoff(30, 1.0), Duration::from_secs(60), "capped");
}

#[test]
fn an_order_walks_reserve_pick_pack_ship_notify_to_completed() {
    let p = Policy::default();
    let mut w = wf(Step::Reserve);
    let mut now = t0();
    let mut history = Vec::new();
    let mut step = |w: &mut Workflow, f: &Facts, o: Option<&Outcome>, now| {
        let t = next(w, f, o, now, &p, 0.5);
        history.extend(t.history.iter().map(|a| (a.step, a.status)));
        apply(w, &t);
        t
    };
    step(&mut w, &facts("allocated", 2, 2), Some(&Outcome::Done), now);
    assert_eq!(w.step, Step::Pick);
    now += chrono::Duration::minutes(5);
    let t = step(&mut w, &facts("allocated", 2, 1), None, now);
    assert_eq!(w.step, Step::Pick, "one pick still open");
    assert_eq!(t.next_run_at, Some(now + p.poll));
    step(&mut w, &facts("allocated", 2, 0), None, now);
    assert_eq!(w.step, Step::Pack);
    step(&mut w, &facts("allocated", 2, 0), None, now);
    assert_eq!(w.step, Step::Pack, "not packed yet");
    step(&mut w, &facts("packed", 2, 0), None, now);
    step(&mut w, &facts("shipped", 2, 0), None, now);
    assert_eq!(w.step, Step::Notify);
    let t = step(&mut w, &facts("shipped", 2, 0), Some(&Outcome::Done), now);
    assert_eq!(w.state, State::Completed);
    assert_eq!(t.next_run_at, None, "finished: nothing to run");
    use Step::*;
    use StepStatus::Done as D;
    assert_eq!(
        history,
        [(Reserve, D), (Pick, D), (Pack, D), (Ship, D), (Notify, D)]
    );
}

#[test]
fn a_pick_past_its_deadline_raises_one_exception_and_keeps_waiting() {
    let p = Policy {
        pick_deadline: Duration::from_secs(3600),
        ..Policy::default()
    };
    let mut w = wf(Step::Pick);
    let f = facts("allocated", 3, 3);
    let before = t0() + chrono::Duration::minutes(59);
    let t = next(&w, &f, None, before, &p, 0.5);
    assert!(!t.raise_pick_overdue);
    assert_eq!(t.next_run_at, Some(before + p.poll));
    let near = t0() + chrono::Duration::seconds(3599);
    let t = next(&w, &f, None, near, &p, 0.5);
    assert_eq!(
        t.next_run_at,
        Some(t0() + chrono::Duration::hours(1)),
        "wakes at the deadline"
    );
    let at = t0() + chrono::Duration::hours(1);
    let t = next(&w, &f, None, at, &p, 0.5);
    assert!(t.raise_pick_overdue);
    assert_eq!(t.history[0].status, StepStatus::Overdue);
    assert_eq!(t.step, Step::Pick, "the picks may still come");
    apply(&mut w, &t);
    let later = at + chrono::Duration::hours(1);
    let t = next(&w, &f, None, later, &p, 0.5);
    assert!(!t.raise_pick_overdue, "raised once");
    assert!(t.history.is_empty());
    let t = next(&w, &facts("allocated", 3, 0), None, later, &p, 0.5);
    assert_eq!(t.step, Step::Pack, "late picks still finish the step");
}

#[test]
fn a_failing_step_retries_with_backoff_then_compensates_after_the_last_attempt() {
    let p = Policy {
        max_attempts: 3,
        ..Policy::default()
    };
    let mut w = wf(Step::Reserve);
    let f = facts("open", 0, 0);
    let failed = Outcome::Failed("nothing could be reserved".into());
    let mut now = t0();
    for attempt in 1..3 {
        let t = next(&w, &f, Some(&failed), now, &p, 0.3);
        assert_eq!((t.step, t.attempt), (Step::Reserve, attempt + 1));
        assert_eq!(t.next_run_at, Some(now + p.backoff(attempt, 0.3)));
        assert_eq!(t.history[0].status, StepStatus::Failed);
        assert_eq!(t.history[0].attempt, attempt);
        apply(&mut w, &t);
        now = t.next_run_at.unwrap();
    }
    let t = next(&w, &f, Some(&failed), now, &p, 0.3);
    assert_eq!(
        (t.state, t.step, t.attempt),
        (State::Compensating, Step::Compensate, 1)
    );
    assert!(t.history[0].error.as_deref().unwrap().contains("giving up"));
    apply(&mut w, &t);
    let t = next(&w, &f, Some(&Outcome::Done), now, &p, 0.3);
    apply(&mut w, &t);
    assert_eq!(w.step, Step::Notify);
    let t = next(&w, &f, Some(&Outcome::Done), now, &p, 0.3);
    assert_eq!(t.state, State::Compensated);
}

#[test]
fn a_notify_that_fails_for_good_after_shipping_fails_the_workflow() {
    let p = Policy {
        max_attempts: 2,
        ..Policy::default()
    };
    let mut w = wf(Step::Notify);
    let f = facts("shipped", 1, 0);
    let failed = Outcome::Failed("webhook answered 503".into());
    let t = next(&w, &f, Some(&failed), t0(), &p, 0.0);
    apply(&mut w, &t);
    assert_eq!((w.step, w.attempt), (Step::Notify, 2));
    let t = next(&w, &f, Some(&failed), t0(), &p, 0.0);
    assert_eq!(
        t.state,
        State::Failed,
        "shipped goods cannot be compensated"
    );
    assert_eq!(t.next_run_at, None);
}

#[test]
fn a_cancel_half_way_through_picking_compensates_then_notifies() {
    let p = Policy::default();
    let mut w = wf(Step::Pick);
    w.cancel_requested = true;
    let f = facts("allocated", 4, 2);
    assert!(must_compensate(&w, &f));
    let t = cancel(&w, t0());
    assert_eq!((t.state, t.step), (State::Compensating, Step::Compensate));
    assert_eq!(t.history[0].step, Step::Pick);
    assert_eq!(t.history[0].status, StepStatus::Cancelled);
    apply(&mut w, &t);
    assert!(!must_compensate(&w, &f), "already compensating");
    let t = next(&w, &f, Some(&Outcome::Done), t0(), &p, 0.5);
    apply(&mut w, &t);
    let t = next(&w, &f, Some(&Outcome::Done), t0(), &p, 0.5);
    assert_eq!(t.state, State::Compensated);
    // Shipped goods are past cancelling.
    let mut shipped = wf(Step::Notify);
    shipped.cancel_requested = true;
    assert!(!must_compensate(&shipped, &facts("shipped", 1, 0)));
}

#[test]
fn a_pack_or_ship_with_picks_open_does_not_complete_the_pick_step() {
    let p = Policy::default();
    let w = wf(Step::Pick);
    let gate = |open, resolved| Gate { open, resolved };
    // Packed with 3 of 4 picks open (a stale device): the step waits.
    let mut f = facts("packed", 4, 3);
    f.packed_with_open_picks = gate(1, 0);
    assert_eq!(next(&w, &f, None, t0(), &p, 0.5).step, Step::Pick);
    // Shipped: the open picks were cancelled; still waiting.
    let mut f = facts("shipped", 4, 0);
    f.cancelled_picks = 3;
    f.packed_with_open_picks = gate(2, 0);
    assert_eq!(next(&w, &f, None, t0(), &p, 0.5).step, Step::Pick);
    f.packed_with_open_picks = gate(1, 1);
    assert_eq!(next(&w, &f, None, t0(), &p, 0.5).step, Step::Pick);
    // The supervisor resolved every one: the step passes.
    f.packed_with_open_picks = gate(0, 2);
    assert_eq!(next(&w, &f, None, t0(), &p, 0.5).step, Step::Pack);
    // Or the picks arrive after the pack: the step happened.
    let mut f = facts("packed", 4, 0);
    f.packed_with_open_picks = gate(1, 0);
    assert_eq!(next(&w, &f, None, t0(), &p, 0.5).step, Step::Pack);
}

#[test]
fn a_ship_never_packed_holds_the_pack_step_until_resolved() {
    let p = Policy::default();
    let w = wf(Step::Pack);
    let mut f = facts("shipped", 2, 0);
    f.shipped_unpacked = Gate {
        open: 1,
        resolved: 0,
    };
    assert_eq!(next(&w, &f, None, t0(), &p, 0.5).step, Step::Pack);
    f.shipped_unpacked = Gate {
        open: 0,
        resolved: 1,
    };
    assert_eq!(next(&w, &f, None, t0(), &p, 0.5).step, Step::Ship);
}
