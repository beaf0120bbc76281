//! The rules about which AIs go together (GS1 General Specifications
//! 4.14): mutually exclusive AIs (4.14.1) and requisite AIs (4.14.2), as
//! the syntax dictionary states them per AI (`ex` and `req`).

use super::{Ai, Element, Gs1Error};

/// Whether AI code `code` matches `pattern`, where `n` stands for any digit
/// (`310n`, `31nn`).
fn matches(pattern: &str, code: &str) -> bool {
    pattern.len() == code.len()
        && pattern
            .bytes()
            .zip(code.bytes())
            .all(|(p, c)| p == c || (p == b'n' && c.is_ascii_digit()))
}

/// Checks a whole scan's elements against both rules: exclusions first,
/// then requisites; the first broken one, in scan order, is the error.
pub(super) fn check(elements: &[Element]) -> Result<(), Gs1Error> {
    let present: Vec<Ai> = elements.iter().map(Element::ai).collect();
    exclusions(&present)?;
    requisites(&present)?;
    signed_keys_serialised(elements)
}

/// Keys whose serial component is optional: with a digital signature
/// (8030) they must carry it, for a signature is over one instance
/// (General Specifications 3.9.x on AI 8030; GS1's Syntax Engine checks
/// it as `validateDigSigRequiresSerialisedKey`).
const SERIAL_OPTIONAL_KEYS: [&str; 3] = ["253", "255", "8003"];

fn signed_keys_serialised(elements: &[Element]) -> Result<(), Gs1Error> {
    if !elements.iter().any(|e| e.ai().code() == "8030") {
        return Ok(());
    }
    match elements.iter().find(|e| {
        SERIAL_OPTIONAL_KEYS.contains(&e.ai().code()) && e.value().len() == e.ai().min_length()
    }) {
        Some(e) => Err(Gs1Error::SignedKeyNotSerialised { ai: e.ai() }),
        None => Ok(()),
    }
}

/// General Specifications 4.14.1: no AI together with one it excludes.
pub(super) fn exclusions(present: &[Ai]) -> Result<(), Gs1Error> {
    for &ai in present {
        for pattern in &ai.def().excludes {
            if let Some(&other) = present
                .iter()
                .find(|o| **o != ai && matches(pattern, o.code()))
            {
                return Err(Gs1Error::Excluded { ai, other });
            }
        }
    }
    Ok(())
}

/// General Specifications 4.14.2: every AI with the AIs it requires.
pub(super) fn requisites(present: &[Ai]) -> Result<(), Gs1Error> {
    for &ai in present {
        for alternatives in &ai.def().requires {
            let met = alternatives.iter().any(|all| {
                all.iter()
                    .all(|pattern| present.iter().any(|p| matches(pattern, p.code())))
            });
            if !met {
                let needs = alternatives
                    .iter()
                    .map(|all| {
                        all.iter()
                            .map(|p| format!("({p})"))
                            .collect::<Vec<_>>()
                            .join(" with ")
                    })
                    .collect::<Vec<_>>()
                    .join(" or ");
                return Err(Gs1Error::Requires { ai, needs });
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::matches;

    #[test]
    fn patterns() {
        assert!(matches("310n", "3103"));
        assert!(matches("31nn", "3155"));
        assert!(!matches("310n", "3113"));
        assert!(!matches("01", "011"));
        assert!(matches("01", "01"));
    }
}
