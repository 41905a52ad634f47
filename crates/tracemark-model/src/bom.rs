//! The AI bill of materials: a CycloneDX 1.6 ML-BOM whose `machine-learning-model`
//! component carries the model's OMS root digest as its hash (the same id as its
//! signature and its log record), its files with their digests, its model card where
//! the directory tells it (architecture, task, datasets by reference), and its parameter
//! count as a property.

use std::{fs::File, io::Read, path::Path};

use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use time::{OffsetDateTime, format_description::well_known::Rfc3339};

use crate::manifest::Manifest;

/// What is known of a model besides its files.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ModelCard {
    pub version: Option<String>,
    pub description: Option<String>,
    /// `architectureFamily` (`llama`, `bert`...).
    pub architecture_family: Option<String>,
    /// `modelArchitecture` (`LlamaForCausalLM`...).
    pub model_architecture: Option<String>,
    /// `task` (`text-generation`...).
    pub task: Option<String>,
    pub parameters: Option<u64>,
    /// Datasets it was trained on, by name (each a `data` component, referenced).
    pub datasets: Vec<String>,
    /// An SPDX licence id or a licence name.
    pub licence: Option<String>,
    /// A summary of the training content, when one is published.
    pub training_summary_url: Option<String>,
}

impl ModelCard {
    /// What the model's directory says of it: a Hugging Face `config.json`
    /// (`architectures`, `model_type`), `*.safetensors` headers (the parameter count),
    /// and a `README.md` model card's front matter (`license`, `pipeline_tag`,
    /// `datasets`). What is absent stays unknown.
    pub fn read(model: &Path) -> Self {
        let mut card = ModelCard::default();
        if !model.is_dir() {
            return card;
        }
        if let Some(config) = read_small(&model.join("config.json"))
            .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
        {
            card.model_architecture = config
                .get("architectures")
                .and_then(|a| a.get(0))
                .and_then(Value::as_str)
                .map(str::to_owned);
            card.architecture_family = config
                .get("model_type")
                .and_then(Value::as_str)
                .map(str::to_owned);
        }
        let mut total = 0u64;
        let mut any = false;
        if let Ok(dir) = std::fs::read_dir(model) {
            let mut files: Vec<_> = dir.flatten().map(|e| e.path()).collect();
            files.sort();
            for f in files {
                if f.extension().is_some_and(|e| e == "safetensors")
                    && let Some(n) = safetensors_parameters(&f)
                {
                    total += n;
                    any = true;
                }
            }
        }
        if any {
            card.parameters = Some(total);
        }
        if let Some(readme) =
            read_small(&model.join("README.md")).and_then(|b| String::from_utf8(b).ok())
        {
            front_matter(&readme, &mut card);
        }
        card
    }
}

fn read_small(path: &Path) -> Option<Vec<u8>> {
    let mut bytes = Vec::new();
    File::open(path)
        .ok()?
        .take(4 << 20)
        .read_to_end(&mut bytes)
        .ok()?;
    Some(bytes)
}

/// The element count of every tensor a safetensors file's header lists.
fn safetensors_parameters(path: &Path) -> Option<u64> {
    let mut f = File::open(path).ok()?;
    let mut len = [0u8; 8];
    f.read_exact(&mut len).ok()?;
    let len = u64::from_le_bytes(len);
    if len > 100 << 20 {
        return None;
    }
    let mut header = vec![0u8; usize::try_from(len).ok()?];
    f.read_exact(&mut header).ok()?;
    let header: serde_json::Map<String, Value> = serde_json::from_slice(&header).ok()?;
    let mut total = 0u64;
    for (name, tensor) in header {
        if name == "__metadata__" {
            continue;
        }
        let shape = tensor.get("shape")?.as_array()?;
        let mut n = 1u64;
        for d in shape {
            n = n.checked_mul(d.as_u64()?)?;
        }
        total = total.checked_add(n)?;
    }
    Some(total)
}

/// `license`, `pipeline_tag` and `datasets` from a model card's YAML front matter (the
/// simple forms Hugging Face cards use: `key: value` and `- item` lists).
fn front_matter(readme: &str, card: &mut ModelCard) {
    let Some(rest) = readme
        .strip_prefix("---\n")
        .or_else(|| readme.strip_prefix("---\r\n"))
    else {
        return;
    };
    let Some(end) = rest.find("\n---") else {
        return;
    };
    let mut list: Option<&str> = None;
    for line in rest[..end].lines() {
        let unquote = |s: &str| s.trim().trim_matches(['"', '\'']).to_owned();
        if let Some(item) = line.trim_start().strip_prefix("- ") {
            if list == Some("datasets") && line.starts_with([' ', '-']) {
                card.datasets.push(unquote(item));
            }
            continue;
        }
        list = None;
        let Some((key, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        match key.trim() {
            "license" if !value.is_empty() => card.licence = Some(unquote(value)),
            "pipeline_tag" if !value.is_empty() => card.task = Some(unquote(value)),
            "datasets" if value.is_empty() => list = Some("datasets"),
            "datasets" => card.datasets.push(unquote(value)),
            _ => {}
        }
    }
}

/// The signature a BOM refers to: its file name and bytes.
#[derive(Debug, Clone, Copy)]
pub struct SignatureRef<'a> {
    pub name: &'a str,
    pub bytes: &'a [u8],
}

/// The CycloneDX 1.6 BOM of the model `manifest` describes (`files` hashed, so each file
/// is a nested `file` component with its digest).
pub fn bom(
    manifest: &Manifest,
    card: &ModelCard,
    signature: Option<SignatureRef<'_>>,
    tool_version: &str,
    now: OffsetDateTime,
) -> Value {
    let root = hex::encode(manifest.root_digest());
    let alg = |name: &str| match name {
        "sha256" => "SHA-256",
        "blake3" => "BLAKE3",
        _ => "SHA-256",
    };
    let files: Vec<Value> = manifest
        .resources
        .iter()
        .map(|r| {
            json!({
                "type": "file",
                "bom-ref": format!("file:{}", r.name),
                "name": r.name,
                "hashes": [{ "alg": alg(&r.algorithm), "content": hex::encode(&r.digest) }],
            })
        })
        .collect();
    let dataset_ref = |name: &str| format!("dataset:{name}");
    let mut params = serde_json::Map::new();
    if let Some(t) = &card.task {
        params.insert("task".into(), json!(t));
    }
    if let Some(a) = &card.architecture_family {
        params.insert("architectureFamily".into(), json!(a));
    }
    if let Some(a) = &card.model_architecture {
        params.insert("modelArchitecture".into(), json!(a));
    }
    if !card.datasets.is_empty() {
        params.insert(
            "datasets".into(),
            json!(
                card.datasets
                    .iter()
                    .map(|d| json!({ "ref": dataset_ref(d) }))
                    .collect::<Vec<_>>()
            ),
        );
    }
    let mut model_card = serde_json::Map::new();
    model_card.insert("bom-ref".into(), json!("model-card"));
    if !params.is_empty() {
        model_card.insert("modelParameters".into(), Value::Object(params));
    }
    let mut properties = vec![
        json!({ "name": "oms:root-digest", "value": format!("sha256:{root}") }),
        json!({ "name": "oms:serialization", "value": format!("{}, {}", manifest.serialization.method.name(), manifest.serialization.hash.name()) }),
    ];
    if let Some(n) = card.parameters {
        properties.push(json!({ "name": "tracemark:parameter-count", "value": n.to_string() }));
    }
    model_card.insert(
        "properties".into(),
        json!(
            card.parameters
                .map(|n| vec![json!({ "name": "parameterCount", "value": n.to_string() })])
                .unwrap_or_default()
        ),
    );
    let mut component = json!({
        "type": "machine-learning-model",
        "bom-ref": "model",
        "name": manifest.model_name,
        "hashes": [{ "alg": "SHA-256", "content": root }],
        "modelCard": Value::Object(model_card),
        "properties": properties,
        "components": files,
    });
    let c = component.as_object_mut().expect("an object");
    if let Some(v) = &card.version {
        c.insert("version".into(), json!(v));
    }
    if let Some(d) = &card.description {
        c.insert("description".into(), json!(d));
    }
    if let Some(l) = &card.licence {
        c.insert("licenses".into(), json!([{ "license": { "name": l } }]));
    }
    let mut refs = Vec::new();
    if let Some(sig) = signature {
        refs.push(json!({
            "type": "digital-signature",
            "url": sig.name,
            "comment": "OpenSSF Model Signing (OMS) v1.0 bundle over the model's files",
            "hashes": [{ "alg": "SHA-256", "content": hex::encode(Sha256::digest(sig.bytes)) }],
        }));
    }
    if let Some(url) = &card.training_summary_url {
        refs.push(
            json!({ "type": "documentation", "url": url, "comment": "training-content summary" }),
        );
    }
    if !refs.is_empty() {
        c.insert("externalReferences".into(), json!(refs));
    }
    let mut components = vec![component];
    components.extend(
        card.datasets
            .iter()
            .map(|d| json!({ "type": "data", "bom-ref": dataset_ref(d), "name": d })),
    );
    // A serial number derived from the root digest and the time: one BOM, one number.
    let mut seed = Sha256::new();
    seed.update(root.as_bytes());
    seed.update(now.unix_timestamp_nanos().to_le_bytes());
    let mut u: [u8; 16] = seed.finalize()[..16].try_into().expect("16 bytes");
    u[6] = (u[6] & 0x0f) | 0x40;
    u[8] = (u[8] & 0x3f) | 0x80;
    let h = hex::encode(u);
    let serial = format!(
        "urn:uuid:{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    );
    json!({
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "serialNumber": serial,
        "version": 1,
        "metadata": {
            "timestamp": now.replace_nanosecond(0).unwrap_or(now).format(&Rfc3339).expect("a time formats"),
            "tools": { "components": [{ "type": "application", "name": "tracemark", "version": tool_version }] },
        },
        "components": components,
    })
}
