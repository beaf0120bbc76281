//! Room kept on the disk for the sync.
//!
//! On a full disk the server may already hold every operation a terminal
//! sent, yet the terminal cannot write down that it does: settling the
//! journal, and even opening the store (SQLite recreates its WAL and
//! shared-memory files), needs a few pages. Without them every later sync
//! re-sends the same batch and fails the same way. So the terminal keeps a
//! file of [`RESERVE_BYTES`] beside its store; a sync that hits a full disk
//! gives it back to the file system and tries once more, and a whole sync
//! with room to spare puts it back. Recording never uses it: a full disk
//! stops recording first (the person is told), never settlement.

use std::fs::{self, File};
use std::io::Write;
use std::path::PathBuf;

use crate::config::Paths;

/// Enough for SQLite to reopen the store and settle a push batch of 20,000
/// operations (about 5 MB of journal pages through the WAL, beside a WAL of
/// up to 4 MB not yet checkpointed), with room to spare; small beside a
/// handheld's storage.
pub const RESERVE_BYTES: u64 = 16 << 20;

fn file(paths: &Paths) -> PathBuf {
    paths.data_dir.join("pyck.reserve")
}

/// Whether the reserve is there, whole.
pub fn held(paths: &Paths) -> bool {
    fs::metadata(file(paths)).is_ok_and(|m| m.len() == RESERVE_BYTES)
}

/// Puts the reserve in place if it is not. A disk without the room leaves
/// it out (the next whole sync tries again): never an error of its own.
pub fn ensure(paths: &Paths) {
    if held(paths) {
        return;
    }
    let target = file(paths);
    let part = target.with_extension("reserve-part");
    // Real blocks, not a sparse file (`set_len`), so the room is taken now.
    let written = (|| -> std::io::Result<()> {
        let mut f = File::create(&part)?;
        let chunk = vec![0u8; 64 * 1024];
        let mut left = RESERVE_BYTES;
        while left > 0 {
            let n = left.min(chunk.len() as u64) as usize;
            f.write_all(&chunk[..n])?;
            left -= n as u64;
        }
        f.sync_all()?;
        fs::rename(&part, &target)
    })();
    if written.is_err() {
        let _ = fs::remove_file(&part);
    }
}

/// Gives the reserve back to the file system; whether there was one.
pub fn release(paths: &Paths) -> bool {
    fs::remove_file(file(paths)).is_ok()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn ensure_holds_real_blocks_and_release_gives_them_back_once() {
        let dir = tempfile::tempdir().unwrap();
        let paths = Paths {
            config_dir: dir.path().to_owned(),
            data_dir: dir.path().to_owned(),
        };
        assert!(!held(&paths));
        ensure(&paths);
        assert!(held(&paths));
        let meta = fs::metadata(file(&paths)).unwrap();
        // Allocated, not sparse: 512-byte blocks cover the length.
        assert!(std::os::unix::fs::MetadataExt::blocks(&meta) * 512 >= RESERVE_BYTES);
        assert!(release(&paths));
        assert!(!release(&paths));
        assert!(!held(&paths));
    }
}
