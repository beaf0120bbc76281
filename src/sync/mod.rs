//! Sync: push the journal's pending operations in batches, then pull the
//! changes since the cursor, page by page.
//!
//! Every step is safe to interrupt: a batch the server committed but whose
//! answer was lost is re-sent and acknowledged as duplicates; each pulled
//! page commits together with its cursor, so a killed first sync resumes
//! from its last page.

pub mod client;
pub mod live;
mod photos;
pub mod remote;

use pyck_vocab::protocol::{PROTOCOL_VERSION, PushOutcome, PushRequest};
use serde::Serialize;

use crate::config::Config;
use crate::store::{Store, identity, journal, replica, reserve};
pub use client::Client;
pub use remote::Remote;

/// Operations per push request (`PYCK_PUSH_BATCH` overrides): as many as
/// the server takes, so a backlog of up to 20,000 is one request and one
/// commit (issue 21: +9–11 % over batches of 5,000).
pub const PUSH_BATCH: usize = pyck_vocab::protocol::MAX_PUSH_OPS;
/// Payload text per push request, at most (but one operation): half the
/// server's 32 MiB body limit, for the JSON around each operation.
pub const PUSH_BYTES: usize = 16 << 20;
/// Changes per pull page (`PYCK_PULL_PAGE` overrides).
pub const PULL_PAGE: u32 = 5_000;

/// Store meta key: the warehouse's count threshold as of the last pull
/// (empty: none, any difference goes to a supervisor).
pub const COUNT_THRESHOLD: &str = "count_threshold";

fn tuned<T: std::str::FromStr>(var: &str, default: T) -> T {
    std::env::var(var)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// What `pyck sync --json` prints.
#[derive(Debug, Default, Clone, Serialize)]
pub struct SyncReport {
    pub pushed: u64,
    pub applied: u64,
    pub duplicates: u64,
    pub refused: u64,
    pub exceptions: u64,
    pub pulled: u64,
    /// Photos the server now holds whole, and the photo bytes sent.
    pub photos: u64,
    pub photo_bytes: u64,
    pub bytes_sent: u64,
    pub bytes_received: u64,
    /// The disk was full and the room kept for syncing was used
    /// (`store::reserve`): free some space.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub reserve_used: bool,
}

/// Something to tell a person while a long sync runs.
pub trait Progress {
    fn pushed(&self, done: u64, total: u64);
    fn pulled(&self, done: u64);
}

/// Nothing to tell: the syncs a UI runs in the background.
pub struct Quiet;

impl Progress for Quiet {
    fn pushed(&self, _: u64, _: u64) {}
    fn pulled(&self, _: u64) {}
}

pub async fn push(
    store: &mut Store,
    client: &mut Client,
    config: &Config,
    report: &mut SyncReport,
    progress: &dyn Progress,
) -> anyhow::Result<()> {
    // Counted once, then kept: each batch takes what it settled off (a
    // re-queue counts again). Operations recorded while this runs are still
    // pushed, and counted by the next sync.
    let total = journal::pending_count(store.conn())?;
    let mut left = total;
    let batch = tuned("PYCK_PUSH_BATCH", PUSH_BATCH).clamp(1, PUSH_BATCH);
    // A server restored from an older backup may ask for operations this
    // device believes settled, or (with nothing pending here) say it has
    // settled fewer than the journal has: re-queue them once, push again.
    let mut requeued = false;
    loop {
        let ops = journal::pending(store.conn(), config.device, batch, PUSH_BYTES)?;
        if ops.is_empty() {
            // Nothing to send, but still one (empty) push: the server notes
            // the contact and the empty backlog (the floor dashboard shows
            // both), and says how far it has settled this device.
            let resp = client
                .push(PushRequest {
                    protocol: PROTOCOL_VERSION,
                    ops,
                    backlog: 0,
                })
                .await?;
            identity::behind_server(store, config, resp.last_seq)?;
            let frontier = journal::settled_frontier(store.conn())?;
            if resp.last_seq < frontier && !requeued {
                journal::requeue_from(store.conn(), resp.last_seq + 1)?;
                left = journal::pending_count(store.conn())?;
                requeued = true;
                continue;
            }
            return Ok(());
        }
        let first = ops[0].seq;
        let sent = ops.len() as u64;
        let ids: Vec<(u64, uuid::Uuid)> = ops.iter().map(|op| (op.seq, op.id)).collect();
        let resp = client
            .push(PushRequest {
                protocol: PROTOCOL_VERSION,
                ops,
                backlog: left.saturating_sub(sent),
            })
            .await?;
        identity::behind_server(store, config, resp.last_seq)?;
        let mut gap = None;
        for r in &resp.results {
            match &r.outcome {
                PushOutcome::Applied { exceptions } => {
                    report.applied += 1;
                    report.exceptions += u64::from(*exceptions);
                }
                PushOutcome::Duplicate => report.duplicates += 1,
                PushOutcome::Refused(_) => report.refused += 1,
                PushOutcome::Gap { expected } => gap = gap.or(Some(*expected)),
            }
        }
        let settled = journal::settle(store.conn_mut(), &ids, &resp.results)?;
        report.pushed += settled as u64;
        left = left.saturating_sub(settled as u64);
        progress.pushed(report.pushed, total);
        if let Some(expected) = gap {
            if expected < first && !requeued {
                journal::requeue_from(store.conn(), expected)?;
                left = journal::pending_count(store.conn())?;
                requeued = true;
                continue;
            }
            anyhow::bail!(
                "the server expects operation {expected} of this device next, but the journal's next is {first}; \
                 the journal and the server disagree — ask a supervisor (nothing was lost: see `pyck journal`)"
            );
        }
        if settled == 0 {
            anyhow::bail!("the server settled none of a batch of {sent} operations");
        }
        if journal::pending_count(store.conn())? == 0 {
            // The batch's answer was the contact: the server noted it with
            // the backlog this batch left (none) and settled up to its end.
            // An empty push after it would only cost the server a commit
            // (one per device, serial on its writer, under load).
            return Ok(());
        }
    }
}

pub async fn pull(
    store: &mut Store,
    client: &mut Client,
    report: &mut SyncReport,
    progress: &dyn Progress,
) -> anyhow::Result<()> {
    let mut cursor: u64 = store
        .meta(replica::CURSOR)?
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    loop {
        let page = client
            .pull(cursor, tuned("PYCK_PULL_PAGE", PULL_PAGE).max(1))
            .await?;
        replica::apply_page(store.conn_mut(), &page)?;
        report.pulled += page.changes.len() as u64;
        progress.pulled(report.pulled);
        cursor = page.cursor;
        if !page.has_more {
            break;
        }
    }
    // Settings the local view applies like the server does.
    let threshold = client.count_threshold().await?;
    store.set_meta(
        COUNT_THRESHOLD,
        &threshold.map(|t| t.to_string()).unwrap_or_default(),
    )?;
    Ok(())
}

/// Push, pull, photos: one pass.
async fn exchange(
    store: &mut Store,
    client: &mut Client,
    config: &Config,
    report: &mut SyncReport,
    progress: &dyn Progress,
) -> anyhow::Result<()> {
    push(store, client, config, report, progress).await?;
    pull(store, client, report, progress).await?;
    // After the push: a photo's link may name an operation just pushed.
    photos::upload(store, client, report).await
}

/// A full sync: push, then pull. Records the outcome for `pyck status`.
pub async fn sync(
    store: &mut Store,
    client: &mut Client,
    config: &Config,
    progress: &dyn Progress,
) -> anyhow::Result<SyncReport> {
    let mut report = SyncReport::default();
    let mut result = exchange(store, client, config, &mut report, progress).await;
    // A full disk can stop the terminal writing down what the server
    // already holds: give back the room kept for this and go once more
    // (the server answers a re-sent batch as duplicates).
    if let Err(e) = &result
        && crate::error::is_disk_full(e)
        && let Some(paths) = &store.home
        && reserve::release(paths)
    {
        report.reserve_used = true;
        result = exchange(store, client, config, &mut report, progress).await;
    }
    report.bytes_sent = client.bytes_sent;
    report.bytes_received = client.bytes_received;
    match &result {
        Ok(()) => {
            store.set_meta("last_sync", &crate::store::ts(chrono::Utc::now()))?;
            store.set_meta("last_error", "")?;
            // Housekeeping after a whole sync: a failure (a full disk) is
            // not the sync's, and the next one tries again.
            let _ = journal::compact(store.conn_mut(), chrono::Utc::now());
            if let Some(paths) = &store.home {
                reserve::ensure(paths);
            }
        }
        Err(e) => store.set_meta("last_error", &format!("{e:#}"))?,
    }
    result.map(|()| report)
}

#[cfg(test)]
mod tests {
    /// The terminal's batches are as large as the server takes, and no
    /// larger: the limit is written once in pyck-vocab and the server's
    /// must be the same.
    #[cfg(feature = "demo")]
    #[test]
    fn batches_are_the_servers_limit() {
        assert_eq!(
            super::PUSH_BATCH,
            pyck_server::graphql::push_pull::MAX_PUSH_OPS
        );
        const { assert!(super::PUSH_BYTES * 2 <= pyck_server::http::MAX_BODY_BYTES) };
    }
}
