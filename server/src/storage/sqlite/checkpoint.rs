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
//!
//! When the storage closes (a server stopping, an admin command ending),
//! the thread copies what is left and empties the log before it goes, so
//! the database file alone holds every commit.

use std::path::Path;
use std::sync::mpsc::{Receiver, SyncSender, TryRecvError, sync_channel};
use std::thread::JoinHandle;
use std::time::Duration;

use rusqlite::Connection;

/// The least time between two checkpoints: a stream of one-scan pushes
/// costs at most this many extra database syncs per second.
const PAUSE: Duration = Duration::from_millis(100);

/// Wakes the checkpoint thread. Dropping it ends the thread after a last,
/// full checkpoint, and waits for that.
pub struct Checkpointer {
    wake: Option<SyncSender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Checkpointer {
    /// Starts the thread, on its own connection to the file at `path`.
    pub fn start(path: &Path) -> anyhow::Result<Self> {
        let conn = Connection::open(path)?;
        super::configure(&conn)?;
        let (wake, woken) = sync_channel(1);
        let thread = std::thread::Builder::new()
            .name("sqlite-checkpoint".into())
            .spawn(move || run(&conn, &woken))?;
        Ok(Self {
            wake: Some(wake),
            thread: Some(thread),
        })
    }

    /// A write committed: checkpoint soon. Never waits.
    pub fn committed(&self) {
        if let Some(wake) = &self.wake {
            let _ = wake.try_send(());
        }
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        drop(self.wake.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
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
    // Closing: copy the rest and empty the log. A reader still open (another
    // process) makes this copy what it can, like the checkpoints above.
    if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(())) {
        tracing::warn!(error = %e, "the closing checkpoint of the SQLite log failed");
    }
}
