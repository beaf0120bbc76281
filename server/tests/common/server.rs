//! A real `pyck-server serve` on 127.0.0.1:0, set up with the demo fixtures,
//! killed when dropped.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

pub const BIN: &str = env!("CARGO_BIN_EXE_pyck-server");

pub use pyck_testkit::fixtures;

/// Runs an admin command against `db`, asserting success; returns stdout.
pub fn admin(db: &str, args: &[&str]) -> String {
    pyck_testkit::admin(Path::new(BIN), db, args)
}

/// Creates a tenant with the fixtures and returns a fresh device token.
pub fn provision(db: &str, tenant: &str) -> String {
    pyck_testkit::demo_tenant(
        Path::new(BIN),
        db,
        tenant,
        &[("1007", "picker"), ("2001", "receiver")],
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
