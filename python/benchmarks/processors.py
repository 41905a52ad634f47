"""Per-step cost of the transformers processors, and detection throughput, side by side
with transformers' own watermark processors and detector (issue 18, part 3).

    python python/benchmarks/processors.py [--steps 40] [--json OUT]

Run it in the pinned environment (python/requirements.txt) with the *release* wheel
installed (`maturin build --release` then `pip install` it; `maturin develop` builds
debug). CPU tensors; nothing else should run on the machine. It is a benchmark, not a
test: CI does not run it.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from transformers import LlamaConfig
from transformers.generation import WatermarkDetector, WatermarkingConfig as HfKgwConfig
from transformers.generation.logits_process import (
    SynthIDTextWatermarkLogitsProcessor,
    WatermarkLogitsProcessor,
)

import tracemark
from tracemark.transformers import WatermarkProcessor

ROOT = Path(__file__).resolve().parents[2]
SCHEMES = ["kgw-lefthash-v1", "kgw-selfhash-v1", "unigram-v1", "gumbel-v1", "synthid-v1"]
SYNTHID_KEYS = [int(k) for k in np.random.default_rng(0).integers(1, 2**40, 30)]


def per_step_ms(processor, vocab: int, batch: int, steps: int) -> float:
    """Median milliseconds per call over `steps` calls of a growing generation."""
    gen = torch.Generator().manual_seed(0)
    ids = torch.randint(3, vocab, (batch, 16 + steps + 1), generator=gen)
    scores = torch.randn(batch, vocab, generator=gen)
    times = []
    for step in range(steps + 1):
        s = scores.clone()
        t0 = time.perf_counter()
        processor(ids[:, : 16 + step], s)
        times.append(time.perf_counter() - t0)
    return 1000 * statistics.median(times[1:])


def ours(scheme: str, vocab: int, keys_dir: Path):
    key = tracemark.WatermarkKey.generate(keys_dir / f"{scheme}.json", scheme=scheme, force=True)
    return WatermarkProcessor(key, vocab_size=vocab, pad_token_id=0)


def theirs(name: str, vocab: int):
    if name == "synthid":
        return SynthIDTextWatermarkLogitsProcessor(
            ngram_len=5, keys=SYNTHID_KEYS, sampling_table_size=2**16, sampling_table_seed=0,
            context_history_size=1024, device=torch.device("cpu"),
        )
    width = 1 if name == "lefthash" else 4
    return WatermarkLogitsProcessor(
        vocab_size=vocab, device=torch.device("cpu"), greenlist_ratio=0.25, bias=2.0,
        hashing_key=15485863, seeding_scheme=name, context_width=width,
    )


def processors(steps: int) -> list[dict]:
    rows = []
    keys_dir = Path(tempfile.mkdtemp())
    for vocab in [32_000, 152_064]:
        for batch in [1, 32]:
            hf = {n: per_step_ms(theirs(n, vocab), vocab, batch, steps)
                  for n in ["lefthash", "selfhash", "synthid"]}
            for scheme in SCHEMES:
                ms = per_step_ms(ours(scheme, vocab, keys_dir), vocab, batch, steps)
                rows.append({"vocab": vocab, "batch": batch, "scheme": scheme, "ms_per_step": ms,
                             **{f"transformers_{n}_ms": v for n, v in hf.items()}})
                print(f"V={vocab:>6} B={batch:>2} {scheme:<16} {ms:8.3f} ms/step   "
                      f"transformers lefthash {hf['lefthash']:8.3f}  selfhash {hf['selfhash']:8.3f}  "
                      f"synthid {hf['synthid']:8.3f}", flush=True)
    return rows


def detection(texts_n: int = 1000, tokens_each: int = 400) -> dict:
    """Tokens per second: `tracemark.detect_many` (text in, all cores) and `detect` one
    token list at a time, against transformers' WatermarkDetector on the same ids."""
    out = Path(tempfile.mkdtemp())
    tracemark.llama2c_to_hf(ROOT / "models/tinystories-260k", out / "hf")
    tok = tracemark.Tokenizer(out / "hf")
    rng = np.random.default_rng(1)
    # Decoded random ids re-encode into more tokens: draw fewer, keep the first `tokens_each`.
    drawn = [tok.encode(tok.decode(rng.integers(3, tok.vocab_size, tokens_each).tolist()))
             for _ in range(texts_n)]
    ids = [row[:tokens_each] for row in drawn]
    texts = [tok.decode(row) for row in ids]
    width = min(map(len, ids))
    batch = torch.tensor([row[:width] for row in ids])
    result = {"texts": texts_n, "tokens_per_text": width}
    for scheme, hf_name in [("kgw-lefthash-v1", "lefthash"), ("kgw-selfhash-v1", "selfhash")]:
        key = tracemark.WatermarkKey.generate(out / f"{scheme}.json", scheme=scheme, tokenizer=tok)
        t0 = time.perf_counter()
        tracemark.detect_many(key, texts, tok)
        many = time.perf_counter() - t0
        rows = batch.tolist()
        t0 = time.perf_counter()
        for row in rows:
            tracemark.detect(key, tokens=row)
        one = time.perf_counter() - t0
        t0 = time.perf_counter()
        tracemark.detect_many(key, tokens=rows)
        many_ids = time.perf_counter() - t0
        config = LlamaConfig(vocab_size=tok.vocab_size, pad_token_id=0, bos_token_id=1, eos_token_id=2)
        detector = WatermarkDetector(
            model_config=config, device="cpu",
            watermarking_config=HfKgwConfig(seeding_scheme=hf_name, context_width=1 if hf_name == "lefthash" else 4),
        )
        t0 = time.perf_counter()
        detector(batch)
        hf = time.perf_counter() - t0
        tokens = width * texts_n
        result[scheme] = {
            "detect_many_texts_tokens_per_s": tokens / many,
            "detect_many_ids_tokens_per_s": tokens / many_ids,
            "detect_tokens_per_s": tokens / one,
            "transformers_tokens_per_s": tokens / hf,
        }
        print(f"{scheme}: detect_many texts {tokens / many:,.0f} tok/s, ids {tokens / many_ids:,.0f} tok/s, "
              f"detect {tokens / one:,.0f} tok/s, "
              f"transformers WatermarkDetector {tokens / hf:,.0f} tok/s", flush=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    torch.set_num_threads(os.cpu_count() or 1)
    report = {"processors": processors(args.steps), "detection": detection(),
              "torch": torch.__version__, "tracemark": tracemark.__version__}
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
