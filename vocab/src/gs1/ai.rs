//! Application identifiers: a handle on one AI of the GS1 Barcode Syntax
//! Dictionary ([`super::dictionary`]) and the checks a value must pass for
//! it.
//!
//! Nothing about an AI is written here by hand: its components, lengths,
//! character sets, linters, pair rules and Digital Link role all come from
//! the dictionary's data file. The only rule coded here is one the
//! dictionary does not state per AI: for measures and amounts (AIs 31nn to
//! 36nn and 39nn) the last digit of the AI is the number of decimals.

use std::fmt;
use std::sync::LazyLock;

use chrono::NaiveDate;
use serde::{Serialize, Serializer};

use super::Gs1Error;
use super::date;
use super::dictionary::{self, AiDef, Cset, Dictionary};
use super::lint::{self, Lint};

/// The dictionary, read on first use.
pub(super) static DICTIONARY: LazyLock<Dictionary> = LazyLock::new(dictionary::load);

/// Whether `c` is in GS1 AI encodable character set 82: digits, letters,
/// and `! " % & ' ( ) * + , - . / : ; < = > ? _`. No space, no `#`, no
/// `\`, nothing outside ASCII.
pub(super) fn is_cset82(c: char) -> bool {
    c.is_ascii_alphanumeric() || "!\"%&'()*+,-./:;<=>?_".contains(c)
}

/// Whether `c` may stand in a component of character set `cset`.
/// Character set 64 also allows `=` padding (General Specifications 7.11).
fn allowed(cset: Cset, c: char) -> bool {
    match cset {
        Cset::Numeric => c.is_ascii_digit(),
        Cset::Cset82 => is_cset82(c),
        Cset::Cset39 => c.is_ascii_digit() || c.is_ascii_uppercase() || "#-/".contains(c),
        Cset::Cset64 => c.is_ascii_alphanumeric() || "-_=".contains(c),
    }
}

/// Character set 64 (file-safe base64) pads with `=`: only at the end, at
/// most two, and only to fill a group of three characters.
pub(super) fn cset64_padding_ok(text: &str) -> bool {
    let data = text.trim_end_matches('=');
    let pads = text.len() - data.len();
    !data.contains('=') && pads <= 2 && (pads == 0 || text.len().is_multiple_of(3))
}

/// The number of digits of a GS1 AI starting with these two digits, as the
/// dictionary has it (every AI with the same first two digits has the same
/// length); used to quote an unassigned AI in an error message.
pub(super) fn ai_length_for(first_two: &str) -> usize {
    DICTIONARY
        .ais
        .iter()
        .find(|def| def.code.starts_with(first_two))
        .map_or(2, |def| def.code.len())
}

/// An application identifier of the GS1 table: a handle on its entry in
/// the syntax dictionary. Serializes as its code, e.g. `"01"`. Displays as
/// `AI (01) GTIN`, the form error messages use.
#[derive(Clone, Copy)]
pub struct Ai(&'static AiDef);

impl PartialEq for Ai {
    fn eq(&self, other: &Self) -> bool {
        std::ptr::eq(self.0, other.0)
    }
}

impl Eq for Ai {}

impl std::hash::Hash for Ai {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.0.code.hash(state);
    }
}

impl Ai {
    /// The AI with this code (`"01"`, `"3103"`), if GS1 has assigned it.
    pub fn lookup(code: &str) -> Option<Ai> {
        let dict: &'static Dictionary = &DICTIONARY;
        dict.by_code.get(code).map(|&i| Ai(&dict.ais[i]))
    }

    /// Every AI of the table, in the dictionary's order.
    pub fn all() -> impl Iterator<Item = Ai> {
        let dict: &'static Dictionary = &DICTIONARY;
        dict.ais.iter().map(Ai)
    }

    /// The AI's digits, e.g. `"17"`.
    pub fn code(self) -> &'static str {
        &self.0.code
    }

    /// The GS1 data title, e.g. `"USE BY OR EXPIRY"`.
    pub fn title(self) -> &'static str {
        &self.0.title
    }

    /// Words for people: the data title.
    pub fn name(self) -> &'static str {
        self.title()
    }

    /// Whether the value is digits only.
    pub fn is_numeric(self) -> bool {
        self.0.parts.iter().all(|p| p.cset == Cset::Numeric)
    }

    /// Whether the value always has [`Ai::max_length`] characters.
    pub fn is_fixed_length(self) -> bool {
        self.0.parts.iter().all(|p| p.min == p.max && !p.optional)
    }

    /// The longest value allowed (the only length, for fixed-length AIs).
    pub fn max_length(self) -> usize {
        self.0.parts.iter().map(|p| p.max).sum()
    }

    /// The shortest value allowed.
    pub fn min_length(self) -> usize {
        self.0
            .parts
            .iter()
            .filter(|p| !p.optional)
            .map(|p| p.min)
            .sum()
    }

    /// Whether the value starts with a `YYMMDD` date, which
    /// [`super::Element::date`] then resolves.
    pub fn is_date(self) -> bool {
        self.0
            .parts
            .first()
            .is_some_and(|p| p.min == 6 && p.linters.iter().any(|l| l == "yymmdd" || l == "yymmd0"))
    }

    /// For measures and amounts (AIs 31nn–36nn, 39nn), how many of the
    /// value's last digits are decimals: the AI's fourth digit.
    pub fn decimals(self) -> Option<u32> {
        let code = self.code();
        let measure =
            code.len() == 4 && matches!(&code[..2], "31" | "32" | "33" | "34" | "35" | "36" | "39");
        measure.then(|| code[3..].parse().ok()).flatten()
    }

    /// Whether an FNC1 (GS) must follow the value in a raw element string
    /// when another element comes after it.
    pub fn needs_separator(self) -> bool {
        self.0.fnc1
    }

    /// Whether this AI is a GS1 Digital Link primary key (`01`, `00`,
    /// `414`, …).
    pub fn is_primary_key(self) -> bool {
        self.0.dl_qualifiers.is_some()
    }

    pub(super) fn def(self) -> &'static AiDef {
        self.0
    }

    /// Checks `value` against this AI's components (character set, length,
    /// linters), and resolves it to a date where it starts with one.
    pub(super) fn validate(
        self,
        value: &str,
        today: NaiveDate,
    ) -> Result<Option<NaiveDate>, Gs1Error> {
        let def = self.0;
        if value.is_empty() {
            return Err(Gs1Error::EmptyValue { ai: self });
        }
        // Characters first: "only digits are allowed, found 'O'" explains a
        // misread better than a length complaint would. A character beyond
        // the last component is judged by the last component's set.
        let spans = self.spans(value.chars().count());
        for (i, c) in value.chars().enumerate() {
            let part = spans
                .iter()
                .find(|(_, range)| range.contains(&i))
                .or(spans.last())
                .map(|(p, _)| *p);
            let Some(part) = part else { continue };
            let cset = def.parts[part].cset;
            if !allowed(cset, c) {
                return Err(match cset {
                    Cset::Numeric => Gs1Error::NotNumeric { ai: self, found: c },
                    _ => Gs1Error::InvalidCharacter { ai: self, found: c },
                });
            }
        }
        // From here on the value is ASCII, so bytes are characters.
        let len = value.len();
        let (min, max) = (self.min_length(), self.max_length());
        if self.is_fixed_length() && len != max {
            return Err(Gs1Error::WrongLength {
                ai: self,
                expected: max,
                found: len,
            });
        }
        if len > max {
            return Err(Gs1Error::ValueTooLong { ai: self, max });
        }
        if len < min || spans.iter().any(|(p, r)| r.len() < def.parts[*p].min) {
            return Err(Gs1Error::TooShort { ai: self, min });
        }
        for (p, range) in &spans {
            let text = &value[range.clone()];
            if def.parts[*p].cset == Cset::Cset64 && !cset64_padding_ok(text) {
                return Err(Gs1Error::Invalid {
                    ai: self,
                    problem: "= is padding: at most two, at the end, filling a group of three",
                });
            }
            for linter in &def.parts[*p].linters {
                lint::run(&DICTIONARY, linter, text, today).map_err(|l| match l {
                    Lint::CheckDigit(found, expected) => Gs1Error::CheckDigit {
                        ai: self,
                        found,
                        expected,
                    },
                    Lint::Date => Gs1Error::InvalidDate {
                        ai: self,
                        value: text.to_owned(),
                    },
                    Lint::Problem(problem) => Gs1Error::Invalid { ai: self, problem },
                })?;
            }
        }
        if self.is_date() {
            return Ok(date::resolve_yymmdd(&value[..6], today));
        }
        Ok(None)
    }

    /// Where each component lies in a value of `len` characters: each takes
    /// as many characters as it may, an optional one none when nothing is
    /// left (the reading of the GS1 Barcode Syntax Engine).
    fn spans(self, len: usize) -> Vec<(usize, std::ops::Range<usize>)> {
        let mut out = Vec::new();
        let mut at = 0;
        for (i, part) in self.0.parts.iter().enumerate() {
            let left = len - at;
            if left == 0 && part.optional {
                break;
            }
            let take = left.min(part.max);
            out.push((i, at..at + take));
            at += take;
        }
        out
    }
}

impl fmt::Display for Ai {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AI ({}) {}", self.0.code, self.0.title)
    }
}

impl fmt::Debug for Ai {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Ai({})", self.0.code)
    }
}

impl Serialize for Ai {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0.code)
    }
}
