"""Credentials, tracing, the log and the evidence report from Python, on the demo's work
folder (`tracemark demo`, the `demo` fixture), each checked against the CLI's own answer."""

from __future__ import annotations

import base64
import json
import shutil

import pytest

import tracemark

ROOT_FIXTURES = "crates/tracemark-credentials/tests/fixtures"


def signing(demo):
    d = demo / "home/keys/signing/demo"
    return {"key": d / "key.pem", "cert": d / "chain.pem"}, d / "root.pem"


def test_a_credential_is_trusted_only_under_the_anchor_given(demo, cli, tmp_path):
    keys, root = signing(demo)
    src = tmp_path / "story.txt"
    src.write_text("Once upon a time, a fox found a lantern in the snow.\n")
    signed = tracemark.sign_credential(
        src, tmp_path / "story.signed.txt", **keys, model="tinystories-260k",
        provider="provider.example", generation_id="gen-py-1",
    )
    assert signed["generation_id"] == "gen-py-1" and signed["carrier"] == "embedded"
    path = tmp_path / "story.signed.txt"
    assert tracemark.verify_credential(path)["state"] == "untrusted"
    trusted = tracemark.verify_credential(path, trust=[root])
    assert trusted["state"] == "trusted"
    by_label = lambda r: {**r, "assertions": sorted(r["assertions"], key=lambda a: a["label"])}  # noqa: E731
    assert by_label(trusted) == by_label(cli.json("verify", "--trust", root, path))
    # One changed byte of the text: the hard binding fails.
    text = path.read_text()
    path.write_text(text.replace("fox", "cat"))
    assert tracemark.verify_credential(path, trust=[root])["state"] == "tampered"


def test_media_is_signed_and_verified(demo, tmp_path):
    from conftest import ROOT

    keys, root = signing(demo)
    out = tmp_path / "signed.png"
    signed = tracemark.sign_credential(ROOT / ROOT_FIXTURES / "tiny.png", out, **keys)
    assert signed["media"] is not None
    assert tracemark.verify_credential(out, trust=[root])["state"] == "trusted"
    with pytest.raises(tracemark.TracemarkError):
        tracemark.verify_credential(out, trust=[root], max_bytes=16)


def test_log_append_prove_and_verify(demo, cli, tmp_path):
    cli.run("log", "init", "--dir", tmp_path / "log", "--origin", "py.example/log")
    log = tracemark.Log(tmp_path / "log")
    record = json.loads((demo / "1-mark-at-the-source.signed.record.json").read_text())
    appended = log.append(record)
    assert appended["index"] == 0 and appended["tree_size"] == 1
    receipt = log.prove(0)
    ours = tmp_path / "log/key.pub"
    verdict = tracemark.verify_receipt(receipt, log_keys=[ours])
    assert verdict["trust"] == "trusted" and verdict["verified"]
    assert verdict["record"] == record
    (tmp_path / "r.receipt").write_text(receipt)
    assert verdict == cli.json("log", "verify-receipt", "--key", ours, tmp_path / "r.receipt")
    # Another log's key does not vouch for it; an altered receipt is tampered.
    other = demo / "home/keys/log/demo/key.pub"
    assert tracemark.verify_receipt(receipt, log_keys=[other])["trust"] == "untrusted"
    lines = receipt.split("\n")
    assert lines[1].startswith("extra ")
    entry = json.loads(base64.b64decode(lines[1][len("extra "):]))
    entry["provider"] = "someone-else.example"
    lines[1] = "extra " + base64.b64encode(json.dumps(entry).encode()).decode()
    altered = "\n".join(lines)
    assert tracemark.verify_receipt(altered, log_keys=[ours])["trust"] == "tampered"
    with pytest.raises(tracemark.TracemarkError):
        log.append("{not json")
    with pytest.raises(tracemark.TracemarkError):
        tracemark.Log(tmp_path / "nowhere")


def test_trace_matches_the_cli(demo, cli):
    index = tracemark.CorpusIndex(demo / "index")
    text_file = demo / "2-trace-to-training-data.txt"
    found = index.trace(text_file.read_text())
    assert found["spans"] and found["coverage"] > 0
    assert found == cli.json("trace", "--index", demo / "index", text_file)
    assert index.info()["documents"] > 0


def test_attribute_writes_the_clis_report(demo, cli, tmp_path):
    config = demo / "tracemark.toml"
    attributor = tracemark.Attributor(config)
    assert attributor.problems == []
    content = (demo / "2-trace-to-training-data.txt").read_bytes()
    report = attributor.attribute(content, name="2.txt", as_of="2026-12-01")
    assert report["format"] == "tracemark.evidence-report/v3"
    assert report["seal"]["signature"]
    shutil.copy(demo / "2-trace-to-training-data.txt", tmp_path / "2.txt")
    theirs = cli.json(
        "--config", config, "attribute", "--no-log", "--as-of", "2026-12-01", tmp_path / "2.txt"
    )
    outcomes = lambda r: {(x["id"], x["outcome"]) for x in r["rules"]}  # noqa: E731
    assert outcomes(report) == outcomes(theirs)
    assert any(o == "non_compliant" for _, o in outcomes(report))
