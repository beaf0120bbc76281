//! `pyck-bench`: pyck's benchmark harness (issue 8). It drives the real
//! `pyck` and `pyck-server` binaries as processes, like a user or a script
//! would, plus the in-process durable commit of one scan as the scanner UI
//! does it; runs the PouchDB peer in the same run; and writes
//! docs/BENCHMARKS.md. Speed is measured here, never asserted by tests.
//!
//!   scripts/bench                                   # release build + full run
//!   pyck-bench run --quick --bin-dir target/debug --out /tmp/b.md   # smoke

mod machine;
mod peer;
mod report;
mod scenarios;
mod stats;
mod warehouse;
mod world;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use clap::{Parser, Subcommand};

use crate::report::{Outcome, Results};
use crate::scenarios::{Ctx, Fixture, Plan};
use crate::world::{Backend, Bins, Postgres};

/// pyck's benchmark harness.
#[derive(Debug, Parser)]
#[command(name = "pyck-bench", about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run every scenario and write the report
    Run(RunArgs),
}

#[derive(Debug, clap::Args)]
struct RunArgs {
    /// Small sizes and one run each: a smoke test of the harness (seconds),
    /// not a measurement
    #[arg(long)]
    quick: bool,
    /// Where the report goes
    #[arg(long, default_value = "docs/BENCHMARKS.md")]
    out: PathBuf,
    /// Directory holding the `pyck` and `pyck-server` binaries to measure
    #[arg(long, default_value = "target/release")]
    bin_dir: PathBuf,
    /// A PostgreSQL server to create databases in (any database URL on it)
    #[arg(long, env = "PYCK_TEST_POSTGRES_URL")]
    postgres_url: Option<String>,
    /// Turn fsync and synchronous_commit on in that PostgreSQL server first
    /// (`ALTER SYSTEM`): for throwaway clusters like the one scripts/test
    /// starts with durability off
    #[arg(long)]
    pg_durable: bool,
    /// Backends the scaling scenario grows a ledger on
    #[arg(long, value_delimiter = ',', default_value = "sqlite,postgres")]
    scaling: Vec<String>,
    /// Run only these scenarios (record, peer, push, first-sync, load,
    /// scaling), for working on one; the report marks the others skipped
    #[arg(long, value_delimiter = ',')]
    only: Vec<String>,
    /// Runs per figure [default: 3, or 1 with --quick]
    #[arg(long)]
    runs: Option<usize>,
    /// Where scratch files go (server databases, terminal homes)
    #[arg(long, default_value_os_t = std::env::temp_dir())]
    work_dir: PathBuf,
    /// Keep the scratch directory (templates, terminal homes, CSV files) for
    /// profiling one step by hand; its path is printed at the end
    #[arg(long)]
    keep: bool,
    /// The PouchDB peer's directory (package.json, peer.js)
    #[arg(long, default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/pouchdb"))]
    peer_dir: PathBuf,
    /// Hand-written analysis appended to the report
    #[arg(long, default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/NOTES.md"))]
    notes: PathBuf,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Run(args) => match run(args) {
            Ok(true) => ExitCode::SUCCESS,
            Ok(false) => ExitCode::FAILURE,
            Err(e) => {
                eprintln!("pyck-bench: error: {e:#}");
                ExitCode::FAILURE
            }
        },
    }
}

/// `--only`, lower-cased.
static ONLY: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();

fn step(what: &str) {
    eprintln!("pyck-bench: {}", what.trim());
}

/// Runs a scenario, keeping its error as the outcome.
fn attempt<T>(what: &str, f: impl FnOnce() -> anyhow::Result<T>) -> Outcome<T> {
    if let Some(only) = ONLY.get()
        && !only.is_empty()
        && !only.iter().any(|o| what.contains(&format!(" {o}")))
    {
        return Err(report::SKIPPED.to_owned());
    }
    step(what);
    let start = Instant::now();
    let out = f().map_err(|e| format!("{e:#}"));
    match &out {
        Ok(_) => eprintln!(
            "pyck-bench:   done in {:.1} s",
            start.elapsed().as_secs_f64()
        ),
        Err(e) => eprintln!("pyck-bench:   FAILED: {e}"),
    }
    out
}

/// Returns whether every scenario ran.
fn run(args: RunArgs) -> anyhow::Result<bool> {
    let mut only: Vec<String> = args
        .only
        .iter()
        .map(|o| o.to_lowercase().replace('-', " "))
        .collect();
    if !only.is_empty() {
        only.push("preparing".to_owned());
    }
    let _ = ONLY.set(only);
    let started = chrono::Utc::now();
    let clock = Instant::now();
    let bins = Bins::in_dir(&args.bin_dir)?;
    let runs = args.runs.unwrap_or(if args.quick { 1 } else { 3 }).max(1);
    let plan = if args.quick {
        Plan::quick(runs)
    } else {
        Plan::full(runs)
    };
    let scratch = scenarios::work_dir(&args.work_dir)?;
    let machine = machine::Machine::probe(scratch.path());
    let fsync_start = machine::fsync_latency(scratch.path(), 200).map_err(|e| format!("{e:#}"));

    let pg = args.postgres_url.as_deref().map(Postgres::new);
    let postgres: Outcome<String> = match &pg {
        None => Err("no PostgreSQL URL given (--postgres-url or PYCK_TEST_POSTGRES_URL; scripts/bench starts one)".into()),
        Some(pg) => (|| {
            if args.pg_durable {
                pg.make_durable()?;
            }
            pg.durability()
        })()
        .map_err(|e| format!("{e:#}")),
    };

    step(&format!(
        "generating a warehouse of {} items, {} stock rows",
        plan.shape.items, plan.shape.stock_rows
    ));
    let ctx = Ctx::new(bins, plan.clone(), scratch.path().to_owned(), pg.clone())?;

    let sqlite = attempt(" preparing the SQLite server template and terminal", || {
        Fixture::new(&ctx, Backend::Sqlite)
    });
    let postgres_fixture = match &postgres {
        Ok(_) => attempt(
            " preparing the PostgreSQL server template and terminal",
            || Fixture::new(&ctx, Backend::Postgres),
        ),
        Err(e) => Err(e.clone()),
    };
    let fixture = |b: Backend| -> Result<&Fixture, String> {
        let f = match b {
            Backend::Sqlite => &sqlite,
            Backend::Postgres => &postgres_fixture,
        };
        f.as_ref()
            .map_err(|e| format!("no {} fixture: {e}", b.name()))
    };
    let backends = [Backend::Sqlite, Backend::Postgres];

    let record =
        fixture(Backend::Sqlite).and_then(|f| attempt("1 record", || scenarios::record(&ctx, f)));
    let peer = attempt("3 peer: PouchDB → express-pouchdb", || {
        peer::run(&args.peer_dir, plan.peer_docs, plan.runs)
    });
    let push = backends
        .iter()
        .map(|&b| {
            let r = fixture(b).and_then(|f| {
                attempt(&format!("2 push → {}", b.name()), || {
                    scenarios::push(&ctx, f)
                })
            });
            (b, r)
        })
        .collect();
    let first_sync = fixture(Backend::Sqlite)
        .and_then(|f| attempt("4 first sync", || scenarios::first_sync(&ctx, f)));
    let load = backends
        .iter()
        .map(|&b| {
            let r = fixture(b).and_then(|f| {
                attempt(&format!("5 load → {}", b.name()), || {
                    scenarios::load(&ctx, f)
                })
            });
            (b, r)
        })
        .collect();
    let scaling = backends
        .iter()
        .filter(|b| args.scaling.iter().any(|s| s.eq_ignore_ascii_case(b.key())))
        .map(|&b| {
            let r = fixture(b).and_then(|f| {
                attempt(&format!("6 scaling → {}", b.name()), || {
                    scenarios::scaling(&ctx, f)
                })
            });
            (b, r)
        })
        .collect();

    let fsync_end = machine::fsync_latency(scratch.path(), 200).map_err(|e| format!("{e:#}"));
    let notes = std::fs::read_to_string(&args.notes).ok();
    let results = Results {
        machine,
        plan,
        bin_dir: args.bin_dir.display().to_string(),
        started,
        elapsed: clock.elapsed(),
        fsync: [fsync_start, fsync_end],
        postgres,
        record,
        push,
        peer,
        first_sync,
        load,
        scaling,
        notes,
    };
    let text = report::render(&results);
    if let Some(dir) = args.out.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let tmp = args.out.with_extension("md.tmp");
    std::fs::write(&tmp, &text).with_context(|| format!("while writing {}", tmp.display()))?;
    std::fs::rename(&tmp, &args.out)
        .with_context(|| format!("while writing {}", args.out.display()))?;
    report::check(&std::fs::read_to_string(&args.out)?, &results)
        .with_context(|| format!("{} is not a well-formed report", args.out.display()))?;
    step(&format!("wrote {}", args.out.display()));
    // Drop the fixtures (PostgreSQL template databases) before the scratch dir.
    drop(ctx);
    drop(sqlite);
    drop(postgres_fixture);
    if args.keep {
        step(&format!("kept {}", scratch.keep().display()));
    }
    let failures = results.failures();
    for f in &failures {
        eprintln!("pyck-bench: failed: {f}");
    }
    Ok(failures.is_empty())
}
