//! `tracemark sign` and `tracemark verify`: C2PA content credentials.

use std::{
    fmt::Write as _,
    path::{Path, PathBuf},
};

use clap::Args;
use tracemark::{
    Config, Error, Result,
    core::{KeyId, Payload, fact::CredentialState},
    credentials::{
        CredentialSpec, Generator, SignOptions, SigningKey, TextCarrier, TrustAnchors, Verifier,
        WatermarkDeclaration, sign_file, verify::DEFAULT_MAX_BYTES,
    },
};

use super::{input::read_input, print::json_name};
use crate::Output;

#[derive(Debug, Args)]
pub struct SignArgs {
    /// The signing key (PKCS#8 PEM, Ed25519 or P-256) [default: the configuration's
    /// signing identity].
    #[arg(long, requires = "cert")]
    key: Option<PathBuf>,
    /// The certificate chain (PEM, leaf first) that goes with --key.
    #[arg(long, requires = "key")]
    cert: Option<PathBuf>,
    /// Write a sidecar manifest store (OUT is the `.c2pa` file) instead of embedding.
    #[arg(long)]
    sidecar: bool,
    /// The model that generated the content.
    #[arg(long, default_value = "unknown-model")]
    model: String,
    #[arg(long, default_value = "0")]
    model_version: String,
    /// The provider (organisation) that ran the model.
    #[arg(long, default_value = "unknown provider")]
    provider: String,
    /// A unique id of this generation [default: derived from the content and time].
    #[arg(long)]
    generation_id: Option<String>,
    /// The watermark scheme the content carries (declared as a C2PA soft binding).
    #[arg(long)]
    watermark_scheme: Option<String>,
    #[arg(long, requires = "watermark_scheme")]
    watermark_key_id: Option<KeyId>,
    /// The watermark payload, hex.
    #[arg(long, requires = "watermark_scheme")]
    payload: Option<String>,
    /// An RFC 3161 time-stamp authority (http:// or https://) to countersign the
    /// signature.
    #[arg(long)]
    tsa_url: Option<String>,
    /// The TLS trust roots (PEM CA certificates) for an https:// --tsa-url, instead of
    /// Mozilla's.
    #[arg(long, value_name = "CA_PEM", requires = "tsa_url")]
    tsa_ca: Option<PathBuf>,
    input: PathBuf,
    output: PathBuf,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// Trust anchors (PEM certificates; repeatable, beside the configuration's `[keys]
    /// trust`): signers that chain to one are `trusted` (exit 0); any other intact
    /// credential is `untrusted` (exit 1).
    #[arg(long, value_name = "ANCHORS_PEM")]
    trust: Vec<PathBuf>,
    /// Files (and sidecars) larger than this many bytes are not examined: no verdict,
    /// exit status 3 (bad input), never "none".
    #[arg(long, value_name = "BYTES", default_value_t = DEFAULT_MAX_BYTES)]
    max_bytes: u64,
    file: PathBuf,
}

pub fn sign(args: SignArgs, config: Option<&Path>) -> Result<Output> {
    let key = match (&args.key, &args.cert) {
        (Some(key), Some(cert)) => SigningKey::from_files(cert, key)?,
        _ => {
            let (config, _) = Config::locate(config)?;
            let dir = config.keys.signing.ok_or_else(|| {
                Error::usage(
                    "no signing key given",
                    Some("pass --key KEY.pem --cert CHAIN.pem (make them with `tracemark keygen signing`)".into()),
                )
            })?;
            SigningKey::from_identity_dir(&dir)?
        }
    };
    let generation_id = args.generation_id.clone().unwrap_or_else(|| {
        let now = tracemark::core::Timestamp::now().to_string();
        let seed = format!("{}\n{now}", args.input.display());
        tracemark::core::ContentHash::of_bytes(seed.as_bytes()).to_hex()[..16].to_owned()
    });
    let mut spec = CredentialSpec::new(
        Generator {
            name: args.model.clone(),
            version: args.model_version.clone(),
            digest: None,
        },
        args.provider.clone(),
        generation_id,
    );
    if let Some(scheme) = &args.watermark_scheme {
        let payload = args
            .payload
            .as_deref()
            .map(|hex| {
                Payload::from_hex(hex, (4 * hex.trim_start_matches("0x").len().min(16)) as u8)
            })
            .transpose()?;
        spec.watermark = Some(WatermarkDeclaration {
            scheme: scheme.clone(),
            key_id: args.watermark_key_id.clone(),
            payload,
        });
    }
    let options = SignOptions {
        tsa_url: args.tsa_url.clone(),
        tsa_roots: args
            .tsa_ca
            .as_deref()
            .map(TrustAnchors::from_file)
            .transpose()?,
    };
    let carrier = if args.sidecar {
        TextCarrier::Sidecar
    } else {
        TextCarrier::Embedded
    };
    let signed = sign_file(&args.input, &args.output, &key, &spec, &options, carrier)?;
    let kind = signed.media.map_or("text".to_owned(), |m| json_name(&m));
    let json = serde_json::json!({
        "output": signed.output,
        "media": signed.media,
        "manifest_bytes": signed.manifest_len,
        "generation_id": spec.generation_id,
        "carrier": if args.sidecar { "sidecar" } else { "embedded" },
    });
    let human = format!(
        "signed {} ({kind}, {} carrier): {} ({} manifest bytes)",
        args.input.display(),
        if args.sidecar { "sidecar" } else { "embedded" },
        signed.output.display(),
        signed.manifest_len
    );
    Ok(Output::new(json, human))
}

pub fn verify(args: VerifyArgs, config: Option<&Path>) -> Result<Output> {
    // The trust rule of every verifier: the anchors given and the configuration's.
    let (config, _) = Config::locate(config)?;
    let mut pem = Vec::new();
    for path in args.trust.iter().chain(&config.keys.trust) {
        pem.extend_from_slice(&read_input(path)?);
        pem.push(b'\n');
    }
    let verifier = if pem.is_empty() {
        Verifier::new()
    } else {
        Verifier::with_trust_anchors(TrustAnchors::from_pem(&pem)?)
    }
    .with_max_bytes(args.max_bytes);
    // A file that was not examined has no verdict: not "none" (exit 1), but bad input
    // (exit 3), with the message saying why and the hint how to examine it.
    let report = match verifier.verify_file(&args.file) {
        Ok(report) => report,
        Err(e) if e.is_not_examined() => {
            return Err(Error::input(
                e.to_string(),
                Some(format!(
                    "no verdict was reached (this is not \"no credential\"): raise the limit with --max-bytes (now {}), or verify a smaller copy",
                    args.max_bytes
                )),
            ));
        }
        Err(e) => return Err(e.into()),
    };
    let mut human = format!("{}: {}", args.file.display(), json_name(&report.state));
    if let Some(signer) = &report.signer {
        let name = signer.common_name.as_deref().unwrap_or("unnamed");
        let issuer = signer.issuer.as_deref().unwrap_or("unknown issuer");
        let _ = write!(human, "\n  signer     {name} (issued by {issuer})");
    }
    if let Some(generator) = &report.generator {
        let _ = write!(human, "\n  generator  {generator}");
    }
    if let Some(b) = &report.soft_binding {
        let _ = write!(human, "\n  watermark  {} (soft binding)", b.scheme);
    }
    for a in &report.assertions {
        let _ = write!(human, "\n  assertion  {}", a.label);
    }
    for f in &report.failures {
        let why = f.explanation.as_deref().unwrap_or("");
        let _ = write!(human, "\n  FAILED     {} {why}", f.code);
    }
    // Only a signer that chains to a trusted anchor is a positive answer: an intact
    // credential by anyone else is `untrusted`, and says so.
    let mut output = Output::new(&report, human);
    output.status = u8::from(report.state != CredentialState::Trusted);
    Ok(output)
}
