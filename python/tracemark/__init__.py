"""Tracemark: attribution of AI-generated content.

The package is a thin layer over Tracemark's Rust crates (the extension module
``tracemark._tracemark``); every call that does real work releases the GIL. Key files are
the very files the ``tracemark`` command line reads and writes, and results are the objects
its ``--json`` output prints.

>>> import tracemark
>>> tok = tracemark.Tokenizer("models/tinystories-260k")
>>> key = tracemark.WatermarkKey.generate("key.json", scheme="kgw-selfhash-v1", tokenizer=tok)
>>> found = tracemark.detect(key, text="Once upon a time ...", tokenizer=tok)
>>> found.detected, found.p_value, found.scored_tokens          # doctest: +SKIP

The adapters for HF transformers live in :mod:`tracemark.transformers` (they import torch
and transformers, which this module never does); bulk work on Ray Data in
:mod:`tracemark.ray` (``python -m tracemark.ray``, which ``tracemark batch`` runs).
"""

from __future__ import annotations

import json
from typing import Optional, Sequence, Union

from . import _tracemark
from ._tracemark import (
    BatchMarker,
    InputError,
    InternalError,
    Sampler,
    Tokenizer,
    TracemarkError,
    UsageError,
    WatermarkKey,
    __version__,
    llama2c_to_hf,
    schemes,
    strip_credential,
    synthid_g_values,
)
from ._provenance import (
    Attributor,
    CorpusIndex,
    CredentialVerifier,
    Log,
    sign_credential,
    verify_credential,
    verify_receipt,
)
from ._results import Detection, Segment, error_from_json

__all__ = [
    "Attributor",
    "BatchMarker",
    "CorpusIndex",
    "CredentialVerifier",
    "Detection",
    "InputError",
    "InternalError",
    "Log",
    "Sampler",
    "Segment",
    "Tokenizer",
    "TracemarkError",
    "UsageError",
    "WatermarkKey",
    "__version__",
    "detect",
    "detect_many",
    "llama2c_to_hf",
    "schemes",
    "sign_credential",
    "strip_credential",
    "synthid_g_values",
    "verify_credential",
    "verify_receipt",
]


def detect(
    key: WatermarkKey,
    *,
    text: Optional[str] = None,
    tokens: Optional[Sequence[int]] = None,
    tokenizer: Optional[Tokenizer] = None,
    false_positive_rate: float = 1e-3,
) -> Detection:
    """Tests ``text`` (with the ``tokenizer`` that made it) or ``tokens`` for the key's watermark.

    Give the completion only, not the prompt. The result is what ``tracemark detect --json``
    prints: an exact p-value, the tokens scored, the false-positive rate the verdict
    guarantees, the decoded payload and the marked segments (byte ranges of ``text``).
    """
    tokens = None if tokens is None else [int(t) for t in tokens]
    return Detection.from_json(
        _tracemark.detect(
            key,
            text=text,
            tokens=tokens,
            tokenizer=tokenizer,
            false_positive_rate=false_positive_rate,
        )
    )


def detect_many(
    key: WatermarkKey,
    texts: Optional[Sequence[str]] = None,
    tokenizer: Optional[Tokenizer] = None,
    *,
    tokens: Optional[Sequence[Sequence[int]]] = None,
    false_positive_rate: float = 1e-3,
) -> list[Union[Detection, TracemarkError]]:
    """:func:`detect` on many ``texts`` (with their ``tokenizer``) or ``tokens`` lists at
    once, on every core.

    Each item is a :class:`Detection`, or the exception (not raised) for an item that
    could not be tested (empty, say), so that one bad item loses none of the others.
    """
    out: list[Union[Detection, TracemarkError]] = []
    for item in _tracemark.detect_many(
        key,
        None if texts is None else list(texts),
        tokenizer,
        tokens=None if tokens is None else [[int(t) for t in row] for row in tokens],
        false_positive_rate=false_positive_rate,
    ):
        d = json.loads(item)
        error = error_from_json(d)
        out.append(error if error is not None else Detection.from_json(d))
    return out
