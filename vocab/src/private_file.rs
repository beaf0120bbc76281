//! Files only their owner may read: the terminal's store (its operators'
//! PIN hashes, the journal) and the server's SQLite database and backups
//! (every tenant's hashes and ledger). A default umask would leave them
//! readable by every user of the machine.

use std::path::Path;

/// Creates `path` empty with mode 0600 when it does not exist, and takes
/// the group's and others' permissions off one that does. SQLite gives the
/// `-wal` and `-shm` files it creates the database file's permissions, so
/// making the database private before opening it covers them too.
#[cfg(unix)]
pub fn make_private(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
    {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            let mode = std::fs::metadata(path)?.permissions().mode();
            if mode & 0o077 != 0 {
                std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode & 0o700))?;
            }
            Ok(())
        }
        Err(e) => Err(e),
    }
}

/// Elsewhere the platform's defaults apply.
#[cfg(not(unix))]
pub fn make_private(_path: &Path) -> std::io::Result<()> {
    Ok(())
}

#[cfg(all(test, unix))]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::os::unix::fs::PermissionsExt;

    use super::*;

    #[test]
    fn new_files_are_0600_and_open_ones_are_closed() {
        let dir = tempfile::tempdir().unwrap();
        let new = dir.path().join("new.sqlite3");
        make_private(&new).unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&new), 0o600);
        let old = dir.path().join("old.sqlite3");
        std::fs::write(&old, b"kept").unwrap();
        std::fs::set_permissions(&old, std::fs::Permissions::from_mode(0o644)).unwrap();
        make_private(&old).unwrap();
        assert_eq!(mode(&old), 0o600);
        assert_eq!(std::fs::read(&old).unwrap(), b"kept");
    }
}
