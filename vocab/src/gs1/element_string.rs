//! Element strings: the bracketed human-readable form and the raw form with
//! FNC1 separators, both read and written.

use chrono::NaiveDate;

use super::ai::ai_length_for;
use super::{Ai, Element, Gs1Error};

/// FNC1 as keyboard-wedge scanners send it: ASCII GS (group separator).
pub(super) const GS: char = '\x1d';

/// One character of the scan and its position in the input as received
/// (1-based), so that errors can point at it after separators have been
/// normalised and prefixes stripped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Ch {
    pub(super) c: char,
    pub(super) pos: usize,
}

/// The characters of `input` with every spelling of FNC1 turned into [`GS`]:
/// GS itself, the text `<GS>` (any case; some scanners and on-screen
/// keyboards emit it), and `␝` (U+241D, the printable symbol for GS).
pub(super) fn tokenize(input: &str) -> Vec<Ch> {
    let mut out = Vec::with_capacity(input.len());
    let mut skip = 0;
    for (index, (byte, c)) in input.char_indices().enumerate() {
        if skip > 0 {
            skip -= 1;
            continue;
        }
        let pos = index + 1;
        let is_gs_text = c == '<'
            && input
                .get(byte..byte + 4)
                .is_some_and(|s| s.eq_ignore_ascii_case("<gs>"));
        if is_gs_text {
            skip = 3;
            out.push(Ch { c: GS, pos });
        } else if c == '\u{241D}' {
            out.push(Ch { c: GS, pos });
        } else {
            out.push(Ch { c, pos });
        }
    }
    out
}

/// Whether the characters right after a `(` make it the start of a
/// bracketed AI: 2 to 4 digits, then `)`. Shared by the reader and the
/// writer, so that what one escapes is exactly what the other would misread.
fn opens_ai(after_paren: impl Iterator<Item = char>) -> bool {
    let mut digits = 0;
    for c in after_paren {
        match c {
            '0'..='9' if digits < 4 => digits += 1,
            ')' => return digits >= 2,
            _ => return false,
        }
    }
    false
}

/// Reads `(01)09501101530003(17)270120(10)L2710`.
///
/// A variable-length value runs to the next `(` that opens an AI, to a GS,
/// or to the end. `\(` stands for a `(` inside a value (the GS1 Barcode
/// Syntax Engine's convention); a `(` that is not followed by digits and `)`
/// is taken as data without the backslash. Blanks between elements and
/// separators anywhere between elements are tolerated.
pub(super) fn parse_bracketed(chars: &[Ch], today: NaiveDate) -> Result<Vec<Element>, Gs1Error> {
    let end_pos = chars.last().map_or(1, |ch| ch.pos + 1);
    let pos_at = |i: usize| chars.get(i).map_or(end_pos, |ch| ch.pos);
    let mut elements = Vec::new();
    let mut i = 0;
    loop {
        while chars
            .get(i)
            .is_some_and(|ch| ch.c == GS || ch.c.is_whitespace())
        {
            i += 1;
        }
        let Some(open) = chars.get(i) else { break };
        if open.c != '(' {
            return Err(Gs1Error::Syntax {
                position: open.pos,
                problem: "expected '(' and an application identifier",
            });
        }
        let start = i + 1;
        let mut j = start;
        while chars.get(j).is_some_and(|ch| ch.c.is_ascii_digit()) {
            j += 1;
        }
        if chars.get(j).is_none_or(|ch| ch.c != ')') {
            return Err(Gs1Error::Syntax {
                position: pos_at(j),
                problem: "expected digits and ')' after '('",
            });
        }
        let code: String = chars[start..j].iter().map(|ch| ch.c).collect();
        let ai = Ai::lookup(&code).ok_or_else(|| Gs1Error::UnknownAi {
            position: pos_at(start),
            ai: code,
        })?;
        i = j + 1;
        while chars.get(i).is_some_and(|ch| ch.c == ' ') {
            i += 1;
        }

        let mut value = String::new();
        while let Some(ch) = chars.get(i) {
            let next = chars.get(i + 1).map(|n| n.c);
            match ch.c {
                GS => break,
                '(' if opens_ai(chars[i + 1..].iter().map(|n| n.c)) => break,
                '\\' if matches!(next, Some('(' | ')')) => {
                    value.extend(next);
                    i += 2;
                    continue;
                }
                c => value.push(c),
            }
            i += 1;
        }
        // Blanks cannot be data (they are not in character set 82); they
        // are a person's spacing before the next `(`.
        let value = value.trim_end();
        elements.push(Element::new_with_ai(ai, value, today)?);
    }
    Ok(elements)
}

/// Reads a raw element string such as `01095011015300031727012010L2710`:
/// AI, value, AI, value, …, with a GS after every variable-length value
/// that is not last.
///
/// An AI of the predefined-length table has its value cut at its length
/// (a GS after it is allowed but not needed); every other value runs to the
/// next GS or the end. One GS may stand between two elements and one at
/// the end; two in a row leave an element out and are refused, as GS1's
/// Syntax Engine refuses them.
pub(super) fn parse_raw(chars: &[Ch], today: NaiveDate) -> Result<Vec<Element>, Gs1Error> {
    let mut elements = Vec::new();
    let mut i = 0;
    while let Some(first) = chars.get(i) {
        if first.c == GS {
            if chars.get(i + 1).is_some_and(|next| next.c == GS) {
                return Err(Gs1Error::DoubledSeparator);
            }
            i += 1;
            continue;
        }
        let (ai, ai_len) = match_ai(&chars[i..]).ok_or_else(|| unknown_ai(&chars[i..]))?;
        i += ai_len;
        // A value stops at a GS; one of the predefined-length table also
        // after its length. Every other AI needs the GS after it, even a
        // fixed-length one (General Specifications 7.8.5: a reader that does
        // not know the AI must still find its end), so it runs to the GS
        // and validation reports a value too long where the GS is missing.
        let limit = if ai.needs_separator() {
            usize::MAX
        } else {
            ai.max_length()
        };
        let value: String = chars[i..]
            .iter()
            .take_while(|ch| ch.c != GS)
            .take(limit)
            .map(|ch| ch.c)
            .collect();
        i += value.chars().count();
        elements.push(Element::new_with_ai(ai, &value, today)?);
    }
    Ok(elements)
}

/// The known AI at the start of `chars`, and its length in characters.
fn match_ai(chars: &[Ch]) -> Option<(Ai, usize)> {
    (2..=4).find_map(|len| {
        let head = chars.get(..len)?;
        if !head.iter().all(|ch| ch.c.is_ascii_digit()) {
            return None;
        }
        let code: String = head.iter().map(|ch| ch.c).collect();
        Ai::lookup(&code).map(|ai| (ai, len))
    })
}

/// The error for a raw element string whose next characters are no known
/// AI, quoting as many digits as a GS1 AI with that start would have.
fn unknown_ai(chars: &[Ch]) -> Gs1Error {
    let position = chars.first().map_or(1, |ch| ch.pos);
    let digits: String = chars
        .iter()
        .map(|ch| ch.c)
        .take_while(char::is_ascii_digit)
        .take(4)
        .collect();
    if digits.len() < 2 {
        return Gs1Error::Syntax {
            position,
            problem: "expected an application identifier (digits)",
        };
    }
    let len = ai_length_for(&digits[..2]).min(digits.len());
    Gs1Error::UnknownAi {
        position,
        ai: digits[..len].to_owned(),
    }
}

/// `(01)09501101530003(10)L2710`. A `(` in a value that would read as the
/// start of an AI is written `\(`.
pub(super) fn render_bracketed(elements: &[Element]) -> String {
    let mut out = String::new();
    for element in elements {
        out.push('(');
        out.push_str(element.ai().code());
        out.push(')');
        let value = element.value();
        for (i, c) in value.char_indices() {
            if c == '(' && opens_ai(value[i + 1..].chars()) {
                out.push('\\');
            }
            out.push(c);
        }
    }
    out
}

/// `010950110153000310L2710<GS>17270120`, with a real GS: a GS after each
/// element that needs one (see [`Ai::needs_separator`]), except the last.
/// No symbology identifier and no leading FNC1.
pub(super) fn render_raw(elements: &[Element]) -> String {
    let mut out = String::new();
    for (i, element) in elements.iter().enumerate() {
        out.push_str(element.ai().code());
        out.push_str(element.value());
        if element.ai().needs_separator() && i + 1 < elements.len() {
            out.push(GS);
        }
    }
    out
}
