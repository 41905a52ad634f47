"""Whole generations across candle and torch (reported, not asserted: issue 18).

Tracemark's own loop runs the model on candle (`tracemark generate`); transformers runs
the same weights on torch. Their logits differ in the last bits, so this script asks, for
a Gumbel-marked generation made by the CLI: at each step where the scheme chose the
token, does the transformers processor, fed torch's logits for the same context, choose
the same one? And for a greedy unmarked generation: how many tokens agree before the two
backends first differ?

    TRACEMARK_CLI=target/debug/tracemark python python/benchmarks/agreement.py
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from pathlib import Path

import torch
from transformers import AutoModelForCausalLM

import tracemark

ROOT = Path(__file__).resolve().parents[2]
PROMPTS = ["Once upon a time", "Tom and his dog went to the park.", "Lily wanted a red ball."]


def cli(*args: str) -> dict:
    out = subprocess.run([os.environ["TRACEMARK_CLI"], *map(str, args), "--json"],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def main() -> None:
    d = Path(tempfile.mkdtemp())
    hf = d / "hf"
    tracemark.llama2c_to_hf(ROOT / "models/tinystories-260k", hf)
    tok = tracemark.Tokenizer(hf)
    model = AutoModelForCausalLM.from_pretrained(hf, dtype=torch.float32).eval()
    key = tracemark.WatermarkKey.generate(d / "k.json", scheme="gumbel-v1", tokenizer=tok)
    chosen = agreed = 0
    for seed, prompt in enumerate(PROMPTS):
        out = cli("generate", "--model", hf, "--key", key.path, "--prompt", prompt,
                  "--max-tokens", 200, "--seed", seed)
        context = list(out["prompt_tokens"])
        loop = tracemark.Sampler(key, tok.vocab_size, context)
        for token in out["tokens"]:
            with torch.no_grad():
                logits = model(torch.tensor([context])).logits[0, -1].float().numpy()
            choice, _ = loop.propose(logits)
            if choice is not None:
                chosen += 1
                agreed += choice == token
            loop.accept(token)
            context.append(token)
    print(f"Gumbel-marked steps: torch's choice equals candle's at {agreed}/{chosen} "
          f"({100 * agreed / max(chosen, 1):.1f}%)")
    same = total = 0
    for prompt in PROMPTS:
        out = cli("generate", "--model", hf, "--no-watermark", "--prompt", prompt,
                  "--max-tokens", 200, "--temperature", 0)
        ids = torch.tensor([out["prompt_tokens"]])
        with torch.no_grad():
            theirs = model.generate(ids, attention_mask=torch.ones_like(ids), do_sample=False,
                                    max_new_tokens=len(out["tokens"]), pad_token_id=0)
        theirs = theirs[0, ids.shape[1]:].tolist()
        run = next((i for i, (a, b) in enumerate(zip(out["tokens"], theirs)) if a != b),
                   min(len(theirs), len(out["tokens"])))
        same += run
        total += len(out["tokens"])
    print(f"greedy, unmarked: {same}/{total} tokens agree before the first difference")


if __name__ == "__main__":
    main()
