//! WebP (RFC 9649): a RIFF file whose size field is the file's size less 8,
//! `WEBP`, then chunks (four-character code, little-endian size, data, a
//! pad byte after an odd size) that end exactly at the end of the file.
//! A simple file is one `VP8 ` (lossy) or `VP8L` (lossless) chunk; an
//! extended one starts with `VP8X` (canvas size, flags) and holds its image
//! in a `VP8 `/`VP8L` chunk or, animated, in `ANIM` and `ANMF` frames. The
//! bitstream headers are checked (key frame, start code, dimensions); the
//! pixels are not decoded.

use super::{Flaw, flaw, le32};

pub(super) fn check(b: &[u8]) -> Result<(), Flaw> {
    let riff = le32(b, 4).ok_or(flaw(4, "a RIFF size"))?;
    if riff as usize != b.len() - 8 {
        return Err(flaw(4, "a RIFF size equal to the file's size less 8 bytes"));
    }
    let chunks = chunks(b, 12)?;
    let Some(&(first, at, data)) = chunks.first() else {
        return Err(flaw(12, "a VP8, VP8L or VP8X chunk"));
    };
    match &first {
        b"VP8 " | b"VP8L" if chunks.len() > 1 => Err(flaw(
            chunks[1].1,
            "the end of the file after a simple WebP's image chunk",
        )),
        b"VP8 " => vp8(data).map_err(|e| flaw(at, e)),
        b"VP8L" => vp8l(data).map_err(|e| flaw(at, e)),
        b"VP8X" => extended(data, &chunks[1..]).map_err(|(at, e)| flaw(at, e)),
        _ => Err(flaw(12, "a VP8, VP8L or VP8X chunk first")),
    }
}

/// A chunk: its code, its offset, its data.
type Chunk<'a> = ([u8; 4], usize, &'a [u8]);

/// The chunks from `at` to the end of the file. Every size must keep the chunk (and its pad byte) inside the
/// file, and the last one must end where the file does.
fn chunks(b: &[u8], mut at: usize) -> Result<Vec<Chunk<'_>>, Flaw> {
    let mut out = Vec::new();
    while at < b.len() {
        let code: [u8; 4] = b
            .get(at..at + 4)
            .and_then(|c| c.try_into().ok())
            .ok_or(flaw(at, "a chunk header of 8 bytes"))?;
        let size = le32(b, at + 4).ok_or(flaw(at, "a chunk header of 8 bytes"))? as usize;
        let data = at + 8;
        let end = data
            .checked_add(size)
            .filter(|&e| e + (size & 1) <= b.len())
            .ok_or(flaw(at + 4, "a chunk size within the RIFF size"))?;
        out.push((code, at, &b[data..end]));
        at = end + (size & 1);
    }
    Ok(out)
}

/// A lossy key frame: frame tag (key frame, version, shown, first partition
/// size), start code, 14-bit width and height.
fn vp8(d: &[u8]) -> Result<(), &'static str> {
    let [t0, t1, t2, 0x9D, 0x01, 0x2A, w0, w1, h0, h1, rest @ ..] = d else {
        return Err("a VP8 key frame header (start code 9D 01 2A)");
    };
    let tag = u32::from_le_bytes([*t0, *t1, *t2, 0]);
    let (key, version, shown, partition) = (tag & 1 == 0, (tag >> 1) & 7, tag >> 4 & 1, tag >> 5);
    if !key || version > 3 || shown != 1 || partition as usize > rest.len() {
        return Err("a shown VP8 key frame whose first partition fits its chunk");
    }
    if u16::from_le_bytes([*w0, *w1]) & 0x3FFF == 0 || u16::from_le_bytes([*h0, *h1]) & 0x3FFF == 0
    {
        return Err("a VP8 frame with a non-zero width and height");
    }
    Ok(())
}

/// A lossless image: signature 0x2F, then width-1 and height-1 (14 bits
/// each, so never zero), the alpha hint and a version that must be 0.
fn vp8l(d: &[u8]) -> Result<(), &'static str> {
    match d {
        [0x2F, b0, b1, b2, b3, _, ..] if u32::from_le_bytes([*b0, *b1, *b2, *b3]) >> 29 == 0 => {
            Ok(())
        }
        _ => Err("a VP8L header (signature 0x2F, version 0) and image data"),
    }
}

/// VP8X: flags, 3 reserved bytes, canvas width-1 and height-1 (24 bits
/// each), then the chunks that carry the image.
fn extended(d: &[u8], rest: &[Chunk<'_>]) -> Result<(), (usize, &'static str)> {
    let [flags, _, _, _, w0, w1, w2, h0, h1, h2] = d else {
        return Err((12, "a VP8X chunk of 10 bytes"));
    };
    let width = u64::from(u32::from_le_bytes([*w0, *w1, *w2, 0])) + 1;
    let height = u64::from(u32::from_le_bytes([*h0, *h1, *h2, 0])) + 1;
    if width * height > u64::from(u32::MAX) {
        return Err((12, "a canvas of at most 2^32 - 1 pixels"));
    }
    let animated = flags & 0x02 != 0;
    let mut image = false;
    for (code, at, data) in rest {
        match code {
            b"VP8 " if !animated => vp8(data).map_err(|e| (*at, e))?,
            b"VP8L" if !animated => vp8l(data).map_err(|e| (*at, e))?,
            b"ANMF" if animated && data.len() >= 16 => {}
            b"ANMF" => return Err((*at, "an ANMF frame of at least 16 bytes in an animation")),
            b"VP8X" => return Err((*at, "a single VP8X chunk")),
            _ => continue,
        }
        image = true;
    }
    if image {
        Ok(())
    } else {
        Err((
            12,
            "an image chunk (VP8, VP8L, or ANMF when animated) after VP8X",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::super::{NotAPhoto, PhotoKind, check_photo};

    fn riff(chunks: &[(&[u8; 4], &[u8])]) -> Vec<u8> {
        let mut body = b"WEBP".to_vec();
        for (code, data) in chunks {
            body.extend(*code);
            body.extend((data.len() as u32).to_le_bytes());
            body.extend(*data);
            if data.len() % 2 == 1 {
                body.push(0);
            }
        }
        let mut b = b"RIFF".to_vec();
        b.extend((body.len() as u32).to_le_bytes());
        b.extend(body);
        b
    }

    /// A lossy key frame header for a 16x16 image and a first partition of
    /// 6 bytes.
    fn vp8_frame() -> Vec<u8> {
        let tag: u32 = (6 << 5) | (1 << 4); // key frame, version 0, shown
        let mut f = tag.to_le_bytes()[..3].to_vec();
        f.extend([0x9D, 0x01, 0x2A, 16, 0, 16, 0]);
        f.extend([0u8; 7]);
        f
    }

    /// A lossless 1x1 image: header then a few bytes of bitstream.
    fn vp8l_frame() -> Vec<u8> {
        vec![0x2F, 0, 0, 0, 0, 0x88, 0x88, 0x08]
    }

    fn expected(bytes: &[u8]) -> &'static str {
        match check_photo(bytes) {
            Err(NotAPhoto::Malformed {
                kind: PhotoKind::WebP,
                expected,
                ..
            }) => expected,
            other => panic!("expected a malformed WebP, got {other:?}"),
        }
    }

    #[test]
    fn simple_and_extended_webp_pass() {
        assert_eq!(
            check_photo(&riff(&[(b"VP8 ", &vp8_frame())])),
            Ok(PhotoKind::WebP)
        );
        assert_eq!(
            check_photo(&riff(&[(b"VP8L", &vp8l_frame())])),
            Ok(PhotoKind::WebP)
        );
        let vp8x = [0x20u8, 0, 0, 0, 15, 0, 0, 15, 0, 0]; // ICC flag, 16x16
        let b = riff(&[
            (b"VP8X", &vp8x),
            (b"ICCP", b"odd"),
            (b"VP8 ", &vp8_frame()),
            (b"EXIF", b"Exif\0\0"),
        ]);
        assert_eq!(check_photo(&b), Ok(PhotoKind::WebP));
    }

    #[test]
    fn a_riff_size_that_lies_is_refused() {
        let mut b = riff(&[(b"VP8L", &vp8l_frame())]);
        b[4] += 2;
        assert_eq!(
            expected(&b),
            "a RIFF size equal to the file's size less 8 bytes"
        );
        // Told the truth about the file, and a chunk claims more than it.
        let mut b = riff(&[(b"VP8L", &vp8l_frame())]);
        b[16] += 4;
        assert_eq!(expected(&b), "a chunk size within the RIFF size");
    }

    #[test]
    fn every_truncation_is_refused() {
        let b = riff(&[(b"VP8 ", &vp8_frame())]);
        for len in 12..b.len() {
            assert!(check_photo(&b[..len]).is_err(), "cut at {len}");
        }
    }

    #[test]
    fn webp_magic_then_html_is_refused() {
        let mut b = riff(&[(b"VP8L", &vp8l_frame())]);
        b.truncate(12);
        b.extend(b"<html><body>hello</body></html>");
        let size = (b.len() - 8) as u32;
        b[4..8].copy_from_slice(&size.to_le_bytes());
        assert_eq!(expected(&b), "a chunk size within the RIFF size");
        let b = riff(&[(b"VP8L", &vp8l_frame()), (b"HTML", b"<html>")]);
        assert_eq!(
            expected(&b),
            "the end of the file after a simple WebP's image chunk"
        );
    }

    #[test]
    fn frame_headers_are_checked() {
        let mut zero = vp8_frame();
        zero[6] = 0; // width 0
        assert_eq!(
            expected(&riff(&[(b"VP8 ", &zero)])),
            "a VP8 frame with a non-zero width and height"
        );
        let mut interframe = vp8_frame();
        interframe[0] |= 1;
        assert_eq!(
            expected(&riff(&[(b"VP8 ", &interframe)])),
            "a shown VP8 key frame whose first partition fits its chunk"
        );
        let vp8x = [0u8, 0, 0, 0, 15, 0, 0, 15, 0, 0];
        assert_eq!(
            expected(&riff(&[(b"VP8X", &vp8x), (b"EXIF", b"x")])),
            "an image chunk (VP8, VP8L, or ANMF when animated) after VP8X"
        );
    }
}
