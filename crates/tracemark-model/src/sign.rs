//! Signing (§6.7, §6.8): the statement's bytes in a DSSE envelope, signed with an ECDSA
//! key, in a Sigstore bundle with the `key` method's hint or the `certificate` method's
//! chain.

use crate::{
    bundle::{BUNDLE_MEDIA_TYPE, Bundle, Material, pae},
    error::{ModelError, Result},
    keys::SigningKey,
    manifest::{Manifest, PAYLOAD_TYPE},
    x509::Cert,
};

/// Signs `manifest` with `key`; with `chain` (leaf first) the bundle carries the chain
/// (the `certificate` method), else the key's hint (the `key` method).
pub fn sign(manifest: &Manifest, key: &SigningKey, chain: Option<&[Cert]>) -> Result<Bundle> {
    let material = match chain {
        None => Material::Key {
            hint: Some(key.verifying_key().hint()),
            raw: None,
        },
        Some(chain) => {
            let leaf = chain.first().ok_or_else(|| ModelError::Certificate {
                source_name: "--cert".into(),
                why: "no certificate in the chain".into(),
            })?;
            if leaf.key("the signing certificate")? != key.verifying_key() {
                return Err(ModelError::Certificate {
                    source_name: "--cert".into(),
                    why: format!(
                        "the first certificate (`{}`) is not the signing key's: the chain must start with the key's own certificate",
                        leaf.subject()
                    ),
                });
            }
            Material::Chain {
                certificates: chain.iter().map(|c| c.der.clone()).collect(),
            }
        }
    };
    let payload = manifest.statement_json();
    let signature = key.sign(&pae(PAYLOAD_TYPE, &payload));
    Ok(Bundle {
        media_type: BUNDLE_MEDIA_TYPE.to_owned(),
        material,
        payload_type: PAYLOAD_TYPE.to_owned(),
        payload,
        signatures: vec![signature],
    })
}
