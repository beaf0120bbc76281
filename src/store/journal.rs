//! The journal: this device's operations, numbered gap-free in the same
//! transaction that stores them.

use chrono::{DateTime, Utc};
use pyck_vocab::operation::{Kind, Operation, Payload};
use pyck_vocab::protocol::{OpResult, PushOutcome};
use pyck_vocab::refusal::{Refusal, RefusalCode};
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
        let mut id_text = Uuid::encode_buffer();
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
                    &pyck_vocab::attachments::Target::Operation(id),
                )?;
            }
            insert.execute(params![
                last as i64,
                &*id.hyphenated().encode_lower(&mut id_text),
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
    // Only what the replica reflects may go: the view replays the rest.
    let below = top
        .saturating_sub(RETENTION_KEEP)
        .min(replica_through(&tx)?) as i64;
    const PAST: &str = "status = 'synced' AND recorded_at < ?1 AND seq <= ?2";
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

/// Pending operations in sequence order, ready to push: at most `limit`,
/// and no more than about `max_bytes` of payload text (at least one), so a
/// batch of large operations stays below the server's body limit.
pub fn pending(
    conn: &Connection,
    device: Uuid,
    limit: usize,
    max_bytes: usize,
) -> anyhow::Result<Vec<Operation>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, seq, kind, at, operator, payload FROM journal WHERE status = 'pending' ORDER BY seq LIMIT ?1",
    )?;
    let mut rows = stmt.query([limit as i64])?;
    let mut out = Vec::with_capacity(limit.min(MAX_PREALLOCATED));
    let mut bytes = 0;
    while let Some(r) = rows.next()? {
        let payload = r.get_ref(5)?.as_str()?;
        // An operation's envelope (ids, time, operator) is about 200 bytes.
        bytes += payload.len() + 256;
        if bytes > max_bytes && !out.is_empty() {
            break;
        }
        let kind = r.get_ref(2)?.as_str()?;
        let kind = Kind::parse(kind)
            .ok_or_else(|| anyhow::anyhow!("journal holds an unknown kind {kind:?}"))?;
        out.push(Operation {
            id: Uuid::parse_str(r.get_ref(0)?.as_str()?)?,
            device,
            seq: r.get::<_, i64>(1)? as u64,
            operator: r.get(4)?,
            at: parse_ts(r.get_ref(3)?.as_str()?).unwrap_or_default(),
            payload: Payload::from_parts(kind, payload)?,
        });
    }
    Ok(out)
}

/// More than this many pending operations are not reserved for at once.
const MAX_PREALLOCATED: usize = 1 << 16;

/// What a push's answer means for the journal, worked out from the
/// operations sent and the results: runs of consecutive operations the
/// server holds (applied, or duplicates), settled with one range UPDATE
/// each, and single operations matched by sequence number and id (refusals,
/// and anything not among those sent).
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Settlement<'r> {
    /// Operations `first..=last`, every one of them sent with the id the
    /// server answered for: the journal holds exactly these ids there.
    Synced { first: u64, last: u64 },
    One {
        seq: u64,
        id: Uuid,
        refusal: Option<&'r Refusal>,
    },
}

/// Groups `results` into [`Settlement`]s. `sent` holds the (seq, id) of
/// each operation sent, in sequence order, as read from the journal.
pub(crate) fn settlements<'r>(
    sent: &[(u64, Uuid)],
    results: &'r [OpResult],
) -> Vec<Settlement<'r>> {
    let mut out = Vec::new();
    for r in results {
        let refusal = match &r.outcome {
            PushOutcome::Applied { .. } | PushOutcome::Duplicate => None,
            PushOutcome::Refused(refusal) => Some(refusal),
            PushOutcome::Gap { .. } => continue,
        };
        let as_sent = sent
            .binary_search_by_key(&r.seq, |&(seq, _)| seq)
            .is_ok_and(|i| sent[i].1 == r.id);
        match (refusal, out.last_mut()) {
            (None, Some(Settlement::Synced { last, .. })) if as_sent && r.seq == *last + 1 => {
                *last = r.seq;
            }
            (None, _) if as_sent => out.push(Settlement::Synced {
                first: r.seq,
                last: r.seq,
            }),
            _ => out.push(Settlement::One {
                seq: r.seq,
                id: r.id,
                refusal,
            }),
        }
    }
    out
}

/// Marks what the server settled; returns how many were settled. `sent` is
/// the (seq, id) of each operation of the batch, in sequence order.
pub fn settle(
    conn: &mut Connection,
    sent: &[(u64, Uuid)],
    results: &[OpResult],
) -> anyhow::Result<usize> {
    let tx = conn.transaction()?;
    let mut settled = 0;
    {
        let mut range =
            tx.prepare_cached("UPDATE journal SET status = 'synced' WHERE seq BETWEEN ?1 AND ?2")?;
        let mut synced =
            tx.prepare_cached("UPDATE journal SET status = 'synced' WHERE seq = ?1 AND id = ?2")?;
        let mut refused = tx.prepare_cached(
            "UPDATE journal SET status = 'refused', refusal_code = ?3, refusal_message = ?4 WHERE seq = ?1 AND id = ?2",
        )?;
        for s in settlements(sent, results) {
            settled += match s {
                Settlement::Synced { first, last } => {
                    range.execute(params![first as i64, last as i64])?
                }
                Settlement::One {
                    seq,
                    id,
                    refusal: None,
                } => synced.execute(params![seq as i64, id.to_string()])?,
                Settlement::One {
                    seq,
                    id,
                    refusal: Some(refusal),
                } => refused.execute(params![
                    seq as i64,
                    id.to_string(),
                    refusal.code.as_str(),
                    refusal.message
                ])?,
            };
        }
    }
    tx.commit()?;
    Ok(settled)
}

/// How many operations wait for the server: a count of the pending index
/// alone, without reading a row (issue 21: the rows' times made this 3 % of
/// a 10,000-operation sync).
pub fn pending_count(conn: &Connection) -> anyhow::Result<u64> {
    let n: i64 = conn
        .prepare_cached("SELECT COUNT(*) FROM journal WHERE status = 'pending'")?
        .query_row([], |r| r.get(0))?;
    Ok(n as u64)
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

/// Puts operations from `seq` on back to pending (a server that lost them).
pub fn requeue_from(conn: &Connection, seq: u64) -> anyhow::Result<()> {
    conn.execute(
        "UPDATE journal SET status = 'pending' WHERE seq >= ?1 AND status = 'synced'",
        [seq as i64],
    )?;
    // Pushed again, they are replayed until a pull brings them back.
    conn.execute(
        "UPDATE meta SET value = MIN(CAST(value AS INTEGER), ?1) WHERE key = ?2",
        params![seq.saturating_sub(1) as i64, REPLICA_THROUGH],
    )?;
    Ok(())
}

/// Store meta key: the replica reflects every synced operation up to this
/// sequence number; the local view replays synced operations after it on
/// top of the replica.
pub const REPLICA_THROUGH: &str = "replica_through";

/// See [`REPLICA_THROUGH`].
pub(crate) fn replica_through(conn: &Connection) -> anyhow::Result<u64> {
    let through = super::meta(conn, REPLICA_THROUGH)?;
    Ok(through.and_then(|t| t.parse().ok()).unwrap_or(0))
}

/// After a complete pull, the replica reflects every settled operation
/// (called by `replica::apply_page` with the pull's last page): everything
/// before the first pending one (pending operations come after all settled
/// ones, as batches settle in sequence order), or the whole journal.
pub(crate) fn mark_in_replica(conn: &Connection) -> anyhow::Result<()> {
    conn.execute(
        "INSERT INTO meta (key, value) VALUES (?1, COALESCE( \
             (SELECT MIN(seq) FROM journal WHERE status = 'pending') - 1, \
             (SELECT MAX(seq) FROM journal), 0)) \
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        [REPLICA_THROUGH],
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use pyck_vocab::operation::Move;

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
        let (_dir, mut store) = store();
        let total = RETENTION_KEEP + 5;
        let drafts: Vec<_> = (1..=total).map(|i| draft(&format!("r{i}"))).collect();
        record_all(&mut store, &drafts).unwrap();
        // All old; 1 refused, the last 2 pending, the rest synced and in
        // the replica.
        let old = ts(Utc::now() - chrono::Duration::days(RETENTION_DAYS + 1));
        store
            .conn()
            .execute(
                "UPDATE journal SET recorded_at = ?1, status = 'synced' WHERE seq <= ?2",
                params![old, (total - 2) as i64],
            )
            .unwrap();
        mark_in_replica(store.conn()).unwrap();
        store
            .conn()
            .execute("UPDATE journal SET status = 'refused' WHERE seq = 1", [])
            .unwrap();
        let deleted = compact(store.conn_mut(), Utc::now()).unwrap();
        // Synced seqs 2..=5 are past both limits; the last 10,000 stay.
        assert_eq!(deleted, 4);
        let left: Vec<(i64, String)> = statuses(&store).into_iter().take(2).collect();
        assert_eq!(left, vec![(1, "refused".into()), (6, "synced".into())]);
        assert_eq!(pending_count(store.conn()).unwrap(), 2);
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

    fn replayed(store: &Store) -> usize {
        crate::store::view::overlay(store.conn()).unwrap().len()
    }

    fn sync_through(store: &Store, seq: u64) {
        store
            .conn()
            .execute(
                "UPDATE journal SET status = 'synced' WHERE seq <= ?1 AND status = 'pending'",
                [seq as i64],
            )
            .unwrap();
    }

    /// The local view replays synced operations until a complete pull
    /// brings them back, and again once a server that lost them has them
    /// pushed anew.
    #[test]
    fn the_view_replays_synced_operations_until_a_pull_reflects_them() {
        let (_dir, mut store) = store();
        let drafts: Vec<_> = (1..=5).map(|i| draft(&format!("r{i}"))).collect();
        record_all(&mut store, &drafts).unwrap();
        sync_through(&store, 3);
        assert_eq!(
            replayed(&store),
            5,
            "3 synced, not pulled yet, and 2 pending"
        );
        mark_in_replica(store.conn()).unwrap();
        assert_eq!(replica_through(store.conn()).unwrap(), 3);
        assert_eq!(replayed(&store), 2, "the 2 pending");
        // A server restored from an older backup lost 2 and 3.
        requeue_from(store.conn(), 2).unwrap();
        assert_eq!(replica_through(store.conn()).unwrap(), 1);
        assert_eq!(replayed(&store), 4);
        sync_through(&store, 5);
        assert_eq!(replayed(&store), 4, "pushed again, not pulled yet");
        mark_in_replica(store.conn()).unwrap();
        assert_eq!(replayed(&store), 0);
        assert_eq!(replica_through(store.conn()).unwrap(), 5);
    }

    /// Version 6 turns the per-row flags into the one number: the same
    /// operations are replayed before and after.
    #[test]
    fn version_6_replays_what_the_flags_did() {
        let mut conn = Connection::open_in_memory().unwrap();
        crate::store::MIGRATIONS.to_version(&mut conn, 5).unwrap();
        conn.execute_batch(
            r#"INSERT INTO journal (seq, id, kind, at, operator, payload, status, in_replica, recorded_at) VALUES
                 (1, 'a', 'move', 't', '1007', '{"sku":"S1","qty":1,"from":"A","to":"B"}', 'synced', 1, 't'),
                 (2, 'b', 'move', 't', '1007', '{"sku":"S2","qty":1,"from":"A","to":"B"}', 'refused', 0, 't'),
                 (3, 'c', 'move', 't', '1007', '{"sku":"S3","qty":1,"from":"A","to":"B"}', 'synced', 1, 't'),
                 (4, 'd', 'move', 't', '1007', '{"sku":"S4","qty":1,"from":"A","to":"B"}', 'synced', 0, 't'),
                 (5, 'e', 'move', 't', '1007', '{"sku":"S5","qty":1,"from":"A","to":"B"}', 'pending', 0, 't');"#,
        )
        .unwrap();
        crate::store::MIGRATIONS.to_latest(&mut conn).unwrap();
        assert_eq!(replica_through(&conn).unwrap(), 3);
        let replayed: Vec<String> = crate::store::view::overlay(&conn)
            .unwrap()
            .into_iter()
            .map(|p| match p {
                Payload::Move(m) => m.sku,
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(replayed, ["S4", "S5"]);
        let columns: i64 = conn
            .query_row(
                "SELECT count(*) FROM pragma_table_info('journal') WHERE name = 'in_replica'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(columns, 0);
    }

    fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("store.sqlite3")).unwrap();
        (dir, store)
    }

    fn statuses(store: &Store) -> Vec<(i64, String)> {
        store
            .conn()
            .prepare("SELECT seq, status FROM journal ORDER BY seq")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    }

    fn result(seq: u64, id: Uuid, outcome: PushOutcome) -> OpResult {
        OpResult { id, seq, outcome }
    }

    /// Ids are made without a system call each now: still unique, and in
    /// the order they were recorded, within one run and across runs.
    #[test]
    fn recorded_ids_are_unique_and_increase_with_the_sequence() {
        let (_dir, mut store) = store();
        for run in 0..3 {
            let drafts: Vec<_> = (0..5_000).map(|i| draft(&format!("r{run}-{i}"))).collect();
            record_all(&mut store, &drafts).unwrap();
        }
        let ids: Vec<String> = store
            .conn()
            .prepare("SELECT id FROM journal ORDER BY seq")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(ids.len(), 15_000);
        let ids: Vec<Uuid> = ids.iter().map(|i| Uuid::parse_str(i).unwrap()).collect();
        assert!(ids.iter().all(|id| id.get_version_num() == 7));
        assert!(
            ids.windows(2).all(|w| w[0] < w[1]),
            "ids increase with seq (so they are unique too)"
        );
    }

    /// A batch's answer settles in runs: one range per stretch of
    /// consecutive operations held as sent, a refusal on its own, an id
    /// the journal did not send matched singly, gaps left pending.
    #[test]
    fn an_answer_settles_in_runs_of_operations_held_as_sent() {
        let ids: Vec<Uuid> = (0..8).map(|_| Uuid::now_v7()).collect();
        let sent: Vec<(u64, Uuid)> = (10..16).zip(ids.iter().copied()).collect();
        let refusal = Refusal::new(RefusalCode::Malformed, "no");
        let applied = PushOutcome::Applied { exceptions: 0 };
        let results = vec![
            result(10, ids[0], applied.clone()),
            result(11, ids[1], PushOutcome::Duplicate),
            result(12, ids[2], PushOutcome::Refused(refusal.clone())),
            result(13, ids[3], applied.clone()),
            result(14, ids[7], applied.clone()),
            result(15, ids[5], PushOutcome::Gap { expected: 9 }),
        ];
        assert_eq!(
            settlements(&sent, &results),
            vec![
                Settlement::Synced {
                    first: 10,
                    last: 11
                },
                Settlement::One {
                    seq: 12,
                    id: ids[2],
                    refusal: Some(&refusal)
                },
                Settlement::Synced {
                    first: 13,
                    last: 13
                },
                Settlement::One {
                    seq: 14,
                    id: ids[7],
                    refusal: None
                },
            ]
        );
    }

    /// Settling a batch marks exactly its operations: not those recorded
    /// before or after it, and not one whose id the server did not answer.
    #[test]
    fn settling_a_batch_marks_exactly_its_operations() {
        let (_dir, mut store) = store();
        let drafts: Vec<_> = (1..=10).map(|i| draft(&format!("r{i}"))).collect();
        record_all(&mut store, &drafts).unwrap();
        let device = Uuid::now_v7();
        let all = pending(store.conn(), device, 100, usize::MAX).unwrap();
        // The batch: seqs 3..=8.
        let batch = &all[2..8];
        let sent: Vec<(u64, Uuid)> = batch.iter().map(|op| (op.seq, op.id)).collect();
        let mut results: Vec<OpResult> = batch
            .iter()
            .map(|op| result(op.seq, op.id, PushOutcome::Applied { exceptions: 0 }))
            .collect();
        results[3].outcome = PushOutcome::Refused(Refusal::new(RefusalCode::Malformed, "no"));
        // An answer for seq 8 naming another id settles nothing.
        results[5].id = Uuid::now_v7();
        let settled = settle(store.conn_mut(), &sent, &results).unwrap();
        assert_eq!(settled, 5);
        let expect: Vec<(i64, String)> = [
            "pending", "pending", "synced", "synced", "synced", "refused", "synced", "pending",
            "pending", "pending",
        ]
        .iter()
        .enumerate()
        .map(|(i, s)| (i as i64 + 1, (*s).to_owned()))
        .collect();
        assert_eq!(statuses(&store), expect);
        assert_eq!(backlog(store.conn()).unwrap().0, 5);
        // The same answer again changes nothing more.
        settle(store.conn_mut(), &sent, &results).unwrap();
        assert_eq!(statuses(&store), expect);
    }

    /// A batch holds at most `limit` operations and about `max_bytes` of
    /// payload, but always one.
    #[test]
    fn a_batch_is_bounded_by_count_and_by_bytes() {
        let (_dir, mut store) = store();
        let drafts: Vec<_> = (1..=10).map(|i| draft(&format!("r{i}"))).collect();
        record_all(&mut store, &drafts).unwrap();
        let device = Uuid::now_v7();
        let seqs = |limit, bytes| -> Vec<u64> {
            pending(store.conn(), device, limit, bytes)
                .unwrap()
                .iter()
                .map(|op| op.seq)
                .collect()
        };
        assert_eq!(seqs(4, usize::MAX), [1, 2, 3, 4]);
        let one = draft("x").payload.fields_json().unwrap().len() + 256;
        assert_eq!(seqs(100, 3 * one), [1, 2, 3]);
        assert_eq!(seqs(100, 3 * one - 1), [1, 2]);
        assert_eq!(seqs(100, 1), [1], "one operation however large");
    }
}
