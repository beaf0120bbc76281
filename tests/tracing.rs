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

/// A live event names the operation that caused it (its id in the device's
/// journal) and the request that pushed it (its id in the server's log).
#[test]
fn an_event_names_its_operation_and_its_request() {
    use std::io::{BufRead, BufReader};
    use std::process::Stdio;

    let wh = Warehouse::new();
    let log = wh.dir.path().join("server.log");
    let server = Server::start_logged(&wh.db, &log);
    let watcher = Device::new();
    watcher.enrol(&server.url(), &wh.token(), "3001");
    let mut feed = watcher
        .cmd(&["feed", "--json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut notices = BufReader::new(feed.stderr.take().unwrap()).lines();
    assert!(notices.next().unwrap().unwrap().contains("following"));
    let (tx, events) = std::sync::mpsc::channel::<Value>();
    let stdout = feed.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(serde_json::from_str(&line).unwrap()).is_err() {
                break;
            }
        }
    });
    let device = Device::new();
    device.enrol(&server.url(), &wh.token(), "1007");
    // The subscription may still be settling when the first move is
    // pushed: each further move is another chance.
    let (event, op) = (0..15)
        .find_map(|_| {
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
            device.ok(&["sync"]);
            let journal = device.journal();
            let op = journal.last().unwrap()["id"].as_str().unwrap().to_owned();
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(2);
            while let Some(left) = deadline.checked_duration_since(std::time::Instant::now()) {
                let Ok(e) = events.recv_timeout(left) else {
                    break;
                };
                if e["type"] == "stock_changed" && e["location"] == "A-01-03" {
                    return Some((e, op));
                }
            }
            None
        })
        .expect("no event reached the feed");
    let _ = feed.kill();
    let _ = feed.wait();
    assert_eq!(event["operation"], op.as_str(), "{event}");
    let request = event["request"].as_str().unwrap().to_owned();
    drop(server);
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(
        text.lines().any(|l| {
            let l: Value = serde_json::from_str(l).unwrap();
            l["span"]["request_id"] == request.as_str()
                && l["fields"]["message"] == "push settled"
                && l["fields"]["last_op"] == op.as_str()
        }),
        "the event's request {request} and operation {op} are on one server log line"
    );
}

/// With `--otlp`, the span of every request — with its request id — goes to
/// an OpenTelemetry collector over OTLP/HTTP, the last ones on shutdown.
#[test]
fn spans_are_exported_over_otlp() {
    let wh = Warehouse::new();
    let collector = common::webhook::Webhook::start(200);
    let base = collector.url.trim_end_matches("/hook").to_owned();
    let server = Server::start_with(&wh.db, None, &["--otlp", &base]);
    let token = wh.token();
    let out = std::process::Command::new("curl")
        .args(["-s", "-o", "/dev/null", "-w", "%{http_code}"])
        .args(["-H", "x-request-id: otlp-trace-42"])
        .args(["-H", &format!("authorization: Bearer {token}")])
        .args(["-H", "content-type: application/json"])
        .args(["-d", r#"{"query":"{ me { id } }"}"#])
        .arg(format!("{}/graphql", server.url()))
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "200");
    let (status, _) = server.terminate();
    assert!(status.success());
    let exported = collector
        .calls()
        .into_iter()
        .filter(|c| c.path == "/v1/traces")
        .collect::<Vec<_>>();
    assert!(!exported.is_empty(), "no export reached the collector");
    assert!(
        exported
            .iter()
            .all(|c| c.header("content-type") == Some("application/x-protobuf")),
        "{:?}",
        exported
            .iter()
            .map(|c| c.header("content-type"))
            .collect::<Vec<_>>()
    );
    let carries = |needle: &[u8]| {
        exported
            .iter()
            .any(|c| c.raw.windows(needle.len()).any(|w| w == needle))
    };
    assert!(
        carries(b"otlp-trace-42"),
        "the request's span carries its id"
    );
    assert!(carries(b"pyck-server"), "the service is named");
}
