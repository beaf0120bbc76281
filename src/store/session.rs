//! The operator logged in on this device. PINs are checked offline against
//! the Argon2id hash pulled from the server; repeated wrong PINs lock the
//! badge out for a while, because a PIN space is small. Supervisors' and
//! admins' records come without a hash: the server checks their PIN online
//! ([`LoginError::CheckedOnline`], `commands::session`).

use argon2::password_hash::{PasswordHash, PasswordVerifier};
use chrono::{Duration, Utc};
use pyck_vocab::records::Role;
use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;

use super::{parse_ts, replica, ts};

/// Wrong PINs in a row before the lock-out.
pub const MAX_FAILURES: i64 = 5;
/// How long a badge stays locked.
pub const LOCKOUT_MINUTES: i64 = 5;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Operator {
    pub badge: String,
    pub role: Role,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum LoginError {
    #[error("badge {0} is not known on this device; sync, or ask a supervisor")]
    UnknownBadge(String),
    #[error(
        "wrong PIN for badge {badge} ({left} tries left before a {LOCKOUT_MINUTES}-minute lock-out)"
    )]
    WrongPin { badge: String, left: i64 },
    #[error("badge {badge} is locked after {MAX_FAILURES} wrong PINs; try again after {until}")]
    Locked { badge: String, until: String },
    #[error("badge {0} is deactivated")]
    Inactive(String),
    /// The server keeps this badge's PIN; ask it, then [`open`].
    #[error("the PIN of {role} {badge} is checked by the server")]
    CheckedOnline { badge: String, role: Role },
}

/// The operator logged in, unless a sync has since brought word that they
/// were disabled: a leaver's session ends at the device's next sync.
pub fn current(conn: &Connection) -> anyhow::Result<Option<Operator>> {
    let row: Option<(String, String)> = conn
        .query_row("SELECT badge, role FROM session WHERE id = 1", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .optional()?;
    let Some((badge, role)) = row else {
        return Ok(None);
    };
    if let Some((_, _, false)) = replica::operator(conn, &badge)? {
        return Ok(None);
    }
    Ok(Role::parse(&role).map(|role| Operator { badge, role }))
}

/// The badge of the open session when its operator has since been
/// disabled (a sync brought the word); None while it stands.
pub fn disabled(conn: &Connection) -> anyhow::Result<Option<String>> {
    let badge: Option<String> = conn
        .query_row("SELECT badge FROM session WHERE id = 1", [], |r| r.get(0))
        .optional()?;
    let Some(badge) = badge else {
        return Ok(None);
    };
    Ok(match replica::operator(conn, &badge)? {
        Some((_, _, false)) => Some(badge),
        _ => None,
    })
}

/// Checks the PIN and opens the session; a failure is counted and reported.
pub fn login(
    conn: &Connection,
    badge: &str,
    pin: &str,
) -> anyhow::Result<Result<Operator, LoginError>> {
    let now = Utc::now();
    let (failures, locked_until): (i64, Option<String>) = conn
        .query_row(
            "SELECT failures, locked_until FROM login_failures WHERE badge = ?1",
            [badge],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?
        .unwrap_or((0, None));
    if let Some(until) = locked_until.as_deref().and_then(parse_ts)
        && until > now
    {
        return Ok(Err(LoginError::Locked {
            badge: badge.to_owned(),
            until: until.format("%H:%M:%S UTC").to_string(),
        }));
    }
    let Some((role, hash, active)) = replica::operator(conn, badge)? else {
        return Ok(Err(LoginError::UnknownBadge(badge.to_owned())));
    };
    if !active {
        return Ok(Err(LoginError::Inactive(badge.to_owned())));
    }
    if hash.is_empty() {
        return Ok(Err(LoginError::CheckedOnline {
            badge: badge.to_owned(),
            role,
        }));
    }
    let ok = PasswordHash::new(&hash)
        .map(|h| {
            argon2::Argon2::default()
                .verify_password(pin.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false);
    if !ok {
        // A lock that has expired starts a fresh count.
        let failures = if locked_until.is_some() {
            1
        } else {
            failures + 1
        };
        let until =
            (failures >= MAX_FAILURES).then(|| ts(now + Duration::minutes(LOCKOUT_MINUTES)));
        conn.execute(
            "INSERT INTO login_failures (badge, failures, locked_until) VALUES (?1, ?2, ?3) \
             ON CONFLICT (badge) DO UPDATE SET failures = excluded.failures, locked_until = excluded.locked_until",
            params![badge, failures, until],
        )?;
        if until.is_some() {
            return Ok(Err(LoginError::Locked {
                badge: badge.to_owned(),
                until: (now + Duration::minutes(LOCKOUT_MINUTES))
                    .format("%H:%M:%S UTC")
                    .to_string(),
            }));
        }
        return Ok(Err(LoginError::WrongPin {
            badge: badge.to_owned(),
            left: MAX_FAILURES - failures,
        }));
    }
    open(conn, badge, role).map(Ok)
}

/// Opens the session of an operator whose PIN was checked (here or by the
/// server).
pub fn open(conn: &Connection, badge: &str, role: Role) -> anyhow::Result<Operator> {
    conn.execute("DELETE FROM login_failures WHERE badge = ?1", [badge])?;
    conn.execute(
        "INSERT OR REPLACE INTO session (id, badge, role, since) VALUES (1, ?1, ?2, ?3)",
        params![badge, role.as_str(), ts(Utc::now())],
    )?;
    Ok(Operator {
        badge: badge.to_owned(),
        role,
    })
}

pub fn logout(conn: &Connection) -> anyhow::Result<Option<String>> {
    let badge = current(conn)?.map(|o| o.badge);
    conn.execute("DELETE FROM session", [])?;
    Ok(badge)
}
