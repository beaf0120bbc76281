//! Mutations: the push, and what a supervisor does.

use std::sync::Arc;

use async_graphql::{Context, ID, Object, Result};
use pyck_vocab::records::Role;
use pyck_vocab::refusal::RefusalCode;

use super::types::{Exception, PushRequest, PushResponse, SettingChange, Task, VerifiedOperator};
use super::{ApiError, auth, events, push_pull, storage, storage_error};
use crate::login::{self, Verdict};
use crate::metrics::Metrics;
use crate::service::UseCases;
use async_graphql::ErrorExtensions;

pub struct Mutation;

#[Object]
impl Mutation {
    /// Applies a batch of the calling device's operations, exactly once each,
    /// in sequence order. Answers only after the batch is committed.
    async fn push(&self, ctx: &Context<'_>, request: PushRequest) -> Result<PushResponse> {
        let a = auth(ctx)?;
        let metrics = ctx.data_unchecked::<Arc<Metrics>>();
        push_pull::push(storage(ctx), metrics, events(ctx), a, request.0)
            .await
            .map(PushResponse)
            .map_err(|e| e.extend())
    }

    /// Checks the PIN of an operator of the caller's warehouse, for a login
    /// on the calling device: the only way to log in a supervisor or admin,
    /// whose PIN hash never leaves the server. Wrong PINs in a row are
    /// counted per badge across devices; the fifth locks the badge for 15
    /// minutes (`wrong_pin`). An unknown or deactivated badge, or one of
    /// another warehouse, is `unknown_operator`.
    async fn verify_operator(
        &self,
        ctx: &Context<'_>,
        badge: String,
        pin: String,
    ) -> Result<VerifiedOperator> {
        let a = auth(ctx)?;
        let store = storage(ctx);
        let unknown = || {
            ApiError::Refused {
                code: RefusalCode::UnknownOperator,
                message: format!("no active operator with badge {badge} in this warehouse"),
            }
            .extend()
        };
        let op = store
            .operator_login(a.tenant, a.warehouse, &badge)
            .await
            .map_err(storage_error)?
            .ok_or_else(unknown)?;
        let now = chrono::Utc::now();
        if let Some(until) = login::locked(&op, now) {
            return Err(locked(&badge, until));
        }
        // A PIN no operator could have costs no hashing (and no megabyte
        // of "PIN" reaches Argon2); it still counts as a wrong guess.
        let matched = if crate::auth::check_pin(&pin).is_ok() {
            // Argon2 is tens of milliseconds of CPU: off the async workers.
            let hash = op.pin_hash.clone();
            tokio::task::spawn_blocking(move || crate::auth::verify_pin(&pin, &hash))
                .await
                .map_err(|_| ApiError::Internal.extend())?
        } else {
            false
        };
        let (verdict, failures) = login::decide(&op, matched, now);
        store
            .set_login_failures(a.tenant, &badge, failures)
            .await
            .map_err(storage_error)?;
        match verdict {
            Verdict::Accepted(role) => Ok(VerifiedOperator {
                badge,
                role: role.as_str().to_owned(),
            }),
            Verdict::WrongPin { left } => Err(ApiError::Refused {
                code: RefusalCode::WrongPin,
                message: format!(
                    "wrong PIN for badge {badge} ({left} tries left before a {}-minute lock-out)",
                    login::LOCKOUT.num_minutes()
                ),
            }
            .extend()),
            Verdict::Locked { until } => Err(locked(&badge, until)),
        }
    }

    /// A new order for the caller's warehouse, allocated at once (FEFO);
    /// returns its pick tasks. Supervisors and admins only.
    async fn create_order(
        &self,
        ctx: &Context<'_>,
        operator: String,
        order: String,
        customer: String,
        lines: Vec<OrderLineInput>,
    ) -> Result<Vec<Task>> {
        let a = auth(ctx)?;
        supervisor(ctx, a.tenant, &operator).await?;
        pyck_vocab::validate::code("order", &order).map_err(bad)?;
        pyck_vocab::validate::name("customer", &customer).map_err(bad)?;
        if lines.is_empty() {
            return Err(
                ApiError::BadRequest("lines: an order needs at least one line".into()).extend(),
            );
        }
        let mut rows = Vec::with_capacity(lines.len());
        for (i, l) in lines.into_iter().enumerate() {
            pyck_vocab::validate::code("sku", &l.sku).map_err(bad)?;
            pyck_vocab::validate::positive_qty("qty", l.qty).map_err(bad)?;
            rows.push(crate::import::OrderLine {
                order: order.clone(),
                line: i as u32 + 1,
                sku: l.sku,
                qty: l.qty,
                customer: customer.clone(),
            });
        }
        let tasks = storage(ctx)
            .create_order(a.tenant, a.warehouse, &rows)
            .await
            .map_err(storage_error)?;
        events(ctx).committed();
        Ok(tasks.into_iter().map(Task::from).collect())
    }

    /// A blind count task at a location. Supervisors and admins only.
    async fn create_count_task(
        &self,
        ctx: &Context<'_>,
        operator: String,
        location: String,
        sku: Option<String>,
    ) -> Result<Task> {
        let a = auth(ctx)?;
        supervisor(ctx, a.tenant, &operator).await?;
        let task = storage(ctx)
            .create_count_task(a.tenant, a.warehouse, &location, sku.as_deref())
            .await
            .map_err(storage_error)?;
        events(ctx).committed();
        Ok(Task::from(task))
    }

    /// Changes one setting of the caller's warehouse (`default` resets it);
    /// audited with the operator's badge. Supervisors and admins only.
    async fn set_setting(
        &self,
        ctx: &Context<'_>,
        operator: String,
        key: String,
        value: String,
    ) -> Result<SettingChange> {
        let a = auth(ctx)?;
        supervisor(ctx, a.tenant, &operator).await?;
        let key =
            crate::settings::Key::parse(&key).map_err(|e| ApiError::BadRequest(e).extend())?;
        let value = key
            .value(&value)
            .map_err(|e| ApiError::BadRequest(e).extend())?;
        let change = storage(ctx)
            .set_setting(a.tenant, a.warehouse, key, &value, &operator)
            .await
            .map_err(storage_error)?;
        Ok(SettingChange::from(change))
    }

    /// Resolves an exception with a note. Supervisors and admins only.
    async fn resolve_exception(
        &self,
        ctx: &Context<'_>,
        operator: String,
        id: ID,
        note: String,
    ) -> Result<Exception> {
        let a = auth(ctx)?;
        supervisor(ctx, a.tenant, &operator).await?;
        pyck_vocab::validate::text("note", &note).map_err(bad)?;
        let resolved = storage(ctx)
            .resolve_exception(a.tenant, a.warehouse, &id, &note)
            .await
            .map_err(storage_error)?
            .ok_or_else(|| {
                ApiError::Refused {
                    code: RefusalCode::UnknownException,
                    message: format!("no exception {} in this warehouse", id.0),
                }
                .extend()
            })?;
        events(ctx).committed();
        Ok(Exception::from(resolved))
    }
}

/// One line of a new order.
#[derive(Debug, async_graphql::InputObject)]
pub struct OrderLineInput {
    pub sku: String,
    pub qty: i64,
}

fn locked(badge: &str, until: chrono::DateTime<chrono::Utc>) -> async_graphql::Error {
    ApiError::Refused {
        code: RefusalCode::WrongPin,
        message: format!(
            "badge {badge} is locked after {} wrong PINs; try again after {}",
            login::MAX_FAILURES,
            until.format("%H:%M:%S UTC")
        ),
    }
    .extend()
}

fn bad(e: pyck_vocab::validate::FieldError) -> async_graphql::Error {
    ApiError::BadRequest(e.to_string()).extend()
}

/// The operator must be a supervisor or admin of the caller's tenant.
async fn supervisor(ctx: &Context<'_>, tenant: i64, badge: &str) -> Result<()> {
    let role = storage(ctx)
        .operator_role(tenant, badge)
        .await
        .map_err(storage_error)?;
    match role {
        Some(Role::Supervisor | Role::Admin) => Ok(()),
        Some(role) => Err(ApiError::Refused {
            code: RefusalCode::Forbidden,
            message: format!("a {role} may not do this; supervisors and admins may"),
        }
        .extend()),
        None => Err(ApiError::Refused {
            code: RefusalCode::UnknownOperator,
            message: format!("no operator with badge {badge}"),
        }
        .extend()),
    }
}
