//! `tracemark model`: signed model releases (OpenSSF Model Signing v1.0, interoperable
//! with `model_signing`), their verification under the trust rule, the CycloneDX ML-BOM,
//! and a model's identity.

use std::{
    fmt::Write as _,
    path::{Path, PathBuf},
};

use clap::{Args, Subcommand, ValueEnum};
use tracemark::{
    Error, Result,
    oms::{HashOptions, HashType, Method, digest::DEFAULT_SHARD_SIZE, walk::Exclusions},
    release::{self, VerifyRequest},
};

use crate::Output;

#[derive(Debug, Subcommand)]
pub enum ModelCommand {
    /// Sign a model directory (or file): writes an OMS bundle (`model.sig`: a Sigstore
    /// bundle with a DSSE envelope over an in-toto statement) that `model_signing` verifies.
    Sign(SignArgs),
    /// Verify a model against its OMS bundle: trusted (exit 0) | untrusted | tampered
    /// (exit 1), with the checks. Without --key or --trust it is never trusted.
    Verify(VerifyArgs),
    /// Write the model's CycloneDX 1.6 ML-BOM (its OMS root digest as the model's hash).
    Bom(BomArgs),
    /// Print the model's identity: its OMS root digest (files, SHA-256, default exclusions).
    Digest(DigestArgs),
    /// Append the release of a signed model to the transparency log (a model-release
    /// record: its identity, signer, name, version, time), after verifying it: only a
    /// trusted signature is logged.
    Log(LogArgs),
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum MethodArg {
    Files,
    Shards,
}

#[derive(Debug, Args)]
pub struct SignArgs {
    /// The private key (PEM; ECDSA P-256, P-384 or P-521; mode 0600).
    #[arg(long)]
    key: PathBuf,
    /// The signing certificate chain (PEM, leaf first): the `certificate` method.
    #[arg(long)]
    cert: Option<PathBuf>,
    /// `files` (a digest a file) or `shards` (a digest a --shard-size byte range).
    #[arg(long, value_enum, default_value = "files")]
    method: MethodArg,
    /// Bytes a shard (with --method shards; default 1000000000).
    #[arg(long)]
    shard_size: Option<u64>,
    /// File digest: sha256, or blake3.
    #[arg(long, default_value = "sha256")]
    hash: String,
    /// Paths to leave out (relative to the model directory, or inside it), recorded in
    /// the signature.
    #[arg(long = "ignore-paths")]
    ignore_paths: Vec<PathBuf>,
    /// Sign .git, .gitattributes, .github and .gitignore too.
    #[arg(long)]
    no_ignore_git_paths: bool,
    /// Where to write the bundle (default: MODEL/model.sig).
    #[arg(long)]
    signature: Option<PathBuf>,
    /// The model directory (or a single-file model).
    model: PathBuf,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The signer's public key (PEM): the `key` method.
    #[arg(long, conflicts_with = "trust")]
    key: Option<PathBuf>,
    /// Trusted root certificates (PEM): the `certificate` method's chain must lead to one.
    #[arg(long)]
    trust: Vec<PathBuf>,
    /// The bundle (default: MODEL/model.sig).
    #[arg(long)]
    signature: Option<PathBuf>,
    /// Files in the model that the signature does not cover do not fail verification.
    #[arg(long)]
    ignore_unsigned_files: bool,
    /// Paths to leave out besides those the signature records.
    #[arg(long = "ignore-paths")]
    ignore_paths: Vec<PathBuf>,
    /// Check .git, .gitattributes, .github and .gitignore too (for models signed with
    /// them, as `sign --no-ignore-git-paths` or model_signing's own flag sign them).
    #[arg(long)]
    no_ignore_git_paths: bool,
    model: PathBuf,
}

#[derive(Debug, Args)]
pub struct BomArgs {
    /// The model's signature, referenced with its digest when it exists (default:
    /// MODEL/model.sig).
    #[arg(long)]
    signature: Option<PathBuf>,
    /// Write the BOM here instead of standard output.
    #[arg(long)]
    out: Option<PathBuf>,
    model: PathBuf,
}

#[derive(Debug, Args)]
pub struct DigestArgs {
    model: PathBuf,
}

#[derive(Debug, Args)]
pub struct LogArgs {
    /// A log directory made by `tracemark log init` [default: the configured log].
    #[arg(long)]
    dir: Option<PathBuf>,
    /// The signer's public key (PEM).
    #[arg(long, conflicts_with = "trust")]
    key: Option<PathBuf>,
    /// Trusted root certificates (PEM).
    #[arg(long)]
    trust: Vec<PathBuf>,
    /// The bundle (default: MODEL/model.sig).
    #[arg(long)]
    signature: Option<PathBuf>,
    /// The release's name [default: the model directory's name].
    #[arg(long)]
    name: Option<String>,
    /// The release's version.
    #[arg(long)]
    version: Option<String>,
    model: PathBuf,
}

pub fn run(cmd: ModelCommand, config: Option<&Path>) -> Result<Output> {
    match cmd {
        ModelCommand::Sign(args) => sign(args),
        ModelCommand::Verify(args) => verify(args),
        ModelCommand::Bom(args) => bom(args),
        ModelCommand::Digest(args) => digest(args),
        ModelCommand::Log(args) => log(args, config),
    }
}

/// An ignore path as the model sees it: relative to its root. A path that exists
/// relative to the working folder (or is absolute) and lies inside the model is taken
/// as that file; any other is taken as relative to the model already.
fn model_relative(model: &Path, path: &Path) -> Result<String> {
    let root = std::fs::canonicalize(model).ok();
    if let (Some(root), Ok(full)) = (root, std::fs::canonicalize(path))
        && let Ok(rel) = full.strip_prefix(&root)
    {
        let parts: Option<Vec<&str>> = rel.components().map(|c| c.as_os_str().to_str()).collect();
        if let Some(parts) = parts.filter(|p| !p.is_empty()) {
            return Ok(parts.join("/"));
        }
    }
    if path.is_absolute() {
        return Err(Error::usage(
            format!(
                "ignore path {} is not inside the model {}",
                path.display(),
                model.display()
            ),
            None,
        ));
    }
    path.to_str()
        .map(str::to_owned)
        .ok_or_else(|| Error::usage(format!("ignore path {} is not UTF-8", path.display()), None))
}

fn sign(args: SignArgs) -> Result<Output> {
    let hash = HashType::parse(&args.hash)
        .map_err(|e| Error::usage(e.to_string(), Some("--hash sha256 or blake3".into())))?;
    let method = match (args.method, args.shard_size) {
        (MethodArg::Files, None) => Method::Files,
        (MethodArg::Files, Some(_)) => {
            return Err(Error::usage("--shard-size needs --method shards", None));
        }
        (MethodArg::Shards, size) => Method::Shards {
            shard_size: size.unwrap_or(DEFAULT_SHARD_SIZE),
        },
    };
    let mut exclusions = Exclusions {
        git: !args.no_ignore_git_paths,
        ..Exclusions::default()
    };
    for p in &args.ignore_paths {
        exclusions.add(&model_relative(&args.model, p)?)?;
    }
    let options = HashOptions {
        method,
        hash,
        exclusions,
        allow_symlinks: false,
    };
    let signed = release::sign(
        &args.model,
        &args.key,
        args.cert.as_deref(),
        options,
        args.signature.as_deref(),
    )?;
    let root = signed.manifest.root_digest_id();
    let json = serde_json::json!({
        "model": args.model,
        "signature": signed.signature,
        "method": signed.method,
        "signer": signed.signer,
        "root_digest": root,
        "resources": signed.manifest.resources.len(),
        "serialization": { "method": method.name(), "hash_type": hash.name() },
    });
    let human = format!(
        "{}: signed ({} method, {}, {} {})\n  signature  {}\n  signer     {}\n  root       {root}",
        args.model.display(),
        signed.method,
        hash.name(),
        signed.manifest.resources.len(),
        if matches!(method, Method::Files) {
            "files"
        } else {
            "shards"
        },
        signed.signature.display(),
        signed.signer,
    );
    Ok(Output::new(json, human))
}

fn verify(args: VerifyArgs) -> Result<Output> {
    let ignore_paths = args
        .ignore_paths
        .iter()
        .map(|p| model_relative(&args.model, p))
        .collect::<Result<Vec<_>>>()?;
    let verified = release::verify(
        &args.model,
        &VerifyRequest {
            signature: args.signature.as_deref(),
            key: args.key.as_deref(),
            trust: &args.trust,
            ignore_unsigned: args.ignore_unsigned_files,
            ignore_paths: &ignore_paths,
            include_git: args.no_ignore_git_paths,
        },
    )?;
    let v = &verified.verification;
    let c = &verified.conclusion;
    let json = serde_json::json!({
        "model": args.model,
        "signature": verified.signature,
        "trust": c.trust,
        "reason": c.reason,
        "checks": c.checks,
        "method": v.method,
        "signer": v.signer,
        "root_digest": v.root_digest,
        "model_name": v.model_name,
        "serialization": v.serialization,
        "resources": v.resources,
        "predicate_type": v.predicate_type,
    });
    let mut human = format!("{}: {}", args.model.display(), c.trust.code());
    if c.trust != tracemark::trust::Trust::Trusted {
        let _ = write!(human, " ({})", c.reason);
    }
    let _ = write!(
        human,
        "\n  signer     {} ({} method)\n  root       {}\n  manifest   {} resources, {}",
        v.signer, v.method, v.root_digest, v.resources, v.serialization
    );
    for check in &c.checks {
        let _ = write!(
            human,
            "\n  {:<10} {}: {}",
            check.check,
            check.outcome.code(),
            check.detail
        );
    }
    let mut out = Output::new(json, human);
    if c.trust != tracemark::trust::Trust::Trusted {
        out.status = 1;
    }
    Ok(out)
}

fn bom(args: BomArgs) -> Result<Output> {
    let bom = release::bom(&args.model, args.signature.as_deref())?;
    let text = serde_json::to_string_pretty(&bom).expect("a BOM serialises");
    match &args.out {
        Some(out) => {
            std::fs::write(out, format!("{text}\n")).map_err(|source| Error::Io {
                action: "write",
                path: out.clone(),
                source,
            })?;
            let root = bom["components"][0]["hashes"][0]["content"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            Ok(Output::new(
                serde_json::json!({ "bom": out, "root_digest": format!("sha256:{root}") }),
                format!(
                    "{}: CycloneDX 1.6 ML-BOM written to {} (model sha256:{root})",
                    args.model.display(),
                    out.display()
                ),
            ))
        }
        None => Ok(Output::new(bom, text)),
    }
}

fn digest(args: DigestArgs) -> Result<Output> {
    let id = release::identity(&args.model)?;
    Ok(Output::new(
        serde_json::json!({ "model": args.model, "identity": id }),
        format!("{id}  {}", args.model.display()),
    ))
}

fn log(args: LogArgs, config: Option<&Path>) -> Result<Output> {
    let verified = release::verify(
        &args.model,
        &VerifyRequest {
            signature: args.signature.as_deref(),
            key: args.key.as_deref(),
            trust: &args.trust,
            ignore_unsigned: false,
            ignore_paths: &[],
            include_git: false,
        },
    )?;
    let mut ledger = tracemark::log::LogSite::locate(args.dir.as_deref(), config)?.open()?;
    let logged = release::log_release(
        &mut ledger,
        &args.model,
        &verified,
        args.name.as_deref(),
        args.version.as_deref(),
    )?;
    let r = &logged.record;
    let human = format!(
        "{}: model release logged at index {}\n  model      {}\n  name       {} {}\n  signer     {} ({} method)",
        args.model.display(),
        logged.entry.index,
        r.model_digest,
        r.name,
        r.version.as_deref().unwrap_or(""),
        r.signer,
        r.signing_method,
    );
    Ok(Output::new(
        serde_json::json!({ "index": logged.entry.index, "leaf_hash": logged.entry.leaf_hash, "record": r }),
        human,
    ))
}
