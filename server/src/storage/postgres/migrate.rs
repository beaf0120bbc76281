//! The PostgreSQL schema's versions: numbered SQL files embedded in the
//! binary and applied when the backend opens.
//!
//! Several replicas may start at once against one database, so the whole
//! check-and-apply runs in one transaction under an advisory lock: the first
//! replica migrates, the others wait and then find nothing to do. A failed
//! migration rolls back whole. Applied files are never edited; a change to
//! the schema is a new file at the end of [`MIGRATIONS`].

use deadpool_postgres::ClientWrapper;

use crate::storage::{Result, StorageError};

/// Version `n` of the schema is what `MIGRATIONS[n - 1]` leaves behind.
const MIGRATIONS: &[&str] = &[
    include_str!("migrations/0001_initial.sql"),
    include_str!("migrations/0002_tasks.sql"),
    include_str!("migrations/0003_workflows.sql"),
    include_str!("migrations/0004_settings.sql"),
    include_str!("migrations/0005_attachments.sql"),
    include_str!("migrations/0006_workflow_operations.sql"),
    include_str!("migrations/0007_order_and_asn_truth.sql"),
    include_str!("migrations/0008_operation_ids_per_tenant.sql"),
    include_str!("migrations/0009_operators_per_warehouse.sql"),
    include_str!("migrations/0010_readiness_probe.sql"),
    include_str!("migrations/0011_outbox.sql"),
];

/// The advisory lock migrations hold: "pyckmigr" in ASCII, a key no other
/// application on the database is likely to pick.
const LOCK_KEY: i64 = 0x7079_636b_6d69_6772;

/// Brings the database to the newest schema this build knows, or refuses
/// one that is newer ([`StorageError::SchemaTooNew`]).
pub async fn migrate(client: &mut ClientWrapper) -> Result<()> {
    let tx = client.transaction().await?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&LOCK_KEY])
        .await?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
             version BIGINT PRIMARY KEY,
             applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
         )",
    )
    .await?;
    let found: i64 = tx
        .query_one(
            "SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
            &[],
        )
        .await?
        .try_get(0)?;
    let supported = MIGRATIONS.len() as i64;
    if found > supported {
        return Err(StorageError::SchemaTooNew { found, supported });
    }
    for (version, sql) in (1_i64..).zip(MIGRATIONS).skip(found as usize) {
        tx.batch_execute(sql).await?;
        tx.execute(
            "INSERT INTO schema_migrations (version) VALUES ($1)",
            &[&version],
        )
        .await?;
    }
    tx.commit().await?;
    Ok(())
}
