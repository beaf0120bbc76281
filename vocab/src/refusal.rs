//! Why the server refused an operation: stable codes that cross the wire as
//! strings, plus a message a person can act on.
//!
//! The server refuses only what cannot be a fact (SPEC §4). Everything else
//! is applied, and a contradiction becomes an exception instead.

use serde::{Deserialize, Serialize};

/// Every refusal code. The string names are a public interface: scripts
/// match on them, so they are never renamed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RefusalCode {
    /// The operation does not decode or a field fails validation.
    Malformed,
    /// The terminal and the server speak no common protocol version.
    ProtocolVersion,
    /// No token, or a token the server does not know or has revoked.
    Unauthenticated,
    /// The operation names another device than the one the token belongs to.
    DeviceMismatch,
    /// The operator's badge is not known to the tenant.
    UnknownOperator,
    /// The operator's role may not record this kind of operation.
    Forbidden,
    UnknownItem,
    UnknownLocation,
    UnknownAsn,
    UnknownOrder,
    UnknownTask,
    UnknownException,
    /// The item is lot-tracked and no lot was given.
    LotRequired,
    /// The item is expiry-tracked and no expiry was given for a new lot.
    ExpiryRequired,
    /// Another operation already holds this device sequence number.
    SeqConflict,
    /// The operation's `at` lies outside the window the server accepts
    /// (docs/PROTOCOL.md, "The time window").
    AtOutOfRange,
    /// Another operation of the tenant (this batch, or another device's)
    /// already holds this operation id.
    DuplicateId,
    /// An online PIN check failed: the PIN did not match, or the badge is
    /// locked after repeated wrong PINs (the message says which and until
    /// when).
    WrongPin,
}

impl RefusalCode {
    pub const ALL: [RefusalCode; 18] = [
        RefusalCode::Malformed,
        RefusalCode::ProtocolVersion,
        RefusalCode::Unauthenticated,
        RefusalCode::DeviceMismatch,
        RefusalCode::UnknownOperator,
        RefusalCode::Forbidden,
        RefusalCode::UnknownItem,
        RefusalCode::UnknownLocation,
        RefusalCode::UnknownAsn,
        RefusalCode::UnknownOrder,
        RefusalCode::UnknownTask,
        RefusalCode::UnknownException,
        RefusalCode::LotRequired,
        RefusalCode::ExpiryRequired,
        RefusalCode::SeqConflict,
        RefusalCode::AtOutOfRange,
        RefusalCode::DuplicateId,
        RefusalCode::WrongPin,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RefusalCode::Malformed => "malformed",
            RefusalCode::ProtocolVersion => "protocol_version",
            RefusalCode::Unauthenticated => "unauthenticated",
            RefusalCode::DeviceMismatch => "device_mismatch",
            RefusalCode::UnknownOperator => "unknown_operator",
            RefusalCode::Forbidden => "forbidden",
            RefusalCode::UnknownItem => "unknown_item",
            RefusalCode::UnknownLocation => "unknown_location",
            RefusalCode::UnknownAsn => "unknown_asn",
            RefusalCode::UnknownOrder => "unknown_order",
            RefusalCode::UnknownTask => "unknown_task",
            RefusalCode::UnknownException => "unknown_exception",
            RefusalCode::LotRequired => "lot_required",
            RefusalCode::ExpiryRequired => "expiry_required",
            RefusalCode::SeqConflict => "seq_conflict",
            RefusalCode::AtOutOfRange => "at_out_of_range",
            RefusalCode::DuplicateId => "duplicate_id",
            RefusalCode::WrongPin => "wrong_pin",
        }
    }

    pub fn parse(name: &str) -> Option<RefusalCode> {
        RefusalCode::ALL.into_iter().find(|c| c.as_str() == name)
    }
}

impl std::fmt::Display for RefusalCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A refusal: the code for machines, the message for people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Refusal {
    pub code: RefusalCode,
    pub message: String,
}

impl Refusal {
    pub fn new(code: RefusalCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.message, self.code)
    }
}

impl std::error::Error for Refusal {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_stable_and_round_trip() {
        for code in RefusalCode::ALL {
            assert_eq!(RefusalCode::parse(code.as_str()), Some(code));
            assert_eq!(serde_json::to_value(code).unwrap(), code.as_str());
        }
        assert_eq!(RefusalCode::UnknownItem.as_str(), "unknown_item");
    }
}
