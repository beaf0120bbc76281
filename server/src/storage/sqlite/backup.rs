//! `pyck-server backup` on SQLite: SQLite's online backup API, copying every
//! page in one step, so the copy is one consistent snapshot while the server
//! keeps serving (in WAL mode readers do not block writers).

use std::path::Path;
use std::time::Duration;

use rusqlite::Connection;
use rusqlite::backup::{Backup, StepResult};

use crate::storage::{BackupSummary, DatabaseError, Result, StorageError};

/// Copies the database `from` reads into a new file `dest`. The copy is
/// written beside `dest` and renamed into place only once it is complete,
/// synced and passes `PRAGMA integrity_check`: `dest` is either a whole
/// backup or absent. An existing `dest` is never overwritten.
pub fn backup(from: &Connection, dest: &Path) -> Result<BackupSummary> {
    if dest.exists() {
        return Err(StorageError::AlreadyExists(format!(
            "backup file {}",
            dest.display()
        )));
    }
    let partial = dest.with_extension(format!("partial-{}", std::process::id()));
    let result = copy(from, &partial).and_then(|summary| {
        std::fs::rename(&partial, dest)
            .map_err(|e| io(&format!("renaming the backup into {}", dest.display()), e))?;
        if let Some(dir) = dest.parent().filter(|d| !d.as_os_str().is_empty()) {
            // The rename itself must survive a power cut.
            std::fs::File::open(dir)
                .and_then(|d| d.sync_all())
                .map_err(|e| io(&format!("syncing {}", dir.display()), e))?;
        }
        Ok(summary)
    });
    if result.is_err() {
        let _ = std::fs::remove_file(&partial);
    }
    result
}

fn copy(from: &Connection, partial: &Path) -> Result<BackupSummary> {
    pyck_vocab::private_file::make_private(partial)
        .map_err(|e| io(&format!("creating {}", partial.display()), e))?;
    let mut to = Connection::open(partial)?;
    let pages = {
        let backup = Backup::new(from, &mut to)?;
        // All pages in one step: one read transaction, one snapshot. A busy
        // or locked source (a checkpoint, a writer holding the lock on a
        // non-WAL file) is retried briefly.
        let mut tries = 0;
        loop {
            match backup.step(-1)? {
                StepResult::Done => break,
                StepResult::More => continue,
                StepResult::Busy | StepResult::Locked if tries < 100 => {
                    tries += 1;
                    std::thread::sleep(Duration::from_millis(50));
                }
                StepResult::Busy | StepResult::Locked => {
                    // Still SQLITE_BUSY: the database's own error, with
                    // what to do.
                    return Err(rusqlite::Error::SqliteFailure(
                        rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_BUSY),
                        Some("the database stayed locked for 5 s; try the backup again".into()),
                    )
                    .into());
                }
                // A future SQLite result: treat as not done.
                _ => continue,
            }
        }
        backup.progress().pagecount
    };
    // The copy is a plain rollback-journal file; restoring it is copying it.
    let check: String = to.query_row("PRAGMA integrity_check", [], |r| r.get(0))?;
    if check != "ok" {
        return Err(StorageError::Corrupt(format!(
            "a backup that failed its integrity check: {check}"
        )));
    }
    let schema: i64 = to.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    drop(to);
    std::fs::File::open(partial)
        .and_then(|f| f.sync_all())
        .map_err(|e| io("syncing the backup", e))?;
    let bytes = std::fs::metadata(partial)
        .map_err(|e| io("reading the backup's size", e))?
        .len();
    Ok(BackupSummary {
        pages: u64::try_from(pages).unwrap_or(0),
        bytes,
        schema_version: schema,
    })
}

fn io(what: &str, e: std::io::Error) -> StorageError {
    StorageError::Database(DatabaseError::Io {
        what: what.to_owned(),
        error: e,
    })
}
