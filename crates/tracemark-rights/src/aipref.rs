//! IETF AIPREF usage preferences (`draft-ietf-aipref-vocab`, exemplary format) and
//! Cloudflare Content Signals, mapped to [`AiUse`] permissions.
//!
//! AIPREF preferences are a Structured-Field Dictionary (RFC 9651 §3.2, parsed by the
//! `sfv` crate) whose values are the Tokens `y` and `n`; anything else (absent, another
//! type, another token, a parse failure, an upper-case key) is *unknown*. The parse is
//! strict: one syntax error anywhere makes the whole field fail, and so every preference
//! in it unknown; a repeated key keeps its last value; parameters are ignored. Older drafts used other, hierarchical labels; they are
//! read too, so that historical crawls can be judged by the vocabulary of their day.

use tracemark_core::rights::{AiUse, Permission};

use sfv::{Dictionary, ListEntry, Parser};

use crate::signal::{Provenance, Signal, SignalKind};

/// For each use, the labels that speak to it, most specific first. The current
/// vocabulary (-05 to -08) has only `train-ai` and `search`; `train-genai`, `ai-use`,
/// `ai-output`, `inference`, `genai`, `ai`, `tdm`, `all` and `bots` come from -01 to
/// -04, where a more general category applied to the more specific ones below it.
const LABELS: [(AiUse, &[&str]); 6] = [
    (AiUse::Tdm, &["tdm", "all", "bots"]),
    (AiUse::AiTrain, &["train-ai", "ai", "tdm", "all", "bots"]),
    (
        AiUse::GenaiTrain,
        &[
            "train-genai",
            "genai",
            "train-ai",
            "ai",
            "tdm",
            "all",
            "bots",
        ],
    ),
    (
        AiUse::AiInput,
        &["ai-use", "ai-output", "inference", "all", "bots"],
    ),
    (AiUse::AiIndex, &[]),
    (AiUse::Search, &["search", "all", "bots"]),
];

/// The preference for each use stated by one usage-preference expression. A use that
/// the expression does not settle is absent (unknown).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Preferences {
    /// `(use, permission, label that said so)`.
    pub stated: Vec<(AiUse, Permission, String)>,
}

impl Preferences {
    pub fn get(&self, usage: AiUse) -> Permission {
        self.stated
            .iter()
            .find(|(u, _, _)| *u == usage)
            .map_or(Permission::Unknown, |(_, p, _)| *p)
    }

    /// Signals for the uses this expression settles.
    pub fn signals(&self, prov: &Provenance, kind: SignalKind, raw: &str) -> Vec<Signal> {
        self.stated
            .iter()
            .map(|(u, p, label)| {
                prov.signal(kind, *u, *p, raw)
                    .with_note(format!("label `{label}`"))
            })
            .collect()
    }
}

/// Reads an AIPREF usage-preference expression (processing as bytes, vocab §6.5).
pub fn parse_usage_pref(bytes: &[u8]) -> Preferences {
    let Ok(dict) = Parser::new(bytes).parse::<Dictionary>() else {
        return Preferences::default();
    };
    let mut stated = Vec::new();
    for (usage, labels) in LABELS {
        for label in labels {
            let token = match dict.get(*label) {
                Some(ListEntry::Item(item)) => item.bare_item.as_token().map(|t| t.as_str()),
                _ => None,
            };
            let permission = match token {
                Some("y") => Permission::Allowed,
                Some("n") => Permission::Disallowed,
                _ => continue,
            };
            stated.push((usage, permission, (*label).to_owned()));
            break;
        }
    }
    Preferences { stated }
}

/// Reads a Cloudflare `Content-Signal` value (`search=yes, ai-input=no, ai-train=no`).
///
/// The Content Signals policy gives no formal grammar, so this reading is lenient and
/// per entry: entries are comma-separated `key=value` pairs, keys and values are
/// compared case-insensitively, a malformed entry or unknown key (such as Cloudflare's
/// `use=`) is skipped without spoiling the others, and a repeated key keeps its last
/// value, as in AIPREF.
pub fn parse_content_signal(value: &str) -> Preferences {
    let mut stated: Vec<(AiUse, Permission, String)> = Vec::new();
    for entry in value.split(',') {
        let Some((key, val)) = entry.split_once('=') else {
            continue;
        };
        let key = key.trim().to_ascii_lowercase();
        let usage = match key.as_str() {
            "search" => AiUse::Search,
            "ai-input" => AiUse::AiInput,
            "ai-train" => AiUse::AiTrain,
            _ => continue,
        };
        let permission = match val.trim().to_ascii_lowercase().as_str() {
            "yes" => Permission::Allowed,
            "no" => Permission::Disallowed,
            _ => continue,
        };
        stated.retain(|(u, _, _)| *u != usage);
        stated.push((usage, permission, key));
    }
    Preferences { stated }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_vocab_examples_read_as_the_draft_says() {
        let p = parse_usage_pref(b"train-ai=n, search=y");
        assert_eq!(p.get(AiUse::AiTrain), Permission::Disallowed);
        assert_eq!(p.get(AiUse::GenaiTrain), Permission::Disallowed);
        assert_eq!(p.get(AiUse::Search), Permission::Allowed);
        assert_eq!(p.get(AiUse::AiInput), Permission::Unknown);
        // Duplicates: the last value wins, and a non-token value is unknown.
        let p = parse_usage_pref(br#"train-ai=y, train-ai, search=n, search="n""#);
        assert_eq!(p, Preferences::default());
        // Parameters are ignored; the last member wins.
        assert_eq!(
            parse_usage_pref(b"train-ai;allow=n, train-ai=y").get(AiUse::AiTrain),
            Permission::Allowed
        );
    }

    #[test]
    fn case_and_syntax_errors_make_everything_unknown() {
        assert_eq!(parse_usage_pref(b"Train-AI=n"), Preferences::default());
        assert_eq!(
            parse_usage_pref(b"train-ai=N").get(AiUse::AiTrain),
            Permission::Unknown
        );
        assert_eq!(
            parse_usage_pref(b"train-ai=n,, search=y"),
            Preferences::default()
        );
        assert_eq!(parse_usage_pref(b"train-ai=maybe, x=y").stated, vec![]);
    }

    /// Every RFC 9651 item type is valid syntax, but only a Token is a preference.
    #[test]
    fn other_items_are_valid_syntax_but_no_preference() {
        let p = parse_usage_pref(
            br#"a=1, b=-1.5, c=:aGk=:, d=?1, e=@1700000000, f=%"x%c3%a9", g=(x "y");p, h, train-ai=n"#,
        );
        assert_eq!(p.get(AiUse::AiTrain), Permission::Disallowed);
        for value in [
            "1", "1.5", ":bg==:", "?1", "@1", "%\"n\"", "\"n\"", "(n)", "n;x=(1)",
        ] {
            let expr = format!("search=y, train-ai={value}");
            let p = parse_usage_pref(expr.as_bytes());
            // `n;x=(1)` is no valid parameter (a parameter's value is a bare item).
            let valid = !value.contains(";x=(");
            assert_eq!(
                p.get(AiUse::Search),
                if valid {
                    Permission::Allowed
                } else {
                    Permission::Unknown
                },
                "{expr}"
            );
            assert_eq!(p.get(AiUse::AiTrain), Permission::Unknown, "{expr}");
        }
        // White space: SP around the field, OWS (SP or HTAB) around commas.
        assert_eq!(
            parse_usage_pref(b"  train-ai=n\t,\t search=y  ").get(AiUse::Search),
            Permission::Allowed
        );
        assert_eq!(parse_usage_pref(b"  "), Preferences::default());
    }

    /// A syntax error anywhere makes the whole field fail (RFC 9651 §4.2: "fail
    /// parsing"), so a preference stated beside it is unknown too.
    #[test]
    fn any_syntax_error_fails_the_whole_field() {
        for bad in [
            &b"train-ai=n,"[..],
            b"train-ai=n search=y",
            b"train-ai=n, a=\"unterminated",
            b"train-ai=n, a=(b",
            b"train-ai=n, =y",
            b"train-ai=n, a=1234567890123456",
            b"train-ai=n, a=1234567890123.5",
            b"train-ai=n, a=1.2345",
            b"train-ai=n, a=1.",
            b"train-ai=n, a=\xff",
            b"train-ai=n, a=\"\xc3\xa9\"",
            b"train-ai=n, a=%\"%C3%A9\"",
            b"train-ai=n, a=@1.5",
            b"train-ai=n, a=?2",
            b"train-ai=n, a=(x)y",
            b"\ttrain-ai=n",
            // Stricter than the hand parser that this crate had before `sfv`: RFC 9651
            // §4.2.7 fails a Byte Sequence that is not base64, and §4.2.10 a Display
            // String whose octets are not UTF-8.
            b"train-ai=n, a=:a:",
            b"train-ai=n, a=%\"%ff\"",
        ] {
            assert_eq!(
                parse_usage_pref(bad),
                Preferences::default(),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn older_hierarchical_labels_apply_to_narrower_uses() {
        let p = parse_usage_pref(b"ai=n, genai=y");
        assert_eq!(p.get(AiUse::AiTrain), Permission::Disallowed);
        assert_eq!(p.get(AiUse::GenaiTrain), Permission::Allowed);
        let p = parse_usage_pref(b"train-genai=n");
        assert_eq!(p.get(AiUse::GenaiTrain), Permission::Disallowed);
        assert_eq!(p.get(AiUse::AiTrain), Permission::Unknown);
    }

    #[test]
    fn content_signals_read_like_the_cloudflare_example() {
        let p = parse_content_signal("search=yes, ai-input=no, ai-train=no");
        assert_eq!(p.get(AiUse::Search), Permission::Allowed);
        assert_eq!(p.get(AiUse::AiInput), Permission::Disallowed);
        assert_eq!(p.get(AiUse::AiTrain), Permission::Disallowed);
        let p = parse_content_signal("ai-train=maybe, junk, use=reference, AI-TRAIN = No");
        assert_eq!(p.get(AiUse::AiTrain), Permission::Disallowed);
        assert_eq!(p.stated.len(), 1);
    }
}
