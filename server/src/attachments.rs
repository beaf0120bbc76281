//! Photo bytes (docs/ATTACHMENTS.md): chunks staged in the object store
//! under `staging/t<tenant>/<sha256>/<offset>`, assembled, checked against
//! their SHA-256 and put at `t<tenant>/<sha256>` only when complete. The
//! object store is `object_store`'s: a local directory by default, or an
//! S3-compatible bucket ([`PhotoLocation`]).
//!
//! Resuming needs no state of its own: the chunks present, contiguous from
//! offset 0, are what the server has received. A photo already complete is
//! never staged again, so a re-send stores nothing twice.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;

use futures_util::TryStreamExt;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};
use pyck_vocab::attachments::{MAX_CHUNK_BYTES, UploadState, check_photo, is_sha256};
use sha2::{Digest, Sha256};

use crate::storage::{Attachment, Storage, StorageError};

/// How long the start-up probe of the photo store may take.
const PROBE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(20);

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

/// Where the photos live (`serve --object-store`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PhotoLocation {
    /// A local directory; replicas share it through a network file system.
    Dir(PathBuf),
    /// An S3-compatible bucket and a key prefix (possibly empty). Endpoint,
    /// region and credentials come from the standard `AWS_*` environment
    /// variables, so no secret is ever on a command line.
    S3 { bucket: String, prefix: String },
}

impl FromStr for PhotoLocation {
    type Err = String;

    /// `s3://BUCKET[/PREFIX]`, or anything else as a directory path.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let Some(rest) = s.strip_prefix("s3://") else {
            if s.is_empty() {
                return Err("expected a directory or s3://BUCKET[/PREFIX], got nothing".into());
            }
            if s.contains("://") {
                return Err(format!(
                    "expected a directory or s3://BUCKET[/PREFIX], got {s:?}"
                ));
            }
            return Ok(Self::Dir(PathBuf::from(s)));
        };
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        // S3's bucket naming rules, which S3-compatible stores share.
        let valid = (3..=63).contains(&bucket.len())
            && bucket
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.')
            && !bucket.starts_with(['-', '.'])
            && !bucket.ends_with(['-', '.']);
        if !valid {
            return Err(format!(
                "the bucket {bucket:?} is not a valid S3 bucket name (3 to 63 lowercase letters, digits, '-' or '.')"
            ));
        }
        Ok(Self::S3 {
            bucket: bucket.to_owned(),
            prefix: prefix.trim_matches('/').to_owned(),
        })
    }
}

impl fmt::Display for PhotoLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Dir(dir) => write!(f, "{}", dir.display()),
            Self::S3 { bucket, prefix } if prefix.is_empty() => write!(f, "s3://{bucket}"),
            Self::S3 { bucket, prefix } => write!(f, "s3://{bucket}/{prefix}"),
        }
    }
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

    /// The photo store at `location`: a directory is created if missing.
    /// One probe object is written and removed, so a wrong endpoint, bucket
    /// or credential stops the server at start rather than at a receiver's
    /// first upload.
    pub async fn open(location: &PhotoLocation, max_bytes: u64) -> anyhow::Result<Self> {
        let objects: Arc<dyn ObjectStore> = match location {
            PhotoLocation::Dir(dir) => {
                std::fs::create_dir_all(dir)?;
                Arc::new(object_store::local::LocalFileSystem::new_with_prefix(dir)?)
            }
            PhotoLocation::S3 { bucket, prefix } => {
                let s3 = object_store::aws::AmazonS3Builder::from_env()
                    .with_bucket_name(bucket)
                    .build()?;
                if prefix.is_empty() {
                    Arc::new(s3)
                } else {
                    Arc::new(object_store::prefix::PrefixStore::new(s3, prefix.as_str()))
                }
            }
        };
        // A write and a delete, not a read: a missing bucket and a missing
        // key both read as "not found", and the server needs to write.
        // The client retries an unreachable endpoint for minutes; an
        // administrator starting a server wants the answer sooner.
        let probe = async {
            let key = Path::from("staging/probe");
            objects.put(&key, PutPayload::from_static(b"pyck")).await?;
            objects.delete(&key).await
        };
        match tokio::time::timeout(PROBE_TIMEOUT, probe).await {
            Ok(Ok(())) => {}
            // The store's message already holds its causes: once is enough.
            Ok(Err(e)) => anyhow::bail!("{e}"),
            Err(_) => anyhow::bail!("no answer within {} s", PROBE_TIMEOUT.as_secs()),
        }
        Ok(Self::new(objects, max_bytes))
    }

    /// Photos in memory: an embedded server that keeps none (the demo).
    pub fn in_memory() -> Self {
        Self::new(
            Arc::new(object_store::memory::InMemory::new()),
            pyck_vocab::attachments::MAX_PHOTO_BYTES,
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
        // The whole container is walked (linear, no pixels decoded), not
        // just its first bytes: a JPEG's magic number followed by a page
        // is no photo.
        let verdict = if received != size || bytes.len() as u64 != size {
            Err(format!("received {received} bytes of {size}"))
        } else if digest != sha {
            Err(format!(
                "the bytes hash to {digest}, not to the name {sha}: upload it again"
            ))
        } else {
            check_photo(&bytes).map_err(|e| format!("photo {sha} is {e}"))
        };
        let kind = match verdict {
            Ok(kind) => kind,
            Err(why) => {
                self.drop_staged(&chunks).await;
                return Err(UploadError::Rejected(why));
            }
        };
        self.objects
            .put(&Self::final_path(tenant, sha), PutPayload::from(bytes))
            .await?;
        storage
            .store_attachment(
                tenant,
                &Attachment {
                    sha256: sha.to_owned(),
                    size,
                    content_type: kind.content_type().to_owned(),
                },
            )
            .await?;
        self.drop_staged(&chunks).await;
        Ok(UploadState {
            received: size,
            complete: true,
        })
    }

    /// Removes staged chunks written more than `older_than` ago: uploads a
    /// device gave up on (a lost handheld, a photo deleted before its
    /// sync). A device that comes back resumes from what is left, or from
    /// the start. Finished photos are never touched. Returns how many
    /// chunks went.
    pub async fn expire_staged(&self, older_than: std::time::Duration) -> anyhow::Result<usize> {
        let cutoff = chrono::Utc::now() - chrono::Duration::from_std(older_than)?;
        let old: Vec<Path> = self
            .objects
            .list(Some(&Path::from("staging")))
            .try_filter_map(|meta| async move {
                Ok((meta.last_modified < cutoff).then_some(meta.location))
            })
            .try_collect()
            .await?;
        for path in &old {
            self.objects.delete(path).await?;
        }
        Ok(old.len())
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

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn abandoned_staged_chunks_expire_and_photos_stay() {
        let dir = tempfile::tempdir().unwrap();
        let photos = PhotoStore::open(&PhotoLocation::Dir(dir.path().into()), 1000)
            .await
            .unwrap();
        let sha = "ab".repeat(32);
        let chunk = PhotoStore::staging(1, &sha).join("00000000000000000000");
        let photo = PhotoStore::final_path(1, &sha);
        for key in [&chunk, &photo] {
            photos
                .objects
                .put(key, PutPayload::from_static(b"bytes"))
                .await
                .unwrap();
        }
        let hour = std::time::Duration::from_secs(3600);
        assert_eq!(photos.expire_staged(hour).await.unwrap(), 0, "too young");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        let gone = photos
            .expire_staged(std::time::Duration::from_millis(10))
            .await
            .unwrap();
        assert_eq!(gone, 1);
        assert!(photos.objects.head(&chunk).await.is_err(), "chunk removed");
        assert!(photos.objects.head(&photo).await.is_ok(), "photo kept");
    }

    #[test]
    fn an_s3_url_names_a_bucket_and_a_prefix() {
        assert_eq!(
            "s3://wh-photos/pyck/prod/".parse(),
            Ok(PhotoLocation::S3 {
                bucket: "wh-photos".into(),
                prefix: "pyck/prod".into()
            })
        );
        assert_eq!(
            "s3://wh-photos"
                .parse::<PhotoLocation>()
                .map(|l| l.to_string()),
            Ok("s3://wh-photos".into())
        );
    }

    #[test]
    fn anything_else_is_a_directory() {
        assert_eq!(
            "/var/lib/pyck/photos".parse(),
            Ok(PhotoLocation::Dir("/var/lib/pyck/photos".into()))
        );
    }

    #[test]
    fn bad_locations_say_what_was_expected() {
        for bad in [
            "",
            "s3://",
            "s3://Photos",
            "s3://-x-",
            "gs://bucket",
            "s3://a",
        ] {
            let err = bad.parse::<PhotoLocation>().unwrap_err();
            assert!(
                err.contains("expected") || err.contains("bucket"),
                "{bad}: {err}"
            );
        }
    }
}
