//! Photo attachments (docs/ATTACHMENTS.md): what the terminal and the server
//! agree on — a photo is named by the SHA-256 of its bytes, travels in
//! chunks that resume from what the server holds, and is linked to an
//! exception or to the operation it documents.

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

/// The photo formats a scanner or phone camera produces, by their first
/// bytes; anything else is not accepted as a photo.
pub fn content_type(bytes: &[u8]) -> Option<&'static str> {
    match bytes {
        [0xFF, 0xD8, 0xFF, ..] => Some("image/jpeg"),
        [0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, ..] => Some("image/png"),
        [
            b'R',
            b'I',
            b'F',
            b'F',
            _,
            _,
            _,
            _,
            b'W',
            b'E',
            b'B',
            b'P',
            ..,
        ] => Some("image/webp"),
        [
            _,
            _,
            _,
            _,
            b'f',
            b't',
            b'y',
            b'p',
            b'h',
            b'e',
            b'i',
            b'c' | b'x',
            ..,
        ] => Some("image/heic"),
        _ => None,
    }
}

/// A SHA-256 as it names a photo: 64 lowercase hex digits.
pub fn is_sha256(name: &str) -> bool {
    name.len() == 64 && name.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn photos_are_told_by_their_first_bytes() {
        assert_eq!(
            content_type(&[0xFF, 0xD8, 0xFF, 0xE0, 0]),
            Some("image/jpeg")
        );
        assert_eq!(content_type(b"\x89PNG\r\n\x1a\n...."), Some("image/png"));
        assert_eq!(content_type(b"RIFF\0\0\0\0WEBPVP8 "), Some("image/webp"));
        assert_eq!(content_type(b"\0\0\0\x18ftypheic"), Some("image/heic"));
        assert_eq!(content_type(b"%PDF-1.7"), None);
        assert_eq!(content_type(b""), None);
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
