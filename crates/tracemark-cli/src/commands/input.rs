//! Reading what a command is given: a file, or standard input for `-`.

use std::{io::Read, path::Path};

use tracemark::{Error, Result};

pub(super) fn read_error(file: &Path, source: std::io::Error) -> Error {
    Error::Io {
        action: "read",
        path: file.to_owned(),
        source,
    }
}

/// `file`, or standard input for `-`.
pub(super) fn open_input(file: &Path) -> Result<Box<dyn Read>> {
    if file.as_os_str() == "-" {
        return Ok(Box::new(std::io::stdin().lock()));
    }
    Ok(Box::new(
        std::fs::File::open(file).map_err(|e| read_error(file, e))?,
    ))
}

/// Inputs larger than this are refused (a detection request is text, not a corpus).
const MAX_DETECT_BYTES: u64 = 16 << 20;

pub(super) fn read_input(file: &Path) -> Result<Vec<u8>> {
    let bytes = read_limited(file, tracemark::media::MAX_MEDIA_BYTES)?;
    // Media may be larger than text (a PNG of many megapixels): recognised by its bytes.
    if bytes.len() as u64 > MAX_DETECT_BYTES
        && !matches!(
            tracemark::media::sniff(&bytes),
            tracemark::media::Sniffed::Image(_) | tracemark::media::Sniffed::Audio
        )
    {
        return Err(Error::usage(
            format!(
                "{} is larger than {} MiB",
                file.display(),
                MAX_DETECT_BYTES >> 20
            ),
            Some("split the text, or test the part in question".to_owned()),
        ));
    }
    Ok(bytes)
}

/// At most `limit` bytes of `file` (`-` for standard input); more is a usage error.
pub(super) fn read_limited(file: &Path, limit: u64) -> Result<Vec<u8>> {
    let reader = open_input(file)?;
    let mut bytes = Vec::new();
    reader
        .take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(|source| read_error(file, source))?;
    if bytes.len() as u64 > limit {
        return Err(Error::usage(
            format!("{} is larger than {} MiB", file.display(), limit >> 20),
            Some("scale the content down first".to_owned()),
        ));
    }
    Ok(bytes)
}

/// A text file (`-` for standard input), which must be UTF-8.
pub(super) fn read_text(file: &Path) -> Result<String> {
    String::from_utf8(read_input(file)?).map_err(|e| {
        read_error(
            file,
            std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("not UTF-8 text ({e})"),
            ),
        )
    })
}
