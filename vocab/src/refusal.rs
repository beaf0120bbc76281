//! Why the server refused an operation: stable codes that cross the wire as
//! strings, plus a message a person can act on.
//!
//! The server refuses only what cannot be a fact (SPEC §4). Everything else
//! is applied, and a contradiction becomes an exception instead.

use serde::{Deserialize, Serialize};

crate::named! {
    /// Every refusal code. The string names are a public interface: scripts
    /// match on them, so they are never renamed.
    pub enum RefusalCode {
        /// The operation does not decode or a field fails validation.
        Malformed = "malformed",
        /// The terminal and the server speak no common protocol version.
        ProtocolVersion = "protocol_version",
        /// No token, or a token the server does not know or has revoked.
        Unauthenticated = "unauthenticated",
        /// The operation names another device than the one the token belongs to.
        DeviceMismatch = "device_mismatch",
        /// The operator's badge is not known to the tenant.
        UnknownOperator = "unknown_operator",
        /// The operator's role may not record this kind of operation.
        Forbidden = "forbidden",
        UnknownItem = "unknown_item",
        UnknownLocation = "unknown_location",
        UnknownAsn = "unknown_asn",
        UnknownOrder = "unknown_order",
        UnknownTask = "unknown_task",
        UnknownException = "unknown_exception",
        /// The item is lot-tracked and no lot was given.
        LotRequired = "lot_required",
        /// The item is expiry-tracked and no expiry was given for a new lot.
        ExpiryRequired = "expiry_required",
        /// Another operation already holds this device sequence number.
        SeqConflict = "seq_conflict",
        /// The operation's `at` lies outside the window the server accepts
        /// (docs/PROTOCOL.md, "The time window").
        AtOutOfRange = "at_out_of_range",
        /// Another operation of the tenant (this batch, or another device's)
        /// already holds this operation id.
        DuplicateId = "duplicate_id",
        /// An online PIN check failed: the PIN did not match, or the badge is
        /// locked after repeated wrong PINs (the message says which and until
        /// when).
        WrongPin = "wrong_pin",
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
