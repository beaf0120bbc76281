//! Scale-out: two `pyck-server serve` replicas on one PostgreSQL database
//! with NATS JetStream. A `pyck feed` on one replica sees moves pushed
//! through the other; one device's batch pushed through both replicas at
//! once is applied exactly once, and so is a batch whose replica is killed
//! (`kill -9`) mid-push and re-sent through the survivor: stock exact,
//! `verify` exits 0. Live events leave through the transactional outbox:
//! a move committed while NATS is down, through a replica then killed,
//! still reaches the other replica's feed once NATS is back, and so do all
//! of several devices' pushes made while NATS goes down, exactly once after
//! repeats (same event id) are dropped.
//!
//! Needs `PYCK_TEST_POSTGRES_URL` and `PYCK_TEST_NATS_URL` (scripts/test
//! starts both); fails without them, never skips.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::{Device, Server, Warehouse, nats_url};
use serde_json::Value;

/// `pyck feed --json` as a child, its stdout lines and stderr lines on
/// channels; killed when dropped.
struct Feed {
    child: Child,
    events: mpsc::Receiver<Value>,
    notices: mpsc::Receiver<String>,
}

impl Feed {
    fn start(device: &Device) -> Feed {
        let mut child = device
            .cmd(&["feed", "--json"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let (tx, events) = mpsc::channel();
        let stdout = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                let event: Value = serde_json::from_str(&line)
                    .unwrap_or_else(|e| panic!("feed printed a non-JSON line {line:?}: {e}"));
                if tx.send(event).is_err() {
                    break;
                }
            }
        });
        let (tx, notices) = mpsc::channel();
        let stderr = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Feed {
            child,
            events,
            notices,
        }
    }

    fn wait_following(&self) {
        let notice = self
            .notices
            .recv_timeout(Duration::from_secs(30))
            .expect("pyck feed says when it follows");
        assert!(notice.contains("following"), "{notice}");
    }

    /// Waits up to `within` for a stock event of SKU-10001 at `location`
    /// with quantity `qty`.
    fn saw_stock(&self, location: &str, qty: i64, within: Duration) -> bool {
        let deadline = Instant::now() + within;
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            match self.events.recv_timeout(left) {
                Ok(e) => {
                    assert!(e["at"].is_string() && e["warehouse"].is_i64(), "{e}");
                    if e["type"] == "stock_changed"
                        && e["location"] == location
                        && e["sku"] == "SKU-10001"
                        && e["qty"] == qty
                    {
                        return true;
                    }
                }
                Err(_) => return false,
            }
        }
        false
    }
}

impl Drop for Feed {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Two replicas with NATS at `nats`, a device enrolled on the first and a
/// feed following the second, already seeing the first's moves: the count
/// of single moves it took (see [`probe`]).
struct Pair {
    one: Server,
    two: Server,
    device: Device,
    _watcher: Device,
    feed: Feed,
    probes: i64,
}

impl Pair {
    fn start(wh: &Warehouse, nats: &str) -> Pair {
        let one = Server::start_with(&wh.db, None, &["--nats", nats]);
        let two = Server::start_with(&wh.db, None, &["--nats", nats]);
        let device = Device::new();
        device.enrol(&one.url(), &wh.token(), "1007");
        let watcher = Device::new();
        watcher.enrol(&two.url(), &wh.token(), "1007");
        let feed = Feed::start(&watcher);
        feed.wait_following();
        let mut pair = Pair {
            one,
            two,
            device,
            _watcher: watcher,
            feed,
            probes: 0,
        };
        // The subscription is registered shortly after the feed follows;
        // probe with single moves until one shows up (each is counted).
        let mut seen = false;
        while !seen && pair.probes < 10 {
            pair.move_one();
            seen = pair
                .feed
                .saw_stock("A-01-03", pair.probes, Duration::from_secs(5));
        }
        assert!(
            seen,
            "a feed on replica two never saw a move pushed through replica one"
        );
        pair
    }

    /// One unit from A-07-11 to A-01-03, synced through replica one.
    fn move_one(&mut self) {
        move_one_via(&self.device, &self.one.url());
        self.probes += 1;
    }
}

/// `device` moves one unit of SKU-10001 from A-07-11 to A-01-03 and syncs
/// it through the server at `url`.
fn move_one_via(device: &Device, url: &str) {
    device.move_one();
    device.ok(&["sync", "--server", url]);
}

/// Server-side quantity, as a freshly initialised device pulls it.
fn server_qty(server: &Server, wh: &Warehouse, location: &str) -> i64 {
    let fresh = Device::new();
    fresh.enrol(&server.url(), &wh.token(), "1007");
    fresh.qty(location, "SKU-10001")
}

#[test]
fn two_replicas_share_events_and_apply_a_batch_once() {
    let nats = nats_url();
    let wh = Warehouse::postgres();
    let Pair {
        one,
        two,
        device,
        feed,
        probes,
        ..
    } = Pair::start(&wh, &nats);

    // One batch pushed through both replicas at once (small requests, so
    // the two pushes interleave): each operation applied once.
    let record = |n: usize, name: &str| {
        let file = device.path(name);
        // Refs unique to the file: new moves, not a re-run of the last file.
        let csv = common::moves_csv_with_refs(n, "A-07-11", "A-01-03", name);
        std::fs::write(&file, csv).unwrap();
        device.ok(&["move", "--file", file.to_str().unwrap()]);
    };
    let sync_via = |server: &Server, batch: &str| {
        device
            .cmd(&["sync", "--server", &server.url()])
            .env("PYCK_PUSH_BATCH", batch)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    record(1_001, "both.csv");
    let via_one = sync_via(&one, "50");
    let via_two = sync_via(&two, "50");
    for sync in [via_one, via_two] {
        let out = sync.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "a sync through one of two replicas at once failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    assert_eq!(device.json(&["status"])["pending"], 0);

    // Another batch through replica one, killed (kill -9) once part of it
    // is acknowledged; the rest is re-sent through the survivor.
    record(3_001, "killed.csv");
    let mut via_one = sync_via(&one, "20");
    let deadline = Instant::now() + Duration::from_secs(60);
    while device.json(&["status"])["pending"].as_u64().unwrap() == 3_001 {
        assert!(
            Instant::now() < deadline,
            "the push through replica one never started"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    one.kill();
    let _ = via_one.wait();
    let left = device.json(&["status"])["pending"].as_u64().unwrap();
    eprintln!("{probes} probe(s); {left} of 3001 operations left after the kill");
    let report = device.json(&["sync", "--server", &two.url()]);
    assert_eq!(device.json(&["status"])["pending"], 0, "{report}");
    let verify = wh.verify();
    assert!(
        verify.status.success(),
        "verify: {}{}",
        String::from_utf8_lossy(&verify.stdout),
        String::from_utf8_lossy(&verify.stderr)
    );
    // Two odd runs of alternating single-unit moves leave two units at
    // A-01-03: a lost or doubled move shows.
    assert_eq!(server_qty(&two, &wh, "A-01-03"), probes + 2);
    assert_eq!(server_qty(&two, &wh, "A-07-11"), 240 - probes - 2);
    // And the feed on replica two saw the final quantity too.
    assert!(feed.saw_stock("A-01-03", probes + 2, Duration::from_secs(30)));
}

/// A nats-server of this test's own (JetStream in `dir`), to stop and
/// start again on the same port; killed when dropped.
struct OwnNats {
    child: Option<Child>,
    port: u16,
    dir: tempfile::TempDir,
}

impl OwnNats {
    fn start() -> OwnNats {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut nats = OwnNats {
            child: None,
            port,
            dir: tempfile::tempdir().unwrap(),
        };
        nats.up();
        nats
    }

    fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    fn up(&mut self) {
        let child = std::process::Command::new("nats-server")
            .args([
                "-js",
                "-a",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
                "-sd",
            ])
            .arg(self.dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("nats-server runs (scripts/test installs it)");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(Instant::now() < deadline, "nats-server did not listen");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn down(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for OwnNats {
    fn drop(&mut self) {
        self.down();
    }
}

#[test]
fn a_move_committed_while_nats_is_down_reaches_the_feed_when_it_is_back() {
    let mut nats = OwnNats::start();
    let wh = Warehouse::postgres();
    let mut pair = Pair::start(&wh, &nats.url());

    // NATS goes away; a move is committed all the same (the push never
    // waits for NATS), and the replica that took it dies before anyone
    // could publish it.
    nats.down();
    pair.move_one();
    let Pair {
        one, feed, probes, ..
    } = pair;
    one.kill();
    assert!(
        !feed.saw_stock("A-01-03", probes, Duration::from_secs(2)),
        "nothing can arrive while NATS is down"
    );
    // NATS is back: the surviving replica's relay finds the committed
    // event in the outbox and publishes it; the feed gets it.
    nats.up();
    assert!(
        feed.saw_stock("A-01-03", probes, Duration::from_secs(60)),
        "the move committed while NATS was down never reached the feed"
    );
}

/// Three devices push single moves through replica one while NATS goes
/// down under them; replica one is then killed (kill -9) with those events
/// committed but not relayed. When NATS is back, the feed on replica two
/// gets every event of those pushes: repeats share an event id, and once
/// they are dropped each push's events are there exactly once.
#[test]
fn events_of_pushes_while_nats_is_down_arrive_exactly_once_after_deduplication() {
    const DEVICES: usize = 3;
    const MOVES: usize = 3;
    let mut nats = OwnNats::start();
    let wh = Warehouse::postgres();
    let pair = Pair::start(&wh, &nats.url());
    let devices: Vec<Device> = (0..DEVICES)
        .map(|_| {
            let d = Device::new();
            d.enrol(&pair.one.url(), &wh.token(), "1007");
            d
        })
        .collect();
    let one_url = pair.one.url();
    let (first_push, pushed) = mpsc::channel();
    std::thread::scope(|s| {
        for device in &devices {
            let first_push = first_push.clone();
            let one_url = &one_url;
            s.spawn(move || {
                for _ in 0..MOVES {
                    move_one_via(device, one_url);
                    let _ = first_push.send(());
                }
            });
        }
        // NATS goes away while the devices are pushing.
        pushed.recv().unwrap();
        nats.down();
    });
    for device in &devices {
        assert_eq!(device.json(&["status"])["pending"], 0);
    }
    let Pair {
        one, feed, probes, ..
    } = pair;
    one.kill();
    nats.up();

    // Every push moved one unit from A-07-11 (240 units in the demo) to
    // A-01-03, so the pushes left each at one quantity after another: one
    // event per push and location. (Earlier events, of the probes, are
    // not counted.)
    let pushes = (DEVICES * MOVES) as i64;
    let wanted: BTreeSet<(String, i64)> = (1..=pushes)
        .flat_map(|n| {
            [
                ("A-01-03".to_owned(), probes + n),
                ("A-07-11".to_owned(), 240 - probes - n),
            ]
        })
        .collect();
    let mut by_id: BTreeMap<String, Value> = BTreeMap::new();
    let mut seen: BTreeSet<(String, i64)> = BTreeSet::new();
    let mut received = 0;
    let deadline = Instant::now() + Duration::from_secs(60);
    // Until all arrived, then a few seconds more for late repeats.
    let mut quiet_until: Option<Instant> = None;
    while let Some(left) = quiet_until
        .unwrap_or(deadline)
        .checked_duration_since(Instant::now())
    {
        let Ok(event) = feed.events.recv_timeout(left) else {
            break;
        };
        if event["type"] != "stock_changed" || event["sku"] != "SKU-10001" {
            continue;
        }
        received += 1;
        let id = event["event_id"]
            .as_str()
            .unwrap_or_else(|| panic!("a relayed event carries an id: {event}"))
            .to_owned();
        let mut fields = event.clone();
        fields.as_object_mut().unwrap().remove("at");
        if let Some(earlier) = by_id.get(&id) {
            assert_eq!(earlier, &fields, "two events share the id {id}");
            continue;
        }
        by_id.insert(id, fields);
        let state = (
            event["location"].as_str().unwrap().to_owned(),
            event["qty"].as_i64().unwrap(),
        );
        if wanted.contains(&state) {
            assert!(
                seen.insert(state.clone()),
                "{state:?} arrived twice under two ids"
            );
        }
        if quiet_until.is_none() && seen.len() == wanted.len() {
            quiet_until = Some(Instant::now() + Duration::from_secs(3));
        }
    }
    let missing: Vec<_> = wanted.difference(&seen).collect();
    assert!(
        missing.is_empty(),
        "events of pushes made while NATS was down never arrived: {missing:?} \
         ({received} received)"
    );
    eprintln!(
        "{received} events received, {} distinct, for {} pushes",
        by_id.len(),
        DEVICES * MOVES
    );
}
