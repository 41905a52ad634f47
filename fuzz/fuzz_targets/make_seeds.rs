#![no_main]
//! Not a fuzz target: writes the seed corpora under `fuzz/seeds/<target>/` (or under
//! `$TRACEMARK_FUZZ_SEEDS`) with the real APIs (keys from `tracemark::keygen`, credentials
//! signed by `tracemark_credentials` with a fresh development identity, notes, checkpoints
//! and receipts signed with the fixed log key), then exits. Run it with
//! `cargo fuzz run make_seeds` (see README.md); `run.sh` skips it.

use std::{
    fs,
    path::{Path, PathBuf},
};

use libfuzzer_sys::fuzz_target;
use tracemark::keygen::{self, Destination, KeySpec};
use tracemark_core::{ContentHash, KeyId, KeyKind, Payload, keyfile::Replace};
use tracemark_credentials::{
    CredentialSpec, Generator, MediaFormat, SignOptions, SigningAlgorithm, SigningIdentity,
    SigningKey, WatermarkDeclaration, sign_media, sign_sidecar, sign_text_embedded, wrapper,
};
use tracemark_fuzz as fx;
use tracemark_ledger::{
    AddCheckpoint, Cosigner, GenerationRecord, ModelRef, Receipt, TextSketch,
    merkle::{consistency_proof, inclusion_proof},
    record::GENERATION_RECORD_V1,
};
use tracemark_watermark::SchemeId;

const TEXT: &str = "The committee met on Tuesday to review the draft report on regional \
water use. Members agreed that the figures for the dry season needed a second look. Café \
owners along the river had written to ask whether the new rules would affect them.\n";

fn put(root: &Path, target: &str, name: &str, selector: Option<u8>, bytes: &[u8]) {
    let dir = root.join(target);
    fs::create_dir_all(&dir).unwrap();
    let mut out = selector.map(|s| vec![s]).unwrap_or_default();
    out.extend_from_slice(bytes);
    fs::write(dir.join(name), out).unwrap();
}

fn with_len(a: &[u8], b: &[u8]) -> Vec<u8> {
    let mut out = u16::try_from(a.len()).unwrap().to_be_bytes().to_vec();
    out.extend_from_slice(a);
    out.extend_from_slice(b);
    out
}

fn spec() -> CredentialSpec {
    let mut spec = CredentialSpec::new(
        Generator {
            name: "tiny-llama".into(),
            version: "1.2".into(),
        },
        "Example AI",
        "gen-fuzz-0001",
    );
    spec.watermark = Some(WatermarkDeclaration {
        scheme: "kgw-selfhash-v1".into(),
        key_id: Some(KeyId::derive(KeyKind::Watermark, b"fuzz watermark key")),
        payload: Some(Payload::new(0xbeef, 16).unwrap()),
    });
    spec
}

fn fixture(name: &str) -> Vec<u8> {
    fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../crates/tracemark-credentials/tests/fixtures")
            .join(name),
    )
    .unwrap()
}

fn record(n: u64) -> GenerationRecord {
    let text = format!("generated text number {n} for the fuzz seeds");
    GenerationRecord {
        format: GENERATION_RECORD_V1.into(),
        content_hash: ContentHash::of_bytes(text.as_bytes()),
        watermark_scheme: "kgw-selfhash-v1".into(),
        key_id: KeyId::derive(KeyKind::Watermark, b"fuzz watermark key"),
        payload: Payload::new(n, 24).unwrap(),
        model: ModelRef {
            id: "tinystories-260k".into(),
            version: "1".into(),
        },
        provider: "provider.example".into(),
        credential_hash: None,
        time: "2026-11-29T12:00:00Z".parse().unwrap(),
        generation_id: format!("gen-{n}"),
        sketch: TextSketch::of_text(&text),
        media: None,
    }
}

fn credentials(root: &Path, work: &Path) {
    let id_dir = work.join("identity");
    SigningIdentity::create_development(
        &id_dir,
        SigningAlgorithm::Es256,
        "Example AI",
        Replace::No,
    )
    .unwrap();
    let key = SigningKey::from_identity_dir(&id_dir).unwrap();
    // The root a verifier trusts (a public certificate).
    put(
        root,
        "manifest-trust",
        "root.pem",
        None,
        &fs::read(id_dir.join("root.pem")).unwrap(),
    );
    let options = SignOptions::default();
    let spec = spec();

    let signed = sign_text_embedded(TEXT, &key, &spec, &options).unwrap();
    put(
        root,
        "text_wrapper",
        "signed.txt",
        Some(0),
        signed.text.as_bytes(),
    );
    put(root, "text_wrapper", "plain.txt", Some(0), TEXT.as_bytes());
    put(
        root,
        "text_wrapper",
        "bom.txt",
        Some(0),
        "\u{FEFF}a BOM, no wrapper\n".as_bytes(),
    );
    let found = wrapper::scan(&signed.text);
    let manifest = &found.wrappers[0].manifest;
    let mut frame = wrapper::MAGIC.to_vec();
    frame.push(wrapper::VERSION);
    frame.extend_from_slice(&u32::try_from(manifest.len()).unwrap().to_be_bytes());
    frame.extend_from_slice(manifest);
    let visible = b"short visible text";
    let mut framed = vec![u8::try_from(visible.len()).unwrap()];
    framed.extend_from_slice(visible);
    framed.extend_from_slice(&frame[..frame.len().min(64)]);
    put(root, "text_wrapper", "frame-truncated", Some(1), &framed);
    let mut small = vec![u8::try_from(visible.len()).unwrap()];
    small.extend_from_slice(visible);
    small.extend_from_slice(&wrapper::MAGIC);
    small.push(wrapper::VERSION);
    small.extend_from_slice(&3u32.to_be_bytes());
    small.extend_from_slice(b"abc\x00\x10");
    put(root, "text_wrapper", "frame-small", Some(3), &small);

    for (i, (name, format)) in [
        ("tiny.jpg", MediaFormat::Jpeg),
        ("tiny.png", MediaFormat::Png),
        ("tiny.webp", MediaFormat::Webp),
        ("tiny.mp4", MediaFormat::Mp4),
        ("tiny.wav", MediaFormat::Wav),
    ]
    .into_iter()
    .enumerate()
    {
        let signed = sign_media(&fixture(name), format, &key, &spec, &options).unwrap();
        put(
            root,
            "manifest",
            &format!("signed-{name}"),
            Some(i as u8),
            &signed.bytes,
        );
    }
    put(root, "manifest", "tiny.pdf", Some(5), &fixture("tiny.pdf"));
    put(
        root,
        "manifest",
        "signed.txt",
        Some(6),
        signed.text.as_bytes(),
    );
    let store = sign_sidecar(TEXT.as_bytes(), &key, &spec, &options).unwrap();
    put(
        root,
        "manifest",
        "sidecar",
        Some(7),
        &with_len(&store, TEXT.as_bytes()),
    );
    let visible: String = tracemark_credentials::strip_wrappers(&signed.text);
    put(
        root,
        "manifest",
        "wrapped-manifest",
        Some(8),
        &with_len(visible.as_bytes(), manifest),
    );

    // Key files: the PEM pair as `from_identity_dir` reads it.
    let chain = fs::read(id_dir.join("chain.pem")).unwrap();
    let pem = fs::read(id_dir.join("key.pem")).unwrap();
    put(
        root,
        "keyfile",
        "signing-pem",
        Some(4),
        &with_len(&chain, &pem),
    );
}

fn keys(root: &Path, work: &Path) {
    let specs = [
        (
            "watermark-kgw",
            KeySpec::Watermark {
                scheme: SchemeId::KgwSelfHash,
                tokenizer: None,
                payload_bits: 16,
            },
        ),
        (
            "watermark-gumbel",
            KeySpec::Watermark {
                scheme: SchemeId::Gumbel,
                tokenizer: None,
                payload_bits: 0,
            },
        ),
        (
            "watermark-synthid",
            KeySpec::Watermark {
                scheme: SchemeId::SynthId,
                tokenizer: None,
                payload_bits: 0,
            },
        ),
        (
            "signing",
            KeySpec::Signing {
                algorithm: SigningAlgorithm::Ed25519,
                organization: "Example AI".into(),
            },
        ),
        (
            "log",
            KeySpec::Log {
                origin: "log.example/tracemark".into(),
            },
        ),
        (
            "service",
            KeySpec::Service {
                name: "attribution.example".into(),
            },
        ),
    ];
    for (name, spec) in specs {
        let path = work.join(name);
        let kind = spec.kind();
        let written =
            keygen::generate(&spec, &Destination::Path(path.clone()), Replace::No).unwrap();
        let (selector, file) = match kind {
            KeyKind::Watermark => (0, written.path.clone()),
            KeyKind::Signing => (1, written.path.join("signing.json")),
            KeyKind::Log => (2, written.path.join("key.json")),
            KeyKind::Service => (3, written.path.join("key.json")),
        };
        put(
            root,
            "keyfile",
            &format!("{name}.json"),
            Some(selector),
            &fs::read(&file).unwrap(),
        );
        if let Some(public) = written
            .public
            .filter(|p| p.extension().is_some_and(|e| e == "pub"))
        {
            put(
                root,
                "keyfile",
                &format!("{name}.pub"),
                Some(5),
                &fs::read(public).unwrap(),
            );
        }
    }
    put(
        root,
        "keyfile",
        "witness.vkey",
        Some(5),
        fx::witness().verifier().to_string().as_bytes(),
    );
}

fn log(root: &Path) {
    let tree = fx::tree(fx::TREE_SIZE);
    let witness = fx::witness();
    let signer = fx::log_signer();

    // Notes: a checkpoint, the same cosigned, a note that is not a checkpoint.
    let plain = fx::checkpoint(fx::TREE_SIZE);
    let mut cosigned = plain.clone();
    let body = plain.checkpoint_unverified().to_body();
    cosigned
        .add_cosignature(&witness.cosign_line(&body, 1_700_000_000))
        .unwrap();
    put(
        root,
        "note_receipt",
        "checkpoint-note",
        Some(0),
        plain.to_text().as_bytes(),
    );
    put(
        root,
        "note_receipt",
        "cosigned-note",
        Some(0),
        cosigned.to_text().as_bytes(),
    );
    let mut note = tracemark_ledger::Note::new("a free-form note\nwith two lines\n").unwrap();
    note.sign(&signer).unwrap();
    put(
        root,
        "note_receipt",
        "free-note",
        Some(0),
        note.to_text().as_bytes(),
    );

    // Receipts: a generation record's, a plain entry's, and one under the cosigned
    // checkpoint.
    let records: Vec<Vec<u8>> = (0..3)
        .map(|n| record(n).canonical_bytes().unwrap())
        .collect();
    let mut rtree = tracemark_ledger::merkle::MemoryTree::new();
    for r in &records {
        rtree.push(tracemark_ledger::merkle::leaf_hash(r));
    }
    let rcheckpoint = tracemark_ledger::Checkpoint {
        origin: fx::LOG_NAME.into(),
        size: rtree.size(),
        root: rtree.root(),
        extensions: Vec::new(),
    }
    .sign(&signer)
    .unwrap();
    let receipt = Receipt {
        extra: Some(records[1].clone()),
        index: 1,
        proof: inclusion_proof(&rtree, 1, rtree.size()).unwrap(),
        checkpoint: rcheckpoint,
    };
    put(
        root,
        "note_receipt",
        "receipt-record",
        Some(1),
        receipt.to_text().as_bytes(),
    );
    let receipt = Receipt {
        extra: Some(fx::entry(6)),
        index: 6,
        proof: inclusion_proof(&tree, 6, fx::TREE_SIZE).unwrap(),
        checkpoint: cosigned.clone(),
    };
    put(
        root,
        "note_receipt",
        "receipt-cosigned",
        Some(1),
        receipt.to_text().as_bytes(),
    );
    let receipt = Receipt {
        extra: None,
        index: 12,
        proof: inclusion_proof(&tree, 12, fx::TREE_SIZE).unwrap(),
        checkpoint: plain.clone(),
    };
    put(
        root,
        "note_receipt",
        "receipt-no-extra",
        Some(1),
        receipt.to_text().as_bytes(),
    );

    // Checkpoints.
    put(root, "checkpoint", "body", Some(0), body.as_bytes());
    put(
        root,
        "checkpoint",
        "body-ext",
        Some(0),
        format!("{body}ext line\n").as_bytes(),
    );
    put(
        root,
        "checkpoint",
        "signed",
        Some(1),
        plain.to_text().as_bytes(),
    );
    put(
        root,
        "checkpoint",
        "cosigned",
        Some(1),
        cosigned.to_text().as_bytes(),
    );
    let other = Cosigner::generate(
        "other.example/witness",
        &mut fx::FixedRng::new("other witness"),
    )
    .unwrap();
    let mut two = cosigned.clone();
    two.add_cosignature(&other.cosign_line(&body, 1_700_000_001))
        .unwrap();
    put(
        root,
        "checkpoint",
        "cosigned-twice",
        Some(1),
        two.to_text().as_bytes(),
    );
    // Witness requests from the size it has cosigned, to several new sizes.
    for new in [fx::WITNESSED_SIZE, 8, fx::TREE_SIZE] {
        let request = AddCheckpoint {
            old: fx::WITNESSED_SIZE,
            proof: consistency_proof(&tree, fx::WITNESSED_SIZE, new).unwrap(),
            checkpoint: fx::checkpoint(new),
        };
        put(
            root,
            "checkpoint",
            &format!("add-{new}"),
            Some(2),
            request.to_text().as_bytes(),
        );
    }
    put(
        root,
        "checkpoint",
        "bare",
        Some(2),
        fx::checkpoint(fx::WITNESSED_SIZE).to_text().as_bytes(),
    );
    put(
        root,
        "checkpoint",
        "state",
        Some(3),
        fx::witness_state().to_json().as_bytes(),
    );
}

fn server(root: &Path, work: &Path) {
    // The model the demo serves, by the name `/v1/models` lists.
    let ws =
        tracemark_demo::prepare(&work.join("demo"), &tracemark_demo::Options::default()).unwrap();
    let model = ws.loaded.name.clone();
    // The selector's low nibble is the route: detect, verify, trace, attribute,
    // completions, chat completions.
    let bodies: [(&str, u8, String); 10] = [
        ("detect", 0, serde_json::json!({"text": TEXT}).to_string()),
        ("detect-fpr", 0, serde_json::json!({"text": TEXT, "fpr": 0.001}).to_string()),
        ("verify-text", 1, serde_json::json!({"text": TEXT, "name": "a.txt"}).to_string()),
        ("verify-b64", 1, serde_json::json!({"content_base64": "SGVsbG8=", "name": "a.png"}).to_string()),
        ("trace", 2, serde_json::json!({"text": "Once upon a time there was a little girl"}).to_string()),
        ("attribute", 3, serde_json::json!({"text": TEXT, "jurisdictions": ["EU"], "as_of": "2026-09-01", "ai_generated": true, "log": false}).to_string()),
        ("completions", 4, serde_json::json!({"model": model, "prompt": "Once upon a time", "max_tokens": 8, "temperature": 0.8, "seed": 7}).to_string()),
        ("completions-many", 4, serde_json::json!({"model": model, "prompt": ["One", "Two"], "max_tokens": 4, "stream": true}).to_string()),
        ("chat", 5, serde_json::json!({"model": model, "messages": [{"role": "user", "content": "Tell me a story"}], "max_completion_tokens": 8, "top_p": 0.9}).to_string()),
        ("chat-parts", 5, serde_json::json!({"model": model, "messages": [{"role": "system", "content": [{"type": "text", "text": "Be brief"}]}, {"role": "user", "content": "Hi"}], "max_tokens": 4, "n": 1, "stop": ["\n"]}).to_string()),
    ];
    for (name, route, body) in bodies {
        put(root, "server", name, Some(route), body.as_bytes());
    }
}

/// Ends the process once the seeds are written (a function, so the macro's code after
/// `init` is not flagged unreachable).
fn done() {
    std::process::exit(0)
}

fuzz_target!(
    init: {
        let root = std::env::var_os("TRACEMARK_FUZZ_SEEDS")
            .map(PathBuf::from)
            .unwrap_or_else(fx::seeds_dir);
        let work = tempfile::tempdir().unwrap();
        log(&root);
        server(&root, work.path());
        keys(&root, work.path());
        credentials(&root, work.path());
        eprintln!("seeds written to {}", root.display());
        done();
    },
    |_data: &[u8]| {}
);
