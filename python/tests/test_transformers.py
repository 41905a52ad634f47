"""The transformers adapters with the real torch and transformers, on the committed
TinyStories model converted to HF format."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from transformers.generation.logits_process import SynthIDTextWatermarkLogitsProcessor

import tracemark
from tracemark.transformers import WatermarkingConfig, WatermarkProcessor, logits_processor

from conftest import SCHEMES

#: TinyStories has no pad token; <unk> (0) never appears in its text.
PAD = 0
VOCAB = 512
PROMPTS = ["Once upon a time", "Tom and his dog went to the park. They saw"]


def batch(tokenizer, prompts):
    """Left-padded input ids and attention mask, as a padding_side='left' tokenizer gives."""
    rows = [tokenizer.encode(p) for p in prompts]
    width = max(map(len, rows))
    ids = torch.tensor([[PAD] * (width - len(r)) + r for r in rows])
    return ids, (ids != PAD).long()


def generate(model, ids, mask, *, new=160, seed=0, **kw):
    """Completions (without the prompt) of a sampled generate() call."""
    torch.manual_seed(seed)
    with torch.no_grad():
        out = model.generate(
            input_ids=ids, attention_mask=mask, do_sample=True, max_new_tokens=new,
            min_new_tokens=new, pad_token_id=PAD, **kw,
        )
    return [row[ids.shape[1]:].tolist() for row in out]


def softmax(x):
    x = torch.as_tensor(x, dtype=torch.float64)
    return torch.softmax(x, dim=-1)


@pytest.mark.parametrize("scheme", SCHEMES)
def test_generate_marks_and_both_detectors_find_it(scheme, keys, hf_model, tokenizer, cli, hf_dir, tmp_path):
    key = keys[scheme]
    ids, mask = batch(tokenizer, PROMPTS)
    config = WatermarkingConfig(key, pad_token_id=PAD)
    marked = generate(hf_model, ids, mask, new=300, watermarking_config=config)
    plain = generate(hf_model, ids, mask, new=300)
    wrong = keys["gumbel-v1" if scheme != "gumbel-v1" else "unigram-v1"]
    for row in marked:
        found = tracemark.detect(key, tokens=row)
        assert found.detected, (scheme, found.log10_p_value)
        assert not tracemark.detect(wrong, tokens=row).detected
    for row in plain:
        assert not tracemark.detect(key, tokens=row).detected
    # The CLI reads the same text the same way.
    text_file = tmp_path / "out.txt"
    text_file.write_text(tokenizer.decode(marked[0]))
    assert cli.json("detect", "--model", hf_dir, "--key", key.path, text_file)["detected"]


@pytest.mark.parametrize("scheme", ["kgw-selfhash-v1+payload", "gumbel-v1+payload"])
def test_the_payload_comes_back(scheme, keys, hf_model, tokenizer):
    ids, mask = batch(tokenizer, PROMPTS)
    config = WatermarkingConfig(keys[scheme], payload="beef", pad_token_id=PAD)
    for row in generate(hf_model, ids, mask, new=400, watermarking_config=config):
        found = tracemark.detect(keys[scheme], tokens=row)
        assert found.detected and found.payload == "beef", found


@pytest.mark.parametrize("scheme", SCHEMES)
def test_on_the_same_logits_the_processor_chooses_as_tracemarks_loop(scheme, keys, hf_model, tokenizer):
    """Teacher-forced, step by step: transformers' raw logits go to Tracemark's own loop
    (its warpers and the scheme's step); where the scheme chooses, transformers emitted
    that very token; elsewhere both sample from the same distribution."""
    key = keys[scheme]
    ids, mask = batch(tokenizer, PROMPTS[:1])
    temperature, top_k = 0.9, 40
    torch.manual_seed(3)
    with torch.no_grad():
        out = hf_model.generate(
            input_ids=ids, attention_mask=mask, do_sample=True, temperature=temperature,
            top_k=top_k, max_new_tokens=80, pad_token_id=PAD, output_logits=True,
            output_scores=True, return_dict_in_generate=True,
            watermarking_config=WatermarkingConfig(key),
        )
    tokens = out.sequences[0, ids.shape[1]:].tolist()
    loop = tracemark.Sampler(key, VOCAB, ids[0].tolist(), temperature=temperature, top_k=top_k)
    chosen_steps = 0
    for step, token in enumerate(tokens):
        chosen, logits = loop.propose(out.logits[step][0].numpy())
        if chosen is not None:
            assert chosen == token, f"step {step}"
            chosen_steps += 1
        else:
            ours, theirs = softmax(logits), softmax(out.scores[step][0])
            assert torch.allclose(ours, theirs, atol=1e-6), f"step {step}"
        loop.accept(token)
    assert (chosen_steps > 40) == (scheme == "gumbel-v1")


def sample_one_marked_step(key, warped, rows=3000, warmup=8, seed=5):
    """Each of `rows` generations (random prompt and tokens, so that every row has its own
    context) runs `warmup` steps on uniform scores, then one on `warped`; returns the
    tokens transformers samples from what the processor left at that step."""
    gen = torch.Generator().manual_seed(seed)
    marker = WatermarkProcessor(key, pad_token_id=PAD)
    ids = torch.randint(3, VOCAB, (rows, 6 + warmup), generator=gen)
    for step in range(6, 6 + warmup):
        marker(ids[:, :step], torch.zeros(rows, VOCAB))
    probs = torch.softmax(marker(ids, warped.repeat(rows, 1)), dim=-1)
    marked = (probs - torch.softmax(warped, dim=-1)).abs().amax(dim=1) > 1e-3
    return torch.multinomial(probs, 1, generator=gen).squeeze(1), float(marked.double().mean())


@pytest.mark.parametrize("scheme", ["gumbel-v1", "synthid-v1"])
def test_chosen_tokens_follow_the_warped_distribution(scheme, keys):
    # What transformers' warpers leave: temperature 0.7, then top-k 8 at -inf.
    logits = torch.tensor(np.random.default_rng(1).normal(0, 2, VOCAB), dtype=torch.float32)
    warped = logits / 0.7
    warped[warped < torch.topk(warped, 8).values[-1]] = float("-inf")
    p = torch.softmax(warped.double(), dim=-1)
    chosen, marked = sample_one_marked_step(keys[scheme], warped)
    assert marked > 0.9, "the step was not marked"
    kept = torch.nonzero(p > 0).squeeze(1)
    assert set(chosen.tolist()) <= set(kept.tolist()), "a token the warpers removed"
    counts = torch.bincount(chosen, minlength=VOCAB)[kept].double()
    expected = p[kept] * len(chosen)
    chi2 = float(((counts - expected) ** 2 / expected).sum())
    assert chi2 < 24.32, chi2  # 7 degrees of freedom, p = 0.001


def synthid_config():
    rng = np.random.default_rng(11)
    return {
        "ngram_len": 5,
        "keys": [int(k) for k in rng.integers(1, 2**40, 30)],
        "sampling_table_size": 65536,
        "sampling_table_seed": 0,
        "context_history_size": 1024,
    }


@pytest.fixture(scope="module")
def synthid_pair(cli, tmp_path_factory):
    """transformers' own SynthID processor and a Tracemark key imported from its config."""
    config = synthid_config()
    d = tmp_path_factory.mktemp("synthid")
    (d / "config.json").write_text(json.dumps(config))
    cli.run("keygen", "watermark", "--from-transformers", d / "config.json", "--out", d / "k.json")
    theirs = SynthIDTextWatermarkLogitsProcessor(**config, device=torch.device("cpu"))
    return tracemark.WatermarkKey.load(d / "k.json"), theirs


def test_synthid_g_values_equal_transformers(synthid_pair):
    key, theirs = synthid_pair
    tokens = np.random.default_rng(2).integers(0, VOCAB, 300)
    expected = theirs.compute_g_values(torch.from_numpy(tokens[None, :]))[0].numpy()
    ours = np.array(tracemark.synthid_g_values(key, tokens.tolist()), dtype=np.int64)
    assert ours.shape == expected.shape == (296, 30)
    assert np.array_equal(ours, expected)


def test_synthid_processor_marks_as_transformers_own(synthid_pair):
    key, theirs = synthid_pair
    ours = WatermarkProcessor(key, vocab_size=VOCAB, pad_token_id=PAD)
    gen = torch.Generator().manual_seed(4)
    ids = torch.randint(3, VOCAB, (2, 5), generator=gen)
    for _ in range(40):
        scores = torch.randn(2, VOCAB, generator=gen) * 3
        expected = softmax(theirs(ids, scores.clone()))
        got = softmax(ours(ids, scores.clone()))
        assert torch.allclose(got, expected, atol=1e-5)
        ids = torch.cat([ids, torch.multinomial(expected.float(), 1, generator=gen)], dim=1)


def test_logits_processor_route_takes_only_bias_schemes(keys, hf_model, tokenizer):
    for scheme in ["gumbel-v1", "synthid-v1"]:
        with pytest.raises(tracemark.UsageError, match="warped distribution"):
            logits_processor(keys[scheme])
    key = keys["unigram-v1"]
    ids, mask = batch(tokenizer, PROMPTS)
    proc = logits_processor(key, pad_token_id=PAD)
    first = generate(hf_model, ids, mask, new=200, logits_processor=[proc])
    # The same instance in a second generate() call starts a new generation.
    assert generate(hf_model, ids, mask, new=200, logits_processor=[proc]) == first
    assert generate(hf_model, ids, mask, new=200, logits_processor=[logits_processor(key, pad_token_id=PAD)]) == first
    assert all(tracemark.detect(key, tokens=row).detected for row in first)


def test_cpu_scores_are_marked_in_place(keys):
    proc = WatermarkProcessor(keys["unigram-v1"])
    scores = torch.zeros(1, VOCAB)
    out = proc(torch.tensor([[1, 9, 14]]), scores)
    assert out.data_ptr() == scores.data_ptr()
    assert float(scores.max()) > 0  # the green list got its bias, in the caller's tensor
    # A strided view is marked through a contiguous copy, which is returned.
    wide = torch.zeros(VOCAB, 2).t()[:1]
    assert not wide.is_contiguous()
    assert float(proc(torch.tensor([[1, 9, 14]]), wide).max()) > 0


def test_bad_input_is_refused_with_the_fix(keys, tokenizer, model_dir, tmp_path):
    key = keys["kgw-selfhash-v1"]
    proc = WatermarkProcessor(key, pad_token_id=PAD)
    ids = torch.tensor([[1, 5, 6]])
    with pytest.raises(TypeError, match="float32"):
        proc(ids, torch.zeros(1, VOCAB, dtype=torch.float64))
    with pytest.raises(TypeError, match="torch.long"):
        proc(ids.int(), torch.zeros(1, VOCAB))
    with pytest.raises(ValueError, match="shapes"):
        proc(ids, torch.zeros(VOCAB))
    with pytest.raises(ValueError, match="rows"):
        proc(ids, torch.zeros(2, VOCAB))
    with pytest.raises(tracemark.UsageError, match="fewer than"):
        proc(ids, torch.zeros(1, 100))
    with pytest.raises(tracemark.UsageError, match="outside the key's vocabulary"):
        proc(torch.tensor([[1, 600, 6]]), torch.zeros(1, VOCAB))
    with pytest.raises(tracemark.UsageError, match="pad"):
        WatermarkProcessor(key)(torch.tensor([[1, 5], [1, 6]]), torch.zeros(2, VOCAB))
    with pytest.raises(tracemark.UsageError, match="padding after its first token"):
        proc(torch.tensor([[1, 5, PAD], [1, 6, 7]]), torch.zeros(2, VOCAB))
    # Rows that stop continuing the previous step (beam search reorders them).
    proc(torch.tensor([[1, 5], [1, 6]]), torch.zeros(2, VOCAB))
    with pytest.raises(tracemark.UsageError, match="beam search"):
        proc(torch.tensor([[1, 5, 9], [1, 7, 9]]), torch.zeros(2, VOCAB))
    # A key bound to no tokenizer does not know its vocabulary.
    unbound = tracemark.WatermarkKey.generate(tmp_path / "u.json", scheme="unigram-v1")
    with pytest.raises(tracemark.UsageError, match="vocab"):
        WatermarkProcessor(unbound)
    # Scores and ids on different devices.
    with pytest.raises(ValueError, match="device"):
        proc(ids, torch.zeros(1, VOCAB, device="meta"))
    # Malformed serving-stack configurations.
    for stack, bad in [("vllm", '{"algorithm": "sbw", "key": 1}'), ("vllm", '{"key": -1}'),
                       ("vllm", "{not json"), ("sglang", '{"key": 5}'),
                       ("sglang", '{"key": "0x1", "extra": 1}')]:
        (tmp_path / "bad.json").write_text(bad)
        with pytest.raises(tracemark.TracemarkError):
            tracemark.WatermarkKey.import_config(
                tmp_path / "bad-key.json", stack=stack, config=tmp_path / "bad.json")
        assert not (tmp_path / "bad-key.json").exists()
    (tmp_path / "ok.json").write_text('{"key": 1}')
    with pytest.raises(tracemark.UsageError, match="mapping"):
        tracemark.WatermarkKey.import_config(
            tmp_path / "k2.json", stack="vllm", config=tmp_path / "ok.json", mapping="v2")
    with pytest.raises(tracemark.UsageError, match="stack"):
        tracemark.WatermarkKey.import_config(
            tmp_path / "k2.json", stack="tgi", config=tmp_path / "ok.json")
    # A payload the key cannot carry, and a key of another tokenizer's vocabulary.
    with pytest.raises(tracemark.TracemarkError):
        WatermarkProcessor(key, payload="beef")
    with pytest.raises(tracemark.TracemarkError):
        WatermarkProcessor(key, vocab_size=32000)


#: The stacks' own configurations (vLLM's `--watermark-config`, SGLang's), imported by the CLI.
DEPLOYED = {
    "vllm-gumbel-v1": ("--from-vllm", {"algorithm": "gumbel", "key": 4242424242}),
    "vllm-dual-key-gumbel-v1": (
        "--from-vllm", {"algorithm": "dual_key_gumbel", "key": 4242424242, "alpha": 0.5}
    ),
    "sglang-gumbel-v1": ("--from-sglang", {"key": "0x5eed5eed5eed5eed", "context_window": 4}),
}


@pytest.mark.parametrize("scheme", sorted(DEPLOYED))
def test_the_marks_of_vllm_and_sglang_are_made_in_transformers(scheme, cli, hf_dir, hf_model, tokenizer, tmp_path):
    """A key imported from a serving stack's configuration marks inside generate() as the
    stack does; the whole-text p-value is the stack's own detector's statistic."""
    flag, config = DEPLOYED[scheme]
    (tmp_path / "config.json").write_text(json.dumps(config))
    cli.run("keygen", "watermark", flag, tmp_path / "config.json", "--model", hf_dir,
            "--out", tmp_path / "k.json")
    key = tracemark.WatermarkKey.load(tmp_path / "k.json", tokenizer)
    assert key.scheme == scheme
    # The same import from Python gives the same key.
    stack = "vllm" if flag == "--from-vllm" else "sglang"
    same = tracemark.WatermarkKey.import_config(
        tmp_path / "py.json", stack=stack, config=tmp_path / "config.json", tokenizer=tokenizer)
    assert (same.scheme, same.key_id) == (key.scheme, key.key_id)
    ids, mask = batch(tokenizer, PROMPTS)
    marked = generate(hf_model, ids, mask, new=300,
                      watermarking_config=WatermarkingConfig(key, pad_token_id=PAD))
    for row in marked:
        found = tracemark.detect(key, tokens=row)
        assert found.detected, (scheme, found.log10_p_value)
    for row in generate(hf_model, ids, mask, new=300):
        assert not tracemark.detect(key, tokens=row).detected
