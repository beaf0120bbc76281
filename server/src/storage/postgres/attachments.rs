//! Photo attachments' metadata (`Storage::attachment` and friends) on
//! PostgreSQL.

use deadpool_postgres::ClientWrapper;
use pyck_vocab::attachments::Target;
use tokio_postgres::Row;
use uuid::Uuid;

use crate::storage::{Attachment, LinkOutcome, Result};

fn row(r: &Row) -> Result<Attachment> {
    Ok(Attachment {
        sha256: r.try_get(0)?,
        size: r.try_get::<_, i64>(1)? as u64,
        content_type: r.try_get(2)?,
    })
}

pub async fn get(c: &ClientWrapper, tenant: i64, sha256: &str) -> Result<Option<Attachment>> {
    c.query_opt(
        "SELECT sha256, size, content_type FROM attachments WHERE tenant_id = $1 AND sha256 = $2",
        &[&tenant, &sha256],
    )
    .await?
    .as_ref()
    .map(row)
    .transpose()
}

pub async fn store(c: &ClientWrapper, tenant: i64, a: &Attachment) -> Result<()> {
    c.execute(
        "INSERT INTO attachments (tenant_id, sha256, size, content_type) VALUES ($1, $2, $3, $4) \
         ON CONFLICT DO NOTHING",
        &[&tenant, &a.sha256, &(a.size as i64), &a.content_type],
    )
    .await?;
    Ok(())
}

pub async fn link(
    c: &ClientWrapper,
    tenant: i64,
    warehouse: i64,
    sha256: &str,
    target: &Target,
) -> Result<LinkOutcome> {
    if get(c, tenant, sha256).await?.is_none() {
        return Ok(LinkOutcome::UnknownAttachment);
    }
    let (kind, id, known) = match target {
        Target::Exception(id) => {
            let Some(uuid) = super::queries::exception_id(id) else {
                return Ok(LinkOutcome::UnknownTarget);
            };
            let found = c
                .query_opt(
                    "SELECT 1 FROM exceptions WHERE tenant_id = $1 AND warehouse_id = $2 AND id = $3",
                    &[&tenant, &warehouse, &uuid],
                )
                .await?;
            ("exception", id.clone(), found.is_some())
        }
        Target::Operation(id) => {
            let found = c
                .query_opt(
                    "SELECT 1 FROM operations WHERE tenant_id = $1 AND warehouse_id = $2 AND id = $3",
                    &[&tenant, &warehouse, id],
                )
                .await?;
            ("operation", id.to_string(), found.is_some())
        }
    };
    if !known {
        return Ok(LinkOutcome::UnknownTarget);
    }
    c.execute(
        "INSERT INTO attachment_links (tenant_id, warehouse_id, target, target_id, sha256) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
        &[&tenant, &warehouse, &kind, &id, &sha256],
    )
    .await?;
    Ok(LinkOutcome::Linked)
}

pub async fn of_exception(
    c: &ClientWrapper,
    tenant: i64,
    warehouse: i64,
    exception: &str,
) -> Result<Vec<Attachment>> {
    let Some(uuid) = super::queries::exception_id(exception) else {
        return Ok(Vec::new());
    };
    let id: Uuid = uuid;
    c.query(
        "SELECT a.sha256, a.size, a.content_type FROM attachments a \
         WHERE a.tenant_id = $1 AND a.sha256 IN ( \
           SELECT l.sha256 FROM attachment_links l WHERE l.tenant_id = $1 AND l.warehouse_id = $2 AND ( \
             (l.target = 'exception' AND l.target_id = $3::uuid::text) \
             OR (l.target = 'operation' AND l.target_id IN ( \
               SELECT e.op_id::text FROM exceptions e \
                WHERE e.tenant_id = $1 AND e.warehouse_id = $2 AND e.id = $3 AND e.op_id IS NOT NULL \
               UNION \
               SELECT o.id::text FROM exceptions e JOIN operations o \
                 ON o.tenant_id = e.tenant_id AND o.warehouse_id = e.warehouse_id \
                WHERE e.tenant_id = $1 AND e.warehouse_id = $2 AND e.id = $3 AND e.asn IS NOT NULL \
                  AND o.kind = 'receive' AND o.refusal_code IS NULL \
                  AND o.payload::jsonb ->> 'asn' = e.asn \
                  AND (e.sku IS NULL OR o.payload::jsonb ->> 'sku' = e.sku))))) \
         ORDER BY a.sha256",
        &[&tenant, &warehouse, &id],
    )
    .await?
    .iter()
    .map(row)
    .collect()
}
