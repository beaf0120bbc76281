//! What the scenarios run against: the real `pyck` and `pyck-server`
//! binaries as processes, server databases made from a prepared template
//! (a copied SQLite file, or a PostgreSQL database created from a template
//! database), terminals with their own PYCK_HOME, and a loopback relay that
//! counts the bytes of a transfer.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail, ensure};
use serde_json::Value;

pub const TENANT: &str = "bench";
pub const WAREHOUSE: &str = "DC1";
/// The operator every simulated terminal logs in as (a supervisor: may
/// record every kind).
pub const BADGE: &str = "9001";
pub const PIN: &str = "1234";

/// The two binaries under test.
#[derive(Debug, Clone)]
pub struct Bins {
    pub pyck: PathBuf,
    pub server: PathBuf,
}

impl Bins {
    pub fn in_dir(dir: &Path) -> anyhow::Result<Bins> {
        let bins = Bins {
            pyck: dir.join("pyck"),
            server: dir.join("pyck-server"),
        };
        for bin in [&bins.pyck, &bins.server] {
            if !bin.is_file() {
                bail!(
                    "{} is missing: build first (`cargo build --release --workspace`, or pass --bin-dir)",
                    bin.display()
                );
            }
        }
        Ok(bins)
    }
}

/// Runs a command to completion; fails with its stderr unless it exits 0.
pub fn checked(cmd: &mut Command, what: &str) -> anyhow::Result<Output> {
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("while starting {what}"))?;
    if !out.status.success() {
        bail!(
            "{what} exited {:?}: {}",
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(out)
}

/// Times a command run to completion (exit 0 required).
pub fn timed(cmd: &mut Command, what: &str) -> anyhow::Result<(Duration, Output)> {
    let start = Instant::now();
    let out = checked(cmd, what)?;
    Ok((start.elapsed(), out))
}

// ---------------------------------------------------------------------------
// Server databases
// ---------------------------------------------------------------------------

/// Where a server keeps its data: a `--db` value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// As `--scaling` names it.
    pub fn key(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "SQLite",
            Backend::Postgres => "PostgreSQL",
        }
    }
}

/// A PostgreSQL server the harness may create databases in.
#[derive(Debug, Clone)]
pub struct Postgres {
    /// URL of a database to connect to for CREATE/DROP DATABASE.
    admin_url: String,
}

impl Postgres {
    pub fn new(url: &str) -> Postgres {
        Postgres {
            admin_url: url.to_owned(),
        }
    }

    /// The URL of database `name` on the same server.
    pub fn url_of(&self, name: &str) -> anyhow::Result<String> {
        let (server, _) = self
            .admin_url
            .rsplit_once('/')
            .context("the PostgreSQL URL has no database part")?;
        Ok(format!("{server}/{name}"))
    }

    /// Runs SQL statements and returns the first column of the last one's
    /// rows as text.
    pub fn sql(&self, statements: &[&str]) -> anyhow::Result<Vec<String>> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        rt.block_on(async {
            let (client, conn) = tokio_postgres::connect(&self.admin_url, tokio_postgres::NoTls)
                .await
                .context("while connecting to PostgreSQL")?;
            let driver = tokio::spawn(conn);
            let mut out = Vec::new();
            for s in statements {
                let rows = client
                    .simple_query(s)
                    .await
                    .with_context(|| format!("while running {s:?}"))?;
                out = rows
                    .iter()
                    .filter_map(|m| match m {
                        tokio_postgres::SimpleQueryMessage::Row(r) => r.get(0).map(str::to_owned),
                        _ => None,
                    })
                    .collect();
            }
            drop(client);
            let _ = driver.await;
            Ok(out)
        })
    }

    /// Settings that decide what a PostgreSQL commit costs.
    pub fn durability(&self) -> anyhow::Result<String> {
        let mut parts = Vec::new();
        for setting in ["fsync", "synchronous_commit", "full_page_writes"] {
            let v = self.sql(&[&format!("SHOW {setting}")])?;
            parts.push(format!(
                "{setting}={}",
                v.first().map_or("?", |s| s.as_str())
            ));
        }
        let version = self.sql(&["SHOW server_version"])?;
        Ok(format!(
            "PostgreSQL {} ({})",
            version.first().map_or("?", |s| s.as_str()),
            parts.join(", ")
        ))
    }

    /// Turns durable commits on in a throwaway cluster (scripts/test starts
    /// one with fsync off), so both backends pay for reaching the disk.
    pub fn make_durable(&self) -> anyhow::Result<()> {
        self.sql(&[
            "ALTER SYSTEM SET fsync = on",
            "ALTER SYSTEM SET synchronous_commit = on",
            "ALTER SYSTEM SET full_page_writes = on",
            "SELECT pg_reload_conf()",
        ])?;
        Ok(())
    }
}

/// A prepared server database (tenant, generated warehouse, operators, device
/// tokens) that each scenario run copies, so every run starts from the same
/// state without re-importing.
pub struct Template {
    /// SQLite: the template file. PostgreSQL: the template database's URL.
    db: String,
    pg: Option<(Postgres, String)>,
    dir: PathBuf,
    /// Device tokens created in the template (valid in every copy).
    pub tokens: Vec<String>,
    copies: std::cell::Cell<u32>,
}

impl Template {
    /// Creates the template: tenant, import of `import_dir`, operator
    /// [`BADGE`], and `devices` device tokens.
    pub fn create(
        bins: &Bins,
        backend: Backend,
        pg: Option<&Postgres>,
        dir: &Path,
        import_dir: &Path,
        devices: usize,
    ) -> anyhow::Result<Template> {
        let (db, pg) = match backend {
            Backend::Sqlite => (dir.join("template.sqlite3").display().to_string(), None),
            Backend::Postgres => {
                let pg = pg.context("no PostgreSQL URL given (--postgres-url)")?;
                let name = format!("pyck_bench_tmpl_{}", uuid::Uuid::now_v7().simple());
                pg.sql(&[&format!("CREATE DATABASE {name}")])?;
                (pg.url_of(&name)?, Some((pg.clone(), name)))
            }
        };
        let admin = |args: &[&str]| -> anyhow::Result<String> {
            let out = checked(
                Command::new(&bins.server).arg("--db").arg(&db).args(args),
                &format!("pyck-server {}", args.first().copied().unwrap_or("")),
            )?;
            Ok(String::from_utf8_lossy(&out.stdout).into_owned())
        };
        admin(&["tenant", "create", TENANT])?;
        let import = import_dir.display().to_string();
        admin(&[
            "import",
            "--tenant",
            TENANT,
            "--warehouse",
            WAREHOUSE,
            &import,
        ])?;
        admin(&[
            "user",
            "create",
            "--tenant",
            TENANT,
            "--badge",
            BADGE,
            "--pin",
            PIN,
            "--role",
            "supervisor",
        ])?;
        let mut tokens = Vec::with_capacity(devices);
        for i in 0..devices {
            let name = format!("scanner-{i}");
            let out = admin(&[
                "device-token",
                "create",
                "--tenant",
                TENANT,
                "--warehouse",
                WAREHOUSE,
                "--name",
                &name,
            ])?;
            tokens.push(
                out.lines()
                    .last()
                    .context("device-token create printed no token")?
                    .to_owned(),
            );
        }
        settle(bins, &db)?;
        Ok(Template {
            db,
            pg,
            dir: dir.to_owned(),
            tokens,
            copies: std::cell::Cell::new(0),
        })
    }

    /// A fresh database with the template's content: its `--db` value.
    /// The backend the template is on.
    pub fn backend(&self) -> Backend {
        if self.pg.is_some() {
            Backend::Postgres
        } else {
            Backend::Sqlite
        }
    }

    pub fn instance(&self) -> anyhow::Result<Instance> {
        let n = self.copies.get() + 1;
        self.copies.set(n);
        match &self.pg {
            None => {
                let path = self.dir.join(format!("server-{n}.sqlite3"));
                std::fs::copy(&self.db, &path)
                    .with_context(|| format!("while copying {}", self.db))?;
                let wal = format!("{}-wal", self.db);
                if Path::new(&wal).exists() {
                    std::fs::copy(&wal, format!("{}-wal", path.display()))?;
                }
                Ok(Instance {
                    db: path.display().to_string(),
                    pg: None,
                })
            }
            Some((pg, template)) => {
                let name = format!("pyck_bench_{}", uuid::Uuid::now_v7().simple());
                pg.sql(&[&format!("CREATE DATABASE {name} TEMPLATE {template}")])?;
                Ok(Instance {
                    db: pg.url_of(&name)?,
                    pg: Some((pg.clone(), name)),
                })
            }
        }
    }
}

/// Brings a freshly imported database to the state a running server keeps:
/// the import's events relayed out of the outbox (a server does that within
/// seconds; here none ran yet) and, on SQLite, the log copied into the
/// database file. Without it every copy would start by relaying and
/// deleting the import's 100,000 events while the scenario is timed.
fn settle(bins: &Bins, db: &str) -> anyhow::Result<()> {
    let server = Server::start(bins, db)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let store = pyck_server::storage::open(db).await?;
        let deadline = Instant::now() + Duration::from_secs(300);
        while !store.outbox(1).await?.is_empty() {
            ensure!(
                Instant::now() < deadline,
                "the server did not relay the import's events in 5 minutes"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        drop(server);
        // Closing the storage checkpoints the log into the file (SQLite).
        drop(store);
        Ok(())
    })
}

impl Drop for Template {
    fn drop(&mut self) {
        if let Some((pg, name)) = &self.pg {
            let _ = pg.sql(&[&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")]);
        }
    }
}

/// One run's server database; a PostgreSQL one is dropped with it.
pub struct Instance {
    pub db: String,
    pg: Option<(Postgres, String)>,
}

impl Instance {
    pub fn verify(&self, bins: &Bins) -> anyhow::Result<(Duration, bool)> {
        let start = Instant::now();
        let out = Command::new(&bins.server)
            .args(["--db", &self.db, "verify", "--tenant", TENANT, "--json"])
            .stdin(Stdio::null())
            .output()
            .context("while starting pyck-server verify")?;
        let elapsed = start.elapsed();
        match out.status.code() {
            Some(0) => Ok((elapsed, true)),
            Some(7) => Ok((elapsed, false)),
            code => bail!(
                "pyck-server verify exited {code:?}: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            ),
        }
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        match &self.pg {
            Some((pg, name)) => {
                let _ = pg.sql(&[&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")]);
            }
            None => {
                for suffix in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{}{suffix}", self.db));
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Server process
// ---------------------------------------------------------------------------

/// A running `pyck-server serve` on 127.0.0.1; killed when dropped.
pub struct Server {
    child: Child,
    pub url: String,
}

impl Server {
    pub fn start(bins: &Bins, db: &str) -> anyhow::Result<Server> {
        let mut child = Command::new(&bins.server)
            .args(["--db", db, "serve", "--listen", "127.0.0.1:0"])
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .context("while starting pyck-server serve")?;
        let stdout = child.stdout.take().context("no stdout")?;
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line)?;
        let Some(addr) = line.trim().strip_prefix("pyck-server listening on ") else {
            let _ = child.kill();
            let _ = child.wait();
            bail!("pyck-server did not start: {line:?}");
        };
        Ok(Server {
            url: addr.to_owned(),
            child,
        })
    }

    /// Bytes the server has caused to be written to storage so far
    /// (`write_bytes` of `/proc/<pid>/io`, all its threads): on SQLite the
    /// WAL, the checkpoints into the database file and anything else.
    pub fn disk_writes(&self) -> anyhow::Result<u64> {
        let io = std::fs::read_to_string(format!("/proc/{}/io", self.child.id()))
            .context("while reading the server's /proc io")?;
        io.lines()
            .find_map(|l| l.strip_prefix("write_bytes:"))
            .and_then(|v| v.trim().parse().ok())
            .context("no write_bytes in /proc/<pid>/io")
    }

    /// Of [`Server::disk_writes`], the bytes its SQLite checkpoint thread
    /// wrote (that thread's `/proc/<pid>/task/<tid>/io`): copies of the WAL
    /// into the database file. The rest is the WAL itself.
    pub fn checkpoint_writes(&self) -> anyhow::Result<u64> {
        let tasks = format!("/proc/{}/task", self.child.id());
        for task in std::fs::read_dir(&tasks).with_context(|| format!("while listing {tasks}"))? {
            let dir = task?.path();
            let Ok(name) = std::fs::read_to_string(dir.join("comm")) else {
                continue; // the thread ended meanwhile
            };
            // The thread is `sqlite-checkpoint`; `comm` keeps 15 bytes.
            if name.trim() == "sqlite-checkpoi" {
                let io = std::fs::read_to_string(dir.join("io"))?;
                return io
                    .lines()
                    .find_map(|l| l.strip_prefix("write_bytes:"))
                    .and_then(|v| v.trim().parse().ok())
                    .context("no write_bytes in the checkpoint thread's io");
            }
        }
        anyhow::bail!("the server has no sqlite-checkpoint thread")
    }

    /// CPU seconds (user and system, all threads) the server has used.
    pub fn cpu_seconds(&self) -> anyhow::Result<f64> {
        proc_cpu(self.child.id(), Whose::Own)?.context("the server has no /proc stat")
    }

    /// Peak resident set size so far (VmHWM), in bytes.
    pub fn peak_rss(&self) -> anyhow::Result<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .context("while reading the server's /proc status")?;
        let kib = status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .context("no VmHWM in /proc/<pid>/status")?;
        Ok(kib * 1024)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

// ---------------------------------------------------------------------------
// Terminals
// ---------------------------------------------------------------------------

/// One simulated terminal: its own PYCK_HOME.
pub struct Device {
    pub home: PathBuf,
    pyck: PathBuf,
}

impl Device {
    pub fn new(bins: &Bins, home: PathBuf) -> anyhow::Result<Device> {
        std::fs::create_dir_all(&home)?;
        Ok(Device {
            home,
            pyck: bins.pyck.clone(),
        })
    }

    /// A terminal whose store is a copy of `template`'s: same replica and
    /// logged-in operator, an empty journal, and no registration (run
    /// [`Device::init`] to register it with a server; it then pulls only
    /// what changed since the template's cursor).
    pub fn from_template(bins: &Bins, template: &Device, home: PathBuf) -> anyhow::Result<Device> {
        let device = Device::new(bins, home)?;
        std::fs::copy(template.store_file(), device.store_file())
            .context("while copying a terminal's store")?;
        // Every pyck process checkpoints on exit, but a WAL left behind
        // holds committed pages: copy it along.
        let wal = template.home.join("pyck.sqlite3-wal");
        if wal.exists() {
            std::fs::copy(&wal, device.home.join("pyck.sqlite3-wal"))?;
        }
        Ok(device)
    }

    pub fn store_file(&self) -> PathBuf {
        self.home.join("pyck.sqlite3")
    }

    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(&self.pyck);
        c.args(args)
            .env("PYCK_HOME", &self.home)
            .env_remove("PYCK_PUSH_BATCH")
            .env_remove("PYCK_PULL_PAGE")
            .stdin(Stdio::null());
        c
    }

    pub fn ok(&self, args: &[&str]) -> anyhow::Result<String> {
        let out = checked(
            &mut self.cmd(args),
            &format!("pyck {}", args.first().copied().unwrap_or("")),
        )?;
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    pub fn json(&self, args: &[&str]) -> anyhow::Result<Value> {
        let out = self.ok(args)?;
        serde_json::from_str(&out).with_context(|| format!("pyck {args:?} printed {out:?}"))
    }

    pub fn init(&self, server: &str, token: &str) -> anyhow::Result<Value> {
        self.json(&["init", "--server", server, "--token", token, "--json"])
    }

    pub fn login(&self) -> anyhow::Result<()> {
        self.ok(&["login", "--badge", BADGE, "--pin", PIN])?;
        Ok(())
    }

    /// Records the moves of a CSV file (untimed set-up); returns how many
    /// were recorded.
    pub fn record_file(&self, csv: &Path) -> anyhow::Result<()> {
        let file = csv.display().to_string();
        checked(
            self.cmd(&["move", "--file", &file]).stdout(Stdio::null()),
            "pyck move --file",
        )?;
        Ok(())
    }
}

// ---------------------------------------------------------------------------
// A byte-counting loopback relay
// ---------------------------------------------------------------------------

/// Relays TCP from its own loopback port to the server and counts the bytes
/// each way: what a transfer costs on the wire, HTTP framing included.
pub struct Relay {
    pub url: String,
    pub up: Arc<AtomicU64>,
    pub down: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
    addr: String,
}

impl Relay {
    pub fn start(upstream_url: &str) -> anyhow::Result<Relay> {
        let upstream = upstream_url
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .to_owned();
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?.to_string();
        let (up, down) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
        let stop = Arc::new(AtomicBool::new(false));
        let (u, d, s) = (up.clone(), down.clone(), stop.clone());
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if s.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(client) = conn else { continue };
                let Ok(server) = TcpStream::connect(&upstream) else {
                    continue;
                };
                // Relay each chunk at once: with Nagle's algorithm the last
                // small segment of a response waits for the delayed ACK of
                // the previous one (40 ms), which the relay would add to
                // every request of a transfer.
                let _ = client.set_nodelay(true);
                let _ = server.set_nodelay(true);
                let (Ok(c2), Ok(s2)) = (client.try_clone(), server.try_clone()) else {
                    continue;
                };
                let (u, d) = (u.clone(), d.clone());
                std::thread::spawn(move || pump(client, server, &u));
                std::thread::spawn(move || pump(s2, c2, &d));
            }
        });
        Ok(Relay {
            url: format!("http://{addr}"),
            up,
            down,
            stop,
            addr,
        })
    }

    pub fn bytes(&self) -> (u64, u64) {
        (
            self.up.load(Ordering::SeqCst),
            self.down.load(Ordering::SeqCst),
        )
    }
}

fn pump(mut from: TcpStream, mut to: TcpStream, counter: &AtomicU64) {
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                counter.fetch_add(n as u64, Ordering::SeqCst);
                if to.write_all(&buf[..n]).is_err() {
                    break;
                }
            }
        }
    }
    let _ = to.shutdown(Shutdown::Write);
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect(&self.addr);
    }
}

// ---------------------------------------------------------------------------
// CPU time, from /proc
// ---------------------------------------------------------------------------

/// The kernel's clock ticks per second in `/proc/<pid>/stat` (`USER_HZ`,
/// fixed at 100 on Linux whatever the kernel's own tick).
const USER_HZ: f64 = 100.0;

/// Whose CPU time of a process [`proc_cpu`] reads.
#[derive(Clone, Copy)]
pub enum Whose {
    /// The process's own.
    Own,
    /// Its children's that it has waited for.
    WaitedChildren,
}

/// CPU seconds (user and system) from `/proc/<pid>/stat`; `None` when the
/// process is gone.
pub fn proc_cpu(pid: u32, whose: Whose) -> anyhow::Result<Option<f64>> {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return Ok(None);
    };
    // The fields after the command name, which is in parentheses and may
    // hold spaces: state is the 3rd field, utime the 14th, cutime the 16th.
    let rest = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest)
        .context("a /proc stat without a command name")?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let at = match whose {
        Whose::Own => 11,
        Whose::WaitedChildren => 13,
    };
    let ticks = |i: usize| -> anyhow::Result<f64> {
        Ok(fields
            .get(i)
            .context("a short /proc stat")?
            .parse::<u64>()? as f64)
    };
    Ok(Some((ticks(at)? + ticks(at + 1)?) / USER_HZ))
}

/// CPU seconds of every process named `postgres` on the machine: the
/// PostgreSQL server the scenarios use (its backends come and go, so sample
/// before and after and take the difference; a backend that ended between
/// the two is missed, which makes the figure a lower bound).
pub fn postgres_cpu() -> anyhow::Result<f64> {
    let mut total = 0.0;
    for entry in std::fs::read_dir("/proc")? {
        let entry = entry?;
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        let Ok(comm) = std::fs::read_to_string(entry.path().join("comm")) else {
            continue;
        };
        if comm.trim() == "postgres" {
            total += proc_cpu(pid, Whose::Own)?.unwrap_or(0.0);
        }
    }
    Ok(total)
}
