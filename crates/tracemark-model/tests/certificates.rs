//! The `certificate` method: a chain (leaf, intermediate) in the bundle, checked against
//! the roots the user trusts.

mod common;

use common::{model_copy, verify_opts};
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair, KeyUsagePurpose,
};
use tracemark_model::{Cert, HashOptions, Manifest, SigningKey, Trust, VerifyOptions};

struct Chain {
    root: Cert,
    chain: Vec<Cert>,
    key: SigningKey,
}

fn ca(name: &str) -> CertificateParams {
    let mut p = CertificateParams::default();
    p.distinguished_name.push(DnType::CommonName, name);
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    p
}

/// Root (P-384) → intermediate (P-384) → leaf (P-256) with the given key usages.
fn chain(leaf_usages: Vec<KeyUsagePurpose>) -> Chain {
    let root = CertifiedIssuer::self_signed(
        ca("Test Root"),
        KeyPair::generate_for(&rcgen::PKCS_ECDSA_P384_SHA384).unwrap(),
    )
    .unwrap();
    let intermediate = CertifiedIssuer::signed_by(
        ca("Test Intermediate"),
        KeyPair::generate_for(&rcgen::PKCS_ECDSA_P384_SHA384).unwrap(),
        &root,
    )
    .unwrap();
    let leaf_key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let mut leaf = CertificateParams::default();
    leaf.distinguished_name
        .push(DnType::CommonName, "Test Model Publisher");
    leaf.is_ca = IsCa::ExplicitNoCa;
    leaf.key_usages = leaf_usages;
    let leaf = leaf.signed_by(&leaf_key, &intermediate).unwrap();
    let pem = format!("{}{}", leaf.pem(), intermediate.pem());
    Chain {
        root: Cert::all_from_pem(root.pem().as_bytes(), "root")
            .unwrap()
            .remove(0),
        chain: Cert::all_from_pem(pem.as_bytes(), "chain").unwrap(),
        key: SigningKey::from_pem(leaf_key.serialize_pem().as_bytes(), "leaf").unwrap(),
    }
}

fn sign_with_chain(model: &std::path::Path, c: &Chain) {
    let mut options = HashOptions::default();
    options.exclusions.add("model.sig").unwrap();
    let manifest = Manifest::of_model(model, &options).unwrap();
    let bundle = tracemark_model::sign(&manifest, &c.key, Some(&c.chain)).unwrap();
    std::fs::write(model.join("model.sig"), bundle.to_json()).unwrap();
}

fn opts(roots: Vec<Cert>) -> VerifyOptions {
    VerifyOptions {
        roots,
        signature_name: Some("model.sig".into()),
        ..VerifyOptions::default()
    }
}

#[test]
fn a_chain_to_a_trusted_root_is_trusted_and_to_another_root_untrusted() {
    let (_tmp, model) = model_copy();
    let c = chain(vec![KeyUsagePurpose::DigitalSignature]);
    sign_with_chain(&model, &c);
    let v = verify_opts(&model, &opts(vec![c.root.clone()]));
    assert_eq!(v.trust, Trust::Trusted, "{}", v.reason);
    assert_eq!(v.method, "certificate");
    assert!(v.signer.contains("Test Model Publisher"), "{}", v.signer);

    let other = chain(vec![KeyUsagePurpose::DigitalSignature]);
    let v = verify_opts(&model, &opts(vec![other.root]));
    assert_eq!(v.trust, Trust::Untrusted);
    assert!(v.reason.contains("no trusted root"), "{}", v.reason);

    let v = verify_opts(&model, &opts(Vec::new()));
    assert_eq!(v.trust, Trust::Untrusted);
    assert!(v.reason.contains("--trust"), "{}", v.reason);

    // A changed model under a trusted chain is tampered.
    std::fs::write(model.join("README.md"), "rewritten").unwrap();
    assert_eq!(
        verify_opts(&model, &opts(vec![c.root])).trust,
        Trust::Tampered
    );
}

#[test]
fn a_leaf_that_may_not_sign_breaks_the_chain() {
    let (_tmp, model) = model_copy();
    let c = chain(vec![KeyUsagePurpose::KeyEncipherment]);
    sign_with_chain(&model, &c);
    let v = verify_opts(&model, &opts(vec![c.root]));
    assert_eq!(v.trust, Trust::Tampered);
    assert!(v.reason.contains("may not sign"), "{}", v.reason);
}

#[test]
fn a_chain_whose_leaf_is_not_the_key_is_refused_at_signing() {
    let (_tmp, model) = model_copy();
    let c = chain(vec![KeyUsagePurpose::DigitalSignature]);
    let other = chain(vec![KeyUsagePurpose::DigitalSignature]);
    let manifest = Manifest::of_model(&model, &HashOptions::default()).unwrap();
    let err = tracemark_model::sign(&manifest, &other.key, Some(&c.chain)).unwrap_err();
    assert!(err.to_string().contains("not the signing key's"), "{err}");
}

#[test]
fn a_chain_of_rsa_cas_over_an_ecdsa_signer_is_checked() {
    // CAs sign with RSA as often as not (model_signing's own test chain does); the
    // signing key stays ECDSA.
    use rsa::pkcs8::EncodePrivateKey;
    let rsa_key = || {
        let key = rsa::RsaPrivateKey::new(&mut rand_core::OsRng, 2048).unwrap();
        let pem = key.to_pkcs8_pem(rsa::pkcs8::LineEnding::LF).unwrap();
        KeyPair::from_pem_and_sign_algo(&pem, &rcgen::PKCS_RSA_SHA256).unwrap()
    };
    let root = CertifiedIssuer::self_signed(ca("RSA Root"), rsa_key()).unwrap();
    let intermediate =
        CertifiedIssuer::signed_by(ca("RSA Intermediate"), rsa_key(), &root).unwrap();
    let leaf_key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P384_SHA384).unwrap();
    let mut leaf = CertificateParams::default();
    leaf.distinguished_name
        .push(DnType::CommonName, "ECDSA Publisher");
    leaf.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    let leaf = leaf.signed_by(&leaf_key, &intermediate).unwrap();
    let c = Chain {
        root: Cert::all_from_pem(root.pem().as_bytes(), "root")
            .unwrap()
            .remove(0),
        chain: Cert::all_from_pem(
            format!("{}{}", leaf.pem(), intermediate.pem()).as_bytes(),
            "chain",
        )
        .unwrap(),
        key: SigningKey::from_pem(leaf_key.serialize_pem().as_bytes(), "leaf").unwrap(),
    };
    let (_tmp, model) = model_copy();
    sign_with_chain(&model, &c);
    let v = verify_opts(&model, &opts(vec![c.root.clone()]));
    assert_eq!(v.trust, Trust::Trusted, "{}", v.reason);
    // The intermediate replaced by another of the same name: its RSA signature fails.
    let impostor = CertifiedIssuer::signed_by(ca("RSA Intermediate"), rsa_key(), &root).unwrap();
    let mut forged = c.chain.clone();
    forged[1] = Cert::all_from_pem(impostor.pem().as_bytes(), "impostor")
        .unwrap()
        .remove(0);
    let bundle_path = model.join("model.sig");
    let mut bundle =
        tracemark_model::Bundle::parse(&std::fs::read(&bundle_path).unwrap(), "model.sig").unwrap();
    bundle.material = tracemark_model::bundle::Material::Chain {
        certificates: forged.iter().map(|c| c.der.clone()).collect(),
    };
    std::fs::write(&bundle_path, bundle.to_json()).unwrap();
    let v = verify_opts(&model, &opts(vec![c.root]));
    assert_eq!(v.trust, Trust::Tampered);
    assert!(v.reason.contains("is not signed by"), "{}", v.reason);
}
