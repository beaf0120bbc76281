//! The GS1 mod-10 check digit, shared by GTINs, SSCCs and GLNs.

/// The GS1 mod-10 check digit for `body` (a key without its check digit):
/// digits are weighted 3, 1, 3, 1, … starting from the rightmost, and the
/// check digit brings the weighted sum up to a multiple of ten.
///
/// `None` if `body` is empty or holds anything but ASCII digits.
///
/// ```
/// assert_eq!(pyck_vocab::gs1::gtin_check_digit("0950110153000"), Some(3));
/// ```
pub fn gtin_check_digit(body: &str) -> Option<u8> {
    if body.is_empty() || !body.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    // Reduce modulo 10 as we go so that no input length can overflow.
    let sum = body.bytes().rev().enumerate().fold(0u8, |sum, (i, b)| {
        let digit = b - b'0';
        let weight = if i % 2 == 0 { 3 } else { 1 };
        (sum + digit * weight) % 10
    });
    Some((10 - sum) % 10)
}

/// Whether `code` is a GTIN-8, -12, -13 or -14 (that many ASCII digits)
/// with a correct check digit. No trimming: `" 4006381333931"` is not.
pub fn is_valid_gtin(code: &str) -> bool {
    matches!(code.len(), 8 | 12 | 13 | 14) && has_valid_check_digit(code)
}

/// A valid GTIN of any length, left-padded with zeros to the 14 digits AI
/// (01) carries; `None` if [`is_valid_gtin`] says no. Padding does not
/// change the check digit, which is computed from the right.
pub fn normalize_gtin(code: &str) -> Option<String> {
    is_valid_gtin(code).then(|| format!("{code:0>14}"))
}

/// Whether the last character of `code` is the check digit of the rest.
pub(super) fn has_valid_check_digit(code: &str) -> bool {
    // All ASCII digits first, so that splitting off the last byte is safe.
    if code.len() < 2 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    let (body, last) = code.split_at(code.len() - 1);
    let found = last.bytes().next().map(|b| b - b'0');
    gtin_check_digit(body).is_some_and(|expected| Some(expected) == found)
}
