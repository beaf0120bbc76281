//! docs/BENCHMARKS.md: what was run, on what machine, the numbers with the
//! peer's from the same run, and each target met or not.

use std::fmt::Write as _;
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::machine::Machine;
use crate::peer::PeerResult;
use crate::scenarios::{FirstSyncResult, LoadResult, Plan, PushResult, RecordResult, ScalePoint};
use crate::stats::Summary;
use crate::world::Backend;

/// The outcome of a scenario left out with `--only`.
pub const SKIPPED: &str = "skipped (--only)";

/// A scenario's result, or why it has none.
pub type Outcome<T> = Result<T, String>;

pub struct Results {
    pub machine: Machine,
    pub plan: Plan,
    pub bin_dir: String,
    pub started: DateTime<Utc>,
    pub elapsed: Duration,
    /// fsync latency of the scratch disk (p50, p99 µs), at the start and at
    /// the end of the run.
    pub fsync: [Outcome<(f64, f64)>; 2],
    /// How the PostgreSQL server commits, or why there is none.
    pub postgres: Outcome<String>,
    pub record: Outcome<RecordResult>,
    pub push: Vec<(Backend, Outcome<PushResult>)>,
    pub peer: Outcome<PeerResult>,
    pub first_sync: Outcome<FirstSyncResult>,
    pub load: Vec<(Backend, Outcome<LoadResult>)>,
    pub scaling: Vec<(Backend, Outcome<Vec<ScalePoint>>)>,
    /// bench/NOTES.md: the analysis written by people, kept with the numbers.
    pub notes: Option<String>,
}

impl Results {
    /// Scenarios that failed, for the exit status.
    pub fn failures(&self) -> Vec<String> {
        let mut out = Vec::new();
        let mut note = |what: &str, e: Option<&String>| {
            if let Some(e) = e.filter(|e| !e.ends_with(SKIPPED)) {
                out.push(format!("{what}: {e}"));
            }
        };
        note("record", self.record.as_ref().err());
        note("peer", self.peer.as_ref().err());
        note("first sync", self.first_sync.as_ref().err());
        for (b, r) in &self.push {
            note(&format!("push to {}", b.name()), r.as_ref().err());
        }
        for (b, r) in &self.load {
            note(&format!("load on {}", b.name()), r.as_ref().err());
        }
        for (b, r) in &self.scaling {
            note(&format!("scaling on {}", b.name()), r.as_ref().err());
        }
        out
    }
}

/// The heading every report's table starts with (the smoke run checks it).
/// Issue 21's targets ("Speed to the limit").
const RECORD_TARGET: f64 = 150_000.0;
const FIRST_SYNC_TARGET_S: f64 = 1.0;

/// A push of pending operations: at least this many ops/s, and, on SQLite,
/// at least this many times the peer's rate in the same run.
fn push_target(backend: Backend) -> (f64, Option<f64>) {
    match backend {
        Backend::Sqlite => (50_000.0, Some(15.0)),
        Backend::Postgres => (35_000.0, None),
    }
}

/// The rate a push must reach, given the peer's in the same run; none
/// when it depends on a peer that was not measured.
fn push_goal(backend: Backend, peer: Option<f64>) -> Option<f64> {
    match push_target(backend) {
        (floor, Some(x)) => peer.map(|p| (p * x).max(floor)),
        (floor, None) => Some(floor),
    }
}

/// Many devices syncing at once: at least this many ops/s in all.
fn load_target(backend: Backend) -> f64 {
    match backend {
        Backend::Sqlite => 40_000.0,
        Backend::Postgres => 30_000.0,
    }
}

pub const TABLE_HEADER: &str = "| # | figure | pyck (median) | min – max | target | met? |";

struct Table {
    rows: Vec<[String; 6]>,
}

impl Table {
    fn row(&mut self, n: &str, figure: &str, value: String, range: String, target: &str, met: Met) {
        self.rows.push([
            n.to_owned(),
            figure.to_owned(),
            value,
            range,
            target.to_owned(),
            met.to_string(),
        ]);
    }

    fn failed(&mut self, n: &str, figure: &str, why: &str) {
        self.rows.push([
            n.to_owned(),
            figure.to_owned(),
            format!("not measured: {}", one_line(why)),
            String::new(),
            String::new(),
            "—".to_owned(),
        ]);
    }
}

#[derive(Clone, Copy)]
enum Met {
    NoTarget,
    Yes,
    No,
}

impl Met {
    fn of(ok: bool) -> Met {
        if ok { Met::Yes } else { Met::No }
    }
}

impl std::fmt::Display for Met {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Met::NoTarget => "",
            Met::Yes => "yes",
            Met::No => "**no**",
        })
    }
}

fn one_line(s: &str) -> String {
    let s = s.replace(['\n', '|'], " ");
    if s.len() > 300 {
        let mut end = 300;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        format!("{}…", &s[..end])
    } else {
        s
    }
}

/// 1234567.8 → "1,234,568".
pub fn thousands(v: f64) -> String {
    if !v.is_finite() {
        return "n/a".to_owned();
    }
    let n = v.round() as i64;
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 { format!("-{out}") } else { out }
}

fn bytes(v: f64) -> String {
    if v >= 1e6 {
        format!("{:.1} MB", v / 1e6)
    } else if v >= 1e3 {
        format!("{:.1} kB", v / 1e3)
    } else {
        format!("{v:.0} B")
    }
}

fn secs(v: f64) -> String {
    if v >= 10.0 {
        format!("{v:.1} s")
    } else if v >= 0.1 {
        format!("{v:.2} s")
    } else {
        format!("{:.1} ms", v * 1e3)
    }
}

/// The row of a path's limit: the same work done in the harness's own
/// process (no process start, no parsing, no report), and what share of it
/// the whole command reaches (`reached`, its median).
fn limit_row(
    t: &mut Table,
    n: &str,
    figure: &str,
    limit: &[f64],
    reached: Option<Summary>,
    command: &str,
) {
    let Some(limit) = Summary::of(limit) else {
        return;
    };
    let (v, range) = fmt_with(Some(limit), rate);
    let share = reached.map_or_else(String::new, |s| {
        format!(
            "; {command} reaches {:.0} % of it",
            100.0 * s.median / limit.median
        )
    });
    t.row(n, &format!("{figure}{share}"), v, range, "", Met::NoTarget);
}

fn fmt_with(s: Option<Summary>, f: impl Fn(f64) -> String) -> (String, String) {
    match s {
        Some(s) if s.runs > 1 => (f(s.median), format!("{} – {}", f(s.min), f(s.max))),
        Some(s) => (f(s.median), "(1 run)".to_owned()),
        None => ("n/a".to_owned(), String::new()),
    }
}

fn rate(v: f64) -> String {
    format!("{} ops/s", thousands(v))
}

fn pick<T>(v: &[(f64, f64)], f: impl Fn(&(f64, f64)) -> T) -> Vec<T> {
    v.iter().map(f).collect()
}

pub fn render(r: &Results) -> String {
    let plan = &r.plan;
    let mut t = Table { rows: Vec::new() };
    let peer_median = r
        .peer
        .as_ref()
        .ok()
        .and_then(|p| Summary::of(&p.rates()))
        .map(|s| s.median);

    // 1. Record.
    match &r.record {
        Ok(rec) => {
            let s = Summary::of(&rec.file_rate);
            let (v, range) = fmt_with(s, rate);
            t.row(
                "1",
                &format!(
                    "Record: `pyck move --file` of {} rows",
                    thousands(plan.file_rows as f64)
                ),
                v,
                range,
                "≥ 150,000 ops/s",
                s.map_or(Met::No, |s| Met::of(s.median >= RECORD_TARGET)),
            );
            limit_row(
                &mut t,
                "1",
                "Record: the same rows into a copy of the store in process (open, one transaction, close), the path's limit",
                &rec.store_rate,
                s,
                "`pyck move --file`",
            );
            let ms = |v: f64| format!("{v:.1} ms");
            let (v, range) = fmt_with(Summary::of(&pick(&rec.single_ms, |p| p.0)), ms);
            t.row(
                "1",
                "Record: one `pyck move` process, p50",
                v,
                range,
                "",
                Met::NoTarget,
            );
            let (v, range) = fmt_with(Summary::of(&pick(&rec.single_ms, |p| p.1)), ms);
            t.row(
                "1",
                &format!(
                    "Record: one `pyck move` process, p99 (of {})",
                    plan.single_moves
                ),
                v,
                range,
                "",
                Met::NoTarget,
            );
            let us = |v: f64| format!("{} µs", thousands(v));
            let (v, range) = fmt_with(Summary::of(&pick(&rec.commit_us, |p| p.0)), us);
            t.row(
                "1",
                "Record: durable commit of one scan (in process), p50",
                v,
                range,
                "",
                Met::NoTarget,
            );
            let s = Summary::of(&pick(&rec.commit_us, |p| p.1));
            let (v, range) = fmt_with(s, us);
            t.row(
                "1",
                &format!(
                    "Record: durable commit of one scan (in process), p99 (of {})",
                    plan.scans
                ),
                v,
                range,
                "≤ 2,000 µs",
                s.map_or(Met::No, |s| Met::of(s.median <= 2_000.0)),
            );
        }
        Err(e) => t.failed("1", "Record", e),
    }

    // 2. Push, and 3. the peer.
    for (backend, push) in &r.push {
        let (floor, times_peer) = push_target(*backend);
        let target_rate = push_goal(*backend, peer_median);
        let figure = format!(
            "Push: {} pending ops by `pyck sync` → {}",
            thousands(plan.push_ops as f64),
            backend.name()
        );
        match push {
            Ok(p) => {
                let s = Summary::of(&p.rate);
                let (v, range) = fmt_with(s, rate);
                let target = match (times_peer, peer_median) {
                    (None, _) => format!("≥ {}", rate(floor)),
                    (Some(x), None) => {
                        format!("≥ {} and ≥ {x:.0} × peer (peer not measured)", rate(floor))
                    }
                    (Some(x), Some(p)) => {
                        format!("≥ {} and ≥ {x:.0} × peer = {}", rate(floor), rate(p * x))
                    }
                };
                let met = match (s, target_rate) {
                    (Some(s), Some(t)) => Met::of(s.median >= t),
                    _ => Met::No,
                };
                t.row("2", &figure, v, range, &target, met);
                if let (Some(s), Ok(peer)) = (s, &r.peer)
                    && let Some(ps) = Summary::of(&peer.rates())
                {
                    let ratio = s.median / ps.median;
                    t.row(
                        "2",
                        &format!("Push → {}: ratio to PouchDB (same run)", backend.name()),
                        format!("{ratio:.1}×"),
                        format!("{:.1}× – {:.1}×", s.min / ps.max, s.max / ps.min),
                        &times_peer.map_or_else(String::new, |x| format!("≥ {x:.0}×")),
                        times_peer.map_or(Met::NoTarget, |x| Met::of(ratio >= x)),
                    );
                }
                limit_row(
                    &mut t,
                    "2",
                    &format!(
                        "Push → {}: the same ops into the server's storage in process, the path's limit",
                        backend.name()
                    ),
                    &p.storage_rate,
                    s,
                    "`pyck sync`",
                );
                // What the server wrote to disk, then the WAL's share of it
                // (issue 21's target), each per request byte.
                let written = [
                    (
                        &p.disk_written,
                        "bytes the server wrote to disk per request byte (WAL and checkpoints)",
                        None,
                    ),
                    (
                        &p.wal_written,
                        "WAL bytes written per request byte (the above less the checkpoints)",
                        Some(4.0),
                    ),
                ];
                for (series, what, most) in written {
                    let (Some(w), Some(sent)) = (Summary::of(series), Summary::of(&p.bytes_sent))
                    else {
                        continue;
                    };
                    let per_byte = w.median / sent.median;
                    t.row(
                        "2",
                        &format!("Push → {}: {what}", backend.name()),
                        format!("{per_byte:.1}× ({})", bytes(w.median)),
                        format!("{:.1}× – {:.1}×", w.min / sent.median, w.max / sent.median),
                        &most.map_or_else(String::new, |m: f64| format!("≤ {m}×")),
                        most.map_or(Met::NoTarget, |m| Met::of(per_byte <= m)),
                    );
                }
                let sent = Summary::of(&p.bytes_sent);
                let recv = Summary::of(&p.bytes_received);
                let (vs, rs) = fmt_with(sent, bytes);
                let (vr, rr) = fmt_with(recv, bytes);
                t.row(
                    "2",
                    &format!("Push → {}: bytes sent / received (bodies)", backend.name()),
                    format!("{vs} / {vr}"),
                    format!("{rs} / {rr}"),
                    "",
                    Met::NoTarget,
                );
                t.row(
                    "2",
                    &format!("Push → {}: `pyck-server verify` afterwards", backend.name()),
                    if p.verified { "passes" } else { "FAILS" }.to_owned(),
                    String::new(),
                    "passes",
                    Met::of(p.verified),
                );
            }
            Err(e) => t.failed("2", &figure, e),
        }
    }
    let peer_figure = format!(
        "Peer: PouchDB → express-pouchdb, {} docs, loopback",
        thousands(plan.peer_docs as f64)
    );
    match &r.peer {
        Ok(p) => {
            let (v, range) = fmt_with(Summary::of(&p.rates()), |v| {
                format!("{} docs/s", thousands(v))
            });
            t.row("3", &peer_figure, v, range, "(the peer)", Met::NoTarget);
            let wire: Vec<f64> = p
                .runs
                .iter()
                .map(|r| (r.wire_bytes_in + r.wire_bytes_out) as f64)
                .collect();
            let (v, range) = fmt_with(Summary::of(&wire), bytes);
            t.row(
                "3",
                "Peer: bytes on the wire (both ways, with headers)",
                v,
                range,
                "",
                Met::NoTarget,
            );
        }
        Err(e) => t.failed("3", &peer_figure, e),
    }

    // 4. First sync.
    let fs_figure = format!(
        "First sync: `pyck init`, {} items + {} stock rows (SQLite server)",
        thousands(plan.shape.items as f64),
        thousands(plan.shape.stock_rows as f64)
    );
    match &r.first_sync {
        Ok(f) => {
            let s = Summary::of(&f.seconds);
            let (v, range) = fmt_with(s, secs);
            t.row(
                "4",
                &fs_figure,
                v,
                range,
                "≤ 1.0 s",
                s.map_or(Met::No, |s| Met::of(s.median <= FIRST_SYNC_TARGET_S)),
            );
            let (v, range) = fmt_with(Summary::of(&f.bytes), bytes);
            t.row(
                "4",
                "First sync: bytes on the wire (both ways, with headers)",
                v,
                range,
                "",
                Met::NoTarget,
            );
            let (v, range) = fmt_with(Summary::of(&f.resumed_seconds), secs);
            t.row(
                "4",
                "First sync resumed after `kill -9` half-way: the resumed run",
                v,
                range,
                "",
                Met::NoTarget,
            );
            let (v, range) = fmt_with(Summary::of(&f.resumed_bytes), bytes);
            let (k, _) = fmt_with(Summary::of(&f.killed_at_bytes), bytes);
            t.row(
                "4",
                &format!("First sync resumed: bytes of the resumed run (killed after {k})"),
                v,
                range,
                "",
                Met::NoTarget,
            );
        }
        Err(e) => t.failed("4", &fs_figure, e),
    }

    // 5. Server under load.
    for (backend, load) in &r.load {
        let figure = format!(
            "Load: {} devices × {} ops, concurrent `pyck sync` → {}",
            plan.devices,
            thousands(plan.ops_per_device as f64),
            backend.name()
        );
        match load {
            Ok(l) => {
                let s = Summary::of(&l.rate);
                let (v, range) = fmt_with(s, rate);
                let floor = load_target(*backend);
                t.row(
                    "5",
                    &figure,
                    v,
                    range,
                    &format!("≥ {}", rate(floor)),
                    s.map_or(Met::No, |s| Met::of(s.median >= floor)),
                );
                limit_row(
                    &mut t,
                    "5",
                    &format!(
                        "Load → {}: the same batches into the server's storage in process, one after another, the path's limit",
                        backend.name()
                    ),
                    &l.storage_rate,
                    s,
                    "the load",
                );
                let ms = |v: f64| format!("{} ms", thousands(v));
                let (v50, r50) = fmt_with(Summary::of(&pick(&l.latency_ms, |p| p.0)), ms);
                let (v99, r99) = fmt_with(Summary::of(&pick(&l.latency_ms, |p| p.1)), ms);
                t.row(
                    "5",
                    &format!("Load → {}: one device's sync, p50 / p99", backend.name()),
                    format!("{v50} / {v99}"),
                    format!("{r50} / {r99}"),
                    "",
                    Met::NoTarget,
                );
                let seconds = |v: f64| format!("{v:.1}");
                let share = |f: fn(&crate::scenarios::Cpu) -> f64| {
                    fmt_with(
                        Summary::of(&l.cpu_s.iter().map(f).collect::<Vec<_>>()),
                        seconds,
                    )
                };
                let (terminals, tr) = share(|c| c.terminals);
                let (server, sr) = share(|c| c.server);
                let (postgres, pr) = share(|c| c.postgres);
                let (available, ar) = share(|c| c.available);
                t.row(
                    "5",
                    &format!(
                        "Load → {}: CPU seconds of the terminals / the server / PostgreSQL, of the machine's (wall time × processors)",
                        backend.name()
                    ),
                    format!("{terminals} / {server} / {postgres}, of {available}"),
                    format!("{tr} / {sr} / {pr}, of {ar}"),
                    "",
                    Met::NoTarget,
                );
                let s = Summary::of(&l.peak_rss);
                let (v, range) = fmt_with(s, |v| format!("{:.1} MB", v / 1e6));
                t.row(
                    "5",
                    &format!("Load → {}: server peak RSS (VmHWM)", backend.name()),
                    v,
                    range,
                    "≤ 100 MB",
                    s.map_or(Met::No, |s| Met::of(s.median <= 100e6)),
                );
                t.row(
                    "5",
                    &format!("Load → {}: `pyck-server verify` afterwards", backend.name()),
                    if l.verified { "passes" } else { "FAILS" }.to_owned(),
                    String::new(),
                    "passes",
                    Met::of(l.verified),
                );
            }
            Err(e) => t.failed("5", &figure, e),
        }
    }

    // 6. Scaling, summarised; the detail follows the table.
    for (backend, points) in &r.scaling {
        match points {
            Ok(points) if points.len() >= 2 => {
                let (first, last) = (&points[0], &points[points.len() - 1]);
                let med = |v: &[f64]| Summary::of(v).map_or(f64::NAN, |s| s.median);
                let push_growth = med(&last.push_s) / med(&first.push_s);
                let verify_growth = med(&last.verify_s) / med(&first.verify_s);
                let size_growth = last.ledger_ops as f64 / first.ledger_ops as f64;
                t.row(
                    "6",
                    &format!(
                        "Scaling → {}: push of {} ops, ledger {} → {} ops",
                        backend.name(),
                        thousands(plan.probe_ops as f64),
                        thousands(first.ledger_ops as f64),
                        thousands(last.ledger_ops as f64)
                    ),
                    format!("×{push_growth:.2}"),
                    format!("{} → {}", secs(med(&first.push_s)), secs(med(&last.push_s))),
                    "flat (≤ ×1.5)",
                    Met::of(push_growth <= 1.5),
                );
                t.row(
                    "6",
                    &format!(
                        "Scaling → {}: `verify`, ledger ×{size_growth:.0}",
                        backend.name()
                    ),
                    format!("×{verify_growth:.2}"),
                    format!(
                        "{} → {}",
                        secs(med(&first.verify_s)),
                        secs(med(&last.verify_s))
                    ),
                    "at most linear",
                    Met::of(
                        verify_growth <= size_growth * 1.2 && points.iter().all(|p| p.verified),
                    ),
                );
            }
            Ok(_) => t.failed(
                "6",
                &format!("Scaling → {}", backend.name()),
                "fewer than two ledger sizes",
            ),
            Err(e) => t.failed("6", &format!("Scaling → {}", backend.name()), e),
        }
    }

    let mut md = String::new();
    let _ = write_report(&mut md, r, &t);
    md
}

fn write_report(md: &mut String, r: &Results, t: &Table) -> std::fmt::Result {
    let plan = &r.plan;
    writeln!(md, "# Benchmarks")?;
    writeln!(md)?;
    writeln!(
        md,
        "<!-- Written by `pyck-bench run` (scripts/bench); edit bench/NOTES.md or the harness, not this file. -->"
    )?;
    writeln!(md)?;
    if plan.quick {
        writeln!(
            md,
            "> **Quick smoke run** (`--quick`): small sizes, {} binaries. These numbers only show that the harness works; they say nothing about speed.",
            r.bin_dir
        )?;
        writeln!(md)?;
    }
    writeln!(
        md,
        "Measured {} in {:.0} s by `pyck-bench run` (`scripts/bench`), on the binaries in `{}`, driven as processes the way a user or script drives them. Each figure is the median of {} run(s), with min and max; a latency figure is a percentile of one run's samples, then the median over runs. Speed is measured here and never asserted by tests.",
        r.started.format("%Y-%m-%d %H:%M UTC"),
        r.elapsed.as_secs_f64(),
        r.bin_dir,
        plan.runs
    )?;
    writeln!(md)?;
    writeln!(md, "## Machine")?;
    writeln!(md)?;
    let m = &r.machine;
    writeln!(md, "| | |")?;
    writeln!(md, "|---|---|")?;
    writeln!(md, "| CPU | {} × {} |", m.cpus, m.cpu_model)?;
    writeln!(md, "| memory | {} |", m.memory)?;
    writeln!(md, "| kernel | Linux {} |", m.kernel)?;
    writeln!(md, "| scratch file system | {} |", m.scratch_fs)?;
    for (when, f) in ["start", "end"].iter().zip(&r.fsync) {
        match f {
            Ok((p50, p99)) => writeln!(
                md,
                "| 4 KiB write + fdatasync on it, run's {when} | p50 {} µs, p99 {} µs |",
                thousands(*p50),
                thousands(*p99)
            )?,
            Err(e) => writeln!(
                md,
                "| fdatasync, run's {when} | not measured: {} |",
                one_line(e)
            )?,
        }
    }
    writeln!(md, "| rustc | {} |", m.rustc)?;
    writeln!(md, "| node | {} |", m.node)?;
    if let Ok(p) = &r.peer {
        writeln!(md, "| peer | {} |", p.versions())?;
    }
    writeln!(
        md,
        "| PostgreSQL | {} |",
        match &r.postgres {
            Ok(s) => s.clone(),
            Err(e) => format!("not measured: {}", one_line(e)),
        }
    )?;
    writeln!(md, "| pyck commit | {} |", m.commit)?;
    writeln!(md)?;
    writeln!(md, "## Results")?;
    writeln!(md)?;
    writeln!(md, "{TABLE_HEADER}")?;
    writeln!(md, "|---|---|---:|---:|---|---|")?;
    for row in &t.rows {
        writeln!(md, "| {} |", row.join(" | "))?;
    }
    writeln!(md)?;

    writeln!(md, "### Scaling detail")?;
    writeln!(md)?;
    for (backend, points) in &r.scaling {
        let Ok(points) = points else { continue };
        writeln!(
            md,
            "{} server; ledger grown by pushes of back-and-forth moves; at each size {} probes of a {}-operation `pyck sync` and of `pyck-server verify` (which also checks the import's opening-balance movements, {} of them).",
            backend.name(),
            plan.runs,
            thousands(plan.probe_ops as f64),
            thousands(plan.shape.stock_rows as f64)
        )?;
        writeln!(md)?;
        writeln!(
            md,
            "| ops in the ledger | push of {} ops | min – max | `verify` | min – max | verify passes | growth pushes |",
            thousands(plan.probe_ops as f64)
        )?;
        writeln!(md, "|---:|---:|---:|---:|---:|---|---:|")?;
        for p in points {
            let (pv, pr) = fmt_with(Summary::of(&p.push_s), secs);
            let (vv, vr) = fmt_with(Summary::of(&p.verify_s), secs);
            writeln!(
                md,
                "| {} | {pv} | {pr} | {vv} | {vr} | {} | {} |",
                thousands(p.ledger_ops as f64),
                if p.verified { "yes" } else { "**no**" },
                rate(p.growth_rate)
            )?;
        }
        writeln!(md)?;
    }

    writeln!(md, "## What was run")?;
    writeln!(md)?;
    writeln!(
        md,
        "- **Warehouse:** generated — {} items with valid GTIN-13s, {} bin locations plus packing locations, {} opening stock rows (imported with `pyck-server import`); tenant `bench`, warehouse `DC1`. Each run starts from a copy of one prepared server database (SQLite file copy, or `CREATE DATABASE … TEMPLATE` on PostgreSQL) and of one terminal store that already made its first sync.",
        thousands(plan.shape.items as f64),
        thousands(plan.shape.locations as f64),
        thousands(plan.shape.stock_rows as f64)
    )?;
    writeln!(
        md,
        "- **1 Record:** `pyck move --file moves.csv --json` of {} rows (each with a `ref`) on an offline terminal, timed as a process; {} single `pyck move` processes one after another; {} scans recorded in process with `pyck::commands::record::draft` + `pyck::store::journal::record_all` of one draft on an open `Store` (WAL, `synchronous=FULL`: each commit is fsynced). The path's limit: the file's rows as drafts into a copy of the same store in the harness's process, timed from opening the store to closing it (one `record_all`, one commit, the close's checkpoint), without the CSV, the checks against the local view or the report.",
        thousands(plan.file_rows as f64),
        plan.single_moves,
        thousands(plan.scans as f64)
    )?;
    writeln!(
        md,
        "- **2 Push:** {} moves of one unit from {} stocked (bin, item) pairs spread over the warehouse into packing locations, recorded offline, then one `pyck sync --json` timed as a process (push in batches of up to 20,000, the most the server takes, then the pull of the changed stock records); ops/s = operations ÷ that time. Bytes are the request and response bodies `pyck sync` reports. `pyck-server verify` runs after each. Then the same moves, as one device's batch, are handed to the server's storage in the harness's own process (`Storage::push` on a fresh copy of the template: load, plan, write, durable commit, exactly as a request does, without the terminal, HTTP and JSON): the limit of that path on this machine, and what share of it the whole `pyck sync` reaches. On SQLite, the bytes the server process wrote to disk during the push (`write_bytes` of its `/proc/<pid>/io`, read before the sync and 0.5 s after it, so the checkpoint that copies the batch into the database file is in) are set against the request bodies' bytes; the WAL's share is that less what the server's checkpoint thread wrote (the thread's own `/proc/<pid>/task/<tid>/io`). Each template is settled before any copy is made: a server relays the import's events out of the outbox and the log is checkpointed into the file, as on a server that has been running.",
        thousands(plan.push_ops as f64),
        thousands(plan.push_keys as f64)
    )?;
    writeln!(
        md,
        "- **3 Peer:** `bench/pouchdb/peer.js`: {} documents shaped like pyck move operations written to an in-memory PouchDB, then `local.replicate.to()` an express-pouchdb server (in-memory adapter, its own node process, 127.0.0.1) with PouchDB's default settings; docs/s = documents ÷ replication time.",
        thousands(plan.peer_docs as f64)
    )?;
    writeln!(
        md,
        "- **4 First sync:** `pyck init --json` on an empty terminal through a byte-counting loopback relay; then another empty terminal's `pyck init` killed with SIGKILL once half the bytes of a full first sync have arrived, and run again (it resumes from its last committed page): the second run is what is reported.",
    )?;
    writeln!(
        md,
        "- **5 Load:** {} terminals (own PYCK_HOME and device token each) record {} moves each offline, on their own ten bins; then all {} `pyck sync` processes start at once. ops/s = all operations ÷ time until the last one finishes; latency = each process's wall time; peak RSS = `VmHWM` of the server process at the end. The path's limit: the same batches, each with its device's token, handed to the server's storage in the harness's process one after another (as the server applies them: one writer on SQLite, the tenant's lock on PostgreSQL), on a fresh copy of the template; ops/s = operations ÷ the time inside `Storage::push`.",
        plan.devices,
        thousands(plan.ops_per_device as f64),
        plan.devices
    )?;
    writeln!(
        md,
        "- **6 Scaling:** one terminal grows the ledger to {} operations with `pyck sync` of recorded moves, and at each size times a {}-operation `pyck sync` and `pyck-server verify`. Push should stay flat (it touches only what the batch needs, through indexes) and `verify` grow linearly (it sums the whole ledger).",
        plan.scaling_levels
            .iter()
            .map(|l| thousands(*l as f64))
            .collect::<Vec<_>>()
            .join(" → "),
        thousands(plan.probe_ops as f64)
    )?;
    writeln!(md)?;
    writeln!(
        md,
        "Run it with `scripts/bench` (builds the release binaries, runs `pyck-bench run`, rewrites this file). Among the tests `scripts/test` runs, `bench/tests/smoke.rs` runs `pyck-bench run --quick` on the debug binaries, writing to a temporary file, so the harness cannot rot."
    )?;
    writeln!(md)?;
    if let Some(notes) = &r.notes {
        writeln!(md, "{}", notes.trim_end())?;
    }
    Ok(())
}

/// Checks that a written report has the parts the smoke run promises.
pub fn check(text: &str, results: &Results) -> anyhow::Result<()> {
    anyhow::ensure!(
        text.starts_with("# Benchmarks\n"),
        "the report has no title"
    );
    anyhow::ensure!(
        text.contains(TABLE_HEADER),
        "the report has no results table"
    );
    for n in ["1", "2", "3", "4", "5", "6"] {
        anyhow::ensure!(
            text.contains(&format!("\n| {n} | ")),
            "the results table has no row for scenario {n}"
        );
    }
    anyhow::ensure!(text.contains("## Machine"), "the report names no machine");
    if results.failures().is_empty() && !text.contains(SKIPPED) {
        anyhow::ensure!(!text.contains("not measured"), "a figure is missing");
        anyhow::ensure!(!text.contains("n/a"), "a figure is not a number");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_groups_digits() {
        assert_eq!(thousands(1234567.4), "1,234,567");
        assert_eq!(thousands(999.0), "999");
        assert_eq!(thousands(-1000.0), "-1,000");
        assert_eq!(thousands(f64::NAN), "n/a");
    }

    /// Issue 21: SQLite ≥ 50,000 ops/s and ≥ 15 × the peer, PostgreSQL
    /// ≥ 35,000 ops/s whatever the peer did.
    #[test]
    fn push_goals_are_issue_21s() {
        assert_eq!(push_goal(Backend::Sqlite, Some(3_200.0)), Some(50_000.0));
        assert_eq!(push_goal(Backend::Sqlite, Some(4_000.0)), Some(60_000.0));
        assert_eq!(push_goal(Backend::Sqlite, None), None);
        assert_eq!(push_goal(Backend::Postgres, Some(4_000.0)), Some(35_000.0));
        assert_eq!(push_goal(Backend::Postgres, None), Some(35_000.0));
        assert_eq!(load_target(Backend::Sqlite), 40_000.0);
        assert_eq!(load_target(Backend::Postgres), 30_000.0);
    }
}
