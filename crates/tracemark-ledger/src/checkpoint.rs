//! C2SP `tlog-checkpoint`: the log's signed statement of its size and root hash.
//!
//! The body is the origin line, the tree size in decimal, the base64 RFC 6962 root hash,
//! and optional extension lines; it is the text of a signed note. Tracemark names a log
//! key after the log's origin, so a checkpoint is trusted only when the log key whose
//! name is the origin signed it; witnesses add cosignatures ([`crate::cosignature`]).

use tracemark_core::{Diagnose, Fault};

use crate::{
    cosignature::CosignatureVerifier,
    merkle::Hash,
    note::{Note, NoteError, NoteSigner, NoteVerifier, NoteVerify, VerifiedSignature},
};

/// A checkpoint body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    pub origin: String,
    pub size: u64,
    pub root: Hash,
    /// Extension lines (discouraged by the spec; kept so notes round-trip).
    pub extensions: Vec<String>,
}

/// A checkpoint that could not be read or trusted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CheckpointError {
    #[error("malformed checkpoint: {0}")]
    Malformed(&'static str),
    #[error(transparent)]
    Note(#[from] NoteError),
    #[error("the checkpoint is for log `{found}`, not `{expected}`")]
    WrongOrigin { expected: String, found: String },
    #[error("the checkpoint has {found} valid witness cosignatures; {required} are required")]
    NotEnoughCosignatures { required: usize, found: usize },
}

impl Diagnose for CheckpointError {
    fn fault(&self) -> Fault {
        match self {
            CheckpointError::Note(e) => e.fault(),
            _ => Fault::Input,
        }
    }

    fn hint(&self) -> Option<String> {
        match self {
            CheckpointError::WrongOrigin { .. } => {
                Some("check that you gave the key of the log that issued it".into())
            }
            CheckpointError::NotEnoughCosignatures { .. } => {
                Some("fetch a checkpoint that the required witnesses have cosigned".into())
            }
            _ => None,
        }
    }
}

impl Checkpoint {
    /// The note text: origin, size, root hash, extension lines, each ending in a newline.
    pub fn to_body(&self) -> String {
        let mut out = format!(
            "{}\n{}\n{}\n",
            self.origin,
            self.size,
            self.root.to_base64()
        );
        for line in &self.extensions {
            out.push_str(line);
            out.push('\n');
        }
        out
    }

    /// Parses a checkpoint body (a note's text).
    pub fn parse_body(text: &str) -> Result<Self, CheckpointError> {
        let body = text
            .strip_suffix('\n')
            .ok_or(CheckpointError::Malformed("the body must end in a newline"))?;
        let mut lines = body.split('\n');
        let origin = lines.next().filter(|o| !o.is_empty());
        let origin = origin.ok_or(CheckpointError::Malformed("the origin line is empty"))?;
        let size = lines
            .next()
            .and_then(parse_decimal)
            .ok_or(CheckpointError::Malformed(
                "the second line must be the tree size in decimal",
            ))?;
        let root = lines
            .next()
            .and_then(Hash::from_base64)
            .ok_or(CheckpointError::Malformed(
                "the third line must be a base64 SHA-256 root hash",
            ))?;
        let extensions: Vec<String> = lines.map(str::to_owned).collect();
        if extensions.iter().any(String::is_empty) {
            return Err(CheckpointError::Malformed(
                "extension lines must not be empty",
            ));
        }
        Ok(Self {
            origin: origin.to_owned(),
            size,
            root,
            extensions,
        })
    }

    /// Signs the checkpoint with the log's key, whose name must be the origin.
    pub fn sign(&self, signer: &NoteSigner) -> Result<SignedCheckpoint, CheckpointError> {
        if signer.verifier().name() != self.origin {
            return Err(CheckpointError::WrongOrigin {
                expected: signer.verifier().name().to_owned(),
                found: self.origin.clone(),
            });
        }
        let mut note = Note::new(self.to_body())?;
        note.sign(signer)?;
        Ok(SignedCheckpoint {
            checkpoint: self.clone(),
            note,
        })
    }
}

/// Decimal ASCII without leading zeros (except `0`) or signs.
pub(crate) fn parse_decimal(s: &str) -> Option<u64> {
    let canonical =
        !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) && (s == "0" || !s.starts_with('0'));
    if canonical { s.parse().ok() } else { None }
}

/// A checkpoint with its signature lines (the log's and any witnesses').
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedCheckpoint {
    checkpoint: Checkpoint,
    note: Note,
}

/// What a verified checkpoint says and who vouched for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedCheckpoint {
    pub checkpoint: Checkpoint,
    /// The witnesses whose cosignatures verified, with their timestamps.
    pub cosignatures: Vec<VerifiedSignature>,
}

/// What a verifier trusts: the log's key, the witnesses it knows, and how many of them
/// must have cosigned.
#[derive(Debug, Clone)]
pub struct TrustPolicy {
    pub log: NoteVerifier,
    pub witnesses: Vec<CosignatureVerifier>,
    pub required_cosignatures: usize,
}

impl TrustPolicy {
    /// Trust the log whose verifier key is `vkey` (the text of its `key.pub`).
    pub fn from_log_vkey(vkey: &str) -> Result<Self, NoteError> {
        Ok(Self::log_only(NoteVerifier::parse(vkey)?))
    }

    /// Trust the log's key alone.
    pub fn log_only(log: NoteVerifier) -> Self {
        Self {
            log,
            witnesses: Vec::new(),
            required_cosignatures: 0,
        }
    }
}

impl SignedCheckpoint {
    /// Parses a signed checkpoint note without trusting it.
    pub fn parse(input: &[u8]) -> Result<Self, CheckpointError> {
        let note = Note::parse(input)?;
        let checkpoint = Checkpoint::parse_body(note.text())?;
        Ok(Self { checkpoint, note })
    }

    /// The body, unverified: call [`SignedCheckpoint::verify`] before relying on it.
    pub fn checkpoint_unverified(&self) -> &Checkpoint {
        &self.checkpoint
    }

    pub fn note(&self) -> &Note {
        &self.note
    }

    /// The note text with all signature lines.
    pub fn to_text(&self) -> String {
        self.note.to_text()
    }

    /// Adds a witness cosignature line.
    pub fn add_cosignature(&mut self, line: &str) -> Result<(), CheckpointError> {
        Ok(self.note.add_signature_line(line)?)
    }

    /// Checks the log's signature (required), the origin (must be the log key's name),
    /// and that at least `required_cosignatures` known witnesses cosigned.
    pub fn verify(&self, policy: &TrustPolicy) -> Result<VerifiedCheckpoint, CheckpointError> {
        if self.checkpoint.origin != policy.log.name() {
            return Err(CheckpointError::WrongOrigin {
                expected: policy.log.name().to_owned(),
                found: self.checkpoint.origin.clone(),
            });
        }
        let mut known: Vec<&dyn NoteVerify> = vec![&policy.log];
        known.extend(policy.witnesses.iter().map(|w| w as &dyn NoteVerify));
        let verified = self.note.verify(&known)?;
        let is_log = |v: &VerifiedSignature| {
            v.name == policy.log.name() && v.key_id == policy.log.key_id() && v.timestamp.is_none()
        };
        if !verified.iter().any(is_log) {
            return Err(NoteError::NoTrustedSignature {
                expected: policy.log.name().to_owned(),
            }
            .into());
        }
        let cosignatures: Vec<VerifiedSignature> =
            verified.into_iter().filter(|v| !is_log(v)).collect();
        // Witnesses are counted, not lines: two cosignatures of one witness (made at two
        // times) are one witness's word.
        let mut witnesses: Vec<(&str, u32)> = cosignatures
            .iter()
            .map(|v| (v.name.as_str(), v.key_id))
            .collect();
        witnesses.sort_unstable();
        witnesses.dedup();
        if witnesses.len() < policy.required_cosignatures {
            return Err(CheckpointError::NotEnoughCosignatures {
                required: policy.required_cosignatures,
                found: witnesses.len(),
            });
        }
        Ok(VerifiedCheckpoint {
            checkpoint: self.checkpoint.clone(),
            cosignatures,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cosignature::Cosigner;
    use rand_core::OsRng;

    fn log() -> NoteSigner {
        NoteSigner::generate("log.example/tracemark", &mut OsRng).unwrap()
    }

    fn checkpoint() -> Checkpoint {
        Checkpoint {
            origin: "log.example/tracemark".into(),
            size: 20852163,
            root: Hash::from_base64("CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=").unwrap(),
            extensions: vec![],
        }
    }

    #[test]
    fn body_round_trips_in_the_spec_form() {
        let c = checkpoint();
        assert_eq!(
            c.to_body(),
            "log.example/tracemark\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
        );
        assert_eq!(Checkpoint::parse_body(&c.to_body()).unwrap(), c);
        let mut ext = c.clone();
        ext.extensions.push("- extension".into());
        assert_eq!(Checkpoint::parse_body(&ext.to_body()).unwrap(), ext);
    }

    #[test]
    fn malformed_bodies_are_rejected() {
        for bad in [
            "",
            "origin\n",
            "origin\n12\n",
            "origin\n012\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",
            "origin\n-1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",
            "origin\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I\n",
            "origin\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=",
            "\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",
            "origin\n99999999999999999999999\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",
        ] {
            assert!(Checkpoint::parse_body(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn signed_checkpoints_verify_and_forgeries_do_not() {
        let signer = log();
        let signed = checkpoint().sign(&signer).unwrap();
        let policy = TrustPolicy::log_only(signer.verifier().clone());
        let text = signed.to_text();
        let parsed = SignedCheckpoint::parse(text.as_bytes()).unwrap();
        assert_eq!(parsed.verify(&policy).unwrap().checkpoint, checkpoint());

        // Another key with the same name: the signature is ignored, nothing trusted.
        let impostor = log();
        let forged = checkpoint().sign(&impostor).unwrap();
        assert!(matches!(
            forged.verify(&policy),
            Err(CheckpointError::Note(NoteError::NoTrustedSignature { .. }))
        ));
        // A changed size under the real signature.
        let altered = text.replace("20852163", "20852164");
        assert!(matches!(
            SignedCheckpoint::parse(altered.as_bytes())
                .unwrap()
                .verify(&policy),
            Err(CheckpointError::Note(NoteError::BadSignature { .. }))
        ));
        let other_log = NoteSigner::generate("other.example/log", &mut OsRng).unwrap();
        assert!(matches!(
            parsed.verify(&TrustPolicy::log_only(other_log.verifier().clone())),
            Err(CheckpointError::WrongOrigin { .. })
        ));
        assert!(checkpoint().sign(&other_log).is_err());
    }

    #[test]
    fn witness_cosignatures_can_be_required() {
        let signer = log();
        let w1 = Cosigner::generate("w1.example", &mut OsRng).unwrap();
        let w2 = Cosigner::generate("w2.example", &mut OsRng).unwrap();
        let mut signed = checkpoint().sign(&signer).unwrap();
        let body = checkpoint().to_body();
        signed
            .add_cosignature(&w1.cosign_line(&body, 1_800_000_000))
            .unwrap();
        let mut policy = TrustPolicy {
            log: signer.verifier().clone(),
            witnesses: vec![w1.verifier().clone(), w2.verifier().clone()],
            required_cosignatures: 1,
        };
        let reparsed = SignedCheckpoint::parse(signed.to_text().as_bytes()).unwrap();
        let v = reparsed.verify(&policy).unwrap();
        assert_eq!(v.cosignatures.len(), 1);
        assert_eq!(v.cosignatures[0].timestamp, Some(1_800_000_000));
        policy.required_cosignatures = 2;
        assert_eq!(
            reparsed.verify(&policy),
            Err(CheckpointError::NotEnoughCosignatures {
                required: 2,
                found: 1
            })
        );
        // The same witness cosigning again (another time, so another line) is still one
        // witness: it does not make two cosignatures.
        let mut twice = reparsed.clone();
        twice
            .add_cosignature(&w1.cosign_line(&body, 1_800_000_100))
            .unwrap();
        let twice = SignedCheckpoint::parse(twice.to_text().as_bytes()).unwrap();
        assert_eq!(twice.note().signatures().len(), 3);
        assert_eq!(
            twice.verify(&policy),
            Err(CheckpointError::NotEnoughCosignatures {
                required: 2,
                found: 1
            })
        );
        // A witness cosignature alone does not stand in for the log's signature.
        let mut only_witness = Note::new(body.clone()).unwrap();
        only_witness
            .add_signature_line(&w1.cosign_line(&body, 1))
            .unwrap();
        let only = SignedCheckpoint::parse(only_witness.to_text().as_bytes()).unwrap();
        policy.required_cosignatures = 0;
        assert!(only.verify(&policy).is_err());
    }
}
