//! PostgreSQL backend (being written).

use std::sync::Arc;

use super::Storage;

pub async fn open(_url: &str) -> anyhow::Result<Arc<dyn Storage>> {
    anyhow::bail!("the PostgreSQL backend is not built yet")
}
