//! The OMS bundle (`model.sig`): a Sigstore bundle (v0.3 JSON) holding a DSSE envelope
//! over the statement, and the verification material of the signing method (§4, §6.7,
//! §6.8), read in every form model_signing has written since 0.2.0 (§11).

use base64::{
    Engine,
    engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig},
};
use serde_json::{Value, json};

use crate::{
    error::{ModelError, Result},
    keys::VerifyingKey,
    manifest::PAYLOAD_TYPE,
};

pub const BUNDLE_MEDIA_TYPE: &str = "application/vnd.dev.sigstore.bundle.v0.3+json";
/// The same version in the older media-type form sigstore clients also read.
const BUNDLE_MEDIA_TYPE_ALT: &str = "application/vnd.dev.sigstore.bundle+json;version=0.3";

/// DSSE's pre-authentication encoding: `DSSEv1 SP len(type) SP type SP len(body) SP body`.
pub fn pae(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "DSSEv1 {} {payload_type} {} ",
        payload_type.len(),
        payload.len()
    )
    .into_bytes();
    out.extend_from_slice(payload);
    out
}

/// model_signing 0.2.0's PAE, which verifiers still accept: `DSSEV1`, and the payload as
/// Python's `repr` of its bytes (`b'...'` with escapes).
pub fn pae_v020(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    format!(
        "DSSEV1 {} {payload_type} {} {}",
        payload_type.len(),
        payload.len(),
        python_bytes_repr(payload)
    )
    .into_bytes()
}

fn python_bytes_repr(bytes: &[u8]) -> String {
    let quote = if bytes.contains(&b'\'') && !bytes.contains(&b'"') {
        b'"'
    } else {
        b'\''
    };
    let mut s = String::with_capacity(bytes.len() + 3);
    s.push('b');
    s.push(quote as char);
    for &b in bytes {
        match b {
            b'\\' => s.push_str("\\\\"),
            b'\t' => s.push_str("\\t"),
            b'\n' => s.push_str("\\n"),
            b'\r' => s.push_str("\\r"),
            q if q == quote => {
                s.push('\\');
                s.push(q as char);
            }
            0x20..=0x7e => s.push(b as char),
            _ => s.push_str(&format!("\\x{b:02x}")),
        }
    }
    s.push(quote as char);
    s
}

/// What the bundle carries to verify it with: the signing method.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Material {
    /// `key`: the key's hint (≥ 1.1.0), or its PEM or DER (`rawBytes`, before 1.1.0).
    Key {
        hint: Option<String>,
        raw: Option<Vec<u8>>,
    },
    /// `certificate`: the chain, leaf first, DER.
    Chain { certificates: Vec<Vec<u8>> },
    /// `sigstore`: a Fulcio certificate and transparency-log entries (`material` is the
    /// bundle's `verificationMaterial` as it came, written back unchanged).
    Sigstore {
        certificate: Vec<u8>,
        tlog_entries: usize,
        material: Value,
    },
}

impl Material {
    pub fn method(&self) -> &'static str {
        match self {
            Material::Key { .. } => "key",
            Material::Chain { .. } => "certificate",
            Material::Sigstore { .. } => "sigstore",
        }
    }

    /// The key a `key` bundle carries in `rawBytes`, if any.
    pub fn embedded_key(&self, source: &str) -> Option<Result<VerifyingKey>> {
        let Material::Key { raw: Some(raw), .. } = self else {
            return None;
        };
        Some(if raw.starts_with(b"-----BEGIN") {
            VerifyingKey::from_pem(raw, source)
        } else {
            VerifyingKey::from_spki_der(raw, source)
        })
    }
}

/// A parsed bundle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bundle {
    pub media_type: String,
    pub material: Material,
    pub payload_type: String,
    /// The payload's exact bytes, base64-decoded: what was signed, never re-serialised.
    pub payload: Vec<u8>,
    /// DER ECDSA signatures.
    pub signatures: Vec<Vec<u8>>,
}

fn b64_decode(s: &str) -> Option<Vec<u8>> {
    let indifferent =
        GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent);
    GeneralPurpose::new(&base64::alphabet::STANDARD, indifferent)
        .decode(s)
        .or_else(|_| GeneralPurpose::new(&base64::alphabet::URL_SAFE, indifferent).decode(s))
        .ok()
}

fn b64_encode(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

impl Bundle {
    /// Reads a bundle's JSON. `source` names it in errors.
    pub fn parse(bytes: &[u8], source: &str) -> Result<Self> {
        let bad = |why: String| ModelError::bundle(source, why);
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Err(bad("the file is empty".into()));
        }
        let v: Value = serde_json::from_slice(bytes).map_err(|e| {
            if e.is_eof() {
                bad(format!("the JSON ends early, the file is truncated ({e})"))
            } else {
                bad(format!("it is not JSON ({e})"))
            }
        })?;
        let obj = v
            .as_object()
            .ok_or_else(|| bad("it is not a JSON object".into()))?;
        let media_type = obj
            .get("mediaType")
            .and_then(Value::as_str)
            .ok_or_else(|| bad("it has no `mediaType`".into()))?;
        if media_type != BUNDLE_MEDIA_TYPE && media_type != BUNDLE_MEDIA_TYPE_ALT {
            return Err(bad(format!(
                "media type `{media_type}` is unknown (OMS bundles are `{BUNDLE_MEDIA_TYPE}`)"
            )));
        }
        let vm = obj
            .get("verificationMaterial")
            .and_then(Value::as_object)
            .ok_or_else(|| bad("it has no `verificationMaterial`".into()))?;
        let tlog_entries = match vm.get("tlogEntries") {
            None | Some(Value::Null) => 0,
            Some(Value::Array(a)) => a.len(),
            Some(_) => return Err(bad("`tlogEntries` is not a list".into())),
        };
        let material = if let Some(pk) = vm.get("publicKey") {
            let pk = pk
                .as_object()
                .ok_or_else(|| bad("`publicKey` is not an object".into()))?;
            let hint = match pk.get("hint") {
                None | Some(Value::Null) => None,
                Some(Value::String(h)) if h.is_empty() => None,
                Some(Value::String(h)) => Some(h.to_ascii_lowercase()),
                Some(_) => return Err(bad("`publicKey.hint` is not a string".into())),
            };
            let raw = match pk.get("rawBytes") {
                None | Some(Value::Null) => None,
                Some(Value::String(r)) => Some(
                    b64_decode(r)
                        .ok_or_else(|| bad("`publicKey.rawBytes` is not base64".into()))?,
                ),
                Some(_) => return Err(bad("`publicKey.rawBytes` is not a string".into())),
            };
            if hint.is_none() && raw.is_none() {
                return Err(bad("`publicKey` has neither a `hint` nor `rawBytes`".into()));
            }
            Material::Key { hint, raw }
        } else if let Some(chain) = vm.get("x509CertificateChain") {
            let list = chain
                .get("certificates")
                .and_then(Value::as_array)
                .filter(|l| !l.is_empty())
                .ok_or_else(|| bad("`x509CertificateChain` has no certificates".into()))?;
            let certificates = list
                .iter()
                .map(|c| {
                    c.get("rawBytes")
                        .and_then(Value::as_str)
                        .and_then(b64_decode)
                        .ok_or_else(|| bad("a chain certificate has no base64 `rawBytes`".into()))
                })
                .collect::<Result<Vec<_>>>()?;
            Material::Chain { certificates }
        } else if let Some(cert) = vm.get("certificate") {
            let certificate = cert
                .get("rawBytes")
                .and_then(Value::as_str)
                .and_then(b64_decode)
                .ok_or_else(|| bad("`certificate` has no base64 `rawBytes`".into()))?;
            if tlog_entries == 0 {
                return Err(bad(
                    "a sigstore bundle (a Fulcio `certificate`) must carry transparency-log entries, and has none".into(),
                ));
            }
            Material::Sigstore {
                certificate,
                tlog_entries,
                material: Value::Object(vm.clone()),
            }
        } else {
            return Err(bad(
                "`verificationMaterial` has no `publicKey`, `x509CertificateChain` or `certificate`".into(),
            ));
        };
        let env = obj
            .get("dsseEnvelope")
            .and_then(Value::as_object)
            .ok_or_else(|| {
                if obj.contains_key("messageSignature") {
                    bad(
                        "it signs a message digest, not a DSSE envelope: not a model signature"
                            .into(),
                    )
                } else {
                    bad("it has no `dsseEnvelope`".into())
                }
            })?;
        let payload_type = env
            .get("payloadType")
            .and_then(Value::as_str)
            .ok_or_else(|| bad("the envelope has no `payloadType`".into()))?
            .to_owned();
        if payload_type != PAYLOAD_TYPE {
            return Err(bad(format!(
                "the envelope's payload type `{payload_type}` is not an in-toto statement ({PAYLOAD_TYPE})"
            )));
        }
        let payload = env
            .get("payload")
            .and_then(Value::as_str)
            .and_then(b64_decode)
            .filter(|p| !p.is_empty())
            .ok_or_else(|| bad("the envelope has no base64 `payload`".into()))?;
        let sigs = env
            .get("signatures")
            .and_then(Value::as_array)
            .filter(|s| !s.is_empty())
            .ok_or_else(|| bad("the envelope has no signature".into()))?;
        let signatures = sigs
            .iter()
            .map(|s| {
                // `keyid` may be absent, "" or null, and is never used (§4.1).
                s.get("sig")
                    .and_then(Value::as_str)
                    .and_then(b64_decode)
                    .filter(|s| !s.is_empty())
                    .ok_or_else(|| bad("a signature has no base64 `sig`".into()))
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Bundle {
            media_type: media_type.to_owned(),
            material,
            payload_type,
            payload,
            signatures,
        })
    }

    /// The bundle's JSON, as model_signing 1.1.1 writes it (`keyid` "", `tlogEntries` []);
    /// a Sigstore bundle's verification material as it was read.
    pub fn to_json(&self) -> Vec<u8> {
        let material = match &self.material {
            Material::Key { hint, raw } => {
                let mut pk = serde_json::Map::new();
                if let Some(h) = hint {
                    pk.insert("hint".into(), json!(h));
                }
                if let Some(r) = raw {
                    pk.insert("rawBytes".into(), json!(b64_encode(r)));
                }
                json!({ "publicKey": pk, "tlogEntries": [] })
            }
            Material::Chain { certificates } => json!({
                "x509CertificateChain": {
                    "certificates": certificates.iter().map(|c| json!({ "rawBytes": b64_encode(c) })).collect::<Vec<_>>()
                },
                "tlogEntries": []
            }),
            Material::Sigstore { material, .. } => material.clone(),
        };
        let bundle = json!({
            "mediaType": self.media_type,
            "verificationMaterial": material,
            "dsseEnvelope": {
                "payload": b64_encode(&self.payload),
                "payloadType": self.payload_type,
                "signatures": self.signatures.iter().map(|s| json!({ "sig": b64_encode(s), "keyid": "" })).collect::<Vec<_>>()
            }
        });
        let mut out = serde_json::to_vec_pretty(&bundle).expect("a bundle serialises");
        out.push(b'\n');
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pae_is_byte_lengths() {
        assert_eq!(pae("t", "é".as_bytes()), b"DSSEv1 1 t 2 \xc3\xa9".to_vec());
    }

    #[test]
    fn v020_pae_is_pythons_repr() {
        assert_eq!(
            String::from_utf8(pae_v020("t", b"{\"a\": 1}\n\x00'\\")).unwrap(),
            r#"DSSEV1 1 t 12 b'{"a": 1}\n\x00\'\\'"#
        );
        assert_eq!(python_bytes_repr(b"it's"), r#"b"it's""#);
    }
}
