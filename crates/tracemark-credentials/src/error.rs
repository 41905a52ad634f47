//! The errors of this crate. Verification never fails with an error for a bad credential:
//! a tampered or unreadable manifest is a verdict ([`crate::VerificationReport`]). Errors
//! are for requests that cannot be carried out (a key that does not match its
//! certificate, an unsupported format, an unreadable file), and for content the verifier
//! did not examine ([`CredentialError::NotExamined`]: no verdict, neither a credential
//! nor its absence).

use std::path::PathBuf;

use tracemark_core::{Diagnose, Fault, keyfile::KeyFileError};

/// Signing or verifying could not be carried out.
#[derive(Debug, thiserror::Error)]
pub enum CredentialError {
    #[error("the certificate chain has no PEM certificate in it")]
    NoCertificate,
    #[error("certificate {index} of the chain is not a valid X.509 certificate: {reason}")]
    BadCertificate { index: usize, reason: String },
    #[error(
        "the private key is not a PKCS#8 PEM key (`-----BEGIN PRIVATE KEY-----`) of the leaf's algorithm: {0}"
    )]
    BadKey(String),
    #[error("the private key does not belong to the leaf certificate `{subject}`")]
    KeyCertificateMismatch { subject: String },
    #[error("the leaf certificate's key algorithm is not supported: {0}")]
    UnsupportedKeyAlgorithm(String),
    #[error(
        "the signing certificate `{subject}` is not valid now (valid {not_before} to {not_after})"
    )]
    CertificateNotValidNow {
        subject: String,
        not_before: String,
        not_after: String,
    },
    #[error("the leaf certificate `{subject}` cannot sign content credentials: {reason}")]
    LeafProfile { subject: String, reason: String },
    #[error("`{0}` is not a media format this build can sign (jpeg, png, webp, mp4, wav)")]
    UnsupportedFormat(String),
    #[error("`{0}` is a format this build can only read, not sign")]
    ReadOnlyFormat(String),
    #[error("the text is not valid UTF-8 (byte {valid_up_to} is the first bad one)")]
    NotUtf8 { valid_up_to: usize },
    #[error("the text already carries {count} embedded C2PA manifest(s)")]
    AlreadyEmbedded { count: usize },
    /// The content was not examined for a credential (it is over the verifier's size
    /// limit): nothing is known about its credential, which is not "none".
    #[error("{what} was not examined for a content credential: {reason}")]
    NotExamined { what: String, reason: String },
    #[error("time-stamp authority `{url}`: {reason}")]
    TimeStamp { url: String, reason: String },
    #[error("the option `{option}` is invalid: {reason}")]
    BadOption {
        option: &'static str,
        reason: String,
    },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("refusing to overwrite the input file {0}; write to another path")]
    OutputIsInput(PathBuf),
    #[error("cannot sign this file: {0}")]
    Input(String),
    #[error("the C2PA library failed: {0}")]
    C2pa(String),
    #[error(transparent)]
    KeyFile(#[from] KeyFileError),
}

impl CredentialError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        CredentialError::Io {
            path: path.into(),
            source,
        }
    }

    pub(crate) fn c2pa(e: c2pa::Error) -> Self {
        CredentialError::C2pa(e.to_string())
    }

    /// Whether this is [`CredentialError::NotExamined`]: the content got no verdict.
    pub fn is_not_examined(&self) -> bool {
        matches!(self, CredentialError::NotExamined { .. })
    }
}

impl Diagnose for CredentialError {
    fn fault(&self) -> Fault {
        use CredentialError::*;
        match self {
            NoCertificate
            | BadCertificate { .. }
            | BadKey(_)
            | KeyCertificateMismatch { .. }
            | UnsupportedKeyAlgorithm(_)
            | CertificateNotValidNow { .. }
            | LeafProfile { .. }
            | NotUtf8 { .. }
            | AlreadyEmbedded { .. } => Fault::Input,
            UnsupportedFormat(_) | ReadOnlyFormat(_) | BadOption { .. } | OutputIsInput(_) => {
                Fault::Usage
            }
            NotExamined { .. } | TimeStamp { .. } | Io { .. } | Input(_) => Fault::Input,
            C2pa(_) => Fault::Internal,
            KeyFile(e) => e.fault(),
        }
    }

    fn hint(&self) -> Option<String> {
        use CredentialError::*;
        match self {
            BadKey(_) => Some(
                "convert the key with `openssl pkcs8 -topk8 -nocrypt -in KEY -out key.pem`".into(),
            ),
            KeyCertificateMismatch { .. } => {
                Some("pass the key that was certified, or the chain issued for this key".into())
            }
            NoCertificate => Some("give the leaf certificate first, then intermediates".into()),
            CertificateNotValidNow { .. } => {
                Some("renew the certificate, or make a new one with `tracemark keygen signing`".into())
            }
            LeafProfile { .. } => Some(
                "the leaf needs keyUsage digitalSignature, no CA flag, and an extended key usage such as emailProtection"
                    .into(),
            ),
            AlreadyEmbedded { .. } => Some(
                "verify it first; strip the old wrapper with `strip_wrappers` before signing again".into(),
            ),
            UnsupportedFormat(_) => Some("sign text with a sidecar manifest instead".into()),
            NotExamined { .. } => Some(
                "no verdict was reached (this is not \"no credential\"): verify a smaller copy, or raise the verifier's size limit".into(),
            ),
            TimeStamp { .. } => Some("check the TSA URL, or sign without a time stamp".into()),
            KeyFile(e) => e.hint(),
            _ => None,
        }
    }
}
