//! The embedded default: one SQLite file.
//!
//! One writer connection behind a mutex (SQLite has one writer anyway; a
//! batch takes it with `BEGIN IMMEDIATE`, which also serialises against other
//! processes on the same file) and a small pool of readers (WAL lets them
//! read while a batch commits). Every call runs on tokio's blocking pool.

mod admin;
mod attachments;
mod backup;
mod checkpoint;
mod floor;
mod outbox;
mod push;
mod queries;
mod reports;
mod settings;
mod workflow;

use std::path::Path;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use chrono::{DateTime, SecondsFormat, Utc};
use pyck_vocab::names::Named;
use pyck_vocab::operation::Operation;
use pyck_vocab::protocol::PullPage;
use pyck_vocab::protocol::PushResponse;
use pyck_vocab::records::{ExceptionRecord, ItemRecord, LocationRecord, Role, StockRecord};
use rusqlite::{Connection, OpenFlags};
use rusqlite_migration::{M, Migrations};
use uuid::Uuid;

use super::{
    DeviceAuth, DeviceInfo, Discrepancy, OperatorInfo, Result, StockFilter, Storage, StorageError,
    StoredOperation, Tenant, Warehouse,
};
use crate::login::{Failures, OperatorLogin};
use crate::outbox::Pending;
use crate::settings::{Change as SettingChange, Settings};
use crate::workflow::Report as WorkflowReport;
use crate::workflow::machine::{Facts, Workflow};

const MIGRATIONS_SLICE: &[M<'static>] = &[
    M::up(include_str!("migrations/0001_initial.sql")),
    M::up(include_str!("migrations/0002_tasks.sql")),
    M::up(include_str!("migrations/0003_indexes.sql")),
    M::up(include_str!("migrations/0004_ledger_by_operation.sql")),
    M::up(include_str!("migrations/0005_workflows.sql")),
    M::up(include_str!("migrations/0006_settings.sql")),
    M::up(include_str!("migrations/0007_attachments.sql")),
    M::up(include_str!("migrations/0008_workflow_operations.sql")),
    M::up(include_str!("migrations/0009_order_and_asn_truth.sql")),
    M::up(include_str!("migrations/0010_operation_ids_per_tenant.sql")),
    M::up(include_str!("migrations/0011_operators_per_warehouse.sql")),
    M::up(include_str!("migrations/0012_readiness_probe.sql")),
    M::up(include_str!("migrations/0013_outbox.sql")),
    M::up(include_str!(
        "migrations/0014_operations_by_order_predicate.sql"
    )),
    M::up(include_str!("migrations/0015_change_log_appended.sql")),
];
const MIGRATIONS: Migrations<'static> = Migrations::from_slice(MIGRATIONS_SLICE);

/// Readers kept open for reuse.
const MAX_IDLE_READERS: usize = 8;

pub struct SqliteStorage {
    path: Arc<Path>,
    writer: Arc<Mutex<Connection>>,
    readers: Arc<Mutex<Vec<Connection>>>,
    /// Last, so it is dropped after the connections above: its closing
    /// checkpoint can then empty the log.
    checkpointer: Arc<checkpoint::Checkpointer>,
}

/// The writer's page cache: more of a large push's pages stay in memory
/// until its commit, instead of spilling into the log and being written
/// again (the default 2 MB spilled about 1,500 pages of a 10,000-operation
/// push, issue 21). 32 MB raised the server's peak RSS under the 50-device
/// load by 33 MB, past its 100 MB target; 16 MB is the compromise.
const WRITER_CACHE_KIB: i64 = 16 * 1024;

/// The page size of new server databases. The WAL takes every page a
/// commit dirtied, whole, and a push dirties pages at scattered keys of the
/// stock and change-log B-trees: with 1 KiB pages a 10,000-operation push
/// wrote 10.5 MB of WAL where SQLite's default 4 KiB wrote 18.7 MB (issue
/// 21, bench/NOTES.md). A database created before keeps its size until an
/// offline `VACUUM` after `PRAGMA page_size`.
const PAGE_SIZE: i64 = 1024;

/// Per-connection settings (never in migrations: they do not persist).
/// `synchronous=FULL` because the server acknowledges only what is on disk.
/// No automatic checkpoint: the [`checkpoint::Checkpointer`] does it off the
/// request path.
fn configure(conn: &Connection) -> rusqlite::Result<()> {
    conn.busy_timeout(std::time::Duration::from_secs(30))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "wal_autocheckpoint", 0)?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.set_prepared_statement_cache_capacity(64);
    Ok(())
}

impl SqliteStorage {
    /// Opens (creating if needed) and migrates the file at `path`.
    pub fn open(path: &Path) -> anyhow::Result<Self> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        // Every tenant's PIN hashes and ledger: the owner's alone.
        pyck_vocab::private_file::make_private(path)
            .map_err(|e| anyhow::anyhow!("while creating {}: {e}", path.display()))?;
        let mut conn = Connection::open(path)?;
        let pages: i64 = conn.pragma_query_value(None, "page_count", |r| r.get(0))?;
        if pages == 0 {
            // Only a new file takes a page size; the WAL then fixes it.
            conn.pragma_update(None, "page_size", PAGE_SIZE)?;
        }
        configure(&conn)?;
        let found: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
        let supported = MIGRATIONS_SLICE.len() as i64;
        if found > supported {
            return Err(StorageError::SchemaTooNew { found, supported }.into());
        }
        MIGRATIONS.to_latest(&mut conn)?;
        conn.pragma_update(None, "cache_size", -WRITER_CACHE_KIB)?;
        Ok(Self {
            path: path.into(),
            writer: Arc::new(Mutex::new(conn)),
            readers: Arc::new(Mutex::new(Vec::new())),
            checkpointer: Arc::new(checkpoint::Checkpointer::start(path)?),
        })
    }

    /// Runs `f` on the writer connection, on the blocking pool.
    async fn write<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T> + Send + 'static,
    {
        let writer = Arc::clone(&self.writer);
        let checkpointer = Arc::clone(&self.checkpointer);
        // The events a write commits name the request it works for.
        let request = crate::request::current();
        tokio::task::spawn_blocking(move || {
            let mut conn = writer
                .lock()
                .map_err(|_| StorageError::Internal("writer connection poisoned".into()))?;
            let out = crate::request::on_behalf_of(request, || f(&mut conn));
            // A refused write committed nothing to copy.
            if out.is_ok() {
                checkpointer.committed();
            }
            out
        })
        .await
        .map_err(|e| StorageError::Internal(format!("storage task: {e}")))?
    }

    /// Runs `f` on a reader connection, on the blocking pool.
    async fn read<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T> + Send + 'static,
    {
        let readers = Arc::clone(&self.readers);
        let path = Arc::clone(&self.path);
        tokio::task::spawn_blocking(move || {
            let pooled = readers.lock().ok().and_then(|mut r| r.pop());
            let conn = match pooled {
                Some(c) => c,
                None => {
                    let c = Connection::open_with_flags(
                        &*path,
                        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
                    )?;
                    configure(&c)?;
                    c
                }
            };
            let out = f(&conn);
            if let Ok(mut r) = readers.lock()
                && r.len() < MAX_IDLE_READERS
            {
                r.push(conn);
            }
            out
        })
        .await
        .map_err(|e| StorageError::Internal(format!("storage task: {e}")))?
    }
}

/// Column `idx` of a row as a named enum. Text this build does not know
/// fails the row as a conversion ([`StorageError::Corrupt`]), never as a
/// default.
pub(crate) fn named_column<T: Named>(r: &rusqlite::Row<'_>, idx: usize) -> rusqlite::Result<T> {
    let text = r.get_ref(idx)?.as_str()?;
    T::parse(text).ok_or_else(|| {
        let why = crate::storage::unknown_name::<T>(text);
        rusqlite::Error::FromSqlConversionFailure(idx, rusqlite::types::Type::Text, why.into())
    })
}

pub(crate) fn ts(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Micros, true)
}

pub(crate) fn now() -> String {
    ts(Utc::now())
}

pub(crate) fn parse_ts(s: &str) -> Result<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| StorageError::corrupt(format!("bad timestamp {s:?} in database: {e}")))
}

#[async_trait]
impl Storage for SqliteStorage {
    fn backend(&self) -> &'static str {
        "sqlite"
    }

    async fn probe_write(&self) -> Result<()> {
        let now = ts(Utc::now());
        self.write(move |c| {
            c.execute(
                "INSERT INTO readiness_probe (id, probed_at) VALUES (1, ?1) \
                 ON CONFLICT (id) DO UPDATE SET probed_at = excluded.probed_at",
                [now],
            )?;
            Ok(())
        })
        .await
    }

    async fn create_tenant(&self, name: &str) -> Result<Tenant> {
        let name = name.to_owned();
        self.write(move |c| admin::create_tenant(c, &name)).await
    }

    async fn tenants(&self) -> Result<Vec<Tenant>> {
        self.read(admin::tenants).await
    }

    async fn tenant(&self, name: &str) -> Result<Tenant> {
        let name = name.to_owned();
        self.read(move |c| admin::tenant(c, &name)).await
    }

    async fn warehouses(&self, tenant: i64) -> Result<Vec<Warehouse>> {
        self.read(move |c| admin::warehouses(c, tenant)).await
    }

    async fn warehouse(&self, tenant: i64, code: &str) -> Result<Warehouse> {
        let code = code.to_owned();
        self.read(move |c| admin::warehouse(c, tenant, &code)).await
    }

    async fn operator_login(
        &self,
        tenant: i64,
        warehouse: i64,
        badge: &str,
    ) -> Result<Option<OperatorLogin>> {
        let badge = badge.to_owned();
        self.read(move |c| admin::operator_login(c, tenant, warehouse, &badge))
            .await
    }

    async fn set_login_failures(&self, tenant: i64, badge: &str, failures: Failures) -> Result<()> {
        let badge = badge.to_owned();
        self.write(move |c| admin::set_login_failures(c, tenant, &badge, failures))
            .await
    }

    async fn operators(&self, tenant: i64) -> Result<Vec<OperatorInfo>> {
        self.read(move |c| admin::operators(c, tenant)).await
    }

    async fn devices(&self, tenant: i64) -> Result<Vec<DeviceInfo>> {
        self.read(move |c| admin::devices(c, tenant)).await
    }

    async fn create_device(
        &self,
        tenant: i64,
        warehouse: i64,
        name: &str,
        token_hash: &str,
    ) -> Result<Uuid> {
        let (name, token_hash) = (name.to_owned(), token_hash.to_owned());
        self.write(move |c| admin::create_device(c, tenant, warehouse, &name, &token_hash))
            .await
    }

    async fn revoke_device(&self, token_hash: &str, device: Option<Uuid>) -> Result<Uuid> {
        let token_hash = token_hash.to_owned();
        self.write(move |c| admin::revoke_device(c, &token_hash, device))
            .await
    }

    async fn authenticate(&self, token_hash: &str) -> Result<Option<DeviceAuth>> {
        let token_hash = token_hash.to_owned();
        self.read(move |c| admin::authenticate(c, &token_hash))
            .await
    }

    async fn push(
        &self,
        device: &DeviceAuth,
        ops: Vec<Operation>,
        backlog: u64,
    ) -> Result<PushResponse> {
        let device = device.clone();
        self.write(move |c| push::push(c, &device, ops, backlog))
            .await
    }

    async fn outbox(&self, limit: u32) -> Result<Vec<Pending>> {
        self.read(move |c| outbox::pending(c, limit)).await
    }

    async fn outbox_relayed(&self, ids: &[i64]) -> Result<()> {
        let ids = ids.to_vec();
        self.write(move |c| outbox::relayed(c, &ids)).await
    }

    async fn pull(&self, device: &DeviceAuth, cursor: u64, limit: u32) -> Result<PullPage> {
        let device = device.clone();
        self.read(move |c| queries::pull(c, &device, cursor, limit))
            .await
    }

    async fn verify(&self, tenant: i64) -> Result<Vec<Discrepancy>> {
        self.read(move |c| queries::verify(c, tenant)).await
    }

    async fn stock(
        &self,
        tenant: i64,
        warehouse: i64,
        filter: &StockFilter,
    ) -> Result<Vec<StockRecord>> {
        let filter = filter.clone();
        self.read(move |c| queries::stock(c, tenant, warehouse, &filter))
            .await
    }

    async fn items(&self, tenant: i64) -> Result<Vec<ItemRecord>> {
        self.read(move |c| queries::items(c, tenant)).await
    }

    async fn locations(&self, tenant: i64, warehouse: i64) -> Result<Vec<LocationRecord>> {
        self.read(move |c| queries::locations(c, tenant, warehouse))
            .await
    }

    async fn exceptions(&self, tenant: i64, warehouse: i64) -> Result<Vec<ExceptionRecord>> {
        self.read(move |c| queries::exceptions(c, tenant, warehouse))
            .await
    }

    async fn operations(
        &self,
        tenant: i64,
        warehouse: i64,
        device: Uuid,
        after_seq: u64,
        limit: u32,
    ) -> Result<Vec<StoredOperation>> {
        self.read(move |c| queries::operations(c, tenant, warehouse, device, after_seq, limit))
            .await
    }

    async fn operator_role(&self, tenant: i64, badge: &str) -> Result<Option<Role>> {
        let badge = badge.to_owned();
        self.read(move |c| admin::operator_role(c, tenant, &badge))
            .await
    }

    async fn transact(
        &self,
        scope: crate::storage::Scope,
        needs: crate::domain::Needs,
        decide: crate::storage::Decide,
    ) -> Result<crate::push::Plan> {
        self.write(move |c| push::transact(c, &scope, &needs, decide))
            .await
    }

    async fn claim_workflows(
        &self,
        owner: &str,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<Workflow>> {
        let owner = owner.to_owned();
        self.write(move |c| workflow::claim(c, &owner, now, until, limit))
            .await
    }

    async fn workflows_due(&self, now: DateTime<Utc>) -> Result<u64> {
        self.read(move |c| workflow::due(c, now)).await
    }

    async fn order_facts(&self, tenant: i64, warehouse: i64, order: &str) -> Result<Facts> {
        let order = order.to_owned();
        self.read(move |c| workflow::facts(c, tenant, warehouse, &order))
            .await
    }

    async fn release_workflows(&self, owner: &str) -> Result<()> {
        let owner = owner.to_owned();
        self.write(move |c| workflow::release(c, &owner)).await
    }

    async fn cancel_order(&self, tenant: i64, order: &str) -> Result<Option<String>> {
        let order = order.to_owned();
        self.write(move |c| workflow::cancel(c, tenant, &order))
            .await
    }

    async fn workflow(
        &self,
        tenant: i64,
        warehouse: Option<i64>,
        order: &str,
    ) -> Result<Option<WorkflowReport>> {
        let order = order.to_owned();
        self.read(move |c| workflow::report(c, tenant, warehouse, &order))
            .await
    }

    async fn workflows(&self, tenant: i64, warehouse: Option<i64>) -> Result<Vec<WorkflowReport>> {
        self.read(move |c| workflow::list(c, tenant, warehouse))
            .await
    }

    async fn settings(&self, tenant: i64, warehouse: i64) -> Result<Settings> {
        self.read(move |c| settings::get(c, tenant, warehouse))
            .await
    }

    async fn settings_history(&self, tenant: i64, warehouse: i64) -> Result<Vec<SettingChange>> {
        self.read(move |c| settings::history(c, tenant, warehouse))
            .await
    }

    async fn report_facts(
        &self,
        tenant: i64,
        scope: &super::ReportScope,
    ) -> Result<super::ReportFacts> {
        let scope = scope.clone();
        self.read(move |c| reports::facts(c, tenant, &scope)).await
    }

    async fn attachment(&self, tenant: i64, sha256: &str) -> Result<Option<super::Attachment>> {
        let sha256 = sha256.to_owned();
        self.read(move |c| attachments::get(c, tenant, &sha256))
            .await
    }

    async fn store_attachment(&self, tenant: i64, attachment: &super::Attachment) -> Result<()> {
        let attachment = attachment.clone();
        self.write(move |c| attachments::store(c, tenant, &attachment))
            .await
    }

    async fn link_attachment(
        &self,
        tenant: i64,
        warehouse: i64,
        sha256: &str,
        target: &pyck_vocab::attachments::Target,
    ) -> Result<super::LinkOutcome> {
        let (sha256, target) = (sha256.to_owned(), target.clone());
        self.write(move |c| attachments::link(c, tenant, warehouse, &sha256, &target))
            .await
    }

    async fn exception_attachments(
        &self,
        tenant: i64,
        warehouse: i64,
        exception: &str,
    ) -> Result<Vec<super::Attachment>> {
        let exception = exception.to_owned();
        self.read(move |c| attachments::of_exception(c, tenant, warehouse, &exception))
            .await
    }

    async fn order_operation(
        &self,
        tenant: i64,
        warehouse: i64,
        order: &str,
        kinds: &[&str],
    ) -> Result<Option<Uuid>> {
        let order = order.to_owned();
        let kinds: Vec<String> = kinds.iter().map(|k| (*k).to_owned()).collect();
        self.read(move |c| {
            let kinds: Vec<&str> = kinds.iter().map(String::as_str).collect();
            workflow::order_operation(c, tenant, warehouse, &order, &kinds)
        })
        .await
    }

    async fn backup(&self, dest: &std::path::Path) -> Result<super::BackupSummary> {
        let dest = dest.to_owned();
        self.read(move |c| backup::backup(c, &dest)).await
    }

    async fn floor_facts(
        &self,
        tenant: i64,
        warehouse: i64,
        since: DateTime<Utc>,
    ) -> Result<super::FloorFacts> {
        self.read(move |c| floor::facts(c, tenant, warehouse, since))
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_are_valid() {
        MIGRATIONS.validate().unwrap();
    }

    /// Version 11 sends supervisors' and admins' records again without the
    /// PIN hash, after everything devices already pulled.
    #[test]
    fn version_11_takes_power_roles_hashes_off_devices() {
        let mut conn = Connection::open_in_memory().unwrap();
        MIGRATIONS.to_version(&mut conn, 10).unwrap();
        conn.execute_batch(
            r#"INSERT INTO tenants (id, name, created_at, change_position) VALUES (1, 'acme', '', 3);
               INSERT INTO operators (tenant_id, badge, role, pin_hash) VALUES
                   (1, '1007', 'picker', '$argon2id$p'), (1, '3001', 'supervisor', '$argon2id$s'),
                   (1, '4001', 'admin', '$argon2id$a');
               INSERT INTO changes (tenant_id, warehouse_id, entity, key, position, data) VALUES
                   (1, 0, 'operator', '1007', 1, '{"badge":"1007","role":"picker","pin_hash":"$argon2id$p","active":true}'),
                   (1, 0, 'operator', '3001', 2, '{"badge":"3001","role":"supervisor","pin_hash":"$argon2id$s","active":true}'),
                   (1, 0, 'operator', '4001', 3, '{"badge":"4001","role":"admin","pin_hash":"$argon2id$a","active":true}');"#,
        )
        .unwrap();
        MIGRATIONS.to_latest(&mut conn).unwrap();
        let rows: Vec<(String, i64, String)> = conn
            .prepare(
                "SELECT key, position, json_extract(data, '$.pin_hash') FROM changes ORDER BY key",
            )
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        assert_eq!(
            rows,
            [
                ("1007".to_owned(), 1, "$argon2id$p".to_owned()),
                ("3001".to_owned(), 4, String::new()),
                ("4001".to_owned(), 5, String::new()),
            ]
        );
        let position: i64 = conn
            .query_row(
                "SELECT change_position FROM tenants WHERE id = 1",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(position, 5);
        // The server keeps the hash for its online check.
        let kept: String = conn
            .query_row(
                "SELECT pin_hash FROM operators WHERE badge = '3001'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(kept, "$argon2id$s");
    }

    /// Version 14 spells the predicate of `operations_by_order` as
    /// comparisons, which an insert evaluates without a throw-away B-tree,
    /// and the workflow's lookup still finds operations through it.
    #[test]
    fn version_14_keeps_the_order_lookup_on_its_index_and_off_ephemeral_tables() {
        let mut conn = Connection::open_in_memory().unwrap();
        MIGRATIONS.to_latest(&mut conn).unwrap();
        let plan: Vec<String> = conn
            .prepare(&format!(
                "EXPLAIN QUERY PLAN {}",
                workflow::ORDER_OPERATION.replace("?4", "'[\"pick\"]'")
            ))
            .unwrap()
            .query_map(rusqlite::params![1, 1, "SO-1"], |r| r.get(3))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        assert!(
            plan.iter()
                .any(|step| step.contains("USING INDEX operations_by_order")),
            "{plan:?}"
        );
        let program: Vec<String> = conn
            .prepare(
                "EXPLAIN INSERT INTO operations (id, tenant_id, warehouse_id, operator, at, kind, payload, received_at) \
                 VALUES ('a', 1, 1, 'x', 't', 'move', '{}', 't')",
            )
            .unwrap()
            .query_map([], |r| r.get(1))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        assert!(
            !program.iter().any(|op| op == "OpenEphemeral"),
            "an insert builds a throw-away table: {program:?}"
        );
    }

    /// New databases take the small page size; an existing one keeps its own.
    #[test]
    fn new_databases_get_small_pages_and_old_ones_keep_theirs() {
        let dir = tempfile::tempdir().unwrap();
        let fresh = dir.path().join("new.db");
        let store = SqliteStorage::open(&fresh).unwrap();
        drop(store);
        let size = |p: &Path| -> i64 {
            Connection::open(p)
                .unwrap()
                .pragma_query_value(None, "page_size", |r| r.get(0))
                .unwrap()
        };
        assert_eq!(size(&fresh), PAGE_SIZE);
        let old = dir.path().join("old.db");
        Connection::open(&old)
            .unwrap()
            .execute_batch("PRAGMA page_size = 4096; CREATE TABLE t (x);")
            .unwrap();
        drop(SqliteStorage::open(&old).unwrap());
        assert_eq!(size(&old), 4096);
    }

    /// A closed storage leaves its commits in the database file and an
    /// empty log: a copy of the file alone (what an operator might take
    /// after stopping the server) holds everything.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn closing_the_storage_empties_the_log_into_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("server.db");
        let store = SqliteStorage::open(&path).unwrap();
        store.create_tenant("acme").await.unwrap();
        drop(store);
        let wal = dir.path().join("server.db-wal");
        let left = std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0);
        assert_eq!(left, 0, "the log still holds {left} bytes");
        let copy = dir.path().join("copy.db");
        std::fs::copy(&path, &copy).unwrap();
        let tenants: i64 = Connection::open(&copy)
            .unwrap()
            .query_row(
                "SELECT count(*) FROM tenants WHERE name = 'acme'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(tenants, 1);
    }

    /// A name this build does not know, read back from the database, is a
    /// corrupt row: the read fails and says what it found, instead of
    /// reading a bin as ambient or a task as a pick.
    #[tokio::test]
    async fn an_unknown_stored_name_is_a_corrupt_row_not_a_default() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStorage::open(&dir.path().join("server.db")).unwrap();
        let tenant = store.create_tenant("acme").await.unwrap().id;
        let wh: i64 = store
            .write(move |c| {
                c.execute(
                    "INSERT INTO warehouses (tenant_id, code, created_at) VALUES (?1, 'WH1', '2026-12-07T00:00:00Z')",
                    [tenant],
                )?;
                let wh = c.last_insert_rowid();
                c.execute(
                    "INSERT INTO locations (tenant_id, warehouse_id, code, zone, temperature) VALUES (?1, ?2, 'A-01', 'A', 'lukewarm')",
                    [tenant, wh],
                )?;
                Ok(wh)
            })
            .await
            .unwrap();
        match store.locations(tenant, wh).await {
            Err(StorageError::Corrupt(why)) => {
                assert!(why.contains("Temperature \"lukewarm\""), "{why}")
            }
            other => panic!("expected a corrupt row, got {other:?}"),
        }
    }

    /// Commits reach the database file through the storage's checkpoint
    /// thread, not through a checkpoint inside a write (automatic
    /// checkpoints are off on every connection).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_checkpoint_thread_copies_commits_into_the_database_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("server.db");
        let store = SqliteStorage::open(&path).unwrap();
        let automatic: i64 = store
            .write(|c| Ok(c.pragma_query_value(None, "wal_autocheckpoint", |r| r.get(0))?))
            .await
            .unwrap();
        assert_eq!(automatic, 0);
        store.create_tenant("acme").await.unwrap();
        // The database file alone (a copy, without its log) shows the commit
        // once a checkpoint copied it there.
        let copy = dir.path().join("copy.db");
        let in_file = || {
            std::fs::copy(&path, &copy).unwrap();
            let conn = Connection::open(&copy).unwrap();
            conn.query_row(
                "SELECT count(*) FROM tenants WHERE name = 'acme'",
                [],
                |r| r.get::<_, i64>(0),
            )
            .unwrap_or(0)
                == 1
        };
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        while !in_file() {
            assert!(
                std::time::Instant::now() < deadline,
                "no checkpoint copied the commit into the database file"
            );
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }
}
