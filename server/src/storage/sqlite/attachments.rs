//! Photo attachments' metadata (`Storage::attachment` and friends) on SQLite.

use pyck_vocab::attachments::Target;
use rusqlite::{Connection, OptionalExtension, params};

use super::now;
use crate::storage::{Attachment, LinkOutcome, Result};

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Attachment> {
    Ok(Attachment {
        sha256: r.get(0)?,
        size: r.get::<_, i64>(1)? as u64,
        content_type: r.get(2)?,
    })
}

pub fn get(c: &Connection, tenant: i64, sha256: &str) -> Result<Option<Attachment>> {
    Ok(c.prepare_cached(
        "SELECT sha256, size, content_type FROM attachments WHERE tenant_id = ?1 AND sha256 = ?2",
    )?
    .query_row(params![tenant, sha256], row)
    .optional()?)
}

pub fn store(c: &Connection, tenant: i64, a: &Attachment) -> Result<()> {
    c.execute(
        "INSERT OR IGNORE INTO attachments (tenant_id, sha256, size, content_type, stored_at) \
         VALUES (?1, ?2, ?3, ?4, ?5)",
        params![tenant, a.sha256, a.size as i64, a.content_type, now()],
    )?;
    Ok(())
}

pub fn link(
    c: &Connection,
    tenant: i64,
    warehouse: i64,
    sha256: &str,
    target: &Target,
) -> Result<LinkOutcome> {
    if get(c, tenant, sha256)?.is_none() {
        return Ok(LinkOutcome::UnknownAttachment);
    }
    let (kind, id, known) = match target {
        Target::Exception(id) => (
            "exception",
            id.clone(),
            c.query_row(
                "SELECT 1 FROM exceptions WHERE tenant_id = ?1 AND warehouse_id = ?2 AND id = ?3",
                params![tenant, warehouse, id],
                |_| Ok(()),
            )
            .optional()?,
        ),
        Target::Operation(id) => (
            "operation",
            id.to_string(),
            c.query_row(
                "SELECT 1 FROM operations WHERE tenant_id = ?1 AND warehouse_id = ?2 AND id = ?3",
                params![tenant, warehouse, id.to_string()],
                |_| Ok(()),
            )
            .optional()?,
        ),
    };
    if known.is_none() {
        return Ok(LinkOutcome::UnknownTarget);
    }
    c.execute(
        "INSERT OR IGNORE INTO attachment_links (tenant_id, warehouse_id, target, target_id, sha256, linked_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![tenant, warehouse, kind, id, sha256, now()],
    )?;
    Ok(LinkOutcome::Linked)
}

pub fn of_exception(
    c: &Connection,
    tenant: i64,
    warehouse: i64,
    exception: &str,
) -> Result<Vec<Attachment>> {
    let mut stmt = c.prepare_cached(
        "SELECT a.sha256, a.size, a.content_type FROM attachments a \
         WHERE a.tenant_id = ?1 AND a.sha256 IN ( \
           SELECT l.sha256 FROM attachment_links l WHERE l.tenant_id = ?1 AND l.warehouse_id = ?2 AND ( \
             (l.target = 'exception' AND l.target_id = ?3) \
             OR (l.target = 'operation' AND l.target_id IN ( \
               SELECT e.op_id FROM exceptions e \
                WHERE e.tenant_id = ?1 AND e.warehouse_id = ?2 AND e.id = ?3 AND e.op_id IS NOT NULL \
               UNION \
               SELECT o.id FROM exceptions e JOIN operations o \
                 ON o.tenant_id = e.tenant_id AND o.warehouse_id = e.warehouse_id \
                WHERE e.tenant_id = ?1 AND e.warehouse_id = ?2 AND e.id = ?3 AND e.asn IS NOT NULL \
                  AND o.kind = 'receive' AND o.refusal_code IS NULL \
                  AND json_extract(o.payload, '$.asn') = e.asn \
                  AND (e.sku IS NULL OR json_extract(o.payload, '$.sku') = e.sku))))) \
         ORDER BY a.sha256",
    )?;
    let rows = stmt
        .query_map(params![tenant, warehouse, exception], row)?
        .collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}
