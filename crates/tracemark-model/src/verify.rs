//! Verification (§8): the bundle read, its signature checked under the key or the roots
//! the user chose, the statement read from the payload's exact bytes, and the model
//! re-hashed as the statement records it; every signed file must match, none be
//! missing, and no unsigned file be present unless allowed (§8.5).
//!
//! The outcome is Tracemark's trust vocabulary: `trusted` when every check holds under a
//! key or root the user chose; `untrusted` when what could be checked holds but the
//! signer is not one the user chose (no `--key` or `--trust`, or another key); `tampered`
//! when a check fails, named in the reason. Without a key or roots it is never `trusted`.

use std::{
    collections::{BTreeMap, BTreeSet},
    path::Path,
};

use serde::Serialize;

use crate::{
    bundle::{Bundle, Material, pae, pae_v020},
    digest::Method,
    error::{ModelError, Result},
    keys::VerifyingKey,
    manifest::{HashOptions, Manifest, Predicate},
    walk::{self, Exclusions},
    x509::{Cert, ChainOutcome, check_chain},
};

/// What a verifier concludes (the order is the severity).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Trust {
    Trusted,
    Untrusted,
    Tampered,
}

impl Trust {
    pub fn code(self) -> &'static str {
        match self {
            Trust::Trusted => "trusted",
            Trust::Untrusted => "untrusted",
            Trust::Tampered => "tampered",
        }
    }
}

/// One check and its outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    pub check: &'static str,
    pub outcome: Trust,
    pub detail: String,
}

fn check(check: &'static str, outcome: Trust, detail: impl Into<String>) -> Check {
    Check {
        check,
        outcome,
        detail: detail.into(),
    }
}

/// What to verify with.
#[derive(Debug, Clone, Default)]
pub struct VerifyOptions {
    /// The public key the user trusts (`--key`).
    pub key: Option<VerifyingKey>,
    /// The root certificates the user trusts (`--trust`).
    pub roots: Vec<Cert>,
    /// Files present but not signed do not fail verification (`--ignore-unsigned-files`).
    pub ignore_unsigned: bool,
    /// Paths (relative to the model root) left out besides those the bundle records.
    pub ignore_paths: Vec<String>,
    /// The signature file's name relative to the model root, when it lies inside it.
    pub signature_name: Option<String>,
    /// Include `.git` and friends (off: they are excluded, as signers exclude them).
    pub include_git: bool,
}

/// A verification's result.
#[derive(Debug, Clone, Serialize)]
pub struct Verification {
    pub trust: Trust,
    /// The first check with the concluding outcome, as `check: detail`.
    pub reason: String,
    pub checks: Vec<Check>,
    /// `key`, `certificate` or `sigstore`.
    pub method: &'static str,
    /// Who signed, as far as the bundle says: the key's hint or the certificate subject.
    pub signer: String,
    /// `sha256:HEX`: the manifest's root digest (the subject's, for v1.0 statements).
    pub root_digest: String,
    pub model_name: String,
    pub serialization: String,
    pub resources: usize,
    pub predicate_type: &'static str,
}

fn signature_holds(key: &VerifyingKey, bundle: &Bundle) -> bool {
    let current = pae(&bundle.payload_type, &bundle.payload);
    let old = pae_v020(&bundle.payload_type, &bundle.payload);
    let old_sha256 = <sha2::Sha256 as sha2::Digest>::digest(&old);
    bundle.signatures.iter().any(|sig| {
        key.verify(&current, sig) || key.verify(&old, sig) || key.verify_digest(&old_sha256, sig)
    })
}

/// Verifies the model at `model` against the bundle `bundle_bytes` (`source` names it).
pub fn verify(
    model: &Path,
    bundle_bytes: &[u8],
    source: &str,
    options: &VerifyOptions,
) -> Result<Verification> {
    verify_inner(Some(model), bundle_bytes, source, options)
}

/// Verifies the bundle alone, without the model's files: its signature under the key or
/// roots the user chose and its statement (the subject's root digest against the
/// resources). What the signature says of the weights holds only for weights that hash
/// to its root digest, which this does not check (the `files` check says so); `tampered`
/// still means the bundle itself was altered.
pub fn verify_statement(
    bundle_bytes: &[u8],
    source: &str,
    options: &VerifyOptions,
) -> Result<Verification> {
    verify_inner(None, bundle_bytes, source, options)
}

fn verify_inner(
    model: Option<&Path>,
    bundle_bytes: &[u8],
    source: &str,
    options: &VerifyOptions,
) -> Result<Verification> {
    let bundle = Bundle::parse(bundle_bytes, source)?;
    let mut checks = Vec::new();
    let signer = signature_checks(&bundle, source, options, &mut checks)?;
    let manifest = Manifest::from_statement(&bundle.payload, source)?;
    let listed_root = manifest.root_digest();
    if let Some(stated) = manifest.stated_root
        && stated != listed_root
    {
        checks.push(check(
            "manifest",
            Trust::Tampered,
            format!(
                "the resources hash to sha256:{}, but the statement's subject says sha256:{}",
                hex::encode(listed_root),
                hex::encode(stated)
            ),
        ));
    }
    if let Some(model) = model {
        checks.push(model_check(model, &manifest, options)?);
    }
    let trust = checks
        .iter()
        .map(|c| c.outcome)
        .max()
        .unwrap_or(Trust::Untrusted);
    let reason = checks.iter().find(|c| c.outcome == trust).map_or_else(
        || "nothing was checked".to_owned(),
        |c| format!("{}: {}", c.check, c.detail),
    );
    let s = &manifest.serialization;
    let serialization = match s.method {
        Method::Files => format!("files, {}", s.hash.name()),
        Method::Shards { shard_size } => format!("shards of {shard_size} bytes, {}", s.hash.name()),
    };
    Ok(Verification {
        trust,
        reason,
        checks,
        method: bundle.material.method(),
        signer,
        root_digest: format!(
            "sha256:{}",
            hex::encode(manifest.stated_root.unwrap_or(listed_root))
        ),
        model_name: manifest.model_name.clone(),
        serialization,
        resources: manifest.resources.len(),
        predicate_type: match manifest.predicate {
            Predicate::V1 => crate::manifest::PREDICATE_TYPE,
            Predicate::V01 => crate::manifest::PREDICATE_TYPE_V01,
        },
    })
}

/// The signature and signer checks; gives who signed.
fn signature_checks(
    bundle: &Bundle,
    source: &str,
    options: &VerifyOptions,
    checks: &mut Vec<Check>,
) -> Result<String> {
    match &bundle.material {
        Material::Key { hint, .. } => {
            let embedded = bundle.material.embedded_key(source).transpose()?;
            let signer = hint
                .clone()
                .or_else(|| embedded.as_ref().map(VerifyingKey::hint))
                .map_or_else(|| "an unnamed key".to_owned(), |h| format!("key {h}"));
            match &options.key {
                Some(key) => {
                    let given = key.hint();
                    if hint.as_ref().is_some_and(|h| *h != given) {
                        checks.push(check(
                            "signer",
                            Trust::Untrusted,
                            format!("signed by another key: the bundle names key {}, the given key is {given}", hint.as_deref().unwrap_or_default()),
                        ));
                    } else if signature_holds(key, bundle) {
                        checks.push(check(
                            "signature",
                            Trust::Trusted,
                            format!("verifies under the given {} key {given}", key.curve().name()),
                        ));
                    } else if let Some(own) = embedded.filter(|own| own != key && signature_holds(own, bundle)) {
                        checks.push(check(
                            "signer",
                            Trust::Untrusted,
                            format!("signed by another key: {}, not the given key {given}", own.hint()),
                        ));
                    } else {
                        checks.push(check(
                            "signature",
                            Trust::Tampered,
                            format!("does not verify under the given key {given}: the signed statement or the signature was altered"),
                        ));
                    }
                }
                None => match embedded {
                    Some(own) if signature_holds(&own, bundle) => checks.push(check(
                        "signer",
                        Trust::Untrusted,
                        format!("the signature verifies under the key the bundle carries ({}), which you did not choose: give --key PUB.pem", own.hint()),
                    )),
                    Some(_) => checks.push(check(
                        "signature",
                        Trust::Tampered,
                        "does not verify under the key the bundle carries",
                    )),
                    None => checks.push(check(
                        "signer",
                        Trust::Untrusted,
                        format!(
                            "not checked: the bundle names its key only by hint {}; give the public key with --key PUB.pem",
                            hint.as_deref().unwrap_or_default()
                        ),
                    )),
                },
            }
            Ok(signer)
        }
        Material::Chain { certificates } => {
            let chain = certificates
                .iter()
                .map(|c| Cert::from_der(c, source))
                .collect::<Result<Vec<_>>>()?;
            let leaf_key = chain[0].key(source)?;
            let signer = chain[0].subject();
            if !signature_holds(&leaf_key, bundle) {
                checks.push(check(
                    "signature",
                    Trust::Tampered,
                    format!("does not verify under the signing certificate's key (`{signer}`)"),
                ));
                return Ok(signer);
            }
            if options.key.as_ref() == Some(&leaf_key) {
                checks.push(check(
                    "signature",
                    Trust::Trusted,
                    format!("verifies under the given key, the signing certificate's (`{signer}`)"),
                ));
            } else if options.roots.is_empty() {
                checks.push(check(
                    "signer",
                    Trust::Untrusted,
                    format!("the signature verifies under `{signer}`, whose chain was not checked: give its root with --trust ROOTS.pem"),
                ));
            } else {
                checks.push(match check_chain(&chain, &options.roots) {
                    ChainOutcome::Trusted { root } => check(
                        "signer",
                        Trust::Trusted,
                        format!("`{signer}`, certified by the trusted root `{root}`"),
                    ),
                    ChainOutcome::NotTrusted(why) => check("signer", Trust::Untrusted, why),
                    ChainOutcome::Broken(why) => check("chain", Trust::Tampered, why),
                });
            }
            Ok(signer)
        }
        Material::Sigstore {
            certificate,
            tlog_entries,
            ..
        } => {
            let cert = Cert::from_der(certificate, source)?;
            let key = cert.key(source)?;
            let signer = cert.subject();
            if signature_holds(&key, bundle) {
                checks.push(check(
                    "signer",
                    Trust::Untrusted,
                    format!("a keyless Sigstore signature (Fulcio certificate, {tlog_entries} Rekor entries): its signature holds, but Sigstore's identities and log are not verified here; verify it with model_signing's sigstore method"),
                ));
            } else {
                checks.push(check(
                    "signature",
                    Trust::Tampered,
                    "does not verify under the bundle's Fulcio certificate",
                ));
            }
            Ok(signer)
        }
    }
}

/// Re-hashes the model as the manifest records it and compares.
fn model_check(model: &Path, manifest: &Manifest, options: &VerifyOptions) -> Result<Check> {
    let s = &manifest.serialization;
    let mut exclusions = Exclusions {
        git: !options.include_git,
        paths: BTreeSet::new(),
    };
    for p in s.ignore_paths.iter().flatten() {
        exclusions.paths.insert(p.clone());
    }
    for p in &options.ignore_paths {
        exclusions.add(p)?;
    }
    if let Some(sig) = &options.signature_name {
        exclusions.add(sig)?;
    }
    let single_file = std::fs::metadata(model)
        .map_err(|e| ModelError::io("read", model, e))?
        .is_file();
    // A single-file model's resource is its file name, or `.` (model_signing 0.3–1.0).
    let own_name = |name: &str| -> String {
        if single_file && name == "." {
            crate::manifest::model_name(model)
        } else {
            name.to_owned()
        }
    };
    let mut expected: BTreeMap<String, &[u8]> = BTreeMap::new();
    for r in &manifest.resources {
        let name = match s.method {
            Method::Files => own_name(&r.name),
            Method::Shards { .. } => match split_shard(&r.name) {
                Some((path, start, end)) => format!("{}:{start}:{end}", own_name(path)),
                None => {
                    return Ok(check(
                        "manifest",
                        Trust::Tampered,
                        format!("`{}` is not a shard name (path:start:end)", r.name),
                    ));
                }
            },
        };
        if expected.insert(name, &r.digest).is_some() {
            return Ok(check(
                "manifest",
                Trust::Tampered,
                format!("`{}` is listed twice", r.name),
            ));
        }
    }
    let entries = match walk::enumerate(model, &exclusions, s.allow_symlinks) {
        Ok(e) => e,
        Err(e) if e.is_content() => return Ok(check("files", Trust::Tampered, e.to_string())),
        Err(e) => return Err(e),
    };
    let entries: Vec<_> = if options.ignore_unsigned {
        let signed_files: BTreeSet<&str> = expected
            .keys()
            .map(|n| match s.method {
                Method::Files => n.as_str(),
                Method::Shards { .. } => split_shard(n).map_or(n.as_str(), |(p, _, _)| p),
            })
            .collect();
        entries
            .into_iter()
            .filter(|e| signed_files.contains(e.name.as_str()))
            .collect()
    } else {
        entries
    };
    let hash_options = HashOptions {
        method: s.method,
        hash: s.hash,
        exclusions,
        allow_symlinks: s.allow_symlinks,
    };
    let actual = match Manifest::of_entries(model, &entries, &hash_options) {
        Ok(m) => m,
        Err(e) if e.is_content() => return Ok(check("files", Trust::Tampered, e.to_string())),
        Err(e) => return Err(e),
    };
    let actual: BTreeMap<&str, &[u8]> = actual
        .resources
        .iter()
        .map(|r| (r.name.as_str(), r.digest.as_slice()))
        .collect();
    let mut problems = Vec::new();
    for (name, digest) in &expected {
        match actual.get(name.as_str()) {
            None => problems.push(format!("`{name}` is signed but missing")),
            Some(d) if d != digest => problems.push(format!(
                "`{name}` changed (its digest differs from the signed one)"
            )),
            Some(_) => {}
        }
    }
    for name in actual.keys() {
        if !expected.contains_key(*name) {
            problems.push(format!(
                "`{name}` is not signed (a file added since signing; --ignore-unsigned-files allows it)"
            ));
        }
    }
    Ok(if problems.is_empty() {
        check(
            "files",
            Trust::Trusted,
            format!(
                "{} signed {} match the model",
                expected.len(),
                if matches!(s.method, Method::Files) {
                    "files"
                } else {
                    "shards"
                }
            ),
        )
    } else {
        let n = problems.len();
        let mut detail = problems.into_iter().take(5).collect::<Vec<_>>().join("; ");
        if n > 5 {
            detail.push_str(&format!("; and {} more", n - 5));
        }
        check("files", Trust::Tampered, detail)
    })
}

/// `path:start:end` split on its last two colons.
fn split_shard(name: &str) -> Option<(&str, u64, u64)> {
    let (rest, end) = name.rsplit_once(':')?;
    let (path, start) = rest.rsplit_once(':')?;
    Some((path, start.parse().ok()?, end.parse().ok()?))
}
