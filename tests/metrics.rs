//! `/metrics` as Prometheus reads it: a real server's scrape goes through
//! the reference client's parser, picked by the response's Content-Type as
//! a Prometheus server picks it (tests/prometheus/parse.py), and every
//! family comes out with its type, unit and values. Then the gauges and
//! counters that follow the live feed and the workflows.

#![allow(clippy::unwrap_used)]

use crate::common;

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use common::webhook::Webhook;
use common::{Device, Server, Warehouse, record_fulfilment, wait_for};
use serde_json::Value;

/// The scrape's Content-Type and its families as the parser read them.
fn scrape(server: &Server) -> (String, Vec<Value>) {
    let out = Command::new("curl")
        .args(["-s", "-w", "\n%{content_type}"])
        .arg(format!("{}/metrics", server.url()))
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let (body, content_type) = text.rsplit_once('\n').unwrap();
    let deps = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/prometheus");
    assert!(
        deps.join(".pydeps/prometheus_client").exists(),
        "run `pip install --target tests/prometheus/.pydeps -r tests/prometheus/requirements.txt` (scripts/test does it)"
    );
    let mut parser = Command::new("python3")
        .arg(deps.join("parse.py"))
        .arg(content_type)
        .env("PYTHONPATH", deps.join(".pydeps"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    parser
        .stdin
        .take()
        .unwrap()
        .write_all(body.as_bytes())
        .unwrap();
    let parsed = parser.wait_with_output().unwrap();
    assert!(
        parsed.status.success(),
        "{}\n{body}",
        String::from_utf8_lossy(&parsed.stderr)
    );
    (
        content_type.to_owned(),
        serde_json::from_slice(&parsed.stdout).unwrap(),
    )
}

fn family<'a>(families: &'a [Value], name: &str) -> &'a Value {
    families
        .iter()
        .find(|f| f["name"] == name)
        .unwrap_or_else(|| panic!("no family {name} in {families:?}"))
}

/// The value of the sample `name` whose labels include `labels`.
fn sample(family: &Value, name: &str, labels: &[(&str, &str)]) -> f64 {
    family["samples"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == name && labels.iter().all(|(k, v)| s["labels"][*k] == *v))
        .unwrap_or_else(|| panic!("no sample {name} {labels:?} in {family}"))["value"]
        .as_f64()
        .unwrap()
}

#[test]
fn a_scrape_reads_as_typed_families_in_the_reference_parser() {
    let wh = Warehouse::new();
    let server = Server::start(&wh.db, None);
    let device = Device::new();
    device.enrol(&server.url(), &wh.token(), "1007");
    device.move_one();
    device.ok(&["sync"]);
    let (status, _) = server.get("/no/such/route/8c1f");
    assert_eq!(status, 404);
    // The fixture orders' workflows reserve their picks at start.
    wait_for("a reserve step", || {
        server.metric("pyck_workflow_steps_total{step=\"reserve\",status=\"done\"}")
    });

    let (content_type, families) = scrape(&server);
    assert!(
        content_type.starts_with("application/openmetrics-text"),
        "{content_type}"
    );
    for f in &families {
        assert_ne!(f["type"], "unknown", "every family is typed: {f}");
    }

    let ops = family(&families, "pyck_operations");
    assert_eq!(ops["type"], "counter");
    assert_eq!(
        sample(ops, "pyck_operations_total", &[("result", "applied")]),
        1.0
    );

    let build = family(&families, "pyck_build");
    assert_eq!(build["type"], "info");
    assert_eq!(
        sample(
            build,
            "pyck_build_info",
            &[("version", env!("CARGO_PKG_VERSION"))]
        ),
        1.0
    );

    let http = family(&families, "pyck_http_request_duration_seconds");
    assert_eq!(
        (&http["type"], &http["unit"]),
        (&"histogram".into(), &"seconds".into())
    );
    let graphql = [("method", "POST"), ("route", "/graphql"), ("status", "200")];
    assert!(sample(http, "pyck_http_request_duration_seconds_count", &graphql) >= 1.0);
    assert_eq!(
        sample(
            http,
            "pyck_http_request_duration_seconds_bucket",
            &[graphql.as_slice(), &[("le", "+Inf")]].concat()
        ),
        sample(http, "pyck_http_request_duration_seconds_count", &graphql),
    );
    // A path no route has is one series, not one per path.
    let unmatched = [("method", "GET"), ("route", "unmatched"), ("status", "404")];
    assert_eq!(
        sample(http, "pyck_http_request_duration_seconds_count", &unmatched),
        1.0
    );
    assert!(
        !serde_json::to_string(http).unwrap().contains("8c1f"),
        "the raw path is no label"
    );

    let push = family(&families, "pyck_push_duration_seconds");
    assert_eq!(
        (&push["type"], &push["unit"]),
        (&"histogram".into(), &"seconds".into())
    );
    let photos = family(&families, "pyck_photo_received_bytes");
    assert_eq!(
        (&photos["type"], &photos["unit"]),
        (&"counter".into(), &"bytes".into())
    );
    assert_eq!(sample(photos, "pyck_photo_received_bytes_total", &[]), 0.0);

    let subscriptions = family(&families, "pyck_subscriptions_open");
    assert_eq!(subscriptions["type"], "gauge");
    assert_eq!(sample(subscriptions, "pyck_subscriptions_open", &[]), 0.0);
    assert_eq!(family(&families, "pyck_workflows_due")["type"], "gauge");
    let steps = family(&families, "pyck_workflow_steps");
    assert_eq!(steps["type"], "counter");
    assert!(
        sample(
            steps,
            "pyck_workflow_steps_total",
            &[("step", "reserve"), ("status", "done")]
        ) >= 1.0
    );
}

#[test]
fn the_subscriptions_gauge_follows_the_live_feed() {
    let wh = Warehouse::new();
    let server = Server::start(&wh.db, None);
    let watcher = Device::new();
    watcher.enrol(&server.url(), &wh.token(), "3001");
    assert_eq!(server.metric("pyck_subscriptions_open"), Some(0));
    let mut feed = watcher
        .cmd(&["feed", "--json"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_for("the feed's subscription", || {
        (server.metric("pyck_subscriptions_open") == Some(1)).then_some(())
    });
    let _ = feed.kill();
    let _ = feed.wait();
    wait_for("the subscription to close", || {
        (server.metric("pyck_subscriptions_open") == Some(0)).then_some(())
    });
}

#[test]
fn failed_workflow_steps_and_a_workflow_given_up_are_counted() {
    let wh = Warehouse::new();
    // The order's webhook answers 500: the notify step fails, is retried
    // once, and the workflow is given up (an operator's turn).
    let hook = Webhook::start(500);
    let server = Server::start_with(
        &wh.db,
        None,
        &[
            "--notify-url",
            &hook.url,
            "--step-attempts",
            "2",
            "--retry-base-ms",
            "10",
        ],
    );
    let failed = "pyck_workflow_steps_total{step=\"notify\",status=\"failed\"}";
    let given_up = "pyck_workflows_finished_total{state=\"failed\"}";
    assert_eq!(server.metric(failed), None);
    assert_eq!(server.metric(given_up), None);
    let picker = Device::new();
    picker.enrol(&server.url(), &wh.token(), "1007");
    picker.ok(&["sync"]);
    record_fulfilment(&picker, "SO-5004");
    picker.ok(&["sync"]);
    wait_for("the workflow to be given up", || server.metric(given_up));
    assert_eq!(server.metric(given_up), Some(1));
    assert_eq!(server.metric(failed), Some(2), "two attempts, both failed");
    let calls = hook.calls();
    assert_eq!(
        calls
            .iter()
            .filter(|c| c.body["order"] == "SO-5004")
            .count(),
        2
    );
    assert_eq!(
        server.metric("pyck_workflows_finished_total{state=\"completed\"}"),
        None
    );
}

/// One sync, one push request: the batch's answer is the contact, and no
/// empty push follows it (under load each was one more commit on the
/// server's writer per device). With nothing to send, the one push is the
/// empty one that reports the contact.
#[test]
fn a_sync_with_operations_pushes_once_and_one_without_pushes_the_contact() {
    let wh = Warehouse::new();
    let server = Server::start(&wh.db, None);
    let device = Device::new();
    device.enrol(&server.url(), &wh.token(), "1007");
    let pushes = || {
        server
            .metric("pyck_push_duration_seconds_count")
            .unwrap_or(0)
    };
    let before = pushes();
    device.move_one();
    device.move_one();
    let report = device.json(&["sync"]);
    assert_eq!(report["pushed"], 2, "{report}");
    assert_eq!(pushes() - before, 1, "push requests for one batch");
    device.json(&["sync"]);
    assert_eq!(
        pushes() - before,
        2,
        "the empty push of a sync with nothing to send"
    );
}
