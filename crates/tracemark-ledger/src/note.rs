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
    let digest = Sha256::new()
        .chain_update(name.as_bytes())
        .chain_update(b"\n")
        .chain_update([ED25519])
        .chain_update(public.as_bytes())
        .finalize();
    u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]])
}

/// Splits `<name>+<hex id>+<base64 key>` into its parts, checking the type byte.
fn split_key<'a>(text: &'a str, what: &'static str) -> Result<(&'a str, u32, [u8; 32]), NoteError> {
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
        Some((&ED25519, key)) => Ok((name, id, key.try_into().map_err(|_| malformed())?)),
        _ => Err(malformed()),
    }
}

/// A signed-note verifier: a name and an Ed25519 public key.
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
