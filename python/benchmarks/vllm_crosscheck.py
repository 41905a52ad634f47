"""Cross-check against vLLM's own Python detectors (a script, not a CI test: vLLM pins its
own torch build and needs a GPU to generate; its detectors are plain torch).

    pip download --no-deps vllm==0.34.0 -d /tmp/vllm && unzip -q /tmp/vllm/*.whl 'vllm/*' -d /tmp/vllm/src
    python python/benchmarks/vllm_crosscheck.py /tmp/vllm/src

It imports vLLM's detector modules (`vllm/v1/watermarking/{detector,gumbel}.py`, its
Philox PRF and `vllm/config/watermarking.py`) from the unpacked wheel, standing in for the
three engine modules they import but detection never calls (a logger, the config
decorator, the GPU Gumbel sampler). Tracemark marks token sequences with keys imported
from vLLM configurations (`WatermarkKey.import_config`, as `keygen --from-vllm`; its own
sampling loop on random logits over the TinyStories vocabulary), and both detectors score
them and unmarked ones.
"""

from __future__ import annotations

import json
import logging
import sys
import tempfile
import types
from pathlib import Path

import numpy as np
import pydantic

import tracemark


def stub_engine_modules() -> None:
    """The engine modules vLLM's detectors import but detection never uses."""

    def module(name: str, **attrs) -> None:
        m = types.ModuleType(name)
        m.__dict__.update(attrs)
        sys.modules[name] = m

    class Logger(logging.LoggerAdapter):
        def warning_once(self, msg, *args, **kwargs):
            kwargs.pop("scope", None)
            self.warning(msg, *args, **kwargs)

    module("vllm.logger", init_logger=lambda name: Logger(logging.getLogger(name), {}))
    module("vllm.config.utils", config=pydantic.dataclasses.dataclass)
    for name in ["vllm.v1.worker", "vllm.v1.worker.gpu", "vllm.v1.worker.gpu.sample"]:
        module(name, __path__=[])
    module("vllm.v1.worker.gpu.sample.gumbel", gumbel_sample=None)


def load_vllm(src: Path):
    for name, path in [("vllm", src / "vllm"), ("vllm.config", src / "vllm/config"),
                       ("vllm.v1", src / "vllm/v1")]:
        m = types.ModuleType(name)
        m.__path__ = [str(path)]
        sys.modules[name] = m
    stub_engine_modules()
    import importlib

    return importlib.import_module("vllm.v1.watermarking.gumbel")


def marked_tokens(key, vocab: int, steps: int, seed: int) -> list[int]:
    rng = np.random.default_rng(seed)
    loop = tracemark.Sampler(key, vocab, [], seed=seed)
    return [loop.next((rng.normal(0, 3, vocab)).astype(np.float32)) for _ in range(steps)]


def main() -> None:
    gumbel = load_vllm(Path(sys.argv[1]))
    d = Path(tempfile.mkdtemp())
    tracemark.llama2c_to_hf(Path(__file__).resolve().parents[2] / "models/tinystories-260k", d / "hf")
    tokenizer = tracemark.Tokenizer(d / "hf")
    vocab = tokenizer.vocab_size
    rows = []
    for config in [{"algorithm": "gumbel", "key": 42},
                   {"algorithm": "dual_key_gumbel", "key": 4242, "alpha": 0.5}]:
        (d / "c.json").write_text(json.dumps(config))
        key = tracemark.WatermarkKey.import_config(
            d / "k.json", stack="vllm", config=d / "c.json", tokenizer=tokenizer, force=True)
        if config["algorithm"] == "gumbel":
            theirs = gumbel.GumbelWatermarkDetector(key=config["key"], p_value_threshold=1e-3)
        else:
            theirs = gumbel.DualKeyGumbelWatermarkDetector(
                key=config["key"], alpha=config["alpha"], p_value_threshold=1e-3)
        rng = np.random.default_rng(9)
        for name, tokens in [
            ("marked", marked_tokens(key, vocab, 200, 1)),
            ("unmarked", rng.integers(0, vocab, 200).tolist()),
        ]:
            a = theirs.detect(tokens)
            b = tracemark.detect(key, tokens=tokens, false_positive_rate=1e-3)
            rel = abs(a.p_value - b.p_value) / max(a.p_value, 1e-300)
            rows.append((config["algorithm"], name, a.p_value, b.p_value, rel,
                         a.is_watermarked, b.detected))
            print(f"{config['algorithm']:<16} {name:<9} vLLM p={a.p_value:.6e} "
                  f"Tracemark p={b.p_value:.6e} rel.diff={rel:.1e} "
                  f"detected vLLM={a.is_watermarked} Tracemark={b.detected}")
    assert all(r[5] == r[6] for r in rows), "the verdicts differ"


if __name__ == "__main__":
    main()
