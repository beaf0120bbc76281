//! One request's id, from the terminal into every server log line it
//! causes: the terminal sends the same `x-request-id` on each retry, the
//! server logs JSON lines carrying it, and the terminal's error names it.

#![allow(clippy::unwrap_used)]

use crate::common;

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
    device.move_one();

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
            .all(|l| l["fields"]["status"] == 200 && l["span"]["url.path"] == "/graphql")
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
            device.move_one();
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

/// The caller's W3C trace context: `00-<trace id>-<parent span id>-01`.
const TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const PARENT_SPAN: &str = "00f067aa0ba902b7";

/// POSTs `{ me { id } }` with a `traceparent` naming [`TRACE_ID`] and
/// [`PARENT_SPAN`]; the response's status.
fn post_traced(server: &Server, token: &str, request_id: &str) -> String {
    let out = std::process::Command::new("curl")
        .args(["-s", "-o", "/dev/null", "-w", "%{http_code}"])
        .args(["-H", &format!("x-request-id: {request_id}")])
        .args([
            "-H",
            &format!("traceparent: 00-{TRACE_ID}-{PARENT_SPAN}-01"),
        ])
        .args(["-H", &format!("authorization: Bearer {token}")])
        .args(["-H", "content-type: application/json"])
        .args(["-d", r#"{"query":"{ me { id } }"}"#])
        .arg(format!("{}/graphql", server.url()))
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The span exported for a request that carried a `traceparent` is a child
/// of the caller's span in the caller's trace, and follows OpenTelemetry's
/// HTTP server conventions: named by method and route, kind SERVER, with
/// the route, method and status as attributes.
#[test]
fn a_traceparent_makes_the_request_span_a_child_of_the_callers_trace() {
    use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
    use opentelemetry_proto::tonic::common::v1::any_value::Value as Any;
    use opentelemetry_proto::tonic::trace::v1::span::SpanKind;
    use prost::Message;

    let wh = Warehouse::new();
    let collector = common::webhook::Webhook::start(200);
    let base = collector.url.trim_end_matches("/hook").to_owned();
    let server = Server::start_with(&wh.db, None, &["--otlp", &base]);
    assert_eq!(post_traced(&server, &wh.token(), "traced-7"), "200");
    let (status, _) = server.get("/healthz");
    assert_eq!(status, 200);
    let (status, _) = server.terminate();
    assert!(status.success());

    let spans: Vec<_> = collector
        .calls()
        .into_iter()
        .filter(|c| c.path == "/v1/traces")
        .flat_map(|c| {
            ExportTraceServiceRequest::decode(c.raw.as_slice())
                .unwrap()
                .resource_spans
        })
        .flat_map(|r| r.scope_spans)
        .flat_map(|s| s.spans)
        .collect();
    let attribute = |span: &opentelemetry_proto::tonic::trace::v1::Span, key: &str| {
        span.attributes
            .iter()
            .find(|a| a.key == key)
            .and_then(|a| a.value.clone()?.value)
    };
    let traced: Vec<_> = spans
        .iter()
        .filter(|s| attribute(s, "request_id") == Some(Any::StringValue("traced-7".into())))
        .collect();
    assert_eq!(traced.len(), 1, "one span for the request: {spans:?}");
    let span = traced[0];
    assert_eq!(hex(&span.trace_id), TRACE_ID, "in the caller's trace");
    assert_eq!(
        hex(&span.parent_span_id),
        PARENT_SPAN,
        "under the caller's span"
    );
    assert_eq!(span.name, "POST /graphql");
    assert_eq!(span.kind, SpanKind::Server as i32);
    assert_eq!(
        attribute(span, "http.route"),
        Some(Any::StringValue("/graphql".into()))
    );
    assert_eq!(
        attribute(span, "http.request.method"),
        Some(Any::StringValue("POST".into()))
    );
    assert_eq!(
        attribute(span, "http.response.status_code"),
        Some(Any::IntValue(200))
    );
    // A request without one starts a trace of its own.
    let health = spans
        .iter()
        .find(|s| s.name == "GET /healthz")
        .unwrap_or_else(|| panic!("no GET /healthz span: {spans:?}"));
    assert!(health.parent_span_id.is_empty());
    assert_ne!(hex(&health.trace_id), TRACE_ID);
}

/// JSON log lines written while a request is served carry its trace id
/// (the caller's, from `traceparent`) and its own span id, with no
/// collector configured: a log line can be found from a trace.
#[test]
fn json_log_lines_carry_the_callers_trace_id() {
    let wh = Warehouse::new();
    let log = wh.dir.path().join("server.log");
    let server = Server::start_logged(&wh.db, &log);
    assert_eq!(post_traced(&server, &wh.token(), "traced-8"), "200");
    let (status, _) = server.get("/healthz");
    assert_eq!(status, 200);
    drop(server);
    let text = std::fs::read_to_string(&log).unwrap();
    let served: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|l| l["fields"]["message"] == "served")
        .collect();
    let traced = served
        .iter()
        .find(|l| l["span"]["request_id"] == "traced-8")
        .unwrap_or_else(|| panic!("no line for the request: {text}"));
    assert_eq!(traced["span"]["trace_id"], TRACE_ID, "{traced}");
    let span_id = traced["span"]["span_id"].as_str().unwrap();
    assert_eq!(span_id.len(), 16, "{traced}");
    assert_ne!(span_id, PARENT_SPAN, "the server's span is its own");
    assert_eq!(traced["span"]["http.route"], "/graphql", "{traced}");
    // Without a traceparent the request still has a trace of its own.
    let health = served
        .iter()
        .find(|l| l["span"]["url.path"] == "/healthz")
        .unwrap_or_else(|| panic!("no /healthz line: {text}"));
    let trace_id = health["span"]["trace_id"].as_str().unwrap();
    assert_eq!(trace_id.len(), 32);
    assert_ne!(trace_id, TRACE_ID);
    assert_ne!(trace_id, "0".repeat(32));
}

/// A text log written to a file (or the journal) has no colour codes: they
/// are for a terminal only.
#[test]
fn a_text_log_in_a_file_has_no_escape_codes() {
    let wh = Warehouse::new();
    let log = wh.dir.path().join("server.log");
    let server = Server::start_text_logged(&wh.db, &log);
    let (status, _) = server.get("/healthz");
    assert_eq!(status, 200);
    drop(server);
    let text = std::fs::read(&log).unwrap();
    let text = String::from_utf8(text).unwrap();
    assert!(text.contains("served"), "{text}");
    assert!(!text.contains('\u{1b}'), "an ESC byte in {text:?}");
}
