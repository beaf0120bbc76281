//! HEIC (HEIF, ISO/IEC 23008-12, in ISO-BMFF boxes): top-level boxes that
//! cover exactly the file (a 64-bit size when the 32-bit one is 1, "to the
//! end" when it is 0), `ftyp` first with a HEVC image brand, and one `meta`
//! box whose children cover it and include the handler `pict`, the primary
//! item (`pitm`), the item list (`iinf`) and the item locations (`iloc`):
//! what a viewer needs to find the picture. The HEVC data is not decoded.

use super::{Flaw, be32, flaw};

/// Brands of HEVC-coded HEIF images and sequences. AVIF shares the
/// container but is not a kind accepted here.
const BRANDS: [&[u8; 4]; 8] = [
    b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm", b"hevs",
];

pub(super) fn check(b: &[u8]) -> Result<(), Flaw> {
    let top = boxes(b, 0, b.len())?;
    let Some((_, _, payload)) = top.first().filter(|(kind, ..)| kind == b"ftyp") else {
        return Err(flaw(4, "ftyp as the first box"));
    };
    check_brands(&b[payload.clone()]).map_err(|e| flaw(payload.start, e))?;
    let mut metas = top.iter().filter(|(kind, ..)| kind == b"meta");
    let Some((_, at, payload)) = metas.next() else {
        return Err(flaw(b.len(), "a meta box"));
    };
    if let Some((_, at, _)) = metas.next() {
        return Err(flaw(*at, "a single meta box"));
    }
    check_meta(b, payload.clone()).map_err(|(at_inner, e)| flaw(at_inner.max(*at), e))
}

/// A box: its type, its offset, the range of its payload.
type BmffBox = ([u8; 4], usize, std::ops::Range<usize>);

/// The boxes between `start` and `end`. Every size must keep the box
/// inside, and the last must end exactly at `end`.
fn boxes(b: &[u8], start: usize, end: usize) -> Result<Vec<BmffBox>, Flaw> {
    let mut out = Vec::new();
    let mut at = start;
    while at < end {
        if end - at < 8 {
            return Err(flaw(at, "a box header of 8 bytes"));
        }
        let size = be32(b, at).ok_or(flaw(at, "a box size"))?;
        let kind: [u8; 4] = b[at + 4..at + 8]
            .try_into()
            .map_err(|_| flaw(at + 4, "a box type"))?;
        let (header, size) = match size {
            0 => (8, end - at),
            1 => {
                let large = b
                    .get(at + 8..at + 16)
                    .filter(|_| at + 16 <= end)
                    .and_then(|l| l.try_into().ok())
                    .map(u64::from_be_bytes)
                    .ok_or(flaw(at + 8, "a 64-bit box size"))?;
                (16, usize::try_from(large).unwrap_or(usize::MAX))
            }
            n => (8, n as usize),
        };
        if size < header || size > end - at {
            return Err(flaw(at, "a box size within its container"));
        }
        out.push((kind, at, at + header..at + size));
        at += size;
    }
    Ok(out)
}

/// ftyp: major brand, minor version, compatible brands.
fn check_brands(ftyp: &[u8]) -> Result<(), &'static str> {
    if ftyp.len() < 8 || !ftyp.len().is_multiple_of(4) {
        return Err("an ftyp box of a major brand, a version and whole brands");
    }
    let major = &ftyp[0..4];
    let heic = std::iter::once(major)
        .chain(ftyp[8..].chunks_exact(4))
        .any(|brand| BRANDS.iter().any(|h| h[..] == *brand));
    if heic {
        Ok(())
    } else {
        Err("a HEIC brand (heic, heix, hevc, …) in ftyp")
    }
}

/// meta is a full box (version and flags, then children).
fn check_meta(b: &[u8], payload: std::ops::Range<usize>) -> Result<(), (usize, &'static str)> {
    if payload.len() < 4 {
        return Err((payload.start, "a meta box with version and flags"));
    }
    let children = boxes(b, payload.start + 4, payload.end).map_err(|f| (f.at, f.expected))?;
    let has = |kind: &[u8; 4]| children.iter().find(|(k, ..)| k == kind);
    // hdlr: version and flags, pre_defined, then the handler type.
    let handler = has(b"hdlr").and_then(|(_, _, p)| b.get(p.start + 8..p.start + 12));
    if handler != Some(b"pict") {
        return Err((payload.start, "a meta box with the handler (hdlr) pict"));
    }
    if [b"pitm", b"iinf"].iter().any(|k| has(k).is_none()) {
        return Err((payload.start, "a meta box with pitm, iinf and iloc"));
    }
    let Some((_, at, iloc)) = has(b"iloc") else {
        return Err((payload.start, "a meta box with pitm, iinf and iloc"));
    };
    check_locations(&b[iloc.clone()], b.len()).ok_or((*at, "item locations (iloc) within the file"))
}

/// iloc: every extent stored in this file (construction method 0, data
/// reference 0) must lie within it; a copy cut short loses the picture
/// even when its boxes still add up. `None` when the box is malformed or
/// an extent points past the end.
fn check_locations(iloc: &[u8], file_len: usize) -> Option<()> {
    let mut r = Fields { b: iloc, at: 0 };
    let version = r.take(1)?;
    r.take(3)?; // flags
    let sizes = r.take(2)?;
    let (offset_size, length_size) = (sizes >> 12, (sizes >> 8) & 0xF);
    let (base_size, index_size) = (
        (sizes >> 4) & 0xF,
        if version == 0 { 0 } else { sizes & 0xF },
    );
    if version > 2
        || [offset_size, length_size, base_size, index_size]
            .iter()
            .any(|s| ![0, 4, 8].contains(s))
    {
        return None;
    }
    let wide = if version == 2 { 4 } else { 2 };
    let items = r.take(wide)?;
    for _ in 0..items {
        r.take(wide)?; // item id
        let method = if version == 0 { 0 } else { r.take(2)? & 0xF };
        let reference = r.take(2)?;
        let base = r.take(base_size)?;
        let extents = r.take(2)?;
        // Extents of no bytes at all (every size 0) say "from the base to
        // the end": one check, not up to 65,535 loops of nothing, so an
        // item costs time only for the bytes it holds.
        if index_size + offset_size + length_size == 0 {
            if method == 0 && reference == 0 && base > file_len as u64 {
                return None;
            }
            continue;
        }
        for _ in 0..extents {
            r.take(index_size)?;
            let offset = r.take(offset_size)?;
            let length = r.take(length_size)?;
            let end = base.checked_add(offset)?.checked_add(length)?;
            if method == 0 && reference == 0 && end > file_len as u64 {
                return None;
            }
        }
    }
    Some(())
}

/// Big-endian fields of 0 to 8 bytes read one after another.
struct Fields<'a> {
    b: &'a [u8],
    at: usize,
}

impl Fields<'_> {
    fn take(&mut self, n: u64) -> Option<u64> {
        let n = usize::try_from(n).ok()?;
        let field = self.b.get(self.at..self.at.checked_add(n)?)?;
        self.at += n;
        Some(field.iter().fold(0, |v, &x| (v << 8) | u64::from(x)))
    }
}

#[cfg(test)]
mod tests {
    use super::super::{NotAPhoto, PhotoKind, check_photo};

    fn bx(kind: &[u8; 4], payload: &[u8]) -> Vec<u8> {
        let mut b = ((payload.len() + 8) as u32).to_be_bytes().to_vec();
        b.extend(kind);
        b.extend(payload);
        b
    }

    fn full(kind: &[u8; 4], payload: &[u8]) -> Vec<u8> {
        bx(kind, &[&[0, 0, 0, 0], payload].concat())
    }

    /// The boxes of a one-image HEIC as cameras write them: ftyp, meta
    /// (hdlr, pitm, iinf with one hvc1 item, iloc pointing into mdat,
    /// iprp with the image size), mdat.
    fn tiny() -> Vec<u8> {
        let ftyp = bx(b"ftyp", b"heic\0\0\0\0mif1heic");
        let hdlr = full(b"hdlr", b"\0\0\0\0pict\0\0\0\0\0\0\0\0\0\0\0\0\0");
        let pitm = full(b"pitm", &[0, 1]);
        let infe = bx(b"infe", b"\x02\0\0\0\0\x01\0\0hvc1\0");
        let iinf = full(b"iinf", &[&[0, 1][..], &infe].concat());
        let ispe = full(b"ispe", &[0, 0, 0, 64, 0, 0, 0, 48]);
        let iprp = bx(b"iprp", &bx(b"ipco", &ispe));
        let data = [0u8, 0, 0, 1, 0x26, 0x01, 0xAF];
        let mut meta_children = [hdlr, pitm, iinf, iprp].concat();
        let iloc_len = 8 + 4 + 10 + 8;
        let meta_len = 8 + 4 + meta_children.len() + iloc_len;
        let offset = (ftyp.len() + meta_len + 8) as u32;
        let mut iloc = vec![0x44, 0x00, 0, 1, 0, 1, 0, 0, 0, 1];
        iloc.extend(offset.to_be_bytes());
        iloc.extend((data.len() as u32).to_be_bytes());
        meta_children.extend(full(b"iloc", &iloc));
        let meta = full(b"meta", &meta_children);
        assert_eq!(meta.len(), meta_len);
        [ftyp, meta, bx(b"mdat", &data)].concat()
    }

    fn expected(bytes: &[u8]) -> &'static str {
        match check_photo(bytes) {
            Err(NotAPhoto::Malformed {
                kind: PhotoKind::Heic,
                expected,
                ..
            }) => expected,
            other => panic!("expected a malformed HEIC, got {other:?}"),
        }
    }

    #[test]
    fn a_heic_passes_with_32_bit_64_bit_and_to_the_end_sizes() {
        let b = tiny();
        assert_eq!(check_photo(&b), Ok(PhotoKind::Heic));
        // mdat written "to the end of the file" (size 0).
        let mut open = b.clone();
        let mdat = open.len() - 15;
        open[mdat..mdat + 4].copy_from_slice(&[0, 0, 0, 0]);
        assert_eq!(check_photo(&open), Ok(PhotoKind::Heic));
        // mdat with a 64-bit size.
        let mut large = b[..mdat].to_vec();
        large.extend([0, 0, 0, 1]);
        large.extend(b"mdat");
        large.extend(23u64.to_be_bytes());
        large.extend(&b[mdat + 8..]);
        assert_eq!(check_photo(&large), Ok(PhotoKind::Heic));
    }

    #[test]
    fn boxes_that_do_not_cover_the_file_are_refused() {
        let mut b = tiny();
        b.extend(b"<html>");
        assert_eq!(expected(&b), "a box header of 8 bytes");
        let mut b = tiny();
        b.extend(b"\0\0\x01\0html<body>");
        assert_eq!(expected(&b), "a box size within its container");
        // Cut after meta: the boxes still add up, the picture is gone.
        let b = tiny();
        assert_eq!(
            expected(&b[..b.len() - 15]),
            "item locations (iloc) within the file"
        );
        for len in 8..tiny().len() {
            assert!(check_photo(&tiny()[..len]).is_err(), "cut at {len}");
        }
    }

    #[test]
    fn heic_magic_then_html_is_refused() {
        let mut b = bx(b"ftyp", b"heic\0\0\0\0mif1heic");
        b.extend(b"<html><body>hello</body></html>");
        assert_eq!(expected(&b), "a box size within its container");
    }

    #[test]
    fn brands_and_meta_are_checked() {
        let b = tiny();
        let mut avif = b.clone();
        avif[8..12].copy_from_slice(b"avif");
        avif[20..24].copy_from_slice(b"avif");
        assert_eq!(
            expected(&avif),
            "a HEIC brand (heic, heix, hevc, …) in ftyp"
        );
        let ftyp = bx(b"ftyp", b"heic\0\0\0\0mif1heic");
        let no_meta = [ftyp.clone(), bx(b"mdat", b"x")].concat();
        assert_eq!(expected(&no_meta), "a meta box");
        let video = [ftyp, full(b"meta", &full(b"hdlr", b"\0\0\0\0vide"))].concat();
        assert_eq!(expected(&video), "a meta box with the handler (hdlr) pict");
    }
}
