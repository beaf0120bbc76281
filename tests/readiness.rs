//! `/readyz` means "this replica can commit a write", against a real server
//! process: on SQLite, a small tmpfs filled past `--min-free-disk-mb` makes
//! it 503 `disk_nearly_full` and removing the filler makes it ready again,
//! while a scraper hammering it costs at most one write per probe interval;
//! on PostgreSQL, a database made read-only (as a hot standby is) makes it
//! 503 `database_not_writable` until it takes writes again.

#![allow(clippy::unwrap_used)]

use crate::common;

use std::time::Instant;

use common::disk::{Tmpfs, fill};
use common::{Server, Warehouse, wait_for};
use serde_json::Value;

/// Seconds between two write probes of the server (`readiness.rs`).
const PROBE_INTERVAL_S: u64 = 5;

/// Polls `/readyz` until it answers `status` with the refusal `code` (none
/// for 200), and returns the body.
fn ready_becomes(server: &Server, status: u16, code: Option<&str>) -> String {
    wait_for(&format!("/readyz to answer {status} {code:?}"), || {
        let (got, body) = server.get("/readyz");
        let got_code = serde_json::from_str::<Value>(&body).ok().and_then(|v| {
            v["errors"][0]["extensions"]["code"]
                .as_str()
                .map(str::to_owned)
        });
        (got == status && got_code.as_deref() == code).then_some(body)
    })
}

#[test]
fn sqlite_on_a_nearly_full_disk_is_not_ready_until_there_is_room() {
    let disk = Tmpfs::mount("48m");
    let wh = Warehouse::new_in(disk.path());
    let server = Server::start_with(&wh.db, None, &["--min-free-disk-mb", "16"]);
    assert!(ready_becomes(&server, 200, None).contains("ready (sqlite)"));

    // Every write probe counted by a trigger in the server's own file.
    let db = rusqlite::Connection::open(&wh.db).unwrap();
    db.execute_batch(
        "CREATE TABLE probes_seen (n INTEGER NOT NULL); INSERT INTO probes_seen VALUES (0);
         CREATE TRIGGER count_probes AFTER UPDATE ON readiness_probe
         BEGIN UPDATE probes_seen SET n = n + 1; END;",
    )
    .unwrap();
    let started = Instant::now();
    for _ in 0..200 {
        assert_eq!(server.get("/readyz").0, 200);
    }
    let elapsed = started.elapsed().as_secs();
    let probes: i64 = db
        .query_row("SELECT n FROM probes_seen", [], |r| r.get(0))
        .unwrap();
    assert!(
        probes <= 1 + (elapsed / PROBE_INTERVAL_S) as i64,
        "200 requests in {elapsed} s wrote {probes} probes"
    );

    // Under the floor: not ready, saying why; room again: ready.
    let filler = fill(disk.path(), 8 * 1024 * 1024);
    let body = ready_becomes(&server, 503, Some("disk_nearly_full"));
    assert!(
        body.contains("under the floor of 16 MiB (--min-free-disk-mb)"),
        "{body}"
    );
    std::fs::remove_file(&filler).unwrap();
    ready_becomes(&server, 200, None);
}

/// Runs `sql` on the test PostgreSQL server's own database (not the one
/// under test, so that `ALTER DATABASE` on it is allowed).
fn postgres(sql: &str) {
    let url = std::env::var("PYCK_TEST_POSTGRES_URL").unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let (client, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
            .await
            .unwrap();
        tokio::spawn(conn);
        client.batch_execute(sql).await.unwrap();
    });
}

/// Sets the database read-only or writable as a hot standby would be, and
/// ends its sessions so the server's pool opens new ones under the setting.
fn set_read_only(database: &str, on: bool) {
    let setting = if on {
        "SET default_transaction_read_only = on"
    } else {
        "RESET default_transaction_read_only"
    };
    postgres(&format!(
        "ALTER DATABASE {database} {setting};
         SELECT pg_terminate_backend(pid) FROM pg_stat_activity
         WHERE datname = '{database}' AND pid <> pg_backend_pid();"
    ));
}

#[test]
fn postgres_made_read_only_is_not_ready_until_writable_again() {
    let wh = Warehouse::postgres();
    let database = wh.db.rsplit('/').next().unwrap().to_owned();
    let server = Server::start(&wh.db, None);
    assert!(ready_becomes(&server, 200, None).contains("ready (postgres)"));

    set_read_only(&database, true);
    let body = ready_becomes(&server, 503, Some("database_not_writable"));
    assert!(body.contains("did not commit a write"), "{body}");
    // Database text never reaches the client.
    assert!(!body.contains("read-only transaction"), "{body}");

    set_read_only(&database, false);
    ready_becomes(&server, 200, None);
}
