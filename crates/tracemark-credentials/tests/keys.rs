//! Real PEM keys and certificates made by OpenSSL (not by our own generator): PKCS#8
//! Ed25519 and P-256 keys with a root → intermediate → leaf chain. Skipped with a note
//! when the `openssl` command is missing (a failure under `CI=true`).

mod common;

use std::{os::unix::fs::PermissionsExt, path::Path, process::Command};

use common::{TEXT_1K, spec};
use tracemark_core::fact::CredentialState;
use tracemark_credentials::{
    CredentialError, SignOptions, SigningAlgorithm, SigningKey, TrustAnchors, Verifier,
    sign_sidecar, sign_text_embedded,
};

const EXT: &str = "[ca]
basicConstraints=critical,CA:TRUE
keyUsage=critical,keyCertSign,cRLSign
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid
[leaf]
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=emailProtection
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid
";

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Makes root.pem, chain.pem (leaf + intermediate) and leaf.key in `dir`.
fn make_chain(dir: &Path, keygen: &[&str]) {
    std::fs::write(dir.join("ext.cnf"), EXT).unwrap();
    for name in ["root", "int", "leaf"] {
        let mut args = vec!["genpkey"];
        args.extend_from_slice(keygen);
        let out = format!("{name}.key");
        args.extend(["-out", &out]);
        openssl(dir, &args);
    }
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-new",
            "-key",
            "root.key",
            "-subj",
            "/CN=OpenSSL Root/O=Test",
            "-days",
            "30",
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
            "-out",
            "root.pem",
        ],
    );
    openssl(
        dir,
        &[
            "req",
            "-new",
            "-key",
            "int.key",
            "-subj",
            "/CN=OpenSSL Intermediate/O=Test",
            "-out",
            "int.csr",
        ],
    );
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "int.csr",
            "-CA",
            "root.pem",
            "-CAkey",
            "root.key",
            "-CAcreateserial",
            "-days",
            "20",
            "-extfile",
            "ext.cnf",
            "-extensions",
            "ca",
            "-out",
            "int.pem",
        ],
    );
    openssl(
        dir,
        &[
            "req",
            "-new",
            "-key",
            "leaf.key",
            "-subj",
            "/CN=OpenSSL Signer/O=Test",
            "-out",
            "leaf.csr",
        ],
    );
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "leaf.csr",
            "-CA",
            "int.pem",
            "-CAkey",
            "int.key",
            "-CAcreateserial",
            "-days",
            "10",
            "-extfile",
            "ext.cnf",
            "-extensions",
            "leaf",
            "-out",
            "leaf.pem",
        ],
    );
    let chain = std::fs::read_to_string(dir.join("leaf.pem")).unwrap()
        + &std::fs::read_to_string(dir.join("int.pem")).unwrap();
    std::fs::write(dir.join("chain.pem"), chain).unwrap();
    std::fs::set_permissions(dir.join("leaf.key"), std::fs::Permissions::from_mode(0o600)).unwrap();
}

#[test]
fn imports_openssl_pkcs8_keys_and_chains() {
    if !tracemark_testkit::command_or_skip("openssl", "version") {
        return;
    }
    for (keygen, alg) in [
        (&["-algorithm", "ed25519"][..], SigningAlgorithm::Ed25519),
        (
            &["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"][..],
            SigningAlgorithm::Es256,
        ),
    ] {
        let dir = tempfile::tempdir().unwrap();
        make_chain(dir.path(), keygen);
        let key =
            SigningKey::from_files(&dir.path().join("chain.pem"), &dir.path().join("leaf.key"))
                .unwrap();
        assert_eq!(key.algorithm(), alg);
        assert_eq!(key.subject(), "OpenSSL Signer");
        assert!(!format!("{key:?}").contains("PRIVATE"));
        let anchors = TrustAnchors::from_file(&dir.path().join("root.pem")).unwrap();
        let verifier = Verifier::with_trust_anchors(anchors);
        let store =
            sign_sidecar(TEXT_1K.as_bytes(), &key, &spec(), &SignOptions::default()).unwrap();
        let r = verifier
            .verify_sidecar(TEXT_1K.as_bytes(), &store, "text/plain")
            .unwrap();
        assert_eq!(r.state, CredentialState::Trusted, "{alg}: {r:#?}");
        assert_eq!(
            r.signer.unwrap().common_name.as_deref(),
            Some("OpenSSL Signer")
        );
        let signed = sign_text_embedded(TEXT_1K, &key, &spec(), &SignOptions::default()).unwrap();
        assert_eq!(
            verifier.verify_text(&signed.text).unwrap().state,
            CredentialState::Trusted
        );

        // A key readable by others is refused (the key-file rule for secrets).
        std::fs::set_permissions(
            dir.path().join("leaf.key"),
            std::fs::Permissions::from_mode(0o644),
        )
        .unwrap();
        let err =
            SigningKey::from_files(&dir.path().join("chain.pem"), &dir.path().join("leaf.key"))
                .unwrap_err();
        assert!(matches!(err, CredentialError::KeyFile(_)), "{err}");
        // Another key with this chain is refused.
        std::fs::set_permissions(
            dir.path().join("int.key"),
            std::fs::Permissions::from_mode(0o600),
        )
        .unwrap();
        let err =
            SigningKey::from_files(&dir.path().join("chain.pem"), &dir.path().join("int.key"))
                .unwrap_err();
        assert!(
            matches!(err, CredentialError::KeyCertificateMismatch { .. }),
            "{err}"
        );
    }
}
