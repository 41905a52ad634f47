"""Tracemark watermarks inside HF transformers' ``generate()``.

Where a processor sits decides what it marks. transformers runs, in order, its built-in
processors, the processors passed as ``logits_processor=[...]``, then (when sampling) the
warpers (temperature, top-k, top-p, ...), and last the processor of
``watermarking_config=`` (transformers #34630). Tracemark's own sampling loop marks the
warped distribution, so **every scheme belongs on the ``watermarking_config`` route**::

    from tracemark.transformers import WatermarkingConfig
    out = model.generate(input_ids, attention_mask=mask, do_sample=True, temperature=0.8,
                         watermarking_config=WatermarkingConfig(key, pad_token_id=pad))

There the processor sees exactly what Tracemark's loop gives its schemes, so on the same
logits both choose the same tokens. Gumbel-max chooses the token from the warped
distribution (the row it returns is ``-inf`` but for that token), SynthID reweights the
warped distribution, and the KGW family adds its bias after temperature (δ as the key
says). Gumbel-max and SynthID must not run before the warpers (they would sample from the
wrong distribution), so :func:`logits_processor` refuses them; for the KGW family it is
the conventional route (MarkLLM, lm-watermarking), where the bias is applied before
temperature and so scaled by ``1/T``.

Greedy decoding (``do_sample=False``) runs no warpers: the KGW family then biases the
argmax, while Gumbel-max and SynthID sample from the model's distribution at temperature
1, as transformers' own SynthID does.

Each ``generate()`` call gets fresh state: the ``watermarking_config`` route builds a new
processor per call, and a processor reused through ``logits_processor=`` recognises a new
call when the rows stop continuing the previous step's. Rows may be left-padded (pass
``pad_token_id``); the prompt is never scored. Beam search is refused (it reorders rows).

Logits stay where they are: CPU scores are marked in place through a numpy view of the
tensor's memory (no copy), and only the batch's token ids go to Rust. Scores on another
device are copied to the host and back each step (this path is not tested here; no GPU).
"""

from __future__ import annotations

import copy
from typing import Any, Optional

import torch
from transformers import LogitsProcessor
from transformers.generation.configuration_utils import BaseWatermarkingConfig

from ._tracemark import BatchMarker, UsageError, WatermarkKey

#: Schemes that bias logits and may also run before the warpers.
BIAS_SCHEMES = frozenset({"kgw-lefthash-v1", "kgw-selfhash-v1", "unigram-v1"})

__all__ = ["BIAS_SCHEMES", "WatermarkProcessor", "WatermarkingConfig", "logits_processor"]


class WatermarkProcessor(LogitsProcessor):
    """Marks each step's scores with a Tracemark key (any scheme).

    ``vocab_size`` is the tokenizer's vocabulary (the key's bound tokenizer's by default);
    score columns beyond it (a model's padded vocabulary) are removed, since no token of
    the tokenizer maps to them. ``payload`` (hex) is written into every generation when
    the key carries one. ``pad_token_id`` is the id that left-pads the batch, and is
    required when the batch has more than one row.
    """

    supports_continuous_batching = False

    def __init__(
        self,
        key: WatermarkKey,
        *,
        vocab_size: Optional[int] = None,
        payload: Optional[str] = None,
        pad_token_id: Optional[int] = None,
    ) -> None:
        vocab_size = vocab_size if vocab_size is not None else key.vocab_size_bound
        if vocab_size is None:
            raise UsageError(
                "the key is not bound to a tokenizer, so its vocabulary size is unknown\n"
                "  fix: pass vocab_size= (the tokenizer's), or make the key with tokenizer="
            )
        self.key = key
        self.payload = payload
        self.pad_token_id = pad_token_id
        self._marker = BatchMarker(key, vocab_size, payload=payload, pad_token_id=pad_token_id)

    @property
    def scheme(self) -> str:
        return self.key.scheme

    def reset(self) -> None:
        """Forgets the current generation (the next call starts a new one)."""
        self._marker.reset()

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
        _check(input_ids, scores, self.pad_token_id)
        ids = input_ids.detach().cpu().numpy()
        if scores.device.type == "cpu":
            marked = scores.detach()
            if not marked.is_contiguous():
                marked = marked.contiguous()
            self._marker.step(ids, marked.numpy())
            return marked
        host = scores.detach().to("cpu").contiguous()
        self._marker.step(ids, host.numpy())
        return scores.copy_(host)

    def __deepcopy__(self, memo: dict[int, Any]) -> "WatermarkProcessor":
        # A copy starts its own generation: the marker's state is not shared.
        twin = copy.copy(self)
        twin._marker = BatchMarker(
            self.key,
            self._marker.vocab_size,
            payload=self.payload,
            pad_token_id=self.pad_token_id,
        )
        return twin


def _check(input_ids: Any, scores: Any, pad_token_id: Optional[int]) -> None:
    if not isinstance(scores, torch.Tensor) or not isinstance(input_ids, torch.Tensor):
        raise TypeError("input_ids and scores must be torch tensors (what generate() passes)")
    if scores.dtype != torch.float32:
        raise TypeError(
            f"scores are {scores.dtype}, not torch.float32\n"
            "  fix: pass scores.float() (generate() always passes float32)"
        )
    if input_ids.dtype != torch.long:
        raise TypeError(f"input_ids are {input_ids.dtype}, not torch.long")
    if scores.dim() != 2 or input_ids.dim() != 2:
        raise ValueError(
            f"expected input_ids (batch, length) and scores (batch, vocab), got shapes "
            f"{tuple(input_ids.shape)} and {tuple(scores.shape)}"
        )
    if scores.shape[0] != input_ids.shape[0]:
        raise ValueError(
            f"input_ids has {input_ids.shape[0]} rows but scores has {scores.shape[0]}"
        )
    if input_ids.device != scores.device:
        raise ValueError(
            f"input_ids are on {input_ids.device} but scores on {scores.device}\n"
            "  fix: keep both on the model's device"
        )
    if input_ids.shape[0] > 1 and pad_token_id is None:
        raise UsageError(
            "a batch of several rows needs the id that pads it\n"
            "  fix: pass pad_token_id= (tokenizer.pad_token_id) and pad on the left"
        )


class WatermarkingConfig(BaseWatermarkingConfig):
    """``generate(watermarking_config=...)``: marks after every warper (any scheme).

    transformers builds a fresh processor from it for each ``generate()`` call. It is a
    runtime object: ``GenerationConfig.save_pretrained`` writes only the scheme and key
    id (never the secret), which do not rebuild it.
    """

    def __init__(
        self,
        key: WatermarkKey,
        *,
        payload: Optional[str] = None,
        pad_token_id: Optional[int] = None,
        vocab_size: Optional[int] = None,
    ) -> None:
        self.key = key
        self.payload = payload
        self.pad_token_id = pad_token_id
        self.vocab_size = vocab_size

    def validate(self) -> None:
        if not isinstance(self.key, WatermarkKey):
            raise TypeError("key must be a tracemark.WatermarkKey")

    def construct_processor(self, vocab_size: int, device: Any = None) -> WatermarkProcessor:
        # `vocab_size` is the model's, possibly padded beyond the tokenizer's.
        ours = self.vocab_size or self.key.vocab_size_bound or vocab_size
        return WatermarkProcessor(
            self.key, vocab_size=ours, payload=self.payload, pad_token_id=self.pad_token_id
        )

    def to_dict(self) -> dict[str, Any]:
        return {"tracemark_scheme": self.key.scheme, "tracemark_key_id": self.key.key_id}

    def to_json_string(self) -> str:
        import json

        return json.dumps(self.to_dict(), indent=2) + "\n"

    def __iter__(self):
        yield from self.to_dict().items()

    def __deepcopy__(self, memo: dict[int, Any]) -> "WatermarkingConfig":
        # The key is immutable; generate() deep-copies its configuration each call.
        return WatermarkingConfig(
            self.key,
            payload=self.payload,
            pad_token_id=self.pad_token_id,
            vocab_size=self.vocab_size,
        )


def logits_processor(
    key: WatermarkKey,
    *,
    vocab_size: Optional[int] = None,
    payload: Optional[str] = None,
    pad_token_id: Optional[int] = None,
) -> WatermarkProcessor:
    """A processor for ``generate(logits_processor=[...])``, before the warpers.

    Only the KGW family (a logit bias) may run there; Gumbel-max and SynthID must sample
    from the warped distribution and are refused: use :class:`WatermarkingConfig`.
    """
    if key.scheme not in BIAS_SCHEMES:
        raise UsageError(
            f"{key.scheme} must mark the warped distribution, after temperature and top-k/p\n"
            "  fix: pass watermarking_config=tracemark.transformers.WatermarkingConfig(key)"
        )
    return WatermarkProcessor(
        key, vocab_size=vocab_size, payload=payload, pad_token_id=pad_token_id
    )
