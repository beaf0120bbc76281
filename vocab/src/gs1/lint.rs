//! The GS1 Barcode Syntax Tests ("linters") that the dictionary names for
//! each component of a value: check digits, dates and times, code lists.
//!
//! Each returns why a component fails, or nothing. Every linter the
//! dictionary names is implemented (docs/GS1.md lists them); one that a
//! future release of the dictionary adds passes until it is written here.

use chrono::NaiveDate;

mod coupon;

use super::check_digit::gtin_check_digit;
use super::date;
use super::dictionary::Dictionary;

/// Why one component fails its linter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Lint {
    /// Mod-10 check digit: found, expected.
    CheckDigit(u8, u8),
    /// `YYMMDD` or `YYYYMMDD` that is no calendar date.
    Date,
    /// Anything else, as words for the person holding the scanner.
    Problem(&'static str),
}

/// Runs linter `name` on `text`, one component of a value.
pub(super) fn run(dict: &Dictionary, name: &str, text: &str, today: NaiveDate) -> Result<(), Lint> {
    let in_list = |list: &str| {
        dict.lists
            .get(list)
            .is_some_and(|items| items.iter().any(|i| i == text))
    };
    let digits = |s: &str| s.parse::<u32>().ok();
    match name {
        "csum" => {
            let (body, last) = text.split_at(text.len().saturating_sub(1));
            let found = last.bytes().next().map_or(0, |b| b.wrapping_sub(b'0'));
            match gtin_check_digit(body) {
                Some(expected) if expected == found => Ok(()),
                Some(expected) => Err(Lint::CheckDigit(found, expected)),
                None => Err(Lint::Problem("too short for a check digit")),
            }
        }
        "csumalpha" => csum_alpha(dict, text),
        "yymmd0" => date::resolve_yymmdd(text, today)
            .map(drop)
            .ok_or(Lint::Date),
        "yymmdd" => {
            if text.ends_with("00") {
                return Err(Lint::Date);
            }
            date::resolve_yymmdd(text, today)
                .map(drop)
                .ok_or(Lint::Date)
        }
        "yyyymmdd" => {
            let ok = text.len() == 8
                && NaiveDate::from_ymd_opt(
                    text[..4].parse().unwrap_or(0),
                    digits(&text[4..6]).unwrap_or(0),
                    digits(&text[6..]).unwrap_or(0),
                )
                .is_some();
            if ok { Ok(()) } else { Err(Lint::Date) }
        }
        "hh" => range(text, 0..=23, "hour must be 00 to 23"),
        "mi" => range(text, 0..=59, "minutes must be 00 to 59"),
        "ss" => range(text, 0..=59, "seconds must be 00 to 59"),
        "hhmi" if text.len() == 4 => {
            range(&text[..2], 0..=23, "hour must be 00 to 23")?;
            range(&text[2..], 0..=59, "minutes must be 00 to 59")
        }
        "hhmi" => Err(Lint::Problem("time must be HHMI")),
        "iso3166" if in_list("iso3166") => Ok(()),
        "iso3166" => Err(Lint::Problem("not an ISO 3166 numeric country code")),
        "iso3166999" if text == "999" || in_list("iso3166") => Ok(()),
        "iso3166999" => Err(Lint::Problem("not an ISO 3166 numeric country code or 999")),
        "iso3166alpha2" if in_list("iso3166alpha2") => Ok(()),
        "iso3166alpha2" => Err(Lint::Problem("not an ISO 3166 two-letter country code")),
        "iso4217" if in_list("iso4217") => Ok(()),
        "iso4217" => Err(Lint::Problem("not an ISO 4217 numeric currency code")),
        "mediatype" if in_list("aidcmediatype") => Ok(()),
        "mediatype" => Err(Lint::Problem("not an AIDC media type")),
        "packagetype" if in_list("packagetype") => Ok(()),
        "packagetype" => Err(Lint::Problem("not a package type code")),
        "iso5218" if matches!(text, "0" | "1" | "2" | "9") => Ok(()),
        "iso5218" => Err(Lint::Problem("sex must be 0, 1, 2 or 9 (ISO/IEC 5218)")),
        "yesno" if matches!(text, "0" | "1") => Ok(()),
        "yesno" => Err(Lint::Problem("must be 0 or 1")),
        "winding" if matches!(text, "0" | "1" | "9") => Ok(()),
        "winding" => Err(Lint::Problem("winding direction must be 0, 1 or 9")),
        "zero" if text == "0" => Ok(()),
        "zero" => Err(Lint::Problem("must be 0")),
        "nonzero" if text.bytes().any(|b| b != b'0') => Ok(()),
        "nonzero" => Err(Lint::Problem("must not be zero")),
        "nozeroprefix" if text == "0" || !text.starts_with('0') => Ok(()),
        "nozeroprefix" => Err(Lint::Problem("must not start with 0")),
        "hyphen" if text.bytes().all(|b| b == b'-') => Ok(()),
        "hyphen" => Err(Lint::Problem("must be a hyphen")),
        "hasnondigit" if text.bytes().any(|b| !b.is_ascii_digit()) => Ok(()),
        "hasnondigit" => Err(Lint::Problem("must hold a character that is not a digit")),
        "pcenc" => percent_encoding(text),
        "pieceoftotal" => {
            let half = text.len() / 2;
            let (piece, total) = (digits(&text[..half]), digits(&text[half..]));
            match (piece, total) {
                (Some(p), Some(t)) if p >= 1 && p <= t => Ok(()),
                _ => Err(Lint::Problem("piece must be 1 up to the total")),
            }
        }
        "posinseqslash" => {
            let parts = text.split_once('/');
            match parts.map(|(p, t)| (digits(p), digits(t))) {
                Some((Some(p), Some(t))) if p >= 1 && p <= t => Ok(()),
                _ => Err(Lint::Problem("must be position/total, 1 up to the total")),
            }
        }
        "latitude" => range10(text, 1_800_000_000, "latitude out of range"),
        "longitude" => range10(text, 3_600_000_000, "longitude out of range"),
        "iban" => iban(text),
        "couponcode" => coupon::coupon_code(text, today),
        "couponposoffer" => coupon::coupon_pos_offer(text),
        "gcppos1" => company_prefix_at(text, 0),
        "gcppos2" => company_prefix_at(text, 1),
        "importeridx" => {
            let ok = text.len() == 1
                && text
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
            if ok {
                Ok(())
            } else {
                Err(Lint::Problem(
                    "the importer index is one letter, digit, - or _",
                ))
            }
        }
        _ => Ok(()),
    }
}

/// Whether a GS1 Company Prefix can start at `offset`: the shortest ones
/// are four digits, so at least four digits must stand there. (Which
/// prefixes GS1 has actually issued is not known offline.)
fn company_prefix_at(text: &str, offset: usize) -> Result<(), Lint> {
    match text.get(offset..offset + 4) {
        None => Err(Lint::Problem("too short to hold a GS1 Company Prefix")),
        Some(p) if p.bytes().all(|b| b.is_ascii_digit()) => Ok(()),
        Some(_) => Err(Lint::Problem(
            "does not start with a GS1 Company Prefix (four digits)",
        )),
    }
}

fn range(
    text: &str,
    allowed: std::ops::RangeInclusive<u32>,
    problem: &'static str,
) -> Result<(), Lint> {
    match text.parse::<u32>() {
        Ok(n) if allowed.contains(&n) => Ok(()),
        _ => Err(Lint::Problem(problem)),
    }
}

fn range10(text: &str, max: u64, problem: &'static str) -> Result<(), Lint> {
    match text.parse::<u64>() {
        Ok(n) if n <= max => Ok(()),
        _ => Err(Lint::Problem(problem)),
    }
}

fn percent_encoding(text: &str) -> Result<(), Lint> {
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let ok = bytes.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
                && bytes.get(i + 2).is_some_and(u8::is_ascii_hexdigit);
            if !ok {
                return Err(Lint::Problem("broken %-escape"));
            }
            i += 3;
        } else {
            i += 1;
        }
    }
    Ok(())
}

/// GS1 General Specifications 7.9.5: a pair of check characters over an
/// alphanumeric key (GMN, AI 8013). Each character's place in character
/// set 82 is weighted by the primes 2, 3, 5, … counted from the right; the
/// sum modulo 1021 gives two characters of character set 32.
fn csum_alpha(dict: &Dictionary, text: &str) -> Result<(), Lint> {
    const PRIMES: [u32; 23] = [
        2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61, 67, 71, 73, 79, 83,
    ];
    let chars: Vec<char> = text.chars().collect();
    let (Some(cset82), Some(cset32)) = (dict.lists.get("cset82"), dict.lists.get("cset32")) else {
        return Ok(());
    };
    if chars.len() < 3 || chars.len() - 2 > PRIMES.len() {
        return Err(Lint::Problem("wrong length for check characters"));
    }
    let (body, check) = chars.split_at(chars.len() - 2);
    let index = |set: &[String], c: char| set.iter().position(|s| s.starts_with(c));
    let mut sum = 0u32;
    for (i, c) in body.iter().rev().enumerate() {
        let v = index(cset82, *c).ok_or(Lint::Problem("character outside set 82"))?;
        sum += u32::try_from(v).unwrap_or(0) * PRIMES[i];
    }
    let sum = (sum % 1021) as usize;
    let want = (cset32.get(sum >> 5), cset32.get(sum & 31));
    match want {
        (Some(a), Some(b)) if a.starts_with(check[0]) && b.starts_with(check[1]) => Ok(()),
        _ => Err(Lint::Problem("check characters do not match")),
    }
}

/// ISO 13616: two letters, two check digits, then letters and digits; the
/// whole, rotated by four and with letters as 10–35, is 1 modulo 97.
fn iban(text: &str) -> Result<(), Lint> {
    const BAD: Lint = Lint::Problem("not a valid IBAN");
    let b = text.as_bytes();
    if b.len() < 5
        || !b[..2].iter().all(u8::is_ascii_uppercase)
        || !b[2..4].iter().all(u8::is_ascii_digit)
        || !b
            .iter()
            .all(|c| c.is_ascii_digit() || c.is_ascii_uppercase())
    {
        return Err(BAD);
    }
    let mut rem = 0u32;
    for &c in b[4..].iter().chain(&b[..4]) {
        let v = u32::from(c) - if c.is_ascii_digit() { 48 } else { 55 };
        rem = if v >= 10 {
            (rem * 100 + v) % 97
        } else {
            (rem * 10 + v) % 97
        };
    }
    if rem == 1 { Ok(()) } else { Err(BAD) }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn dict() -> Dictionary {
        super::super::dictionary::load()
    }

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 3, 1).unwrap()
    }

    #[test]
    fn check_characters_of_a_gmn() {
        // The example of General Specifications 7.9.5.
        let d = dict();
        assert_eq!(
            run(&d, "csumalpha", "1987654Ad4X4bL5ttr2310c2K", today()),
            Ok(())
        );
        assert!(run(&d, "csumalpha", "1987654Ad4X4bL5ttr2310c2L", today()).is_err());
    }

    #[test]
    fn company_prefixes_and_importer_indexes() {
        let d = dict();
        assert_eq!(run(&d, "gcppos1", "9501ABC", today()), Ok(()));
        assert!(run(&d, "gcppos1", "950A1", today()).is_err());
        assert!(run(&d, "gcppos1", "950", today()).is_err());
        assert_eq!(run(&d, "gcppos2", "X9501", today()), Ok(()));
        assert!(run(&d, "gcppos2", "9501", today()).is_err());
        assert_eq!(run(&d, "importeridx", "_", today()), Ok(()));
        assert!(run(&d, "importeridx", "!", today()).is_err());
    }

    #[test]
    fn ibans() {
        assert_eq!(iban("GB82WEST12345698765432"), Ok(()));
        assert!(iban("GB82WEST12345698765433").is_err());
    }

    #[test]
    fn times_and_lists() {
        let d = dict();
        assert_eq!(run(&d, "hhmi", "2359", today()), Ok(()));
        assert!(run(&d, "hhmi", "2460", today()).is_err());
        assert_eq!(run(&d, "iso3166", "208", today()), Ok(()));
        assert!(run(&d, "iso3166", "000", today()).is_err());
        assert_eq!(run(&d, "iso4217", "978", today()), Ok(()));
        assert!(run(&d, "yymmdd", "270100", today()).is_err());
        assert_eq!(run(&d, "yymmd0", "270100", today()), Ok(()));
        assert_eq!(run(&d, "pieceoftotal", "0102", today()), Ok(()));
        assert!(run(&d, "pieceoftotal", "0301", today()).is_err());
    }
}
