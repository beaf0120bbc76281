//! Queries: the pull, and what a supervisor looks at.

use async_graphql::{Context, ID, Object, Result};
use pyck_vocab::protocol::{MIN_PROTOCOL_VERSION, PROTOCOL_VERSION};
use uuid::Uuid;

use super::types::{
    CycleTimeReport, Device, Exception, FloorView, Item, Location, PullPage, PullRequest,
    ServerInfo, SettingChange, Stock, StoredOperation, WarehouseSettings, Workflow,
};
use super::{ApiError, auth, push_pull, storage, storage_error};
use crate::floor;
use crate::reports::{self, accuracy, cycle_time, exceptions, productivity, receiving};
use crate::storage::{ReportFacts, ReportScope, StockFilter};
use async_graphql::ErrorExtensions;

pub struct Query;

#[Object]
impl Query {
    /// Versions, so a terminal can check compatibility before it syncs.
    async fn server_info(&self) -> ServerInfo {
        ServerInfo {
            version: env!("CARGO_PKG_VERSION").to_owned(),
            protocol: PROTOCOL_VERSION,
            min_protocol: MIN_PROTOCOL_VERSION,
        }
    }

    /// The calling device.
    async fn me(&self, ctx: &Context<'_>) -> Result<Device> {
        let a = auth(ctx)?;
        Ok(Device {
            id: ID(a.device.to_string()),
            tenant: a.tenant,
            warehouse: a.warehouse,
        })
    }

    /// Changes of the device's warehouse after a cursor, oldest first.
    async fn pull(&self, ctx: &Context<'_>, request: PullRequest) -> Result<PullPage> {
        let a = auth(ctx)?;
        push_pull::pull(storage(ctx), a, request.0)
            .await
            .map(PullPage)
            .map_err(|e| e.extend())
    }

    /// Stock of the device's warehouse, optionally at one location or of one SKU.
    async fn stock(
        &self,
        ctx: &Context<'_>,
        location: Option<String>,
        sku: Option<String>,
    ) -> Result<Vec<Stock>> {
        let a = auth(ctx)?;
        let rows = storage(ctx)
            .stock(a.tenant, a.warehouse, &StockFilter { location, sku })
            .await
            .map_err(storage_error)?;
        Ok(rows.into_iter().map(Stock::from).collect())
    }

    async fn items(&self, ctx: &Context<'_>) -> Result<Vec<Item>> {
        let a = auth(ctx)?;
        let rows = storage(ctx).items(a.tenant).await.map_err(storage_error)?;
        Ok(rows.into_iter().map(Item::from).collect())
    }

    async fn locations(&self, ctx: &Context<'_>) -> Result<Vec<Location>> {
        let a = auth(ctx)?;
        let rows = storage(ctx)
            .locations(a.tenant, a.warehouse)
            .await
            .map_err(storage_error)?;
        Ok(rows.into_iter().map(Location::from).collect())
    }

    /// Exceptions of the device's warehouse.
    async fn exceptions(&self, ctx: &Context<'_>) -> Result<Vec<Exception>> {
        let a = auth(ctx)?;
        let rows = storage(ctx)
            .exceptions(a.tenant, a.warehouse)
            .await
            .map_err(storage_error)?;
        Ok(rows.into_iter().map(Exception::from).collect())
    }

    /// An order's fulfilment workflow with its history, in the caller's
    /// warehouse; null if there is no such order.
    async fn workflow(&self, ctx: &Context<'_>, order: String) -> Result<Option<Workflow>> {
        let a = auth(ctx)?;
        let report = storage(ctx)
            .workflow(a.tenant, Some(a.warehouse), &order)
            .await
            .map_err(storage_error)?;
        Ok(report.map(Workflow::from))
    }

    /// Every order's workflow in the caller's warehouse, newest first,
    /// without history.
    async fn workflows(&self, ctx: &Context<'_>) -> Result<Vec<Workflow>> {
        let a = auth(ctx)?;
        let all = storage(ctx)
            .workflows(a.tenant, Some(a.warehouse))
            .await
            .map_err(storage_error)?;
        Ok(all.into_iter().map(Workflow::from).collect())
    }

    /// The settings of the caller's warehouse.
    async fn settings(&self, ctx: &Context<'_>) -> Result<WarehouseSettings> {
        let a = auth(ctx)?;
        let s = storage(ctx)
            .settings(a.tenant, a.warehouse)
            .await
            .map_err(storage_error)?;
        Ok(WarehouseSettings::from(s))
    }

    /// Every audited change of the caller's warehouse's settings.
    async fn settings_history(&self, ctx: &Context<'_>) -> Result<Vec<SettingChange>> {
        let a = auth(ctx)?;
        let all = storage(ctx)
            .settings_history(a.tenant, a.warehouse)
            .await
            .map_err(storage_error)?;
        Ok(all.into_iter().map(SettingChange::from).collect())
    }

    /// Operations a device of the caller's warehouse pushed, in sequence
    /// order (default: the caller); none for a device elsewhere.
    async fn operations(
        &self,
        ctx: &Context<'_>,
        device: Option<ID>,
        #[graphql(default = 0)] after_seq: u64,
        #[graphql(default = 100)] limit: u32,
    ) -> Result<Vec<StoredOperation>> {
        let a = auth(ctx)?;
        let device = match device {
            Some(id) => Uuid::parse_str(&id).map_err(|_| {
                ApiError::BadRequest(format!("device: {:?} is not a device id", id.0)).extend()
            })?,
            None => a.device,
        };
        let rows = storage(ctx)
            .operations(
                a.tenant,
                a.warehouse,
                device,
                after_seq,
                limit.min(push_pull::MAX_PULL_PAGE),
            )
            .await
            .map_err(storage_error)?;
        Ok(rows.into_iter().map(StoredOperation::from).collect())
    }

    /// The device's warehouse as the supervisor's floor dashboard shows it
    /// (docs/FLOOR.md); picks are charted per clock hour over the last
    /// `shiftHours` hours (1 to 24), the current one included.
    async fn floor(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 8)] shift_hours: i32,
    ) -> Result<FloorView> {
        let a = auth(ctx)?;
        let hours = u32::try_from(shift_hours)
            .ok()
            .filter(|h| (1..=floor::MAX_SHIFT_HOURS).contains(h))
            .ok_or_else(|| {
                ApiError::BadRequest(format!(
                    "shiftHours: expected 1 to {}, got {shift_hours}",
                    floor::MAX_SHIFT_HOURS
                ))
                .extend()
            })?;
        let at = chrono::Utc::now();
        let facts = storage(ctx)
            .floor_facts(a.tenant, a.warehouse, floor::shift_start(at, hours))
            .await
            .map_err(storage_error)?;
        Ok(floor::summarize(facts, at, hours).into())
    }

    /// Operator productivity in the device's warehouse: picks and order
    /// lines per hour (docs/REPORTS.md). `from`/`to`: YYYY-MM-DD (UTC), `to`
    /// not included.
    async fn productivity_report(
        &self,
        ctx: &Context<'_>,
        from: Option<String>,
        to: Option<String>,
    ) -> Result<Vec<productivity::Row>> {
        let (facts, _) = report_facts(ctx, from, to).await?;
        Ok(productivity::compute(&facts))
    }

    /// Receiving per ASN in the device's warehouse (docs/REPORTS.md).
    async fn receiving_report(
        &self,
        ctx: &Context<'_>,
        from: Option<String>,
        to: Option<String>,
    ) -> Result<Vec<receiving::Row>> {
        let (facts, _) = report_facts(ctx, from, to).await?;
        Ok(receiving::compute(&facts))
    }

    /// Exceptions by day and kind in the device's warehouse (docs/REPORTS.md).
    async fn exceptions_report(
        &self,
        ctx: &Context<'_>,
        from: Option<String>,
        to: Option<String>,
    ) -> Result<Vec<exceptions::Row>> {
        let (facts, _) = report_facts(ctx, from, to).await?;
        Ok(exceptions::compute(&facts))
    }

    /// Inventory accuracy from counts in the device's warehouse
    /// (docs/REPORTS.md).
    async fn accuracy_report(
        &self,
        ctx: &Context<'_>,
        from: Option<String>,
        to: Option<String>,
    ) -> Result<Vec<accuracy::Row>> {
        let (facts, _) = report_facts(ctx, from, to).await?;
        Ok(accuracy::compute(&facts))
    }

    /// Order cycle times in the device's warehouse, with median and p90
    /// (docs/REPORTS.md).
    async fn cycle_time_report(
        &self,
        ctx: &Context<'_>,
        from: Option<String>,
        to: Option<String>,
    ) -> Result<CycleTimeReport> {
        let (facts, scope) = report_facts(ctx, from, to).await?;
        let orders = cycle_time::compute(&facts, &scope);
        let summary = cycle_time::summary(&orders);
        Ok(CycleTimeReport { orders, summary })
    }
}

/// The facts of the caller's warehouse in a window: any device token of a
/// tenant reads its own warehouse's reports, as it reads its exceptions.
async fn report_facts(
    ctx: &Context<'_>,
    from: Option<String>,
    to: Option<String>,
) -> Result<(ReportFacts, ReportScope)> {
    let a = auth(ctx)?;
    let day = |field: &str, v: Option<String>| {
        v.map(|v| reports::parse_day(field, &v))
            .transpose()
            .map_err(|e| ApiError::BadRequest(e).extend())
    };
    let scope = ReportScope {
        warehouse: Some(a.warehouse),
        from: day("from", from)?,
        to: day("to", to)?,
    };
    let facts = storage(ctx)
        .report_facts(a.tenant, &scope)
        .await
        .map_err(storage_error)?;
    Ok((facts, scope))
}
