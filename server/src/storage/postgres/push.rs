//! One device's batch in one PostgreSQL transaction: lock, load what it
//! touches, plan, write, commit — and only then answer.
//!
//! Replicas push for the same tenant at once, so every writer of a tenant's
//! data first locks the tenant's row and holds it to the end of its
//! transaction. Under READ COMMITTED each later statement takes a fresh
//! snapshot, so a push that waited for the lock sees everything the previous
//! holder committed: its sequence numbers, stock and ASN lines. Pushes of a
//! tenant therefore apply one after another, as on SQLite, while pushes of
//! different tenants run side by side.
//!
//! Each kind of row is written by one statement, and the statements of a
//! stage are pipelined on the connection: a batch of ten thousand operations
//! costs about as many round trips as a batch of one. Rows travel as arrays
//! (`unnest`), except the three that grow with the batch (operations,
//! movements, exceptions): those are `COPY`ed in binary, which PostgreSQL
//! inserts page by page and which halved the cost of a large batch.
//!
//! Rows are found by key with `unnest(…)` and `LATERAL (… LIMIT 1)`: one
//! index probe per key, whatever the planner believes. A plain join against
//! `unnest` (or `= ANY`) is planned from table statistics, which a fresh
//! tenant does not have yet, and was then planned as a scan of the whole
//! warehouse per key: seconds for a batch of thousands. Updates and deletes
//! by key find their rows the same way and then go by `ctid`.

use std::collections::HashMap;
use std::pin::pin;

use chrono::{DateTime, NaiveDate, Utc};
use deadpool_postgres::{ClientWrapper, Transaction};
use pyck_vocab::operation::Operation;
use pyck_vocab::protocol::{Entity, PROTOCOL_VERSION, PushResponse};
use pyck_vocab::records::{
    AsnLineRecord, ExceptionRecord, ItemRecord, LocationRecord, OrderLineRecord, OrderStatus, Role,
    TaskRecord, Temperature,
};
use tokio::try_join;
use tokio_postgres::binary_copy::BinaryCopyInWriter;
use tokio_postgres::types::{ToSql, Type};
use tokio_postgres::{IsolationLevel, Row};
use uuid::Uuid;

use super::last_of_each;
use super::queries::{EXCEPTIONS_BY_ID, exception_id, exception_row};
use crate::domain::allocation::Candidate;
use crate::domain::putaway::Bin;
use crate::domain::{
    BatchView, ItemFacts, Movement, Needs, NewException, OperatorRow, Settled, StockKey,
    StoredLine, staging,
};
use crate::push::{self, ChangeRow, NewOp, OperatorWrite, Plan, ServerOp, WorkflowStep, to_json};
use crate::storage::{
    DeviceAuth, Result, Scope, StorageError, TENANT_WIDE, WarehouseRef, named, stored_refusal,
};

/// Applies a batch; see [`crate::storage::Storage::push`].
pub async fn push(
    client: &mut ClientWrapper,
    auth: &DeviceAuth,
    ops: Vec<Operation>,
    backlog: u64,
) -> Result<PushResponse> {
    // Explicit, whatever the database's default: the locking below relies on
    // each statement seeing what the previous lock holder committed.
    let tx = client
        .build_transaction()
        .isolation_level(IsolationLevel::ReadCommitted)
        .start()
        .await?;
    let unknown = || StorageError::UnknownToken(auth.device.to_string());
    if !lock_tenant(&tx, auth.tenant).await? {
        return Err(unknown());
    }
    let last_seq: i64 = tx
        .query_opt(
            &tx.prepare_cached(
                "SELECT last_seq FROM devices \
                 WHERE id = $1 AND tenant_id = $2 AND revoked_at IS NULL FOR UPDATE",
            )
            .await?,
            &[&auth.device, &auth.tenant],
        )
        .await?
        .ok_or_else(unknown)?
        .try_get(0)?;
    let last_seq = last_seq as u64;
    let needs = Needs::of(&ops, last_seq);
    let mut view = load_view(&tx, auth, &needs, last_seq, Utc::now()).await?;
    let plan = push::plan(&mut view, ops);
    write_plan(&tx, auth, &plan, &view, backlog).await?;
    tx.commit().await?;
    Ok(PushResponse {
        protocol: PROTOCOL_VERSION,
        results: plan.results,
        last_seq: plan.last_seq,
    })
}

/// [`crate::storage::Storage::transact`] on PostgreSQL: under the tenant's
/// write lock, as a push, load, decide, write, commit.
pub async fn transact(
    client: &mut ClientWrapper,
    scope: &Scope,
    needs: &Needs,
    decide: crate::storage::Decide,
) -> Result<Plan> {
    let tx = client
        .build_transaction()
        .isolation_level(IsolationLevel::ReadCommitted)
        .start()
        .await?;
    if !lock_tenant(&tx, scope.tenant).await? {
        return Err(StorageError::UnknownTenant(scope.tenant.to_string()));
    }
    // A write may name thousands of records (an import): plan each
    // statement for the arrays it has. A cached generic plan knows neither
    // their size nor (on a fresh tenant) the tables', and may test every
    // row against every element.
    tx.batch_execute("SET LOCAL plan_cache_mode = force_custom_plan")
        .await?;
    let warehouse = match &scope.warehouse {
        WarehouseRef::Id(id) => *id,
        WarehouseRef::Code(code) => {
            let stmt = tx
                .prepare_cached(
                    "INSERT INTO warehouses (tenant_id, code) VALUES ($1, $2) \
                     ON CONFLICT (tenant_id, code) DO UPDATE SET code = excluded.code RETURNING id",
                )
                .await?;
            tx.query_one(&stmt, &[&scope.tenant, code])
                .await?
                .try_get(0)?
        }
    };
    let scope = &crate::storage::server_write(scope.tenant, warehouse);
    let mut view = load_view(&tx, scope, needs, 0, Utc::now()).await?;
    let plan = crate::storage::decide_server_write(decide, &mut view)?;
    write_plan(&tx, scope, &plan, &view, 0).await?;
    tx.commit().await?;
    Ok(plan)
}

/// Every line of `orders`, in line order, and whether a pick task covers
/// it, in one query.
async fn load_order_lines(
    tx: &Transaction<'_>,
    auth: &DeviceAuth,
    orders: &std::collections::BTreeSet<String>,
) -> Result<HashMap<String, Vec<StoredLine>>> {
    let orders: Vec<&str> = orders.iter().map(String::as_str).collect();
    let stmt = tx
        .prepare_cached(
            "SELECT o.order_no, o.line, o.sku, o.qty, o.customer, o.status, EXISTS (SELECT 1 FROM tasks t \
             WHERE t.tenant_id = o.tenant_id AND t.warehouse_id = o.warehouse_id \
             AND t.order_no = o.order_no AND t.line = o.line) FROM order_lines o \
             WHERE o.tenant_id = $1 AND o.warehouse_id = $2 AND o.order_no = ANY($3) \
             ORDER BY o.order_no, o.line",
        )
        .await?;
    let mut lines: HashMap<String, Vec<StoredLine>> = HashMap::new();
    for r in tx
        .query(&stmt, &[&auth.tenant, &auth.warehouse, &orders])
        .await?
    {
        let record = OrderLineRecord {
            order: r.try_get(0)?,
            line: line_no(r.try_get(1)?)?,
            sku: r.try_get(2)?,
            qty: r.try_get(3)?,
            customer: r.try_get(4)?,
            status: named(r.try_get(5)?)?,
        };
        let tasked = r.try_get(6)?;
        lines
            .entry(record.order.clone())
            .or_default()
            .push(StoredLine { record, tasked });
    }
    Ok(lines)
}

/// Takes the tenant's write lock, held until the transaction ends; false
/// when there is no such tenant.
///
/// Besides ordering the writes, the lock keeps the change log safe to page
/// through: positions come from the tenant's counter, which only the lock
/// holder advances, and the lock is released only once the holder has
/// committed. So a transaction holding higher positions always commits after
/// every one holding lower positions, and a pull that has seen position `n`
/// can never later meet a row below `n` (which it would skip for good).
pub(super) async fn lock_tenant(tx: &Transaction<'_>, tenant: i64) -> Result<bool> {
    let stmt = tx
        .prepare_cached("SELECT change_position FROM tenants WHERE id = $1 FOR UPDATE")
        .await?;
    Ok(tx.query_opt(&stmt, &[&tenant]).await?.is_some())
}

/// Current quantities of stock keys `($3, $4, $5)` in warehouse `$2` of
/// tenant `$1`; shared with the import.
pub(super) const STOCK_OF_KEYS: &str = "SELECT k.location, k.sku, k.lot, s.qty \
     FROM unnest($3::text[], $4::text[], $5::text[]) AS k (location, sku, lot), \
     LATERAL (SELECT qty FROM stock WHERE tenant_id = $1 AND warehouse_id = $2 \
              AND location = k.location AND sku = k.sku AND lot = k.lot LIMIT 1) AS s";

/// Lot and expiry tracking and temperature of items `$2` of tenant `$1`;
/// shared with the import.
pub(super) const ITEMS_OF_SKUS: &str = "SELECT k.sku, i.lot_tracked, i.expiry_tracked, \
     i.temperature FROM unnest($2::text[]) AS k (sku), \
     LATERAL (SELECT lot_tracked, expiry_tracked, temperature FROM items \
              WHERE tenant_id = $1 AND sku = k.sku LIMIT 1) AS i";

/// Rows of one query of [`load_view`], or none without asking when the batch
/// needs nothing of that kind.
async fn rows<const N: usize>(
    tx: &Transaction<'_>,
    needed: bool,
    sql: &str,
    params: [&(dyn ToSql + Sync); N],
) -> Result<Vec<Row>> {
    if !needed {
        return Ok(Vec::new());
    }
    let stmt = tx.prepare_cached(sql).await?;
    Ok(tx.query(&stmt, &params).await?)
}

/// Loads what the batch touches: one query per kind of record, all sent at
/// once.
async fn load_view(
    tx: &Transaction<'_>,
    auth: &DeviceAuth,
    needs: &Needs,
    last_seq: u64,
    now: DateTime<Utc>,
) -> Result<BatchView> {
    let mut view = BatchView {
        today: now.date_naive(),
        now: Some(now),
        last_seq,
        ..BatchView::default()
    };
    // Order lines first: allocating them needs their SKUs' stock.
    let extended;
    let needs = if needs.order_lines.is_empty() {
        needs
    } else {
        view.order_lines = load_order_lines(tx, auth, &needs.order_lines).await?;
        extended = needs.with_lines(view.order_lines.values().flatten().map(|l| &l.record));
        &extended
    };
    let gtins: Vec<&str> = needs.gtins.iter().map(String::as_str).collect();
    let (records, work, taken, owners) = try_join!(
        load_records(tx, auth, needs),
        load_work(tx, auth, needs),
        rows(
            tx,
            !needs.new_ids.is_empty(),
            "SELECT o.id FROM unnest($2::uuid[]) AS k (id), \
             LATERAL (SELECT id FROM operations WHERE tenant_id = $1 AND id = k.id) AS o",
            [&auth.tenant as &(dyn ToSql + Sync), &needs.new_ids],
        ),
        rows(
            tx,
            !gtins.is_empty(),
            "SELECT gtin, sku FROM item_gtins WHERE tenant_id = $1 AND gtin = ANY($2)",
            [&auth.tenant as &(dyn ToSql + Sync), &gtins],
        )
    )?;
    for r in taken {
        view.taken_ids.insert(r.try_get(0)?);
    }
    for r in owners {
        view.gtins.insert(r.try_get(0)?, r.try_get(1)?);
    }
    records.fill(&mut view)?;
    work.fill(&mut view, needs)?;
    load_operator_rows(tx, auth.tenant, &needs.operator_rows, &mut view).await?;
    if let Some((order, owner)) = &needs.workflow_lease {
        view.workflow_history = workflow_lease(tx, auth, order, owner).await?;
    }
    Ok(view)
}

/// The stored rows of `badges`, active or not, with their warehouses.
async fn load_operator_rows(
    tx: &Transaction<'_>,
    tenant: i64,
    badges: &std::collections::BTreeSet<String>,
    view: &mut BatchView,
) -> Result<()> {
    let badges: Vec<&str> = badges.iter().map(String::as_str).collect();
    let rows = rows(
        tx,
        !badges.is_empty(),
        "SELECT o.badge, o.role, o.pin_hash, o.active, \
             ARRAY(SELECT w.warehouse_id FROM operator_warehouses w \
                   WHERE w.tenant_id = o.tenant_id AND w.badge = o.badge ORDER BY w.warehouse_id) \
         FROM operators o WHERE o.tenant_id = $1 AND o.badge = ANY($2)",
        [&tenant as &(dyn ToSql + Sync), &badges],
    )
    .await?;
    for r in rows {
        let badge: String = r.try_get(0)?;
        let role: &str = r.try_get(1)?;
        let role = Role::parse(role).ok_or_else(|| {
            StorageError::corrupt(format!("operator {badge}: unknown role {role:?}"))
        })?;
        view.operator_rows.insert(
            badge.clone(),
            OperatorRow {
                badge,
                role,
                pin_hash: r.try_get(2)?,
                active: r.try_get(3)?,
                warehouses: r.try_get(4)?,
            },
        );
    }
    Ok(())
}

/// How many history rows the order's workflow has, if `owner` holds its
/// lease; the workflow row stays locked until the write commits, so no
/// replica takes the lease over in between.
async fn workflow_lease(
    tx: &Transaction<'_>,
    auth: &DeviceAuth,
    order: &str,
    owner: &str,
) -> Result<Option<u32>> {
    let held = tx
        .prepare_cached(
            "SELECT 1 FROM workflows WHERE tenant_id = $1 AND warehouse_id = $2 \
                 AND order_no = $3 AND lease_owner = $4 FOR UPDATE",
        )
        .await?;
    if tx
        .query_opt(&held, &[&auth.tenant, &auth.warehouse, &order, &owner])
        .await?
        .is_none()
    {
        return Ok(None);
    }
    let count = tx
        .prepare_cached(
            "SELECT COUNT(*)::int FROM workflow_history \
             WHERE tenant_id = $1 AND warehouse_id = $2 AND order_no = $3",
        )
        .await?;
    let n: i32 = tx
        .query_one(&count, &[&auth.tenant, &auth.warehouse, &order])
        .await?
        .try_get(0)?;
    Ok(Some(u32::try_from(n).unwrap_or(0)))
}

/// A workflow's transition, its lease freed, and its new history rows.
async fn write_workflow_step(
    tx: &Transaction<'_>,
    auth: &DeviceAuth,
    step: &WorkflowStep,
) -> Result<()> {
    let t = &step.transition;
    let stmt = tx
        .prepare_cached(
            "UPDATE workflows SET state = $1, step = $2, attempt = $3, step_started_at = $4, \
                 next_run_at = $5, pick_overdue_raised = pick_overdue_raised OR $6, \
                 lease_owner = NULL, lease_until = NULL \
             WHERE tenant_id = $7 AND warehouse_id = $8 AND order_no = $9",
        )
        .await?;
    tx.execute(
        &stmt,
        &[
            &t.state.as_str(),
            &t.step.as_str(),
            &(t.attempt as i32),
            &t.step_started_at,
            &t.next_run_at,
            &t.raise_pick_overdue,
            &auth.tenant,
            &auth.warehouse,
            &step.order,
        ],
    )
    .await?;
    let insert = tx
        .prepare_cached(
            "INSERT INTO workflow_history (tenant_id, warehouse_id, order_no, n, step, status, \
                 attempt, at, error, operation) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .await?;
    for (a, n) in t.history.iter().zip(step.first_history..) {
        tx.execute(
            &insert,
            &[
                &auth.tenant,
                &auth.warehouse,
                &step.order,
                &(n as i32),
                &a.step.as_str(),
                &a.status.as_str(),
                &(a.attempt as i32),
                &a.at,
                &a.error,
                &a.operation,
            ],
        )
        .await?;
    }
    Ok(())
}

/// Operators created or changed: a new one with their warehouses; a new
/// PIN clears failed logins and a lock-out.
async fn write_operators(
    tx: &Transaction<'_>,
    tenant: i64,
    writes: &[OperatorWrite],
) -> Result<()> {
    for write in writes {
        let r = &write.row;
        if write.new {
            let stmt = tx
                .prepare_cached(
                    "INSERT INTO operators (tenant_id, badge, role, pin_hash, active) \
                     VALUES ($1, $2, $3, $4, $5)",
                )
                .await?;
            tx.execute(
                &stmt,
                &[&tenant, &r.badge, &r.role.as_str(), &r.pin_hash, &r.active],
            )
            .await?;
            let stmt = tx
                .prepare_cached(
                    "INSERT INTO operator_warehouses (tenant_id, badge, warehouse_id) \
                     SELECT $1, $2, unnest($3::bigint[])",
                )
                .await?;
            tx.execute(&stmt, &[&tenant, &r.badge, &r.warehouses])
                .await?;
        } else {
            let stmt = tx
                .prepare_cached(
                    "UPDATE operators SET role = $3, pin_hash = $4, active = $5, \
                         failed_logins = CASE WHEN $6 THEN 0 ELSE failed_logins END, \
                         locked_until = CASE WHEN $6 THEN NULL ELSE locked_until END \
                     WHERE tenant_id = $1 AND badge = $2",
                )
                .await?;
            tx.execute(
                &stmt,
                &[
                    &tenant,
                    &r.badge,
                    &r.role.as_str(),
                    &r.pin_hash,
                    &r.active,
                    &write.new_pin,
                ],
            )
            .await?;
        }
    }
    Ok(())
}

/// Rows of the records the operations name.
struct Records {
    settled: Vec<Row>,
    operators: Vec<Row>,
    items: Vec<Row>,
    locations: Vec<Row>,
    stock: Vec<Row>,
    lots: Vec<Row>,
    asn_lines: Vec<Row>,
    orders: Vec<Row>,
}

async fn load_records(tx: &Transaction<'_>, auth: &DeviceAuth, needs: &Needs) -> Result<Records> {
    let (tenant, warehouse, device) = (&auth.tenant, &auth.warehouse, &auth.device);
    let seqs: Vec<i64> = needs.settled_seqs.iter().map(|&s| s as i64).collect();
    let badges: Vec<&str> = needs.badges.iter().map(String::as_str).collect();
    let skus: Vec<&str> = needs.skus.iter().map(String::as_str).collect();
    let locations: Vec<&str> = needs.locations.iter().map(String::as_str).collect();
    let stock_locations: Vec<&str> = needs.stock.iter().map(|k| k.location.as_str()).collect();
    let stock_skus: Vec<&str> = needs.stock.iter().map(|k| k.sku.as_str()).collect();
    let stock_lots: Vec<&str> = needs.stock.iter().map(|k| k.lot.as_str()).collect();
    let lot_skus: Vec<&str> = needs.lots.iter().map(|(sku, _)| sku.as_str()).collect();
    let lots: Vec<&str> = needs.lots.iter().map(|(_, lot)| lot.as_str()).collect();
    let asns: Vec<&str> = needs.asns.iter().map(String::as_str).collect();
    let orders: Vec<&str> = needs.orders.iter().map(String::as_str).collect();

    let (settled, operators, items, places, stock, lot_rows, asn_rows, order_rows) = try_join!(
        rows(
            tx,
            !seqs.is_empty(),
            "SELECT k.seq, o.id, o.refusal_code, o.refusal_message \
             FROM unnest($3::bigint[]) AS k (seq), \
             LATERAL (SELECT COALESCE(sent_id, id) AS id, refusal_code, refusal_message FROM operations \
                      WHERE tenant_id = $1 AND device_id = $2 AND seq = k.seq LIMIT 1) AS o",
            [tenant, device, &seqs],
        ),
        rows(
            tx,
            !badges.is_empty(),
            // Disabled operators too: what they recorded before their
            // device learnt of it physically happened.
            "SELECT k.badge, o.role FROM unnest($2::text[]) AS k (badge), \
             LATERAL (SELECT role FROM operators \
                      WHERE tenant_id = $1 AND badge = k.badge LIMIT 1) AS o",
            [tenant, &badges],
        ),
        rows(tx, !skus.is_empty(), ITEMS_OF_SKUS, [tenant, &skus]),
        rows(
            tx,
            !locations.is_empty(),
            "SELECT k.code, l.temperature, l.zone FROM unnest($3::text[]) AS k (code), \
             LATERAL (SELECT temperature, zone FROM locations \
                      WHERE tenant_id = $1 AND warehouse_id = $2 AND code = k.code LIMIT 1) AS l",
            [tenant, warehouse, &locations],
        ),
        rows(
            tx,
            !stock_locations.is_empty(),
            STOCK_OF_KEYS,
            [
                tenant,
                warehouse,
                &stock_locations,
                &stock_skus,
                &stock_lots
            ],
        ),
        rows(
            tx,
            !lots.is_empty(),
            "SELECT k.sku, k.lot, l.expiry FROM unnest($2::text[], $3::text[]) AS k (sku, lot), \
             LATERAL (SELECT expiry FROM lots \
                      WHERE tenant_id = $1 AND sku = k.sku AND lot = k.lot LIMIT 1) AS l",
            [tenant, &lot_skus, &lots],
        ),
        rows(
            tx,
            !asns.is_empty(),
            // OFFSET 0 keeps the subquery a per-key probe, as LIMIT does above.
            "SELECT k.asn, a.line, a.sku, a.supplier, a.expected_qty, a.received_qty, \
                 a.damaged_qty, a.closed \
             FROM unnest($3::text[]) AS k (asn), \
             LATERAL (SELECT * FROM asn_lines \
                      WHERE tenant_id = $1 AND warehouse_id = $2 AND asn = k.asn OFFSET 0) AS a \
             ORDER BY k.asn, a.line",
            [tenant, warehouse, &asns],
        ),
        // An order's status is that of its first line, as on SQLite.
        rows(
            tx,
            !orders.is_empty(),
            "SELECT k.order_no, o.status FROM unnest($3::text[]) AS k (order_no), \
             LATERAL (SELECT status FROM order_lines \
                      WHERE tenant_id = $1 AND warehouse_id = $2 AND order_no = k.order_no \
                      ORDER BY line LIMIT 1) AS o",
            [tenant, warehouse, &orders],
        ),
    )?;
    Ok(Records {
        settled,
        operators,
        items,
        locations: places,
        stock,
        lots: lot_rows,
        asn_lines: asn_rows,
        orders: order_rows,
    })
}

impl Records {
    fn fill(self, view: &mut BatchView) -> Result<()> {
        for r in self.settled {
            view.settled.insert(
                r.try_get::<_, i64>(0)? as u64,
                Settled {
                    id: r.try_get(1)?,
                    refusal: stored_refusal(r.try_get(2)?, r.try_get(3)?)?,
                },
            );
        }
        for r in self.operators {
            view.operators
                .insert(r.try_get(0)?, named::<Role>(r.try_get(1)?)?);
        }
        for r in self.items {
            view.items.insert(
                r.try_get(0)?,
                ItemFacts {
                    lot_tracked: r.try_get(1)?,
                    expiry_tracked: r.try_get(2)?,
                    temperature: named(r.try_get(3)?)?,
                },
            );
        }
        for r in self.locations {
            let code: String = r.try_get(0)?;
            view.zones.insert(code.clone(), r.try_get(2)?);
            view.locations.insert(code, named(r.try_get(1)?)?);
        }
        for r in self.stock {
            view.stock.insert(stock_key(&r)?, r.try_get(3)?);
        }
        for r in self.lots {
            view.lots
                .insert((r.try_get(0)?, r.try_get(1)?), r.try_get(2)?);
        }
        for r in self.asn_lines {
            let line = asn_line(&r)?;
            view.asns.entry(line.asn.clone()).or_default().push(line);
        }
        for r in self.orders {
            view.orders.insert(r.try_get(0)?, named(r.try_get(1)?)?);
        }
        Ok(())
    }
}

/// A stock key from a row's first three columns.
fn stock_key(r: &Row) -> Result<StockKey> {
    Ok(StockKey {
        location: r.try_get(0)?,
        sku: r.try_get(1)?,
        lot: r.try_get(2)?,
    })
}

/// Rows of the warehouse work the operations touch: its settings, tasks,
/// staged goods, putaway bins, pick candidates and exceptions.
struct Work {
    /// The warehouse's settings row; none for a tenant-wide write.
    settings: Option<Row>,
    tasks: Vec<Row>,
    order_tasks: Vec<Row>,
    asn_exceptions: Vec<Row>,
    staged: Vec<Row>,
    bins: Vec<Row>,
    candidates: Vec<Row>,
    exceptions: Vec<Row>,
}

async fn load_work(tx: &Transaction<'_>, auth: &DeviceAuth, needs: &Needs) -> Result<Work> {
    let (tenant, warehouse) = (&auth.tenant, &auth.warehouse);
    let tasks: Vec<&str> = needs.tasks.iter().map(String::as_str).collect();
    let stages: Vec<String> = needs.staged_orders.iter().map(|o| staging(o)).collect();
    let bin_skus: Vec<&str> = needs
        .bin_temperatures_of
        .iter()
        .map(String::as_str)
        .collect();
    let candidate_skus: Vec<&str> = needs.candidate_skus.iter().map(String::as_str).collect();
    let exceptions: Vec<Uuid> = needs
        .exceptions
        .iter()
        .filter_map(|id| exception_id(id))
        .collect();
    let orders: Vec<&str> = needs.order_tasks.iter().map(String::as_str).collect();
    let order_stages: Vec<String> = needs.order_tasks.iter().map(|o| staging(o)).collect();
    let asns: Vec<&str> = needs.asn_exceptions.iter().map(String::as_str).collect();
    let (settings, tasks, order_tasks, asn_exceptions, staged, bins, candidates, exceptions) = try_join!(
        async {
            if *warehouse == TENANT_WIDE {
                return Ok(None);
            }
            let stmt = tx
                .prepare_cached(&format!(
                    "SELECT {}, next_task FROM warehouses WHERE id = $1 AND tenant_id = $2",
                    super::settings::COLUMNS
                ))
                .await?;
            match tx.query_opt(&stmt, &[warehouse, tenant]).await? {
                Some(row) => Ok::<_, StorageError>(Some(row)),
                None => Err(StorageError::UnknownWarehouse(warehouse.to_string())),
            }
        },
        // A task's own lot comes along: FEFO checks need its expiry.
        rows(
            tx,
            !tasks.is_empty(),
            "SELECT t.*, l.found, l.expiry FROM unnest($3::text[]) AS k (id), \
             LATERAL (SELECT id, kind, status, order_no, line, sku, lot, location, to_location, \
                          qty, done_qty, zone, sequence FROM tasks \
                      WHERE tenant_id = $1 AND warehouse_id = $2 AND id = k.id LIMIT 1) AS t \
             LEFT JOIN LATERAL (SELECT TRUE AS found, expiry FROM lots \
                      WHERE tenant_id = $1 AND sku = t.sku AND lot = t.lot LIMIT 1) AS l ON TRUE",
            [tenant, warehouse, &tasks],
        ),
        // Every task of an order a pack or ship names, and the open tasks
        // out of its staging location (return-to-stock putaways carry no
        // order).
        rows(
            tx,
            !orders.is_empty(),
            "SELECT t.* FROM unnest($3::text[], $4::text[]) AS k (order_no, stage), \
             LATERAL (SELECT id, kind, status, order_no, line, sku, lot, location, to_location, \
                          qty, done_qty, zone, sequence FROM tasks \
                      WHERE tenant_id = $1 AND warehouse_id = $2 AND order_no = k.order_no \
                      UNION SELECT id, kind, status, order_no, line, sku, lot, location, \
                          to_location, qty, done_qty, zone, sequence FROM tasks \
                      WHERE tenant_id = $1 AND warehouse_id = $2 AND location = k.stage \
                          AND status = 'open') AS t",
            [tenant, warehouse, &orders, &order_stages],
        ),
        rows(
            tx,
            !asns.is_empty(),
            "SELECT e.id::text, e.kind, e.status, e.message, e.order_no, e.asn, e.location, \
                 e.sku, e.lot, e.raised_at \
             FROM unnest($3::text[]) AS k (asn), \
             LATERAL (SELECT * FROM exceptions WHERE tenant_id = $1 AND warehouse_id = $2 \
                      AND asn = k.asn AND status = 'open' OFFSET 0) AS e",
            [tenant, warehouse, &asns],
        ),
        rows(
            tx,
            !stages.is_empty(),
            "SELECT k.location, s.sku, s.lot, s.qty FROM unnest($3::text[]) AS k (location), \
             LATERAL (SELECT sku, lot, qty FROM stock \
                      WHERE tenant_id = $1 AND warehouse_id = $2 AND location = k.location \
                      OFFSET 0) AS s",
            [tenant, warehouse, &stages],
        ),
        // Bins of the temperatures of the items received (SQLite's order:
        // by code, the SKUs each holds by SKU and lot).
        rows(
            tx,
            !bin_skus.is_empty(),
            "SELECT l.code, l.temperature, \
                 ARRAY(SELECT s.sku FROM stock s WHERE s.tenant_id = l.tenant_id \
                       AND s.warehouse_id = l.warehouse_id AND s.location = l.code AND s.qty > 0 \
                       ORDER BY s.sku, s.lot) \
             FROM locations l WHERE l.tenant_id = $1 AND l.warehouse_id = $2 \
                 AND l.temperature IN (SELECT i.temperature FROM unnest($3::text[]) AS k (sku), \
                     LATERAL (SELECT temperature FROM items \
                              WHERE tenant_id = $1 AND sku = k.sku LIMIT 1) AS i) \
             ORDER BY l.code",
            [tenant, warehouse, &bin_skus],
        ),
        rows(
            tx,
            !candidate_skus.is_empty(),
            CANDIDATES_OF_SKUS,
            [tenant, warehouse, &candidate_skus],
        ),
        rows(
            tx,
            !exceptions.is_empty(),
            EXCEPTIONS_BY_ID,
            [tenant, warehouse, &exceptions],
        ),
    )?;
    Ok(Work {
        settings,
        tasks,
        order_tasks,
        asn_exceptions,
        staged,
        bins,
        candidates,
        exceptions,
    })
}

impl Work {
    fn fill(self, view: &mut BatchView, needs: &Needs) -> Result<()> {
        if let Some(settings) = &self.settings {
            view.settings = super::settings::settings(settings)?;
            view.next_task = settings.try_get::<_, i64>(5)? as u64;
        }
        for r in self.tasks {
            let task = task_row(&r)?;
            if r.try_get::<_, Option<bool>>(13)?.is_some()
                && let (Some(sku), Some(lot)) = (&task.sku, &task.lot)
            {
                view.lots
                    .entry((sku.clone(), lot.clone()))
                    .or_insert(r.try_get(14)?);
            }
            view.tasks.insert(task.id.clone(), task);
        }
        for r in self.order_tasks {
            let task = task_row(&r)?;
            view.tasks.entry(task.id.clone()).or_insert(task);
        }
        for r in self.asn_exceptions {
            let ex = exception_row(&r)?;
            view.exceptions.entry(ex.id.clone()).or_insert(ex);
        }
        for r in self.staged {
            view.stock.insert(stock_key(&r)?, r.try_get(3)?);
        }
        // Every temperature asked for gets its list, even an empty one.
        for sku in &needs.bin_temperatures_of {
            if let Some(item) = view.items.get(sku) {
                view.bins.entry(item.temperature).or_default();
            }
        }
        for r in self.bins {
            let temperature = named(r.try_get(1)?)?;
            view.bins.entry(temperature).or_default().push(Bin {
                code: r.try_get(0)?,
                temperature,
                holds: r.try_get(2)?,
            });
        }
        for sku in &needs.candidate_skus {
            view.candidates.insert(sku.clone(), Vec::new());
        }
        for r in self.candidates {
            let (sku, candidate) = candidate_row(&r)?;
            view.candidates.entry(sku).or_default().push(candidate);
        }
        for r in self.exceptions {
            let ex = exception_row(&r)?;
            view.exceptions.insert(ex.id.clone(), ex);
        }
        Ok(())
    }
}

/// Pickable stock of SKUs `$3` in warehouse `$2` of tenant `$1`: on hand in
/// any location, minus what open pick tasks reserve there; by location and
/// lot, as SQLite lists it. Shared with the import's allocation.
pub(super) const CANDIDATES_OF_SKUS: &str = "SELECT k.sku, c.location, c.zone, c.temperature, \
         c.lot, c.expiry, c.available \
     FROM unnest($3::text[]) AS k (sku), \
     LATERAL (SELECT s.location, l.zone, l.temperature, s.lot, lots.expiry, \
                  s.qty - COALESCE((SELECT SUM(t.qty - t.done_qty)::bigint FROM tasks t \
                      WHERE t.tenant_id = s.tenant_id AND t.warehouse_id = s.warehouse_id \
                      AND t.kind = 'pick' AND t.status = 'open' AND t.sku = s.sku \
                      AND t.location = s.location AND COALESCE(t.lot, '') = s.lot), 0) \
                  AS available \
              FROM stock s \
              JOIN locations l ON l.tenant_id = s.tenant_id AND l.warehouse_id = s.warehouse_id \
                  AND l.code = s.location \
              LEFT JOIN lots ON lots.tenant_id = s.tenant_id AND lots.sku = s.sku \
                  AND lots.lot = s.lot \
              WHERE s.tenant_id = $1 AND s.warehouse_id = $2 AND s.sku = k.sku AND s.qty > 0 \
              ORDER BY s.location, s.lot) AS c";

/// A row of [`CANDIDATES_OF_SKUS`]: the SKU and one place to pick it from.
pub(super) fn candidate_row(r: &Row) -> Result<(String, Candidate)> {
    let lot: String = r.try_get(4)?;
    Ok((
        r.try_get(0)?,
        Candidate {
            location: r.try_get(1)?,
            zone: r.try_get(2)?,
            is_dock: r.try_get::<_, &str>(3)? == Temperature::Dock.as_str(),
            lot: (!lot.is_empty()).then_some(lot),
            expiry: r.try_get(5)?,
            available: r.try_get(6)?,
        },
    ))
}

/// A task from columns `id, kind, status, order_no, line, sku, lot,
/// location, to_location, qty, done_qty, zone, sequence`. Kinds and statuses
/// are stored by their wire names.
pub(super) fn task_row(r: &Row) -> Result<TaskRecord> {
    let line: Option<i64> = r.try_get(4)?;
    Ok(TaskRecord {
        id: r.try_get(0)?,
        kind: named(r.try_get(1)?)?,
        status: named(r.try_get(2)?)?,
        order: r.try_get(3)?,
        line: line.map(line_no).transpose()?,
        sku: r.try_get(5)?,
        lot: r.try_get(6)?,
        location: r.try_get(7)?,
        to: r.try_get(8)?,
        qty: r.try_get(9)?,
        done_qty: r.try_get(10)?,
        zone: r.try_get(11)?,
        sequence: r.try_get::<_, i64>(12)? as u64,
    })
}

fn asn_line(r: &Row) -> Result<AsnLineRecord> {
    Ok(AsnLineRecord {
        asn: r.try_get(0)?,
        line: line_no(r.try_get(1)?)?,
        sku: r.try_get(2)?,
        supplier: r.try_get(3)?,
        expected_qty: r.try_get(4)?,
        received_qty: r.try_get(5)?,
        damaged_qty: r.try_get(6)?,
        closed: r.try_get(7)?,
    })
}

pub(super) fn line_no(line: i64) -> Result<u32> {
    u32::try_from(line).map_err(|_| {
        StorageError::corrupt(format!("line number {line} in database is out of range"))
    })
}

/// Writes everything the plan decided, each kind of row in one statement,
/// all in one pipeline: none depends on another's effect, so their order on
/// the connection does not matter. Only the change rows of orders wait for
/// the orders' update, which returns their lines.
async fn write_plan(
    tx: &Transaction<'_>,
    auth: &DeviceAuth,
    plan: &Plan,
    view: &BatchView,
    backlog: u64,
) -> Result<()> {
    if let Some(setting) = &plan.setting {
        super::settings::write(tx, auth.tenant, auth.warehouse, setting).await?;
    }
    // Items and locations first: the rows below name them. Then order
    // lines: their statuses change below.
    write_items(tx, auth.tenant, &plan.items).await?;
    write_locations(tx, auth, &plan.locations).await?;
    write_order_lines(tx, auth, &plan.order_lines).await?;
    for order in &plan.workflow_starts {
        super::workflow::start(tx, auth.tenant, auth.warehouse, order).await?;
    }
    let mut changes = plan.changes(view);
    let orders: Vec<(&str, OrderStatus)> = plan
        .orders
        .iter()
        .map(|(order, status)| (order.as_str(), *status))
        .collect();
    changes.extend(set_order_status(tx, auth.tenant, auth.warehouse, &orders).await?);
    let tasks: Vec<&TaskRecord> = plan.tasks.values().collect();
    let last_seq = plan.last_seq as i64;
    let next_task = plan.next_task as i64;
    let backlog = i64::try_from(backlog).unwrap_or(i64::MAX);
    let events = crate::outbox::stamp(auth.warehouse, plan.events());
    let scoped_changes = plan.scoped_changes();
    write_operators(tx, auth.tenant, &plan.operators).await?;
    if let Some(step) = &plan.workflow_step {
        write_workflow_step(tx, auth, step).await?;
    }
    try_join!(
        insert_operations(tx, auth, &plan.ops),
        insert_server_ops(tx, auth, &plan.server_ops),
        insert_movements(tx, auth.tenant, auth.warehouse, &plan.movements),
        write_stock(tx, auth, plan),
        write_lots(tx, auth.tenant, &plan.lots),
        write_asn_lines(tx, auth, plan),
        insert_exceptions(tx, auth, &plan.exceptions),
        close_asn_lines(tx, auth, &plan.asn_closures),
        write_tasks(tx, auth.tenant, auth.warehouse, &tasks),
        set_next_task(tx, auth.tenant, auth.warehouse, next_task),
        async {
            for (scope, rows) in &scoped_changes {
                write_change_log(tx, auth.tenant, *scope, rows).await?;
            }
            Ok::<_, StorageError>(())
        },
        write_change_log(tx, auth.tenant, auth.warehouse, &changes),
        super::outbox::write(tx, auth.tenant, &events),
        async {
            let stmt = tx
                .prepare_cached(
                    "UPDATE devices SET last_seq = $1, last_contact = now(), backlog = $2 \
                     WHERE id = $3",
                )
                .await?;
            tx.execute(&stmt, &[&last_seq, &backlog, &auth.device])
                .await?;
            Ok::<_, StorageError>(())
        },
    )?;
    // After the inserts: a batch may resolve an exception it raised (a late
    // receipt supersedes its ASN's close), and statements pipelined side by
    // side reach the server in no fixed order.
    resolve_exceptions(tx, auth, &plan.resolved).await?;
    Ok(())
}

/// Order lines, new or changed, in one statement.
async fn write_order_lines(
    tx: &Transaction<'_>,
    auth: &DeviceAuth,
    lines: &[OrderLineRecord],
) -> Result<()> {
    if lines.is_empty() {
        return Ok(());
    }
    let orders: Vec<&str> = lines.iter().map(|l| l.order.as_str()).collect();
    let numbers: Vec<i64> = lines.iter().map(|l| i64::from(l.line)).collect();
    let skus: Vec<&str> = lines.iter().map(|l| l.sku.as_str()).collect();
    let qtys: Vec<i64> = lines.iter().map(|l| l.qty).collect();
    let customers: Vec<&str> = lines.iter().map(|l| l.customer.as_str()).collect();
    let statuses: Vec<&str> = lines.iter().map(|l| l.status.as_str()).collect();
    let stmt = tx
        .prepare_cached(
            "INSERT INTO order_lines (tenant_id, warehouse_id, order_no, line, sku, qty, customer, status) \
             SELECT $1, $2, u.order_no, u.line, u.sku, u.qty, u.customer, u.status \
             FROM unnest($3::text[], $4::bigint[], $5::text[], $6::bigint[], $7::text[], $8::text[]) \
                 AS u (order_no, line, sku, qty, customer, status) \
             ON CONFLICT (tenant_id, warehouse_id, order_no, line) DO UPDATE SET sku = excluded.sku, \
                 qty = excluded.qty, customer = excluded.customer, status = excluded.status",
        )
        .await?;
    tx.execute(
        &stmt,
        &[
            &auth.tenant,
            &auth.warehouse,
            &orders,
            &numbers,
            &skus,
            &qtys,
            &customers,
            &statuses,
        ],
    )
    .await?;
    Ok(())
}

/// Items, each with exactly its GTINs: the old ones of every item go before
/// the new ones come, so a GTIN may pass from one to another.
async fn write_items(tx: &Transaction<'_>, tenant: i64, items: &[ItemRecord]) -> Result<()> {
    if items.is_empty() {
        return Ok(());
    }
    let skus: Vec<&str> = items.iter().map(|i| i.sku.as_str()).collect();
    let descriptions: Vec<&str> = items.iter().map(|i| i.description.as_str()).collect();
    let uoms: Vec<&str> = items.iter().map(|i| i.uom.as_str()).collect();
    let lot_tracked: Vec<bool> = items.iter().map(|i| i.lot_tracked).collect();
    let expiry_tracked: Vec<bool> = items.iter().map(|i| i.expiry_tracked).collect();
    let serial_tracked: Vec<bool> = items.iter().map(|i| i.serial_tracked).collect();
    let temperatures: Vec<&str> = items.iter().map(|i| i.temperature.as_str()).collect();
    let stmt = tx
        .prepare_cached(
            "INSERT INTO items (tenant_id, sku, description, uom, lot_tracked, expiry_tracked, \
                 serial_tracked, temperature) \
             SELECT $1, u.sku, u.description, u.uom, u.lot_tracked, u.expiry_tracked, \
                 u.serial_tracked, u.temperature \
             FROM unnest($2::text[], $3::text[], $4::text[], $5::bool[], $6::bool[], $7::bool[], \
                 $8::text[]) \
                 AS u (sku, description, uom, lot_tracked, expiry_tracked, serial_tracked, \
                       temperature) \
             ON CONFLICT (tenant_id, sku) DO UPDATE SET description = excluded.description, \
                 uom = excluded.uom, lot_tracked = excluded.lot_tracked, \
                 expiry_tracked = excluded.expiry_tracked, \
                 serial_tracked = excluded.serial_tracked, \
                 temperature = excluded.temperature",
        )
        .await?;
    tx.execute(
        &stmt,
        &[
            &tenant,
            &skus,
            &descriptions,
            &uoms,
            &lot_tracked,
            &expiry_tracked,
            &serial_tracked,
            &temperatures,
        ],
    )
    .await?;
    let stmt = tx
        .prepare_cached("DELETE FROM item_gtins WHERE tenant_id = $1 AND sku = ANY($2)")
        .await?;
    tx.execute(&stmt, &[&tenant, &skus]).await?;
    let (gtins, owners): (Vec<&str>, Vec<&str>) = items
        .iter()
        .flat_map(|i| i.gtins.iter().map(|g| (g.as_str(), i.sku.as_str())))
        .unzip();
    if gtins.is_empty() {
        return Ok(());
    }
    let stmt = tx
        .prepare_cached(
            "INSERT INTO item_gtins (tenant_id, gtin, sku) \
             SELECT $1, u.gtin, u.sku FROM unnest($2::text[], $3::text[]) AS u (gtin, sku)",
        )
        .await?;
    tx.execute(&stmt, &[&tenant, &gtins, &owners]).await?;
    Ok(())
}

async fn write_locations(
    tx: &Transaction<'_>,
    auth: &DeviceAuth,
    locations: &[LocationRecord],
) -> Result<()> {
    if locations.is_empty() {
        return Ok(());
    }
    let codes: Vec<&str> = locations.iter().map(|l| l.code.as_str()).collect();
    let zones: Vec<&str> = locations.iter().map(|l| l.zone.as_str()).collect();
    let temperatures: Vec<&str> = locations.iter().map(|l| l.temperature.as_str()).collect();
    let stmt = tx
        .prepare_cached(
            "INSERT INTO locations (tenant_id, warehouse_id, code, zone, temperature) \
             SELECT $1, $2, u.code, u.zone, u.temperature \
             FROM unnest($3::text[], $4::text[], $5::text[]) AS u (code, zone, temperature) \
             ON CONFLICT (tenant_id, warehouse_id, code) DO UPDATE SET zone = excluded.zone, \
                 temperature = excluded.temperature",
        )
        .await?;
    tx.execute(
        &stmt,
        &[&auth.tenant, &auth.warehouse, &codes, &zones, &temperatures],
    )
    .await?;
    Ok(())
}

/// The server's own operations (an import's opening balance).
async fn insert_server_ops(
    tx: &Transaction<'_>,
    auth: &DeviceAuth,
    ops: &[ServerOp],
) -> Result<()> {
    let stmt = tx
        .prepare_cached(
            "INSERT INTO operations (id, tenant_id, warehouse_id, operator, at, kind, payload) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .await?;
    for op in ops {
        tx.execute(
            &stmt,
            &[
                &op.id,
                &auth.tenant,
                &auth.warehouse,
                &op.operator,
                &op.at,
                &op.kind,
                &op.payload,
            ],
        )
        .await?;
    }
    Ok(())
}

/// Records what closed ASN lines had received when they were closed.
async fn close_asn_lines(
    tx: &Transaction<'_>,
    auth: &DeviceAuth,
    closures: &[crate::domain::AsnClosure],
) -> Result<()> {
    if closures.is_empty() {
        return Ok(());
    }
    let asns: Vec<&str> = closures.iter().map(|c| c.asn.as_str()).collect();
    let lines: Vec<i64> = closures.iter().map(|c| i64::from(c.line)).collect();
    let received: Vec<i64> = closures.iter().map(|c| c.received_qty).collect();
    let damaged: Vec<i64> = closures.iter().map(|c| c.damaged_qty).collect();
    let stmt = tx
        .prepare_cached(
            "UPDATE asn_lines a \
             SET closed_received_qty = u.received, closed_damaged_qty = u.damaged \
             FROM unnest($3::text[], $4::bigint[], $5::bigint[], $6::bigint[]) \
                 AS u (asn, line, received, damaged), \
             LATERAL (SELECT ctid FROM asn_lines WHERE tenant_id = $1 AND warehouse_id = $2 \
                      AND asn = u.asn AND line = u.line LIMIT 1) AS found \
             WHERE a.ctid = found.ctid",
        )
        .await?;
    tx.execute(
        &stmt,
        &[
            &auth.tenant,
            &auth.warehouse,
            &asns,
            &lines,
            &received,
            &damaged,
        ],
    )
    .await?;
    Ok(())
}

/// Inserts new tasks and records the progress of known ones; shared with
/// the import's allocation and the supervisor's count tasks.
pub(super) async fn write_tasks(
    tx: &Transaction<'_>,
    tenant: i64,
    warehouse: i64,
    tasks: &[&TaskRecord],
) -> Result<()> {
    if tasks.is_empty() {
        return Ok(());
    }
    let tasks = last_of_each(tasks, |t| t.id.as_str());
    let ids: Vec<&str> = tasks.iter().map(|t| t.id.as_str()).collect();
    let kinds: Vec<&str> = tasks.iter().map(|t| t.kind.as_str()).collect();
    let statuses: Vec<&str> = tasks.iter().map(|t| t.status.as_str()).collect();
    let orders: Vec<Option<&str>> = tasks.iter().map(|t| t.order.as_deref()).collect();
    let lines: Vec<Option<i64>> = tasks.iter().map(|t| t.line.map(i64::from)).collect();
    let skus: Vec<Option<&str>> = tasks.iter().map(|t| t.sku.as_deref()).collect();
    let lots: Vec<Option<&str>> = tasks.iter().map(|t| t.lot.as_deref()).collect();
    let locations: Vec<&str> = tasks.iter().map(|t| t.location.as_str()).collect();
    let tos: Vec<Option<&str>> = tasks.iter().map(|t| t.to.as_deref()).collect();
    let qtys: Vec<i64> = tasks.iter().map(|t| t.qty).collect();
    let done: Vec<i64> = tasks.iter().map(|t| t.done_qty).collect();
    let zones: Vec<&str> = tasks.iter().map(|t| t.zone.as_str()).collect();
    let sequences: Vec<i64> = tasks.iter().map(|t| t.sequence as i64).collect();
    let stmt = tx
        .prepare_cached(
            "INSERT INTO tasks (tenant_id, warehouse_id, id, kind, status, order_no, line, sku, \
                 lot, location, to_location, qty, done_qty, zone, sequence) \
             SELECT $1, $2, u.* FROM unnest($3::text[], $4::text[], $5::text[], $6::text[], \
                 $7::bigint[], $8::text[], $9::text[], $10::text[], $11::text[], $12::bigint[], \
                 $13::bigint[], $14::text[], $15::bigint[]) AS u \
             ON CONFLICT (tenant_id, warehouse_id, id) DO UPDATE SET status = excluded.status, \
                 done_qty = excluded.done_qty, to_location = excluded.to_location",
        )
        .await?;
    tx.execute(
        &stmt,
        &[
            &tenant, &warehouse, &ids, &kinds, &statuses, &orders, &lines, &skus, &lots,
            &locations, &tos, &qtys, &done, &zones, &sequences,
        ],
    )
    .await?;
    Ok(())
}

/// Stores the number the warehouse's next task gets; shared with the import.
pub(super) async fn set_next_task(
    tx: &Transaction<'_>,
    tenant: i64,
    warehouse: i64,
    next_task: i64,
) -> Result<()> {
    let stmt = tx
        .prepare_cached("UPDATE warehouses SET next_task = $3 WHERE id = $2 AND tenant_id = $1")
        .await?;
    tx.execute(&stmt, &[&tenant, &warehouse, &next_task])
        .await?;
    Ok(())
}

/// Sets each order's status on all its lines; returns the lines' change
/// rows, by order and line. Shared with the import's allocation.
pub(super) async fn set_order_status(
    tx: &Transaction<'_>,
    tenant: i64,
    warehouse: i64,
    orders: &[(&str, OrderStatus)],
) -> Result<Vec<ChangeRow>> {
    if orders.is_empty() {
        return Ok(Vec::new());
    }
    let orders = last_of_each(orders, |(order, _)| *order);
    let numbers: Vec<&str> = orders.iter().map(|(order, _)| *order).collect();
    let statuses: Vec<&str> = orders.iter().map(|(_, status)| status.as_str()).collect();
    let stmt = tx
        .prepare_cached(
            "UPDATE order_lines o SET status = u.status \
             FROM unnest($3::text[], $4::text[]) AS u (order_no, status), \
             LATERAL (SELECT ctid FROM order_lines WHERE tenant_id = $1 AND warehouse_id = $2 \
                      AND order_no = u.order_no OFFSET 0) AS found \
             WHERE o.ctid = found.ctid \
             RETURNING o.order_no, o.line, o.sku, o.qty, o.customer, o.status",
        )
        .await?;
    let mut lines = tx
        .query(&stmt, &[&tenant, &warehouse, &numbers, &statuses])
        .await?
        .iter()
        .map(|r| {
            Ok(OrderLineRecord {
                order: r.try_get(0)?,
                line: line_no(r.try_get(1)?)?,
                sku: r.try_get(2)?,
                qty: r.try_get(3)?,
                customer: r.try_get(4)?,
                status: named(r.try_get(5)?)?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    lines.sort_by(|a, b| (&a.order, a.line).cmp(&(&b.order, b.line)));
    Ok(lines
        .iter()
        .map(|l| ChangeRow {
            entity: Entity::Order,
            key: format!("{}|{}", l.order, l.line),
            data: Some(to_json(l)),
        })
        .collect())
}

/// Marks exceptions resolved, with their notes.
async fn resolve_exceptions(
    tx: &Transaction<'_>,
    auth: &DeviceAuth,
    resolved: &[(ExceptionRecord, String)],
) -> Result<()> {
    if resolved.is_empty() {
        return Ok(());
    }
    let (ids, notes): (Vec<Uuid>, Vec<&str>) = last_of_each(resolved, |(ex, _)| ex.id.as_str())
        .into_iter()
        .filter_map(|(ex, note)| exception_id(&ex.id).map(|id| (id, note.as_str())))
        .unzip();
    resolve(tx, auth.tenant, auth.warehouse, &ids, &notes).await?;
    Ok(())
}

/// Marks exceptions `ids` of a warehouse resolved with `notes`; returns how
/// many it found. Shared with the supervisor's resolution.
pub(super) async fn resolve(
    tx: &Transaction<'_>,
    tenant: i64,
    warehouse: i64,
    ids: &[Uuid],
    notes: &[&str],
) -> Result<u64> {
    let stmt = tx
        .prepare_cached(
            "UPDATE exceptions e \
             SET status = 'resolved', resolved_at = now(), resolution_note = u.note \
             FROM unnest($3::uuid[], $4::text[]) AS u (id, note), \
             LATERAL (SELECT ctid FROM exceptions WHERE tenant_id = $1 AND warehouse_id = $2 \
                      AND id = u.id LIMIT 1) AS found \
             WHERE e.ctid = found.ctid",
        )
        .await?;
    Ok(tx
        .execute(&stmt, &[&tenant, &warehouse, &ids, &notes])
        .await?)
}

async fn insert_operations(tx: &Transaction<'_>, auth: &DeviceAuth, ops: &[NewOp]) -> Result<()> {
    if ops.is_empty() {
        return Ok(());
    }
    let writer = copy_in(
        tx,
        "COPY operations (id, tenant_id, warehouse_id, device_id, seq, operator, at, kind, \
             payload, refusal_code, refusal_message, sent_id) FROM STDIN (FORMAT binary)",
        &[
            Type::UUID,
            Type::INT8,
            Type::INT8,
            Type::UUID,
            Type::INT8,
            Type::TEXT,
            Type::TIMESTAMPTZ,
            Type::TEXT,
            Type::TEXT,
            Type::TEXT,
            Type::TEXT,
            Type::UUID,
        ],
    )
    .await?;
    let mut writer = pin!(writer);
    for new in ops {
        let op = &new.op;
        let payload = op
            .payload
            .fields_json()
            .map_err(|e| StorageError::Internal(format!("operation payload: {e}")))?;
        writer
            .as_mut()
            .write(&[
                &op.id,
                &auth.tenant,
                &auth.warehouse,
                &auth.device,
                &(op.seq as i64),
                &op.operator,
                &op.at,
                &op.kind().as_str(),
                &payload,
                &new.refusal.as_ref().map(|r| r.code.as_str()),
                &new.refusal.as_ref().map(|r| r.message.as_str()),
                &new.sent_id,
            ])
            .await?;
    }
    writer.finish().await?;
    Ok(())
}

/// Starts a binary `COPY … FROM STDIN` of rows of `types`.
async fn copy_in(tx: &Transaction<'_>, sql: &str, types: &[Type]) -> Result<BinaryCopyInWriter> {
    let stmt = tx.prepare_cached(sql).await?;
    let sink = tx.copy_in(&stmt).await?;
    Ok(BinaryCopyInWriter::new(sink, types))
}

/// Appends to the movement ledger; shared with the import's opening stock.
pub(super) async fn insert_movements(
    tx: &Transaction<'_>,
    tenant: i64,
    warehouse: i64,
    movements: &[Movement],
) -> Result<()> {
    if movements.is_empty() {
        return Ok(());
    }
    let writer = copy_in(
        tx,
        "COPY movements (tenant_id, warehouse_id, op_id, line, location, sku, lot, delta, at) \
         FROM STDIN (FORMAT binary)",
        &[
            Type::INT8,
            Type::INT8,
            Type::UUID,
            Type::INT8,
            Type::TEXT,
            Type::TEXT,
            Type::TEXT,
            Type::INT8,
            Type::TIMESTAMPTZ,
        ],
    )
    .await?;
    let mut writer = pin!(writer);
    for m in movements {
        writer
            .as_mut()
            .write(&[
                &tenant,
                &warehouse,
                &m.op,
                &i64::from(m.line),
                &m.key.location,
                &m.key.sku,
                &m.key.lot,
                &m.delta,
                &m.at,
            ])
            .await?;
    }
    writer.finish().await?;
    Ok(())
}

async fn write_stock(tx: &Transaction<'_>, auth: &DeviceAuth, plan: &Plan) -> Result<()> {
    let (gone, kept): (Vec<_>, Vec<_>) = plan.stock.iter().partition(|(_, c)| c.qty == 0);
    let gone: Vec<&StockKey> = gone.into_iter().map(|(key, _)| key).collect();
    let kept: Vec<(&StockKey, &i64)> = kept.into_iter().map(|(key, c)| (key, &c.qty)).collect();
    try_join!(
        set_stock(tx, auth.tenant, auth.warehouse, &kept),
        delete_stock(tx, auth.tenant, auth.warehouse, &gone),
    )?;
    Ok(())
}

/// Sets stock keys to their new (non-zero) quantities; shared with the
/// import.
pub(super) async fn set_stock(
    tx: &Transaction<'_>,
    tenant: i64,
    warehouse: i64,
    rows: &[(&StockKey, &i64)],
) -> Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let locations: Vec<&str> = rows.iter().map(|(k, _)| k.location.as_str()).collect();
    let skus: Vec<&str> = rows.iter().map(|(k, _)| k.sku.as_str()).collect();
    let lots: Vec<&str> = rows.iter().map(|(k, _)| k.lot.as_str()).collect();
    let qtys: Vec<i64> = rows.iter().map(|(_, q)| **q).collect();
    let stmt = tx
        .prepare_cached(
            "INSERT INTO stock (tenant_id, warehouse_id, location, sku, lot, qty) \
             SELECT $1, $2, u.location, u.sku, u.lot, u.qty \
             FROM unnest($3::text[], $4::text[], $5::text[], $6::bigint[]) \
                 AS u (location, sku, lot, qty) \
             ON CONFLICT (tenant_id, warehouse_id, location, sku, lot) \
                 DO UPDATE SET qty = excluded.qty",
        )
        .await?;
    tx.execute(
        &stmt,
        &[&tenant, &warehouse, &locations, &skus, &lots, &qtys],
    )
    .await?;
    Ok(())
}

/// Removes stock keys that went to zero; shared with the import.
pub(super) async fn delete_stock(
    tx: &Transaction<'_>,
    tenant: i64,
    warehouse: i64,
    keys: &[&StockKey],
) -> Result<()> {
    if keys.is_empty() {
        return Ok(());
    }
    let locations: Vec<&str> = keys.iter().map(|k| k.location.as_str()).collect();
    let skus: Vec<&str> = keys.iter().map(|k| k.sku.as_str()).collect();
    let lots: Vec<&str> = keys.iter().map(|k| k.lot.as_str()).collect();
    let stmt = tx
        .prepare_cached(
            "DELETE FROM stock WHERE tenant_id = $1 AND ctid = ANY (ARRAY( \
                 SELECT s.ctid \
                 FROM unnest($3::text[], $4::text[], $5::text[]) AS k (location, sku, lot), \
                 LATERAL (SELECT ctid FROM stock WHERE tenant_id = $1 AND warehouse_id = $2 \
                          AND location = k.location AND sku = k.sku AND lot = k.lot \
                          LIMIT 1) AS s))",
        )
        .await?;
    tx.execute(&stmt, &[&tenant, &warehouse, &locations, &skus, &lots])
        .await?;
    Ok(())
}

/// Records lots, keeping a known expiry unless one is given.
async fn write_lots(
    tx: &Transaction<'_>,
    tenant: i64,
    lots: &[(String, String, Option<NaiveDate>)],
) -> Result<()> {
    if lots.is_empty() {
        return Ok(());
    }
    let skus: Vec<&str> = lots.iter().map(|(sku, _, _)| sku.as_str()).collect();
    let names: Vec<&str> = lots.iter().map(|(_, lot, _)| lot.as_str()).collect();
    let expiries: Vec<Option<NaiveDate>> = lots.iter().map(|(_, _, e)| *e).collect();
    let stmt = tx
        .prepare_cached(
            "INSERT INTO lots (tenant_id, sku, lot, expiry) \
             SELECT $1, u.sku, u.lot, u.expiry FROM unnest($2::text[], $3::text[], $4::date[]) \
                 AS u (sku, lot, expiry) \
             ON CONFLICT (tenant_id, sku, lot) \
                 DO UPDATE SET expiry = COALESCE(excluded.expiry, lots.expiry)",
        )
        .await?;
    tx.execute(&stmt, &[&tenant, &skus, &names, &expiries])
        .await?;
    Ok(())
}

/// ASN lines, new or changed.
async fn write_asn_lines(tx: &Transaction<'_>, auth: &DeviceAuth, plan: &Plan) -> Result<()> {
    if plan.asn_lines.is_empty() {
        return Ok(());
    }
    let lines = plan.asn_lines.values();
    let asns: Vec<&str> = lines.clone().map(|l| l.asn.as_str()).collect();
    let numbers: Vec<i64> = lines.clone().map(|l| i64::from(l.line)).collect();
    let skus: Vec<&str> = lines.clone().map(|l| l.sku.as_str()).collect();
    let suppliers: Vec<&str> = lines.clone().map(|l| l.supplier.as_str()).collect();
    let expected: Vec<i64> = lines.clone().map(|l| l.expected_qty).collect();
    let received: Vec<i64> = lines.clone().map(|l| l.received_qty).collect();
    let damaged: Vec<i64> = lines.clone().map(|l| l.damaged_qty).collect();
    let closed: Vec<bool> = lines.map(|l| l.closed).collect();
    let stmt = tx
        .prepare_cached(
            "INSERT INTO asn_lines (tenant_id, warehouse_id, asn, line, sku, supplier, expected_qty, \
                 received_qty, damaged_qty, closed) \
             SELECT $1, $2, u.asn, u.line, u.sku, u.supplier, u.expected, u.received, u.damaged, u.closed \
             FROM unnest($3::text[], $4::bigint[], $5::text[], $6::text[], $7::bigint[], $8::bigint[], \
                 $9::bigint[], $10::bool[]) \
                 AS u (asn, line, sku, supplier, expected, received, damaged, closed) \
             ON CONFLICT (tenant_id, warehouse_id, asn, line) DO UPDATE SET sku = excluded.sku, \
                 supplier = excluded.supplier, expected_qty = excluded.expected_qty, \
                 received_qty = excluded.received_qty, damaged_qty = excluded.damaged_qty, \
                 closed = excluded.closed",
        )
        .await?;
    tx.execute(
        &stmt,
        &[
            &auth.tenant,
            &auth.warehouse,
            &asns,
            &numbers,
            &skus,
            &suppliers,
            &expected,
            &received,
            &damaged,
            &closed,
        ],
    )
    .await?;
    Ok(())
}

async fn insert_exceptions(
    tx: &Transaction<'_>,
    auth: &DeviceAuth,
    exceptions: &[NewException],
) -> Result<()> {
    if exceptions.is_empty() {
        return Ok(());
    }
    let writer = copy_in(
        tx,
        "COPY exceptions (id, tenant_id, warehouse_id, op_id, kind, message, order_no, asn, \
             location, sku, lot, raised_at) FROM STDIN (FORMAT binary)",
        &[
            Type::UUID,
            Type::INT8,
            Type::INT8,
            Type::UUID,
            Type::TEXT,
            Type::TEXT,
            Type::TEXT,
            Type::TEXT,
            Type::TEXT,
            Type::TEXT,
            Type::TEXT,
            Type::TIMESTAMPTZ,
        ],
    )
    .await?;
    let mut writer = pin!(writer);
    for ex in exceptions {
        writer
            .as_mut()
            .write(&[
                &ex.id,
                &auth.tenant,
                &auth.warehouse,
                &ex.op,
                &ex.kind.as_str(),
                &ex.message,
                &ex.order,
                &ex.asn,
                &ex.location,
                &ex.sku,
                &ex.lot,
                &ex.at,
            ])
            .await?;
    }
    writer.finish().await?;
    Ok(())
}

/// Writes change-log rows at fresh positions of the tenant's counter, which
/// the same statement advances (taking the tenant's lock if the transaction
/// does not hold it yet). `warehouse` 0 writes tenant-wide rows.
///
/// A record written twice keeps its last row: only its latest state matters
/// to a pull.
async fn write_change_log(
    tx: &Transaction<'_>,
    tenant: i64,
    warehouse: i64,
    rows: &[ChangeRow],
) -> Result<()> {
    let latest = last_of_each(rows, |r| (r.entity, r.key.as_str()));
    if latest.is_empty() {
        return Ok(());
    }
    let count = latest.len() as i64;
    let entities: Vec<&str> = latest.iter().map(|r| r.entity.as_str()).collect();
    let keys: Vec<&str> = latest.iter().map(|r| r.key.as_str()).collect();
    let data: Vec<Option<&str>> = latest.iter().map(|r| r.data.as_deref()).collect();
    let stmt = tx
        .prepare_cached(
            "WITH counter AS ( \
                 UPDATE tenants SET change_position = change_position + $3 WHERE id = $1 \
                 RETURNING change_position - $3 AS before \
             ) \
             INSERT INTO changes (tenant_id, warehouse_id, entity, key, position, data) \
             SELECT $1, $2, u.entity, u.key, counter.before + u.n, u.data \
             FROM counter, unnest($4::text[], $5::text[], $6::text[]) WITH ORDINALITY \
                 AS u (entity, key, data, n) \
             ON CONFLICT (tenant_id, warehouse_id, entity, key) \
                 DO UPDATE SET position = excluded.position, data = excluded.data",
        )
        .await?;
    tx.execute(
        &stmt,
        &[&tenant, &warehouse, &count, &entities, &keys, &data],
    )
    .await?;
    Ok(())
}
