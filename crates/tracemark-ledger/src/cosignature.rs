//! C2SP `tlog-cosignature` v1 with Ed25519 (signature type 0x04): a witness's statement
//! that, at a time, the checkpoint is the largest consistent tree head it has seen.
//!
//! The signed message is `cosignature/v1\n`, `time <POSIX seconds>\n`, then the whole
//! checkpoint body; the signature line's blob is `key id ‖ u64 timestamp (big-endian) ‖
//! Ed25519 signature`, and the key id is `SHA-256(name ‖ "\n" ‖ 0x04 ‖ public key)[:4]`.
//! Witness verifier keys are vkeys with type byte 0x04.

use std::fmt;

use base64::{Engine, engine::general_purpose::STANDARD as BASE64};
use ed25519_dalek::{Signer, SigningKey, Verifier, VerifyingKey};
use rand_core::{CryptoRng, RngCore};

use crate::note::{NoteError, NoteSignature, NoteVerify, split_typed_key, typed_key_id};

/// The signature type byte of timestamped Ed25519 cosignatures.
pub const COSIGNATURE_V1: u8 = 0x04;

/// The message a v1 cosignature signs over a checkpoint body.
pub fn cosigned_message(body: &str, timestamp: u64) -> String {
    format!("cosignature/v1\ntime {timestamp}\n{body}")
}

/// A witness's public key, which checks its cosignatures.
#[derive(Clone, PartialEq, Eq)]
pub struct CosignatureVerifier {
    name: String,
    id: u32,
    key: VerifyingKey,
}

impl CosignatureVerifier {
    /// Parses a vkey `<name>+<id>+<base64(0x04 ‖ public key)>`, checking its id.
    pub fn parse(vkey: &str) -> Result<Self, NoteError> {
        let what = "cosignature verifier";
        let (name, id, key) = split_typed_key(vkey.trim(), what, COSIGNATURE_V1)?;
        let key = VerifyingKey::from_bytes(&key).map_err(|_| NoteError::MalformedKey { what })?;
        if typed_key_id(name, COSIGNATURE_V1, &key) != id {
            return Err(NoteError::KeyIdMismatch);
        }
        Ok(Self {
            name: name.to_owned(),
            id,
            key,
        })
    }
}

impl NoteVerify for CosignatureVerifier {
    fn name(&self) -> &str {
        &self.name
    }

    fn key_id(&self) -> u32 {
        self.id
    }

    fn verify_signature(&self, text: &str, signature: &[u8]) -> bool {
        let Some((ts, sig)) = signature.split_first_chunk::<8>() else {
            return false;
        };
        let timestamp = u64::from_be_bytes(*ts);
        if timestamp > i64::MAX as u64 {
            return false;
        }
        let Ok(sig) = ed25519_dalek::Signature::from_slice(sig) else {
            return false;
        };
        let message = cosigned_message(text, timestamp);
        self.key.verify(message.as_bytes(), &sig).is_ok()
    }

    fn timestamp(&self, signature: &[u8]) -> Option<u64> {
        signature
            .split_first_chunk::<8>()
            .map(|(ts, _)| u64::from_be_bytes(*ts))
    }
}

impl fmt::Display for CosignatureVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut bytes = vec![COSIGNATURE_V1];
        bytes.extend_from_slice(self.key.as_bytes());
        write!(f, "{}+{:08x}+{}", self.name, self.id, BASE64.encode(bytes))
    }
}

impl fmt::Debug for CosignatureVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CosignatureVerifier({self})")
    }
}

/// A witness's signing key. Witnessing (checking consistency before cosigning) is the
/// witness's job; this type only produces the signature, for witnesses and for tests.
#[derive(Clone)]
pub struct Cosigner {
    verifier: CosignatureVerifier,
    key: SigningKey,
}

impl Cosigner {
    pub fn generate(name: &str, rng: &mut (impl RngCore + CryptoRng)) -> Result<Self, NoteError> {
        // Reuse the signed-note name rules through a throwaway signer.
        crate::note::NoteSigner::generate(name, rng)?;
        let key = SigningKey::generate(rng);
        let public = key.verifying_key();
        Ok(Self {
            verifier: CosignatureVerifier {
                name: name.to_owned(),
                id: typed_key_id(name, COSIGNATURE_V1, &public),
                key: public,
            },
            key,
        })
    }

    /// The cosigner of a signed-note key: the same name and Ed25519 key, used with the
    /// cosignature type 0x04 (so its key id and verifier key differ from the note key's).
    /// This is how a witness cosigns with a Tracemark signed-note key file; keep such a
    /// key for witnessing only.
    pub fn from_note_signer(signer: &crate::note::NoteSigner) -> Self {
        let key = signer.signing_key().clone();
        let public = key.verifying_key();
        let name = signer.verifier().name();
        Self {
            verifier: CosignatureVerifier {
                name: name.to_owned(),
                id: typed_key_id(name, COSIGNATURE_V1, &public),
                key: public,
            },
            key,
        }
    }

    pub fn verifier(&self) -> &CosignatureVerifier {
        &self.verifier
    }

    /// The cosignature line over a checkpoint body at `timestamp` (POSIX seconds).
    pub fn cosign_line(&self, body: &str, timestamp: u64) -> String {
        let sig = self.key.sign(cosigned_message(body, timestamp).as_bytes());
        let mut signature = timestamp.to_be_bytes().to_vec();
        signature.extend_from_slice(&sig.to_bytes());
        NoteSignature {
            name: self.verifier.name.clone(),
            key_id: self.verifier.id,
            signature,
        }
        .to_line()
    }
}

impl fmt::Debug for Cosigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Cosigner({})", self.verifier)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::note::Note;

    const BODY: &str =
        "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";

    #[test]
    fn the_message_is_the_spec_example() {
        assert_eq!(
            cosigned_message(BODY, 1679315147),
            "cosignature/v1\ntime 1679315147\nexample.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
        );
    }

    #[test]
    fn the_spec_example_line_carries_its_timestamp() {
        // From c2sp.org/tlog-cosignature: the witness line's blob is id ‖ time ‖ sig.
        let line = "\u{2014} witness.example.com/w1 jWbPPwAAAABkGFDLEZMHwSRaJNiIDoe9DYn/zXcrtPHeolMI5OWXEhZCB9dlrDJsX3b2oyin1nPZqhf5nNo0xUe+mbIUBkBIfZ+qnA==";
        let sig = NoteSignature::parse_line(line).unwrap();
        assert_eq!(sig.key_id, 0x8d66cf3f);
        assert_eq!(sig.signature.len(), 8 + 64);
        assert_eq!(
            u64::from_be_bytes(sig.signature[..8].try_into().unwrap()),
            1679315147
        );
    }

    #[test]
    fn cosignatures_verify_and_carry_time() {
        let w = Cosigner::generate("witness.example/w1", &mut rand_core::OsRng).unwrap();
        let parsed = CosignatureVerifier::parse(&w.verifier().to_string()).unwrap();
        assert_eq!(&parsed, w.verifier());
        let mut note = Note::new(BODY).unwrap();
        note.add_signature_line(&w.cosign_line(BODY, 1_700_000_000))
            .unwrap();
        let ok = note.verify(&[&parsed]).unwrap();
        assert_eq!(ok[0].timestamp, Some(1_700_000_000));
        // The same key as a plain Ed25519 note verifier has another key id: ignored.
        assert!(
            crate::note::NoteVerifier::parse(&w.verifier().to_string()).is_err(),
            "a type 0x04 vkey must not parse as a type 0x01 vkey"
        );
        let other_body = BODY.replace("20852163", "20852164");
        let mut forged = Note::new(other_body).unwrap();
        forged
            .add_signature_line(&w.cosign_line(BODY, 1_700_000_000))
            .unwrap();
        assert!(matches!(
            forged.verify(&[&parsed]),
            Err(NoteError::BadSignature { .. })
        ));
    }
}
