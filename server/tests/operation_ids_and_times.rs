//! Issue 19, findings 5 and 6, against a real server: an operation dated
//! outside the time window is refused with `at_out_of_range` and every query
//! that reads operation times still answers; operation ids are unique per
//! tenant, so another device (of the tenant or another) claiming an id does
//! not lock the id's own device out, and one id twice in a batch is refused
//! with `duplicate_id`, never an internal error.

#![allow(clippy::unwrap_used)]

use crate::common;

use common::server::{TestServer, device_token, provision};
use serde_json::{Value, json};

struct Client {
    url: String,
    token: String,
}

impl Client {
    async fn gql(&self, query: &str, variables: Value) -> Value {
        let resp = reqwest::Client::new()
            .post(&self.url)
            .bearer_auth(&self.token)
            .header("accept", "application/graphql-response+json")
            .json(&json!({ "query": query, "variables": variables }))
            .send()
            .await
            .unwrap();
        let status = resp.status().as_u16();
        let body: Value = resp.json().await.unwrap_or(Value::Null);
        assert_eq!(status, 200, "{query}: {body}");
        assert!(body.get("errors").is_none(), "{query}: {body}");
        body["data"].clone()
    }

    async fn device(&self) -> String {
        self.gql("{ me { id } }", json!({})).await["me"]["id"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// The push's results as (result, code) pairs, and its `last_seq`.
    async fn push(&self, ops: &[Value]) -> (Vec<(String, String)>, u64) {
        let data = self
            .gql(
                "mutation($r: PushRequest!) { push(request: $r) }",
                json!({"r": {"protocol": 1, "ops": ops}}),
            )
            .await;
        let push = &data["push"];
        let results = push["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r["result"].as_str().unwrap().to_owned(),
                    r["code"].as_str().unwrap_or("").to_owned(),
                )
            })
            .collect();
        (results, push["last_seq"].as_u64().unwrap())
    }
}

fn mv(device: &str, seq: u64, id: uuid::Uuid, at: &str) -> Value {
    json!({
        "id": id, "device": device, "seq": seq, "operator": "1007", "at": at, "kind": "move",
        "payload": {"sku": "SKU-10004", "qty": 1, "from": "A-01-02", "to": "A-01-03"}
    })
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339()
}

fn pair(result: &str, code: &str) -> (String, String) {
    (result.to_owned(), code.to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn far_times_are_refused_and_every_query_still_answers() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("s.sqlite3").display().to_string();
    let token = provision(&db, "acme");
    let server = TestServer::start(&db);
    let c = Client {
        url: server.graphql(),
        token,
    };
    let device = c.device().await;
    let id = uuid::Uuid::now_v7;
    let ops = [
        mv(&device, 1, id(), "+10000-01-01T00:00:00Z"),
        mv(&device, 2, id(), "0001-01-01T00:00:00Z"),
        mv(&device, 3, id(), "9999-12-31T00:00:00Z"),
        mv(&device, 4, id(), &now()),
    ];
    let (results, last_seq) = c.push(&ops).await;
    assert_eq!(
        results,
        [
            pair("refused", "at_out_of_range"),
            pair("refused", "at_out_of_range"),
            pair("refused", "at_out_of_range"),
            pair("applied", ""),
        ]
    );
    assert_eq!(last_seq, 4);
    for query in [
        "{ exceptions { id } }".to_owned(),
        "{ floor { exceptions { id } devices { id } } }".to_owned(),
        "{ productivityReport { operator picks } }".to_owned(),
        "{ receivingReport { asn received } }".to_owned(),
        "{ exceptionsReport { kind raised } }".to_owned(),
        "{ accuracyReport { counts } }".to_owned(),
        "{ cycleTimeReport { orders { order } } }".to_owned(),
        format!(r#"{{ operations(device: "{device}") {{ seq kind at }} }}"#),
    ] {
        c.gql(&query, json!({})).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_taken_id_is_refused_and_its_device_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("s.sqlite3").display().to_string();
    let victim_token = provision(&db, "acme");
    let peer_token = device_token(&db, "acme");
    let other_token = provision(&db, "globex");
    let server = TestServer::start(&db);
    let client = |token: String| Client {
        url: server.graphql(),
        token,
    };
    let (victim, peer, other) = (
        client(victim_token),
        client(peer_token),
        client(other_token),
    );
    let (v, p, o) = (
        victim.device().await,
        peer.device().await,
        other.device().await,
    );
    let id = uuid::Uuid::now_v7;

    // One id twice in a batch: refused with a code, the rest applied.
    let twice = id();
    let (results, last_seq) = victim
        .push(&[
            mv(&v, 1, twice, &now()),
            mv(&v, 2, twice, &now()),
            mv(&v, 3, id(), &now()),
        ])
        .await;
    assert_eq!(
        results,
        [
            pair("applied", ""),
            pair("refused", "duplicate_id"),
            pair("applied", "")
        ]
    );
    assert_eq!(last_seq, 3);

    // The victim's journal was restored and its next operations are lost to
    // the server; a peer and another tenant's device use their ids first.
    let (lost, elsewhere) = (id(), id());
    let (results, _) = peer.push(&[mv(&p, 1, lost, &now())]).await;
    assert_eq!(results, [pair("applied", "")]);
    let (results, _) = other.push(&[mv(&o, 1, elsewhere, &now())]).await;
    assert_eq!(results, [pair("applied", "")]);
    let first = mv(&v, 1, twice, &now());
    let (results, last_seq) = victim
        .push(&[
            first,
            mv(&v, 4, lost, &now()),
            mv(&v, 5, elsewhere, &now()),
            mv(&v, 6, id(), &now()),
        ])
        .await;
    assert_eq!(
        results,
        [
            pair("duplicate", ""),
            pair("refused", "duplicate_id"),
            pair("applied", ""),
            pair("applied", ""),
        ]
    );
    assert_eq!(last_seq, 6);
    // And it keeps syncing.
    let (results, _) = victim.push(&[mv(&v, 7, id(), &now())]).await;
    assert_eq!(results, [pair("applied", "")]);
}
