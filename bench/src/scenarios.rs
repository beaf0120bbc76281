//! The scenarios of issue 8, each run several times against fresh copies of
//! the same prepared state. Every figure is measured from outside, on the
//! real binaries, except the durable commit of one scan, which is timed in
//! process exactly as a scanner UI performs it.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail, ensure};
use pyck::store::journal::{self, Recorded};
use pyck::store::{Store, session};
use pyck_vocab::operation::{Move, Operation, Payload};
use pyck_vocab::protocol::PushOutcome;
use serde_json::Value;

use crate::stats::percentile;
use crate::warehouse::{self, Warehouse};
use crate::world::{
    Backend, Bins, Device, Postgres, Relay, Server, Template, Whose, postgres_cpu, proc_cpu, timed,
};

/// Sizes of one harness run.
#[derive(Debug, Clone)]
pub struct Plan {
    pub quick: bool,
    pub runs: usize,
    pub shape: warehouse::Shape,
    pub file_rows: usize,
    pub single_moves: usize,
    pub scans: usize,
    pub push_ops: usize,
    /// Distinct stocked (bin, item) pairs the pushed moves come from.
    pub push_keys: usize,
    pub peer_docs: usize,
    pub devices: usize,
    pub ops_per_device: usize,
    pub scaling_levels: Vec<usize>,
    pub probe_ops: usize,
    /// `PYCK_PULL_PAGE` for the interrupted first sync (quick mode's
    /// warehouse fits in one default page, which cannot be cut half-way).
    pub pull_page: Option<u32>,
}

impl Plan {
    pub fn full(runs: usize) -> Plan {
        Plan {
            quick: false,
            runs,
            shape: warehouse::Shape {
                items: 10_000,
                locations: 5_000,
                stock_rows: 100_000,
            },
            file_rows: 10_000,
            single_moves: 200,
            scans: 2_000,
            push_ops: 10_000,
            push_keys: 1_000,
            peer_docs: 10_000,
            devices: 50,
            ops_per_device: 1_000,
            scaling_levels: vec![1_000, 10_000, 100_000, 1_000_000],
            probe_ops: 1_000,
            pull_page: None,
        }
    }

    pub fn quick(runs: usize) -> Plan {
        Plan {
            quick: true,
            runs,
            shape: warehouse::Shape {
                items: 200,
                locations: 100,
                stock_rows: 2_000,
            },
            file_rows: 1_000,
            single_moves: 10,
            scans: 100,
            push_ops: 1_000,
            push_keys: 100,
            peer_docs: 500,
            devices: 8,
            ops_per_device: 50,
            scaling_levels: vec![1_000, 10_000],
            probe_ops: 200,
            pull_page: Some(250),
        }
    }
}

/// Everything the scenarios share.
pub struct Ctx {
    pub bins: Bins,
    pub plan: Plan,
    pub work: PathBuf,
    pub warehouse: Warehouse,
    pub pg: Option<Postgres>,
    n: std::cell::Cell<u32>,
}

impl Ctx {
    pub fn new(bins: Bins, plan: Plan, work: PathBuf, pg: Option<Postgres>) -> anyhow::Result<Ctx> {
        let warehouse = Warehouse::generate(&work.join("import"), plan.shape)?;
        Ok(Ctx {
            bins,
            plan,
            work,
            warehouse,
            pg,
            n: std::cell::Cell::new(0),
        })
    }

    /// A fresh, unused path in the work directory.
    pub fn path(&self, what: &str) -> PathBuf {
        let n = self.n.get() + 1;
        self.n.set(n);
        self.work.join(format!("{what}-{n}"))
    }

    fn moves_file(&self, moves: &[warehouse::Move]) -> anyhow::Result<PathBuf> {
        let path = self.path("moves").with_extension("csv");
        let tag = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        warehouse::write_moves(&path, moves, &tag)?;
        Ok(path)
    }
}

/// A backend's prepared state: the server template and a terminal that
/// made its first sync against it and is logged in.
pub struct Fixture {
    pub template: Template,
    pub device: Device,
}

impl Fixture {
    pub fn new(ctx: &Ctx, backend: Backend) -> anyhow::Result<Fixture> {
        let dir = ctx.path(&format!("template-{}", backend.name().to_lowercase()));
        std::fs::create_dir_all(&dir)?;
        let tokens = ctx.plan.devices.max(2);
        let template = Template::create(
            &ctx.bins,
            backend,
            ctx.pg.as_ref(),
            &dir,
            &ctx.warehouse.dir,
            tokens,
        )
        .with_context(|| format!("while preparing the {} template", backend.name()))?;
        let instance = template.instance()?;
        let server = Server::start(&ctx.bins, &instance.db)?;
        let device = Device::new(&ctx.bins, dir.join("terminal"))?;
        device.init(&server.url, &template.tokens[0])?;
        device.login()?;
        Ok(Fixture { template, device })
    }

    /// A terminal with the fixture's replica, registered with `server` as
    /// device `token`.
    fn terminal(&self, ctx: &Ctx, server: &Server, token: usize) -> anyhow::Result<Device> {
        let device = Device::from_template(&ctx.bins, &self.device, ctx.path("terminal"))?;
        device.init(&server.url, &self.template.tokens[token])?;
        Ok(device)
    }
}

// ---------------------------------------------------------------------------
// 1. Record
// ---------------------------------------------------------------------------

#[derive(Debug, Default, Clone)]
pub struct RecordResult {
    /// Operations per second of `pyck move --file`, per run.
    pub file_rate: Vec<f64>,
    /// Operations per second of the same rows recorded into a copy of the
    /// store in process (open, one transaction, close), per run: the limit
    /// of the store's path.
    pub store_rate: Vec<f64>,
    /// p50 and p99 of one `pyck move` process, ms, per run.
    pub single_ms: Vec<(f64, f64)>,
    /// p50 and p99 of one scan's durable commit in process, µs, per run.
    pub commit_us: Vec<(f64, f64)>,
}

pub fn record(ctx: &Ctx, fixture: &Fixture) -> anyhow::Result<RecordResult> {
    let plan = &ctx.plan;
    let mut out = RecordResult::default();
    let moves = ctx.warehouse.spread(plan.file_rows, plan.push_keys, 0);
    let file = ctx.moves_file(&moves)?;
    let file_arg = file.display().to_string();
    let s = &ctx.warehouse.stocked[0];
    let there = &ctx.warehouse.destinations[0];
    for _ in 0..plan.runs {
        // A file of moves, as a script records it.
        let device = Device::from_template(&ctx.bins, &fixture.device, ctx.path("terminal"))?;
        let (elapsed, output) = timed(
            &mut device.cmd(&["move", "--file", &file_arg, "--json"]),
            "pyck move --file",
        )?;
        let rows: Vec<Value> = serde_json::from_slice(&output.stdout)?;
        let recorded = rows.iter().filter(|r| r["status"] == "recorded").count();
        ensure!(
            recorded == plan.file_rows,
            "pyck move --file recorded {recorded} of {} rows",
            plan.file_rows
        );
        out.file_rate
            .push(plan.file_rows as f64 / elapsed.as_secs_f64());

        // The same rows as drafts into a copy of the same store, in this
        // process: open, record in one transaction, close (which copies
        // the log into the file, as the process's exit does). No CSV, no
        // checks against the local view, no report: the limit of the
        // store's own path on this machine.
        let device = Device::from_template(&ctx.bins, &fixture.device, ctx.path("terminal"))?;
        let tag = file.file_stem().map(|s| s.to_string_lossy().into_owned());
        let start = Instant::now();
        let mut store = Store::open(&device.store_file())?;
        let operator = session::current(store.conn())?.context("no operator logged in")?;
        let drafts = moves
            .iter()
            .enumerate()
            .map(|(i, m)| {
                let reference = tag.as_ref().map(|t| format!("{t}-{i}"));
                pyck::commands::record::draft(m.payload(), &operator, reference)
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        let recorded = journal::record_all(&mut store, &drafts)?;
        drop(store);
        out.store_rate
            .push(plan.file_rows as f64 / start.elapsed().as_secs_f64());
        ensure!(
            recorded
                .iter()
                .all(|r| matches!(r, Recorded::Recorded { .. })),
            "the store did not record every draft"
        );

        // One move as a whole process, as a shell user types it, on a
        // terminal with an empty journal (a journal of pending operations
        // is replayed by every recording command's stock check).
        let device = Device::from_template(&ctx.bins, &fixture.device, ctx.path("terminal"))?;
        let mut samples = Vec::with_capacity(plan.single_moves);
        for i in 0..plan.single_moves {
            let (from, to) = if i % 2 == 0 {
                (&s.location, there)
            } else {
                (there, &s.location)
            };
            let (elapsed, _) = timed(
                &mut device.cmd(&[
                    "move", "--sku", &s.sku, "--qty", "1", "--from", from, "--to", to,
                ]),
                "pyck move",
            )?;
            samples.push(elapsed);
        }
        out.single_ms.push((
            ms(percentile(&samples, 50.0)),
            ms(percentile(&samples, 99.0)),
        ));

        // One scan's durable commit, in process, as the scanner UI does it:
        // the store stays open; each scan is a draft recorded on its own.
        let mut store = Store::open(&device.store_file())?;
        let operator = session::current(store.conn())?.context("no operator logged in")?;
        let mut samples = Vec::with_capacity(plan.scans);
        for i in 0..plan.scans {
            let (from, to) = if i % 2 == 0 {
                (s.location.clone(), there.clone())
            } else {
                (there.clone(), s.location.clone())
            };
            let start = Instant::now();
            let draft = pyck::commands::record::draft(
                Payload::Move(Move {
                    sku: s.sku.clone(),
                    lot: None,
                    qty: 1,
                    from,
                    to,
                    task: None,
                }),
                &operator,
                None,
            )?;
            let recorded = journal::record_all(&mut store, &[draft])?;
            samples.push(start.elapsed());
            ensure!(
                matches!(recorded.as_slice(), [Recorded::Recorded { .. }]),
                "a scan was not recorded: {recorded:?}"
            );
        }
        out.commit_us.push((
            us(percentile(&samples, 50.0)),
            us(percentile(&samples, 99.0)),
        ));
    }
    Ok(out)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn us(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

// ---------------------------------------------------------------------------
// 2. Push
// ---------------------------------------------------------------------------

#[derive(Debug, Default, Clone)]
pub struct PushResult {
    /// Operations per second of the whole `pyck sync` process, per run.
    pub rate: Vec<f64>,
    pub bytes_sent: Vec<f64>,
    pub bytes_received: Vec<f64>,
    /// Changes the pull after the push brought back, per run.
    pub pulled: Vec<f64>,
    /// Bytes the server process wrote to disk for the push (the WAL and
    /// the checkpoints that copy it into the database file), per run; SQLite
    /// only: PostgreSQL's writes are its own processes'.
    pub disk_written: Vec<f64>,
    /// Of those, the bytes that went to the WAL (all but the checkpoint
    /// thread's copies), per run: issue 21's "WAL bytes per request byte".
    pub wal_written: Vec<f64>,
    /// Operations per second of the same operations handed to the server's
    /// storage in process (no terminal, HTTP or JSON), per run: the limit
    /// of the path `pyck sync` takes through the server.
    pub storage_rate: Vec<f64>,
    /// `pyck-server verify` passed after every run.
    pub verified: bool,
}

/// What `pyck sync --json` said.
fn sync_report(out: &[u8], expect_pushed: usize) -> anyhow::Result<Value> {
    let report: Value = serde_json::from_slice(out)?;
    let (pushed, applied) = (report["pushed"].as_u64(), report["applied"].as_u64());
    ensure!(
        pushed == Some(expect_pushed as u64) && applied == Some(expect_pushed as u64),
        "pyck sync pushed {pushed:?} and applied {applied:?} of {expect_pushed} operations: {report}"
    );
    Ok(report)
}

pub fn push(ctx: &Ctx, fixture: &Fixture) -> anyhow::Result<PushResult> {
    let plan = &ctx.plan;
    let moves = ctx.warehouse.spread(plan.push_ops, plan.push_keys, 0);
    let file = ctx.moves_file(&moves)?;
    let mut out = PushResult {
        verified: true,
        ..PushResult::default()
    };
    for _ in 0..plan.runs {
        let instance = fixture.template.instance()?;
        let server = Server::start(&ctx.bins, &instance.db)?;
        let device = fixture.terminal(ctx, &server, 0)?;
        device.record_file(&file)?;
        let sqlite = fixture.template.backend() == Backend::Sqlite;
        let written_before = server.disk_writes()?;
        let copied_before = if sqlite {
            server.checkpoint_writes()?
        } else {
            0
        };
        let (elapsed, output) = timed(&mut device.cmd(&["sync", "--json"]), "pyck sync")?;
        let report = sync_report(&output.stdout, plan.push_ops)?;
        if sqlite {
            // The checkpoint thread copies the batch into the database
            // file after the answer, at most every 100 ms: let it.
            std::thread::sleep(Duration::from_millis(500));
            let written = server.disk_writes()? - written_before;
            let copied = server.checkpoint_writes()? - copied_before;
            out.disk_written.push(written as f64);
            out.wal_written.push(written.saturating_sub(copied) as f64);
        }
        out.rate.push(plan.push_ops as f64 / elapsed.as_secs_f64());
        out.bytes_sent.push(num(&report["bytes_sent"]));
        out.bytes_received.push(num(&report["bytes_received"]));
        out.pulled.push(num(&report["pulled"]));
        drop(server);
        let (_, ok) = instance.verify(&ctx.bins)?;
        out.verified &= ok;

        let instance = fixture.template.instance()?;
        let rate = storage_push(&instance.db, &[(&fixture.template.tokens[0], &moves)])
            .context("while pushing into the server's storage in process")?;
        out.storage_rate.push(rate);
        let (_, ok) = instance.verify(&ctx.bins)?;
        out.verified &= ok;
    }
    Ok(out)
}

/// Batches of one-unit moves, each one device's (by its token), pushed
/// straight into the server's storage at `db` (a fresh copy of the
/// template) in this process, one after another: ops/s of `Storage::push`
/// alone, which loads, plans, writes and commits exactly as a `pyck sync`
/// request does, without the terminal, HTTP or JSON around it. One after
/// another is how the server applies them too: one writer on SQLite, the
/// tenant's lock on PostgreSQL.
fn storage_push(db: &str, batches: &[(&str, &[warehouse::Move])]) -> anyhow::Result<f64> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let store = pyck_server::storage::open(db).await?;
        let (mut pushed, mut elapsed) = (0, Duration::ZERO);
        for (token, moves) in batches {
            let auth = store
                .authenticate(&pyck_server::auth::token_hash(token))
                .await?
                .context("the template's device token is unknown")?;
            let at = chrono::Utc::now();
            let ops: Vec<Operation> = moves
                .iter()
                .zip(1..)
                .map(|(m, seq)| Operation {
                    id: uuid::Uuid::now_v7(),
                    device: auth.device,
                    seq,
                    operator: crate::world::BADGE.to_owned(),
                    at,
                    payload: m.payload(),
                })
                .collect();
            let started = Instant::now();
            let response = store.push(&auth, ops, 0).await?;
            elapsed += started.elapsed();
            let applied = response
                .results
                .iter()
                .filter(|r| matches!(r.outcome, PushOutcome::Applied { .. }))
                .count();
            ensure!(
                applied == moves.len(),
                "the storage applied {applied} of {} operations",
                moves.len()
            );
            pushed += moves.len();
        }
        Ok(pushed as f64 / elapsed.as_secs_f64())
    })
}

fn num(v: &Value) -> f64 {
    v.as_f64().unwrap_or(f64::NAN)
}

// ---------------------------------------------------------------------------
// 4. First sync
// ---------------------------------------------------------------------------

#[derive(Debug, Default, Clone)]
pub struct FirstSyncResult {
    pub seconds: Vec<f64>,
    /// Bytes on the wire, both ways, HTTP framing included.
    pub bytes: Vec<f64>,
    pub pulled: Vec<f64>,
    /// Of the interrupted sync: bytes that had arrived when it was killed.
    pub killed_at_bytes: Vec<f64>,
    pub resumed_seconds: Vec<f64>,
    pub resumed_bytes: Vec<f64>,
    pub resumed_pulled: Vec<f64>,
    /// Runs in which the first attempt finished before it could be killed.
    pub not_interrupted: usize,
}

pub fn first_sync(ctx: &Ctx, fixture: &Fixture) -> anyhow::Result<FirstSyncResult> {
    let plan = &ctx.plan;
    let mut out = FirstSyncResult::default();
    let token = &fixture.template.tokens[1];
    let expect_stock = plan.shape.stock_rows as u64;
    let page = plan.pull_page.map(|p| p.to_string());
    let init_cmd = |device: &Device, url: &str| {
        let mut cmd = device.cmd(&["init", "--server", url, "--token", token, "--json"]);
        if let Some(p) = &page {
            cmd.env("PYCK_PULL_PAGE", p);
        }
        cmd
    };
    let check = |out: &[u8]| -> anyhow::Result<f64> {
        let v: Value = serde_json::from_slice(out)?;
        let stock = v["replica"]["stock"].as_u64();
        ensure!(
            stock == Some(expect_stock),
            "after pyck init the replica holds {stock:?} of {expect_stock} stock rows"
        );
        Ok(num(&v["pulled"]))
    };
    for _ in 0..plan.runs {
        let instance = fixture.template.instance()?;
        let server = Server::start(&ctx.bins, &instance.db)?;

        let relay = Relay::start(&server.url)?;
        let device = Device::new(&ctx.bins, ctx.path("terminal"))?;
        let (elapsed, output) = timed(&mut init_cmd(&device, &relay.url), "pyck init")?;
        let (up, down) = relay.bytes();
        out.seconds.push(elapsed.as_secs_f64());
        out.bytes.push((up + down) as f64);
        out.pulled.push(check(&output.stdout)?);
        drop(relay);

        // The same, killed (SIGKILL) once half the bytes have arrived, then
        // run again: it resumes from its last committed page.
        let relay = Relay::start(&server.url)?;
        let device = Device::new(&ctx.bins, ctx.path("terminal"))?;
        let mut child = init_cmd(&device, &relay.url)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()?;
        let half = down / 2;
        let deadline = Instant::now() + Duration::from_secs(600);
        let mut finished = false;
        loop {
            if relay.bytes().1 >= half {
                break;
            }
            if child.try_wait()?.is_some() {
                finished = true;
                break;
            }
            if Instant::now() > deadline {
                bail!("the interrupted pyck init received nothing for 10 minutes");
            }
            std::thread::sleep(Duration::from_micros(200));
        }
        let _ = child.kill();
        let _ = child.wait();
        if finished {
            out.not_interrupted += 1;
        }
        out.killed_at_bytes.push(relay.bytes().1 as f64);
        drop(relay);

        let relay = Relay::start(&server.url)?;
        let (elapsed, output) = timed(&mut init_cmd(&device, &relay.url), "resumed pyck init")?;
        let (up, down) = relay.bytes();
        out.resumed_seconds.push(elapsed.as_secs_f64());
        out.resumed_bytes.push((up + down) as f64);
        out.resumed_pulled.push(check(&output.stdout)?);
    }
    Ok(out)
}

// ---------------------------------------------------------------------------
// 5. Server under load
// ---------------------------------------------------------------------------

#[derive(Debug, Default, Clone)]
pub struct LoadResult {
    /// Operations per second over all devices, first start to last finish.
    pub rate: Vec<f64>,
    /// p50 and p99 of one device's whole `pyck sync`, ms, per run.
    pub latency_ms: Vec<(f64, f64)>,
    /// The server's peak RSS (VmHWM), bytes, per run.
    pub peak_rss: Vec<f64>,
    /// Operations per second of the same batches handed to the server's
    /// storage in process one after another, per run: the limit of the
    /// path the devices share.
    pub storage_rate: Vec<f64>,
    /// Where the machine's CPU went while the devices synced, per run.
    pub cpu_s: Vec<Cpu>,
    pub verified: bool,
}

/// CPU seconds (user and system) used during a load run.
#[derive(Debug, Default, Clone, Copy)]
pub struct Cpu {
    /// The `pyck sync` processes, all of them.
    pub terminals: f64,
    /// The `pyck-server` process.
    pub server: f64,
    /// PostgreSQL's processes (0 on SQLite, where the database is the
    /// server's own threads).
    pub postgres: f64,
    /// What the machine had: the run's wall time × its processors.
    pub available: f64,
}

pub fn load(ctx: &Ctx, fixture: &Fixture) -> anyhow::Result<LoadResult> {
    let plan = &ctx.plan;
    let mut out = LoadResult {
        verified: true,
        ..LoadResult::default()
    };
    // Device d works its own ten bins of the warehouse.
    let moves: Vec<Vec<warehouse::Move>> = (0..plan.devices)
        .map(|d| {
            ctx.warehouse
                .spread_window(plan.ops_per_device, plan.devices * 10, d * 10, 10)
        })
        .collect();
    let files = moves
        .iter()
        .map(|m| ctx.moves_file(m))
        .collect::<anyhow::Result<Vec<_>>>()?;
    for _ in 0..plan.runs {
        let instance = fixture.template.instance()?;
        let server = Server::start(&ctx.bins, &instance.db)?;
        let mut devices = Vec::with_capacity(plan.devices);
        for (d, file) in files.iter().enumerate() {
            let device = fixture.terminal(ctx, &server, d)?;
            device.record_file(file)?;
            devices.push(device);
        }
        // All devices at once; each thread times its own process.
        let me = std::process::id();
        let cpu_before = (
            proc_cpu(me, Whose::WaitedChildren)?.unwrap_or(0.0),
            server.cpu_seconds()?,
            postgres_cpu()?,
        );
        let (tx, rx) = mpsc::channel();
        let start = Instant::now();
        let mut children = Vec::with_capacity(devices.len());
        for device in &devices {
            let child = device
                .cmd(&["sync", "--json"])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()?;
            children.push((Instant::now(), child));
        }
        for (began, child) in children {
            let tx = tx.clone();
            std::thread::spawn(move || {
                let result = child.wait_with_output();
                let _ = tx.send((began.elapsed(), result));
            });
        }
        drop(tx);
        let mut latencies = Vec::with_capacity(devices.len());
        for (elapsed, result) in rx {
            let output = result?;
            if !output.status.success() {
                bail!(
                    "a device's pyck sync exited {:?}: {}",
                    output.status.code(),
                    String::from_utf8_lossy(&output.stderr).trim()
                );
            }
            sync_report(&output.stdout, plan.ops_per_device)?;
            latencies.push(elapsed);
        }
        let total = start.elapsed();
        ensure!(
            latencies.len() == devices.len(),
            "a device's sync went missing"
        );
        out.cpu_s.push(Cpu {
            terminals: proc_cpu(me, Whose::WaitedChildren)?.unwrap_or(0.0) - cpu_before.0,
            server: server.cpu_seconds()? - cpu_before.1,
            postgres: postgres_cpu()? - cpu_before.2,
            available: total.as_secs_f64() * std::thread::available_parallelism()?.get() as f64,
        });
        out.rate
            .push((plan.devices * plan.ops_per_device) as f64 / total.as_secs_f64());
        out.latency_ms.push((
            ms(percentile(&latencies, 50.0)),
            ms(percentile(&latencies, 99.0)),
        ));
        out.peak_rss.push(server.peak_rss()? as f64);
        drop(server);
        let (_, ok) = instance.verify(&ctx.bins)?;
        out.verified &= ok;

        // The same batches, each with its device's token, into the
        // storage alone: the limit of the path the devices share.
        let instance = fixture.template.instance()?;
        let batches: Vec<(&str, &[warehouse::Move])> = moves
            .iter()
            .enumerate()
            .map(|(d, m)| (fixture.template.tokens[d].as_str(), m.as_slice()))
            .collect();
        let rate = storage_push(&instance.db, &batches)
            .context("while pushing the devices' batches into the server's storage in process")?;
        out.storage_rate.push(rate);
        let (_, ok) = instance.verify(&ctx.bins)?;
        out.verified &= ok;
    }
    Ok(out)
}

// ---------------------------------------------------------------------------
// 6. Scaling
// ---------------------------------------------------------------------------

#[derive(Debug, Clone)]
pub struct ScalePoint {
    /// Operations pushed by devices into the ledger before the probes.
    pub ledger_ops: usize,
    /// Seconds of a `pyck sync` of `probe_ops` operations, per probe.
    pub push_s: Vec<f64>,
    /// Seconds of `pyck-server verify`, per probe.
    pub verify_s: Vec<f64>,
    pub verified: bool,
    /// Operations per second of the growth pushes that led here.
    pub growth_rate: f64,
}

pub fn scaling(ctx: &Ctx, fixture: &Fixture) -> anyhow::Result<Vec<ScalePoint>> {
    let plan = &ctx.plan;
    let instance = fixture.template.instance()?;
    let server = Server::start(&ctx.bins, &instance.db)?;
    let device = fixture.terminal(ctx, &server, 0)?;
    let mut in_ledger = 0usize;
    let mut points = Vec::new();
    let mut probe = 0usize;
    // Growth files hold at most this many moves (one `pyck move --file`).
    const CHUNK: usize = 100_000;
    for &level in &plan.scaling_levels {
        let (mut grown, mut grow_time) = (0usize, Duration::ZERO);
        while in_ledger < level {
            let n = (level - in_ledger).min(CHUNK);
            let file = ctx.moves_file(&ctx.warehouse.shuttle(n, 100, 0))?;
            device.record_file(&file)?;
            std::fs::remove_file(&file)?;
            let (elapsed, output) = timed(&mut device.cmd(&["sync", "--json"]), "pyck sync")?;
            sync_report(&output.stdout, n)?;
            grow_time += elapsed;
            grown += n;
            in_ledger += n;
        }
        let mut point = ScalePoint {
            ledger_ops: in_ledger,
            push_s: Vec::new(),
            verify_s: Vec::new(),
            verified: true,
            growth_rate: grown as f64 / grow_time.as_secs_f64().max(1e-9),
        };
        for _ in 0..plan.runs {
            let moves =
                ctx.warehouse
                    .spread(plan.probe_ops, plan.push_keys, probe * plan.probe_ops);
            probe += 1;
            let file = ctx.moves_file(&moves)?;
            device.record_file(&file)?;
            let (elapsed, output) = timed(&mut device.cmd(&["sync", "--json"]), "pyck sync")?;
            sync_report(&output.stdout, plan.probe_ops)?;
            point.push_s.push(elapsed.as_secs_f64());
            let (elapsed, ok) = instance.verify(&ctx.bins)?;
            point.verify_s.push(elapsed.as_secs_f64());
            point.verified &= ok;
        }
        in_ledger += plan.runs * plan.probe_ops;
        points.push(point);
    }
    Ok(points)
}

/// The directory a scenario may leave files in; removed at the end.
pub fn work_dir(root: &Path) -> anyhow::Result<tempfile::TempDir> {
    std::fs::create_dir_all(root)?;
    Ok(tempfile::Builder::new()
        .prefix("pyck-bench-")
        .tempdir_in(root)?)
}
