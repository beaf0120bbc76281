//! JPEG (ITU T.81 with JFIF or Exif): SOI, marker segments each with its
//! length, one frame header (SOF) with a non-zero width and height, one or
//! more scans (SOS and their entropy-coded data, progressive JPEGs have
//! several, tables between them), EOI.
//!
//! After EOI only zero bytes may follow: some camera firmware pads a file
//! to a block size with them, and zeros carry no page or script. Anything
//! else there (another file appended, a phone's "motion photo" video) is
//! refused: send the still.

use super::{Flaw, be16, flaw};

/// The frame headers: baseline, extended, progressive, lossless, in Huffman
/// or arithmetic coding (0xC4 DHT, 0xC8 JPG and 0xCC DAC sit among them and
/// are not frames).
fn is_frame(code: u8) -> bool {
    matches!(code, 0xC0..=0xC3 | 0xC5..=0xC7 | 0xC9..=0xCB | 0xCD..=0xCF)
}

pub(super) fn check(b: &[u8]) -> Result<(), Flaw> {
    let mut at = 2; // after SOI, which check_photo has seen
    let mut frame = false;
    let mut scans = 0u32;
    loop {
        if b.get(at) != Some(&0xFF) {
            return Err(flaw(at, "a marker (0xFF)"));
        }
        let marker = at;
        // Any number of 0xFF fill bytes may precede a marker's code.
        while b.get(at) == Some(&0xFF) {
            at += 1;
        }
        let Some(&code) = b.get(at) else {
            return Err(flaw(at, "a marker code after 0xFF"));
        };
        at += 1;
        match code {
            0xD9 if frame && scans > 0 => return trailing_zeros(b, at),
            0xD9 => return Err(flaw(marker, "a frame (SOF) and a scan (SOS) before EOI")),
            // A second SOI, a restart marker outside a scan, TEM, or a
            // reserved code: none belongs between segments.
            0x00..=0xBF | 0xD0..=0xD8 => {
                return Err(flaw(
                    marker,
                    "a segment marker (0xC0 to 0xFE but SOI, RSTn)",
                ));
            }
            _ => {}
        }
        let len = usize::from(be16(b, at).ok_or(flaw(at, "a segment length within the file"))?);
        let end = at + len;
        if len < 2 || end > b.len() {
            return Err(flaw(at, "a segment length within the file"));
        }
        let body = &b[at + 2..end];
        if is_frame(code) {
            if frame {
                return Err(flaw(marker, "a single frame header (SOF)"));
            }
            check_frame(body).map_err(|expected| flaw(at + 2, expected))?;
            frame = true;
            at = end;
        } else if code == 0xDA {
            if !frame {
                return Err(flaw(marker, "a frame header (SOF) before the scan (SOS)"));
            }
            check_scan(body).map_err(|expected| flaw(at + 2, expected))?;
            at = entropy_coded(b, end)?;
            scans += 1;
        } else {
            at = end;
        }
    }
}

/// SOF: precision, height, width, components (each 3 bytes).
fn check_frame(body: &[u8]) -> Result<(), &'static str> {
    let [_precision, h1, h2, w1, w2, n, rest @ ..] = body else {
        return Err("a frame header (SOF) of at least 6 bytes");
    };
    if *n == 0 || rest.len() != 3 * usize::from(*n) {
        return Err("a frame header (SOF) with 1 or more components of 3 bytes each");
    }
    if u16::from_be_bytes([*h1, *h2]) == 0 || u16::from_be_bytes([*w1, *w2]) == 0 {
        return Err("a frame header (SOF) with a non-zero width and height");
    }
    Ok(())
}

/// SOS: components (each 2 bytes), then spectral selection and
/// approximation (3 bytes).
fn check_scan(body: &[u8]) -> Result<(), &'static str> {
    match body {
        [n @ 1..=4, rest @ ..] if rest.len() == 2 * usize::from(*n) + 3 => Ok(()),
        _ => Err("a scan header (SOS) with 1 to 4 components"),
    }
}

/// Walks a scan's entropy-coded data from `start` to the marker that ends
/// it, returning that marker's offset. Inside the data a 0xFF is followed
/// by 0x00 (a stuffed byte), by a restart marker, or by more 0xFF before a
/// marker.
fn entropy_coded(b: &[u8], start: usize) -> Result<usize, Flaw> {
    let mut at = start;
    loop {
        let Some(ff) = b[at..].iter().position(|&x| x == 0xFF) else {
            return Err(flaw(b.len(), "the end-of-image marker (EOI)"));
        };
        at += ff;
        match b.get(at + 1) {
            None => return Err(flaw(b.len(), "the end-of-image marker (EOI)")),
            Some(0x00 | 0xD0..=0xD7) => at += 2,
            Some(0xFF) => at += 1,
            Some(_) if at == start => {
                return Err(flaw(
                    start,
                    "entropy-coded data after the scan header (SOS)",
                ));
            }
            Some(_) => return Ok(at),
        }
    }
}

fn trailing_zeros(b: &[u8], after_eoi: usize) -> Result<(), Flaw> {
    match b[after_eoi..].iter().position(|&x| x != 0) {
        None => Ok(()),
        Some(i) => Err(flaw(
            after_eoi + i,
            "the end of the file after EOI (or zero padding)",
        )),
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::super::{NotAPhoto, PhotoKind, check_photo};

    /// A real baseline JPEG: 8x8 pixels, one grey component, quantisation
    /// and Huffman tables (one code each: DC difference 0, end of block),
    /// one block of entropy-coded data. Decoders show a mid-grey square.
    pub fn tiny() -> Vec<u8> {
        let mut b = vec![0xFF, 0xD8];
        b.extend([0xFF, 0xDB, 0x00, 0x43, 0x00]);
        b.extend([1u8; 64]);
        b.extend([
            0xFF, 0xC0, 0x00, 0x0B, 0x08, 0x00, 0x08, 0x00, 0x08, 0x01, 0x01, 0x11, 0x00,
        ]);
        for class in [0x00, 0x10] {
            b.extend([0xFF, 0xC4, 0x00, 0x14, class, 0x01]);
            b.extend([0u8; 15]);
            b.push(0x00);
        }
        b.extend([0xFF, 0xDA, 0x00, 0x08, 0x01, 0x01, 0x00, 0x00, 0x3F, 0x00]);
        b.push(0x3F); // DC "0", EOB "0", padded with ones
        b.extend([0xFF, 0xD9]);
        b
    }

    fn expected(bytes: &[u8]) -> &'static str {
        match check_photo(bytes) {
            Err(NotAPhoto::Malformed {
                kind: PhotoKind::Jpeg,
                expected,
                ..
            }) => expected,
            other => panic!("expected a malformed JPEG, got {other:?}"),
        }
    }

    #[test]
    fn a_real_jpeg_passes() {
        assert_eq!(check_photo(&tiny()), Ok(PhotoKind::Jpeg));
    }

    #[test]
    fn a_progressive_jpeg_with_stuffing_restarts_and_tables_between_scans_passes() {
        let mut b = tiny();
        let eoi = b.len() - 2;
        // More data in the first scan: a stuffed 0xFF and a restart marker.
        b.splice(eoi - 1..eoi - 1, [0x12, 0xFF, 0x00, 0x34, 0xFF, 0xD0, 0x56]);
        let eoi = b.len() - 2;
        // A table, fill bytes, a second scan.
        let mut more = vec![0xFF, 0xFE, 0x00, 0x04, b'h', b'i', 0xFF, 0xFF];
        more.extend([
            0xFF, 0xDA, 0x00, 0x08, 0x01, 0x01, 0x00, 0x00, 0x3F, 0x00, 0x3F,
        ]);
        b.splice(eoi..eoi, more);
        assert_eq!(check_photo(&b), Ok(PhotoKind::Jpeg));
        b.extend([0, 0, 0]);
        assert_eq!(check_photo(&b), Ok(PhotoKind::Jpeg), "zero padding");
    }

    #[test]
    fn jpeg_magic_then_html_is_refused() {
        let mut b = vec![0xFF, 0xD8, 0xFF, 0xE0];
        b.extend(b"<html><script>alert(document.cookie)</script></html>");
        assert_eq!(expected(&b), "a segment length within the file");
        // The same behind a short, well-formed APP0.
        let mut b = vec![0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x02];
        b.extend(b"<html>");
        assert_eq!(expected(&b), "a marker (0xFF)");
    }

    #[test]
    fn a_real_jpeg_with_html_behind_it_is_refused() {
        let mut b = tiny();
        b.extend(b"<html></html>");
        assert_eq!(
            expected(&b),
            "the end of the file after EOI (or zero padding)"
        );
    }

    #[test]
    fn every_truncation_of_a_real_jpeg_is_refused() {
        let b = tiny();
        for len in 3..b.len() {
            assert!(check_photo(&b[..len]).is_err(), "cut at {len}");
        }
    }

    #[test]
    fn zero_dimensions_and_missing_frames_are_refused() {
        let mut b = tiny();
        let sof = b.windows(2).position(|w| w == [0xFF, 0xC0]).unwrap();
        b[sof + 5] = 0;
        b[sof + 6] = 0; // height 0
        assert_eq!(
            expected(&b),
            "a frame header (SOF) with a non-zero width and height"
        );
        assert_eq!(
            expected(&[0xFF, 0xD8, 0xFF, 0xD9]),
            "a frame (SOF) and a scan (SOS) before EOI"
        );
    }
}
