//! The table of application identifiers this parser knows, and the checks a
//! value must pass for its AI.
//!
//! Everything about an AI lives in one row of [`TABLE`]; the parsers and
//! renderers only ask the row questions (how long, which characters, does a
//! separator follow), so supporting another AI is one more row.

use std::fmt;

use chrono::NaiveDate;
use serde::{Serialize, Serializer};

use super::Gs1Error;
use super::check_digit::gtin_check_digit;
use super::date;

/// Which characters a value may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) enum Charset {
    /// `0`–`9` only.
    Numeric,
    /// GS1 AI encodable character set 82 (see [`is_cset82`]).
    Cset82,
}

/// How long a value is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) enum Length {
    /// Exactly this many characters.
    Fixed(usize),
    /// One up to this many characters.
    UpTo(usize),
}

/// What a value means beyond its characters, i.e. the extra check it gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) enum Content {
    /// Nothing more to check.
    Plain,
    /// The last digit is a GS1 mod-10 check digit over the others.
    CheckDigit,
    /// `YYMMDD`, `DD` may be `00` (see [`super::date`]).
    Date,
}

/// One row of the AI table.
#[derive(Debug, PartialEq, Eq, Hash)]
pub(super) struct AiDef {
    /// The AI itself, 2 to 4 digits.
    pub(super) code: &'static str,
    /// The GS1 data title, as printed under barcodes.
    pub(super) title: &'static str,
    /// Plain words for error messages ("expiry", "batch/lot").
    pub(super) name: &'static str,
    pub(super) charset: Charset,
    pub(super) length: Length,
    pub(super) content: Content,
    /// Whether an FNC1 (GS) must follow the value when another element
    /// comes after it. True for every AI whose first two digits are not in
    /// the predefined-length table (General Specifications 7.8.5), even a
    /// fixed-length one, because a parser that does not know the AI must
    /// still be able to find the end of the value.
    pub(super) fnc1: bool,
}

use Charset::{Cset82, Numeric};
use Content::{CheckDigit, Date, Plain};
use Length::{Fixed, UpTo};

const fn row(
    code: &'static str,
    title: &'static str,
    name: &'static str,
    charset: Charset,
    length: Length,
    content: Content,
    fnc1: bool,
) -> AiDef {
    AiDef {
        code,
        title,
        name,
        charset,
        length,
        content,
        fnc1,
    }
}

/// The supported AIs. Like the full GS1 table, no code here is a prefix of
/// another, so reading 2, 3 or 4 digits finds at most one row.
#[rustfmt::skip]
pub(super) static TABLE: &[AiDef] = &[
    row("00",   "SSCC",                   "SSCC",                   Numeric, Fixed(18), CheckDigit, false),
    row("01",   "GTIN",                   "GTIN",                   Numeric, Fixed(14), CheckDigit, false),
    row("02",   "CONTENT",                "contained GTIN",         Numeric, Fixed(14), CheckDigit, false),
    row("10",   "BATCH/LOT",              "batch/lot",              Cset82,  UpTo(20),  Plain,      true),
    row("11",   "PROD DATE",              "production date",        Numeric, Fixed(6),  Date,       false),
    row("12",   "DUE DATE",               "due date",               Numeric, Fixed(6),  Date,       false),
    row("13",   "PACK DATE",              "packaging date",         Numeric, Fixed(6),  Date,       false),
    row("15",   "BEST BEFORE or BEST BY", "best before",            Numeric, Fixed(6),  Date,       false),
    row("16",   "SELL BY",                "sell by",                Numeric, Fixed(6),  Date,       false),
    row("17",   "USE BY OR EXPIRY",       "expiry",                 Numeric, Fixed(6),  Date,       false),
    row("20",   "VARIANT",                "variant",                Numeric, Fixed(2),  Plain,      false),
    row("21",   "SERIAL",                 "serial",                 Cset82,  UpTo(20),  Plain,      true),
    row("240",  "ADDITIONAL ID",          "additional product id",  Cset82,  UpTo(30),  Plain,      true),
    row("30",   "VAR. COUNT",             "variable count",         Numeric, UpTo(8),   Plain,      true),
    // Net weight in kg; the fourth digit is the number of decimals. Common
    // on variable-measure labels (meat, cheese), so worth knowing.
    row("3100", "NET WEIGHT (kg)",        "net weight (kg)",        Numeric, Fixed(6),  Plain,      false),
    row("3101", "NET WEIGHT (kg)",        "net weight (kg)",        Numeric, Fixed(6),  Plain,      false),
    row("3102", "NET WEIGHT (kg)",        "net weight (kg)",        Numeric, Fixed(6),  Plain,      false),
    row("3103", "NET WEIGHT (kg)",        "net weight (kg)",        Numeric, Fixed(6),  Plain,      false),
    row("3104", "NET WEIGHT (kg)",        "net weight (kg)",        Numeric, Fixed(6),  Plain,      false),
    row("3105", "NET WEIGHT (kg)",        "net weight (kg)",        Numeric, Fixed(6),  Plain,      false),
    row("37",   "COUNT",                  "count",                  Numeric, UpTo(8),   Plain,      true),
    row("400",  "ORDER NUMBER",           "customer order number",  Cset82,  UpTo(30),  Plain,      true),
    row("410",  "SHIP TO LOC",            "ship-to GLN",            Numeric, Fixed(13), CheckDigit, false),
    row("414",  "LOC No.",                "location GLN",           Numeric, Fixed(13), CheckDigit, false),
];

/// How many digits a GS1 AI starting with these two digits has. Only used
/// to quote an unknown AI in an error message, so an approximation of the
/// GS1 table is enough.
pub(super) fn ai_length_guess(first_two: &str) -> usize {
    match first_two {
        "23" | "24" | "25" | "40" | "41" | "42" => 3,
        "31" | "32" | "33" | "34" | "35" | "36" | "39" | "43" | "70" | "71" | "72" | "80"
        | "81" | "82" => 4,
        _ => 2,
    }
}

/// Whether `c` is in GS1 AI encodable character set 82: digits, letters,
/// and `! " % & ' ( ) * + , - . / : ; < = > ? _`. No space, no `#`, no
/// `\`, nothing outside ASCII.
pub(super) fn is_cset82(c: char) -> bool {
    c.is_ascii_alphanumeric() || "!\"%&'()*+,-./:;<=>?_".contains(c)
}

/// An application identifier this parser knows: a handle on its row of the
/// table. Serializes as its code, e.g. `"01"`. Displays as `AI (01) GTIN`,
/// the form error messages use.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Ai(&'static AiDef);

impl Ai {
    /// The supported AI with this code (`"01"`, `"3103"`), if any.
    pub fn lookup(code: &str) -> Option<Ai> {
        TABLE.iter().find(|def| def.code == code).map(Ai)
    }

    /// Every supported AI, in table order.
    pub fn all() -> impl Iterator<Item = Ai> {
        TABLE.iter().map(Ai)
    }

    /// The AI's digits, e.g. `"17"`.
    pub fn code(self) -> &'static str {
        self.0.code
    }

    /// The GS1 data title, e.g. `"USE BY OR EXPIRY"`.
    pub fn title(self) -> &'static str {
        self.0.title
    }

    /// Plain words for people, e.g. `"expiry"`.
    pub fn name(self) -> &'static str {
        self.0.name
    }

    /// Whether the value is digits only.
    pub fn is_numeric(self) -> bool {
        self.0.charset == Numeric
    }

    /// Whether the value always has [`Ai::max_length`] characters.
    pub fn is_fixed_length(self) -> bool {
        matches!(self.0.length, Fixed(_))
    }

    /// The longest value allowed (the only length, for fixed-length AIs).
    pub fn max_length(self) -> usize {
        match self.0.length {
            Fixed(n) | UpTo(n) => n,
        }
    }

    /// Whether the value is a `YYMMDD` date.
    pub fn is_date(self) -> bool {
        self.0.content == Date
    }

    /// Whether an FNC1 (GS) must follow the value in a raw element string
    /// when another element comes after it.
    pub fn needs_separator(self) -> bool {
        self.0.fnc1
    }

    #[cfg(test)]
    pub(super) fn def(self) -> &'static AiDef {
        self.0
    }

    /// Checks `value` against this AI's format and meaning, and resolves it
    /// to a date for date AIs.
    pub(super) fn validate(
        self,
        value: &str,
        today: NaiveDate,
    ) -> Result<Option<NaiveDate>, Gs1Error> {
        let def = self.0;
        // Characters first: "only digits are allowed, found 'O'" explains a
        // misread better than a length complaint would.
        for c in value.chars() {
            let ok = match def.charset {
                Numeric => c.is_ascii_digit(),
                Cset82 => is_cset82(c),
            };
            if !ok {
                return Err(match def.charset {
                    Numeric => Gs1Error::NotNumeric { ai: self, found: c },
                    Cset82 => Gs1Error::InvalidCharacter { ai: self, found: c },
                });
            }
        }
        // From here on the value is ASCII, so bytes are characters.
        let len = value.len();
        if len == 0 {
            return Err(Gs1Error::EmptyValue { ai: self });
        }
        match def.length {
            Fixed(expected) if len != expected => {
                return Err(Gs1Error::WrongLength {
                    ai: self,
                    expected,
                    found: len,
                });
            }
            UpTo(max) if len > max => return Err(Gs1Error::ValueTooLong { ai: self, max }),
            _ => {}
        }
        match def.content {
            Plain => Ok(None),
            CheckDigit => {
                let (body, last) = value.split_at(len - 1);
                let found = last.bytes().next().map_or(0, |b| b - b'0');
                match gtin_check_digit(body) {
                    Some(expected) if expected == found => Ok(None),
                    Some(expected) => Err(Gs1Error::CheckDigit {
                        ai: self,
                        found,
                        expected,
                    }),
                    // Unreachable: the body is one or more digits.
                    None => Err(Gs1Error::EmptyValue { ai: self }),
                }
            }
            Date => {
                date::resolve_yymmdd(value, today)
                    .map(Some)
                    .ok_or_else(|| Gs1Error::InvalidDate {
                        ai: self,
                        value: value.to_owned(),
                    })
            }
        }
    }
}

impl fmt::Display for Ai {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AI ({}) {}", self.0.code, self.0.name)
    }
}

impl fmt::Debug for Ai {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Ai({})", self.0.code)
    }
}

impl Serialize for Ai {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.0.code)
    }
}
