//! Signing keys: a PKCS#8 private key with the X.509 chain that vouches for it.
//!
//! A [`SigningKey`] is checked when it is loaded, not when the first signature fails: the
//! chain must parse, the leaf must be an end-entity certificate that may sign, be valid
//! now, and certify the private key (a probe signature is made and verified against the
//! leaf's public key). The secret has no `Debug` or `Display` form that shows it.

use std::{fmt, path::Path, sync::Mutex};

use c2pa::{
    SigningAlg,
    crypto::raw_signature::{
        RawSigner, signer_from_cert_chain_and_private_key, validator_for_signing_alg,
    },
};
use time::OffsetDateTime;
use tracemark_core::{
    KeyId, KeyKind,
    keyfile::{self, Secrecy},
};
use x509_parser::{certificate::X509Certificate, oid_registry, pem::Pem, prelude::FromDer};

use crate::{CredentialError, SignOptions, SigningAlgorithm, SigningIdentity, tsa};

/// A private key and its certificate chain (leaf first, then intermediates; never the root).
pub struct SigningKey {
    algorithm: SigningAlgorithm,
    pub(crate) chain_der: Vec<Vec<u8>>,
    raw: Box<dyn RawSigner + Send + Sync>,
    key_id: KeyId,
    subject: String,
    issuer: String,
    not_after: OffsetDateTime,
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("algorithm", &self.algorithm)
            .field("key_id", &self.key_id)
            .field("subject", &self.subject)
            .field("certificates", &self.chain_der.len())
            .finish_non_exhaustive()
    }
}

/// One certificate of a chain, parsed just enough to check it.
struct CertFacts {
    subject_cn: String,
    issuer_cn: String,
    spki: Vec<u8>,
    algorithm: Option<SigningAlgorithm>,
    algorithm_name: String,
    not_before: OffsetDateTime,
    not_after: OffsetDateTime,
    is_ca: bool,
    digital_signature: Option<bool>,
    key_cert_sign: bool,
}

fn common_name(name: &x509_parser::x509::X509Name<'_>) -> String {
    name.iter_common_name()
        .next()
        .and_then(|cn| cn.as_str().ok())
        .map(str::to_owned)
        .unwrap_or_else(|| name.to_string())
}

fn cert_facts(index: usize, der: &[u8]) -> Result<CertFacts, CredentialError> {
    let bad = |reason: String| CredentialError::BadCertificate { index, reason };
    let (rest, cert) = X509Certificate::from_der(der).map_err(|e| bad(e.to_string()))?;
    if !rest.is_empty() {
        return Err(bad("trailing bytes after the certificate".into()));
    }
    let spki = cert.public_key();
    let oid = &spki.algorithm.algorithm;
    let (algorithm, algorithm_name) = if *oid == oid_registry::OID_SIG_ED25519 {
        (Some(SigningAlgorithm::Ed25519), "Ed25519".to_owned())
    } else if *oid == oid_registry::OID_KEY_TYPE_EC_PUBLIC_KEY {
        let curve = spki
            .algorithm
            .parameters
            .as_ref()
            .and_then(|p| p.as_oid().ok());
        match curve {
            Some(c) if c == oid_registry::OID_EC_P256 => {
                (Some(SigningAlgorithm::Es256), "ECDSA P-256".to_owned())
            }
            Some(c) => (None, format!("ECDSA on curve {c}")),
            None => (None, "ECDSA without a named curve".to_owned()),
        }
    } else {
        (None, oid.to_id_string())
    };
    let is_ca = cert
        .basic_constraints()
        .ok()
        .flatten()
        .is_some_and(|bc| bc.value.ca);
    let key_usage = cert.key_usage().ok().flatten().map(|ku| ku.value);
    Ok(CertFacts {
        subject_cn: common_name(cert.subject()),
        issuer_cn: common_name(cert.issuer()),
        spki: spki.raw.to_vec(),
        algorithm,
        algorithm_name,
        not_before: cert.validity().not_before.to_datetime(),
        not_after: cert.validity().not_after.to_datetime(),
        is_ca,
        digital_signature: key_usage.map(|k| k.digital_signature()),
        key_cert_sign: key_usage.is_some_and(|k| k.key_cert_sign()),
    })
}

/// The DER certificates of a PEM bundle, in order.
pub(crate) fn pem_certificates(pem: &[u8]) -> Result<Vec<Vec<u8>>, CredentialError> {
    let mut out = Vec::new();
    for (index, block) in Pem::iter_from_buffer(pem).enumerate() {
        let block = block.map_err(|e| CredentialError::BadCertificate {
            index,
            reason: e.to_string(),
        })?;
        if block.label == "CERTIFICATE" {
            out.push(block.contents);
        }
    }
    if out.is_empty() {
        return Err(CredentialError::NoCertificate);
    }
    Ok(out)
}

impl SigningAlgorithm {
    pub(crate) fn c2pa(self) -> SigningAlg {
        match self {
            SigningAlgorithm::Ed25519 => SigningAlg::Ed25519,
            SigningAlgorithm::Es256 => SigningAlg::Es256,
        }
    }
}

impl SigningKey {
    /// Loads a chain (PEM, leaf first) and its PKCS#8 private key (PEM), and checks that
    /// they belong together, that the leaf may sign and that it is valid now.
    pub fn from_pem(chain_pem: &[u8], key_pem: &[u8]) -> Result<Self, CredentialError> {
        Self::from_pem_at(chain_pem, key_pem, OffsetDateTime::now_utc())
    }

    fn from_pem_at(
        chain_pem: &[u8],
        key_pem: &[u8],
        now: OffsetDateTime,
    ) -> Result<Self, CredentialError> {
        let chain_der = pem_certificates(chain_pem)?;
        let leaf = cert_facts(0, &chain_der[0])?;
        for (i, der) in chain_der.iter().enumerate().skip(1) {
            cert_facts(i, der)?;
        }
        let algorithm = leaf
            .algorithm
            .ok_or_else(|| CredentialError::UnsupportedKeyAlgorithm(leaf.algorithm_name.clone()))?;
        if leaf.is_ca || leaf.key_cert_sign || leaf.digital_signature == Some(false) {
            return Err(CredentialError::LeafProfile {
                subject: leaf.subject_cn.clone(),
                reason: if leaf.is_ca || leaf.key_cert_sign {
                    "it is a CA certificate; give the end-entity certificate first".into()
                } else {
                    "its key usage lacks digitalSignature".into()
                },
            });
        }
        if now < leaf.not_before || now > leaf.not_after {
            return Err(CredentialError::CertificateNotValidNow {
                subject: leaf.subject_cn.clone(),
                not_before: leaf.not_before.to_string(),
                not_after: leaf.not_after.to_string(),
            });
        }
        let key_text = std::str::from_utf8(key_pem)
            .map_err(|_| CredentialError::BadKey("the key file is not PEM text".into()))?;
        if !key_text.contains("-----BEGIN PRIVATE KEY-----") {
            let found = key_text
                .lines()
                .find(|l| l.starts_with("-----BEGIN "))
                .unwrap_or("no PEM block")
                .to_owned();
            return Err(CredentialError::BadKey(format!("found `{found}`")));
        }
        let raw =
            signer_from_cert_chain_and_private_key(chain_pem, key_pem, algorithm.c2pa(), None)
                .map_err(|e| CredentialError::BadKey(e.to_string()))?;
        // The probe: a key that does not match the leaf would sign credentials nobody can
        // verify.
        let probe = b"tracemark signing key probe";
        let signature = raw
            .sign(probe)
            .map_err(|e| CredentialError::BadKey(e.to_string()))?;
        let validator = validator_for_signing_alg(algorithm.c2pa())
            .ok_or_else(|| CredentialError::UnsupportedKeyAlgorithm(algorithm.to_string()))?;
        if validator.validate(&signature, probe, &leaf.spki).is_err() {
            return Err(CredentialError::KeyCertificateMismatch {
                subject: leaf.subject_cn,
            });
        }
        Ok(Self {
            algorithm,
            key_id: KeyId::derive(KeyKind::Signing, &leaf.spki),
            chain_der,
            raw,
            subject: leaf.subject_cn,
            issuer: leaf.issuer_cn,
            not_after: leaf.not_after,
        })
    }

    /// Loads a chain and key from files. The key file must not be readable by others
    /// (`tracemark_core::keyfile`'s rule for secrets).
    pub fn from_files(chain: &Path, key: &Path) -> Result<Self, CredentialError> {
        let chain_pem = std::fs::read(chain).map_err(|e| CredentialError::io(chain, e))?;
        let key_pem = keyfile::read_file(key, Secrecy::Secret)?;
        Self::from_pem(&chain_pem, &key_pem)
    }

    /// Loads the identity that `SigningIdentity::create_development` wrote in `dir`.
    pub fn from_identity_dir(dir: &Path) -> Result<Self, CredentialError> {
        let identity = SigningIdentity::load(dir).map_err(|e| match e {
            crate::identity::IdentityError::KeyFile(k) => CredentialError::KeyFile(k),
            other => CredentialError::BadOption {
                option: "identity",
                reason: other.to_string(),
            },
        })?;
        Self::from_files(
            &dir.join(&identity.files.chain),
            &dir.join(&identity.files.key),
        )
    }

    pub fn algorithm(&self) -> SigningAlgorithm {
        self.algorithm
    }

    /// Derived from the leaf's SubjectPublicKeyInfo, as `SigningIdentity::key_id` is.
    pub fn key_id(&self) -> &KeyId {
        &self.key_id
    }

    /// The leaf's subject common name.
    pub fn subject(&self) -> &str {
        &self.subject
    }

    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    pub fn not_after(&self) -> OffsetDateTime {
        self.not_after
    }

    /// The chain as DER, leaf first.
    pub fn chain_der(&self) -> &[Vec<u8>] {
        &self.chain_der
    }

    /// The bytes reserved for the COSE_Sign1 signature box: the certificates, the
    /// signature and the COSE headers, with a little slack, instead of c2pa-rs's default
    /// of 1 KiB on top. What is reserved and unused is zero padding in every manifest.
    pub(crate) fn reserve_size(&self, time_stamp: bool) -> usize {
        let certs: usize = self.chain_der.iter().map(|c| c.len() + 5).sum();
        // Measured with c2pa 0.90.22: the smallest box that fits is the certificates plus
        // 348 bytes for both algorithms (COSE structure, headers, the 64-byte signature
        // and the padding header's own minimum); 350 and 5 per certificate leave a
        // little slack for longer chains.
        let base = certs + 350;
        if time_stamp { base + 6 * 1024 } else { base }
    }

    pub(crate) fn c2pa_signer<'a>(&'a self, options: &'a SignOptions) -> C2paSigner<'a> {
        C2paSigner {
            key: self,
            options,
            time_stamp_error: Mutex::new(None),
        }
    }
}

/// The adapter that hands our key (and the time-stamp authority to ask) to the c2pa crate.
pub(crate) struct C2paSigner<'a> {
    key: &'a SigningKey,
    options: &'a SignOptions,
    /// Why the time-stamp request failed, if it did: the c2pa crate passes on only the
    /// text of an error, inside its own.
    time_stamp_error: Mutex<Option<CredentialError>>,
}

impl C2paSigner<'_> {
    /// The time-stamp failure behind a failed signing, if that is what failed.
    pub(crate) fn take_time_stamp_error(&self) -> Option<CredentialError> {
        self.time_stamp_error
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take()
    }
}

impl c2pa::Signer for C2paSigner<'_> {
    fn sign(&self, data: &[u8]) -> c2pa::Result<Vec<u8>> {
        Ok(self.key.raw.sign(data)?)
    }

    fn alg(&self) -> SigningAlg {
        self.key.algorithm.c2pa()
    }

    fn certs(&self) -> c2pa::Result<Vec<Vec<u8>>> {
        Ok(self.key.chain_der.clone())
    }

    fn reserve_size(&self) -> usize {
        self.key.reserve_size(self.options.tsa_url.is_some())
    }

    fn time_authority_url(&self) -> Option<String> {
        self.options.tsa_url.clone()
    }

    fn send_timestamp_request(&self, message: &[u8]) -> Option<c2pa::Result<Vec<u8>>> {
        let url = self.options.tsa_url.as_deref()?;
        Some(
            tsa::request(url, self.options.tsa_roots.as_ref(), message).map_err(|e| {
                let text = e.to_string();
                *self
                    .time_stamp_error
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(e);
                c2pa::Error::OtherError(text.into())
            }),
        )
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::identity::SigningIdentity;
    use tracemark_core::keyfile::Replace;

    /// A development identity in a temporary directory, and the key loaded from it.
    pub(crate) fn dev_key(alg: SigningAlgorithm) -> (tempfile::TempDir, SigningKey) {
        let dir = tempfile::tempdir().unwrap();
        SigningIdentity::create_development(dir.path(), alg, "Example AI", Replace::No).unwrap();
        let key = SigningKey::from_identity_dir(dir.path()).unwrap();
        (dir, key)
    }

    #[test]
    fn loads_development_identities_of_both_algorithms() {
        for alg in [SigningAlgorithm::Ed25519, SigningAlgorithm::Es256] {
            let (_dir, key) = dev_key(alg);
            assert_eq!(key.algorithm(), alg);
            assert_eq!(key.chain_der().len(), 2);
            assert!(key.subject().contains("UNTRUSTED"));
            let debug = format!("{key:?}");
            assert!(!debug.contains("PRIVATE"), "{debug}");
        }
    }

    #[test]
    fn rejects_a_key_that_does_not_match_the_leaf() {
        let (a, _) = dev_key(SigningAlgorithm::Ed25519);
        let (b, _) = dev_key(SigningAlgorithm::Ed25519);
        let chain = std::fs::read(a.path().join("chain.pem")).unwrap();
        let key = std::fs::read(b.path().join("key.pem")).unwrap();
        let err = SigningKey::from_pem(&chain, &key).unwrap_err();
        assert!(
            matches!(err, CredentialError::KeyCertificateMismatch { .. }),
            "{err}"
        );
    }

    #[test]
    fn rejects_a_key_of_the_other_algorithm() {
        let (a, _) = dev_key(SigningAlgorithm::Ed25519);
        let (b, _) = dev_key(SigningAlgorithm::Es256);
        let chain = std::fs::read(a.path().join("chain.pem")).unwrap();
        let key = std::fs::read(b.path().join("key.pem")).unwrap();
        assert!(SigningKey::from_pem(&chain, &key).is_err());
    }

    #[test]
    fn rejects_expired_and_not_yet_valid_leaves() {
        let (a, _) = dev_key(SigningAlgorithm::Es256);
        let chain = std::fs::read(a.path().join("chain.pem")).unwrap();
        let key = std::fs::read(a.path().join("key.pem")).unwrap();
        let later = OffsetDateTime::now_utc() + time::Duration::days(5 * 365);
        let err = SigningKey::from_pem_at(&chain, &key, later).unwrap_err();
        assert!(matches!(
            err,
            CredentialError::CertificateNotValidNow { .. }
        ));
        let earlier = OffsetDateTime::now_utc() - time::Duration::days(2);
        assert!(SigningKey::from_pem_at(&chain, &key, earlier).is_err());
    }

    #[test]
    fn rejects_a_ca_certificate_as_leaf_and_garbage() {
        let (a, _) = dev_key(SigningAlgorithm::Ed25519);
        let root = std::fs::read(a.path().join("root.pem")).unwrap();
        let key = std::fs::read(a.path().join("key.pem")).unwrap();
        assert!(matches!(
            SigningKey::from_pem(&root, &key).unwrap_err(),
            CredentialError::LeafProfile { .. }
        ));
        assert!(matches!(
            SigningKey::from_pem(b"not pem", &key).unwrap_err(),
            CredentialError::NoCertificate
        ));
        let chain = std::fs::read(a.path().join("chain.pem")).unwrap();
        assert!(matches!(
            SigningKey::from_pem(
                &chain,
                b"-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----\n"
            )
            .unwrap_err(),
            CredentialError::BadKey(_)
        ));
        let mut broken = String::from_utf8(chain).unwrap();
        broken = broken.replacen("MII", "MIX", 1);
        assert!(SigningKey::from_pem(broken.as_bytes(), &key).is_err());
    }
}
