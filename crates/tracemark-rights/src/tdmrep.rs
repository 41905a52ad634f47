//! W3C TDM Reservation Protocol (Community Group Final Report, 10 May 2024): the
//! site-wide `/.well-known/tdmrep.json`, the `tdm-reservation`/`tdm-policy` HTTP
//! headers and HTML meta elements (the last two are read in `http` and `html`).
//!
//! `tdm-reservation: 1` reserves TDM rights (the DSM Art. 4(3) opt-out); `0` says they
//! are not reserved; any other value is a protocol error and the property is unset.

use serde_json::Value;
use tracemark_core::rights::{AiUse, Permission};

use crate::{
    error::RightsError,
    pattern::{PathPattern, normalise_path},
    signal::{Provenance, Signal, SignalKind},
};

/// tdmrep.json files are a few rules; a megabyte is far beyond any real one.
pub const WELL_KNOWN_LIMIT: usize = 1 << 20;

/// One rule of `tdmrep.json`.
#[derive(Debug, Clone)]
pub struct TdmRule {
    pub location: PathPattern,
    /// `Some(0 | 1)`; `None` when the value was missing or not 0/1 (unset).
    pub reservation: Option<u8>,
    pub policy: Option<String>,
    /// The rule as it appears in the file (re-serialised JSON).
    pub raw: String,
}

/// Reads `/.well-known/tdmrep.json`: a JSON array of rules. Entries that are not objects
/// or lack a string `location` cannot be matched and are skipped (lenient: the spec
/// makes `location` mandatory but says nothing of bad entries).
pub fn parse_well_known(bytes: &[u8], source_name: &str) -> Result<Vec<TdmRule>, RightsError> {
    let err = |reason: String| RightsError::TdmRep {
        source_name: source_name.to_owned(),
        reason,
    };
    if bytes.len() > WELL_KNOWN_LIMIT {
        return Err(RightsError::TooLarge {
            what: source_name.to_owned(),
            size: bytes.len(),
            limit: WELL_KNOWN_LIMIT,
        });
    }
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let json: Value = serde_json::from_slice(bytes).map_err(|e| err(e.to_string()))?;
    let Value::Array(items) = json else {
        return Err(err("the top level is not an array".into()));
    };
    Ok(items.iter().filter_map(rule).collect())
}

fn rule(item: &Value) -> Option<TdmRule> {
    let obj = item.as_object()?;
    let location = obj.get("location")?.as_str()?;
    let reservation = match obj.get("tdm-reservation") {
        Some(Value::Number(n)) => n.as_u64().filter(|&v| v <= 1).map(|v| v as u8),
        _ => None,
    };
    let policy = obj
        .get("tdm-policy")
        .and_then(Value::as_str)
        .map(str::to_owned);
    Some(TdmRule {
        location: PathPattern::new(location),
        reservation,
        policy,
        raw: item.to_string(),
    })
}

/// The first rule whose `location` matches `path` (rules are listed most specific
/// first, and matching is case-sensitive).
pub fn matching_rule<'a>(rules: &'a [TdmRule], path: &str) -> Option<&'a TdmRule> {
    let norm = normalise_path(path);
    rules.iter().find(|r| r.location.matches_normalised(&norm))
}

/// Reads a `tdm-reservation` value from a header or meta element.
pub fn parse_reservation(value: &str) -> Option<u8> {
    match value.trim() {
        "1" => Some(1),
        "0" => Some(0),
        _ => None,
    }
}

/// The signal of a TDMRep declaration: reserved → TDM disallowed, not reserved → TDM
/// allowed, unset → unknown (kept as evidence that the property was present but bad).
pub fn signal(
    prov: &Provenance,
    reservation: Option<u8>,
    policy: Option<&str>,
    raw: &str,
) -> Signal {
    let (permission, note) = match reservation {
        Some(1) => (
            Permission::Disallowed,
            match policy {
                Some(p) => format!("TDM rights reserved; policy {p}"),
                None => "TDM rights reserved; no policy given".to_owned(),
            },
        ),
        Some(_) => (Permission::Allowed, "TDM rights not reserved".to_owned()),
        None => (
            Permission::Unknown,
            "tdm-reservation is not 0 or 1: a protocol error, treated as unset".to_owned(),
        ),
    };
    prov.signal(SignalKind::Tdmrep, AiUse::Tdm, permission, raw)
        .with_note(note)
}

/// The signals of a `tdmrep.json` for `path`: one if a rule matches, none otherwise
/// (no match means the property is unset).
pub fn well_known_signals(rules: &[TdmRule], prov: &Provenance, path: &str) -> Vec<Signal> {
    matching_rule(rules, path)
        .map(|r| signal(prov, r.reservation, r.policy.as_deref(), &r.raw))
        .into_iter()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The rule file of `legal.md` §3.1 (the spec's example shape).
    const EXAMPLE: &str = r#"[
      {"location": "/directory-a/", "tdm-reservation": 1},
      {"location": "/directory-b/html/", "tdm-reservation": 1,
       "tdm-policy": "https://provider.com/policies/policy.json"},
      {"location": "/directory-b/images/*.jpg", "tdm-reservation": 0}
    ]"#;

    #[test]
    fn the_first_matching_rule_wins() {
        let rules = parse_well_known(EXAMPLE.as_bytes(), "tdmrep.json").unwrap();
        assert_eq!(rules.len(), 3);
        let r = matching_rule(&rules, "/directory-b/html/page.html").unwrap();
        assert_eq!(r.reservation, Some(1));
        assert_eq!(
            r.policy.as_deref(),
            Some("https://provider.com/policies/policy.json")
        );
        assert_eq!(
            matching_rule(&rules, "/directory-b/images/x.jpg")
                .unwrap()
                .reservation,
            Some(0)
        );
        assert!(matching_rule(&rules, "/directory-b/images/x.png").is_none());
        assert!(
            matching_rule(&rules, "/Directory-A/").is_none(),
            "case-sensitive"
        );
        assert!(matching_rule(&rules, "/elsewhere").is_none());
    }

    #[test]
    fn bad_values_are_unset_and_bad_files_are_errors() {
        let rules = parse_well_known(
            br#"[{"location":"/", "tdm-reservation": 2}, {"tdm-reservation": 1}, 7,
                 {"location":"/s", "tdm-reservation": "1"}]"#,
            "f",
        )
        .unwrap();
        assert_eq!(rules.len(), 2);
        assert!(rules.iter().all(|r| r.reservation.is_none()));
        assert!(parse_well_known(b"{\"location\":\"/\"}", "f").is_err());
        assert!(parse_well_known(b"[", "f").is_err());
        assert!(parse_well_known(b"", "f").is_err());
        let deep = "[".repeat(100_000);
        assert!(parse_well_known(deep.as_bytes(), "f").is_err());
        let huge = vec![b' '; WELL_KNOWN_LIMIT + 1];
        assert!(matches!(
            parse_well_known(&huge, "f"),
            Err(RightsError::TooLarge { .. })
        ));
    }

    #[test]
    fn header_values_are_strict() {
        assert_eq!(parse_reservation(" 1 "), Some(1));
        assert_eq!(parse_reservation("0"), Some(0));
        assert_eq!(parse_reservation("yes"), None);
        assert_eq!(parse_reservation("01"), None);
    }
}
