"""The result objects: the JSON the command line prints, as typed Python objects."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Optional, Union

from ._tracemark import InputError, InternalError, TracemarkError, UsageError

_FAULTS = {"usage": UsageError, "input": InputError, "internal": InternalError}


@dataclass(frozen=True)
class Segment:
    """A marked passage found by windowed detection."""

    #: Byte range ``(start, end)`` of the text (None for token input).
    range: Optional[tuple[int, int]]
    #: Token range ``(start, end)`` in the detector's tokenization.
    tokens: tuple[int, int]
    p_value: float
    log10_p_value: float


@dataclass(frozen=True)
class Detection:
    """A watermark detection, field for field ``tracemark detect --json``.

    ``p_value`` is exact under the scheme's null hypothesis (text written without the key);
    ``log10_p_value`` keeps its size when ``p_value`` underflows to 0. ``detected`` is
    ``p_value <= false_positive_rate``.
    """

    detected: bool
    p_value: float
    log10_p_value: float
    false_positive_rate: float
    scored_tokens: int
    scheme: str
    key_id: str
    #: Hex of the decoded payload, when the key carries one and the text is marked.
    payload: Optional[str]
    segments: list[Segment]
    mean_score: float
    #: The full verdict with the method's parameters (everything but secrets).
    verdict: dict[str, Any]
    _json: dict[str, Any] = field(repr=False, compare=False, default_factory=dict)

    @classmethod
    def from_json(cls, text: Union[str, dict[str, Any]]) -> "Detection":
        d = json.loads(text) if isinstance(text, str) else text
        segments = [
            Segment(
                range=None if s["range"] is None else (s["range"]["start"], s["range"]["end"]),
                tokens=(s["tokens"][0], s["tokens"][1]),
                p_value=s["p_value"],
                log10_p_value=s["log10_p_value"],
            )
            for s in d["segments"]
        ]
        return cls(
            detected=d["detected"],
            p_value=d["p_value"],
            log10_p_value=d["log10_p_value"],
            false_positive_rate=d["false_positive_rate"],
            scored_tokens=d["scored_tokens"],
            scheme=d["scheme"],
            key_id=d["key_id"],
            payload=d["payload"],
            segments=segments,
            mean_score=d["mean_score"],
            verdict=d["verdict"],
            _json=d,
        )

    def to_dict(self) -> dict[str, Any]:
        """The object exactly as ``tracemark detect --json`` prints it."""
        return json.loads(json.dumps(self._json))


def error_from_json(d: dict[str, Any]) -> Optional[TracemarkError]:
    """The exception an ``{"error": ...}`` item stands for, or None for a result."""
    e = d.get("error") if isinstance(d, dict) else None
    if e is None:
        return None
    text = e["message"] if e.get("fix") is None else f"{e['message']}\n  fix: {e['fix']}"
    error = _FAULTS.get(e.get("fault"), TracemarkError)(text)
    error.message, error.fix, error.fault = e["message"], e.get("fix"), e.get("fault")
    return error
