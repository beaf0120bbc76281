//! Where the terminal keeps its state, and its small config file.
//!
//! `PYCK_HOME` puts everything in one directory (several terminals on one
//! machine, tests); otherwise the platform's config and data directories.

use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::CliError;

#[derive(Debug, Clone)]
pub struct Paths {
    pub config_dir: PathBuf,
    pub data_dir: PathBuf,
}

impl Paths {
    pub fn resolve() -> anyhow::Result<Paths> {
        if let Some(home) = std::env::var_os("PYCK_HOME").filter(|h| !h.is_empty()) {
            let home = PathBuf::from(home);
            return Ok(Paths {
                config_dir: home.clone(),
                data_dir: home,
            });
        }
        let dirs = directories::ProjectDirs::from("", "", "pyck")
            .context("cannot find a home directory; set PYCK_HOME")?;
        Ok(Paths {
            config_dir: dirs.config_dir().to_owned(),
            data_dir: dirs.data_dir().to_owned(),
        })
    }

    pub fn config_file(&self) -> PathBuf {
        self.config_dir.join("config.json")
    }

    pub fn store_file(&self) -> PathBuf {
        self.data_dir.join("pyck.sqlite3")
    }
}

/// What `pyck init` registered. Holds the device token: written owner-only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Config {
    pub server: String,
    pub token: String,
    pub device: Uuid,
    /// PEM certificates of a CA trusted on top of the system's (`init --ca`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca: Option<String>,
    /// The text this site's scanners send instead of the GS1 separator
    /// (`init --gs-substitute`), turned into GS in GS1 scans.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gs_substitute: Option<String>,
    /// The id of this terminal's store (`store_id` in its meta), so a store
    /// replaced by another file is told apart from this one. Absent in a
    /// config written before stores had ids: adopted at the next open.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub store: Option<Uuid>,
    /// The highest sequence number this device is known to have used: the
    /// last one recorded here or the last one the server settled, whichever
    /// is higher. A store whose journal ends below it lost operations
    /// (docs/OPERATIONS.md, "A store that lost its journal").
    #[serde(default)]
    pub last_seq: u64,
}

impl Config {
    /// A scan as the GS1 reader should see it: this site's substitute for
    /// the separator (if any) turned into GS when the scan is GS1 data.
    /// The scanner UI and the commands both read scans through it.
    pub fn normalize_scan<'a>(&self, scan: &'a str) -> std::borrow::Cow<'a, str> {
        pyck_vocab::gs1::normalize_separators(
            scan,
            self.gs_substitute.as_deref(),
            chrono::Local::now().date_naive(),
        )
    }

    pub fn load(paths: &Paths) -> anyhow::Result<Option<Config>> {
        let file = paths.config_file();
        match std::fs::read_to_string(&file) {
            Ok(text) => {
                Ok(Some(serde_json::from_str(&text).with_context(|| {
                    format!("while reading {}", file.display())
                })?))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e).with_context(|| format!("while reading {}", file.display())),
        }
    }

    /// The config, or the "not initialised" error (exit 6).
    pub fn require(paths: &Paths) -> anyhow::Result<Config> {
        Config::load(paths)?.ok_or_else(|| {
            CliError::NotInitialised(
                "this terminal is not initialised: run `pyck init --enrol CODE` (or `pyck init \
                 --server URL --token TOKEN`), or scan the code on the scanner UI's first screen"
                    .into(),
            )
            .into()
        })
    }

    pub fn save(&self, paths: &Paths) -> anyhow::Result<()> {
        std::fs::create_dir_all(&paths.config_dir)?;
        let file = paths.config_file();
        // A name of its own: two pyck processes saving at once must never
        // rename the other's half-written file into place.
        let tmp = file.with_extension(format!("json.{}.tmp", Uuid::now_v7().simple()));
        let written = write_private(&tmp, serde_json::to_string_pretty(self)?.as_bytes())
            .and_then(|()| Ok(std::fs::rename(&tmp, &file)?));
        if written.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        written.with_context(|| format!("while writing {}", file.display()))
    }

    /// Raises the remembered highest sequence to `seq` (never lowers it).
    /// Best effort: a config left behind the store is harmless (only a
    /// store behind the config is refused), so a full disk does not fail a
    /// recording that is already committed.
    pub fn note_seq(paths: &Paths, seq: u64) {
        if let Ok(Some(mut config)) = Config::load(paths)
            && config.last_seq < seq
        {
            config.last_seq = seq;
            let _ = config.save(paths);
        }
    }
}

#[cfg(unix)]
fn write_private(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(bytes)?;
    f.sync_all()?;
    Ok(())
}

#[cfg(not(unix))]
fn write_private(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    std::fs::write(path, bytes)?;
    Ok(())
}
