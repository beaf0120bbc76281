//! What the numbers were measured on.

use std::io::Write;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::stats::percentile;

#[derive(Debug, Clone)]
pub struct Machine {
    pub cpus: usize,
    pub cpu_model: String,
    pub memory: String,
    pub kernel: String,
    pub rustc: String,
    pub node: String,
    /// File system of the scratch directory (fsync costs depend on it).
    pub scratch_fs: String,
    pub commit: String,
}

/// How long the scratch disk takes to make a 4 KiB write durable (write +
/// fdatasync), p50 and p99 of `n` in µs: the floor under every durable
/// commit measured, and the figure that moves most when other work shares
/// the disk.
pub fn fsync_latency(dir: &Path, n: usize) -> anyhow::Result<(f64, f64)> {
    let path = dir.join("fsync-probe");
    let mut file = std::fs::File::create(&path)?;
    let block = [0x5au8; 4096];
    let mut samples: Vec<Duration> = Vec::with_capacity(n);
    for _ in 0..n {
        let start = Instant::now();
        file.write_all(&block)?;
        file.sync_data()?;
        samples.push(start.elapsed());
    }
    drop(file);
    std::fs::remove_file(&path)?;
    let us = |d: Duration| d.as_secs_f64() * 1e6;
    Ok((
        us(percentile(&samples, 50.0)),
        us(percentile(&samples, 99.0)),
    ))
}

fn first_line(program: &str, args: &[&str]) -> String {
    Command::new(program)
        .args(args)
        .output()
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .next()
                .map(|l| l.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown".to_owned())
}

impl Machine {
    pub fn probe(scratch: &Path) -> Machine {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let cpu_model = cpuinfo
            .lines()
            .find_map(|l| l.strip_prefix("model name"))
            .and_then(|l| l.split_once(':'))
            .map_or_else(|| "unknown".to_owned(), |(_, m)| m.trim().to_owned());
        let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
        let memory = meminfo
            .lines()
            .find_map(|l| l.strip_prefix("MemTotal:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .map_or_else(
                || "unknown".to_owned(),
                |kib| format!("{:.1} GiB", kib as f64 / (1024.0 * 1024.0)),
            );
        let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
            .map_or_else(|_| "unknown".to_owned(), |k| k.trim().to_owned());
        let dirty = Command::new("git")
            .args(["status", "--porcelain", "--untracked-files=no"])
            .output()
            .ok()
            .is_some_and(|o| !o.stdout.is_empty());
        let commit = first_line("git", &["rev-parse", "--short", "HEAD"]);
        Machine {
            cpus: std::thread::available_parallelism().map_or(0, |n| n.get()),
            cpu_model,
            memory,
            kernel,
            rustc: first_line("rustc", &["--version"]),
            node: first_line("node", &["--version"]),
            scratch_fs: Command::new("df")
                .args(["--output=fstype,source"])
                .arg(scratch)
                .output()
                .ok()
                .and_then(|o| {
                    String::from_utf8_lossy(&o.stdout)
                        .lines()
                        .nth(1)
                        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" on "))
                })
                .unwrap_or_else(|| "unknown".to_owned()),
            commit: if dirty {
                format!("{commit} (with uncommitted changes)")
            } else {
                commit
            },
        }
    }
}
