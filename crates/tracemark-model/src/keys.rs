//! OMS signing and verifying keys: ECDSA on P-256, P-384 or P-521, the digest following
//! the curve (SHA-256, SHA-384, SHA-512), signatures in DER. Any other key (Ed25519,
//! RSA, another curve) is refused with the reason.

use der::{Decode, Encode, asn1::ObjectIdentifier};
use ecdsa::signature::hazmat::{PrehashSigner, PrehashVerifier};
use sha2::{Digest, Sha256, Sha384, Sha512};
use spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned, SubjectPublicKeyInfoRef};

use crate::error::{ModelError, Result};

const EC_PUBLIC_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
const P256_OID: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");
const P384_OID: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.34");
const P521_OID: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.35");

/// The curves OMS allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Curve {
    P256,
    P384,
    P521,
}

impl Curve {
    pub fn name(self) -> &'static str {
        match self {
            Curve::P256 => "P-256",
            Curve::P384 => "P-384",
            Curve::P521 => "P-521",
        }
    }

    /// Sigstore's `keyDetails` name for this curve with its digest.
    pub fn key_details(self) -> &'static str {
        match self {
            Curve::P256 => "PKIX_ECDSA_P256_SHA_256",
            Curve::P384 => "PKIX_ECDSA_P384_SHA_384",
            Curve::P521 => "PKIX_ECDSA_P521_SHA_512",
        }
    }

    fn oid(self) -> ObjectIdentifier {
        match self {
            Curve::P256 => P256_OID,
            Curve::P384 => P384_OID,
            Curve::P521 => P521_OID,
        }
    }

    fn from_oid(oid: ObjectIdentifier, source: &str) -> Result<Self> {
        match oid {
            P256_OID => Ok(Curve::P256),
            P384_OID => Ok(Curve::P384),
            P521_OID => Ok(Curve::P521),
            other => Err(key_err(
                source,
                format!("an ECDSA key on curve {other}; OMS keys are on P-256, P-384 or P-521"),
            )),
        }
    }

    /// The digest OMS signs with on this curve.
    pub fn digest(self, message: &[u8]) -> Vec<u8> {
        match self {
            Curve::P256 => Sha256::digest(message).to_vec(),
            Curve::P384 => Sha384::digest(message).to_vec(),
            Curve::P521 => Sha512::digest(message).to_vec(),
        }
    }
}

fn key_err(source: &str, why: impl Into<String>) -> ModelError {
    ModelError::Key {
        path: source.to_owned(),
        why: why.into(),
    }
}

/// Why a key of another algorithm is refused, from its algorithm OID.
fn refuse_algorithm(oid: ObjectIdentifier, source: &str) -> ModelError {
    let what = match oid.to_string().as_str() {
        "1.3.101.112" => {
            "an Ed25519 key: OMS has no Ed25519 (its key types are ECDSA P-256, P-384 and P-521)"
                .to_owned()
        }
        "1.3.101.113" => {
            "an Ed448 key: OMS has no EdDSA (its key types are ECDSA P-256, P-384 and P-521)"
                .to_owned()
        }
        "1.2.840.113549.1.1.1" | "1.2.840.113549.1.1.10" => {
            "an RSA key: OMS signs with ECDSA P-256, P-384 or P-521 only".to_owned()
        }
        other => {
            format!("a key of algorithm {other}: OMS signs with ECDSA P-256, P-384 or P-521 only")
        }
    };
    key_err(source, what)
}

/// The PEM blocks of a text, as (label, DER).
fn pem_blocks(pem: &[u8], source: &str) -> Result<Vec<(String, Vec<u8>)>> {
    let text =
        std::str::from_utf8(pem).map_err(|_| key_err(source, "not PEM text (it is not UTF-8)"))?;
    let mut blocks = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("-----BEGIN ") {
        let after = &rest[start..];
        let Some(label_end) = after["-----BEGIN ".len()..].find("-----") else {
            break;
        };
        let label = &after["-----BEGIN ".len().."-----BEGIN ".len() + label_end];
        let end_marker = format!("-----END {label}-----");
        let Some(end) = after.find(&end_marker) else {
            return Err(key_err(
                source,
                format!("the PEM block `{label}` has no end line"),
            ));
        };
        let block = &after[..end + end_marker.len()];
        let (decoded_label, der) = pem_rfc7468::decode_vec(block.as_bytes()).map_err(|e| {
            key_err(
                source,
                format!("the PEM block `{label}` is malformed ({e})"),
            )
        })?;
        blocks.push((decoded_label.to_owned(), der));
        rest = &after[end + end_marker.len()..];
    }
    if blocks.is_empty() {
        return Err(key_err(source, "no PEM block in it"));
    }
    Ok(blocks)
}

/// A private key that signs OMS bundles.
#[derive(Clone)]
pub enum SigningKey {
    P256(p256::ecdsa::SigningKey),
    P384(p384::ecdsa::SigningKey),
    P521(p521::ecdsa::SigningKey),
}

impl std::fmt::Debug for SigningKey {
    /// Names the curve and the public key's hint, never the secret.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("curve", &self.curve().name())
            .field("hint", &self.verifying_key().hint())
            .finish()
    }
}

impl SigningKey {
    /// Reads a PEM private key: PKCS#8 (`PRIVATE KEY`) or SEC1 (`EC PRIVATE KEY`, as
    /// `openssl ecparam -genkey` writes it, an `EC PARAMETERS` block before it or not).
    pub fn from_pem(pem: &[u8], source: &str) -> Result<Self> {
        for (label, der) in pem_blocks(pem, source)? {
            match label.as_str() {
                "PRIVATE KEY" => return Self::from_pkcs8(&der, source),
                "EC PRIVATE KEY" => return Self::from_sec1(&der, source),
                "EC PARAMETERS" => continue,
                "RSA PRIVATE KEY" => {
                    return Err(key_err(
                        source,
                        "an RSA key: OMS signs with ECDSA P-256, P-384 or P-521 only",
                    ));
                }
                "ENCRYPTED PRIVATE KEY" => {
                    return Err(key_err(
                        source,
                        "the key is encrypted; give it decrypted (openssl pkey -in KEY -out KEY.pem), with mode 0600",
                    ));
                }
                "OPENSSH PRIVATE KEY" => {
                    return Err(key_err(
                        source,
                        "an OpenSSH key; OMS keys are ECDSA P-256, P-384 or P-521 in PEM (an Ed25519 SSH key cannot be used at all)",
                    ));
                }
                "PUBLIC KEY" => {
                    return Err(key_err(
                        source,
                        "a public key; signing needs the private key",
                    ));
                }
                other => {
                    return Err(key_err(
                        source,
                        format!("a PEM `{other}`, not a private key"),
                    ));
                }
            }
        }
        Err(key_err(source, "no private key in it"))
    }

    fn from_pkcs8(der: &[u8], source: &str) -> Result<Self> {
        let info = pkcs8::PrivateKeyInfo::from_der(der)
            .map_err(|e| key_err(source, format!("a malformed PKCS#8 key ({e})")))?;
        if info.algorithm.oid != EC_PUBLIC_KEY {
            return Err(refuse_algorithm(info.algorithm.oid, source));
        }
        let curve_oid = info
            .algorithm
            .parameters_oid()
            .map_err(|_| key_err(source, "an EC key without a named curve"))?;
        let curve = Curve::from_oid(curve_oid, source)?;
        let malformed =
            |e: pkcs8::Error| key_err(source, format!("a malformed {} key ({e})", curve.name()));
        use pkcs8::DecodePrivateKey;
        Ok(match curve {
            Curve::P256 => SigningKey::P256(
                p256::SecretKey::from_pkcs8_der(der)
                    .map_err(malformed)?
                    .into(),
            ),
            Curve::P384 => SigningKey::P384(
                p384::SecretKey::from_pkcs8_der(der)
                    .map_err(malformed)?
                    .into(),
            ),
            Curve::P521 => {
                let secret = p521::SecretKey::from_pkcs8_der(der).map_err(malformed)?;
                SigningKey::P521(
                    p521::ecdsa::SigningKey::from_bytes(&secret.to_bytes())
                        .map_err(|_| key_err(source, "a malformed P-521 key"))?,
                )
            }
        })
    }

    fn from_sec1(der: &[u8], source: &str) -> Result<Self> {
        let key = sec1::EcPrivateKey::from_der(der)
            .map_err(|e| key_err(source, format!("a malformed EC private key ({e})")))?;
        let curve = match key.parameters.and_then(|p| p.named_curve()) {
            Some(oid) => Curve::from_oid(oid, source)?,
            None => match key.private_key.len() {
                32 => Curve::P256,
                48 => Curve::P384,
                66 => Curve::P521,
                _ => return Err(key_err(source, "an EC key without a named curve")),
            },
        };
        let bad = || key_err(source, format!("a malformed {} key", curve.name()));
        Ok(match curve {
            Curve::P256 => SigningKey::P256(
                p256::ecdsa::SigningKey::from_slice(key.private_key).map_err(|_| bad())?,
            ),
            Curve::P384 => SigningKey::P384(
                p384::ecdsa::SigningKey::from_slice(key.private_key).map_err(|_| bad())?,
            ),
            Curve::P521 => SigningKey::P521(
                p521::ecdsa::SigningKey::from_slice(key.private_key).map_err(|_| bad())?,
            ),
        })
    }

    pub fn curve(&self) -> Curve {
        match self {
            SigningKey::P256(_) => Curve::P256,
            SigningKey::P384(_) => Curve::P384,
            SigningKey::P521(_) => Curve::P521,
        }
    }

    pub fn verifying_key(&self) -> VerifyingKey {
        match self {
            SigningKey::P256(k) => VerifyingKey::P256(*k.verifying_key()),
            SigningKey::P384(k) => VerifyingKey::P384(*k.verifying_key()),
            SigningKey::P521(k) => {
                let point = p521::ecdsa::VerifyingKey::from(k).to_encoded_point(false);
                VerifyingKey::P521(
                    ecdsa::VerifyingKey::from_sec1_bytes(point.as_bytes())
                        .expect("a key's own point is valid"),
                )
            }
        }
    }

    /// A DER ECDSA signature over `message`, hashed with the curve's digest.
    pub fn sign(&self, message: &[u8]) -> Vec<u8> {
        let digest = self.curve().digest(message);
        match self {
            SigningKey::P256(k) => {
                let s: p256::ecdsa::Signature =
                    k.sign_prehash(&digest).expect("a full-size digest signs");
                s.to_der().as_bytes().to_vec()
            }
            SigningKey::P384(k) => {
                let s: p384::ecdsa::Signature =
                    k.sign_prehash(&digest).expect("a full-size digest signs");
                s.to_der().as_bytes().to_vec()
            }
            SigningKey::P521(k) => {
                let s: p521::ecdsa::Signature =
                    k.sign_prehash(&digest).expect("a full-size digest signs");
                s.to_der().as_bytes().to_vec()
            }
        }
    }
}

/// A public key that verifies OMS bundles.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VerifyingKey {
    P256(p256::ecdsa::VerifyingKey),
    P384(p384::ecdsa::VerifyingKey),
    P521(ecdsa::VerifyingKey<p521::NistP521>),
}

impl VerifyingKey {
    /// Reads a PEM public key (`PUBLIC KEY`, a SubjectPublicKeyInfo).
    pub fn from_pem(pem: &[u8], source: &str) -> Result<Self> {
        for (label, der) in pem_blocks(pem, source)? {
            match label.as_str() {
                "PUBLIC KEY" => return Self::from_spki_der(&der, source),
                "RSA PUBLIC KEY" => {
                    return Err(key_err(
                        source,
                        "an RSA key: OMS signs with ECDSA P-256, P-384 or P-521 only",
                    ));
                }
                "CERTIFICATE" => {
                    return Err(key_err(
                        source,
                        "a certificate; give a certificate chain's root with --trust, or the public key (openssl x509 -pubkey -noout)",
                    ));
                }
                l if l.contains("PRIVATE KEY") => {
                    return Err(key_err(
                        source,
                        "a private key; verification takes the public key (openssl ec -in KEY -pubout)",
                    ));
                }
                _ => continue,
            }
        }
        Err(key_err(source, "no public key in it"))
    }

    /// Reads a DER SubjectPublicKeyInfo.
    pub fn from_spki_der(der: &[u8], source: &str) -> Result<Self> {
        let info = SubjectPublicKeyInfoRef::from_der(der)
            .map_err(|e| key_err(source, format!("a malformed public key ({e})")))?;
        if info.algorithm.oid != EC_PUBLIC_KEY {
            return Err(refuse_algorithm(info.algorithm.oid, source));
        }
        let curve_oid = info
            .algorithm
            .parameters
            .and_then(|p| p.decode_as::<ObjectIdentifier>().ok())
            .ok_or_else(|| key_err(source, "an EC key without a named curve"))?;
        let curve = Curve::from_oid(curve_oid, source)?;
        let point = info.subject_public_key.raw_bytes();
        let bad = || key_err(source, format!("not a point on {}", curve.name()));
        Ok(match curve {
            Curve::P256 => VerifyingKey::P256(
                p256::ecdsa::VerifyingKey::from_sec1_bytes(point).map_err(|_| bad())?,
            ),
            Curve::P384 => VerifyingKey::P384(
                p384::ecdsa::VerifyingKey::from_sec1_bytes(point).map_err(|_| bad())?,
            ),
            Curve::P521 => {
                VerifyingKey::P521(ecdsa::VerifyingKey::from_sec1_bytes(point).map_err(|_| bad())?)
            }
        })
    }

    pub fn curve(&self) -> Curve {
        match self {
            VerifyingKey::P256(_) => Curve::P256,
            VerifyingKey::P384(_) => Curve::P384,
            VerifyingKey::P521(_) => Curve::P521,
        }
    }

    fn point(&self) -> Vec<u8> {
        match self {
            VerifyingKey::P256(k) => k.to_encoded_point(false).as_bytes().to_vec(),
            VerifyingKey::P384(k) => k.to_encoded_point(false).as_bytes().to_vec(),
            VerifyingKey::P521(k) => k.to_encoded_point(false).as_bytes().to_vec(),
        }
    }

    /// The DER SubjectPublicKeyInfo (uncompressed point, named curve).
    pub fn spki_der(&self) -> Vec<u8> {
        let info = SubjectPublicKeyInfoOwned {
            algorithm: AlgorithmIdentifierOwned {
                oid: EC_PUBLIC_KEY,
                parameters: Some(
                    der::Any::encode_from(&self.curve().oid()).expect("an OID encodes"),
                ),
            },
            subject_public_key: der::asn1::BitString::from_bytes(&self.point())
                .expect("a point encodes"),
        };
        info.to_der().expect("a public key encodes")
    }

    /// The PEM text of the SubjectPublicKeyInfo, as OpenSSL and Python's `cryptography`
    /// write it (64-column lines, LF, a final newline).
    pub fn pem(&self) -> String {
        pem_rfc7468::encode_string("PUBLIC KEY", pem_rfc7468::LineEnding::LF, &self.spki_der())
            .expect("a public key encodes as PEM")
    }

    /// OMS's `publicKey.hint`: hex SHA-256 of the PEM text (not of the DER).
    pub fn hint(&self) -> String {
        hex::encode(Sha256::digest(self.pem().as_bytes()))
    }

    /// Whether `signature` (DER) is this key's over `message`, with the curve's digest.
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        self.verify_digest(&self.curve().digest(message), signature)
    }

    /// Whether `signature` (DER) is this key's over a digest already taken.
    pub fn verify_digest(&self, digest: &[u8], signature: &[u8]) -> bool {
        match self {
            VerifyingKey::P256(k) => p256::ecdsa::Signature::from_der(signature)
                .is_ok_and(|s| k.verify_prehash(digest, &s).is_ok()),
            VerifyingKey::P384(k) => p384::ecdsa::Signature::from_der(signature)
                .is_ok_and(|s| k.verify_prehash(digest, &s).is_ok()),
            VerifyingKey::P521(k) => p521::ecdsa::Signature::from_der(signature)
                .is_ok_and(|s| k.verify_prehash(digest, &s).is_ok()),
        }
    }
}
