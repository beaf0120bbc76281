//! PNG (ISO/IEC 15948): the signature, then chunks of length, type, data
//! and a CRC-32 over type and data, each CRC checked. IHDR comes first with
//! a non-zero width and height and a valid pixel format; IDAT chunks follow
//! one another; IEND is last and ends the file. The image data is not
//! inflated: its CRC proves it arrived as written, and the pixels are the
//! viewer's business.

use super::{Flaw, be32, flaw};

pub(super) const SIGNATURE: [u8; 8] = [0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];

/// Chunk types a decoder must understand (their first letter is upper
/// case); an unknown one means a file a viewer would refuse.
const CRITICAL: [&[u8; 4]; 4] = [b"IHDR", b"PLTE", b"IDAT", b"IEND"];

pub(super) fn check(b: &[u8]) -> Result<(), Flaw> {
    let mut at = SIGNATURE.len();
    let mut first = true;
    let mut idat = Idat::NotYet;
    loop {
        if at == b.len() {
            return Err(flaw(at, "an IEND chunk at the end"));
        }
        let len = be32(b, at).ok_or(flaw(at, "a chunk length"))?;
        if len > 0x7FFF_FFFF {
            return Err(flaw(at, "a chunk length below 2^31"));
        }
        let kind: [u8; 4] = b
            .get(at + 4..at + 8)
            .and_then(|k| k.try_into().ok())
            .ok_or(flaw(at + 4, "a chunk type"))?;
        if !kind.iter().all(u8::is_ascii_alphabetic) {
            return Err(flaw(at + 4, "a chunk type of four letters"));
        }
        let data = at + 8;
        let end = data + len as usize;
        let crc = be32(b, end).ok_or(flaw(at, "a chunk length within the file"))?;
        if crc32(&b[at + 4..end]) != crc {
            return Err(flaw(end, "the chunk's CRC-32 of its type and data"));
        }
        if first != (&kind == b"IHDR") {
            return Err(flaw(at + 4, "IHDR as the first chunk, and only there"));
        }
        match &kind {
            b"IHDR" => check_header(&b[data..end]).map_err(|e| flaw(data, e))?,
            b"IDAT" if idat == Idat::Ended => {
                return Err(flaw(at + 4, "the IDAT chunks one after another"));
            }
            b"IDAT" => idat = Idat::Open,
            b"IEND" if idat == Idat::NotYet => {
                return Err(flaw(at + 4, "image data (IDAT) before IEND"));
            }
            b"IEND" if len != 0 => return Err(flaw(at, "an empty IEND chunk")),
            b"IEND" if end + 4 != b.len() => {
                return Err(flaw(end + 4, "the end of the file after IEND"));
            }
            b"IEND" => return Ok(()),
            k if k[0].is_ascii_uppercase() && !CRITICAL.contains(&k) => {
                return Err(flaw(
                    at + 4,
                    "a known critical chunk (IHDR, PLTE, IDAT, IEND)",
                ));
            }
            _ if idat == Idat::Open => idat = Idat::Ended,
            _ => {}
        }
        first = false;
        at = end + 4;
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Idat {
    NotYet,
    Open,
    Ended,
}

/// IHDR: width, height, bit depth, colour type, compression, filter,
/// interlace.
fn check_header(d: &[u8]) -> Result<(), &'static str> {
    let [w0, w1, w2, w3, h0, h1, h2, h3, depth, colour, 0, 0, 0 | 1] = d else {
        return Err("an IHDR of 13 bytes with compression 0, filter 0, interlace 0 or 1");
    };
    let (w, h) = (
        u32::from_be_bytes([*w0, *w1, *w2, *w3]),
        u32::from_be_bytes([*h0, *h1, *h2, *h3]),
    );
    if w == 0 || h == 0 || w > 0x7FFF_FFFF || h > 0x7FFF_FFFF {
        return Err("a non-zero width and height below 2^31");
    }
    let valid = match colour {
        0 => matches!(depth, 1 | 2 | 4 | 8 | 16),
        3 => matches!(depth, 1 | 2 | 4 | 8),
        2 | 4 | 6 => matches!(depth, 8 | 16),
        _ => false,
    };
    if !valid {
        return Err("a colour type and bit depth PNG allows");
    }
    Ok(())
}

/// CRC-32 (ISO-HDLC, as PNG and zlib use it), one table lookup a byte.
pub(super) fn crc32(bytes: &[u8]) -> u32 {
    !bytes.iter().fold(!0u32, |c, &b| {
        CRC_TABLE[usize::from((c as u8) ^ b)] ^ (c >> 8)
    })
}

const CRC_TABLE: [u32; 256] = {
    let mut table = [0u32; 256];
    let mut n = 0;
    while n < 256 {
        let mut c = n as u32;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 == 1 {
                0xEDB8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
            k += 1;
        }
        table[n] = c;
        n += 1;
    }
    table
};

#[cfg(test)]
mod tests {
    use super::super::{NotAPhoto, PhotoKind, check_photo};
    use super::*;

    fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
        out.extend((data.len() as u32).to_be_bytes());
        out.extend(kind);
        out.extend(data);
        let mut covered = kind.to_vec();
        covered.extend(data);
        out.extend(crc32(&covered).to_be_bytes());
    }

    /// A real 2x2 RGB PNG: its IDAT a zlib stream with one stored block
    /// (each row a filter byte 0 and 6 bytes of pixels) and its Adler-32.
    fn tiny() -> Vec<u8> {
        let raw = [0u8, 255, 0, 0, 0, 255, 0, 0, 0, 0, 255, 255, 255, 255];
        let mut z = vec![0x78, 0x01, 0x01];
        z.extend((raw.len() as u16).to_le_bytes());
        z.extend((!(raw.len() as u16)).to_le_bytes());
        z.extend(raw);
        let (a, b) = raw.iter().fold((1u32, 0u32), |(a, b), &x| {
            let a = (a + u32::from(x)) % 65521;
            (a, (b + a) % 65521)
        });
        z.extend(((b << 16) | a).to_be_bytes());
        let mut png = SIGNATURE.to_vec();
        chunk(&mut png, b"IHDR", &[0, 0, 0, 2, 0, 0, 0, 2, 8, 2, 0, 0, 0]);
        chunk(&mut png, b"tEXt", b"Comment\0dock 3");
        chunk(&mut png, b"IDAT", &z);
        chunk(&mut png, b"IEND", &[]);
        png
    }

    fn expected(bytes: &[u8]) -> &'static str {
        match check_photo(bytes) {
            Err(NotAPhoto::Malformed {
                kind: PhotoKind::Png,
                expected,
                ..
            }) => expected,
            other => panic!("expected a malformed PNG, got {other:?}"),
        }
    }

    #[test]
    fn crc32_matches_the_standard_check_value() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
    }

    #[test]
    fn a_real_png_passes() {
        assert_eq!(check_photo(&tiny()), Ok(PhotoKind::Png));
    }

    #[test]
    fn every_truncation_of_a_real_png_is_refused() {
        let b = tiny();
        for len in 8..b.len() {
            assert!(check_photo(&b[..len]).is_err(), "cut at {len}");
        }
    }

    #[test]
    fn a_wrong_crc_is_refused() {
        let mut b = tiny();
        let idat = b.windows(4).position(|w| w == b"IDAT").unwrap();
        b[idat + 8] ^= 1; // one bit of the image data
        assert_eq!(expected(&b), "the chunk's CRC-32 of its type and data");
    }

    #[test]
    fn png_magic_then_html_and_bytes_after_iend_are_refused() {
        let mut b = SIGNATURE.to_vec();
        b.extend(b"<html><body>hello</body></html>");
        assert!(matches!(
            check_photo(&b),
            Err(NotAPhoto::Malformed {
                kind: PhotoKind::Png,
                ..
            })
        ));
        let mut b = tiny();
        b.extend(b"<html>");
        assert_eq!(expected(&b), "the end of the file after IEND");
    }

    #[test]
    fn headers_and_chunk_order_are_checked() {
        let mut zero = SIGNATURE.to_vec();
        chunk(&mut zero, b"IHDR", &[0, 0, 0, 0, 0, 0, 0, 2, 8, 2, 0, 0, 0]);
        assert_eq!(expected(&zero), "a non-zero width and height below 2^31");
        let mut no_ihdr = SIGNATURE.to_vec();
        chunk(&mut no_ihdr, b"IDAT", &[0]);
        assert_eq!(
            expected(&no_ihdr),
            "IHDR as the first chunk, and only there"
        );
        let mut no_data = SIGNATURE.to_vec();
        chunk(
            &mut no_data,
            b"IHDR",
            &[0, 0, 0, 1, 0, 0, 0, 1, 8, 0, 0, 0, 0],
        );
        chunk(&mut no_data, b"IEND", &[]);
        assert_eq!(expected(&no_data), "image data (IDAT) before IEND");
    }
}
