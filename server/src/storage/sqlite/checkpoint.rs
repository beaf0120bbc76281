//! Checkpoints off the request path (issue 21).
//!
//! SQLite's automatic checkpoint runs inside the commit that takes the WAL
//! past its threshold: a push that happened to cross it answered only after
//! copying tens of megabytes into the database file. Here every connection
//! has the automatic checkpoint off, and one thread of the storage's own
//! checkpoints after commits instead, `PASSIVE`ly: it never waits for a
//! writer or a reader and never blocks one, while the request that woke it
//! has already answered. Once the whole log is copied, the next writer
//! starts it again from the beginning, so it stays the size of what was
//! written between two checkpoints.

use std::path::Path;
use std::sync::mpsc::{Receiver, SyncSender, TryRecvError, sync_channel};
use std::time::Duration;

use rusqlite::Connection;

/// The least time between two checkpoints: a stream of one-scan pushes
/// costs at most this many extra database syncs per second.
const PAUSE: Duration = Duration::from_millis(100);

/// Wakes the checkpoint thread; the thread ends when this is dropped.
pub struct Checkpointer {
    wake: SyncSender<()>,
}

impl Checkpointer {
    /// Starts the thread, on its own connection to the file at `path`.
    pub fn start(path: &Path) -> anyhow::Result<Self> {
        let conn = Connection::open(path)?;
        super::configure(&conn)?;
        let (wake, woken) = sync_channel(1);
        std::thread::Builder::new()
            .name("sqlite-checkpoint".into())
            .spawn(move || run(&conn, &woken))?;
        Ok(Self { wake })
    }

    /// A write committed: checkpoint soon. Never waits.
    pub fn committed(&self) {
        let _ = self.wake.try_send(());
    }
}

fn run(conn: &Connection, woken: &Receiver<()>) {
    while woken.recv().is_ok() {
        std::thread::sleep(PAUSE);
        // Commits during the pause need no checkpoint of their own.
        if let Err(TryRecvError::Disconnected) = woken.try_recv() {
            return;
        }
        if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
            // The log keeps what was not copied; the next commit tries again.
            tracing::warn!(error = %e, "checkpoint of the SQLite log failed");
        }
    }
}
