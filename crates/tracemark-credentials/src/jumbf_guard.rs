//! A bounded structural check of a manifest store before the c2pa crate reads it.
//!
//! c2pa 0.90 decodes assertions with `c2pa_cbor`, whose slice decoder reserves and
//! zero-fills a byte string's declared length before it checks how many bytes are left:
//! a few KB of hostile media made it allocate 1.85 GB (`fuzz/RESULTS.md`). So before any
//! `Reader` sees a store, we walk its JUMBF boxes (every box inside its parent) and the
//! CBOR of every `cbor` content box (every string no longer than the bytes left in its
//! box, every array or map no larger than those bytes can hold, nesting bounded). A store
//! that fails is never handed to c2pa. The walk allocates nothing and is linear in the
//! store's size.

use std::io::Cursor;

/// JUMBF superboxes nested deeper than this are refused (a C2PA store nests about 5).
const MAX_BOX_DEPTH: usize = 64;
/// CBOR items nested deeper than this are refused (C2PA assertions nest about 10).
pub(crate) const MAX_CBOR_DEPTH: usize = 64;

/// Why a store was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Malformed {
    pub reason: String,
}

impl Malformed {
    fn new(reason: impl Into<String>) -> Self {
        Self {
            reason: reason.into(),
        }
    }
}

impl std::fmt::Display for Malformed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.reason)
    }
}

/// Checks the manifest store a media file carries, as the c2pa crate would extract it.
/// The store is extracted for the format `hint` names and for the container the bytes'
/// leading magic says (c2pa's `Reader::with_stream` prefers the latter when they
/// differ), and each store found must pass [`check_store`]. Media without a store passes
/// (the reader then finds none).
pub(crate) fn check_media(hint: &str, bytes: &[u8]) -> Result<(), Malformed> {
    let detected = container_from_magic(bytes);
    for format in std::iter::once(hint).chain(detected.iter().copied()) {
        if let Ok(store) = c2pa::jumbf_io::load_jumbf_from_stream(format, &mut Cursor::new(bytes)) {
            check_store(&store)?;
        }
    }
    Ok(())
}

/// The container c2pa detects from leading bytes (`jumbf_io::container_from_stream`,
/// which is private), as formats its loaders accept.
fn container_from_magic(b: &[u8]) -> &'static [&'static str] {
    let starts = |m: &[u8]| b.starts_with(m);
    if starts(&[0xff, 0xd8, 0xff]) {
        &["jpg"]
    } else if starts(&[0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a]) {
        &["png"]
    } else if starts(b"GIF87a") || starts(b"GIF89a") {
        &["gif"]
    } else if starts(b"II*\0") || starts(b"MM\0*") || starts(b"II+\0") || starts(b"MM\0+") {
        &["tif"]
    } else if starts(&[
        0, 0, 0, 0x0c, b'J', b'X', b'L', b' ', 0x0d, 0x0a, 0x87, 0x0a,
    ]) {
        &["jxl"]
    } else if starts(b"RIFF") {
        &["avi"]
    } else if b.len() >= 8 && &b[4..8] == b"ftyp" {
        &["avif"]
    } else if starts(b"fLaC") {
        &["flac"]
    } else if starts(b"ID3") {
        // An ID3 tag may precede FLAC as well as MP3: both loaders' stores are checked.
        &["mp3", "flac"]
    } else if b.len() >= 2 && b[0] == 0xff && b[1] & 0xe0 == 0xe0 {
        &["mp3"]
    } else if starts(b"%PDF") {
        &["pdf"]
    } else {
        &[]
    }
}

/// Checks a JUMBF manifest store: every box fits in its parent, superboxes nest at most
/// [`MAX_BOX_DEPTH`] deep, and the CBOR of every `cbor` box passes [`check_cbor`].
pub(crate) fn check_store(store: &[u8]) -> Result<(), Malformed> {
    if store.is_empty() {
        return Err(Malformed::new("the manifest store is empty"));
    }
    walk_boxes(store, 0, 0)
}

fn walk_boxes(data: &[u8], base: usize, depth: usize) -> Result<(), Malformed> {
    let mut pos = 0usize;
    while pos < data.len() {
        let left = data.len() - pos;
        let at = base + pos;
        if left < 8 {
            return Err(Malformed::new(format!(
                "a JUMBF box header at byte {at} is cut ({left} bytes left)"
            )));
        }
        let lbox = u32::from_be_bytes(data[pos..pos + 4].try_into().expect("4 bytes"));
        let tbox: [u8; 4] = data[pos + 4..pos + 8].try_into().expect("4 bytes");
        let (header, size) = match lbox {
            0 => (8usize, left as u64),
            1 => {
                if left < 16 {
                    return Err(Malformed::new(format!(
                        "a JUMBF box's extended length at byte {at} is cut"
                    )));
                }
                let xl = u64::from_be_bytes(data[pos + 8..pos + 16].try_into().expect("8 bytes"));
                if xl < 16 {
                    return Err(Malformed::new(format!(
                        "a JUMBF box at byte {at} has extended length {xl}, under its header"
                    )));
                }
                (16, xl)
            }
            2..=7 => {
                return Err(Malformed::new(format!(
                    "a JUMBF box at byte {at} has length {lbox}, under its header"
                )));
            }
            n => (8, u64::from(n)),
        };
        if size > left as u64 {
            return Err(Malformed::new(format!(
                "a JUMBF box at byte {at} declares {size} bytes, but {left} are left in its parent"
            )));
        }
        let size = size as usize; // <= left
        let payload = &data[pos + header..pos + size];
        match &tbox {
            b"jumb" => {
                if depth >= MAX_BOX_DEPTH {
                    return Err(Malformed::new(format!(
                        "JUMBF superboxes nest deeper than {MAX_BOX_DEPTH}"
                    )));
                }
                walk_boxes(payload, at + header, depth + 1)?;
            }
            b"cbor" => check_cbor(payload).map_err(|e| {
                Malformed::new(format!("in the CBOR box at byte {at}: {}", e.reason))
            })?,
            _ => {}
        }
        pos += size;
    }
    Ok(())
}

/// Checks a CBOR box's content (a sequence of data items): every definite byte or text
/// string fits in the bytes left, every array or map count is at most what the bytes
/// left can hold (an element takes at least a byte), indefinite items are closed, and
/// nesting is at most [`MAX_CBOR_DEPTH`].
pub(crate) fn check_cbor(data: &[u8]) -> Result<(), Malformed> {
    let mut cur = Cbor { data, pos: 0 };
    while cur.pos < data.len() {
        if cur.item(0)? == Item::Break {
            return Err(cur.err("a break outside an indefinite-length item"));
        }
    }
    Ok(())
}

#[derive(Debug, PartialEq, Eq)]
enum Item {
    Value,
    Break,
}

struct Cbor<'a> {
    data: &'a [u8],
    pos: usize,
}

impl Cbor<'_> {
    fn left(&self) -> u64 {
        (self.data.len() - self.pos) as u64
    }

    fn err(&self, what: &str) -> Malformed {
        Malformed::new(format!(
            "{what} at byte {}: the manifest is malformed or hostile",
            self.pos
        ))
    }

    /// A declared length or count larger than the bytes left.
    fn too_long(&self, what: String) -> Malformed {
        self.err(&format!("a CBOR length exceeds its box ({what})"))
    }

    fn byte(&mut self) -> Result<u8, Malformed> {
        let b = *self
            .data
            .get(self.pos)
            .ok_or_else(|| self.err("the CBOR is cut"))?;
        self.pos += 1;
        Ok(b)
    }

    /// The argument of an initial byte's additional information (`None`: indefinite).
    fn argument(&mut self, info: u8) -> Result<Option<u64>, Malformed> {
        let n = match info {
            0..=23 => return Ok(Some(u64::from(info))),
            24 => 1,
            25 => 2,
            26 => 4,
            27 => 8,
            31 => return Ok(None),
            _ => return Err(self.err("reserved additional information 28-30")),
        };
        if self.left() < n {
            return Err(self.err("a CBOR argument is cut"));
        }
        let mut v = 0u64;
        for _ in 0..n {
            v = (v << 8) | u64::from(self.byte()?);
        }
        Ok(Some(v))
    }

    fn skip(&mut self, len: u64, what: &str) -> Result<(), Malformed> {
        if len > self.left() {
            return Err(self.too_long(format!("a {what} of {len} bytes with {} left", self.left())));
        }
        self.pos += len as usize; // <= left
        Ok(())
    }

    fn item(&mut self, depth: usize) -> Result<Item, Malformed> {
        if depth > MAX_CBOR_DEPTH {
            return Err(self.err(&format!("CBOR nested deeper than {MAX_CBOR_DEPTH}")));
        }
        let initial = self.byte()?;
        let (major, info) = (initial >> 5, initial & 0x1f);
        let arg = self.argument(info)?;
        match (major, arg) {
            (0 | 1, Some(_)) => {}
            (2 | 3, Some(len)) => self.skip(
                len,
                if major == 2 {
                    "byte string"
                } else {
                    "text string"
                },
            )?,
            (2 | 3, None) => loop {
                // Chunks of definite strings of the same type, then a break.
                let b = self.byte()?;
                if b == 0xff {
                    break;
                }
                if b >> 5 != major {
                    return Err(self.err("a chunk of another type in an indefinite string"));
                }
                match self.argument(b & 0x1f)? {
                    Some(len) => self.skip(len, "string chunk")?,
                    None => return Err(self.err("a nested indefinite string")),
                }
            },
            (4, Some(count)) => {
                if count > self.left() {
                    return Err(self.too_long(format!(
                        "an array of {count} items with {} bytes left",
                        self.left()
                    )));
                }
                for _ in 0..count {
                    self.element(depth)?;
                }
            }
            (5, Some(count)) => {
                if count > self.left() / 2 {
                    return Err(self.too_long(format!(
                        "a map of {count} entries with {} bytes left",
                        self.left()
                    )));
                }
                for _ in 0..count.saturating_mul(2) {
                    self.element(depth)?;
                }
            }
            (4 | 5, None) => {
                let mut n = 0u64;
                while self.item(depth + 1)? == Item::Value {
                    n += 1;
                }
                if major == 5 && n % 2 == 1 {
                    return Err(self.err("an indefinite map with a key and no value"));
                }
            }
            (6, Some(_)) => self.element(depth)?,
            (7, Some(_)) => {} // simple values and floats: the argument was all
            (7, None) => return Ok(Item::Break),
            _ => return Err(self.err("an indefinite length on an integer or tag")),
        }
        Ok(Item::Value)
    }

    /// A nested item that must be a value (a break there is malformed).
    fn element(&mut self, depth: usize) -> Result<(), Malformed> {
        match self.item(depth + 1)? {
            Item::Value => Ok(()),
            Item::Break => Err(self.err("a break where an item was expected")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn boxed(kind: &[u8; 4], payload: &[u8]) -> Vec<u8> {
        let mut b = ((payload.len() + 8) as u32).to_be_bytes().to_vec();
        b.extend_from_slice(kind);
        b.extend_from_slice(payload);
        b
    }

    fn store_with(cbor: &[u8]) -> Vec<u8> {
        let jumd = boxed(b"jumd", &[0u8; 17]);
        let mut inner = jumd.clone();
        inner.extend(boxed(b"cbor", cbor));
        let mut outer = jumd;
        outer.extend(boxed(b"jumb", &inner));
        boxed(b"jumb", &outer)
    }

    #[test]
    fn valid_cbor_passes() {
        // {"a": [1, -2, h'0102', "xy", 1.5, true, null, 24(h'00'), {_ "k": [_ 1]}]}
        let cbor = [
            0xa1, 0x61, b'a', 0x89, 0x01, 0x21, 0x42, 1, 2, 0x62, b'x', b'y', 0xf9, 0x3e, 0x00,
            0xf5, 0xf6, 0xd8, 0x18, 0x41, 0x00, 0xbf, 0x61, b'k', 0x9f, 0x01, 0xff, 0xff,
        ];
        check_cbor(&cbor).unwrap();
        check_store(&store_with(&cbor)).unwrap();
        // Indefinite strings, 8-byte arguments that fit, an empty box.
        check_cbor(&[0x5f, 0x41, 1, 0x42, 2, 3, 0xff, 0x7f, 0x61, b'a', 0xff]).unwrap();
        check_cbor(&[0x1b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]).unwrap();
        check_cbor(&[0x5b, 0, 0, 0, 0, 0, 0, 0, 1, 7]).unwrap();
        check_cbor(&[]).unwrap();
    }

    #[test]
    fn over_long_lengths_fail() {
        // Byte string: 4-byte length as in the fuzz finding (0x6E696D71).
        assert!(check_cbor(&[0x5a, 0x6e, 0x69, 0x6d, 0x71, 0, 0]).is_err());
        assert!(check_cbor(&[0x42, 1]).is_err());
        // Text string.
        assert!(check_cbor(&[0x78, 200, b'a']).is_err());
        // Array and map counts.
        assert!(check_cbor(&[0x9a, 0x7f, 0xff, 0xff, 0xff, 1]).is_err());
        assert!(check_cbor(&[0x83, 1, 2]).is_err());
        assert!(check_cbor(&[0xba, 0x10, 0, 0, 0, 1, 2]).is_err());
        assert!(check_cbor(&[0xa2, 1, 2, 3]).is_err());
        // And inside a store.
        let err = check_store(&store_with(&[
            0xa1, 0x61, b'a', 0x5a, 0x6e, 0x69, 0x6d, 0x71,
        ]))
        .unwrap_err();
        assert!(err.reason.contains("exceeds its box"), "{err}");
    }

    #[test]
    fn eight_byte_lengths_near_the_top_fail_without_overflow() {
        for len in [u64::MAX, u64::MAX - 1, 1 << 63, (usize::MAX as u64) - 3] {
            for major in [0x5b, 0x7b, 0x9b, 0xbb] {
                let mut cbor = vec![major];
                cbor.extend_from_slice(&len.to_be_bytes());
                cbor.extend_from_slice(&[0; 4]);
                assert!(check_cbor(&cbor).is_err(), "{major:#x} {len}");
            }
        }
        // Indefinite string chunks too.
        let mut cbor = vec![0x5f, 0x5b];
        cbor.extend_from_slice(&u64::MAX.to_be_bytes());
        cbor.push(0xff);
        assert!(check_cbor(&cbor).is_err());
    }

    #[test]
    fn truncated_input_fails() {
        let cbor = [
            0xa1, 0x61, b'a', 0x83, 0x01, 0x19, 0x01, 0x00, 0x62, b'x', b'y',
        ];
        check_cbor(&cbor).unwrap();
        for cut in 1..cbor.len() {
            assert!(check_cbor(&cbor[..cut]).is_err(), "cut at {cut}");
        }
        // Unclosed indefinite items, stray breaks, reserved information.
        assert!(check_cbor(&[0x9f, 0x01]).is_err());
        assert!(check_cbor(&[0x5f, 0x41, 1]).is_err());
        assert!(check_cbor(&[0xff]).is_err());
        assert!(check_cbor(&[0x81, 0xff]).is_err());
        assert!(check_cbor(&[0x1c]).is_err());
        assert!(check_cbor(&[0x1f]).is_err());
        assert!(check_cbor(&[0xbf, 0x01, 0xff]).is_err());
        assert!(check_cbor(&[0x5f, 0x61, b'a', 0xff]).is_err());
    }

    #[test]
    fn deep_nesting_fails() {
        let ok = [vec![0x81; MAX_CBOR_DEPTH], vec![0x00]].concat();
        check_cbor(&ok).unwrap();
        let deep = [vec![0x81; MAX_CBOR_DEPTH + 1], vec![0x00]].concat();
        assert!(check_cbor(&deep).is_err());
        let deep_indefinite = vec![0x9f; 100_000];
        assert!(check_cbor(&deep_indefinite).is_err());
        let tags = vec![0xc6; 100_000];
        assert!(check_cbor(&tags).is_err());
        // Superboxes.
        let mut b = boxed(b"cbor", &[0]);
        for _ in 0..MAX_BOX_DEPTH + 1 {
            b = boxed(b"jumb", &b);
        }
        assert!(check_store(&b).is_err());
    }

    #[test]
    fn box_lengths_are_bounded_by_their_parent() {
        assert!(check_store(&[]).is_err());
        let mut over = boxed(b"jumb", &[0; 8]);
        over[3] += 1;
        assert!(check_store(&over).is_err());
        assert!(check_store(&[0, 0, 0, 4, b'j', b'u', b'm', b'b']).is_err());
        // Extended lengths: valid, too large, near u64::MAX, under the header.
        let ext = |xl: u64| {
            let mut b = vec![0, 0, 0, 1, b'j', b'u', b'm', b'b'];
            b.extend_from_slice(&xl.to_be_bytes());
            b.extend_from_slice(&[0; 8]);
            b
        };
        check_store(&ext(24)).unwrap();
        assert!(check_store(&ext(25)).is_err());
        assert!(check_store(&ext(u64::MAX)).is_err());
        assert!(check_store(&ext(8)).is_err());
        // A box cut inside a superbox; a zero length reaching the parent's end.
        let mut cut = boxed(b"jumb", &[0, 0, 0, 9, b'c', b'b', b'o', b'r']);
        cut.extend_from_slice(&[]);
        assert!(check_store(&cut).is_err());
        check_store(&boxed(b"jumb", &[0, 0, 0, 0, b'c', b'b', b'o', b'r', 0xf6])).unwrap();
        assert!(check_store(&boxed(b"jumb", &[0, 0, 0, 0, b'c', b'b', b'o', b'r', 0x41])).is_err());
    }

    #[test]
    fn media_without_a_store_passes() {
        check_media("image/png", b"not an image").unwrap();
        check_media("image/webp", b"RIFF\x04\0\0\0WEBP").unwrap();
    }
}
