"""Fixtures for the package's tests: the committed TinyStories model (as llama2.c and as
an HF folder for transformers), its tokenizer, keys of every scheme, and the CLI.

``tests/python.rs`` in crates/tracemark-py builds the wheel, installs it into the pinned
environment and runs these tests with ``TRACEMARK_CLI`` naming the ``tracemark`` binary
of the same build."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

import tracemark

ROOT = Path(__file__).resolve().parents[2]
MODEL = ROOT / "models" / "tinystories-260k"

#: Tracemark's own schemes, each with the keys the tests make for it.
SCHEMES = ["kgw-lefthash-v1", "kgw-selfhash-v1", "unigram-v1", "gumbel-v1", "synthid-v1"]


@pytest.fixture(scope="session")
def model_dir() -> Path:
    return MODEL


@pytest.fixture(scope="session")
def hf_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("hf") / "tinystories-260k"
    tracemark.llama2c_to_hf(MODEL, out)
    return out


@pytest.fixture(scope="session")
def tokenizer(hf_dir) -> tracemark.Tokenizer:
    return tracemark.Tokenizer(hf_dir)


@pytest.fixture(scope="session")
def hf_model(hf_dir):
    import torch
    from transformers import AutoModelForCausalLM

    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_pretrained(hf_dir, dtype=torch.float32)
    model.eval()
    return model


@pytest.fixture(scope="session")
def keys(tokenizer, tmp_path_factory) -> dict[str, tracemark.WatermarkKey]:
    """One key per scheme, plus 16-bit payload keys for KGW SelfHash and Gumbel, bound to
    the HF tokenizer. They are committed (python/tests/keys) so that every run marks and
    detects with the same keys: detection power varies from key to key, and a test must
    not pass or fail by the draw of a key. The Unigram key has δ = 4 (the default is 2):
    its detector scores each distinct token once, about a hundred in a TinyStories story,
    too few to detect δ = 2 at 10^-3."""
    # A clone does not keep file modes, and a secret key readable by others is refused:
    # load private copies.
    private = tmp_path_factory.mktemp("keys")
    keys = {}
    for path in sorted((Path(__file__).parent / "keys").glob("*.json")):
        copy = private / path.name
        copy.write_bytes(path.read_bytes())
        copy.chmod(0o600)
        keys[path.stem] = tracemark.WatermarkKey.load(copy, tokenizer)
    return keys


class Cli:
    """The ``tracemark`` binary of the same build, with a key store of its own (so that
    nothing configured on the machine adds keys or trust)."""

    def __init__(self, path: str, home: Path) -> None:
        self.path = path
        self.env = {**os.environ, "TRACEMARK_HOME": str(home)}
        self.env.pop("TRACEMARK_CONFIG", None)

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        done = subprocess.run(
            [self.path, *map(str, args)], capture_output=True, text=True, timeout=300,
            env=self.env,
        )
        if check and done.returncode not in (0, 1):
            raise AssertionError(f"tracemark {args} failed: {done.stderr}")
        return done

    def json(self, *args: str) -> dict:
        return json.loads(self.run(*args, "--json").stdout)


@pytest.fixture(scope="session")
def cli(tmp_path_factory) -> Cli:
    path = os.environ.get("TRACEMARK_CLI")
    if not path:
        pytest.fail("set TRACEMARK_CLI to the tracemark binary (tests/python.rs does)")
    return Cli(path, tmp_path_factory.mktemp("home"))


@pytest.fixture(scope="session")
def demo(cli, tmp_path_factory) -> Path:
    """The demo's work folder (`tracemark demo`): its keys, corpus, index, log and
    configuration, and the texts of its three use cases."""
    out = tmp_path_factory.mktemp("demo") / "work"
    cli.run("demo", "--out", out)
    return out
