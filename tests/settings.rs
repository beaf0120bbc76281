//! A warehouse setting changed on the server changes what the next
//! operation does, on the server and in the device's local view: a count
//! within the new threshold adjusts the stock instead of raising an
//! exception.

#![allow(clippy::unwrap_used)]

use crate::common;

use common::{Device, Server, Warehouse, admin};

const BIN: &str = "C-03-08";
const SKU: &str = "SKU-10048";
const LOT: &str = "L2630G";

fn count(device: &Device, qty: i64) {
    device.ok(&[
        "count",
        "--location",
        BIN,
        "--sku",
        SKU,
        "--lot",
        LOT,
        "--qty",
        &qty.to_string(),
    ]);
}

fn count_differences(device: &Device) -> usize {
    device
        .json(&["exceptions", "--all"])
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "count_difference")
        .count()
}

#[test]
fn a_changed_count_threshold_applies_to_the_next_count_on_server_and_device() {
    let wh = Warehouse::new();
    let server = Server::start(&wh.db, None);
    let picker = Device::new();
    picker.enrol(&server.url(), &wh.token(), "1007");
    let book = wh.server_qty(BIN, SKU);
    assert!(book > 5, "the fixture stocks {BIN}");
    assert_eq!(picker.qty(BIN, SKU), book);

    // Default: any difference goes to a supervisor; stock stays, locally too.
    count(&picker, book - 2);
    assert_eq!(picker.qty(BIN, SKU), book, "the local view keeps the books");
    picker.ok(&["sync"]);
    assert_eq!(wh.server_qty(BIN, SKU), book);
    assert_eq!(count_differences(&picker), 1);

    // A supervisor allows differences of up to 3 units.
    admin(
        &wh.db,
        &[
            "settings",
            "set",
            "--tenant",
            "acme",
            "--warehouse",
            "DC1",
            "count_threshold",
            "3",
        ],
    );
    picker.ok(&["sync"]);
    count(&picker, book - 2);
    assert_eq!(picker.qty(BIN, SKU), book - 2, "adjusted at once, offline");
    picker.ok(&["sync"]);
    assert_eq!(wh.server_qty(BIN, SKU), book - 2, "the server adjusts too");
    assert_eq!(count_differences(&picker), 1, "no new exception");
    assert_eq!(picker.qty(BIN, SKU), book - 2);

    // Beyond the threshold it is a supervisor's matter again.
    count(&picker, book - 7);
    assert_eq!(picker.qty(BIN, SKU), book - 2);
    picker.ok(&["sync"]);
    assert_eq!(wh.server_qty(BIN, SKU), book - 2);
    assert_eq!(count_differences(&picker), 2);
    assert!(wh.verify().status.success());
}
