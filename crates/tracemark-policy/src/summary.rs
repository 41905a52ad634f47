//! The public summary of training content that a provider of a general-purpose AI model
//! must publish (AI Act Art. 53(1)(d)), laid out as the AI Office's template of 24 July
//! 2025 (Annex to C(2025) 5235), section for section.
//!
//! Each field of the template says where its value comes from: the corpus index
//! (measured: sizes, the collection period, the domain list, the reservations seen), the
//! provider (stated in its provider-information file), or nobody yet (`to_fill`: the
//! template asks for it, the corpus cannot know it, and the provider has not said it).
//! Nothing is invented: a field the corpus cannot measure is never filled by a guess.
//!
//! The most relevant domains (template §2.3) are the top 10 % of all registrable domains
//! by content size, ⌈0.1·N⌉ of them, ranked by bytes with ties broken by name; for SMEs
//! the top 5 % or 1,000 domains, whichever is lower. Both lists are written as files; the
//! summary carries their SHA-256, and each version carries the hash of the one before.

use std::{collections::BTreeMap, fmt::Write as _};

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};
use tracemark_core::Timestamp;

use crate::{Date, text::escape};

/// The `format` of a training-content summary.
pub const SUMMARY_FORMAT: &str = "tracemark.training-summary/v1";

/// Where a field's value comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    /// Measured from the corpus index.
    Corpus,
    /// Stated by the provider.
    Provider,
    /// Asked by the template, not known: the provider must fill it before publishing.
    ToFill,
}

/// A field of the template: its section, its key in the provider's file, its label.
struct FieldSpec {
    section: &'static str,
    key: &'static str,
    label: &'static str,
    measured: bool,
}

const fn stated(section: &'static str, key: &'static str, label: &'static str) -> FieldSpec {
    FieldSpec {
        section,
        key,
        label,
        measured: false,
    }
}

const fn measured(section: &'static str, key: &'static str, label: &'static str) -> FieldSpec {
    FieldSpec {
        section,
        key,
        label,
        measured: true,
    }
}

/// The template's sections, in its order.
const SECTIONS: &[(&str, &str)] = &[
    ("1.1", "General information: the provider"),
    ("1.2", "General information: the model"),
    (
        "1.3",
        "Modalities, overall training data size and other characteristics",
    ),
    ("2.1", "Publicly available datasets"),
    (
        "2.2.1",
        "Private non-publicly available datasets: licensed from rightsholders",
    ),
    (
        "2.2.2",
        "Private non-publicly available datasets: other third parties",
    ),
    ("2.3", "Data crawled and scraped from online sources"),
    ("2.4", "User data"),
    ("2.5", "Synthetic data"),
    ("2.6", "Other sources of data"),
    (
        "3.1",
        "Respect of reservations of rights from text and data mining",
    ),
    ("3.2", "Removal of illegal content"),
    ("3.3", "Other information"),
];

/// Every field of the template, in its order.
const FIELDS: &[FieldSpec] = &[
    stated("1.1", "provider", "Provider name and contact details"),
    stated(
        "1.1",
        "authorised_representative",
        "Authorised representative (for a provider established outside the Union, Art. 54)",
    ),
    stated("1.2", "model_names", "Versioned model name(s)"),
    stated(
        "1.2",
        "model_dependencies",
        "Model dependencies (the base model of a fine-tuned one, with a link to its summary)",
    ),
    stated(
        "1.2",
        "placed_on_market",
        "Date(s) of placement on the Union market",
    ),
    measured("1.3", "text_size", "Text: training data size"),
    stated("1.3", "text_content_types", "Text: types of content"),
    stated(
        "1.3",
        "image_size",
        "Images: training data size and types of content",
    ),
    stated(
        "1.3",
        "audio_size",
        "Audio: training data size and types of content",
    ),
    stated(
        "1.3",
        "video_size",
        "Video: training data size and types of content",
    ),
    stated("1.3", "other_modalities", "Other modalities"),
    measured(
        "1.3",
        "latest_collection",
        "Latest date of data collection (MM/YYYY)",
    ),
    stated(
        "1.3",
        "continuous_training",
        "Is the model continuously trained on new data?",
    ),
    stated(
        "1.3",
        "linguistic_characteristics",
        "Linguistic characteristics of the training data",
    ),
    stated(
        "1.3",
        "other_characteristics",
        "Other characteristics (regional, demographic)",
    ),
    stated(
        "2.1",
        "public_datasets_used",
        "Were publicly available datasets used?",
    ),
    stated("2.1", "public_datasets_modalities", "Their modalities"),
    stated(
        "2.1",
        "large_public_datasets",
        "The large publicly available datasets",
    ),
    stated(
        "2.1",
        "other_public_datasets",
        "A general description of the other publicly available datasets",
    ),
    stated(
        "2.2.1",
        "licensed_data",
        "Was data licensed from rightsholders or their representatives?",
    ),
    stated("2.2.1", "licensed_modalities", "Its modalities"),
    stated(
        "2.2.2",
        "private_datasets_used",
        "Were other private third-party datasets used?",
    ),
    stated("2.2.2", "private_datasets_modalities", "Their modalities"),
    stated(
        "2.2.2",
        "private_datasets_named",
        "The publicly known ones, by name",
    ),
    stated(
        "2.2.2",
        "private_datasets_other",
        "A description of the others",
    ),
    stated("2.3", "crawlers_used", "Were crawlers used?"),
    stated("2.3", "crawlers", "Crawler name(s) or identifier(s)"),
    stated("2.3", "crawler_purposes", "Purposes of the crawlers"),
    stated(
        "2.3",
        "crawler_behaviour",
        "Behaviour of the crawlers (robots.txt, paywalls, captchas)",
    ),
    measured(
        "2.3",
        "collection_period",
        "Collection period (MM/YYYY–MM/YYYY)",
    ),
    stated(
        "2.3",
        "crawled_content_types",
        "Type of content and online sources",
    ),
    stated("2.3", "crawled_modalities", "Modalities"),
    measured(
        "2.3",
        "documents_with_source",
        "Documents of the corpus with a source URL",
    ),
    measured(
        "2.3",
        "top_domains",
        "The most relevant domain names: the top 10 % of all domains by content size",
    ),
    stated(
        "2.4",
        "user_data_model",
        "Was data from user interactions with the model used?",
    ),
    stated(
        "2.4",
        "user_data_services",
        "Was data from the provider's other services used? Which services?",
    ),
    stated("2.4", "user_data_modalities", "Its modalities"),
    stated(
        "2.5",
        "synthetic_used",
        "Was synthetic data used? Its modalities",
    ),
    stated(
        "2.5",
        "synthetic_models",
        "The general-purpose models that generated it (with links to their summaries), and other models",
    ),
    stated("2.6", "other_sources", "Other sources of data"),
    stated(
        "3.1",
        "code_signatory",
        "Is the provider a signatory of the General-Purpose AI Code of Practice?",
    ),
    stated(
        "3.1",
        "reservation_measures",
        "Measures before and during collection to respect reservations (own crawling and third-party datasets)",
    ),
    measured(
        "3.1",
        "protocols_read",
        "Reservation protocols read at collection, and the documents that carried each",
    ),
    measured(
        "3.1",
        "reserved_at_collection",
        "Documents in the corpus under a reservation in force when they were collected",
    ),
    measured(
        "3.1",
        "withdrawn",
        "Documents withdrawn from the corpus after it was built",
    ),
    stated(
        "3.2",
        "illegal_content",
        "Measures to remove illegal content (block-lists, keywords, classifiers)",
    ),
    stated("3.3", "other_information", "Other information (optional)"),
];

/// A registrable domain of the corpus and the content it gave.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DomainSize {
    pub domain: String,
    pub bytes: u64,
    pub documents: u64,
}

/// What the corpus index shows, as the facade measured it.
#[derive(Debug, Clone, Default)]
pub struct Census {
    pub documents: u64,
    pub tokens: u64,
    /// The tokenizer the tokens were counted with.
    pub tokenizer: String,
    pub bytes: u64,
    pub documents_with_url: u64,
    pub first_collected: Option<Timestamp>,
    pub last_collected: Option<Timestamp>,
    /// Every registrable domain, in any order.
    pub domains: Vec<DomainSize>,
    /// Documents with a signal of each protocol (by the rights crate's kind name).
    pub protocols: BTreeMap<String, u64>,
    /// Documents under a reservation for generative AI training in force at collection.
    pub reserved_at_collection: u64,
    /// Whose reservations count: a crawler's product token, or any AI agent.
    pub reservation_actor: String,
    pub withdrawn: u64,
}

/// The provider's file (`--provider-info`): the fields the corpus cannot know.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProviderInfo {
    /// This summary's version (template header), e.g. `1.1`.
    #[serde(default)]
    pub version: Option<String>,
    /// The provider is an SME (the shorter domain list, template §2.3).
    #[serde(default)]
    pub sme: bool,
    /// The crawler whose reservations count (robots.txt product token); without it, a
    /// reservation against any AI agent counts.
    #[serde(default)]
    pub crawler_agent: Option<String>,
    /// The previous version's `summary.json` (read by the front end).
    #[serde(default)]
    pub previous: Option<String>,
    /// Template fields by key.
    #[serde(default)]
    pub fields: BTreeMap<String, toml::Value>,
}

/// Why a provider's file cannot be used.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SummaryError {
    #[error("provider information: {0}")]
    Toml(String),
    #[error(
        "provider information: `{0}` is not a field of the template (known fields: {known})",
        known = FIELDS.iter().filter(|f| !f.measured).map(|f| f.key).collect::<Vec<_>>().join(", ")
    )]
    UnknownField(String),
    #[error("provider information: `{0}` is measured from the corpus index and cannot be stated")]
    Measured(String),
    #[error("the previous summary is not a {SUMMARY_FORMAT} document: {0}")]
    Previous(String),
}

impl ProviderInfo {
    /// Reads the provider's TOML file, refusing fields the template does not have and
    /// fields the corpus measures.
    pub fn from_toml(text: &str) -> Result<Self, SummaryError> {
        let info: ProviderInfo =
            toml::from_str(text).map_err(|e| SummaryError::Toml(e.to_string()))?;
        for key in info.fields.keys() {
            match FIELDS.iter().find(|f| f.key == key) {
                None => return Err(SummaryError::UnknownField(key.clone())),
                Some(f) if f.measured => return Err(SummaryError::Measured(key.clone())),
                Some(_) => {}
            }
        }
        Ok(info)
    }
}

/// One field, filled.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Field {
    pub key: String,
    pub label: String,
    pub from: Origin,
    pub value: Value,
}

/// One section of the template.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Section {
    pub id: String,
    pub title: String,
    pub fields: Vec<Field>,
}

/// The version this one follows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Previous {
    pub version: String,
    pub last_update: Date,
    /// Hex SHA-256 of its canonical JSON.
    pub sha256: String,
}

/// The summary: the template's header and its sections.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainingSummary {
    pub format: String,
    pub version: String,
    pub last_update: Date,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous: Option<Previous>,
    pub sections: Vec<Section>,
}

/// The file names of the domain lists beside `summary.json`.
pub const TOP_DOMAINS_FILE: &str = "top-domains.csv";
pub const TOP_DOMAINS_SME_FILE: &str = "top-domains-sme.csv";

/// How many domains of `n` the template's list holds: ⌈0.1·n⌉, or for an SME
/// min(⌈0.05·n⌉, 1000).
pub fn listed_domains(n: usize, sme: bool) -> usize {
    if sme {
        n.div_ceil(20).min(1000)
    } else {
        n.div_ceil(10)
    }
}

/// The domains by content size, largest first, ties by name.
pub fn rank_domains(mut domains: Vec<DomainSize>) -> Vec<DomainSize> {
    domains.sort_by(|a, b| b.bytes.cmp(&a.bytes).then_with(|| a.domain.cmp(&b.domain)));
    domains
}

/// A domain list as CSV: `rank,domain,bytes,documents`.
pub fn domains_csv(domains: &[DomainSize]) -> String {
    let mut out = String::from("rank,domain,bytes,documents\n");
    for (rank, d) in domains.iter().enumerate() {
        // Registrable domains hold no comma or quote; keep the file plain CSV regardless.
        let name = d.domain.replace(['"', ','], "");
        let _ = writeln!(out, "{},{},{},{}", rank + 1, name, d.bytes, d.documents);
    }
    out
}

/// The text size bins of the template (§1.3).
fn text_bin(tokens: u64) -> &'static str {
    match tokens {
        t if t < 1_000_000_000 => "less than 1 billion tokens",
        t if t <= 10_000_000_000_000 => "1 billion to 10 trillion tokens",
        _ => "more than 10 trillion tokens",
    }
}

fn month_year(t: Timestamp) -> String {
    let d = t.as_offset_date_time();
    format!("{:02}/{}", u8::from(d.month()), d.year())
}

/// The summary's domain lists, written beside it.
#[derive(Debug)]
pub struct DomainLists {
    pub top: Vec<DomainSize>,
    pub sme: Vec<DomainSize>,
}

impl DomainLists {
    pub fn of(census: &Census) -> Self {
        let ranked = rank_domains(census.domains.clone());
        let n = ranked.len();
        Self {
            top: ranked[..listed_domains(n, false)].to_vec(),
            sme: ranked[..listed_domains(n, true)].to_vec(),
        }
    }
}

/// What the corpus measured, by field key.
fn measured_values(
    census: &Census,
    lists: &DomainLists,
    sme: bool,
) -> BTreeMap<&'static str, Value> {
    use serde_json::json;
    let sha = |s: &str| hex::encode(Sha256::digest(s.as_bytes()));
    let (file, list) = if sme {
        (TOP_DOMAINS_SME_FILE, &lists.sme)
    } else {
        (TOP_DOMAINS_FILE, &lists.top)
    };
    let listed_bytes: u64 = list.iter().map(|d| d.bytes).sum();
    let mut m = BTreeMap::new();
    m.insert(
        "text_size",
        json!({
            "bin": text_bin(census.tokens),
            "tokens": census.tokens,
            "tokenizer": census.tokenizer,
            "documents": census.documents,
            "bytes": census.bytes,
        }),
    );
    if let Some(last) = census.last_collected {
        m.insert("latest_collection", json!(month_year(last)));
    }
    if let (Some(first), Some(last)) = (census.first_collected, census.last_collected) {
        m.insert(
            "collection_period",
            json!(format!("{}–{}", month_year(first), month_year(last))),
        );
    }
    m.insert(
        "documents_with_source",
        json!({ "documents": census.documents_with_url, "of": census.documents }),
    );
    m.insert(
        "top_domains",
        json!({
            "rule": if sme {
                "the top 5 % of registrable domains (Public Suffix List) by bytes, at most 1,000 (SME), ties by name"
            } else {
                "the top 10 % of registrable domains (Public Suffix List) by bytes, ties by name"
            },
            "domains_in_corpus": census.domains.len(),
            "listed": list.len(),
            "bytes_listed": listed_bytes,
            "file": file,
            "file_sha256": sha(&domains_csv(list)),
            "first": list.iter().take(10).map(|d| &d.domain).collect::<Vec<_>>(),
        }),
    );
    m.insert("protocols_read", json!(census.protocols));
    m.insert(
        "reserved_at_collection",
        json!({
            "documents": census.reserved_at_collection,
            "of": census.documents,
            "for": census.reservation_actor,
        }),
    );
    m.insert("withdrawn", json!({ "documents": census.withdrawn }));
    m
}

impl TrainingSummary {
    /// Fills the template: measured fields from `census`, the others from `info`, the
    /// rest left to fill.
    pub fn build(
        census: &Census,
        info: &ProviderInfo,
        last_update: Date,
        previous: Option<Previous>,
    ) -> Self {
        let lists = DomainLists::of(census);
        let mut measured = measured_values(census, &lists, info.sme);
        let sections = SECTIONS
            .iter()
            .map(|&(id, title)| Section {
                id: id.into(),
                title: title.into(),
                fields: FIELDS
                    .iter()
                    .filter(|f| f.section == id)
                    .map(|f| fill(f, &mut measured, info))
                    .collect(),
            })
            .collect();
        Self {
            format: SUMMARY_FORMAT.into(),
            version: info.version.clone().unwrap_or_else(|| "1".into()),
            last_update,
            previous,
            sections,
        }
    }

    /// Reads a summary written before (to chain the next version to it).
    pub fn from_json(json: &str) -> Result<Self, SummaryError> {
        let summary: Self =
            serde_json::from_str(json).map_err(|e| SummaryError::Previous(e.to_string()))?;
        if summary.format != SUMMARY_FORMAT {
            return Err(SummaryError::Previous(format!(
                "its format is {:?}",
                summary.format
            )));
        }
        Ok(summary)
    }

    /// The canonical JSON (RFC 8785) that the next version's `previous` hashes.
    pub fn canonical_bytes(&self) -> Vec<u8> {
        let value = serde_json::to_value(self).expect("a summary serialises");
        tracemark_core::jcs::canonicalize(&value).expect("a summary holds only counts and text")
    }

    pub fn sha256(&self) -> String {
        hex::encode(Sha256::digest(self.canonical_bytes()))
    }

    /// What the next version records of this one.
    pub fn as_previous(&self) -> Previous {
        Previous {
            version: self.version.clone(),
            last_update: self.last_update,
            sha256: self.sha256(),
        }
    }

    /// The fields the provider must still fill before publishing.
    pub fn to_fill(&self) -> Vec<&str> {
        self.fields()
            .filter(|f| f.from == Origin::ToFill)
            .map(|f| f.key.as_str())
            .collect()
    }

    fn fields(&self) -> impl Iterator<Item = &Field> {
        self.sections.iter().flat_map(|s| &s.fields)
    }
}

fn fill(
    spec: &FieldSpec,
    measured: &mut BTreeMap<&'static str, Value>,
    info: &ProviderInfo,
) -> Field {
    let (from, value) = if spec.measured {
        match measured.remove(spec.key) {
            Some(v) => (Origin::Corpus, v),
            None => (Origin::ToFill, Value::Null),
        }
    } else {
        match info.fields.get(spec.key) {
            Some(v) => (
                Origin::Provider,
                serde_json::to_value(v).expect("TOML values are JSON values"),
            ),
            None => (Origin::ToFill, Value::Null),
        }
    };
    Field {
        key: spec.key.into(),
        label: spec.label.into(),
        from,
        value,
    }
}

/// The summary as a page laid out as the template, its domain list inline.
pub fn render_summary_html(summary: &TrainingSummary, domains: &[DomainSize]) -> String {
    let mut h = String::with_capacity(16 * 1024);
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>Public summary of training content</title>\n<style>{CSS}</style>\n</head>\n<body>\n<main>\n\
         <header><div class=\"kicker\">Template for the public summary of training content (AI Act Art. 53(1)(d))</div>\n\
         <h1>Public summary of training content</h1>\n<dl>\n<dt>Version of the summary</dt><dd>{}</dd>\n\
         <dt>Last update</dt><dd>{}</dd>\n",
        escape(&summary.version),
        summary.last_update.long()
    );
    if let Some(p) = &summary.previous {
        let _ = writeln!(
            h,
            "<dt>Previous version</dt><dd>{} of {} (SHA-256 <code>{}</code>)</dd>",
            escape(&p.version),
            p.last_update.long(),
            escape(&p.sha256)
        );
    }
    h.push_str("</dl>\n</header>\n");
    for section in &summary.sections {
        let _ = writeln!(
            h,
            "<section>\n<h2>{} {}</h2>\n<table>",
            escape(&section.id),
            escape(&section.title)
        );
        for f in &section.fields {
            let (class, source) = match f.from {
                Origin::Corpus => ("corpus", "measured from the corpus index"),
                Origin::Provider => ("provider", "stated by the provider"),
                Origin::ToFill => ("fill", "to be filled by the provider"),
            };
            let _ = writeln!(
                h,
                "<tr class=\"{class}\"><th>{}</th><td>{}</td><td class=\"from\">{source}</td></tr>",
                escape(&f.label),
                value_html(&f.value)
            );
        }
        h.push_str("</table>\n");
        if section.id == "2.3" {
            domain_table(&mut h, domains);
        }
        h.push_str("</section>\n");
    }
    let _ = write!(
        h,
        "<footer>format {} · the JSON document and the domain list files are the record; \
         this page renders them.</footer>\n</main>\n</body>\n</html>\n",
        escape(&summary.format)
    );
    h
}

fn domain_table(h: &mut String, domains: &[DomainSize]) {
    let _ = write!(
        h,
        "<details><summary>The {} listed domains</summary>\n<table class=\"domains\">\n\
         <tr><th>#</th><th>Domain</th><th>Bytes</th><th>Documents</th></tr>\n",
        domains.len()
    );
    for (rank, d) in domains.iter().enumerate() {
        let _ = writeln!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            rank + 1,
            escape(&d.domain),
            d.bytes,
            d.documents
        );
    }
    h.push_str("</table>\n</details>\n");
}

fn value_html(v: &Value) -> String {
    match v {
        Value::Null => "<em>not stated</em>".into(),
        Value::String(s) => escape(s),
        Value::Bool(b) => if *b { "Yes" } else { "No" }.into(),
        Value::Number(n) => n.to_string(),
        Value::Array(items) => format!(
            "<ul>{}</ul>",
            items
                .iter()
                .map(|i| format!("<li>{}</li>", value_html(i)))
                .collect::<String>()
        ),
        Value::Object(map) => format!(
            "<dl class=\"inner\">{}</dl>",
            map.iter()
                .map(|(k, v)| format!(
                    "<dt>{}</dt><dd>{}</dd>",
                    escape(&k.replace('_', " ")),
                    value_html(v)
                ))
                .collect::<String>()
        ),
    }
}

const CSS: &str = "body{font:15px/1.5 system-ui,sans-serif;color:#1b1f24;background:#f4f5f7;margin:0}\
main{max-width:60rem;margin:2rem auto;background:#fff;padding:2rem 2.5rem;border:1px solid #d8dce1}\
.kicker{color:#5a6470;font-size:.85rem;text-transform:uppercase;letter-spacing:.04em}\
h1{margin:.2rem 0 1rem}h2{font-size:1.1rem;border-bottom:1px solid #d8dce1;padding-bottom:.2rem;margin-top:2rem}\
dl{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem;margin:0}dt{color:#5a6470}dd{margin:0}\
table{border-collapse:collapse;width:100%}th,td{text-align:left;vertical-align:top;padding:.35rem .5rem;border-top:1px solid #eceef1}\
th{width:38%;font-weight:600}td.from{width:12rem;color:#5a6470;font-size:.85rem}\
tr.fill td:first-of-type{color:#a4361c}table.domains th{width:auto}\
code{font-size:.85em;word-break:break-all}footer{margin-top:2rem;color:#5a6470;font-size:.85rem}";

#[cfg(test)]
mod tests {
    use super::*;

    fn domain(name: &str, bytes: u64) -> DomainSize {
        DomainSize {
            domain: name.into(),
            bytes,
            documents: 1,
        }
    }

    /// ⌈0.1·N⌉, and the SME variant's min(⌈0.05·N⌉, 1000).
    #[test]
    fn the_list_is_the_top_tenth_rounded_up() {
        assert_eq!(listed_domains(0, false), 0);
        assert_eq!(listed_domains(1, false), 1);
        assert_eq!(listed_domains(10, false), 1);
        assert_eq!(listed_domains(11, false), 2);
        assert_eq!(listed_domains(5000, false), 500);
        assert_eq!(listed_domains(21, true), 2);
        assert_eq!(listed_domains(30_000, true), 1000);
    }

    /// Bytes decide, then the name; the CSV lists them in that order.
    #[test]
    fn domains_rank_by_bytes_then_name() {
        let ranked = rank_domains(vec![
            domain("b.example", 5),
            domain("c.example", 9),
            domain("a.example", 5),
        ]);
        let names: Vec<_> = ranked.iter().map(|d| d.domain.as_str()).collect();
        assert_eq!(names, ["c.example", "a.example", "b.example"]);
        assert_eq!(
            domains_csv(&ranked[..1]),
            "rank,domain,bytes,documents\n1,c.example,9,1\n"
        );
    }

    #[test]
    fn the_provider_cannot_state_a_measured_field_or_an_unknown_one() {
        assert_eq!(
            ProviderInfo::from_toml("[fields]\ntop_domains = \"x.example\"").unwrap_err(),
            SummaryError::Measured("top_domains".into())
        );
        let unknown = ProviderInfo::from_toml("[fields]\nprovder = \"A\"").unwrap_err();
        assert!(matches!(unknown, SummaryError::UnknownField(ref k) if k == "provder"));
        assert!(unknown.to_string().contains("provider"), "{unknown}");
        assert!(ProviderInfo::from_toml("versoin = \"2\"").is_err());
    }

    /// Stated, measured and unknown fields each say so; nothing is filled by a guess.
    #[test]
    fn every_field_says_where_its_value_comes_from() {
        let census = Census {
            documents: 3,
            tokens: 40,
            domains: vec![domain("a.example", 10)],
            ..Default::default()
        };
        let info = ProviderInfo::from_toml(
            "version = \"2.0\"\n[fields]\nprovider = \"Example AI, legal@example.ai\"\ncrawlers_used = false",
        )
        .unwrap();
        let date = Date::new(2026, 12, 7).unwrap();
        let s = TrainingSummary::build(&census, &info, date, None);
        let field = |k: &str| s.fields().find(|f| f.key == k).unwrap().clone();
        assert_eq!(field("provider").from, Origin::Provider);
        assert_eq!(field("crawlers_used").value, Value::Bool(false));
        assert_eq!(field("text_size").from, Origin::Corpus);
        assert_eq!(
            field("text_size").value["bin"],
            "less than 1 billion tokens"
        );
        // No collection times in the corpus: the period is not measured, and not made up.
        assert_eq!(field("collection_period").from, Origin::ToFill);
        assert!(s.to_fill().contains(&"illegal_content"));
        assert_eq!(s.fields().count(), FIELDS.len());
        // The next version chains to this one by its hash.
        let next = TrainingSummary::build(&census, &info, date, Some(s.as_previous()));
        assert_eq!(next.previous.as_ref().unwrap().sha256, s.sha256());
        let read = TrainingSummary::from_json(&serde_json::to_string(&s).unwrap()).unwrap();
        assert_eq!(read.sha256(), s.sha256());
        let html = render_summary_html(&s, &[]);
        assert!(html.contains("to be filled by the provider"));
        assert!(html.contains("Example AI, legal@example.ai"));
    }
}
