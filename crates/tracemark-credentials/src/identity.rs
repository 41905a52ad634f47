//! Signing identities: a private key with the certificate chain that vouches for it.
//!
//! `tracemark keygen signing` makes a development identity: a root CA (the trust anchor a
//! verifier configures), an intermediate CA, and a leaf with the profile the official C2PA
//! tools accept (`interop-notes.md`): X.509 v3, `basicConstraints CA:FALSE`, critical
//! `keyUsage digitalSignature`, the `emailProtection` extended key usage, subject and
//! authority key identifiers, not self-signed. Every certificate says in its name that it
//! is for development and untrusted, so nobody mistakes it for a real identity.

use std::{fmt, path::Path, str::FromStr};

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DistinguishedName, DnType,
    ExtendedKeyUsagePurpose, IsCa, KeyPair, KeyUsagePurpose, SignatureAlgorithm,
};
use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};
use tracemark_core::{
    Diagnose, Fault, KeyId, KeyKind, Timestamp,
    keyfile::{self, KeyDocument, KeyFileError, Replace, Secrecy},
};

/// Signature algorithms for content credentials (COSE `EdDSA` and `ES256`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SigningAlgorithm {
    Ed25519,
    Es256,
}

impl SigningAlgorithm {
    fn rcgen(self) -> &'static SignatureAlgorithm {
        match self {
            SigningAlgorithm::Ed25519 => &rcgen::PKCS_ED25519,
            SigningAlgorithm::Es256 => &rcgen::PKCS_ECDSA_P256_SHA256,
        }
    }
}

impl fmt::Display for SigningAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SigningAlgorithm::Ed25519 => "ed25519",
            SigningAlgorithm::Es256 => "es256",
        })
    }
}

impl FromStr for SigningAlgorithm {
    type Err = IdentityError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "ed25519" | "eddsa" => Ok(SigningAlgorithm::Ed25519),
            "es256" | "p256" | "p-256" => Ok(SigningAlgorithm::Es256),
            _ => Err(IdentityError::UnknownAlgorithm(s.to_owned())),
        }
    }
}

/// A signing identity could not be made or written.
#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    #[error("unknown signing algorithm `{0}`; use ed25519 or es256")]
    UnknownAlgorithm(String),
    #[error("certificate generation failed: {0}")]
    Certificate(#[from] rcgen::Error),
    #[error(transparent)]
    KeyFile(#[from] KeyFileError),
}

impl Diagnose for IdentityError {
    fn fault(&self) -> Fault {
        match self {
            IdentityError::UnknownAlgorithm(_) => Fault::Usage,
            IdentityError::Certificate(_) => Fault::Internal,
            IdentityError::KeyFile(e) => e.fault(),
        }
    }

    fn hint(&self) -> Option<String> {
        match self {
            IdentityError::KeyFile(e) => e.hint(),
            _ => None,
        }
    }
}

/// The files of a signing identity, relative to its directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SigningIdentityFiles {
    /// PKCS#8 private key (mode 0600).
    pub key: String,
    /// Leaf then intermediates: what a signer sends.
    pub chain: String,
    /// The root a verifier trusts; never sent by the signer.
    pub trust_anchor: String,
}

/// The public description of a signing identity (`signing.json`,
/// `tracemark.signing-key/v1`); the private key sits beside it in `key.pem`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SigningIdentity {
    /// Derived from the leaf's SubjectPublicKeyInfo.
    pub key_id: KeyId,
    pub algorithm: SigningAlgorithm,
    /// The leaf certificate's subject common name.
    pub subject: String,
    /// Whether the chain is a development chain that no verifier should trust by default.
    pub development: bool,
    pub created: Timestamp,
    pub not_after: Timestamp,
    pub files: SigningIdentityFiles,
}

impl KeyDocument for SigningIdentity {
    const KIND: KeyKind = KeyKind::Signing;
    const VERSION: u32 = 1;
    const SECRET: bool = false;
}

/// The PEM texts of a freshly made development identity.
struct DevelopmentChain {
    key_pem: String,
    chain_pem: String,
    root_pem: String,
    spki_der: Vec<u8>,
    not_after: OffsetDateTime,
}

fn name(common_name: &str, organization: &str) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, common_name);
    dn.push(DnType::OrganizationName, organization);
    dn
}

fn ca_params(
    common_name: &str,
    organization: &str,
    now: OffsetDateTime,
    years: i64,
) -> CertificateParams {
    let mut params = CertificateParams::default();
    params.distinguished_name = name(common_name, organization);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    params.use_authority_key_identifier_extension = true;
    params.not_before = now - Duration::hours(1);
    params.not_after = now + Duration::days(365 * years);
    params
}

fn development_chain(
    algorithm: SigningAlgorithm,
    organization: &str,
) -> Result<DevelopmentChain, rcgen::Error> {
    development_chain_valid_for(algorithm, organization, Duration::days(2 * 365))
}

/// The development chain with a leaf valid for `leaf_lifetime` from now (tests make
/// short-lived leaves to see them expire).
fn development_chain_valid_for(
    algorithm: SigningAlgorithm,
    organization: &str,
    leaf_lifetime: Duration,
) -> Result<DevelopmentChain, rcgen::Error> {
    let now = OffsetDateTime::now_utc();
    let alg = algorithm.rcgen();

    let mut root_params = ca_params(
        "Tracemark development root (UNTRUSTED)",
        organization,
        now,
        10,
    );
    // A self-signed root names itself as authority; no AKI needed.
    root_params.use_authority_key_identifier_extension = false;
    let root = CertifiedIssuer::self_signed(root_params, KeyPair::generate_for(alg)?)?;

    let mut intermediate_params = ca_params(
        "Tracemark development intermediate (UNTRUSTED)",
        organization,
        now,
        5,
    );
    intermediate_params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    let intermediate =
        CertifiedIssuer::signed_by(intermediate_params, KeyPair::generate_for(alg)?, &root)?;

    let leaf_key = KeyPair::generate_for(alg)?;
    let mut leaf_params = CertificateParams::default();
    leaf_params.distinguished_name = name("Tracemark development signer (UNTRUSTED)", organization);
    leaf_params.is_ca = IsCa::ExplicitNoCa;
    leaf_params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    leaf_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::EmailProtection];
    leaf_params.use_authority_key_identifier_extension = true;
    leaf_params.not_before = now - Duration::hours(1);
    leaf_params.not_after = now + leaf_lifetime;
    let leaf = leaf_params.signed_by(&leaf_key, &intermediate)?;

    Ok(DevelopmentChain {
        key_pem: leaf_key.serialize_pem(),
        chain_pem: format!("{}{}", leaf.pem(), intermediate.pem()),
        root_pem: root.pem(),
        spki_der: rcgen::PublicKeyData::subject_public_key_info(&leaf_key),
        not_after: leaf_params.not_after,
    })
}

/// PEM texts (key, chain, root) of a development identity whose leaf is valid for
/// `leaf_lifetime`, for tests.
#[cfg(test)]
pub(crate) fn development_pems(
    algorithm: SigningAlgorithm,
    leaf_lifetime: Duration,
) -> (String, String, String) {
    let c = development_chain_valid_for(algorithm, "Test", leaf_lifetime).unwrap();
    (c.key_pem, c.chain_pem, c.root_pem)
}

impl SigningIdentity {
    pub const FILE: &'static str = "signing.json";

    /// Makes a development identity in `dir`: `key.pem` (0600), `chain.pem`, `root.pem` and
    /// `signing.json`. Refuses to replace an existing identity unless `replace` says so.
    pub fn create_development(
        dir: &Path,
        algorithm: SigningAlgorithm,
        organization: &str,
        replace: Replace,
    ) -> Result<Self, IdentityError> {
        let chain = development_chain(algorithm, organization)?;
        let files = SigningIdentityFiles {
            key: "key.pem".into(),
            chain: "chain.pem".into(),
            trust_anchor: "root.pem".into(),
        };
        let identity = SigningIdentity {
            key_id: KeyId::derive(KeyKind::Signing, &chain.spki_der),
            algorithm,
            subject: "Tracemark development signer (UNTRUSTED)".into(),
            development: true,
            created: Timestamp::now(),
            not_after: chain.not_after.into(),
            files,
        };
        let document = dir.join(Self::FILE);
        if replace == Replace::No && document.exists() {
            return Err(KeyFileError::Exists { path: document }.into());
        }
        tracemark_core::KeyStore::create_private_dir(dir)?;
        // The secret first: the identity document, written last, marks a complete identity.
        let files = &identity.files;
        keyfile::write_file(
            &dir.join(&files.key),
            chain.key_pem.as_bytes(),
            Secrecy::Secret,
            replace,
        )?;
        keyfile::write_file(
            &dir.join(&files.chain),
            chain.chain_pem.as_bytes(),
            Secrecy::Public,
            replace,
        )?;
        keyfile::write_file(
            &dir.join(&files.trust_anchor),
            chain.root_pem.as_bytes(),
            Secrecy::Public,
            replace,
        )?;
        keyfile::write_json(&document, &identity, replace)?;
        Ok(identity)
    }

    /// Reads `signing.json` from an identity directory.
    pub fn load(dir: &Path) -> Result<Self, IdentityError> {
        Ok(keyfile::read_json(&dir.join(Self::FILE))?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pem_blocks(pem: &str) -> usize {
        pem.matches("-----BEGIN CERTIFICATE-----").count()
    }

    #[test]
    fn makes_a_complete_development_identity_for_each_algorithm() {
        for algorithm in [SigningAlgorithm::Ed25519, SigningAlgorithm::Es256] {
            let dir = tempfile::tempdir().unwrap();
            let id = SigningIdentity::create_development(
                dir.path(),
                algorithm,
                "Example AI",
                Replace::No,
            )
            .unwrap();
            assert!(id.development);
            assert_eq!(SigningIdentity::load(dir.path()).unwrap(), id);
            let chain = std::fs::read_to_string(dir.path().join("chain.pem")).unwrap();
            let root = std::fs::read_to_string(dir.path().join("root.pem")).unwrap();
            assert_eq!(
                (pem_blocks(&chain), pem_blocks(&root)),
                (2, 1),
                "leaf + intermediate; root apart"
            );
            assert!(
                !chain.contains(root.trim()),
                "the signer never sends the root"
            );
            let key = keyfile::read_file(&dir.path().join("key.pem"), Secrecy::Secret).unwrap();
            assert!(
                String::from_utf8(key)
                    .unwrap()
                    .starts_with("-----BEGIN PRIVATE KEY-----")
            );
        }
    }

    #[test]
    fn refuses_to_replace_an_identity() {
        let dir = tempfile::tempdir().unwrap();
        let first = SigningIdentity::create_development(
            dir.path(),
            SigningAlgorithm::Ed25519,
            "A",
            Replace::No,
        )
        .unwrap();
        let err = SigningIdentity::create_development(
            dir.path(),
            SigningAlgorithm::Ed25519,
            "A",
            Replace::No,
        )
        .unwrap_err();
        assert_eq!(err.fault(), Fault::Usage);
        assert_eq!(SigningIdentity::load(dir.path()).unwrap(), first);
    }
}
