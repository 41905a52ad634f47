//! What the engine is told besides the facts: the evaluation date, the legal orders, and
//! what the requester states about the content and its makers.
//!
//! Facts are measured; the context is declared. The report keeps them apart, so a reader
//! sees which outcomes rest on a measurement and which on someone's statement.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::{Date, Jurisdiction};

/// The inputs of an evaluation other than the facts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Context {
    /// The date at which the law is applied (`--as-of`): dates of application and grace
    /// periods are compared with it. Use the date of the act in question (generation,
    /// publication) to judge a past act.
    pub as_of: Date,
    /// The legal orders whose rules are evaluated (`--jurisdiction`); empty means all.
    #[serde(default)]
    pub jurisdictions: Vec<Jurisdiction>,
    /// What kind of content this is; when absent, taken from the media type of the
    /// content fact.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<ContentKind>,
    /// The length of the text in tokens of the generating model, when known. Without it,
    /// the tokens a watermark detector scored are a lower bound.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tokens: Option<u64>,
    /// Whether the requester states the content is AI-generated (a provider auditing
    /// its own output says yes); facts that show AI origin count whatever is stated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ai_generated: Option<bool>,
    /// When the AI system (or model) was placed on the EU market: grace periods depend
    /// on it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub placed_on_market: Option<Date>,
    /// Who holds editorial responsibility for the publication, if anyone does
    /// (Art. 50(4) second subparagraph).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub editorial: Option<EditorialResponsibility>,
    /// Who asks, in what role.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor: Option<Actor>,
    /// Further statements by key (see [`DECLARATIONS`]); a key not stated is unknown.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub declarations: BTreeMap<String, bool>,
}

impl Context {
    /// An evaluation at `as_of` under every jurisdiction, with nothing declared.
    pub fn new(as_of: Date) -> Self {
        Self {
            as_of,
            jurisdictions: Vec::new(),
            kind: None,
            tokens: None,
            ai_generated: None,
            placed_on_market: None,
            editorial: None,
            actor: None,
            declarations: BTreeMap::new(),
        }
    }

    pub fn with_jurisdictions(mut self, js: impl IntoIterator<Item = Jurisdiction>) -> Self {
        self.jurisdictions = js.into_iter().collect();
        self
    }

    pub fn with_kind(mut self, kind: ContentKind) -> Self {
        self.kind = Some(kind);
        self
    }

    pub fn with_tokens(mut self, tokens: u64) -> Self {
        self.tokens = Some(tokens);
        self
    }

    pub fn with_ai_generated(mut self, yes: bool) -> Self {
        self.ai_generated = Some(yes);
        self
    }

    pub fn with_placed_on_market(mut self, date: Date) -> Self {
        self.placed_on_market = Some(date);
        self
    }

    pub fn with_editorial(mut self, editorial: EditorialResponsibility) -> Self {
        self.editorial = Some(editorial);
        self
    }

    pub fn with_actor(mut self, actor: Actor) -> Self {
        self.actor = Some(actor);
        self
    }

    /// States a declaration; the key must be one of [`DECLARATIONS`].
    pub fn declare(mut self, key: &str, value: bool) -> Self {
        self.declarations.insert(key.to_owned(), value);
        self
    }

    /// Whether rules of `j` are evaluated.
    pub fn covers(&self, j: Jurisdiction) -> bool {
        self.jurisdictions.is_empty() || self.jurisdictions.contains(&j)
    }

    /// Declarations whose key the engine does not know: a typo would otherwise leave a
    /// rule silently undetermined.
    pub fn unknown_declarations(&self) -> Vec<String> {
        self.declarations
            .keys()
            .filter(|k| declaration(k).is_none())
            .cloned()
            .collect()
    }
}

/// The kinds of content the rules distinguish.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ContentKind {
    /// Free-form natural-language text, which cannot carry metadata (the Code of
    /// Practice's Measure 1.1.2: a watermark is its one layer).
    Text,
    /// Source code, configuration and other formal languages (out of Art. 50(2)'s scope).
    Code,
    Image,
    Audio,
    Video,
    /// Text in a container that carries metadata: HTML, PDF, office documents, EPUB. The
    /// Code of Practice asks such containers for two layers, as media (Measure 1.1).
    Document,
}

impl ContentKind {
    pub fn name(self) -> &'static str {
        match self {
            ContentKind::Text => "text",
            ContentKind::Code => "code",
            ContentKind::Image => "image",
            ContentKind::Audio => "audio",
            ContentKind::Video => "video",
            ContentKind::Document => "document",
        }
    }

    /// Image, audio or video.
    pub fn is_media(self) -> bool {
        matches!(
            self,
            ContentKind::Image | ContentKind::Audio | ContentKind::Video
        )
    }

    /// The kind a media type names, if it names one.
    pub fn from_media_type(media_type: &str) -> Option<Self> {
        let mt = media_type
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        let (top, sub) = mt.split_once('/')?;
        if is_document(top, sub) {
            return Some(ContentKind::Document);
        }
        match top {
            "image" => Some(ContentKind::Image),
            "audio" => Some(ContentKind::Audio),
            "video" => Some(ContentKind::Video),
            "text" if matches!(sub, "plain" | "markdown" | "enriched") => Some(ContentKind::Text),
            "text" => Some(ContentKind::Code),
            "application"
                if matches!(
                    sub,
                    "json" | "yaml" | "toml" | "xml" | "sql" | "javascript" | "x-sh"
                ) =>
            {
                Some(ContentKind::Code)
            }
            _ => None,
        }
    }
}

/// Containers of text that carry metadata of their own (the Code of Practice's
/// "containerised" text): HTML, PDF, RTF, office and OpenDocument formats, EPUB.
fn is_document(top: &str, sub: &str) -> bool {
    match top {
        "text" => matches!(sub, "html" | "rtf"),
        "application" => {
            matches!(
                sub,
                "pdf" | "xhtml+xml" | "rtf" | "msword" | "epub+zip" | "vnd.ms-word"
            ) || sub.starts_with("vnd.openxmlformats-officedocument.")
                || sub.starts_with("vnd.oasis.opendocument.")
        }
        _ => false,
    }
}

/// The natural or legal person who holds editorial responsibility, as the Code of
/// Practice asks deployers to document it (name, role, contact).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EditorialResponsibility {
    pub holder: String,
    #[serde(default)]
    pub role: String,
    #[serde(default)]
    pub contact: String,
    /// Whether the content underwent human review or editorial control.
    pub human_review: bool,
}

/// The person or organisation on whose behalf the evaluation is made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    pub name: String,
    pub role: Role,
}

/// Whom a rule binds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Develops an AI system or model and places it on the market (AI Act Art. 3(3)).
    Provider,
    /// Uses an AI system under its authority (AI Act Art. 3(4)).
    Deployer,
    RightsHolder,
    /// Disseminates content (China's 内容传播服务提供者, California's large online
    /// platform).
    Platform,
    /// Applies to register a copyright in a work (the US Copyright Office's applicant).
    Registrant,
    /// Anyone who reproduces, alters or distributes the content.
    Anyone,
}

impl Role {
    pub fn name(self) -> &'static str {
        match self {
            Role::Provider => "provider",
            Role::Deployer => "deployer",
            Role::RightsHolder => "rights holder",
            Role::Platform => "platform",
            Role::Registrant => "registrant",
            Role::Anyone => "anyone",
        }
    }
}

/// A statement the context can carry, and how a reason phrases it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Declaration {
    pub key: &'static str,
    /// The statement when true, as a clause: "the model is a general-purpose AI model".
    pub clause: &'static str,
}

/// Every declaration the rules read.
pub const DECLARATIONS: &[Declaration] = &[
    Declaration {
        key: "deep_fake",
        clause: "the content is a deep fake (AI Act Art. 3(60))",
    },
    Declaration {
        key: "public_interest_text",
        clause: "the text is published to inform the public on matters of public interest",
    },
    Declaration {
        key: "gpai_model",
        clause: "the model is a general-purpose AI model placed on the EU market",
    },
    Declaration {
        key: "copyright_policy",
        clause: "the provider has a copyright policy that identifies and honours rights reservations",
    },
    Declaration {
        key: "training_summary_published",
        clause: "the provider has published a summary of the training content on the AI Office template",
    },
    Declaration {
        key: "ca_covered_provider",
        clause: "the provider is a covered provider under SB 942 (over 1,000,000 monthly users in California)",
    },
    Declaration {
        key: "standard_editing",
        clause: "the system performs an assistive function for standard editing or does not substantially alter the input",
    },
    Declaration {
        key: "law_enforcement",
        clause: "the use is authorised by law to detect, prevent, investigate or prosecute criminal offences",
    },
    Declaration {
        key: "licensed",
        clause: "the user holds a licence from the rights holders of the sources",
    },
    Declaration {
        key: "cn_unlabelled_on_request",
        clause: "the user asked for output without explicit labels under an agreement, with logs kept for at least six months (Measures Art. 9)",
    },
    Declaration {
        key: "rights_holder_authorised",
        clause: "the rights holder or the law authorised the removal of the attribution information",
    },
    Declaration {
        key: "cn_deep_synthesis_service",
        clause: "the generating service is one of those in Art. 17(1) of the Provisions on the Administration of Deep Synthesis of Internet Information Services (services that may confuse or mislead the public, such as intelligent dialogue or writing that simulates a natural person)",
    },
    Declaration {
        key: "removal_malicious",
        clause: "the label was removed maliciously (恶意, Labelling Measures Art. 10)",
    },
    Declaration {
        key: "removal_knowing",
        clause: "whoever removed the information, or distributes the content without it, knew or had reasonable grounds to know that this would induce, enable, facilitate or conceal an infringement",
    },
    Declaration {
        key: "cmi_conveyed",
        clause: "the copies of the reproduced works carried their copyright management information (17 U.S.C. § 1202(c): conveyed in connection with copies)",
    },
    Declaration {
        key: "ca_large_online_platform",
        clause: "the platform is a large online platform (Cal. Bus. & Prof. Code § 22757.1: over 2,000,000 unique monthly users)",
    },
    Declaration {
        key: "platform_strip_knowing",
        clause: "the platform stripped the provenance data knowingly, where keeping it was technically feasible",
    },
    Declaration {
        key: "code_of_practice_signatory",
        clause: "the provider has signed the Code of Practice on Transparency of AI-Generated Content",
    },
    Declaration {
        key: "removal_prohibited_in_terms",
        clause: "the provider's terms of use prohibit users from removing the marks",
    },
    Declaration {
        key: "kr_ai_business_operator",
        clause: "the provider or deployer is an AI business operator offering generative AI products or services in Korea (AI Basic Act Art. 2, Art. 4)",
    },
    Declaration {
        key: "registration_sought",
        clause: "the content is, or is part of, a work for which copyright registration is sought from the US Copyright Office",
    },
    Declaration {
        key: "ai_material_disclosed",
        clause: "the registration application identifies the AI-generated material, excludes it from the claim and describes the human author's contribution",
    },
    Declaration {
        key: "ai_material_de_minimis",
        clause: "the AI-generated material in the work is de minimis",
    },
    Declaration {
        key: "human_authorship",
        clause: "the content contains human authorship (the author's own creative expression), so it is a work",
    },
];

/// The declaration named `key`.
pub fn declaration(key: &str) -> Option<&'static Declaration> {
    DECLARATIONS.iter().find(|d| d.key == key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_from_media_types() {
        use ContentKind::*;
        for (mt, kind) in [
            ("text/plain; charset=utf-8", Some(Text)),
            ("text/markdown", Some(Text)),
            ("text/x-python", Some(Code)),
            ("text/html; charset=utf-8", Some(Document)),
            ("application/pdf", Some(Document)),
            (
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                Some(Document),
            ),
            ("application/vnd.oasis.opendocument.text", Some(Document)),
            ("application/json", Some(Code)),
            ("image/png", Some(Image)),
            ("video/mp4", Some(Video)),
            ("audio/wav", Some(Audio)),
            ("application/octet-stream", None),
            ("nonsense", None),
        ] {
            assert_eq!(ContentKind::from_media_type(mt), kind, "{mt}");
        }
    }

    #[test]
    fn unknown_declarations_are_reported() {
        let ctx = Context::new("2026-09-01".parse().unwrap())
            .declare("gpai_model", true)
            .declare("gpai-model", true);
        assert_eq!(ctx.unknown_declarations(), vec!["gpai-model".to_owned()]);
    }
}
