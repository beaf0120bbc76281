//! Operators as the desk manages them: created with a hashed PIN, then
//! changed (PIN, role, active). Pure: the stored rows come in the view
//! ([`Needs::operator_rows`]), the writes go out in the plan, and the plan
//! derives the change-log rows that carry an operator to every warehouse
//! whose devices hold them ([`Plan::scoped_changes`]).

use pyck_vocab::records::Role;

use crate::domain::{BatchView, Needs, OperatorRow};
use crate::push::{OperatorWrite, Plan};

/// What `user set-pin`, `set-role`, `disable` and `enable` change; `None`
/// keeps the stored value.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OperatorUpdate {
    /// A new PIN's hash; also clears a lock-out.
    pub pin_hash: Option<String>,
    pub role: Option<Role>,
    pub active: Option<bool>,
}

/// Why an operator write is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    #[error("operator with badge {0:?} already exists")]
    Exists(String),
    #[error("no operator with badge {0:?}")]
    Unknown(String),
}

/// What a write of `badge` loads: their stored row, tenant-wide.
pub fn needs(badge: &str) -> Needs {
    Needs {
        operator_rows: [badge.to_owned()].into(),
        ..Needs::default()
    }
}

/// A new, active operator; refused when the badge is taken (by an active
/// operator or not).
pub fn create(view: &BatchView, row: OperatorRow) -> Result<Plan, Refused> {
    if view.operator_rows.contains_key(&row.badge) {
        return Err(Refused::Exists(row.badge));
    }
    let mut warehouses = row.warehouses;
    warehouses.sort_unstable();
    warehouses.dedup();
    Ok(Plan {
        operators: vec![OperatorWrite {
            row: OperatorRow {
                active: true,
                warehouses,
                ..row
            },
            new: true,
            new_pin: true,
        }],
        ..Plan::over(view)
    })
}

/// A stored operator changed; refused when the badge is not the tenant's.
pub fn update(view: &BatchView, badge: &str, update: OperatorUpdate) -> Result<Plan, Refused> {
    let Some(stored) = view.operator_rows.get(badge) else {
        return Err(Refused::Unknown(badge.to_owned()));
    };
    let new_pin = update.pin_hash.is_some();
    let row = OperatorRow {
        badge: stored.badge.clone(),
        role: update.role.unwrap_or(stored.role),
        pin_hash: update.pin_hash.unwrap_or_else(|| stored.pin_hash.clone()),
        active: update.active.unwrap_or(stored.active),
        warehouses: stored.warehouses.clone(),
    };
    Ok(Plan {
        operators: vec![OperatorWrite {
            row,
            new: false,
            new_pin,
        }],
        ..Plan::over(view)
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::push::ChangeRow;

    fn row(badge: &str, role: Role, warehouses: Vec<i64>) -> OperatorRow {
        OperatorRow {
            badge: badge.into(),
            role,
            pin_hash: "$argon2id$old".into(),
            active: true,
            warehouses,
        }
    }

    fn stored(rows: &[OperatorRow]) -> BatchView {
        BatchView {
            operator_rows: rows.iter().map(|r| (r.badge.clone(), r.clone())).collect(),
            ..BatchView::default()
        }
    }

    #[test]
    fn a_taken_badge_is_refused_even_when_its_operator_is_disabled() {
        let mut off = row("1007", Role::Picker, vec![]);
        off.active = false;
        let view = stored(&[off]);
        assert_eq!(
            create(&view, row("1007", Role::Supervisor, vec![])).unwrap_err(),
            Refused::Exists("1007".into())
        );
    }

    /// A new operator reaches the devices of each of their warehouses, or
    /// of every warehouse (scope 0) when they have none; a supervisor's PIN
    /// hash never leaves the server.
    #[test]
    fn a_new_operators_row_goes_to_each_of_their_warehouses() {
        let plan = create(&stored(&[]), row("2001", Role::Picker, vec![7, 3, 7])).unwrap();
        let changes = plan.scoped_changes();
        assert_eq!(changes.keys().copied().collect::<Vec<_>>(), vec![3, 7]);
        assert_eq!(
            changes[&3],
            vec![ChangeRow::operator(
                "2001",
                Role::Picker,
                "$argon2id$old",
                true
            )]
        );
        let plan = create(&stored(&[]), row("2002", Role::Supervisor, vec![])).unwrap();
        let changes = plan.scoped_changes();
        assert_eq!(changes.keys().copied().collect::<Vec<_>>(), vec![0]);
        assert!(!changes[&0][0].data.as_deref().unwrap().contains("argon2id"));
    }

    #[test]
    fn an_update_keeps_what_it_does_not_name() {
        let view = stored(&[row("1007", Role::Picker, vec![4])]);
        let plan = update(
            &view,
            "1007",
            OperatorUpdate {
                active: Some(false),
                ..OperatorUpdate::default()
            },
        )
        .unwrap();
        let write = &plan.operators[0];
        assert!(!write.new && !write.new_pin);
        assert_eq!(write.row.role, Role::Picker);
        assert_eq!(write.row.pin_hash, "$argon2id$old");
        assert!(!write.row.active);
        assert_eq!(
            plan.scoped_changes().keys().copied().collect::<Vec<_>>(),
            vec![4]
        );

        let plan = update(
            &view,
            "1007",
            OperatorUpdate {
                pin_hash: Some("$argon2id$new".into()),
                ..OperatorUpdate::default()
            },
        )
        .unwrap();
        assert!(plan.operators[0].new_pin);
        assert_eq!(
            update(&view, "9999", OperatorUpdate::default()).unwrap_err(),
            Refused::Unknown("9999".into())
        );
    }
}
