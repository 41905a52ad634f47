//! Imports of HF transformers' watermarking configurations.
//!
//! [`synthid_from_json`] reads the JSON form of a `SynthIDTextWatermarkingConfig` (what
//! its `to_json_file` / `to_dict` write) into [`SynthIdParams`], so that a Tracemark key
//! detects, and marks, exactly as the transformers stack that used that configuration.
//! A `generation_config.json` that holds one under `watermarking_config` is read too.
//!
//! Fields, with the rules transformers itself applies (`SynthIDTextWatermarkingConfig`'s
//! constructor and `validate`, torch's integer conversions) and Tracemark's own limits:
//!
//! | field | rule |
//! |---|---|
//! | `keys` | required; 1 to 32 integers in the signed 64-bit range (a `torch.long` tensor); a negative key is its two's complement, as torch's wrapping arithmetic treats it |
//! | `ngram_len` | required; 2 to 32 |
//! | `sampling_table_size` | default 65536; 1 to 2^24 |
//! | `sampling_table_seed` | default 0; -2^63 to 2^64-1, a negative seed reinterpreted as unsigned, as `torch.Generator.manual_seed` does |
//! | `context_history_size` | default 1024; 1 to 2^20 |
//! | `skip_first_ngram_calls` | optional boolean, accepted and ignored |
//! | `debug_mode` | optional boolean, accepted and ignored |
//!
//! The optional fields take transformers' constructor defaults when absent, so a
//! configuration means here what it meant to transformers. The two ignored fields change
//! neither the key nor detection: `skip_first_ngram_calls` only leaves the first
//! `ngram_len - 1` generated tokens unmarked (their context is the padding zeros, and the
//! detector never scores them), and `debug_mode` only replaces the model's logits by
//! uniform ones before marking (a test of the generator). Tracemark's own generation
//! marks those first tokens, which detection does not see either way.
//!
//! Any other field is refused, as transformers' `from_dict` refuses it; the fields of
//! transformers' KGW `WatermarkingConfig` get a message that says so.

use serde_json::{Map, Value};

use crate::{
    Secret,
    error::WatermarkError,
    scheme::SynthIdParams,
    synthid::{MAX_CONTEXT_HISTORY, MAX_DEPTH, MAX_NGRAM_LEN, MAX_SAMPLING_TABLE_SIZE},
};

/// transformers' defaults for the optional fields.
const DEFAULT_SAMPLING_TABLE_SIZE: usize = 1 << 16;
const DEFAULT_SAMPLING_TABLE_SEED: u64 = 0;
const DEFAULT_CONTEXT_HISTORY_SIZE: usize = 1024;

/// Fields transformers writes that do not change the key or detection.
pub const IGNORED_FIELDS: [&str; 2] = ["skip_first_ngram_calls", "debug_mode"];

/// Fields of transformers' KGW `WatermarkingConfig`, to name the mistake.
const KGW_FIELDS: [&str; 5] = [
    "greenlist_ratio",
    "bias",
    "hashing_key",
    "seeding_scheme",
    "context_width",
];

/// A SynthID configuration read from transformers' JSON.
#[derive(Debug, Clone, PartialEq)]
pub struct SynthIdImport {
    pub params: SynthIdParams,
    /// The fields the file set that were accepted but not used ([`IGNORED_FIELDS`]),
    /// with their values, so a front end can say so.
    pub ignored: Vec<(String, bool)>,
}

fn bad(message: impl Into<String>) -> WatermarkError {
    WatermarkError::TransformersConfig(message.into())
}

fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(n) if n.is_f64() => "a fraction or a number beyond 64 bits",
        Value::Number(_) => "an integer",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// Reads the JSON form of a transformers `SynthIDTextWatermarkingConfig` (see the
/// module documentation for the fields and their rules). The ranges are those
/// [`crate::synthid::SynthId::new`] accepts, so [`crate::WatermarkKey::synthid`] takes
/// every import.
pub fn synthid_from_json(bytes: &[u8]) -> Result<SynthIdImport, WatermarkError> {
    let value: Value =
        serde_json::from_slice(bytes).map_err(|e| bad(format!("the file is not JSON: {e}")))?;
    let Value::Object(mut object) = value else {
        return Err(bad(format!(
            "expected a JSON object with `keys` and `ngram_len`, found {}",
            kind_of(&value)
        )));
    };
    // A generation_config.json carries the watermarking configuration inside it.
    if !object.contains_key("keys")
        && let Some(nested) = object.remove("watermarking_config")
    {
        let Value::Object(nested) = nested else {
            return Err(bad(format!(
                "`watermarking_config` must be an object, found {}",
                kind_of(&nested)
            )));
        };
        object = nested;
    }
    synthid_from_object(&object)
}

fn synthid_from_object(object: &Map<String, Value>) -> Result<SynthIdImport, WatermarkError> {
    const KNOWN: [&str; 5] = [
        "keys",
        "ngram_len",
        "sampling_table_size",
        "sampling_table_seed",
        "context_history_size",
    ];
    if let Some(field) = object.keys().find(|k| KGW_FIELDS.contains(&k.as_str())) {
        return Err(bad(format!(
            "`{field}` belongs to transformers' KGW `WatermarkingConfig`, not to a \
             `SynthIDTextWatermarkingConfig`"
        )));
    }
    let unknown: Vec<&str> = object
        .keys()
        .map(String::as_str)
        .filter(|k| !KNOWN.contains(k) && !IGNORED_FIELDS.contains(k))
        .collect();
    if !unknown.is_empty() {
        return Err(bad(format!(
            "unknown field{} `{}` (a SynthIDTextWatermarkingConfig has {} and {})",
            if unknown.len() == 1 { "" } else { "s" },
            unknown.join("`, `"),
            KNOWN.join(", "),
            IGNORED_FIELDS.join(", "),
        )));
    }

    let keys = match object.get("keys") {
        None => return Err(bad("the field `keys` is missing (one integer per layer)")),
        Some(Value::Array(keys)) => keys,
        Some(other) => {
            return Err(bad(format!(
                "`keys` must be a list of integers, found {}",
                kind_of(other)
            )));
        }
    };
    if keys.is_empty() {
        return Err(bad("`keys` is empty: SynthID needs one key per layer"));
    }
    if keys.len() > MAX_DEPTH {
        return Err(bad(format!(
            "`keys` has {} entries; Tracemark supports at most {MAX_DEPTH} layers",
            keys.len()
        )));
    }
    let keys = keys
        .iter()
        .enumerate()
        .map(|(i, k)| {
            // torch's int64 arithmetic wraps: a negative key acts as its two's complement.
            // (Messages never show a key: it is the secret.)
            if let Some(k) = k.as_i64() {
                Ok(k as u64)
            } else if k.is_u64() {
                Err(bad(format!(
                    "`keys[{i}]` is above 2^63-1, so it does not fit torch.long and \
                     transformers cannot have used it"
                )))
            } else {
                Err(bad(format!(
                    "`keys[{i}]` must be a 64-bit integer, found {}",
                    kind_of(k)
                )))
            }
        })
        .collect::<Result<Vec<u64>, _>>()?;

    let ngram_len = match object.get("ngram_len") {
        None => return Err(bad("the field `ngram_len` is missing")),
        Some(v) => size_field("ngram_len", v, 2, MAX_NGRAM_LEN)?,
    };
    let sampling_table_size = match object.get("sampling_table_size") {
        None => DEFAULT_SAMPLING_TABLE_SIZE,
        Some(v) => size_field("sampling_table_size", v, 1, MAX_SAMPLING_TABLE_SIZE)?,
    };
    let context_history_size = match object.get("context_history_size") {
        None => DEFAULT_CONTEXT_HISTORY_SIZE,
        Some(v) => size_field("context_history_size", v, 1, MAX_CONTEXT_HISTORY)?,
    };
    let sampling_table_seed = match object.get("sampling_table_seed") {
        None => DEFAULT_SAMPLING_TABLE_SEED,
        Some(v) => match (v.as_u64(), v.as_i64()) {
            (Some(seed), _) => seed,
            // torch.Generator.manual_seed reinterprets a negative seed as unsigned.
            (None, Some(seed)) => seed as u64,
            // The seed is part of the secret: its kind is named, never its value.
            (None, None) => {
                return Err(bad(format!(
                    "`sampling_table_seed` must be an integer from -2^63 to 2^64-1, found {}",
                    kind_of(v)
                )));
            }
        },
    };
    let mut ignored = Vec::new();
    for field in IGNORED_FIELDS {
        match object.get(field) {
            None => {}
            Some(Value::Bool(b)) => ignored.push((field.to_owned(), *b)),
            Some(other) => {
                return Err(bad(format!(
                    "`{field}` must be true or false, found {}",
                    kind_of(other)
                )));
            }
        }
    }
    let params = SynthIdParams {
        keys: Secret::new(keys),
        ngram_len,
        sampling_table_size,
        sampling_table_seed,
        context_history_size,
    };
    Ok(SynthIdImport { params, ignored })
}

/// A value for a message: numbers as they are, anything else by its kind.
fn describe(value: &Value) -> String {
    match value {
        Value::Number(n) => n.to_string(),
        other => kind_of(other).to_owned(),
    }
}

fn size_field(name: &str, value: &Value, min: usize, max: usize) -> Result<usize, WatermarkError> {
    let out_of_range = || {
        bad(format!(
            "`{name}` = {value} is out of range: it must be {min} to {max}"
        ))
    };
    match value {
        Value::Number(n) if n.is_i64() || n.is_u64() => {
            let n = n.as_u64().ok_or_else(out_of_range)?;
            usize::try_from(n)
                .ok()
                .filter(|n| (min..=max).contains(n))
                .ok_or_else(out_of_range)
        }
        other => Err(bad(format!(
            "`{name}` must be an integer from {min} to {max}, found {}",
            describe(other)
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn import(value: Value) -> Result<SynthIdImport, WatermarkError> {
        synthid_from_json(value.to_string().as_bytes())
    }

    fn message(value: Value) -> String {
        match import(value) {
            Ok(_) => panic!("accepted"),
            Err(e) => {
                assert!(matches!(e, WatermarkError::TransformersConfig(_)), "{e:?}");
                e.to_string()
            }
        }
    }

    /// What transformers' `to_json_file` writes (sorted keys, every field).
    fn full() -> Value {
        json!({
            "context_history_size": 64,
            "debug_mode": false,
            "keys": [654, 400, 836, 123, 340],
            "ngram_len": 3,
            "sampling_table_seed": 7,
            "sampling_table_size": 1024,
            "skip_first_ngram_calls": true,
        })
    }

    #[test]
    fn every_field_is_read() {
        let got = import(full()).unwrap();
        assert_eq!(
            got.params,
            SynthIdParams {
                keys: Secret::new(vec![654, 400, 836, 123, 340]),
                ngram_len: 3,
                sampling_table_size: 1024,
                sampling_table_seed: 7,
                context_history_size: 64,
            }
        );
        assert_eq!(
            got.ignored,
            vec![
                ("skip_first_ngram_calls".to_owned(), true),
                ("debug_mode".to_owned(), false)
            ]
        );
    }

    #[test]
    fn absent_optional_fields_take_transformers_defaults() {
        let got = import(json!({"keys": [1, 2], "ngram_len": 5})).unwrap();
        assert_eq!(got.params.sampling_table_size, 65536);
        assert_eq!(got.params.sampling_table_seed, 0);
        assert_eq!(got.params.context_history_size, 1024);
        assert!(got.ignored.is_empty());
    }

    #[test]
    fn a_generation_config_holding_one_is_read() {
        let got = import(json!({"do_sample": true, "watermarking_config": full()})).unwrap();
        assert_eq!(got, import(full()).unwrap());
    }

    #[test]
    fn negative_integers_are_read_as_torch_reads_them() {
        let got = import(json!({"keys": [-1, i64::MIN, i64::MAX], "ngram_len": 2,
                                "sampling_table_seed": -17}))
        .unwrap();
        assert_eq!(
            got.params.keys.expose(),
            &vec![u64::MAX, 1 << 63, (1 << 63) - 1]
        );
        assert_eq!(got.params.sampling_table_seed, (-17i64) as u64);
        let got = import(json!({"keys": [1], "ngram_len": 2, "sampling_table_seed": u64::MAX}));
        assert_eq!(got.unwrap().params.sampling_table_seed, u64::MAX);
    }

    #[test]
    fn bad_configurations_are_clear_errors() {
        let with = |field: &str, value: Value| {
            let mut v = full();
            v[field] = value;
            message(v)
        };
        let without = |field: &str| {
            let mut v = full();
            v.as_object_mut().unwrap().remove(field);
            message(v)
        };
        let cases = [
            (message(json!([1, 2])), "expected a JSON object"),
            (without("keys"), "`keys` is missing"),
            (without("ngram_len"), "`ngram_len` is missing"),
            (with("keys", json!([])), "`keys` is empty"),
            (
                with("keys", json!("654,400")),
                "must be a list of integers, found a string",
            ),
            (
                with("keys", json!([1, "2"])),
                "`keys[1]` must be a 64-bit integer, found a string",
            ),
            (
                with("keys", json!([1, 2.5])),
                "`keys[1]` must be a 64-bit integer, found a fraction",
            ),
            (with("keys", json!([u64::MAX])), "`keys[0]` is above 2^63-1"),
            (with("keys", json!(vec![1; 33])), "at most 32 layers"),
            (
                with("ngram_len", json!(1)),
                "`ngram_len` = 1 is out of range: it must be 2 to 32",
            ),
            (
                with("ngram_len", json!(0)),
                "`ngram_len` = 0 is out of range",
            ),
            (
                with("ngram_len", json!(-3)),
                "`ngram_len` = -3 is out of range",
            ),
            (
                with("ngram_len", json!(1_000_000)),
                "`ngram_len` = 1000000 is out of range",
            ),
            (
                with("ngram_len", json!("5")),
                "`ngram_len` must be an integer from 2 to 32, found a string",
            ),
            (with("ngram_len", json!(5.0)), "found 5.0"),
            (with("ngram_len", Value::Null), "found null"),
            (
                with("context_history_size", json!(0)),
                "`context_history_size` = 0 is out of range",
            ),
            (
                with("context_history_size", json!(1u64 << 40)),
                "`context_history_size` = 1099511627776 is out of range",
            ),
            (
                with("sampling_table_size", json!(0)),
                "`sampling_table_size` = 0 is out of range",
            ),
            (
                with("sampling_table_size", json!((1 << 24) + 1)),
                "must be 1 to 16777216",
            ),
            (
                with("sampling_table_seed", json!("7")),
                "`sampling_table_seed` must be an integer",
            ),
            (
                with("sampling_table_seed", json!(1e30)),
                "found a fraction or a number beyond 64 bits",
            ),
            (
                with("debug_mode", json!("no")),
                "`debug_mode` must be true or false",
            ),
            (with("bias", json!(2.0)), "KGW `WatermarkingConfig`"),
            (with("extra", json!(1)), "unknown field `extra`"),
            (
                message(json!({"watermarking_config": 3})),
                "must be an object",
            ),
        ];
        for (got, want) in cases {
            assert!(got.contains(want), "{got:?} does not contain {want:?}");
        }
        let not_json = synthid_from_json(b"{\"keys\": [1,").unwrap_err();
        assert!(not_json.to_string().contains("is not JSON"), "{not_json}");
        let latin1 = synthid_from_json(b"{\"keys\": \"caf\xe9\"}").unwrap_err();
        assert!(latin1.to_string().contains("is not JSON"), "{latin1}");
    }

    #[test]
    fn errors_never_show_the_secret() {
        let secret = 18_446_744_073_709_551_557u64;
        let mut v = full();
        v["keys"] = json!([secret]);
        assert!(!message(v).contains(&secret.to_string()));
        let mut v = full();
        v["sampling_table_seed"] = json!(1.5e20);
        assert!(!message(v).contains("1.5e20"));
    }
}
