//! C2SP `signed-note` keys and signatures (Ed25519), as Go's `golang.org/x/mod/sumdb/note`
//! writes them.
//!
//! A verifier key is `<name>+<key id>+<base64(0x01 ‖ public key)>`, a signer key is
//! `PRIVATE+KEY+<name>+<key id>+<base64(0x01 ‖ seed)>`, and the key id is the first four
//! bytes, big-endian, of `SHA-256(name ‖ "\n" ‖ 0x01 ‖ public key)`. A signature line is
//! `— <name> <base64(key id ‖ signature)>`.

use std::fmt;

use base64::{Engine, engine::general_purpose::STANDARD as BASE64};
use ed25519_dalek::{Signer, SigningKey, Verifier, VerifyingKey};
use rand_core::{CryptoRng, RngCore};
use sha2::{Digest, Sha256};
use tracemark_core::{Diagnose, Fault};

/// The signature type byte of Ed25519 in signed notes.
const ED25519: u8 = 0x01;

/// A malformed key, name or signature.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NoteError {
    #[error("`{0}` is not a valid key name: it must be non-empty, without spaces or `+`")]
    BadName(String),
    #[error("malformed signed-note {what} key")]
    MalformedKey { what: &'static str },
    #[error("the key's id does not match its name and public key")]
    KeyIdMismatch,
    #[error("malformed signed note: {0}")]
    Malformed(&'static str),
    #[error("the signed note is {size} bytes; at most {max} are accepted")]
    TooLarge { size: usize, max: usize },
    #[error("the signed note has more than {max} signatures")]
    TooManySignatures { max: usize },
    #[error("the signature by `{name}` does not verify: the note was altered or forged")]
    BadSignature { name: String },
    #[error("no signature on the note is by a trusted key (expected one by `{expected}`)")]
    NoTrustedSignature { expected: String },
}

impl Diagnose for NoteError {
    fn fault(&self) -> Fault {
        match self {
            NoteError::BadName(_) => Fault::Usage,
            _ => Fault::Input,
        }
    }
}

fn check_name(name: &str) -> Result<(), NoteError> {
    let valid = !name.is_empty() && !name.chars().any(|c| c.is_whitespace() || c == '+');
    if valid {
        Ok(())
    } else {
        Err(NoteError::BadName(name.to_owned()))
    }
}

/// `SHA-256(name ‖ "\n" ‖ 0x01 ‖ public key)[..4]`, big-endian.
fn key_id(name: &str, public: &VerifyingKey) -> u32 {
    typed_key_id(name, ED25519, public)
}

/// `SHA-256(name ‖ "\n" ‖ type ‖ public key)[..4]`, big-endian.
pub(crate) fn typed_key_id(name: &str, sig_type: u8, public: &VerifyingKey) -> u32 {
    let digest = Sha256::new()
        .chain_update(name.as_bytes())
        .chain_update(b"\n")
        .chain_update([sig_type])
        .chain_update(public.as_bytes())
        .finalize();
    u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]])
}

/// Splits `<name>+<hex id>+<base64 key>` into its parts, checking the type byte.
fn split_key<'a>(text: &'a str, what: &'static str) -> Result<(&'a str, u32, [u8; 32]), NoteError> {
    split_typed_key(text, what, ED25519)
}

/// Splits `<name>+<hex id>+<base64(type ‖ key)>`, requiring signature type `sig_type`.
pub(crate) fn split_typed_key<'a>(
    text: &'a str,
    what: &'static str,
    sig_type: u8,
) -> Result<(&'a str, u32, [u8; 32]), NoteError> {
    let malformed = || NoteError::MalformedKey { what };
    // The base64 part may itself contain '+', so split from the left twice.
    let (name, rest) = text.split_once('+').ok_or_else(malformed)?;
    let (id, key) = rest.split_once('+').ok_or_else(malformed)?;
    check_name(name).map_err(|_| malformed())?;
    if id.len() != 8 {
        return Err(malformed());
    }
    let id = u32::from_str_radix(id, 16).map_err(|_| malformed())?;
    let bytes = BASE64.decode(key).map_err(|_| malformed())?;
    match bytes.split_first() {
        Some((t, key)) if *t == sig_type => {
            Ok((name, id, key.try_into().map_err(|_| malformed())?))
        }
        _ => Err(malformed()),
    }
}

/// A signed-note verifier: a name and an Ed25519 public key (signature type 0x01).
#[derive(Clone, PartialEq, Eq)]
pub struct NoteVerifier {
    name: String,
    id: u32,
    key: VerifyingKey,
}

impl NoteVerifier {
    /// Parses a verifier key (`<name>+<id>+<base64>`), checking that its id matches.
    pub fn parse(vkey: &str) -> Result<Self, NoteError> {
        let (name, id, key) = split_key(vkey.trim(), "verifier")?;
        let key = VerifyingKey::from_bytes(&key)
            .map_err(|_| NoteError::MalformedKey { what: "verifier" })?;
        if key_id(name, &key) != id {
            return Err(NoteError::KeyIdMismatch);
        }
        Ok(Self {
            name: name.to_owned(),
            id,
            key,
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn key_id(&self) -> u32 {
        self.id
    }

    pub fn public_key(&self) -> &VerifyingKey {
        &self.key
    }

    /// Checks a signature (the base64 blob of a signature line) over `text`.
    pub fn verify(&self, text: &str, blob: &str) -> bool {
        let Ok(bytes) = BASE64.decode(blob) else {
            return false;
        };
        let Some((id, sig)) = bytes.split_first_chunk::<4>() else {
            return false;
        };
        let Ok(sig) = ed25519_dalek::Signature::from_slice(sig) else {
            return false;
        };
        u32::from_be_bytes(*id) == self.id && self.key.verify(text.as_bytes(), &sig).is_ok()
    }
}

impl fmt::Display for NoteVerifier {
    /// The verifier key, `<name>+<id>+<base64(0x01 ‖ public key)>`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut bytes = vec![ED25519];
        bytes.extend_from_slice(self.key.as_bytes());
        write!(f, "{}+{:08x}+{}", self.name, self.id, BASE64.encode(bytes))
    }
}

impl fmt::Debug for NoteVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "NoteVerifier({self})")
    }
}

/// A signed-note signer: a name and an Ed25519 private key.
#[derive(Clone)]
pub struct NoteSigner {
    verifier: NoteVerifier,
    key: SigningKey,
}

impl NoteSigner {
    pub fn generate(name: &str, rng: &mut (impl RngCore + CryptoRng)) -> Result<Self, NoteError> {
        check_name(name)?;
        Ok(Self::from_key(name, SigningKey::generate(rng)))
    }

    fn from_key(name: &str, key: SigningKey) -> Self {
        let public = key.verifying_key();
        let verifier = NoteVerifier {
            name: name.to_owned(),
            id: key_id(name, &public),
            key: public,
        };
        Self { verifier, key }
    }

    /// Parses a signer key (`PRIVATE+KEY+<name>+<id>+<base64>`), checking its id.
    pub fn parse(skey: &str) -> Result<Self, NoteError> {
        let malformed = NoteError::MalformedKey { what: "signer" };
        let rest = skey
            .trim()
            .strip_prefix("PRIVATE+KEY+")
            .ok_or(malformed.clone())?;
        let (name, id, seed) = split_key(rest, "signer")?;
        let signer = Self::from_key(name, SigningKey::from_bytes(&seed));
        if signer.verifier.id != id {
            return Err(NoteError::KeyIdMismatch);
        }
        Ok(signer)
    }

    /// The signer key text. It is the secret: write it only into a key file.
    pub fn to_signer_key(&self) -> String {
        let mut bytes = vec![ED25519];
        bytes.extend_from_slice(self.key.as_bytes());
        let v = &self.verifier;
        format!(
            "PRIVATE+KEY+{}+{:08x}+{}",
            v.name,
            v.id,
            BASE64.encode(bytes)
        )
    }

    pub fn verifier(&self) -> &NoteVerifier {
        &self.verifier
    }

    /// The Ed25519 key (for a witness that cosigns with its signed-note key).
    pub(crate) fn signing_key(&self) -> &SigningKey {
        &self.key
    }

    /// The signature line for `text`: `— <name> <base64(key id ‖ signature)>\n`.
    pub fn sign_line(&self, text: &str) -> String {
        let mut blob = self.verifier.id.to_be_bytes().to_vec();
        blob.extend_from_slice(&self.key.sign(text.as_bytes()).to_bytes());
        format!("\u{2014} {} {}\n", self.verifier.name, BASE64.encode(blob))
    }
}

impl fmt::Debug for NoteSigner {
    /// Shows only the public half.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "NoteSigner({})", self.verifier)
    }
}

/// At most this many bytes are read as a note: generous for a checkpoint with many
/// post-quantum cosignatures (~5 kB each), small enough that a hostile input is cheap.
pub const MAX_NOTE_BYTES: usize = 1 << 20;

/// At most this many signature lines; the spec asks verifiers to accept at least 16.
pub const MAX_SIGNATURES: usize = 100;

/// Something that checks signature lines of one key: the tuple (name, key id) picks it.
pub trait NoteVerify {
    fn name(&self) -> &str;
    fn key_id(&self) -> u32;
    /// Checks `signature` (the blob after the 4-byte key id) over the note `text`.
    fn verify_signature(&self, text: &str, signature: &[u8]) -> bool;
    /// The cosignature timestamp carried by a signature, for types that have one.
    fn timestamp(&self, _signature: &[u8]) -> Option<u64> {
        None
    }
}

impl NoteVerify for NoteVerifier {
    fn name(&self) -> &str {
        &self.name
    }

    fn key_id(&self) -> u32 {
        self.id
    }

    fn verify_signature(&self, text: &str, signature: &[u8]) -> bool {
        ed25519_dalek::Signature::from_slice(signature)
            .is_ok_and(|sig| self.key.verify(text.as_bytes(), &sig).is_ok())
    }
}

/// One signature line: `— <name> base64(key id ‖ signature)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteSignature {
    pub name: String,
    pub key_id: u32,
    /// The signature bytes after the key id.
    pub signature: Vec<u8>,
}

impl NoteSignature {
    /// Parses one signature line without its newline.
    pub fn parse_line(line: &str) -> Result<Self, NoteError> {
        let rest = line.strip_prefix("\u{2014} ").ok_or(NoteError::Malformed(
            "a signature line must start with `— `",
        ))?;
        let (name, blob) = rest.split_once(' ').ok_or(NoteError::Malformed(
            "a signature line needs a key name and a signature",
        ))?;
        check_name(name).map_err(|_| NoteError::Malformed("a signature's key name is invalid"))?;
        let bytes = BASE64
            .decode(blob)
            .map_err(|_| NoteError::Malformed("a signature is not base64"))?;
        if bytes.len() < 5 {
            return Err(NoteError::Malformed("a signature is too short"));
        }
        let (id, signature) = bytes.split_at(4);
        Ok(Self {
            name: name.to_owned(),
            key_id: u32::from_be_bytes([id[0], id[1], id[2], id[3]]),
            signature: signature.to_vec(),
        })
    }

    /// The line, with its newline.
    pub fn to_line(&self) -> String {
        let mut blob = self.key_id.to_be_bytes().to_vec();
        blob.extend_from_slice(&self.signature);
        format!("\u{2014} {} {}\n", self.name, BASE64.encode(blob))
    }
}

/// A signed note (C2SP `signed-note`): a text ending in a newline, a blank line, and one
/// or more signature lines. Parsing checks the form only; [`Note::verify`] decides trust.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    text: String,
    signatures: Vec<NoteSignature>,
}

/// A signature that verified, by whom, and when for cosignatures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedSignature {
    pub name: String,
    pub key_id: u32,
    pub timestamp: Option<u64>,
}

impl Note {
    /// A note with no signatures yet (the text must end in a newline).
    pub fn new(text: impl Into<String>) -> Result<Self, NoteError> {
        let text = text.into();
        check_text(&text)?;
        Ok(Self {
            text,
            signatures: Vec::new(),
        })
    }

    /// Parses a signed note from bytes: UTF-8, no control characters but newline, the
    /// text separated from the signatures by the last blank line.
    pub fn parse(input: &[u8]) -> Result<Self, NoteError> {
        if input.len() > MAX_NOTE_BYTES {
            return Err(NoteError::TooLarge {
                size: input.len(),
                max: MAX_NOTE_BYTES,
            });
        }
        let input =
            std::str::from_utf8(input).map_err(|_| NoteError::Malformed("not valid UTF-8"))?;
        if input.chars().any(|c| c < ' ' && c != '\n') {
            return Err(NoteError::Malformed(
                "control characters other than newline",
            ));
        }
        let split = input
            .rfind("\n\n")
            .ok_or(NoteError::Malformed("no blank line before the signatures"))?;
        let (text, sigs) = (&input[..=split], &input[split + 2..]);
        check_text(text)?;
        let body = sigs.strip_suffix('\n').ok_or(NoteError::Malformed(
            "the last signature line must end in a newline",
        ))?;
        let lines: Vec<&str> = body.split('\n').collect();
        if lines.len() > MAX_SIGNATURES {
            return Err(NoteError::TooManySignatures {
                max: MAX_SIGNATURES,
            });
        }
        let signatures = lines
            .into_iter()
            .map(NoteSignature::parse_line)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            text: text.to_owned(),
            signatures,
        })
    }

    /// The signed text, including its final newline.
    pub fn text(&self) -> &str {
        &self.text
    }

    pub fn signatures(&self) -> &[NoteSignature] {
        &self.signatures
    }

    /// Adds a signature line (as [`NoteSigner::sign_line`] or a cosigner writes it).
    pub fn add_signature_line(&mut self, line: &str) -> Result<(), NoteError> {
        if self.signatures.len() >= MAX_SIGNATURES {
            return Err(NoteError::TooManySignatures {
                max: MAX_SIGNATURES,
            });
        }
        let sig = NoteSignature::parse_line(line.strip_suffix('\n').unwrap_or(line))?;
        if !self.signatures.contains(&sig) {
            self.signatures.push(sig);
        }
        Ok(())
    }

    /// Signs the text and appends the signature.
    pub fn sign(&mut self, signer: &NoteSigner) -> Result<(), NoteError> {
        let line = signer.sign_line(&self.text);
        self.add_signature_line(&line)
    }

    /// The whole note: text, blank line, signature lines.
    pub fn to_text(&self) -> String {
        let mut out = self.text.clone();
        out.push('\n');
        for sig in &self.signatures {
            out.push_str(&sig.to_line());
        }
        out
    }

    /// Checks the signatures of known keys, ignoring unknown ones (a key is known when
    /// both its name and key id match). Fails when a known key's signature does not
    /// verify, or when no known key signed.
    pub fn verify(&self, known: &[&dyn NoteVerify]) -> Result<Vec<VerifiedSignature>, NoteError> {
        let mut verified = Vec::new();
        for sig in &self.signatures {
            let Some(key) = known
                .iter()
                .find(|k| k.name() == sig.name && k.key_id() == sig.key_id)
            else {
                continue;
            };
            if !key.verify_signature(&self.text, &sig.signature) {
                return Err(NoteError::BadSignature {
                    name: sig.name.clone(),
                });
            }
            let v = VerifiedSignature {
                name: sig.name.clone(),
                key_id: sig.key_id,
                timestamp: key.timestamp(&sig.signature),
            };
            if !verified.contains(&v) {
                verified.push(v);
            }
        }
        if verified.is_empty() {
            let expected = known
                .iter()
                .map(|k| k.name())
                .collect::<Vec<_>>()
                .join("`, `");
            return Err(NoteError::NoTrustedSignature { expected });
        }
        Ok(verified)
    }
}

/// The note text must be non-empty, end in a newline and contain no control characters.
fn check_text(text: &str) -> Result<(), NoteError> {
    if text.is_empty() || !text.ends_with('\n') {
        return Err(NoteError::Malformed("the note text must end in a newline"));
    }
    if text.chars().any(|c| c < ' ' && c != '\n') {
        return Err(NoteError::Malformed(
            "control characters other than newline",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    // The example of golang.org/x/mod/sumdb/note, the reference implementation.
    const GO_SKEY: &str =
        "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
    const GO_VKEY: &str = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
    const GO_TEXT: &str = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n";
    const GO_SIG: &str = "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=";

    #[test]
    fn matches_the_go_reference_example() {
        let signer = NoteSigner::parse(GO_SKEY).unwrap();
        assert_eq!(signer.verifier().to_string(), GO_VKEY);
        assert_eq!(signer.to_signer_key(), GO_SKEY);
        assert_eq!(
            signer.sign_line(GO_TEXT),
            format!("\u{2014} PeterNeumann {GO_SIG}\n")
        );
        let verifier = NoteVerifier::parse(GO_VKEY).unwrap();
        assert!(verifier.verify(GO_TEXT, GO_SIG));
        assert!(!verifier.verify("another text\n", GO_SIG));
    }

    #[test]
    fn parses_the_c2sp_spec_example_key() {
        let v = NoteVerifier::parse(
            "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",
        )
        .unwrap();
        assert_eq!((v.name(), v.key_id()), ("example.com/foo", 0x530d903a));
    }

    #[test]
    fn generated_keys_round_trip() {
        let signer = NoteSigner::generate("log.example/tracemark", &mut rand_core::OsRng).unwrap();
        let again = NoteSigner::parse(&signer.to_signer_key()).unwrap();
        assert_eq!(again.verifier(), signer.verifier());
        assert!(!format!("{signer:?}").contains(&signer.to_signer_key()));
    }

    #[test]
    fn parses_and_verifies_the_go_note() {
        let text = format!("{GO_TEXT}\n\u{2014} PeterNeumann {GO_SIG}\n");
        let note = Note::parse(text.as_bytes()).unwrap();
        assert_eq!(note.text(), GO_TEXT);
        assert_eq!(note.to_text(), text);
        let v = NoteVerifier::parse(GO_VKEY).unwrap();
        let ok = note.verify(&[&v]).unwrap();
        assert_eq!(ok[0].name, "PeterNeumann");
        // Unknown signers are ignored, but a note with none known is rejected.
        let other = NoteSigner::generate("other.example", &mut rand_core::OsRng).unwrap();
        let mut two = note.clone();
        two.sign(&other).unwrap();
        assert_eq!(two.verify(&[&v]).unwrap().len(), 1);
        assert!(matches!(
            note.verify(&[other.verifier()]),
            Err(NoteError::NoTrustedSignature { .. })
        ));
        // A forged signature by a known key rejects the whole note.
        let forged = text.replace("SffcvIAQ", "SffcvIAR");
        assert!(matches!(
            Note::parse(forged.as_bytes()).unwrap().verify(&[&v]),
            Err(NoteError::BadSignature { .. })
        ));
        let altered = text.replace("answer", "ANSWER");
        assert!(
            Note::parse(altered.as_bytes())
                .unwrap()
                .verify(&[&v])
                .is_err()
        );
    }

    #[test]
    fn rejects_malformed_notes() {
        let good = format!("{GO_TEXT}\n\u{2014} PeterNeumann {GO_SIG}\n");
        let many: String = std::iter::repeat_n(format!("\u{2014} a {GO_SIG}\n"), 101).collect();
        for bad in [
            String::new(),
            GO_TEXT.to_owned(),
            good.trim_end().to_owned(),
            good.replace('\u{2014}', "-"),
            good.replace("PeterNeumann ", "Peter Neumann "),
            good.replace(GO_SIG, "!!!"),
            good.replace(GO_SIG, "AAAA"),
            good.replace("cryptography", "crypto\tgraphy"),
            format!("{GO_TEXT}\n{many}"),
        ] {
            assert!(Note::parse(bad.as_bytes()).is_err(), "{bad:?} was accepted");
        }
        assert!(Note::parse(&[0xff, b'\n', b'\n']).is_err());
        let huge = vec![b'a'; MAX_NOTE_BYTES + 1];
        assert!(matches!(
            Note::parse(&huge),
            Err(NoteError::TooLarge { .. })
        ));
        // Sixteen signatures must be accepted.
        let sixteen: String = std::iter::repeat_n(format!("\u{2014} a {GO_SIG}\n"), 16).collect();
        assert_eq!(
            Note::parse(format!("{GO_TEXT}\n{sixteen}").as_bytes())
                .unwrap()
                .signatures()
                .len(),
            16
        );
    }

    #[test]
    fn rejects_malformed_keys() {
        let bad_id = GO_VKEY.replace("c74f20a3", "c74f20a4");
        assert_eq!(NoteVerifier::parse(&bad_id), Err(NoteError::KeyIdMismatch));
        for bad in [
            "",
            "PeterNeumann",
            "PeterNeumann+c74f20a3",
            "PeterNeumann+c74f20+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
            "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10",
            "PeterNeumann+c74f20a3+AhpcA2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
            "+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        ] {
            assert!(NoteVerifier::parse(bad).is_err(), "{bad:?} was accepted");
        }
        assert!(NoteSigner::parse(GO_VKEY).is_err());
        assert!(NoteSigner::generate("has space", &mut rand_core::OsRng).is_err());
        assert!(NoteSigner::generate("a+b", &mut rand_core::OsRng).is_err());
    }
}
