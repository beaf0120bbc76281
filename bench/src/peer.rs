//! The peer: PouchDB replicating the same number of operation-shaped
//! documents to express-pouchdb over loopback (`bench/pouchdb/peer.js`), in
//! the same harness run as pyck's push, so the ratio compares like with like.

use std::path::Path;
use std::process::Command;

use anyhow::Context;
use serde::Deserialize;

use crate::world::checked;

#[derive(Debug, Clone, Deserialize)]
pub struct PeerRun {
    pub docs: u64,
    pub docs_per_s: f64,
    pub wire_bytes_in: u64,
    pub wire_bytes_out: u64,
    pub versions: serde_json::Value,
}

#[derive(Debug, Default, Clone)]
pub struct PeerResult {
    pub runs: Vec<PeerRun>,
}

impl PeerResult {
    pub fn rates(&self) -> Vec<f64> {
        self.runs.iter().map(|r| r.docs_per_s).collect()
    }

    pub fn versions(&self) -> String {
        let Some(v) = self.runs.first().and_then(|r| r.versions.as_object()) else {
            return String::new();
        };
        v.iter()
            .map(|(k, v)| format!("{k} {}", v.as_str().unwrap_or("?")))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Installs the peer's npm packages from its lockfile when they are missing
/// or older than the lockfile.
fn install(dir: &Path) -> anyhow::Result<()> {
    let lock = dir.join("package-lock.json");
    let installed = dir.join("node_modules/.package-lock.json");
    let fresh = match (std::fs::metadata(&lock), std::fs::metadata(&installed)) {
        (Ok(l), Ok(i)) => match (l.modified(), i.modified()) {
            (Ok(l), Ok(i)) => i >= l,
            _ => false,
        },
        _ => false,
    };
    if fresh {
        return Ok(());
    }
    eprintln!("pyck-bench: npm ci in {}", dir.display());
    checked(
        Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
            .current_dir(dir),
        "npm ci (node and npm are needed for the PouchDB peer)",
    )?;
    Ok(())
}

pub fn run(dir: &Path, docs: usize, runs: usize) -> anyhow::Result<PeerResult> {
    install(dir)?;
    let mut out = PeerResult::default();
    for _ in 0..runs {
        let output = checked(
            Command::new("node")
                .arg("peer.js")
                .args(["--docs", &docs.to_string()])
                .current_dir(dir),
            "node peer.js",
        )?;
        let text = String::from_utf8_lossy(&output.stdout);
        let line = text.lines().last().context("peer.js printed nothing")?;
        let run: PeerRun =
            serde_json::from_str(line).with_context(|| format!("peer.js printed {line:?}"))?;
        anyhow::ensure!(
            run.docs == docs as u64,
            "peer.js replicated {} documents, not {docs}",
            run.docs
        );
        out.runs.push(run);
    }
    Ok(out)
}
