//! Shared set-up for the server's integration tests: storage backends on
//! real files and real databases, and a small warehouse to push against.

// Test helpers panic on failure by design: a failed set-up is a failed test.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

pub mod server;

use std::sync::Arc;

use chrono::{NaiveDate, Utc};
use pyck_server::import::{AsnLine, ImportData, OpeningStock, OrderLine};
use pyck_server::service::UseCases;
use pyck_server::storage::{self, DeviceAuth, Storage};
use pyck_vocab::operation::{Move, Operation, Payload, Receive};
use pyck_vocab::records::{ItemRecord, LocationRecord, Role, Temperature};
use uuid::Uuid;

/// A storage backend for one test, and what keeps it alive.
pub struct TestDb {
    pub store: Arc<dyn Storage>,
    pub url: String,
    _dir: Option<tempfile::TempDir>,
}

pub async fn sqlite() -> TestDb {
    let dir = tempfile::tempdir().unwrap();
    let url = dir.path().join("server.sqlite3").display().to_string();
    let store = storage::open(&url).await.unwrap();
    TestDb {
        store,
        url,
        _dir: Some(dir),
    }
}

/// A fresh database in the PostgreSQL server the test script started.
/// Fails (never skips) when `PYCK_TEST_POSTGRES_URL` is not set: CI must run
/// these tests.
pub async fn postgres() -> TestDb {
    let url = pyck_testkit::postgres_database("pyck_t").await;
    let store = storage::open(&url).await.unwrap();
    TestDb {
        store,
        url,
        _dir: None,
    }
}

pub fn today() -> NaiveDate {
    Utc::now().date_naive()
}

/// Two items (one lot+expiry tracked), four locations, some opening stock,
/// an ASN and an order.
pub fn small_warehouse() -> ImportData {
    ImportData {
        items: vec![
            ItemRecord {
                sku: "SKU-1".into(),
                gtins: vec!["5790000100019".into()],
                description: "Pasta".into(),
                uom: "EA".into(),
                lot_tracked: false,
                expiry_tracked: false,
                serial_tracked: false,
                temperature: Temperature::Ambient,
            },
            ItemRecord {
                sku: "SKU-2".into(),
                gtins: vec!["5790000100026".into()],
                description: "Yoghurt".into(),
                uom: "EA".into(),
                lot_tracked: true,
                expiry_tracked: true,
                serial_tracked: false,
                temperature: Temperature::Chilled,
            },
        ],
        locations: ["A-01", "A-02", "C-01", "DOCK-1"]
            .iter()
            .map(|code| LocationRecord {
                code: (*code).into(),
                zone: code[..1].into(),
                temperature: match &code[..1] {
                    "A" => Temperature::Ambient,
                    "C" => Temperature::Chilled,
                    _ => Temperature::Dock,
                },
            })
            .collect(),
        stock: vec![
            OpeningStock {
                location: "A-01".into(),
                sku: "SKU-1".into(),
                lot: None,
                expiry: None,
                qty: 1000,
                line: 2,
            },
            OpeningStock {
                location: "C-01".into(),
                sku: "SKU-2".into(),
                lot: Some("L1".into()),
                expiry: NaiveDate::from_ymd_opt(2027, 1, 20),
                qty: 50,
                line: 3,
            },
        ],
        asn_lines: vec![AsnLine {
            asn: "ASN-1".into(),
            line: 1,
            sku: "SKU-2".into(),
            expected_qty: 100,
            supplier: "Dairy".into(),
        }],
        order_lines: vec![OrderLine {
            order: "SO-1".into(),
            line: 1,
            sku: "SKU-1".into(),
            qty: 10,
            customer: "Shop".into(),
        }],
        ignored: vec![],
    }
}

/// A tenant with the small warehouse, operators and one device.
pub struct Site {
    pub tenant: i64,
    pub warehouse: i64,
    pub device: DeviceAuth,
}

pub async fn site(store: &dyn Storage, tenant_name: &str) -> Site {
    let tenant = store.create_tenant(tenant_name).await.unwrap();
    store
        .import(tenant.id, "DC1", &small_warehouse())
        .await
        .unwrap();
    let warehouse = store.warehouse(tenant.id, "DC1").await.unwrap();
    // A cheap stand-in hash: these tests never log in.
    for (badge, role) in [
        ("1007", Role::Picker),
        ("2001", Role::Receiver),
        ("3001", Role::Supervisor),
    ] {
        store
            .create_operator(tenant.id, badge, role, "$argon2id$test", &[])
            .await
            .unwrap();
    }
    let device = new_device(store, tenant.id, warehouse.id).await;
    Site {
        tenant: tenant.id,
        warehouse: warehouse.id,
        device,
    }
}

pub async fn new_device(store: &dyn Storage, tenant: i64, warehouse: i64) -> DeviceAuth {
    let token = pyck_server::auth::new_token();
    let hash = pyck_server::auth::token_hash(&token);
    store
        .create_device(tenant, warehouse, "test", &hash)
        .await
        .unwrap();
    store.authenticate(&hash).await.unwrap().unwrap()
}

pub fn mv(device: &DeviceAuth, seq: u64, qty: i64, from: &str, to: &str) -> Operation {
    Operation {
        id: Uuid::now_v7(),
        device: device.device,
        seq,
        operator: "1007".into(),
        at: Utc::now(),
        payload: Payload::Move(Move {
            sku: "SKU-1".into(),
            lot: None,
            qty,
            from: from.into(),
            to: to.into(),
            task: None,
        }),
    }
}

pub fn receive(device: &DeviceAuth, seq: u64, qty: i64, lot: &str) -> Operation {
    Operation {
        id: Uuid::now_v7(),
        device: device.device,
        seq,
        operator: "2001".into(),
        at: Utc::now(),
        payload: Payload::Receive(Receive {
            asn: "ASN-1".into(),
            sku: "SKU-2".into(),
            qty,
            lot: Some(lot.into()),
            expiry: NaiveDate::from_ymd_opt(2027, 2, 1),
            to: "DOCK-1".into(),
            damaged: 0,
            damaged_reason: None,
        }),
    }
}

/// Moves of 1 unit back and forth between, seq `from..=to`.
pub fn moves(device: &DeviceAuth, seqs: std::ops::RangeInclusive<u64>) -> Vec<Operation> {
    seqs.map(|seq| {
        if seq % 2 == 1 {
            mv(device, seq, 1, "A-01", "A-02")
        } else {
            mv(device, seq, 1, "A-02", "A-01")
        }
    })
    .collect()
}

pub async fn qty(store: &dyn Storage, site: &Site, location: &str, sku: &str) -> i64 {
    store
        .stock(
            site.tenant,
            site.warehouse,
            &pyck_server::storage::StockFilter {
                location: Some(location.into()),
                sku: Some(sku.into()),
            },
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.qty)
        .sum()
}

/// Takes every event waiting in the outbox, in order, as a relay would
/// (publishing nothing): what the writes since the last call committed.
pub async fn outbox_events(store: &dyn Storage) -> Vec<pyck_vocab::events::Event> {
    let rows = store.outbox(u32::MAX).await.unwrap();
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    store.outbox_relayed(&ids).await.unwrap();
    rows.into_iter().flat_map(|r| r.events).collect()
}
