//! The journal: this device's operations, numbered gap-free in the same
//! transaction that stores them.

use chrono::{DateTime, Utc};
use pyck_sync::operation::{Kind, Operation, Payload};
use pyck_sync::protocol::{OpResult, PushOutcome};
use pyck_sync::refusal::{Refusal, RefusalCode};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use serde::Serialize;
use uuid::Uuid;

use super::{Store, parse_ts, ts};

/// An operation about to be recorded.
#[derive(Debug, Clone)]
pub struct Draft {
    pub payload: Payload,
    pub operator: String,
    /// Idempotency key of a scripted row.
    pub reference: Option<String>,
    /// A photo documenting the operation, kept with it in one transaction.
    pub photo: Option<super::attachments::Photo>,
}

/// What recording a draft did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Recorded {
    Recorded { seq: u64 },
    AlreadyRecorded { seq: u64 },
}

/// Records all drafts in one transaction: all of them are on disk when this
/// returns, or none is. Drafts whose reference is already in the journal are
/// reported as already recorded and take no sequence number.
pub fn record_all(store: &mut Store, drafts: &[Draft]) -> anyhow::Result<Vec<Recorded>> {
    let now = Utc::now();
    let tx = store
        .conn_mut()
        .transaction_with_behavior(TransactionBehavior::Immediate)?;
    let mut last = last_seq(&tx)?;
    let mut out = Vec::with_capacity(drafts.len());
    {
        let mut by_ref = tx.prepare_cached(
            "SELECT seq FROM journal WHERE ref = ?1 \
             UNION ALL SELECT seq FROM journal_refs WHERE ref = ?1 LIMIT 1",
        )?;
        let mut insert = tx.prepare_cached(
            "INSERT INTO journal (seq, id, kind, at, operator, payload, ref, recorded_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?4)",
        )?;
        let at = ts(now);
        for d in drafts {
            if let Some(r) = &d.reference {
                let seq: Option<i64> = by_ref.query_row([r], |row| row.get(0)).optional()?;
                if let Some(seq) = seq {
                    out.push(Recorded::AlreadyRecorded { seq: seq as u64 });
                    continue;
                }
            }
            last += 1;
            let id = Uuid::now_v7();
            if let Some(photo) = &d.photo {
                super::attachments::add(
                    &tx,
                    photo,
                    &pyck_sync::attachments::Target::Operation(id),
                )?;
            }
            insert.execute(params![
                last as i64,
                id.to_string(),
                d.payload.kind().as_str(),
                at,
                d.operator,
                d.payload.fields_json()?,
                d.reference,
            ])?;
            out.push(Recorded::Recorded { seq: last });
        }
    }
    tx.commit()?;
    if let Some(home) = &store.home {
        crate::config::Config::note_seq(home, last);
    }
    Ok(out)
}

/// How long synced operations stay in the journal: those recorded more than
/// [`RETENTION_DAYS`] ago are deleted, except the last [`RETENTION_KEEP`]
/// operations of the journal. Pending and refused ones stay until settled
/// and read. Longer than the server's backup cycle should ever reach back:
/// a server restored from an older backup asks for operations again, and
/// only kept ones can be sent again.
pub const RETENTION_DAYS: i64 = 30;
/// See [`RETENTION_DAYS`].
pub const RETENTION_KEEP: u64 = 10_000;

/// Deletes the synced operations past the retention (ones the replica
/// already reflects), keeping the keys of scripted rows and the numbering.
/// Returns how many were deleted.
pub fn compact(conn: &mut Connection, now: DateTime<Utc>) -> anyhow::Result<usize> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let top = last_seq(&tx)?;
    let cutoff = ts(now - chrono::Duration::days(RETENTION_DAYS));
    let below = top.saturating_sub(RETENTION_KEEP) as i64;
    const PAST: &str = "status = 'synced' AND in_replica = 1 AND recorded_at < ?1 AND seq <= ?2";
    tx.execute(
        &format!(
            "INSERT OR IGNORE INTO journal_refs (ref, seq) \
             SELECT ref, seq FROM journal WHERE {PAST} AND ref IS NOT NULL"
        ),
        params![cutoff, below],
    )?;
    let deleted = tx.execute(
        &format!("DELETE FROM journal WHERE {PAST}"),
        params![cutoff, below],
    )?;
    if deleted > 0 {
        super::set_meta(&tx, SEQ_BASE, &top.to_string())?;
    }
    tx.commit()?;
    Ok(deleted)
}

/// Store meta key: the sequence number this journal's numbering starts
/// after — the server's last one for the device when a store starts over
/// (`pyck init` on a new store), and the highest one compacted away.
pub const SEQ_BASE: &str = "seq_base";

/// The highest sequence number this journal has used (0 for none): its
/// last entry, or the base it started after.
pub fn last_seq(conn: &Connection) -> anyhow::Result<u64> {
    let (max, base): (Option<i64>, Option<String>) = conn.query_row(
        "SELECT (SELECT MAX(seq) FROM journal), (SELECT value FROM meta WHERE key = ?1)",
        [SEQ_BASE],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    let base = base.and_then(|b| b.parse::<u64>().ok()).unwrap_or(0);
    Ok(base.max(max.map_or(0, |m| m as u64)))
}

/// A journal entry as `pyck journal` shows it.
#[derive(Debug, Clone, Serialize)]
pub struct Entry {
    pub id: Uuid,
    pub seq: u64,
    pub kind: String,
    pub at: DateTime<Utc>,
    pub operator: String,
    pub status: String,
    pub payload: serde_json::Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refusal: Option<Refusal>,
}

pub fn list(conn: &Connection, pending_only: bool) -> anyhow::Result<Vec<Entry>> {
    let sql = if pending_only {
        "SELECT id, seq, kind, at, operator, status, payload, refusal_code, refusal_message FROM journal \
         WHERE status = 'pending' ORDER BY seq"
    } else {
        "SELECT id, seq, kind, at, operator, status, payload, refusal_code, refusal_message FROM journal ORDER BY seq"
    };
    let mut stmt = conn.prepare(sql)?;
    let rows = stmt.query_map([], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, i64>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, String>(3)?,
            r.get::<_, String>(4)?,
            r.get::<_, String>(5)?,
            r.get::<_, String>(6)?,
            r.get::<_, Option<String>>(7)?,
            r.get::<_, Option<String>>(8)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (id, seq, kind, at, operator, status, payload, code, message) = row?;
        out.push(Entry {
            id: Uuid::parse_str(&id)?,
            seq: seq as u64,
            kind,
            at: parse_ts(&at).unwrap_or_default(),
            operator,
            status,
            payload: serde_json::from_str(&payload)?,
            refusal: code.map(|c| {
                Refusal::new(
                    RefusalCode::parse(&c).unwrap_or(RefusalCode::Malformed),
                    message.unwrap_or_default(),
                )
            }),
        });
    }
    Ok(out)
}

/// Pending operations in sequence order, ready to push.
pub fn pending(conn: &Connection, device: Uuid, limit: usize) -> anyhow::Result<Vec<Operation>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, seq, kind, at, operator, payload FROM journal WHERE status = 'pending' ORDER BY seq LIMIT ?1",
    )?;
    let rows = stmt.query_map([limit as i64], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, i64>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, String>(3)?,
            r.get::<_, String>(4)?,
            r.get::<_, String>(5)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (id, seq, kind, at, operator, payload) = row?;
        let kind = Kind::parse(&kind)
            .ok_or_else(|| anyhow::anyhow!("journal holds an unknown kind {kind:?}"))?;
        out.push(Operation {
            id: Uuid::parse_str(&id)?,
            device,
            seq: seq as u64,
            operator,
            at: parse_ts(&at).unwrap_or_default(),
            payload: Payload::from_parts(kind, &payload)?,
        });
    }
    Ok(out)
}

/// Marks what the server settled; returns how many were settled.
pub fn settle(conn: &mut Connection, results: &[OpResult]) -> anyhow::Result<usize> {
    let tx = conn.transaction()?;
    let mut settled = 0;
    {
        let mut synced =
            tx.prepare_cached("UPDATE journal SET status = 'synced' WHERE seq = ?1 AND id = ?2")?;
        let mut refused = tx.prepare_cached(
            "UPDATE journal SET status = 'refused', refusal_code = ?3, refusal_message = ?4 WHERE seq = ?1 AND id = ?2",
        )?;
        for r in results {
            let (seq, id) = (r.seq as i64, r.id.to_string());
            settled += match &r.outcome {
                PushOutcome::Applied { .. } | PushOutcome::Duplicate => {
                    synced.execute(params![seq, id])?
                }
                PushOutcome::Refused(refusal) => {
                    refused.execute(params![seq, id, refusal.code.as_str(), refusal.message])?
                }
                PushOutcome::Gap { .. } => 0,
            };
        }
    }
    tx.commit()?;
    Ok(settled)
}

/// How many operations wait for the server, and since when.
pub fn backlog(conn: &Connection) -> anyhow::Result<(u64, Option<DateTime<Utc>>)> {
    let (n, oldest): (i64, Option<String>) = conn.query_row(
        "SELECT COUNT(*), MIN(recorded_at) FROM journal WHERE status = 'pending'",
        [],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    Ok((n as u64, oldest.as_deref().and_then(parse_ts)))
}

/// Puts operations from `seq` on back to pending (a server that lost them).
/// The highest sequence number the server has settled for this device, as
/// far as the journal knows (0 before the first settlement).
pub fn settled_frontier(conn: &Connection) -> anyhow::Result<u64> {
    let seq: Option<i64> = conn.query_row(
        "SELECT MAX(seq) FROM journal WHERE status <> 'pending'",
        [],
        |r| r.get(0),
    )?;
    Ok(seq.map_or(0, |s| s as u64))
}

pub fn requeue_from(conn: &Connection, seq: u64) -> anyhow::Result<()> {
    conn.execute(
        "UPDATE journal SET status = 'pending', in_replica = 0 WHERE seq >= ?1 AND status = 'synced'",
        [seq as i64],
    )?;
    Ok(())
}

/// After a complete pull, the replica reflects every settled operation
/// (called by `replica::apply_page` with the pull's last page).
pub(crate) fn mark_in_replica(conn: &Connection) -> anyhow::Result<()> {
    conn.execute(
        "UPDATE journal SET in_replica = 1 WHERE status = 'synced' AND in_replica = 0",
        [],
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use pyck_sync::operation::Move;

    fn draft(reference: &str) -> Draft {
        Draft {
            payload: Payload::Move(Move {
                sku: "SKU-1".into(),
                lot: None,
                qty: 1,
                from: "A".into(),
                to: "B".into(),
                task: None,
            }),
            operator: "1007".into(),
            reference: Some(reference.into()),
            photo: None,
        }
    }

    #[test]
    fn compaction_keeps_pending_refused_recent_keys_and_numbering() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("store.sqlite3")).unwrap();
        let total = RETENTION_KEEP + 5;
        let drafts: Vec<_> = (1..=total).map(|i| draft(&format!("r{i}"))).collect();
        record_all(&mut store, &drafts).unwrap();
        // All old; 1 refused, the last 2 pending, the rest synced and in
        // the replica.
        let old = ts(Utc::now() - chrono::Duration::days(RETENTION_DAYS + 1));
        store
            .conn()
            .execute(
                "UPDATE journal SET recorded_at = ?1, status = 'synced', in_replica = 1 \
                 WHERE seq <= ?2",
                params![old, (total - 2) as i64],
            )
            .unwrap();
        store
            .conn()
            .execute("UPDATE journal SET status = 'refused' WHERE seq = 1", [])
            .unwrap();
        let deleted = compact(store.conn_mut(), Utc::now()).unwrap();
        // Synced seqs 2..=5 are past both limits; the last 10,000 stay.
        assert_eq!(deleted, 4);
        let left: Vec<(i64, String)> = store
            .conn()
            .prepare("SELECT seq, status FROM journal WHERE seq <= 6 ORDER BY seq")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(left, vec![(1, "refused".into()), (6, "synced".into())]);
        assert_eq!(backlog(store.conn()).unwrap().0, 2);
        // A compacted row's key still records nothing; numbering goes on.
        let again = record_all(&mut store, &[draft("r3"), draft("new")]).unwrap();
        assert_eq!(
            again,
            vec![
                Recorded::AlreadyRecorded { seq: 3 },
                Recorded::Recorded { seq: total + 1 }
            ]
        );
        // One more operation takes one more old synced row past the last
        // 10,000 (seq 6), and no other.
        assert_eq!(compact(store.conn_mut(), Utc::now()).unwrap(), 1);
        assert_eq!(compact(store.conn_mut(), Utc::now()).unwrap(), 0);
    }
}
