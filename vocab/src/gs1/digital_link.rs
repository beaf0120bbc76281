//! GS1 Digital Link URIs: GS1 data as a web address, as printed in QR codes
//! on consumer packaging, read by the GS1 Digital Link URI syntax standard
//! (1.4, section 4): a path that ends in a primary key and its key
//! qualifiers, data attributes in the query.
//!
//! `https://id.gs1.org/01/09501101530003/10/L2710?17=270120` carries a
//! GTIN and a lot in the path and an expiry date in the query string. The
//! host and any path before the key (the "stem") are the brand's business
//! and are ignored; where the stem itself holds something that looks like a
//! key, the rightmost key is the one (section 4.11).

use chrono::NaiveDate;

use super::{Ai, Element, Gs1Error};

/// Whether `s` starts with `http://` or `https://`, in lower case or in
/// capitals (QR codes often carry addresses in capitals, which encode more
/// compactly; a mixed-case scheme is no Digital Link).
pub(super) fn is_web_address(s: &str) -> bool {
    strip_scheme(s).is_some()
}

fn strip_scheme(s: &str) -> Option<&str> {
    ["https://", "http://", "HTTPS://", "HTTP://"]
        .iter()
        .find_map(|scheme| s.strip_prefix(scheme))
}

/// Characters a URI may hold (RFC 3986: unreserved, reserved and `%`).
fn is_uri_character(c: char) -> bool {
    c.is_ascii_alphanumeric() || "-._~:/?#[]@!$&'()*+,;=%".contains(c)
}

/// Characters of [`is_uri_character`] that cannot stand in a host name.
const BAD_IN_HOST: &str = "_~?#@!$&'()*+,;=%";

const NO_KEY: Gs1Error = problem("no primary key (/01/, /00/, /414/, …) ends the path");

const fn problem(problem: &'static str) -> Gs1Error {
    Gs1Error::DigitalLink { problem }
}

/// Reads a Digital Link URI into elements: the key and its qualifiers from
/// the path, in order, then the data attributes of the query.
///
/// - The path's segments are read from the right in pairs; the first pair
///   whose AI is a primary key is the key, and the pairs after it must be
///   that key's qualifiers in their order (for a GTIN: 22, 10, 21; an SSCC
///   has none). An empty segment there (`//`, a trailing `/`) is an
///   error; in the stem before the key it is allowed, as in any URI.
/// - Query parameters whose name is numeric are AIs and must be known,
///   allowed as data attributes, and not a qualifier of the key (those go
///   in the path); others (`linkType=…`, a parameter without `=`) are
///   ignored. An AI may stand only once in a link.
/// - Segments and parameters are percent-decoded; in the query `+` is a
///   space (and so refused in any AI value, as GS1 character sets have no
///   space).
/// - In the path, AI (01) may be a GTIN-8, -12 or -13; it is padded to 14.
pub(super) fn parse(url: &str, today: NaiveDate) -> Result<Vec<Element>, Gs1Error> {
    if !url.chars().all(is_uri_character) {
        return Err(problem("a character that cannot stand in a web address"));
    }
    let rest = strip_scheme(url).ok_or(problem("not a web address"))?;
    let rest = rest.split_once('#').map_or(rest, |(before, _)| before);
    let (address, query) = rest.split_once('?').unwrap_or((rest, ""));
    let (host, path) = address.split_once('/').unwrap_or((address, ""));
    if host.is_empty() || host.contains(|c| BAD_IN_HOST.contains(c)) {
        return Err(problem("no valid host"));
    }
    if path.is_empty() {
        return Err(NO_KEY);
    }
    // The stem is any URI path (RFC 3986: a segment may be empty); an
    // empty segment among the key and its qualifiers, or a `/` at the
    // end, leaves no key-value pairs to end the path and is refused below.
    let segments: Vec<String> = path.split('/').map(|s| percent_decode(s, false)).collect();

    // From the right, pair by pair, to the rightmost primary key.
    let mut key_at = None;
    let mut i = segments.len();
    while i >= 2 {
        i -= 2;
        match Ai::lookup(&segments[i]) {
            Some(ai) if ai.is_primary_key() => {
                key_at = Some(i);
                break;
            }
            Some(_) => {}
            None => break,
        }
    }
    let key_at = key_at.ok_or(problem(
        "no primary key (/01/, /00/, /414/, …) ends the path",
    ))?;
    let mut pairs = segments[key_at..].chunks_exact(2);
    let mut elements = Vec::new();
    let mut qualifiers = Vec::new();
    let mut key = None;
    for pair in pairs.by_ref() {
        let [code, value] = pair else { continue };
        let ai = Ai::lookup(code).ok_or_else(|| Gs1Error::UnknownAiCode { ai: code.clone() })?;
        if elements.iter().any(|e: &Element| e.ai() == ai) {
            return Err(Gs1Error::RepeatedInLink { ai });
        }
        match key {
            None => key = Some(ai),
            Some(key) => {
                qualifiers.push(ai);
                if !qualifiers_in_order(key, &qualifiers) {
                    return Err(Gs1Error::NotAQualifier { ai, key });
                }
            }
        }
        elements.push(element(ai, value, today)?);
    }

    let path_ais: Vec<Ai> = elements.iter().map(Element::ai).collect();
    for param in query.split('&').filter(|p| !p.is_empty()) {
        // A parameter without `=` is no attribute; one whose name is not
        // numeric is the brand's business. Both are ignored.
        let Some((name, value)) = param.split_once('=') else {
            continue;
        };
        // An empty name with a value is no parameter the brand could mean:
        // refused as an unknown AI, as GS1's Syntax Engine does.
        let name = percent_decode(name, true);
        if !name.bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        let ai = Ai::lookup(&name).ok_or(Gs1Error::UnknownAiCode { ai: name })?;
        if !ai.def().dl_attribute {
            return Err(Gs1Error::NotAnAttribute { ai });
        }
        // A qualifier of the key belongs in the path, at its place.
        if let Some((&key, qualifiers)) = path_ais.split_first() {
            let fits_in_path = (0..=qualifiers.len()).any(|at| {
                let mut with = qualifiers.to_vec();
                with.insert(at, ai);
                qualifiers_in_order(key, &with)
            });
            if fits_in_path {
                return Err(Gs1Error::QualifierInQuery { ai, key });
            }
        }
        // In a link each AI stands once, even with the same value.
        if elements.iter().any(|e| e.ai() == ai) {
            return Err(Gs1Error::RepeatedInLink { ai });
        }
        elements.push(element(ai, &percent_decode(value, true), today)?);
    }
    Ok(elements)
}

/// Whether `qualifiers` (in path order) are one of `key`'s qualifier
/// sequences with some left out, the rest in order.
fn qualifiers_in_order(key: Ai, qualifiers: &[Ai]) -> bool {
    let Some(sequences) = &key.def().dl_qualifiers else {
        return false;
    };
    sequences.iter().any(|sequence| {
        let mut allowed = sequence.iter();
        qualifiers
            .iter()
            .all(|q| allowed.any(|code| code == q.code()))
    })
}

fn element(ai: Ai, value: &str, today: NaiveDate) -> Result<Element, Gs1Error> {
    let short_gtin =
        matches!(value.len(), 8 | 12 | 13) && value.bytes().all(|b| b.is_ascii_digit());
    if ai.code() == "01" && short_gtin {
        Element::new_with_ai(ai, &format!("{value:0>14}"), today)
    } else {
        Element::new_with_ai(ai, value, today)
    }
}

/// Decodes `%XX` escapes, and in a query (`plus_is_space`) `+` as a space
/// (RFC 3986 leaves `+` alone in a path; HTML forms, and so the query
/// strings GS1 Digital Link follows, write a space as `+`). A `%` without
/// two hexadecimal digits after it is itself, as GS1's Syntax Engine reads
/// it (`%` is in character set 82); bytes that decode to no UTF-8 become
/// U+FFFD, which no GS1 character set holds, so such a value is refused.
fn percent_decode(s: &str, plus_is_space: bool) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%' {
            let hi = bytes.get(i + 1).and_then(|&h| hex_value(h));
            let lo = bytes.get(i + 2).and_then(|&l| hex_value(l));
            if let (Some(hi), Some(lo)) = (hi, lo) {
                out.push(hi << 4 | lo);
                i += 3;
                continue;
            }
            out.push(b);
            i += 1;
        } else {
            out.push(if plus_is_space && b == b'+' { b' ' } else { b });
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex_value(b: u8) -> Option<u8> {
    char::from(b)
        .to_digit(16)
        .and_then(|d| u8::try_from(d).ok())
}
