//! The PostgreSQL backend, for several stateless server replicas on one
//! database.
//!
//! A pool of connections (deadpool, no TLS: the database is reached over a
//! trusted network); every call borrows one. Pushes of a tenant serialise on
//! the tenant's row (see `push.rs`), so replicas need no coordination of their
//! own. Statements are prepared once per connection (the pool caches them)
//! and rows travel as arrays or a binary `COPY`, so a batch costs a handful
//! of round trips however many operations it holds.

mod admin;
mod attachments;
mod floor;
mod migrate;
mod outbox;
mod push;
mod queries;
mod reports;
mod settings;
mod workflow;

use std::collections::HashSet;
use std::hash::Hash;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use async_trait::async_trait;
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use pyck_vocab::operation::Operation;
use pyck_vocab::protocol::PullPage;
use pyck_vocab::protocol::PushResponse;
use pyck_vocab::records::{ExceptionRecord, ItemRecord, LocationRecord, Role, StockRecord};
use tokio_postgres::NoTls;
use tokio_postgres::error::SqlState;
use uuid::Uuid;

use super::{
    DeviceAuth, DeviceInfo, Discrepancy, OperatorInfo, Result, StockFilter, Storage, StorageError,
    StoredOperation, Tenant, Warehouse,
};
use crate::login::{Failures, OperatorLogin};
use crate::settings::{Change as SettingChange, Settings};
use crate::workflow::Report as WorkflowReport;
use crate::workflow::machine::{Facts, Workflow};
use chrono::{DateTime, Utc};

/// Connections per server process. A push holds one for its whole
/// transaction, including while it waits for its tenant's lock.
const POOL_SIZE: usize = 16;

/// How long to wait for a new connection unless the URL says otherwise.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Connects to the database at `url`, migrates it, and returns the backend.
/// Refuses a database whose schema is newer than this build.
pub async fn open(url: &str) -> anyhow::Result<Arc<dyn Storage>> {
    // The URL may carry a password: errors below never repeat it.
    let mut config: tokio_postgres::Config =
        url.parse().context("while reading the PostgreSQL URL")?;
    // An unreachable server should fail `/readyz` and start-up, not hang
    // them for the minutes TCP takes to give up.
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(CONNECT_TIMEOUT);
    }
    let manager = Manager::from_config(
        config,
        NoTls,
        ManagerConfig {
            recycling_method: RecyclingMethod::Fast,
        },
    );
    let pool = Pool::builder(manager)
        .max_size(POOL_SIZE)
        .build()
        .context("while creating the PostgreSQL connection pool")?;
    let mut client = pool.get().await.context("while connecting to PostgreSQL")?;
    migrate::migrate(&mut client).await?;
    drop(client);
    Ok(Arc::new(PgStorage { pool }))
}

/// The backend: a pool of connections to one database.
struct PgStorage {
    pool: Pool,
}

impl PgStorage {
    async fn client(&self) -> Result<deadpool_postgres::Client> {
        self.pool.get().await.map_err(StorageError::from)
    }
}

fn is_unique_violation(e: &tokio_postgres::Error) -> bool {
    e.code() == Some(&SqlState::UNIQUE_VIOLATION)
}

/// The last row of each key, in the order of those last rows: what a series
/// of upserts would leave behind, for statements that may touch each key only
/// once (`ON CONFLICT DO UPDATE` refuses to update a row twice).
fn last_of_each<'a, T, K: Eq + Hash>(rows: &'a [T], key: impl Fn(&'a T) -> K) -> Vec<&'a T> {
    let mut seen = HashSet::with_capacity(rows.len());
    let mut last: Vec<&T> = rows.iter().rev().filter(|r| seen.insert(key(r))).collect();
    last.reverse();
    last
}

#[async_trait]
impl Storage for PgStorage {
    fn backend(&self) -> &'static str {
        "postgres"
    }

    async fn probe_write(&self) -> Result<()> {
        // One statement, so it commits on its own; a read-only database or
        // a standby refuses it.
        self.client()
            .await?
            .batch_execute(
                "INSERT INTO readiness_probe (id, probed_at) VALUES (1, now()) \
                 ON CONFLICT (id) DO UPDATE SET probed_at = excluded.probed_at",
            )
            .await?;
        Ok(())
    }

    async fn create_tenant(&self, name: &str) -> Result<Tenant> {
        admin::create_tenant(&*self.client().await?, name).await
    }

    async fn tenants(&self) -> Result<Vec<Tenant>> {
        admin::tenants(&*self.client().await?).await
    }

    async fn tenant(&self, name: &str) -> Result<Tenant> {
        admin::tenant(&*self.client().await?, name).await
    }

    async fn warehouses(&self, tenant: i64) -> Result<Vec<Warehouse>> {
        admin::warehouses(&*self.client().await?, tenant).await
    }

    async fn warehouse(&self, tenant: i64, code: &str) -> Result<Warehouse> {
        admin::warehouse(&*self.client().await?, tenant, code).await
    }

    async fn operator_login(
        &self,
        tenant: i64,
        warehouse: i64,
        badge: &str,
    ) -> Result<Option<OperatorLogin>> {
        admin::operator_login(&*self.client().await?, tenant, warehouse, badge).await
    }

    async fn set_login_failures(&self, tenant: i64, badge: &str, failures: Failures) -> Result<()> {
        admin::set_login_failures(&*self.client().await?, tenant, badge, failures).await
    }

    async fn operators(&self, tenant: i64) -> Result<Vec<OperatorInfo>> {
        admin::operators(&*self.client().await?, tenant).await
    }

    async fn devices(&self, tenant: i64) -> Result<Vec<DeviceInfo>> {
        admin::devices(&*self.client().await?, tenant).await
    }

    async fn create_device(
        &self,
        tenant: i64,
        warehouse: i64,
        name: &str,
        token_hash: &str,
    ) -> Result<Uuid> {
        admin::create_device(&*self.client().await?, tenant, warehouse, name, token_hash).await
    }

    async fn revoke_device(&self, token_hash: &str, device: Option<Uuid>) -> Result<Uuid> {
        admin::revoke_device(&*self.client().await?, token_hash, device).await
    }

    async fn authenticate(&self, token_hash: &str) -> Result<Option<DeviceAuth>> {
        admin::authenticate(&*self.client().await?, token_hash).await
    }

    async fn push(
        &self,
        device: &DeviceAuth,
        ops: Vec<Operation>,
        backlog: u64,
    ) -> Result<PushResponse> {
        push::push(&mut *self.client().await?, device, ops, backlog).await
    }

    async fn outbox(&self, limit: u32) -> Result<Vec<crate::outbox::Pending>> {
        outbox::pending(&*self.client().await?, limit).await
    }

    async fn outbox_relayed(&self, ids: &[i64]) -> Result<()> {
        outbox::relayed(&*self.client().await?, ids).await
    }

    async fn pull(&self, device: &DeviceAuth, cursor: u64, limit: u32) -> Result<PullPage> {
        queries::pull(&*self.client().await?, device, cursor, limit).await
    }

    async fn verify(&self, tenant: i64) -> Result<Vec<Discrepancy>> {
        queries::verify(&*self.client().await?, tenant).await
    }

    async fn stock(
        &self,
        tenant: i64,
        warehouse: i64,
        filter: &StockFilter,
    ) -> Result<Vec<StockRecord>> {
        queries::stock(&*self.client().await?, tenant, warehouse, filter).await
    }

    async fn items(&self, tenant: i64) -> Result<Vec<ItemRecord>> {
        queries::items(&*self.client().await?, tenant).await
    }

    async fn locations(&self, tenant: i64, warehouse: i64) -> Result<Vec<LocationRecord>> {
        queries::locations(&*self.client().await?, tenant, warehouse).await
    }

    async fn exceptions(&self, tenant: i64, warehouse: i64) -> Result<Vec<ExceptionRecord>> {
        queries::exceptions(&*self.client().await?, tenant, warehouse).await
    }

    async fn operations(
        &self,
        tenant: i64,
        warehouse: i64,
        device: Uuid,
        after_seq: u64,
        limit: u32,
    ) -> Result<Vec<StoredOperation>> {
        let client = self.client().await?;
        queries::operations(&client, tenant, warehouse, device, after_seq, limit).await
    }

    async fn operator_role(&self, tenant: i64, badge: &str) -> Result<Option<Role>> {
        admin::operator_role(&*self.client().await?, tenant, badge).await
    }

    async fn transact(
        &self,
        scope: crate::storage::Scope,
        needs: crate::domain::Needs,
        decide: crate::storage::Decide,
    ) -> Result<crate::push::Plan> {
        push::transact(&mut *self.client().await?, &scope, &needs, decide).await
    }

    async fn claim_workflows(
        &self,
        owner: &str,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<Workflow>> {
        workflow::claim(&*self.client().await?, owner, now, until, limit).await
    }

    async fn workflows_due(&self, now: DateTime<Utc>) -> Result<u64> {
        workflow::due(&*self.client().await?, now).await
    }

    async fn order_facts(&self, tenant: i64, warehouse: i64, order: &str) -> Result<Facts> {
        workflow::facts(&*self.client().await?, tenant, warehouse, order).await
    }

    async fn release_workflows(&self, owner: &str) -> Result<()> {
        workflow::release(&*self.client().await?, owner).await
    }

    async fn cancel_order(&self, tenant: i64, order: &str) -> Result<Option<String>> {
        workflow::cancel(&*self.client().await?, tenant, order).await
    }

    async fn workflow(
        &self,
        tenant: i64,
        warehouse: Option<i64>,
        order: &str,
    ) -> Result<Option<WorkflowReport>> {
        workflow::report(&*self.client().await?, tenant, warehouse, order).await
    }

    async fn workflows(&self, tenant: i64, warehouse: Option<i64>) -> Result<Vec<WorkflowReport>> {
        workflow::list(&*self.client().await?, tenant, warehouse).await
    }

    async fn settings(&self, tenant: i64, warehouse: i64) -> Result<Settings> {
        settings::get(&*self.client().await?, tenant, warehouse).await
    }

    async fn settings_history(&self, tenant: i64, warehouse: i64) -> Result<Vec<SettingChange>> {
        settings::history(&*self.client().await?, tenant, warehouse).await
    }

    async fn report_facts(
        &self,
        tenant: i64,
        scope: &super::ReportScope,
    ) -> Result<super::ReportFacts> {
        reports::facts(&*self.client().await?, tenant, scope).await
    }

    async fn attachment(&self, tenant: i64, sha256: &str) -> Result<Option<super::Attachment>> {
        attachments::get(&*self.client().await?, tenant, sha256).await
    }

    async fn store_attachment(&self, tenant: i64, attachment: &super::Attachment) -> Result<()> {
        attachments::store(&*self.client().await?, tenant, attachment).await
    }

    async fn link_attachment(
        &self,
        tenant: i64,
        warehouse: i64,
        sha256: &str,
        target: &pyck_vocab::attachments::Target,
    ) -> Result<super::LinkOutcome> {
        attachments::link(&*self.client().await?, tenant, warehouse, sha256, target).await
    }

    async fn exception_attachments(
        &self,
        tenant: i64,
        warehouse: i64,
        exception: &str,
    ) -> Result<Vec<super::Attachment>> {
        attachments::of_exception(&*self.client().await?, tenant, warehouse, exception).await
    }

    async fn order_operation(
        &self,
        tenant: i64,
        warehouse: i64,
        order: &str,
        kinds: &[&str],
    ) -> Result<Option<Uuid>> {
        workflow::order_operation(&*self.client().await?, tenant, warehouse, order, kinds).await
    }

    async fn backup(&self, _dest: &std::path::Path) -> Result<super::BackupSummary> {
        Err(StorageError::Unsupported(
            "pyck-server backup copies SQLite files; back PostgreSQL up with pg_dump \
             (docs/OPERATIONS.md, \"Backups\")"
                .into(),
        ))
    }

    async fn floor_facts(
        &self,
        tenant: i64,
        warehouse: i64,
        since: DateTime<Utc>,
    ) -> Result<super::FloorFacts> {
        floor::facts(&mut self.client().await?, tenant, warehouse, since).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn last_of_each_keeps_the_last_row_of_a_key_where_it_stood() {
        let rows = [("a", 1), ("b", 2), ("a", 3), ("c", 4), ("b", 5)];
        let last: Vec<_> = last_of_each(&rows, |(key, _)| *key)
            .into_iter()
            .copied()
            .collect();
        assert_eq!(last, [("a", 3), ("c", 4), ("b", 5)]);
    }
}
