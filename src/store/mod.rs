//! The terminal's local store: one SQLite file holding the journal (this
//! device's operations) and the replica (what pulls brought).
//!
//! "Recorded" means committed here: WAL with `synchronous=FULL`, so a commit
//! has reached the disk before the terminal says so, and `kill -9` at any
//! instant leaves either the whole transaction or none of it.

pub mod attachments;
pub mod identity;
pub mod journal;
pub mod replica;
pub mod reserve;
pub mod session;
pub mod view;
pub mod work;

use std::path::Path;
use std::time::Duration;

use anyhow::Context;
use chrono::{DateTime, SecondsFormat, Utc};
use rusqlite::{Connection, OptionalExtension, params};
use rusqlite_migration::{M, Migrations};

const MIGRATIONS_SLICE: &[M<'static>] = &[
    M::up(include_str!("migrations/0001_initial.sql")),
    M::up(include_str!("migrations/0002_gtins_by_sku.sql")),
    M::up(include_str!("migrations/0003_journal_not_in_replica.sql")),
    M::up(include_str!("migrations/0004_attachments.sql")),
    M::up(include_str!("migrations/0005_journal_compaction.sql")),
    M::up(include_str!("migrations/0006_replica_through.sql")),
];
const MIGRATIONS: Migrations<'static> = Migrations::from_slice(MIGRATIONS_SLICE);

pub struct Store {
    conn: Connection,
    /// Where this device's config is, when the store was opened as the
    /// terminal's own ([`identity::open`]): recording raises the highest
    /// sequence remembered there.
    pub(crate) home: Option<crate::config::Paths>,
}

impl Store {
    pub fn open(path: &Path) -> anyhow::Result<Store> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("while creating {}", dir.display()))?;
        }
        // Operators' PIN hashes and the journal: the owner's alone.
        pyck_vocab::private_file::make_private(path)
            .with_context(|| format!("while creating {}", path.display()))?;
        let mut conn =
            Connection::open(path).with_context(|| format!("while opening {}", path.display()))?;
        // Another pyck process may hold the write lock for a moment (two
        // scripts on one PYCK_HOME): wait for it rather than fail.
        conn.busy_timeout(Duration::from_secs(30))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        // A file of 10,000 rows dirties about 4 MiB of journal pages, and
        // settling a push batch as many: in SQLite's default 2 MiB cache they
        // spill into the WAL before the commit and are written twice (issue
        // 21). Up to 32 MiB, taken only as pages are used.
        conn.pragma_update(None, "cache_size", -32_768)?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        let found: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
        if found > MIGRATIONS_SLICE.len() as i64 {
            anyhow::bail!(
                "{} was written by a newer pyck (schema {found}); update pyck",
                path.display()
            );
        }
        MIGRATIONS
            .to_latest(&mut conn)
            .with_context(|| format!("while migrating {}", path.display()))?;
        Ok(Store { conn, home: None })
    }

    pub fn conn(&self) -> &Connection {
        &self.conn
    }

    pub fn conn_mut(&mut self) -> &mut Connection {
        &mut self.conn
    }

    pub fn meta(&self, key: &str) -> anyhow::Result<Option<String>> {
        meta(&self.conn, key)
    }

    pub fn set_meta(&self, key: &str, value: &str) -> anyhow::Result<()> {
        set_meta(&self.conn, key, value)
    }
}

pub fn meta(conn: &Connection, key: &str) -> anyhow::Result<Option<String>> {
    Ok(conn
        .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
        .optional()?)
}

pub fn set_meta(conn: &Connection, key: &str, value: &str) -> anyhow::Result<()> {
    conn.execute(
        "INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        params![key, value],
    )?;
    Ok(())
}

pub fn ts(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Micros, true)
}

pub fn parse_ts(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_are_valid() {
        MIGRATIONS.validate().unwrap();
    }
}
