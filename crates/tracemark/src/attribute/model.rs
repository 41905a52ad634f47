//! Which model made the content, by the identity of its weights: the digest a provider's
//! signed record names (a `tracemark.generation-record/v2`, a content credential's
//! generator info), checked against the model's OpenSSF Model Signing signature when the
//! model directory or its signature is given (`[model] path` / `signature`, or
//! `attribute --model-dir` / `--model-signature`) under the keys and roots trusted for
//! model signatures (`[model] trusted_keys` / `trusted_roots`): the one trust rule.
//!
//! The signature is checked, and the weights hashed, once when the [`super::Attributor`]
//! loads; each report compares the digests its records name with the result.

use tracemark_core::{
    ContentHash, Fact,
    fact::{Claim, ModelCheck as Check, ModelIdentityFinding, ModelReleaseFinding, Topic},
};

use super::{Disclosure, fact, label, unestablished};
use crate::{
    Config,
    release::{self, Identified, ModelIdentity, ModelTrust},
    trust::Trust,
};

/// The model signature attribution checks against, loaded once.
#[derive(Debug)]
pub struct ModelCheck {
    state: State,
}

#[derive(Debug)]
enum State {
    /// Neither a model nor a model signature is configured.
    NotConfigured,
    /// A model without a signature: its identity is not established.
    Unsigned {
        name: String,
        signature: String,
    },
    Signed(Box<ModelIdentity>),
    /// The signature could not be read or checked (the reason, as far as it may be told).
    Failed(String),
}

/// A digest (or a name alone) that a provider's record gives for the model.
#[derive(Debug, Clone)]
pub(super) struct Named {
    pub name: String,
    /// Absent: the record names the model by name only (a v1 record).
    pub digest: Option<ContentHash>,
    /// What names it ("generation record 3 of log …", "the content credential").
    pub by: String,
    /// The log's release record of the digest, when the log holds one.
    pub release: Option<ModelReleaseFinding>,
}

impl ModelCheck {
    /// Checks the configured model's signature (hashing its weights, or a corpus
    /// model's index) or the configured signature alone.
    pub fn load(config: &Config, disclosure: Disclosure) -> Self {
        let m = &config.model;
        let path = m.path.as_deref();
        if path.is_none() && m.signature.is_none() {
            return Self {
                state: State::NotConfigured,
            };
        }
        let state = match release::identify(path, &ModelTrust::configured(m)) {
            Ok(Identified::Unsigned { signature }) => State::Unsigned {
                name: path.map(label).unwrap_or_default(),
                signature: label(&signature),
            },
            Ok(Identified::Signed(id)) => State::Signed(id),
            Err(e) => {
                State::Failed(disclosure.reason("the model's signature could not be checked", e))
            }
        };
        Self { state }
    }

    /// Why the configured model signature could not be checked, if it could not.
    pub fn problem(&self) -> Option<&str> {
        match &self.state {
            State::Failed(why) => Some(why),
            _ => None,
        }
    }

    /// The checked model's identity, when a signed model (or signature) was given.
    pub fn identity(&self) -> Option<&ModelIdentity> {
        match &self.state {
            State::Signed(id) => Some(id),
            _ => None,
        }
    }

    /// The facts of the models the content's records name (none when none names one: a
    /// report speaks of the model that made its content, not of whichever is
    /// configured): one fact per digest named (checked against the model given, or not
    /// checked without one); for a record naming the model by name only, that its
    /// identity is not established, and the model given checked alone, or why it could
    /// not be (unsigned, an unreadable signature). `release` finds the log's release
    /// record of a digest.
    pub(super) fn facts(
        &self,
        named: &[Named],
        release: &dyn Fn(&ContentHash) -> Option<ModelReleaseFinding>,
    ) -> Vec<Fact> {
        let mut out = Vec::new();
        if named.is_empty() {
            return out;
        }
        // One fact a digest, naming every record that names it.
        let mut digests: Vec<(ContentHash, Vec<&Named>)> = Vec::new();
        for n in named {
            if let Some(d) = n.digest {
                match digests.iter_mut().find(|(x, _)| *x == d) {
                    Some((_, list)) => list.push(n),
                    None => digests.push((d, vec![n])),
                }
            }
        }
        for (digest, names) in &digests {
            let by = names
                .iter()
                .map(|n| n.by.as_str())
                .collect::<Vec<_>>()
                .join(" and ");
            let release = names.iter().find_map(|n| n.release.clone());
            out.push(self.named_fact(&names[0].name, *digest, by, release));
        }
        if digests.is_empty()
            && let State::Signed(id) = &self.state
        {
            let check = match id.conclusion.trust {
                Trust::Trusted => Check::Trusted,
                Trust::Untrusted => Check::Untrusted,
                Trust::Tampered => Check::Tampered,
            };
            out.push(finding(
                ModelIdentityFinding {
                    name: id.name.clone(),
                    named_digest: None,
                    named_by: None,
                    model_digest: Some(id.digest),
                    check,
                    signer: Some(id.signer.clone()),
                    signing_method: Some(id.signing_method.to_owned()),
                    release: release(&id.digest),
                    reason: id.conclusion.reason.clone(),
                },
                Some(id),
            ));
        }
        for n in named.iter().filter(|n| n.digest.is_none()) {
            out.push(unestablished(
                Topic::Model,
                format!(
                    "{} names the model `{}` by name only, not by the digest of its weights \
                     (a v1 record, made with a model that was not signed): which weights made \
                     the content is not established",
                    n.by, n.name
                ),
            ));
        }
        if digests.is_empty() {
            match &self.state {
                State::Unsigned { name, signature } => out.push(unestablished(
                    Topic::Model,
                    format!(
                        "the model `{name}` has no signature ({signature}): its identity is not \
                         established, and records made with it name it by name only"
                    ),
                )),
                State::Failed(why) => out.push(unestablished(Topic::Model, why.clone())),
                State::NotConfigured | State::Signed(_) => {}
            }
        }
        out
    }

    /// The fact of a digest a record names, checked against the model given.
    fn named_fact(
        &self,
        name: &str,
        digest: ContentHash,
        by: String,
        release: Option<ModelReleaseFinding>,
    ) -> Fact {
        let mut f = ModelIdentityFinding {
            name: name.to_owned(),
            named_digest: Some(digest),
            named_by: Some(by),
            model_digest: None,
            check: Check::NotChecked,
            signer: None,
            signing_method: None,
            release,
            reason: String::new(),
        };
        let id = match &self.state {
            State::Signed(id) => id,
            State::NotConfigured => {
                f.reason = "no model directory or model signature was given to check the \
                            digest against (attribute --model-dir, --model-signature, or \
                            [model] in the configuration)"
                    .into();
                return finding(f, None);
            }
            State::Unsigned { name, signature } => {
                f.reason = format!(
                    "the model `{name}` given has no signature ({signature}) to check the \
                     digest against"
                );
                return finding(f, None);
            }
            State::Failed(why) => {
                f.reason = why.clone();
                return finding(f, None);
            }
        };
        f.model_digest = Some(id.digest);
        f.signer = Some(id.signer.clone());
        f.signing_method = Some(id.signing_method.to_owned());
        (f.check, f.reason) = match id.conclusion.trust {
            Trust::Tampered => (Check::Tampered, id.conclusion.reason.clone()),
            _ if id.digest != digest => (
                Check::DigestMismatch,
                format!(
                    "the record names the weights {digest}; the model `{}` checked has {}",
                    id.name, id.digest
                ),
            ),
            Trust::Trusted => (Check::Trusted, id.conclusion.reason.clone()),
            Trust::Untrusted => (Check::Untrusted, id.conclusion.reason.clone()),
        };
        finding(f, Some(id))
    }
}

/// The fact, with the method that established it: OMS v1.0 verification of the model
/// given (its signature, and its weights re-hashed unless only the signature was given).
fn finding(f: ModelIdentityFinding, id: Option<&ModelIdentity>) -> Fact {
    let parameters = match id {
        Some(id) => serde_json::json!({
            "signature": label(&id.signature),
            "weights_hashed": id.weights_checked,
            "serialization": id.serialization,
            "signed_root": id.signed_root,
            "identity": "OMS root digest: files, sha256, default exclusions",
        }),
        None => serde_json::json!({
            "identity": "OMS root digest: files, sha256, default exclusions",
        }),
    };
    fact(
        Claim::ModelIdentity(f),
        "oms-v1.0-model-identity",
        parameters,
    )
}
