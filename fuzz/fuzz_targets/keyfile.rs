#![no_main]
//! Key files of every kind, read the way the program reads them. Key documents are read
//! only from paths (`tracemark_core::keyfile::read_json` checks permissions and size
//! first), so the input is written once per run to a 0600 file in a temporary directory.
//!
//! The first byte picks the reader:
//! 0. watermark key: `tracemark::text::load_key` (what `detect`/`generate` call), then
//!    `Watermarker::new` as detection does with it;
//! 1. signing identity: `signing.json` through `tracemark::keygen::check(Signing, dir)`;
//! 2. log key, 3. service key: `keygen::check` (`NoteKey::load`: the document and its
//!    signer key);
//! 4. a signing key's PEM pair: `SigningKey::from_pem(chain, key)` (what
//!    `from_identity_dir` calls on the files), the split given by two bytes;
//! 5. a verifier key (`key.pub`): `NoteVerifier::parse` and `CosignatureVerifier::parse`,
//!    then `TrustPolicy::from_log_vkey` as `tracemark log verify --log-key` does.

use std::{
    fs::{self, File, OpenOptions},
    io::{Seek, Write},
    os::unix::fs::OpenOptionsExt,
    path::PathBuf,
    sync::{Mutex, OnceLock},
};

use libfuzzer_sys::fuzz_target;
use tracemark_core::KeyKind;
use tracemark_credentials::SigningKey;
use tracemark_ledger::{CosignatureVerifier, NoteVerifier, TrustPolicy};
use tracemark_watermark::watermarker::Watermarker;

struct Files {
    dir: PathBuf,
    /// `DIR/key.json`, mode 0600.
    key: Mutex<File>,
    /// `DIR/signing/signing.json`, beside a `key.pem` so `check` finds the key file.
    signing: Mutex<File>,
}

fn files() -> &'static Files {
    static F: OnceLock<Files> = OnceLock::new();
    F.get_or_init(|| {
        let base = std::env::var_os("TRACEMARK_FUZZ_TMP")
            .map(PathBuf::from)
            .unwrap_or_else(std::env::temp_dir);
        let dir = tempfile::Builder::new()
            .prefix("tracemark-fuzz-keyfile-")
            .tempdir_in(base)
            .expect("a temporary directory")
            .keep();
        let open = |path: PathBuf| {
            OpenOptions::new()
                .create(true)
                .truncate(true)
                .write(true)
                .mode(0o600)
                .open(path)
                .expect("a key file")
        };
        fs::create_dir(dir.join("signing")).unwrap();
        drop(open(dir.join("signing").join("key.pem")));
        Files {
            key: Mutex::new(open(dir.join("key.json"))),
            signing: Mutex::new(open(dir.join("signing").join("signing.json"))),
            dir,
        }
    })
}

fn rewrite(file: &Mutex<File>, bytes: &[u8]) {
    let mut f = file.lock().unwrap();
    f.set_len(0).unwrap();
    f.rewind().unwrap();
    f.write_all(bytes).unwrap();
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, bytes)) = data.split_first() else {
        return;
    };
    let files = files();
    match selector % 6 {
        0 => {
            rewrite(&files.key, bytes);
            if let Ok(key) = tracemark::text::load_key(&files.dir.join("key.json"), None) {
                // The tokenizer's size bounds the vocabulary; a key says nothing of it.
                let vocab = key
                    .tokenizer
                    .as_ref()
                    .map_or(512, |t| t.vocab_size as usize);
                let _ = Watermarker::new(&key, vocab.min(1 << 16));
            }
        }
        1 => {
            rewrite(&files.signing, bytes);
            let _ = tracemark::keygen::check(KeyKind::Signing, &files.dir.join("signing"));
        }
        2 | 3 => {
            rewrite(&files.key, bytes);
            let kind = if selector % 6 == 2 {
                KeyKind::Log
            } else {
                KeyKind::Service
            };
            let _ = tracemark::keygen::check(kind, &files.dir.join("key.json"));
        }
        4 => {
            if bytes.len() < 2 {
                return;
            }
            let len = usize::from(u16::from_be_bytes([bytes[0], bytes[1]]));
            let rest = &bytes[2..];
            let (chain, key) = rest.split_at(len.min(rest.len()));
            let _ = SigningKey::from_pem(chain, key);
        }
        _ => {
            let text = String::from_utf8_lossy(bytes);
            let _ = NoteVerifier::parse(text.trim());
            let _ = CosignatureVerifier::parse(text.trim());
            let _ = TrustPolicy::from_log_vkey(text.trim());
        }
    }
});
