"""The package's API: keys shared with the CLI, detection, errors, secrets."""

from __future__ import annotations

import json

import pytest

import tracemark

PROMPT = "Once upon a time, there was a little girl named Lily."


def cli_generate(cli, hf_dir, key_path, tmp_path, name, tokens=300, extra=()):
    """Text from Tracemark's own loop (candle), as `tracemark generate` writes it."""
    out = cli.json(
        "generate", "--model", hf_dir, "--key", key_path, "--prompt", PROMPT,
        "--max-tokens", tokens, "--seed", 7, *extra,
    )
    path = tmp_path / name
    path.write_text(out["text"])
    return out, path


def test_a_key_made_in_python_detects_in_the_cli_and_back(cli, hf_dir, tokenizer, tmp_path):
    py_key = tracemark.WatermarkKey.generate(
        tmp_path / "py.json", scheme="gumbel-v1", tokenizer=tokenizer
    )
    _, text_file = cli_generate(cli, hf_dir, py_key.path, tmp_path, "a.txt")
    from_cli = cli.json("detect", "--model", hf_dir, "--key", py_key.path, text_file)
    from_py = tracemark.detect(py_key, text=text_file.read_text(), tokenizer=tokenizer)
    assert from_py.detected and from_cli["detected"]
    # The very object `tracemark detect --json` prints.
    assert from_py.to_dict() == from_cli

    cli.run("keygen", "watermark", "--scheme", "gumbel-v1", "--model", hf_dir,
            "--out", tmp_path / "cli.json")
    cli_key = tracemark.WatermarkKey.load(tmp_path / "cli.json", tokenizer)
    assert cli_key.scheme == "gumbel-v1" and cli_key.vocab_size_bound == 512
    _, marked = cli_generate(cli, hf_dir, cli_key.path, tmp_path, "b.txt")
    assert tracemark.detect(cli_key, text=marked.read_text(), tokenizer=tokenizer).detected
    # Another key's text is not this key's.
    other = tracemark.detect(py_key, text=marked.read_text(), tokenizer=tokenizer)
    assert not other.detected and other.p_value > 1e-3


def test_tokens_and_text_give_one_verdict(cli, hf_dir, keys, tokenizer, tmp_path):
    key = keys["gumbel-v1+payload"]
    out, _ = cli_generate(cli, hf_dir, key.path, tmp_path, "p.txt", extra=("--payload", "beef"))
    by_tokens = tracemark.detect(key, tokens=out["tokens"])
    assert by_tokens.detected and by_tokens.payload == "beef"
    assert by_tokens.scored_tokens > 100
    assert all(s.range is None for s in by_tokens.segments)
    by_text = tracemark.detect(key, text=out["text"], tokenizer=tokenizer)
    assert by_text.payload == "beef"
    assert all(s.range is not None for s in by_text.segments)


def test_detect_many_matches_detect_and_keeps_going_past_a_bad_text(keys, tokenizer):
    key = keys["kgw-selfhash-v1"]
    texts = ["Tom had a red ball. He liked to play with it every day.", "", PROMPT * 3]
    many = tracemark.detect_many(key, texts, tokenizer)
    assert many[0] == tracemark.detect(key, text=texts[0], tokenizer=tokenizer)
    assert isinstance(many[1], tracemark.TracemarkError) and many[1].message
    assert many[2] == tracemark.detect(key, text=texts[2], tokenizer=tokenizer)
    ids = [tokenizer.encode(t) for t in texts]
    by_tokens = tracemark.detect_many(key, tokens=ids)
    assert by_tokens[0] == tracemark.detect(key, tokens=ids[0])
    assert isinstance(by_tokens[1], tracemark.TracemarkError)
    with pytest.raises(tracemark.UsageError, match="tokenizer"):
        tracemark.detect_many(key, texts)


def test_errors_carry_the_clis_message_and_fix(keys, tokenizer, model_dir, tmp_path):
    with pytest.raises(tracemark.InputError) as missing:
        tracemark.WatermarkKey.load(tmp_path / "nowhere.json")
    assert "nowhere.json" in missing.value.message
    # A key bound to the HF tokenizer, with the llama2.c tokenizer (another file).
    with pytest.raises(tracemark.UsageError) as wrong:
        tracemark.WatermarkKey.load(keys["unigram-v1"].path, tracemark.Tokenizer(model_dir))
    assert "was made for the tokenizer" in str(wrong.value)
    assert wrong.value.fix and "\n  fix: " in str(wrong.value)
    with pytest.raises(tracemark.UsageError) as scheme:
        tracemark.WatermarkKey.generate(tmp_path / "k.json", scheme="kgw-v9")
    assert "tracemark schemes" in scheme.value.fix
    with pytest.raises(tracemark.UsageError):
        tracemark.WatermarkKey.generate(keys["unigram-v1"].path)  # exists: not replaced
    with pytest.raises(tracemark.UsageError, match="not a token id"):
        tracemark.detect(keys["unigram-v1"], tokens=[5, -1, 7])
    with pytest.raises(tracemark.UsageError, match="needs its tokenizer"):
        tracemark.detect(keys["unigram-v1"], text="hello")
    with pytest.raises(tracemark.TracemarkError):
        tracemark.detect(keys["unigram-v1"], tokens=[5, 600, 7])  # outside the vocabulary
    with pytest.raises(tracemark.TracemarkError):
        tracemark.detect(keys["unigram-v1"], tokens=[5, 6], false_positive_rate=2.0)
    with pytest.raises(tracemark.InputError):
        tracemark.Tokenizer(tmp_path)  # no tokenizer there


def test_a_broken_key_file_is_an_error_not_a_crash(tmp_path, keys):
    good = keys["gumbel-v1"].path.read_bytes()
    for i, bad in enumerate([b"", good[: len(good) // 2], b"\xff\xfe" + good, b"[]", b"{" * 100_000]):
        path = tmp_path / f"bad{i}.json"
        path.write_bytes(bad)
        with pytest.raises(tracemark.TracemarkError):
            tracemark.WatermarkKey.load(path)


def test_no_attribute_or_repr_shows_the_secret(keys):
    for key in keys.values():
        stored = json.loads(key.path.read_text())
        secrets = [stored.get("secret")] + [
            str(k) for k in stored.get("params", {}).get("keys", [])
        ]
        shown = repr(key) + "".join(
            str(getattr(key, a)) for a in dir(key) if not a.startswith("_")
        )
        for secret in filter(None, secrets):
            assert secret not in shown


def test_schemes_lists_every_scheme():
    ids = [s for s, _ in tracemark.schemes()]
    assert {"kgw-selfhash-v1", "gumbel-v1", "synthid-v1", "vllm-gumbel-v1"} <= set(ids)
