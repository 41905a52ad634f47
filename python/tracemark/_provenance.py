"""Content credentials, corpus tracing, the transparency log and the evidence report.

Each result is the object the matching ``tracemark ... --json`` command prints, as a
dict. Verifiers follow Tracemark's one trust rule: a signature counts as ``trusted``
only under a key or anchor you name; anything else intact is ``untrusted``.
"""

from __future__ import annotations

import json
import os
from typing import Any, Iterable, Optional, Sequence, Union

from . import _tracemark

PathLike = Union[str, "os.PathLike[str]"]

__all__ = [
    "Attributor",
    "CorpusIndex",
    "CredentialVerifier",
    "Log",
    "sign_credential",
    "verify_credential",
    "verify_receipt",
]


def sign_credential(
    input: PathLike,
    output: PathLike,
    *,
    key: PathLike,
    cert: PathLike,
    model: str = "unknown-model",
    model_version: str = "0",
    provider: str = "unknown provider",
    generation_id: Optional[str] = None,
    watermark_scheme: Optional[str] = None,
    watermark_key_id: Optional[str] = None,
    payload: Optional[str] = None,
    sidecar: bool = False,
) -> dict[str, Any]:
    """Signs text or media (JPEG, PNG, WebP, MP4, WAV) with a C2PA credential, as
    ``tracemark sign``: ``key`` is the PKCS#8 key, ``cert`` its PEM chain (leaf first)."""
    return json.loads(
        _tracemark.sign_credential(
            os.fspath(input), os.fspath(output), key=os.fspath(key), cert=os.fspath(cert),
            model=model, model_version=model_version, provider=provider,
            generation_id=generation_id, watermark_scheme=watermark_scheme,
            watermark_key_id=watermark_key_id, payload=payload, sidecar=sidecar,
        )
    )


def verify_credential(
    path: PathLike, *, trust: Sequence[PathLike] = (), max_bytes: Optional[int] = None
) -> dict[str, Any]:
    """Verifies the credential of ``path`` (and its ``.c2pa`` sidecar), as ``tracemark
    verify``: ``state`` is ``trusted`` only when the signer chains to a ``trust`` anchor."""
    kwargs = {} if max_bytes is None else {"max_bytes": max_bytes}
    return json.loads(
        _tracemark.verify_credential(
            os.fspath(path), trust=[os.fspath(t) for t in trust], **kwargs
        )
    )


class CorpusIndex:
    """A corpus index opened once (``tracemark index build`` makes one)."""

    def __init__(self, path: PathLike, tokenizer: Optional[PathLike] = None) -> None:
        self._index = _tracemark.CorpusIndex(
            os.fspath(path), None if tokenizer is None else os.fspath(tokenizer)
        )

    def trace(
        self,
        text: str,
        *,
        min_tokens: Optional[int] = None,
        all_spans: bool = False,
        usage: Optional[str] = None,
    ) -> dict[str, Any]:
        """The spans of ``text`` found verbatim, with each source's owner, licence and
        opt-out signals for ``usage`` (default ``genai-train``), as ``tracemark trace
        --json``."""
        return json.loads(
            self._index.trace(text, min_tokens=min_tokens, all_spans=all_spans, usage=usage)
        )

    def info(self) -> dict[str, Any]:
        return json.loads(self._index.info())


class Log:
    """A transparency log directory (``tracemark log init`` makes one)."""

    def __init__(self, dir: PathLike) -> None:
        self._log = _tracemark.Log(os.fspath(dir))

    def append(self, records: Union[dict[str, Any], Iterable[dict[str, Any]], str]) -> dict[str, Any]:
        """Appends generation records in one transaction (``tracemark log append``)."""
        if isinstance(records, dict):
            text = json.dumps(records)
        elif isinstance(records, str):
            text = records
        else:
            text = "\n".join(json.dumps(r) for r in records)
        return json.loads(self._log.append(text))

    def prove(self, index: int, *, cosigned: bool = False) -> str:
        """An offline receipt (C2SP ``tlog-proof``) for entry ``index``."""
        return self._log.prove(index, cosigned=cosigned)


def verify_receipt(
    receipt: str,
    *,
    log_keys: Sequence[PathLike],
    witnesses: Sequence[PathLike] = (),
    min_cosignatures: Optional[int] = None,
    record: Optional[dict[str, Any]] = None,
) -> dict[str, Any]:
    """Verifies a receipt offline (``tracemark log verify-receipt``): ``trust`` is
    ``trusted`` only when one of ``log_keys`` signed it with enough witness cosignatures."""
    return json.loads(
        _tracemark.verify_receipt(
            receipt,
            log_keys=[os.fspath(k) for k in log_keys],
            witnesses=[os.fspath(w) for w in witnesses],
            min_cosignatures=min_cosignatures,
            record=None if record is None else json.dumps(record),
        )
    )


class Attributor:
    """Attribution with what a configuration names loaded once (``tracemark attribute``)."""

    def __init__(self, config: Optional[PathLike] = None) -> None:
        self._attributor = _tracemark.Attributor(None if config is None else os.fspath(config))

    @property
    def problems(self) -> list[str]:
        """What is configured but could not be loaded (its facts are unestablished)."""
        return self._attributor.problems()

    @property
    def log_backend(self) -> Optional[str]:
        """``sqlite`` or ``postgres``: the log ``attribute(..., log=True)`` appends to, or
        None when the configuration names no log key."""
        return self._attributor.log_backend

    def attribute(
        self,
        content: Union[bytes, str],
        *,
        name: Optional[str] = None,
        sidecar: Optional[bytes] = None,
        as_of: Optional[str] = None,
        jurisdictions: Optional[Sequence[str]] = None,
        ai_generated: Optional[bool] = None,
        generated_at: Optional[str] = None,
        log: bool = False,
    ) -> dict[str, Any]:
        """The sealed evidence report of ``content`` (``tracemark.evidence-report/v3``),
        that of ``tracemark attribute`` on a file ``name`` holding it. ``generated_at``
        (RFC 3339) fixes the report's time, so that the same content and inputs give the
        same report hash (``--generated-at``); ``log=True`` appends the report's hash to
        the configured log and puts the receipt in its seal."""
        data = content.encode() if isinstance(content, str) else bytes(content)
        return json.loads(
            self._attributor.attribute(
                data, name=name, sidecar=sidecar, as_of=as_of,
                jurisdictions=None if jurisdictions is None else list(jurisdictions),
                ai_generated=ai_generated, generated_at=generated_at, log=log,
            )
        )


class CredentialVerifier:
    """A credential verifier with its trust anchors (PEM files) loaded once, for content
    given as bytes: ``verify`` gives what ``tracemark verify --json`` prints for a file
    of those bytes."""

    def __init__(self, *, trust: Sequence[PathLike] = (), max_bytes: Optional[int] = None) -> None:
        kwargs = {} if max_bytes is None else {"max_bytes": max_bytes}
        self._verifier = _tracemark.CredentialVerifier(
            trust=[os.fspath(t) for t in trust], **kwargs
        )

    def verify(
        self, content: Union[bytes, str], *, name: Optional[str] = None,
        sidecar: Optional[bytes] = None,
    ) -> dict[str, Any]:
        data = content.encode() if isinstance(content, str) else bytes(content)
        return json.loads(self._verifier.verify(data, name=name, sidecar=sidecar))
