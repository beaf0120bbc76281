//! `kill -9` at awkward moments: the journal, the server, and two writers
//! on one PYCK_HOME.

#![allow(clippy::unwrap_used)]

use crate::common;

use std::time::{Duration, Instant};

use common::{Device, Server, Warehouse};

/// A small deterministic generator, so a failing trial can be replayed from
/// the seed in its message.
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % n.max(1)
    }
}

fn seed() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
}

#[test]
fn a_killed_file_import_leaves_all_or_nothing() {
    let wh = Warehouse::new();
    let server = Server::start(&wh.db, None);
    let device = Device::new();
    device.enrol(&server.url(), &wh.token(), "1007");
    drop(server); // everything below is offline
    let file = device.path("moves.csv");
    std::fs::write(&file, common::moves_csv(5_000, "A-07-11", "A-01-03")).unwrap();
    let file = file.to_str().unwrap().to_owned();

    // How long one whole run takes here, to spread the kills across it.
    let started = Instant::now();
    device.ok(&["move", "--file", &file]);
    let full = started.elapsed().as_micros() as u64;
    let mut expected = 5_000;

    let seed = seed();
    let mut rng = Lcg(seed);
    let mut killed_mid_run = 0;
    for trial in 0..20 {
        // New moves each trial: their own refs.
        let path = device.path(&format!("moves-{trial}.csv"));
        std::fs::write(
            &path,
            common::moves_csv_with_refs(5_000, "A-07-11", "A-01-03", &format!("t{trial}")),
        )
        .unwrap();
        let rows = 5_000;
        let mut child = device
            .cmd(&["move", "--file", path.to_str().unwrap()])
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_micros(rng.below(full * 2)));
        let _ = child.kill();
        let status = child.wait().unwrap();
        if !status.success() {
            killed_mid_run += 1;
        }
        let n = device.journal().len();
        assert!(
            n == expected || n == expected + rows,
            "trial {trial} (seed {seed}): journal holds {n}, expected {expected} or {}",
            expected + rows
        );
        expected = n;
        // The store is usable after every kill.
        device.ok(&["status"]);
    }
    assert!(
        killed_mid_run > 0,
        "no trial was actually interrupted (seed {seed})"
    );
}

#[test]
fn two_processes_on_one_home_both_record_with_distinct_numbers() {
    let wh = Warehouse::new();
    let server = Server::start(&wh.db, None);
    let device = Device::new();
    device.enrol(&server.url(), &wh.token(), "1007");
    let a = device.path("a.csv");
    let b = device.path("b.csv");
    std::fs::write(&a, common::moves_csv(2_000, "A-07-11", "A-01-03")).unwrap();
    std::fs::write(&b, common::moves_csv(2_000, "A-05-09", "A-01-06")).unwrap();
    let mut first = device
        .cmd(&["move", "--file", a.to_str().unwrap()])
        .spawn()
        .unwrap();
    let mut second = device
        .cmd(&["move", "--file", b.to_str().unwrap()])
        .spawn()
        .unwrap();
    assert!(first.wait().unwrap().success());
    assert!(second.wait().unwrap().success());
    let journal = device.journal();
    assert_eq!(journal.len(), 4_000);
    let mut seqs: Vec<u64> = journal.iter().map(|e| e["seq"].as_u64().unwrap()).collect();
    seqs.sort_unstable();
    assert_eq!(
        seqs,
        (1..=4_000).collect::<Vec<_>>(),
        "gap-free and distinct"
    );
    let report = device.json(&["sync"]);
    assert_eq!(report["applied"], 4_000);
    assert!(wh.verify().status.success());
}

#[test]
fn a_server_killed_mid_push_applies_everything_once() {
    let wh = Warehouse::new();
    let mut server = Server::start(&wh.db, None);
    let device = Device::new();
    device.enrol(&server.url(), &wh.token(), "1007");
    let seed = seed();
    let mut rng = Lcg(seed);
    let mut recorded = 0;
    for trial in 0..5 {
        let file = device.path(&format!("moves-{trial}.csv"));
        // Small batches, so a push is many requests and a kill lands mid-way.
        std::fs::write(
            &file,
            common::moves_csv_with_refs(3_001, "A-07-11", "A-01-03", &format!("t{trial}")),
        )
        .unwrap();
        device.ok(&["move", "--file", file.to_str().unwrap()]);
        recorded += 3_001;
        let mut sync = device
            .cmd(&["sync"])
            .env("PYCK_PUSH_BATCH", "200")
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(rng.below(400)));
        let addr = server.kill();
        let _ = sync.wait();
        server = Server::start(&wh.db, Some(&addr));
        let report = device.json(&["sync"]);
        assert_eq!(
            device.json(&["status"])["pending"],
            0,
            "trial {trial} (seed {seed}): {report}"
        );
        let verify = wh.verify();
        assert!(
            verify.status.success(),
            "trial {trial} (seed {seed}): {}",
            String::from_utf8_lossy(&verify.stdout)
        );
    }
    // Each trial's odd run of alternating single-unit moves leaves one unit
    // at A-01-03: five trials, five units. A lost or doubled move shows.
    assert_eq!(wh.server_qty("A-07-11", "SKU-10001"), 240 - 5);
    assert_eq!(wh.server_qty("A-01-03", "SKU-10001"), 5);
    let conn = rusqlite::Connection::open(&wh.db).unwrap();
    let ops: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM operations WHERE device_id IS NOT NULL",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(ops, recorded, "each operation stored exactly once");
}
