//! The condition language of the rule catalogue: predicates over the facts and the
//! context, joined by `and`, `or`, `not` and parentheses.
//!
//! ```text
//! ai_generated and not kind:code
//! (kind:text and watermark) or (kind:media and watermark and credential_ai)
//! ```
//!
//! Conditions are evaluated in three-valued (Kleene) logic: a predicate whose facts are
//! missing or unestablished is *unknown*, `false and unknown` is false, `true or unknown`
//! is true, and anything else involving unknown stays unknown. So an unknown fact decides
//! an outcome only when it could change it, and then the outcome is undetermined.

use std::{collections::BTreeSet, fmt};

use tracemark_core::fact::{MarkKind, PartyRole};

use crate::Date;

/// A truth value that may be unknown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tri {
    True,
    False,
    Unknown,
}

impl Tri {
    pub fn from_option(b: Option<bool>) -> Self {
        match b {
            Some(true) => Tri::True,
            Some(false) => Tri::False,
            None => Tri::Unknown,
        }
    }
}

impl From<bool> for Tri {
    fn from(b: bool) -> Self {
        if b { Tri::True } else { Tri::False }
    }
}

/// A truth value with what it rests on: the indices of the facts, the context fields,
/// and sentences saying what was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Eval {
    pub value: Tri,
    pub facts: BTreeSet<usize>,
    pub context: BTreeSet<String>,
    pub notes: Vec<String>,
}

impl Eval {
    pub fn new(value: Tri, note: impl Into<String>) -> Self {
        Self {
            value,
            facts: BTreeSet::new(),
            context: BTreeSet::new(),
            notes: vec![note.into()],
        }
    }

    pub fn with_facts(mut self, facts: impl IntoIterator<Item = usize>) -> Self {
        self.facts.extend(facts);
        self
    }

    pub fn with_context(mut self, field: impl Into<String>) -> Self {
        self.context.insert(field.into());
        self
    }

    fn merge(value: Tri, parts: Vec<Eval>) -> Eval {
        let mut out = Eval {
            value,
            facts: BTreeSet::new(),
            context: BTreeSet::new(),
            notes: Vec::new(),
        };
        for p in parts {
            out.absorb(p);
        }
        out
    }

    /// Adds another evaluation's grounds (facts, context, notes) to this one.
    pub fn absorb(&mut self, other: Eval) {
        self.facts.extend(other.facts);
        self.context.extend(other.context);
        for n in other.notes {
            if !self.notes.contains(&n) {
                self.notes.push(n);
            }
        }
    }
}

/// A predicate of the condition language: a name, and an argument after `:` for some.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Atom {
    /// The content is AI-generated (a mark shows it, or the requester states it).
    AiGenerated,
    /// The content is of this kind; `media` is image, audio or video.
    Kind(KindTest),
    /// The text is shorter than this many tokens.
    TokensBelow(u64),
    /// A watermark was detected with one of the keys tried.
    Watermark,
    /// A content credential with a valid signature was found (trusted or not).
    Credential,
    /// A valid credential declares an AI digital source type (IPTC `trainedAlgorithmicMedia`…).
    CredentialAi,
    /// A valid credential names its signer, the generator and the time of signing.
    CredentialProvenance,
    /// A valid credential carries a trusted time-stamp (a time-stamping authority's
    /// time, not the signer's own claim).
    CredentialTimeStamped,
    /// China's `AIGC` implicit label is present, with the production elements the
    /// Labelling Measures Art. 5 names.
    AigcLabel,
    /// A perceptible AI label was found in the content.
    Disclosure,
    /// A generation record for the content is in a transparency log, with a verified
    /// inclusion proof.
    LogRecord,
    /// Spans of the content occur in documents of an index (verbatim or near-duplicate).
    Sources,
    /// Some source document carries attribution information (owner or licence).
    SourcesWithCmi,
    /// Some source document's reservation of TDM or training was in force when it was
    /// collected.
    SourcesReserved,
    /// The content keeps the attribution information of every source that has it.
    SourcesAttributed,
    /// Someone holds editorial responsibility after human review (stated in the context).
    EditorialResponsibility,
    /// A mark of this kind is shown to have been removed (`removed:credential`); with a
    /// remover, removed by someone of that role (`removed:credential:platform`), or by
    /// someone identified at all (`removed:credential:anyone`).
    Removed(MarkKind, Option<Remover>),
    /// The output carried a mark of this kind when it was generated (a record shows it),
    /// and no one states that its provider removed it: the provider marked it.
    MarkedAtGeneration(MarkKind),
    /// A detector for this kind of mark is offered to others (free, public or on
    /// request).
    Detector(MarkKind),
    /// An element of California's latent disclosure (Bus. & Prof. Code § 22757.3(b)).
    LatentDisclosure(LatentElement),
    /// Someone states who mined the reproduced documents: the research exception is
    /// invoked (false when no one does).
    ResearchExceptionInvoked,
    /// Whoever mined the reproduced documents is a research organisation or a cultural
    /// heritage institution (DSM Directive Art. 2(1), 2(3)); false when no one states who
    /// mined them.
    ResearchOrganisation,
    /// The miner had lawful access to the works (DSM Directive Art. 3(1)).
    LawfulAccess,
    /// The mining was for the purposes of scientific research (DSM Directive Art. 3(1)).
    ScientificResearch,
    /// The content contains human authorship: it is a work, not AI output alone.
    HumanAuthorship,
    /// The system was placed on the EU market before this date.
    MarketBefore(Date),
    /// A declaration of the context: unknown when not stated.
    Declared(String),
    /// A defence the requester claims: false when not stated.
    Claimed(String),
}

/// The kind test of `kind:…`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KindTest {
    Text,
    Code,
    Image,
    Audio,
    Video,
    Media,
    Document,
}

/// Who removed a mark, in `removed:KIND:ROLE`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Remover {
    /// Someone of this role.
    Role(PartyRole),
    /// Someone identified, whatever their role (for rules that bind anyone).
    Anyone,
}

/// The elements of California's latent disclosure, in the statute's order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LatentElement {
    /// (b)(1)(A) "The name of the covered provider."
    ProviderName,
    /// (b)(1)(B) "The name and version number of the GenAI system".
    SystemNameAndVersion,
    /// (b)(1)(C) "The time and date of the content's creation or alteration."
    TimeOfCreation,
    /// (b)(1)(D) "A unique identifier."
    UniqueIdentifier,
    /// (b)(2) "detectable by the covered provider's AI detection tool".
    Detectable,
    /// (b)(3) "consistent with widely accepted industry standards".
    IndustryStandard,
    /// (b)(4) "permanent or extraordinarily difficult to remove".
    Permanent,
}

impl LatentElement {
    const NAMES: [(&'static str, LatentElement); 7] = [
        ("provider_name", LatentElement::ProviderName),
        (
            "system_name_and_version",
            LatentElement::SystemNameAndVersion,
        ),
        ("time_of_creation", LatentElement::TimeOfCreation),
        ("unique_identifier", LatentElement::UniqueIdentifier),
        ("detectable", LatentElement::Detectable),
        ("industry_standard", LatentElement::IndustryStandard),
        ("permanent", LatentElement::Permanent),
    ];

    fn from_name(name: &str) -> Option<LatentElement> {
        Self::NAMES
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, e)| *e)
    }
}

/// The names a condition may use, for error messages and documentation.
pub const PREDICATES: &[&str] = &[
    "ai_generated",
    "kind:text|code|image|audio|video|media|document",
    "tokens_below:N",
    "watermark",
    "credential",
    "credential_ai",
    "credential_provenance",
    "credential_time_stamped",
    "aigc_label",
    "disclosure",
    "log_record",
    "sources",
    "sources_with_cmi",
    "sources_reserved",
    "sources_attributed",
    "editorial_responsibility",
    "removed:KIND[:ROLE|:anyone]",
    "marked_at_generation:KIND",
    "detector:KIND",
    "latent_disclosure:ELEMENT",
    "research_exception_invoked",
    "research_organisation",
    "lawful_access",
    "scientific_research",
    "human_authorship",
    "market_before:YYYY-MM-DD",
    "declared:KEY",
    "claimed:KEY",
];

impl Atom {
    fn parse(word: &str) -> Result<Atom, String> {
        let (name, arg) = match word.split_once(':') {
            Some((n, a)) => (n, Some(a)),
            None => (word, None),
        };
        let no_arg = |atom: Atom| match arg {
            None => Ok(atom),
            Some(_) => Err(format!("`{name}` takes no argument")),
        };
        let need = || arg.ok_or_else(|| format!("`{name}` needs an argument (`{name}:…`)"));
        match name {
            "ai_generated" => no_arg(Atom::AiGenerated),
            "watermark" => no_arg(Atom::Watermark),
            "credential" => no_arg(Atom::Credential),
            "credential_ai" => no_arg(Atom::CredentialAi),
            "credential_provenance" => no_arg(Atom::CredentialProvenance),
            "credential_time_stamped" => no_arg(Atom::CredentialTimeStamped),
            "research_exception_invoked" => no_arg(Atom::ResearchExceptionInvoked),
            "research_organisation" => no_arg(Atom::ResearchOrganisation),
            "lawful_access" => no_arg(Atom::LawfulAccess),
            "scientific_research" => no_arg(Atom::ScientificResearch),
            "human_authorship" => no_arg(Atom::HumanAuthorship),
            "removed" => removed(need()?),
            "marked_at_generation" => mark_kind(need()?).map(Atom::MarkedAtGeneration),
            "detector" => mark_kind(need()?).map(Atom::Detector),
            "latent_disclosure" => {
                let element = need()?;
                LatentElement::from_name(element)
                    .map(Atom::LatentDisclosure)
                    .ok_or_else(|| {
                        let known: Vec<&str> =
                            LatentElement::NAMES.iter().map(|(n, _)| *n).collect();
                        format!(
                            "unknown latent-disclosure element `{element}`; known: {}",
                            known.join(", ")
                        )
                    })
            }
            "aigc_label" => no_arg(Atom::AigcLabel),
            "disclosure" => no_arg(Atom::Disclosure),
            "log_record" => no_arg(Atom::LogRecord),
            "sources" => no_arg(Atom::Sources),
            "sources_with_cmi" => no_arg(Atom::SourcesWithCmi),
            "sources_reserved" => no_arg(Atom::SourcesReserved),
            "sources_attributed" => no_arg(Atom::SourcesAttributed),
            "editorial_responsibility" => no_arg(Atom::EditorialResponsibility),
            "kind" => Ok(Atom::Kind(match need()? {
                "text" => KindTest::Text,
                "code" => KindTest::Code,
                "image" => KindTest::Image,
                "audio" => KindTest::Audio,
                "video" => KindTest::Video,
                "media" => KindTest::Media,
                "document" => KindTest::Document,
                other => return Err(format!("unknown content kind `{other}`")),
            })),
            "tokens_below" => need()?.parse().map(Atom::TokensBelow).map_err(|_| {
                format!(
                    "`tokens_below` needs a number, not `{}`",
                    need().unwrap_or("")
                )
            }),
            "market_before" => need()?
                .parse()
                .map(Atom::MarketBefore)
                .map_err(|e| e.to_string()),
            "declared" | "claimed" => {
                let key = need()?;
                if crate::context::declaration(key).is_none() {
                    return Err(format!("unknown declaration `{key}`"));
                }
                Ok(if name == "declared" {
                    Atom::Declared(key.to_owned())
                } else {
                    Atom::Claimed(key.to_owned())
                })
            }
            _ => Err(format!(
                "unknown predicate `{word}`; known: {}",
                PREDICATES.join(", ")
            )),
        }
    }
}

/// `credential`, `aigc_label`, …: a kind of mark.
fn mark_kind(name: &str) -> Result<MarkKind, String> {
    MarkKind::from_name(name).ok_or_else(|| {
        let known: Vec<&str> = MarkKind::ALL.iter().map(|k| k.name()).collect();
        format!("unknown kind of mark `{name}`; known: {}", known.join(", "))
    })
}

/// The argument of `removed:`: `KIND`, `KIND:ROLE` or `KIND:anyone`.
fn removed(arg: &str) -> Result<Atom, String> {
    let (kind, who) = match arg.split_once(':') {
        Some((k, w)) => (k, Some(w)),
        None => (arg, None),
    };
    let kind = mark_kind(kind)?;
    let who = match who {
        None => None,
        Some("anyone") => Some(Remover::Anyone),
        Some(role) => Some(Remover::Role(
            PartyRole::ALL
                .into_iter()
                .find(|r| r.name() == role)
                .ok_or_else(|| format!("unknown role `{role}` in `removed:`"))?,
        )),
    };
    Ok(Atom::Removed(kind, who))
}

/// A parsed condition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Condition {
    Atom(Atom),
    Not(Box<Condition>),
    All(Vec<Condition>),
    Any(Vec<Condition>),
}

/// A condition that does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("condition `{text}`: {message}")]
pub struct ConditionError {
    pub text: String,
    pub message: String,
}

impl Condition {
    pub fn parse(text: &str) -> Result<Condition, ConditionError> {
        let err = |message: String| ConditionError {
            text: text.to_owned(),
            message,
        };
        let tokens = tokenize(text);
        if tokens.is_empty() {
            return Err(err("empty condition".into()));
        }
        let mut p = Parser { tokens, pos: 0 };
        let c = p.or().map_err(err)?;
        match p.tokens.get(p.pos) {
            None => Ok(c),
            Some(t) => Err(err(format!("unexpected `{t}`"))),
        }
    }

    /// Evaluates in Kleene logic, with `atom` giving each predicate's value.
    pub fn eval(&self, atom: &mut impl FnMut(&Atom) -> Eval) -> Eval {
        match self {
            Condition::Atom(a) => atom(a),
            Condition::Not(c) => {
                let mut e = c.eval(atom);
                e.value = match e.value {
                    Tri::True => Tri::False,
                    Tri::False => Tri::True,
                    Tri::Unknown => Tri::Unknown,
                };
                e
            }
            Condition::All(cs) => combine(cs, atom, Tri::False, Tri::True),
            Condition::Any(cs) => combine(cs, atom, Tri::True, Tri::False),
        }
    }
}

/// `all` (decisive = false) or `any` (decisive = true): the result rests on the decisive
/// children if any, else on the unknown ones, else on all of them.
fn combine(
    cs: &[Condition],
    atom: &mut impl FnMut(&Atom) -> Eval,
    decisive: Tri,
    otherwise: Tri,
) -> Eval {
    let evals: Vec<Eval> = cs.iter().map(|c| c.eval(atom)).collect();
    if evals.iter().any(|e| e.value == decisive) {
        let parts = evals.into_iter().filter(|e| e.value == decisive).collect();
        return Eval::merge(decisive, parts);
    }
    if evals.iter().any(|e| e.value == Tri::Unknown) {
        let parts = evals
            .into_iter()
            .filter(|e| e.value == Tri::Unknown)
            .collect();
        return Eval::merge(Tri::Unknown, parts);
    }
    Eval::merge(otherwise, evals)
}

impl fmt::Display for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Condition::Atom(a) => write!(f, "{a:?}"),
            Condition::Not(c) => write!(f, "not ({c})"),
            Condition::All(cs) | Condition::Any(cs) => {
                let op = if matches!(self, Condition::All(_)) {
                    " and "
                } else {
                    " or "
                };
                f.write_str("(")?;
                for (i, c) in cs.iter().enumerate() {
                    if i > 0 {
                        f.write_str(op)?;
                    }
                    write!(f, "{c}")?;
                }
                f.write_str(")")
            }
        }
    }
}

fn tokenize(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut word = String::new();
    for c in text.chars() {
        if c == '(' || c == ')' || c.is_whitespace() {
            if !word.is_empty() {
                out.push(std::mem::take(&mut word));
            }
            if !c.is_whitespace() {
                out.push(c.to_string());
            }
        } else {
            word.push(c);
        }
    }
    if !word.is_empty() {
        out.push(word);
    }
    out
}

struct Parser {
    tokens: Vec<String>,
    pos: usize,
}

impl Parser {
    fn peek(&self) -> Option<&str> {
        self.tokens.get(self.pos).map(String::as_str)
    }

    fn or(&mut self) -> Result<Condition, String> {
        let mut parts = vec![self.and()?];
        while self.peek() == Some("or") {
            self.pos += 1;
            parts.push(self.and()?);
        }
        Ok(if parts.len() == 1 {
            parts.remove(0)
        } else {
            Condition::Any(parts)
        })
    }

    fn and(&mut self) -> Result<Condition, String> {
        let mut parts = vec![self.unary()?];
        while self.peek() == Some("and") {
            self.pos += 1;
            parts.push(self.unary()?);
        }
        Ok(if parts.len() == 1 {
            parts.remove(0)
        } else {
            Condition::All(parts)
        })
    }

    fn unary(&mut self) -> Result<Condition, String> {
        let token = self
            .peek()
            .ok_or_else(|| "the condition ends too early".to_owned())?
            .to_owned();
        self.pos += 1;
        match token.as_str() {
            "not" => Ok(Condition::Not(Box::new(self.unary()?))),
            "(" => {
                let c = self.or()?;
                if self.peek() != Some(")") {
                    return Err("a `(` is not closed".into());
                }
                self.pos += 1;
                Ok(c)
            }
            ")" | "and" | "or" => Err(format!("unexpected `{token}`")),
            word => Atom::parse(word).map(Condition::Atom),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn truth(c: &str, values: &[(&str, Tri)]) -> Tri {
        let c = Condition::parse(c).unwrap();
        c.eval(&mut |a: &Atom| {
            let name = match a {
                Atom::Watermark => "watermark",
                Atom::Credential => "credential",
                Atom::AiGenerated => "ai_generated",
                _ => "other",
            };
            let v = values
                .iter()
                .find(|(n, _)| *n == name)
                .map_or(Tri::Unknown, |(_, v)| *v);
            Eval::new(v, name)
        })
        .value
    }

    #[test]
    fn parses_precedence_and_parentheses() {
        let c = Condition::parse("ai_generated and not kind:code or watermark").unwrap();
        assert!(matches!(c, Condition::Any(ref v) if v.len() == 2));
        let c = Condition::parse("ai_generated and (watermark or credential)").unwrap();
        assert!(matches!(c, Condition::All(ref v) if v.len() == 2));
        assert!(Condition::parse("market_before:2026-08-02").is_ok());
        assert!(Condition::parse("declared:gpai_model").is_ok());
        assert_eq!(
            Condition::parse("removed:credential:platform").unwrap(),
            Condition::Atom(Atom::Removed(
                MarkKind::Credential,
                Some(Remover::Role(PartyRole::Platform))
            ))
        );
        assert_eq!(
            Condition::parse("removed:aigc_label:anyone").unwrap(),
            Condition::Atom(Atom::Removed(MarkKind::AigcLabel, Some(Remover::Anyone)))
        );
        assert_eq!(
            Condition::parse("latent_disclosure:unique_identifier").unwrap(),
            Condition::Atom(Atom::LatentDisclosure(LatentElement::UniqueIdentifier))
        );
        assert!(Condition::parse("kind:document and detector:watermark").is_ok());
    }

    #[test]
    fn rejects_what_it_does_not_know() {
        for bad in [
            "",
            "watermark and",
            "(watermark",
            "watermark)",
            "watermarked",
            "kind:smell",
            "tokens_below:many",
            "market_before:2026-13-01",
            "declared:nonsense",
            "watermark:yes",
            "removed",
            "removed:stamp",
            "removed:credential:neighbour",
            "detector:watermark:free",
            "latent_disclosure:colour",
            "human_authorship:yes",
            "kind",
            "and watermark",
        ] {
            assert!(Condition::parse(bad).is_err(), "{bad:?} parsed");
        }
    }

    #[test]
    fn kleene_logic() {
        use Tri::*;
        let w = |v| [("watermark", v), ("credential", Unknown)];
        assert_eq!(truth("watermark and credential", &w(False)), False);
        assert_eq!(truth("watermark and credential", &w(True)), Unknown);
        assert_eq!(truth("watermark or credential", &w(True)), True);
        assert_eq!(truth("watermark or credential", &w(False)), Unknown);
        assert_eq!(truth("not credential", &w(True)), Unknown);
        assert_eq!(truth("not watermark", &w(True)), False);
    }

    #[test]
    fn grounds_come_from_the_deciding_side() {
        let c = Condition::parse("watermark and credential").unwrap();
        let e = c.eval(&mut |a: &Atom| match a {
            Atom::Watermark => Eval::new(Tri::False, "no mark").with_facts([1]),
            _ => Eval::new(Tri::True, "signed").with_facts([2]),
        });
        assert_eq!(e.value, Tri::False);
        assert_eq!(e.notes, vec!["no mark".to_owned()]);
        assert_eq!(e.facts.into_iter().collect::<Vec<_>>(), vec![1]);
    }
}
