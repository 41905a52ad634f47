//! Read-only memory maps of shard files: the one module with `unsafe` code.
//!
//! `memmap2::Mmap::map` is `unsafe` because another process could change or truncate
//! the file while it is mapped, which would change memory Rust believes immutable (or
//! raise SIGBUS). That is sound enough here because shard files are never written after
//! the build renames the shard directory into place: an index is immutable by design,
//! withdrawal goes to a separate tombstone file, and a rebuild writes a new directory.
#![allow(unsafe_code)]

use std::{fs::File, ops::Deref, path::Path};

use memmap2::Mmap;

use crate::TraceError;

/// A mapped file (an empty file maps to an empty slice: `mmap` refuses length 0).
#[derive(Debug)]
pub(crate) struct Mapped(Option<Mmap>);

impl Mapped {
    pub(crate) fn open(path: &Path) -> Result<Self, TraceError> {
        let file = File::open(path).map_err(TraceError::io("open", path))?;
        let len = file.metadata().map_err(TraceError::io("stat", path))?.len();
        if len == 0 {
            return Ok(Mapped(None));
        }
        // SAFETY: the file belongs to an immutable shard (see the module doc).
        let map = unsafe { Mmap::map(&file) }.map_err(TraceError::io("map", path))?;
        Ok(Mapped(Some(map)))
    }
}

impl Deref for Mapped {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        self.0.as_deref().unwrap_or(&[])
    }
}
