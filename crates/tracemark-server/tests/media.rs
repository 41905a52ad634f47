//! Images through the API, against a real service (the demo's work folder with an image
//! watermark key added): detection of a marked picture re-encoded as JPEG, attribution
//! to its log record, marked generation (`POST /v1/media/mark`), and the refusal of
//! another format.

mod common;

use base64::Engine as _;
use common::{TOKEN, post, start, workspace};
use serde_json::json;
use tracemark::{
    core::keyfile::Replace,
    keygen::{self, Destination, KeySpec},
    media::{MediaGenerator, MediaMarker},
    mediamark::{
        MediaScheme, attack,
        imageio::{self, ImageFormat},
        synth,
    },
    trust::{Role, Trust, TrustedKeys},
    verify::verify_result,
};

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// The file itself as the body (`Content-Type` other than JSON): status and JSON answer.
fn post_file(url: &str, content_type: &str, bytes: &[u8]) -> (u16, serde_json::Value) {
    let mut response = common::agent()
        .post(url)
        .header("Content-Type", content_type)
        .send(bytes)
        .unwrap();
    let status = response.status().as_u16();
    let text = response.body_mut().read_to_string().unwrap();
    (status, serde_json::from_str(&text).unwrap())
}

#[test]
fn an_image_is_detected_and_attributed_through_the_api() {
    let dir = workspace();
    let key = dir.join("media-keys/server-test-image.json");
    if !key.exists() {
        keygen::generate(
            &KeySpec::MediaWatermark {
                scheme: MediaScheme::ImageDctV1,
            },
            &Destination::Path(key.clone()),
            Replace::No,
        )
        .unwrap();
    }
    let mut config = common::config();
    config.keys.watermark.push(key);
    // Marked, signed and logged by the provider before the service starts.
    let picture = synth::picture(11, 640, 400);
    let png = imageio::encode_image(&picture, ImageFormat::Png).unwrap();
    let marked = MediaMarker::open(&config)
        .unwrap()
        .mark(
            &png,
            &MediaGenerator {
                name: "pixel-model".into(),
                version: "3".into(),
            },
        )
        .unwrap();
    let (decoded, _) = imageio::decode_image(&marked.bytes).unwrap();
    let reposted =
        imageio::encode_image(&attack::jpeg(&decoded, 75).unwrap(), ImageFormat::Jpeg).unwrap();

    let base = start(config);
    let (status, found) = post(
        &format!("{base}/v1/detect"),
        None,
        &json!({ "content_base64": b64(&reposted), "name": "reposted.jpg" }),
    );
    assert_eq!(status, 200, "{found}");
    let result = &found["result"];
    assert_eq!(result["detected"], true, "{found}");
    assert_eq!(result["medium"], "image");
    assert_eq!(
        result["detections"][0]["payload"]["hex"],
        marked.payload.to_string()
    );
    assert!(result["sdxl"]["matching_bits"].is_u64());
    // A signed result, like the text detections.
    let mut trusted = TrustedKeys::default();
    let service_key = std::fs::read_to_string(dir.join("home/keys/service/demo/key.pub")).unwrap();
    trusted
        .add_text(Role::Service, &service_key, "service key")
        .unwrap();
    assert_eq!(
        verify_result(&found.to_string(), &trusted)
            .unwrap()
            .conclusion
            .trust,
        Trust::Trusted
    );

    let (status, answer) = post(
        &format!("{base}/v1/attribute"),
        None,
        &json!({ "content_base64": b64(&reposted), "name": "reposted.jpg" }),
    );
    assert_eq!(status, 200, "{answer}");
    let report = &answer["report"];
    assert_eq!(report["subject"]["media_type"], "image/jpeg");
    let entry = report["facts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["kind"] == "log_entry")
        .unwrap_or_else(|| panic!("no log entry: {report:#}"));
    assert_eq!(entry["generation_id"], marked.record.generation_id.as_str());
    assert!(answer["html"].as_str().unwrap().contains("Image watermark"));

    // The file itself as the body, its options in the query string: the same answers.
    let (status, raw) = post_file(
        &format!("{base}/v1/detect?name=reposted.jpg&fpr=0.001"),
        "image/jpeg",
        &reposted,
    );
    assert_eq!(status, 200, "{raw}");
    assert_eq!(
        raw["result"]["detections"][0]["payload"]["hex"],
        marked.payload.to_string()
    );
    assert_eq!(
        raw["result"]["content_hash"],
        found["result"]["content_hash"]
    );
    let (status, raw) = post_file(
        &format!("{base}/v1/attribute?name=reposted.jpg"),
        "application/octet-stream",
        &reposted,
    );
    assert_eq!(status, 200, "{raw}");
    assert_eq!(raw["report"]["subject"]["media_type"], "image/jpeg");
    // A query field the endpoint does not have, or a JSON field beside the file: refused.
    let (status, bad) = post_file(
        &format!("{base}/v1/detect?colour=red"),
        "image/jpeg",
        &reposted,
    );
    assert_eq!(status, 400, "{bad}");
    let (status, bad) = post_file(
        &format!("{base}/v1/detect?text=hello"),
        "image/jpeg",
        &reposted,
    );
    assert_eq!(status, 400, "{bad}");

    // Another image format: refused, naming it.
    let gif = b"GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff";
    let (status, refused) = post(
        &format!("{base}/v1/detect"),
        None,
        &json!({ "content_base64": b64(gif) }),
    );
    assert_eq!(status, 422, "{refused}");
    assert!(refused.to_string().contains("GIF"), "{refused}");
    // Marked generation through the API: a token is needed (it logs).
    let other = imageio::encode_image(&synth::picture(12, 480, 320), ImageFormat::Png).unwrap();
    let request = json!({ "content_base64": b64(&other), "generator": "pixel-model" });
    let (status, _) = post(&format!("{base}/v1/media/mark"), None, &request);
    assert_eq!(status, 401);
    let (status, made) = post(&format!("{base}/v1/media/mark"), Some(TOKEN), &request);
    assert_eq!(status, 200, "{made}");
    assert_eq!(made["record"]["format"], "tracemark.generation-record/v3");
    assert!(made["receipt"].as_str().unwrap().contains('\n'));
    let published = base64::engine::general_purpose::STANDARD
        .decode(made["content_base64"].as_str().unwrap())
        .unwrap();
    assert_eq!(
        made["record"]["content_hash"].as_str().unwrap(),
        tracemark::core::ContentHash::of_bytes(&published).to_string()
    );
    let (status, found) = post(
        &format!("{base}/v1/detect"),
        None,
        &json!({ "content_base64": b64(&published) }),
    );
    assert_eq!(status, 200, "{found}");
    assert_eq!(
        found["result"]["detections"][0]["payload"]["hex"],
        made["payload"]["hex"]
    );
    let (status, _) = post(
        &format!("{base}/v1/media/mark"),
        Some(TOKEN),
        &json!({ "content_base64": b64(gif), "generator": "g" }),
    );
    assert_eq!(status, 422);

    // A file over the body limit is refused (413) before it is read, as any body is
    // (`tests/api.rs`): images and sounds share the limit, 6 MiB of JSON by default.
}
