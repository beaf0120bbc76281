//! Photos for the end-to-end tests: real JPEGs, since the server and the
//! terminal walk a photo's whole structure before they take it.

/// A real baseline JPEG of 8x8 grey pixels, without its SOI: quantisation
/// and Huffman tables, the frame header, one scan with one block of
/// entropy-coded data, EOI.
fn picture() -> Vec<u8> {
    let mut b = vec![0xFF, 0xDB, 0x00, 0x43, 0x00];
    b.extend([1u8; 64]); // quantisation steps
    b.extend([
        0xFF, 0xC0, 0x00, 0x0B, 0x08, 0x00, 0x08, 0x00, 0x08, 0x01, 0x01, 0x11, 0x00,
    ]);
    // Huffman tables, DC then AC, each with one 1-bit code: "difference 0"
    // and "end of block".
    for class in [0x00, 0x10] {
        b.extend([0xFF, 0xC4, 0x00, 0x14, class, 0x01]);
        b.extend([0u8; 15]);
        b.push(0x00);
    }
    b.extend([0xFF, 0xDA, 0x00, 0x08, 0x01, 0x01, 0x00, 0x00, 0x3F, 0x00]);
    b.push(0x3F); // the block: both codes, padded with ones
    b.extend([0xFF, 0xD9]);
    b
}

/// A real JPEG of exactly `len` bytes (at least 200), different for each
/// `seed`: the picture above behind comment (COM) segments of
/// pseudo-random bytes, where a camera's metadata would sit.
pub fn jpeg(len: usize, seed: u64) -> Vec<u8> {
    let picture = picture();
    assert!(len >= 200, "a test JPEG has at least 200 bytes");
    let mut out = Vec::with_capacity(len);
    out.extend([0xFF, 0xD8]);
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut left = len - 2 - picture.len();
    while left > 0 {
        // A segment is 4 to 65,537 bytes; never leave 1 to 3 over.
        let mut segment = left.min(4 + 65_533);
        if (1..4).contains(&(left - segment)) {
            segment -= 4;
        }
        out.extend([0xFF, 0xFE]);
        out.extend(((segment - 2) as u16).to_be_bytes());
        for _ in 0..segment - 4 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            out.push(x as u8);
        }
        left -= segment;
    }
    out.extend(picture);
    assert_eq!(out.len(), len);
    out
}
