//! The service's generation names a signed model by its identity: the demo's work folder
//! with the committed model (signed into the folder, its release logged), served; a
//! completion's provenance and log record carry the model's digest, and the service's
//! report says the digest is signed by the demo's publisher, trusted.

mod common;

use common::{TOKEN, completion, post, start};
use serde_json::json;
use tracemark::{
    Config,
    core::keyfile::{self, Replace, Secrecy},
    log::{trust_policy, verify_receipt},
};

#[test]
fn a_completion_names_the_signed_model_by_its_identity() {
    let tmp = tempfile::tempdir().unwrap();
    let options = tracemark_demo::Options {
        model: Some(tracemark_testkit::model_dir()),
        seed: Some(common::KEY_SEED),
        ..Default::default()
    };
    let ws = tracemark_demo::prepare(&tmp.path().join("demo"), &options).unwrap();
    let identity = ws.model_identity.clone();
    keyfile::write_file(
        &ws.out.join("tokens"),
        format!("{TOKEN}\n").as_bytes(),
        Secrecy::Secret,
        Replace::No,
    )
    .unwrap();
    let mut config = Config::load(&ws.out.join("tracemark.toml")).unwrap();
    config.server.tokens_file = Some(ws.out.join("tokens"));
    let base = start(config);

    let response = completion(&base, "Once upon a time", 60, 3);
    let provenance = &response["tracemark"];
    assert_eq!(
        provenance["record_format"],
        "tracemark.generation-record/v2"
    );
    assert_eq!(provenance["model_digest"], identity.digest.to_string());
    let log_key = std::fs::read_to_string(ws.out.join("home/keys/log/demo/key.pub")).unwrap();
    let proved = verify_receipt(
        provenance["receipt"].as_str().unwrap().as_bytes(),
        &trust_policy(&log_key, &[], 0).unwrap(),
        None,
    )
    .unwrap();
    let record = proved.record.unwrap();
    assert_eq!(record.model.digest, Some(identity.digest));
    assert_eq!(
        record.model.release.map(|r| r.index),
        Some(identity.release_index)
    );

    let text = response["choices"][0]["text"].as_str().unwrap();
    let (status, attributed) = post(
        &format!("{base}/v1/attribute"),
        Some(TOKEN),
        &json!({ "text": text }),
    );
    assert_eq!(status, 200, "{attributed}");
    let m = attributed["report"]["facts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["kind"] == "model_identity")
        .unwrap_or_else(|| panic!("{attributed:#}"));
    assert_eq!(m["check"], "trusted", "{m:#}");
    assert_eq!(m["named_digest"], identity.digest.to_string());
    // Reports leave the machine: the signature is named by its file name, not its path.
    assert_eq!(
        m["method"]["parameters"]["signature"],
        "tinystories-260k.sig"
    );
}
