//! Certificate chains of the `certificate` method: the leaf (the signer) and its CAs, as
//! the bundle carries them, checked against the roots a user trusts (§8.2). As in
//! model_signing, the chain is checked at the leaf's `notBefore` (a bundle has no signing
//! time of its own), every signature in it ECDSA or RSA (PKCS#1 v1.5) with SHA-2 (the
//! signing key itself is ECDSA, as OMS requires), every issuer a CA, and the leaf may
//! sign (key usage `digitalSignature`, or extended key usage `codeSigning`).

use std::time::Duration;

use der::{Decode, Encode, asn1::ObjectIdentifier};
use x509_cert::{
    Certificate,
    ext::pkix::{BasicConstraints, ExtendedKeyUsage, KeyUsage},
};

use crate::{
    error::{ModelError, Result},
    keys::VerifyingKey,
};

const ECDSA_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2");
const ECDSA_SHA384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.3");
const ECDSA_SHA512: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.4");
const RSA_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.11");
const RSA_SHA384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.12");
const RSA_SHA512: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.13");
const BASIC_CONSTRAINTS: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.19");
const KEY_USAGE: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.15");
const EXT_KEY_USAGE: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.37");
const CODE_SIGNING: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.3");
const MAX_DEPTH: usize = 8;

/// A parsed certificate and its DER.
#[derive(Debug, Clone)]
pub struct Cert {
    pub der: Vec<u8>,
    cert: Certificate,
}

impl Cert {
    pub fn from_der(der: &[u8], source: &str) -> Result<Self> {
        let cert = Certificate::from_der(der).map_err(|e| ModelError::Certificate {
            source_name: source.to_owned(),
            why: format!("not a DER X.509 certificate ({e})"),
        })?;
        Ok(Self {
            der: der.to_vec(),
            cert,
        })
    }

    /// Every certificate of a PEM text (`CERTIFICATE` blocks).
    pub fn all_from_pem(pem: &[u8], source: &str) -> Result<Vec<Self>> {
        let certs =
            x509_cert::Certificate::load_pem_chain(pem).map_err(|e| ModelError::Certificate {
                source_name: source.to_owned(),
                why: format!("not PEM certificates ({e})"),
            })?;
        if certs.is_empty() {
            return Err(ModelError::Certificate {
                source_name: source.to_owned(),
                why: "no certificate in it".into(),
            });
        }
        certs
            .into_iter()
            .map(|cert| {
                let der = cert.to_der().map_err(|e| ModelError::Certificate {
                    source_name: source.to_owned(),
                    why: e.to_string(),
                })?;
                Ok(Self { der, cert })
            })
            .collect()
    }

    pub fn subject(&self) -> String {
        self.cert.tbs_certificate.subject.to_string()
    }

    pub fn issuer(&self) -> String {
        self.cert.tbs_certificate.issuer.to_string()
    }

    /// The certificate's public key, when it is an OMS key.
    pub fn key(&self, source: &str) -> Result<VerifyingKey> {
        let spki = self
            .cert
            .tbs_certificate
            .subject_public_key_info
            .to_der()
            .map_err(|e| ModelError::Certificate {
                source_name: source.to_owned(),
                why: e.to_string(),
            })?;
        VerifyingKey::from_spki_der(&spki, source)
    }

    fn not_before(&self) -> Duration {
        self.cert
            .tbs_certificate
            .validity
            .not_before
            .to_unix_duration()
    }

    fn valid_at(&self, t: Duration) -> bool {
        let v = &self.cert.tbs_certificate.validity;
        v.not_before.to_unix_duration() <= t && t <= v.not_after.to_unix_duration()
    }

    fn extension<T: for<'a> Decode<'a>>(&self, oid: ObjectIdentifier) -> Option<T> {
        self.cert
            .tbs_certificate
            .extensions
            .as_ref()?
            .iter()
            .find(|e| e.extn_id == oid)
            .and_then(|e| T::from_der(e.extn_value.as_bytes()).ok())
    }

    fn is_ca(&self) -> bool {
        self.extension::<BasicConstraints>(BASIC_CONSTRAINTS)
            .is_some_and(|b| b.ca)
    }

    fn may_sign(&self) -> bool {
        self.extension::<KeyUsage>(KEY_USAGE)
            .is_some_and(|k| k.digital_signature())
            || self
                .extension::<ExtendedKeyUsage>(EXT_KEY_USAGE)
                .is_some_and(|e| e.0.contains(&CODE_SIGNING))
    }

    /// Whether `issuer`'s key made this certificate's signature.
    fn signed_by(&self, issuer: &Cert) -> std::result::Result<(), String> {
        if self.cert.tbs_certificate.issuer != issuer.cert.tbs_certificate.subject {
            return Err("names differ".into());
        }
        let tbs = self
            .cert
            .tbs_certificate
            .to_der()
            .map_err(|e| e.to_string())?;
        let sig = self
            .cert
            .signature
            .as_bytes()
            .ok_or_else(|| "the signature is not whole bytes".to_owned())?;
        let oid = self.cert.signature_algorithm.oid;
        if [RSA_SHA256, RSA_SHA384, RSA_SHA512].contains(&oid) {
            return issuer.rsa_signed(oid, &tbs, sig);
        }
        let key = issuer.key("issuer").map_err(|e| e.to_string())?;
        let digest = match oid {
            ECDSA_SHA256 => <sha2::Sha256 as sha2::Digest>::digest(&tbs).to_vec(),
            ECDSA_SHA384 => <sha2::Sha384 as sha2::Digest>::digest(&tbs).to_vec(),
            ECDSA_SHA512 => <sha2::Sha512 as sha2::Digest>::digest(&tbs).to_vec(),
            other => {
                return Err(format!(
                    "signature algorithm {other} is neither ECDSA nor RSA PKCS#1 v1.5 with SHA-2"
                ));
            }
        };
        if key.verify_digest(&digest, sig) {
            Ok(())
        } else {
            Err("the signature does not verify".into())
        }
    }
}

impl Cert {
    /// Whether this (RSA) certificate's key made `sig` over `tbs` (PKCS#1 v1.5, the
    /// digest `oid` names): CAs sign with RSA as often as not.
    fn rsa_signed(
        &self,
        oid: ObjectIdentifier,
        tbs: &[u8],
        sig: &[u8],
    ) -> std::result::Result<(), String> {
        use rsa::{pkcs1v15, pkcs8::DecodePublicKey, signature::Verifier};
        let spki = self
            .cert
            .tbs_certificate
            .subject_public_key_info
            .to_der()
            .map_err(|e| e.to_string())?;
        let key = rsa::RsaPublicKey::from_public_key_der(&spki).map_err(|_| {
            format!(
                "`{}` signed with RSA but its key is not RSA",
                self.subject()
            )
        })?;
        let sig = pkcs1v15::Signature::try_from(sig).map_err(|e| e.to_string())?;
        let ok = match oid {
            RSA_SHA256 => pkcs1v15::VerifyingKey::<sha2::Sha256>::new(key)
                .verify(tbs, &sig)
                .is_ok(),
            RSA_SHA384 => pkcs1v15::VerifyingKey::<sha2::Sha384>::new(key)
                .verify(tbs, &sig)
                .is_ok(),
            _ => pkcs1v15::VerifyingKey::<sha2::Sha512>::new(key)
                .verify(tbs, &sig)
                .is_ok(),
        };
        if ok {
            Ok(())
        } else {
            Err("the signature does not verify".into())
        }
    }
}

/// What checking a chain against trusted roots found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChainOutcome {
    /// The chain leads to a trusted root: `root` is its subject.
    Trusted { root: String },
    /// The chain is sound but leads to no trusted root.
    NotTrusted(String),
    /// A certificate in it is not what the chain claims (a signature fails, an issuer is
    /// no CA, the leaf may not sign, a certificate was not valid).
    Broken(String),
}

/// Checks `chain` (leaf first) against `roots`.
pub fn check_chain(chain: &[Cert], roots: &[Cert]) -> ChainOutcome {
    let Some(leaf) = chain.first() else {
        return ChainOutcome::Broken("the chain is empty".into());
    };
    if !leaf.may_sign() {
        return ChainOutcome::Broken(format!(
            "the signing certificate `{}` may not sign (no digitalSignature key usage or codeSigning extended key usage)",
            leaf.subject()
        ));
    }
    let at = leaf.not_before();
    let mut current = leaf;
    for _ in 0..MAX_DEPTH {
        if !current.valid_at(at) {
            return ChainOutcome::Broken(format!(
                "`{}` was not valid when the signing certificate was issued",
                current.subject()
            ));
        }
        if roots.iter().any(|r| r.der == current.der) {
            return ChainOutcome::Trusted {
                root: current.subject(),
            };
        }
        // A trusted root that signed `current` ends the chain. A root of the issuer's
        // name whose key did not sign it is another CA of the same name: not trusted,
        // and no evidence of tampering.
        let mut other_root = None;
        for root in roots {
            match current.signed_by(root) {
                Ok(()) if !root.is_ca() => {
                    other_root = Some(format!("the trusted `{}` is not a CA", root.subject()))
                }
                Ok(()) if !root.valid_at(at) => {
                    other_root = Some(format!(
                        "the trusted root `{}` was not valid then",
                        root.subject()
                    ))
                }
                Ok(()) => {
                    return ChainOutcome::Trusted {
                        root: root.subject(),
                    };
                }
                Err(e) if e != "names differ" => {
                    other_root = Some(format!(
                        "the trusted root `{}` did not sign `{}` ({e})",
                        root.subject(),
                        current.subject()
                    ))
                }
                Err(_) => {}
            }
        }
        let next = chain[1..].iter().find(|c| current.signed_by(c).is_ok());
        match next {
            Some(issuer) if issuer.is_ca() => current = issuer,
            Some(issuer) => {
                return ChainOutcome::Broken(format!(
                    "`{}` issued a certificate but is not a CA",
                    issuer.subject()
                ));
            }
            None => {
                let named = chain[1..].iter().find(|c| {
                    c.cert.tbs_certificate.subject == current.cert.tbs_certificate.issuer
                });
                return match (named, other_root) {
                    (Some(c), _) => ChainOutcome::Broken(format!(
                        "`{}` is not signed by `{}`, which the chain names as its issuer",
                        current.subject(),
                        c.subject()
                    )),
                    (None, Some(why)) => ChainOutcome::NotTrusted(format!(
                        "the chain leads to no trusted root: {why}"
                    )),
                    (None, None) => ChainOutcome::NotTrusted(format!(
                        "the chain ends at `{}`, issued by `{}`, which is not a trusted root",
                        current.subject(),
                        current.issuer()
                    )),
                };
            }
        }
    }
    ChainOutcome::Broken(format!("the chain is longer than {MAX_DEPTH}"))
}
