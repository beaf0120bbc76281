//! Per-warehouse settings a supervisor or administrator changes while the
//! floor runs (docs/SETTINGS.md): how big a count difference is accepted,
//! how long picks may take, how workflow steps retry, and how strictly
//! allocation keeps first-expiry-first-out. Every change is audited.

use std::fmt;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::workflow::policy::Policy;

pyck_vocab::named! {
    /// How strictly allocation keeps FEFO when an earlier-expiring lot of the
    /// item is on hand but cannot be picked yet (it waits at a dock).
    #[derive(Default)]
    pub enum Fefo {
        /// Allocate the later lot and raise `fefo_breach` for a supervisor.
        #[default]
        Warn = "warn",
        /// Do not allocate the later lot: the line stays short until the earlier
        /// lot is put away (the workflow's reserve step retries).
        Refuse = "refuse",
    }
}

/// One warehouse's settings; `None` means the server's default.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Settings {
    /// Largest count difference (units) applied without a supervisor;
    /// default: none (any difference raises `count_difference`).
    pub count_threshold: Option<i64>,
    /// Seconds an order's picks may take before `pick_overdue`.
    pub pick_deadline: Option<i64>,
    /// Attempts of a failing workflow step.
    pub step_attempts: Option<i64>,
    /// Milliseconds before a failed step's first retry.
    pub retry_base_ms: Option<i64>,
    pub fefo: Fefo,
}

impl Settings {
    /// The workflow policy for this warehouse: `defaults` (from `serve`)
    /// with what the warehouse set.
    pub fn policy(&self, defaults: &Policy) -> Policy {
        let mut p = defaults.clone();
        if let Some(s) = self.pick_deadline {
            p.pick_deadline = Duration::from_secs(s.max(0) as u64);
        }
        if let Some(n) = self.step_attempts {
            p.max_attempts = n.clamp(1, i64::from(u32::MAX)) as u32;
        }
        if let Some(ms) = self.retry_base_ms {
            p.base_delay = Duration::from_millis(ms.max(0) as u64);
        }
        p
    }

    /// The value of `key`, as text (`None`: the default).
    pub fn get(&self, key: Key) -> Option<String> {
        match key {
            Key::CountThreshold => self.count_threshold.map(|v| v.to_string()),
            Key::PickDeadline => self.pick_deadline.map(|v| v.to_string()),
            Key::StepAttempts => self.step_attempts.map(|v| v.to_string()),
            Key::RetryBaseMs => self.retry_base_ms.map(|v| v.to_string()),
            Key::Fefo => Some(self.fefo.as_str().to_owned()),
        }
    }
}

/// The settings' names, as `settings set` and GraphQL take them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    CountThreshold,
    PickDeadline,
    StepAttempts,
    RetryBaseMs,
    Fefo,
}

impl Key {
    pub const ALL: [Key; 5] = [
        Key::CountThreshold,
        Key::PickDeadline,
        Key::StepAttempts,
        Key::RetryBaseMs,
        Key::Fefo,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Key::CountThreshold => "count_threshold",
            Key::PickDeadline => "pick_deadline",
            Key::StepAttempts => "step_attempts",
            Key::RetryBaseMs => "retry_base_ms",
            Key::Fefo => "fefo",
        }
    }

    pub fn parse(s: &str) -> Result<Key, String> {
        Key::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| {
                let names: Vec<&str> = Key::ALL.iter().map(|k| k.as_str()).collect();
                format!(
                    "key: {s:?} is not a setting; expected one of {}",
                    names.join(", ")
                )
            })
    }

    /// The warehouses table's column holding it.
    pub fn column(self) -> &'static str {
        match self {
            Key::CountThreshold => "count_threshold",
            Key::PickDeadline => "pick_deadline_secs",
            Key::StepAttempts => "step_attempts",
            Key::RetryBaseMs => "retry_base_ms",
            Key::Fefo => "fefo",
        }
    }

    /// Checks a new value; `default` (or an empty value) resets to the
    /// server's default.
    pub fn value(self, raw: &str) -> Result<Value, String> {
        let raw = raw.trim();
        let reset = raw.is_empty() || raw == "default";
        let number = |min: i64, what: &str| -> Result<Value, String> {
            if reset {
                return Ok(Value::Int(None));
            }
            match raw.parse::<i64>() {
                Ok(n) if n >= min => Ok(Value::Int(Some(n))),
                _ => Err(format!(
                    "value: {} takes {what} (a whole number ≥ {min}) or `default`, not {raw:?}",
                    self.as_str()
                )),
            }
        };
        match self {
            Key::CountThreshold => number(0, "units"),
            Key::PickDeadline => number(1, "seconds"),
            Key::StepAttempts => number(1, "attempts"),
            Key::RetryBaseMs => number(0, "milliseconds"),
            Key::Fefo if reset => Ok(Value::Text(Some(Fefo::Warn.as_str().into()))),
            Key::Fefo => Fefo::parse(raw)
                .map(|f| Value::Text(Some(f.as_str().into())))
                .ok_or_else(|| format!("value: fefo takes `warn` or `refuse`, not {raw:?}")),
        }
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A checked value, as the column stores it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Int(Option<i64>),
    Text(Option<String>),
}

impl Value {
    pub fn text(&self) -> Option<String> {
        match self {
            Value::Int(v) => v.map(|v| v.to_string()),
            Value::Text(v) => v.clone(),
        }
    }
}

/// One audited change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    pub key: String,
    pub old: Option<String>,
    pub new: Option<String>,
    /// Who: an operator's badge over GraphQL, or `admin:<name>` from the CLI.
    pub by: String,
    pub at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_checked_and_named() {
        assert_eq!(Key::parse("count_threshold"), Ok(Key::CountThreshold));
        assert!(
            Key::parse("colour")
                .unwrap_err()
                .contains("count_threshold, pick_deadline")
        );
        assert_eq!(Key::CountThreshold.value("3"), Ok(Value::Int(Some(3))));
        assert_eq!(Key::CountThreshold.value("default"), Ok(Value::Int(None)));
        assert!(
            Key::CountThreshold
                .value("-1")
                .unwrap_err()
                .contains("count_threshold")
        );
        assert!(Key::StepAttempts.value("0").is_err());
        assert!(
            Key::PickDeadline
                .value("soon")
                .unwrap_err()
                .contains("seconds")
        );
        assert_eq!(
            Key::Fefo.value("refuse"),
            Ok(Value::Text(Some("refuse".into())))
        );
        assert!(Key::Fefo.value("strict").unwrap_err().contains("warn"));
    }

    #[test]
    fn a_warehouse_policy_overrides_the_servers_defaults() {
        let defaults = Policy::default();
        let s = Settings {
            pick_deadline: Some(60),
            step_attempts: Some(2),
            ..Settings::default()
        };
        let p = s.policy(&defaults);
        assert_eq!(p.pick_deadline, Duration::from_secs(60));
        assert_eq!(p.max_attempts, 2);
        assert_eq!(p.base_delay, defaults.base_delay);
        assert_eq!(Settings::default().policy(&defaults), defaults);
    }
}

/// A change of one setting as a server write's plan stores it: the new value
/// for the warehouse's row, and what the audit records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettingWrite {
    pub key: Key,
    pub value: Value,
    /// The value it replaces (`None`: the default).
    pub old: Option<String>,
    pub by: String,
    pub at: DateTime<Utc>,
}

impl SettingWrite {
    /// The audit row it writes.
    pub fn change(&self) -> Change {
        Change {
            key: self.key.as_str().to_owned(),
            old: self.old.clone(),
            new: self.value.text(),
            by: self.by.clone(),
            at: self.at,
        }
    }
}

/// The decision of a settings change, over the warehouse's view (its
/// current settings): set `key` to `value`, auditing the value it replaces.
pub fn plan(
    view: &crate::domain::BatchView,
    key: Key,
    value: Value,
    by: &str,
    at: DateTime<Utc>,
) -> crate::push::Plan {
    let mut plan = crate::push::Plan::over(view);
    plan.setting = Some(SettingWrite {
        key,
        old: view.settings.get(key),
        value,
        by: by.to_owned(),
        at,
    });
    plan
}
