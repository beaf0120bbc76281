//! Property: whatever the interleaving of recording, syncing, server
//! restarts and lost responses across three devices, once everything is
//! synced the server's stock equals applying each recorded operation exactly
//! once.

#![allow(clippy::unwrap_used)]

use crate::common;

use std::collections::HashMap;

use common::proxy::{Mode, Proxy};
use common::{Device, Server, Warehouse};
use proptest::prelude::*;

const BINS: [&str; 4] = ["A-07-11", "A-05-09", "A-01-03", "A-01-06"];
const OPENING: [i64; 4] = [240, 180, 0, 0];

#[derive(Debug, Clone)]
enum Action {
    /// A device records moves: (from bin, to bin, qty) each.
    Record(usize, Vec<(usize, usize, i64)>),
    Sync(usize),
    /// The server commits the push but the response never arrives.
    LostResponse(usize),
    RestartServer,
}

fn action() -> impl Strategy<Value = Action> {
    prop_oneof![
        3 => (0..3usize, prop::collection::vec((0..4usize, 0..4usize, 1..5i64), 1..20))
            .prop_map(|(d, moves)| Action::Record(d, moves.into_iter().filter(|(a, b, _)| a != b).collect())),
        2 => (0..3usize).prop_map(Action::Sync),
        1 => (0..3usize).prop_map(Action::LostResponse),
        1 => Just(Action::RestartServer),
    ]
}

fn run(actions: Vec<Action>) {
    let wh = Warehouse::new();
    let mut server = Server::start(&wh.db, None);
    let devices: Vec<Device> = (0..3).map(|_| Device::new()).collect();
    for d in &devices {
        d.enrol(&server.url(), &wh.token(), "1007");
    }
    let mut expected: HashMap<&str, i64> = BINS.iter().copied().zip(OPENING).collect();
    let mut recorded = 0;
    for (step, a) in actions.into_iter().enumerate() {
        match a {
            Action::Record(d, moves) => {
                if moves.is_empty() {
                    continue;
                }
                let mut csv = String::from("sku,qty,from,to,ref\n");
                for (i, (from, to, qty)) in moves.iter().enumerate() {
                    csv.push_str(&format!(
                        "SKU-10001,{qty},{},{},d{d}-s{step}-{i}\n",
                        BINS[*from], BINS[*to]
                    ));
                    *expected.get_mut(BINS[*from]).unwrap() -= qty;
                    *expected.get_mut(BINS[*to]).unwrap() += qty;
                }
                recorded += moves.len() as i64;
                let file = devices[d].path(&format!("step-{step}.csv"));
                std::fs::write(&file, csv).unwrap();
                devices[d].ok(&["move", "--file", file.to_str().unwrap()]);
            }
            Action::Sync(d) => {
                devices[d].ok(&["sync"]);
            }
            Action::LostResponse(d) => {
                let proxy = Proxy::start(&server.addr, Mode::DropResponses);
                let out = devices[d].run(&["sync", "--server", &proxy.url]);
                // With nothing to push, the pull's lost answer fails the same way.
                assert_eq!(out.status.code(), Some(4));
            }
            Action::RestartServer => {
                let addr = server.kill();
                server = Server::start(&wh.db, Some(&addr));
            }
        }
    }
    for d in &devices {
        d.ok(&["sync"]);
        assert_eq!(d.json(&["status"])["pending"], 0);
    }
    for bin in BINS {
        assert_eq!(wh.server_qty(bin, "SKU-10001"), expected[bin], "bin {bin}");
        // Every device's local view agrees with the server after its sync…
    }
    for d in &devices {
        d.ok(&["sync"]);
        for bin in BINS {
            assert_eq!(
                d.qty(bin, "SKU-10001"),
                expected[bin],
                "device view of {bin}"
            );
        }
    }
    let conn = rusqlite::Connection::open(&wh.db).unwrap();
    let stored: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM operations WHERE device_id IS NOT NULL",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(stored, recorded, "each operation stored once");
    let verify = wh.verify();
    assert!(
        verify.status.success(),
        "{}",
        String::from_utf8_lossy(&verify.stdout)
    );
}

proptest! {
    // Each case runs real processes: few cases, each a whole shift.
    #![proptest_config(ProptestConfig { cases: 6, max_shrink_iters: 20, .. ProptestConfig::default() })]

    #[test]
    fn interleavings_converge_to_each_operation_applied_once(actions in prop::collection::vec(action(), 4..14)) {
        run(actions);
    }
}
