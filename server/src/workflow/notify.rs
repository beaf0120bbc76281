//! The `notify` step: a POST of the order's outcome to `serve
//! --notify-url`.

use std::time::Duration;

use chrono::Utc;
use serde::Serialize;

use super::machine::{Outcome, State, Workflow};

/// What the webhook receives.
#[derive(Debug, Serialize)]
pub struct Notice<'a> {
    pub tenant: i64,
    pub warehouse: i64,
    pub order: &'a str,
    /// `shipped` or `compensated`.
    pub outcome: &'a str,
    pub at: chrono::DateTime<Utc>,
}

/// Posts notices to one URL.
#[derive(Debug, Clone)]
pub struct Notifier {
    url: String,
    client: reqwest::Client,
}

impl Notifier {
    pub fn new(url: String, timeout: Duration) -> anyhow::Result<Self> {
        let client = reqwest::Client::builder().timeout(timeout).build()?;
        Ok(Self { url, client })
    }

    /// One attempt. A 2xx answer is done; anything else fails the attempt
    /// (the workflow retries it). The idempotency key lets a receiver drop a
    /// call repeated after a crash between the POST and its record.
    pub async fn send(&self, wf: &Workflow) -> Outcome {
        let outcome = if wf.state == State::Compensating {
            "compensated"
        } else {
            "shipped"
        };
        let notice = Notice {
            tenant: wf.tenant,
            warehouse: wf.warehouse,
            order: &wf.order,
            outcome,
            at: Utc::now(),
        };
        let key = format!("{}/{}/{}/notify", wf.tenant, wf.warehouse, wf.order);
        match self
            .client
            .post(&self.url)
            .header("Idempotency-Key", key)
            .json(&notice)
            .send()
            .await
        {
            Ok(resp) if resp.status().is_success() => Outcome::Done,
            Ok(resp) => Outcome::Failed(format!("the webhook answered {}", resp.status())),
            Err(e) => Outcome::Failed(format!("the webhook could not be reached: {e}")),
        }
    }
}
