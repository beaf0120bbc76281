//! Operations: the physical facts a device records.
//!
//! An operation is not a request. "3 cases of SKU X, lot L, moved from A-01-02
//! to F-03-01 at 10:42 by badge 1007" already happened; the server applies it
//! and raises an exception when it contradicts what the server believed.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::validate::{self, FieldError};

/// One recorded fact, as it travels from a device to the server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Operation {
    /// Globally unique, UUIDv7 (time-ordered), chosen by the device.
    pub id: Uuid,
    /// The device that recorded it.
    pub device: Uuid,
    /// The device's own gap-free sequence number, starting at 1.
    pub seq: u64,
    /// Badge of the operator logged in on the device.
    pub operator: String,
    /// The device's clock when the fact was recorded.
    pub at: DateTime<Utc>,
    /// What happened.
    #[serde(flatten)]
    pub payload: Payload,
}

/// What happened, one variant per operation kind. On the wire: `"kind"` names
/// the variant and `"payload"` holds its fields.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "payload", rename_all = "snake_case")]
pub enum Payload {
    Receive(Receive),
    Putaway(Move),
    Move(Move),
    Pick(Pick),
    ShortPick(ShortPick),
    Count(Count),
    Adjust(Adjust),
    CloseAsn(CloseAsn),
    Pack(OrderRef),
    Ship(OrderRef),
    ResolveException(ResolveException),
}

crate::named! {
    /// The operation kinds, for places that need the name without the payload.
    pub enum Kind {
        Receive = "receive",
        Putaway = "putaway",
        Move = "move",
        Pick = "pick",
        ShortPick = "short_pick",
        Count = "count",
        Adjust = "adjust",
        CloseAsn = "close_asn",
        Pack = "pack",
        Ship = "ship",
        ResolveException = "resolve_exception",
    }
}

/// Goods received against an ASN line into a location (usually a dock).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Receive {
    pub asn: String,
    pub sku: String,
    /// Units received in good condition, put into `to`.
    pub qty: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lot: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expiry: Option<NaiveDate>,
    pub to: String,
    /// Units that arrived damaged: recorded against the ASN line, not stocked.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub damaged: i64,
    /// Why the `damaged` units were rejected at the dock, when not plain
    /// damage: `expired` for goods past their expiry date (the terminal
    /// records expired lots this way rather than as stock). Older servers
    /// ignore the field.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub damaged_reason: Option<String>,
}

/// Stock carried from one location to another (a putaway is a move out of a
/// dock location, optionally completing a putaway task).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Move {
    pub sku: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lot: Option<String>,
    pub qty: i64,
    pub from: String,
    pub to: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task: Option<String>,
}

/// Units taken from a location for a pick task.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pick {
    pub task: String,
    pub order: String,
    pub sku: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lot: Option<String>,
    pub location: String,
    pub qty: i64,
}

/// A pick that found fewer units than the task asked for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShortPick {
    pub task: String,
    pub order: String,
    pub sku: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lot: Option<String>,
    pub location: String,
    /// Units actually taken; may be zero.
    pub qty: i64,
    pub reason: String,
}

/// A counted quantity of an item (and lot) at a location.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Count {
    pub location: String,
    pub sku: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lot: Option<String>,
    pub qty: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task: Option<String>,
}

/// A supervisor setting the quantity of an item (and lot) at a location.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Adjust {
    pub location: String,
    pub sku: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lot: Option<String>,
    pub qty: i64,
    pub reason: String,
}

/// An ASN closed: nothing more is expected on it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CloseAsn {
    pub asn: String,
}

/// A supervisor closing an exception with a note.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResolveException {
    pub exception: String,
    pub note: String,
}

/// An order packed or shipped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderRef {
    pub order: String,
}

fn is_zero(n: &i64) -> bool {
    *n == 0
}

impl Payload {
    pub fn kind(&self) -> Kind {
        match self {
            Payload::Receive(_) => Kind::Receive,
            Payload::Putaway(_) => Kind::Putaway,
            Payload::Move(_) => Kind::Move,
            Payload::Pick(_) => Kind::Pick,
            Payload::ShortPick(_) => Kind::ShortPick,
            Payload::Count(_) => Kind::Count,
            Payload::Adjust(_) => Kind::Adjust,
            Payload::CloseAsn(_) => Kind::CloseAsn,
            Payload::Pack(_) => Kind::Pack,
            Payload::Ship(_) => Kind::Ship,
            Payload::ResolveException(_) => Kind::ResolveException,
        }
    }

    /// Checks what can be checked without knowing the warehouse: codes are
    /// codes, quantities are whole and in range. Whether the SKU or location
    /// exists is for the replica (terminal) and the server to say.
    pub fn validate(&self) -> Result<(), FieldError> {
        use validate::{code, non_negative_qty, optional_code, positive_qty, text};
        match self {
            Payload::Receive(r) => {
                code("asn", &r.asn)?;
                code("sku", &r.sku)?;
                non_negative_qty("qty", r.qty)?;
                optional_code("lot", r.lot.as_deref())?;
                code("to", &r.to)?;
                non_negative_qty("damaged", r.damaged)?;
                if let Some(reason) = &r.damaged_reason {
                    text("damaged_reason", reason)?;
                }
                if r.qty == 0 && r.damaged == 0 {
                    return Err(FieldError::new(
                        "qty",
                        "a receipt needs at least 1 unit, good or damaged",
                    ));
                }
                Ok(())
            }
            Payload::Putaway(m) | Payload::Move(m) => {
                code("sku", &m.sku)?;
                optional_code("lot", m.lot.as_deref())?;
                positive_qty("qty", m.qty)?;
                code("from", &m.from)?;
                code("to", &m.to)?;
                optional_code("task", m.task.as_deref())?;
                if m.from == m.to {
                    return Err(FieldError::new("to", "must differ from `from`"));
                }
                Ok(())
            }
            Payload::Pick(p) => {
                code("task", &p.task)?;
                code("order", &p.order)?;
                code("sku", &p.sku)?;
                optional_code("lot", p.lot.as_deref())?;
                code("location", &p.location)?;
                positive_qty("qty", p.qty)
            }
            Payload::ShortPick(p) => {
                code("task", &p.task)?;
                code("order", &p.order)?;
                code("sku", &p.sku)?;
                optional_code("lot", p.lot.as_deref())?;
                code("location", &p.location)?;
                non_negative_qty("qty", p.qty)?;
                text("reason", &p.reason)
            }
            Payload::Count(c) => {
                code("location", &c.location)?;
                code("sku", &c.sku)?;
                optional_code("lot", c.lot.as_deref())?;
                non_negative_qty("qty", c.qty)?;
                optional_code("task", c.task.as_deref())
            }
            Payload::Adjust(a) => {
                code("location", &a.location)?;
                code("sku", &a.sku)?;
                optional_code("lot", a.lot.as_deref())?;
                non_negative_qty("qty", a.qty)?;
                text("reason", &a.reason)
            }
            Payload::CloseAsn(c) => code("asn", &c.asn),
            Payload::Pack(o) | Payload::Ship(o) => code("order", &o.order),
            Payload::ResolveException(r) => {
                code("exception", &r.exception)?;
                text("note", &r.note)
            }
        }
    }
}

impl Payload {
    /// The payload's fields alone, as JSON: how the journal and the server
    /// store it next to a separate `kind` column.
    pub fn fields_json(&self) -> serde_json::Result<String> {
        match self {
            Payload::Receive(p) => serde_json::to_string(p),
            Payload::Putaway(p) | Payload::Move(p) => serde_json::to_string(p),
            Payload::Pick(p) => serde_json::to_string(p),
            Payload::ShortPick(p) => serde_json::to_string(p),
            Payload::Count(p) => serde_json::to_string(p),
            Payload::Adjust(p) => serde_json::to_string(p),
            Payload::CloseAsn(p) => serde_json::to_string(p),
            Payload::Pack(p) | Payload::Ship(p) => serde_json::to_string(p),
            Payload::ResolveException(p) => serde_json::to_string(p),
        }
    }

    /// The inverse of [`Payload::fields_json`].
    pub fn from_parts(kind: Kind, fields: &str) -> serde_json::Result<Payload> {
        Ok(match kind {
            Kind::Receive => Payload::Receive(serde_json::from_str(fields)?),
            Kind::Putaway => Payload::Putaway(serde_json::from_str(fields)?),
            Kind::Move => Payload::Move(serde_json::from_str(fields)?),
            Kind::Pick => Payload::Pick(serde_json::from_str(fields)?),
            Kind::ShortPick => Payload::ShortPick(serde_json::from_str(fields)?),
            Kind::Count => Payload::Count(serde_json::from_str(fields)?),
            Kind::Adjust => Payload::Adjust(serde_json::from_str(fields)?),
            Kind::CloseAsn => Payload::CloseAsn(serde_json::from_str(fields)?),
            Kind::Pack => Payload::Pack(serde_json::from_str(fields)?),
            Kind::Ship => Payload::Ship(serde_json::from_str(fields)?),
            Kind::ResolveException => Payload::ResolveException(serde_json::from_str(fields)?),
        })
    }
}

impl Operation {
    /// Validates the envelope and the payload.
    pub fn validate(&self) -> Result<(), FieldError> {
        if self.seq == 0 {
            return Err(FieldError::new("seq", "must be 1 or more"));
        }
        validate::code("operator", &self.operator)?;
        self.payload.validate()
    }

    pub fn kind(&self) -> Kind {
        self.payload.kind()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sample() -> Operation {
        Operation {
            id: Uuid::now_v7(),
            device: Uuid::nil(),
            seq: 7,
            operator: "1007".into(),
            at: DateTime::parse_from_rfc3339("2026-11-23T10:42:00Z")
                .unwrap()
                .with_timezone(&Utc),
            payload: Payload::Move(Move {
                sku: "SKU-1".into(),
                lot: Some("L1".into()),
                qty: 3,
                from: "A-01-02".into(),
                to: "F-03-01".into(),
                task: None,
            }),
        }
    }

    #[test]
    fn wire_shape_names_kind_and_payload() {
        let op = sample();
        let v = serde_json::to_value(&op).unwrap();
        assert_eq!(v["kind"], "move");
        assert_eq!(v["seq"], 7);
        assert_eq!(
            v["payload"],
            json!({"sku":"SKU-1","lot":"L1","qty":3,"from":"A-01-02","to":"F-03-01"})
        );
        let back: Operation = serde_json::from_value(v).unwrap();
        assert_eq!(back, op);
    }

    #[test]
    fn validation_names_the_field() {
        let mut op = sample();
        if let Payload::Move(m) = &mut op.payload {
            m.qty = 0;
        }
        let err = op.validate().unwrap_err();
        assert_eq!(err.field, "qty");
        op.seq = 0;
        assert_eq!(op.validate().unwrap_err().field, "seq");
    }

    #[test]
    fn fields_json_round_trips() {
        let op = sample();
        let json = op.payload.fields_json().unwrap();
        assert!(!json.contains("kind"));
        assert_eq!(Payload::from_parts(op.kind(), &json).unwrap(), op.payload);
    }

    #[test]
    fn kinds_round_trip_their_names() {
        for k in Kind::ALL {
            assert_eq!(Kind::parse(k.as_str()), Some(k));
            assert_eq!(serde_json::to_value(k).unwrap(), k.as_str());
        }
    }

    #[test]
    fn unreal_dates_are_refused_when_decoding() {
        let v = json!({"asn":"A","sku":"S","qty":1,"expiry":"2027-02-30","to":"D"});
        assert!(serde_json::from_value::<Receive>(v).is_err());
    }
}
