//! Photo uploads at sync (docs/ATTACHMENTS.md): each photo the server does
//! not hold yet goes in chunks from the offset the server reports — so an
//! interrupted upload resumes where the server's copy ends, and a photo it
//! already has costs one request — then each link it lacks.

use pyck_vocab::attachments::{CHUNK_BYTES, MAX_CHUNK_BYTES};

use super::{Client, SyncReport, tuned};
use crate::store::{Store, attachments};

pub async fn upload(
    store: &mut Store,
    client: &mut Client,
    report: &mut SyncReport,
) -> anyhow::Result<()> {
    let chunk = tuned("PYCK_PHOTO_CHUNK", CHUNK_BYTES).clamp(1, MAX_CHUNK_BYTES);
    for photo in attachments::unsent(store.conn())? {
        // The server's count, not ours: a cut sync may have sent more than
        // it noted here.
        let mut state = client.upload_state(&photo.sha256).await?;
        while !state.complete {
            let len = chunk.min(photo.size.saturating_sub(state.received));
            let bytes = attachments::chunk(store.conn(), &photo.sha256, state.received, len)?;
            let next = client
                .put_chunk(&photo.sha256, state.received, photo.size, bytes)
                .await?;
            if !next.complete && next.received <= state.received && len > 0 {
                // A 409 that does not move us on: another device uploads the
                // same photo; the next sync finishes it.
                anyhow::bail!(
                    "the server did not take photo {} at offset {}",
                    photo.sha256,
                    state.received
                );
            }
            report.photo_bytes += next.received.saturating_sub(state.received);
            attachments::set_sent(store.conn(), &photo.sha256, next.received)?;
            state = next;
        }
        attachments::set_sent(store.conn(), &photo.sha256, photo.size)?;
        report.photos += 1;
    }
    for (sha256, target) in attachments::unlinked(store.conn())? {
        client.link(&sha256, &target).await?;
        attachments::set_linked(store.conn(), &sha256, &target)?;
    }
    Ok(())
}
