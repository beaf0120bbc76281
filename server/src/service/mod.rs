//! The server's own writes as use cases: what GraphQL, the HTTP fast path,
//! the admin CLI and the workflow engine call. Each names what it needs
//! loaded, hands the pure decision (`domain::desk`, `domain::import`) to
//! [`Storage::transact`], and reads its answer off the committed plan, so
//! the backends hold no use case of their own (docs/ARCHITECTURE.md, "The
//! write seam").
//!
//! An extension of every [`Storage`]: `use pyck_server::service::UseCases`
//! and call them on the store.

use std::sync::Arc;

use async_trait::async_trait;
use pyck_vocab::records::{ExceptionRecord, Role, TaskRecord};

use crate::domain::Needs;
use crate::domain::OperatorRow;
use crate::domain::desk;
use crate::domain::operators::{self, OperatorUpdate};
use crate::import::ImportData;
use crate::push::Plan;
use crate::settings::{
    Change as SettingChange, Key as SettingKey, SettingWrite, Value as SettingValue,
};
use crate::storage::{
    ImportSummary, OperatorInfo, Result, Scope, Storage, StorageError, WarehouseRef,
};
use crate::workflow::effects;
use crate::workflow::machine::{Outcome, Transition, Workflow};

#[async_trait]
pub trait UseCases: Storage {
    /// Master data and opening stock ([`crate::domain::import`]); creates
    /// the warehouse when new. Safe to re-run: records are upserted, opening
    /// stock is *set* (a movement of the difference), so importing the same
    /// files twice changes nothing.
    async fn import(
        &self,
        tenant: i64,
        warehouse_code: &str,
        data: &ImportData,
    ) -> Result<ImportSummary> {
        let data = Arc::new(data.clone());
        let needs = crate::domain::import::needs(&data);
        let scope = Scope {
            tenant,
            warehouse: WarehouseRef::Code(warehouse_code.to_owned()),
        };
        let decide_on = Arc::clone(&data);
        let plan = self
            .transact(
                scope,
                needs,
                Box::new(move |view| {
                    crate::domain::import::plan(view, &decide_on)
                        .map_err(StorageError::InvalidImport)
                }),
            )
            .await?;
        Ok(ImportSummary {
            items: data.items.len(),
            locations: data.locations.len(),
            stock_rows: data.stock.len(),
            movements: plan.movements.len(),
            asn_lines: data.asn_lines.len(),
            order_lines: data.order_lines.len(),
        })
    }

    /// A new, active operator; their PIN arrives already hashed. Devices of
    /// `warehouses` receive them, of every warehouse of the tenant when
    /// empty. `AlreadyExists` if the badge is taken.
    async fn create_operator(
        &self,
        tenant: i64,
        badge: &str,
        role: Role,
        pin_hash: &str,
        warehouses: &[i64],
    ) -> Result<()> {
        let row = OperatorRow {
            badge: badge.to_owned(),
            role,
            pin_hash: pin_hash.to_owned(),
            active: true,
            warehouses: warehouses.to_vec(),
        };
        self.transact(
            Scope::tenant_wide(tenant),
            operators::needs(badge),
            Box::new(move |view| operators::create(view, row).map_err(StorageError::from)),
        )
        .await?;
        Ok(())
    }

    /// Changes an operator and sends the change to the devices that hold
    /// them; `UnknownOperator` if the badge is not the tenant's.
    async fn update_operator(
        &self,
        tenant: i64,
        badge: &str,
        update: &OperatorUpdate,
    ) -> Result<OperatorInfo> {
        let (owned, update) = (badge.to_owned(), update.clone());
        self.transact(
            Scope::tenant_wide(tenant),
            operators::needs(badge),
            Box::new(move |view| {
                operators::update(view, &owned, update).map_err(StorageError::from)
            }),
        )
        .await?;
        self.operators(tenant)
            .await?
            .into_iter()
            .find(|o| o.badge == badge)
            .ok_or_else(|| StorageError::UnknownOperator(badge.to_owned()))
    }

    /// Stores a workflow's transition (its history rows and their events,
    /// a `pick_overdue` it raises) if `owner` still holds the workflow's
    /// lease, and frees the lease; `false` (nothing stored) when another
    /// replica took the workflow over.
    async fn advance_workflow(&self, owner: &str, wf: &Workflow, t: &Transition) -> Result<bool> {
        let (decide_wf, t) = (wf.clone(), t.clone());
        let plan = self
            .transact(
                Scope::of(wf.tenant, wf.warehouse),
                effects::step_needs(&wf.order, owner),
                Box::new(move |view| Ok(effects::step_plan(view, &decide_wf, t))),
            )
            .await?;
        Ok(plan.workflow_step.is_some())
    }

    /// A new order (all lines share one order number), allocated at once
    /// ([`desk::create_order`]); returns its pick tasks. Errors if the order
    /// number exists.
    async fn create_order(
        &self,
        tenant: i64,
        warehouse: i64,
        lines: &[crate::import::OrderLine],
    ) -> Result<Vec<TaskRecord>> {
        let lines = lines.to_vec();
        let needs = desk::order_needs(&lines);
        let plan = self
            .transact(
                Scope::of(tenant, warehouse),
                needs,
                Box::new(move |view| desk::create_order(view, &lines).map_err(StorageError::from)),
            )
            .await?;
        Ok(plan.tasks.into_values().collect())
    }

    /// A blind count task at a location (optionally for one SKU).
    async fn create_count_task(
        &self,
        tenant: i64,
        warehouse: i64,
        location: &str,
        sku: Option<&str>,
    ) -> Result<TaskRecord> {
        let (location, sku) = (location.to_owned(), sku.map(str::to_owned));
        let needs = desk::count_task_needs(&location);
        let plan = self
            .transact(
                Scope::of(tenant, warehouse),
                needs,
                Box::new(move |view| {
                    desk::count_task(view, &location, sku.as_deref()).map_err(StorageError::Invalid)
                }),
            )
            .await?;
        plan.tasks
            .into_values()
            .next()
            .ok_or_else(|| StorageError::Internal("a count task's plan holds no task".into()))
    }

    /// Changes one warehouse setting and audits it (old, new, who, when) in
    /// one transaction ([`crate::settings::plan`]); the next operation
    /// applied sees it.
    async fn set_setting(
        &self,
        tenant: i64,
        warehouse: i64,
        key: SettingKey,
        value: &SettingValue,
        by: &str,
    ) -> Result<SettingChange> {
        let (value, by) = (value.clone(), by.to_owned());
        // Microseconds, as both backends store it: the answer is the audit
        // row as `settings_history` reads it back.
        let at = chrono::SubsecRound::trunc_subsecs(chrono::Utc::now(), 6);
        let plan = self
            .transact(
                Scope::of(tenant, warehouse),
                Needs::default(),
                Box::new(move |view| Ok(crate::settings::plan(view, key, value, &by, at))),
            )
            .await?;
        plan.setting
            .as_ref()
            .map(SettingWrite::change)
            .ok_or_else(|| StorageError::Internal("a settings change planned no change".into()))
    }

    /// Resolves an exception with a note; `None` if it does not exist.
    async fn resolve_exception(
        &self,
        tenant: i64,
        warehouse: i64,
        id: &str,
        note: &str,
    ) -> Result<Option<ExceptionRecord>> {
        let (id, note) = (id.to_owned(), note.to_owned());
        let needs = desk::resolve_needs(&id);
        let plan = self
            .transact(
                Scope::of(tenant, warehouse),
                needs,
                Box::new(move |view| {
                    // Nothing to resolve: an empty plan, which writes nothing.
                    Ok(desk::resolve(view, &id, &note).unwrap_or_else(|| Plan::over(view)))
                }),
            )
            .await?;
        Ok(plan.resolved.into_iter().next().map(|(ex, _)| ex))
    }

    /// The reserve step: pick tasks for lines that have none yet
    /// ([`desk::reserve`]). Idempotent.
    async fn reserve_order(&self, tenant: i64, warehouse: i64, order: &str) -> Result<Outcome> {
        let order = order.to_owned();
        let needs = desk::reserve_needs(&order);
        let plan = self
            .transact(
                Scope::of(tenant, warehouse),
                needs,
                Box::new(move |view| Ok(desk::reserve(view, &order))),
            )
            .await?;
        Ok(crate::workflow::effects::reserve_outcome(&plan))
    }

    /// Compensation: open picks cancelled, staged goods given return-to-stock
    /// putaway tasks, the order cancelled ([`desk::compensate`]). Idempotent.
    async fn compensate_order(&self, tenant: i64, warehouse: i64, order: &str) -> Result<()> {
        let order = order.to_owned();
        let needs = desk::compensate_needs(&order);
        self.transact(
            Scope::of(tenant, warehouse),
            needs,
            Box::new(move |view| Ok(desk::compensate(view, &order))),
        )
        .await?;
        Ok(())
    }
}

impl<S: Storage + ?Sized> UseCases for S {}

impl From<operators::Refused> for StorageError {
    fn from(r: operators::Refused) -> Self {
        match r {
            operators::Refused::Exists(badge) => {
                StorageError::AlreadyExists(format!("operator with badge {badge:?}"))
            }
            operators::Refused::Unknown(badge) => StorageError::UnknownOperator(badge),
        }
    }
}

impl From<desk::Refused> for StorageError {
    fn from(r: desk::Refused) -> Self {
        match r {
            desk::Refused::Exists(what) => StorageError::AlreadyExists(what),
            desk::Refused::Invalid(why) => StorageError::Invalid(why),
        }
    }
}
