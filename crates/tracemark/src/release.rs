//! Signed model releases: OpenSSF Model Signing (`tracemark-model`, re-exported as
//! [`crate::oms`]) joined to Tracemark's files and trust rule. A model is signed with a
//! key read through the key-file rules (a secret with loose permissions is refused), and
//! verified to the trust vocabulary of every verifier ([`crate::trust`]): `trusted` only
//! under a key or a root the user gave.

use std::path::{Path, PathBuf};

use serde_json::Value;
use tracemark_core::keyfile::{self, Replace, Secrecy};
use tracemark_model::{
    Cert, HashOptions, Manifest, SIGNATURE_FILE, SigningKey, Verification, VerifyOptions,
    VerifyingKey,
    bom::{ModelCard, SignatureRef},
};

use crate::{
    Result,
    trust::{Check, Conclusion, Trust},
};

/// Where a model's signature lives by default: `model.sig` inside a model directory,
/// beside a single-file model.
pub fn default_signature(model: &Path) -> PathBuf {
    if model.is_dir() {
        model.join(SIGNATURE_FILE)
    } else {
        model
            .parent()
            .unwrap_or(Path::new("."))
            .join(SIGNATURE_FILE)
    }
}

/// What a model's identity leaves out besides the default exclusions and its signature:
/// for a corpus model, what is written into its index after the release (its withdrawal
/// lists, and the note of where its collection is logged), the log recording each
/// withdrawal on its own.
fn index_exclusions(model: &Path) -> Result<Vec<String>> {
    match crate::model::ModelSource::at(model) {
        crate::model::ModelSource::Corpus(dir) => {
            let mut names = tracemark_trace::index::withdrawal_lists(&dir)?;
            names.push(crate::collection::COLLECTION_LOG_FILE.to_owned());
            Ok(names)
        }
        crate::model::ModelSource::Path(_) => Ok(Vec::new()),
    }
}

/// What a model is called: a model directory's name, or the corpus model's name for its
/// index (as records name it, not by the index's folder).
fn model_name(model: &Path) -> String {
    match crate::model::ModelSource::at(model) {
        crate::model::ModelSource::Corpus(_) => crate::model::corpus_model_name(),
        crate::model::ModelSource::Path(path) => tracemark_model::manifest::model_name(&path),
    }
}

/// The signature's canonical name relative to the model directory, when it lies inside.
fn name_inside(model: &Path, signature: &Path) -> Option<String> {
    if !model.is_dir() {
        return None;
    }
    let root = std::fs::canonicalize(model).ok()?;
    let parent = match signature.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let dir = std::fs::canonicalize(parent).ok()?;
    let rel = dir.strip_prefix(&root).ok()?.join(signature.file_name()?);
    let parts: Option<Vec<&str>> = rel.components().map(|c| c.as_os_str().to_str()).collect();
    Some(parts?.join("/"))
}

/// A signed model.
#[derive(Debug)]
pub struct Signed {
    pub signature: PathBuf,
    pub manifest: Manifest,
    /// `key` or `certificate`.
    pub method: &'static str,
    /// The key's hint, or the signing certificate's subject.
    pub signer: String,
}

/// Signs the model at `model` with the private key at `key` (PEM, ECDSA P-256/384/521,
/// mode 0600), the certificate chain at `cert` (leaf first) when given, and writes the
/// bundle to `signature` (default: [`default_signature`]).
pub fn sign(
    model: &Path,
    key: &Path,
    cert: Option<&Path>,
    mut options: HashOptions,
    signature: Option<&Path>,
) -> Result<Signed> {
    let pem = keyfile::read_file(key, Secrecy::Secret)?;
    let key = SigningKey::from_pem(&pem, &key.display().to_string())?;
    let chain = match cert {
        Some(path) => {
            let bytes = keyfile::read_file(path, Secrecy::Public)?;
            Some(Cert::all_from_pem(&bytes, &path.display().to_string())?)
        }
        None => None,
    };
    let signature = signature.map_or_else(|| default_signature(model), Path::to_owned);
    if let Some(name) = name_inside(model, &signature) {
        options.exclusions.add(&name)?;
    }
    for name in index_exclusions(model)? {
        options.exclusions.add(&name)?;
    }
    let manifest = Manifest::of_model(model, &options)?;
    let bundle = tracemark_model::sign(&manifest, &key, chain.as_deref())?;
    keyfile::write_file(&signature, &bundle.to_json(), Secrecy::Public, Replace::Yes)?;
    let signer = match &chain {
        Some(chain) => chain[0].subject(),
        None => format!("key {}", key.verifying_key().hint()),
    };
    Ok(Signed {
        signature,
        manifest,
        method: bundle.material.method(),
        signer,
    })
}

/// Bundles larger than this are refused before they are read (a manifest of a million
/// shards is some 150 MB).
pub const MAX_SIGNATURE_BYTES: u64 = 256 << 20;

fn read_signature(path: &Path) -> Result<Vec<u8>> {
    use std::io::Read;
    let io = |source| crate::Error::Io {
        action: "read the signature",
        path: path.to_owned(),
        source,
    };
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .map_err(io)?
        .take(MAX_SIGNATURE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(io)?;
    if bytes.len() as u64 > MAX_SIGNATURE_BYTES {
        return Err(crate::Error::input(
            format!(
                "{} is over {} MiB: not a model signature",
                path.display(),
                MAX_SIGNATURE_BYTES >> 20
            ),
            None,
        ));
    }
    Ok(bytes)
}

/// What to verify a model with.
#[derive(Debug, Clone, Default)]
pub struct VerifyRequest<'a> {
    /// The signature file (default: [`default_signature`]).
    pub signature: Option<&'a Path>,
    /// The signer's public key (PEM).
    pub key: Option<&'a Path>,
    /// Files of trusted root certificates (PEM).
    pub trust: &'a [PathBuf],
    pub ignore_unsigned: bool,
    pub ignore_paths: &'a [String],
    /// Hash `.git` and friends too (for models signed with them).
    pub include_git: bool,
}

/// A verified model: the OMS result and its conclusion under the trust rule.
#[derive(Debug, Clone)]
pub struct Verified {
    pub signature: PathBuf,
    pub verification: Verification,
    pub conclusion: Conclusion,
}

/// Verifies the model at `model` against its signature.
pub fn verify(model: &Path, request: &VerifyRequest<'_>) -> Result<Verified> {
    let signature = request
        .signature
        .map_or_else(|| default_signature(model), Path::to_owned);
    let bundle = read_signature(&signature)?;
    let key = match request.key {
        Some(path) => {
            let bytes = keyfile::read_file(path, Secrecy::Public)?;
            Some(VerifyingKey::from_pem(&bytes, &path.display().to_string())?)
        }
        None => None,
    };
    let mut roots = Vec::new();
    for path in request.trust {
        let bytes = keyfile::read_file(path, Secrecy::Public)?;
        roots.extend(Cert::all_from_pem(&bytes, &path.display().to_string())?);
    }
    let options = VerifyOptions {
        key,
        roots,
        ignore_unsigned: request.ignore_unsigned,
        ignore_paths: request.ignore_paths.to_vec(),
        signature_name: name_inside(model, &signature),
        include_git: request.include_git,
    };
    let verification =
        tracemark_model::verify(model, &bundle, &signature.display().to_string(), &options)?;
    let conclusion = conclusion_of(&verification);
    Ok(Verified {
        signature,
        verification,
        conclusion,
    })
}

/// The OMS verification's checks under the one trust rule.
fn conclusion_of(verification: &Verification) -> Conclusion {
    Conclusion::from_checks(
        verification
            .checks
            .iter()
            .map(|c| {
                let outcome = match c.outcome {
                    tracemark_model::Trust::Trusted => Trust::Trusted,
                    tracemark_model::Trust::Untrusted => Trust::Untrusted,
                    tracemark_model::Trust::Tampered => Trust::Tampered,
                };
                Check::new(c.check, outcome, c.detail.clone())
            })
            .collect(),
    )
}

/// Where a model's signature is and whom to trust for it: the configuration's `[model]`
/// (`signature`, `trusted_keys`, `trusted_roots`), or a command's flags.
#[derive(Debug, Clone, Copy, Default)]
pub struct ModelTrust<'a> {
    /// The signature file; `None`: [`default_signature`], and a model without one is
    /// unsigned. A signature named here must exist.
    pub signature: Option<&'a Path>,
    /// Public keys (PEM) trusted to sign models (the `key` method, or a certificate's
    /// key).
    pub keys: &'a [PathBuf],
    /// Root certificates (PEM) trusted for the `certificate` method's chains.
    pub roots: &'a [PathBuf],
}

impl<'a> ModelTrust<'a> {
    /// The configuration's.
    pub fn configured(model: &'a crate::config::ModelConfig) -> Self {
        Self {
            signature: model.signature.as_deref(),
            keys: &model.trusted_keys,
            roots: &model.trusted_roots,
        }
    }
}

/// A signed model's identity, established once (its weights hashed) when the model is
/// loaded: the digest generation records and credentials name it by, and its signature's
/// outcome under the trust rule.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ModelIdentity {
    /// The model directory's (or file's) name.
    pub name: String,
    /// `sha256:HEX`: the model's identity (OMS root digest, `files`, SHA-256, default
    /// exclusions) of the weights as they are.
    pub digest: tracemark_core::ContentHash,
    /// The signature file.
    pub signature: PathBuf,
    /// Whether the weights were hashed (the model given), or only the signature read
    /// (the digest is then the one it signs).
    pub weights_checked: bool,
    /// `trusted`, `untrusted` or `tampered` (the weights or the bundle do not match),
    /// with every check.
    pub conclusion: Conclusion,
    /// The key's hint, or the signing certificate's subject.
    pub signer: String,
    /// `key`, `certificate` or `sigstore`.
    pub signing_method: &'static str,
    /// The root digest the signature states, and how it hashed the model.
    pub signed_root: String,
    pub serialization: String,
}

impl ModelIdentity {
    /// `sha256:` and the first 16 hex digits: for a line a person reads.
    pub fn short(&self) -> String {
        short_digest(&self.digest)
    }
}

/// `sha256:` and the first 16 hex digits of a digest.
pub fn short_digest(digest: &tracemark_core::ContentHash) -> String {
    format!("sha256:{}…", &digest.to_hex()[..16])
}

/// What a model is, as far as its signature goes.
#[derive(Debug, Clone)]
pub enum Identified {
    /// No signature at the default place: the model's identity is not established (its
    /// records stay v1).
    Unsigned { signature: PathBuf },
    /// Signed: its identity and the signature's outcome (which may be `tampered`).
    Signed(Box<ModelIdentity>),
}

/// The identity of the model at `model`, from its signature under `trust`: hashes the
/// weights once (twice only when the signature's serialisation is not the identity's:
/// shards, BLAKE3, or paths left out). Without `model`, the signature alone
/// (`trust.signature`) is checked: its signer and statement, and the root digest it signs
/// is taken as the identity (the weights are not hashed: [`ModelIdentity::weights_checked`]
/// is false). A signature that cannot be read as one (a malformed, truncated or foreign
/// bundle) is an error naming why; one that does not match the weights is
/// [`Identified::Signed`] with the outcome `tampered`.
pub fn identify(model: Option<&Path>, trust: &ModelTrust<'_>) -> Result<Identified> {
    let signature = match (trust.signature, model) {
        (Some(s), _) => s.to_owned(),
        (None, Some(model)) => default_signature(model),
        (None, None) => {
            return Err(crate::Error::usage(
                "no model and no model signature to check",
                Some("give the model directory, or its signature (model.sig)".into()),
            ));
        }
    };
    match std::fs::symlink_metadata(&signature) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && trust.signature.is_none() => {
            return Ok(Identified::Unsigned { signature });
        }
        Err(source) => {
            return Err(crate::Error::Io {
                action: "read the model signature",
                path: signature,
                source,
            });
        }
        Ok(_) => {}
    }
    let bytes = read_signature(&signature)?;
    let source = signature.display().to_string();
    let bundle = tracemark_model::Bundle::parse(&bytes, &source)?;
    let mut keys = Vec::new();
    for path in trust.keys {
        let pem = keyfile::read_file(path, Secrecy::Public)?;
        keys.push(VerifyingKey::from_pem(&pem, &path.display().to_string())?);
    }
    let mut roots = Vec::new();
    for path in trust.roots {
        let pem = keyfile::read_file(path, Secrecy::Public)?;
        roots.extend(Cert::all_from_pem(&pem, &path.display().to_string())?);
    }
    let key = choose_key(&bundle, &source, keys);
    let signature_name = model.and_then(|m| name_inside(m, &signature));
    let options = VerifyOptions {
        key,
        roots,
        ignore_unsigned: false,
        ignore_paths: Vec::new(),
        signature_name: signature_name.clone(),
        include_git: false,
    };
    let verification = match model {
        Some(model) => tracemark_model::verify(model, &bytes, &source, &options)?,
        None => tracemark_model::verify_statement(&bytes, &source, &options)?,
    };
    let conclusion = conclusion_of(&verification);
    let manifest = Manifest::from_statement(&bundle.payload, &source)?;
    // The signed root is the identity when the signature hashed the model as the identity
    // does (and, with the model given, verification re-hashed every file to it).
    let s = &manifest.serialization;
    let git = [".git", ".gitattributes", ".github", ".gitignore"];
    let index_lists = match model {
        Some(model) => index_exclusions(model)?,
        None => Vec::new(),
    };
    let same_serialisation = s.method == tracemark_model::Method::Files
        && s.hash == tracemark_model::HashType::Sha256
        && s.ignore_paths.iter().flatten().all(|p| {
            git.contains(&p.as_str())
                || p == SIGNATURE_FILE
                || signature_name.as_deref() == Some(p.as_str())
                || index_lists.contains(p)
        });
    let digest = match model {
        _ if same_serialisation && conclusion.trust != Trust::Tampered => {
            verification.root_digest.clone()
        }
        Some(model) => {
            Manifest::of_model(model, &identity_options(model, signature_name.as_deref())?)?
                .root_digest_id()
        }
        None if conclusion.trust == Trust::Tampered => verification.root_digest.clone(),
        None => {
            return Err(crate::Error::input(
                format!(
                    "{source} signs the model hashed as {} (ignoring {:?}), not as its identity \
                     (files, sha256, the default exclusions): the identity cannot be read from \
                     the signature alone",
                    verification.serialization,
                    s.ignore_paths.clone().unwrap_or_default()
                ),
                Some("give the model directory too, so that its weights are hashed".into()),
            ));
        }
    };
    let digest = digest
        .parse()
        .map_err(|e| crate::Error::input(format!("the model's identity: {e}"), None))?;
    Ok(Identified::Signed(Box::new(ModelIdentity {
        name: model.map_or_else(|| verification.model_name.clone(), model_name),
        digest,
        signature,
        weights_checked: model.is_some(),
        signer: verification.signer.clone(),
        signing_method: verification.method,
        signed_root: verification.root_digest.clone(),
        serialization: verification.serialization.clone(),
        conclusion,
    })))
}

/// Of the trusted keys, the one the bundle names (by its hint, its embedded key, or its
/// signing certificate's key), else the first: a signature by another key is then
/// `untrusted`, as the trust rule says.
fn choose_key(
    bundle: &tracemark_model::Bundle,
    source: &str,
    mut keys: Vec<VerifyingKey>,
) -> Option<VerifyingKey> {
    use tracemark_model::bundle::Material;
    let named: Option<VerifyingKey> = match &bundle.material {
        Material::Key {
            hint: Some(hint), ..
        } => {
            return match keys.iter().position(|k| k.hint() == *hint) {
                Some(i) => Some(keys.swap_remove(i)),
                None => keys.into_iter().next(),
            };
        }
        Material::Key { .. } => bundle.material.embedded_key(source).and_then(|k| k.ok()),
        Material::Chain { certificates } => certificates
            .first()
            .and_then(|der| Cert::from_der(der, source).ok())
            .and_then(|c| c.key(source).ok()),
        Material::Sigstore { .. } => None,
    };
    match named.and_then(|n| keys.iter().position(|k| *k == n)) {
        Some(i) => Some(keys.swap_remove(i)),
        None => keys.into_iter().next(),
    }
}

/// The identity of the model the configuration generates with (`[model] path`), when it
/// is a signed model (a corpus model is signed as its index): established once, for
/// every generation of a marking station. An unsigned model has none (its records stay
/// v1). A signature that
/// does not match the weights is an error: a provider must not name a model it cannot
/// show it runs.
pub fn configured_identity(config: &crate::Config) -> Result<Option<ModelIdentity>> {
    let Some(path) = config.model.path.as_deref() else {
        return Ok(None);
    };
    match identify(Some(path), &ModelTrust::configured(&config.model))? {
        Identified::Unsigned { .. } => Ok(None),
        Identified::Signed(id) if id.conclusion.trust == Trust::Tampered => {
            Err(crate::Error::input(
                format!(
                    "the model {} does not match its signature {}: {}",
                    path.display(),
                    id.signature.display(),
                    id.conclusion.reason
                ),
                Some(
                    "restore the model's files, or sign the model again (`tracemark model sign`)"
                        .into(),
                ),
            ))
        }
        Identified::Signed(id) => Ok(Some(*id)),
    }
}

/// The latest model-release record in the log for the model whose identity is `digest`,
/// as a generation record refers to it.
pub fn find_release<S: tracemark_ledger::LogStore>(
    log: &tracemark_ledger::LogReader<S>,
    digest: &tracemark_core::ContentHash,
) -> Result<
    Option<(
        tracemark_ledger::ReleaseRef,
        tracemark_ledger::ModelReleaseRecord,
    )>,
> {
    use tracemark_ledger::{LogRecord, Lookup};
    let hits = log.lookup(&Lookup::ContentHash(*digest))?;
    for &index in hits.iter().rev() {
        let entry = log.entry(index)?;
        if let Ok(LogRecord::ModelRelease(record)) = LogRecord::parse(&entry)
            && record.model_digest == *digest
        {
            let leaf = tracemark_ledger::merkle::leaf_hash(&entry);
            return Ok(Some((
                tracemark_ledger::ReleaseRef {
                    index,
                    leaf_hash: leaf.to_hex(),
                },
                record,
            )));
        }
    }
    Ok(None)
}

/// The model's identity: `sha256:HEX`, its OMS root digest under `files`, SHA-256 and
/// the default exclusions (and, for a corpus model, its index's withdrawal lists).
pub fn identity(model: &Path) -> Result<String> {
    Ok(Manifest::of_model(model, &identity_options(model, None)?)?.root_digest_id())
}

/// How the identity hashes `model`: the default exclusions, the signature (`model.sig`,
/// and the one given by name inside the model) and a corpus model's withdrawal lists.
fn identity_options(model: &Path, signature_name: Option<&str>) -> Result<HashOptions> {
    let mut options = HashOptions::default();
    options.exclusions.add(SIGNATURE_FILE)?;
    for name in signature_name
        .into_iter()
        .map(str::to_owned)
        .chain(index_exclusions(model)?)
    {
        options.exclusions.add(&name)?;
    }
    Ok(options)
}

/// What Tracemark knows of a model's card: the directory's own (Hugging Face config,
/// safetensors, README front matter), and a llama2.c checkpoint's header.
pub fn model_card(model: &Path) -> ModelCard {
    let mut card = ModelCard::read(model);
    let checkpoint = if model.is_dir() {
        model.join("model.bin")
    } else {
        model.to_owned()
    };
    let mut header = [0u8; tracemark_lm::llama2c::Header::BYTES];
    let read = std::fs::File::open(&checkpoint)
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut header));
    if read.is_ok()
        && let Ok(h) = tracemark_lm::llama2c::Header::parse(&header)
    {
        let (l, d, hd, kv, v) = (
            h.n_layers as u64,
            h.dim as u64,
            h.hidden_dim as u64,
            h.kv_dim() as u64,
            h.vocab_size as u64,
        );
        // Embedding, per layer two norms, q/k/v/o and the three FFN matrices, the final
        // norm, and a classifier of its own when not shared.
        let per_layer = 2 * d + 2 * d * d + 2 * kv * d + 3 * hd * d;
        let classifier = if h.shared_classifier { 0 } else { v * d };
        card.parameters
            .get_or_insert(v * d + l * per_layer + d + classifier);
        card.architecture_family
            .get_or_insert_with(|| "llama".into());
        card.model_architecture.get_or_insert_with(|| {
            format!(
                "llama2.c checkpoint: {} layers, dim {}, {} heads ({} key/value), FFN {}, vocabulary {}, context {}",
                h.n_layers, h.dim, h.n_heads, h.n_kv_heads, h.hidden_dim, h.vocab_size, h.seq_len
            )
        });
        card.task.get_or_insert_with(|| "text-generation".into());
    }
    card
}

/// The CycloneDX 1.6 ML-BOM of the model at `model`; the signature, when it exists, is
/// referenced with its digest.
pub fn bom(model: &Path, signature: Option<&Path>) -> Result<Value> {
    let signature = signature.map_or_else(|| default_signature(model), Path::to_owned);
    let mut options = HashOptions::default();
    options.exclusions.add(SIGNATURE_FILE)?;
    if let Some(name) = name_inside(model, &signature) {
        options.exclusions.add(&name)?;
    }
    let manifest = Manifest::of_model(model, &options)?;
    let card = model_card(model);
    let sig_bytes = read_signature(&signature).ok();
    let sig_name = signature
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or(SIGNATURE_FILE)
        .to_owned();
    let sig = sig_bytes.as_deref().map(|bytes| SignatureRef {
        name: &sig_name,
        bytes,
    });
    Ok(tracemark_model::bom::bom(
        &manifest,
        &card,
        sig,
        crate::VERSION,
        time::OffsetDateTime::now_utc(),
    ))
}

/// A model release appended to the log.
#[derive(Debug, Clone)]
pub struct Logged {
    pub record: tracemark_ledger::ModelReleaseRecord,
    pub entry: crate::log::AppendedEntry,
}

/// Appends the release of a verified model to the log: only a `trusted` verification is
/// logged (what the log says was signed by whom must have been checked under a key or
/// root the publisher chose). `name` defaults to the model directory's name.
pub fn log_release(
    ledger: &mut crate::log::AnyLedger,
    model: &Path,
    verified: &Verified,
    name: Option<&str>,
    version: Option<&str>,
) -> Result<Logged> {
    if verified.conclusion.trust != Trust::Trusted {
        return Err(crate::Error::input(
            format!(
                "not logged: the model's signature is {} ({})",
                verified.conclusion.trust.code(),
                verified.conclusion.reason
            ),
            Some("give the signer's public key (--key) or the root of its chain (--trust), and fix what failed".into()),
        ));
    }
    let identity: tracemark_core::ContentHash = identity(model)?
        .parse()
        .map_err(|e| crate::Error::input(format!("the model's identity: {e}"), None))?;
    let signature = read_signature(&verified.signature)?;
    let record = tracemark_ledger::ModelReleaseRecord {
        format: tracemark_ledger::registry::MODEL_RELEASE_RECORD_V1.into(),
        model_digest: identity,
        name: name.map_or_else(|| model_name(model), str::to_owned),
        version: version.map(str::to_owned),
        signed_root: verified.verification.root_digest.clone(),
        serialization: verified.verification.serialization.clone(),
        signing_method: verified.verification.method.to_owned(),
        signer: verified.verification.signer.clone(),
        signature_hash: tracemark_core::ContentHash::of_bytes(&signature),
        released_at: tracemark_core::Timestamp::now(),
    };
    let entry = record
        .entry()
        .map_err(|e| crate::Error::input(format!("the model-release record: {e}"), None))?;
    let appended = ledger.append_entries(&[entry])?;
    Ok(Logged {
        record,
        entry: appended
            .into_iter()
            .next()
            .expect("one entry appended")
            .into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keygen::{self, Destination, KeySpec};
    use tracemark_credentials::SigningAlgorithm;

    /// An ES256 signing identity in `dir/name`, and its public key's PEM beside it.
    fn es256(dir: &Path, name: &str) -> (PathBuf, PathBuf) {
        let path = dir.join(name);
        let spec = KeySpec::Signing {
            algorithm: SigningAlgorithm::Es256,
            organization: "Model publisher".into(),
        };
        keygen::generate(&spec, &Destination::Path(path.clone()), Replace::No).unwrap();
        let pem = keyfile::read_file(&path.join("key.pem"), Secrecy::Secret).unwrap();
        let public = SigningKey::from_pem(&pem, "key")
            .unwrap()
            .verifying_key()
            .pem();
        let public_path = dir.join(format!("{name}.pub.pem"));
        std::fs::write(&public_path, public).unwrap();
        (path, public_path)
    }

    fn signed(id: Identified) -> ModelIdentity {
        match id {
            Identified::Signed(id) => *id,
            Identified::Unsigned { signature } => panic!("unsigned: {}", signature.display()),
        }
    }

    /// The identity is the OMS root digest of the weights, established under the keys
    /// trusted for model signatures (the one the bundle names is chosen among them),
    /// from the signature alone when only it is given; a model without a signature has
    /// none; a signature over shards is re-hashed as the identity, and alone it cannot
    /// give one.
    #[test]
    fn a_model_identity_is_established_under_the_keys_trusted() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        let model = dir.join("m");
        std::fs::create_dir(&model).unwrap();
        std::fs::write(model.join("weights.bin"), vec![7u8; 10_000]).unwrap();
        std::fs::write(model.join("config.json"), b"{}").unwrap();
        let (signer, signer_pub) = es256(dir, "signer");
        let (_, other_pub) = es256(dir, "other");
        let sig = dir.join("m.sig");
        let key = signer.join("key.pem");
        sign(&model, &key, None, HashOptions::default(), Some(&sig)).unwrap();
        let expected = identity(&model).unwrap();

        let keys = [other_pub.clone(), signer_pub];
        let trust = ModelTrust {
            signature: Some(&sig),
            keys: &keys,
            roots: &[],
        };
        let id = signed(identify(Some(&model), &trust).unwrap());
        assert_eq!(id.conclusion.trust, Trust::Trusted, "{:?}", id.conclusion);
        assert_eq!(id.digest.to_string(), expected);
        assert!(id.weights_checked && id.signing_method == "key");

        let other = [other_pub];
        let untrusted = ModelTrust {
            keys: &other,
            ..trust
        };
        let id = signed(identify(Some(&model), &untrusted).unwrap());
        assert_eq!(id.conclusion.trust, Trust::Untrusted);
        assert_eq!(id.digest.to_string(), expected);

        let alone = signed(identify(None, &trust).unwrap());
        assert_eq!(alone.conclusion.trust, Trust::Trusted);
        assert!(!alone.weights_checked);
        assert_eq!(alone.digest.to_string(), expected);

        assert!(matches!(
            identify(Some(&model), &ModelTrust::default()).unwrap(),
            Identified::Unsigned { .. }
        ));
        // A signature named but missing is an error, not an unsigned model.
        let missing = dir.join("missing.sig");
        assert!(
            identify(
                Some(&model),
                &ModelTrust {
                    signature: Some(&missing),
                    ..trust
                }
            )
            .is_err()
        );

        let shards = dir.join("shards.sig");
        let options = HashOptions {
            method: tracemark_model::Method::Shards { shard_size: 4096 },
            ..HashOptions::default()
        };
        sign(&model, &key, None, options, Some(&shards)).unwrap();
        let by_shards = ModelTrust {
            signature: Some(&shards),
            ..trust
        };
        let id = signed(identify(Some(&model), &by_shards).unwrap());
        assert_eq!(id.conclusion.trust, Trust::Trusted);
        assert_eq!(id.digest.to_string(), expected);
        assert_ne!(id.signed_root, expected);
        let err = identify(None, &by_shards).unwrap_err().to_string();
        assert!(err.contains("shards"), "{err}");

        // A changed byte: tampered, and the digest is the weights' as they are.
        std::fs::write(model.join("weights.bin"), vec![8u8; 10_000]).unwrap();
        let id = signed(identify(Some(&model), &trust).unwrap());
        assert_eq!(id.conclusion.trust, Trust::Tampered);
        assert_eq!(id.digest.to_string(), identity(&model).unwrap());
        assert_ne!(id.digest.to_string(), expected);
    }
}
