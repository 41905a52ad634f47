//! C2SP `tlog-tiles`: the tree and its entries as static resources.
//!
//! Hash tiles `tile/<L>/<N>[.p/<W>]` hold up to 256 hashes of level `8·L` (so level 0
//! holds leaf hashes); entry bundles `tile/entries/<N>[.p/<W>]` hold up to 256 entries,
//! each prefixed with its length as a big-endian u16. `<N>` is written in 3-digit groups,
//! all but the last prefixed with `x` (`1234067` → `x001/x234/067`).

use tracemark_core::{Diagnose, Fault};

use crate::store::{LogStore, StoreError};

/// Hashes (or entries) per full tile.
pub const TILE_WIDTH: u64 = 256;

/// Tile levels are 0 to 63.
pub const MAX_TILE_LEVEL: u8 = 63;

/// Which tile.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TileKind {
    /// A hash tile at tile level `L` (tree level `8·L`).
    Hash(u8),
    /// An entry bundle.
    Entries,
}

/// A tile address: kind, index within its level, and width for partial tiles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tile {
    pub kind: TileKind,
    pub index: u64,
    /// `Some(1..=255)` for a partial tile, `None` for a full one.
    pub partial: Option<u8>,
}

/// A tile path that is malformed, or a tile the log does not (yet) have.
#[derive(Debug, thiserror::Error)]
pub enum TileError {
    #[error("`{0}` is not a tile path")]
    BadPath(String),
    #[error("no such tile in a tree of size {size}")]
    NotFound { size: u64 },
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Diagnose for TileError {
    fn fault(&self) -> Fault {
        match self {
            TileError::Store(e) => e.fault(),
            _ => Fault::Input,
        }
    }
}

/// `N` as zero-padded 3-digit path elements, all but the last prefixed with `x`.
pub fn encode_index(mut n: u64) -> String {
    let mut groups = vec![format!("{:03}", n % 1000)];
    n /= 1000;
    while n > 0 {
        groups.push(format!("x{:03}", n % 1000));
        n /= 1000;
    }
    groups.reverse();
    groups.join("/")
}

impl Tile {
    /// The number of hashes or entries in the tile.
    pub fn width(&self) -> u64 {
        self.partial.map_or(TILE_WIDTH, u64::from)
    }

    /// The path under the log's prefix, e.g. `tile/0/x001/234.p/7`.
    pub fn path(&self) -> String {
        let level = match self.kind {
            TileKind::Hash(l) => l.to_string(),
            TileKind::Entries => "entries".into(),
        };
        let mut out = format!("tile/{level}/{}", encode_index(self.index));
        if let Some(w) = self.partial {
            out.push_str(&format!(".p/{w}"));
        }
        out
    }

    /// Parses a tile path (with or without a leading `/`), strictly: no leading zeros in
    /// the level or width, exactly 3 digits per index group.
    pub fn parse(path: &str) -> Result<Self, TileError> {
        let bad = || TileError::BadPath(path.to_owned());
        let rest = path
            .trim_start_matches('/')
            .strip_prefix("tile/")
            .ok_or_else(bad)?;
        let (level, rest) = rest.split_once('/').ok_or_else(bad)?;
        let kind = if level == "entries" {
            TileKind::Entries
        } else {
            let l = small_decimal(level).filter(|l| *l <= u64::from(MAX_TILE_LEVEL));
            TileKind::Hash(l.ok_or_else(bad)? as u8)
        };
        let (index_part, partial) = match rest.split_once(".p/") {
            Some((i, w)) => {
                let w = small_decimal(w).filter(|w| (1..=255).contains(w));
                (i, Some(w.ok_or_else(bad)? as u8))
            }
            None => (rest, None),
        };
        let index = decode_index(index_part).ok_or_else(bad)?;
        Ok(Self {
            kind,
            index,
            partial,
        })
    }

    /// The tile's bytes from `store`, for a tree of `size` entries (the size of a signed
    /// checkpoint: tiles beyond it are not served).
    pub fn read(&self, store: &impl LogStore, size: u64) -> Result<Vec<u8>, TileError> {
        let not_found = || TileError::NotFound { size };
        let level = match self.kind {
            TileKind::Hash(l) => u32::from(l) * 8,
            TileKind::Entries => 0,
        };
        // The tile covers entries [start, end) with `width` items of 2^level leaves each.
        let span = 1u64.checked_shl(level).ok_or_else(not_found)?;
        let first = self.index.checked_mul(TILE_WIDTH).ok_or_else(not_found)?;
        let items_end = first.checked_add(self.width()).ok_or_else(not_found)?;
        let end = items_end.checked_mul(span).ok_or_else(not_found)?;
        if end > size {
            return Err(not_found());
        }
        match self.kind {
            TileKind::Hash(_) => {
                let mut out = Vec::with_capacity(self.width() as usize * 32);
                for i in first..items_end {
                    out.extend_from_slice(&store.stored_hash(level as u8, i)?.0);
                }
                Ok(out)
            }
            TileKind::Entries => {
                let mut out = Vec::new();
                for entry in store.entries(first, items_end)? {
                    let len = u16::try_from(entry.len()).map_err(|_| {
                        StoreError::Corrupt("an entry is longer than 65535 bytes".into())
                    })?;
                    out.extend_from_slice(&len.to_be_bytes());
                    out.extend_from_slice(&entry);
                }
                Ok(out)
            }
        }
    }
}

/// The tiles a tree of `size` entries is published as at its right edge: for each level,
/// the partial tile, if any (`floor(size / 256^L) mod 256` wide).
pub fn partial_tiles(size: u64) -> Vec<Tile> {
    let mut out = Vec::new();
    for l in 0..=MAX_TILE_LEVEL {
        let Some(span) = 256u128.checked_pow(u32::from(l)) else {
            break;
        };
        let below = u128::from(size) / span;
        if below == 0 {
            break;
        }
        let w = (below % 256) as u8;
        if w > 0 {
            out.push(Tile {
                kind: TileKind::Hash(l),
                index: (below / 256) as u64,
                partial: Some(w),
            });
        }
    }
    out
}

fn small_decimal(s: &str) -> Option<u64> {
    let ok = !s.is_empty()
        && s.len() <= 3
        && s.bytes().all(|b| b.is_ascii_digit())
        && (s == "0" || !s.starts_with('0'));
    if ok { s.parse().ok() } else { None }
}

fn decode_index(s: &str) -> Option<u64> {
    let groups: Vec<&str> = s.split('/').collect();
    let (last, init) = groups.split_last()?;
    let mut n: u64 = 0;
    for (i, g) in init.iter().chain(std::iter::once(last)).enumerate() {
        let digits = if i < init.len() {
            g.strip_prefix('x')?
        } else {
            g
        };
        if digits.len() != 3 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        n = n.checked_mul(1000)?.checked_add(digits.parse().ok()?)?;
    }
    Some(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_follow_the_spec() {
        assert_eq!(encode_index(1234067), "x001/x234/067");
        assert_eq!(encode_index(0), "000");
        assert_eq!(encode_index(1000), "x001/000");
        let t = Tile {
            kind: TileKind::Hash(0),
            index: 1234067,
            partial: Some(7),
        };
        assert_eq!(t.path(), "tile/0/x001/x234/067.p/7");
        assert_eq!(Tile::parse(&t.path()).unwrap(), t);
        let e = Tile {
            kind: TileKind::Entries,
            index: 5,
            partial: None,
        };
        assert_eq!(e.path(), "tile/entries/005");
        assert_eq!(Tile::parse("/tile/entries/005").unwrap(), e);
        for bad in [
            "tile/0/5",
            "tile/01/005",
            "tile/64/005",
            "tile/0/001/002",
            "tile/0/x001",
            "tile/0/005.p/0",
            "tile/0/005.p/256",
            "tile/0/005.p/07",
            "tile/x/005",
            "tiles/0/005",
            "tile/0/x999/x999/x999/x999/x999/x999/x999/999",
        ] {
            assert!(Tile::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn partial_tiles_of_the_spec_example() {
        // "a tree of size 70,000 will be represented by 273 full level 0 tiles, one
        // partial level 0 tile of width 112, one full level 1 tile, one partial level 1
        // tile of width 17, and one partial level 2 tile of width 1."
        let p = partial_tiles(70_000);
        let got: Vec<(TileKind, u64, Option<u8>)> =
            p.iter().map(|t| (t.kind, t.index, t.partial)).collect();
        assert_eq!(
            got,
            vec![
                (TileKind::Hash(0), 273, Some(112)),
                (TileKind::Hash(1), 1, Some(17)),
                (TileKind::Hash(2), 0, Some(1)),
            ]
        );
        assert_eq!(
            partial_tiles(256)
                .iter()
                .map(|t| (t.kind, t.partial))
                .collect::<Vec<_>>(),
            vec![(TileKind::Hash(1), Some(1))]
        );
        assert!(partial_tiles(0).is_empty());
    }
}
