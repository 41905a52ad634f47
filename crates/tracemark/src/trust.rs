//! The one trust rule that every verifier follows: reports, signed service results and
//! log receipts.
//!
//! A signature proves something only about the key that made it. Evidence that carries
//! its own key (a report's seal names its service key and log key) can be re-sealed by
//! anyone with keys of their own, so a verifier trusts only keys its user chose: keys
//! given on the command line, the configuration's own and trusted keys, or a trust file.
//! The outcome mirrors the content-credential states:
//!
//! - [`Trust::Trusted`]: every check holds and every signer is a trusted key;
//! - [`Trust::Untrusted`]: the evidence is intact (its hashes and signatures verify under
//!   the keys it names, or the proof holds) but a signer is not a trusted key;
//! - [`Trust::Tampered`]: a check fails; the outcome names it.
//!
//! Input that cannot be read as evidence at all is an error, not an outcome.

use std::path::{Path, PathBuf};

use serde::Serialize;
use tracemark_ledger::{NoteVerifier, TrustPolicy};

use crate::{Config, Error, Result};

/// What a verifier concludes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Trust {
    Trusted,
    Untrusted,
    Tampered,
}

impl Trust {
    /// `trusted`, `untrusted`, `tampered`.
    pub fn code(self) -> &'static str {
        match self {
            Trust::Trusted => "trusted",
            Trust::Untrusted => "untrusted",
            Trust::Tampered => "tampered",
        }
    }
}

/// One check a verifier made, and its result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    /// What was checked (`hash`, `signature`, `signer`, `receipt`, `log key`...).
    pub check: &'static str,
    /// Its outcome: `trusted` when it holds, `untrusted` when it holds under a key the user
    /// does not trust, `tampered` when it fails.
    pub outcome: Trust,
    pub detail: String,
}

impl Check {
    pub fn new(check: &'static str, outcome: Trust, detail: impl Into<String>) -> Self {
        Self {
            check,
            outcome,
            detail: detail.into(),
        }
    }
}

/// A verifier's conclusion: the worst outcome of its checks, and the first check that
/// reached it (the reason a reader is shown first).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Conclusion {
    pub trust: Trust,
    /// Why, in one line: the first check with the concluding outcome.
    pub reason: String,
    pub checks: Vec<Check>,
}

impl Conclusion {
    pub fn from_checks(checks: Vec<Check>) -> Self {
        let trust = checks
            .iter()
            .map(|c| c.outcome)
            .max()
            .unwrap_or(Trust::Untrusted);
        let reason = checks.iter().find(|c| c.outcome == trust).map_or_else(
            || "nothing was checked".to_owned(),
            |c| format!("{}: {}", c.check, c.detail),
        );
        Self {
            trust,
            reason,
            checks,
        }
    }
}

/// The signed-note verifier keys a user trusts, by role.
#[derive(Debug, Clone, Default)]
pub struct TrustedKeys {
    services: Vec<NoteVerifier>,
    logs: Vec<NoteVerifier>,
}

/// What a trusted key vouches for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Signs evidence reports and service results.
    Service,
    /// Signs log checkpoints.
    Log,
}

impl TrustedKeys {
    /// The configuration's trust: the public halves of its own service and log keys, and
    /// its `trusted_services` and `trusted_logs` files.
    pub fn configured(config: &Config) -> Result<Self> {
        let mut keys = Self::default();
        let own = |key: &Option<PathBuf>| key.as_deref().map(public_half);
        if let Some(file) = own(&config.keys.service) {
            keys.add_file(Role::Service, &file)?;
        }
        if let Some(file) = own(&config.keys.log) {
            keys.add_file(Role::Log, &file)?;
        }
        for file in &config.keys.trusted_services {
            keys.add_file(Role::Service, file)?;
        }
        for file in &config.keys.trusted_logs {
            keys.add_file(Role::Log, file)?;
        }
        Ok(keys)
    }

    /// Adds the keys of a verifier-key file (`key.pub`, or a trust file) for `role`.
    pub fn add_file(&mut self, role: Role, file: &Path) -> Result<()> {
        let text = read_key_file(file)?;
        self.add_text(role, &text, &file.display().to_string())
    }

    /// Adds the keys of a trust file for both roles (a trust file names keys, not roles).
    pub fn add_trust_file(&mut self, file: &Path) -> Result<()> {
        self.add_file(Role::Service, file)?;
        self.add_file(Role::Log, file)
    }

    /// Adds every verifier key in `text`: one a line; blank lines and `#` comments are
    /// skipped. `source` names the text in errors.
    pub fn add_text(&mut self, role: Role, text: &str, source: &str) -> Result<()> {
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let key = NoteVerifier::parse(line).map_err(|e| {
                Error::input(
                    format!("{source}, line {}: not a verifier key: {e}", n + 1),
                    Some("a verifier key is one line `name+hex id+base64`, as in key.pub".into()),
                )
            })?;
            let list = match role {
                Role::Service => &mut self.services,
                Role::Log => &mut self.logs,
            };
            if !list.iter().any(|k| same_key(k, &key)) {
                list.push(key);
            }
        }
        Ok(())
    }

    pub fn is_empty(&self, role: Role) -> bool {
        match role {
            Role::Service => self.services.is_empty(),
            Role::Log => self.logs.is_empty(),
        }
    }

    /// Whether `key` (name, id and public key alike) is trusted as a service key.
    pub fn trusts_service(&self, key: &NoteVerifier) -> bool {
        self.services.iter().any(|k| same_key(k, key))
    }

    /// Whether `key` is trusted as a log key.
    pub fn trusts_log(&self, key: &NoteVerifier) -> bool {
        self.logs.iter().any(|k| same_key(k, key))
    }

    /// The trusted log keys.
    pub fn logs(&self) -> &[NoteVerifier] {
        &self.logs
    }

    /// A trust policy for each trusted log, for receipts.
    pub fn log_policies(&self) -> impl Iterator<Item = TrustPolicy> + '_ {
        self.logs.iter().cloned().map(TrustPolicy::log_only)
    }
}

fn same_key(a: &NoteVerifier, b: &NoteVerifier) -> bool {
    a.to_string() == b.to_string()
}

/// The verifier key beside a configured key (a key directory, or its `key.json`).
fn public_half(key: &Path) -> PathBuf {
    let dir = if key.is_dir() {
        key
    } else {
        key.parent().unwrap_or(Path::new("."))
    };
    dir.join(tracemark_ledger::LogKey::PUBLIC_FILE)
}

/// Verifier-key files are small; a larger one is refused unread.
const MAX_KEY_FILE_BYTES: u64 = 1 << 20;

fn read_key_file(path: &Path) -> Result<String> {
    use std::io::Read;
    let io = |source| Error::Io {
        action: "read",
        path: path.to_owned(),
        source,
    };
    let mut text = String::new();
    std::fs::File::open(path)
        .map_err(io)?
        .take(MAX_KEY_FILE_BYTES + 1)
        .read_to_string(&mut text)
        .map_err(io)?;
    if text.len() as u64 > MAX_KEY_FILE_BYTES {
        return Err(Error::input(
            format!("{} is over 1 MiB: not a verifier-key file", path.display()),
            None,
        ));
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(name: &str) -> NoteVerifier {
        tracemark_ledger::NoteSigner::generate(name, &mut rand_core::OsRng)
            .unwrap()
            .verifier()
            .clone()
    }

    #[test]
    fn a_key_is_trusted_only_with_its_name_and_public_key_and_role() {
        let ours = key("service.example/a");
        let impostor = key("service.example/a");
        let mut trusted = TrustedKeys::default();
        let text = format!("# our service\n\n{ours}\n");
        trusted.add_text(Role::Service, &text, "t").unwrap();
        assert!(trusted.trusts_service(&ours));
        assert!(!trusted.trusts_service(&impostor), "same name, other key");
        assert!(!trusted.trusts_log(&ours), "trusted for its role only");
    }

    #[test]
    fn a_bad_line_is_an_error_naming_it() {
        let mut trusted = TrustedKeys::default();
        let err = trusted
            .add_text(Role::Log, "# ok\nnot a key\n", "trust.keys")
            .unwrap_err();
        assert!(err.to_string().contains("trust.keys, line 2"), "{err}");
    }

    #[test]
    fn the_worst_check_concludes_and_its_reason_comes_first() {
        let c = Conclusion::from_checks(vec![
            Check::new("hash", Trust::Trusted, "matches"),
            Check::new("signer", Trust::Untrusted, "not a trusted key"),
            Check::new("receipt", Trust::Tampered, "the proof fails"),
        ]);
        assert_eq!(c.trust, Trust::Tampered);
        assert_eq!(c.reason, "receipt: the proof fails");
        assert_eq!(
            Conclusion::from_checks(vec![]).trust,
            Trust::Untrusted,
            "nothing checked is not trusted"
        );
    }
}
