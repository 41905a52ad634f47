//! Provenance beyond watermarks: content credentials, corpus tracing, the transparency log
//! and the evidence report. Each result is the JSON the matching CLI command prints with
//! `--json`; the Python layer parses it.

use std::{
    path::{Path, PathBuf},
    sync::Mutex,
};

use pyo3::prelude::*;
use tracemark::{
    Config, Error,
    attribute::{self, Attributor, Content, Disclosure, Request},
    config::LogLocation,
    core::{KeyId, Payload, Timestamp, rights::AiUse},
    corpus,
    credentials::{
        CredentialSpec, Generator, SignOptions, SigningKey, TextCarrier, TrustAnchors, Verifier,
        WatermarkDeclaration, sign_file,
    },
    log::{self, AnyLedger, LogSite},
    trace::{Index, trace::TraceOptions},
    trust::{Role, TrustedKeys},
    verify,
};

use crate::error::{self, to_py};

fn json(value: &impl serde::Serialize) -> String {
    serde_json::to_string(value).expect("results serialise")
}

fn read(path: &Path) -> Result<Vec<u8>, Error> {
    std::fs::read(path).map_err(|source| Error::Io {
        action: "read",
        path: path.to_owned(),
        source,
    })
}

/// Signs `input` into `output` with a C2PA credential (`tracemark sign`): embedded, or a
/// `.c2pa` sidecar with `sidecar=True`.
#[pyfunction]
#[pyo3(signature = (input, output, *, key, cert, model = "unknown-model", model_version = "0", provider = "unknown provider", generation_id = None, watermark_scheme = None, watermark_key_id = None, payload = None, sidecar = false))]
#[allow(clippy::too_many_arguments)]
pub fn sign_credential(
    py: Python<'_>,
    input: PathBuf,
    output: PathBuf,
    key: PathBuf,
    cert: PathBuf,
    model: &str,
    model_version: &str,
    provider: &str,
    generation_id: Option<String>,
    watermark_scheme: Option<String>,
    watermark_key_id: Option<String>,
    payload: Option<String>,
    sidecar: bool,
) -> PyResult<String> {
    py.detach(|| -> Result<String, Error> {
        let signing = SigningKey::from_files(&cert, &key)?;
        let generation_id = generation_id.unwrap_or_else(|| {
            let seed = format!("{}\n{}", input.display(), Timestamp::now());
            tracemark::core::ContentHash::of_bytes(seed.as_bytes()).to_hex()[..16].to_owned()
        });
        let generator = Generator {
            name: model.to_owned(),
            version: model_version.to_owned(),
            digest: None,
        };
        let mut spec = CredentialSpec::new(generator, provider.to_owned(), generation_id);
        if let Some(scheme) = watermark_scheme {
            let payload = payload
                .as_deref()
                .map(|hex| {
                    Payload::from_hex(hex, (4 * hex.trim_start_matches("0x").len().min(16)) as u8)
                })
                .transpose()?;
            let key_id = watermark_key_id
                .map(|k| k.parse::<KeyId>())
                .transpose()
                .map_err(|e| Error::usage(format!("watermark_key_id: {e}"), None))?;
            spec.watermark = Some(WatermarkDeclaration {
                scheme,
                key_id,
                payload,
            });
        }
        let carrier = if sidecar {
            TextCarrier::Sidecar
        } else {
            TextCarrier::Embedded
        };
        let signed = sign_file(
            &input,
            &output,
            &signing,
            &spec,
            &SignOptions::default(),
            carrier,
        )?;
        Ok(json(&serde_json::json!({
            "output": signed.output,
            "media": signed.media,
            "manifest_bytes": signed.manifest_len,
            "generation_id": spec.generation_id,
            "carrier": if sidecar { "sidecar" } else { "embedded" },
        })))
    })
    .map_err(to_py)
}

/// Verifies the credential of `path` (and its `.c2pa` sidecar) as `tracemark verify`:
/// `trusted` only when the signer chains to one of the `trust` anchors (PEM files);
/// an intact credential by anyone else is `untrusted`.
#[pyfunction]
#[pyo3(signature = (path, *, trust = Vec::new(), max_bytes = tracemark::credentials::verify::DEFAULT_MAX_BYTES))]
pub fn verify_credential(
    py: Python<'_>,
    path: PathBuf,
    trust: Vec<PathBuf>,
    max_bytes: u64,
) -> PyResult<String> {
    py.detach(|| -> Result<String, Error> {
        Ok(json(&verifier(&trust, max_bytes)?.verify_file(&path)?))
    })
    .map_err(to_py)
}

/// A verifier trusting the anchors of the PEM files `trust` (none: nothing is trusted).
fn verifier(trust: &[PathBuf], max_bytes: u64) -> Result<Verifier, Error> {
    let mut pem = Vec::new();
    for anchor in trust {
        pem.extend_from_slice(&read(anchor)?);
        pem.push(b'\n');
    }
    let verifier = if pem.is_empty() {
        Verifier::new()
    } else {
        Verifier::with_trust_anchors(TrustAnchors::from_pem(&pem)?)
    };
    Ok(verifier.with_max_bytes(max_bytes))
}

/// A credential verifier with its trust anchors loaded once, for content given as bytes
/// (a bulk job's rows): the verdict of `tracemark verify` on a file of those bytes.
#[pyclass(name = "CredentialVerifier", module = "tracemark", frozen)]
pub struct PyVerifier {
    verifier: Verifier,
}

impl std::fmt::Debug for PyVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "CredentialVerifier(max_bytes={})",
            self.verifier.max_bytes()
        )
    }
}

#[pymethods]
impl PyVerifier {
    /// Trusting the anchors of the PEM files `trust`; content over `max_bytes` is not
    /// examined (an error, never "no credential").
    #[new]
    #[pyo3(signature = (*, trust = Vec::new(), max_bytes = tracemark::credentials::verify::DEFAULT_MAX_BYTES))]
    fn new(py: Python<'_>, trust: Vec<PathBuf>, max_bytes: u64) -> PyResult<Self> {
        let verifier = py.detach(|| verifier(&trust, max_bytes)).map_err(to_py)?;
        Ok(Self { verifier })
    }

    /// The verification report of `content` (its `name` tells media apart; `sidecar` is a
    /// `.c2pa` manifest store travelling beside it), as `tracemark verify --json` prints.
    #[pyo3(signature = (content, *, name = None, sidecar = None))]
    fn verify(
        &self,
        py: Python<'_>,
        content: &[u8],
        name: Option<&str>,
        sidecar: Option<&[u8]>,
    ) -> PyResult<String> {
        py.detach(|| self.verifier.verify_content(content, name, sidecar))
            .map(|report| json(&report))
            .map_err(to_py)
    }
}

/// `text` without the invisible characters of an embedded content credential (C2PA's A.8
/// wrapper), NFC-normalised: what `tracemark detect` tests for a watermark.
#[pyfunction]
pub fn strip_credential(text: &str) -> String {
    tracemark::credentials::strip_wrappers(text)
}

/// A corpus index, opened once: `trace` finds the verbatim spans of a text in it, with
/// each source document's owner, licence and opt-out signals (`tracemark trace`).
#[pyclass(name = "CorpusIndex", module = "tracemark", frozen)]
pub struct PyIndex {
    index: Index,
}

impl std::fmt::Debug for PyIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "CorpusIndex({})", self.index.dir().display())
    }
}

#[pymethods]
impl PyIndex {
    /// The index in `path`; `tokenizer` is the model whose tokenizer a token-level index
    /// was built with (byte-level indexes need none).
    #[new]
    #[pyo3(signature = (path, tokenizer = None))]
    fn new(py: Python<'_>, path: PathBuf, tokenizer: Option<PathBuf>) -> PyResult<Self> {
        let index = py
            .detach(|| corpus::open(&path, tokenizer.as_deref()))
            .map_err(to_py)?;
        Ok(Self { index })
    }

    /// The maximal spans of `text` found verbatim, as `tracemark trace --json` prints.
    /// `usage` is the use whose opt-outs are reported (`tracemark trace --usage`).
    #[pyo3(signature = (text, *, min_tokens = None, all_spans = false, usage = None))]
    fn trace(
        &self,
        py: Python<'_>,
        text: &str,
        min_tokens: Option<usize>,
        all_spans: bool,
        usage: Option<&str>,
    ) -> PyResult<String> {
        let defaults = TraceOptions::default();
        let usage = match usage {
            Some(name) => serde_json::from_value::<AiUse>(name.into()).map_err(|_| {
                error::usage(
                    format!("`{name}` is not a use"),
                    "one of tdm, ai-train, genai-train, ai-input, ai-index, search",
                )
            })?,
            None => defaults.usage,
        };
        let options = TraceOptions {
            min_tokens: min_tokens.unwrap_or(defaults.min_tokens),
            keep_fraction: if all_spans {
                None
            } else {
                defaults.keep_fraction
            },
            usage,
            ..defaults
        };
        py.detach(|| tracemark::trace::trace(&self.index, text, &options))
            .map(|report| json(&report))
            .map_err(to_py)
    }

    /// What `tracemark corpus info --json` prints of the index.
    fn info(&self) -> String {
        json(&corpus::info(&self.index))
    }
}

/// A transparency log directory (`tracemark log init` makes one).
#[pyclass(name = "Log", module = "tracemark", frozen)]
#[derive(Debug)]
pub struct PyLog {
    site: LogSite,
}

#[pymethods]
impl PyLog {
    #[new]
    fn new(dir: PathBuf) -> PyResult<Self> {
        Ok(Self {
            site: LogSite::in_dir(&dir).map_err(to_py)?,
        })
    }

    /// Appends generation records (one JSON object, or JSON Lines) in one transaction;
    /// returns the entries as `tracemark log append --json` prints them.
    fn append(&self, py: Python<'_>, records: &str) -> PyResult<String> {
        py.detach(|| -> Result<String, Error> {
            let records = log::parse_records(records.as_bytes(), "records")?;
            let mut ledger = self.site.open()?;
            let appended = log::append(&mut ledger, &records)?;
            Ok(json(&serde_json::json!({
                "index": appended[0].index,
                "leaf_hash": appended[0].leaf_hash,
                "entries": appended,
                "tree_size": ledger.size().map_err(Error::Ledger)?,
            })))
        })
        .map_err(to_py)
    }

    /// An offline receipt (C2SP tlog-proof) for entry `index`, as text.
    #[pyo3(signature = (index, *, cosigned = false))]
    fn prove(&self, py: Python<'_>, index: u64, cosigned: bool) -> PyResult<String> {
        py.detach(|| -> Result<String, Error> {
            let mut ledger = self.site.open()?;
            let receipt = if cosigned {
                ledger.prove_cosigned(index, 1)
            } else {
                ledger.prove(index)
            }
            .map_err(Error::Ledger)?;
            Ok(receipt.to_text())
        })
        .map_err(to_py)
    }
}

/// Verifies a receipt offline as `tracemark log verify-receipt`: `trusted` only when a
/// log key you trust (`log_keys`, the `key.pub` files) signed it, with at least
/// `min_cosignatures` of the `witnesses` (their verifier-key files); `record` (JSON) is
/// the record it must prove, when the receipt does not carry its entry.
#[pyfunction]
#[pyo3(signature = (receipt, *, log_keys, witnesses = Vec::new(), min_cosignatures = None, record = None))]
pub fn verify_receipt(
    py: Python<'_>,
    receipt: &str,
    log_keys: Vec<PathBuf>,
    witnesses: Vec<PathBuf>,
    min_cosignatures: Option<usize>,
    record: Option<&str>,
) -> PyResult<String> {
    py.detach(|| -> Result<String, Error> {
        let mut trusted = TrustedKeys::default();
        for key in &log_keys {
            trusted.add_file(Role::Log, key)?;
        }
        let witnesses = witnesses
            .iter()
            .map(|w| read(w).map(|b| String::from_utf8_lossy(&b).into_owned()))
            .collect::<Result<Vec<_>, _>>()?;
        let record = match record {
            Some(text) => {
                let mut records = log::parse_records(text.as_bytes(), "record")?;
                if records.len() != 1 {
                    return Err(Error::usage("give exactly one record", None));
                }
                records.pop()
            }
            None => None,
        };
        let required = min_cosignatures.unwrap_or(witnesses.len());
        let checked = verify::receipt(
            receipt.as_bytes(),
            &trusted,
            &witnesses,
            required,
            record.as_ref(),
        )?;
        Ok(json(&checked.json))
    })
    .map_err(to_py)
}

/// Attribution with everything a configuration names (keys, tokenizer, trust anchors,
/// log, indexes) loaded once; `attribute` writes the evidence report.
#[pyclass(name = "Attributor", module = "tracemark", frozen)]
pub struct PyAttributor {
    config: Config,
    attributor: Attributor,
    /// The configured log's writer, opened by the first report logged.
    ledger: Mutex<Option<AnyLedger>>,
}

impl std::fmt::Debug for PyAttributor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Attributor")
            .field("attributor", &self.attributor)
            .finish_non_exhaustive()
    }
}

#[pymethods]
impl PyAttributor {
    /// The configuration `tracemark.toml` at `config`, else the one the CLI would find.
    #[new]
    #[pyo3(signature = (config = None))]
    fn new(py: Python<'_>, config: Option<PathBuf>) -> PyResult<Self> {
        py.detach(|| -> Result<Self, Error> {
            let (config, _) = Config::locate(config.as_deref())?;
            let attributor = Attributor::load(&config, Disclosure::Full);
            Ok(Self {
                config,
                attributor,
                ledger: Mutex::new(None),
            })
        })
        .map_err(to_py)
    }

    /// What could not be loaded (its facts are then unestablished, never assumed).
    fn problems(&self) -> Vec<String> {
        self.attributor.problems().to_vec()
    }

    /// The backend of the log that `attribute(..., log=True)` appends to (`sqlite` or
    /// `postgres`), or None when the configuration names no log key (`tracemark
    /// attribute` then logs nothing).
    #[getter]
    fn log_backend(&self) -> Option<&'static str> {
        self.config.keys.log.as_ref()?;
        Some(match self.config.log.location() {
            LogLocation::Postgres(_) => "postgres",
            LogLocation::Sqlite(_) | LogLocation::Default => "sqlite",
        })
    }

    /// The evidence report (`tracemark.evidence-report/v3`) of `content`, sealed with
    /// the configuration's service key when it has one. `generated_at` (RFC 3339) fixes
    /// the report's time (`tracemark attribute --generated-at`); `log` appends the
    /// report's hash to the configured log and puts the receipt in its seal, as
    /// `tracemark attribute` does.
    #[pyo3(signature = (content, *, name = None, sidecar = None, as_of = None, jurisdictions = None, ai_generated = None, generated_at = None, log = false))]
    #[allow(clippy::too_many_arguments)]
    fn attribute(
        &self,
        py: Python<'_>,
        content: &[u8],
        name: Option<&str>,
        sidecar: Option<&[u8]>,
        as_of: Option<&str>,
        jurisdictions: Option<Vec<String>>,
        ai_generated: Option<bool>,
        generated_at: Option<&str>,
        log: bool,
    ) -> PyResult<String> {
        py.detach(|| -> Result<String, Error> {
            let generated_at = generated_at
                .map(|t| {
                    t.parse::<Timestamp>()
                        .map_err(|e| Error::usage(format!("generated_at: {e}"), None))
                })
                .transpose()?;
            let as_of = match as_of {
                Some(date) => date
                    .parse()
                    .map_err(|e| Error::usage(format!("as_of {date:?}: {e}"), None))?,
                None => Timestamp::now().to_string()[..10]
                    .parse()
                    .expect("an RFC 3339 timestamp starts with a date"),
            };
            let jurisdictions = match jurisdictions {
                Some(list) => list
                    .iter()
                    .map(|j| j.parse())
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|e| Error::usage(format!("jurisdiction: {e}"), None))?,
                None => self.config.policy.jurisdictions.clone(),
            };
            // The command line that reproduces the report (the content saved as `name`).
            let command = attribute::command_line(
                name.unwrap_or("-"),
                as_of,
                &jurisdictions,
                ai_generated == Some(true),
                generated_at,
            );
            let request = Request {
                content: Content {
                    bytes: content,
                    name,
                    sidecar,
                },
                as_of,
                jurisdictions,
                ai_generated,
                command,
            };
            let mut report = self.attributor.attribute_at(&request, generated_at);
            attribute::seal(&mut report, self.config.keys.service.as_deref())?;
            if log {
                if self.config.keys.log.is_none() {
                    return Err(Error::usage(
                        "log=True, but the configuration names no log key",
                        Some("set [keys] log in tracemark.toml, or pass log=False".into()),
                    ));
                }
                let mut ledger = self.ledger.lock().unwrap_or_else(|e| e.into_inner());
                if ledger.is_none() {
                    *ledger = Some(LogSite::configured(&self.config)?.open()?);
                }
                let ledger = ledger.as_mut().expect("opened above");
                attribute::record_report(&mut report, ledger)?;
            }
            Ok(json(&report))
        })
        .map_err(to_py)
    }
}
