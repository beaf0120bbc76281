//! The soak: a compressed shift against two replicas on PostgreSQL with
//! NATS. Devices record moves in rounds (from files, as scripts do), sync
//! through either replica or stay offline for the round; meanwhile replicas
//! are killed (`kill -9` or SIGTERM) and restarted at random moments. At
//! the end every device syncs until nothing is pending, and then: every
//! operation applied exactly once, each device's sequence gap-free, the
//! stock of every bin exactly what the moves say, `verify` passes.
//!
//! CI runs it small; `PYCK_SOAK_DEVICES=20 PYCK_SOAK_OPS=2000` is the full
//! size (docs/SOAK.md has the figures). `PYCK_SOAK_SEED` replays a run.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use common::{Device, Server, Warehouse, nats_url};

/// An item no order asks for, and bins of its temperature.
const SKU: &str = "SKU-10035";
const BINS: [&str; 6] = [
    "A-04-05", "A-02-06", "A-01-01", "A-01-03", "A-03-07", "A-05-02",
];
const ROUNDS: usize = 10;

fn env_or(var: &str, default: usize) -> usize {
    std::env::var(var).map_or(default, |v| {
        v.parse()
            .unwrap_or_else(|_| panic!("{var}: expected a number"))
    })
}

/// A small deterministic generator: a failing run is replayed from the
/// seed it prints.
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

/// One query's single number from the test's PostgreSQL database.
fn pg_i64(db: &str, sql: &str, params: &[&(dyn tokio_postgres::types::ToSql + Sync)]) -> i64 {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let (client, conn) = tokio_postgres::connect(db, tokio_postgres::NoTls)
            .await
            .unwrap();
        tokio::spawn(conn);
        client.query_one(sql, params).await.unwrap().get(0)
    })
}

fn bin_qty(db: &str, bin: &str) -> i64 {
    pg_i64(
        db,
        "SELECT COALESCE(SUM(qty), 0)::BIGINT FROM stock WHERE location = $1 AND sku = $2",
        &[&bin, &SKU],
    )
}

/// One device's round: a file of moves recorded, and (unless offline this
/// round) a sync through one of the replicas. Returns the net change per
/// bin the round recorded, and whether its sync was cut short.
fn round(
    device: &Device,
    index: usize,
    round: usize,
    ops: usize,
    rng: &mut Lcg,
    replicas: &[String],
) -> (BTreeMap<&'static str, i64>, bool) {
    let mut net = BTreeMap::new();
    let mut csv = String::from("sku,lot,qty,from,to,ref\n");
    for line in 0..ops {
        let from = BINS[rng.below(BINS.len() as u64) as usize];
        let to = loop {
            let to = BINS[rng.below(BINS.len() as u64) as usize];
            if to != from {
                break to;
            }
        };
        let qty = 1 + rng.below(5) as i64;
        *net.entry(from).or_insert(0) -= qty;
        *net.entry(to).or_insert(0) += qty;
        csv.push_str(&format!(
            "{SKU},,{qty},{from},{to},d{index}-r{round}-{line}\n"
        ));
    }
    let file = device.path(&format!("round-{round}.csv"));
    std::fs::write(&file, csv).unwrap();
    device.ok(&["move", "--file", file.to_str().unwrap()]);
    // Offline for this round one time in four.
    let mut cut = false;
    if rng.below(4) != 0 {
        let via = &replicas[rng.below(replicas.len() as u64) as usize];
        let out = device.run(&["sync", "--server", via]);
        // 4: the replica was down or went down mid-sync; the next sync
        // re-sends. Anything else is a failure.
        assert!(
            matches!(out.status.code(), Some(0 | 4)),
            "device {index} round {round}: {out:?}"
        );
        cut = out.status.code() == Some(4);
    }
    (net, cut)
}

#[test]
fn a_compressed_shift_with_restarts_on_two_replicas() {
    let devices = env_or("PYCK_SOAK_DEVICES", 8);
    let per_device = env_or("PYCK_SOAK_OPS", 500);
    let per_round = per_device.div_ceil(ROUNDS);
    let seed = std::env::var("PYCK_SOAK_SEED").map_or_else(
        |_| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
        },
        |s| s.parse().expect("PYCK_SOAK_SEED: expected a number"),
    );
    eprintln!("soak: {devices} devices × {per_device} operations, seed {seed}");
    let started = Instant::now();

    let wh = Warehouse::postgres();
    let nats = nats_url();
    let options = ["--nats", nats.as_str(), "--shutdown-timeout", "2"];
    let replicas: Vec<Server> = (0..2)
        .map(|_| Server::start_with(&wh.db, None, &options))
        .collect();
    let urls: Vec<String> = replicas.iter().map(Server::url).collect();
    let opening: BTreeMap<&str, i64> = BINS.iter().map(|b| (*b, bin_qty(&wh.db, b))).collect();
    let fleet: Vec<Device> = (0..devices)
        .map(|i| {
            let device = Device::new();
            device.enrol(&urls[i % 2], &wh.token_named(&format!("soak-{i}")), "1007");
            device
        })
        .collect();

    let mut rng = Lcg(seed);
    let mut expected = opening.clone();
    let stop = AtomicBool::new(false);
    let mut cut_syncs = 0;
    let replicas = Mutex::new(replicas);
    let restarts = std::thread::scope(|s| {
        // Chaos for the whole shift: every few hundred milliseconds one
        // replica is killed (`kill -9` or SIGTERM) and started again.
        let chaos = {
            let (stop, replicas, db) = (&stop, &replicas, &wh.db);
            let mut rng = Lcg(rng.below(u64::MAX));
            s.spawn(move || {
                let mut restarts = 0;
                while !stop.load(Ordering::Relaxed) {
                    std::thread::sleep(Duration::from_millis(100 + rng.below(500)));
                    let victim = rng.below(2) as usize;
                    let server = replicas.lock().unwrap().remove(victim);
                    let addr = if rng.below(2) == 0 {
                        server.kill()
                    } else {
                        server.terminate().1
                    };
                    // Mostly a quick restart the terminals' retries ride
                    // out; one in four a longer outage that cuts syncs.
                    let down = if rng.below(4) == 0 {
                        2500
                    } else {
                        rng.below(300)
                    };
                    std::thread::sleep(Duration::from_millis(down));
                    let again = Server::start_with(db, Some(&addr), &options);
                    replicas.lock().unwrap().insert(victim, again);
                    restarts += 1;
                }
                restarts
            })
        };
        for r in 0..ROUNDS {
            let ops = per_round.min(per_device.saturating_sub(r * per_round));
            if ops == 0 {
                break;
            }
            let seeds: Vec<u64> = (0..devices).map(|_| rng.below(u64::MAX)).collect();
            let workers: Vec<_> = fleet
                .iter()
                .zip(seeds)
                .enumerate()
                .map(|(i, (device, seed))| {
                    let urls = &urls;
                    s.spawn(move || round(device, i, r, ops, &mut Lcg(seed), urls))
                })
                .collect();
            for worker in workers {
                let (net, cut) = worker.join().unwrap();
                cut_syncs += usize::from(cut);
                for (bin, change) in net {
                    *expected.get_mut(bin).unwrap() += change;
                }
            }
        }
        stop.store(true, Ordering::Relaxed);
        chaos.join().unwrap()
    });

    // Everyone back online: sync until nothing is pending.
    for (i, device) in fleet.iter().enumerate() {
        let mut tries = 0;
        while device.json(&["status"])["pending"] != 0 {
            tries += 1;
            assert!(tries <= 5, "device {i} still has pending operations");
            let out = device.run(&["sync", "--server", &urls[tries % 2]]);
            assert!(
                matches!(out.status.code(), Some(0 | 4)),
                "device {i}: {out:?}"
            );
        }
        let journal = device.journal();
        assert_eq!(journal.len(), per_device, "device {i}");
        assert!(
            journal.iter().all(|e| e["status"] == "synced"),
            "device {i}: an operation was refused"
        );
    }

    let total = (devices * per_device) as i64;
    let applied = pg_i64(
        &wh.db,
        "SELECT COUNT(*) FROM operations WHERE kind = 'move' AND refusal_code IS NULL",
        &[],
    );
    assert_eq!(applied, total, "every operation applied exactly once");
    let devices_at_end = pg_i64(
        &wh.db,
        "SELECT COUNT(*) FROM (SELECT device_id FROM operations GROUP BY device_id \
         HAVING MIN(seq) = 1 AND MAX(seq) = COUNT(*) AND COUNT(DISTINCT seq) = COUNT(*)) d",
        &[],
    );
    assert_eq!(
        devices_at_end, devices as i64,
        "gap-free sequences per device"
    );
    for bin in BINS {
        assert_eq!(
            bin_qty(&wh.db, bin),
            expected[bin],
            "stock of {SKU} at {bin}"
        );
    }
    let verify = wh.verify();
    assert!(
        verify.status.success(),
        "{}",
        String::from_utf8_lossy(&verify.stdout)
    );
    eprintln!(
        "soak: {total} operations from {devices} devices, {restarts} replica restarts, \
         {cut_syncs} syncs cut short, {} s, seed {seed}: exact",
        started.elapsed().as_secs()
    );
}
