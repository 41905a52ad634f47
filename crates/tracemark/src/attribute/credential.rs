//! The content-credential check of attribution: the C2PA verifier with the configured
//! trust anchors, loaded once.

use tracemark_core::{
    Fact,
    fact::{Claim, CredentialState, DetectorAccess, DetectorFinding, MarkKind, Topic},
};
use tracemark_credentials::{TrustAnchors, Verifier};
use tracemark_policy::Input;

use super::{Content, Disclosure, fact, label, unestablished};
use crate::Config;

/// The verifier and the anchors it trusts (or why they could not be read).
#[derive(Debug)]
pub struct Credentials {
    verifier: Result<Verifier, String>,
    /// The anchors' fingerprints, for the report's inputs.
    anchors: Vec<Input>,
    disclosure: Disclosure,
}

impl Credentials {
    /// Reads `[keys] trust`: signers that chain to one of them verify as `trusted`.
    pub fn load(config: &Config, disclosure: Disclosure) -> Self {
        let mut pem = Vec::new();
        let mut anchors = Vec::new();
        for path in &config.keys.trust {
            match std::fs::read(path) {
                Ok(bytes) => {
                    anchors.push(Input::of_bytes("trust-anchor", &label(path), &bytes));
                    pem.extend_from_slice(&bytes);
                    pem.push(b'\n');
                }
                Err(e) => {
                    let what = format!("cannot read trust anchors {}", label(path));
                    return Self {
                        verifier: Err(disclosure.reason(what, e)),
                        anchors: Vec::new(),
                        disclosure,
                    };
                }
            }
        }
        let verifier = if pem.is_empty() {
            Ok(Verifier::new())
        } else {
            TrustAnchors::from_pem(&pem)
                .map(Verifier::with_trust_anchors)
                .map_err(|e| disclosure.reason("trust anchors", e))
        };
        Self {
            verifier,
            anchors,
            disclosure,
        }
    }

    /// Why the anchors could not be used, if they could not.
    pub fn problem(&self) -> Option<&str> {
        self.verifier.as_ref().err().map(String::as_str)
    }

    /// A `Credential` fact about the content, or why none could be established.
    pub fn fact(&self, content: &Content<'_>, inputs: &mut Vec<Input>) -> Fact {
        let verifier = match &self.verifier {
            Ok(v) => v,
            Err(why) => return unestablished(Topic::Credential, why),
        };
        inputs.extend(self.anchors.iter().cloned());
        match verifier.verify_content(content.bytes, content.name, content.sidecar) {
            Ok(report) => fact(
                Claim::Credential(report.to_finding()),
                "c2pa-verify",
                serde_json::json!({ "trust_anchors": self.anchors.len(), "carrier": report.carrier }),
            ),
            // Content over the verifier's size limit was not looked at: what its
            // credential is stays open (never "none"), so the rules resting on it are
            // undetermined.
            Err(e) if e.is_not_examined() => unestablished(Topic::Credential, e.to_string()),
            Err(e) => unestablished(
                Topic::Credential,
                self.disclosure.reason("the credential check failed", e),
            ),
        }
    }
}

/// A credential is detectable by others: it follows an open specification (C2PA), and
/// any C2PA verifier reads it, this one included (free software). So a credential found
/// is evidence that a detector for it is offered free of charge.
pub(super) fn reader_of(credential: &Fact) -> Option<Fact> {
    let Claim::Credential(c) = &credential.claim else {
        return None;
    };
    (c.state != CredentialState::None).then(|| {
        fact(
            Claim::Detector(DetectorFinding {
                mark: MarkKind::Credential,
                name: "any C2PA verifier (the specification is open; Tracemark's verifier, \
                       Apache-2.0, read this one)"
                    .into(),
                access: DetectorAccess::Free,
                url: Some("https://c2pa.org/specifications/".into()),
            }),
            "c2pa-verify",
            serde_json::Value::Null,
        )
    })
}

#[cfg(test)]
mod tests {
    use tracemark_core::fact::CredentialState;

    use super::*;

    /// Content over the verifier's size limit was not examined: an unestablished
    /// credential fact, never a `Credential` fact saying "none".
    #[test]
    fn content_over_the_size_limit_is_an_unestablished_credential() {
        let credentials = Credentials {
            verifier: Ok(Verifier::new().with_max_bytes(16)),
            anchors: Vec::new(),
            disclosure: Disclosure::Full,
        };
        let fact = credentials.fact(&Content::new(&[b'a'; 17], None), &mut Vec::new());
        match &fact.claim {
            Claim::Unestablished { topic, reason } => {
                assert_eq!(*topic, Topic::Credential);
                assert!(reason.contains("not examined"), "{reason}");
            }
            other => panic!("oversized content gave {other:?}"),
        }
        // Content within the limit is examined: no credential.
        let fact = credentials.fact(&Content::new(&[b'a'; 16], None), &mut Vec::new());
        assert!(
            matches!(&fact.claim, Claim::Credential(c) if c.state == CredentialState::None),
            "{fact:?}"
        );
    }

    /// Anchors that cannot be read make every check unestablished, naming the file but
    /// not where it is; a service also keeps the error's detail to itself.
    #[test]
    fn unreadable_anchors_are_a_reason_without_a_path() {
        let mut config = Config::default();
        config.keys.trust = vec!["/nowhere/secret-dir/anchors.pem".into()];
        for disclosure in [Disclosure::Full, Disclosure::Private] {
            let credentials = Credentials::load(&config, disclosure);
            let why = credentials.problem().unwrap();
            assert!(
                why.contains("anchors.pem") && !why.contains("secret-dir"),
                "{why}"
            );
            let fact = credentials.fact(&Content::new(b"text", None), &mut Vec::new());
            assert!(matches!(&fact.claim, Claim::Unestablished { reason, .. } if reason == why));
            assert_eq!(
                why.contains("No such file"),
                disclosure == Disclosure::Full,
                "{why}"
            );
        }
    }
}
