//! Where the server keeps everything: one [`Storage`] trait, two backends.
//!
//! SQLite (one file, the default) and PostgreSQL (for stateless replicas)
//! implement the same contract and pass the same conformance tests
//! (`server/tests/conformance.rs`). SQL differences stay inside the backends;
//! nothing above this module knows which one it talks to.
//!
//! The push algorithm is shared: a backend locks, loads what the batch
//! touches into a [`crate::push::BatchView`], lets the pure planner decide,
//! writes the resulting [`crate::push::Plan`] and commits, in one transaction.

pub mod invariants;
pub mod model;
pub mod postgres;
pub mod sqlite;

use std::sync::Arc;

use async_trait::async_trait;
use pyck_vocab::names::Named;
use pyck_vocab::operation::Operation;
use pyck_vocab::protocol::{PullPage, PushResponse};
use pyck_vocab::records::{ExceptionRecord, ItemRecord, LocationRecord, Role, StockRecord};
use pyck_vocab::refusal::Refusal;
use thiserror::Error;
use uuid::Uuid;

use crate::domain::{BatchView, Needs};
use crate::login::{Failures, OperatorLogin};
use crate::push::Plan;
use crate::settings::{Change as SettingChange, Settings};
use crate::workflow::Report as WorkflowReport;
use crate::workflow::machine::{Facts, Workflow};
use chrono::{DateTime, Utc};
pub use model::*;

/// Failures of the storage layer. The messages are for operators' logs and
/// the admin CLI; the GraphQL layer passes only the refusals (a name taken,
/// a write's decision) to clients, never the database's own text.
#[derive(Debug, Error)]
pub enum StorageError {
    #[error("tenant {0:?} does not exist; create it with `pyck-server tenant create`")]
    UnknownTenant(String),
    #[error("warehouse {0:?} does not exist for this tenant; `pyck-server import` creates it")]
    UnknownWarehouse(String),
    #[error("{0} already exists")]
    AlreadyExists(String),
    #[error("{0}")]
    InvalidImport(String),
    /// A write refused by its decision: the message names the field and
    /// what is wrong.
    #[error("{0}")]
    Invalid(String),
    #[error("no device token or device matches {0:?}")]
    UnknownToken(String),
    #[error("no operator with badge {0:?} in this tenant; `pyck-server user list` shows them")]
    UnknownOperator(String),
    #[error(
        "the database schema is version {found}, newer than this build ({supported}); upgrade pyck-server"
    )]
    SchemaTooNew { found: i64, supported: i64 },
    /// The database failed: I/O, a full disk, a lost connection, a broken
    /// constraint. The database's own error is kept whole, for code that
    /// must tell failures apart to match on.
    #[error("storage backend: {0}")]
    Database(DatabaseError),
    /// A stored row this build cannot read back (hand-edited, or left by a
    /// newer build): never read as a default.
    #[error("the database holds {0}")]
    Corrupt(String),
    /// The server broke one of its own invariants; the message says which.
    #[error("internal: {0}")]
    Internal(String),
    /// The backend cannot do this; the message says what to do instead.
    #[error("{0}")]
    Unsupported(String),
}

impl StorageError {
    /// A row of the database that does not read back as what it should.
    pub(crate) fn corrupt(what: impl std::fmt::Display) -> StorageError {
        StorageError::Corrupt(what.to_string())
    }
}

/// What failed under the storage layer, as the library that failed said
/// it. Its message is its whole chain (`tokio_postgres` says only "db
/// error" at the top, the server's reason below), so a log line shows the
/// cause; `source` is not repeated for the same reason.
#[derive(Debug)]
pub enum DatabaseError {
    Sqlite(rusqlite::Error),
    Postgres(tokio_postgres::Error),
    Pool(deadpool_postgres::PoolError),
    /// A file the backend reads or writes beside the database (a backup).
    Io {
        what: String,
        error: std::io::Error,
    },
}

impl std::fmt::Display for DatabaseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let top: &dyn std::error::Error = match self {
            DatabaseError::Sqlite(e) => e,
            DatabaseError::Postgres(e) => e,
            DatabaseError::Pool(e) => {
                f.write_str("PostgreSQL connection pool: ")?;
                e
            }
            DatabaseError::Io { what, error } => {
                write!(f, "{what}: ")?;
                error
            }
        };
        write!(f, "{top}")?;
        let mut cause = top.source();
        while let Some(e) = cause {
            write!(f, ": {e}")?;
            cause = e.source();
        }
        Ok(())
    }
}

impl From<rusqlite::Error> for StorageError {
    fn from(e: rusqlite::Error) -> Self {
        match e {
            // A column that did not convert is a row this build cannot
            // read, not a failing database.
            rusqlite::Error::FromSqlConversionFailure(column, _, why) => {
                StorageError::Corrupt(format!("column {column}: {why}"))
            }
            e => StorageError::Database(DatabaseError::Sqlite(e)),
        }
    }
}

impl From<tokio_postgres::Error> for StorageError {
    fn from(e: tokio_postgres::Error) -> Self {
        StorageError::Database(DatabaseError::Postgres(e))
    }
}

impl From<deadpool_postgres::PoolError> for StorageError {
    fn from(e: deadpool_postgres::PoolError) -> Self {
        StorageError::Database(DatabaseError::Pool(e))
    }
}

/// Reads a stored name back as its enum. Text this build does not know is
/// a corrupt row, never a default.
pub(crate) fn named<T: Named>(text: &str) -> Result<T> {
    T::parse(text).ok_or_else(|| StorageError::Corrupt(unknown_name::<T>(text)))
}

/// A stored refusal, from its code and message columns (`None`: the
/// operation was applied).
pub(crate) fn stored_refusal(
    code: Option<&str>,
    message: Option<String>,
) -> Result<Option<Refusal>> {
    code.map(|code| Ok(Refusal::new(named(code)?, message.unwrap_or_default())))
        .transpose()
}

/// What a corrupt row holds where a `T` belongs.
pub(crate) fn unknown_name<T: Named>(text: &str) -> String {
    format!("an unknown {} {text:?}", T::WHAT)
}

pub type Result<T, E = StorageError> = std::result::Result<T, E>;

/// The server's storage contract.
///
/// Every method is scoped by a tenant id (or a [`DeviceAuth`], which carries
/// one): no method can read or write across tenants.
#[async_trait]
pub trait Storage: Send + Sync + 'static {
    /// Which backend this is, for logs and `/readyz`.
    fn backend(&self) -> &'static str;

    /// Commits one small write (the single row of `readiness_probe`) and
    /// returns once it is committed: an error when the database takes no
    /// writes (read-only, a standby, a full disk, unreachable). `/readyz`
    /// calls it at most once every few seconds.
    async fn probe_write(&self) -> Result<()>;

    async fn create_tenant(&self, name: &str) -> Result<Tenant>;
    async fn tenants(&self) -> Result<Vec<Tenant>>;
    async fn tenant(&self, name: &str) -> Result<Tenant>;
    async fn warehouse(&self, tenant: i64, code: &str) -> Result<Warehouse>;
    /// Every warehouse of a tenant, by code.
    async fn warehouses(&self, tenant: i64) -> Result<Vec<Warehouse>>;

    /// An active operator who may work in `warehouse`, with what an online
    /// PIN check needs (docs/SECURITY.md, "Operators' PINs").
    async fn operator_login(
        &self,
        tenant: i64,
        warehouse: i64,
        badge: &str,
    ) -> Result<Option<OperatorLogin>>;

    /// Stores the failure count and lock an online PIN check decided.
    async fn set_login_failures(&self, tenant: i64, badge: &str, failures: Failures) -> Result<()>;

    /// Every operator of a tenant, by badge.
    async fn operators(&self, tenant: i64) -> Result<Vec<OperatorInfo>>;

    /// Every device of a tenant, revoked ones included, by warehouse and name.
    async fn devices(&self, tenant: i64) -> Result<Vec<DeviceInfo>>;

    /// Registers a device in a warehouse with the hash of its token.
    async fn create_device(
        &self,
        tenant: i64,
        warehouse: i64,
        name: &str,
        token_hash: &str,
    ) -> Result<Uuid>;

    /// Revokes by token hash or by device id; errors if neither matches.
    async fn revoke_device(&self, token_hash: &str, device: Option<Uuid>) -> Result<Uuid>;

    /// The device a token hash belongs to, if it is known and not revoked.
    async fn authenticate(&self, token_hash: &str) -> Result<Option<DeviceAuth>>;

    /// Applies one device's batch in one transaction. Acknowledges nothing
    /// that is not committed: the response is built only after commit. Two
    /// pushes of the same device at once are serialised; each operation is
    /// settled at most once. Its live events are in the outbox, committed
    /// with it (derived from the same plan as its change-log rows, by
    /// [`crate::push::Plan::events`]).
    async fn push(
        &self,
        device: &DeviceAuth,
        ops: Vec<Operation>,
        backlog: u64,
    ) -> Result<PushResponse>;

    /// The oldest `limit` committed writes whose live events are not
    /// relayed yet ([`crate::outbox`]).
    async fn outbox(&self, limit: u32) -> Result<Vec<crate::outbox::Pending>>;

    /// Forgets outbox rows whose events were published.
    async fn outbox_relayed(&self, ids: &[i64]) -> Result<()>;

    /// Changes of the device's warehouse (and tenant-wide records) after
    /// `cursor`, oldest first, at most `limit`.
    async fn pull(&self, device: &DeviceAuth, cursor: u64, limit: u32) -> Result<PullPage>;

    /// Checks every invariant of a tenant; an empty list means all hold.
    async fn verify(&self, tenant: i64) -> Result<Vec<Discrepancy>>;

    async fn stock(
        &self,
        tenant: i64,
        warehouse: i64,
        filter: &StockFilter,
    ) -> Result<Vec<StockRecord>>;
    async fn items(&self, tenant: i64) -> Result<Vec<ItemRecord>>;
    async fn locations(&self, tenant: i64, warehouse: i64) -> Result<Vec<LocationRecord>>;
    async fn exceptions(&self, tenant: i64, warehouse: i64) -> Result<Vec<ExceptionRecord>>;
    /// A device's operations as stored, if the device belongs to
    /// `warehouse` (none otherwise).
    async fn operations(
        &self,
        tenant: i64,
        warehouse: i64,
        device: Uuid,
        after_seq: u64,
        limit: u32,
    ) -> Result<Vec<StoredOperation>>;

    /// The role of an active operator, if the badge is known.
    async fn operator_role(&self, tenant: i64, badge: &str) -> Result<Option<Role>>;

    /// One write in one transaction, the seam every write is to go
    /// through (docs/ARCHITECTURE.md, "The write seam"): the backend loads
    /// what `needs` names into a view of `scope`, `decide` — pure code —
    /// plans the write from it, and the backend writes the plan with its
    /// change-log rows and live events, then commits. A refusal from
    /// `decide` writes nothing. The committed plan comes back. Plans of the
    /// server's own writes store no operations.
    async fn transact(&self, scope: Scope, needs: Needs, decide: Decide) -> Result<Plan>;

    // --- Order workflows (docs/WORKFLOW.md) ---

    /// Claims up to `limit` workflows due at `now` whose lease is free or
    /// expired, for `owner` until `until`. Two replicas never hold the same
    /// workflow at once.
    async fn claim_workflows(
        &self,
        owner: &str,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<Workflow>>;

    /// How many workflows have a step due at `now` (claimed or not): the
    /// engine's backlog, for `/metrics`. Reads an index; never locks.
    async fn workflows_due(&self, now: DateTime<Utc>) -> Result<u64>;

    /// The order's status and pick tasks, for the workflow's waiting steps.
    async fn order_facts(&self, tenant: i64, warehouse: i64, order: &str) -> Result<Facts>;

    /// The latest applied operation of `kinds` on `order` (its id in the
    /// device's journal): what a workflow step's completion rests on.
    async fn order_operation(
        &self,
        tenant: i64,
        warehouse: i64,
        order: &str,
        kinds: &[&str],
    ) -> Result<Option<Uuid>>;

    /// Gives back `owner`'s leases at once (a replica shutting down).
    async fn release_workflows(&self, owner: &str) -> Result<()>;

    /// Asks for an order's compensation. The workflow's state, or `None` if
    /// the tenant has no such order.
    async fn cancel_order(&self, tenant: i64, order: &str) -> Result<Option<String>>;

    /// An order's workflow with its history, in one warehouse or (`None`)
    /// any of the tenant's.
    async fn workflow(
        &self,
        tenant: i64,
        warehouse: Option<i64>,
        order: &str,
    ) -> Result<Option<WorkflowReport>>;

    /// Every workflow of a tenant, or of one of its warehouses, newest
    /// first, without history.
    async fn workflows(&self, tenant: i64, warehouse: Option<i64>) -> Result<Vec<WorkflowReport>>;

    // --- Warehouse settings (docs/SETTINGS.md) ---

    /// A warehouse's settings (unset ones are `None`: the defaults).
    async fn settings(&self, tenant: i64, warehouse: i64) -> Result<Settings>;

    /// Every audited change of a warehouse's settings, oldest first.
    async fn settings_history(&self, tenant: i64, warehouse: i64) -> Result<Vec<SettingChange>>;

    // --- Reports (docs/REPORTS.md) ---

    /// The raw facts of a tenant's reports within `scope`, as
    /// [`ReportFacts`] documents each part; rows in no particular order.
    /// Read-only; an unknown `scope.warehouse` yields empty facts.
    async fn report_facts(&self, tenant: i64, scope: &ReportScope) -> Result<ReportFacts>;

    // --- Photo attachments (docs/ATTACHMENTS.md) ---

    /// A tenant's complete photo by hash.
    async fn attachment(&self, tenant: i64, sha256: &str) -> Result<Option<Attachment>>;

    /// Records a photo whose bytes are stored and checked; again does
    /// nothing.
    async fn store_attachment(&self, tenant: i64, attachment: &Attachment) -> Result<()>;

    /// Links a tenant's photo to an exception or operation of `warehouse`;
    /// idempotent.
    async fn link_attachment(
        &self,
        tenant: i64,
        warehouse: i64,
        sha256: &str,
        target: &pyck_vocab::attachments::Target,
    ) -> Result<LinkOutcome>;

    /// The photos of an exception: linked to it, to the operation that
    /// raised it, or — for a receiving exception — to the receipts of its
    /// ASN line. Ordered by hash.
    async fn exception_attachments(
        &self,
        tenant: i64,
        warehouse: i64,
        exception: &str,
    ) -> Result<Vec<Attachment>>;

    // --- Backups (docs/OPERATIONS.md) ---

    /// A consistent copy of the whole database in a new file `dest`, taken
    /// while the server runs; `dest` is complete or absent. PostgreSQL
    /// refuses (`Unsupported`): its backups are `pg_dump`'s job.
    async fn backup(&self, dest: &std::path::Path) -> Result<BackupSummary>;

    // --- The floor dashboard (docs/FLOOR.md) ---

    /// Open tasks, open exceptions, devices and the picks since `since` of
    /// one warehouse, read in one snapshot.
    async fn floor_facts(
        &self,
        tenant: i64,
        warehouse: i64,
        since: DateTime<Utc>,
    ) -> Result<FloorFacts>;
}

/// Where a server write happens: one warehouse of one tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope {
    pub tenant: i64,
    pub warehouse: WarehouseRef,
}

/// The warehouse of a server write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WarehouseRef {
    Id(i64),
    /// By code, created in the write's transaction when new (an import).
    Code(String),
}

impl Scope {
    pub fn of(tenant: i64, warehouse: i64) -> Scope {
        Scope {
            tenant,
            warehouse: WarehouseRef::Id(warehouse),
        }
    }

    /// A write of the tenant's own records, in no one warehouse
    /// (operators): warehouse 0, as in the change log's tenant-wide scope.
    /// Nothing warehouse-bound is loaded or written.
    pub fn tenant_wide(tenant: i64) -> Scope {
        Scope::of(tenant, TENANT_WIDE)
    }
}

/// The warehouse id of tenant-wide writes and change-log rows.
pub const TENANT_WIDE: i64 = 0;

/// The scope as the backends' batch code takes it, once the warehouse is
/// known. A server write is no device's: the nil device, under which no
/// device exists and, since such plans store no device operations, nothing
/// is stored.
pub(crate) fn server_write(tenant: i64, warehouse: i64) -> DeviceAuth {
    DeviceAuth {
        device: Uuid::nil(),
        tenant,
        warehouse,
    }
}

/// A write's events in the outbox's stored form.
pub(crate) fn encode_events(events: &[pyck_vocab::events::Event]) -> Result<String> {
    crate::outbox::encode(events).map_err(|e| StorageError::Internal(format!("outbox: {e}")))
}

/// The pure decision of a write: a plan over the loaded view, or a refusal.
pub type Decide = Box<dyn FnOnce(&mut BatchView) -> Result<Plan> + Send>;

/// Runs a server write's decision over its view. Its plan may store no
/// device operations: those come only through a device's push.
pub(crate) fn decide_server_write(decide: Decide, view: &mut BatchView) -> Result<Plan> {
    let plan = decide(view)?;
    if !plan.ops.is_empty() {
        return Err(StorageError::Internal(
            "a server write's plan stores no device operations".into(),
        ));
    }
    Ok(plan)
}

/// Opens the backend a `--db` value names: a `postgres://` (or
/// `postgresql://`) URL, or else a SQLite file path. Migrates before
/// returning, so every command starts on the current schema.
pub async fn open(db: &str) -> anyhow::Result<Arc<dyn Storage>> {
    if db.starts_with("postgres://") || db.starts_with("postgresql://") {
        postgres::open(db).await
    } else {
        let path = std::path::PathBuf::from(db);
        let store =
            tokio::task::spawn_blocking(move || sqlite::SqliteStorage::open(&path)).await??;
        Ok(Arc::new(store))
    }
}
