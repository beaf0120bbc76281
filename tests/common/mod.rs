//! The harness of the terminal's end-to-end tests: the real `pyck` and
//! `pyck-server` binaries, a real server on 127.0.0.1 with the demo
//! fixtures, and one PYCK_HOME per simulated device.

// Test helpers panic on failure by design: a failed set-up is a failed test.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

pub mod disk;
pub mod photos;
pub mod proxy;
pub mod s3;
pub mod tls;
pub mod tmux;
pub mod webhook;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

use serde_json::Value;

pub const PYCK: &str = env!("CARGO_BIN_EXE_pyck");

/// `pyck-server` sits next to `pyck` once the workspace is built (the test
/// command builds every binary of the workspace).
pub fn server_bin() -> PathBuf {
    let bin = Path::new(PYCK).with_file_name("pyck-server");
    assert!(
        bin.exists(),
        "{} is missing: build the workspace (`cargo build --workspace`) or run scripts/test",
        bin.display()
    );
    bin
}

pub use pyck_testkit::fixtures;

/// `pyck-server --db DB ARGS…`, asserting success; its standard output.
pub fn admin(db: &str, args: &[&str]) -> String {
    pyck_testkit::admin(&server_bin(), db, args)
}

/// A server database with the demo warehouse and operators (PIN 1234):
/// 1007 picker, 2001 receiver, 3001 supervisor.
pub struct Warehouse {
    pub dir: tempfile::TempDir,
    pub db: String,
}

impl Warehouse {
    pub fn new() -> Warehouse {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("server.sqlite3").display().to_string();
        Warehouse::provision(dir, db)
    }

    /// The same warehouse in a SQLite file under `parent` (a small file
    /// system under test).
    pub fn new_in(parent: &Path) -> Warehouse {
        let dir = tempfile::tempdir_in(parent).unwrap();
        let db = dir.path().join("server.sqlite3").display().to_string();
        Warehouse::provision(dir, db)
    }

    /// The same warehouse in a fresh database of the PostgreSQL server the
    /// test script started. Fails (never skips) without
    /// `PYCK_TEST_POSTGRES_URL`: CI must run these tests.
    pub fn postgres() -> Warehouse {
        let db = pyck_testkit::postgres_database_blocking("pyck_e2e");
        Warehouse::provision(tempfile::tempdir().unwrap(), db)
    }

    fn provision(dir: tempfile::TempDir, db: String) -> Warehouse {
        pyck_testkit::demo_tenant(
            &server_bin(),
            &db,
            "acme",
            &[
                ("1007", "picker"),
                ("2001", "receiver"),
                ("3001", "supervisor"),
            ],
        );
        Warehouse { dir, db }
    }

    pub fn token(&self) -> String {
        self.token_named("scanner")
    }

    /// Another tenant in the same database, `name`, with the fixtures in
    /// its own warehouse DC1 and no operators; a device token of it.
    pub fn other_tenant(&self, name: &str) -> String {
        admin(&self.db, &["tenant", "create", name]);
        admin(
            &self.db,
            &[
                "import",
                "--tenant",
                name,
                "--warehouse",
                "DC1",
                fixtures().to_str().unwrap(),
            ],
        );
        admin(
            &self.db,
            &[
                "device-token",
                "create",
                "--tenant",
                name,
                "--warehouse",
                "DC1",
            ],
        )
        .lines()
        .last()
        .unwrap()
        .to_owned()
    }

    /// A device token for a device the supervisor will know by `name`.
    pub fn token_named(&self, name: &str) -> String {
        admin(
            &self.db,
            &[
                "device-token",
                "create",
                "--tenant",
                "acme",
                "--warehouse",
                "DC1",
                "--name",
                name,
            ],
        )
        .lines()
        .last()
        .unwrap()
        .to_owned()
    }

    pub fn verify(&self) -> Output {
        Command::new(server_bin())
            .args(["--db", &self.db, "verify", "--tenant", "acme"])
            .output()
            .unwrap()
    }

    /// Server-side quantity at a location, by reading the database file.
    pub fn server_qty(&self, location: &str, sku: &str) -> i64 {
        let conn = rusqlite::Connection::open(&self.db).unwrap();
        conn.query_row(
            "SELECT COALESCE(SUM(qty), 0) FROM stock WHERE location = ?1 AND sku = ?2",
            [location, sku],
            |r| r.get(0),
        )
        .unwrap()
    }
}

/// A running `pyck-server serve`; SIGKILLed when dropped.
pub struct Server {
    child: Child,
    pub addr: String,
    /// `http` or `https`.
    scheme: String,
}

impl Server {
    /// Starts on a free port, or on `addr` (a restart on the same address).
    pub fn start(db: &str, addr: Option<&str>) -> Server {
        Server::start_with(db, addr, &[])
    }

    /// [`Server::start`] with more `serve` options.
    pub fn start_with(db: &str, addr: Option<&str>, options: &[&str]) -> Server {
        Server::spawn(db, addr, options, Stdio::null())
    }

    /// [`Server::start_with`] with more environment variables.
    pub fn start_with_env(
        db: &str,
        addr: Option<&str>,
        options: &[&str],
        env: &[(&str, String)],
    ) -> Server {
        let mut cmd = Command::new(server_bin());
        cmd.envs(env.iter().map(|(k, v)| (k, v)));
        Server::spawn_with(cmd, db, addr, options, Stdio::null())
    }

    /// A server logging JSON lines into `log`.
    pub fn start_logged(db: &str, log: &Path) -> Server {
        Server::start_logged_with(db, log, &[])
    }

    /// [`Server::start_logged`] with more `serve` options.
    pub fn start_logged_with(db: &str, log: &Path, options: &[&str]) -> Server {
        let file = std::fs::File::create(log).unwrap();
        let options = [&["--log-format", "json"], options].concat();
        Server::spawn(db, None, &options, Stdio::from(file))
    }

    /// A server writing its text log (the default format) into `log`, with
    /// `NO_COLOR` taken out of its environment: only the file not being a
    /// terminal may turn the colours off.
    pub fn start_text_logged(db: &str, log: &Path) -> Server {
        let file = std::fs::File::create(log).unwrap();
        let mut cmd = Command::new(server_bin());
        cmd.env_remove("NO_COLOR");
        Server::spawn_with(cmd, db, None, &["--log-format", "text"], Stdio::from(file))
    }

    /// A server logging everything down to debug level into `log`.
    pub fn start_debug_logged(db: &str, log: &Path) -> Server {
        let file = std::fs::File::create(log).unwrap();
        let mut cmd = Command::new(server_bin());
        cmd.env("RUST_LOG", "debug");
        Server::spawn_with(cmd, db, None, &["--log-format", "json"], Stdio::from(file))
    }

    fn spawn(db: &str, addr: Option<&str>, options: &[&str], stderr: Stdio) -> Server {
        Server::spawn_with(Command::new(server_bin()), db, addr, options, stderr)
    }

    fn spawn_with(
        mut cmd: Command,
        db: &str,
        addr: Option<&str>,
        options: &[&str],
        stderr: Stdio,
    ) -> Server {
        let listen = addr.unwrap_or("127.0.0.1:0");
        let mut child = cmd
            .args(["--db", db, "serve", "--listen", listen])
            .args(options)
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let (scheme, addr) = line
            .trim()
            .strip_prefix("pyck-server listening on ")
            .and_then(|url| url.split_once("://"))
            .unwrap_or_else(|| panic!("server did not start: {line:?}"));
        Server {
            addr: addr.to_owned(),
            scheme: scheme.to_owned(),
            child,
        }
    }

    pub fn url(&self) -> String {
        format!("{}://{}", self.scheme, self.addr)
    }

    /// The value of the counter `name` (with its labels, as written in
    /// `/metrics`) on this plain-http server, if it has one yet. One raw
    /// request, no process spawned: quick enough to poll between batches.
    pub fn metric(&self, name: &str) -> Option<u64> {
        assert_eq!(self.scheme, "http", "metric() speaks plain http only");
        let mut stream = TcpStream::connect(&self.addr).unwrap();
        write!(
            stream,
            "GET /metrics HTTP/1.1\r\nhost: {}\r\nconnection: close\r\n\r\n",
            self.addr
        )
        .unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).unwrap();
        response
            .lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(' '))
            .map(|n| n.trim().parse().unwrap())
    }

    /// `GET path` on this plain-http server: the status and the body. One
    /// raw request, no process spawned: quick enough to poll.
    pub fn get(&self, path: &str) -> (u16, String) {
        assert_eq!(self.scheme, "http", "get() speaks plain http only");
        let mut stream = TcpStream::connect(&self.addr).unwrap();
        write!(
            stream,
            "GET {path} HTTP/1.1\r\nhost: {}\r\nconnection: close\r\n\r\n",
            self.addr
        )
        .unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).unwrap();
        let status = response
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("not an HTTP answer: {response:?}"));
        let body = response
            .split_once("\r\n\r\n")
            .map(|(_, b)| b.to_owned())
            .unwrap_or_default();
        (status, body)
    }

    /// SIGTERM, then waits for the process to exit (at most a minute);
    /// its exit status and its address.
    pub fn terminate(mut self) -> (std::process::ExitStatus, String) {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        assert!(sent.success(), "kill -TERM {pid}");
        let status = wait_for("the server to exit after SIGTERM", || {
            self.child.try_wait().unwrap()
        });
        (status, self.addr.clone())
    }

    /// `kill -9`.
    pub fn kill(mut self) -> String {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.addr.clone()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The NATS server (with JetStream) the test script started. Fails (never
/// skips) without `PYCK_TEST_NATS_URL`: CI must run these tests.
pub fn nats_url() -> String {
    std::env::var("PYCK_TEST_NATS_URL").expect(
        "PYCK_TEST_NATS_URL is not set: run the tests through scripts/test, which starts nats-server -js",
    )
}

/// Polls `check` until it returns `Some`, for at most a minute (a generous
/// bound for a condition that should hold within seconds; not a speed test).
pub fn wait_for<T>(what: &str, mut check: impl FnMut() -> Option<T>) -> T {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        if let Some(v) = check() {
            return v;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "gave up waiting for {what}"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

/// The day the demo warehouse's lots are seen from: their expiry dates are
/// fixed in `fixtures/`, so terminals under test take this as today
/// (`PYCK_TODAY`) rather than let the calendar expire them (L2624B expired
/// on 2026-10-31; the others are good).
pub const FIXTURE_TODAY: &str = "2026-12-07";

/// Asserts that `pyck args` exited 0, showing its stderr if not; returns
/// its stdout.
pub fn succeeded(args: &[&str], out: Output) -> String {
    assert!(
        out.status.success(),
        "pyck {args:?} exited {:?}: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The arguments of the smallest real change the fixtures allow: one unit
/// of SKU-10001 from A-07-11 to A-01-03 ([`Device::move_one`], and tests
/// that run it some other way: another environment, an expected failure,
/// a `--ref`).
pub const MOVE_ONE: &[&str] = &[
    "move",
    "--sku",
    "SKU-10001",
    "--qty",
    "1",
    "--from",
    "A-07-11",
    "--to",
    "A-01-03",
];

/// One simulated device: its own PYCK_HOME.
pub struct Device {
    pub home: tempfile::TempDir,
}

impl Device {
    pub fn new() -> Device {
        Device {
            home: tempfile::tempdir().unwrap(),
        }
    }

    /// A device whose PYCK_HOME is a new directory inside `dir`.
    pub fn new_in(dir: &Path) -> Device {
        Device {
            home: tempfile::tempdir_in(dir).unwrap(),
        }
    }

    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(PYCK);
        c.args(args)
            .env("PYCK_HOME", self.home.path())
            .env("PYCK_TODAY", FIXTURE_TODAY)
            .stdin(Stdio::null());
        c
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.cmd(args).output().unwrap()
    }

    /// Runs and asserts exit 0; returns stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        succeeded(args, self.run(args))
    }

    pub fn json(&self, args: &[&str]) -> Value {
        let mut all = args.to_vec();
        all.push("--json");
        serde_json::from_str(&self.ok(&all)).unwrap()
    }

    /// init + login.
    /// Records the smallest real change the fixtures allow ([`MOVE_ONE`]).
    /// What a test does when it needs the device to have something to sync.
    pub fn move_one(&self) -> String {
        self.ok(MOVE_ONE)
    }

    pub fn enrol(&self, server: &str, token: &str, badge: &str) {
        self.ok(&["init", "--server", server, "--token", token]);
        self.ok(&["login", "--badge", badge, "--pin", "1234"]);
    }

    /// Local-view quantity.
    pub fn qty(&self, location: &str, sku: &str) -> i64 {
        let rows = self.json(&["stock", "--location", location, "--sku", sku]);
        rows.as_array()
            .unwrap()
            .iter()
            .map(|r| r["qty"].as_i64().unwrap())
            .sum()
    }

    pub fn journal(&self) -> Vec<Value> {
        self.json(&["journal"]).as_array().unwrap().clone()
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.home.path().join(name)
    }
}

/// A CSV of `n` moves of one unit of SKU-10001 between two bins, alternating
/// direction (starting from `a`, which must hold some) so stock never runs
/// out; an odd `n` leaves one unit more at `b`.
pub fn moves_csv(n: usize, a: &str, b: &str) -> String {
    let mut csv = String::from("sku,lot,qty,from,to\n");
    for i in 0..n {
        let (from, to) = if i % 2 == 0 { (a, b) } else { (b, a) };
        csv.push_str(&format!("SKU-10001,,1,{from},{to}\n"));
    }
    csv
}

/// Like [`moves_csv`], with a `ref` column unique to `batch`: a script that
/// records new moves, not a re-run of an earlier one.
pub fn moves_csv_with_refs(n: usize, a: &str, b: &str, batch: &str) -> String {
    let mut csv = String::from("sku,lot,qty,from,to,ref\n");
    for i in 0..n {
        let (from, to) = if i % 2 == 0 { (a, b) } else { (b, a) };
        csv.push_str(&format!("SKU-10001,,1,{from},{to},{batch}-{i}\n"));
    }
    csv
}

/// The tasks of `order` in a `pick list --json`.
pub fn tasks_of(list: &Value, order: &str) -> Vec<Value> {
    list.as_array()
        .unwrap()
        .iter()
        .filter(|t| t["order"] == order)
        .cloned()
        .collect()
}

/// Records, on the device only, picks of every task of `order` in full, its
/// packing and its shipping (the device must have pulled the tasks).
pub fn record_fulfilment(picker: &Device, order: &str) {
    let picks = tasks_of(&picker.json(&["pick", "list"]), order);
    assert!(!picks.is_empty(), "no picks for {order}");
    for t in &picks {
        picker.ok(&[
            "pick",
            "confirm",
            "--task",
            t["task"].as_str().unwrap(),
            "--qty",
            &t["qty"].to_string(),
        ]);
    }
    picker.ok(&["pack", "--order", order]);
    picker.ok(&["ship", "--order", order]);
}
