//! Tenancy and roles over every GraphQL operation of a real server: the
//! device's own token, another device of its warehouse, a device of another
//! warehouse of the same tenant, a device of another tenant and a revoked
//! token; and each role (picker, receiver, supervisor, admin) on every
//! mutation and every operation kind. The scoping rules are those of
//! docs/SECURITY.md, "Who may see and do what".

#![allow(clippy::unwrap_used)]

use crate::common;

use common::server::{BIN, TestServer, admin, device_token, fixtures};
use serde_json::{Value, json};

/// One actor of the matrix: a device token.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Who {
    Own,
    /// Another device of the same warehouse.
    Peer,
    /// A device of another warehouse of the same tenant.
    OtherWarehouse,
    OtherTenant,
    Revoked,
}

const EVERYONE: [Who; 5] = [
    Who::Own,
    Who::Peer,
    Who::OtherWarehouse,
    Who::OtherTenant,
    Who::Revoked,
];

struct World {
    _dir: tempfile::TempDir,
    db: String,
    server: TestServer,
    own: String,
    peer: String,
    other_warehouse: String,
    other_tenant: String,
    revoked: String,
}

impl World {
    fn token(&self, who: Who) -> &str {
        match who {
            Who::Own => &self.own,
            Who::Peer => &self.peer,
            Who::OtherWarehouse => &self.other_warehouse,
            Who::OtherTenant => &self.other_tenant,
            Who::Revoked => &self.revoked,
        }
    }

    async fn gql(&self, who: Who, query: &str, variables: Value) -> (u16, Value) {
        let resp = reqwest::Client::new()
            .post(self.server.graphql())
            .bearer_auth(self.token(who))
            .header("accept", "application/graphql-response+json")
            .json(&json!({ "query": query, "variables": variables }))
            .send()
            .await
            .unwrap();
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    /// The data of a query that must succeed.
    async fn data(&self, who: Who, query: &str, variables: Value) -> Value {
        let (status, body) = self.gql(who, query, variables).await;
        assert_eq!(status, 200, "{who:?} {query}: {body}");
        assert!(body.get("errors").is_none(), "{who:?} {query}: {body}");
        body["data"].clone()
    }

    /// The stable code of a query that must fail.
    async fn code(&self, who: Who, query: &str, variables: Value) -> String {
        let (_, body) = self.gql(who, query, variables).await;
        body["errors"][0]["extensions"]["code"]
            .as_str()
            .unwrap_or_else(|| panic!("{who:?} {query}: expected an error, got {body}"))
            .to_owned()
    }

    async fn device_id(&self, who: Who) -> String {
        let me = self.data(who, "{ me { id } }", json!({})).await;
        me["me"]["id"].as_str().unwrap().to_owned()
    }

    async fn push(&self, who: Who, ops: Vec<Value>) -> Value {
        let (status, body) = self
            .gql(
                who,
                "mutation($r: PushRequest!) { push(request: $r) }",
                json!({"r": {"protocol": 1, "ops": ops}}),
            )
            .await;
        // A request-level refusal (`device_mismatch`) is a 400.
        assert!(status == 200 || status == 400, "{status}: {body}");
        body
    }
}

const BADGES: [(&str, &str); 4] = [
    ("1007", "picker"),
    ("2001", "receiver"),
    ("3001", "supervisor"),
    ("4001", "admin"),
];

fn users(db: &str, tenant: &str) {
    for (badge, role) in BADGES {
        admin(
            db,
            &[
                "user", "create", "--tenant", tenant, "--badge", badge, "--pin", "1234", "--role",
                role,
            ],
        );
    }
}

fn import(db: &str, tenant: &str, warehouse: &str, dir: &std::path::Path) {
    admin(
        db,
        &[
            "import",
            "--tenant",
            tenant,
            "--warehouse",
            warehouse,
            dir.to_str().unwrap(),
        ],
    );
}

fn token(db: &str, tenant: &str, warehouse: &str) -> String {
    let out = admin(
        db,
        &[
            "device-token",
            "create",
            "--tenant",
            tenant,
            "--warehouse",
            warehouse,
        ],
    );
    out.lines().last().unwrap().to_owned()
}

/// acme with warehouses DC1 (the fixtures, one item and one location only
/// it has) and DC2 (items, locations and stock only); globex with DC1 from
/// the same fixtures, so every code exists in both tenants.
fn world() -> World {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("s.sqlite3").display().to_string();
    admin(&db, &["tenant", "create", "acme"]);
    import(&db, "acme", "DC1", &fixtures());
    let extra = dir.path().join("extra");
    std::fs::create_dir(&extra).unwrap();
    std::fs::write(
        extra.join("items.csv"),
        "sku,gtin,description,uom,lot_tracked,expiry_tracked,temperature\n\
         SKU-ACME-ONLY,,Only acme has it,EA,false,false,ambient\n",
    )
    .unwrap();
    std::fs::write(
        extra.join("locations.csv"),
        "code,zone,temperature\nZ-ACME-ONLY,AMB,ambient\n",
    )
    .unwrap();
    import(&db, "acme", "DC1", &extra);
    let dc2 = dir.path().join("dc2");
    std::fs::create_dir(&dc2).unwrap();
    for file in ["items.csv", "locations.csv", "stock.csv"] {
        std::fs::copy(fixtures().join(file), dc2.join(file)).unwrap();
    }
    import(&db, "acme", "DC2", &dc2);
    users(&db, "acme");
    admin(&db, &["tenant", "create", "globex"]);
    import(&db, "globex", "DC1", &fixtures());
    users(&db, "globex");

    let own = device_token(&db, "acme");
    let peer = device_token(&db, "acme");
    let other_warehouse = token(&db, "acme", "DC2");
    let other_tenant = token(&db, "globex", "DC1");
    let revoked = device_token(&db, "acme");
    admin(&db, &["device-token", "revoke", &revoked]);
    let server = TestServer::start(&db);
    World {
        _dir: dir,
        db,
        server,
        own,
        peer,
        other_warehouse,
        other_tenant,
        revoked,
    }
}

fn op(device: &str, seq: u64, operator: &str, kind: &str, payload: Value) -> Value {
    json!({
        "id": uuid::Uuid::now_v7(), "device": device, "seq": seq, "operator": operator,
        "at": chrono::Utc::now().to_rfc3339(), "kind": kind, "payload": payload
    })
}

/// What acme's DC1 holds that nobody else may see, for the read matrix.
struct Seeded {
    device: String,
    /// Two open `negative_stock` exceptions of acme DC1.
    exceptions: [String; 2],
}

/// Records a day in acme DC1 through its own device: an order picked, a
/// receipt, a count, two moves into negative stock, a setting changed.
async fn seed(w: &World) -> Seeded {
    let created = w
        .data(
            Who::Own,
            r#"mutation { createOrder(operator: "3001", order: "SO-ACME-ONLY", customer: "Acme",
                lines: [{sku: "SKU-10004", qty: 2}]) { id sku lot location qty } }"#,
            json!({}),
        )
        .await;
    let task = &created["createOrder"][0];
    let device = w.device_id(Who::Own).await;
    let mut pick = json!({"task": task["id"], "order": "SO-ACME-ONLY", "sku": "SKU-10004",
        "location": task["location"], "qty": task["qty"]});
    if let Some(lot) = task["lot"].as_str() {
        pick["lot"] = json!(lot);
    }
    let ops = vec![
        op(&device, 1, "1007", "pick", pick),
        op(
            &device,
            2,
            "2001",
            "receive",
            json!({"asn": "ASN-1001", "sku": "SKU-10001", "qty": 5, "to": "DOCK-01"}),
        ),
        op(
            &device,
            3,
            "1007",
            "count",
            json!({"location": "A-01-04", "sku": "SKU-10002", "qty": 72}),
        ),
        op(
            &device,
            4,
            "1007",
            "move",
            json!({"sku": "SKU-10001", "qty": 100000, "from": "A-01-02", "to": "A-01-03"}),
        ),
        op(
            &device,
            5,
            "1007",
            "move",
            json!({"sku": "SKU-10002", "qty": 1000, "from": "A-01-05", "to": "A-01-06"}),
        ),
    ];
    let pushed = w.push(Who::Own, ops).await;
    let results = pushed["data"]["push"]["results"].as_array().unwrap();
    assert!(results.iter().all(|r| r["result"] == "applied"), "{pushed}");
    w.data(
        Who::Own,
        r#"mutation { setSetting(operator: "3001", key: "count_threshold", value: "7") { key } }"#,
        json!({}),
    )
    .await;
    let list = w
        .data(Who::Own, "{ exceptions { id kind } }", json!({}))
        .await;
    let negative: Vec<String> = list["exceptions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "negative_stock")
        .map(|e| e["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(negative.len(), 2, "{list}");
    Seeded {
        device,
        exceptions: [negative[0].clone(), negative[1].clone()],
    }
}

/// Who may see a read's marker: the own warehouse always; the tenant's
/// other warehouse for tenant-wide master data only.
#[derive(Clone, Copy)]
enum Scope {
    Warehouse,
    Tenant,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_operation_under_every_token_and_role() {
    let w = world();
    let s = seed(&w).await;

    // --- Reads: each query with what only acme DC1 can have produced. ---
    let ops_query = format!(r#"{{ operations(device: "{}") {{ seq kind }} }}"#, s.device);
    let reads: Vec<(&str, String, String, Scope)> = vec![
        (
            "pull",
            r#"{ pull(request: {protocol: 1, cursor: 0, limit: 100000}) }"#.into(),
            "SO-ACME-ONLY".into(),
            Scope::Warehouse,
        ),
        (
            "stock",
            r#"{ stock(location: "A-01-03", sku: "SKU-10001") { qty } }"#.into(),
            "100000".into(),
            Scope::Warehouse,
        ),
        (
            "items",
            "{ items { sku } }".into(),
            "SKU-ACME-ONLY".into(),
            Scope::Tenant,
        ),
        (
            "locations",
            "{ locations { code } }".into(),
            "Z-ACME-ONLY".into(),
            Scope::Warehouse,
        ),
        (
            "exceptions",
            "{ exceptions { id } }".into(),
            s.exceptions[0].clone(),
            Scope::Warehouse,
        ),
        (
            "workflow",
            r#"{ workflow(order: "SO-ACME-ONLY") { order state } }"#.into(),
            "SO-ACME-ONLY".into(),
            Scope::Warehouse,
        ),
        (
            "workflows",
            "{ workflows { order } }".into(),
            "SO-ACME-ONLY".into(),
            Scope::Warehouse,
        ),
        (
            "settings",
            "{ settings { countThreshold } }".into(),
            r#""countThreshold":7"#.into(),
            Scope::Warehouse,
        ),
        (
            "settingsHistory",
            "{ settingsHistory { key by } }".into(),
            "count_threshold".into(),
            Scope::Warehouse,
        ),
        (
            "operations",
            ops_query,
            r#""kind":"receive""#.into(),
            Scope::Warehouse,
        ),
        (
            "floor",
            "{ floor { exceptions { id } devices { id } } }".into(),
            s.exceptions[0].clone(),
            Scope::Warehouse,
        ),
        (
            "productivityReport",
            "{ productivityReport { operator picks } }".into(),
            r#""operator":"1007""#.into(),
            Scope::Warehouse,
        ),
        (
            "receivingReport",
            "{ receivingReport { asn received } }".into(),
            r#""received":5"#.into(),
            Scope::Warehouse,
        ),
        (
            "exceptionsReport",
            "{ exceptionsReport { kind raised } }".into(),
            "negative_stock".into(),
            Scope::Warehouse,
        ),
        (
            "accuracyReport",
            "{ accuracyReport { counts } }".into(),
            r#""counts":1"#.into(),
            Scope::Warehouse,
        ),
        (
            "cycleTimeReport",
            "{ cycleTimeReport { orders { order } } }".into(),
            "SO-ACME-ONLY".into(),
            Scope::Warehouse,
        ),
    ];
    let mut checked = 0;
    for (name, query, marker, scope) in &reads {
        for who in EVERYONE {
            if who == Who::Revoked {
                let (status, body) = w.gql(who, query, json!({})).await;
                assert_eq!(status, 401, "{name}: {body}");
                assert_eq!(body["errors"][0]["extensions"]["code"], "unauthenticated");
                assert!(body.get("data").is_none(), "{name}: {body}");
                checked += 1;
                continue;
            }
            let data = w.data(who, query, json!({})).await.to_string();
            let may_see = match who {
                Who::Own | Who::Peer => true,
                Who::OtherWarehouse => matches!(scope, Scope::Tenant),
                Who::OtherTenant | Who::Revoked => false,
            };
            assert_eq!(
                data.contains(marker.as_str()),
                may_see,
                "{name} as {who:?}: marker {marker:?} in {data}"
            );
            checked += 1;
        }
    }
    // Everyone with a valid token reads the server's versions and itself.
    for who in EVERYONE {
        let (status, body) = w
            .gql(who, "{ serverInfo { protocol } me { id } }", json!({}))
            .await;
        if who == Who::Revoked {
            assert_eq!(status, 401);
        } else {
            assert_eq!(status, 200, "{body}");
            let mine = body["data"]["me"]["id"] == json!(s.device);
            assert_eq!(mine, who == Who::Own, "{who:?}: {body}");
        }
        checked += 1;
    }

    // --- Supervisor mutations: the role of the named operator decides; no
    // token reaches into another warehouse or tenant. ---
    let create_order = r#"mutation($op: String!, $order: String!) { createOrder(operator: $op,
        order: $order, customer: "C", lines: [{sku: "SKU-10002", qty: 1}]) { id } }"#;
    let count_task =
        r#"mutation($op: String!) { createCountTask(operator: $op, location: "A-01-04") { id } }"#;
    let set_setting = r#"mutation($op: String!) { setSetting(operator: $op, key: "count_threshold", value: "7") { key } }"#;
    let resolve = r#"mutation($op: String!, $id: ID!) { resolveException(operator: $op, id: $id, note: "seen") { status } }"#;
    for (badge, role) in BADGES.iter().copied().chain([("9999", "nobody")]) {
        let order = format!("SO-BY-{badge}");
        let vars = json!({"op": badge, "order": order, "id": s.exceptions[0]});
        for mutation in [create_order, count_task, set_setting, resolve] {
            // The supervisor resolves the first exception, the admin the second.
            let vars = match role {
                "admin" => json!({"op": badge, "order": order, "id": s.exceptions[1]}),
                _ => vars.clone(),
            };
            match role {
                "supervisor" | "admin" => {
                    w.data(Who::Own, mutation, vars).await;
                }
                "nobody" => assert_eq!(w.code(Who::Own, mutation, vars).await, "unknown_operator"),
                _ => assert_eq!(
                    w.code(Who::Own, mutation, vars).await,
                    "forbidden",
                    "{role}"
                ),
            }
            let (status, _) = w
                .gql(
                    Who::Revoked,
                    mutation,
                    json!({"op": "3001", "order": "SO-R", "id": s.exceptions[0]}),
                )
                .await;
            assert_eq!(status, 401);
            checked += 2;
        }
        // A refused order was not created.
        let wf = w
            .data(
                Who::Own,
                r#"query($o: String!) { workflow(order: $o) { order } }"#,
                json!({"o": order}),
            )
            .await;
        assert_eq!(
            wf["workflow"].is_null(),
            !matches!(role, "supervisor" | "admin"),
            "{role}: {wf}"
        );
    }
    // Another warehouse's and another tenant's supervisors cannot resolve
    // acme DC1's exceptions, which are resolved by now; they stay so.
    for who in [Who::OtherWarehouse, Who::OtherTenant] {
        let vars = json!({"op": "3001", "id": s.exceptions[0]});
        assert_eq!(
            w.code(who, resolve, vars).await,
            "unknown_exception",
            "{who:?}"
        );
        // Their own settings change leaves acme DC1's alone.
        let set_9 = r#"mutation { setSetting(operator: "3001", key: "count_threshold", value: "9") { key } }"#;
        w.data(who, set_9, json!({})).await;
        checked += 2;
    }
    let settings = w
        .data(Who::Own, "{ settings { countThreshold } }", json!({}))
        .await;
    assert_eq!(settings["settings"]["countThreshold"], 7);
    let history = w
        .data(Who::Own, "{ settingsHistory { by } }", json!({}))
        .await;
    let mut by: Vec<&str> = history["settingsHistory"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["by"].as_str().unwrap())
        .collect();
    by.sort_unstable();
    assert_eq!(by, ["3001", "3001", "4001"], "{history}");

    // --- Push: nobody pushes in another device's name; a task of another
    // warehouse is unknown elsewhere. ---
    for who in [Who::Peer, Who::OtherWarehouse, Who::OtherTenant] {
        let mv = op(
            &s.device,
            6,
            "1007",
            "move",
            json!({"sku": "SKU-10001", "qty": 1, "from": "A-01-02", "to": "A-01-03"}),
        );
        let body = w.push(who, vec![mv]).await;
        assert_eq!(
            body["errors"][0]["extensions"]["code"], "device_mismatch",
            "{who:?}: {body}"
        );
        checked += 1;
    }
    let tasks = w
        .data(
            Who::Own,
            r#"{ pull(request: {protocol: 1, cursor: 0, limit: 100000}) }"#,
            json!({}),
        )
        .await;
    let task = tasks["pull"]["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["entity"] == "task" && c["data"]["order"] == "SO-BY-3001")
        .unwrap_or_else(|| panic!("no task of SO-BY-3001 in {tasks}"))
        .clone();
    for who in [Who::OtherWarehouse, Who::OtherTenant] {
        let device = w.device_id(who).await;
        let pick = op(
            &device,
            1,
            "1007",
            "pick",
            json!({"task": task["key"], "order": "SO-BY-3001",
            "sku": "SKU-10002", "location": task["data"]["location"], "qty": 1}),
        );
        let body = w.push(who, vec![pick]).await;
        let code = &body["data"]["push"]["results"][0]["code"];
        assert!(
            code == "unknown_task" || code == "unknown_order",
            "{who:?}: {body}"
        );
        checked += 1;
    }

    // --- Push: every kind under every role, on the peer device. Allowed
    // ones name things that do not exist, so they are refused for that and
    // change nothing; forbidden ones are refused as forbidden first. ---
    let peer = w.device_id(Who::Peer).await;
    let kinds: [(&str, Value, [bool; 4]); 11] = [
        // kind, payload, may [picker, receiver, supervisor, admin]
        (
            "receive",
            json!({"asn": "ASN-NONE", "sku": "SKU-10001", "qty": 1, "to": "DOCK-01"}),
            [false, true, true, true],
        ),
        (
            "close_asn",
            json!({"asn": "ASN-NONE"}),
            [false, true, true, true],
        ),
        (
            "putaway",
            json!({"sku": "SKU-10001", "qty": 1, "from": "NOWHERE", "to": "A-01-03"}),
            [true, true, true, true],
        ),
        (
            "move",
            json!({"sku": "SKU-10001", "qty": 1, "from": "NOWHERE", "to": "A-01-03"}),
            [true, true, true, true],
        ),
        (
            "count",
            json!({"location": "NOWHERE", "sku": "SKU-10001", "qty": 1}),
            [true, true, true, true],
        ),
        (
            "pick",
            json!({"task": "T-NONE", "order": "SO-NONE", "sku": "SKU-10001", "location": "A-01-02", "qty": 1}),
            [true, false, true, true],
        ),
        (
            "short_pick",
            json!({"task": "T-NONE", "order": "SO-NONE", "sku": "SKU-10001", "location": "A-01-02", "qty": 1, "reason": "empty"}),
            [true, false, true, true],
        ),
        (
            "pack",
            json!({"order": "SO-NONE"}),
            [true, false, true, true],
        ),
        (
            "ship",
            json!({"order": "SO-NONE"}),
            [true, false, true, true],
        ),
        (
            "adjust",
            json!({"location": "NOWHERE", "sku": "SKU-10001", "qty": 1, "reason": "found"}),
            [false, false, true, true],
        ),
        (
            "resolve_exception",
            json!({"exception": "00000000-0000-0000-0000-000000000000", "note": "n"}),
            [false, false, true, true],
        ),
    ];
    let mut seq = 0;
    let mut batch = Vec::new();
    let mut expected = Vec::new();
    for (kind, payload, may) in &kinds {
        for (i, (badge, role)) in BADGES.iter().enumerate() {
            seq += 1;
            batch.push(op(&peer, seq, badge, kind, payload.clone()));
            expected.push((*kind, *role, may[i]));
        }
    }
    let body = w.push(Who::Peer, batch).await;
    let results = body["data"]["push"]["results"].as_array().unwrap();
    assert_eq!(results.len(), expected.len(), "{body}");
    for (r, (kind, role, may)) in results.iter().zip(&expected) {
        assert_eq!(r["result"], "refused", "{kind} by a {role}: {r}");
        let forbidden = r["code"] == "forbidden";
        assert_eq!(forbidden, !may, "{kind} by a {role}: {r}");
        checked += 1;
    }

    // Nothing of this broke an invariant.
    let verify = std::process::Command::new(BIN)
        .args(["--db", &w.db, "verify", "--tenant", "acme"])
        .output()
        .unwrap();
    assert!(
        verify.status.success(),
        "{}",
        String::from_utf8_lossy(&verify.stdout)
    );
    eprintln!("{checked} token/role/operation combinations checked");
}
