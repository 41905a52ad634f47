//! Sign and verify throughput: a 1 KB text (sidecar and embedded) and a 1 MB JPEG,
//! Ed25519, no thumbnail, no time stamp. Prints the manifest sizes.
//!
//! `benches/photo-1mb.jpg` is a 1000×1000 noise JPEG (1,031,966 bytes). The official
//! SDK's side of the comparison is `tests/interop/c2pa_official.py bench` on the same
//! files (see the README).

use std::{hint::black_box, path::Path};

use criterion::{Criterion, criterion_group, criterion_main};
use tracemark_core::keyfile::Replace;
use tracemark_credentials::{
    CredentialSpec, Generator, MediaFormat, SignOptions, SigningAlgorithm, SigningIdentity,
    SigningKey, Verifier, sign_media, sign_sidecar, sign_text_embedded,
};

fn text_1k() -> String {
    let base = "Tracemark benchmark text: a kilobyte of ordinary prose, repeated. ";
    base.repeat(1024 / base.len() + 1)[..1024].to_owned()
}

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    SigningIdentity::create_development(
        dir.path(),
        SigningAlgorithm::Ed25519,
        "Bench",
        Replace::No,
    )
    .unwrap();
    let key = SigningKey::from_identity_dir(dir.path()).unwrap();
    let spec = CredentialSpec::new(
        Generator {
            name: "bench-model".into(),
            version: "1".into(),
            digest: None,
        },
        "Bench",
        "gen-1",
    );
    let opts = SignOptions::default();
    let verifier = Verifier::new();
    let text = text_1k();
    if let Ok(out) = std::env::var("TRACEMARK_BENCH_WRITE") {
        // Write the bench inputs and the identity for the c2pa-python side.
        let out = Path::new(&out);
        std::fs::create_dir_all(out).unwrap();
        std::fs::write(out.join("text-1k.txt"), &text).unwrap();
        for f in ["chain.pem", "key.pem", "root.pem"] {
            std::fs::copy(dir.path().join(f), out.join(f)).unwrap();
        }
    }

    let store = sign_sidecar(text.as_bytes(), &key, &spec, &opts).unwrap();
    let embedded = sign_text_embedded(&text, &key, &spec, &opts).unwrap();
    println!(
        "1 KB text: sidecar manifest {} bytes; embedded manifest {} bytes, wrapper {} UTF-8 bytes",
        store.len(),
        embedded.manifest_len,
        embedded.wrapper_len
    );

    c.bench_function("text 1KB sidecar sign", |b| {
        b.iter(|| sign_sidecar(black_box(text.as_bytes()), &key, &spec, &opts).unwrap())
    });
    c.bench_function("text 1KB sidecar verify", |b| {
        b.iter(|| {
            verifier
                .verify_sidecar(black_box(text.as_bytes()), &store, "text/plain")
                .unwrap()
        })
    });
    c.bench_function("text 1KB embedded sign", |b| {
        b.iter(|| sign_text_embedded(black_box(&text), &key, &spec, &opts).unwrap())
    });
    c.bench_function("text 1KB embedded verify", |b| {
        b.iter(|| verifier.verify_text(black_box(&embedded.text)).unwrap())
    });

    let jpeg =
        std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/photo-1mb.jpg")).unwrap();
    let signed = sign_media(&jpeg, MediaFormat::Jpeg, &key, &spec, &opts).unwrap();
    println!("1 MB JPEG: manifest {} bytes", signed.manifest_len);
    let mut group = c.benchmark_group("jpeg 1MB");
    group.sample_size(30);
    group.bench_function("sign", |b| {
        b.iter(|| sign_media(black_box(&jpeg), MediaFormat::Jpeg, &key, &spec, &opts).unwrap())
    });
    group.bench_function("verify", |b| {
        b.iter(|| {
            verifier
                .verify_media(MediaFormat::Jpeg, black_box(&signed.bytes))
                .unwrap()
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
