//! GS1 Digital Link URIs: GS1 data as a web address, as printed in QR codes
//! on consumer packaging.
//!
//! `https://id.gs1.org/01/09501101530003/10/L2710?17=270120` carries a
//! GTIN and a lot in the path and an expiry date in the query string. The
//! host and any path before the key are the brand's business and are
//! ignored.

use chrono::NaiveDate;

use super::{Ai, Element, Gs1Error};

/// AIs that may start the GS1 part of the path (the primary keys we know).
const PRIMARY_KEYS: &[&str] = &["00", "01", "414"];

/// Whether `s` starts with `http://` or `https://`, in any case (QR codes
/// often carry addresses in capitals, which encode more compactly).
pub(super) fn is_web_address(s: &str) -> bool {
    strip_scheme(s).is_some()
}

fn strip_scheme(s: &str) -> Option<&str> {
    ["https://", "http://"].iter().find_map(|scheme| {
        let head = s.get(..scheme.len())?;
        head.eq_ignore_ascii_case(scheme)
            .then(|| s.get(scheme.len()..))
            .flatten()
    })
}

/// Reads a Digital Link URI into elements: path pairs first, in order, then
/// query parameters whose names are known AIs. Unknown or non-AI query
/// parameters (`linkType=…`, AIs we do not support) are ignored; an unknown
/// AI in the path is an error, since the path identifies the item.
///
/// In the path, AI (01) may be a GTIN-8, -12 or -13; it is padded to 14.
pub(super) fn parse(url: &str, today: NaiveDate) -> Result<Vec<Element>, Gs1Error> {
    let rest = strip_scheme(url).ok_or(Gs1Error::DigitalLink {
        problem: "not a web address",
    })?;
    let rest = rest.split_once('#').map_or(rest, |(before, _)| before);
    let (address, query) = rest.split_once('?').unwrap_or((rest, ""));
    let path = address.find('/').map_or("", |i| &address[i..]);
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();

    // The GS1 part is a key and its value, then AI/value pairs to the end.
    let start = (0..segments.len())
        .find(|&i| PRIMARY_KEYS.contains(&segments[i]) && (segments.len() - i).is_multiple_of(2))
        .ok_or(Gs1Error::DigitalLink {
            problem: "no /00/, /01/ or /414/ key in the address",
        })?;

    let mut elements = Vec::new();
    for pair in segments[start..].chunks_exact(2) {
        let [code, value] = pair else { continue };
        let code = percent_decode(code)?;
        let ai = Ai::lookup(&code).ok_or(Gs1Error::UnknownAiCode { ai: code })?;
        elements.push(element(ai, &percent_decode(value)?, today)?);
    }
    for param in query.split('&') {
        let Some((key, value)) = param.split_once('=') else {
            continue;
        };
        // Not being an AI we know is no error here, whatever the name is.
        let Some(ai) = percent_decode(key).ok().and_then(|key| Ai::lookup(&key)) else {
            continue;
        };
        elements.push(element(ai, &percent_decode(value)?, today)?);
    }
    Ok(elements)
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

/// Decodes `%XX` escapes. `+` stays `+`: it is a GS1 data character, and a
/// space (what it means in HTML forms) could not be data anyway.
fn percent_decode(s: &str) -> Result<String, Gs1Error> {
    const BAD: Gs1Error = Gs1Error::DigitalLink {
        problem: "broken %-escape in the address",
    };
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%' {
            let hi = bytes.get(i + 1).and_then(|&h| hex_value(h));
            let lo = bytes.get(i + 2).and_then(|&l| hex_value(l));
            let (Some(hi), Some(lo)) = (hi, lo) else {
                return Err(BAD);
            };
            out.push(hi << 4 | lo);
            i += 3;
        } else {
            out.push(b);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| BAD)
}

fn hex_value(b: u8) -> Option<u8> {
    char::from(b)
        .to_digit(16)
        .and_then(|d| u8::try_from(d).ok())
}
