//! RFC 8785 JSON Canonicalization Scheme (JCS): the bytes that are hashed and signed,
//! so that two writers of one JSON value agree (log records, evidence reports).
//!
//! Canonical form: no whitespace; object members sorted by the UTF-16 code units of
//! their names (not by UTF-8 bytes, which order characters beyond U+FFFF differently);
//! strings with only `"`, `\` and control characters escaped (`\b \t \n \f \r` short,
//! others `\u00xx` in lower case); numbers as ECMAScript's `Number.prototype.toString`
//! writes an IEEE 754 double (RFC 8785 §3.2.2.3).

use crate::{Diagnose, Fault};
use serde_json::{Map, Number, Value};

/// A value that has no canonical form.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JcsError {
    #[error(
        "the integer {0} cannot be represented exactly as an IEEE 754 double (RFC 8785 requires I-JSON numbers)"
    )]
    UnsafeInteger(String),
    #[error("the number {0} is not finite")]
    NotFinite(String),
    #[error("the value cannot be written as JSON: {0}")]
    Serialize(String),
}

impl Diagnose for JcsError {
    fn fault(&self) -> Fault {
        Fault::Input
    }
}

/// The largest integer magnitude that a double holds exactly (2^53).
const MAX_SAFE: u64 = 1 << 53;

/// The canonical bytes of any serialisable value.
pub fn to_canonical_bytes<T: serde::Serialize + ?Sized>(value: &T) -> Result<Vec<u8>, JcsError> {
    let value = serde_json::to_value(value).map_err(|e| JcsError::Serialize(e.to_string()))?;
    canonicalize(&value)
}

/// The canonical bytes of a JSON value.
pub fn canonicalize(value: &Value) -> Result<Vec<u8>, JcsError> {
    let mut out = String::new();
    write_value(&mut out, value)?;
    Ok(out.into_bytes())
}

fn write_value(out: &mut String, value: &Value) -> Result<(), JcsError> {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&number(n)?),
        Value::String(s) => write_string(out, s),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_value(out, item)?;
            }
            out.push(']');
        }
        Value::Object(map) => write_object(out, map)?,
    }
    Ok(())
}

fn write_object(out: &mut String, map: &Map<String, Value>) -> Result<(), JcsError> {
    let mut members: Vec<(&String, &Value)> = map.iter().collect();
    members.sort_by(|a, b| a.0.encode_utf16().cmp(b.0.encode_utf16()));
    out.push('{');
    for (i, (name, value)) in members.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        write_string(out, name);
        out.push(':');
        write_value(out, value)?;
    }
    out.push('}');
    Ok(())
}

fn write_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\u{c}' => out.push_str("\\f"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

fn number(n: &Number) -> Result<String, JcsError> {
    if let Some(u) = n.as_u64() {
        return if u <= MAX_SAFE {
            Ok(u.to_string())
        } else {
            Err(JcsError::UnsafeInteger(u.to_string()))
        };
    }
    if let Some(i) = n.as_i64() {
        return if i.unsigned_abs() <= MAX_SAFE {
            Ok(i.to_string())
        } else {
            Err(JcsError::UnsafeInteger(i.to_string()))
        };
    }
    let f = n
        .as_f64()
        .ok_or_else(|| JcsError::NotFinite(n.to_string()))?;
    format_double(f).ok_or_else(|| JcsError::NotFinite(n.to_string()))
}

/// ECMAScript `Number::toString(x)` for a finite double (ECMA-262 §6.1.6.1.20), which
/// RFC 8785 §3.2.2.3 prescribes: `ryu-js` writes the shortest digits that round-trip
/// (ties to even, as ECMAScript requires) in ECMAScript's layout (`1e+21`, `1e-7`,
/// `0.000001`, `-0` as `0`). `None` for NaN and the infinities, which JSON cannot hold.
pub fn format_double(x: f64) -> Option<String> {
    x.is_finite()
        .then(|| ryu_js::Buffer::new().format_finite(x).to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn canon(json: &str) -> String {
        String::from_utf8(canonicalize(&serde_json::from_str(json).unwrap()).unwrap()).unwrap()
    }

    /// RFC 8785 §3.2.2 (the example of the whole scheme).
    #[test]
    fn rfc8785_main_example() {
        let input = r#"{
          "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],
          "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
          "literals": [null, true, false]
        }"#;
        assert_eq!(
            canon(input),
            "{\"literals\":[null,true,false],\"numbers\":[333333333.3333333,1e+30,4.5,0.002,1e-27],\"string\":\"€$\\u000f\\nA'B\\\"\\\\\\\\\\\"/\"}"
        );
    }

    /// RFC 8785 §3.2.3 (sorting by UTF-16 code units).
    #[test]
    fn rfc8785_sorting_example() {
        let input = r#"{
          "\u20ac": "Euro Sign",
          "\r": "Carriage Return",
          "\ufb33": "Hebrew Letter Dalet With Dagesh",
          "1": "One",
          "\ud83d\ude00": "Emoji: Grinning Face",
          "\u0080": "Control",
          "\u00f6": "Latin Small Letter O With Diaeresis"
        }"#;
        let out = canon(input);
        let keys: Vec<&str> = [
            "\\r",
            "1",
            "\u{80}",
            "\u{f6}",
            "\u{20ac}",
            "\u{1f600}",
            "\u{fb33}",
        ]
        .to_vec();
        let mut at = 0;
        for k in keys {
            let pos = out[at..].find(&format!("\"{k}\":")).expect(k) + at;
            at = pos;
        }
    }

    /// RFC 8785 Appendix B: IEEE 754 bit patterns and their ECMAScript strings.
    #[test]
    fn rfc8785_number_vectors() {
        let cases: [(u64, &str); 24] = [
            (0x0000000000000000, "0"),
            (0x8000000000000000, "0"),
            (0x0000000000000001, "5e-324"),
            (0x8000000000000001, "-5e-324"),
            (0x7fefffffffffffff, "1.7976931348623157e+308"),
            (0xffefffffffffffff, "-1.7976931348623157e+308"),
            (0x4340000000000000, "9007199254740992"),
            (0xc340000000000000, "-9007199254740992"),
            (0x4430000000000000, "295147905179352830000"),
            (0x44b52d02c7e14af5, "9.999999999999997e+22"),
            (0x44b52d02c7e14af6, "1e+23"),
            (0x44b52d02c7e14af7, "1.0000000000000001e+23"),
            (0x444b1ae4d6e2ef4e, "999999999999999700000"),
            (0x444b1ae4d6e2ef4f, "999999999999999900000"),
            (0x444b1ae4d6e2ef50, "1e+21"),
            (0x3eb0c6f7a0b5ed8c, "9.999999999999997e-7"),
            (0x3eb0c6f7a0b5ed8d, "0.000001"),
            (0x41b3de4355555553, "333333333.3333332"),
            (0x41b3de4355555554, "333333333.33333325"),
            (0x41b3de4355555555, "333333333.3333333"),
            (0x41b3de4355555556, "333333333.3333334"),
            (0x41b3de4355555557, "333333333.33333343"),
            (0xbecbf647612f3696, "-0.0000033333333333333333"),
            (0x43143ff3c1cb0959, "1424953923781206.2"),
        ];
        for (bits, want) in cases {
            assert_eq!(
                format_double(f64::from_bits(bits)).unwrap(),
                want,
                "{bits:#x}"
            );
        }
        assert_eq!(format_double(f64::NAN), None);
    }

    /// RFC 8785 §3.2.2.3's examples and the ECMAScript layout's boundaries: integers up
    /// to 21 digits in full, `e` notation from 1e21 and below 1e-6, `-0` as `0`.
    #[test]
    fn ecmascript_number_layout() {
        let cases: [(f64, &str); 16] = [
            (1e21, "1e+21"),
            (1e20, "100000000000000000000"),
            (123456789012345680000.0, "123456789012345680000"),
            (1e-7, "1e-7"),
            (0.000001, "0.000001"),
            (0.0000012345, "0.0000012345"),
            (-0.0, "0"),
            (5e-324, "5e-324"),
            (1.7976931348623157e308, "1.7976931348623157e+308"),
            (-1.5, "-1.5"),
            (0.1 + 0.2, "0.30000000000000004"),
            (4.5, "4.5"),
            (2e-3, "0.002"),
            (1e30, "1e+30"),
            (123e-20, "1.23e-18"),
            (9007199254740992.0, "9007199254740992"),
        ];
        for (x, want) in cases {
            assert_eq!(format_double(x).unwrap(), want, "{x:e}");
        }
        // Numbers parsed from JSON text go the same way.
        assert_eq!(
            canon("[1E21, 1e-7, -0.0, 5E-324, 0.000001, 123456789012345680000, 1.0e2]"),
            "[1e+21,1e-7,0,5e-324,0.000001,123456789012345680000,100]"
        );
    }

    /// Whatever the double, its text reads back as the same double.
    #[test]
    fn every_written_number_reads_back_exactly() {
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        for _ in 0..20_000 {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            let x = f64::from_bits(state);
            if !x.is_finite() {
                continue;
            }
            let text = format_double(x).unwrap();
            let back: f64 = text.parse().unwrap();
            assert!(back == x, "{x:e} wrote {text}");
        }
    }

    /// NaN and the infinities have no JSON form: `format_double` refuses them, and no
    /// `serde_json::Number` can hold one.
    ///
    /// Note: `serde_json::to_value` (what [`to_canonical_bytes`] starts from) already
    /// writes a non-finite `f64` field as `null`, before this module sees it; a caller
    /// that must refuse those checks its floats first.
    #[test]
    fn non_finite_numbers_are_refused() {
        for x in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY, -f64::NAN] {
            assert_eq!(format_double(x), None);
        }
        assert!(Number::from_f64(f64::INFINITY).is_none());
        assert!(Number::from_f64(f64::NAN).is_none());
        assert_eq!(
            to_canonical_bytes(&[f64::NAN]).unwrap(),
            b"[null]",
            "serde_json's mapping, documented above"
        );
    }

    #[test]
    fn unsafe_integers_and_escapes() {
        assert!(matches!(
            canonicalize(&serde_json::json!(9007199254740993u64)),
            Err(JcsError::UnsafeInteger(_))
        ));
        assert_eq!(
            canon("[-9007199254740992, 1.0, -0.0]"),
            "[-9007199254740992,1,0]"
        );
        assert_eq!(
            canon(r#""\u0001\b\u007f\u2028""#),
            "\"\\u0001\\b\u{7f}\u{2028}\""
        );
        assert_eq!(
            canon(r#"{"b":{"d":1,"c":[]},"a":"x"}"#),
            r#"{"a":"x","b":{"c":[],"d":1}}"#
        );
    }
}
