//! One request's id, from the terminal into every server log line it
//! causes: the terminal sends the same `x-request-id` on each retry, the
//! server logs JSON lines carrying it, and the terminal's error names it.

#![allow(clippy::unwrap_used)]

mod common;

use common::proxy::{Mode, Proxy};
use common::{Device, Server, Warehouse};
use serde_json::Value;

#[test]
fn a_request_id_goes_from_the_terminal_into_the_server_log() {
    let wh = Warehouse::new();
    let log = wh.dir.path().join("server.log");
    let server = Server::start_logged(&wh.db, &log);
    let token = wh.token();
    let device = Device::new();
    device.enrol(&server.url(), &token, "1007");
    device.ok(&[
        "move",
        "--sku",
        "SKU-10001",
        "--qty",
        "1",
        "--from",
        "A-07-11",
        "--to",
        "A-01-03",
    ]);

    // Every response is lost: the terminal retries the same request.
    let proxy = Proxy::start(&server.addr, Mode::DropResponses);
    let out = device.run(&["sync", "--server", &proxy.url]);
    assert_eq!(out.status.code(), Some(4));
    let err = String::from_utf8_lossy(&out.stderr);
    let id = err
        .split("(request ")
        .nth(1)
        .and_then(|rest| rest.split(')').next())
        .unwrap_or_else(|| panic!("no request id in {err}"))
        .to_owned();
    uuid::Uuid::parse_str(&id).unwrap();
    drop(server);

    let text = std::fs::read_to_string(&log).unwrap();
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    let served: Vec<&Value> = lines
        .iter()
        .filter(|l| l["span"]["request_id"] == id.as_str() && l["fields"]["message"] == "served")
        .collect();
    assert_eq!(
        served.len(),
        4,
        "each of the 4 attempts reached the server: {text}"
    );
    assert!(
        served
            .iter()
            .all(|l| l["fields"]["status"] == 200 && l["span"]["path"] == "/graphql")
    );
    // Every request line has an id, and no secret is in the log.
    assert!(
        lines
            .iter()
            .filter(|l| l["fields"]["message"] == "served")
            .all(|l| l["span"]["request_id"].is_string())
    );
    assert!(!text.contains(&token), "the device token is never logged");
}
