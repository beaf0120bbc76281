#![allow(clippy::unwrap_used)]

use chrono::NaiveDate;
use proptest::prelude::*;
use proptest::sample::{select, subsequence};

use super::ai::is_cset82;
use super::*;

/// Every test parses as if today were 2026-03-01.
fn today() -> NaiveDate {
    ymd(2026, 3, 1)
}

fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn ok(input: &str) -> Gs1 {
    match parse(input, today()) {
        Ok(gs1) => gs1,
        Err(e) => panic!("{input:?} should parse, got: {e}"),
    }
}

fn err(input: &str) -> Gs1Error {
    match parse(input, today()) {
        Ok(gs1) => panic!("{input:?} should fail, got {gs1:?}"),
        Err(e) => e,
    }
}

fn msg(input: &str) -> String {
    err(input).to_string()
}

fn codes(gs1: &Gs1) -> Vec<&'static str> {
    gs1.elements.iter().map(|e| e.ai().code()).collect()
}

fn ai(code: &str) -> Ai {
    Ai::lookup(code).unwrap()
}

/// GS1 character set 82, spelled out, to check [`is_cset82`] against.
const CSET82: &str =
    "!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz";

// ---------------------------------------------------------------- table

/// General Specifications 7.8.5: element strings starting with these two
/// digits have this total length (AI plus data) and need no FNC1 after.
const PREDEFINED_LENGTHS: &[(&str, usize)] = &[
    ("00", 20),
    ("01", 16),
    ("02", 16),
    ("03", 16),
    ("04", 18),
    ("11", 8),
    ("12", 8),
    ("13", 8),
    ("14", 8),
    ("15", 8),
    ("16", 8),
    ("17", 8),
    ("18", 8),
    ("19", 8),
    ("20", 4),
    ("31", 10),
    ("32", 10),
    ("33", 10),
    ("34", 10),
    ("35", 10),
    ("36", 10),
    ("41", 16),
];

#[test]
fn table_separator_column_follows_the_predefined_length_table() {
    for ai in Ai::all() {
        let code = ai.code();
        let predefined = PREDEFINED_LENGTHS
            .iter()
            .find(|(prefix, _)| code.starts_with(prefix));
        match predefined {
            Some((_, total)) => {
                assert!(!ai.needs_separator(), "{code} has a predefined length");
                assert!(ai.is_fixed_length(), "{code}");
                assert_eq!(ai.max_length(), total - code.len(), "{code}");
            }
            None => assert!(ai.needs_separator(), "{code} needs a separator"),
        }
    }
}

#[test]
fn table_is_prefix_free_and_well_formed() {
    let all: Vec<Ai> = Ai::all().collect();
    for a in &all {
        assert!((2..=4).contains(&a.code().len()), "{}", a.code());
        assert!(a.code().bytes().all(|b| b.is_ascii_digit()), "{}", a.code());
        assert!(!a.title().is_empty(), "{}", a.code());
        assert!(a.min_length() >= 1 && a.min_length() <= a.max_length());
        for b in &all {
            if a != b {
                assert!(
                    !b.code().starts_with(a.code()),
                    "{} is a prefix of {}",
                    a.code(),
                    b.code()
                );
            }
        }
    }
    // The issue's list of AIs pyck refused, each known now.
    for code in [
        "90", "91", "99", "240", "241", "250", "251", "253", "254", "3103", "3203", "3303", "3403",
        "3500", "3600", "3900", "3912", "410", "411", "412", "413", "414", "415", "416", "417",
        "422", "423", "424", "425", "426", "427", "7003", "8003", "8004", "8006", "8018", "8020",
    ] {
        assert!(Ai::lookup(code).is_some(), "{code}");
    }
    assert_eq!(ai("17").title(), "USE BY or EXPIRY");
    assert_eq!(ai("17").to_string(), "AI (17) USE BY or EXPIRY");
    assert!(ai("17").is_date() && ai("17").is_fixed_length() && ai("17").is_numeric());
    assert!(!ai("10").is_fixed_length() && !ai("10").is_numeric());
    assert_eq!(ai("10").max_length(), 20);
    assert!(ai("10").needs_separator() && !ai("01").needs_separator());
    assert_eq!(ai("3103").decimals(), Some(3));
    assert_eq!(ai("01").decimals(), None);
    assert_eq!(Ai::lookup("23"), None);
    assert_eq!(Ai::lookup(""), None);
}

#[test]
fn character_set_82() {
    assert_eq!(CSET82.chars().count(), 82);
    for c in (0u8..=127).map(char::from) {
        assert_eq!(is_cset82(c), CSET82.contains(c), "{c:?}");
    }
    assert!(!is_cset82('é') && !is_cset82(' ') && !is_cset82('#') && !is_cset82('\\'));
}

// ---------------------------------------------------------- check digits

#[test]
fn check_digits() {
    assert_eq!(gtin_check_digit("0950110153000"), Some(3));
    assert_eq!(gtin_check_digit("10614141123456789"), Some(7)); // SSCC body
    assert_eq!(gtin_check_digit("400638133393"), Some(1));
    assert_eq!(gtin_check_digit("0"), Some(0));
    assert_eq!(gtin_check_digit(""), None);
    assert_eq!(gtin_check_digit("12a4"), None);
    assert_eq!(gtin_check_digit("１２"), None); // full-width digits
    assert!(gtin_check_digit(&"9".repeat(100_000)).is_some());
}

#[test]
fn valid_gtins() {
    for good in [
        "96385074",
        "036000291452",
        "4006381333931",
        "09501101530003",
    ] {
        assert!(is_valid_gtin(good), "{good}");
    }
    for bad in [
        "96385075",
        "4006381333932",
        "400638133393",   // 12 digits, wrong check
        "0400638133393",  // 13 digits, wrong check
        "40063813339311", // wrong check
        "123456789",      // 9 digits
        "4006381333931 ",
        "",
        "400638133393é", // 13 bytes, not digits: must not panic
        "4006381333９",
    ] {
        assert!(!is_valid_gtin(bad), "{bad}");
    }
}

#[test]
fn normalizing_gtins() {
    assert_eq!(
        normalize_gtin("96385074").as_deref(),
        Some("00000096385074")
    );
    assert_eq!(
        normalize_gtin("036000291452").as_deref(),
        Some("00036000291452")
    );
    assert_eq!(
        normalize_gtin("4006381333931").as_deref(),
        Some("04006381333931")
    );
    assert_eq!(
        normalize_gtin("09501101530003").as_deref(),
        Some("09501101530003")
    );
    assert_eq!(normalize_gtin("4006381333932"), None);
    assert_eq!(normalize_gtin("abc"), None);
}

// ---------------------------------------------------------------- dates

#[test]
fn century_rule() {
    // Current year 2026: the window is 1977..=2076.
    assert_eq!(date::full_year(76, 2026), 2076);
    assert_eq!(date::full_year(77, 2026), 1977);
    assert_eq!(date::full_year(99, 2026), 1999);
    assert_eq!(date::full_year(0, 2026), 2000);
    assert_eq!(date::full_year(26, 2026), 2026);
    // Near the end of a century the window reaches into the next one.
    assert_eq!(date::full_year(25, 2075), 2125);
    assert_eq!(date::full_year(26, 2075), 2026);
    assert_eq!(date::full_year(99, 2075), 2099);
    // And at its start, back into the previous one.
    assert_eq!(date::full_year(50, 2000), 2050);
    assert_eq!(date::full_year(51, 2000), 1951);
    assert_eq!(date::full_year(0, 1999), 2000);

    let gs1 = ok("(01)09501101530003(17)760101(15)770101(11)000229");
    assert_eq!(gs1.expiry(), Some(ymd(2076, 1, 1)));
    assert_eq!(gs1.best_before(), Some(ymd(1977, 1, 1)));
    assert_eq!(gs1.production_date(), Some(ymd(2000, 2, 29)));
}

#[test]
fn day_zero_is_the_last_day_of_the_month() {
    let gs1 = ok("(01)09501101530003(17)270200(15)280200(11)261200(13)270100");
    assert_eq!(gs1.expiry(), Some(ymd(2027, 2, 28)));
    assert_eq!(gs1.best_before(), Some(ymd(2028, 2, 29)));
    assert_eq!(gs1.production_date(), Some(ymd(2026, 12, 31)));
    // A due date (12) goes with a payment slip reference (8020).
    let slip = ok("(415)9501101530003(8020)REF1(12)270400");
    assert_eq!(slip.get("12").unwrap().date(), Some(ymd(2027, 4, 30)));
    assert_eq!(gs1.get("13").unwrap().date(), Some(ymd(2027, 1, 31)));
    // The value stays as scanned.
    assert_eq!(gs1.get("17").unwrap().value(), "270200");
}

#[test]
fn impossible_dates_name_the_ai() {
    assert_eq!(
        msg("(17)270230"),
        "AI (17) USE BY or EXPIRY: 270230 is not a real date"
    );
    assert_eq!(
        msg("(15)271301"),
        "AI (15) BEST BEFORE or BEST BY: 271301 is not a real date"
    );
    assert_eq!(
        msg("(11)270001"),
        "AI (11) PROD DATE: 270001 is not a real date"
    );
    assert_eq!(
        msg("(16)270229"),
        "AI (16) SELL BY: 270229 is not a real date"
    );
    assert_eq!(
        msg("(17)271300"),
        "AI (17) USE BY or EXPIRY: 271300 is not a real date"
    );
    assert!(matches!(err("(17)270132"), Gs1Error::InvalidDate { .. }));
    // Years beyond what chrono can represent fail cleanly.
    assert!(matches!(
        parse("(17)501231", NaiveDate::MAX),
        Err(Gs1Error::InvalidDate { .. })
    ));
}

// ------------------------------------------------------------ the forms

const EXAMPLE: &str = "(01)09501101530003(17)270120(10)L2710";

fn check_example(gs1: &Gs1) {
    assert_eq!(codes(gs1), ["01", "17", "10"]);
    assert_eq!(gs1.gtin(), Some("09501101530003"));
    assert_eq!(gs1.expiry(), Some(ymd(2027, 1, 20)));
    assert_eq!(gs1.lot(), Some("L2710"));
}

#[test]
fn bracketed() {
    check_example(&ok(EXAMPLE));
    check_example(&ok(" (01) 09501101530003 (17) 270120 (10) L2710\r\n"));
    check_example(&ok("(01)09501101530003\x1d(17)270120(10)L2710\x1d"));
    assert_eq!(ok("(01)09501101530003").gtin(), Some("09501101530003"));
}

#[test]
fn raw_with_separators() {
    // Fixed-length values need no separator.
    check_example(&ok("01095011015300031727012010L2710"));
    // Lot before the date: the lot needs its separator.
    let gs1 = ok("010950110153000310L2710\x1d17270120");
    assert_eq!(codes(&gs1), ["01", "10", "17"]);
    assert_eq!(gs1.lot(), Some("L2710"));
    assert_eq!(gs1.expiry(), Some(ymd(2027, 1, 20)));
    // A separator after a fixed-length value is not needed but harmless.
    check_example(&ok("0109501101530003\x1d17270120\x1d10L2710"));
    // Without the separator the lot swallows the rest.
    assert_eq!(
        ok("010950110153000310L2710\x1d21ABC17270120").serial(),
        Some("ABC17270120")
    );
}

#[test]
fn separator_spellings() {
    for gs in ["\x1d", "<GS>", "<gs>", "<Gs>", "\u{241D}"] {
        let scan = format!("{gs}010950110153000310L2710{gs}17270120{gs}");
        let gs1 = ok(&scan);
        assert_eq!(gs1.lot(), Some("L2710"), "{scan:?}");
        assert_eq!(gs1.expiry(), Some(ymd(2027, 1, 20)), "{scan:?}");
    }
    // Known limitation: the text <GS> inside a lot is read as a separator.
    assert_eq!(
        ok("0109501101530003 10A<GS>21B".replace(' ', "").as_str()).lot(),
        Some("A")
    );
}

#[test]
fn symbology_identifiers() {
    for id in ["]C1", "]d2", "]Q3", "]e0", "]J1"] {
        check_example(&ok(&format!("{id}010950110153000317270120\x1d10L2710")));
        check_example(&ok(&format!("{id}\x1d010950110153000317270120\x1d10L2710")));
        check_example(&ok(&format!("{id}{EXAMPLE}")));
    }
    assert_eq!(
        msg("]C00109501101530003"),
        "scanned a ]C0 barcode, which does not carry GS1 data"
    );
    assert!(matches!(err("]E04006381333931"), Gs1Error::NotGs1 { .. }));
    assert!(matches!(err("]Q1hello"), Gs1Error::NotGs1 { .. }));
}

#[test]
fn real_labels() {
    // GS1's own example GTIN.
    assert_eq!(ok("(01)09501101530003").gtin(), Some("09501101530003"));
    // A pallet label: SSCC; content GTIN and count; best before; lot.
    let gs1 = ok("]C100106141411234567897\x1d0209501101530003\x1d3712\x1d15270331\x1d10ABC123");
    assert_eq!(gs1.sscc(), Some("106141411234567897"));
    assert_eq!(gs1.content_gtin(), Some("09501101530003"));
    assert_eq!(gs1.gtin(), None);
    assert_eq!(gs1.count(), Some(12));
    assert_eq!(gs1.best_before(), Some(ymd(2027, 3, 31)));
    assert_eq!(gs1.lot(), Some("ABC123"));
    // A variable-measure cheese: GTIN, net weight 1.234 kg, packed, sell by.
    let gs1 = ok("]C1010950110153000331030012341326022816260310");
    assert_eq!(codes(&gs1), ["01", "3103", "13", "16"]);
    assert_eq!(gs1.net_weight_kg(), Some(1.234));
    assert_eq!(gs1.get("16").unwrap().date(), Some(ymd(2026, 3, 10)));
    // A GS1 DataMatrix on a medicine pack: GTIN, expiry, lot, serial.
    let gs1 = ok("]d2010950110153000317280731104711\x1d21SN-12345/67");
    assert_eq!(gs1.expiry(), Some(ymd(2028, 7, 31)));
    assert_eq!(gs1.lot(), Some("4711"));
    assert_eq!(gs1.serial(), Some("SN-12345/67"));
}

#[test]
fn every_ai() {
    // (02) and (37) may not stand with (01), nor (410) and (414) without
    // an SSCC: every other pair here is allowed (General Specifications
    // 4.14).
    let scan = "(00)106141411234567897(10)!\"%&'()*+,-./:;<=>?_\
                (11)260101(13)260103(15)260104(16)260105(17)260106(20)07\
                (21)Az09(240)XYZ-1(30)123(3100)000005(400)PO/2026/77\
                (410)9501101530003(01)09501101530003";
    let gs1 = ok(scan);
    assert_eq!(
        codes(&gs1),
        [
            "00", "10", "11", "13", "15", "16", "17", "20", "21", "240", "30", "3100", "400",
            "410", "01"
        ]
    );
    assert_eq!(gs1.lot(), Some("!\"%&'()*+,-./:;<=>?_"));
    assert_eq!(gs1.serial(), Some("Az09"));
    assert_eq!(gs1.get("240").unwrap().value(), "XYZ-1");
    assert_eq!(gs1.get("20").unwrap().value(), "07");
    assert_eq!(gs1.get("400").unwrap().value(), "PO/2026/77");
    assert_eq!(gs1.get("410").unwrap().value(), "9501101530003");
    assert_eq!(gs1.count(), Some(123));
    assert_eq!(gs1.net_weight_kg(), Some(5.0));
    assert_eq!(gs1.production_date(), Some(ymd(2026, 1, 1)));
    assert_eq!(gs1.best_before(), Some(ymd(2026, 1, 4)));
    assert_eq!(gs1.expiry(), Some(ymd(2026, 1, 6)));
    // And the same through the raw form.
    assert_eq!(ok(&gs1.render_raw()), gs1);
}

#[test]
fn count_prefers_37_over_30() {
    assert_eq!(
        ok("(00)106141411234567897(02)09501101530003(30)5(37)7").count(),
        Some(7)
    );
    assert_eq!(ok("(01)09501101530003(30)00000005").count(), Some(5));
    assert_eq!(ok("(01)09501101530003").count(), None);
    assert_eq!(
        ok("(01)09501101530003(3105)123456").net_weight_kg(),
        Some(1.23456)
    );
}

// --------------------------------------------------------------- errors

#[test]
fn check_digit_errors() {
    assert_eq!(
        msg("(01)09501101530004"),
        "AI (01) GTIN: check digit is 4, expected 3"
    );
    assert_eq!(
        msg("0109501101530004"),
        "AI (01) GTIN: check digit is 4, expected 3"
    );
    assert_eq!(
        msg("(00)106141411234567890"),
        "AI (00) SSCC: check digit is 0, expected 7"
    );
    assert_eq!(
        msg("(02)09501101530005(37)1"),
        "AI (02) CONTENT: check digit is 5, expected 3"
    );
    assert_eq!(
        msg("(414)9501101530004"),
        "AI (414) LOC No.: check digit is 4, expected 3"
    );
}

#[test]
fn unknown_ais() {
    // 27 is no AI; 3960 is none of the amounts (3900–3955); 428 no origin.
    assert_eq!(
        msg("010950110153000327ABC"),
        "unknown application identifier at position 17: \"27\""
    );
    assert_eq!(
        msg("(01)09501101530003(27)ABC"),
        "unknown application identifier at position 20: \"27\""
    );
    // Positions count from the start of the scan as received.
    assert_eq!(
        err("]C1\x1d010950110153000327ABC"),
        Gs1Error::UnknownAi {
            position: 21,
            ai: "27".into()
        }
    );
    // The quoted AI has as many digits as GS1 AIs with that start have.
    assert_eq!(
        err("01095011015300033960001234"),
        Gs1Error::UnknownAi {
            position: 17,
            ai: "3960".into()
        }
    );
    assert_eq!(
        err("4281234"),
        Gs1Error::UnknownAi {
            position: 1,
            ai: "428".into()
        }
    );
    assert_eq!(
        msg("(8)1"),
        "unknown application identifier at position 2: \"8\""
    );
}

#[test]
fn length_errors() {
    assert_eq!(
        msg("(10)ABCDEFGHIJKLMNOPQRSTU"),
        "AI (10) BATCH/LOT: longer than 20 characters"
    );
    // A forgotten separator in a raw scan shows up the same way.
    assert_eq!(
        msg("0109501101530003\x1d10ABCDEF17270120ABCDEFG"),
        "AI (10) BATCH/LOT: longer than 20 characters"
    );
    assert_eq!(
        msg("(01)0950110153000"),
        "AI (01) GTIN: needs 14 digits, got 13"
    );
    assert_eq!(
        msg("01095011015300"),
        "AI (01) GTIN: needs 14 digits, got 12"
    );
    assert_eq!(
        msg("01095011\x1d10ABC"),
        "AI (01) GTIN: needs 14 digits, got 6"
    );
    assert_eq!(
        msg("(37)123456789"),
        "AI (37) COUNT: longer than 8 characters"
    );
    assert_eq!(msg("(10)"), "AI (10) BATCH/LOT: no data");
    assert_eq!(msg("(10)(17)270101"), "AI (10) BATCH/LOT: no data");
    assert_eq!(msg("10\x1d17270101"), "AI (10) BATCH/LOT: no data");
}

#[test]
fn character_errors() {
    assert_eq!(
        msg("(01)0950110153000O"),
        "AI (01) GTIN: only digits are allowed, found 'O'"
    );
    assert_eq!(
        msg("(10)CAFÉ"),
        "AI (10) BATCH/LOT: the character 'É' is not allowed"
    );
    assert_eq!(
        msg("(10)A B"),
        "AI (10) BATCH/LOT: the character ' ' is not allowed"
    );
    assert_eq!(
        msg("(21)#1"),
        "AI (21) SERIAL: the character '#' is not allowed"
    );
    assert_eq!(
        msg("(37)1.5"),
        "AI (37) COUNT: only digits are allowed, found '.'"
    );
}

#[test]
fn empty_and_oversized_scans() {
    for empty in [
        "", "   ", "\r\n", "\x1d", "\x1d\x1d", "<GS>", "]C1", "]d2\x1d", " ]Q3 ",
    ] {
        assert_eq!(err(empty), Gs1Error::Empty, "{empty:?}");
    }
    assert_eq!(msg(""), "empty scan");
    let huge = "1".repeat(MAX_INPUT_CHARS + 1);
    assert_eq!(msg(&huge), "scan is too long: more than 7089 characters");
    assert_eq!(err(&"é".repeat(100_000)), Gs1Error::TooLong);
    // At the limit the scan is read (and here found wanting for other reasons).
    assert_ne!(err(&"9".repeat(MAX_INPUT_CHARS)), Gs1Error::TooLong);
}

#[test]
fn syntax_errors() {
    assert_eq!(
        err("(01"),
        Gs1Error::Syntax {
            position: 4,
            problem: "expected digits and ')' after '('"
        }
    );
    assert_eq!(
        msg("(0A)1"),
        "at position 3: expected digits and ')' after '('"
    );
    assert_eq!(
        msg("ABC"),
        "at position 1: expected an application identifier (digits)"
    );
    assert_eq!(
        msg("(01)09501101530003 X(10)A"),
        "AI (01) GTIN: only digits are allowed, found ' '"
    );
    assert!(matches!(err("1"), Gs1Error::Syntax { position: 1, .. }));
    assert!(matches!(
        err("0109501101530003 10A"),
        Gs1Error::Syntax { position: 17, .. }
    ));
}

#[test]
fn repeated_ais() {
    let gs1 = ok("(01)09501101530003(10)A(01)09501101530003");
    assert_eq!(codes(&gs1), ["01", "10"]);
    assert_eq!(
        msg("(10)A(10)B"),
        "AI (10) BATCH/LOT: scanned twice with different values, A and B"
    );
}

#[test]
fn parentheses_inside_bracketed_values() {
    assert_eq!(ok("(01)09501101530003(10)A(B)C").lot(), Some("A(B)C"));
    assert_eq!(ok("(01)09501101530003(10)A(1)C(21)X").lot(), Some("A(1)C"));
    assert_eq!(ok("(01)09501101530003(10)A\\(12)C").lot(), Some("A(12)C"));
    assert_eq!(ok("(01)09501101530003(10)A((17)270101").lot(), Some("A("));
    let gs1 = Gs1 {
        elements: vec![
            Element::new("01", "09501101530003", today()).unwrap(),
            Element::new("10", "A(12)C", today()).unwrap(),
        ],
    };
    assert_eq!(gs1.render_bracketed(), "(01)09501101530003(10)A\\(12)C");
    assert_eq!(ok(&gs1.render_bracketed()), gs1);
}

// --------------------------------------------------------- Digital Link

#[test]
fn digital_link() {
    let gs1 = ok("https://id.gs1.org/01/09501101530003/10/L2710?17=270120");
    assert_eq!(gs1, ok("(01)09501101530003(10)L2710(17)270120"));
    let gs1 = ok("https://example.com/01/09501101530003/21/ABC?17=270120&3103=000189");
    assert_eq!(codes(&gs1), ["01", "21", "17", "3103"]);
    assert_eq!(gs1.serial(), Some("ABC"));
    assert_eq!(gs1.net_weight_kg(), Some(0.189));
    // Parameters that are no AI are the brand's business, and ignored.
    let gs1 = ok("https://example.com/01/09501101530003?linkType=gs1:pip&x&&17=270120");
    assert_eq!(codes(&gs1), ["01", "17"]);
    // An empty name with a value is refused, as GS1's Syntax Engine does.
    assert!(matches!(
        err("https://example.com/01/09501101530003?=1"),
        Gs1Error::UnknownAiCode { .. }
    ));
    // The stem may hold empty segments, as any URI path may.
    assert_eq!(
        codes(&ok("https://example.com/a//b/01/09501101530003")),
        ["01"]
    );
    // `+` in a query value is a space (and so no valid lot).
    assert!(matches!(
        err("https://example.com/01/09501101530003?99=A+B"),
        Gs1Error::InvalidCharacter { found: ' ', .. }
    ));
    assert_eq!(
        ok("https://example.com/01/09501101530003?99=A%2BB")
            .get("99")
            .map(Element::value),
        Some("A+B")
    );
}

#[test]
fn digital_link_variants() {
    // Short GTINs in the path are padded.
    assert_eq!(
        ok("https://d.example/01/4006381333931").gtin(),
        Some("04006381333931")
    );
    assert_eq!(
        ok("https://d.example/01/036000291452").gtin(),
        Some("00036000291452")
    );
    assert_eq!(
        ok("https://d.example/01/96385074").gtin(),
        Some("00000096385074")
    );
    // Capitals (QR alphanumeric mode), a path prefix, a fragment, a
    // plain-QR symbology identifier, percent-escapes.
    let gs1 = ok("HTTPS://EXAMPLE.COM/SHOP/P/01/09501101530003/10/L%2F27%25#top");
    assert_eq!(gs1.lot(), Some("L/27%"));
    let gs1 = ok("]Q1http://example.com/00/106141411234567897");
    assert_eq!(gs1.sscc(), Some("106141411234567897"));
    let gs1 = ok("]Q1http://example.com/01/09501101530003?99=A%26B");
    assert_eq!(gs1.get("99").map(Element::value), Some("A&B"));
    assert_eq!(
        ok("https://x.example/414/9501101530003")
            .get("414")
            .map(Element::value),
        Some("9501101530003")
    );
}

#[test]
fn digital_link_errors() {
    assert_eq!(
        msg("https://example.com/products/123"),
        "not a GS1 Digital Link: no primary key (/01/, /00/, /414/, …) ends the path"
    );
    assert_eq!(
        msg("https://example.com"),
        msg("https://example.com/products/123")
    );
    assert_eq!(
        msg("https://example.com/01/09501101530003/27/ABC"),
        msg("https://example.com/products/123")
    );
    assert_eq!(
        msg("https://example.com/01/09501101530004"),
        "AI (01) GTIN: check digit is 4, expected 3"
    );
    assert_eq!(
        msg("https://example.com/01/09501101530003?17=270230"),
        "AI (17) USE BY or EXPIRY: 270230 is not a real date"
    );
    // A `%` without two hexadecimal digits is itself (GS1's Syntax
    // Engine reads it so; `%` is in character set 82).
    assert_eq!(
        ok("https://example.com/01/09501101530003/10/A%2")
            .get("10")
            .map(Element::value),
        Some("A%2")
    );
    assert!(matches!(
        err("https://example.com/01/09501101530003/10/%C3%28"),
        Gs1Error::InvalidCharacter { .. }
    ));
    assert!(
        err("https://example.com/01//09501101530003")
            .to_string()
            .contains("no primary key")
    );
    assert!(matches!(
        err("https://example.com/01/09501101530003/10/%C3%A9"),
        Gs1Error::InvalidCharacter { found: 'é', .. }
    ));
    assert!(matches!(
        err("https://example.com/01/09501101530003/10/A?10=B"),
        Gs1Error::RepeatedInLink { .. } | Gs1Error::QualifierInQuery { .. }
    ));
    assert!(matches!(
        err("https://example.com/01/09501101530003?10=B"),
        Gs1Error::QualifierInQuery { .. }
    ));
    assert!(matches!(
        err("https://example.com/01/09501101530003?99=A&99=A"),
        Gs1Error::RepeatedInLink { .. }
    ));
}

// ----------------------------------------------------- output, detection

#[test]
fn json_shape() {
    let gs1 = ok("(01)09501101530003(17)270100(10)L2710");
    assert_eq!(
        serde_json::to_string(&gs1).unwrap(),
        r#"{"elements":[{"ai":"01","title":"GTIN","value":"09501101530003"},{"ai":"17","title":"USE BY or EXPIRY","value":"270100","date":"2027-01-31"},{"ai":"10","title":"BATCH/LOT","value":"L2710"}]}"#
    );
}

#[test]
fn rendering() {
    let gs1 = ok("(10)L2710(01)09501101530003(21)S1(17)270120(30)5");
    assert_eq!(
        gs1.render_bracketed(),
        "(10)L2710(01)09501101530003(21)S1(17)270120(30)5"
    );
    assert_eq!(gs1.to_string(), gs1.render_bracketed());
    assert_eq!(
        gs1.render_raw(),
        "10L2710\x1d010950110153000321S1\x1d17270120305"
    );
    assert_eq!(Gs1::default().render_raw(), "");
}

#[test]
fn element_constructor() {
    let e = Element::new("17", "270120", today()).unwrap();
    assert_eq!(e.ai(), ai("17"));
    assert_eq!(e.value(), "270120");
    assert_eq!(e.date(), Some(ymd(2027, 1, 20)));
    assert_eq!(
        Element::new("27", "x", today()),
        Err(Gs1Error::UnknownAiCode { ai: "27".into() })
    );
    assert!(matches!(
        Element::new("01", "123", today()),
        Err(Gs1Error::WrongLength { .. })
    ));
}

#[test]
fn detecting_gs1_scans() {
    for yes in [
        EXAMPLE,
        "  (01)09501101530003",
        "]C10109501101530003",
        "]d2010950110153000310A",
        "]Q3xx",
        "]e00109501101530003",
        "010950110153000310A\x1d17270120",
        "0109501101530003<GS>10A",
        "https://id.gs1.org/01/09501101530003",
        "HTTPS://ID.GS1.ORG/01/09501101530003",
        "]Q1https://example.com/00/106141411234567897",
    ] {
        assert!(looks_like_gs1(yes), "{yes:?}");
    }
    for no in [
        "",
        "4006381333931",
        "SKU-123",
        "(A)",
        "https://example.com/products/1",
        "]C0abc",
        "LOC-01-02",
        "é",
    ] {
        assert!(!looks_like_gs1(no), "{no:?}");
    }
}

// ------------------------------------------------------------ properties

fn digits(len: usize) -> BoxedStrategy<String> {
    proptest::collection::vec(0u8..10, len)
        .prop_map(|ds| ds.iter().map(|d| char::from(b'0' + d)).collect())
        .boxed()
}

fn from_list(list: &'static str) -> BoxedStrategy<String> {
    select(ai::DICTIONARY.lists[list].clone()).boxed()
}

/// Any valid text for one component, or `None` for a linter whose valid
/// values this test does not know how to make (the AI is then left out).
fn component(part: &dictionary::Part) -> Option<BoxedStrategy<String>> {
    let chars: Vec<char> = match part.cset {
        dictionary::Cset::Numeric => "0123456789".chars().collect(),
        dictionary::Cset::Cset82 => CSET82.chars().collect(),
        dictionary::Cset::Cset39 => "#-/0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ".chars().collect(),
        dictionary::Cset::Cset64 => {
            "-0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz"
                .chars()
                .collect()
        }
    };
    let (min, max) = (part.min.max(1), part.max);
    let fixed =
        |len: usize, v: BoxedStrategy<String>| (part.min == len && part.max == len).then_some(v);
    match part
        .linters
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        [] => Some(
            proptest::collection::vec(select(chars), min..=max)
                .prop_map(|cs| cs.into_iter().collect())
                .boxed(),
        ),
        // A GS1 Company Prefix (four digits) at the first or second place.
        [gcp @ ("gcppos1" | "gcppos2")] => {
            let lead = usize::from(*gcp == "gcppos2");
            (min.max(lead + 4) <= max).then(|| {
                let rest = min.saturating_sub(lead + 4)..=max - lead - 4;
                (
                    proptest::collection::vec(select(chars.clone()), lead),
                    digits(4),
                    proptest::collection::vec(select(chars), rest),
                )
                    .prop_map(|(a, gcp, b)| {
                        let mut s: String = a.into_iter().collect();
                        s.push_str(&gcp);
                        s.extend(b);
                        s
                    })
                    .boxed()
            })
        }
        ["csum"] | ["csum", "gcppos1"] | ["csum", "gcppos2"] => Some(
            digits(part.max - 1)
                .prop_map(|body| {
                    let check = gtin_check_digit(&body).unwrap();
                    format!("{body}{check}")
                })
                .boxed(),
        ),
        ["yymmd0"] | ["yymmdd"] => fixed(
            6,
            (0u32..100, 1u32..=12, 1u32..=28)
                .prop_map(|(y, m, d)| format!("{y:02}{m:02}{d:02}"))
                .boxed(),
        ),
        ["hhmi"] => fixed(
            4,
            (0u32..24, 0u32..60)
                .prop_map(|(h, m)| format!("{h:02}{m:02}"))
                .boxed(),
        ),
        ["pieceoftotal"] => fixed(
            4,
            (1u32..100)
                .prop_flat_map(|total| (1..=total, Just(total)))
                .prop_map(|(p, t)| format!("{p:02}{t:02}"))
                .boxed(),
        ),
        ["iso3166"] | ["iso3166999"] => fixed(3, from_list("iso3166")),
        ["iso3166alpha2"] => fixed(2, from_list("iso3166alpha2")),
        ["mediatype"] => fixed(2, from_list("aidcmediatype")),
        ["packagetype"] => Some(
            from_list("packagetype")
                .prop_filter("fits", move |v| (min..=max).contains(&v.len()))
                .boxed(),
        ),
        ["yesno"] => fixed(1, select(vec!["0".to_owned(), "1".to_owned()]).boxed()),
        ["winding"] => fixed(
            1,
            select(vec!["0".to_owned(), "1".to_owned(), "9".to_owned()]).boxed(),
        ),
        ["iso5218"] => fixed(
            1,
            select(vec!["0".to_owned(), "2".to_owned(), "9".to_owned()]).boxed(),
        ),
        ["zero"] => fixed(1, Just("0".to_owned()).boxed()),
        ["hyphen"] => fixed(1, Just("-".to_owned()).boxed()),
        ["importeridx"] => fixed(
            1,
            select(vec!["A".to_owned(), "-".to_owned(), "_".to_owned()]).boxed(),
        ),
        ["hh"] => fixed(2, (0u32..24).prop_map(|h| format!("{h:02}")).boxed()),
        ["mi"] | ["ss"] => fixed(2, (0u32..60).prop_map(|m| format!("{m:02}")).boxed()),
        ["yyyymmdd"] => fixed(
            8,
            (1950u32..2100, 1u32..=12, 1u32..=28)
                .prop_map(|(y, m, d)| format!("{y}{m:02}{d:02}"))
                .boxed(),
        ),
        ["nonzero"] | ["nozeroprefix"] => Some(
            (
                (1u8..10),
                proptest::collection::vec(0u8..10, min - 1..=max - 1),
            )
                .prop_map(|(first, rest)| {
                    std::iter::once(first)
                        .chain(rest)
                        .map(|d| char::from(b'0' + d))
                        .collect()
                })
                .boxed(),
        ),
        // Percent-encoded text: anything of the set but `%` is already so.
        ["pcenc"] => Some(
            proptest::collection::vec(
                select(chars.into_iter().filter(|c| *c != '%').collect::<Vec<_>>()),
                min..=max,
            )
            .prop_map(|cs| cs.into_iter().collect())
            .boxed(),
        ),
        ["iso4217"] => fixed(3, from_list("iso4217")),
        _ => None,
    }
}

/// Any valid value for `ai`, if this test can make one.
fn value_for(ai: Ai) -> Option<BoxedStrategy<String>> {
    let parts: Vec<BoxedStrategy<String>> = ai
        .def()
        .parts
        .iter()
        .map(component)
        .collect::<Option<_>>()?;
    Some(parts.prop_map(|ps| ps.concat()).boxed())
}

/// The AIs whose values this test can make.
fn makeable() -> Vec<Ai> {
    Ai::all().filter(|&ai| value_for(ai).is_some()).collect()
}

/// Keeps the elements that may stand together: drops an element excluded
/// by one kept before it, then, one at a time, any whose requisite AIs are
/// missing.
fn allowed_together(elements: Vec<Element>) -> Vec<Element> {
    let mut kept: Vec<Element> = Vec::new();
    for e in elements {
        let mut with: Vec<Ai> = kept.iter().map(Element::ai).collect();
        with.push(e.ai());
        if rules::exclusions(&with).is_ok() {
            kept.push(e);
        }
    }
    loop {
        let present: Vec<Ai> = kept.iter().map(Element::ai).collect();
        match rules::requisites(&present) {
            Err(Gs1Error::Requires { ai, .. }) => kept.retain(|e| e.ai() != ai),
            _ => return kept,
        }
    }
}

/// A key (so that most AIs' requisites are met) and up to eight other
/// distinct AIs of the table in any order, each with a valid value, less
/// those the pair rules keep out.
fn elements() -> impl Strategy<Value = Vec<Element>> {
    let keys: Vec<Ai> = ["01", "00", "02", "414", "8006", "8018", "253", "8004"]
        .iter()
        .map(|c| ai(c))
        .collect();
    (select(keys), subsequence(makeable(), 0..=8))
        .prop_map(|(key, mut ais)| {
            ais.retain(|&a| a != key);
            ais.insert(0, key);
            ais
        })
        .prop_shuffle()
        .prop_flat_map(|ais| {
            let values: Vec<_> = ais.iter().map(|&ai| value_for(ai).unwrap()).collect();
            (Just(ais), values)
        })
        .prop_map(|(ais, values)| {
            let elements = ais
                .into_iter()
                .zip(values)
                .filter_map(|(ai, value)| Element::new_with_ai(ai, &value, today()).ok())
                .collect();
            allowed_together(elements)
        })
        .prop_filter("nothing left", |e| !e.is_empty())
}

/// Whether a value holds the text `<GS>`, which scans cannot carry (it
/// reads as a separator; see `separator_spellings`).
fn has_gs_text(gs1: &Gs1) -> bool {
    gs1.elements
        .iter()
        .any(|e| e.value().to_ascii_lowercase().contains("<gs>"))
}

/// Test-only Digital Link writer: the first primary key in the path with
/// those of its qualifiers present, in order; everything else in the
/// query; every non-alphanumeric character percent-escaped. `None` where
/// the scan cannot be one link (two keys, an AI kept out of queries).
fn render_digital_link(gs1: &Gs1) -> Option<String> {
    let escape = |v: &str| {
        v.bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() {
                    char::from(b).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect::<String>()
    };
    let key = gs1.elements.iter().find(|e| e.ai().is_primary_key())?;
    let mut path = format!(
        "https://example.com/a/{}/{}",
        key.ai().code(),
        escape(key.value())
    );
    let sequences = key.ai().def().dl_qualifiers.clone().unwrap_or_default();
    let sequence = sequences.iter().find(|s| {
        gs1.elements
            .iter()
            .any(|e| s.iter().any(|q| q == e.ai().code()))
    });
    let mut in_path = vec![key.ai()];
    for q in sequence.into_iter().flatten() {
        if let Some(e) = gs1.get(q) {
            path.push_str(&format!("/{q}/{}", escape(e.value())));
            in_path.push(e.ai());
        }
    }
    let mut query = Vec::new();
    for e in &gs1.elements {
        if in_path.contains(&e.ai()) {
            continue;
        }
        if e.ai().is_primary_key() || !e.ai().def().dl_attribute {
            return None;
        }
        query.push(format!("{}={}", e.ai().code(), escape(e.value())));
    }
    Some(format!("{path}?{}", query.join("&")))
}

fn sorted(gs1: &Gs1) -> Vec<Element> {
    let mut elements = gs1.elements.clone();
    elements.sort_by_key(|e| e.ai().code());
    elements
}

/// Characters that make up GS1 scans, and some that break them.
const GS1ISH: &str = "()0123456789\x1d<>GSgsAZaz]Cd1Qe\\%/?&=#:. é";

proptest! {
    #[test]
    fn render_then_parse_round_trips(
        elements in elements(),
        prefix in select(vec!["", "]C1", "]d2", "]Q3", "]e0", "\x1d", "]C1\x1d"]),
        trailer in select(vec!["", "\r\n", "\x1d"]),
    ) {
        let gs1 = Gs1 { elements };
        prop_assume!(!has_gs_text(&gs1));
        let bracketed = format!("{prefix}{}{trailer}", gs1.render_bracketed());
        prop_assert_eq!(parse(&bracketed, today()), Ok(gs1.clone()), "{:?}", bracketed);
        let raw = format!("{prefix}{}{trailer}", gs1.render_raw());
        prop_assert_eq!(parse(&raw, today()), Ok(gs1.clone()), "{:?}", raw);
        let typed = raw.replace('\x1d', "<GS>");
        prop_assert_eq!(parse(&typed, today()), Ok(gs1.clone()), "{:?}", typed);
        if let Some(link) = render_digital_link(&gs1) {
            let parsed = parse(&link, today());
            prop_assert!(parsed.is_ok(), "{:?}: {:?}", link, parsed);
            prop_assert_eq!(sorted(&parsed.unwrap()), sorted(&gs1), "{:?}", link);
        }
    }

    #[test]
    fn check_digit_makes_a_valid_gtin(body in "[0-9]{7}|[0-9]{11}|[0-9]{12}|[0-9]{13}") {
        let check = gtin_check_digit(&body).unwrap();
        let gtin = format!("{body}{check}");
        prop_assert!(is_valid_gtin(&gtin));
        let wrong = format!("{body}{}", (check + 1) % 10);
        prop_assert!(!is_valid_gtin(&wrong));
        let normal = normalize_gtin(&gtin).unwrap();
        prop_assert_eq!(normal.len(), 14);
        prop_assert!(normal.ends_with(&gtin));
    }

    #[test]
    fn century_window(year in -5000i32..5000, yy in 0i32..100) {
        let full = date::full_year(yy, year);
        prop_assert_eq!(full.rem_euclid(100), yy);
        prop_assert!((-49..=50).contains(&(full - year)), "{} -> {}", yy, full);
    }


}

/// Cases of the "never panics" properties: the parser is fast, so many.
const NEVER_PANICS_CASES: u32 = 5_000;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(NEVER_PANICS_CASES))]

    #[test]
    fn never_panics_on_any_text(input in any::<String>()) {
        if let Err(e) = parse(&input, today()) {
            prop_assert!(!e.to_string().is_empty());
        }
        let _ = looks_like_gs1(&input);
    }

    #[test]
    fn never_panics_on_gs1ish_text(
        prefix in select(vec!["", "(", "(01)", "01", "]C1", "]d2\x1d", "https://x.example/01/", "http://x/00/", "https://x/a/01/09501101530003/10/"]),
        body in proptest::collection::vec(select(GS1ISH.chars().collect::<Vec<_>>()), 0..80),
        year in -262_000i32..262_000,
    ) {
        let input: String = prefix.chars().chain(body).collect();
        let today = NaiveDate::from_ymd_opt(year, 6, 15).unwrap();
        let _ = looks_like_gs1(&input);
        // Whatever parses must survive its own rendering.
        if let Ok(gs1) = parse(&input, today) {
            prop_assume!(!has_gs_text(&gs1));
            prop_assert_eq!(parse(&gs1.render_bracketed(), today), Ok(gs1.clone()));
            prop_assert_eq!(parse(&gs1.render_raw(), today), Ok(gs1.clone()));
        }
    }
}

/// The round trip covers the table: values are made for nearly every AI
/// (the rest have syntax tests this generator does not satisfy, such as
/// coupon structures).
#[test]
fn the_round_trip_can_make_values_for_most_ais() {
    let all = Ai::all().count();
    let made = makeable().len();
    let missing: Vec<&str> = Ai::all()
        .filter(|&a| value_for(a).is_none())
        .map(Ai::code)
        .collect();
    assert!(made * 10 >= all * 9, "{made} of {all}; missing {missing:?}");
}

#[test]
fn what_a_scan_means() {
    // Marked GS1 data: read, errors shown.
    assert!(read_scan("(01)09501101530003", today()).unwrap().is_ok());
    assert!(read_scan("(01)09501101530004", today()).unwrap().is_err());
    assert!(
        read_scan("https://x.example/8004/9501ABC", today())
            .unwrap()
            .is_ok()
    );
    // A bare element string only when it reads as a whole.
    let bare = read_scan("0109501101530003172701203103000189", today());
    assert_eq!(bare.unwrap().unwrap().net_weight_kg(), Some(0.189));
    for other in [
        "10ABC",
        "11230101",
        "BIN-01",
        "A-01-07",
        "0109501101530004",
        "99",
    ] {
        assert_eq!(read_scan(other, today()), None, "{other}");
    }
    // An EAN-13 or EAN-8 behind its symbology identifier is its GTIN.
    let ean = read_scan("]E05901234123457", today()).unwrap().unwrap();
    assert_eq!(ean.gtin(), Some("05901234123457"));
    let ean8 = read_scan("]E496385074", today()).unwrap().unwrap();
    assert_eq!(ean8.gtin(), Some("00000096385074"));
    assert_eq!(read_scan("]E05901234123458", today()), None);
    // A web page that is no Digital Link is some other code.
    assert_eq!(read_scan("https://example.com/products/123", today()), None);
}

#[test]
fn base64_padding() {
    for ok_value in ["123", "12", "12=", "1=="] {
        assert!(ai::cset64_padding_ok(ok_value), "{ok_value}");
    }
    for bad in ["123=", "12==", "1===", "1234=", "===", "1=2"] {
        assert!(!ai::cset64_padding_ok(bad), "{bad}");
    }
}
