//! The public summary of training content (AI Act Art. 53(1)(d)) of a corpus: the corpus
//! indexes measured (`census`), the provider's file read, and the template filled and
//! written (`write`). The template itself, and what is measured and what is stated, are
//! `tracemark_policy::summary`'s.

use std::{
    collections::{BTreeMap, HashMap},
    path::{Path, PathBuf},
};

use tracemark_core::{
    keyfile::{self, Replace, Secrecy},
    rights::{AiUse, Permission},
};
use tracemark_policy::{
    Date,
    summary::{
        Census, DomainLists, DomainSize, ProviderInfo, TOP_DOMAINS_FILE, TOP_DOMAINS_SME_FILE,
        TrainingSummary, domains_csv, render_summary_html,
    },
};
use tracemark_rights::Actor;
use tracemark_trace::Index;

use crate::{Error, Result};

/// The registrable domain of a URL's host by the Public Suffix List (its ICANN and
/// private sections, as the `psl` crate compiles them in): `news.example.co.uk` gives
/// `example.co.uk`. A host that is an address, or that the list cannot split, is its own
/// domain. `None` when the URL has no host.
pub fn registrable_domain(url: &str) -> Option<String> {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let authority = rest.split(['/', '?', '#']).next()?;
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = if host.starts_with('[') {
        // An IPv6 literal: `[::1]:8080`.
        host.split_inclusive(']').next()?
    } else {
        host.split(':').next()?
    };
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    if host.is_empty() {
        return None;
    }
    let is_address = host.starts_with('[') || host.parse::<std::net::Ipv4Addr>().is_ok();
    Some(match psl::domain_str(&host) {
        Some(domain) if !is_address => domain.to_owned(),
        _ => host,
    })
}

/// Measures the corpus of `indexes` for the summary. A document's collection time is
/// its `fetched_at`; its reservation is the rights decision for generative AI training
/// in force then, for `crawler` (a robots.txt product token) or, without one, any AI
/// agent. Its size is the bytes of its text as indexed (an index older than the size's
/// recording counts the bytes of its decoded tokens).
/// The indexes are taken to hold disjoint corpora: a document in two of them counts twice
/// (one corpus in parts is one sharded index, whose parts never share a document).
pub fn census(indexes: &[Index], crawler: Option<&str>) -> Result<Census> {
    let actor = match crawler {
        Some(agent) => Actor::Agent(agent.to_owned()),
        None => Actor::AnyAgent,
    };
    let mut c = Census {
        reservation_actor: crawler.map_or("any AI agent".into(), |a| format!("the crawler {a}")),
        ..Default::default()
    };
    let mut domains: HashMap<String, (u64, u64)> = HashMap::new();
    let mut tokenizers = Vec::new();
    for index in indexes {
        c.tokens += index.total_tokens();
        c.withdrawn += index.withdrawn().count() as u64;
        let name = index.tokenizer().name();
        if !tokenizers.contains(&name) {
            tokenizers.push(name);
        }
        for address in index.addresses() {
            let meta = index.doc_meta(address)?;
            let bytes = meta.bytes.unwrap_or_else(|| {
                let tokens = index.shards()[address.shard].doc_tokens(address.doc);
                index
                    .tokenizer()
                    .decode(tokens)
                    .map_or(tokens.len() as u64, |t| t.len() as u64)
            });
            c.documents += 1;
            c.bytes += bytes;
            if let Some(at) = meta.fetched_at {
                c.first_collected = Some(c.first_collected.map_or(at, |f| f.min(at)));
                c.last_collected = Some(c.last_collected.map_or(at, |l| l.max(at)));
            }
            if let Some(domain) = meta.url.as_deref().and_then(registrable_domain) {
                c.documents_with_url += 1;
                let entry = domains.entry(domain).or_default();
                entry.0 += bytes;
                entry.1 += 1;
            }
            let mut kinds: Vec<&str> = meta
                .rights
                .snapshots
                .iter()
                .flat_map(|s| &s.signals)
                .map(|s| s.kind.name())
                .collect();
            kinds.sort_unstable();
            kinds.dedup();
            for kind in kinds {
                *c.protocols.entry(kind.to_owned()).or_default() += 1;
            }
            let decision = meta
                .rights
                .decision_at(AiUse::GenaiTrain, &actor, meta.fetched_at);
            if decision.permission == Permission::Disallowed {
                c.reserved_at_collection += 1;
            }
        }
    }
    c.tokenizer = tokenizers.join(", ");
    c.domains = domains
        .into_iter()
        .map(|(domain, (bytes, documents))| DomainSize {
            domain,
            bytes,
            documents,
        })
        .collect();
    Ok(c)
}

/// The provider's file, read and checked; `previous` in it is relative to the file.
pub fn read_provider_info(path: &Path) -> Result<ProviderInfo> {
    let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
        action: "read",
        path: path.to_owned(),
        source,
    })?;
    let mut info = ProviderInfo::from_toml(&text).map_err(|e| Error::input(e.to_string(), None))?;
    if let (Some(previous), Some(dir)) = (&info.previous, path.parent()) {
        info.previous = Some(dir.join(previous).to_string_lossy().into_owned());
    }
    Ok(info)
}

/// What `write` wrote.
#[derive(Debug, serde::Serialize)]
pub struct Written {
    pub summary: PathBuf,
    pub html: PathBuf,
    pub top_domains: PathBuf,
    pub top_domains_sme: PathBuf,
    /// Hex SHA-256 of the summary's canonical JSON (what the next version records).
    pub sha256: String,
    pub to_fill: Vec<String>,
}

/// Fills the template from `census` and `info` and writes it to `out` (created): the
/// JSON, its page, and both domain lists. Each file is written whole or not at all.
pub fn write(census: &Census, info: &ProviderInfo, today: Date, out: &Path) -> Result<Written> {
    let previous = match &info.previous {
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
                action: "read the previous summary",
                path: path.into(),
                source,
            })?;
            let summary =
                TrainingSummary::from_json(&text).map_err(|e| Error::input(e.to_string(), None))?;
            Some(summary.as_previous())
        }
        None => None,
    };
    let summary = TrainingSummary::build(census, info, today, previous);
    let lists = DomainLists::of(census);
    let shown = if info.sme { &lists.sme } else { &lists.top };
    let files: BTreeMap<&str, String> = BTreeMap::from([
        (
            "summary.json",
            serde_json::to_string_pretty(&summary).expect("a summary serialises") + "\n",
        ),
        ("summary.html", render_summary_html(&summary, shown)),
        (TOP_DOMAINS_FILE, domains_csv(&lists.top)),
        (TOP_DOMAINS_SME_FILE, domains_csv(&lists.sme)),
    ]);
    std::fs::create_dir_all(out).map_err(|source| Error::Io {
        action: "create",
        path: out.to_owned(),
        source,
    })?;
    for (name, content) in &files {
        keyfile::write_file(
            &out.join(name),
            content.as_bytes(),
            Secrecy::Public,
            Replace::Yes,
        )?;
    }
    Ok(Written {
        summary: out.join("summary.json"),
        html: out.join("summary.html"),
        top_domains: out.join(TOP_DOMAINS_FILE),
        top_domains_sme: out.join(TOP_DOMAINS_SME_FILE),
        sha256: summary.sha256(),
        to_fill: summary.to_fill().into_iter().map(str::to_owned).collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_url_names_its_registrable_domain() {
        let d = |u| registrable_domain(u);
        assert_eq!(
            d("https://news.example.co.uk/a?b"),
            Some("example.co.uk".into())
        );
        assert_eq!(
            d("http://user@WWW.Example.COM.:8080/"),
            Some("example.com".into())
        );
        assert_eq!(d("https://a.b.example.com"), Some("example.com".into()));
        assert_eq!(d("http://192.0.2.7/x"), Some("192.0.2.7".into()));
        assert_eq!(d("http://[2001:db8::1]:80/"), Some("[2001:db8::1]".into()));
        assert_eq!(d("https:///nohost"), None);
    }
}
