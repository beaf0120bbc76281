//! A terminal whose disk filled up after it recorded a shift: the server
//! takes every operation, and the terminal must still be able to write down
//! that it did — else each later sync re-sends the same batch and fails
//! the same way. The room it keeps for syncing (`store::reserve`) is what
//! lets it; the test fills a tmpfs to the last byte around a real store.

#![allow(clippy::unwrap_used)]

use crate::common;

use common::disk::{Tmpfs, fill};
use common::{Device, Server, Warehouse};

#[test]
fn a_full_disk_does_not_stop_a_sync_from_settling() {
    let wh = Warehouse::new();
    let server = Server::start(&wh.db, None);
    let disk = Tmpfs::mount("48m");
    let device = Device::new_in(disk.path());
    device.enrol(&server.url(), &wh.token(), "1007");
    let reserve = device.path("pyck.reserve");
    assert_eq!(
        std::fs::metadata(&reserve).unwrap().len(),
        pyck::store::reserve::RESERVE_BYTES,
        "init keeps the room"
    );

    // A shift recorded offline, then the disk fills to the last byte.
    let file = device.path("moves.csv");
    std::fs::write(&file, common::moves_csv(3_000, "A-07-11", "A-01-03")).unwrap();
    device.ok(&["move", "--file", file.to_str().unwrap()]);
    let filler = fill(disk.path(), 0);

    // Recording fails as before: the reserve is not for recording.
    let out = device.run(common::MOVE_ONE);
    assert_ne!(out.status.code(), Some(0));

    // The sync goes through, settles every operation, and says why the
    // disk is now truly full.
    let out = device.run(&["sync", "--json"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["reserve_used"], true, "{report}");
    assert_eq!(
        report["applied"].as_u64().unwrap() + report["duplicates"].as_u64().unwrap(),
        report["pushed"].as_u64().unwrap(),
        "{report}"
    );
    assert!(err.contains("the disk is full"), "{err}");
    assert!(!reserve.exists());
    assert!(wh.verify().status.success());

    // Room again: nothing is pending, nothing was lost, and the next sync
    // keeps the room again.
    std::fs::remove_file(&filler).unwrap();
    let status = device.json(&["status"]);
    assert_eq!(status["pending"], 0, "{status}");
    let journal = device.journal();
    assert_eq!(journal.len(), 3_000);
    assert!(
        journal.iter().all(|e| e["status"] == "synced"),
        "{:?}",
        journal[0]
    );
    let report = device.json(&["sync"]);
    assert_eq!(report["pushed"], 0, "{report}");
    assert!(report.get("reserve_used").is_none(), "{report}");
    assert_eq!(
        std::fs::metadata(&reserve).unwrap().len(),
        pyck::store::reserve::RESERVE_BYTES
    );
}
