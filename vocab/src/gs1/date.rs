//! GS1 `YYMMDD` dates.
//!
//! Two rules from the GS1 General Specifications make these more than a
//! format string:
//!
//! - **Century** (7.12): the year is the one ending in `YY` that lies
//!   within 49 years before to 50 years after the current year. Put as the
//!   specification does: if `YY` minus the current year's last two digits
//!   is 51 to 99, the date is in the previous century; if it is −99 to −50,
//!   the next century; otherwise this century. With 2026 as the current
//!   year, `76` is 2076 and `77` is 1977.
//! - **Day `00`**: a label may give only year and month; the date is then
//!   the last day of that month (`270200` is 2027-02-28).
//!
//! The current year is a parameter: this crate reads no clock.

use chrono::{Datelike, Months, NaiveDate};

/// The full year for two-digit year `yy` (0–99), seen from `today_year`.
pub(super) fn full_year(yy: i32, today_year: i32) -> i32 {
    let this_yy = today_year.rem_euclid(100);
    let this_century = today_year - this_yy;
    match yy - this_yy {
        51..=99 => this_century - 100 + yy,
        -99..=-50 => this_century + 100 + yy,
        _ => this_century + yy,
    }
}

/// `YYMMDD` (six ASCII digits) as a date, `None` if it is no real date.
pub(super) fn resolve_yymmdd(value: &str, today: NaiveDate) -> Option<NaiveDate> {
    let digits: Vec<u32> = value
        .chars()
        .map(|c| c.to_digit(10))
        .collect::<Option<_>>()?;
    let [y1, y2, m1, m2, d1, d2] = digits[..] else {
        return None;
    };
    let yy = i32::try_from(y1 * 10 + y2).ok()?;
    let month = m1 * 10 + m2;
    let day = d1 * 10 + d2;
    let year = full_year(yy, today.year());
    if day == 0 {
        // Last day of the month: the first of the next month, minus a day.
        // `from_ymd_opt` refuses month 0 and 13.
        NaiveDate::from_ymd_opt(year, month, 1)?
            .checked_add_months(Months::new(1))?
            .pred_opt()
    } else {
        NaiveDate::from_ymd_opt(year, month, day)
    }
}
