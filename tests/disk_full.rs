//! The terminal's store on a full disk: a small tmpfs holds PYCK_HOME, a
//! filler file takes the rest. Recording fails with a clear error naming the
//! full disk, keeps every operation recorded before, records nothing of a
//! failed file (all or nothing), and works again once there is room.

#![allow(clippy::unwrap_used)]

use crate::common;

use common::disk::{Tmpfs, fill};
use common::{Device, Server, Warehouse};

#[test]
fn a_full_disk_fails_clearly_and_keeps_what_was_recorded() {
    let wh = Warehouse::new();
    let server = Server::start(&wh.db, None);
    let disk = Tmpfs::mount("16m");
    let device = Device::new_in(disk.path());
    device.enrol(&server.url(), &wh.token(), "1007");
    let mv = common::MOVE_ONE;
    device.ok(mv);
    device.ok(mv);
    let file = disk.path().join("moves.csv");
    std::fs::write(&file, common::moves_csv(5_000, "A-07-11", "A-01-03")).unwrap();

    // A file of 5,000 moves cannot fit: it fails saying so, and nothing of
    // it is recorded. (With the disk full even reading the store can fail:
    // SQLite cannot grow its shared-memory file. So the journal is read
    // once there is room again.)
    let filler = fill(disk.path(), 64 * 1024);
    let out = device.run(&["move", "--file", file.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("the disk is full"), "{err}");
    assert!(
        err.contains("Nothing of this command was recorded"),
        "{err}"
    );
    std::fs::remove_file(&filler).unwrap();
    assert_eq!(device.journal().len(), 2, "all or nothing");

    // Single moves until the disk says no: each one before is kept.
    let filler = fill(disk.path(), 160 * 1024);
    let mut recorded = 2;
    let failure = loop {
        let out = device.run(mv);
        if !out.status.success() {
            break out;
        }
        recorded += 1;
        assert!(recorded < 100_000, "the disk never filled");
    };
    let err = String::from_utf8_lossy(&failure.stderr);
    assert_eq!(failure.status.code(), Some(1), "{err}");
    assert!(err.contains("the disk is full"), "{err}");
    assert!(recorded > 2, "no single move fitted in 160 kB");
    std::fs::remove_file(&filler).unwrap();
    assert_eq!(device.journal().len(), recorded, "every recorded move kept");

    // Room again: recording and syncing carry on, nothing lost.
    device.ok(mv);
    let report = device.json(&["sync"]);
    assert_eq!(report["applied"], recorded as u64 + 1, "{report}");
    assert!(wh.verify().status.success());
}
