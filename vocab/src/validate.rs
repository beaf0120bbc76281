//! Field validation shared by every operation payload.
//!
//! Errors name the field and say what was expected, because they reach a
//! person holding a scanner or reading a script's output.

use thiserror::Error;

/// Largest quantity accepted in one operation. Far above any physical
/// movement, far below where sums of many movements could overflow `i64`.
pub const MAX_QTY: i64 = 1_000_000_000;

/// Longest code (SKU, location, lot, ASN, order, badge) accepted.
pub const MAX_CODE_LEN: usize = 64;

/// A field of an operation that does not hold what it must.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{field}: {problem}")]
pub struct FieldError {
    /// The field's name as it appears on the wire and in input files.
    pub field: &'static str,
    /// What was wrong and what was expected.
    pub problem: String,
}

impl FieldError {
    pub fn new(field: &'static str, problem: impl Into<String>) -> Self {
        Self {
            field,
            problem: problem.into(),
        }
    }
}

/// A code that identifies something: printable, no surrounding blanks, not
/// empty, not too long.
pub fn code(field: &'static str, value: &str) -> Result<(), FieldError> {
    if value.is_empty() {
        return Err(FieldError::new(field, "must not be empty"));
    }
    if value.len() > MAX_CODE_LEN {
        return Err(FieldError::new(
            field,
            format!("longer than {MAX_CODE_LEN} characters"),
        ));
    }
    if value.trim() != value {
        return Err(FieldError::new(field, "must not start or end with blanks"));
    }
    if value.chars().any(char::is_control) {
        return Err(FieldError::new(
            field,
            "must not contain control characters",
        ));
    }
    Ok(())
}

/// An optional code: absent, or a valid code.
pub fn optional_code(field: &'static str, value: Option<&str>) -> Result<(), FieldError> {
    value.map_or(Ok(()), |v| code(field, v))
}

/// A quantity that moved: a whole number of base units, at least one.
pub fn positive_qty(field: &'static str, qty: i64) -> Result<(), FieldError> {
    if qty <= 0 {
        return Err(FieldError::new(
            field,
            format!("must be a whole number of at least 1, got {qty}"),
        ));
    }
    at_most_max(field, qty)
}

/// A quantity that may be zero (a counted empty bin, a pick of nothing).
pub fn non_negative_qty(field: &'static str, qty: i64) -> Result<(), FieldError> {
    if qty < 0 {
        return Err(FieldError::new(
            field,
            format!("must be a whole number of 0 or more, got {qty}"),
        ));
    }
    at_most_max(field, qty)
}

fn at_most_max(field: &'static str, qty: i64) -> Result<(), FieldError> {
    if qty > MAX_QTY {
        return Err(FieldError::new(
            field,
            format!("must be at most {MAX_QTY}, got {qty}"),
        ));
    }
    Ok(())
}

/// Free text a person typed (a reason, a note): not blank, bounded.
/// Longest name stored (a customer, a supplier, an item's description).
pub const MAX_NAME_LEN: usize = 200;

/// A name people read on a list or a label: at most [`MAX_NAME_LEN`]
/// characters, no control characters; may be empty (a customer not given).
///
/// ```
/// use pyck_vocab::validate::name;
/// assert!(name("customer", "Nordlys Dagligvare AS").is_ok());
/// assert!(name("customer", &"x".repeat(201)).is_err());
/// assert!(name("customer", "a\u{0}b").is_err());
/// ```
pub fn name(field: &'static str, value: &str) -> Result<(), FieldError> {
    if value.chars().count() > MAX_NAME_LEN {
        return Err(FieldError::new(
            field,
            format!("longer than {MAX_NAME_LEN} characters"),
        ));
    }
    if value.chars().any(char::is_control) {
        return Err(FieldError::new(field, "holds a control character"));
    }
    Ok(())
}

pub fn text(field: &'static str, value: &str) -> Result<(), FieldError> {
    if value.trim().is_empty() {
        return Err(FieldError::new(field, "must not be empty"));
    }
    if value.len() > 500 {
        return Err(FieldError::new(field, "longer than 500 characters"));
    }
    Ok(())
}

/// A calendar date as people and scripts write it, `YYYY-MM-DD`: four-digit
/// year, a day that exists (2027-02-30 does not).
pub fn date(field: &'static str, value: &str) -> Result<chrono::NaiveDate, FieldError> {
    let shaped = value.len() == 10
        && value.bytes().enumerate().all(|(i, b)| {
            if i == 4 || i == 7 {
                b == b'-'
            } else {
                b.is_ascii_digit()
            }
        });
    shaped
        .then(|| chrono::NaiveDate::parse_from_str(value, "%Y-%m-%d").ok())
        .flatten()
        .ok_or_else(|| {
            FieldError::new(
                field,
                format!("expected a real date YYYY-MM-DD, got {value:?}"),
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(
            date("expiry", "2027-01-31").map(|d| d.to_string()),
            Ok("2027-01-31".to_owned())
        );
        for bad in [
            "2027-02-30",
            "27-01-31",
            "0027-1-31",
            "2027/01/31",
            "2027-01-31 ",
            "+2027-01-31",
            "",
        ] {
            assert!(date("expiry", bad).is_err(), "{bad:?}");
        }
        assert_eq!(
            date("expiry", "2027-02-30").unwrap_err().to_string(),
            "expiry: expected a real date YYYY-MM-DD, got \"2027-02-30\""
        );
    }

    #[test]
    fn codes() {
        assert!(code("sku", "SKU-1").is_ok());
        assert_eq!(
            code("sku", "").unwrap_err().to_string(),
            "sku: must not be empty"
        );
        assert!(code("sku", " SKU").is_err());
        assert!(code("sku", "A\tB").is_err());
        assert!(code("sku", &"x".repeat(65)).is_err());
    }

    #[test]
    fn quantities() {
        assert!(positive_qty("qty", 1).is_ok());
        assert_eq!(
            positive_qty("qty", 0).unwrap_err().to_string(),
            "qty: must be a whole number of at least 1, got 0"
        );
        assert!(positive_qty("qty", -3).is_err());
        assert!(positive_qty("qty", MAX_QTY + 1).is_err());
        assert!(non_negative_qty("qty", 0).is_ok());
        assert!(non_negative_qty("qty", -1).is_err());
    }
}
