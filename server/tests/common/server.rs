//! A real `pyck-server serve` on 127.0.0.1:0, set up with the demo fixtures,
//! killed when dropped.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

pub const BIN: &str = env!("CARGO_BIN_EXE_pyck-server");

pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures")
}

/// Runs an admin command against `db`, asserting success; returns stdout.
pub fn admin(db: &str, args: &[&str]) -> String {
    let out = Command::new(BIN)
        .arg("--db")
        .arg(db)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "pyck-server {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Creates a tenant with the fixtures and returns a fresh device token.
pub fn provision(db: &str, tenant: &str) -> String {
    admin(db, &["tenant", "create", tenant]);
    admin(
        db,
        &[
            "import",
            "--tenant",
            tenant,
            "--warehouse",
            "DC1",
            fixtures().to_str().unwrap(),
        ],
    );
    admin(
        db,
        &[
            "user", "create", "--tenant", tenant, "--badge", "1007", "--pin", "1234", "--role",
            "picker",
        ],
    );
    admin(
        db,
        &[
            "user", "create", "--tenant", tenant, "--badge", "2001", "--pin", "1234", "--role",
            "receiver",
        ],
    );
    device_token(db, tenant)
}

pub fn device_token(db: &str, tenant: &str) -> String {
    let out = admin(
        db,
        &[
            "device-token",
            "create",
            "--tenant",
            tenant,
            "--warehouse",
            "DC1",
        ],
    );
    out.lines().last().unwrap().to_owned()
}

pub struct TestServer {
    child: Child,
    pub url: String,
}

impl TestServer {
    pub fn start(db: &str) -> Self {
        Self::start_with(db, &[])
    }

    /// [`TestServer::start`] with more `serve` options.
    pub fn start_with(db: &str, options: &[&str]) -> Self {
        let mut child = Command::new(BIN)
            .args(["--db", db, "serve", "--listen", "127.0.0.1:0"])
            .args(options)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).unwrap();
        let base = line
            .trim()
            .strip_prefix("pyck-server listening on ")
            .unwrap_or_else(|| panic!("unexpected first line: {line:?}"))
            .to_owned();
        TestServer { child, url: base }
    }

    pub fn graphql(&self) -> String {
        format!("{}/graphql", self.url)
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
