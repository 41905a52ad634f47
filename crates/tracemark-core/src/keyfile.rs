//! Key files and the key store: the one place where secrets touch the disk.
//!
//! Tracemark uses four kinds of keys ([`KeyKind`]). Each key file is versioned: JSON key
//! files carry `"format": "tracemark.<kind>-key/v<N>"`, and reading a file of the wrong
//! kind or version is an error that says so, never a silent misuse. Secret files are
//! written with mode 0600 through a temporary file and a rename (so an interrupted write
//! never leaves half a key), refuse to replace an existing key unless asked, and are
//! refused on read when other users can access them, as `ssh` does.

use std::{
    fmt,
    fs::{self, File},
    io::{self, Read, Write},
    path::{Path, PathBuf},
    str::FromStr,
};

use serde::{Deserialize, Serialize, de::DeserializeOwned};
use sha2::{Digest, Sha256};

use crate::{Diagnose, Fault};

/// The kinds of keys Tracemark uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyKind {
    /// A secret watermark key (one JSON file): it both marks and detects.
    Watermark,
    /// A content-credential signing key with its certificate chain (a directory).
    Signing,
    /// A transparency log's checkpoint key (a directory: C2SP signed-note keys).
    Log,
    /// The service key that signs detection results (a directory).
    Service,
}

impl KeyKind {
    pub const ALL: [KeyKind; 4] = [
        KeyKind::Watermark,
        KeyKind::Signing,
        KeyKind::Log,
        KeyKind::Service,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            KeyKind::Watermark => "watermark",
            KeyKind::Signing => "signing",
            KeyKind::Log => "log",
            KeyKind::Service => "service",
        }
    }

    /// The `format` value of this kind's JSON documents at `version`.
    pub fn format(self, version: u32) -> String {
        format!("tracemark.{}-key/v{version}", self.as_str())
    }

    /// Whether a key of this kind is stored as a directory of files rather than one file.
    pub fn is_directory(self) -> bool {
        self != KeyKind::Watermark
    }

    fn parse_format(format: &str) -> Option<(KeyKind, u32)> {
        let rest = format.strip_prefix("tracemark.")?;
        let (kind, version) = rest.split_once("-key/v")?;
        let kind = KeyKind::ALL.into_iter().find(|k| k.as_str() == kind)?;
        Some((kind, version.parse().ok()?))
    }
}

impl fmt::Display for KeyKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

/// A key's public name: 32 hex digits of a domain-separated SHA-256.
///
/// For key pairs it is derived from the public key, so anyone holding the public key can
/// recompute it; for a secret watermark key it is derived from the secret, which SHA-256
/// does not reveal. Reports, credentials and log records name keys by it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct KeyId(String);

impl KeyId {
    const HEX_DIGITS: usize = 32;

    /// `hex(SHA-256("tracemark key id v1" ‖ 0 ‖ kind ‖ 0 ‖ material))[..32]`.
    pub fn derive(kind: KeyKind, material: &[u8]) -> Self {
        let digest = Sha256::new()
            .chain_update(b"tracemark key id v1\0")
            .chain_update(kind.as_str())
            .chain_update(b"\0")
            .chain_update(material)
            .finalize();
        Self(hex::encode(&digest[..Self::HEX_DIGITS / 2]))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for KeyId {
    type Err = KeyFileError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let valid = s.len() == Self::HEX_DIGITS
            && s.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        if valid {
            Ok(Self(s.to_owned()))
        } else {
            Err(KeyFileError::BadKeyId(s.to_owned()))
        }
    }
}

impl TryFrom<String> for KeyId {
    type Error = KeyFileError;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<KeyId> for String {
    fn from(id: KeyId) -> String {
        id.0
    }
}

/// Everything that can go wrong with a key file or the key store.
#[derive(Debug, thiserror::Error)]
pub enum KeyFileError {
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: io::Error },
    #[error("cannot write {path}: {source}")]
    Write { path: PathBuf, source: io::Error },
    #[error("{path} already exists; refusing to replace a key")]
    Exists { path: PathBuf },
    #[error("{path} is accessible by other users (mode {mode:03o}); a secret key must be private")]
    LoosePermissions { path: PathBuf, mode: u32 },
    #[error("{path} is larger than {limit} bytes; it is not a key file")]
    TooLarge { path: PathBuf, limit: u64 },
    #[error("{path} is not a Tracemark key file: {reason}")]
    Malformed { path: PathBuf, reason: String },
    #[error("{path} is a {found} key, but a {expected} key is needed here")]
    WrongKind {
        path: PathBuf,
        expected: KeyKind,
        found: KeyKind,
    },
    #[error(
        "{path} is a {kind} key of format version {found}; this Tracemark reads version {supported}"
    )]
    UnsupportedVersion {
        path: PathBuf,
        kind: KeyKind,
        found: u32,
        supported: u32,
    },
    #[error("`{0}` is not a key id (32 lowercase hex digits)")]
    BadKeyId(String),
    #[error("`{0}` is not a key name (letters, digits, `.`, `_`, `-`; not starting with `.`)")]
    BadName(String),
    #[error("no key store: neither TRACEMARK_HOME nor HOME is set")]
    NoHome,
}

impl Diagnose for KeyFileError {
    fn fault(&self) -> Fault {
        match self {
            KeyFileError::Exists { .. } | KeyFileError::BadName(_) | KeyFileError::NoHome => {
                Fault::Usage
            }
            _ => Fault::Input,
        }
    }

    fn hint(&self) -> Option<String> {
        Some(match self {
            KeyFileError::Read { .. } => "check the path, and that you may read it".into(),
            KeyFileError::Write { path, .. } => {
                let dir = path.parent().unwrap_or(Path::new("."));
                format!(
                    "check that {} exists and that you may write to it",
                    dir.display()
                )
            }
            KeyFileError::Exists { .. } => {
                "choose another --out or --name, or pass --force to replace the key".into()
            }
            KeyFileError::LoosePermissions { path, .. } => {
                format!("run `chmod 600 {}`", path.display())
            }
            KeyFileError::WrongKind { expected, .. } => {
                format!("pass a {expected} key, made by `tracemark keygen {expected}`")
            }
            KeyFileError::UnsupportedVersion { .. } => {
                "use the Tracemark version that wrote it, or regenerate the key".into()
            }
            KeyFileError::Malformed { .. } | KeyFileError::TooLarge { .. } => {
                "pass a key made by `tracemark keygen`".into()
            }
            KeyFileError::NoHome => "set TRACEMARK_HOME to a directory for the key store".into(),
            KeyFileError::BadKeyId(_) | KeyFileError::BadName(_) => return None,
        })
    }
}

/// A versioned JSON key document of one kind.
pub trait KeyDocument: Serialize + DeserializeOwned {
    const KIND: KeyKind;
    const VERSION: u32;
    /// Whether the document holds secret material: written 0600 and refused on read when
    /// other users can access it.
    const SECRET: bool;
}

/// Whether a write may replace an existing file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Replace {
    No,
    Yes,
}

/// Whether a file holds secret material.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Secrecy {
    /// Mode 0600, checked on read.
    Secret,
    /// Mode 0644.
    Public,
}

/// No key file is this large; bigger input is refused before it is parsed.
pub const MAX_KEY_FILE_BYTES: u64 = 1 << 20;

#[derive(Serialize)]
struct Envelope<'a, T> {
    format: String,
    #[serde(flatten)]
    body: &'a T,
}

/// Writes `doc` as pretty JSON with its `format` field, atomically.
pub fn write_json<T: KeyDocument>(
    path: &Path,
    doc: &T,
    replace: Replace,
) -> Result<(), KeyFileError> {
    let envelope = Envelope {
        format: T::KIND.format(T::VERSION),
        body: doc,
    };
    let mut bytes = serde_json::to_vec_pretty(&envelope).map_err(|e| KeyFileError::Write {
        path: path.to_owned(),
        source: io::Error::other(e),
    })?;
    bytes.push(b'\n');
    let secrecy = if T::SECRET {
        Secrecy::Secret
    } else {
        Secrecy::Public
    };
    write_file(path, &bytes, secrecy, replace)
}

/// Reads a JSON key document, checking its kind, version and (for secrets) permissions.
pub fn read_json<T: KeyDocument>(path: &Path) -> Result<T, KeyFileError> {
    let secrecy = if T::SECRET {
        Secrecy::Secret
    } else {
        Secrecy::Public
    };
    let bytes = read_file(path, secrecy)?;
    let malformed = |reason: String| KeyFileError::Malformed {
        path: path.to_owned(),
        reason,
    };
    let mut value: serde_json::Value =
        serde_json::from_slice(&bytes).map_err(|e| malformed(format!("invalid JSON ({e})")))?;
    let format = value
        .as_object_mut()
        .ok_or_else(|| malformed("not a JSON object".into()))?
        .remove("format");
    let format = format
        .as_ref()
        .and_then(|f| f.as_str())
        .ok_or_else(|| malformed("no `format` field".into()))?;
    let (kind, version) = KeyKind::parse_format(format)
        .ok_or_else(|| malformed(format!("unknown format `{format}`")))?;
    if kind != T::KIND {
        return Err(KeyFileError::WrongKind {
            path: path.to_owned(),
            expected: T::KIND,
            found: kind,
        });
    }
    if version != T::VERSION {
        return Err(KeyFileError::UnsupportedVersion {
            path: path.to_owned(),
            kind,
            found: version,
            supported: T::VERSION,
        });
    }
    serde_json::from_value(value).map_err(|e| malformed(e.to_string()))
}

/// Writes `bytes` to `path` through a temporary file in the same directory, synced and
/// renamed into place, so that readers see the old file or the whole new one.
pub fn write_file(
    path: &Path,
    bytes: &[u8],
    secrecy: Secrecy,
    replace: Replace,
) -> Result<(), KeyFileError> {
    let write_err = |source| KeyFileError::Write {
        path: path.to_owned(),
        source,
    };
    if replace == Replace::No && path.exists() {
        return Err(KeyFileError::Exists {
            path: path.to_owned(),
        });
    }
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    // NamedTempFile creates the file with mode 0600 before any byte is written.
    let mut tmp = tempfile::Builder::new()
        .prefix(".tracemark-")
        .tempfile_in(dir)
        .map_err(write_err)?;
    tmp.write_all(bytes).map_err(write_err)?;
    if secrecy == Secrecy::Public {
        set_mode(tmp.as_file(), 0o644).map_err(write_err)?;
    }
    tmp.as_file().sync_all().map_err(write_err)?;
    match replace {
        Replace::Yes => tmp.persist(path).map(drop),
        // Fails if another process created the file since the check above.
        Replace::No => tmp.persist_noclobber(path).map(drop),
    }
    .map_err(|e| match e.error.kind() {
        io::ErrorKind::AlreadyExists => KeyFileError::Exists {
            path: path.to_owned(),
        },
        _ => write_err(e.error),
    })?;
    // Make the rename itself durable.
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(write_err)
}

/// Reads a key file of at most [`MAX_KEY_FILE_BYTES`], refusing secrets that other users
/// can access.
pub fn read_file(path: &Path, secrecy: Secrecy) -> Result<Vec<u8>, KeyFileError> {
    let read_err = |source| KeyFileError::Read {
        path: path.to_owned(),
        source,
    };
    let file = File::open(path).map_err(read_err)?;
    let meta = file.metadata().map_err(read_err)?;
    if meta.is_dir() {
        return Err(read_err(io::Error::new(
            io::ErrorKind::IsADirectory,
            "it is a directory",
        )));
    }
    if secrecy == Secrecy::Secret {
        let mode = file_mode(&meta);
        if mode & 0o077 != 0 {
            return Err(KeyFileError::LoosePermissions {
                path: path.to_owned(),
                mode,
            });
        }
    }
    let mut bytes = Vec::new();
    file.take(MAX_KEY_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(read_err)?;
    if bytes.len() as u64 > MAX_KEY_FILE_BYTES {
        return Err(KeyFileError::TooLarge {
            path: path.to_owned(),
            limit: MAX_KEY_FILE_BYTES,
        });
    }
    Ok(bytes)
}

#[cfg(unix)]
fn set_mode(file: &File, mode: u32) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    file.set_permissions(fs::Permissions::from_mode(mode))
}

#[cfg(not(unix))]
fn set_mode(_file: &File, _mode: u32) -> io::Result<()> {
    Ok(())
}

#[cfg(unix)]
fn file_mode(meta: &fs::Metadata) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    meta.permissions().mode() & 0o777
}

#[cfg(not(unix))]
fn file_mode(_meta: &fs::Metadata) -> u32 {
    0o600
}

/// The key store: a directory (`$TRACEMARK_HOME`, else `~/.tracemark`) holding keys by
/// kind and name, `keys/<kind>/<name>.json` for watermark keys and `keys/<kind>/<name>/`
/// for the others.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyStore {
    root: PathBuf,
}

/// A key found in the store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoredKey {
    pub kind: KeyKind,
    pub name: String,
    pub path: PathBuf,
}

impl KeyStore {
    pub const DEFAULT_NAME: &'static str = "default";

    /// The store named by `TRACEMARK_HOME`, else `~/.tracemark`. Nothing is created.
    pub fn locate() -> Result<Self, KeyFileError> {
        let from_env = |var| {
            std::env::var_os(var)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        };
        if let Some(home) = from_env("TRACEMARK_HOME") {
            return Ok(Self::at(home));
        }
        from_env("HOME")
            .map(|home| Self::at(home.join(".tracemark")))
            .ok_or(KeyFileError::NoHome)
    }

    pub fn at(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Where the key `name` of `kind` lives (a file or a directory, by kind).
    pub fn path_of(&self, kind: KeyKind, name: &str) -> Result<PathBuf, KeyFileError> {
        let valid = !name.is_empty()
            && !name.starts_with('.')
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b));
        if !valid {
            return Err(KeyFileError::BadName(name.to_owned()));
        }
        let dir = self.root.join("keys").join(kind.as_str());
        Ok(if kind.is_directory() {
            dir.join(name)
        } else {
            dir.join(format!("{name}.json"))
        })
    }

    /// Creates the directories up to `path` (inside the store or not), private to the
    /// user when they are new.
    pub fn create_private_dir(path: &Path) -> Result<(), KeyFileError> {
        let mut builder = fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        builder.create(path).map_err(|source| KeyFileError::Write {
            path: path.to_owned(),
            source,
        })
    }

    /// Every key in the store, by kind and name.
    pub fn list(&self) -> Result<Vec<StoredKey>, KeyFileError> {
        let mut keys = Vec::new();
        for kind in KeyKind::ALL {
            let dir = self.root.join("keys").join(kind.as_str());
            let entries = match fs::read_dir(&dir) {
                Ok(entries) => entries,
                Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                Err(source) => return Err(KeyFileError::Read { path: dir, source }),
            };
            for entry in entries {
                let path = entry
                    .map_err(|source| KeyFileError::Read {
                        path: dir.clone(),
                        source,
                    })?
                    .path();
                let Some(file_name) = path.file_name().and_then(|n| n.to_str()) else {
                    continue;
                };
                let name = match kind.is_directory() {
                    true if path.is_dir() => file_name,
                    false => match file_name.strip_suffix(".json") {
                        Some(name) => name,
                        None => continue,
                    },
                    true => continue,
                };
                if !name.starts_with('.') {
                    keys.push(StoredKey {
                        kind,
                        name: name.to_owned(),
                        path,
                    });
                }
            }
        }
        keys.sort_by(|a, b| (a.kind, &a.name).cmp(&(b.kind, &b.name)));
        Ok(keys)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct TestKey {
        key_id: KeyId,
        secret: String,
    }

    impl KeyDocument for TestKey {
        const KIND: KeyKind = KeyKind::Watermark;
        const VERSION: u32 = 1;
        const SECRET: bool = true;
    }

    #[derive(Debug, Serialize, Deserialize)]
    struct PublicServiceKey {
        key_id: KeyId,
    }

    impl KeyDocument for PublicServiceKey {
        const KIND: KeyKind = KeyKind::Service;
        const VERSION: u32 = 1;
        const SECRET: bool = false;
    }

    fn test_key() -> TestKey {
        TestKey {
            key_id: KeyId::derive(KeyKind::Watermark, b"s3cret"),
            secret: "s3cret".into(),
        }
    }

    #[cfg(unix)]
    fn mode(path: &Path) -> u32 {
        file_mode(&fs::metadata(path).unwrap())
    }

    #[test]
    fn secret_round_trip_is_private_and_versioned() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.json");
        write_json(&path, &test_key(), Replace::No).unwrap();
        #[cfg(unix)]
        assert_eq!(mode(&path), 0o600);
        let text = fs::read_to_string(&path).unwrap();
        assert!(
            text.contains(r#""format": "tracemark.watermark-key/v1""#),
            "{text}"
        );
        assert_eq!(read_json::<TestKey>(&path).unwrap(), test_key());
        // No stray temporary files.
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn never_replaces_a_key_unless_asked() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.json");
        write_file(&path, b"first", Secrecy::Secret, Replace::No).unwrap();
        let err = write_file(&path, b"second", Secrecy::Secret, Replace::No).unwrap_err();
        assert!(matches!(err, KeyFileError::Exists { .. }));
        assert_eq!(err.fault(), Fault::Usage);
        assert_eq!(fs::read(&path).unwrap(), b"first");
        write_file(&path, b"second", Secrecy::Secret, Replace::Yes).unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"second");
    }

    #[cfg(unix)]
    #[test]
    fn refuses_secrets_readable_by_others() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.json");
        write_json(&path, &test_key(), Replace::No).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
        let err = read_json::<TestKey>(&path).unwrap_err();
        assert!(
            matches!(err, KeyFileError::LoosePermissions { mode: 0o644, .. }),
            "{err}"
        );
        assert!(err.hint().unwrap().contains("chmod 600"));
    }

    #[test]
    fn names_the_wrong_kind_and_version() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.json");
        let pub_key = PublicServiceKey {
            key_id: KeyId::derive(KeyKind::Service, b"pk"),
        };
        write_json(&path, &pub_key, Replace::No).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
        }
        let err = read_json::<TestKey>(&path).unwrap_err();
        assert!(
            matches!(
                err,
                KeyFileError::WrongKind {
                    expected: KeyKind::Watermark,
                    found: KeyKind::Service,
                    ..
                }
            ),
            "{err}"
        );

        let v2 = r#"{"format":"tracemark.watermark-key/v2","key_id":"00000000000000000000000000000000","secret":"x"}"#;
        write_file(&path, v2.as_bytes(), Secrecy::Secret, Replace::Yes).unwrap();
        let err = read_json::<TestKey>(&path).unwrap_err();
        assert!(
            matches!(
                err,
                KeyFileError::UnsupportedVersion {
                    found: 2,
                    supported: 1,
                    ..
                }
            ),
            "{err}"
        );
    }

    #[test]
    fn malformed_truncated_and_oversized_files_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.json");
        let full = serde_json::to_vec(&Envelope {
            format: KeyKind::Watermark.format(1),
            body: &test_key(),
        })
        .unwrap();
        let cases: Vec<Vec<u8>> = vec![
            Vec::new(),
            full[..full.len() / 2].to_vec(),
            b"[1,2,3]".to_vec(),
            br#"{"key_id":"00000000000000000000000000000000","secret":"x"}"#.to_vec(),
            br#"{"format":"something-else/v1"}"#.to_vec(),
            br#"{"format":"tracemark.watermark-key/v1","key_id":"nothex","secret":"x"}"#.to_vec(),
            br#"{"format":"tracemark.watermark-key/v1","key_id":"00000000000000000000000000000000","secret":"x","extra":1}"#.to_vec(),
            vec![0xff, 0xfe, 0x00],
        ];
        for bytes in cases {
            write_file(&path, &bytes, Secrecy::Secret, Replace::Yes).unwrap();
            let err = read_json::<TestKey>(&path).unwrap_err();
            assert!(matches!(err, KeyFileError::Malformed { .. }), "{err}");
            assert_eq!(err.fault(), Fault::Input);
        }
        let huge = vec![b' '; MAX_KEY_FILE_BYTES as usize + 1];
        write_file(&path, &huge, Secrecy::Secret, Replace::Yes).unwrap();
        assert!(matches!(
            read_json::<TestKey>(&path),
            Err(KeyFileError::TooLarge { .. })
        ));
        let missing = read_json::<TestKey>(&dir.path().join("missing.json")).unwrap_err();
        assert!(matches!(missing, KeyFileError::Read { .. }));
    }

    #[test]
    fn store_lays_out_keys_by_kind_and_name() {
        let dir = tempfile::tempdir().unwrap();
        let store = KeyStore::at(dir.path());
        let wm = store.path_of(KeyKind::Watermark, "default").unwrap();
        assert_eq!(wm, dir.path().join("keys/watermark/default.json"));
        assert_eq!(
            store.path_of(KeyKind::Log, "main").unwrap(),
            dir.path().join("keys/log/main")
        );
        for bad in ["", ".hidden", "a/b", "../x", "sp ace"] {
            assert!(store.path_of(KeyKind::Log, bad).is_err(), "{bad:?}");
        }
        KeyStore::create_private_dir(wm.parent().unwrap()).unwrap();
        write_json(&wm, &test_key(), Replace::No).unwrap();
        KeyStore::create_private_dir(&store.path_of(KeyKind::Log, "main").unwrap()).unwrap();
        let names: Vec<_> = store
            .list()
            .unwrap()
            .into_iter()
            .map(|k| (k.kind, k.name))
            .collect();
        assert_eq!(
            names,
            [
                (KeyKind::Watermark, "default".into()),
                (KeyKind::Log, "main".into())
            ]
        );
    }

    #[test]
    fn key_ids_are_domain_separated_and_checked() {
        let a = KeyId::derive(KeyKind::Watermark, b"material");
        let b = KeyId::derive(KeyKind::Service, b"material");
        assert_ne!(a, b);
        assert_eq!(a.as_str().len(), 32);
        assert_eq!(a.as_str().parse::<KeyId>().unwrap(), a);
        assert!("ABCDEF00000000000000000000000000".parse::<KeyId>().is_err());
    }
}
