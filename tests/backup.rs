//! `pyck-server backup` end to end: a copy taken while devices push is one
//! consistent snapshot that restores to a server passing `verify`; a backup
//! never overwrites a file, and PostgreSQL points to its own tools.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use std::process::Command;

use common::{Device, Server, Warehouse, server_bin};

fn backup(db: &str, file: &std::path::Path) -> std::process::Output {
    Command::new(server_bin())
        .args(["--db", db, "backup", "--json"])
        .arg(file)
        .output()
        .unwrap()
}

#[test]
fn a_backup_taken_during_pushes_restores_to_a_consistent_server() {
    let wh = Warehouse::new();
    let server = Server::start(&wh.db, None);
    let device = Device::new();
    device.enrol(&server.url(), &wh.token(), "1007");
    // A device that only reads: it pulls, it never pushes.
    let reader = Device::new();
    reader.enrol(&server.url(), &wh.token(), "3001");
    let total = |wh_qty: &dyn Fn(&str) -> i64| wh_qty("A-07-11") + wh_qty("A-01-03");
    let before = total(&|loc| wh.server_qty(loc, "SKU-10001"));

    // Devices keep pushing while the backup runs.
    let pusher = {
        let device_home = device.home.path().to_owned();
        std::thread::spawn(move || {
            for _ in 0..20 {
                let run = |args: &[&str]| {
                    let out = Command::new(common::PYCK)
                        .env("PYCK_HOME", &device_home)
                        .args(args)
                        .output()
                        .unwrap();
                    assert!(out.status.success(), "{out:?}");
                };
                for _ in 0..5 {
                    run(common::MOVE_ONE);
                }
                run(&["sync"]);
            }
        })
    };
    let dir = tempfile::tempdir().unwrap();
    let mut copies = Vec::new();
    for i in 0.. {
        if pusher.is_finished() {
            break;
        }
        let file = dir.path().join(format!("backup-{i}.sqlite3"));
        let out = backup(&wh.db, &file);
        assert!(out.status.success(), "{out:?}");
        let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert!(summary["bytes"].as_u64().unwrap() > 0, "{summary}");
        copies.push(file);
    }
    pusher.join().unwrap();
    reader.ok(&["sync"]);
    drop(server);

    // Each copy restores (a plain file copy) to a database where every
    // invariant holds and the moved units are all somewhere: a batch is in a
    // copy whole or not at all.
    let mut moved_seen = Vec::new();
    for (i, copy) in copies.iter().enumerate() {
        // A fresh name each time: a server leaves -wal/-shm files beside its
        // database, which must not meet another copy.
        let restored = dir.path().join(format!("restored-{i}.sqlite3"));
        std::fs::copy(copy, &restored).unwrap();
        let db = restored.display().to_string();
        let verify = Command::new(server_bin())
            .args(["--db", &db, "verify", "--tenant", "acme"])
            .output()
            .unwrap();
        assert!(verify.status.success(), "{verify:?}");
        let conn = rusqlite::Connection::open(&restored).unwrap();
        let qty = |loc: &str| -> i64 {
            conn.query_row(
                "SELECT COALESCE(SUM(qty), 0) FROM stock WHERE location = ?1 AND sku = 'SKU-10001'",
                [loc],
                |r| r.get(0),
            )
            .unwrap()
        };
        assert_eq!(total(&qty), before, "units are conserved in {copy:?}");
        let moves: i64 = conn
            .query_row(
                "SELECT COUNT(*) FROM operations WHERE kind = 'move'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(
            moves % 5,
            0,
            "a sync of 5 moves is one batch: whole or absent"
        );
        moved_seen.push(moves);
        drop(conn);
        // A server starts on the restored file.
        let again = Server::start(&db, None);
        drop(again);
    }
    assert!(
        moved_seen.windows(2).all(|w| w[0] <= w[1]),
        "later copies hold more: {moved_seen:?}"
    );
    let (mid, _) = copies
        .iter()
        .zip(&moved_seen)
        .find(|(_, n)| 0 < **n && **n < 100)
        .unwrap_or_else(|| panic!("no copy was taken while the pushes ran: {moved_seen:?}"));

    // Restored from that copy, the server has lost the later moves; the
    // device still has them in its journal and pushes them again.
    let final_qty = device.qty("A-01-03", "SKU-10001");
    let restored = dir.path().join("restored.sqlite3");
    std::fs::copy(mid, &restored).unwrap();
    let db = restored.display().to_string();
    let again = Server::start(&db, None);
    let restored_qty = |conn: &rusqlite::Connection| -> i64 {
        conn.query_row(
            "SELECT COALESCE(SUM(qty), 0) FROM stock WHERE location = 'A-01-03' AND sku = 'SKU-10001'",
            [],
            |r| r.get(0),
        )
        .unwrap()
    };
    // The reader's cursor is past the restored log: it starts over, and
    // shows the restored state rather than keeping what the server lost.
    reader.ok(&["sync", "--server", &again.url()]);
    let at_backup = restored_qty(&rusqlite::Connection::open(&restored).unwrap());
    assert!(at_backup < final_qty);
    assert_eq!(reader.qty("A-01-03", "SKU-10001"), at_backup);
    device.ok(&["sync", "--server", &again.url()]);
    let conn = rusqlite::Connection::open(&restored).unwrap();
    let (server_qty, moves): (i64, i64) = conn
        .query_row(
            "SELECT (SELECT COALESCE(SUM(qty), 0) FROM stock WHERE location = 'A-01-03' \
                 AND sku = 'SKU-10001'), (SELECT COUNT(*) FROM operations WHERE kind = 'move')",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!((server_qty, moves), (final_qty, 100));
    let verify = Command::new(server_bin())
        .args(["--db", &db, "verify", "--tenant", "acme"])
        .output()
        .unwrap();
    assert!(verify.status.success(), "{verify:?}");
    // Once the device has pushed again, the reader catches up.
    reader.ok(&["sync", "--server", &again.url()]);
    assert_eq!(reader.qty("A-01-03", "SKU-10001"), final_qty);
}

#[test]
fn a_backup_never_overwrites_and_postgres_points_to_pg_dump() {
    let wh = Warehouse::new();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("taken.sqlite3");
    std::fs::write(&file, "precious").unwrap();
    let out = backup(&wh.db, &file);
    assert_eq!(out.status.code(), Some(3), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("already exists"));
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "precious");
    // Nothing half-written is left beside it.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);

    let pg = Warehouse::postgres();
    let out = backup(&pg.db, &dir.path().join("pg.sqlite3"));
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("pg_dump"));
}

/// The PostgreSQL procedure of docs/OPERATIONS.md, run as written: pg_dump
/// of a live database, pg_restore into a new one, `verify` there.
#[test]
fn the_postgres_procedure_restores_a_database_that_verifies() {
    let bin = std::path::PathBuf::from(std::env::var("PYCK_TEST_PG_BIN").expect(
        "PYCK_TEST_PG_BIN is not set: run the tests through scripts/test, which starts PostgreSQL",
    ));
    let wh = Warehouse::postgres();
    let server = Server::start(&wh.db, None);
    let device = Device::new();
    device.enrol(&server.url(), &wh.token(), "1007");
    for _ in 0..3 {
        device.ok(&[
            "move",
            "--sku",
            "SKU-10001",
            "--qty",
            "2",
            "--from",
            "A-07-11",
            "--to",
            "A-01-03",
        ]);
    }
    device.ok(&["sync"]);

    let dir = tempfile::tempdir().unwrap();
    let dump = dir.path().join("pyck.dump");
    let run = |program: &str, args: &[&str]| {
        let out = Command::new(bin.join(program)).args(args).output().unwrap();
        assert!(out.status.success(), "{program} {args:?}: {out:?}");
    };
    run(
        "pg_dump",
        &["--format=custom", "--file", dump.to_str().unwrap(), &wh.db],
    );
    drop(server);
    let (base, _) = wh.db.rsplit_once('/').unwrap();
    let name = format!("pyck_restored_{}", std::process::id());
    run(
        "psql",
        &[
            "-X",
            "-q",
            "-d",
            &format!("{base}/postgres"),
            "-c",
            &format!("CREATE DATABASE {name}"),
        ],
    );
    let restored = format!("{base}/{name}");
    run(
        "pg_restore",
        &["--no-owner", "--dbname", &restored, dump.to_str().unwrap()],
    );
    let verify = Command::new(server_bin())
        .args(["--db", &restored, "verify", "--tenant", "acme"])
        .output()
        .unwrap();
    assert!(verify.status.success(), "{verify:?}");
    // The restored server knows the device and its moves.
    let again = Server::start(&restored, None);
    let after = Device::new();
    let token = common::admin(
        &restored,
        &[
            "device-token",
            "create",
            "--tenant",
            "acme",
            "--warehouse",
            "DC1",
        ],
    );
    after.enrol(&again.url(), token.lines().last().unwrap(), "1007");
    assert_eq!(
        after.qty("A-01-03", "SKU-10001"),
        device.qty("A-01-03", "SKU-10001")
    );
}
