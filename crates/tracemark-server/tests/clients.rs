//! The service as its users reach it: OpenAI's Python client library, and the web page
//! in a real headless Chromium (Selenium). Both need `TRACEMARK_WEB_PYTHON`, a Python
//! with `openai` and `selenium` (`.ci/run` installs it, with Debian's chromium-driver).

mod common;

use std::{path::Path, process::Command};

use common::{TOKEN, base, completion, post};
use serde_json::{Value, json};

fn run_python(python: &Path, script: &str, args: &[&str]) -> String {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join(script);
    let out = Command::new(python)
        .arg(&script)
        .args(args)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{} failed:\n{stdout}\n{}",
        script.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

fn credential_state(text: &str) -> Value {
    let (_, verified) = post(
        &format!("{}/v1/verify", base()),
        None,
        &json!({ "text": text }),
    );
    verified["result"]["credential"]["state"].clone()
}

#[test]
fn openai_python_client_generates_marked_text() {
    let Some(python) = common::web_python() else {
        return;
    };
    let out = run_python(&python, "tests/clients/openai_client.py", &[base(), TOKEN]);
    let result: Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(result["model"], common::model(base()));
    assert_eq!(result["chat_role"], "assistant");
    assert_eq!(result["auth_error"], 401);
    assert!(result["completion_tokens"].as_u64().unwrap() > 0);
    assert!(
        result["completion_tracemark"]["receipt"].is_string(),
        "{result}"
    );
    assert!(result["stream_tracemark"]["log_index"].is_u64(), "{result}");
    // Each text, as the client library handed it over, carries a valid credential.
    for field in ["completion", "chat", "streamed"] {
        let text = result[field].as_str().unwrap();
        assert_eq!(credential_state(text), "trusted", "{field}: {text:?}");
    }
}

#[test]
fn the_page_attributes_pasted_and_uploaded_text_in_chromium() {
    let Some(python) = common::web_python() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let marked = completion(base(), "The harbour at dawn", 200, 5);
    let marked_file = dir.path().join("marked.txt");
    std::fs::write(&marked_file, marked["choices"][0]["text"].as_str().unwrap()).unwrap();
    let plain_file = dir.path().join("letter.txt");
    std::fs::write(
        &plain_file,
        "Dear Ruth, the apple trees came through the frost better than we feared, and \
         the lower field is finally dry enough to plough. Write when you can.\n",
    )
    .unwrap();
    let downloads = dir.path().join("downloads");
    std::fs::create_dir(&downloads).unwrap();
    run_python(
        &python,
        "tests/browser/page_test.py",
        &[
            base(),
            marked_file.to_str().unwrap(),
            plain_file.to_str().unwrap(),
            downloads.to_str().unwrap(),
        ],
    );
}
