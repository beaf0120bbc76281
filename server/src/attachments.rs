//! Photo bytes (docs/ATTACHMENTS.md): chunks staged in the object store
//! under `staging/t<tenant>/<sha256>/<offset>`, assembled, checked against
//! their SHA-256 and put at `t<tenant>/<sha256>` only when complete. The
//! object store is `object_store`'s: a local directory by default.
//!
//! Resuming needs no state of its own: the chunks present, contiguous from
//! offset 0, are what the server has received. A photo already complete is
//! never staged again, so a re-send stores nothing twice.

use std::sync::Arc;

use futures_util::TryStreamExt;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};
use pyck_sync::attachments::{MAX_CHUNK_BYTES, UploadState, content_type, is_sha256};
use sha2::{Digest, Sha256};

use crate::storage::{Attachment, Storage, StorageError};

/// Why a chunk was not taken.
#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    #[error("{0}")]
    BadRequest(String),
    #[error("the photo is {size} bytes; the limit is {limit} bytes")]
    TooLarge { size: u64, limit: u64 },
    /// The chunk does not start where the server's copy ends.
    #[error("expected the chunk at offset {}", .0.received)]
    WrongOffset(UploadState),
    /// The whole upload does not hash to its name, or is not a photo: the
    /// staged chunks are dropped and the upload starts over.
    #[error("{0}")]
    Rejected(String),
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error("object store: {0}")]
    Objects(#[from] object_store::Error),
}

#[derive(Clone)]
pub struct PhotoStore {
    objects: Arc<dyn ObjectStore>,
    max_bytes: u64,
}

impl std::fmt::Debug for PhotoStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "PhotoStore({}, max {} bytes)",
            self.objects, self.max_bytes
        )
    }
}

impl PhotoStore {
    pub fn new(objects: Arc<dyn ObjectStore>, max_bytes: u64) -> Self {
        Self { objects, max_bytes }
    }

    /// Photos in a local directory (created if missing).
    pub fn local(dir: &std::path::Path, max_bytes: u64) -> anyhow::Result<Self> {
        std::fs::create_dir_all(dir)?;
        let fs = object_store::local::LocalFileSystem::new_with_prefix(dir)?;
        Ok(Self::new(Arc::new(fs), max_bytes))
    }

    /// Photos in memory: an embedded server that keeps none (the demo).
    pub fn in_memory() -> Self {
        Self::new(
            Arc::new(object_store::memory::InMemory::new()),
            pyck_sync::attachments::MAX_PHOTO_BYTES,
        )
    }

    fn final_path(tenant: i64, sha: &str) -> Path {
        Path::from(format!("t{tenant}/{sha}"))
    }

    fn staging(tenant: i64, sha: &str) -> Path {
        Path::from(format!("staging/t{tenant}/{sha}"))
    }

    /// The chunks staged so far, by offset, contiguous from 0; the bytes
    /// they cover.
    async fn staged(&self, tenant: i64, sha: &str) -> Result<(Vec<(u64, Path)>, u64), UploadError> {
        let mut chunks: Vec<(u64, Path, u64)> = self
            .objects
            .list(Some(&Self::staging(tenant, sha)))
            .map_ok(|meta| {
                let offset = meta.location.filename().and_then(|f| f.parse::<u64>().ok());
                (offset, meta.location, meta.size)
            })
            .try_filter_map(
                |(offset, path, size)| async move { Ok(offset.map(|o| (o, path, size))) },
            )
            .try_collect()
            .await?;
        chunks.sort_by_key(|c| c.0);
        let mut received = 0;
        let mut contiguous = Vec::new();
        for (offset, path, size) in chunks {
            if offset != received {
                break;
            }
            received += size;
            contiguous.push((offset, path));
        }
        Ok((contiguous, received))
    }

    /// Where the upload of `sha` stands for `tenant`.
    pub async fn state(
        &self,
        storage: &dyn Storage,
        tenant: i64,
        sha: &str,
    ) -> Result<UploadState, UploadError> {
        if let Some(a) = storage.attachment(tenant, sha).await? {
            return Ok(UploadState {
                received: a.size,
                complete: true,
            });
        }
        let (_, received) = self.staged(tenant, sha).await?;
        Ok(UploadState {
            received,
            complete: false,
        })
    }

    /// Takes the chunk of `sha` (a photo of `size` bytes) at `offset`.
    pub async fn put_chunk(
        &self,
        storage: &dyn Storage,
        tenant: i64,
        sha: &str,
        offset: u64,
        size: u64,
        chunk: &[u8],
    ) -> Result<UploadState, UploadError> {
        if !is_sha256(sha) {
            return Err(UploadError::BadRequest(
                "the photo's name must be its SHA-256: 64 lowercase hex digits".into(),
            ));
        }
        if size > self.max_bytes {
            return Err(UploadError::TooLarge {
                size,
                limit: self.max_bytes,
            });
        }
        if chunk.is_empty() || chunk.len() as u64 > MAX_CHUNK_BYTES {
            return Err(UploadError::BadRequest(format!(
                "a chunk holds 1 to {MAX_CHUNK_BYTES} bytes, this one {}",
                chunk.len()
            )));
        }
        let state = self.state(storage, tenant, sha).await?;
        if state.complete {
            // Stored already: nothing is stored twice.
            return Ok(state);
        }
        if offset != state.received {
            return Err(UploadError::WrongOffset(state));
        }
        let end = offset + chunk.len() as u64;
        if end > size {
            return Err(UploadError::BadRequest(format!(
                "the chunk ends at byte {end}, past the photo's size {size}"
            )));
        }
        let path = Self::staging(tenant, sha).join(format!("{offset:020}"));
        self.objects
            .put(&path, PutPayload::from(chunk.to_vec()))
            .await?;
        if end < size {
            return Ok(UploadState {
                received: end,
                complete: false,
            });
        }
        self.complete(storage, tenant, sha, size).await
    }

    /// Assembles the staged chunks, checks them, stores the photo.
    async fn complete(
        &self,
        storage: &dyn Storage,
        tenant: i64,
        sha: &str,
        size: u64,
    ) -> Result<UploadState, UploadError> {
        let (chunks, received) = self.staged(tenant, sha).await?;
        let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
        for (_, path) in &chunks {
            bytes.extend_from_slice(&self.objects.get(path).await?.bytes().await?);
        }
        let digest = hex(&Sha256::digest(&bytes));
        let kind = content_type(&bytes);
        let verdict = if received != size || bytes.len() as u64 != size {
            Err(format!("received {received} bytes of {size}"))
        } else if digest != sha {
            Err(format!(
                "the bytes hash to {digest}, not to the name {sha}: upload it again"
            ))
        } else if kind.is_none() {
            Err("not a photo (JPEG, PNG, WebP or HEIC)".into())
        } else {
            Ok(())
        };
        if let Err(why) = verdict {
            self.drop_staged(&chunks).await;
            return Err(UploadError::Rejected(why));
        }
        self.objects
            .put(&Self::final_path(tenant, sha), PutPayload::from(bytes))
            .await?;
        storage
            .store_attachment(
                tenant,
                &Attachment {
                    sha256: sha.to_owned(),
                    size,
                    content_type: kind.unwrap_or("application/octet-stream").to_owned(),
                },
            )
            .await?;
        self.drop_staged(&chunks).await;
        Ok(UploadState {
            received: size,
            complete: true,
        })
    }

    async fn drop_staged(&self, chunks: &[(u64, Path)]) {
        for (_, path) in chunks {
            if let Err(e) = self.objects.delete(path).await {
                tracing::warn!(error = %e, %path, "removing a staged chunk");
            }
        }
    }

    /// A tenant's complete photo: its description and bytes.
    pub async fn get(
        &self,
        storage: &dyn Storage,
        tenant: i64,
        sha: &str,
    ) -> Result<Option<(Attachment, Vec<u8>)>, UploadError> {
        let Some(a) = storage.attachment(tenant, sha).await? else {
            return Ok(None);
        };
        let bytes = self
            .objects
            .get(&Self::final_path(tenant, sha))
            .await?
            .bytes()
            .await?;
        Ok(Some((a, bytes.to_vec())))
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
