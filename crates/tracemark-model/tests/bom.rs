//! The CycloneDX 1.6 ML-BOM: valid against the CycloneDX 1.6 JSON schema (with the SPDX
//! and JSF schemas it references: tests/data/cyclonedx, with their origin), carrying the
//! OMS root digest as the model's hash, the model card where the directory tells it.

mod common;

use std::path::Path;

use serde_json::{Value, json};
use tracemark_model::{
    HashOptions, Manifest,
    bom::{ModelCard, SignatureRef, bom},
};

struct Schemas;

impl jsonschema::Retrieve for Schemas {
    fn retrieve(
        &self,
        uri: &jsonschema::Uri<String>,
    ) -> Result<Value, Box<dyn std::error::Error + Send + Sync>> {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/cyclonedx");
        let file = match uri.as_str() {
            u if u.ends_with("/spdx.SNAPSHOT.schema.json") => "spdx.SNAPSHOT.schema.json",
            u if u.ends_with("/jsf-0.82.SNAPSHOT.schema.json") => "jsf-0.82.SNAPSHOT.schema.json",
            u => return Err(format!("no local copy of {u}").into()),
        };
        Ok(serde_json::from_slice(&std::fs::read(dir.join(file))?)?)
    }
}

/// Every schema error of `doc`.
pub fn cyclonedx_errors(doc: &Value) -> Vec<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/cyclonedx");
    let schema: Value =
        serde_json::from_slice(&std::fs::read(dir.join("bom-1.6.SNAPSHOT.schema.json")).unwrap())
            .unwrap();
    let validator = jsonschema::options()
        .with_retriever(Schemas)
        .should_validate_formats(true)
        .build(&schema)
        .expect("the CycloneDX 1.6 schema compiles with its references");
    validator
        .iter_errors(doc)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}

fn now() -> time::OffsetDateTime {
    time::OffsetDateTime::now_utc()
}

#[test]
fn the_bom_of_a_hugging_face_style_model_is_valid_and_carries_its_card() {
    let tmp = tempfile::tempdir().unwrap();
    let model = tmp.path().join("tiny-hf");
    std::fs::create_dir(&model).unwrap();
    std::fs::write(
        model.join("config.json"),
        r#"{"architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": 64}"#,
    )
    .unwrap();
    // A safetensors file: an 8-byte header length, the JSON header, then the data.
    let header = json!({
        "__metadata__": { "format": "pt" },
        "embed.weight": { "dtype": "F32", "shape": [512, 64], "data_offsets": [0, 131072] },
        "norm.weight": { "dtype": "F32", "shape": [64], "data_offsets": [131072, 131328] },
    })
    .to_string();
    let mut st = (header.len() as u64).to_le_bytes().to_vec();
    st.extend_from_slice(header.as_bytes());
    st.extend(std::iter::repeat_n(0u8, 131_328));
    std::fs::write(model.join("model.safetensors"), st).unwrap();
    std::fs::write(
        model.join("README.md"),
        "---\nlicense: mit\npipeline_tag: text-generation\ndatasets:\n  - roneneldan/TinyStories\n  - 'other/set'\n---\n# tiny\n",
    )
    .unwrap();
    let card = ModelCard::read(&model);
    assert_eq!(card.parameters, Some(512 * 64 + 64));
    assert_eq!(card.model_architecture.as_deref(), Some("LlamaForCausalLM"));
    assert_eq!(card.architecture_family.as_deref(), Some("llama"));
    assert_eq!(card.task.as_deref(), Some("text-generation"));
    assert_eq!(card.datasets, ["roneneldan/TinyStories", "other/set"]);
    assert_eq!(card.licence.as_deref(), Some("mit"));

    let manifest = Manifest::of_model(&model, &HashOptions::default()).unwrap();
    let doc = bom(
        &manifest,
        &card,
        Some(SignatureRef {
            name: "model.sig",
            bytes: b"{}",
        }),
        "0.1.0",
        now(),
    );
    let errors = cyclonedx_errors(&doc);
    assert!(errors.is_empty(), "{errors:#?}\n{doc:#}");
    let component = &doc["components"][0];
    assert_eq!(component["type"], "machine-learning-model");
    assert_eq!(
        component["hashes"][0]["content"],
        hex::encode(manifest.root_digest())
    );
    assert_eq!(
        component["modelCard"]["modelParameters"]["datasets"][0]["ref"],
        "dataset:roneneldan/TinyStories"
    );
    assert_eq!(
        doc["components"][1]["bom-ref"],
        "dataset:roneneldan/TinyStories"
    );
    assert_eq!(doc["components"][1]["type"], "data");
    assert!(
        component["properties"]
            .as_array()
            .unwrap()
            .contains(&json!({ "name": "tracemark:parameter-count", "value": "32832" }))
    );
    assert_eq!(
        component["externalReferences"][0]["type"],
        "digital-signature"
    );
    let files: Vec<_> = component["components"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    assert_eq!(files, ["README.md", "config.json", "model.safetensors"]);
}

#[test]
fn the_schema_check_can_fail() {
    // The validator is not vacuous: a BOM with a bad hash and an unknown component type
    // is refused.
    let (_tmp, model) = common::model_copy();
    let manifest = Manifest::of_model(&model, &HashOptions::default()).unwrap();
    let mut doc = bom(&manifest, &ModelCard::default(), None, "0.1.0", now());
    assert!(cyclonedx_errors(&doc).is_empty());
    doc["components"][0]["type"] = "neural-network".into();
    doc["components"][0]["hashes"][0]["content"] = "xyz".into();
    assert!(
        cyclonedx_errors(&doc).len() >= 2,
        "{:?}",
        cyclonedx_errors(&doc)
    );
}
