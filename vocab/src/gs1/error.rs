//! Why a scan is not a usable GS1 barcode.

use thiserror::Error;

use super::{Ai, MAX_INPUT_CHARS};

/// Why a scan could not be read as GS1 data. The messages are meant for the
/// person holding the scanner: they name the AI (as `AI (17) expiry`) and
/// say what was expected. Positions count characters of the scan as
/// received, from 1.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum Gs1Error {
    /// Nothing but blanks, separators or a symbology identifier.
    #[error("empty scan")]
    Empty,

    /// More than [`MAX_INPUT_CHARS`] characters: no GS1 barcode holds that
    /// much, so this is not a scan.
    #[error("scan is too long: more than {MAX_INPUT_CHARS} characters")]
    TooLong,

    /// A symbology identifier of a barcode type that carries no GS1 element
    /// string, e.g. `]C0` (plain Code 128).
    #[error("scanned a {symbology} barcode, which does not carry GS1 data")]
    NotGs1 {
        /// The identifier as scanned, e.g. `]C0`.
        symbology: String,
    },

    /// The scan's structure is broken at this point (a missing `)`, text
    /// where an AI should start).
    #[error("at position {position}: {problem}")]
    Syntax {
        position: usize,
        problem: &'static str,
    },

    /// The digits where an AI should start are not an AI this parser knows.
    /// Since the AI's length is unknown, so is where its value ends, and
    /// reading cannot go on.
    #[error("unknown application identifier at position {position}: \"{ai}\"")]
    UnknownAi { position: usize, ai: String },

    /// An AI given by itself (Digital Link path, [`super::Element::new`])
    /// that this parser does not know.
    #[error("unknown application identifier \"{ai}\"")]
    UnknownAiCode { ai: String },

    /// The AI is followed by no data.
    #[error("{ai}: no data")]
    EmptyValue { ai: Ai },

    /// A fixed-length value of the wrong length.
    #[error("{ai}: needs {expected} digits, got {found}")]
    WrongLength {
        ai: Ai,
        expected: usize,
        found: usize,
    },

    /// A value shorter than its AI allows (a component left out or cut).
    #[error("{ai}: needs at least {min} characters")]
    TooShort { ai: Ai, min: usize },

    /// A variable-length value over its maximum. In a raw scan this usually
    /// means the separator after it is missing.
    #[error("{ai}: longer than {max} characters")]
    ValueTooLong { ai: Ai, max: usize },

    /// A letter or symbol in a digits-only value.
    #[error("{ai}: only digits are allowed, found {found:?}")]
    NotNumeric { ai: Ai, found: char },

    /// A character outside GS1 character set 82 (spaces, `#`, accented
    /// letters, control characters).
    #[error("{ai}: the character {found:?} is not allowed")]
    InvalidCharacter { ai: Ai, found: char },

    /// A GTIN, SSCC or GLN whose check digit does not match.
    #[error("{ai}: check digit is {found}, expected {expected}")]
    CheckDigit { ai: Ai, found: u8, expected: u8 },

    /// A `YYMMDD` value that is no calendar date (month 13, 30 February).
    #[error("{ai}: {value} is not a real date")]
    InvalidDate { ai: Ai, value: String },

    /// A value that fails one of the GS1 Barcode Syntax Tests its AI
    /// names (a country code, a time, check characters).
    #[error("{ai}: {problem}")]
    Invalid { ai: Ai, problem: &'static str },

    /// A weighed case whose weight is not a whole number of the unit the
    /// item is stocked in (1.234 kg for an item counted in kg).
    #[error("{ai}: the weight is not a whole number of {unit}, the unit this item is stocked in")]
    WeightNotWhole { ai: Ai, unit: &'static str },

    /// Two AIs that GS1 forbids together (General Specifications 4.14.1),
    /// such as a GTIN (01) and a contained GTIN (02).
    #[error("{ai} may not appear together with {other}")]
    Excluded { ai: Ai, other: Ai },

    /// An AI without an AI it needs (General Specifications 4.14.2), such
    /// as a count (37) without a contained GTIN (02).
    #[error("{ai} needs {needs} in the same scan")]
    Requires {
        ai: Ai,
        /// The alternatives, e.g. `(01) or (02)`.
        needs: String,
    },

    /// Two FNC1 separators (GS) in a row inside an element string.
    #[error("two FNC1 separators in a row: an element is missing between them")]
    DoubledSeparator,

    /// A key without its optional serial component beside a digital
    /// signature (8030), which signs one instance.
    #[error("{ai} needs its serial component when a digital signature (8030) is given")]
    SignedKeyNotSerialised { ai: Ai },

    /// The same AI twice with different values: GS1 forbids it, and we
    /// could not tell which one is meant.
    #[error("{ai}: scanned twice with different values, {first} and {second}")]
    Conflict {
        ai: Ai,
        first: String,
        second: String,
    },

    /// A web address that is not a GS1 Digital Link we can read.
    #[error("not a GS1 Digital Link: {problem}")]
    DigitalLink { problem: &'static str },

    /// An AI in a Digital Link path where only the key's qualifiers may
    /// stand, in their order (GS1 Digital Link URI syntax 1.4).
    #[error(
        "not a GS1 Digital Link: {ai} cannot follow {key} in the path (only its qualifiers, in order; data attributes go in the query)"
    )]
    NotAQualifier { ai: Ai, key: Ai },

    /// An AI in a Digital Link query that the dictionary keeps out of
    /// queries.
    #[error("not a GS1 Digital Link: {ai} cannot be a query parameter")]
    NotAnAttribute { ai: Ai },

    /// A qualifier of the link's key given in the query: GS1 puts it in the
    /// path, after the key.
    #[error(
        "not a GS1 Digital Link: {ai} is a qualifier of {key} and belongs in the path, not the query"
    )]
    QualifierInQuery { ai: Ai, key: Ai },

    /// The same AI twice in one Digital Link.
    #[error("not a GS1 Digital Link: {ai} stands twice in the address")]
    RepeatedInLink { ai: Ai },

    /// A web address in a barcode type that carries only element strings
    /// (`]C1` GS1-128, `]e0` GS1 DataBar, and the GS1 modes of 2D codes).
    #[error(
        "a GS1 Digital Link cannot be carried in a {symbology} barcode, which holds element strings only"
    )]
    LinkInElementStringSymbology { symbology: String },
}
