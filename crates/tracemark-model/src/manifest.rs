//! The signed manifest: an in-toto Statement v1 whose predicate
//! (`https://model_signing/signature/v1.0`) lists every resource's digest and how the
//! model was serialised (OMS v1.0 §5, §6.4–6.6), and the root digest over them.

use std::path::Path;

use serde::Serialize;
use serde_json::Value;

use crate::{
    digest::{self, HashType, Method},
    error::{ModelError, Result},
    walk::{self, Exclusions},
};

pub const STATEMENT_TYPE: &str = "https://in-toto.io/Statement/v1";
pub const PREDICATE_TYPE: &str = "https://model_signing/signature/v1.0";
/// model_signing 0.2.0's predicate: digests in `subject`; verified, never produced.
pub const PREDICATE_TYPE_V01: &str = "https://model_signing/Digests/v0.1";
pub const PAYLOAD_TYPE: &str = "application/vnd.in-toto+json";

/// How the model was serialised (`predicate.serialization`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Serialization {
    pub method: Method,
    pub hash: HashType,
    pub allow_symlinks: bool,
    /// `ignore_paths` as recorded (absent in bundles before model_signing 1.1.0).
    pub ignore_paths: Option<Vec<String>>,
}

/// One signed file or shard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resource {
    pub name: String,
    pub algorithm: String,
    pub digest: Vec<u8>,
}

/// Which predicate a statement carried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Predicate {
    V1,
    /// The deprecated v0.1 predicate (model_signing 0.2.0).
    V01,
}

/// A model's manifest: what a statement says, or what hashing a directory found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manifest {
    /// `subject[0].name`: informational only.
    pub model_name: String,
    pub serialization: Serialization,
    /// In the statement's order (sorted by name, code point order, when made here).
    pub resources: Vec<Resource>,
    pub predicate: Predicate,
    /// `subject[0].digest.sha256` as the statement states it (`None` for v0.1).
    pub stated_root: Option<[u8; 32]>,
}

/// What to hash and how.
#[derive(Debug, Clone)]
pub struct HashOptions {
    pub method: Method,
    pub hash: HashType,
    pub exclusions: Exclusions,
    pub allow_symlinks: bool,
}

impl Default for HashOptions {
    /// `files`, SHA-256, the default exclusions, no links: the model identity's options.
    fn default() -> Self {
        Self {
            method: Method::Files,
            hash: HashType::Sha256,
            exclusions: Exclusions::defaults(),
            allow_symlinks: false,
        }
    }
}

impl Manifest {
    /// Hashes the model at `root` (a directory or a single file).
    pub fn of_model(root: &Path, options: &HashOptions) -> Result<Self> {
        let entries = walk::enumerate(root, &options.exclusions, options.allow_symlinks)?;
        Self::of_entries(root, &entries, options)
    }

    /// Hashes the given files of the model at `root`.
    pub fn of_entries(root: &Path, entries: &[walk::Entry], options: &HashOptions) -> Result<Self> {
        #[cfg(feature = "blake3")]
        if options.hash == HashType::Blake3 && matches!(options.method, Method::Shards { .. }) {
            return Err(ModelError::Usage(
                "blake3 with shards: model_signing 1.1.1 hashes whole files instead and would not verify such a bundle; use --method files with blake3 (BLAKE3 already hashes a file on every core)".into(),
            ));
        }
        if let Method::Shards { shard_size: 0 } = options.method {
            return Err(ModelError::Usage("the shard size must be positive".into()));
        }
        let items = digest::items(entries, options.method);
        let digests = digest::hash_items(&items, options.hash)?;
        let algorithm = resource_algorithm(options.hash, options.method);
        let mut resources: Vec<Resource> = items
            .iter()
            .zip(digests)
            .map(|(item, digest)| Resource {
                name: item.name(),
                algorithm: algorithm.clone(),
                digest,
            })
            .collect();
        // Code point order of the names (byte order of their UTF-8), as §5.2.1 says.
        resources.sort_by(|a, b| a.name.cmp(&b.name));
        let recorded = options.exclusions.recorded();
        let mut manifest = Manifest {
            model_name: model_name(root),
            serialization: Serialization {
                method: options.method,
                hash: options.hash,
                allow_symlinks: options.allow_symlinks,
                ignore_paths: (!recorded.is_empty()).then_some(recorded),
            },
            resources,
            predicate: Predicate::V1,
            stated_root: None,
        };
        manifest.stated_root = Some(manifest.root_digest());
        Ok(manifest)
    }

    /// SHA-256 over the raw resource digests in the manifest's order.
    pub fn root_digest(&self) -> [u8; 32] {
        digest::root_digest(self.resources.iter().map(|r| r.digest.as_slice()))
    }

    /// `sha256:HEX` of [`Manifest::root_digest`].
    pub fn root_digest_id(&self) -> String {
        format!("sha256:{}", hex::encode(self.root_digest()))
    }

    /// The in-toto statement's JSON bytes: what the DSSE envelope signs.
    pub fn statement_json(&self) -> Vec<u8> {
        #[derive(Serialize)]
        struct Statement<'a> {
            _type: &'static str,
            subject: [Subject<'a>; 1],
            #[serde(rename = "predicateType")]
            predicate_type: &'static str,
            predicate: PredicateBody<'a>,
        }
        #[derive(Serialize)]
        struct Subject<'a> {
            name: &'a str,
            digest: RootDigest,
        }
        #[derive(Serialize)]
        struct RootDigest {
            sha256: String,
        }
        #[derive(Serialize)]
        struct PredicateBody<'a> {
            serialization: SerializationBody<'a>,
            resources: Vec<ResourceBody<'a>>,
        }
        #[derive(Serialize)]
        struct SerializationBody<'a> {
            method: &'static str,
            hash_type: &'static str,
            #[serde(skip_serializing_if = "Option::is_none")]
            shard_size: Option<u64>,
            allow_symlinks: bool,
            #[serde(skip_serializing_if = "Option::is_none")]
            ignore_paths: Option<&'a [String]>,
        }
        #[derive(Serialize)]
        struct ResourceBody<'a> {
            name: &'a str,
            algorithm: &'a str,
            digest: String,
        }
        let s = &self.serialization;
        let statement = Statement {
            _type: STATEMENT_TYPE,
            subject: [Subject {
                name: &self.model_name,
                digest: RootDigest {
                    sha256: hex::encode(self.root_digest()),
                },
            }],
            predicate_type: PREDICATE_TYPE,
            predicate: PredicateBody {
                serialization: SerializationBody {
                    method: s.method.name(),
                    hash_type: s.hash.name(),
                    shard_size: match s.method {
                        Method::Files => None,
                        Method::Shards { shard_size } => Some(shard_size),
                    },
                    allow_symlinks: s.allow_symlinks,
                    ignore_paths: s.ignore_paths.as_deref(),
                },
                resources: self
                    .resources
                    .iter()
                    .map(|r| ResourceBody {
                        name: &r.name,
                        algorithm: &r.algorithm,
                        digest: hex::encode(&r.digest),
                    })
                    .collect(),
            },
        };
        serde_json::to_vec_pretty(&statement).expect("a statement serialises")
    }

    /// Reads a statement (the DSSE payload's exact bytes). `source` names it in errors.
    pub fn from_statement(payload: &[u8], source: &str) -> Result<Self> {
        let bad = |why: String| ModelError::bundle(source, why);
        let v: Value = serde_json::from_slice(payload)
            .map_err(|e| bad(format!("the signed payload is not JSON ({e})")))?;
        let ty = str_at(&v, "_type").ok_or_else(|| bad("the statement has no `_type`".into()))?;
        if ty != STATEMENT_TYPE {
            return Err(bad(format!(
                "the payload is a `{ty}`, not an in-toto Statement v1 ({STATEMENT_TYPE})"
            )));
        }
        let predicate_type = str_at(&v, "predicateType")
            .ok_or_else(|| bad("the statement has no `predicateType`".into()))?;
        match predicate_type {
            PREDICATE_TYPE => Self::from_v1(&v, source),
            PREDICATE_TYPE_V01 => Self::from_v01(&v, source),
            other => Err(bad(format!(
                "predicate type `{other}` is not a model signature ({PREDICATE_TYPE})"
            ))),
        }
    }

    fn from_v1(v: &Value, source: &str) -> Result<Self> {
        let bad = |why: String| ModelError::bundle(source, why);
        let subjects = v
            .get("subject")
            .and_then(Value::as_array)
            .ok_or_else(|| bad("the statement has no `subject` list".into()))?;
        let [subject] = subjects.as_slice() else {
            return Err(bad(format!(
                "the statement has {} subjects; a model signature has one",
                subjects.len()
            )));
        };
        let model_name = str_at(subject, "name")
            .filter(|n| !n.is_empty())
            .ok_or_else(|| bad("the subject has no name".into()))?
            .to_owned();
        let root_hex = subject
            .get("digest")
            .and_then(|d| d.get("sha256"))
            .and_then(Value::as_str)
            .ok_or_else(|| bad("the subject has no sha256 digest".into()))?;
        let stated_root: [u8; 32] = hex::decode(root_hex)
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| {
                bad(format!(
                    "the subject's digest `{root_hex}` is not 32 bytes of hex"
                ))
            })?;
        let predicate = v
            .get("predicate")
            .filter(|p| p.is_object())
            .ok_or_else(|| bad("the statement has no predicate".into()))?;
        let ser = predicate
            .get("serialization")
            .filter(|p| p.is_object())
            .ok_or_else(|| bad("the predicate has no `serialization`".into()))?;
        let method_name =
            str_at(ser, "method").ok_or_else(|| bad("`serialization.method` is missing".into()))?;
        let method = match method_name {
            "files" => Method::Files,
            "shards" => {
                // model_signing writes it through a protobuf Struct: `300000.0`.
                let shard_size = ser
                    .get("shard_size")
                    .and_then(|v| {
                        v.as_u64().or_else(|| {
                            v.as_f64()
                                .filter(|f| f.fract() == 0.0 && *f > 0.0 && *f < 9.0e15)
                                .map(|f| f as u64)
                        })
                    })
                    .filter(|&s| s > 0)
                    .ok_or_else(|| {
                        bad("`shards` needs a positive `serialization.shard_size`".into())
                    })?;
                Method::Shards { shard_size }
            }
            other => {
                return Err(bad(format!(
                    "serialization method `{other}` is unknown (files, shards)"
                )));
            }
        };
        let hash_name = str_at(ser, "hash_type")
            .ok_or_else(|| bad("`serialization.hash_type` is missing".into()))?;
        let hash = HashType::parse(hash_name).map_err(|e| bad(e.to_string()))?;
        let allow_symlinks = match ser.get("allow_symlinks") {
            Some(Value::Bool(b)) => *b,
            _ => return Err(bad("`serialization.allow_symlinks` is not a boolean".into())),
        };
        let ignore_paths = match ser.get("ignore_paths") {
            None | Some(Value::Null) => None,
            Some(Value::Array(list)) => Some(
                list.iter()
                    .map(|p| {
                        let p = p
                            .as_str()
                            .ok_or_else(|| bad("an ignore path is not a string".into()))?;
                        walk::canonical_ignore_path(p).map_err(|e| bad(format!("recorded {e}")))
                    })
                    .collect::<Result<Vec<_>>>()?,
            ),
            Some(_) => return Err(bad("`serialization.ignore_paths` is not a list".into())),
        };
        let list = predicate
            .get("resources")
            .and_then(Value::as_array)
            .ok_or_else(|| bad("the predicate has no `resources` list".into()))?;
        if list.is_empty() {
            return Err(bad("the manifest lists no resource".into()));
        }
        let mut resources = Vec::with_capacity(list.len());
        for r in list {
            let name = str_at(r, "name")
                .filter(|n| !n.is_empty())
                .ok_or_else(|| bad("a resource has no name".into()))?;
            let algorithm = str_at(r, "algorithm")
                .ok_or_else(|| bad(format!("resource `{name}` has no algorithm")))?;
            if algorithm != hash.name() && algorithm != resource_algorithm(hash, method) {
                return Err(bad(format!(
                    "resource `{name}` is hashed with `{algorithm}`, the serialization with `{}`",
                    hash.name()
                )));
            }
            let digest_hex = str_at(r, "digest")
                .ok_or_else(|| bad(format!("resource `{name}` has no digest")))?;
            let digest = hex::decode(digest_hex)
                .ok()
                .filter(|d| d.len() == hash.digest_len())
                .ok_or_else(|| {
                    bad(format!(
                        "resource `{name}`'s digest is not {} bytes of hex",
                        hash.digest_len()
                    ))
                })?;
            resources.push(Resource {
                name: name.to_owned(),
                algorithm: algorithm.to_owned(),
                digest,
            });
        }
        Ok(Manifest {
            model_name,
            serialization: Serialization {
                method,
                hash,
                allow_symlinks,
                ignore_paths,
            },
            resources,
            predicate: Predicate::V1,
            stated_root: Some(stated_root),
        })
    }

    fn from_v01(v: &Value, source: &str) -> Result<Self> {
        let bad = |why: String| ModelError::bundle(source, why);
        let subjects = v
            .get("subject")
            .and_then(Value::as_array)
            .filter(|s| !s.is_empty())
            .ok_or_else(|| bad("the v0.1 statement lists no subject".into()))?;
        let mut resources = Vec::with_capacity(subjects.len());
        for s in subjects {
            let name = str_at(s, "name")
                .filter(|n| !n.is_empty())
                .ok_or_else(|| bad("a subject has no name".into()))?;
            let digest = s
                .get("digest")
                .and_then(|d| d.get("sha256"))
                .and_then(Value::as_str)
                .and_then(|h| hex::decode(h).ok())
                .filter(|d| d.len() == 32)
                .ok_or_else(|| bad(format!("subject `{name}` has no sha256 digest")))?;
            resources.push(Resource {
                name: name.to_owned(),
                algorithm: "sha256".into(),
                digest,
            });
        }
        Ok(Manifest {
            model_name: String::new(),
            serialization: Serialization {
                method: Method::Files,
                hash: HashType::Sha256,
                allow_symlinks: false,
                ignore_paths: None,
            },
            resources,
            predicate: Predicate::V01,
            stated_root: None,
        })
    }
}

/// A resource's `algorithm`: the hash's name for `files`; for `shards`
/// `HASH-sharded-SIZE`, which is what model_signing (1.1.1) writes and the only form it
/// verifies (the spec says the hash's name alone; both are read here).
pub fn resource_algorithm(hash: HashType, method: Method) -> String {
    match method {
        Method::Files => hash.name().to_owned(),
        Method::Shards { shard_size } => format!("{}-sharded-{shard_size}", hash.name()),
    }
}

fn str_at<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

/// The model's name: the final component of its path (of the resolved path for `.`).
pub fn model_name(root: &Path) -> String {
    let name = root.file_name().and_then(|n| n.to_str()).map(str::to_owned);
    name.or_else(|| {
        std::fs::canonicalize(root)
            .ok()
            .and_then(|p| p.file_name().and_then(|n| n.to_str()).map(str::to_owned))
    })
    .filter(|n| !n.is_empty())
    .unwrap_or_else(|| "model".to_owned())
}
