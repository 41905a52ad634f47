//! What a running server holds, loaded once at start: what attribution reads (the
//! detection keys and their tokenizer, which never leave the server, the trust anchors,
//! the corpus indexes, read handles to the log), the generator, the service key that
//! signs results, the API tokens, and the log's writer, which only authenticated
//! requests use.

use std::{
    collections::HashSet,
    path::Path,
    sync::{Arc, Mutex},
    time::Duration,
};

use sha2::{Digest, Sha256};
use tracemark::{
    Config, Error, Result,
    attribute::{Attributor, Disclosure, service_signer},
    core::keyfile::{self, Replace, Secrecy},
    ledger::note::NoteSigner,
    lm::LoadedModel,
    log::{AnyLedger, LogSite},
    mark::Marker,
    model::ModelSource,
};

use crate::guard::{Metrics, RateLimiter};

/// Limits a deployment sets in `[server]`; each has a default fit for one machine.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_body_bytes: usize,
    pub request_timeout: Duration,
    pub token_rate: f64,
    pub anonymous_rate: f64,
    /// The most tokens one completion may ask for.
    pub max_completion_tokens: usize,
    /// How often the log's writer checks for entries no signed checkpoint covers.
    pub checkpoint_interval: Duration,
}

impl Limits {
    fn of(config: &Config) -> Self {
        let s = &config.server;
        Self {
            // A 4 MiB file, base64-encoded in JSON, with room to spare.
            max_body_bytes: s.max_body_bytes.unwrap_or(6 << 20),
            request_timeout: Duration::from_secs(s.request_timeout_secs.unwrap_or(30)),
            token_rate: s.token_rate.unwrap_or(20.0),
            anonymous_rate: s.anonymous_rate.unwrap_or(10.0),
            max_completion_tokens: 1024,
            checkpoint_interval: Duration::from_secs(s.checkpoint_interval_secs.unwrap_or(10)),
        }
    }
}

/// The model and the marking station, used by one generation at a time.
#[derive(Debug)]
pub struct Generator {
    pub loaded: LoadedModel,
    pub marker: Marker,
}

/// The shortest API token accepted: a token is a bearer secret, and a short one can be
/// guessed.
pub const MIN_TOKEN_CHARS: usize = 16;

/// The SHA-256 of the API tokens: a token is checked by its hash, so the server never
/// needs to keep (or could leak) the tokens themselves.
#[derive(Debug, Default)]
pub struct ApiTokens(HashSet<[u8; 32]>);

impl ApiTokens {
    /// Reads a tokens file: one token a line, blank lines and `#` comments ignored.
    pub fn read(path: &Path) -> Result<Self> {
        // Read as a secret: refused when other users can read it.
        let bytes = keyfile::read_file(path, Secrecy::Secret)?;
        let text = String::from_utf8(bytes)
            .map_err(|_| Error::input(format!("{} is not UTF-8 text", path.display()), None))?;
        let tokens = Self::parse(&text).map_err(|line| {
            Error::input(
                format!(
                    "{}: the token on line {line} is shorter than {MIN_TOKEN_CHARS} characters",
                    path.display()
                ),
                Some("use long random tokens (`openssl rand -hex 32` makes one)".into()),
            )
        })?;
        if tokens.0.is_empty() {
            return Err(Error::input(
                format!("{} holds no API token", path.display()),
                Some("write one token a line (at least 16 characters)".into()),
            ));
        }
        Ok(tokens)
    }

    /// Writes a fresh random token (256 bits, hex) to `path` (mode 0600), for a
    /// deployment's first start; an existing file is kept.
    pub fn create_file(path: &Path) -> Result<()> {
        if path.exists() {
            return Ok(());
        }
        let mut bytes = [0u8; 32];
        rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut bytes);
        let text = format!(
            "# API tokens of this service, one a line: `Authorization: Bearer <token>`.\n{}\n",
            hex::encode(bytes)
        );
        keyfile::write_file(path, text.as_bytes(), Secrecy::Secret, Replace::No)?;
        Ok(())
    }

    /// The tokens of a tokens file, or the line of the first that is too short.
    fn parse(text: &str) -> std::result::Result<Self, usize> {
        let mut hashes = HashSet::new();
        for (i, line) in text.lines().enumerate() {
            let token = line.trim();
            if token.is_empty() || token.starts_with('#') {
                continue;
            }
            if token.chars().count() < MIN_TOKEN_CHARS {
                return Err(i + 1);
            }
            hashes.insert(Sha256::digest(token.as_bytes()).into());
        }
        Ok(Self(hashes))
    }

    /// The token's public name (the first 8 hex digits of its hash) when it is valid.
    pub fn check(&self, token: &str) -> Option<String> {
        let hash: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        self.0.contains(&hash).then(|| hex::encode(&hash[..4]))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// Everything a request may use. Shared by every request; the parts that change are
/// behind mutexes and used on blocking threads.
pub struct Service {
    pub config: Config,
    /// What the checking endpoints read: loaded once, only ever read.
    pub attributor: Attributor,
    pub generator: Option<Mutex<Generator>>,
    /// The media marking station (`POST /v1/media/mark`), when media keys and a signing
    /// key are configured.
    pub media_marker: Option<Mutex<tracemark::media::MediaMarker>>,
    /// The model's name as `/v1/models` lists it.
    pub model_name: Option<String>,
    /// The provider named in the credentials and records of its generations.
    pub provider: Option<String>,
    pub signer: Option<NoteSigner>,
    pub tokens: ApiTokens,
    /// The log's writer, for logging the reports of callers with a token (reads go
    /// through the attributor's read handles).
    pub log: Option<Mutex<AnyLedger>>,
    pub limits: Limits,
    pub metrics: Metrics,
    pub rates: RateLimiter,
    /// Anonymous queries running at once (see `api::query`).
    pub read_slots: tokio::sync::Semaphore,
}

impl std::fmt::Debug for Service {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Service")
            .field("attributor", &self.attributor)
            .field("model", &self.model_name)
            .field("log", &self.log.is_some())
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

impl Service {
    /// The log's writer, locked (a poisoned lock is taken over: the log's own
    /// transactions keep it consistent whatever a panicking request left undone).
    pub fn writer(&self) -> Option<std::sync::MutexGuard<'_, AnyLedger>> {
        self.log
            .as_ref()
            .map(|log| log.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// Signs a checkpoint if the log grew without one (nothing is written otherwise).
    pub fn sign_checkpoint_if_grown(&self) -> Result<()> {
        if let Some(mut writer) = self.writer() {
            writer.checkpoint().map_err(tracemark::Error::Ledger)?;
        }
        Ok(())
    }

    /// Loads everything the configuration names. What is not configured is simply not
    /// offered (a service without a model does not generate); what is configured but
    /// broken (a key, the trust anchors, an index, the log) is an error now, not at the
    /// first request.
    pub fn open(config: Config) -> Result<Arc<Self>> {
        let limits = Limits::of(&config);
        let tokens = match &config.server.tokens_file {
            Some(path) => ApiTokens::read(path)?,
            None => ApiTokens::default(),
        };
        let signer = config
            .keys
            .service
            .as_deref()
            .map(service_signer)
            .transpose()?;
        // The writer first: it creates the log that the attributor's readers open.
        let log = match config.keys.log {
            Some(_) => Some(Mutex::new(LogSite::configured(&config)?.open()?)),
            None => None,
        };
        // Answers leave the machine: reasons name what failed, not where (the details
        // go to standard error).
        let attributor = Attributor::load(&config, Disclosure::Private);
        if let [first, ..] = attributor.problems() {
            return Err(Error::usage(
                format!("cannot serve: {}", attributor.problems().join("; ")),
                Some(format!(
                    "fix the configuration, or remove what it names ({first})"
                )),
            ));
        }
        let source = ModelSource::choose(None, &config).ok();
        let (generator, model_name, provider) = match (&source, config.keys.signing.is_some()) {
            (Some(source), true) if !tracemark::media::text_key_paths(&config).is_empty() => {
                let loaded = source.load()?;
                let marker = Marker::open(&config, &loaded)?;
                let name = loaded.name.clone();
                let provider = marker.provider().to_owned();
                let generator = Mutex::new(Generator { loaded, marker });
                (Some(generator), Some(name), Some(provider))
            }
            _ => (None, None, None),
        };
        let media_marker = match config.keys.signing.is_some()
            && !tracemark::media::media_key_paths(&config).is_empty()
        {
            true => Some(Mutex::new(tracemark::media::MediaMarker::open(&config)?)),
            false => None,
        };
        Ok(Arc::new(Self {
            media_marker,
            rates: RateLimiter::new(limits.token_rate, limits.anonymous_rate),
            read_slots: tokio::sync::Semaphore::new(
                2 * std::thread::available_parallelism().map_or(1, |n| n.get()),
            ),
            metrics: Metrics::default(),
            config,
            attributor,
            generator,
            model_name,
            provider,
            signer,
            tokens,
            log,
            limits,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_checked_by_hash_and_named_without_revealing_them() {
        let tokens =
            ApiTokens::parse("# deploy tokens\n\n  first-token-abcdefgh  \nsecond-token-0123456\n")
                .unwrap();
        let name = tokens.check("first-token-abcdefgh").unwrap();
        assert_eq!(name.len(), 8);
        assert!(!"first-token-abcdefgh".contains(&name));
        assert!(tokens.check("second-token-0123456").is_some());
        assert!(tokens.check("# deploy tokens").is_none());
        assert!(tokens.check("first-token-abcdefg").is_none());
        assert!(tokens.check("").is_none());
    }

    /// A short token can be guessed: the file is refused, naming the line.
    #[test]
    fn short_tokens_are_refused() {
        assert_eq!(
            ApiTokens::parse("# tokens\nlong-enough-token-123\nshort\n").err(),
            Some(3)
        );
        assert_eq!(
            ApiTokens::parse("exactly-16-chars").map(|t| t.is_empty()),
            Ok(false)
        );
    }
}
