//! Photo attachments in the terminal's store (docs/ATTACHMENTS.md): taken
//! in with the operation or decision they document, in the same
//! transaction, and kept until the server holds them and their links.

use std::path::Path;

use pyck_vocab::attachments::{MAX_PHOTO_BYTES, Target, check_photo};
use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::error::invalid;

/// A photo read from a file and checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Photo {
    pub sha256: String,
    pub content_type: &'static str,
    pub bytes: Vec<u8>,
}

impl Photo {
    /// Reads `path` for the flag or argument `field`: it must exist, be a
    /// photo (a whole JPEG, PNG, WebP or HEIC file, `check_photo`) and be
    /// no larger than the limit.
    pub fn read(path: &Path, field: &str) -> anyhow::Result<Photo> {
        let meta = std::fs::metadata(path)
            .map_err(|e| invalid(format!("{field}: cannot read {}: {e}", path.display())))?;
        if meta.len() > MAX_PHOTO_BYTES {
            return Err(invalid(format!(
                "{field}: {} is {} bytes; a photo may have at most {MAX_PHOTO_BYTES}",
                path.display(),
                meta.len()
            )));
        }
        let bytes = std::fs::read(path)
            .map_err(|e| invalid(format!("{field}: cannot read {}: {e}", path.display())))?;
        // The same structural check the server makes, so a photo the
        // server would refuse is refused here, before anything is recorded.
        let content_type = check_photo(&bytes)
            .map_err(|e| invalid(format!("{field}: {} is {e}", path.display())))?
            .content_type();
        let sha256 = Sha256::digest(&bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        Ok(Photo {
            sha256,
            content_type,
            bytes,
        })
    }
}

fn target_parts(target: &Target) -> (&'static str, String) {
    match target {
        Target::Exception(id) => ("exception", id.clone()),
        Target::Operation(id) => ("operation", id.to_string()),
    }
}

/// Keeps `photo` (once, whatever it documents) and its link to `target`;
/// part of the caller's transaction.
pub fn add(conn: &Connection, photo: &Photo, target: &Target) -> anyhow::Result<()> {
    conn.execute(
        "INSERT OR IGNORE INTO attachments (sha256, content_type, size, bytes, added_at) \
         VALUES (?1, ?2, ?3, ?4, ?5)",
        params![
            photo.sha256,
            photo.content_type,
            photo.bytes.len() as i64,
            photo.bytes,
            crate::store::ts(chrono::Utc::now())
        ],
    )?;
    let (kind, id) = target_parts(target);
    conn.execute(
        "INSERT OR IGNORE INTO attachment_links (sha256, target, target_id) VALUES (?1, ?2, ?3)",
        params![photo.sha256, kind, id],
    )?;
    Ok(())
}

/// A photo the server does not hold completely yet.
#[derive(Debug, Clone)]
pub struct Unsent {
    pub sha256: String,
    pub size: u64,
}

pub fn unsent(conn: &Connection) -> anyhow::Result<Vec<Unsent>> {
    let mut stmt =
        conn.prepare("SELECT sha256, size FROM attachments WHERE sent < size ORDER BY added_at")?;
    let rows = stmt
        .query_map([], |r| {
            Ok(Unsent {
                sha256: r.get(0)?,
                size: r.get::<_, i64>(1)? as u64,
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}

/// Bytes `from..from+len` of a kept photo.
pub fn chunk(conn: &Connection, sha256: &str, from: u64, len: u64) -> anyhow::Result<Vec<u8>> {
    // substr is 1-based and counts bytes for a BLOB.
    let bytes: Option<Vec<u8>> = conn
        .query_row(
            "SELECT substr(bytes, ?2, ?3) FROM attachments WHERE sha256 = ?1",
            params![sha256, from as i64 + 1, len as i64],
            |r| r.get(0),
        )
        .optional()?;
    bytes.ok_or_else(|| anyhow::anyhow!("photo {sha256} is not in the store"))
}

pub fn set_sent(conn: &Connection, sha256: &str, sent: u64) -> anyhow::Result<()> {
    conn.execute(
        "UPDATE attachments SET sent = ?2 WHERE sha256 = ?1",
        params![sha256, sent as i64],
    )?;
    Ok(())
}

/// Links whose photo the server holds but whose link it does not yet.
pub fn unlinked(conn: &Connection) -> anyhow::Result<Vec<(String, Target)>> {
    let mut stmt = conn.prepare(
        "SELECT l.sha256, l.target, l.target_id FROM attachment_links l \
         JOIN attachments a ON a.sha256 = l.sha256 WHERE l.linked = 0 AND a.sent = a.size",
    )?;
    let rows = stmt
        .query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
            ))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    rows.into_iter()
        .map(|(sha, kind, id)| {
            let target = match kind.as_str() {
                "operation" => Target::Operation(uuid::Uuid::parse_str(&id)?),
                _ => Target::Exception(id),
            };
            Ok((sha, target))
        })
        .collect()
}

pub fn set_linked(conn: &Connection, sha256: &str, target: &Target) -> anyhow::Result<()> {
    let (kind, id) = target_parts(target);
    conn.execute(
        "UPDATE attachment_links SET linked = 1 WHERE sha256 = ?1 AND target = ?2 AND target_id = ?3",
        params![sha256, kind, id],
    )?;
    Ok(())
}

/// The ids of receipts recorded here on `asn` (and `sku`, when given): the
/// operations whose photos document a receiving exception of that line.
pub fn receipts_of(conn: &Connection, asn: &str, sku: Option<&str>) -> anyhow::Result<Vec<String>> {
    let mut stmt = conn.prepare(
        "SELECT id FROM journal WHERE kind = 'receive' AND json_extract(payload, '$.asn') = ?1 \
         AND (?2 IS NULL OR json_extract(payload, '$.sku') = ?2)",
    )?;
    let rows = stmt
        .query_map(params![asn, sku], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}

/// A kept photo as `pyck exceptions show` lists it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Listed {
    pub sha256: String,
    pub content_type: String,
    pub size: u64,
    /// The server holds the whole photo.
    pub uploaded: bool,
    /// The server holds the link too.
    pub linked: bool,
}

/// Photos kept here for an exception: linked to it, or to an operation
/// recorded here that the exception names as its cause (`op_id`s given).
pub fn of_exception(conn: &Connection, id: &str, ops: &[String]) -> anyhow::Result<Vec<Listed>> {
    let mut stmt = conn.prepare(
        "SELECT a.sha256, a.content_type, a.size, a.sent = a.size, l.linked, l.target, l.target_id \
         FROM attachment_links l JOIN attachments a ON a.sha256 = l.sha256 ORDER BY a.sha256",
    )?;
    let rows = stmt
        .query_map([], |r| {
            Ok((
                Listed {
                    sha256: r.get(0)?,
                    content_type: r.get(1)?,
                    size: r.get::<_, i64>(2)? as u64,
                    uploaded: r.get(3)?,
                    linked: r.get(4)?,
                },
                r.get::<_, String>(5)?,
                r.get::<_, String>(6)?,
            ))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let mut out: Vec<Listed> = rows
        .into_iter()
        .filter(|(_, kind, target)| {
            (kind == "exception" && target == id) || (kind == "operation" && ops.contains(target))
        })
        .map(|(l, _, _)| l)
        .collect();
    out.dedup_by(|a, b| a.sha256 == b.sha256);
    Ok(out)
}
