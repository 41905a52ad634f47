//! What the commands share to print their results.

/// The name a value serialises to (`"genai-train"`, `"disallowed"`).
pub(super) fn json_name(value: &impl serde::Serialize) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        Ok(other) => other.to_string(),
        Err(_) => "?".into(),
    }
}
