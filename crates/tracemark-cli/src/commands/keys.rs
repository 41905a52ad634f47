//! `tracemark keygen`, `keys` and `schemes`: keys of every kind, the key store, and the
//! watermark schemes a key can be for.

use std::{
    fmt::Write as _,
    path::{Path, PathBuf},
};

use clap::{Args, Subcommand};
use tracemark::{
    Config, Result,
    core::{KeyStore, keyfile::Replace},
    credentials::SigningAlgorithm,
    keygen::{self, Destination, GeneratedKey, KeySpec},
    model::ModelSource,
    watermark::SchemeId,
};

use crate::Output;

#[derive(Debug, Args)]
pub struct KeyOut {
    /// Where to write the key (a file for watermark keys, else a directory).
    #[arg(long, value_name = "PATH", conflicts_with = "name")]
    out: Option<PathBuf>,
    /// The key's name in the key store, when --out is not given.
    #[arg(long, default_value = KeyStore::DEFAULT_NAME)]
    name: String,
    /// Replace an existing key (the old one is lost).
    #[arg(long)]
    force: bool,
}

/// Where a model-signing key goes: as [`KeyOut`], named `model` in the store by default
/// (apart from the content-credential signing key, `default`).
#[derive(Debug, Args)]
pub struct ModelKeyOut {
    /// Where to write the key (a directory).
    #[arg(long, value_name = "PATH", conflicts_with = "name")]
    out: Option<PathBuf>,
    /// The key's name in the key store, when --out is not given.
    #[arg(long, default_value = "model")]
    name: String,
    /// Replace an existing key (the old one is lost).
    #[arg(long)]
    force: bool,
}

#[derive(Debug, Subcommand)]
pub enum Keygen {
    /// A secret watermark key (one JSON file).
    Watermark {
        /// The scheme id (`tracemark schemes` lists them) [default: kgw-selfhash-v1;
        /// synthid-v1 with --from-transformers; with --from-vllm or --from-sglang, the one
        /// the configuration makes].
        #[arg(long)]
        scheme: Option<String>,
        /// Bind the key to this model's tokenizer (detecting with another is then an error).
        #[arg(long)]
        model: Option<PathBuf>,
        /// Bits of payload each generation carries (provider, model, generation tag;
        /// the log resolves the record from it); 0 for a zero-bit watermark. KGW and
        /// Gumbel schemes only.
        #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u8).range(0..=64))]
        payload_bits: u8,
        /// Import the keys and parameters of an HF transformers
        /// `SynthIDTextWatermarkingConfig` (the JSON its `to_json_file` writes, or a
        /// `generation_config.json` holding one) instead of drawing fresh ones, so that
        /// text that transformers marked with it is detected (synthid-v1 only).
        #[arg(long, value_name = "CONFIG.json", conflicts_with = "payload_bits")]
        from_transformers: Option<PathBuf>,
        /// Import vLLM's watermark configuration (the JSON given to `vllm serve
        /// --watermark-config`, algorithm `gumbel` or `dual_key_gumbel`), so that text vLLM
        /// marked with it is detected and Tracemark marks as vLLM does
        /// (vllm-gumbel-v1 or vllm-dual-key-gumbel-v1; no payload).
        #[arg(
            long,
            value_name = "CONFIG.json",
            conflicts_with_all = ["payload_bits", "from_transformers"]
        )]
        from_vllm: Option<PathBuf>,
        /// The Philox token mapping of the vLLM build that marks: v1b (current builds) or
        /// v1a (older ones); both were published as `philox4x32-10-v1` [default: v1b].
        #[arg(
            long,
            value_name = "v1a|v1b",
            requires = "from_vllm",
            value_parser = ["v1a", "v1b"]
        )]
        vllm_mapping: Option<String>,
        /// Import SGLang's watermark configuration (the JSON of `--watermark-config`,
        /// `key` and optionally `key_b` as hex) for its Aaronson-Gumbel watermark
        /// (sglang-gumbel-v1; no payload).
        #[arg(
            long,
            value_name = "CONFIG.json",
            conflicts_with_all = ["payload_bits", "from_transformers", "from_vllm"]
        )]
        from_sglang: Option<PathBuf>,
        #[command(flatten)]
        out: KeyOut,
    },
    /// A content-credential signing key with a development certificate chain.
    Signing {
        /// ed25519 or es256.
        #[arg(long, default_value = "ed25519")]
        alg: String,
        /// The organisation named in the certificates.
        #[arg(long, default_value = "Tracemark development")]
        org: String,
        #[command(flatten)]
        out: KeyOut,
    },
    /// A model-signing key: ECDSA P-256 (OpenSSF Model Signing has no Ed25519) with a
    /// development certificate chain, for `tracemark model sign --key DIR/key.pem --cert
    /// DIR/chain.pem`; verifiers trust it through DIR/root.pem (`[model] trusted_roots`,
    /// `model verify --trust`). The same key kind as `keygen signing --alg es256`.
    ModelSigning {
        /// The organisation named in the certificates (the model's publisher).
        #[arg(long, default_value = "Tracemark development model publisher")]
        org: String,
        #[command(flatten)]
        out: ModelKeyOut,
    },
    /// A transparency log's checkpoint key (C2SP signed-note).
    Log {
        /// The log's origin line, e.g. `log.example.com/tracemark`.
        #[arg(long, default_value = "localhost/tracemark-log")]
        origin: String,
        #[command(flatten)]
        out: KeyOut,
    },
    /// The service key that signs detection results (C2SP signed-note).
    Service {
        /// The service's key name, e.g. `attribution.example.com`.
        #[arg(long = "key-name", default_value = "localhost/tracemark")]
        key_name: String,
        #[command(flatten)]
        out: KeyOut,
    },
}

#[derive(Debug, Subcommand)]
pub enum Keys {
    /// List the keys in the key store.
    List,
}

pub(super) fn keygen(keygen: Keygen, config: Option<&Path>) -> Result<Output> {
    let (spec, out) = match keygen {
        Keygen::Watermark {
            scheme,
            model,
            payload_bits,
            from_transformers,
            from_vllm,
            vllm_mapping,
            from_sglang,
            out,
        } => {
            // An image or audio scheme: a media key (no tokenizer, a 64-bit payload).
            if let Some(media) = scheme
                .as_deref()
                .and_then(|s| s.parse::<tracemark::mediamark::MediaScheme>().ok())
            {
                let imported =
                    from_transformers.is_some() || from_vllm.is_some() || from_sglang.is_some();
                if model.is_some() || imported || !matches!(payload_bits, 0 | 64) {
                    return Err(tracemark::Error::usage(
                        format!(
                            "{media} keys take no --model, --from-* or --payload-bits (they carry 64 bits)"
                        ),
                        Some(format!(
                            "tracemark keygen watermark --scheme {media} --name NAME"
                        )),
                    ));
                }
                let key = keygen::generate(
                    &KeySpec::MediaWatermark { scheme: media },
                    &destination(out.out, out.name, config)?,
                    if out.force { Replace::Yes } else { Replace::No },
                )?;
                let human = describe_key(&key);
                return Ok(Output::new(&key, human));
            }
            let asked = scheme.as_deref().map(str::parse::<SchemeId>).transpose()?;
            let scheme = match (asked, &from_transformers) {
                (Some(scheme), _) => scheme,
                (None, Some(_)) => SchemeId::SynthId,
                (None, None) => SchemeId::KgwSelfHash,
            };
            let tokenizer = model
                .as_deref()
                .map(|m| ModelSource::at(m).tokenizer())
                .transpose()?
                .map(|t| tracemark::watermark::TokenizerBinding {
                    hash: t.hash(),
                    vocab_size: t.vocab_size() as u32,
                });
            let spec = match (from_transformers, from_vllm, from_sglang) {
                (Some(config), _, _) => KeySpec::WatermarkFromTransformers {
                    scheme,
                    config,
                    tokenizer,
                },
                (_, Some(config), _) => KeySpec::WatermarkFromVllm {
                    scheme: asked,
                    config,
                    mapping: vllm_mapping
                        .map(|m| m.parse())
                        .transpose()?
                        .unwrap_or_default(),
                    tokenizer,
                },
                (_, _, Some(config)) => KeySpec::WatermarkFromSglang {
                    scheme: asked,
                    config,
                    tokenizer,
                },
                (None, None, None) => KeySpec::Watermark {
                    scheme,
                    tokenizer,
                    payload_bits,
                },
            };
            (spec, out)
        }
        Keygen::Signing { alg, org, out } => {
            let algorithm = alg.parse::<SigningAlgorithm>()?;
            (
                KeySpec::Signing {
                    algorithm,
                    organization: org,
                },
                out,
            )
        }
        Keygen::ModelSigning { org, out } => (
            KeySpec::Signing {
                algorithm: SigningAlgorithm::Es256,
                organization: org,
            },
            KeyOut {
                out: out.out,
                name: out.name,
                force: out.force,
            },
        ),
        Keygen::Log { origin, out } => (KeySpec::Log { origin }, out),
        Keygen::Service { key_name, out } => (KeySpec::Service { name: key_name }, out),
    };
    let destination = destination(out.out, out.name, config)?;
    let replace = if out.force { Replace::Yes } else { Replace::No };
    let key = keygen::generate(&spec, &destination, replace)?;
    let human = describe_key(&key);
    Ok(Output::new(&key, human))
}

/// `--out`, else the name in the key store of the configuration in force.
fn destination(out: Option<PathBuf>, name: String, config: Option<&Path>) -> Result<Destination> {
    Ok(match out {
        Some(path) => Destination::Path(path),
        None => Destination::Store {
            store: key_store(config)?,
            name,
        },
    })
}

fn describe_key(key: &GeneratedKey) -> String {
    let mut human = format!(
        "Wrote a {} key to {}\n  key id: {}",
        key.kind,
        key.path.display(),
        key.key_id
    );
    if let Some(details) = key.details.as_object() {
        for (field, value) in details {
            let value = value
                .as_str()
                .map_or_else(|| value.to_string(), str::to_owned);
            let _ = write!(human, "\n  {field}: {value}");
        }
    }
    if let Some(public) = &key.public {
        let _ = write!(human, "\n  share this: {}", public.display());
    }
    human
}

/// The key store of the configuration in force.
fn key_store(config: Option<&Path>) -> Result<KeyStore> {
    let (config, _) = Config::locate(config)?;
    Ok(config.key_store()?)
}

pub(super) fn list(config: Option<&Path>) -> Result<Output> {
    let store = key_store(config)?;
    let keys = store.list()?;
    let mut human = format!("Key store: {}", store.root().display());
    if keys.is_empty() {
        human.push_str("\n  (no keys; make one with `tracemark keygen`)");
    }
    for key in &keys {
        let _ = write!(
            human,
            "\n  {:<9} {:<16} {}",
            key.kind,
            key.name,
            key.path.display()
        );
    }
    Ok(Output::new(
        serde_json::json!({ "store": store.root(), "keys": keys }),
        human,
    ))
}

pub(super) fn schemes() -> Output {
    use tracemark::mediamark::MediaScheme;
    let all: Vec<(&str, &str)> = SchemeId::EVERY
        .iter()
        .map(|s| (s.as_str(), s.summary()))
        .chain(MediaScheme::ALL.iter().map(|s| (s.as_str(), s.summary())))
        .collect();
    let list: Vec<_> = all
        .iter()
        .map(|(id, summary)| serde_json::json!({ "id": id, "summary": summary }))
        .collect();
    let width = all.iter().map(|(id, _)| id.len()).max();
    let human = all
        .iter()
        .map(|(id, summary)| format!("{id:<width$} {summary}", width = width.unwrap_or(0)))
        .collect::<Vec<_>>()
        .join("\n");
    Output::new(serde_json::json!({ "schemes": list }), human)
}
