//! The North American coupon structures of AIs (8110) and (8112): the
//! syntax tests `couponcode` and `couponposoffer`.
//!
//! A coupon value is a run of digits cut into fields, most of them led by
//! a "VLI" (value length indicator) digit that says how long the field
//! after it is. The rules are those of the "North American Coupon
//! Application Guideline Using GS1 DataBar Expanded Symbols", read as GS1's
//! Barcode Syntax Engine checks them (`gs1_lint_couponcode`,
//! `gs1_lint_couponposoffer`): every field present and as long as its VLI
//! says, each code in its list, the optional fields only in their order
//! (1, 2, 3, 4, 5, 6, 9), and nothing left over.

use chrono::NaiveDate;

use super::Lint;

/// The fields of a coupon value, read from the left.
struct Fields<'a> {
    rest: &'a [u8],
}

impl<'a> Fields<'a> {
    /// The whole value, which must be digits only.
    fn new(text: &'a str) -> Result<Self, Lint> {
        if !text.bytes().all(|b| b.is_ascii_digit()) {
            return Err(Lint::Problem("a coupon code holds digits only"));
        }
        Ok(Self {
            rest: text.as_bytes(),
        })
    }

    /// The next digit, which must be there.
    fn digit(&mut self, missing: &'static str) -> Result<u8, Lint> {
        let (&first, rest) = self.rest.split_first().ok_or(Lint::Problem(missing))?;
        self.rest = rest;
        Ok(first - b'0')
    }

    /// The next digit, which must be one of `allowed`.
    fn code(&mut self, allowed: &[u8], what: &'static str) -> Result<u8, Lint> {
        let d = self.digit(what)?;
        if allowed.contains(&d) {
            Ok(d)
        } else {
            Err(Lint::Problem(what))
        }
    }

    /// The next `n` digits, which must all be there.
    fn take(&mut self, n: usize, truncated: &'static str) -> Result<&'a [u8], Lint> {
        if self.rest.len() < n {
            return Err(Lint::Problem(truncated));
        }
        let (field, rest) = self.rest.split_at(n);
        self.rest = rest;
        Ok(field)
    }

    /// Whether optional field `indicator` comes next; if so it is consumed.
    fn optional(&mut self, indicator: u8) -> bool {
        match self.rest.split_first() {
            Some((&first, rest)) if first == b'0' + indicator => {
                self.rest = rest;
                true
            }
            _ => false,
        }
    }

    /// A `YYMMDD` date that must be a calendar date (no day 00).
    fn date(&mut self, today: NaiveDate, what: &'static str) -> Result<&'a [u8], Lint> {
        let field = self.take(6, what)?;
        let text = std::str::from_utf8(field).map_err(|_| Lint::Problem(what))?;
        if text.ends_with("00") || super::date::resolve_yymmdd(text, today).is_none() {
            return Err(Lint::Problem(what));
        }
        Ok(field)
    }

    fn end(&self) -> Result<(), Lint> {
        if self.rest.is_empty() {
            Ok(())
        } else {
            Err(Lint::Problem(
                "the coupon code goes on past its last field (optional fields come in the order 1, 2, 3, 4, 5, 6, 9)",
            ))
        }
    }
}

/// A purchase requirement: its VLI (1 to 5) and value, its code (0 to 4
/// or 9) and its three-digit family code.
fn purchase_requirement(f: &mut Fields<'_>) -> Result<(), Lint> {
    let len = f.code(
        &[1, 2, 3, 4, 5],
        "a purchase requirement's length digit must be 1 to 5",
    )?;
    f.take(
        usize::from(len),
        "the purchase requirement is shorter than its length digit says",
    )?;
    f.code(
        &[0, 1, 2, 3, 4, 9],
        "a purchase requirement code must be 0 to 4 or 9",
    )?;
    f.take(3, "the purchase family code needs three digits")?;
    Ok(())
}

/// The GS1 Company Prefix of a 2nd or 3rd purchase: VLI 0 to 6 for 6 to
/// 12 digits, or 9 for the coupon's own prefix (none given).
fn other_purchase_prefix(f: &mut Fields<'_>) -> Result<(), Lint> {
    let vli = f.code(
        &[0, 1, 2, 3, 4, 5, 6, 9],
        "a purchase's company-prefix length digit must be 0 to 6 or 9",
    )?;
    if vli != 9 {
        f.take(
            usize::from(vli) + 6,
            "the purchase's company prefix is shorter than its length digit says",
        )?;
    }
    Ok(())
}

/// `couponcode`, the value of AI (8110).
pub(super) fn coupon_code(text: &str, today: NaiveDate) -> Result<(), Lint> {
    let mut f = Fields::new(text)?;
    // The coupon's GS1 Company Prefix (6 to 12 digits; always long enough
    // for the offline company-prefix test), the offer code, the save value.
    let vli = f.code(
        &[0, 1, 2, 3, 4, 5, 6],
        "the company-prefix length digit must be 0 to 6",
    )?;
    f.take(
        usize::from(vli) + 6,
        "the company prefix is shorter than its length digit says",
    )?;
    f.take(6, "the offer code needs six digits")?;
    let vli = f.code(
        &[1, 2, 3, 4, 5],
        "the save value's length digit must be 1 to 5",
    )?;
    f.take(
        usize::from(vli),
        "the save value is shorter than its length digit says",
    )?;
    purchase_requirement(&mut f)?;
    // Optional field 1: additional purchase rules and a 2nd purchase.
    if f.optional(1) {
        f.code(
            &[0, 1, 2, 3],
            "the additional purchase rules code must be 0 to 3",
        )?;
        purchase_requirement(&mut f)?;
        other_purchase_prefix(&mut f)?;
    }
    // Optional field 2: a 3rd purchase.
    if f.optional(2) {
        purchase_requirement(&mut f)?;
        other_purchase_prefix(&mut f)?;
    }
    // Optional fields 3 and 4: expiration and start dates. The guideline
    // compares them as written (YYMMDD), and so does this.
    let expiry = if f.optional(3) {
        Some(f.date(today, "the coupon's expiration date must be a date YYMMDD")?)
    } else {
        None
    };
    if f.optional(4) {
        let start = f.date(today, "the coupon's start date must be a date YYMMDD")?;
        if expiry.is_some_and(|e| start > e) {
            return Err(Lint::Problem("the coupon expires before it starts"));
        }
    }
    // Optional field 5: a serial number, VLI 0 to 9 for 6 to 15 digits.
    if f.optional(5) {
        let vli = f.digit("the serial number's length digit is missing")?;
        f.take(
            usize::from(vli) + 6,
            "the serial number is shorter than its length digit says",
        )?;
    }
    // Optional field 6: the retailer's company prefix or GLN, VLI 1 to 7
    // for 7 to 13 digits.
    if f.optional(6) {
        let vli = f.code(
            &[1, 2, 3, 4, 5, 6, 7],
            "the retailer's length digit must be 1 to 7",
        )?;
        f.take(
            usize::from(vli) + 6,
            "the retailer's company prefix or GLN is shorter than its length digit says",
        )?;
    }
    // Optional field 9: save value code, applies-to-item, store coupon
    // flag, don't-multiply flag.
    if f.optional(9) {
        f.code(
            &[0, 1, 2, 5, 6],
            "the save value code must be 0, 1, 2, 5 or 6",
        )?;
        f.code(
            &[0, 1, 2],
            "the save value's applies-to-item digit must be 0 to 2",
        )?;
        f.digit("the store coupon flag is missing")?;
        f.code(&[0, 1], "the don't-multiply flag must be 0 or 1")?;
    }
    f.end()
}

/// `couponposoffer`, the value of AI (8112): format code, funder, offer
/// code, serial number.
pub(super) fn coupon_pos_offer(text: &str) -> Result<(), Lint> {
    let mut f = Fields::new(text)?;
    f.code(&[0, 1], "the coupon format code must be 0 or 1")?;
    let vli = f.code(
        &[0, 1, 2, 3, 4, 5, 6],
        "the funder's length digit must be 0 to 6",
    )?;
    f.take(
        usize::from(vli) + 6,
        "the funder ID is shorter than its length digit says",
    )?;
    f.take(6, "the offer code needs six digits")?;
    let vli = f.digit("the serial number's length digit is missing")?;
    f.take(
        usize::from(vli) + 6,
        "the serial number is shorter than its length digit says",
    )?;
    f.end()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 3, 1).unwrap()
    }

    /// Values from the examples of GS1's Syntax Engine (its unit tests of
    /// `gs1_lint_couponcode`), each with its verdict.
    #[test]
    fn coupon_codes() {
        for ok in [
            "012345612345611110123",
            "012345612345611110123101101230123456",
            "0123456123456111101231011012311234567",
            "012345612345611110123101101236123456789012",
            "012345612345611110123101101239",
            "01234561234561111012321101230123456",
            "01234561234561111012321101239",
            "0123456123456111101233270131",
            "01234561234561111012332701314260101",
            "01234561234561111012350123456612345678",
            "01234561234561111012390031",
            "01234561234561111012390011",
        ] {
            assert_eq!(coupon_code(ok, today()), Ok(()), "{ok}");
        }
        for bad in [
            "",
            "a12345612345611110123",
            "01",
            "0123456",
            "71234567890123",
            "01234561234560",
            "01234561234566123456",
            "0123456123456110",
            "012345612345611115",
            "0123456123456111101230",
            "0123456123456111101231",
            "01234561234561111012314",
            "012345612345611110123101101237",
            "0123456123456111101231011012391",
            "0123456123456111101233270132",
            "0123456123456111101233270100",
            "0123456123456111101233270131426013",
            "012345612345611110123427013132701",
            "0123456123456111101233270131427013",
            "0123456123456111101235",
            "012345612345611110123601234567",
            "01234561234561111012380123456",
            "01234561234561111012390311",
            "0123456123456111101233270131426",
            "01234561234561111012390012",
            "0123456123456111101239001",
            "0123456123456111101232110123",
        ] {
            assert!(coupon_code(bad, today()).is_err(), "{bad}");
        }
    }

    #[test]
    fn coupon_pos_offers() {
        for ok in [
            "001234561234560123456",
            "101234561234560123456",
            "001234561234569123456789012345",
            "061234567890121234569123456789012345",
        ] {
            assert_eq!(coupon_pos_offer(ok), Ok(()), "{ok}");
        }
        for bad in [
            "",
            "0",
            "201234561234560123456",
            "07",
            "0012345612345",
            "00123456123456",
            "001234561234561123456",
            "0012345612345601234567",
            "00123456123456012345a",
        ] {
            assert!(coupon_pos_offer(bad).is_err(), "{bad}");
        }
    }
}
