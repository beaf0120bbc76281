//! Scanners that cannot send the GS byte (some keyboard layouts, some
//! Bluetooth wedges, terminal emulators) are set up to send a substitute
//! text for FNC1 instead: `~`, `\F`, `{GS}`. Which one is a device setting,
//! so it is not built into [`parse`](super::parse) (only `<GS>` and `␝`,
//! which no bin or SKU contains, are); the scanner UI and the commands both
//! turn it into GS with [`normalize_separators`] before reading a scan, so
//! they read the same thing.

use std::borrow::Cow;

use chrono::NaiveDate;

use super::element_string::GS;
use super::{GS1_SYMBOLOGIES, digital_link, parse};

/// Longest substitute accepted: scanners' "FNC1 replacement" settings hold
/// a few characters.
pub const MAX_SUBSTITUTE_CHARS: usize = 8;

/// Why a substitute cannot be used, as a sentence for the person setting it
/// up; `None` when it can. It must be 1 to 8 characters, without blanks or
/// control characters, and not only letters and digits (those are lot and
/// serial data: a scan could never be read unambiguously).
pub fn substitute_problem(substitute: &str) -> Option<String> {
    let n = substitute.chars().count();
    if n == 0 || n > MAX_SUBSTITUTE_CHARS {
        return Some(format!(
            "a GS substitute is 1 to {MAX_SUBSTITUTE_CHARS} characters, got {n}"
        ));
    }
    if substitute
        .chars()
        .any(|c| c.is_whitespace() || c.is_control())
    {
        return Some(
            "a GS substitute holds no blanks or control characters (GS itself needs no substitute)"
                .into(),
        );
    }
    if substitute.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Some(format!(
            "{substitute:?} is letters and digits only, which lots and serials contain: choose one with a character such as ~ or \\"
        ));
    }
    None
}

/// The scan with every `substitute` turned into GS when the scan is GS1
/// data, else the scan unchanged. GS1 data means: it starts with a GS1
/// symbology identifier (`]C1`, `]d2`, …), with a bracketed AI, or with
/// the substitute and a digit (a leading FNC1 and an AI), or it reads as a GS1 element string
/// once the substitutes are separators. A bin or SKU that happens to
/// contain the substitute stays as it is, and so does a Digital Link (a
/// web address has no FNC1). `today` anchors two-digit years as in
/// [`parse`](super::parse).
///
/// ```
/// use chrono::NaiveDate;
/// use pyck_vocab::gs1::normalize_separators;
///
/// let today = NaiveDate::from_ymd_opt(2026, 3, 1).unwrap();
/// let scan = "]C1010579000010009510L2650A~17280115";
/// assert_eq!(
///     normalize_separators(scan, Some("~"), today),
///     "]C1010579000010009510L2650A\u{1d}17280115"
/// );
/// assert_eq!(normalize_separators("BIN~7", Some("~"), today), "BIN~7");
/// ```
pub fn normalize_separators<'a>(
    scan: &'a str,
    substitute: Option<&str>,
    today: NaiveDate,
) -> Cow<'a, str> {
    let Some(substitute) = substitute.filter(|s| substitute_problem(s).is_none()) else {
        return Cow::Borrowed(scan);
    };
    if !scan.contains(substitute) {
        return Cow::Borrowed(scan);
    }
    let text = scan.trim();
    let url = text
        .strip_prefix(']')
        .and_then(|rest| rest.get(2..))
        .unwrap_or(text);
    if digital_link::is_web_address(url) {
        return Cow::Borrowed(scan);
    }
    let replaced = scan.replace(substitute, &GS.to_string());
    let mut chars = text.chars();
    let bracketed = chars.next() == Some('(') && chars.next().is_some_and(|c| c.is_ascii_digit());
    let gs1 = GS1_SYMBOLOGIES.iter().any(|id| text.starts_with(id))
        || bracketed
        || text
            .strip_prefix(substitute)
            .is_some_and(|rest| rest.starts_with(|c: char| c.is_ascii_digit()))
        || parse(&replaced, today).is_ok();
    if gs1 {
        Cow::Owned(replaced)
    } else {
        Cow::Borrowed(scan)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use proptest::prelude::*;

    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 3, 1).unwrap()
    }

    fn norm<'a>(scan: &'a str, substitute: &str) -> Cow<'a, str> {
        normalize_separators(scan, Some(substitute), today())
    }

    #[test]
    fn a_substitute_ends_the_variable_length_lot() {
        let scan = "]C1010579000010009510L2650A~17280115";
        let gs1 = parse(&norm(scan, "~"), today()).unwrap();
        assert_eq!(gs1.lot(), Some("L2650A"));
        assert_eq!(gs1.expiry(), NaiveDate::from_ymd_opt(2028, 1, 15));
        // The same scan with the byte itself, or without a substitute
        // configured: the byte works, the text does not.
        let real = parse("]C1010579000010009510L2650A\u{1d}17280115", today()).unwrap();
        assert_eq!(gs1, real);
        assert!(
            parse(&normalize_separators(scan, None, today()), today())
                .map(|g| g.lot().map(str::to_owned))
                .unwrap_or_default()
                != Some("L2650A".into())
        );
    }

    #[test]
    fn multi_character_substitutes_and_a_leading_fnc1() {
        let scan = r"\F010579000010009510L2650A\F17280115";
        assert_eq!(
            norm(scan, r"\F"),
            "\u{1d}010579000010009510L2650A\u{1d}17280115"
        );
        assert_eq!(
            parse(&norm(scan, r"\F"), today()).unwrap().lot(),
            Some("L2650A")
        );
        // Without a symbology identifier, recognised because it then reads.
        let bare = "010579000010009510L2650A{GS}17280115";
        assert_eq!(
            parse(&norm(bare, "{GS}"), today()).unwrap().lot(),
            Some("L2650A")
        );
        // Bracketed: a separator is harmless there.
        assert_eq!(
            parse(&norm("(01)05790000100095(10)L2650A~", "~"), today())
                .unwrap()
                .lot(),
            Some("L2650A")
        );
    }

    #[test]
    fn codes_that_are_not_gs1_keep_the_substitute() {
        for code in ["A~01~02", "SKU~10009", "~", "BIN-~", "hello~world"] {
            assert_eq!(norm(code, "~"), code, "{code}");
        }
        // A leading substitute is a leading FNC1.
        assert_eq!(norm("~0105790000100095", "~"), "\u{1d}0105790000100095");
        let link = "https://id.gs1.org/01/05790000100095/10/L~1";
        assert_eq!(norm(link, "~"), link);
        assert_eq!(normalize_separators("x~y", None, today()), "x~y");
        // An unusable substitute is ignored rather than mangling scans.
        assert_eq!(
            norm("]C1010579000010009510L2A17280115", "1"),
            "]C1010579000010009510L2A17280115"
        );
    }

    #[test]
    fn which_substitutes_are_accepted() {
        for ok in ["~", r"\F", "<GS>", "{GS}", "^]", "|"] {
            assert_eq!(substitute_problem(ok), None, "{ok}");
        }
        for bad in ["", "GS", "1", "a b", "\u{1d}", "~~~~~~~~~"] {
            assert!(substitute_problem(bad).is_some(), "{bad:?}");
        }
    }

    proptest! {
        /// Turning substitutes into GS twice changes nothing more: the UI
        /// may normalise a scan that the command normalises again.
        #[test]
        fn normalising_is_idempotent(
            scan in "(\\]C1)?[0-9A-Z~]{0,30}",
            substitute in prop::sample::select(vec!["~", "~~", r"\F", "{GS}"]),
        ) {
            let once = normalize_separators(&scan, Some(substitute), today()).into_owned();
            let twice = normalize_separators(&once, Some(substitute), today()).into_owned();
            prop_assert_eq!(once, twice);
        }
    }
}
