//! What a Tracemark content credential says, and how it becomes a C2PA manifest.
//!
//! One [`CredentialSpec`] describes a generation; the same assertions go into text and
//! media manifests:
//!
//! | label | content |
//! |---|---|
//! | `c2pa.actions.v2` | `c2pa.created` with the IPTC `trainedAlgorithmicMedia` digital source type and the model as `softwareAgent`; `c2pa.watermarked` when a watermark is declared |
//! | `c2pa.soft-binding` | the watermark: `alg` = scheme id, `blocks[0].value` = payload hex, `alg_params` = JSON `{key_id, payload_bits}` |
//! | [`AIGC_LABEL`] | China's implicit label (TC260 / GB 45438-2025 metadata fields) |
//! | [`DISCLOSURE_LABEL`] | California SB 942 latent disclosure: provider, system, version, time, unique id |
//! | [`LOG_LABEL`] | (optional) the transparency-log checkpoint that recorded the generation |
//! | `cawg.training-mining` | (optional) the CAWG training-and-data-mining assertion |
//!
//! The claim generator (`claim_generator_info`) names the model (name and version), with
//! Tracemark's version as an extra field. When the model is signed (OpenSSF Model
//! Signing), the generator info (`claim_generator_info` and each action's
//! `softwareAgent`) also carries [`MODEL_DIGEST_FIELD`]: the identity of its weights,
//! `sha256:HEX` (the OMS root digest under `files`, SHA-256, default exclusions).

use c2pa::{Builder, BuilderIntent, Context};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tracemark_core::{ContentHash, KeyId, Payload, Timestamp, rights::TrainingMining};

use crate::CredentialError;

/// The IPTC digital source type of content made by a generative model.
pub const TRAINED_ALGORITHMIC_MEDIA: &str =
    "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia";
/// The label of the China `AIGC` implicit-label assertion (the content is the TC260
/// metadata object; there is no registered C2PA label for it, so it carries ours).
pub const AIGC_LABEL: &str = "org.tracemark.aigc";
/// The label of the California SB 942 latent-disclosure assertion.
pub const DISCLOSURE_LABEL: &str = "org.tracemark.sb942-disclosure";
/// The label of the transparency-log checkpoint assertion.
pub const LOG_LABEL: &str = "org.tracemark.log-checkpoint";
/// The CAWG training-and-data-mining assertion.
pub const TRAINING_MINING_LABEL: &str = "cawg.training-mining";
/// The C2PA soft-binding assertion.
pub const SOFT_BINDING_LABEL: &str = "c2pa.soft-binding";

/// The field of a C2PA generator-info map (`claim_generator_info`, `softwareAgent`) that
/// names the model by the identity of its weights.
pub const MODEL_DIGEST_FIELD: &str = "org.tracemark.model_digest";

/// The model that generated the content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Generator {
    pub name: String,
    pub version: String,
    /// The identity of the model's weights (its OMS root digest), when it is signed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<ContentHash>,
}

/// The watermark the content carries, declared as a C2PA soft binding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WatermarkDeclaration {
    /// The scheme id (`kgw-selfhash-v1`, `gumbel-v1`, `synthid-v1`, ...).
    pub scheme: String,
    pub key_id: Option<KeyId>,
    pub payload: Option<Payload>,
}

/// China's implicit label (the `AIGC` metadata object of TC260's labelling standard).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AigcLabel {
    /// `1` (AI-generated), `2` (possibly), `3` (suspected); Tracemark writes `1`.
    #[serde(rename = "Label")]
    pub label: String,
    #[serde(rename = "ContentProducer")]
    pub content_producer: String,
    #[serde(rename = "ProduceID")]
    pub produce_id: String,
    #[serde(rename = "ReservedCode1", default)]
    pub reserved_code1: String,
    #[serde(rename = "ContentPropagator", default)]
    pub content_propagator: String,
    #[serde(rename = "PropagateID", default)]
    pub propagate_id: String,
    #[serde(rename = "ReservedCode2", default)]
    pub reserved_code2: String,
}

/// California SB 942's latent disclosure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LatentDisclosure {
    pub provider: String,
    pub system_name: String,
    pub system_version: String,
    pub time: Timestamp,
    /// A unique identifier of this generation.
    pub unique_id: String,
}

/// The transparency-log checkpoint that recorded the generation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogCheckpoint {
    /// The log's origin line.
    pub origin: String,
    pub tree_size: u64,
    /// The checkpoint's time (the log's signed time).
    pub time: Timestamp,
    /// The leaf index of the generation record, if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index: Option<u64>,
}

/// Everything a credential says about one generation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CredentialSpec {
    pub generator: Generator,
    /// The provider (organisation) that ran the model.
    pub provider: String,
    /// A unique id of this generation (also the SB 942 id and the AIGC ProduceID).
    pub generation_id: String,
    pub created: Timestamp,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub watermark: Option<WatermarkDeclaration>,
    #[serde(default)]
    pub log_checkpoint: Option<LogCheckpoint>,
    #[serde(default)]
    pub training_mining: Option<TrainingMining>,
    /// Overrides the AIGC label derived from the fields above.
    #[serde(default)]
    pub aigc: Option<AigcLabel>,
}

impl CredentialSpec {
    /// A spec with the required fields; the rest start empty.
    pub fn new(
        generator: Generator,
        provider: impl Into<String>,
        generation_id: impl Into<String>,
    ) -> Self {
        Self {
            generator,
            provider: provider.into(),
            generation_id: generation_id.into(),
            created: Timestamp::now(),
            title: None,
            watermark: None,
            log_checkpoint: None,
            training_mining: None,
            aigc: None,
        }
    }

    /// The AIGC label: the override, or one derived from provider and generation id.
    pub fn aigc_label(&self) -> AigcLabel {
        self.aigc.clone().unwrap_or_else(|| AigcLabel {
            label: "1".into(),
            content_producer: self.provider.clone(),
            produce_id: self.generation_id.clone(),
            reserved_code1: String::new(),
            content_propagator: String::new(),
            propagate_id: String::new(),
            reserved_code2: String::new(),
        })
    }

    pub fn disclosure(&self) -> LatentDisclosure {
        LatentDisclosure {
            provider: self.provider.clone(),
            system_name: self.generator.name.clone(),
            system_version: self.generator.version.clone(),
            time: self.created,
            unique_id: self.generation_id.clone(),
        }
    }

    fn software_agent(&self) -> Value {
        let mut agent = json!({"name": self.generator.name, "version": self.generator.version});
        if let Some(digest) = &self.generator.digest {
            agent[MODEL_DIGEST_FIELD] = json!(digest.to_string());
        }
        agent
    }

    /// The `c2pa.actions.v2` assertion. `edit` is for a manifest added to content that
    /// already has one: the SDK then records `c2pa.opened` on the parent, and the
    /// generation is an edit with the same digital source type.
    fn actions(&self, edit: bool) -> Value {
        let mut actions = vec![json!({
            "action": if edit { "c2pa.edited" } else { "c2pa.created" },
            "digitalSourceType": TRAINED_ALGORITHMIC_MEDIA,
            "softwareAgent": self.software_agent(),
            "when": self.created.to_string(),
        })];
        if self.watermark.is_some() {
            actions.push(json!({
                "action": "c2pa.watermarked",
                "softwareAgent": self.software_agent(),
            }));
        }
        json!({ "actions": actions })
    }

    fn soft_binding(&self) -> Option<Value> {
        let wm = self.watermark.as_ref()?;
        let params = json!({
            "key_id": wm.key_id.as_ref().map(KeyId::as_str),
            "payload_bits": wm.payload.map(|p| p.bits()),
        });
        Some(json!({
            "alg": wm.scheme,
            "blocks": [{
                "scope": {},
                "value": wm.payload.map(|p| p.to_string()).unwrap_or_default(),
            }],
            "name": "Tracemark text watermark",
            "alg_params": params.to_string(),
        }))
    }

    /// A c2pa builder with every assertion of this spec. `edit`: see [`Self::actions`].
    pub(crate) fn builder(&self, context: Context, edit: bool) -> Result<Builder, CredentialError> {
        let mut info = self.software_agent();
        info["org.tracemark.version"] = json!(env!("CARGO_PKG_VERSION"));
        let mut definition = json!({
            "claim_generator_info": [info],
            "assertions": [],
        });
        if let Some(title) = &self.title {
            definition["title"] = json!(title);
        }
        let mut builder = Builder::from_context(context)
            .with_definition(definition)
            .map_err(CredentialError::c2pa)?;
        builder.set_intent(if edit {
            BuilderIntent::Edit
        } else {
            BuilderIntent::Create(c2pa::DigitalSourceType::TrainedAlgorithmicMedia)
        });
        let add = |b: &mut Builder, label: &str, value: &Value| {
            b.add_assertion(label, value)
                .map(|_| ())
                .map_err(CredentialError::c2pa)
        };
        add(&mut builder, "c2pa.actions.v2", &self.actions(edit))?;
        if let Some(sb) = self.soft_binding() {
            add(&mut builder, SOFT_BINDING_LABEL, &sb)?;
        }
        let aigc = serde_json::to_value(self.aigc_label()).expect("plain struct");
        add(&mut builder, AIGC_LABEL, &json!({ "AIGC": aigc }))?;
        let disclosure = serde_json::to_value(self.disclosure()).expect("plain struct");
        add(&mut builder, DISCLOSURE_LABEL, &disclosure)?;
        if let Some(cp) = &self.log_checkpoint {
            let v = serde_json::to_value(cp).expect("plain struct");
            add(&mut builder, LOG_LABEL, &v)?;
        }
        if let Some(tm) = &self.training_mining {
            let entries = serde_json::to_value(&tm.entries).expect("plain map");
            add(
                &mut builder,
                TRAINING_MINING_LABEL,
                &json!({ "entries": entries }),
            )?;
        }
        Ok(builder)
    }
}

/// Settings for every c2pa context this crate makes: no thumbnails, no network, and our
/// own assertions attributed to the signer (created, not gathered).
pub(crate) fn base_settings() -> Value {
    json!({
        "builder": {
            "thumbnail": { "enabled": false },
            "created_assertion_labels": [
                "c2pa.actions",
                SOFT_BINDING_LABEL,
                AIGC_LABEL,
                DISCLOSURE_LABEL,
                LOG_LABEL,
                TRAINING_MINING_LABEL,
            ],
        },
        "verify": {
            "ocsp_fetch": false,
            "remote_manifest_fetch": false,
            "verify_after_sign": false,
        },
    })
}

pub(crate) fn context_with(settings: Value) -> Result<Context, CredentialError> {
    Context::new()
        .with_settings(settings)
        .map_err(CredentialError::c2pa)
}
