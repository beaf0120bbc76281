//! The terminal knows its own history: its store is checked against what
//! `config.json` remembers before anything is read or recorded.
//!
//! A store has a random id (`store_id` in its meta), written when it is
//! made; the config keeps that id and the highest sequence number the device
//! is known to have used (raised after each recording and by what the server
//! says it settled). A store that is missing, emptied, another file, or an
//! older copy of this one would otherwise start over without a word: its
//! pending operations never reach the server and the next ones collide with
//! sequence numbers the server already holds. Such a store is refused (exit
//! 8) with what to do; nothing is ever made anew in its place, except by
//! `pyck init --start-over`, which moves the old file aside.

use std::path::Path;

use uuid::Uuid;

use super::{Store, journal};
use crate::config::{Config, Paths};
use crate::error::CliError;

/// Store meta key: the store's random id.
pub const STORE_ID: &str = "store_id";

/// Opens the terminal's own store. Without a config (a machine before its
/// first `pyck init`) the store is made if needed; with one, it must be the
/// store the config remembers, holding every sequence number the device
/// used.
pub fn open(paths: &Paths) -> anyhow::Result<Store> {
    let file = paths.store_file();
    let config = Config::load(paths)?;
    if let Some(config) = &config
        && is_missing_or_empty(&file)
    {
        let what = if file.exists() { "empty" } else { "missing" };
        return Err(lost(paths, config, &format!("it is {what}")));
    }
    let mut store = Store::open(&file)?;
    let id = ensure_id(&store)?;
    if let Some(config) = config {
        match config.store {
            Some(remembered) if remembered != id => {
                return Err(lost(
                    paths,
                    &config,
                    &format!("it is another store (id {id}, this device's is {remembered})"),
                ));
            }
            Some(_) => {}
            // A config from before stores had ids: adopt this one (best
            // effort; the next open tries again).
            None => {
                let _ = Config {
                    store: Some(id),
                    ..config.clone()
                }
                .save(paths);
            }
        }
        let holds = journal::last_seq(store.conn())?;
        if holds < config.last_seq {
            return Err(lost(
                paths,
                &config,
                &format!(
                    "its journal ends at operation {holds}, but this device used numbers up to {} \
                     (an older copy)",
                    config.last_seq
                ),
            ));
        }
    }
    store.home = Some(paths.clone());
    Ok(store)
}

/// The store's id, given one if it has none (a store made before ids).
pub fn ensure_id(store: &Store) -> anyhow::Result<Uuid> {
    if let Some(id) = store.meta(STORE_ID)?.and_then(|s| Uuid::parse_str(&s).ok()) {
        return Ok(id);
    }
    let id = Uuid::now_v7();
    store.set_meta(STORE_ID, &id.to_string())?;
    Ok(id)
}

/// A store file with nothing in it: absent, or zero bytes with no
/// write-ahead log beside it (a store SQLite has written to always has its
/// header in one of the two).
fn is_missing_or_empty(file: &Path) -> bool {
    let len = |p: &Path| std::fs::metadata(p).map(|m| m.len()).ok();
    match len(file) {
        None => true,
        Some(0) => {
            let mut wal = file.as_os_str().to_owned();
            wal.push("-wal");
            len(Path::new(&wal)).unwrap_or(0) == 0
        }
        Some(_) => false,
    }
}

/// The refusal: which file, why, and the two ways out.
pub fn lost(paths: &Paths, config: &Config, why: &str) -> anyhow::Error {
    CliError::StoreLost(format!(
        "the terminal's store {} is not this device's journal: {why}. Device {} has used \
         operation numbers up to {}; operations recorded here and not yet synced may be lost. \
         Nothing was read or recorded. Restore {} from a backup of this terminal (with its \
         -wal file), or start over with `pyck init --server {} --token TOKEN --start-over`, \
         which keeps the old file beside it and numbers new operations after the server's \
         (docs/OPERATIONS.md, \"A store that lost its journal\")",
        paths.store_file().display(),
        config.device,
        config.last_seq,
        paths.store_file().display(),
        config.server,
    ))
    .into()
}

/// The server settled operations of this device up to `server_seq`, beyond
/// the journal's end: this journal lost them (an older copy, or a store
/// made anew). Remembered in the config, so every later command refuses the
/// store too instead of recording operations the server would refuse as
/// `seq_conflict`.
pub fn behind_server(store: &Store, config: &Config, server_seq: u64) -> anyhow::Result<()> {
    let holds = journal::last_seq(store.conn())?;
    if server_seq <= holds {
        return Ok(());
    }
    let mut config = config.clone();
    if let Some(paths) = &store.home {
        Config::note_seq(paths, server_seq);
        config = Config::load(paths)?.unwrap_or(config);
    }
    config.last_seq = config.last_seq.max(server_seq);
    let paths = match &store.home {
        Some(paths) => paths.clone(),
        None => {
            return Err(anyhow::anyhow!(
                "the server settled operations of this device up to {server_seq}, but the journal ends at {holds}"
            ));
        }
    };
    Err(lost(
        &paths,
        &config,
        &format!(
            "the server settled operations of this device up to {server_seq}, but the journal \
             ends at {holds}"
        ),
    ))
}

/// Whether `err` is a store refused by [`open`].
pub fn is_lost(err: &anyhow::Error) -> bool {
    err.chain()
        .any(|e| matches!(e.downcast_ref::<CliError>(), Some(CliError::StoreLost(_))))
}

/// A new, empty store in place of the old file, which is kept beside it as
/// `pyck.sqlite3.lost-<time>` (with its -wal and -shm files) when there is
/// one; `pyck init --start-over` and a change of device only.
pub fn start_over(paths: &Paths) -> anyhow::Result<(Store, Option<std::path::PathBuf>)> {
    let file = paths.store_file();
    let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%SZ");
    let mut aside = None;
    for suffix in ["", "-wal", "-shm"] {
        let mut from = file.as_os_str().to_owned();
        from.push(suffix);
        let from = std::path::PathBuf::from(from);
        if !from.exists() {
            continue;
        }
        let mut to = file.as_os_str().to_owned();
        to.push(format!(".lost-{stamp}{suffix}"));
        let to = std::path::PathBuf::from(to);
        std::fs::rename(&from, &to).map_err(|e| {
            anyhow::anyhow!(
                "while moving {} aside to {}: {e}",
                from.display(),
                to.display()
            )
        })?;
        if suffix.is_empty() {
            aside = Some(to);
        }
    }
    let mut store = Store::open(&file)?;
    ensure_id(&store)?;
    store.home = Some(paths.clone());
    Ok((store, aside))
}
