//! The [`Lookup`] update asks, answered from the local store: the replica
//! with this device's pending operations on top (the same views as `pyck
//! stock`, `pick list`, `exceptions`).

use chrono::NaiveDate;
use pyck_vocab::records::{
    AsnLineRecord, ExceptionRecord, ExceptionStatus, LocationRecord, TaskKind, TaskRecord,
    TaskStatus,
};

use super::update::Lookup;
use crate::checks::OrderState;
use crate::store::replica::{self, Item};
use crate::store::view::{self, Filter, StockRow};
use crate::store::{Store, work};

pub struct StoreLookup<'s>(pub &'s Store);

impl Lookup for StoreLookup<'_> {
    fn location(&self, code: &str) -> anyhow::Result<Option<LocationRecord>> {
        replica::location(self.0.conn(), code)
    }

    fn item(&self, code: &str) -> anyhow::Result<Option<Item>> {
        let conn = self.0.conn();
        if let Some(item) = replica::item(conn, code)? {
            return Ok(Some(item));
        }
        if !code.is_empty()
            && code.bytes().all(|b| b.is_ascii_digit())
            && let Some(sku) = replica::sku_by_gtin(conn, code)?
        {
            return replica::item(conn, &sku);
        }
        Ok(None)
    }

    fn asn(&self, asn: &str) -> anyhow::Result<Vec<AsnLineRecord>> {
        work::asn(self.0.conn(), asn)
    }

    fn order(&self, order: &str) -> anyhow::Result<Option<OrderState>> {
        work::order_state(self.0.conn(), order)
    }

    fn lot_expiry(&self, sku: &str, lot: &str) -> anyhow::Result<Option<Option<NaiveDate>>> {
        replica::lot_expiry(self.0.conn(), sku, lot)
    }

    fn stock(&self, filter: &Filter) -> anyhow::Result<Vec<StockRow>> {
        view::stock(self.0.conn(), filter)
    }

    fn open_tasks(&self, kind: TaskKind) -> anyhow::Result<Vec<TaskRecord>> {
        Ok(work::tasks(self.0.conn(), kind)?
            .into_iter()
            .filter(|t| t.status == TaskStatus::Open)
            .collect())
    }

    fn open_exceptions(&self) -> anyhow::Result<Vec<ExceptionRecord>> {
        Ok(work::exceptions(self.0.conn())?
            .into_iter()
            .filter(|e| e.status != ExceptionStatus::Resolved)
            .collect())
    }
}
