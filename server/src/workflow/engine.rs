//! The engine each `serve` process runs: claim due workflows with a lease,
//! look at the order, run the active step, store the transition.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use tokio::sync::Notify;

use super::machine::{self, Outcome, Step, Workflow};
use super::notify::Notifier;
use super::policy::Policy;
use crate::events::Events;
use crate::metrics::Metrics;
use crate::service::UseCases;
use crate::storage::{Result, Storage};

/// Workflows claimed in one round.
const CLAIM: u32 = 16;

/// How often the backlog gauge is read from the storage: often enough for
/// an alert, rare enough to cost nothing while the engine is busy.
const BACKLOG_EVERY: Duration = Duration::from_secs(5);

pub struct Engine {
    storage: Arc<dyn Storage>,
    /// This process, as the lease owner.
    owner: String,
    policy: Policy,
    notifier: Option<Notifier>,
    /// How long a claim holds: longer than any step attempt can take.
    lease: Duration,
    /// Rings when there may be new work (a push applied, an order cancelled).
    nudge: Arc<Notify>,
    /// Where each stored step attempt goes as a `workflow_step` live event.
    events: Option<Events>,
    /// On stop, how long the step under way may take to finish before it is
    /// dropped (its effects are idempotent; another replica retries it).
    drain: Duration,
    /// Where step attempts are counted and the backlog shown (`/metrics`).
    metrics: Option<Arc<Metrics>>,
}

impl Engine {
    pub fn new(
        storage: Arc<dyn Storage>,
        policy: Policy,
        notifier: Option<Notifier>,
        lease: Duration,
    ) -> Self {
        Self {
            storage,
            owner: format!("replica-{}", uuid::Uuid::now_v7()),
            policy,
            notifier,
            lease,
            nudge: Arc::new(Notify::new()),
            events: None,
            drain: Duration::from_secs(5),
            metrics: None,
        }
    }

    /// How long a step under way may finish after the stop (default 5 s).
    pub fn with_drain(self, drain: Duration) -> Self {
        Self { drain, ..self }
    }

    /// Publishes every stored step attempt as a `workflow_step` live event
    /// (after its transition is committed).
    pub fn with_events(self, events: Events) -> Self {
        Self {
            events: Some(events),
            ..self
        }
    }

    /// Counts step attempts and shows the workflows due in `metrics`.
    pub fn with_metrics(self, metrics: Arc<Metrics>) -> Self {
        Self {
            metrics: Some(metrics),
            ..self
        }
    }

    /// Reads how many workflows are due into the gauge, at most every
    /// [`BACKLOG_EVERY`] (also while every round finds work: a backlog that
    /// keeps the engine busy is what the gauge is for).
    async fn show_backlog(&self, last: &mut Option<std::time::Instant>) {
        let Some(metrics) = &self.metrics else {
            return;
        };
        if last.is_some_and(|at| at.elapsed() < BACKLOG_EVERY) {
            return;
        }
        *last = Some(std::time::Instant::now());
        match self.storage.workflows_due(Utc::now()).await {
            Ok(n) => metrics.set_workflows_due(n),
            Err(e) => tracing::warn!(error = %e, "counting the workflows due"),
        }
    }

    pub fn nudge(&self) -> Arc<Notify> {
        Arc::clone(&self.nudge)
    }

    /// Works until `stop` resolves, then gives its leases back so another
    /// replica takes over at once.
    pub async fn run(self, stop: impl std::future::Future<Output = ()>) {
        tokio::pin!(stop);
        let mut backlog_read = None;
        loop {
            self.show_backlog(&mut backlog_read).await;
            let round = self.round();
            tokio::pin!(round);
            let result = tokio::select! {
                result = &mut round => result,
                () = &mut stop => {
                    // A step under way (a slow webhook) gets a moment to
                    // finish; then it is dropped and its lease given back.
                    if tokio::time::timeout(self.drain, round).await.is_err() {
                        tracing::info!("workflow step cut short by the shutdown; another replica retries it");
                    }
                    break;
                }
            };
            let worked = match result {
                Ok(n) => n,
                Err(e) => {
                    tracing::warn!(error = %e, "workflow round failed; retrying");
                    0
                }
            };
            if worked > 0 {
                continue;
            }
            tokio::select! {
                () = &mut stop => break,
                () = self.nudge.notified() => {},
                () = tokio::time::sleep(self.policy.poll.min(Duration::from_secs(1))) => {},
            }
        }
        match self.storage.release_workflows(&self.owner).await {
            Ok(()) => tracing::info!(owner = %self.owner, "workflow leases released"),
            Err(e) => tracing::warn!(error = %e, "releasing workflow leases"),
        }
    }

    /// One round: claims what is due and moves each one on. Returns how many
    /// it claimed.
    pub async fn round(&self) -> Result<usize> {
        let now = Utc::now();
        let until = now + self.lease;
        let due = self
            .storage
            .claim_workflows(&self.owner, now, until, CLAIM)
            .await?;
        let n = due.len();
        for wf in due {
            if let Err(e) = self.step(&wf).await {
                // The lease runs out and the workflow is claimed again.
                tracing::warn!(order = %wf.order, step = wf.step.as_str(), error = %e, "workflow step");
            }
        }
        Ok(n)
    }

    async fn step(&self, wf: &Workflow) -> Result<()> {
        let facts = self
            .storage
            .order_facts(wf.tenant, wf.warehouse, &wf.order)
            .await?;
        // The warehouse's settings, read each time: a change applies to the
        // next step without a restart.
        let policy = self
            .storage
            .settings(wf.tenant, wf.warehouse)
            .await?
            .policy(&self.policy);
        let t = if machine::must_compensate(wf, &facts) {
            machine::cancel(wf, Utc::now())
        } else {
            let outcome = match wf.step.is_active() {
                true => Some(self.attempt(wf).await),
                false => None,
            };
            machine::next(
                wf,
                &facts,
                outcome.as_ref(),
                Utc::now(),
                &policy,
                rand::random(),
            )
        };
        let mut t = t;
        for a in &mut t.history {
            // The scans a step rests on: named in the history, so one pick,
            // pack or ship can be followed from the journal to the order.
            let kinds: &[&str] = match a.step {
                Step::Pick => &["pick", "short_pick"],
                Step::Pack => &["pack"],
                Step::Ship => &["ship"],
                _ => continue,
            };
            if a.status == machine::StepStatus::Done {
                a.operation = self
                    .storage
                    .order_operation(wf.tenant, wf.warehouse, &wf.order, kinds)
                    .await?;
            }
        }
        let stored = self.storage.advance_workflow(&self.owner, wf, &t).await?;
        if let Some(events) = &self.events {
            // The step's events (and those of the reserve or compensation
            // it ran) are in the outbox: relay them now.
            events.committed();
        }
        if stored {
            if let Some(metrics) = &self.metrics
                && t.state.is_finished()
                && !wf.state.is_finished()
            {
                metrics.record_workflow_finished(t.state.as_str());
            }
            for a in &t.history {
                if let Some(metrics) = &self.metrics {
                    metrics.record_workflow_step(a.step.as_str(), a.status.as_str());
                }
                tracing::info!(order = %wf.order, step = a.step.as_str(), status = a.status.as_str(), attempt = a.attempt, "workflow step");
            }
        } else {
            tracing::warn!(order = %wf.order, "workflow lease lost; another replica has it");
        }
        Ok(())
    }

    /// One attempt of an active step, bounded by the step timeout. A storage
    /// failure is a failed attempt, retried like any other.
    async fn attempt(&self, wf: &Workflow) -> Outcome {
        let work = async {
            match wf.step {
                Step::Reserve => self
                    .storage
                    .reserve_order(wf.tenant, wf.warehouse, &wf.order)
                    .await
                    .unwrap_or_else(|e| Outcome::Failed(e.to_string())),
                Step::Compensate => match self
                    .storage
                    .compensate_order(wf.tenant, wf.warehouse, &wf.order)
                    .await
                {
                    Ok(()) => Outcome::Done,
                    Err(e) => Outcome::Failed(e.to_string()),
                },
                Step::Notify => match &self.notifier {
                    Some(n) => n.send(wf).await,
                    None => Outcome::Done,
                },
                Step::Pick | Step::Pack | Step::Ship => Outcome::Done,
            }
        };
        match tokio::time::timeout(self.policy.step_timeout, work).await {
            Ok(outcome) => outcome,
            Err(_) => Outcome::Failed(format!(
                "timed out after {} s",
                self.policy.step_timeout.as_secs()
            )),
        }
    }
}
