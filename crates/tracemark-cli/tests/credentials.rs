//! `tracemark verify` on content it does not examine: a file over the size limit has no
//! verdict (exit status 3, bad input, with a hint), never "none" (exit status 1).

mod common;

use common::{json, tracemark};
use predicates::str::contains;

#[test]
fn a_file_over_the_size_limit_is_not_examined() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    // 1 GiB + 1 byte, sparse: over the default limit without using the disk.
    let big = std::fs::File::create(dir.join("big.txt")).unwrap();
    big.set_len((1 << 30) + 1).unwrap();

    tracemark(dir)
        .args(["verify", "big.txt"])
        .assert()
        .code(3)
        .stdout("")
        .stderr(contains(
            "big.txt was not examined for a content credential",
        ))
        .stderr(contains("1073741825 bytes"))
        .stderr(contains("fix: no verdict was reached"))
        .stderr(contains("--max-bytes"));

    let out = json(tracemark(dir).args(["verify", "big.txt"]), 3);
    let error = &out["error"];
    assert_eq!(error["fault"], "input", "{out}");
    assert!(
        error["message"].as_str().unwrap().contains("not examined"),
        "{out}"
    );
    assert!(
        error["hint"].as_str().unwrap().contains("--max-bytes"),
        "{out}"
    );
    assert!(out.get("state").is_none(), "{out}");

    // The same limit, lowered, on a small file; at its size, it is examined: none.
    std::fs::write(dir.join("small.txt"), "plain text, no credential").unwrap();
    let out = json(
        tracemark(dir).args(["verify", "--max-bytes", "24", "small.txt"]),
        3,
    );
    assert!(
        out["error"]["message"]
            .as_str()
            .unwrap()
            .contains("25 bytes, over the verifier's limit of 24 bytes"),
        "{out}"
    );
    let out = json(
        tracemark(dir).args(["verify", "--max-bytes", "25", "small.txt"]),
        1,
    );
    assert_eq!(out["state"], "none", "{out}");
}
