//! The predicates of the condition language, read off the facts and the context.
//!
//! Each predicate says what it found in a sentence and which facts it rests on, so that
//! a rule's reason is assembled from what decided it. Missing facts are unknown, never
//! false: "nothing was found" needs a fact that someone looked ([`Claim::Search`], a
//! credential state of `none`, a watermark test with a negative verdict).

mod latent;
mod marks;
mod mining;

use std::collections::BTreeMap;

use tracemark_core::{
    Fact,
    fact::{
        AigcLabelFields, Claim, CredentialFinding, CredentialState, DocumentRef, LogFinding,
        Medium, RightsFinding, Topic,
    },
    rights::{AiUse, Permission, ReservationForm},
};

use crate::{
    Context,
    condition::{Atom, Eval, KindTest, Tri},
    context::{ContentKind, declaration},
    text::{p_value, percent},
};

/// The facts and the context, indexed for the predicates.
#[derive(Debug)]
pub struct Evidence<'a> {
    facts: &'a [Fact],
    ctx: &'a Context,
}

/// Digital source types that declare AI generation (IPTC and C2PA terms).
const AI_SOURCE_TYPES: &[&str] = &[
    "trainedAlgorithmicMedia",
    "compositeWithTrainedAlgorithmicMedia",
    "trainedAlgorithmicData",
];

/// The uses whose reservation is a reservation of text and data mining for training.
const TRAINING_USES: &[AiUse] = &[AiUse::Tdm, AiUse::AiTrain, AiUse::GenaiTrain];

/// A document the content reproduces, with the facts that show it.
#[derive(Debug, Clone)]
pub struct Source<'a> {
    pub document: &'a DocumentRef,
    pub facts: Vec<usize>,
}

impl Source<'_> {
    fn name(&self) -> String {
        match &self.document.owner {
            Some(owner) => format!("{} ({owner})", self.document.id),
            None => self.document.id.clone(),
        }
    }

    fn has_cmi(&self) -> bool {
        self.document.owner.is_some() || self.document.licence.is_some()
    }
}

impl<'a> Evidence<'a> {
    pub fn new(facts: &'a [Fact], ctx: &'a Context) -> Self {
        Self { facts, ctx }
    }

    fn claims(&self) -> impl Iterator<Item = (usize, &'a Claim)> + '_ {
        self.facts.iter().enumerate().map(|(i, f)| (i, &f.claim))
    }

    /// The `Unestablished` facts of a topic, as an unknown evaluation.
    fn unestablished(&self, topic: Topic) -> Option<Eval> {
        let mut out: Option<Eval> = None;
        for (i, c) in self.claims() {
            if let Claim::Unestablished { topic: t, reason } = c
                && *t == topic
            {
                let e = Eval::new(Tri::Unknown, reason.clone()).with_facts([i]);
                match &mut out {
                    Some(o) => o.absorb(e),
                    None => out = Some(e),
                }
            }
        }
        out
    }

    /// Completed searches of a topic that found nothing.
    fn empty_searches(&self, topic: Topic) -> Vec<(usize, &'a str)> {
        self.claims()
            .filter_map(|(i, c)| match c {
                Claim::Search(s) if s.topic == topic && s.found == 0 => Some((i, s.scope.as_str())),
                _ => None,
            })
            .collect()
    }

    pub fn atom(&self, atom: &Atom) -> Eval {
        match atom {
            Atom::AiGenerated => self.ai_generated(),
            Atom::Kind(test) => self.kind(*test),
            Atom::TokensBelow(n) => self.tokens_below(*n),
            Atom::Watermark => self.watermark(),
            Atom::Credential => self.credential(|_| None, "a valid content credential"),
            Atom::CredentialAi => self.credential(
                |c| {
                    let ai = c
                        .digital_source_type
                        .as_deref()
                        .is_some_and(|t| AI_SOURCE_TYPES.iter().any(|s| t.ends_with(s)));
                    (!ai).then(|| {
                        format!(
                            "the credential does not declare an AI digital source type ({})",
                            c.digital_source_type.as_deref().unwrap_or("none given")
                        )
                    })
                },
                "a credential declaring AI generation",
            ),
            Atom::CredentialProvenance => self.credential(
                |c| {
                    let mut missing = Vec::new();
                    if c.signer.is_none() {
                        missing.push("signer");
                    }
                    if c.generator.is_none() {
                        missing.push("generator");
                    }
                    if c.signed_at.is_none() {
                        missing.push("time of signing");
                    }
                    (!missing.is_empty())
                        .then(|| format!("the credential does not name its {}", missing.join(", ")))
                },
                "a credential naming signer, generator and time",
            ),
            Atom::CredentialTimeStamped => self.credential(
                |c| {
                    c.time_stamped_at.is_none().then(|| {
                        "the credential carries no trusted time-stamp (its time of signing is the signer's own claim)".to_owned()
                    })
                },
                "a credential with a trusted time-stamp",
            ),
            Atom::AigcLabel => self.aigc_label(),
            Atom::Removed(kind, who) => self.removed(*kind, *who),
            Atom::MarkedAtGeneration(kind) => self.marked_at_generation(*kind),
            Atom::Detector(kind) => self.detector(*kind),
            Atom::LatentDisclosure(element) => self.latent_disclosure(*element),
            Atom::ResearchExceptionInvoked => self.research_exception_invoked(),
            Atom::ResearchOrganisation => self.article_3(mining::Art3::ResearchOrganisation),
            Atom::LawfulAccess => self.article_3(mining::Art3::LawfulAccess),
            Atom::ScientificResearch => self.article_3(mining::Art3::ScientificResearch),
            Atom::HumanAuthorship => self.human_authorship(),
            Atom::Disclosure => self.disclosure(),
            Atom::LogRecord => self.log_record(),
            Atom::Sources => self.sources_present(),
            Atom::SourcesWithCmi => self.sources_with_cmi(),
            Atom::SourcesReserved => self.sources_reserved(),
            Atom::SourcesAttributed => self.sources_attributed(),
            Atom::EditorialResponsibility => self.editorial(),
            Atom::MarketBefore(date) => match self.ctx.placed_on_market {
                Some(d) => Eval::new(
                    (d < *date).into(),
                    format!(
                        "the system was placed on the EU market on {} ({} {})",
                        d.long(),
                        if d < *date { "before" } else { "not before" },
                        date.long()
                    ),
                )
                .with_context("placed_on_market"),
                None => Eval::new(
                    Tri::Unknown,
                    "the date the system was placed on the EU market was not given",
                )
                .with_context("placed_on_market"),
            },
            Atom::Declared(key) | Atom::Claimed(key) => {
                let clause = declaration(key).map_or(key.as_str(), |d| d.clause);
                let field = format!("declarations.{key}");
                match (self.ctx.declarations.get(key), atom) {
                    (Some(true), _) => Eval::new(Tri::True, format!("it is stated that {clause}")),
                    (Some(false), _) => Eval::new(
                        Tri::False,
                        format!("it is stated that it is not so that {clause}"),
                    ),
                    (None, Atom::Claimed(_)) => {
                        Eval::new(Tri::False, format!("no one claimed that {clause}"))
                    }
                    (None, _) => {
                        Eval::new(Tri::Unknown, format!("it was not stated whether {clause}"))
                    }
                }
                .with_context(field)
            }
        }
    }

    /// The content kind: stated in the context, or from the content fact's media type.
    pub fn content_kind(&self) -> (Option<ContentKind>, Option<usize>, Option<&'a str>) {
        let content = self.claims().find_map(|(i, c)| match c {
            Claim::Content { media_type, .. } => Some((i, media_type.as_str())),
            _ => None,
        });
        if let Some(kind) = self.ctx.kind {
            return (Some(kind), None, content.map(|c| c.1));
        }
        match content {
            Some((i, mt)) => (ContentKind::from_media_type(mt), Some(i), Some(mt)),
            None => (None, None, None),
        }
    }

    fn kind(&self, test: KindTest) -> Eval {
        let (kind, fact, media_type) = self.content_kind();
        let Some(kind) = kind else {
            let e = Eval::new(
                Tri::Unknown,
                match media_type {
                    Some(mt) => format!("the kind of content of media type {mt} is not known"),
                    None => "the kind of content was neither given nor established".to_owned(),
                },
            )
            .with_context("kind");
            return e.with_facts(fact);
        };
        let yes = match test {
            KindTest::Text => kind == ContentKind::Text,
            KindTest::Code => kind == ContentKind::Code,
            KindTest::Image => kind == ContentKind::Image,
            KindTest::Audio => kind == ContentKind::Audio,
            KindTest::Video => kind == ContentKind::Video,
            KindTest::Media => kind.is_media(),
            KindTest::Document => kind == ContentKind::Document,
        };
        let what = match kind {
            ContentKind::Text => "free-form text",
            ContentKind::Code => "source code or configuration",
            ContentKind::Image => "an image",
            ContentKind::Audio => "audio",
            ContentKind::Video => "video",
            ContentKind::Document => "text in a document container (HTML, PDF, office format)",
        };
        let e = Eval::new(yes.into(), format!("the content is {what}"));
        match fact {
            Some(i) => e.with_facts([i]),
            None => e.with_context("kind"),
        }
    }

    fn tokens_below(&self, n: u64) -> Eval {
        if let Some(t) = self.ctx.tokens {
            return Eval::new(
                (t < n).into(),
                format!(
                    "the text is {t} tokens long ({} {n})",
                    if t < n { "under" } else { "at least" }
                ),
            )
            .with_context("tokens");
        }
        // A detector's scored tokens are a lower bound of the length.
        let scored = self
            .claims()
            .filter_map(|(i, c)| match c {
                Claim::Watermark(w) => Some((i, w.verdict.scored)),
                _ => None,
            })
            .max_by_key(|(_, s)| *s);
        match scored {
            Some((i, s)) if s >= n => Eval::new(
                Tri::False,
                format!("the watermark detector scored {s} tokens (at least {n})"),
            )
            .with_facts([i]),
            _ => Eval::new(
                Tri::Unknown,
                format!("the length of the text in tokens was not established (threshold {n})"),
            )
            .with_context("tokens"),
        }
    }

    fn watermark(&self) -> Eval {
        // A mark counts in the medium it is carried in: an image's watermark is in its
        // pixels, a text's in its words (a container's text too).
        // A finding that names no medium (written before media marks) fits any content.
        let kind = self.content_kind().0;
        let fits = |m: Option<Medium>| match (kind, m) {
            (_, None) | (None, _) => true,
            (Some(ContentKind::Image), Some(m)) => m == Medium::Image,
            (Some(ContentKind::Audio), Some(m)) => m == Medium::Audio,
            (Some(ContentKind::Video), Some(m)) => m == Medium::Video,
            (Some(ContentKind::Text | ContentKind::Document | ContentKind::Code), Some(m)) => {
                m == Medium::Text
            }
        };
        let tests: Vec<_> = self
            .claims()
            .filter_map(|(i, c)| match c {
                Claim::Watermark(w) if fits(w.medium) => Some((i, w)),
                _ => None,
            })
            .collect();
        let detected: Vec<_> = tests.iter().filter(|(_, w)| w.verdict.detected).collect();
        if !detected.is_empty() {
            let mut out = Eval::new(Tri::True, "").with_facts(detected.iter().map(|(i, _)| *i));
            out.notes = detected
                .iter()
                .map(|(_, w)| {
                    let payload = w
                        .payload
                        .map(|p| format!(", carrying payload {p}"))
                        .unwrap_or_default();
                    match w.medium() {
                        Medium::Text => format!(
                            "a {} watermark of key {} was detected (p = {}, false-positive rate {}, {} tokens scored{payload})",
                            w.scheme,
                            w.key_id,
                            p_value(&w.verdict.p_value),
                            w.verdict.false_positive_rate,
                            w.verdict.scored
                        ),
                        medium => format!(
                            "{} {} watermark ({}, key {}) was detected in the {} itself (p = {}, false-positive rate {}, {} units read{payload})",
                            if medium == Medium::Video { "a" } else { "an" },
                            medium.as_str(),
                            w.scheme,
                            w.key_id,
                            if medium == Medium::Audio { "sound" } else { "picture" },
                            p_value(&w.verdict.p_value),
                            w.verdict.false_positive_rate,
                            w.verdict.scored
                        ),
                    }
                })
                .collect();
            return out;
        }
        if let Some(u) = self.unestablished(Topic::Watermark) {
            return u;
        }
        let empty = self.empty_searches(Topic::Watermark);
        if !tests.is_empty() || !empty.is_empty() {
            let mut keys: Vec<String> = tests.iter().map(|(_, w)| w.key_id.to_string()).collect();
            keys.extend(empty.iter().map(|(_, s)| s.to_string()));
            let best = tests
                .iter()
                .map(|(_, w)| w.verdict.p_value)
                .min_by(|a, b| a.ln().total_cmp(&b.ln()));
            let best = best
                .map(|p| format!("; smallest p = {}", p_value(&p)))
                .unwrap_or_default();
            return Eval::new(
                Tri::False,
                format!(
                    "no watermark was detected with the {} tried ({}{best})",
                    if keys.len() == 1 { "key" } else { "keys" },
                    keys.join(", ")
                ),
            )
            .with_facts(
                tests
                    .iter()
                    .map(|(i, _)| *i)
                    .chain(empty.iter().map(|(i, _)| *i)),
            );
        }
        // Marks of another medium (a text watermark reported for an image) are not the
        // content's own: no watermark in its medium was found among them.
        let others: Vec<_> = self
            .claims()
            .filter_map(|(i, c)| match c {
                Claim::Watermark(w) => Some((i, w)),
                _ => None,
            })
            .collect();
        if !others.is_empty() {
            let media: Vec<&str> = others.iter().map(|(_, w)| w.medium().as_str()).collect();
            return Eval::new(
                Tri::False,
                format!(
                    "no watermark was detected in the content's own medium: the watermark tests run were for {}",
                    media.join(", ")
                ),
            )
            .with_facts(others.iter().map(|(i, _)| *i));
        }
        Eval::new(Tri::Unknown, "no watermark detection was run")
    }

    fn credential_findings(&self) -> Vec<(usize, &'a CredentialFinding)> {
        self.claims()
            .filter_map(|(i, c)| match c {
                Claim::Credential(f) => Some((i, f)),
                _ => None,
            })
            .collect()
    }

    /// A valid credential that passes `check` (which says why not, when it fails).
    fn credential(&self, check: impl Fn(&CredentialFinding) -> Option<String>, what: &str) -> Eval {
        let findings = self.credential_findings();
        let mut failures = Vec::new();
        for (i, f) in &findings {
            let valid = matches!(
                f.state,
                CredentialState::Trusted | CredentialState::Untrusted
            );
            if valid {
                match check(f) {
                    None => {
                        let trust = if f.state == CredentialState::Trusted {
                            "chaining to a trusted anchor"
                        } else {
                            "by a signer not on the trust list"
                        };
                        let signer = f.signer.as_deref().unwrap_or("an unnamed signer");
                        let generator = f
                            .generator
                            .as_deref()
                            .map(|g| format!(", generator {g}"))
                            .unwrap_or_default();
                        let stamped = f
                            .time_stamped_at
                            .map(|t| format!(", time-stamped {t}"))
                            .unwrap_or_default();
                        return Eval::new(
                            Tri::True,
                            format!("a content credential signed by {signer} ({trust}{generator}{stamped}) was verified"),
                        )
                        .with_facts([*i]);
                    }
                    Some(why) => failures.push((*i, why)),
                }
            } else if f.state == CredentialState::Tampered {
                failures.push((
                    *i,
                    format!(
                        "the content credential fails verification ({})",
                        if f.failures.is_empty() {
                            "no detail".to_owned()
                        } else {
                            f.failures.join("; ")
                        }
                    ),
                ));
            } else {
                failures.push((*i, "no content credential was found".to_owned()));
            }
        }
        if let Some(u) = self.unestablished(Topic::Credential) {
            return u;
        }
        if failures.is_empty() {
            return Eval::new(
                Tri::Unknown,
                format!("no credential verification was run (looking for {what})"),
            );
        }
        let mut out = Eval::new(Tri::False, "").with_facts(failures.iter().map(|(i, _)| *i));
        out.notes = failures.into_iter().map(|(_, w)| w).collect();
        out.notes.dedup();
        out
    }

    /// The AIGC label, with the production elements Art. 5 names: the content's
    /// attribute (`Label`), the provider's name or code, a content number.
    fn aigc_label(&self) -> Eval {
        let findings = self.credential_findings();
        let mut faulty = Vec::new();
        let mut unread = Vec::new();
        for (i, f) in &findings {
            match (&f.aigc, f.aigc_label) {
                (Some(fields), _) => match aigc_faults(fields) {
                    None => {
                        return Eval::new(
                            Tri::True,
                            format!(
                                "the AIGC implicit label (GB 45438-2025) gives Label {}, producer {}, content number {}{}",
                                fields.label,
                                fields.content_producer,
                                fields.produce_id,
                                propagator(fields)
                            ),
                        )
                        .with_facts([*i]);
                    }
                    Some(fault) => faulty.push((*i, fault)),
                },
                (None, true) => unread.push(*i),
                (None, false) => {}
            }
        }
        if !faulty.is_empty() {
            let mut e = Eval::new(Tri::False, "").with_facts(faulty.iter().map(|(i, _)| *i));
            e.notes = faulty.into_iter().map(|(_, f)| f).collect();
            return e;
        }
        if !unread.is_empty() {
            return Eval::new(
                Tri::Unknown,
                "an AIGC label is present, but its fields were not read",
            )
            .with_facts(unread);
        }
        if let Some(u) = self.unestablished(Topic::Credential) {
            return u;
        }
        if findings.is_empty() {
            return Eval::new(
                Tri::Unknown,
                "the content's metadata was not examined for an AIGC label",
            );
        }
        Eval::new(
            Tri::False,
            "no AIGC implicit label was found in the content's metadata",
        )
        .with_facts(findings.iter().map(|(i, _)| *i))
    }

    fn disclosure(&self) -> Eval {
        let found: Vec<_> = self
            .claims()
            .filter_map(|(i, c)| match c {
                Claim::Disclosure(d) => Some((i, d)),
                _ => None,
            })
            .collect();
        if let Some((i, d)) = found.iter().find(|(_, d)| d.present) {
            let at = d
                .range
                .map(|r| format!(" at bytes {}..{}", r.start(), r.end()))
                .unwrap_or_default();
            let label = d
                .label
                .as_deref()
                .map(|l| format!(" \u{201c}{l}\u{201d}"))
                .unwrap_or_default();
            return Eval::new(
                Tri::True,
                format!("a perceptible AI label{label} was found{at}"),
            )
            .with_facts([*i]);
        }
        if let Some(u) = self.unestablished(Topic::Disclosure) {
            return u;
        }
        if found.is_empty() {
            return Eval::new(
                Tri::Unknown,
                "the content was not examined for a perceptible AI label",
            );
        }
        Eval::new(
            Tri::False,
            "no perceptible AI label was found in the content",
        )
        .with_facts(found.iter().map(|(i, _)| *i))
    }

    fn log_records(&self) -> Vec<(usize, &'a LogFinding)> {
        self.claims()
            .filter_map(|(i, c)| match c {
                Claim::LogEntry(l) => Some((i, l)),
                _ => None,
            })
            .collect()
    }

    fn log_record(&self) -> Eval {
        let records = self.log_records();
        if let Some((i, l)) = records.iter().find(|(_, l)| l.inclusion_verified) {
            let who = [
                l.provider.as_deref().map(|p| format!("provider {p}")),
                l.model.as_deref().map(|m| format!("model {m}")),
                l.generation_id
                    .as_deref()
                    .map(|g| format!("generation {g}")),
            ]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(", ");
            return Eval::new(
                Tri::True,
                format!(
                    "generation record {} of log {} ({who}) is included in a tree of size {}, proof verified",
                    l.index, l.origin, l.tree_size
                ),
            )
            .with_facts([*i]);
        }
        if let Some(u) = self.unestablished(Topic::Log) {
            return u;
        }
        if let Some((i, l)) = records.first() {
            return Eval::new(
                Tri::Unknown,
                format!(
                    "record {} of log {} was found but its inclusion proof was not verified",
                    l.index, l.origin
                ),
            )
            .with_facts([*i]);
        }
        let empty = self.empty_searches(Topic::Log);
        if !empty.is_empty() {
            return Eval::new(
                Tri::False,
                format!(
                    "no generation record was found in {}",
                    empty.iter().map(|(_, s)| *s).collect::<Vec<_>>().join(", ")
                ),
            )
            .with_facts(empty.iter().map(|(i, _)| *i));
        }
        Eval::new(Tri::Unknown, "no transparency log was searched")
    }

    /// The documents the content reproduces, in order of first appearance.
    pub fn sources(&self) -> Vec<Source<'a>> {
        let mut order: Vec<&str> = Vec::new();
        let mut by_id: BTreeMap<&str, Source<'a>> = BTreeMap::new();
        let mut add = |doc: &'a DocumentRef, i: usize| {
            let s = by_id.entry(doc.id.as_str()).or_insert_with(|| {
                order.push(doc.id.as_str());
                Source {
                    document: doc,
                    facts: Vec::new(),
                }
            });
            if !s.facts.contains(&i) {
                s.facts.push(i);
            }
        };
        for (i, c) in self.claims() {
            match c {
                Claim::SourceSpan(s) => s.documents.iter().for_each(|d| add(d, i)),
                Claim::NearDuplicate(n) => add(&n.document, i),
                _ => {}
            }
        }
        order
            .into_iter()
            .filter_map(|id| by_id.remove(id))
            .collect()
    }

    fn content_bytes(&self) -> Option<u64> {
        self.claims().find_map(|(_, c)| match c {
            Claim::Content { bytes, .. } => Some(*bytes),
            _ => None,
        })
    }

    /// Whether tracing ran and found nothing: `None` if it did not run (or failed).
    fn no_sources(&self) -> Result<Eval, Eval> {
        if let Some(u) = self.unestablished(Topic::Trace) {
            return Err(u);
        }
        let empty = self.empty_searches(Topic::Trace);
        if empty.is_empty() {
            return Err(Eval::new(
                Tri::Unknown,
                "the content was not traced into any index",
            ));
        }
        Ok(Eval::new(
            Tri::False,
            format!(
                "no span of the content occurs in {}",
                empty.iter().map(|(_, s)| *s).collect::<Vec<_>>().join(", ")
            ),
        )
        .with_facts(empty.iter().map(|(i, _)| *i)))
    }

    fn sources_present(&self) -> Eval {
        let sources = self.sources();
        if sources.is_empty() {
            return self.no_sources().unwrap_or_else(|u| u);
        }
        let mut spans: Vec<(usize, usize)> = Vec::new();
        for (_, c) in self.claims() {
            if let Claim::SourceSpan(s) = c {
                spans.push((s.range.start(), s.range.end()));
            }
        }
        let covered = covered_bytes(&mut spans);
        let share = self
            .content_bytes()
            .filter(|b| *b > 0 && covered > 0)
            .map(|b| format!(", {} of the content", percent(covered as f64 / b as f64)))
            .unwrap_or_default();
        let names: Vec<String> = sources.iter().map(Source::name).collect();
        Eval::new(
            Tri::True,
            format!(
                "the content reproduces {} source document{} ({}; {covered} bytes in verbatim spans{share})",
                sources.len(),
                if sources.len() == 1 { "" } else { "s" },
                names.join(", ")
            ),
        )
        .with_facts(sources.iter().flat_map(|s| s.facts.iter().copied()))
    }

    fn sources_with_cmi(&self) -> Eval {
        let sources = self.sources();
        if sources.is_empty() {
            return self.no_sources().unwrap_or_else(|u| u);
        }
        let with: Vec<_> = sources.iter().filter(|s| s.has_cmi()).collect();
        if with.is_empty() {
            return Eval::new(Tri::False, "no source document names an owner or a licence")
                .with_facts(sources.iter().flat_map(|s| s.facts.iter().copied()));
        }
        let names: Vec<String> = with
            .iter()
            .map(|s| {
                let licence = s
                    .document
                    .licence
                    .as_deref()
                    .map(|l| format!(", licence {l}"))
                    .unwrap_or_default();
                format!("{}{licence}", s.name())
            })
            .collect();
        Eval::new(
            Tri::True,
            format!(
                "the content reproduces works with attribution information: {}",
                names.join("; ")
            ),
        )
        .with_facts(with.iter().flat_map(|s| s.facts.iter().copied()))
    }

    fn sources_reserved(&self) -> Eval {
        let sources = self.sources();
        if sources.is_empty() {
            return self.no_sources().unwrap_or_else(|u| u);
        }
        let (mut reserved, mut unknown, mut free) =
            (Grounds::new(), Grounds::new(), Grounds::new());
        for s in &sources {
            let (value, facts, note) = self.reservation_of(s);
            match value {
                Tri::True => reserved.push((facts, note)),
                Tri::Unknown => unknown.push((facts, note)),
                Tri::False => free.push((facts, note)),
            }
        }
        let build = |value: Tri, items: Grounds| {
            let mut e = Eval::new(value, "");
            e.notes.clear();
            for (facts, note) in items {
                e.facts.extend(facts);
                e.notes.push(note);
            }
            e
        };
        if !reserved.is_empty() {
            return build(Tri::True, reserved);
        }
        if !unknown.is_empty() {
            let mut e = build(Tri::Unknown, unknown);
            if let Some(u) = self.unestablished(Topic::Rights) {
                e.absorb(u);
            }
            return e;
        }
        build(Tri::False, free)
    }

    /// Whether one source was reserved against training, in an appropriate form, when it
    /// was collected: the value, the facts it rests on, and why.
    fn reservation_of(&self, s: &Source<'a>) -> (Tri, Vec<usize>, String) {
        let findings: Vec<(usize, &RightsFinding)> = self
            .claims()
            .filter_map(|(i, c)| match c {
                Claim::Rights(r)
                    if r.document_id == s.document.id && TRAINING_USES.contains(&r.usage) =>
                {
                    Some((i, r))
                }
                _ => None,
            })
            .collect();
        let mut facts: Vec<usize> = s.facts.clone();
        facts.extend(findings.iter().map(|(i, _)| *i));
        let disallowed: Vec<&RightsFinding> = findings
            .iter()
            .filter(|(_, r)| r.permission == Permission::Disallowed)
            .map(|(_, r)| *r)
            .collect();
        if disallowed.is_empty() {
            return if findings.is_empty() {
                let why = format!("the rights signals of {} were not established", s.name());
                (Tri::Unknown, facts, why)
            } else {
                let why = format!("no reservation of {} covers training", s.name());
                (Tri::False, facts, why)
            };
        }
        // A reservation counts if it was seen no later than the document was collected.
        let collected = s.document.fetched_at;
        let in_force: Vec<&RightsFinding> = disallowed
            .iter()
            .copied()
            .filter(|r| matches!((r.seen_at, collected), (Some(seen), Some(got)) if seen <= got))
            .collect();
        if let Some(r) = in_force
            .iter()
            .find(|r| form(r) == Some(ReservationForm::MachineReadable))
        {
            let why = format!(
                "{} reserved {} by {} (seen {}) before it was collected on {}",
                s.name(),
                use_words(r.usage),
                signals(r),
                r.seen_at.map(|t| t.to_string()).unwrap_or_default(),
                collected.map(|t| t.to_string()).unwrap_or_default()
            );
            return (Tri::True, facts, why);
        }
        if let Some(r) = in_force.first() {
            return (Tri::Unknown, facts, form_doubt(s, r));
        }
        if let Some(r) = disallowed
            .iter()
            .find(|r| r.seen_at.is_none() || collected.is_none())
        {
            let why = format!(
                "{} is reserved by {}, but when the reservation was seen or the document collected is not known",
                s.name(),
                signals(r)
            );
            return (Tri::Unknown, facts, why);
        }
        let why = format!(
            "the reservation of {} was first seen after the document was collected (reservations are not retroactive)",
            s.name()
        );
        (Tri::False, facts, why)
    }

    fn sources_attributed(&self) -> Eval {
        let sources = self.sources();
        if sources.is_empty() {
            return self.no_sources().unwrap_or_else(|u| u);
        }
        let mut missing = Vec::new();
        let mut unknown = Vec::new();
        let mut kept = Vec::new();
        for s in sources.iter().filter(|s| s.has_cmi()) {
            let finding = self.claims().find_map(|(i, c)| match c {
                Claim::Attribution(a) if a.document_id == s.document.id => Some((i, a)),
                _ => None,
            });
            match finding {
                Some((i, a)) if a.present => {
                    kept.push((i, format!("the content attributes {}", s.name())))
                }
                Some((i, _)) => {
                    missing.push((i, format!("the content does not attribute {}", s.name())))
                }
                None => unknown.push(format!(
                    "whether the content attributes {} was not examined",
                    s.name()
                )),
            }
        }
        if !missing.is_empty() {
            let mut e = Eval::new(Tri::False, "").with_facts(missing.iter().map(|(i, _)| *i));
            e.notes = missing.into_iter().map(|(_, n)| n).collect();
            return e;
        }
        if !unknown.is_empty() {
            let mut e = Eval::new(Tri::Unknown, "");
            e.notes = unknown;
            return e;
        }
        if kept.is_empty() {
            return Eval::new(
                Tri::True,
                "no source carries attribution information to keep",
            );
        }
        let mut e = Eval::new(Tri::True, "").with_facts(kept.iter().map(|(i, _)| *i));
        e.notes = kept.into_iter().map(|(_, n)| n).collect();
        e
    }

    fn editorial(&self) -> Eval {
        match &self.ctx.editorial {
            Some(ed) if ed.human_review && !ed.holder.trim().is_empty() => Eval::new(
                Tri::True,
                format!(
                    "{}{} holds editorial responsibility and the content underwent human review",
                    ed.holder,
                    if ed.role.is_empty() {
                        String::new()
                    } else {
                        format!(" ({})", ed.role)
                    }
                ),
            ),
            Some(ed) if !ed.human_review => Eval::new(
                Tri::False,
                format!(
                    "{} is named as editor, but no human review is stated",
                    ed.holder
                ),
            ),
            Some(_) => Eval::new(Tri::False, "no holder of editorial responsibility is named"),
            None => Eval::new(Tri::False, "no one claimed editorial responsibility"),
        }
        .with_context("editorial")
    }

    fn ai_generated(&self) -> Eval {
        let mut shown = Vec::new();
        for atom in [
            Atom::Watermark,
            Atom::CredentialAi,
            Atom::AigcLabel,
            Atom::LogRecord,
        ] {
            let e = self.atom(&atom);
            if e.value == Tri::True {
                shown.push(e);
            }
        }
        if !shown.is_empty() {
            let mut out = shown.remove(0);
            for e in shown {
                out.absorb(e);
            }
            return out;
        }
        match self.ctx.ai_generated {
            Some(true) => Eval::new(Tri::True, "the requester states that the content is AI-generated"),
            Some(false) => Eval::new(
                Tri::False,
                "the requester states that the content is not AI-generated, and no mark shows otherwise",
            ),
            None => Eval::new(
                Tri::Unknown,
                "no mark, credential or log record shows that the content is AI-generated, and no one stated it",
            ),
        }
        .with_context("ai_generated")
    }
}

/// Per source: the facts a finding rests on, and what it says.
type Grounds = Vec<(Vec<usize>, String)>;

/// The form of a reservation: machine-readable if any of its signals is.
fn form(r: &RightsFinding) -> Option<ReservationForm> {
    let forms: Vec<Option<ReservationForm>> = r
        .signals
        .iter()
        .map(|s| ReservationForm::of_signal(s))
        .collect();
    if forms.contains(&Some(ReservationForm::MachineReadable)) {
        Some(ReservationForm::MachineReadable)
    } else if !forms.is_empty() && forms.iter().all(|f| *f == Some(ReservationForm::Prose)) {
        Some(ReservationForm::Prose)
    } else {
        None
    }
}

fn signals(r: &RightsFinding) -> String {
    if r.signals.is_empty() {
        "unnamed signals".to_owned()
    } else {
        r.signals.join(", ")
    }
}

/// Why a reservation in force is not (or not known to be) machine-readable.
fn form_doubt(s: &Source<'_>, r: &RightsFinding) -> String {
    match form(r) {
        Some(ReservationForm::Prose) => format!(
            "{} reserved {} only in prose ({}); for content online, Art. 4(3) asks for \
             \"machine-readable means\", and whether prose in terms of service is enough is \
             contested: not machine-readable according to OLG Hamburg (10 December 2025, \
             5 U 104/24, on appeal to the BGH), possibly enough according to LG Hamburg \
             (27 September 2024, 310 O 227/23, obiter), while recital 18 names \"terms and \
             conditions of a website\"",
            s.name(),
            use_words(r.usage),
            signals(r)
        ),
        _ => format!(
            "{} is reserved by {}, a signal whose form (machine-readable or prose) is not known",
            s.name(),
            signals(r)
        ),
    }
}

/// What an AIGC label lacks of Art. 5's production elements, if anything. `Label` is
/// `1`, `2` or `3` (GB 45438-2025 Annex E, read through secondary sources).
fn aigc_faults(f: &AigcLabelFields) -> Option<String> {
    let mut faults = Vec::new();
    if !matches!(f.label.as_str(), "1" | "2" | "3") {
        faults.push(format!("its Label is {:?}, not 1, 2 or 3", f.label));
    }
    if f.content_producer.trim().is_empty() {
        faults.push("it names no content producer".to_owned());
    }
    if f.produce_id.trim().is_empty() {
        faults.push("it gives no content number (ProduceID)".to_owned());
    }
    (!faults.is_empty()).then(|| format!("the AIGC label is incomplete: {}", faults.join("; ")))
}

fn propagator(f: &AigcLabelFields) -> String {
    if f.content_propagator.is_empty() {
        String::new()
    } else {
        format!(
            "; propagated by {} as {}",
            f.content_propagator, f.propagate_id
        )
    }
}

/// A use, in words.
pub fn use_words(usage: AiUse) -> &'static str {
    match usage {
        AiUse::Tdm => "text and data mining",
        AiUse::AiTrain => "AI training",
        AiUse::GenaiTrain => "generative AI training",
        AiUse::AiInput => "use as AI input",
        AiUse::AiIndex => "AI indexing",
        AiUse::Search => "search indexing",
    }
}

/// Bytes covered by a set of half-open ranges (overlaps counted once).
pub fn covered_bytes(ranges: &mut [(usize, usize)]) -> usize {
    ranges.sort_unstable();
    let mut total = 0;
    let mut cur: Option<(usize, usize)> = None;
    for &(s, e) in ranges.iter() {
        match &mut cur {
            Some((_, ce)) if s <= *ce => *ce = (*ce).max(e),
            _ => {
                if let Some((cs, ce)) = cur {
                    total += ce - cs;
                }
                cur = Some((s, e));
            }
        }
    }
    if let Some((cs, ce)) = cur {
        total += ce - cs;
    }
    total
}
