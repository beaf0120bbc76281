//! What the terminal's end-to-end tests (`tests/`) and the server's
//! integration tests (`server/tests/`) share, written once: the demo
//! fixtures, `pyck-server`'s admin commands, a tenant with the demo
//! warehouse and operators, and a fresh database on the test PostgreSQL.
//!
//! Each tree names its own `pyck-server` binary (only the server's tests
//! have `CARGO_BIN_EXE_pyck-server`) and keeps the harness that is its own:
//! simulated devices and tmux on one side, storage handles on the other.

// Test helpers panic on failure by design: a failed set-up is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// The demo warehouse's files (items, locations, stock, ASNs, orders).
pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures")
}

/// The PIN every demo operator gets.
pub const PIN: &str = "1234";

/// Runs `pyck-server --db DB ARGS…` (the binary at `bin`), asserting
/// success; returns its standard output.
pub fn admin(bin: &Path, db: &str, args: &[&str]) -> String {
    let out = Command::new(bin)
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

/// Creates `tenant` in `db` with the demo fixtures imported as warehouse
/// DC1 and each (badge, role) of `operators` as an operator with [`PIN`].
pub fn demo_tenant(bin: &Path, db: &str, tenant: &str, operators: &[(&str, &str)]) {
    admin(bin, db, &["tenant", "create", tenant]);
    let fixtures = fixtures();
    admin(
        bin,
        db,
        &[
            "import",
            "--tenant",
            tenant,
            "--warehouse",
            "DC1",
            fixtures.to_str().unwrap(),
        ],
    );
    for (badge, role) in operators {
        admin(
            bin,
            db,
            &[
                "user", "create", "--tenant", tenant, "--badge", badge, "--pin", PIN, "--role",
                role,
            ],
        );
    }
}

/// The URL of a fresh database, named `<prefix>_<UUIDv7>`, on the
/// PostgreSQL server `scripts/test` started. Fails (never skips) when
/// `PYCK_TEST_POSTGRES_URL` is not set: CI must run these tests.
pub async fn postgres_database(prefix: &str) -> String {
    let base = std::env::var("PYCK_TEST_POSTGRES_URL").expect(
        "PYCK_TEST_POSTGRES_URL is not set: run the tests through scripts/test, which starts PostgreSQL",
    );
    let name = format!("{prefix}_{}", uuid::Uuid::now_v7().simple());
    let (client, conn) = tokio_postgres::connect(&base, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(conn);
    client
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .await
        .unwrap();
    match base.rsplit_once('/') {
        Some((server, _db)) => format!("{server}/{name}"),
        None => panic!("PYCK_TEST_POSTGRES_URL has no database part: {base}"),
    }
}

/// [`postgres_database`] for a test without a runtime of its own.
pub fn postgres_database_blocking(prefix: &str) -> String {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(postgres_database(prefix))
}
