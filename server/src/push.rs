//! The push planner: decides, for one device's batch, what each operation's
//! outcome is and what the batch changes. Pure; storage backends load the
//! [`BatchView`], call [`plan`], write the [`Plan`] and commit.
//!
//! Sequencing rules (SPEC §5):
//! - a sequence number at or below the device's last settled one is a re-send:
//!   the same id is a `duplicate` (or its stored refusal again); another id
//!   there is a `seq_conflict`, and nothing is stored;
//! - the next number is applied or refused; a refusal consumes the number;
//! - anything beyond the next number is a gap: it and the rest of the batch
//!   are answered with the expected number and not looked at.

use std::collections::{BTreeMap, HashMap};

use pyck_vocab::events::EventKind;
use pyck_vocab::operation::Operation;
use pyck_vocab::protocol::{Entity, OpResult, PushOutcome};
use pyck_vocab::records::{
    AsnLineRecord, ExceptionRecord, ItemRecord, LocationRecord, OperatorRecord, OrderLineRecord,
    OrderStatus, Role, StockRecord, TaskRecord, TaskStatus,
};
use pyck_vocab::refusal::{Refusal, RefusalCode};
use uuid::Uuid;

use crate::domain::{self, BatchView, Movement, NewException, StockKey};

/// An operation of the server's own, stored with no device or sequence
/// number.
#[derive(Debug, Clone, PartialEq)]
pub struct ServerOp {
    pub id: Uuid,
    /// Who it is recorded as (`import` for an import).
    pub operator: String,
    pub kind: String,
    /// Its fields, as JSON.
    pub payload: String,
    pub at: chrono::DateTime<chrono::Utc>,
}

/// An operation to store, with its refusal if it was refused.
#[derive(Debug, Clone)]
pub struct NewOp {
    pub op: Operation,
    pub refusal: Option<Refusal>,
    /// The id the device sent, when the row is stored under another one:
    /// a `duplicate_id` refusal cannot be stored under the id it collides
    /// with, so its row gets a fresh id and keeps the device's here, for a
    /// re-send to find (`sent_id` in `operations`).
    pub sent_id: Option<Uuid>,
}

/// How far before the server's clock an operation's `at` may lie: a
/// handheld may sit offline in a drawer for weeks and its facts still
/// count; a year is far beyond any shift pattern, and nothing older can be a
/// scan of stock the warehouse still reports on.
pub const AT_WINDOW_PAST: chrono::TimeDelta = chrono::TimeDelta::days(366);
/// How far after the server's clock an operation's `at` may lie: handheld
/// clocks drift and time zones get misset by an hour or two; a day covers
/// both, and anything later is a clock that is simply wrong.
pub const AT_WINDOW_FUTURE: chrono::TimeDelta = chrono::TimeDelta::hours(24);

/// Refuses an `at` outside the window around `now`.
fn check_at(op: &Operation, now: chrono::DateTime<chrono::Utc>) -> Result<(), Refusal> {
    let (earliest, latest) = (now - AT_WINDOW_PAST, now + AT_WINDOW_FUTURE);
    if op.at < earliest || op.at > latest {
        return Err(Refusal::new(
            RefusalCode::AtOutOfRange,
            format!(
                "the operation's time {} is outside what the server accepts ({} to {}); \
                 set the device's clock and record it again",
                op.at.to_rfc3339(),
                earliest.to_rfc3339(),
                latest.to_rfc3339()
            ),
        ));
    }
    Ok(())
}

/// A change-log row to write; the backend assigns its position.
#[derive(Debug, Clone, PartialEq)]
pub struct ChangeRow {
    pub entity: Entity,
    pub key: String,
    /// JSON of the record, `None` for a deletion.
    pub data: Option<String>,
}

impl ChangeRow {
    /// A task's row: created or changed.
    pub fn task(t: &TaskRecord) -> ChangeRow {
        ChangeRow {
            entity: Entity::Task,
            key: t.id.clone(),
            data: Some(to_json(t)),
        }
    }

    /// An operator's row as devices receive it: without the PIN hash for a
    /// role whose PIN only the server checks.
    pub fn operator(badge: &str, role: Role, pin_hash: &str, active: bool) -> ChangeRow {
        let pin_hash = if role.checked_online() { "" } else { pin_hash };
        let record = OperatorRecord {
            badge: badge.to_owned(),
            role,
            pin_hash: pin_hash.to_owned(),
            active,
        };
        ChangeRow {
            entity: Entity::Operator,
            key: badge.to_owned(),
            data: Some(to_json(&record)),
        }
    }

    /// The change-log scopes an operator's row is written to: each of their
    /// warehouses, or warehouse 0 (every device of the tenant) when they
    /// have none.
    pub fn operator_scopes(warehouses: &[i64]) -> Vec<i64> {
        if warehouses.is_empty() {
            vec![0]
        } else {
            warehouses.to_vec()
        }
    }

    /// An exception's row: raised or resolved.
    pub fn exception(e: &ExceptionRecord) -> ChangeRow {
        ChangeRow {
            entity: Entity::Exception,
            key: e.id.clone(),
            data: Some(to_json(e)),
        }
    }
}

/// Everything a batch does, in the order it must be written.
#[derive(Debug, Default)]
pub struct Plan {
    pub results: Vec<OpResult>,
    pub last_seq: u64,
    pub ops: Vec<NewOp>,
    pub movements: Vec<Movement>,
    /// Every stock key the batch changed: its final quantity (0: the row
    /// goes away) and the operation that last changed it.
    pub stock: BTreeMap<StockKey, StockChange>,
    /// Lots to record: (sku, lot, expiry). A known lot keeps its expiry
    /// unless one is given here.
    pub lots: Vec<(String, String, Option<chrono::NaiveDate>)>,
    pub asn_lines: BTreeMap<(String, u32), AsnLineRecord>,
    /// ASN lines closed by the batch, as they stood when closed.
    pub asn_closures: Vec<domain::AsnClosure>,
    pub exceptions: Vec<NewException>,
    /// New and changed tasks, final state.
    pub tasks: BTreeMap<String, TaskRecord>,
    /// Orders whose status changed, final status.
    pub orders: BTreeMap<String, OrderStatus>,
    /// Order lines written as they are here, new or changed (a new order,
    /// an import), before the orders' statuses change.
    pub order_lines: Vec<OrderLineRecord>,
    /// Items written as they are here (tenant-wide), each with exactly its
    /// GTINs.
    pub items: Vec<ItemRecord>,
    /// Locations written as they are here.
    pub locations: Vec<LocationRecord>,
    /// Operators created or changed (the desk's `user` commands).
    pub operators: Vec<OperatorWrite>,
    /// Operations of the server's own (no device's), such as an import's
    /// opening balance, which movements name.
    pub server_ops: Vec<ServerOp>,
    /// A workflow's transition, stored with its lease freed
    /// ([`crate::workflow::effects::step_plan`]).
    pub workflow_step: Option<WorkflowStep>,
    /// Orders whose fulfilment workflow starts (due at once).
    pub workflow_starts: std::collections::BTreeSet<String>,
    /// What an allocation could not cover: (order, line, sku, units).
    pub shortfalls: Vec<(String, u32, String, i64)>,
    /// Exceptions resolved (final state) with their notes.
    pub resolved: Vec<(ExceptionRecord, String)>,
    /// The task number counter after this batch.
    pub next_task: u64,
    /// The task number counter before this batch: tasks numbered from here
    /// on are new.
    pub first_new_task: u64,
    /// The last operation of the batch to touch each task and resolved
    /// exception: what its live event names as its cause.
    pub caused_by: BTreeMap<String, Uuid>,
    /// A warehouse setting changed, with its audit (a supervisor's
    /// `setSetting`).
    pub setting: Option<crate::settings::SettingWrite>,
}

/// A workflow's transition as a plan stores it: the workflow row, and its
/// new history rows numbered from `first_history`.
#[derive(Debug, Clone, PartialEq)]
pub struct WorkflowStep {
    pub order: String,
    pub first_history: u32,
    pub transition: crate::workflow::machine::Transition,
}

/// One operator a plan writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperatorWrite {
    /// The row as it is to stand.
    pub row: crate::domain::OperatorRow,
    /// A new operator (with their warehouses), or a change to a stored one.
    pub new: bool,
    /// The PIN changed: failed logins and a lock-out are cleared.
    pub new_pin: bool,
}

/// Where a plan leaves one stock key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StockChange {
    /// The final quantity; 0 means the row goes away.
    pub qty: i64,
    /// The last operation to change it: what its live event names as cause.
    pub cause: Option<Uuid>,
}

impl Plan {
    /// The change-log rows this plan produces, one per record it touched.
    pub fn changes(&self, view: &BatchView) -> Vec<ChangeRow> {
        let mut rows = Vec::with_capacity(self.stock.len() + self.asn_lines.len());
        for (key, change) in &self.stock {
            let record = (change.qty != 0).then(|| StockRecord {
                location: key.location.clone(),
                sku: key.sku.clone(),
                lot: key.lot().map(str::to_owned),
                expiry: view
                    .lots
                    .get(&(key.sku.clone(), key.lot.clone()))
                    .copied()
                    .flatten(),
                qty: change.qty,
            });
            rows.push(ChangeRow {
                entity: Entity::Stock,
                key: StockRecord::key(&key.location, &key.sku, key.lot()),
                data: record.map(|r| to_json(&r)),
            });
        }
        for location in &self.locations {
            rows.push(ChangeRow {
                entity: Entity::Location,
                key: location.code.clone(),
                data: Some(to_json(location)),
            });
        }
        for line in &self.order_lines {
            rows.push(ChangeRow {
                entity: Entity::Order,
                key: format!("{}|{}", line.order, line.line),
                data: Some(to_json(line)),
            });
        }
        for ((asn, line), record) in &self.asn_lines {
            rows.push(ChangeRow {
                entity: Entity::AsnLine,
                key: format!("{asn}|{line}"),
                data: Some(to_json(record)),
            });
        }
        for ex in &self.exceptions {
            rows.push(ChangeRow {
                entity: Entity::Exception,
                key: ex.id.to_string(),
                data: Some(to_json(&exception_record(ex))),
            });
        }
        for (ex, _) in &self.resolved {
            rows.push(ChangeRow::exception(ex));
        }
        for task in self.tasks.values() {
            rows.push(ChangeRow::task(task));
        }
        rows
    }

    /// The change-log rows this plan produces outside its own warehouse,
    /// by scope: items tenant-wide (0), and each operator in every
    /// warehouse whose devices hold them ([`ChangeRow::operator_scopes`]).
    pub fn scoped_changes(&self) -> BTreeMap<i64, Vec<ChangeRow>> {
        let mut by_scope: BTreeMap<i64, Vec<ChangeRow>> = BTreeMap::new();
        if !self.items.is_empty() {
            by_scope
                .entry(0)
                .or_default()
                .extend(self.items.iter().map(|item| ChangeRow {
                    entity: Entity::Item,
                    key: item.sku.clone(),
                    data: Some(to_json(item)),
                }));
        }
        for write in &self.operators {
            let r = &write.row;
            let row = ChangeRow::operator(&r.badge, r.role, &r.pin_hash, r.active);
            for scope in ChangeRow::operator_scopes(&r.warehouses) {
                by_scope.entry(scope).or_default().push(row.clone());
            }
        }
        by_scope
    }

    /// The live events this plan stands for, one per record it touched (as
    /// [`Plan::changes`]). Backends return them only after commit, so a
    /// rolled-back batch publishes nothing.
    pub fn events(&self) -> Vec<(EventKind, Option<Uuid>)> {
        let cause = |key: String| self.caused_by.get(&key).copied();
        let mut events = Vec::with_capacity(self.stock.len());
        // A step's history first: a `pick_overdue` it raises follows it.
        if let Some(step) = &self.workflow_step {
            events.extend(step.transition.history.iter().map(|a| {
                let kind = EventKind::WorkflowStep {
                    order: step.order.clone(),
                    step: a.step.as_str().to_owned(),
                    status: a.status.as_str().to_owned(),
                    attempt: a.attempt,
                    error: a.error.clone(),
                };
                (kind, None)
            }));
        }
        for (key, change) in &self.stock {
            events.push((
                EventKind::StockChanged {
                    location: key.location.clone(),
                    sku: key.sku.clone(),
                    lot: key.lot().map(str::to_owned),
                    qty: change.qty,
                },
                change.cause,
            ));
        }
        for ex in &self.exceptions {
            events.push((
                EventKind::ExceptionRaised {
                    id: ex.id.to_string(),
                    kind: ex.kind.as_str().to_owned(),
                    message: ex.message.clone(),
                },
                ex.op,
            ));
        }
        for (ex, _) in &self.resolved {
            events.push((
                EventKind::ExceptionResolved { id: ex.id.clone() },
                cause(format!("exception {}", ex.id)),
            ));
        }
        for task in self.tasks.values() {
            let number = task
                .id
                .strip_prefix('T')
                .and_then(|n| n.parse::<u64>().ok());
            let by = cause(format!("task {}", task.id));
            if number.is_some_and(|n| n >= self.first_new_task) {
                events.push((
                    EventKind::TaskCreated {
                        task: task.id.clone(),
                    },
                    by,
                ));
            }
            if task.status == TaskStatus::Cancelled {
                events.push((
                    EventKind::TaskCancelled {
                        id: task.id.clone(),
                    },
                    by,
                ));
            }
        }
        events
    }

    /// Which operations this plan stores as applied, for metrics.
    pub fn applied(&self) -> usize {
        self.ops.iter().filter(|o| o.refusal.is_none()).count()
    }
}

pub fn exception_record(ex: &NewException) -> ExceptionRecord {
    ex.record()
}

pub fn to_json<T: serde::Serialize>(value: &T) -> String {
    // Serialising our own record types to a String cannot fail: they hold
    // no maps with non-string keys and no failing Serialize impls.
    serde_json::to_string(value).unwrap_or_else(|_| "null".to_owned())
}

impl Plan {
    /// A plan that changes nothing yet over `view`: the counters stand
    /// where the view found them. Every plan starts here (a default plan
    /// would set the warehouse's task counter to 0).
    pub fn over(view: &BatchView) -> Plan {
        Plan {
            last_seq: view.last_seq,
            next_task: view.next_task,
            first_new_task: view.next_task,
            ..Plan::default()
        }
    }
}

/// Plans a batch. `view` must hold what [`domain::Needs::of`] asked for.
pub fn plan(view: &mut BatchView, ops: Vec<Operation>) -> Plan {
    let mut plan = Plan::over(view);
    // Ids settled earlier in this same batch, for re-sends within a batch.
    let mut in_batch: HashMap<u64, (Uuid, Option<Refusal>)> = HashMap::new();
    // Ids this batch stores, so a second use of one within the batch is
    // refused like a use of an id the tenant already holds.
    let mut stored_ids: std::collections::HashSet<Uuid> = std::collections::HashSet::new();
    let mut gap = false;
    for op in ops {
        let (id, seq) = (op.id, op.seq);
        let next = plan.last_seq + 1;
        let outcome = if gap || seq > next {
            gap = true;
            PushOutcome::Gap { expected: next }
        } else if seq < next {
            let earlier = view
                .settled
                .get(&seq)
                .map(|s| (s.id, s.refusal.clone()))
                .or_else(|| in_batch.get(&seq).cloned());
            match earlier {
                Some((earlier_id, refusal)) if earlier_id == id => match refusal {
                    Some(refusal) => PushOutcome::Refused(refusal),
                    None => PushOutcome::Duplicate,
                },
                _ => PushOutcome::Refused(Refusal::new(
                    RefusalCode::SeqConflict,
                    format!(
                        "sequence number {seq} of this device already holds another operation; \
                         the device's journal was replaced — ask a supervisor"
                    ),
                )),
            }
        } else {
            let mut op = op;
            let taken = view.taken_ids.contains(&id) || !stored_ids.insert(id);
            let refusal = if taken {
                Some(Refusal::new(
                    RefusalCode::DuplicateId,
                    format!(
                        "operation id {id} is already used by another operation; \
                         operation ids must be new for every operation"
                    ),
                ))
            } else {
                view.now
                    .map_or(Ok(()), |now| check_at(&op, now))
                    .and_then(|()| settle(view, &op, &mut plan))
                    .err()
            };
            plan.last_seq = seq;
            in_batch.insert(seq, (id, refusal.clone()));
            let outcome = match &refusal {
                Some(r) => PushOutcome::Refused(r.clone()),
                None => PushOutcome::Applied {
                    exceptions: plan.exceptions.iter().filter(|e| e.op == Some(id)).count() as u32,
                },
            };
            let code = refusal.as_ref().map(|r| r.code);
            // What is stored must be readable by every query: an `at` out of
            // the window is stored as the server's clock (the message keeps
            // the one sent), and a taken id under a fresh one.
            if let Some(now) = view.now.filter(|&now| check_at(&op, now).is_err()) {
                op.at = now;
            }
            let sent_id = (code == Some(RefusalCode::DuplicateId)).then(|| {
                op.id = Uuid::now_v7();
                id
            });
            plan.ops.push(NewOp {
                op,
                refusal,
                sent_id,
            });
            outcome
        };
        plan.results.push(OpResult { id, seq, outcome });
    }
    plan
}

/// Applies the next operation to the view and the plan, or says why not.
fn settle(view: &mut BatchView, op: &Operation, plan: &mut Plan) -> Result<(), Refusal> {
    op.validate()
        .map_err(|e| Refusal::new(RefusalCode::Malformed, e.to_string()))?;
    let Some(role) = view.operators.get(&op.operator).copied() else {
        return Err(Refusal::new(
            RefusalCode::UnknownOperator,
            format!("no operator with badge {}", op.operator),
        ));
    };
    if !role.may(op.kind()) {
        return Err(Refusal::new(
            RefusalCode::Forbidden,
            format!("a {role} may not record {}", op.kind()),
        ));
    }
    let fx = domain::apply(view, op)?;
    for m in &fx.movements {
        let change = StockChange {
            qty: view.stock.get(&m.key).copied().unwrap_or(0),
            cause: Some(op.id),
        };
        // A batch moves the same keys again and again: clone a key only
        // the first time.
        match plan.stock.get_mut(&m.key) {
            Some(c) => *c = change,
            None => {
                plan.stock.insert(m.key.clone(), change);
            }
        }
    }
    for task in &fx.tasks {
        plan.caused_by.insert(format!("task {}", task.id), op.id);
    }
    for (ex, _) in &fx.resolved {
        plan.caused_by.insert(format!("exception {}", ex.id), op.id);
    }
    for line in fx.asn_lines {
        plan.asn_lines.insert((line.asn.clone(), line.line), line);
    }
    plan.asn_closures.extend(fx.asn_closures);
    plan.movements.extend(fx.movements);
    plan.lots.extend(fx.new_lots);
    plan.exceptions.extend(fx.exceptions);
    for task in fx.tasks {
        plan.tasks.insert(task.id.clone(), task);
    }
    plan.orders.extend(fx.orders);
    plan.resolved.extend(fx.resolved);
    plan.next_task = view.next_task;
    Ok(())
}

#[cfg(test)]
mod tests;
