//! Photo attachments (docs/ATTACHMENTS.md): what the terminal and the server
//! agree on — a photo is named by the SHA-256 of its bytes, travels in
//! chunks that resume from what the server holds, and is linked to an
//! exception or to the operation it documents.

mod heic;
mod jpeg;
mod png;
mod webp;

use serde::{Deserialize, Serialize};

/// Largest photo the server accepts unless configured otherwise
/// (`pyck-server serve --max-photo-bytes`).
pub const MAX_PHOTO_BYTES: u64 = 10 * 1024 * 1024;

/// Largest chunk of one upload request.
pub const MAX_CHUNK_BYTES: u64 = 1024 * 1024;

/// Chunk the terminal sends by default (`PYCK_PHOTO_CHUNK` overrides).
pub const CHUNK_BYTES: u64 = 256 * 1024;

/// What a photo documents. JSON: `{"exception":"…"}` or `{"operation":"…"}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Target {
    /// An exception, by its id.
    Exception(String),
    /// A recorded operation (a damaged receipt), by its id.
    Operation(uuid::Uuid),
}

/// Where an upload stands on the server (`GET /attachments/{sha256}/upload`
/// and every `PUT` answer).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct UploadState {
    /// Bytes the server holds, from the start: the next chunk's offset.
    pub received: u64,
    /// The whole photo is stored and its hash checked.
    pub complete: bool,
}

/// The photo formats a scanner or phone camera produces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PhotoKind {
    Jpeg,
    Png,
    WebP,
    Heic,
}

impl PhotoKind {
    /// The media type a photo of this kind is stored and served with.
    pub fn content_type(self) -> &'static str {
        match self {
            Self::Jpeg => "image/jpeg",
            Self::Png => "image/png",
            Self::WebP => "image/webp",
            Self::Heic => "image/heic",
        }
    }
}

impl std::fmt::Display for PhotoKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Jpeg => "JPEG",
            Self::Png => "PNG",
            Self::WebP => "WebP",
            Self::Heic => "HEIC",
        })
    }
}

/// Why bytes are not accepted as a photo. The messages say what was
/// expected, so a person can tell a cut-off copy from a file of another
/// kind.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NotAPhoto {
    /// The first bytes are those of no accepted kind.
    #[error(
        "not a photo: expected a JPEG, PNG, WebP or HEIC file, and its first bytes are none of them"
    )]
    UnknownKind,
    /// The first bytes name a kind, and the file's structure breaks it (a
    /// copy cut short, another file behind a photo's first bytes, a lie in
    /// a length).
    #[error("not a whole {kind} photo: expected {expected} at byte {at}")]
    Malformed {
        kind: PhotoKind,
        /// Offset in the file where the structure broke.
        at: usize,
        expected: &'static str,
    },
}

/// Where a format's structure broke and what it needed there; each format
/// module returns it and [`check_photo`] names the kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Flaw {
    at: usize,
    expected: &'static str,
}

fn flaw(at: usize, expected: &'static str) -> Flaw {
    Flaw { at, expected }
}

/// Big-endian and little-endian reads that fail, rather than panic, past
/// the end: every length in a photo comes from whoever sent it.
fn be16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes(
        b.get(at..at.checked_add(2)?)?.try_into().ok()?,
    ))
}

fn be32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(
        b.get(at..at.checked_add(4)?)?.try_into().ok()?,
    ))
}

fn le32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(
        b.get(at..at.checked_add(4)?)?.try_into().ok()?,
    ))
}

/// Tells a photo's kind by its first bytes, then walks its whole container
/// (docs/ATTACHMENTS.md, "What counts as a photo"): JPEG segments and
/// entropy-coded data up to EOI, PNG chunks with their CRC-32 up to IEND,
/// the WebP RIFF chunks, the HEIC boxes. It reads each byte a bounded
/// number of times and decompresses no pixels, so a crafted file costs
/// time linear in its size (at most the photo limit) and no memory beyond
/// it: no decompression bomb, no quadratic walk. It does not prove that
/// the pixels decode; it proves the file is the container it claims to be,
/// whole, with nothing else behind its first bytes.
pub fn check_photo(bytes: &[u8]) -> Result<PhotoKind, NotAPhoto> {
    let kind = if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        PhotoKind::Jpeg
    } else if bytes.starts_with(&png::SIGNATURE) {
        PhotoKind::Png
    } else if bytes.get(0..4) == Some(b"RIFF") && bytes.get(8..12) == Some(b"WEBP") {
        PhotoKind::WebP
    } else if bytes.get(4..8) == Some(b"ftyp") {
        PhotoKind::Heic
    } else {
        return Err(NotAPhoto::UnknownKind);
    };
    let checked = match kind {
        PhotoKind::Jpeg => jpeg::check(bytes),
        PhotoKind::Png => png::check(bytes),
        PhotoKind::WebP => webp::check(bytes),
        PhotoKind::Heic => heic::check(bytes),
    };
    checked
        .map(|()| kind)
        .map_err(|Flaw { at, expected }| NotAPhoto::Malformed { kind, at, expected })
}

/// A SHA-256 as it names a photo: 64 lowercase hex digits.
pub fn is_sha256(name: &str) -> bool {
    name.len() == 64 && name.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_bytes_of_no_photo_are_refused_as_such() {
        for bytes in [&b"%PDF-1.7"[..], b"", b"<html>", &[0xFF, 0xD8]] {
            assert_eq!(check_photo(bytes), Err(NotAPhoto::UnknownKind));
        }
    }

    #[test]
    fn a_refusal_names_the_kind_the_offset_and_what_was_expected() {
        let e = check_photo(&[0xFF, 0xD8, 0xFF, 0xE0, b'<', b'h', b't', b'm', b'l']).unwrap_err();
        assert_eq!(
            e.to_string(),
            "not a whole JPEG photo: expected a segment length within the file at byte 4"
        );
    }

    proptest::proptest! {
        /// Whatever follows a kind's first bytes, the walk answers and never
        /// panics: every length in it comes from whoever sent the file.
        #[test]
        fn any_bytes_behind_any_magic_get_an_answer(
            magic in 0..5usize,
            rest in proptest::collection::vec(proptest::num::u8::ANY, 0..600),
        ) {
            let magic: &[u8] = match magic {
                0 => &[0xFF, 0xD8, 0xFF],
                1 => &png::SIGNATURE,
                2 => b"RIFF\0\0\0\0WEBP",
                3 => b"\0\0\0\x14ftypheic",
                _ => b"",
            };
            let mut bytes = magic.to_vec();
            bytes.extend(rest);
            let _ = check_photo(&bytes);
        }

        /// One byte changed anywhere in a real JPEG: an answer, no panic.
        #[test]
        fn a_real_jpeg_with_any_byte_changed_gets_an_answer(at in 0..200usize, to in proptest::num::u8::ANY) {
            let mut bytes = jpeg::tests::tiny();
            let at = at % bytes.len();
            bytes[at] = to;
            let _ = check_photo(&bytes);
        }
    }

    #[test]
    fn targets_on_the_wire() {
        assert_eq!(
            serde_json::to_string(&Target::Exception("E1".into())).unwrap(),
            r#"{"exception":"E1"}"#
        );
        assert!(is_sha256(&"ab".repeat(32)));
        assert!(!is_sha256(&"AB".repeat(32)));
        assert!(!is_sha256("../etc/passwd"));
    }
}
