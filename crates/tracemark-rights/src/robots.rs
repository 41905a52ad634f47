//! robots.txt (RFC 9309) with the AI extensions that live in it: the AIPREF
//! `Content-Usage` rule, Cloudflare's `Content-Signal` and RSL `License:` discovery
//! lines. The same reader serves Spawning's `ai.txt`, which borrows the syntax.
//!
//! Lenient where RFC 9309 is: lines without a colon, unknown keys and rules before the
//! first `User-agent` are ignored; only the first [`PARSE_LIMIT`] bytes are read;
//! invalid UTF-8 is replaced (U+FFFD) line by line rather than rejected. Beyond the RFC,
//! and documented here: keys are matched case-insensitively with a few common
//! misspellings (`useragent`, `dissallow`), and a user-agent value is cut at the first
//! whitespace or `/` and compared case-insensitively, digits allowed (`AI2Bot`).

use tracemark_core::rights::{AiUse, Permission};

use crate::{
    agents::ai_agent,
    aipref::{self, Preferences},
    pattern::{PathPattern, normalise_path},
    signal::{Provenance, Signal, SignalKind},
};

/// RFC 9309 §2.5: crawlers must read at least 500 KiB; content past it is ignored.
pub const PARSE_LIMIT: usize = 500 * 1024;

/// How many named agents' verdicts are recorded as signals (see
/// [`RobotsTxt::recorded_agents`]).
pub const MAX_AGENTS: usize = 256;

/// An `Allow` or `Disallow` rule.
#[derive(Debug, Clone)]
pub struct AccessRule {
    pub allow: bool,
    pub pattern: PathPattern,
    /// 1-based line number in the file.
    pub line: usize,
}

/// A path-scoped preference line (`Content-Usage` or `Content-Signal`).
#[derive(Debug, Clone)]
pub struct PreferenceRule {
    pub kind: SignalKind,
    pub pattern: PathPattern,
    /// The line as written (without the comment).
    pub raw: String,
    pub preferences: Preferences,
    pub line: usize,
}

/// A group: the user agents it names and the rules that follow them.
#[derive(Debug, Clone, Default)]
pub struct Group {
    pub agents: Vec<String>,
    pub rules: Vec<AccessRule>,
    pub preferences: Vec<PreferenceRule>,
    /// RSL `License:` lines inside the group (they override the global ones).
    pub licenses: Vec<String>,
}

/// A parsed robots.txt.
#[derive(Debug, Clone, Default)]
pub struct RobotsTxt {
    pub groups: Vec<Group>,
    /// RSL `License:` lines outside any group.
    pub licenses: Vec<String>,
    pub sitemaps: Vec<String>,
    /// Whether the file was longer than [`PARSE_LIMIT`] and cut.
    pub truncated: bool,
    /// Whether any `User-agent`, `Allow` or `Disallow` line was seen (ai.txt uses this
    /// to tell Spawning's format from unrelated files of the same name).
    pub has_robots_lines: bool,
}

/// Which groups applied to a crawler.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupMatch {
    /// Groups naming the crawler's product token.
    Named,
    /// No group named it; the `*` groups applied.
    Star,
    /// Neither: no rules apply and everything may be crawled.
    None,
}

/// What robots.txt says to one crawler about one path.
#[derive(Debug, Clone)]
pub struct Verdict {
    pub group: GroupMatch,
    pub allowed: bool,
    /// The rule that decided, when one matched.
    pub rule: Option<AccessRule>,
    /// The preference rules that apply to the path (only if it may be crawled).
    pub preferences: Vec<PreferenceRule>,
    pub licenses: Vec<String>,
}

fn key_of(raw: &str) -> Option<&'static str> {
    let k = raw.trim().to_ascii_lowercase();
    Some(match k.as_str() {
        "user-agent" | "useragent" | "user agent" => "user-agent",
        "allow" => "allow",
        "disallow" | "dissallow" | "dissalow" | "disalow" | "diasllow" | "disallaw" => "disallow",
        "content-usage" => "content-usage",
        "content-signal" => "content-signal",
        "license" => "license",
        "sitemap" | "site-map" => "sitemap",
        _ => return None,
    })
}

/// The product token of a `User-agent` value.
fn product_token(value: &str) -> String {
    value
        .split(|c: char| c.is_whitespace() || c == '/')
        .next()
        .unwrap_or("")
        .to_owned()
}

/// Splits a preference line's value into its optional leading path and the expression.
/// The current attach draft requires the path; earlier drafts and `legal.md`'s example
/// (`Content-Usage: train-ai=n`) omit it, which is read as `/`.
fn split_path(value: &str) -> (PathPattern, &str) {
    if value.starts_with('/') || value.starts_with('*') {
        match value.split_once([' ', '\t']) {
            Some((path, rest)) => (PathPattern::new(path), rest.trim()),
            None => (PathPattern::new(value), ""),
        }
    } else {
        (PathPattern::new("/"), value)
    }
}

impl RobotsTxt {
    /// Parses robots.txt bytes; never fails (RFC 9309 parsing is total).
    pub fn parse(bytes: &[u8]) -> Self {
        let mut out = RobotsTxt {
            truncated: bytes.len() > PARSE_LIMIT,
            ..Default::default()
        };
        let mut bytes = &bytes[..bytes.len().min(PARSE_LIMIT)];
        if let Some(rest) = bytes.strip_prefix(b"\xEF\xBB\xBF") {
            bytes = rest;
        }
        let mut current: Option<Group> = None;
        let mut in_agent_run = false;
        for (i, raw_line) in bytes.split(|&b| b == b'\n' || b == b'\r').enumerate() {
            let line = String::from_utf8_lossy(raw_line);
            let line = line.split('#').next().unwrap_or("");
            let Some((key, value)) = line.split_once(':') else {
                continue;
            };
            let Some(key) = key_of(key) else { continue };
            let value = value.trim();
            out.read_line(
                &mut current,
                &mut in_agent_run,
                key,
                value,
                line.trim(),
                i + 1,
            );
        }
        out.groups.extend(current);
        out
    }

    fn read_line(
        &mut self,
        current: &mut Option<Group>,
        in_agent_run: &mut bool,
        key: &str,
        value: &str,
        line: &str,
        number: usize,
    ) {
        if key == "user-agent" {
            self.has_robots_lines = true;
            if !*in_agent_run {
                self.groups.extend(current.take());
                *current = Some(Group::default());
            }
            *in_agent_run = true;
            if let Some(g) = current.as_mut() {
                g.agents.push(product_token(value));
            }
            return;
        }
        if key == "sitemap" {
            self.sitemaps.push(value.to_owned());
            return;
        }
        if key == "allow" || key == "disallow" {
            self.has_robots_lines = true;
        }
        let Some(group) = current.as_mut() else {
            if key == "license" {
                self.licenses.push(value.to_owned());
            }
            return; // RFC 9309: rules outside a group are ignored.
        };
        *in_agent_run = false;
        match key {
            "allow" | "disallow" if !value.is_empty() => group.rules.push(AccessRule {
                allow: key == "allow",
                pattern: PathPattern::new(value),
                line: number,
            }),
            "content-usage" | "content-signal" => {
                let (pattern, expr) = split_path(value);
                let (kind, preferences) = if key == "content-usage" {
                    (
                        SignalKind::Aipref,
                        aipref::parse_usage_pref(expr.as_bytes()),
                    )
                } else {
                    (
                        SignalKind::ContentSignal,
                        aipref::parse_content_signal(expr),
                    )
                };
                group.preferences.push(PreferenceRule {
                    kind,
                    pattern,
                    raw: line.to_owned(),
                    preferences,
                    line: number,
                });
            }
            "license" => group.licenses.push(value.to_owned()),
            _ => {}
        }
    }

    /// The groups for a crawler: those naming its product token, else the `*` groups
    /// (RFC 9309 §2.2.1: groups for the same token are combined).
    fn groups_for(&self, agent: Option<&str>) -> (GroupMatch, Vec<&Group>) {
        if let Some(agent) = agent {
            let named: Vec<&Group> = self
                .groups
                .iter()
                .filter(|g| g.agents.iter().any(|a| a.eq_ignore_ascii_case(agent)))
                .collect();
            if !named.is_empty() {
                return (GroupMatch::Named, named);
            }
        }
        let star: Vec<&Group> = self
            .groups
            .iter()
            .filter(|g| g.agents.iter().any(|a| a == "*"))
            .collect();
        if star.is_empty() {
            (GroupMatch::None, star)
        } else {
            (GroupMatch::Star, star)
        }
    }

    /// What the file says to `agent` (`None`: a crawler with no group of its own) about
    /// `path`: the longest matching rule decides, `Allow` winning a tie, and
    /// `/robots.txt` itself is always allowed.
    pub fn verdict(&self, agent: Option<&str>, path: &str) -> Verdict {
        let (group, groups) = self.groups_for(agent);
        let norm = normalise_path(path);
        let mut best: Option<&AccessRule> = None;
        for rule in groups.iter().flat_map(|g| &g.rules) {
            if !rule.pattern.matches_normalised(&norm) {
                continue;
            }
            let better = match best {
                None => true,
                Some(b) => {
                    let (rs, bs) = (rule.pattern.specificity(), b.pattern.specificity());
                    rs > bs || (rs == bs && rule.allow && !b.allow)
                }
            };
            if better {
                best = Some(rule);
            }
        }
        let allowed = path == "/robots.txt" || best.is_none_or(|r| r.allow);
        let preferences = if allowed {
            applicable_preferences(&groups, &norm)
        } else {
            Vec::new()
        };
        let licenses: Vec<String> = groups.iter().flat_map(|g| g.licenses.clone()).collect();
        Verdict {
            group,
            allowed,
            rule: best.cloned(),
            preferences,
            licenses: if licenses.is_empty() {
                self.licenses.clone()
            } else {
                licenses
            },
        }
    }

    /// The agent tokens that have groups of their own (not `*`), in file order.
    pub fn named_agents(&self) -> Vec<String> {
        let mut seen = std::collections::HashSet::new();
        self.groups
            .iter()
            .flat_map(|g| &g.agents)
            .filter(|a| *a != "*" && !a.is_empty() && seen.insert(a.to_ascii_lowercase()))
            .cloned()
            .collect()
    }

    /// The named agents whose verdicts [`RobotsTxt::signals`] records: every known AI
    /// agent the file names, then the others in file order, [`MAX_AGENTS`] in all. A
    /// real file names a few dozen; the cap keeps a hostile one with tens of thousands
    /// of `User-agent` lines from costing quadratic time.
    pub fn recorded_agents(&self) -> Vec<String> {
        let (mut ai, other): (Vec<String>, Vec<String>) = self
            .named_agents()
            .into_iter()
            .partition(|a| ai_agent(a).is_some());
        ai.extend(other);
        ai.truncate(MAX_AGENTS);
        ai
    }
}

/// Per kind, the preference rules with the longest matching path (AIPREF attach: the
/// Allow/Disallow matching rule; identical paths all apply and combine most
/// restrictively later).
fn applicable_preferences(groups: &[&Group], norm_path: &[u8]) -> Vec<PreferenceRule> {
    let mut out = Vec::new();
    for kind in [SignalKind::Aipref, SignalKind::ContentSignal] {
        let matching: Vec<&PreferenceRule> = groups
            .iter()
            .flat_map(|g| &g.preferences)
            .filter(|r| r.kind == kind && r.pattern.matches_normalised(norm_path))
            .collect();
        let Some(longest) = matching.iter().map(|r| r.pattern.specificity()).max() else {
            continue;
        };
        out.extend(
            matching
                .into_iter()
                .filter(|r| r.pattern.specificity() == longest)
                .cloned(),
        );
    }
    out
}

/// How a robots-syntax file's verdicts become signals: which kind, and which uses a
/// block withholds from an agent.
#[derive(Debug, Clone, Copy)]
pub struct Reading {
    pub kind: SignalKind,
    /// Uses withheld by a block that applies to every crawler (the `*` group).
    pub star_uses: &'static [AiUse],
    /// Whether an explicit `Allow` counts as permission (ai.txt) or only as access
    /// (robots.txt: crawling allowed says nothing about use).
    pub allow_permits: bool,
}

/// robots.txt: a block withholds every use from the crawlers it names.
pub const ROBOTS: Reading = Reading {
    kind: SignalKind::Robots,
    star_uses: &AiUse::ALL,
    allow_permits: false,
};

impl RobotsTxt {
    /// The signals this file gives for `path`: for crawlers without a group (`*`), and
    /// for every agent named in a group, so that both verdicts are on record
    /// (`legal.md` §3.2).
    pub fn signals(&self, prov: &Provenance, path: &str, reading: Reading) -> Vec<Signal> {
        let mut out = self.agent_signals(prov, path, None, reading);
        for agent in self.recorded_agents() {
            out.extend(self.agent_signals(prov, path, Some(&agent), reading));
        }
        out
    }

    fn agent_signals(
        &self,
        prov: &Provenance,
        path: &str,
        agent: Option<&str>,
        reading: Reading,
    ) -> Vec<Signal> {
        let v = self.verdict(agent, path);
        if agent.is_some() && v.group != GroupMatch::Named {
            return Vec::new();
        }
        let label = agent.unwrap_or("*");
        let uses: &[AiUse] = match agent {
            None => reading.star_uses,
            Some(a) => ai_agent(a).map_or(reading.star_uses, |a| a.uses),
        };
        let (permission, raw, note) = match (&v.rule, v.allowed) {
            (Some(r), false) => (
                Permission::Disallowed,
                rule_text(r),
                format!("`{label}` may not crawl this path"),
            ),
            (Some(r), true) if reading.allow_permits => (
                Permission::Allowed,
                rule_text(r),
                format!("`{label}` is allowed this path"),
            ),
            (rule, _) => (
                Permission::Unknown,
                rule.as_ref()
                    .map_or_else(|| format!("(no rule for `{label}` matches)"), rule_text),
                format!("`{label}` may crawl this path; crawling says nothing about use"),
            ),
        };
        // "May crawl" says nothing about use: for crawlers in general it is left out; for a
        // named agent it stays, as the record that the file has a group of its own for
        // that agent (which keeps the `*` group from applying to it).
        let uses = if agent.is_none() && permission == Permission::Unknown {
            &[][..]
        } else {
            uses
        };
        let mut out: Vec<Signal> = uses
            .iter()
            .map(|&u| {
                prov.signal(reading.kind, u, permission, raw.clone())
                    .for_agent(Some(label))
                    .with_note(note.clone())
            })
            .collect();
        for rule in &v.preferences {
            out.extend(
                rule.preferences
                    .signals(prov, rule.kind, &rule.raw)
                    .into_iter()
                    .map(|s| s.for_agent(Some(label))),
            );
        }
        out
    }
}

fn rule_text(r: &AccessRule) -> String {
    let key = if r.allow { "Allow" } else { "Disallow" };
    format!("{key}: {} (line {})", r.pattern.as_str(), r.line)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 9309 §5.1.
    const RFC_SIMPLE: &str = "User-Agent: *\nDisallow: *.gif$\nDisallow: /example/\nAllow: /publications/\n\nUser-Agent: foobot\nDisallow:/\nAllow:/example/page.html\nAllow:/example/allowed.gif\n\nUser-Agent: barbot\nUser-Agent: bazbot\nDisallow: /example/page.html\n\nUser-Agent: quxbot\n\nEOF\n";

    fn allowed(txt: &RobotsTxt, agent: &str, path: &str) -> bool {
        txt.verdict(Some(agent), path).allowed
    }

    #[test]
    fn the_rfc_9309_simple_example() {
        let txt = RobotsTxt::parse(RFC_SIMPLE.as_bytes());
        assert!(allowed(&txt, "foobot", "/example/page.html"));
        assert!(allowed(&txt, "foobot", "/example/allowed.gif"));
        assert!(!allowed(&txt, "foobot", "/example/other.html"));
        assert!(
            !allowed(&txt, "FooBot", "/"),
            "product tokens match case-insensitively"
        );
        for bot in ["barbot", "bazbot"] {
            assert!(!allowed(&txt, bot, "/example/page.html"));
            assert!(allowed(&txt, bot, "/example/other.html"));
            assert!(
                allowed(&txt, bot, "/x.gif"),
                "the * group does not apply to a named bot"
            );
        }
        assert!(allowed(&txt, "quxbot", "/example/page.html"));
        assert!(!allowed(&txt, "otherbot", "/x.gif"));
        assert!(allowed(&txt, "otherbot", "/x.gif?size=1"));
        assert!(!allowed(&txt, "otherbot", "/example/"));
        assert!(allowed(&txt, "otherbot", "/publications/"));
        assert!(allowed(&txt, "foobot", "/robots.txt"));
    }

    #[test]
    fn the_longest_match_wins_and_allow_wins_ties() {
        // RFC 9309 §5.2.
        let txt = RobotsTxt::parse(
            b"User-Agent: foobot\nAllow: /example/page/\nDisallow: /example/page/disallowed.gif\n",
        );
        assert!(allowed(&txt, "foobot", "/example/page/"));
        assert!(!allowed(&txt, "foobot", "/example/page/disallowed.gif"));
        let tie = RobotsTxt::parse(b"User-agent: *\nDisallow: /p\nAllow: /p\n");
        assert!(tie.verdict(None, "/page").allowed);
    }

    #[test]
    fn groups_for_the_same_agent_combine_and_stray_rules_are_ignored() {
        let txt = RobotsTxt::parse(
            b"Disallow: /stray\n\nuser-agent: a\ndisallow: /c\n\nuser-agent: b\ndisallow: /e\n\nuser-agent: a\ndisallow: /d\n",
        );
        assert!(!allowed(&txt, "a", "/c") && !allowed(&txt, "a", "/d"));
        assert!(allowed(&txt, "a", "/e"));
        assert!(allowed(&txt, "z", "/stray"));
        assert_eq!(txt.verdict(Some("z"), "/").group, GroupMatch::None);
    }

    #[test]
    fn user_agent_values_are_cut_to_the_product_token() {
        let txt = RobotsTxt::parse(b"User-agent: ExampleBot/1.0 (+https://x)\r\nDisallow: /\r\n# comment\r\nUseragent: AI2Bot\nDissallow: /x # trailing\n");
        assert!(!allowed(&txt, "examplebot", "/a"));
        assert!(!allowed(&txt, "ai2bot", "/x"));
        assert_eq!(txt.named_agents(), ["ExampleBot", "AI2Bot"]);
    }

    #[test]
    fn content_usage_follows_the_attach_draft_example() {
        let txt = RobotsTxt::parse(
            b"User-Agent: *\nAllow: /\nDisallow: /never/\nContent-Usage: train-ai=n\nContent-Usage: /ai-ok/ train-ai=y\n\nUser-Agent: ExampleBot\nAllow: /\nContent-Usage: / train-ai=y\n",
        );
        let prefs = |agent: Option<&str>, path: &str| -> Vec<Permission> {
            txt.verdict(agent, path)
                .preferences
                .iter()
                .map(|r| r.preferences.get(AiUse::AiTrain))
                .collect()
        };
        assert_eq!(prefs(None, "/test"), [Permission::Disallowed]);
        assert_eq!(prefs(None, "/never/test"), []);
        assert!(!txt.verdict(None, "/never/test").allowed);
        assert_eq!(prefs(None, "/ai-ok/test"), [Permission::Allowed]);
        assert_eq!(prefs(Some("ExampleBot"), "/test"), [Permission::Allowed]);
    }

    #[test]
    fn identical_paths_keep_every_content_usage_rule() {
        let txt = RobotsTxt::parse(
            b"User-Agent: *\nContent-Usage: / train-ai=y\nContent-Usage: / train-ai=n\n",
        );
        assert_eq!(txt.verdict(None, "/x").preferences.len(), 2);
    }

    #[test]
    fn content_signals_and_licences_are_read_in_groups() {
        let txt = RobotsTxt::parse(
            b"License: https://example.com/global.xml\nUser-agent: *\nContent-Signal: search=yes, ai-input=no, ai-train=no\nAllow: /\n\nUser-agent: GPTBot\nLicense: https://example.com/gpt.xml\nDisallow: /\n",
        );
        let v = txt.verdict(None, "/a");
        assert_eq!(v.preferences[0].kind, SignalKind::ContentSignal);
        assert_eq!(
            v.preferences[0].preferences.get(AiUse::AiInput),
            Permission::Disallowed
        );
        assert_eq!(v.licenses, ["https://example.com/global.xml"]);
        assert_eq!(
            txt.verdict(Some("GPTBot"), "/a").licenses,
            ["https://example.com/gpt.xml"]
        );
    }

    #[test]
    fn only_the_first_500_kib_are_read() {
        let mut big = b"User-agent: *\nDisallow: /a\n".to_vec();
        big.resize(PARSE_LIMIT + 10, b'#');
        big.extend_from_slice(b"\nUser-agent: *\nDisallow: /b\n");
        let txt = RobotsTxt::parse(&big);
        assert!(txt.truncated);
        assert!(!txt.verdict(None, "/a").allowed);
        assert!(txt.verdict(None, "/b").allowed);
    }
}
