//! `tracemark hash`: the SHA-256 content hash of a file.

use std::{io::Read, path::PathBuf};

use clap::Args;
use tracemark::{Result, core::ContentHash};

use super::input::{open_input, read_error};
use crate::Output;

#[derive(Debug, Args)]
pub struct HashArgs {
    file: PathBuf,
    /// Hash the NFC normal form of the text (C2PA text binding), not the raw bytes.
    #[arg(long)]
    nfc: bool,
}

pub(super) fn hash(args: HashArgs) -> Result<Output> {
    let HashArgs { file, nfc } = args;
    let file = file.as_path();
    let io_err = |source| read_error(file, source);
    let reader = open_input(file)?;
    let hash = if nfc {
        let mut bytes = Vec::new();
        reader
            .take(u64::MAX)
            .read_to_end(&mut bytes)
            .map_err(io_err)?;
        let text = String::from_utf8(bytes).map_err(|e| {
            io_err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("not UTF-8 text ({e}); --nfc needs text"),
            ))
        })?;
        ContentHash::of_nfc_text(&text)
    } else {
        ContentHash::of_reader(reader).map_err(io_err)?
    };
    let json = serde_json::json!({ "hash": hash, "file": file, "normalisation": if nfc { "nfc" } else { "none" } });
    Ok(Output::new(json, format!("{hash}  {}", file.display())))
}
