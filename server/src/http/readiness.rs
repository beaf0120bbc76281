//! `/readyz`: this replica can commit a write. A load balancer sends
//! devices only to replicas that can record what they push; a replica whose
//! database went read-only (a PostgreSQL standby, a database set read-only)
//! or whose SQLite file system is nearly full is taken out of rotation
//! before a push fails on it (docs/OPERATIONS.md, "Readiness").
//!
//! The write is throttled: a scraper calling `/readyz` in a loop costs at
//! most one committed write per [`PROBE_INTERVAL`]; the answers between
//! repeat the last verdict. The free-space check is a `statvfs` call and is
//! made on every request.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::Mutex;

use crate::storage::Storage;

/// Least time between two write probes.
pub const PROBE_INTERVAL: Duration = Duration::from_secs(5);

/// A probe that takes longer than this (a database that stopped answering)
/// counts as failed.
const PROBE_TIMEOUT: Duration = Duration::from_secs(5);

const MIB: u64 = 1024 * 1024;

/// Why this replica is not ready; the code crosses the wire.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NotReady {
    #[error(
        "the database did not commit a write (read-only, a standby, full or unreachable): see the server's log"
    )]
    DatabaseNotWritable,
    #[error(
        "{free_mib} MiB free on the database's file system, under the floor of {floor_mib} MiB (--min-free-disk-mb)"
    )]
    DiskNearlyFull { free_mib: u64, floor_mib: u64 },
}

impl NotReady {
    /// The stable code of the refusal (docs/OPERATIONS.md).
    pub fn code(&self) -> &'static str {
        match self {
            Self::DatabaseNotWritable => "database_not_writable",
            Self::DiskNearlyFull { .. } => "disk_nearly_full",
        }
    }
}

/// The embedded database's file and the free space it must keep.
#[derive(Debug, Clone)]
pub struct DiskFloor {
    /// The SQLite file: its file system is the one measured.
    pub path: PathBuf,
    pub min_free_mib: u64,
}

impl DiskFloor {
    fn check(&self) -> Result<(), NotReady> {
        // statvfs is one system call on local and network file systems
        // alike; no need for the blocking pool.
        let stat = rustix::fs::statvfs(&self.path).map_err(|e| {
            tracing::warn!(error = %e, path = %self.path.display(), "readiness: statvfs failed");
            NotReady::DatabaseNotWritable
        })?;
        let free = stat.f_bavail.saturating_mul(stat.f_frsize);
        if free < self.min_free_mib.saturating_mul(MIB) {
            return Err(NotReady::DiskNearlyFull {
                free_mib: free / MIB,
                floor_mib: self.min_free_mib,
            });
        }
        Ok(())
    }
}

/// The readiness of one replica, shared by every `/readyz` request.
pub struct Readiness {
    storage: Arc<dyn Storage>,
    disk: Option<DiskFloor>,
    /// The last probe's time and verdict. A request that finds it stale
    /// probes while holding the lock, so concurrent requests wait for that
    /// one probe instead of each writing.
    last: Mutex<Option<(Instant, Result<(), NotReady>)>>,
}

impl std::fmt::Debug for Readiness {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Readiness")
            .field("backend", &self.storage.backend())
            .field("disk", &self.disk)
            .finish_non_exhaustive()
    }
}

impl Readiness {
    pub fn new(storage: Arc<dyn Storage>, disk: Option<DiskFloor>) -> Self {
        Self {
            storage,
            disk,
            last: Mutex::new(None),
        }
    }

    /// Ready, or why not. A nearly full disk is reported without a write.
    pub async fn check(&self) -> Result<(), NotReady> {
        if let Some(disk) = &self.disk {
            disk.check()?;
        }
        let mut last = self.last.lock().await;
        if let Some((at, verdict)) = &*last
            && at.elapsed() < PROBE_INTERVAL
        {
            return verdict.clone();
        }
        let verdict = match tokio::time::timeout(PROBE_TIMEOUT, self.storage.probe_write()).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "readiness: the write probe failed");
                Err(NotReady::DatabaseNotWritable)
            }
            Err(_) => {
                tracing::warn!(
                    timeout_s = PROBE_TIMEOUT.as_secs(),
                    "readiness: the write probe did not finish in time"
                );
                Err(NotReady::DatabaseNotWritable)
            }
        };
        *last = Some((Instant::now(), verdict.clone()));
        verdict
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_floor_above_the_free_space_is_nearly_full_and_zero_never_is() {
        let dir = tempfile::tempdir().unwrap();
        let floor = |min_free_mib| DiskFloor {
            path: dir.path().to_owned(),
            min_free_mib,
        };
        assert_eq!(floor(0).check(), Ok(()));
        let err = floor(u64::MAX / MIB).check().unwrap_err();
        assert_eq!(err.code(), "disk_nearly_full");
        assert!(err.to_string().contains("--min-free-disk-mb"), "{err}");
    }
}
