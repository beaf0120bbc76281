//! GS1 barcode parsing: what a handheld scanner reads off a carton label or
//! a product, turned into GTINs, lots, dates and counts.
//!
//! # GS1 element strings
//!
//! A GS1 barcode (GS1-128, GS1 DataMatrix, GS1 QR, GS1 DataBar) carries an
//! *element string*: a run of *elements*, each an **application
//! identifier** (AI, 2 to 4 digits saying what follows) and a value. AI
//! `01` is a GTIN (14 digits), `17` an expiry date (`YYMMDD`), `10` a
//! batch/lot (up to 20 characters). Some AIs have a fixed length; after a
//! variable-length value the symbol holds an FNC1, which keyboard-wedge
//! scanners send as the ASCII GS character (`\x1d`), so the reader knows
//! where the value ends.
//!
//! # Accepted forms
//!
//! [`parse`] takes the scan as text and recognises:
//!
//! - **Bracketed** (human-readable): `(01)09501101530003(17)270120(10)L2710`.
//!   A `(` inside a value is written `\(` when it would otherwise look like
//!   the start of an AI; blanks between elements are tolerated.
//! - **Raw**: `01095011015300031727012010L2710`: AIs and values back to
//!   back, with a GS after each variable-length value that is not last. GS
//!   may also arrive as the text `<GS>` (any case) or as `␝` (U+241D); a
//!   leading FNC1 and surplus GSs are skipped. A GS after a fixed-length
//!   value is allowed but not needed. A raw string with no symbology
//!   identifier and no GS (a *bare* element string, as a scanner set up
//!   without identifiers sends a GS1-128 label) reads the same; whether a
//!   scan is one at all is [`read_scan`]'s question.
//! - **Symbology identifier** prefixes `]C1` (GS1-128), `]d2` (GS1
//!   DataMatrix), `]Q3` (GS1 QR), `]e0` (GS1 DataBar) and `]J1` (GS1
//!   DotCode) are stripped; these carry element strings only, so a web
//!   address behind them is an error. Any other identifier (`]C0`, `]E0`,
//!   …) is an error unless a web address follows it.
//! - **GS1 Digital Link** URIs: `https://id.gs1.org/01/09501101530003/10/L2710?17=270120`,
//!   read by the Digital Link URI syntax: see `digital_link.rs` and docs/GS1.md.
//!
//! Surrounding blanks (the scanner's Enter) are trimmed. Input over
//! [`MAX_INPUT_CHARS`] characters (what a QR code holds at most) is refused
//! unread. Parsing never panics.
//!
//! # AIs and the rules between them
//!
//! Every AI of the GS1 General Specifications is known, from the GS1
//! Barcode Syntax Dictionary (see `dictionary.rs` and `data/README.md`):
//! its components, their character sets and lengths, and the syntax tests
//! each must pass (check digits, dates, times, code lists; see `lint.rs`).
//! An AI GS1 has not assigned stops parsing with an error, because its
//! length, and so where the next element starts, is unknown.
//!
//! A whole scan must also keep the pair rules of General Specifications
//! 4.14 (`rules.rs`): no AI with one it excludes (`(01)` with `(02)` or
//! `(37)`), every AI with the AIs it requires (a lot with a GTIN).
//!
//! Measures and amounts (AIs 31nn–36nn, 39nn) carry their number of
//! decimals in the AI's last digit: [`Element::decimal`].
//!
//! # Dates
//!
//! `YYMMDD` becomes a [`NaiveDate`] by the GS1 century rule: the year lies
//! between 49 years before and 50 years after the current year (with 2026
//! as the current year, `76` is 2076, `77` is 1977). Day `00` means the last
//! day of the month. This crate reads no clock, so [`parse`] takes "today"
//! as an argument.
//!
//! # Duplicates
//!
//! The same AI twice with the same value is kept once; with different
//! values it is an error ([`Gs1Error::Conflict`]).
//!
//! # JSON
//!
//! [`Gs1`] serializes as its elements in scan order; each element has its
//! AI, the GS1 data title, the value exactly as scanned, and for date AIs
//! the resolved date:
//!
//! ```json
//! {"elements":[
//!   {"ai":"01","title":"GTIN","value":"09501101530003"},
//!   {"ai":"17","title":"USE BY OR EXPIRY","value":"270100","date":"2027-01-31"},
//!   {"ai":"10","title":"BATCH/LOT","value":"L2710"}
//! ]}
//! ```

mod ai;
mod check_digit;
mod date;
mod dictionary;
mod digital_link;
mod element_string;
mod error;
mod lint;
mod measure;
mod rules;
mod separators;
#[cfg(test)]
mod tests;

use std::fmt;

use chrono::NaiveDate;
use serde::{Serialize, Serializer};

pub use ai::Ai;
pub use check_digit::{gtin_check_digit, is_valid_gtin, normalize_gtin};
pub use error::Gs1Error;
pub use measure::WeightUnit;
pub use separators::{MAX_SUBSTITUTE_CHARS, normalize_separators, substitute_problem};

use element_string::{Ch, GS};

/// Longest input [`parse`] reads: the most a QR code carries (7,089
/// digits), so that no scan a 2D code can hold is refused for its length.
pub const MAX_INPUT_CHARS: usize = 7_089;

/// Symbology identifiers of barcodes whose data is a GS1 element string.
const GS1_SYMBOLOGIES: &[&str] = &["]C1", "]d2", "]Q3", "]e0", "]J1"];

/// Symbology identifiers of the 2D codes' plain-data modes, which carry a
/// GS1 Digital Link (QR Code, Data Matrix, DotCode): the ones GS1's Syntax
/// Engine reads a link behind. A link behind any other identifier (an
/// EAN-13, a QR code with ECI) is refused.
const LINK_SYMBOLOGIES: &[&str] = &["]Q1", "]d1", "]J0"];

/// Reads a scan in any of the forms the module documentation lists.
/// `today` anchors the century of two-digit years.
///
/// ```
/// use chrono::NaiveDate;
/// use pyck_vocab::gs1::parse;
///
/// let today = NaiveDate::from_ymd_opt(2026, 3, 1).unwrap();
/// let gs1 = parse("(01)09501101530003(17)270120(10)L2710", today).unwrap();
/// assert_eq!(gs1.gtin(), Some("09501101530003"));
/// assert_eq!(gs1.expiry(), NaiveDate::from_ymd_opt(2027, 1, 20));
/// assert_eq!(gs1.lot(), Some("L2710"));
///
/// // The same as a GS1-128 scanner sends it: lot last, so no GS needed.
/// let raw = parse("]C101095011015300031727012010L2710", today);
/// assert_eq!(raw.unwrap(), gs1);
/// ```
pub fn parse(input: &str, today: NaiveDate) -> Result<Gs1, Gs1Error> {
    if input.chars().nth(MAX_INPUT_CHARS).is_some() {
        return Err(Gs1Error::TooLong);
    }
    let chars = element_string::tokenize(input);
    // Trim the scanner's Enter and any stray blanks.
    let start = chars
        .iter()
        .position(|ch| !ch.c.is_whitespace())
        .unwrap_or(chars.len());
    let end = chars
        .iter()
        .rposition(|ch| !ch.c.is_whitespace())
        .map_or(start, |i| i + 1);
    let mut chars = &chars[start..end];

    // A symbology identifier: `]`, a letter, a digit (AIM ISO/IEC 15424).
    let mut symbology = None;
    if let [Ch { c: ']', .. }, kind, modifier, rest @ ..] = chars
        && kind.c.is_ascii_alphabetic()
        && modifier.c.is_ascii_alphanumeric()
    {
        symbology = Some(format!("]{}{}", kind.c, modifier.c));
        chars = rest;
    }

    let text: String = chars.iter().map(|ch| ch.c).collect();
    let element_string_symbology = symbology
        .as_deref()
        .is_some_and(|s| GS1_SYMBOLOGIES.contains(&s));
    let elements = if digital_link::is_web_address(&text) {
        if let Some(symbology) = symbology {
            if element_string_symbology {
                return Err(Gs1Error::LinkInElementStringSymbology { symbology });
            }
            if !LINK_SYMBOLOGIES.contains(&symbology.as_str()) {
                return Err(Gs1Error::NotGs1 { symbology });
            }
        }
        digital_link::parse(&text, today)?
    } else {
        if let Some(symbology) = symbology.filter(|_| !element_string_symbology) {
            return Err(Gs1Error::NotGs1 { symbology });
        }
        // A leading FNC1 is how GS1 symbols start; skip it and any like it.
        let first = chars.iter().position(|ch| ch.c != GS);
        match first.map(|i| &chars[i..]) {
            None => return Err(Gs1Error::Empty),
            Some(rest @ [Ch { c: '(', .. }, ..]) => element_string::parse_bracketed(rest, today)?,
            Some(rest) => element_string::parse_raw(rest, today)?,
        }
    };
    if elements.is_empty() {
        return Err(Gs1Error::Empty);
    }
    let elements = dedupe(elements)?;
    rules::check(&elements)?;
    Ok(Gs1 { elements })
}

/// What a scan that is no location, SKU or GTIN of this device means as
/// GS1 data: `None` when it is not GS1 data at all, else the parse.
///
/// A scan marked as GS1 ([`looks_like_gs1`]: brackets, a GS1 symbology
/// identifier, an FNC1, a Digital Link) is GS1 data, and an error in it
/// is worth showing. A bare string of digits and letters (what a scanner
/// set up without symbology identifiers sends for a GS1-128 label) is GS1
/// data only if it reads as a whole, every AI known, every check digit,
/// date and pair rule holding; otherwise it is some other code and `None`.
/// An EAN-13 or EAN-8 with its symbology identifier (`]E0…`, `]E4…`) reads
/// as its GTIN in AI (01).
/// Callers ask this after their location, SKU and GTIN look-ups, so that a
/// bin or SKU that happens to read as an element string stays what it is.
pub fn read_scan(input: &str, today: NaiveDate) -> Option<Result<Gs1, Gs1Error>> {
    if looks_like_gs1(input) {
        return Some(parse(input, today));
    }
    let bare = input.trim();
    // An EAN/UPC read with its symbology identifier (`]E0` and 13 digits,
    // `]E4` and 8): a GTIN, the same as AI (01) padded to 14 digits.
    let ean = bare
        .strip_prefix("]E0")
        .filter(|d| d.len() == 13)
        .or_else(|| bare.strip_prefix("]E4").filter(|d| d.len() == 8));
    if let Some(gtin) = ean.and_then(normalize_gtin) {
        return Some(Element::new("01", &gtin, today).map(|e| Gs1 { elements: vec![e] }));
    }
    let starts_with_ai = bare.len() >= 2 && bare.as_bytes()[..2].iter().all(u8::is_ascii_digit);
    if !starts_with_ai {
        return None;
    }
    parse(bare, today).ok().map(Ok)
}

/// Whether a scan should be read as GS1 data rather than as a plain code:
/// it starts with `(` and a digit or with a GS1 symbology identifier,
/// contains an FNC1 (GS, `<GS>` or `␝`), or is a web address with a `/00/`,
/// `/01/` or `/414/` path segment. Cheap, and says nothing about validity.
/// A bare EAN-13 is *not* GS1 data by this test; use [`normalize_gtin`].
pub fn looks_like_gs1(input: &str) -> bool {
    let s = input.trim();
    let mut chars = s.chars();
    let bracketed = chars.next() == Some('(') && chars.next().is_some_and(|c| c.is_ascii_digit());
    let symbology = GS1_SYMBOLOGIES.iter().any(|id| s.starts_with(id));
    let separator = s.contains([GS, '\u{241D}']) || s.to_ascii_lowercase().contains("<gs>");
    // A Digital Link may follow a plain-QR identifier such as `]Q1`.
    let url = s
        .strip_prefix(']')
        .and_then(|rest| rest.get(2..))
        .unwrap_or(s);
    // Any path segment that is a Digital Link key (`/01/`, `/00/`,
    // `/414/`, `/8004/`, …) makes an address a link to read.
    let digital_link = digital_link::is_web_address(url)
        && url
            .split(['/', '?', '#'])
            .any(|segment| Ai::lookup(segment).is_some_and(Ai::is_primary_key));
    bracketed || symbology || separator || digital_link
}

/// GS1 forbids repeating an AI with a different value; an identical repeat
/// (some labels print the GTIN in two symbols scanned together) is dropped.
fn dedupe(elements: Vec<Element>) -> Result<Vec<Element>, Gs1Error> {
    let mut kept: Vec<Element> = Vec::with_capacity(elements.len());
    for element in elements {
        match kept.iter().find(|k| k.ai == element.ai) {
            Some(k) if k.value == element.value => {}
            Some(k) => {
                return Err(Gs1Error::Conflict {
                    ai: element.ai,
                    first: k.value.clone(),
                    second: element.value,
                });
            }
            None => kept.push(element),
        }
    }
    Ok(kept)
}

/// A parsed GS1 scan: its elements in scan order, each AI at most once.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct Gs1 {
    pub elements: Vec<Element>,
}

impl Gs1 {
    /// The element with this AI code (`"10"`, `"3103"`), if scanned.
    pub fn get(&self, ai: &str) -> Option<&Element> {
        self.elements.iter().find(|e| e.ai.code() == ai)
    }

    fn value(&self, ai: &str) -> Option<&str> {
        self.get(ai).map(Element::value)
    }

    fn date(&self, ai: &str) -> Option<NaiveDate> {
        self.get(ai).and_then(Element::date)
    }

    /// AI (01): the GTIN of the item itself, 14 digits.
    pub fn gtin(&self) -> Option<&str> {
        self.value("01")
    }

    /// AI (02): the GTIN of the items inside a logistic unit (a pallet
    /// label's "content"), 14 digits. Comes with a count in AI (37).
    pub fn content_gtin(&self) -> Option<&str> {
        self.value("02")
    }

    /// AI (00): the SSCC of a logistic unit (pallet, parcel), 18 digits.
    pub fn sscc(&self) -> Option<&str> {
        self.value("00")
    }

    /// AI (10): batch or lot number.
    pub fn lot(&self) -> Option<&str> {
        self.value("10")
    }

    /// AI (21): serial number.
    pub fn serial(&self) -> Option<&str> {
        self.value("21")
    }

    /// AI (17): use-by or expiry date.
    pub fn expiry(&self) -> Option<NaiveDate> {
        self.date("17")
    }

    /// AI (15): best-before date.
    pub fn best_before(&self) -> Option<NaiveDate> {
        self.date("15")
    }

    /// AI (11): production date.
    pub fn production_date(&self) -> Option<NaiveDate> {
        self.date("11")
    }

    /// How many trade items: AI (37), else AI (30).
    pub fn count(&self) -> Option<u32> {
        self.value("37")
            .or_else(|| self.value("30"))
            .and_then(|v| v.parse().ok())
    }

    /// AI (3100)–(3105): net weight in kilograms, the AI's last digit being
    /// the number of decimals (`3103` `000189` is 0.189 kg).
    pub fn net_weight_kg(&self) -> Option<f64> {
        self.elements.iter().find_map(|e| {
            e.ai.code().strip_prefix("310")?;
            let (raw, decimals) = e.decimal()?;
            let raw = u32::try_from(raw).ok()?;
            Some(f64::from(raw) / 10f64.powi(i32::try_from(decimals).ok()?))
        })
    }

    /// The bracketed human-readable form, `(01)09501101530003(10)L2710`.
    /// [`parse`] reads it back to the same elements.
    pub fn render_bracketed(&self) -> String {
        element_string::render_bracketed(&self.elements)
    }

    /// The raw form a scanner sends, without symbology identifier or
    /// leading FNC1: AIs and values back to back, with a GS (`\x1d`) after
    /// each variable-length value except the last (strictly: after each AI
    /// outside GS1's predefined-length table, see
    /// [`Ai::needs_separator`]). [`parse`] reads it back to the same
    /// elements.
    pub fn render_raw(&self) -> String {
        element_string::render_raw(&self.elements)
    }
}

/// Shows the bracketed form.
impl fmt::Display for Gs1 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render_bracketed())
    }
}

/// One AI and its value, known to be valid for that AI. Build one with
/// [`Element::new`] or get it from [`parse`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Element {
    ai: Ai,
    value: String,
    date: Option<NaiveDate>,
}

impl Element {
    /// Checks `value` against AI `ai` (length, characters, check digit,
    /// date) the way [`parse`] does. `today` anchors two-digit years.
    pub fn new(ai: &str, value: &str, today: NaiveDate) -> Result<Self, Gs1Error> {
        let ai = Ai::lookup(ai).ok_or_else(|| Gs1Error::UnknownAiCode { ai: ai.to_owned() })?;
        Self::new_with_ai(ai, value, today)
    }

    fn new_with_ai(ai: Ai, value: &str, today: NaiveDate) -> Result<Self, Gs1Error> {
        let date = ai.validate(value, today)?;
        Ok(Self {
            ai,
            value: value.to_owned(),
            date,
        })
    }

    /// The application identifier.
    pub fn ai(&self) -> Ai {
        self.ai
    }

    /// The value exactly as scanned (a date stays `YYMMDD`, a GTIN keeps
    /// its leading zeros).
    pub fn value(&self) -> &str {
        &self.value
    }

    /// For AIs whose value starts with a `YYMMDD` date, that date.
    pub fn date(&self) -> Option<NaiveDate> {
        self.date
    }

    /// For measures and amounts (AIs 31nn–36nn, 39nn), the number as an
    /// integer and how many of its last digits are decimals: `3103`
    /// `000189` is `(189, 3)`, 0.189. An amount with a currency (391n,
    /// 393n) is the digits after the three-digit ISO 4217 code.
    pub fn decimal(&self) -> Option<(u64, u32)> {
        let decimals = self.ai.decimals()?;
        let digits = match self.ai.def().parts.as_slice() {
            [_currency, _amount] => self.value.get(3..)?,
            _ => &self.value,
        };
        Some((digits.parse().ok()?, decimals))
    }
}

/// `189` with 3 decimals as `"0.189"`: exact, no floating point.
fn decimal_text(raw: u64, decimals: u32) -> String {
    let digits = format!("{raw:0>width$}", width = decimals as usize + 1);
    let (whole, fraction) = digits.split_at(digits.len() - decimals as usize);
    if fraction.is_empty() {
        whole.to_owned()
    } else {
        format!("{whole}.{fraction}")
    }
}

/// `{"ai":"17","title":"USE BY OR EXPIRY","value":"270120","date":"2027-01-20"}`;
/// `date` only for date AIs.
impl Serialize for Element {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Json<'a> {
            ai: &'static str,
            title: &'static str,
            value: &'a str,
            #[serde(skip_serializing_if = "Option::is_none")]
            date: Option<NaiveDate>,
            #[serde(skip_serializing_if = "Option::is_none")]
            decimal: Option<String>,
        }
        Json {
            ai: self.ai.code(),
            title: self.ai.title(),
            value: &self.value,
            date: self.date,
            decimal: self.decimal().map(|(raw, d)| decimal_text(raw, d)),
        }
        .serialize(serializer)
    }
}
